"""The constant-time check of tag verification (issue 17 §3; RFC 9605 §4.4.4, requirement DEC-04).

Rules of this module:
- The two classes are one genuine frame with its tag wrong in the **first** byte
  (class a) or in the **last** byte (class b): same length, header and body, only
  the position of the wrong byte differs, so only a comparison that stops at the
  first differing byte can tell them apart.
- The schedule is random (numpy's generator, seeded, so a run can be repeated):
  the classes interleave and the machine's load falls on both alike.
- Every other batch swaps the two frames between ``ciphertext_a`` and
  ``ciphertext_b``. An implementation's time may depend on where a frame sits in
  memory (alignment of its copy: a few cycles); swapping gives each content both
  places equally often, so that effect cancels out of the test between contents
  and is reported on its own (``position_t``), never graded.
- Batches of at most ``BATCH`` samples go to the ``timing`` op until the statistic
  (``dudect``) decides: a fail stops at once, the target count gives pass, the
  budget running out gives inconclusive.
- The first ``WARMUP`` samples of each batch are dropped: caches and branch
  predictors settle after the request has been parsed.
- Every value from the wire is checked: ``timings`` must hold exactly 8 bytes per
  schedule byte. A bad answer is an ``error`` result, never a traceback.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..adapters.base import Adapter
from ..adapters.inprocess import PythonAdapter
from ..catalogue.inputs import BASE_KEY
from ..model.progress import OnProgress
from ..model.text import clip, for_terminal, one_line
from ..model.wire import Request
from . import dudect

REQUIREMENT = "DEC-04"
METHOD = ("dudect (Reparaz, Balasch, Verbauwhede 2017): forged frames whose tag is wrong in its first or its last "
          f"byte, interleaved at random; a t-test on distributions cropped at {len(dudect.CROPS)} percentiles, with "
          "the request as the unit (per-batch differences of cropped means, frames swapped between the two "
          f"buffers every other batch); fail when |t| > {dudect.THRESHOLD:g} over at least {dudect.MIN_BATCHES} "
          f"batches and {dudect.MIN_SAMPLES} samples per class")
SUITES = (1, 4)  # AES-CTR+HMAC, whose tag the implementation compares itself, and AES-GCM
BATCH = 5_000  # samples per request: the batch is the statistic's unit (dudect.py), so many of them
WARMUP = 50
KID = 0x123
CTR = 0x1000
PLAINTEXT = bytes(range(64))
METADATA = b""


def forged_frames(reference: Adapter, suite: int) -> tuple[bytes, bytes]:
    """A genuine frame from the reference with its tag's first byte flipped, and with its last."""
    from sframe_py import get_suite

    response = reference.call(Request("encrypt", {"suite": suite, "base_key": BASE_KEY, "kid": KID, "ctr": CTR,
                                                  "metadata": METADATA, "plaintext": PLAINTEXT}))
    frame = bytearray(response.fields["ciphertext"])
    first = len(frame) - get_suite(suite).nt
    a, b = bytearray(frame), bytearray(frame)
    a[first] ^= 0x01
    b[-1] ^= 0x01
    return bytes(a), bytes(b)


@dataclass(frozen=True)
class TimingResult:
    implementation: str
    suite: int
    verdict: str  # pass | fail | inconclusive | unsupported | error
    reason: str
    samples: int = 0  # per class
    batches: int = 0
    t: float = 0.0
    crop: float = 1.0
    difference: float = 0.0  # mean(b) - mean(a) at that crop, clock ticks
    median: float = 0.0
    null_t: float = 0.0
    position_t: float = 0.0  # ciphertext_a against ciphertext_b whatever their content: not graded
    clock: str = ""
    seconds: float = 0.0
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for k in ("t", "difference", "median", "null_t", "position_t"):
            out[k] = round(out[k], 3)
        out["seconds"] = round(self.seconds, 2)
        return out


class _Samples:
    """The batches so far: by content (first or last tag byte wrong), the noise guard's random
    halves of the first class, and by position (sent as ciphertext_a or _b)."""

    def __init__(self) -> None:
        self.by_content: list[dudect.Batch] = []
        self.nulls: list[dudect.Batch] = []
        self.by_position: list[dudect.Batch] = []

    def add(self, schedule: np.ndarray[Any, Any], durations: np.ndarray[Any, Any], swapped: bool,
            rng: np.random.Generator) -> None:
        schedule, durations = schedule[WARMUP:], durations[WARMUP:]
        last = (schedule == 1) != swapped  # the frame whose last tag byte is wrong
        first = durations[~last]
        half = rng.random(len(first)) < 0.5
        self.by_content.append(dudect.Batch.of(first, durations[last]))
        self.nulls.append(dudect.Batch.of(first[half], first[~half]))
        self.by_position.append(dudect.Batch.of(durations[schedule == 0], durations[schedule == 1]))

    def analyse(self, target: int) -> dudect.Analysis:
        return dudect.analyse(self.by_content, self.nulls, target)

    def position_t(self) -> float:
        return dudect.strongest(dudect.cropped_tests(self.by_position)).t if len(self.by_position) > 1 else 0.0


