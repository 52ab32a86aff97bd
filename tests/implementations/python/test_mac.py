"""sframe_py's HMAC (keyed once, over hashlib) is the standard library's HMAC."""

import hmac

from hypothesis import given
from hypothesis import strategies as st

from sframe_py.mac import Hmac


@given(hash_name=st.sampled_from(["sha256", "sha512", "sha384"]),  # sha384: the MLS exporter's
       key=st.one_of(st.binary(max_size=300), st.sampled_from([bytes(n) for n in (0, 63, 64, 65, 127, 128, 129)])),
       parts=st.lists(st.binary(max_size=200), max_size=4))
def test_hmac_is_the_standard_librarys(hash_name, key, parts):
    mac = Hmac(hash_name, key)
    assert mac.digest(*parts) == hmac.digest(key, b"".join(parts), hash_name)
    assert mac.digest(*parts) == mac.digest(b"".join(parts))  # keyed once, reusable: digest changes no state
