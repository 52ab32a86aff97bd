"""A one-line progress display for long commands on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


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
