"""The standard inputs of the vectors: the official RFC 9605 vectors' base_key,
metadata and plaintext.

Rule: this is the one definition. The generated vectors start from these values
(so a failing generated case sits one change away from an official vector), and
the matrix, the media scenarios and the benchmarks reuse them rather than keep
copies.
"""

from __future__ import annotations

BASE_KEY = bytes(range(16))  # 000102...0f, every official SFrame vector's base_key
METADATA = b"IETF SFrame WG"
PLAINTEXT = b"draft-ietf-sframe-enc"
