"""The cipher-suite table (RFC 9605 §4.5, §8.1; 0x0006-0x0008 from the IANA registry).

The table is data: every other module reads its sizes from here, so adding a
suite is one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .errors import UnsupportedSuiteError


class AeadKind(Enum):
    AES_CTR_HMAC = "aes-ctr-hmac"
    AES_GCM = "aes-gcm"


@dataclass(frozen=True)
class CipherSuite:
    id: int
    name: str
    hash_name: str  # HKDF / HMAC hash: "sha256" or "sha512"
    nh: int  # hash output size
    nka: int  # AES key size inside an AES-CTR+HMAC key (0 for GCM)
    nk: int  # AEAD key size
    nn: int  # nonce size
    nt: int  # tag size
    aead: AeadKind


SUITES: dict[int, CipherSuite] = {
    s.id: s
    for s in (
        CipherSuite(1, "AES_128_CTR_HMAC_SHA256_80", "sha256", 32, 16, 48, 12, 10, AeadKind.AES_CTR_HMAC),
        CipherSuite(2, "AES_128_CTR_HMAC_SHA256_64", "sha256", 32, 16, 48, 12, 8, AeadKind.AES_CTR_HMAC),
        CipherSuite(3, "AES_128_CTR_HMAC_SHA256_32", "sha256", 32, 16, 48, 12, 4, AeadKind.AES_CTR_HMAC),
        CipherSuite(4, "AES_128_GCM_SHA256_128", "sha256", 32, 0, 16, 12, 16, AeadKind.AES_GCM),
        CipherSuite(5, "AES_256_GCM_SHA512_128", "sha512", 64, 0, 32, 12, 16, AeadKind.AES_GCM),
        CipherSuite(6, "AES_256_CTR_HMAC_SHA512_80", "sha512", 64, 32, 96, 12, 10, AeadKind.AES_CTR_HMAC),
        CipherSuite(7, "AES_256_CTR_HMAC_SHA512_64", "sha512", 64, 32, 96, 12, 8, AeadKind.AES_CTR_HMAC),
        CipherSuite(8, "AES_256_CTR_HMAC_SHA512_32", "sha512", 64, 32, 96, 12, 4, AeadKind.AES_CTR_HMAC),
    )
}


def get_suite(suite_id: int) -> CipherSuite:
    try:
        return SUITES[suite_id]
    except (KeyError, TypeError):
        raise UnsupportedSuiteError(f"cipher suite {suite_id!r} is not supported") from None
