"""The timing-leak statistic, after "dude, is my code constant time?" (Reparaz, Balasch and
Verbauwhede, DATE 2017): a t-test between two classes of durations, on distributions cropped
at several percentiles.

Rules of this module (sans I/O: numbers in, a verdict out):
- Two classes of durations, measured interleaved in a random order within each batch
  (one ``timing`` request), so that the machine's load falls on both alike.
- Long tails (interrupts, other processes, frequency changes) only add noise, so the
  samples above several percentiles of the pooled distribution are cut away (``CROPS``)
  and each crop gets its own t; the statistic is the largest |t|.
- **The unit is the batch, not the sample.** dudect measures in one process with fixed
  buffers; here every batch is a new request, and an implementation's copy of the two
  frames may sit at places that cost a few cycles more or less, differently in every
  request. Samples of one batch share that offset, so a t over single samples would
  count one request's placement thousands of times and accuse code of a leak it does not
  have. Each batch gives one difference of cropped means (class b minus class a), and the
  t is that of the batch differences (a paired t-test, by batch): what varies from
  request to request is measured as noise, what is the same in every batch is the code's.
- ``fail``: |t| crosses ``THRESHOLD`` (10, dudect's) with at least ``MIN_SAMPLES`` per
  class and ``MIN_BATCHES`` batches, and the difference is at least ``MIN_EFFECT``
  clock ticks. An early exit costs at least a cycle per byte it skips, and every clock
  an implementation names ticks at most once a nanosecond (``rdtsc`` about three times
  as often); a difference of a fraction of a tick, however significant, is the
  machine's (it changes sign from run to run on the real C build), not a comparison's,
  and is ``inconclusive``: a fail is an accusation.
- ``pass``: |t| stays under the threshold once ``target`` samples per class and
  ``MIN_BATCHES`` batches are in: a pass only where a fail was possible.
- ``inconclusive``: anything else, with the reason: the budget ran out first, the
  clock is too coarse to see anything, or the noise guard fired.
- Noise guard: the same test between two random halves of class a, where no difference
  can exist. If it crosses the threshold too, neither verdict is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

THRESHOLD = 10.0
MIN_SAMPLES = 10_000  # per class, before a fail is believed
MIN_BATCHES = 30  # and batches: with 29 degrees of freedom, |t| > 10 has p < 1e-10
# Crops, as fractions of the pooled distribution kept (1.0: no crop). Low crops keep
# the quiet fast path, where a few cycles of difference stand out of little noise.
CROPS = (1.0, 0.99, 0.95, 0.9, 0.8, 0.65, 0.5, 0.35, 0.2, 0.1)
MIN_EFFECT = 1.0  # clock ticks: the smallest difference a fail may be built on
MIN_DISTINCT = 8  # fewer distinct durations than this: the clock cannot resolve the call
CUT_SAMPLE = 200_000  # percentiles are taken over at most this many pooled samples

Array = np.ndarray[Any, Any]


class Verdict(Enum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class _Sorted:
    """One class of one batch, sorted, with prefix sums: the mean under any cut in O(log n)."""

    def __init__(self, values: Array) -> None:
        self.values = np.sort(values.astype(np.float64))
        self.sums = np.concatenate(([0.0], np.cumsum(self.values)))

    def mean_under(self, cut: float) -> float | None:
        n = int(np.searchsorted(self.values, cut, side="right"))
        return float(self.sums[n] / n) if n else None


@dataclass(frozen=True)
class Batch:
    """The durations of one request, by class."""

    a: _Sorted
    b: _Sorted

    @classmethod
    def of(cls, a: Array, b: Array) -> Batch:
        return cls(_Sorted(a), _Sorted(b))

    def difference(self, cut: float) -> float | None:
        ma, mb = self.a.mean_under(cut), self.b.mean_under(cut)
        return None if ma is None or mb is None else mb - ma


def one_sample_t(values: Sequence[float]) -> float:
    """t of the mean of ``values`` against 0 (0 when there are too few, or no spread at all)."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) < 2:
        return 0.0
    sd = x.std(ddof=1)
    return float(x.mean() / (sd / np.sqrt(len(x)))) if sd > 0 else 0.0


