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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sframe_py
from sframe_py import SUITES, U64_MAX, SFrameError, encode_header, get_suite, parse_header

from ...locations import GENERATED_VECTORS, MLS_VECTORS
from ...model.protocol import to_wire
from ...model.requirements import strongest_level
from ...model.wire import Reference, Request, Response
from ..mls_exporter import sframe_base_key

SCHEMA = "sframe-conformance-vectors/v1"
GENERATED_DIR = GENERATED_VECTORS

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
    "CounterAdvance": {"bugType": "NONCE_REUSE", "description": "The managed counter starts at 0 (or next_ctr) and moves by one per successful encryption, per KID."},
    "CounterExhaustion": {"bugType": "NONCE_REUSE", "description": "CTR 2^64-1 is a key's last: encrypting again must fail every time; the counter never wraps."},
    "KeyUsage": {"bugType": "KEY_LOOKUP", "description": "A KID holds one key, send-only or receive-only, used only in its direction."},
    "RatchetChain": {"bugType": "KDF", "description": "Ratchet known answers: HKDF with 'SFrame 1.0 Ratchet', output Nh bytes."},
    "RatchetKidLayout": {"bugType": "FORMAT", "description": "Ratchet KID = (generation << R) + (step mod 2^R)."},
    "RatchetWindow": {"bugType": "KEY_LOOKUP", "description": "Ratchet receiver window: reordered steps decrypt, steps past the window fail."},
    "MlsKidLayout": {"bugType": "FORMAT", "description": "MLS KID = (context_id << (S+E)) + (sender_index << E) + (epoch mod 2^E), RFC 9605 figure values included."},
    "EpochEviction": {"bugType": "KEY_LOOKUP", "description": "A new epoch with the same low E bits evicts the old one (MUST): its keys are gone."},
    "KidRewrite": {"bugType": "CONFUSION", "description": "A member's frame with its KID rewritten to another member, context or epoch must not decrypt."},
    "FieldOverflow": {"bugType": "EDGE_CASE", "description": "A sender index, context id, generation or bit width that does not fit its KID field must be refused, never truncated."},
    "LargeGroup": {"bugType": "EDGE_CASE", "description": "KID layouts for audiences beyond conference size: S up to 24 bits, E up to 8, KIDs using all 64 bits."},
    "ReplayWindow": {"bugType": "REPLAY", "description": "Optional receiver replay window: duplicates and too-old CTRs are rejected, in-window reordering is accepted."},
    "ForgedFrame": {"bugType": "STATE_CORRUPTION", "description": "A frame that fails authentication must not change receiver state (replay window, ratchet step)."},
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


# Key management (stateful) scenarios: vectors/generated/key-management.json.
#
# A scenario is a list of steps on one implementation; a request field may be
# {"$ref": [step, field]}, a field of an earlier step's response (the ctx handle,
# or a ciphertext to decrypt). Each scenario runs on a fresh reference adapter:
# the expected outputs are recorded from it, and every step's stated expectation
# (error classes, ``expect`` values taken from the RFC or the requirements list)
# is asserted while recording, so a reference bug stops generation. Frames that a
# receiver decrypts are mostly built with the stateless ``sframe_py.encrypt``, so
# receiver cases do not depend on the reference's own sender state.

_WireRef = dict[str, list[Any]]
FORGED = "forged"  # in a script: a frame no key authenticates, in place of a genuine one


def _ref(step: int, name: str = "ctx") -> _WireRef:
    return {"$ref": [step, name]}


@dataclass
class _Scenario:
    id: str
    comment: str
    requirements: list[str]
    flags: list[str]
    steps: list[tuple[str, dict[str, Any], list[str], dict[str, Any]]] = field(default_factory=list)
    unpinned: tuple[str, ...] = ()  # output fields checked while recording but not written (format-dependent)

    def step(self, op: str, *, errors: tuple[str, ...] = (), expect: dict[str, Any] | None = None,
             **request: Any) -> int:
        self.steps.append((op, request, list(errors), expect or {}))
        return len(self.steps) - 1

    def new(self, op: str, **request: Any) -> _WireRef:
        """A step that creates a context; returns the reference to its handle."""
        return _ref(self.step(op, **request))

    def record(self, reference: Reference) -> dict[str, Any]:
        responses: list[Response] = []
        steps = []
        for op, request, errors, expect in self.steps:
            fields = {k: responses[v["$ref"][0]].fields[v["$ref"][1]] if isinstance(v, dict) else v
                      for k, v in request.items()}
            response = reference(Request(op, fields))
            where = f"{self.id} step {len(steps)} {op}"
            wire: dict[str, Any] = {"op": op, "request": to_wire(request)}
            if errors:
                if response.ok or response.error not in errors:
                    raise AssertionError(f"{where}: expected {errors}, got {response}")
                wire["errors"] = errors
            else:
                if not response.ok:
                    raise AssertionError(f"{where}: {response.error}: {response.message}")
                output = {k: v for k, v in response.fields.items() if k != "ctx"}
                wrong = {k: output.get(k) for k, v in expect.items() if output.get(k) != v}
                if wrong:
                    raise AssertionError(f"{where}: expected {expect}, got {wrong}")
                output = {k: v for k, v in output.items() if k not in self.unpinned}
                if output:
                    wire["output"] = to_wire(output)
            responses.append(response)
            steps.append(wire)
        invalid = any("errors" in s for s in steps)
        return {"id": self.id, "comment": self.comment, "level": strongest_level(self.requirements).value,
                "requirements": self.requirements, "flags": self.flags,
                "result": "invalid" if invalid else "valid", "steps": steps}


def _frame(suite: int, base_key: bytes, kid: int, ctr: int, plaintext: bytes = PLAINTEXT,
           metadata: bytes = METADATA) -> bytes:
    return sframe_py.encrypt(suite, base_key, kid, ctr, metadata, plaintext)


def _forged(suite: int, kid: int, ctr: int) -> bytes:
    """A header followed by bytes that no key authenticates."""
    return encode_header(kid, ctr) + _bytes(f"forged/{kid}/{ctr}", len(PLAINTEXT) + SUITES[suite].nt)


def _rewrite_kid(ciphertext: bytes, kid: int) -> bytes:
    header = parse_header(ciphertext)
    return encode_header(kid, header.ctr) + ciphertext[header.length:]


