"""Round trips (``sframe-roundtrip.json``): encrypt, then decrypt the pinned ciphertext.

Rule: each test pins the reference's ciphertext, so the receiver half is checked
on the reference's frame even when a sender may refuse the encryption (CTR
2^64-1, an unusual base_key length: the audit marks those ``may_fail``).
"""

from __future__ import annotations

from collections.abc import Iterator

from .common import (
    BASE_KEY,
    BOUNDARIES,
    METADATA,
    PLAINTEXT,
    U64_MAX,
    Group,
    VectorTest,
    builder,
    frame,
    pseudo_random,
    value_flags,
)


def roundtrip(suite: int, name: str, comment: str, reqs: list[str], flags: list[str], *, base_key: bytes = BASE_KEY,
              kid: int, ctr: int, metadata: bytes, plaintext: bytes, level: str = "MUST") -> VectorTest:
    return VectorTest(f"gen/roundtrip/suite-{suite}/{name}", comment, reqs, flags, "valid", {
        "base_key": base_key, "kid": kid, "ctr": ctr, "metadata": metadata, "plaintext": plaintext,
        "ciphertext": frame(suite, base_key, kid, ctr, plaintext, metadata)}, level=level)


@builder
def boundaries(suite: int) -> Iterator[VectorTest]:
    """KID, then CTR, at every boundary value (BOUNDARIES), and both at once."""
    pairs = [(v, 0) for v in BOUNDARIES] + [(0x123, v) for v in BOUNDARIES] + [(U64_MAX, U64_MAX), (2**63, 2**63)]
    for kid, ctr in dict.fromkeys(pairs):  # a pair listed twice is one test
        yield roundtrip(suite, f"kid-{kid}-ctr-{ctr}",
                        f"KID {kid:#x}, CTR {ctr:#x}: header encoding, KDF label and nonce at a boundary",
                        ["ENC-01", "ENC-02", "HDR-02", "HDR-03", "HDR-04", "KDF-04"], value_flags(kid, ctr),
                        kid=kid, ctr=ctr, metadata=METADATA, plaintext=PLAINTEXT)


@builder
def sizes(suite: int) -> Iterator[VectorTest]:
    """Plaintexts from empty to 64 KiB, around the AES block, with and without metadata."""
    for size in (0, 1, 15, 16, 17, 33, 100, 1200, 65536):
        for metadata in ((b"", METADATA) if size < 65536 else (b"",)):
            flags = ["EmptyInput"] if size == 0 or not metadata else []
            flags += ["BlockBoundary"] if size in (15, 16, 17, 33) else []
            flags += ["LargeFrame"] if size == 65536 else []
            yield roundtrip(suite, f"size-{size}-metadata-{len(metadata)}",
                            f"{size}-byte plaintext, {len(metadata)}-byte metadata",
                            ["ENC-01", "ENC-03", "ENC-08", "SUITE-01"], flags, kid=0x123, ctr=size,
                            metadata=metadata, plaintext=pseudo_random(f"pt/{suite}/{size}", size))


@builder
def base_key_lengths(suite: int) -> Iterator[VectorTest]:
    """base_key lengths other than 16 bytes (KDF-07: the RFC fixes none, so a refusal is allowed)."""
    for length in (1, 32, 48, 64):
        yield roundtrip(suite, f"base-key-{length}", f"{length}-byte base_key (the RFC sets no length; HKDF takes any)",
                        ["KDF-07"], ["BaseKeyLength"], base_key=pseudo_random(f"bk/{length}", length), kid=0x123,
                        ctr=0x4567, metadata=METADATA, plaintext=PLAINTEXT, level="MAY")


def roundtrip_group(suite: int) -> Group:
    return Group("SFrameRoundTrip", suite, [*boundaries(suite), *sizes(suite), *base_key_lengths(suite)])