def check(adapter: Adapter, suite: int, budget_s: float, target: int, seed: int = 0, batch: int = BATCH,
          on_progress: OnProgress | None = None) -> TimingResult:
    """Run the timing check of one implementation and suite within ``budget_s`` seconds;
    ``on_progress`` counts samples per class (findings: 1 once the statistic says fail)."""
    name = adapter.name
    if "timing" not in adapter.hello.capabilities:
        return TimingResult(name, suite, "unsupported", "no timing op in hello capabilities", seed=seed)
    if suite not in adapter.hello.suites:
        return TimingResult(name, suite, "unsupported", f"suite {suite} not in hello suites", seed=seed)
    frame_a, frame_b = forged_frames(PythonAdapter(), suite)
    rng = np.random.default_rng(seed)
    samples = _Samples()
    start = time.monotonic()
    analysis, clock = dudect.analyse([], [], target), ""
    batches = 0
    while time.monotonic() - start < budget_s:
        schedule = rng.integers(0, 2, batch, dtype=np.uint8)
        swapped = batches % 2 == 1
        batches += 1
        response = adapter.call(Request("timing", {
            "suite": suite, "base_key": BASE_KEY, "kid": KID, "metadata": METADATA,
            "ciphertext_a": frame_b if swapped else frame_a, "ciphertext_b": frame_a if swapped else frame_b,
            "schedule": schedule.tobytes()}))
        elapsed = time.monotonic() - start
        if not response.ok:
            verdict = "unsupported" if response.error == "unsupported" else "error"
            why = clip(one_line(response.fault or f"{response.error}: {response.message}"), 300)
            return TimingResult(name, suite, verdict, f"timing op: {why}", seconds=elapsed, seed=seed)
        timings, clock = response.fields.get("timings"), str(response.fields.get("clock", ""))[:100]
        if not isinstance(timings, bytes) or len(timings) != 8 * batch:
            got = len(timings) if isinstance(timings, bytes) else type(timings).__name__
            return TimingResult(name, suite, "error", f"timing op: timings must be {8 * batch} bytes, got {got}",
                                seconds=elapsed, seed=seed)
        samples.add(schedule, np.frombuffer(timings, dtype=">u8"), swapped, rng)
        analysis = samples.analyse(target)
        if on_progress is not None:
            on_progress(analysis.samples, target, int(analysis.verdict is dudect.Verdict.FAIL))
        if analysis.verdict is not dudect.Verdict.INCONCLUSIVE or (
                analysis.samples >= target and analysis.batches >= dudect.MIN_BATCHES):
            break
    seconds = time.monotonic() - start
    reason = analysis.reason
    if analysis.verdict is dudect.Verdict.INCONCLUSIVE and analysis.samples < target and seconds >= budget_s:
        reason += f" (budget of {budget_s:g}s spent)"
    return TimingResult(name, suite, analysis.verdict.value, reason, analysis.samples, analysis.batches,
                        analysis.t, analysis.crop,
                        analysis.difference, analysis.median, analysis.null_t, samples.position_t(), clock, seconds,
                        seed)


def report(results: list[TimingResult], budget_s: float, target: int) -> dict[str, Any]:
    """The results document's ``timing`` section (harness/RESULTS.md)."""
    return {"requirement": REQUIREMENT, "method": METHOD, "threshold": dudect.THRESHOLD, "budget_s": budget_s,
            "target_samples": target, "results": [r.to_json() for r in results]}


def print_report(section: dict[str, Any]) -> None:
    print(f"{section['requirement']} constant-time tag check: {section['method']}")
    print(f"  {'implementation':<18} {'suite':>5} {'verdict':<13} {'|t|':>7} {'samples':>9} {'diff':>8} "
          f"{'median':>9} {'null |t|':>8} {'pos |t|':>8} {'s':>6}  reason")
    for r in section["results"]:
        print(f"  {for_terminal(r['implementation']):<18} {r['suite']:>5} {r['verdict']:<13} {abs(r['t']):>7.2f} "
              f"{r['samples']:>9} {r['difference']:>8.2f} {r['median']:>9.0f} {abs(r['null_t']):>8.2f} "
              f"{abs(r['position_t']):>8.2f} "
              f"{r['seconds']:>6.1f}  {for_terminal(r['reason'])}")