@dataclass(frozen=True)
class _Profile:
    """A variant of the context and replay scenarios.

    ``RFC_PROFILE`` is the full set: suite 4 (every suite for the per-suite
    scenarios), metadata, receiver frames built with ``sframe_py.encrypt`` and
    every ciphertext pinned, so a case checks RFC 9605's wire format along with
    its key-management rule.

    ``DRAFT_PROFILE`` (ids ``gen/keys/context-s1/``, ``gen/keys/replay-s1/``) is
    for libraries written against an SFrame draft (medooze: suites 1 and 3, no
    metadata input, a fixed replay window of 128): suite 1, empty metadata,
    replay windows of 128 and only values below 2^53 (no counter exhaustion, no
    CTR 2^64-1). Receiver frames are sent by the implementation itself from a
    separate sender context and ciphertexts are not pinned, so a case measures
    the key-management rule whatever the wire format. Cases that only check
    argument validation are left out, and each window case checks one thing:
    duplicates have their own cases, so the forged-frame and per-KID ones do
    not recheck them.
    """

    name: str  # appended to "gen/keys/context" and "gen/keys/replay"
    suite: int
    metadata: bytes
    window: int  # replay_window where the size matters
    draft: bool

    def scenario(self, id: str, comment: str, requirements: list[str], flags: list[str]) -> _Scenario:
        return _Scenario(id, comment, requirements, flags, unpinned=("ciphertext",) if self.draft else ())

    def received(self, s: _Scenario, kid: int, ctr: int, *, suite: int | None = None, key: bytes = BASE_KEY,
                 cache: dict[tuple[int, int, bytes], _WireRef] | None = None) -> bytes | _WireRef:
        """A frame for a receiver: built by sframe_py, or (draft) sent by the implementation under test."""
        suite = self.suite if suite is None else suite
        if not self.draft:
            return _frame(suite, key, kid, ctr, metadata=self.metadata)
        if cache is not None and (kid, ctr, key) in cache:
            return cache[kid, ctr, key]
        sender = s.new("context_new", suite=suite)
        s.step("context_add_key", ctx=sender, kid=kid, base_key=key, usage="send", next_ctr=ctr)
        sent = s.step("context_encrypt", ctx=sender, kid=kid, metadata=self.metadata, plaintext=PLAINTEXT,
                      expect={"ctr": ctr})
        s.step("context_free", ctx=sender)
        frame = _ref(sent, "ciphertext")
        if cache is not None:
            cache[kid, ctr, key] = frame
        return frame


RFC_PROFILE = _Profile("", 4, METADATA, 4, False)
DRAFT_PROFILE = _Profile("-s1", 1, b"", 128, True)
DRAFT_FORGED_KEY = _bytes("draft-forged-key", 16)  # a sender under this key is not authenticated by BASE_KEY


