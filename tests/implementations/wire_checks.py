"""Checks of the bench and timing ops and of binary-v1 framing, shared by the native shims' tests.

Each check compares an implementation with the reference (``PythonAdapter``) or with itself
over the other framing, so a shim that skips work, answers the wrong frame or grades
differently under binary-v1 fails here.
"""

from __future__ import annotations

import os
import random

from harness.adapters.base import Adapter
from harness.adapters.inprocess import PythonAdapter
from harness.adapters.subprocess import SubprocessAdapter
from harness.catalogue import all_cases
from harness.engine.runner import run
from harness.model.grading import Grade
from harness.model.wire import Request

BASE_KEY = bytes(range(16))
KID = 0x123
MODES = ("encrypt", "decrypt", "encrypt_derive", "decrypt_derive", "aead")


def _reference(request: Request) -> dict[str, object]:
    response = PythonAdapter().call(request)
    assert response.ok, response.message
    return response.fields


def expected_bench_output(mode: str, suite: int, metadata: bytes, plaintext: bytes, count: int) -> tuple[str, bytes]:
    """What ``bench`` must return: the frame at CTR count-1, the plaintext, or the raw seal with nonce count-1."""
    if mode.startswith("decrypt"):
        return "plaintext", plaintext
    if mode == "aead":
        key = _reference(Request("derive", {"suite": suite, "base_key": BASE_KEY, "kid": KID}))["key"]
        return "ciphertext", _reference(Request("aead_encrypt", {
            "suite": suite, "key": key, "nonce": (count - 1).to_bytes(12, "big"), "aad": metadata,
            "plaintext": plaintext}))["ciphertext"]  # type: ignore[return-value]
    return "ciphertext", _reference(Request("encrypt", {
        "suite": suite, "base_key": BASE_KEY, "kid": KID, "ctr": count - 1, "metadata": metadata,
        "plaintext": plaintext}))["ciphertext"]  # type: ignore[return-value]


def check_bench(adapter: Adapter, suites: tuple[int, ...], aead_suites: tuple[int, ...],
                metadata: bytes = b"IETF SFrame WG", coarse_clock: bool = False) -> int:
    """Every mode, suite and a few sizes (the 80-byte one with ``metadata``) equal the reference;
    returns the cells checked. ``coarse_clock``: a loop this short may read 0 ns (a browser's
    performance.now() ticks every 100 us)."""
    checked = 0
    for suite in suites:
        for size, md in ((0, b""), (80, metadata), (1200, b"")):
            plaintext, count = os.urandom(size), 7
            for mode in MODES:
                response = adapter.call(Request("bench", {
                    "suite": suite, "base_key": BASE_KEY, "kid": KID, "metadata": md, "plaintext": plaintext,
                    "count": count, "mode": mode}))
                if mode == "aead" and suite not in aead_suites:
                    assert not response.ok and response.error == "unsupported", (suite, response)
                    continue
                assert response.ok, (mode, suite, size, response.error, response.message)
                name, want = expected_bench_output(mode, suite, md, plaintext, count)
                assert response.fields[name] == want, (mode, suite, size)
                assert response.fields["count"] == count
                assert isinstance(response.fields["elapsed_ns"], int)
                assert response.fields["elapsed_ns"] >= (0 if coarse_clock else 1)
                checked += 1
    bad = adapter.call(Request("bench", {"suite": suites[0], "base_key": BASE_KEY, "kid": KID, "metadata": b"",
                                         "plaintext": b"", "count": 0, "mode": "encrypt"}))
    assert not bad.ok and bad.error == "invalid_argument"
    return checked


def forged_pair(suite: int) -> tuple[bytes, bytes, bytes]:
    """A genuine frame, and two forgeries: tag wrong in its first byte, and in its last."""
    frame = _reference(Request("encrypt", {"suite": suite, "base_key": BASE_KEY, "kid": KID, "ctr": 9,
                                           "metadata": b"", "plaintext": bytes(64)}))["ciphertext"]
    assert isinstance(frame, bytes)
    from sframe_py import get_suite

    a, b = bytearray(frame), bytearray(frame)
    a[len(frame) - get_suite(suite).nt] ^= 1
    b[-1] ^= 1
    return frame, bytes(a), bytes(b)


def check_timing(adapter: Adapter, suite: int) -> str:
    """One duration per schedule byte; a genuine frame or a bad schedule byte is refused. Returns the clock."""
    frame, a, b = forged_pair(suite)
    rng = random.Random(suite)
    schedule = bytes(rng.choice((0, 1)) for _ in range(1000))
    assert 0 in schedule and 1 in schedule

    def timing(ciphertext_a: bytes, sched: bytes) -> object:
        return adapter.call(Request("timing", {"suite": suite, "base_key": BASE_KEY, "kid": KID, "metadata": b"",
                                               "ciphertext_a": ciphertext_a, "ciphertext_b": b, "schedule": sched}))

    response = timing(a, schedule)
    assert response.ok, response.message  # type: ignore[attr-defined]
    timings = response.fields["timings"]  # type: ignore[attr-defined]
    assert isinstance(timings, bytes) and len(timings) == 8 * len(schedule)
    assert any(timings), "every duration is zero"
    for refused in (timing(frame, schedule), timing(a, b"\x00\x02")):
        assert not refused.ok and refused.error == "invalid_argument"  # type: ignore[attr-defined]
    return str(response.fields["clock"])  # type: ignore[attr-defined]


def grades_by_framing(argv: list[str]) -> dict[str, dict[str, Grade]]:
    """The whole catalogue over JSON lines and over binary-v1 (the shim must negotiate it)."""
    out: dict[str, dict[str, Grade]] = {}
    cases = all_cases()
    for framings in ((), ("binary-v1",)):
        adapter = SubprocessAdapter(argv, framings=framings)
        try:
            assert adapter.framing == (framings[0] if framings else "json-lines")
            result = run(adapter, cases)
            assert result.restarts == 0
            out[adapter.framing] = {o.case.id: o.grade for o in result.outcomes}
        finally:
            adapter.close()
    return out
