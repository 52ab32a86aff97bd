"""Deterministic generator for the project's own vectors (``vectors/generated/``).

The official RFC vectors are positive-only and use one KID and CTR (0x123,
0x4567), which hides whole bug classes. These vectors add boundaries, sizes and
negative cases. They are computed with ``implementations/python`` and
cross-checked by every other implementation in CI. Regenerating must give
byte-identical files (a test checks it):

    python -m harness vectors --write      # regenerate
    python -m harness vectors --check      # exit 1 if the checked-in files differ
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sframe_py
from sframe_py import SUITES, SFrameError, U64_MAX, encode_header, parse_header

SCHEMA = "sframe-conformance-vectors/v1"
GENERATED_DIR = Path(__file__).resolve().parent.parent / "vectors" / "generated"

BASE_KEY = bytes(range(16))
METADATA = b"IETF SFrame WG"
PLAINTEXT = b"draft-ietf-sframe-enc"
BOUNDARIES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0x100, 0xFFFF, 0x10000, 2**32 - 1, 2**32, 2**32 + 1,
              2**63 - 1, 2**63, U64_MAX]

NOTES: dict[str, dict[str, str]] = {
    "CtrTruncation": {"bugType": "EDGE_CASE", "description": "CTR >= 2^32: catches CTR truncated to 16 or 32 bits in the nonce or header."},
    "KidTruncation": {"bugType": "EDGE_CASE", "description": "KID >= 2^32: catches KID truncated in the header or in the KDF label."},
    "SignedInt64": {"bugType": "EDGE_CASE", "description": "Values around 2^63: catches signed 64-bit arithmetic."},
    "InlineBoundary": {"bugType": "EDGE_CASE", "description": "Values 0 to 8: the inline/extended boundary of the header fields."},
    "MaxValue": {"bugType": "EDGE_CASE", "description": "KID or CTR = 2^64-1, the largest encodable value."},
    "EmptyInput": {"bugType": "EDGE_CASE", "description": "Empty plaintext or metadata."},
    "BlockBoundary": {"bugType": "EDGE_CASE", "description": "Plaintext lengths around the 16-byte AES block."},
    "LargeFrame": {"bugType": "EDGE_CASE", "description": "A 64 KiB frame, larger than one video packet."},
    "BaseKeyLength": {"bugType": "EDGE_CASE", "description": "base_key lengths other than 16 bytes (the RFC fixes none)."},
    "HeaderBitFlip": {"bugType": "AUTH_BYPASS", "description": "A bit flip in the config byte must not decrypt."},
    "KidBitFlip": {"bugType": "AUTH_BYPASS", "description": "A bit flip in the KID bytes must not decrypt."},
    "CtrBitFlip": {"bugType": "AUTH_BYPASS", "description": "A bit flip in the CTR bytes must not decrypt."},
    "BodyBitFlip": {"bugType": "AUTH_BYPASS", "description": "A bit flip in the encrypted body must not decrypt."},
    "TagBitFlip": {"bugType": "AUTH_BYPASS", "description": "A bit flip in the tag must not decrypt (tag compared at all, and in full)."},
    "Truncation": {"bugType": "MALFORMED_INPUT", "description": "Input cut at a boundary: must be rejected without a crash or partial plaintext."},
    "ExtraByte": {"bugType": "AUTH_BYPASS", "description": "One byte appended: the tag position moves, so it must fail."},
    "MetadataNotAuthenticated": {"bugType": "AUTH_BYPASS", "description": "Metadata changed, dropped or added: it is part of the AAD."},
    "WrongSuite": {"bugType": "CONFUSION", "description": "A frame decrypted in another suite must fail (suite is in the KDF label)."},
    "TagTruncationDowngrade": {"bugType": "CONFUSION", "description": "A tag cut to a shorter suite's length must fail: Nt is MAC input."},
    "UnknownKid": {"bugType": "KEY_LOOKUP", "description": "A KID with no key must fail without releasing plaintext."},
    "KidNotInKdf": {"bugType": "CONFUSION", "description": "A frame moved to another KID under the same base_key must fail."},
    "NonMinimalHeader": {"bugType": "AAD_RECONSTRUCTION", "description": "A re-encoded header must fail: the AAD is the header as received, not a re-encoding."},
    "FieldSwap": {"bugType": "FORMAT", "description": "KID and CTR fields swapped."},
    "ForgedTag": {"bugType": "AUTH_BYPASS", "description": "A header followed by Nt random or zero bytes must not decrypt."},
    "TruncatedHeader": {"bugType": "MALFORMED_INPUT", "description": "A header whose config byte announces more bytes than present."},
    "UnknownSuite": {"bugType": "MISSING_CHECK", "description": "An unassigned suite code point must be refused cleanly, not crash."},
    "ValueOverflow": {"bugType": "EDGE_CASE", "description": "A KID or CTR of 2^64 or more must be refused, not truncated or wrapped."},
    "AllConfigBytes": {"bugType": "FORMAT", "description": "Every config byte value is well-formed with enough bytes."},
}


def _bytes(label: str, n: int) -> bytes:
    """Deterministic pseudo-random bytes: SHA-256 in counter mode over a label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