def _context_scenarios(p: _Profile = RFC_PROFILE) -> Iterator[_Scenario]:
    """§4.4.1 contexts: counters (ENC-04/05/06, REPLAY-01/03), key usage (KEY-02, ENC-07, DEC-06), unknown KIDs."""
    key, kid, md = BASE_KEY, 0x123, p.metadata
    root = f"gen/keys/context{p.name}"
    for suite in (p.suite,) if p.draft else SUITES:
        where = f"{root}/" if p.draft else f"{root}/suite-{suite}/"
        s = p.scenario(f"{where}counter-starts-at-zero",
                       "a new send key encrypts at CTR 0, then 1, then 2", ["ENC-05"], ["CounterAdvance"])
        ctx = s.new("context_new", suite=suite)
        s.step("context_add_key", ctx=ctx, kid=kid, base_key=key, usage="send")
        for ctr in range(3):
            s.step("context_encrypt", ctx=ctx, kid=kid, metadata=md, plaintext=PLAINTEXT,
                   expect={"ctr": ctr, "ciphertext": _frame(suite, key, kid, ctr, metadata=md)})
        yield s

        if not p.draft:
            s = p.scenario(f"{where}counter-exhausted",
                           "CTR 2^64-2 and 2^64-1 encrypt, then the key refuses every time: it never wraps to 0",
                           ["ENC-06", "ENC-04", "REPLAY-01"], ["CounterExhaustion", "MaxValue"])
            ctx = s.new("context_new", suite=suite)
            s.step("context_add_key", ctx=ctx, kid=kid, base_key=key, usage="send", next_ctr=U64_MAX - 1)
            for ctr in (U64_MAX - 1, U64_MAX):
                s.step("context_encrypt", ctx=ctx, kid=kid, metadata=md, plaintext=PLAINTEXT,
                       expect={"ctr": ctr, "ciphertext": _frame(suite, key, kid, ctr, metadata=md)})
            for _ in range(2):
                s.step("context_encrypt", ctx=ctx, kid=kid, metadata=md, plaintext=PLAINTEXT,
                       errors=("counter_exhausted",))
            yield s

        s = p.scenario(f"{where}unknown-kid-then-key-added",
                       "a frame fails as unknown_kid, then decrypts once its receive key is added",
                       ["DEC-02", "DEC-01"], ["UnknownKid"])
        frame = p.received(s, kid, 0x4567, suite=suite)
        ctx = s.new("context_new", suite=suite)
        s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=frame, errors=("unknown_kid",))
        s.step("context_add_key", ctx=ctx, kid=kid, base_key=key, usage="recv")
        s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=frame,
               expect={"plaintext": PLAINTEXT, "kid": kid, "ctr": 0x4567})
        yield s

    def send_context(s: _Scenario, *kids: int, next_ctr: int | None = None) -> _WireRef:
        ctx = s.new("context_new", suite=p.suite)
        for k in kids:
            s.step("context_add_key", ctx=ctx, kid=k, base_key=key, usage="send",
                   **({} if next_ctr is None else {"next_ctr": next_ctr}))
        return ctx

    def encrypt(s: _Scenario, ctx: _WireRef, k: int, ctr: int | None = None, errors: tuple[str, ...] = ()) -> int:
        return s.step("context_encrypt", ctx=ctx, kid=k, metadata=md, plaintext=PLAINTEXT, errors=errors,
                      expect=None if ctr is None else {"ctr": ctr})

    if not p.draft:
        s = p.scenario(f"{root}/counter-exhausted-at-first", "next_ctr 2^64-1: one encryption, then refusal",
                       ["ENC-06", "ENC-04"], ["CounterExhaustion", "MaxValue"])
        ctx = send_context(s, kid, next_ctr=U64_MAX)
        encrypt(s, ctx, kid, U64_MAX)
        encrypt(s, ctx, kid, errors=("counter_exhausted",))
        yield s

        s = p.scenario(f"{root}/exhaustion-is-per-kid",
                       "one KID exhausted; another KID of the same context still encrypts from 0",
                       ["ENC-06", "ENC-05"], ["CounterExhaustion"])
        ctx = send_context(s, 1, next_ctr=U64_MAX)
        s.step("context_add_key", ctx=ctx, kid=2, base_key=key, usage="send")
        encrypt(s, ctx, 1, U64_MAX)
        encrypt(s, ctx, 1, errors=("counter_exhausted",))
        encrypt(s, ctx, 2, 0)
        yield s

    s = p.scenario(f"{root}/next-ctr-restores-state",
                   "a context restored with next_ctr 1000 continues at 1000, never below", ["REPLAY-03", "ENC-04"],
                   ["CounterAdvance"])
    ctx = send_context(s, kid, next_ctr=1000)
    encrypt(s, ctx, kid, 1000)
    encrypt(s, ctx, kid, 1001)
    yield s

    if not p.draft:
        s = p.scenario(f"{root}/next-ctr-out-of-range", "next_ctr 2^64 is refused, not truncated",
                       ["ENC-06", "HDR-04"], ["FieldOverflow"])
        ctx = s.new("context_new", suite=p.suite)
        s.step("context_add_key", ctx=ctx, kid=kid, base_key=key, usage="send", next_ctr=2**64,
               errors=("invalid_argument",))
        yield s

    s = p.scenario(f"{root}/counter-advances-only-on-success",
                   "failed encryptions (missing plaintext, unknown KID) do not move the counter",
                   ["ENC-05", "ENC-04"], ["CounterAdvance"])
    ctx = send_context(s, kid)
    encrypt(s, ctx, kid, 0)
    s.step("context_encrypt", ctx=ctx, kid=kid, metadata=md, errors=("invalid_argument",))
    encrypt(s, ctx, 0x124, errors=("unknown_kid",))
    encrypt(s, ctx, kid, 1)
    yield s

    s = p.scenario(f"{root}/counter-per-kid", "two send keys count independently, each from 0",
                   ["ENC-05", "ENC-04"], ["CounterAdvance"])
    ctx = send_context(s, 1, 2)
    for k, ctr in ((1, 0), (2, 0), (1, 1), (1, 2), (2, 1)):
        encrypt(s, ctx, k, ctr)
    yield s

    for first, second in (("send", "recv"), ("recv", "send"), ("send", "send"), ("recv", "recv")):
        s = p.scenario(f"{root}/kid-{first}-then-{second}",
                       f"a KID holding a {first} key refuses a {second} key", ["KEY-02"], ["KeyUsage"])
        ctx = s.new("context_new", suite=p.suite)
        s.step("context_add_key", ctx=ctx, kid=kid, base_key=key, usage=first)
        s.step("context_add_key", ctx=ctx, kid=kid, base_key=key, usage=second, errors=("key_usage",))
        yield s

    s = p.scenario(f"{root}/send-and-recv-different-kids",
                   "a send key and a receive key under different KIDs both work", ["KEY-02", "DEC-06"], ["KeyUsage"])
    ctx = send_context(s, 1)
    s.step("context_add_key", ctx=ctx, kid=2, base_key=key, usage="recv")
    encrypt(s, ctx, 1, 0)
    s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=p.received(s, 2, 9),
           expect={"plaintext": PLAINTEXT, "kid": 2, "ctr": 9})
    yield s

    s = p.scenario(f"{root}/encrypt-with-recv-key", "a receive key never encrypts", ["KEY-02", "ENC-07"],
                   ["KeyUsage"])
    ctx = s.new("context_new", suite=p.suite)
    s.step("context_add_key", ctx=ctx, kid=kid, base_key=key, usage="recv")
    encrypt(s, ctx, kid, errors=("key_usage",))
    yield s

    s = p.scenario(f"{root}/encrypt-without-key", "encrypting under a KID with no key fails", ["ENC-07"],
                   ["UnknownKid"])
    ctx = send_context(s, 1)
    encrypt(s, ctx, kid, errors=("unknown_kid",))
    yield s

    s = p.scenario(f"{root}/decrypt-with-send-key",
                   "a frame whose KID holds a send key is refused, not decrypted", ["DEC-06", "KEY-02"], ["KeyUsage"])
    ctx = send_context(s, kid)
    s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=p.received(s, kid, 0x4567),
           errors=("key_usage",))
    yield s

    s = p.scenario(f"{root}/decrypt-own-frame", "a sender cannot decrypt its own frame with its send key",
                   ["DEC-06"], ["KeyUsage"])
    ctx = send_context(s, kid)
    sent = encrypt(s, ctx, kid, 0)
    s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=_ref(sent, "ciphertext"), errors=("key_usage",))
    yield s

    s = p.scenario(f"{root}/removed-send-key", "after removal a send key no longer encrypts; removing it "
                   "again is unknown_kid", ["ENC-07"], ["UnknownKid"])
    ctx = send_context(s, kid)
    s.step("context_remove_key", ctx=ctx, kid=kid)
    encrypt(s, ctx, kid, errors=("unknown_kid",))
    s.step("context_remove_key", ctx=ctx, kid=kid, errors=("unknown_kid",))
    yield s

    s = p.scenario(f"{root}/removed-recv-key", "after removal a receive key no longer decrypts",
                   ["DEC-02"], ["UnknownKid"])
    ctx = s.new("context_new", suite=p.suite)
    s.step("context_add_key", ctx=ctx, kid=kid, base_key=key, usage="recv")
    frame = p.received(s, kid, 0x4567)
    s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=frame, expect={"plaintext": PLAINTEXT})
    s.step("context_remove_key", ctx=ctx, kid=kid)
    s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=frame, errors=("unknown_kid",))
    yield s

    if not p.draft:
        s = p.scenario(f"{root}/bad-usage", "usage must be send or recv", ["KEY-02"], ["KeyUsage"])
        ctx = s.new("context_new", suite=p.suite)
        s.step("context_add_key", ctx=ctx, kid=kid, base_key=key, usage="both", errors=("invalid_argument",))
        yield s


RATCHET_MD = b""


def _ratchet_frame(suite: int, generation: int, bits: int, step: int, ctr: int = 0) -> bytes:
    key = sframe_py.ratchet_forward(get_suite(suite), BASE_KEY, step)
    return _frame(suite, key, (generation << bits) + step % (1 << bits), ctr, PLAINTEXT + bytes([step]), RATCHET_MD)


