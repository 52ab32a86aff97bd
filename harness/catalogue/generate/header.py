"""Header codec vectors (``header.json``): minimal encodings, every config byte, truncations, non-minimal forms.

Rule: a complete header is decoded under every allowed parser policy; a
non-minimal one is Wycheproof-"acceptable" (a parser may accept or reject it,
RFC 9605 §4.3), and the audit records why in ``reason``.
"""

from __future__ import annotations

from collections.abc import Iterator

from sframe_py import encode_header, parse_header

from .common import U64_MAX, Group, VectorTest, builder, value_flags

HEADER_REQS = ["HDR-02", "HDR-03", "HDR-04", "HDR-05"]
FILLER = b"\xa5"  # extension bytes whose leading byte is non-zero, so every filled field is minimal
BODY = b"\x00\x11"  # two body bytes after the header: the parser must stop at the header's end


@builder
def minimal_encodings() -> Iterator[VectorTest]:
    for kid in (0, 1, 5, 7, 8, 0x7F, 0xFF, 0x100, 2**32, 2**63, U64_MAX):
        for ctr in (0, 7, 8, 0xFF, 2**32, U64_MAX):
            yield VectorTest(f"gen/header/codec/kid-{kid}-ctr-{ctr}", f"minimal encoding of KID {kid:#x}, CTR {ctr:#x}",
                             HEADER_REQS, value_flags(kid, ctr), "valid",
                             {"kid": kid, "ctr": ctr, "header": encode_header(kid, ctr)})


def announced(config: int) -> int:
    """How many extension bytes config byte ``config`` announces (KID then CTR)."""
    return sum((n & 0x7) + 1 for n in (config >> 4, config & 0xF) if n & 0x8)


@builder
def config_bytes() -> Iterator[VectorTest]:
    """Each of the 256 config bytes with its announced bytes, then (when it announces any) one byte short."""
    for config in range(256):
        need = announced(config)
        data = bytes([config]) + FILLER * need
        header = parse_header(data + BODY)
        yield VectorTest(f"gen/header/config-{config:02x}",
                         f"config byte {config:#04x} with its {need} bytes and 2 trailing body bytes",
                         ["HDR-08", "HDR-05"], ["AllConfigBytes"], "valid",
                         {"data": data + BODY, "kid": header.kid, "ctr": header.ctr, "length": header.length})
        if need:
            yield from truncated(config, data)


@builder
def truncated(config: int, data: bytes) -> Iterator[VectorTest]:
    """A header one byte shorter than its config byte announces: malformed under every policy."""
    need = len(data) - 1
    yield VectorTest(f"gen/header/config-{config:02x}-truncated",
                     f"config byte {config:#04x} announces {need} bytes, {need - 1} present", ["HDR-06"],
                     ["TruncatedHeader"], "invalid", {"data": data[:-1]}, errors=["malformed"])


@builder
def empty() -> Iterator[VectorTest]:
    yield VectorTest("gen/header/empty", "empty input", ["HDR-06"], ["EmptyInput"], "invalid", {"data": b""},
                     errors=["malformed"])


@builder
def non_minimal() -> Iterator[VectorTest]:
    for data_hex, comment in (
        ("0805", "CTR 5 in extended form"), ("8005", "KID 5 in extended form"), ("0800", "CTR 0 in extended form"),
        ("0900ff", "CTR 0xff with a leading zero byte"), ("0f00000000000000ff", "CTR 0xff in 8 bytes"),
        ("a90001234567", "KID 0x123 in 3 bytes"), ("9a0123004567", "CTR 0x4567 in 3 bytes"),
        ("f0" + "00" * 7 + "08", "KID 8 in 8 bytes"),
    ):
        header = parse_header(bytes.fromhex(data_hex))
        yield VectorTest(f"gen/header/non-minimal-{data_hex}", comment, ["HDR-07"], ["NonMinimalHeader"], "acceptable",
                         {"data": header.encoded, "kid": header.kid, "ctr": header.ctr, "length": header.length},
                         level="MAY")


def header_groups() -> list[Group]:
    return [Group("HeaderCodec", None, [*minimal_encodings()]),
            Group("HeaderDecode", None, [*config_bytes(), *empty(), *non_minimal()])]
