"""Run cases through an adapter and grade them.

Every step of every selected case is flattened into one request stream so the
adapter can pipeline it, in chunks so a progress line can move.

Rules of this module: a case's grade must not depend on what else ran beside it.
Stateful cases keep contexts inside the implementation; when the adapter restarts
the implementation (it counts them in ``adapter.restarts``) those contexts are
gone. So after a restart during a stateful batch, the case whose request faulted
is graded ``error`` (its fault), and every other stateful case that was still
running is run again from its first step on the fresh process. That re-run is
bounded (``MAX_ROUNDS``): an implementation that keeps crashing costs a few
rounds, then the cases still waiting are graded ``error`` with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from ..adapters.base import Adapter
from ..model.cases import Case, Ref
from ..model.grading import NOT_RUN, Grade, Outcome, grade
from ..model.progress import OnProgress
from ..model.wire import Hello, Request, Response

CHUNK = 512
# Rounds of stateful cases per chunk: the first run and re-runs after restarts.
MAX_ROUNDS = 4


@dataclass
class RunResult:
    implementation: str
    hello: Hello
    outcomes: list[Outcome]
    started: str
    duration: float
    restarts: int = 0
    spec: str = ""  # the --impl spec that started it (``implementation`` is the name shown)

    @property
    def counts(self) -> dict[str, int]:
        counts = {g.value: 0 for g in Grade}
        for o in self.outcomes:
            counts[o.grade.value] += 1
        return counts

    @property
    def failed(self) -> bool:
        return any(o.fails_run for o in self.outcomes)


def _restarts(adapter: Adapter) -> int:
    # Only adapters over a process or a browser worker restart; the in-process one has no counter.
    return int(getattr(adapter, "restarts", 0))


def _not_run(reason: str) -> Response:
    return Response(False, error=NOT_RUN, message=reason)


def _resolve(case: Case, index: int, responses: list[Response]) -> Request | Response:
    """The step's request with its Refs filled in, or a not-run Response when a Ref has no value."""
    request = case.steps[index].request
    fields = dict(request.fields)
    for name, value in request.fields.items():
        if isinstance(value, Ref):
            source = responses[value.step] if 0 <= value.step < len(responses) else None
            if source is None or not source.ok or value.field not in source.fields:
                return _not_run(f"not run: step {value.step} gave no {value.field!r}")
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


def _stateful_round(adapter: Adapter, cases: Sequence[Case]) -> tuple[list[list[Response]], list[int]]:
    """Step k of every case goes in one pipelined batch, after every step k-1 has answered.

    Returns the answers and the indexes of the cases that lost their state to a restart (their answers are
    then incomplete and must not be graded). A case whose request faulted keeps its answers, the rest of its
    steps not run: the fault is its grade."""
    answers: list[list[Response]] = [[] for _ in cases]
    for index in range(max(len(c.steps) for c in cases)):
        pending: list[tuple[int, Request]] = []
        for i, case in enumerate(cases):
            if index < len(case.steps):
                resolved = _resolve(case, index, answers[i])
                if isinstance(resolved, Response):
                    answers[i].append(resolved)
                else:
                    pending.append((i, resolved))
        if not pending:
            continue
        before = _restarts(adapter)
        responses = adapter.run([r for _, r in pending])
        for (i, _), response in zip(pending, responses):
            answers[i].append(response)
        if _restarts(adapter) == before:
            continue
        faulted = {i for (i, _), response in zip(pending, responses) if response.fault is not None}
        for i in faulted:
            missing = len(cases[i].steps) - len(answers[i])
            answers[i] += [_not_run("not run: the implementation was restarted after this case's fault")] * missing
        # Every case with a step in this batch or later ran (or would run) on a process without its contexts.
        lost = [i for i, case in enumerate(cases) if i not in faulted and len(case.steps) > index]
        return answers, lost
    return answers, []


def _run_stateful(adapter: Adapter, cases: Sequence[Case]) -> list[list[Response]]:
    results: dict[int, list[Response]] = {}
    waiting = list(range(len(cases)))
    for _ in range(MAX_ROUNDS):
        if not waiting:
            break
        answers, lost = _stateful_round(adapter, [cases[i] for i in waiting])
        lost_set = set(lost)
        results.update((i, answers[j]) for j, i in enumerate(waiting) if j not in lost_set)
        waiting = [waiting[j] for j in lost]
    for i in waiting:
        reason = (f"not run: the implementation restarted in each of {MAX_ROUNDS} runs of this chunk's stateful "
                  "cases, losing this case's contexts every time")
        results[i] = [Response.faulted(reason)] + [_not_run(reason)] * (len(cases[i].steps) - 1)
    return [results[i] for i in range(len(cases))]


def run_cases(adapter: Adapter, cases: Sequence[Case], on_progress: OnProgress | None = None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for first in range(0, len(cases), CHUNK):
        chunk = cases[first : first + CHUNK]
        stateless = [c for c in chunk if not c.stateful]
        stateful = [c for c in chunk if c.stateful]
        answered = dict(zip((id(c) for c in stateless), _run_stateless(adapter, stateless) if stateless else []))
        answered.update(zip((id(c) for c in stateful), _run_stateful(adapter, stateful) if stateful else []))
        outcomes.extend(grade(case, answered[id(case)]) for case in chunk)
        if on_progress:
            on_progress(len(outcomes), len(cases), 0)
    return outcomes


def run(adapter: Adapter, cases: Sequence[Case], on_progress: OnProgress | None = None, spec: str = "") -> RunResult:
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    outcomes = run_cases(adapter, cases, on_progress)
    return RunResult(adapter.name, adapter.hello, outcomes, started, time.perf_counter() - t0,
                     restarts=_restarts(adapter), spec=spec or adapter.name)


def run_case(adapter: Adapter, case: Case) -> Outcome:
    """Run one case through ``adapter`` (Refs resolved by the runner) and grade it."""
    try:
        return run_cases(adapter, [case])[0]
    except Exception as e:  # noqa: BLE001 - an in-process implementation crashing is the bug being reproduced
        return grade(case, [Response.faulted(f"uncaught {type(e).__name__}: {e}") for _ in case.steps])