def _ratchet_scenarios() -> Iterator[_Scenario]:
    """§5.1: ratchet chains (SK-01), KID layout (SK-02), the receiver window (SK-03, SK-04)."""
    for suite in SUITES:
        s = _Scenario(f"gen/keys/ratchet/suite-{suite}/chain",
                      "ratchet_derive after 0, 1, 2, 3 and 10 steps from the 16-byte base_key", ["SK-01"],
                      ["RatchetChain"])
        for steps in (0, 1, 2, 3, 10):
            s.step("ratchet_derive", suite=suite, base_key=BASE_KEY, steps=steps,
                   expect={"base_key": sframe_py.ratchet_forward(get_suite(suite), BASE_KEY, steps)})
        yield s

        s = _Scenario(f"gen/keys/ratchet/suite-{suite}/receive-in-order",
                      "a receiver at step 0 (R=4, generation 2) decrypts steps 0 to 3 in order",
                      ["SK-03", "SK-01", "SK-02"], ["RatchetWindow"])
        rx = s.new("ratchet_receiver_new", suite=suite, base_key=BASE_KEY, generation=2, ratchet_bits=4)
        for step in range(4):
            s.step("context_decrypt", ctx=rx, metadata=RATCHET_MD, ciphertext=_ratchet_frame(suite, 2, 4, step),
                   expect={"plaintext": PLAINTEXT + bytes([step]), "kid": 0x20 + step, "ctr": 0})
        yield s

        s = _Scenario(f"gen/keys/ratchet/suite-{suite}/sender",
                      "a sender (R=8, generation 1) encrypts at KID 0x100, ratchets to 0x101 and 0x102, "
                      "its CTR restarting at 0", ["SK-02", "SK-01", "ENC-05"], ["RatchetKidLayout"])
        tx = s.new("ratchet_sender_new", suite=suite, base_key=BASE_KEY, generation=1, ratchet_bits=8)
        for step in range(3):
            if step:
                s.step("ratchet_advance", ctx=tx, expect={"kid": 0x100 + step, "step": step})
            for ctr in range(2):
                s.step("context_encrypt", ctx=tx, metadata=RATCHET_MD, plaintext=PLAINTEXT + bytes([step]),
                       expect={"ctr": ctr, "ciphertext": _ratchet_frame(suite, 1, 8, step, ctr)})
        yield s

    def layout(name: str, comment: str, generation: int, bits: int, kids: list[int], flags: list[str]) -> _Scenario:
        s = _Scenario(f"gen/keys/ratchet/kid-layout/{name}", comment, ["SK-02"], ["RatchetKidLayout", *flags])
        tx = _ref(s.step("ratchet_sender_new", suite=4, base_key=BASE_KEY, generation=generation, ratchet_bits=bits,
                         expect={"kid": kids[0]}))
        for step, kid in enumerate(kids[1:], 1):
            s.step("ratchet_advance", ctx=tx, expect={"kid": kid, "step": step})
        last_key = sframe_py.ratchet_forward(get_suite(4), BASE_KEY, len(kids) - 1)
        s.step("context_encrypt", ctx=tx, metadata=RATCHET_MD, plaintext=PLAINTEXT,
               expect={"ciphertext": _frame(4, last_key, kids[-1], 0, PLAINTEXT, RATCHET_MD)})
        return s

    yield layout("r8-gen1", "R=8, generation 1: steps 0-3 are KIDs 0x100-0x103 (header 90 0103 at CTR 0)", 1, 8,
                 [0x100, 0x101, 0x102, 0x103], [])
    yield layout("r1-wraps", "R=1, generation 5: the step field wraps, KIDs 10, 11, 10, 11", 5, 1, [10, 11, 10, 11], [])
    yield layout("r2-wraps", "R=2, generation 0: KIDs 0, 1, 2, 3, 0 (step 4 reuses step 0's KID with a new key)",
                 0, 2, [0, 1, 2, 3, 0], ["InlineBoundary"])
    yield layout("r63", "R=63, generation 1: KIDs 2^63 and 2^63+1", 1, 63, [2**63, 2**63 + 1], ["SignedInt64"])
    yield layout("64-bit", "R=8, generation 2^56-1: KIDs 0xffffffffffffff00 and ...01, all 64 bits used",
                 2**56 - 1, 8, [U64_MAX - 0xFF, U64_MAX - 0xFE], ["KidTruncation"])
    for name, generation, bits in (("gen-2^56-r8", 2**56, 8), ("gen-2-r63", 2, 63), ("r0", 1, 0), ("r64", 0, 64)):
        s = _Scenario(f"gen/keys/ratchet/kid-layout/invalid-{name}",
                      f"generation {generation} with R={bits} does not give a 64-bit KID layout: refused",
                      ["SK-02"], ["RatchetKidLayout", "FieldOverflow"])
        s.step("ratchet_sender_new", suite=4, base_key=BASE_KEY, generation=generation, ratchet_bits=bits,
               errors=("invalid_argument",))
        yield s

    s = _Scenario("gen/keys/ratchet/sender-old-kid", "after ratchet_advance the previous step's KID no longer "
                  "encrypts", ["SK-02", "ENC-07"], ["RatchetKidLayout"])
    tx = s.new("ratchet_sender_new", suite=4, base_key=BASE_KEY, generation=1, ratchet_bits=8)
    s.step("context_encrypt", ctx=tx, kid=0x100, metadata=RATCHET_MD, plaintext=PLAINTEXT, expect={"ctr": 0})
    s.step("ratchet_advance", ctx=tx, expect={"kid": 0x101})
    s.step("context_encrypt", ctx=tx, kid=0x100, metadata=RATCHET_MD, plaintext=PLAINTEXT, errors=("unknown_kid",))
    s.step("context_encrypt", ctx=tx, kid=0x101, metadata=RATCHET_MD, plaintext=PLAINTEXT, expect={"ctr": 0})
    yield s

    def window(name: str, comment: str, bits: int, script: list[tuple[int, int, str | None]], reqs: list[str],
               flags: list[str] = (), start: int = 0) -> _Scenario:
        """``script``: (step, ctr, error or None) frames the receiver gets, in order; FORGED as the
        error means a forged frame with that step's KID, which must fail authentication."""
        s = _Scenario(f"gen/keys/ratchet/window/{name}", comment, reqs, ["RatchetWindow", *flags])
        rx = s.new("ratchet_receiver_new", suite=4, base_key=sframe_py.ratchet_forward(get_suite(4), BASE_KEY, start),
                   generation=3, ratchet_bits=bits, **({"step": start} if start else {}))
        for step, ctr, error in script:
            if error == FORGED:
                frame, error = _forged(4, (3 << bits) + step % (1 << bits), ctr), "auth_failed"
            else:
                frame = _ratchet_frame(4, 3, bits, step, ctr)
            if error:
                s.step("context_decrypt", ctx=rx, metadata=RATCHET_MD, ciphertext=frame, errors=(error,))
            else:
                s.step("context_decrypt", ctx=rx, metadata=RATCHET_MD, ciphertext=frame,
                       expect={"plaintext": PLAINTEXT + bytes([step])})
        return s

    yield window("r2-reorder", "R=2 (W=2): steps 2, 1, 3, 2 decrypt; then step 1, dropped when step 3 arrived, fails",
                 2, [(2, 0, None), (1, 0, None), (3, 0, None), (2, 1, None), (1, 1, "auth_failed")], ["SK-03", "SK-04"])
    yield window("r3-reorder", "R=3 (W=4): steps 3, 1, 2, 0, then 7 (4 ahead), 4, 5, 6 decrypt; step 3 then fails",
                 3, [(3, 0, None), (1, 0, None), (2, 0, None), (0, 0, None), (7, 0, None), (4, 0, None),
                     (5, 0, None), (6, 0, None), (3, 1, "auth_failed")], ["SK-03", "SK-04"])
    yield window("beyond-window", "R=2 at step 0: step 4 carries step 0's KID field, so it is taken as step 0 and "
                 "fails; step 0 still decrypts", 2, [(4, 0, "auth_failed"), (0, 0, None)], ["SK-04"])
    yield window("fresh-receiver-jump", "R=2 at step 0, nothing older kept: step 3 (3 ahead) decrypts, then step 2",
                 2, [(3, 0, None), (2, 0, None), (1, 0, "auth_failed")], ["SK-03", "SK-04"])
    yield window("forged-does-not-move", "R=2 at step 0: a forged step-2 frame fails and keeps step 0 alive",
                 2, [(2, 0, FORGED), (0, 0, None), (1, 0, None)], ["SK-03"], ["ForgedFrame"])
    yield window("start-at-step", "a receiver created at step 5 (R=4) decrypts steps 5 and 6; step 4, never held, "
                 "fails", 4, [(5, 0, None), (6, 0, None), (4, 0, "auth_failed")], ["SK-03"], start=5)
    s = _Scenario("gen/keys/ratchet/window/other-generation",
                  "a frame from generation 4 is unknown to a generation-3 receiver", ["SK-02", "DEC-02"],
                  ["RatchetWindow", "UnknownKid"])
    rx = s.new("ratchet_receiver_new", suite=4, base_key=BASE_KEY, generation=3, ratchet_bits=4)
    s.step("context_decrypt", ctx=rx, metadata=RATCHET_MD, ciphertext=_ratchet_frame(4, 4, 4, 0),
           errors=("unknown_kid",))
    yield s