@dataclass
class _Group:
    type: str
    suite: int | None
    tests: list[dict[str, Any]] = field(default_factory=list)


def _value_flags(kid: int, ctr: int) -> list[str]:
    flags = []
    if kid <= 8 or ctr <= 8:
        flags.append("InlineBoundary")
    if ctr >= 2**32:
        flags.append("CtrTruncation")
    if kid >= 2**32:
        flags.append("KidTruncation")
    if 2**63 - 1 <= kid <= 2**63 or 2**63 - 1 <= ctr <= 2**63:
        flags.append("SignedInt64")
    if U64_MAX in (kid, ctr):
        flags.append("MaxValue")
    return flags


def _roundtrip(suite: int, name: str, comment: str, reqs: list[str], flags: list[str], *, base_key: bytes = BASE_KEY,
               kid: int, ctr: int, metadata: bytes, plaintext: bytes, level: str = "MUST") -> dict[str, Any]:
    ct = sframe_py.encrypt(suite, base_key, kid, ctr, metadata, plaintext)
    return {"id": f"gen/roundtrip/suite-{suite}/{name}", "comment": comment, "level": level,
            "requirements": reqs, "flags": flags, "result": "valid", "base_key": base_key.hex(),
            "kid": str(kid), "ctr": str(ctr), "metadata": metadata.hex(), "plaintext": plaintext.hex(),
            "ciphertext": ct.hex()}


def roundtrip_group(suite: int) -> _Group:
    g = _Group("SFrameRoundTrip", suite)
    seen = set()
    for kid, ctr in [(v, 0) for v in BOUNDARIES] + [(0x123, v) for v in BOUNDARIES] + [(U64_MAX, U64_MAX), (2**63, 2**63)]:
        if (kid, ctr) in seen:
            continue
        seen.add((kid, ctr))
        g.tests.append(_roundtrip(
            suite, f"kid-{kid}-ctr-{ctr}", f"KID {kid:#x}, CTR {ctr:#x}: header encoding, KDF label and nonce at a boundary",
            ["ENC-01", "ENC-02", "HDR-02", "HDR-03", "HDR-04", "KDF-04"], _value_flags(kid, ctr),
            kid=kid, ctr=ctr, metadata=METADATA, plaintext=PLAINTEXT))
    for size in (0, 1, 15, 16, 17, 33, 100, 1200, 65536):
        for metadata in ((b"", METADATA) if size < 65536 else (b"",)):
            flags = ["EmptyInput"] if size == 0 or not metadata else []
            flags += ["BlockBoundary"] if size in (15, 16, 17, 33) else []
            flags += ["LargeFrame"] if size == 65536 else []
            g.tests.append(_roundtrip(
                suite, f"size-{size}-metadata-{len(metadata)}", f"{size}-byte plaintext, {len(metadata)}-byte metadata",
                ["ENC-01", "ENC-03", "ENC-08", "SUITE-01"], flags, kid=0x123, ctr=size,
                metadata=metadata, plaintext=_bytes(f"pt/{suite}/{size}", size)))
    for length in (1, 32, 48, 64):
        g.tests.append(_roundtrip(
            suite, f"base-key-{length}", f"{length}-byte base_key (the RFC sets no length; HKDF takes any)",
            ["KDF-07"], ["BaseKeyLength"], base_key=_bytes(f"bk/{length}", length), kid=0x123, ctr=0x4567,
            metadata=METADATA, plaintext=PLAINTEXT, level="MAY"))
    return g


