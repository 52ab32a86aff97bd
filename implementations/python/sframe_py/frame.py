"""Stateless SFrame encryption and decryption (RFC 9605 §4.4.3, §4.4.4)."""

from __future__ import annotations

from dataclasses import dataclass

from .aead import Aead, make_aead
from .errors import UnknownKidError
from .header import Header, encode_header, parse_header
from .kdf import KeyMaterial, derive_key_salt
from .suites import CipherSuite, get_suite


@dataclass(frozen=True)
class FrameKey:
    """Everything derived from one (suite, base_key, KID): derive once, use for many frames."""

    kid: int
    material: KeyMaterial
    aead: Aead

    @classmethod
    def derive(cls, suite: CipherSuite, base_key: bytes, kid: int) -> "FrameKey":
        material = derive_key_salt(suite, base_key, kid)
        return cls(kid, material, make_aead(suite, material.sframe_key))

    def nonce(self, ctr: int) -> bytes:
        # Erratum 8321: XOR the salt with CTR as a 12-byte big-endian integer.
        salt = self.material.sframe_salt
        return (int.from_bytes(salt, "big") ^ ctr).to_bytes(len(salt), "big")

    def seal(self, ctr: int, metadata: bytes, plaintext: bytes) -> bytes:
        header = encode_header(self.kid, ctr)
        return header + self.aead.seal(self.nonce(ctr), header + metadata, plaintext)

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
