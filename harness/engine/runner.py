"""Run cases through an adapter and grade them.

Every step of every selected case is flattened into one request stream so the
adapter can pipeline it, in chunks so a progress line can move.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from ..adapters.base import Adapter
from ..model.cases import Case, Ref
from ..model.grading import NOT_RUN, Grade, Outcome, grade
from ..model.wire import Hello, Request, Response

CHUNK = 512


@dataclass
class RunResult:
    implementation: str
    hello: Hello
    outcomes: list[Outcome]
    started: str
    duration: float
    restarts: int = 0

    @property
    def counts(self) -> dict[str, int]:
        counts = {g.value: 0 for g in Grade}
        for o in self.outcomes:
            counts[o.grade.value] += 1
        return counts

    @property
    def failed(self) -> bool:
        return any(o.fails_run for o in self.outcomes)


def _resolve(case: Case, index: int, responses: list[Response]) -> Request | Response:
    """The step's request with its Refs filled in, or a not-run Response when a Ref has no value."""
    request = case.steps[index].request
    fields = dict(request.fields)
    for name, value in request.fields.items():
        if isinstance(value, Ref):
            source = responses[value.step]
            if not source.ok or value.field not in source.fields:
                return Response(False, error=NOT_RUN, message=f"not run: step {value.step} gave no {value.field!r}")
            fields[name] = source.fields[value.field]
    return Request(request.op, fields)


def _run_stateless(adapter: Adapter, cases: Sequence[Case]) -> list[list[Response]]:
    requests = [step.request for case in cases for step in case.steps]
    responses = adapter.run(requests)
    out, at = [], 0
    for case in cases:
        out.append(responses[at : at + len(case.steps)])
        at += len(case.steps)
    return out


def _run_stateful(adapter: Adapter, cases: Sequence[Case]) -> list[list[Response]]:
    """Step k of every case goes in one pipelined batch, after every step k-1 has answered."""
    results: list[list[Response]] = [[] for _ in cases]
    for index in range(max(len(c.steps) for c in cases)):
        pending: list[tuple[int, Request]] = []
        for i, case in enumerate(cases):
            if index < len(case.steps):
                resolved = _resolve(case, index, results[i])
                if isinstance(resolved, Response):
                    results[i].append(resolved)
                else:
                    pending.append((i, resolved))
        if pending:
            for (i, _), response in zip(pending, adapter.run([r for _, r in pending])):
                results[i].append(response)
    return results


def run_cases(adapter: Adapter, cases: Sequence[Case],
              on_progress: Callable[[int], None] | None = None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for first in range(0, len(cases), CHUNK):
        chunk = cases[first : first + CHUNK]
        stateless = [c for c in chunk if not c.stateful]
        stateful = [c for c in chunk if c.stateful]
        answered = dict(zip((id(c) for c in stateless), _run_stateless(adapter, stateless) if stateless else []))
        answered.update(zip((id(c) for c in stateful), _run_stateful(adapter, stateful) if stateful else []))
        outcomes.extend(grade(case, answered[id(case)]) for case in chunk)
        if on_progress:
            on_progress(len(outcomes))
    return outcomes


def run(adapter: Adapter, cases: Sequence[Case], on_progress: Callable[[int], None] | None = None) -> RunResult:
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    outcomes = run_cases(adapter, cases, on_progress)
    return RunResult(adapter.name, adapter.hello, outcomes, started, time.perf_counter() - t0,
                     restarts=getattr(adapter, "restarts", 0))


def run_case(adapter: Adapter, case: Case) -> Outcome:
    """Run one case through ``adapter`` (Refs resolved by the runner) and grade it."""
    try:
        return run_cases(adapter, [case])[0]
    except Exception as e:  # noqa: BLE001 - an in-process implementation crashing is the bug being reproduced
        return grade(case, [Response.faulted(f"uncaught {type(e).__name__}: {e}") for _ in case.steps])