def _error_of(suite: int, base_key: bytes, kid: int, metadata: bytes, ciphertext: bytes) -> str | None:
    try:
        sframe_py.decrypt(suite, base_key, kid, metadata, ciphertext)
        return None
    except SFrameError as e:
        return e.code


def _flip(data: bytes, index: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[index] ^= 1 << bit
    return bytes(out)


def _negatives(suite: int) -> Iterator[tuple[str, str, list[str], list[str], dict[str, Any]]]:
    """Yield (name, comment, requirements, flags, decrypt inputs) for every negative case."""
    nt = SUITES[suite].nt
    bases = {
        "a": (0x123, 0x4567, METADATA),  # the official vectors' inputs: 5-byte header
        "b": (U64_MAX, U64_MAX, METADATA),  # 17-byte header
        "c": (5, 3, b""),  # 1-byte inline header, no metadata
    }
    ct = {n: sframe_py.encrypt(suite, BASE_KEY, k, c, m, PLAINTEXT) for n, (k, c, m) in bases.items()}
    hlen = {n: parse_header(v).length for n, v in ct.items()}

    def frame(base: str, data: bytes, *, metadata: bytes | None = None, kid: int | None = None,
              suite_: int = suite) -> dict[str, Any]:
        k, _, m = bases[base]
        return {"suite": suite_, "kid": k if kid is None else kid, "metadata": m if metadata is None else metadata,
                "ciphertext": data}

    for base in ("a", "c"):
        for bit in range(8):
            yield (f"{base}/config-bit-{bit}", f"config byte bit {bit} flipped", ["HDR-01", "DEC-03"], ["HeaderBitFlip"],
                   frame(base, _flip(ct[base], 0, bit)))
    for base, idxs in (("a", [1, 2]), ("b", [1, 8])):
        for i in idxs:
            yield (f"{base}/kid-byte-{i}", f"KID byte at offset {i} flipped", ["HDR-01", "DEC-03"], ["KidBitFlip"],
                   frame(base, _flip(ct[base], i)))
    for base, idxs in (("a", [3, 4]), ("b", [9, 16])):
        for i in idxs:
            yield (f"{base}/ctr-byte-{i}", f"CTR byte at offset {i} flipped", ["ENC-02", "DEC-03"], ["CtrBitFlip"],
                   frame(base, _flip(ct[base], i, 7)))
    body_len = len(PLAINTEXT)
    for name, off in (("first", 0), ("middle", body_len // 2), ("last", body_len - 1)):
        yield (f"a/body-{name}", f"{name} body byte flipped", ["DEC-03"], ["BodyBitFlip"],
               frame("a", _flip(ct["a"], hlen["a"] + off)))
    for base in ("a", "b"):
        for name, off in (("first", -nt), ("last", -1)):
            yield (f"{base}/tag-{name}", f"{name} tag byte flipped", ["DEC-03", "DEC-05"], ["TagBitFlip"],
                   frame(base, _flip(ct[base], len(ct[base]) + off)))
    a, ha = ct["a"], hlen["a"]
    for name, data, comment in (
        ("empty", b"", "empty ciphertext"),
        ("config-only", a[:1], "config byte only; it announces 4 more header bytes"),
        ("header-minus-1", a[: ha - 1], "header cut by one byte"),
        ("header-only", a[:ha], "header and nothing else"),
        ("header-plus-nt-minus-1", a[: ha + nt - 1], f"header and {nt - 1} bytes, one short of a tag"),
        ("minus-1", a[:-1], "last byte removed"),
    ):
        yield (f"a/truncated-{name}", comment, ["HDR-06", "DEC-03", "DEC-05"], ["Truncation"], frame("a", data))
    yield ("c/truncated-header-only", "1-byte header and nothing else", ["DEC-03", "DEC-05"], ["Truncation"],
           frame("c", ct["c"][:1]))
    yield ("b/truncated-header-minus-1", "17-byte header cut by one byte", ["HDR-06", "DEC-03"], ["Truncation"],
           frame("b", ct["b"][: hlen["b"] - 1]))
    yield ("a/extra-byte", "one byte appended", ["DEC-03"], ["ExtraByte"], frame("a", a + b"\x00"))
    for name, md in (("flipped", _flip(METADATA, 0)), ("dropped", b""), ("extra-byte", METADATA + b"\x00")):
        yield (f"a/metadata-{name}", f"metadata {name}", ["ENC-03", "DEC-03"], ["MetadataNotAuthenticated"],
               frame("a", a, metadata=md))
    yield ("c/metadata-added", "metadata given where the sender had none", ["ENC-03", "DEC-03"],
           ["MetadataNotAuthenticated"], frame("c", ct["c"], metadata=b"\x00"))
    for other in SUITES:
        if other != suite:
            yield (f"a/decrypt-as-suite-{other}", f"suite {suite} frame decrypted as suite {other}",
                   ["KDF-05", "SUITE-07", "DEC-03"], ["WrongSuite"], frame("a", a, suite_=other))
    for other, spec in SUITES.items():
        if spec.aead is SUITES[suite].aead and spec.hash_name == SUITES[suite].hash_name and spec.nt < nt:
            yield (f"a/tag-cut-to-suite-{other}", f"tag cut from {nt} to {spec.nt} bytes, decrypted as suite {other}",
                   ["SUITE-05", "DEC-03"], ["TagTruncationDowngrade"], frame("a", a[: len(a) - nt + spec.nt], suite_=other))
    yield ("a/unknown-kid", "the receiver holds KID 0x124 only", ["DEC-02", "DEC-03"], ["UnknownKid"],
           frame("a", a, kid=0x124))
    yield ("b/unknown-kid", "the receiver holds KID 0 only", ["DEC-02", "DEC-03"], ["UnknownKid", "KidTruncation"],
           frame("b", ct["b"], kid=0))
    rewritten = encode_header(0x124, 0x4567) + a[ha:]
    yield ("a/kid-rewritten", "KID rewritten to 0x124, which the receiver holds under the same base_key",
           ["KDF-06", "DEC-03"], ["KidNotInKdf"], frame("a", rewritten, kid=0x124))
    yield ("a/ctr-rewritten", "CTR rewritten to 0x4568", ["ENC-02", "DEC-03"], ["CtrBitFlip"],
           frame("a", encode_header(0x123, 0x4568) + a[ha:]))
    for name, header, base in (
        ("kid-3-bytes", bytes.fromhex("a9000123 4567"), "a"),
        ("ctr-3-bytes", bytes.fromhex("9a0123 004567"), "a"),
        ("both-3-bytes", bytes.fromhex("aa000123 004567"), "a"),
        ("kid-inline-as-extended", bytes.fromhex("8305"), "c"),
        ("ctr-inline-as-extended", bytes.fromhex("5803"), "c"),
        ("both-inline-as-extended", bytes.fromhex("880503"), "c"),
    ):
        yield (f"{base}/non-minimal-{name}", f"genuine frame with its header re-encoded as {header.hex()}",
               ["HDR-07", "DEC-01", "DEC-03"], ["NonMinimalHeader"], frame(base, header + ct[base][hlen[base]:]))
    yield ("a/kid-ctr-swapped", "KID and CTR fields swapped", ["HDR-01", "DEC-03"], ["FieldSwap"],
           frame("a", bytes.fromhex("9945670123") + a[ha:], kid=0x4567))
    for name, body in (("random", _bytes(f"forged/{suite}", nt)), ("zero", bytes(nt))):
        yield (f"a/forged-{name}-tag", f"header followed by {nt} {name} bytes", ["DEC-05", "DEC-03"], ["ForgedTag"],
               frame("a", a[:ha] + body))


def decrypt_group(suite: int) -> _Group:
    g = _Group("SFrameDecrypt", suite)
    for name, comment, reqs, flags, f in _negatives(suite):
        error = _error_of(f["suite"], BASE_KEY, f["kid"], f["metadata"], f["ciphertext"])
        if error is None:
            raise AssertionError(f"negative vector {name} for suite {suite} decrypts")
        errors = ["malformed", "auth_failed"] if "NonMinimalHeader" in flags else [error]
        g.tests.append({"id": f"gen/decrypt/suite-{suite}/{name}", "comment": comment, "level": "MUST",
                        "requirements": reqs, "flags": flags, "result": "invalid", "decrypt_suite": f["suite"],
                        "base_key": BASE_KEY.hex(), "kid": str(f["kid"]), "metadata": f["metadata"].hex(),
                        "ciphertext": f["ciphertext"].hex(), "errors": errors})
    tag_only = sframe_py.encrypt(suite, BASE_KEY, 0x123, 0, METADATA, b"")
    g.tests.append({"id": f"gen/decrypt/suite-{suite}/a/empty-plaintext", "level": "MUST",
                    "comment": "header and tag only: a valid empty frame", "requirements": ["DEC-05", "ENC-08"],
                    "flags": ["EmptyInput"], "result": "valid", "decrypt_suite": suite, "base_key": BASE_KEY.hex(),
                    "kid": str(0x123), "metadata": METADATA.hex(), "ciphertext": tag_only.hex(), "plaintext": ""})
    return g


def invalid_input_groups() -> list[_Group]:
    """Inputs an encryptor or decryptor must refuse cleanly: unknown suites, values past u64."""
    enc = _Group("SFrameEncryptInvalid", None)
    dec = _Group("SFrameDecrypt", None)
    tv = sframe_py.encrypt(1, BASE_KEY, 0x123, 0x4567, METADATA, PLAINTEXT)
    for suite in (0, 9, 0xEFFF, 0xF000, 0xFFFF):
        common = {"level": "MUST", "requirements": ["SUITE-08"], "flags": ["UnknownSuite"], "result": "invalid",
                  "base_key": BASE_KEY.hex(), "kid": str(0x123), "metadata": METADATA.hex(), "errors": ["unsupported"]}
        enc.tests.append({"id": f"gen/encrypt/unknown-suite-{suite}", "comment": f"encrypt in unassigned suite {suite:#06x}",
                          "suite": suite, "ctr": "0", "plaintext": PLAINTEXT.hex(), **common})
        dec.tests.append({"id": f"gen/decrypt/unknown-suite-{suite}", "comment": f"decrypt in unassigned suite {suite:#06x}",
                          "decrypt_suite": suite, "ciphertext": tv.hex(), **common})
    for name, kid, ctr in (("kid-2^64", str(2**64), "0"), ("ctr-2^64", "7", str(2**64)),
                           ("kid-2^65", str(2**65), "0"), ("ctr-2^64+5", "7", str(2**64 + 5))):
        enc.tests.append({"id": f"gen/encrypt/{name}", "comment": f"{name} does not fit in u64: refuse, never truncate",
                          "level": "MUST", "requirements": ["HDR-04"], "flags": ["ValueOverflow"], "result": "invalid",
                          "suite": 4, "base_key": BASE_KEY.hex(), "kid": kid, "ctr": ctr, "metadata": "",
                          "plaintext": PLAINTEXT.hex(), "errors": ["invalid_argument"]})
    return [enc, dec]


def header_groups() -> list[_Group]:
    codec = _Group("HeaderCodec", None)
    for kid in (0, 1, 5, 7, 8, 0x7F, 0xFF, 0x100, 2**32, 2**63, U64_MAX):
        for ctr in (0, 7, 8, 0xFF, 2**32, U64_MAX):
            codec.tests.append({"id": f"gen/header/codec/kid-{kid}-ctr-{ctr}", "level": "MUST",
                                "comment": f"minimal encoding of KID {kid:#x}, CTR {ctr:#x}",
                                "requirements": ["HDR-02", "HDR-03", "HDR-04", "HDR-05"], "flags": _value_flags(kid, ctr),
                                "result": "valid", "kid": str(kid), "ctr": str(ctr),
                                "header": encode_header(kid, ctr).hex()})
    decode = _Group("HeaderDecode", None)
    for config in range(256):
        need = sum((n & 0x7) + 1 for n in (config >> 4, config & 0xF) if n & 0x8)
        data = bytes([config]) + b"\xa5" * need
        header = parse_header(data + b"\x00\x11")
        decode.tests.append({"id": f"gen/header/config-{config:02x}", "level": "MUST",
                             "comment": f"config byte {config:#04x} with its {need} bytes and 2 trailing body bytes",
                             "requirements": ["HDR-08", "HDR-05"], "flags": ["AllConfigBytes"], "result": "valid",
                             "data": (data + b"\x00\x11").hex(), "kid": str(header.kid), "ctr": str(header.ctr),
                             "length": header.length})
        if need:
            decode.tests.append({"id": f"gen/header/config-{config:02x}-truncated", "level": "MUST",
                                 "comment": f"config byte {config:#04x} announces {need} bytes, {need - 1} present",
                                 "requirements": ["HDR-06"], "flags": ["TruncatedHeader"], "result": "invalid",
                                 "data": data[:-1].hex(), "errors": ["malformed"]})
    decode.tests.append({"id": "gen/header/empty", "level": "MUST", "comment": "empty input", "requirements": ["HDR-06"],
                         "flags": ["EmptyInput"], "result": "invalid", "data": "", "errors": ["malformed"]})
    for data_hex, comment in (
        ("0805", "CTR 5 in extended form"), ("8005", "KID 5 in extended form"), ("0800", "CTR 0 in extended form"),
        ("0900ff", "CTR 0xff with a leading zero byte"), ("0f00000000000000ff", "CTR 0xff in 8 bytes"),
        ("a90001234567", "KID 0x123 in 3 bytes"), ("9a0123004567", "CTR 0x4567 in 3 bytes"),
        ("f0" + "00" * 7 + "08", "KID 8 in 8 bytes"),
    ):
        header = parse_header(bytes.fromhex(data_hex))
        decode.tests.append({"id": f"gen/header/non-minimal-{data_hex}", "level": "MAY", "comment": comment,
                             "requirements": ["HDR-07"], "flags": ["NonMinimalHeader"], "result": "acceptable",
                             "data": data_hex, "kid": str(header.kid), "ctr": str(header.ctr), "length": header.length})
    return [codec, decode]


def _document(groups: list[_Group], description: str) -> dict[str, Any]:
    tc_id = 0
    out_groups = []
    for g in groups:
        tests = []
        for t in g.tests:
            tc_id += 1
            tests.append({"tcId": tc_id, **t})
        out_groups.append({"type": g.type, **({"suite": g.suite} if g.suite is not None else {}), "tests": tests})
    used = sorted({f for g in groups for t in g.tests for f in t["flags"]})
    return {"schema": SCHEMA, "generator": "python -m harness vectors --write", "description": description,
            "numberOfTests": tc_id, "notes": {f: NOTES[f] for f in used}, "testGroups": out_groups}


def documents() -> dict[str, dict[str, Any]]:
    return {
        "sframe-roundtrip.json": _document([roundtrip_group(s) for s in SUITES],
                                           "Encrypt then decrypt at KID/CTR boundaries, frame sizes and base_key lengths"),
        "sframe-decrypt.json": _document([decrypt_group(s) for s in SUITES],
                                         "Tampered, truncated, re-encoded and misdirected frames that must not decrypt"),
        "sframe-invalid-input.json": _document(invalid_input_groups(),
                                               "Unassigned suites and out-of-range values an implementation must refuse"),
        "header.json": _document(header_groups(), "Header encoding and parsing, every config byte, malformed input"),
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1) + "\n"


def write(directory: Path = GENERATED_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, doc in documents().items():
        path = directory / name
        path.write_text(render(doc))
        paths.append(path)
    return paths


def stale(directory: Path = GENERATED_DIR) -> list[str]:
    """Names of checked-in files that differ from a fresh generation."""
    return [name for name, doc in documents().items()
            if not (directory / name).exists() or (directory / name).read_text() != render(doc)]
