"""Run cases through an adapter and grade them.

Every step of every selected case is flattened into one request stream so the
adapter can pipeline it, in chunks so a progress line can move.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TextIO

from .adapters.base import Adapter, Hello, Request
from .cases import Case
from .grading import Grade, Outcome, grade

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


class Progress:
    """A one-line progress display on a terminal, shown once a run passes one second."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, delay: float = 1.0) -> None:
        self.total = total
        self.stream = stream
        self.start = time.monotonic()
        self.delay = delay
        self.shown = False
        self.enabled = stream.isatty()

    def update(self, done: int) -> None:
        elapsed = time.monotonic() - self.start
        if not self.enabled or elapsed < self.delay:
            return
        self.shown = True
        rate = done / elapsed if elapsed else 0
        self.stream.write(f"\r  {done}/{self.total} cases  {rate:,.0f}/s  {elapsed:.1f}s ")
        self.stream.flush()

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def run_cases(adapter: Adapter, cases: Sequence[Case],
              on_progress: Callable[[int], None] | None = None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for first in range(0, len(cases), CHUNK):
        chunk = cases[first : first + CHUNK]
        requests: list[Request] = [step.request for case in chunk for step in case.steps]
        responses = adapter.run(requests)
        at = 0
        for case in chunk:
            n = len(case.steps)
            outcomes.append(grade(case, responses[at : at + n]))
            at += n
        if on_progress:
            on_progress(len(outcomes))
    return outcomes


def run(adapter: Adapter, cases: Sequence[Case], progress: Progress | None = None) -> RunResult:
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    outcomes = run_cases(adapter, cases, progress.update if progress else None)
    if progress:
        progress.finish()
    return RunResult(adapter.name, adapter.hello, outcomes, started, time.perf_counter() - t0,
                     restarts=getattr(adapter, "restarts", 0))