# The RFC 9420 key-schedule vectors' exporter secrets (MLS suite 1) stand in for a real group's epochs.
MLS_KEY_SCHEDULE = MLS_VECTORS / "mls-key-schedule.json"


def _mls_secret(index: int, suite: int) -> bytes:
    epochs = json.loads(MLS_KEY_SCHEDULE.read_text())[0]["epochs"]
    return sframe_base_key(1, bytes.fromhex(epochs[index % len(epochs)]["exporter_secret"]), suite)


def _mls_kid(epoch: int, index: int, context_id: int, e: int, s: int) -> int:
    return (context_id << (s + e)) + (index << e) + epoch % (1 << e)


def _mls_scenarios() -> Iterator[_Scenario]:
    """§5.2: exporter keys (MLS-01), KID layout (MLS-02), eviction (MLS-03), rewrite (MLS-04), counters (MLS-05)."""
    md, hello = b"", b"hello"

    def member(s: _Scenario, epochs: dict[int, int], e: int = 4, bits: int = 6, suite: int = 4,
               **extra: Any) -> _WireRef:
        ctx = s.new("mls_context_new", suite=suite, epoch_bits=e, sender_bits=bits, **extra)
        for epoch, index in epochs.items():
            s.step("mls_add_epoch", ctx=ctx, epoch=epoch, epoch_secret=_mls_secret(index, suite))
        return ctx

    def send(s: _Scenario, ctx: _WireRef, epoch: int, index: int, context_id: int = 0,
             errors: tuple[str, ...] = (), **expect: Any) -> int:
        return s.step("mls_encrypt", ctx=ctx, epoch=epoch, sender_index=index, context_id=context_id, metadata=md,
                      plaintext=hello, errors=errors, expect=expect)

    for suite in SUITES:
        s = _Scenario(f"gen/keys/mls/suite-{suite}/round-trip",
                      "E=4, S=6: member 3 sends in epoch 14 with the exporter's base_key (RFC 9420 vector, "
                      "Nk bytes); another member decrypts", ["MLS-01", "MLS-02"], ["MlsKidLayout"])
        alice, bob = member(s, {14: 0}, suite=suite), member(s, {14: 0}, suite=suite)
        expect: dict[str, Any] = {"kid": 0x3E, "ctr": 0}
        if suite == 4:  # the requirements list's worked example
            expect["ciphertext"] = bytes.fromhex("803e1980178d8fb2689cc65ef16d73c1ed80a5988a5c59")
        sent = send(s, alice, 14, 3, **expect)
        s.step("mls_decrypt", ctx=bob, metadata=md, ciphertext=_ref(sent, "ciphertext"),
               expect={"plaintext": hello, "epoch": 14, "sender_index": 3, "context_id": 0})
        yield s

    # RFC 9605 §5.2 figure, E=4 and S=6: (epoch, sender index, context) -> KID.
    for epoch, index, context_id, kid in ((14, 3, 0, 0x3E), (14, 7, 0, 0x7E), (14, 20, 0, 0x14E), (15, 3, 0, 0x3F),
                                          (15, 5, 0, 0x5F), (16, 2, 2, 0x820), (16, 2, 3, 0xC20), (17, 33, 0, 0x211),
                                          (17, 51, 0, 0x331)):
        s = _Scenario(f"gen/keys/mls/kid-layout/figure-{kid:#x}",
                      f"RFC 9605 figure: epoch {epoch}, sender {index}, context {context_id} is KID {kid:#x}",
                      ["MLS-02"], ["MlsKidLayout"])
        alice, bob = member(s, {epoch: epoch - 14}), member(s, {epoch: epoch - 14})
        sent = send(s, alice, epoch, index, context_id, kid=kid, ctr=0)
        s.step("mls_decrypt", ctx=bob, metadata=md, ciphertext=_ref(sent, "ciphertext"),
               expect={"epoch": epoch, "sender_index": index, "context_id": context_id})
        yield s

    def layout(name: str, comment: str, e: int, bits: int, epoch: int, index: int, context_id: int,
               flags: list[str]) -> _Scenario:
        s = _Scenario(f"gen/keys/mls/kid-layout/{name}", comment, ["MLS-02"], ["MlsKidLayout", *flags])
        alice, bob = member(s, {epoch: 1}, e, bits), member(s, {epoch: 1}, e, bits)
        sent = send(s, alice, epoch, index, context_id, kid=_mls_kid(epoch, index, context_id, e, bits))
        s.step("mls_decrypt", ctx=bob, metadata=md, ciphertext=_ref(sent, "ciphertext"),
               expect={"epoch": epoch, "sender_index": index, "context_id": context_id})
        return s

    yield layout("s24-e8-max", "S=24, E=8: sender 2^24-1, epoch 255, context 2^32-1 is KID 2^64-1", 8, 24, 255,
                 2**24 - 1, 2**32 - 1, ["LargeGroup", "MaxValue"])
    yield layout("s24-e8-epoch-high-bits", "S=24, E=8: epoch 0x1ff is carried as 0xff; the receiver reports the "
                 "installed epoch 0x1ff", 8, 24, 0x1FF, 0x123456, 0, ["LargeGroup"])
    yield layout("s24-e8-context", "S=24, E=8: context 0xabcdef above sender 0xfedcba", 8, 24, 7, 0xFEDCBA, 0xABCDEF,
                 ["LargeGroup", "KidTruncation"])
    yield layout("s20-e4", "S=20, E=4: a million members", 4, 20, 9, 2**20 - 1, 5, ["LargeGroup"])
    yield layout("e-plus-s-64", "E=32, S=32: the KID has no context bits", 32, 32, 2**32 - 1, 2**32 - 1, 0,
                 ["LargeGroup", "MaxValue"])
    yield layout("e64", "E=64, S=0: the KID is the epoch", 64, 0, U64_MAX, 0, 0, ["MaxValue"])
    yield layout("e0-s0", "E=0, S=0: the KID is the context", 0, 0, 5, 0, 2**63, ["SignedInt64"])

    def overflow(name: str, comment: str, e: int, bits: int, epoch: int, index: int, context_id: int,
                 reqs: list[str] = ["MLS-02"]) -> _Scenario:
        s = _Scenario(f"gen/keys/mls/overflow/{name}", comment, reqs, ["MlsKidLayout", "FieldOverflow"])
        ctx = member(s, {epoch: 0}, e, bits)
        send(s, ctx, epoch, index, context_id, errors=("invalid_argument",))
        return s

    yield overflow("sender-index", "E=4, S=6: sender index 64 needs 7 bits", 4, 6, 14, 64, 0)
    yield overflow("sender-index-s24", "S=24, E=8: sender index 2^24", 8, 24, 1, 2**24, 0, ["MLS-02"])
    yield overflow("context-id", "E=4, S=6: context 2^54 pushes the KID past 64 bits", 4, 6, 14, 3, 2**54)
    yield overflow("context-id-s24-e8", "S=24, E=8: context 2^32", 8, 24, 1, 0, 2**32)
    yield overflow("context-id-full-width", "E=32, S=32: any context but 0 overflows", 32, 32, 1, 0, 1)
    for e, bits in ((33, 32), (65, 0), (0, 65)):
        s = _Scenario(f"gen/keys/mls/overflow/bits-e{e}-s{bits}", f"E={e}, S={bits}: more than 64 bits",
                      ["MLS-02"], ["MlsKidLayout", "FieldOverflow"])
        s.step("mls_context_new", suite=4, epoch_bits=e, sender_bits=bits, errors=("invalid_argument",))
        yield s

    s = _Scenario("gen/keys/mls/evict/old-epoch-refused",
                  "E=2: adding epoch 5 evicts epoch 1; epoch 1 neither encrypts nor can be removed", ["MLS-03"],
                  ["EpochEviction"])
    ctx = member(s, {1: 0, 5: 1}, e=2)
    send(s, ctx, 1, 3, errors=("unknown_kid",))
    s.step("mls_remove_epoch", ctx=ctx, epoch=1, errors=("unknown_kid",))
    send(s, ctx, 5, 3, kid=(3 << 2) + 1, ctr=0)
    yield s

    s = _Scenario("gen/keys/mls/evict/old-epoch-frame-fails",
                  "E=2: an epoch-1 frame decrypts, then fails once epoch 5 has evicted epoch 1; epoch 5 decrypts",
                  ["MLS-03"], ["EpochEviction"])
    bob = member(s, {1: 0}, e=2)
    kid = _mls_kid(1, 3, 0, 2, 6)
    old = [_frame(4, _mls_secret(0, 4), kid, ctr, hello, md) for ctr in range(2)]
    s.step("mls_decrypt", ctx=bob, metadata=md, ciphertext=old[0], expect={"plaintext": hello, "epoch": 1})
    s.step("mls_add_epoch", ctx=bob, epoch=5, epoch_secret=_mls_secret(1, 4))
    s.step("mls_decrypt", ctx=bob, metadata=md, ciphertext=old[1], errors=("auth_failed",))
    s.step("mls_decrypt", ctx=bob, metadata=md, ciphertext=_frame(4, _mls_secret(1, 4), kid, 0, hello, md),
           expect={"plaintext": hello, "epoch": 5})
    yield s

    s = _Scenario("gen/keys/mls/evict/only-same-low-bits",
                  "E=2: epochs 1-4 coexist (2^E of them); epoch 5 evicts 1 only", ["MLS-03", "MLS-06"],
                  ["EpochEviction"])
    ctx = member(s, {1: 0, 2: 1, 3: 2, 4: 3}, e=2)
    for epoch in (1, 2, 3, 4):
        send(s, ctx, epoch, 0, kid=epoch % 4, ctr=0)
    s.step("mls_add_epoch", ctx=ctx, epoch=5, epoch_secret=_mls_secret(4, 4))
    send(s, ctx, 1, 0, errors=("unknown_kid",))
    for epoch in (2, 3, 4):
        send(s, ctx, epoch, 0, kid=epoch % 4, ctr=1)
    yield s

    s = _Scenario("gen/keys/mls/evict/e8", "E=8: epoch 259 evicts epoch 3", ["MLS-03"], ["EpochEviction"])
    ctx = member(s, {3: 0, 259: 1}, e=8, bits=8)
    send(s, ctx, 3, 1, errors=("unknown_kid",))
    send(s, ctx, 259, 1, kid=0x103, ctr=0)
    yield s

    s = _Scenario("gen/keys/mls/evict/e0", "E=0: only one epoch at a time; epoch 8 evicts epoch 7", ["MLS-03"],
                  ["EpochEviction"])
    ctx = member(s, {7: 0, 8: 1}, e=0, bits=6)
    send(s, ctx, 7, 1, errors=("unknown_kid",))
    send(s, ctx, 8, 1, kid=1, ctr=0)
    yield s

    s = _Scenario("gen/keys/mls/evict/counter-restarts",
                  "E=2: epoch 5 replaces epoch 1 under the same KIDs, with a new key and a counter from 0",
                  ["MLS-03", "MLS-05"], ["EpochEviction", "CounterAdvance"])
    ctx = member(s, {1: 0}, e=2)
    kid = _mls_kid(1, 3, 0, 2, 6)
    send(s, ctx, 1, 3, kid=kid, ctr=0)
    send(s, ctx, 1, 3, kid=kid, ctr=1)
    s.step("mls_add_epoch", ctx=ctx, epoch=5, epoch_secret=_mls_secret(1, 4))
    send(s, ctx, 5, 3, kid=kid, ctr=0, ciphertext=_frame(4, _mls_secret(1, 4), kid, 0, hello, md))
    yield s

    s = _Scenario("gen/keys/mls/remove-epoch", "a removed epoch neither encrypts nor decrypts", ["MLS-03", "DEC-02"],
                  ["UnknownKid"])
    ctx = member(s, {14: 0})
    s.step("mls_remove_epoch", ctx=ctx, epoch=14)
    send(s, ctx, 14, 3, errors=("unknown_kid",))
    s.step("mls_decrypt", ctx=ctx, metadata=md, ciphertext=_frame(4, _mls_secret(0, 4), 0x3E, 0, hello, md),
           errors=("unknown_kid",))
    s.step("mls_remove_epoch", ctx=ctx, epoch=14, errors=("unknown_kid",))
    yield s

    s = _Scenario("gen/keys/mls/unknown-epoch", "an epoch never added neither encrypts nor decrypts",
                  ["ENC-07", "DEC-02"], ["UnknownKid"])
    ctx = member(s, {14: 0})
    send(s, ctx, 15, 3, errors=("unknown_kid",))
    s.step("mls_decrypt", ctx=ctx, metadata=md, ciphertext=_frame(4, _mls_secret(1, 4), 0x3F, 0, hello, md),
           errors=("unknown_kid",))
    yield s

    frame = _frame(4, _mls_secret(0, 4), 0x3E, 7, hello, md)  # epoch 14, sender 3, context 0, E=4, S=6
    for name, kid, comment, error in (
        ("sender-index", 0x5E, "to sender 5", "auth_failed"),
        ("context-id", 0x43E, "to context 1", "auth_failed"),
        ("epoch-installed", 0x3F, "to epoch 15, which is installed", "auth_failed"),
        ("epoch-not-installed", 0x3D, "to epoch 13, which is not installed", "unknown_kid"),
    ):
        s = _Scenario(f"gen/keys/mls/rewrite/{name}", f"member 3's frame with its KID rewritten {comment} fails; "
                      "the genuine frame still decrypts", ["MLS-04", "KDF-06"], ["KidRewrite"])
        bob = member(s, {14: 0, 15: 1})
        s.step("mls_decrypt", ctx=bob, metadata=md, ciphertext=_rewrite_kid(frame, kid), errors=(error,))
        s.step("mls_decrypt", ctx=bob, metadata=md, ciphertext=frame,
               expect={"plaintext": hello, "epoch": 14, "sender_index": 3, "context_id": 0})
        yield s

    s = _Scenario("gen/keys/mls/counter-per-context-id",
                  "one member's contexts 0 and 1 (two streams) and another sender index count from 0 independently",
                  ["MLS-05", "ENC-04"], ["CounterAdvance"])
    ctx = member(s, {14: 0})
    for index, context_id, ctr in ((3, 0, 0), (3, 1, 0), (3, 0, 1), (4, 0, 0), (3, 1, 1), (3, 0, 2)):
        send(s, ctx, 14, index, context_id, kid=_mls_kid(14, index, context_id, 4, 6), ctr=ctr)
    yield s

    s = _Scenario("gen/keys/mls/two-members", "members 0 and 1 each send in epoch 14 and decrypt the other",
                  ["MLS-04", "MLS-05"], ["MlsKidLayout"])
    alice, bob = member(s, {14: 0}), member(s, {14: 0})
    for sender, receiver, index in ((alice, bob, 0), (bob, alice, 1), (alice, bob, 0)):
        sent = send(s, sender, 14, index)
        s.step("mls_decrypt", ctx=receiver, metadata=md, ciphertext=_ref(sent, "ciphertext"),
               expect={"plaintext": hello, "sender_index": index})
    yield s


