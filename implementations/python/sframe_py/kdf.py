"""Key derivation (RFC 9605 §4.4.2): base_key and KID to sframe_key and sframe_salt."""

from __future__ import annotations

from dataclasses import dataclass

from .header import check_u64
from .mac import Hmac
from .suites import CipherSuite

KEY_LABEL = b"SFrame 1.0 Secret key "
SALT_LABEL = b"SFrame 1.0 Secret salt "
# HKDF-Extract's empty salt, keyed once per hash: a constant (digest never changes it), not a cache.
_EMPTY_SALT = {name: Hmac(name, b"") for name in ("sha256", "sha512")}


def hkdf_extract(hash_name: str, salt: bytes, ikm: bytes) -> bytes:
    # RFC 5869: an empty salt is HashLen zero bytes, which HMAC's padding makes identical.
    mac = (_EMPTY_SALT.get(hash_name) if not salt else None) or Hmac(hash_name, salt)
    return mac.digest(ikm)


def _expand(prk: Hmac, info: bytes, length: int) -> bytes:
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = prk.digest(block, info, bytes((i,)))
        out += block
        i += 1
    return out[:length]


def hkdf_expand(hash_name: str, prk: bytes, info: bytes, length: int) -> bytes:
    return _expand(Hmac(hash_name, prk), info, length)


@dataclass(frozen=True)
class KeyMaterial:
    suite: CipherSuite
    sframe_key: bytes
    sframe_salt: bytes


def derive_key_salt(suite: CipherSuite, base_key: bytes, kid: int) -> KeyMaterial:
    # The KID goes into the label as a full u64, whatever its header size (KDF-04).
    suffix = check_u64("kid", kid).to_bytes(8, "big") + suite.id.to_bytes(2, "big")
    sframe_secret = Hmac(suite.hash_name, hkdf_extract(suite.hash_name, b"", bytes(base_key)))  # keyed once, used twice
    return KeyMaterial(
        suite,
        _expand(sframe_secret, KEY_LABEL + suffix, suite.nk),
        _expand(sframe_secret, SALT_LABEL + suffix, suite.nn),
    )
