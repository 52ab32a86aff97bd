"""The two AEAD constructions of RFC 9605 §4.5.

Rules of this module:
- An ``Aead`` is built once per key and reused for every frame under that key.
- Every method takes its arguments in the RFC's order, ``AEAD.Encrypt(key, nonce,
  aad, pt)`` (§4.4.3): nonce, aad, then plaintext or ciphertext.
- ``seal`` and ``open`` check sizes; ``seal_unchecked`` is ``FrameKey``'s per-frame
  path, which always passes an Nn-byte nonce, so it skips the check.
- Tags are compared in constant time: ``hmac.compare_digest`` here, OpenSSL's
  ``CRYPTO_memcmp`` inside cryptography's AES-GCM.
"""

from __future__ import annotations

import hmac
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import AuthenticationError, InvalidArgumentError, MalformedError
from .mac import Hmac
from .suites import AeadKind, CipherSuite


class Aead(Protocol):
    def seal(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes: ...

    def seal_unchecked(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes: ...

    def open(self, nonce: bytes, aad: bytes, ciphertext: bytes) -> bytes: ...


def _check_nonce(suite: CipherSuite, nonce: bytes) -> None:
    if len(nonce) != suite.nn:
        raise InvalidArgumentError(f"nonce must be {suite.nn} bytes, got {len(nonce)}")


class AesGcm:
    def __init__(self, suite: CipherSuite, key: bytes) -> None:
        self.suite = suite
        self._gcm = AESGCM(key)
        self._encrypt = self._gcm.encrypt  # bound once: the per-frame path skips one lookup

    def seal(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        _check_nonce(self.suite, nonce)
        return self._encrypt(nonce, plaintext, aad)

    def seal_unchecked(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        return self._encrypt(nonce, plaintext, aad)  # cryptography's order: data before aad

    def open(self, nonce: bytes, aad: bytes, ciphertext: bytes) -> bytes:
        _check_nonce(self.suite, nonce)
        if len(ciphertext) < self.suite.nt:
            raise MalformedError(f"ciphertext of {len(ciphertext)} bytes is shorter than the {self.suite.nt}-byte tag")
        try:
            return self._gcm.decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise AuthenticationError("AES-GCM tag mismatch") from None


class AesCtrHmac:
    """AES-CTR + truncated HMAC (§4.5.1): encrypt-then-MAC, tag checked before decryption."""

    def __init__(self, suite: CipherSuite, key: bytes) -> None:
        self.suite = suite
        self._aes = algorithms.AES(bytes(key[: suite.nka]))  # checked once; each frame needs its own CTR context
        self._mac = Hmac(suite.hash_name, bytes(key[suite.nka :]))
        self._nt_field = suite.nt.to_bytes(8, "big")

    def _ctr(self, nonce: bytes, data: bytes) -> bytes:
        # The counter block is nonce || 0^32. cryptography increments all 128 bits where
        # the RFC's reference increments the low 32; they differ only past 2^32 blocks (64 GiB).
        ctr = Cipher(self._aes, modes.CTR(nonce + b"\x00\x00\x00\x00")).encryptor()
        return ctr.update(data) + ctr.finalize()

    def _tag(self, nonce: bytes, aad: bytes, ct: bytes) -> bytes:
        lengths = len(aad).to_bytes(8, "big") + len(ct).to_bytes(8, "big") + self._nt_field
        return self._mac.digest(lengths, nonce, aad, ct)[: self.suite.nt]

    def seal(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        _check_nonce(self.suite, nonce)
        return self.seal_unchecked(nonce, aad, plaintext)

    def seal_unchecked(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        ct = self._ctr(nonce, plaintext)
        return ct + self._tag(nonce, aad, ct)

    def open(self, nonce: bytes, aad: bytes, ciphertext: bytes) -> bytes:
        _check_nonce(self.suite, nonce)
        nt = self.suite.nt
        if len(ciphertext) < nt:
            raise MalformedError(f"ciphertext of {len(ciphertext)} bytes is shorter than the {nt}-byte tag")
        ct, tag = ciphertext[:-nt], ciphertext[-nt:]
        if not hmac.compare_digest(self._tag(nonce, aad, ct), tag):
            raise AuthenticationError("HMAC tag mismatch")
        return self._ctr(nonce, ct)


def make_aead(suite: CipherSuite, key: bytes) -> Aead:
    if len(key) != suite.nk:
        raise InvalidArgumentError(f"suite {suite.id} needs a {suite.nk}-byte key, got {len(key)}")
    if suite.aead is AeadKind.AES_GCM:
        return AesGcm(suite, key)
    return AesCtrHmac(suite, key)
