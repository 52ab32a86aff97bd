"""Key derivation (RFC 9605 §4.4.2): base_key and KID to sframe_key and sframe_salt."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from .header import check_u64
from .suites import CipherSuite

KEY_LABEL = b"SFrame 1.0 Secret key "
SALT_LABEL = b"SFrame 1.0 Secret salt "


def hkdf_extract(hash_name: str, salt: bytes, ikm: bytes) -> bytes:
    # RFC 5869: an empty salt is HashLen zero bytes, which HMAC's padding makes identical.
    return hmac.new(salt, ikm, hash_name).digest()


def hkdf_expand(hash_name: str, prk: bytes, info: bytes, length: int) -> bytes:
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hash_name).digest()
        out += block
        i += 1
    return out[:length]


@dataclass(frozen=True)
class KeyMaterial:
    suite: CipherSuite
    sframe_key: bytes
    sframe_salt: bytes


def derive_key_salt(suite: CipherSuite, base_key: bytes, kid: int) -> KeyMaterial:
    # The KID goes into the label as a full u64, whatever its header size (KDF-04).
    suffix = check_u64("kid", kid).to_bytes(8, "big") + suite.id.to_bytes(2, "big")
    sframe_secret = hkdf_extract(suite.hash_name, b"", bytes(base_key))
    return KeyMaterial(
        suite,
        hkdf_expand(suite.hash_name, sframe_secret, KEY_LABEL + suffix, suite.nk),
        hkdf_expand(suite.hash_name, sframe_secret, SALT_LABEL + suffix, suite.nn),
    )
