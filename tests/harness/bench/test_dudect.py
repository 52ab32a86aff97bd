"""dudect's statistic on synthetic durations: it flags a difference of a few clock ticks in
heavy-tailed noise, never a difference that is not there (not even one that every request's
placement of the frames fakes), and says when it cannot tell."""

import numpy as np
import pytest

from harness.bench import dudect

BATCHES, PER_CLASS = 40, 2_500  # 100,000 samples per class


def _noise(rng, n, median=1000.0):
    """Durations as a loaded machine gives them: a quiet core plus rare, huge interruptions."""
    base = median + rng.gamma(4.0, 5.0, n)
    spikes = rng.random(n) < 0.01
    base[spikes] += rng.exponential(20_000.0, spikes.sum())
    return np.round(base)


def _run(rng, shift=0.0, placement=0.0, batches=BATCHES, per_class=PER_CLASS, target=None, quantum=1.0):
    """Batches as timing.check builds them: class b is ``shift`` slower; the frame sent second costs
    ``placement`` more, a different amount in each request, and the frames swap every other batch."""
    content, nulls = [], []
    for k in range(batches):
        offset = placement * rng.uniform(0.5, 1.5)
        a, b = _noise(rng, per_class), _noise(rng, per_class) + shift
        if k % 2:
            a += offset
        else:
            b += offset
        a, b = np.floor(a / quantum) * quantum, np.floor(b / quantum) * quantum
        half = rng.random(per_class) < 0.5
        content.append(dudect.Batch.of(a, b))
        nulls.append(dudect.Batch.of(a[half], a[~half]))
    return dudect.analyse(content, nulls, target or batches * per_class)


@pytest.mark.parametrize("seed", range(5))
def test_no_difference_is_never_a_fail(seed):
    result = _run(np.random.default_rng(seed))
    assert result.verdict is dudect.Verdict.PASS, result
    assert abs(result.t) < dudect.THRESHOLD


def test_a_few_ticks_of_difference_under_heavy_tails_is_a_fail():
    result = _run(np.random.default_rng(7), shift=3)  # 0.3% of the median: an early exit's few cycles
    assert result.verdict is dudect.Verdict.FAIL, result
    assert result.t > dudect.THRESHOLD and result.difference == pytest.approx(3, abs=1)


@pytest.mark.parametrize("seed", range(3))
def test_a_placement_cost_that_changes_from_request_to_request_is_not_a_leak(seed):
    rng = np.random.default_rng(seed)
    result = _run(rng, placement=8)
    assert result.verdict is not dudect.Verdict.FAIL, result
    # Counted sample by sample, as if the batches were one measurement, it would be accused:
    # the frame sent second is slower in every request by a different amount.
    a = np.concatenate([_noise(rng, PER_CLASS) for _ in range(BATCHES)])
    b = np.concatenate([_noise(rng, PER_CLASS) + 8 * rng.uniform(0.5, 1.5) for _ in range(BATCHES)])
    ca, cb = a[a < np.quantile(a, 0.5)], b[b < np.quantile(a, 0.5)]
    assert abs(ca.mean() - cb.mean()) / np.sqrt(ca.var() / len(ca) + cb.var() / len(cb)) > dudect.THRESHOLD


def test_a_significant_difference_below_one_clock_tick_is_not_an_accusation():
    rng = np.random.default_rng(5)
    content, nulls = [], []
    for _ in range(BATCHES):
        a = 1000 + rng.normal(0, 1, PER_CLASS)  # a quiet machine and a fine clock: tiny effects show
        b = 1000.3 + rng.normal(0, 1, PER_CLASS)
        content.append(dudect.Batch.of(a, b))
        nulls.append(dudect.Batch.of(a[: PER_CLASS // 2], a[PER_CLASS // 2:]))
    result = dudect.analyse(content, nulls, BATCHES * PER_CLASS)
    assert abs(result.t) > dudect.THRESHOLD
    assert result.verdict is dudect.Verdict.INCONCLUSIVE and "too small" in result.reason


def test_a_large_difference_in_too_few_batches_is_only_inconclusive():
    result = _run(np.random.default_rng(1), shift=50, batches=dudect.MIN_BATCHES - 2)
    assert result.verdict is dudect.Verdict.INCONCLUSIVE and "only" in result.reason


def test_running_out_of_samples_or_batches_is_inconclusive():
    result = _run(np.random.default_rng(2), target=2 * BATCHES * PER_CLASS)
    assert result.verdict is dudect.Verdict.INCONCLUSIVE and f"of {2 * BATCHES * PER_CLASS}" in result.reason


def test_a_clock_too_coarse_to_see_the_call_is_inconclusive():
    # e.g. a browser's coarsened performance.now(): a 100 us quantum on a 1 us call
    result = _run(np.random.default_rng(3), shift=500, quantum=100_000)
    assert result.verdict is dudect.Verdict.INCONCLUSIVE and "coarse" in result.reason


def test_the_noise_guard_withholds_a_verdict_when_one_class_differs_from_itself():
    rng = np.random.default_rng(4)
    content, nulls = [], []
    for _ in range(BATCHES):
        a, b = _noise(rng, PER_CLASS), _noise(rng, PER_CLASS) + 3
        slow = a > np.median(a)  # a "random" half that is not random: the halves differ by construction
        content.append(dudect.Batch.of(a, b))
        nulls.append(dudect.Batch.of(a[slow], a[~slow]))
    result = dudect.analyse(content, nulls, BATCHES * PER_CLASS)
    assert result.verdict is dudect.Verdict.INCONCLUSIVE and "noise guard" in result.reason


def test_a_pass_needs_as_many_batches_as_a_fail_would():
    result = _run(np.random.default_rng(6), batches=dudect.MIN_BATCHES // 2, target=dudect.MIN_SAMPLES)
    assert result.samples >= dudect.MIN_SAMPLES
    assert result.verdict is dudect.Verdict.INCONCLUSIVE and "batches" in result.reason