def _replay_scenarios(p: _Profile = RFC_PROFILE) -> Iterator[_Scenario]:
    """§9.3 receiver anti-replay (REPLAY-02, a MAY): a CTR window per receive KID."""
    root, n = f"gen/keys/replay{p.name}", p.window

    def scenario(name: str, comment: str, window: int | None, script: list[tuple[int, int, str | None]],
                 flags: list[str] = ()) -> _Scenario:
        """``script``: (kid, ctr, error or None); FORGED as the error is a forged frame (auth_failed)."""
        s = p.scenario(f"{root}/{name}", comment, ["REPLAY-02"], ["ReplayWindow", *flags])
        ctx = s.new("context_new", suite=p.suite, **({} if window is None else {"replay_window": window}))
        for kid in sorted({k for k, _, _ in script}):
            s.step("context_add_key", ctx=ctx, kid=kid, base_key=BASE_KEY, usage="recv")
        frames: dict[tuple[int, int, bytes], _WireRef] = {}  # draft: a duplicate is the same frame
        for kid, ctr, error in script:
            if error == FORGED:
                error = "auth_failed"
                frame = (p.received(s, kid, ctr, key=DRAFT_FORGED_KEY, cache=frames) if p.draft
                         else _forged(p.suite, kid, ctr))
            else:
                frame = p.received(s, kid, ctr, cache=frames)
            if error:
                s.step("context_decrypt", ctx=ctx, metadata=p.metadata, ciphertext=frame, errors=(error,))
            else:
                s.step("context_decrypt", ctx=ctx, metadata=p.metadata, ciphertext=frame,
                       expect={"plaintext": PLAINTEXT, "ctr": ctr})
        return s

    far = 25 * n  # far enough above the frames that follow for a moved window to refuse them
    recheck = [] if p.draft else [(1, 3, "replay")]
    yield scenario("off-duplicates-accepted", "without replay_window a duplicate decrypts every time", None,
                   [(1, 0, None), (1, 0, None), (1, 0, None)])
    yield scenario("duplicate-rejected", f"N={n}: the same frame twice", n, [(1, 0, None), (1, 0, "replay")])
    yield scenario("in-window-reorder", f"N={n}: CTRs 5, 3, 4, 2 all decrypt; 3 again is a replay", n,
                   [(1, 5, None), (1, 3, None), (1, 4, None), (1, 2, None), (1, 3, "replay")])
    yield scenario("too-old", f"N={n}: after CTR {n + 1}, CTR 1 ({n} behind) is too old; CTR 2 ({n - 1} behind) "
                   "decrypts", n, [(1, n + 1, None), (1, 1, "replay"), (1, 2, None)])
    yield scenario("forged-does-not-move", f"N={n}: forged frames at CTR {far} and 3 fail authentication and change "
                   f"nothing: genuine CTR 2 and 3 then decrypt{'' if p.draft else ' once'}", n,
                   [(1, far, FORGED), (1, 2, None), (1, 3, FORGED), (1, 3, None), *recheck], ["ForgedFrame"])
    if not p.draft:
        yield scenario("window-1", "N=1: only CTRs above the highest pass", 1,
                       [(1, 3, None), (1, 2, "replay"), (1, 3, "replay"), (1, 4, None)])
    size = n if p.draft else 64  # the RFC profile checks a mid-size window, the draft profile its fixed one
    top = size + 36
    yield scenario(f"window-{size}", f"N={size}: {size} behind is too old, {size - 1} behind decrypts; a jump of "
                   f"{size} clears the bitmap", size,
                   [(1, top, None), (1, top - size, "replay"), (1, top - size + 1, None), (1, top - size + 1, "replay"),
                    (1, top + size, None), (1, top + 1, None), (1, top, "replay")])
    if not p.draft:
        yield scenario("max-ctr", "N=4 at CTR 2^64-1: no overflow in the window arithmetic", 4,
                       [(1, U64_MAX, None), (1, U64_MAX - 2, None), (1, U64_MAX, "replay"),
                        (1, U64_MAX - 4, "replay"), (1, U64_MAX - 3, None)], ["MaxValue"])
    yield scenario("per-kid", f"N={n}: each KID has its own window", n,
                   [(1, far, None), (2, 0, None), (1, 0, "replay"), *([] if p.draft else [(2, 0, "replay")])])
    if p.draft:
        # Tell a window that is off by one from no window at all, and a window from one that cannot be turned off.
        yield scenario("far-too-old", f"N={n}: after CTR {n + 2}, CTR 1 ({n + 1} behind) is too old; CTR 3 "
                       f"({n - 1} behind) decrypts", n, [(1, n + 2, None), (1, 1, "replay"), (1, 3, None)])
        yield scenario("off-old-accepted", f"without replay_window a CTR {far} below the highest decrypts", None,
                       [(1, far, None), (1, 0, None)])
        return
    s = _Scenario("gen/keys/replay/bad-size", "replay_window 0 is refused", ["REPLAY-02"], ["ReplayWindow"])
    s.step("context_new", suite=4, replay_window=0, errors=("invalid_argument",))
    yield s
    s = _Scenario("gen/keys/replay/mls", "N=4 on an MLS context: a duplicate frame is a replay", ["REPLAY-02"],
                  ["ReplayWindow"])
    ctx = s.new("mls_context_new", suite=4, epoch_bits=4, sender_bits=6, replay_window=4)
    s.step("mls_add_epoch", ctx=ctx, epoch=14, epoch_secret=_mls_secret(0, 4))
    frame = _frame(4, _mls_secret(0, 4), 0x3E, 0, b"hello", b"")
    s.step("mls_decrypt", ctx=ctx, metadata=b"", ciphertext=frame, expect={"plaintext": b"hello"})
    s.step("mls_decrypt", ctx=ctx, metadata=b"", ciphertext=frame, errors=("replay",))
    yield s


