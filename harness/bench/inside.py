"""The inside-the-implementation table (issue 17 §1): the ``bench`` op.

Rules of this module:
- Every figure is the implementation's own loop timed by its own clock, so it is
  the library's speed, not the pipe's.
- Each figure sits beside the **physical limit measured in the same run**: the same
  implementation's ``aead`` mode, its crypto library's raw AEAD on the same sizes.
  The limit is measured again right before each mode, repeat by repeat, and each
  figure is the best of its repeats: load on this shared machine only ever slows a
  request down, so the fastest repeat is the closest to the code's own speed.
- Every returned ciphertext or plaintext is checked against the reference
  (``PythonAdapter``): a benchmark that skipped work, or got it wrong, raises
  ``BenchError`` naming the cell.
- ``count`` is calibrated so that one request takes about ``target_s``, far below
  the adapter's timeout.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..adapters.base import Adapter
from ..adapters.inprocess import PythonAdapter
from ..catalogue.inputs import BASE_KEY
from ..model.text import clip, one_line
from ..model.wire import Request, Response

MODES = ("encrypt", "decrypt", "encrypt_derive", "decrypt_derive")
LIMIT = "aead"
KID = 0x123
METADATA = b""
MAX_COUNT = 10**7
CALIBRATION_COUNT = 16


class BenchError(RuntimeError):
    """An implementation failed or answered wrongly during the benchmark (one line)."""


@dataclass(frozen=True)
class Row:
    implementation: str
    suite: int
    frame: str
    size: int
    mode: str
    frames_per_s: float  # best of the repeats
    mb_per_s: float
    limit_frames_per_s: float | None  # the same implementation's raw AEAD (aead mode), same size
    ratio_to_limit: float | None  # frames_per_s / limit_frames_per_s
    count: int  # frames per request


class _Cell:
    """One (implementation, suite, size): builds requests and checks answers against the reference."""

    def __init__(self, adapter: Adapter, reference: Adapter, suite: int, size: int) -> None:
        self.adapter, self.suite, self.size = adapter, suite, size
        self.plaintext = os.urandom(size)
        self.reference = reference
        derived = self._reference(Request("derive", {"suite": suite, "base_key": BASE_KEY, "kid": KID}))
        self.sframe_key = derived.fields["key"]

    def _reference(self, request: Request) -> Response:
        response = self.reference.call(request)
        if not response.ok:
            raise BenchError(f"reference failed {request.op}: {response.error}: {response.message}")
        return response

    def _expected(self, mode: str, count: int) -> tuple[str, bytes]:
        if mode in ("decrypt", "decrypt_derive"):
            return "plaintext", self.plaintext
        if mode == LIMIT:
            return "ciphertext", self._reference(Request("aead_encrypt", {
                "suite": self.suite, "key": self.sframe_key, "nonce": (count - 1).to_bytes(12, "big"),
                "aad": METADATA, "plaintext": self.plaintext})).fields["ciphertext"]
        return "ciphertext", self._reference(Request("encrypt", {
            "suite": self.suite, "base_key": BASE_KEY, "kid": KID, "ctr": count - 1, "metadata": METADATA,
            "plaintext": self.plaintext})).fields["ciphertext"]

    def elapsed_ns(self, mode: str, count: int) -> int | None:
        """The loop's duration of one request, checked; None when the mode is unsupported."""
        where = f"{self.adapter.name} bench {mode} suite {self.suite} {self.size} B"
        response = self.adapter.call(Request("bench", {
            "suite": self.suite, "base_key": BASE_KEY, "kid": KID, "metadata": METADATA,
            "plaintext": self.plaintext, "count": count, "mode": mode}))
        if not response.ok:
            if response.error == "unsupported":
                return None
            why = response.fault or f"{response.error}: {response.message}"
            raise BenchError(f"{where}: failed during the benchmark: {clip(one_line(why), 300)}")
        elapsed = response.fields.get("elapsed_ns")
        if isinstance(elapsed, bool) or not isinstance(elapsed, int) or elapsed < 0:
            raise BenchError(f"{where}: elapsed_ns must be an integer >= 0, got {clip(repr(elapsed), 40)}")
        if response.fields.get("count", count) != count:
            raise BenchError(f"{where}: answered count {clip(repr(response.fields.get('count')), 40)}, not {count}")
        name, want = self._expected(mode, count)
        if response.fields.get(name) != want:
            hint = (" (PROTOCOL.md: the key is the sframe_key derived from base_key and kid, nonce count-1)"
                    if mode == LIMIT else "")
            raise BenchError(f"{where}: the returned {name} is not the reference's{hint}")
        return elapsed

    def rate(self, mode: str, count: int) -> float:
        """Frames per second of one request (0 when unsupported); a loop too short for the
        implementation's clock to see counts as one nanosecond."""
        elapsed = self.elapsed_ns(mode, count)
        return 0.0 if elapsed is None else count * 1e9 / max(1, elapsed)

    def calibrate(self, mode: str, target_s: float) -> int | None:
        """The count for one request of about ``target_s``; None when unsupported. The count grows
        tenfold until the loop lasts a tenth of the target, so that a coarse clock sees it."""
        count = CALIBRATION_COUNT
        while True:
            elapsed = self.elapsed_ns(mode, count)
            if elapsed is None:
                return None
            if elapsed >= target_s * 1e8 or count >= MAX_COUNT:
                return max(1, min(MAX_COUNT, int(count * target_s * 1e9 / max(1, elapsed))))
            count = min(MAX_COUNT, count * 10)


def measure_cell(adapter: Adapter, reference: Adapter, suite: int, frame: str, size: int, repeats: int,
                 target_s: float) -> list[Row]:
    cell = _Cell(adapter, reference, suite, size)
    counts = {mode: cell.calibrate(mode, target_s) for mode in (LIMIT, *MODES)}
    modes = [m for m in MODES if counts[m] is not None]
    best: dict[str, float] = dict.fromkeys((LIMIT, *modes), 0.0)
    for _ in range(repeats):
        for m in modes:
            # The limit again right before each mode, so that both see the same stretch of load.
            if counts[LIMIT] is not None:
                best[LIMIT] = max(best[LIMIT], cell.rate(LIMIT, counts[LIMIT] or 1))
            best[m] = max(best[m], cell.rate(m, counts[m] or 1))
    limit = best[LIMIT] or None
    return [Row(adapter.name, suite, frame, size, m, round(best[m], 1), round(best[m] * size / 1e6, 2),
                round(limit, 1) if limit else None, round(best[m] / limit, 4) if limit else None, counts[m] or 0)
            for m in modes]


def inside_rows(adapter: Adapter, suites: Sequence[int], sizes: dict[str, int], repeats: int,
                target_s: float) -> list[dict[str, Any]]:
    reference = PythonAdapter("reference")
    rows: list[dict[str, Any]] = []
    for suite in suites:
        if suite not in adapter.hello.suites:
            continue
        for frame, size in sizes.items():
            rows += [asdict(r) for r in measure_cell(adapter, reference, suite, frame, size, repeats, target_s)]
    return rows
