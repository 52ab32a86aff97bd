"""Decrypt negatives (``sframe-decrypt.json``): genuine frames tampered, cut, re-encoded or misdirected.

Rules of this module:

- Every negative starts from one of three genuine frames of the suite
  (``BASES``): ``a`` is the official vectors' KID and CTR (a 5-byte header),
  ``b`` has KID = CTR = 2^64-1 (17 bytes), ``c`` a 1-byte inline header and no
  metadata.
- A builder states the mutation only. Which error classes pass is computed:
  the reference's class, plus every class an allowed parser policy gives
  (``policies.py``: a bit flip that makes a header non-minimal, a cut that
  leaves a body shorter than the tag). No error list here is written by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sframe_py import SUITES, encode_header, parse_header

from .common import BASE_KEY, METADATA, PLAINTEXT, U64_MAX, Group, VectorTest, builder, flip, frame, pseudo_random

BASES = {
    "a": (0x123, 0x4567, METADATA),  # the official vectors' inputs: 5-byte header
    "b": (U64_MAX, U64_MAX, METADATA),  # 17-byte header
    "c": (5, 3, b""),  # 1-byte inline header, no metadata
}


@dataclass(frozen=True)
class Genuine:
    """The genuine frames one suite's negatives are made from."""

    suite: int
    ciphertext: dict[str, bytes]
    header_length: dict[str, int]

    @classmethod
    def of(cls, suite: int) -> "Genuine":
        ct = {name: frame(suite, BASE_KEY, kid, ctr, PLAINTEXT, md) for name, (kid, ctr, md) in BASES.items()}
        return cls(suite, ct, {name: parse_header(v).length for name, v in ct.items()})

    @property
    def nt(self) -> int:
        return SUITES[self.suite].nt

    def negative(self, base: str, name: str, comment: str, reqs: list[str], flags: list[str], data: bytes, *,
                 metadata: bytes | None = None, kid: int | None = None, suite: int | None = None) -> VectorTest:
        """Decrypt ``data`` as a receiver holding BASE_KEY under the base's KID (or ``kid``)."""
        base_kid, _, base_metadata = BASES[base]
        inputs: dict[str, Any] = {"decrypt_suite": self.suite if suite is None else suite, "base_key": BASE_KEY,
                                  "kid": base_kid if kid is None else kid,
                                  "metadata": base_metadata if metadata is None else metadata, "ciphertext": data}
        return VectorTest(f"gen/decrypt/suite-{self.suite}/{base}/{name}", comment, reqs, flags, "invalid", inputs)