@dataclass(frozen=True)
class Crop:
    kept: float  # fraction of the pooled samples under the cut
    cut: float  # the duration at that percentile
    t: float
    difference: float  # mean over batches of mean(b) - mean(a), in clock ticks


def cropped_tests(batches: Sequence[Batch]) -> list[Crop]:
    pooled = np.concatenate([np.concatenate((x.a.values, x.b.values)) for x in batches])
    if len(pooled) > CUT_SAMPLE:
        pooled = pooled[:: len(pooled) // CUT_SAMPLE + 1]
    out = []
    for kept in CROPS:
        cut = float(np.quantile(pooled, kept)) if kept < 1.0 else float("inf")
        diffs = [d for d in (x.difference(cut) for x in batches) if d is not None]
        out.append(Crop(kept, cut, one_sample_t(diffs), float(np.mean(diffs)) if diffs else 0.0))
    return out


def strongest(crops: list[Crop]) -> Crop:
    return max(crops, key=lambda c: abs(c.t))


@dataclass(frozen=True)
class Analysis:
    verdict: Verdict
    reason: str
    samples: int  # per class, the smaller of the two
    batches: int
    t: float  # the largest |t| over the crops, signed (negative: class a is faster)
    crop: float  # the fraction kept where it was found
    difference: float  # mean(b) - mean(a) there, clock ticks
    median: float  # pooled median duration, clock ticks
    null_t: float  # the noise guard's largest |t|
    distinct: int  # distinct durations seen


def analyse(batches: Sequence[Batch], nulls: Sequence[Batch], target: int) -> Analysis:
    """Grade the batches so far. ``nulls`` holds, per batch, two random halves of class a."""
    n = min(sum(len(x.a.values) for x in batches), sum(len(x.b.values) for x in batches)) if batches else 0
    if n < 2 or len(batches) < 2:
        return Analysis(Verdict.INCONCLUSIVE, "too few samples", n, len(batches), 0.0, 1.0, 0.0, 0.0, 0.0, 0)
    crops = cropped_tests(batches)
    best = strongest(crops)
    null = strongest(cropped_tests(nulls))
    first = np.concatenate((batches[0].a.values, batches[0].b.values))
    distinct = len(np.unique(first))
    median = float(np.median(first))
    # The crop a fail would stand on: the strongest whose difference is big enough to accuse.
    large = [c for c in crops if abs(c.difference) >= MIN_EFFECT]
    accused = strongest(large) if large else None

    def result(verdict: Verdict, reason: str, crop: Crop = best) -> Analysis:
        return Analysis(verdict, reason, n, len(batches), crop.t, crop.kept, crop.difference, median, null.t,
                        distinct)

    if distinct < MIN_DISTINCT:
        return result(Verdict.INCONCLUSIVE, f"the clock is too coarse: {distinct} distinct durations in a batch")
    if abs(null.t) > THRESHOLD:
        return result(Verdict.INCONCLUSIVE, f"noise guard: two halves of one class differ with |t| {abs(null.t):.1f}")
    if accused is not None and abs(accused.t) > THRESHOLD:
        if n >= MIN_SAMPLES and len(batches) >= MIN_BATCHES:
            return result(Verdict.FAIL, f"|t| {abs(accused.t):.1f} > {THRESHOLD:g} over {len(batches)} batches, "
                                        f"{n} samples per class: the two forged frames take different times",
                          accused)
        return result(Verdict.INCONCLUSIVE, f"|t| {abs(accused.t):.1f} but only {len(batches)} batches, "
                                            f"{n} samples per class", accused)
    if abs(best.t) > THRESHOLD:
        return result(Verdict.INCONCLUSIVE, f"|t| {abs(best.t):.1f} but the difference is "
                                            f"{abs(best.difference):.2f} clock ticks, under {MIN_EFFECT:g}: too "
                                            f"small to be a comparison's early exit")
    if n >= target and len(batches) >= MIN_BATCHES:  # a pass only where a fail was possible
        return result(Verdict.PASS, f"|t| stayed under {THRESHOLD:g} for {n} samples per class, "
                                    f"{len(batches)} batches")
    return result(Verdict.INCONCLUSIVE, f"|t| {abs(best.t):.1f} after {n} of {target} samples per class, "
                                        f"{len(batches)} of at least {MIN_BATCHES} batches")
