"""Stateless SFrame encryption and decryption (RFC 9605 §4.4.3, §4.4.4).

Rules of this module:
- A ``FrameKey`` is everything derived from one (suite, base_key, KID); its
  attributes are set once in ``__init__`` and never change.
- ``seal`` is the library's hot path. What does not depend on CTR (the salt as an
  integer, the header's config byte and KID for each CTR length) is computed
  once, so a frame costs two small integer-to-bytes conversions, the AEAD and
  two concatenations.
- The caller owns CTR uniqueness here; ``Context`` manages counters.
"""

from __future__ import annotations

from .aead import Aead, make_aead
from .errors import InvalidArgumentError, UnknownKidError
from .header import U64_MAX, Header, check_u64, encode_header, parse_header
from .kdf import KeyMaterial, derive_key_salt
from .suites import CipherSuite, get_suite


class FrameKey:
    """The keys of one (suite, base_key, KID): derive once, use for many frames."""

    __slots__ = ("kid", "material", "aead", "_nn", "_salt", "_config", "_kid_bytes", "_prefixes", "_seal")

    def __init__(self, kid: int, material: KeyMaterial, aead: Aead) -> None:
        self.kid = check_u64("kid", kid)
        self.material = material
        self.aead = aead
        self._nn = material.suite.nn
        self._salt = int.from_bytes(material.sframe_salt, "big")
        head = encode_header(kid, 0)  # config byte with CTR nibble 0, then the KID bytes
        self._config, self._kid_bytes = head[0], head[1:]
        # The header up to its CTR bytes, for a CTR of n = 1..8 bytes (config nibble 0x8 | n-1, §4.3).
        # A key is derived per base_key and KID, often for a single frame: 8 small bytes, not more.
        self._prefixes = [b""] + [bytes((head[0] | 0x8 | (n - 1),)) + head[1:] for n in range(1, 9)]
        self._seal = aead.seal_unchecked

    def __repr__(self) -> str:
        return f"FrameKey(suite={self.material.suite.id}, kid={self.kid})"  # never the key itself

    @classmethod
    def derive(cls, suite: CipherSuite, base_key: bytes, kid: int) -> "FrameKey":
        material = derive_key_salt(suite, base_key, kid)
        return cls(kid, material, make_aead(suite, material.sframe_key))

    def nonce(self, ctr: int) -> bytes:
        # Erratum 8321: XOR the salt with CTR as an Nn-byte big-endian integer.
        return (self._salt ^ ctr).to_bytes(self._nn)

    def header(self, ctr: int) -> bytes:
        """encode_header(self.kid, ctr), from the precomputed halves."""
        if 8 <= ctr <= U64_MAX:
            n = (ctr.bit_length() + 7) >> 3
            return self._prefixes[n] + ctr.to_bytes(n)
        if 0 <= ctr < 8:  # in the config byte's low nibble
            return bytes((self._config | ctr,)) + self._kid_bytes
        raise InvalidArgumentError(f"ctr {ctr} is not an unsigned 64-bit integer")

    def seal(self, ctr: int, metadata: bytes, plaintext: bytes) -> bytes:
        # header() and nonce() inlined for the usual CTR >= 8: each Python call saved is
        # about a twentieth of the AES-GCM work on a 1200-byte frame.
        if 8 <= ctr <= U64_MAX:
            n = (ctr.bit_length() + 7) >> 3
            header = self._prefixes[n] + ctr.to_bytes(n)
        else:
            header = self.header(ctr)
        return header + self._seal((self._salt ^ ctr).to_bytes(self._nn), header + metadata, plaintext)

    def open(self, header: Header, metadata: bytes, ciphertext: bytes) -> bytes:
        """Decrypt ``ciphertext`` (header included) whose header was parsed as ``header``."""
        nonce = (self._salt ^ header.ctr).to_bytes(self._nn)  # nonce() inlined, as in seal
        return self.aead.open(nonce, header.encoded + metadata, ciphertext[len(header.encoded) :])

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