@builder
def bit_flips(g: Genuine) -> Iterator[VectorTest]:
    """One bit flipped in each region: config byte, KID bytes, CTR bytes, body, tag."""
    for base in ("a", "c"):
        for bit in range(8):
            yield g.negative(base, f"config-bit-{bit}", f"config byte bit {bit} flipped", ["HDR-01", "DEC-03"],
                             ["HeaderBitFlip"], flip(g.ciphertext[base], 0, bit))
    for base, offsets in (("a", [1, 2]), ("b", [1, 8])):
        for i in offsets:
            yield g.negative(base, f"kid-byte-{i}", f"KID byte at offset {i} flipped", ["HDR-01", "DEC-03"],
                             ["KidBitFlip"], flip(g.ciphertext[base], i))
    for base, offsets in (("a", [3, 4]), ("b", [9, 16])):
        for i in offsets:
            yield g.negative(base, f"ctr-byte-{i}", f"CTR byte at offset {i} flipped", ["ENC-02", "DEC-03"],
                             ["CtrBitFlip"], flip(g.ciphertext[base], i, 7))
    body = len(PLAINTEXT)
    for name, offset in (("first", 0), ("middle", body // 2), ("last", body - 1)):
        yield g.negative("a", f"body-{name}", f"{name} body byte flipped", ["DEC-03"], ["BodyBitFlip"],
                         flip(g.ciphertext["a"], g.header_length["a"] + offset))
    for base in ("a", "b"):
        for name, offset in (("first", -g.nt), ("last", -1)):
            yield g.negative(base, f"tag-{name}", f"{name} tag byte flipped", ["DEC-03", "DEC-05"], ["TagBitFlip"],
                             flip(g.ciphertext[base], len(g.ciphertext[base]) + offset))


@builder
def truncations(g: Genuine) -> Iterator[VectorTest]:
    """The frame cut at every boundary: inside the header, at its end, inside the tag."""
    a, ha, nt = g.ciphertext["a"], g.header_length["a"], g.nt
    for name, data, comment in (
        ("empty", b"", "empty ciphertext"),
        ("config-only", a[:1], "config byte only; it announces 4 more header bytes"),
        ("header-minus-1", a[: ha - 1], "header cut by one byte"),
        ("header-only", a[:ha], "header and nothing else"),
        ("header-plus-nt-minus-1", a[: ha + nt - 1], f"header and {nt - 1} bytes, one short of a tag"),
        ("minus-1", a[:-1], "last byte removed"),
    ):
        yield g.negative("a", f"truncated-{name}", comment, ["HDR-06", "DEC-03", "DEC-05"], ["Truncation"], data)
    yield g.negative("c", "truncated-header-only", "1-byte header and nothing else", ["DEC-03", "DEC-05"],
                     ["Truncation"], g.ciphertext["c"][:1])
    yield g.negative("b", "truncated-header-minus-1", "17-byte header cut by one byte", ["HDR-06", "DEC-03"],
                     ["Truncation"], g.ciphertext["b"][: g.header_length["b"] - 1])


@builder
def extra_byte(g: Genuine) -> Iterator[VectorTest]:
    yield g.negative("a", "extra-byte", "one byte appended", ["DEC-03"], ["ExtraByte"], g.ciphertext["a"] + b"\x00")


@builder
def metadata_changes(g: Genuine) -> Iterator[VectorTest]:
    """The metadata is in the AAD: changed, dropped or added, the frame must not decrypt."""
    for name, metadata in (("flipped", flip(METADATA, 0)), ("dropped", b""), ("extra-byte", METADATA + b"\x00")):
        yield g.negative("a", f"metadata-{name}", f"metadata {name}", ["ENC-03", "DEC-03"],
                         ["MetadataNotAuthenticated"], g.ciphertext["a"], metadata=metadata)
    yield g.negative("c", "metadata-added", "metadata given where the sender had none", ["ENC-03", "DEC-03"],
                     ["MetadataNotAuthenticated"], g.ciphertext["c"], metadata=b"\x00")


@builder
def wrong_suites(g: Genuine) -> Iterator[VectorTest]:
    """The frame decrypted in every other suite, and its tag cut to a shorter suite's length."""
    a = g.ciphertext["a"]
    for other in SUITES:
        if other != g.suite:
            yield g.negative("a", f"decrypt-as-suite-{other}", f"suite {g.suite} frame decrypted as suite {other}",
                             ["KDF-05", "SUITE-07", "DEC-03"], ["WrongSuite"], a, suite=other)
    mine = SUITES[g.suite]
    for other, spec in SUITES.items():
        if spec.aead is mine.aead and spec.hash_name == mine.hash_name and spec.nt < mine.nt:
            yield g.negative("a", f"tag-cut-to-suite-{other}",
                             f"tag cut from {mine.nt} to {spec.nt} bytes, decrypted as suite {other}",
                             ["SUITE-05", "DEC-03"], ["TagTruncationDowngrade"], a[: len(a) - mine.nt + spec.nt],
                             suite=other)


@builder
def wrong_kids(g: Genuine) -> Iterator[VectorTest]:
    """A receiver holding another KID, and a frame moved to another KID under the same base_key."""
    a, ha = g.ciphertext["a"], g.header_length["a"]
    yield g.negative("a", "unknown-kid", "the receiver holds KID 0x124 only", ["DEC-02", "DEC-03"], ["UnknownKid"],
                     a, kid=0x124)
    yield g.negative("b", "unknown-kid", "the receiver holds KID 0 only", ["DEC-02", "DEC-03"],
                     ["UnknownKid", "KidTruncation"], g.ciphertext["b"], kid=0)
    yield g.negative("a", "kid-rewritten", "KID rewritten to 0x124, which the receiver holds under the same base_key",
                     ["KDF-06", "DEC-03"], ["KidNotInKdf"], encode_header(0x124, 0x4567) + a[ha:], kid=0x124)
    yield g.negative("a", "ctr-rewritten", "CTR rewritten to 0x4568", ["ENC-02", "DEC-03"], ["CtrBitFlip"],
                     encode_header(0x123, 0x4568) + a[ha:])


@builder
def non_minimal(g: Genuine) -> Iterator[VectorTest]:
    """The genuine frame with its header re-encoded: the AAD is the header as received."""
    for name, header, base in (
        ("kid-3-bytes", bytes.fromhex("a9000123 4567"), "a"),
        ("ctr-3-bytes", bytes.fromhex("9a0123 004567"), "a"),
        ("both-3-bytes", bytes.fromhex("aa000123 004567"), "a"),
        ("kid-inline-as-extended", bytes.fromhex("8305"), "c"),
        ("ctr-inline-as-extended", bytes.fromhex("5803"), "c"),
        ("both-inline-as-extended", bytes.fromhex("880503"), "c"),
    ):
        yield g.negative(base, f"non-minimal-{name}", f"genuine frame with its header re-encoded as {header.hex()}",
                         ["HDR-07", "DEC-01", "DEC-03"], ["NonMinimalHeader"],
                         header + g.ciphertext[base][g.header_length[base]:])


@builder
def field_swap(g: Genuine) -> Iterator[VectorTest]:
    yield g.negative("a", "kid-ctr-swapped", "KID and CTR fields swapped", ["HDR-01", "DEC-03"], ["FieldSwap"],
                     bytes.fromhex("9945670123") + g.ciphertext["a"][g.header_length["a"]:], kid=0x4567)


@builder
def forged_tags(g: Genuine) -> Iterator[VectorTest]:
    header = g.ciphertext["a"][: g.header_length["a"]]
    for name, body in (("random", pseudo_random(f"forged/{g.suite}", g.nt)), ("zero", bytes(g.nt))):
        yield g.negative("a", f"forged-{name}-tag", f"header followed by {g.nt} {name} bytes", ["DEC-05", "DEC-03"],
                         ["ForgedTag"], header + body)


@builder
def empty_plaintext(g: Genuine) -> Iterator[VectorTest]:
    """The one valid frame of the file: header and tag only, next to the truncations it must not be confused with."""
    yield VectorTest(f"gen/decrypt/suite-{g.suite}/a/empty-plaintext", "header and tag only: a valid empty frame",
                     ["DEC-05", "ENC-08"], ["EmptyInput"], "valid",
                     {"decrypt_suite": g.suite, "base_key": BASE_KEY, "kid": 0x123, "metadata": METADATA,
                      "ciphertext": frame(g.suite, BASE_KEY, 0x123, 0, b"", METADATA), "plaintext": b""})


NEGATIVES = (bit_flips, truncations, extra_byte, metadata_changes, wrong_suites, wrong_kids, non_minimal, field_swap,
             forged_tags)


def decrypt_group(suite: int) -> Group:
    g = Genuine.of(suite)
    return Group("SFrameDecrypt", suite, [t for negatives in (*NEGATIVES, empty_plaintext) for t in negatives(g)])
