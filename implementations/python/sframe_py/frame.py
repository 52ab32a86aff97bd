"""Stateless SFrame encryption and decryption (RFC 9605 §4.4.3, §4.4.4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .aead import Aead, make_aead
from .errors import InvalidArgumentError, UnknownKidError
from .header import U64_MAX, Header, encode_header, parse_header
from .kdf import KeyMaterial, derive_key_salt
from .suites import CipherSuite, get_suite


@dataclass(frozen=True)
class FrameKey:
    """Everything derived from one (suite, base_key, KID): derive once, use for many frames.

    The per-frame path (``seal``) is the library's hot path, so what does not depend
    on CTR (salt as an integer, the KID half of the header) is computed once here.
    """

    kid: int
    material: KeyMaterial
    aead: Aead
    _salt: int = field(init=False, repr=False, compare=False)
    _config_kid: int = field(init=False, repr=False, compare=False)
    _kid_bytes: bytes = field(init=False, repr=False, compare=False)
    _encrypt: Callable[[bytes, bytes, bytes], bytes] = field(init=False, repr=False, compare=False)
    _prefixes: tuple[bytes, ...] = field(init=False, repr=False, compare=False)  # config byte + KID, by CTR length

    def __post_init__(self) -> None:
        head = encode_header(self.kid, 0)
        object.__setattr__(self, "_salt", int.from_bytes(self.material.sframe_salt, "big"))
        object.__setattr__(self, "_config_kid", head[0])
        object.__setattr__(self, "_kid_bytes", head[1:])
        object.__setattr__(self, "_encrypt", self.aead.encrypt_unchecked)
        object.__setattr__(self, "_prefixes", tuple(bytes((head[0] | 0x7 + n,)) + head[1:] for n in range(9)))

    @classmethod
    def derive(cls, suite: CipherSuite, base_key: bytes, kid: int) -> "FrameKey":
        material = derive_key_salt(suite, base_key, kid)
        return cls(kid, material, make_aead(suite, material.sframe_key))

    def nonce(self, ctr: int) -> bytes:
        # Erratum 8321: XOR the salt with CTR as a 12-byte big-endian integer.
        return (self._salt ^ ctr).to_bytes(12, "big")

    def header(self, ctr: int) -> bytes:
        """encode_header(self.kid, ctr), reusing the KID half."""
        if ctr < 8:
            if ctr < 0:
                raise InvalidArgumentError(f"ctr {ctr} is not an unsigned 64-bit integer")
            return bytes((self._config_kid | ctr,)) + self._kid_bytes
        if ctr > U64_MAX:
            raise InvalidArgumentError(f"ctr {ctr} is not an unsigned 64-bit integer")
        n = (ctr.bit_length() + 7) >> 3
        return self._prefixes[n] + ctr.to_bytes(n, "big")

    def seal(self, ctr: int, metadata: bytes, plaintext: bytes) -> bytes:
        # header() and nonce() inlined, headers from precomputed prefixes: at 1 KiB one
        # Python call costs about a tenth of the AES-GCM work itself.
        if 8 <= ctr <= U64_MAX:
            n = (ctr.bit_length() + 7) >> 3
            header = self._prefixes[n] + ctr.to_bytes(n, "big")
        else:
            header = self.header(ctr)
        return header + self._encrypt((self._salt ^ ctr).to_bytes(12, "big"), plaintext, header + metadata)

    def open(self, header: Header, metadata: bytes, ciphertext: bytes) -> bytes:
        """Decrypt ``ciphertext`` (header included) whose header was parsed as ``header``."""
        body = memoryview(ciphertext)[header.length :]
        return self.aead.open(self.nonce(header.ctr), header.encoded + metadata, bytes(body))

    def decrypt(self, metadata: bytes, ciphertext: bytes) -> bytes:
        """Decrypt as a receiver holding only this key: any other KID is unknown."""
        header = parse_header(ciphertext)
        if header.kid != self.kid:
            raise UnknownKidError(f"no key for KID {header.kid} (the receiver holds KID {self.kid})")
        return self.open(header, metadata, ciphertext)


def encrypt(suite: int, base_key: bytes, kid: int, ctr: int, metadata: bytes, plaintext: bytes) -> bytes:
    """Encrypt one frame at an explicit CTR. The caller owns nonce uniqueness."""
    return FrameKey.derive(get_suite(suite), base_key, kid).seal(ctr, metadata, plaintext)


def decrypt(suite: int, base_key: bytes, kid: int, metadata: bytes, ciphertext: bytes) -> bytes:
    """Decrypt one frame for a receiver holding exactly one key, ``base_key`` under ``kid``."""
    return FrameKey.derive(get_suite(suite), base_key, kid).decrypt(metadata, ciphertext)