def key_management_groups(new_reference: Callable[[], Reference]) -> list[_Group]:
    g = _Group("KeyManagementScenario", None)
    for scenarios in (_context_scenarios, _ratchet_scenarios, _mls_scenarios, _replay_scenarios):
        g.tests.extend(s.record(new_reference()) for s in scenarios())
    # Appended so the RFC profile's tcIds stay as they were.
    for scenarios in (_context_scenarios, _replay_scenarios):
        g.tests.extend(s.record(new_reference()) for s in scenarios(DRAFT_PROFILE))
    return [g]


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


def documents(new_reference: Callable[[], Reference]) -> dict[str, dict[str, Any]]:
    return {
        "sframe-roundtrip.json": _document([roundtrip_group(s) for s in SUITES],
                                           "Encrypt then decrypt at KID/CTR boundaries, frame sizes and base_key lengths"),
        "sframe-decrypt.json": _document([decrypt_group(s) for s in SUITES],
                                         "Tampered, truncated, re-encoded and misdirected frames that must not decrypt"),
        "sframe-invalid-input.json": _document(invalid_input_groups(),
                                               "Unassigned suites and out-of-range values an implementation must refuse"),
        "header.json": _document(header_groups(), "Header encoding and parsing, every config byte, malformed input"),
        "key-management.json": _document(key_management_groups(new_reference), "Stateful scenarios: counters, key usage, "
                                         "sender-key ratchet, MLS epochs, replay window"),
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1) + "\n"


def write(new_reference: Callable[[], Reference], directory: Path = GENERATED_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, doc in documents(new_reference).items():
        path = directory / name
        path.write_text(render(doc))
        paths.append(path)
    return paths


def stale(new_reference: Callable[[], Reference], directory: Path = GENERATED_DIR) -> list[str]:
    """Names of checked-in files that differ from a fresh generation."""
    return [name for name, doc in documents(new_reference).items()
            if not (directory / name).exists() or (directory / name).read_text() != render(doc)]
