"""The MLS exporter for SFrame base keys (RFC 9605 §5.2 over RFC 9420 §8).

The harness, not the implementation under test, runs the MLS side: it turns an
epoch's ``exporter_secret`` into the SFrame base_key and hands that to the
implementation as ``epoch_secret``. Checked against the RFC 9420 test vectors in
``vectors/mls/`` (tests/harness/catalogue/test_mls_exporter.py).
"""

from __future__ import annotations

import hashlib

from sframe_py import get_suite
from sframe_py.kdf import hkdf_expand

SFRAME_LABEL = b"SFrame 1.0 Base Key"

# RFC 9420 §17.1: the KDF hash of each MLS cipher suite.
MLS_HASHES: dict[int, str] = {1: "sha256", 2: "sha256", 3: "sha256", 4: "sha512", 5: "sha512", 6: "sha512",
                              7: "sha384"}


def _hash_name(mls_suite: int) -> str:
    try:
        return MLS_HASHES[mls_suite]
    except KeyError:
        raise ValueError(f"MLS cipher suite {mls_suite} is not known") from None


def varint(n: int) -> bytes:
    """RFC 9420 §2.1.2 variable-size length: 1, 2 or 4 bytes, the top two bits giving the size."""
    if n < 1 << 6:
        return n.to_bytes(1, "big")
    if n < 1 << 14:
        return (n | 0x4000).to_bytes(2, "big")
    if n < 1 << 30:
        return (n | 0x8000_0000).to_bytes(4, "big")
    raise ValueError(f"{n} is too large for an MLS varint")


def _vector(data: bytes) -> bytes:
    return varint(len(data)) + data


def expand_with_label(mls_suite: int, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """KDF.Expand(secret, struct {u16 length; opaque label<V> = "MLS 1.0 " + label; opaque context<V>}, length)."""
    info = length.to_bytes(2, "big") + _vector(b"MLS 1.0 " + label) + _vector(context)
    return hkdf_expand(_hash_name(mls_suite), secret, info, length)


def derive_secret(mls_suite: int, secret: bytes, label: bytes) -> bytes:
    return expand_with_label(mls_suite, secret, label, b"", hashlib.new(_hash_name(mls_suite)).digest_size)


def mls_exporter(mls_suite: int, exporter_secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """MLS-Exporter(label, context, length) of RFC 9420 §8.5."""
    context_hash = hashlib.new(_hash_name(mls_suite), context).digest()
    return expand_with_label(mls_suite, derive_secret(mls_suite, exporter_secret, label), b"exported",
                             context_hash, length)


def sframe_base_key(mls_suite: int, exporter_secret: bytes, sframe_suite: int) -> bytes:
    """One epoch's SFrame base_key: MLS-Exporter("SFrame 1.0 Base Key", "", Nk) (MLS-01).
    The length is the SFrame suite's Nk, so the suites of one epoch get different lengths."""
    return mls_exporter(mls_suite, exporter_secret, SFRAME_LABEL, b"", get_suite(sframe_suite).nk)
