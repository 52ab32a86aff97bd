"""atheris target: frame decryption in every suite, with receive keys for several KIDs.

Input: [suite selector][metadata length][metadata][ciphertext...]. A receiver
Context per suite holds keys for the KIDs the vectors use (and one with a
different base key), so seeds built from vectors/ decrypt and mutations start
from valid frames.
Invariants:
- only typed sframe_py errors (SFrameError subclasses) escape;
- plaintext is released only for an authentic frame: sealing the returned
  plaintext again under the frame's header must give back exactly the input
  (AEAD encryption is deterministic, so anything else was tampered with).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from sframe_py import SUITES, Context, FrameKey, SFrameError, get_suite, parse_header

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
SUITE_IDS = tuple(sorted(SUITES))
MAX_METADATA = 32
VECTOR_KEY = bytes(range(16))  # the base key of every RFC and generated vector
KIDS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 255, 256, 291, 292, 17767, 65535, 65536,
        2**32 - 1, 2**32, 2**32 + 1, 2**63 - 1, 2**63, 2**64 - 1)
KEYS = {**{kid: VECTOR_KEY for kid in KIDS}, 9: bytes([0x42]) * 32}


def _receivers() -> dict[int, Context]:
    out = {}
    for suite in SUITE_IDS:
        ctx = Context(suite)
        for kid, key in KEYS.items():
            ctx.add_recv_key(kid, key)
        out[suite] = ctx
    return out


RECEIVERS = _receivers()
_FRAME_KEYS: dict[tuple[int, int], FrameKey] = {}


def split(data: bytes) -> tuple[int, bytes, bytes]:
    """(suite, metadata, ciphertext) from a fuzz input."""
    if len(data) < 2:
        return SUITE_IDS[0], b"", data
    size = data[1] % (MAX_METADATA + 1)
    return SUITE_IDS[data[0] % len(SUITE_IDS)], data[2 : 2 + size], data[2 + size :]


def join(suite: int, metadata: bytes, ciphertext: bytes) -> bytes:
    return bytes([SUITE_IDS.index(suite), len(metadata)]) + metadata + ciphertext


def authentic(suite: int, metadata: bytes, ciphertext: bytes, plaintext: bytes) -> bool:
    header = parse_header(ciphertext)
    key = _FRAME_KEYS.get((suite, header.kid))
    if key is None:
        key = _FRAME_KEYS[(suite, header.kid)] = FrameKey.derive(get_suite(suite), KEYS[header.kid], header.kid)
    resealed = key.aead.seal(key.nonce(header.ctr), header.encoded + metadata, plaintext)
    return header.encoded + resealed == ciphertext


def TestOneInput(data: bytes) -> None:
    suite, metadata, ciphertext = split(data)
    try:
        plaintext = RECEIVERS[suite].decrypt(metadata, ciphertext)
    except SFrameError:
        return
    if not authentic(suite, metadata, ciphertext, plaintext):
        raise AssertionError(f"suite {suite}: plaintext released for a frame that is not authentic: {ciphertext.hex()}")


def seeds() -> Iterator[bytes]:
    rfc = json.loads((VECTORS / "rfc9605" / "test-vectors.json").read_text())
    for v in rfc["sframe"]:
        if bytes.fromhex(v["base_key"]) == VECTOR_KEY:
            yield join(v["cipher_suite"], bytes.fromhex(v["metadata"]), bytes.fromhex(v["ct"]))
    for name in ("sframe-roundtrip.json", "sframe-decrypt.json"):
        for group in json.loads((VECTORS / "generated" / name).read_text())["testGroups"]:
            for t in group["tests"]:
                suite = t.get("decrypt_suite", group.get("suite"))
                metadata = bytes.fromhex(t.get("metadata", ""))
                if t.get("ciphertext") and suite in SUITES and len(metadata) <= MAX_METADATA:
                    yield join(suite, metadata, bytes.fromhex(t["ciphertext"]))


def to_case(data: bytes):  # -> harness.cases.Case
    from harness.model.cases import Case, Expected, Step
    from harness.model.requirements import Level
    from harness.model.wire import Request

    suite, metadata, ciphertext = split(data)
    try:
        kid = parse_header(ciphertext).kid
    except SFrameError:
        kid = None
    installed = kid if kid in KEYS else KIDS[0]
    request = Request("decrypt", {"suite": suite, "base_key": KEYS[installed], "kid": installed,
                                  "metadata": metadata, "ciphertext": ciphertext})
    try:
        plaintext = RECEIVERS[suite].decrypt(metadata, ciphertext)
        valid = authentic(suite, metadata, ciphertext, plaintext) and kid == installed
    except Exception:  # noqa: BLE001 - the finding may be exactly an untyped exception
        valid = False
    if valid:
        step, result = Step(request, True, {"plaintext": plaintext}), Expected.VALID
    else:
        step, result = Step(request, False, errors=("malformed", "auth_failed", "unknown_kid")), Expected.INVALID
    return Case(id=f"fuzz/decrypt/suite-{suite}/{ciphertext[:16].hex() or 'empty'}",
                title=f"decrypt, suite {suite} (atheris finding)", section="4.4.4", requirements=("DEC-03",),
                level=Level.MUST, result=result, steps=(step,), flags=("Fuzz",), source="fuzz/fuzz_decrypt.py")


def main() -> None:
    from harness.fuzz.libfuzzer import run_target

    run_target(TestOneInput)


if __name__ == "__main__":
    main()
