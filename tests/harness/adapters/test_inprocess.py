"""The in-process adapter: its stateful ops have a deadline, and the reference refuses stalling parameters."""

from __future__ import annotations

import time

import pytest

from harness.adapters.inprocess import PythonAdapter
from harness.adapters.watchdog import Watchdog
from harness.model.wire import Request

KEY = bytes(16)


def test_stalling_parameters_are_invalid_argument() -> None:
    adapter = PythonAdapter(timeout=5)
    derive = adapter.call(Request("ratchet_derive", {"suite": 4, "base_key": KEY, "steps": 10**12}))
    window = adapter.call(Request("context_new", {"suite": 4, "replay_window": 10**11}))
    assert (derive.error, window.error) == ("invalid_argument", "invalid_argument")
    assert adapter.call(Request("ratchet_derive", {"suite": 4, "base_key": KEY, "steps": 1 << 16})).ok


def test_a_stateful_op_past_the_timeout_is_faulted_and_its_state_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    import sframe_py.ratchet

    adapter = PythonAdapter(timeout=0.3)
    ctx = adapter.call(Request("context_new", {"suite": 4})).fields["ctx"]
    worker = adapter._watchdog._thread
    monkeypatch.setattr(sframe_py.ratchet, "MAX_RATCHET_STEPS", 10**15)  # as if the bound were missing
    started = time.monotonic()
    stuck = adapter.call(Request("ratchet_derive", {"suite": 4, "base_key": KEY, "steps": 10**12}))
    assert time.monotonic() - started < 2
    assert stuck.fault and stuck.fault.startswith("timeout: no response within 0.3s") and adapter.restarts == 1
    # Like a restarted process, the adapter holds no context now, and it still answers.
    assert adapter.call(Request("context_free", {"ctx": ctx})).error == "invalid_argument"
    assert adapter.call(Request("context_new", {"suite": 4})).ok
    time.sleep(0.2)
    assert worker is not None and not worker.is_alive()  # stopped by the exception raised into it
    adapter.close()


def test_an_uncaught_exception_of_the_reference_is_a_fault_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = PythonAdapter()
    monkeypatch.setitem(adapter._ops, "derive", lambda f: 1 // 0)
    response = adapter.call(Request("derive", {}))
    assert response.fault == "uncaught ZeroDivisionError: integer division or modulo by zero"


def test_watchdog_passes_results_through() -> None:
    watchdog: Watchdog[int, int] = Watchdog(lambda x: x * 2)
    assert [watchdog.call(i, 1.0) for i in range(3)] == [0, 2, 4] and watchdog.abandoned == 0


def test_watchdog_batch_abandons_the_stalled_call_and_keeps_the_earlier_results() -> None:
    def busy(seconds: float) -> float:
        for _ in range(int(seconds * 1000)):  # many short sleeps: the abandon lands between two of them
            time.sleep(0.001)
        return seconds

    watchdog: Watchdog[float, float] = Watchdog(busy)
    results, abandoned = watchdog.call_all([0.0, 0.01, 30.0, 0.0], 0.3)
    assert (results, abandoned, watchdog.abandoned) == ([0.0, 0.01], True, 1)
    assert watchdog.call_all([0.0, 0.01], 1.0) == ([0.0, 0.01], False)  # a fresh worker takes the next batch


def test_a_batch_with_a_stalled_op_answers_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ops before the stalled one keep their answers, it is faulted, and the ops after it run anew."""
    import sframe_py.ratchet

    adapter = PythonAdapter(timeout=0.3)
    monkeypatch.setattr(sframe_py.ratchet, "MAX_RATCHET_STEPS", 10**15)
    new = Request("context_new", {"suite": 4})
    answers = adapter.run([new, Request("ratchet_derive", {"suite": 4, "base_key": KEY, "steps": 10**12}), new])
    assert [a.ok for a in answers] == [True, False, True] and adapter.restarts == 1
    assert answers[1].fault and answers[1].fault.startswith("timeout:")
    adapter.close()
