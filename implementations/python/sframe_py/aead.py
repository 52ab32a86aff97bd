"""The two AEAD constructions of RFC 9605 §4.5.

An ``Aead`` is built once per key and reused for every frame under that key.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import AuthenticationError, InvalidArgumentError, MalformedError
from .suites import AeadKind, CipherSuite


class Aead(Protocol):
    def seal(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes: ...

    # The per-frame path: argument order as cryptography's AEADs, no size checks
    # (FrameKey always passes an Nn-byte nonce). Bound once, called per frame.
    encrypt_unchecked: Callable[[bytes, bytes, bytes], bytes]

    def open(self, nonce: bytes, aad: bytes, ciphertext: bytes) -> bytes: ...


def _check_nonce(suite: CipherSuite, nonce: bytes) -> None:
    if len(nonce) != suite.nn:
        raise InvalidArgumentError(f"nonce must be {suite.nn} bytes, got {len(nonce)}")


class AesGcm:
    def __init__(self, suite: CipherSuite, key: bytes) -> None:
        self.suite = suite
        self._gcm = AESGCM(key)
        self.encrypt_unchecked = self._gcm.encrypt

    def seal(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        _check_nonce(self.suite, nonce)
        return self._gcm.encrypt(nonce, plaintext, aad)

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
        self._enc_key = bytes(key[: suite.nka])
        self._auth_key = bytes(key[suite.nka :])
        self._nt_field = suite.nt.to_bytes(8, "big")
        self.encrypt_unchecked = lambda nonce, plaintext, aad: self._seal(nonce, aad, plaintext)

    def _ctr(self, nonce: bytes, data: bytes) -> bytes:
        # The counter block is nonce || 0^32. cryptography increments all 128 bits where
        # the RFC's reference increments the low 32; they differ only past 2^32 blocks (64 GiB).
        ctr = Cipher(algorithms.AES(self._enc_key), modes.CTR(nonce + b"\x00\x00\x00\x00")).encryptor()
        return ctr.update(data) + ctr.finalize()

    def _tag(self, nonce: bytes, aad: bytes, ct: bytes) -> bytes:
        mac = hmac.new(self._auth_key, digestmod=self.suite.hash_name)
        mac.update(len(aad).to_bytes(8, "big") + len(ct).to_bytes(8, "big") + self._nt_field + nonce)
        mac.update(aad)
        mac.update(ct)
        return mac.digest()[: self.suite.nt]

    def seal(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        _check_nonce(self.suite, nonce)
        return self._seal(nonce, aad, plaintext)

    def _seal(self, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
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
