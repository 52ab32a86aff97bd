"""Progress of long commands: a live line on a terminal, plain lines elsewhere.

Rules:

- On a terminal (and not in CI): a live line drawn by ``rich``, on stderr,
  once the run passes a second: what runs, a bar when the end is known, units
  done (of the total), rate, elapsed, ETA (from the total, or from a time
  budget), findings so far. It disappears when the run ends.
- On a pipe or in CI (``CI`` set): one plain line at most every 10 s; a
  short run prints none (the command's own summary says how it ended).
- ``-q`` silences it (``enabled=False``). stdout stays the command's results.
- Long-running functions take an ``on_progress`` callback
  (``harness.model.progress.OnProgress``); ``Progress.update`` is one.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from types import TracebackType
from typing import Any, TextIO

PLAIN_INTERVAL = 10.0  # seconds between plain lines on a pipe or in CI
TTY_DELAY = 1.0  # a run shorter than this draws nothing


def add_quiet(parser: argparse.ArgumentParser, help: str = "no progress line") -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help=help)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """``with Progress("c", total=2035) as p: run(..., on_progress=p.update)``.

    ``budget``: the run's time limit in seconds, for the ETA of a campaign whose
    total is unknown. ``findings``: show a findings count (fuzzing)."""

    def __init__(self, label: str, total: int | None = None, *, unit: str = "cases", budget: float | None = None,
                 findings: bool = False, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.label, self.total, self.unit, self.budget = label, total, unit, budget
        self.show_findings = findings
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.live = enabled and self.stream.isatty() and not os.environ.get("CI")
        self.start = time.monotonic()
        self.done = 0
        self.findings = 0
        self.printed = 0  # plain lines so far
        self._last_plain = self.start
        self._rich: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.finish()

    def line(self, now: float | None = None) -> str:
        """The status, as one line of plain text."""
        elapsed = (now if now is not None else time.monotonic()) - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        count = f"{self.done:,}/{self.total:,}" if self.total is not None else f"{self.done:,}"
        rate_text = f"{rate:,.0f}/s" if rate >= 10 else f"{rate:.2g}/s"  # media scenarios take seconds each
        parts = [f"{count} {self.unit}", rate_text, f"elapsed {_duration(elapsed)}"]
        # The end comes with the total or the time budget, whichever is sooner.
        etas = [max(0, self.total - self.done) / rate] if self.total is not None and rate > 0 else []
        etas += [max(0.0, self.budget - elapsed)] if self.budget is not None else []
        if etas:
            parts.append(f"ETA {_duration(min(etas))}")
        if self.show_findings:
            parts.append(f"{self.findings} findings")
        return f"{self.label}: " + ", ".join(parts)

    def fraction(self, now: float) -> float | None:
        if self.total:
            return min(1.0, self.done / self.total)
        if self.budget:
            return min(1.0, (now - self.start) / self.budget)
        return None

    def update(self, done: int, total: int | None = None, findings: int | None = None) -> None:
        """The ``on_progress`` callback: units done so far, the total if it changed, findings so far."""
        self.done = done
        if total is not None:
            self.total = total
        if findings is not None:
            self.findings = findings
        if not self.enabled:
            return
        now = time.monotonic()
        if self.live:
            if now - self.start >= TTY_DELAY:
                self._draw(now)
        elif now - self._last_plain >= PLAIN_INTERVAL:
            self._plain(now)

    def _plain(self, now: float) -> None:
        self._last_plain = now
        self.printed += 1
        print(self.line(now), file=self.stream, flush=True)

    def _draw(self, now: float) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn
        from rich.progress import Progress as RichProgress

        if self._rich is None:
            # markup=False: labels such as cmd:... are shown as they are, never read as rich markup.
            self._rich = RichProgress(BarColumn(bar_width=24), TextColumn("{task.description}", markup=False),
                                      console=Console(file=self.stream), transient=True, refresh_per_second=4)
            self._rich.start()
            self._task = self._rich.add_task("", total=1.0)
        fraction = self.fraction(now)
        self._rich.update(self._task, description=self.line(now), completed=fraction or 0.0,
                          total=1.0 if fraction is not None else None)

    def finish(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
