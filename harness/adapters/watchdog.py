"""A deadline for calls that run in this process (the in-process adapter's stateful ops).

Rules of this module: a call runs in one daemon worker thread while the caller
waits at most ``timeout`` seconds (Ctrl-C ends the wait). A batch of calls is
one hand-over to the worker, each call with its own deadline: a thread switch
per call would cost more than many of the calls themselves. A call past its
deadline is abandoned: ``Abandoned`` is raised into its thread at the thread's
next bytecode, which ends a Python loop (a ratchet of 10^12 steps, a receiver
deriving 2^62 steps ahead) though not one long call into C, and the next call
gets a fresh thread. The thread starts at the first call and ends at ``close``;
threads are daemons, so an abandoned call never keeps the interpreter from
exiting. The caller must treat whatever state the abandoned call touched as lost.
"""

from __future__ import annotations

import ctypes
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

A = TypeVar("A")
T = TypeVar("T")


class Abandoned(BaseException):
    """Raised into a worker whose call passed its deadline (BaseException: no handler catches it)."""


@dataclass
class _Batch(Generic[A, T]):
    arguments: Sequence[A]
    results: list[T] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)  # of the call in progress
    done: threading.Event = field(default_factory=threading.Event)


class Watchdog(Generic[A, T]):
    """Runs ``function(argument)`` calls one at a time with a deadline; ``function`` must not raise."""

    def __init__(self, function: Callable[[A], T], name: str = "sframe-watchdog") -> None:
        self.function = function
        self.name = name
        self.abandoned = 0
        self._thread: threading.Thread | None = None
        self._inbox: queue.SimpleQueue[_Batch[A, T] | None] = queue.SimpleQueue()

    def _start(self) -> None:
        self._inbox = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, args=(self._inbox,), name=self.name, daemon=True)
        self._thread.start()

    def _work(self, inbox: queue.SimpleQueue[_Batch[A, T] | None]) -> None:
        try:
            while (batch := inbox.get()) is not None:
                for argument in batch.arguments:
                    batch.started = time.monotonic()
                    batch.results.append(self.function(argument))
                batch.done.set()
        except Abandoned:
            pass

    def close(self) -> None:
        """End the worker thread (a call in progress finishes first)."""
        if self._thread is not None:
            self._inbox.put(None)
            self._thread = None

    def call(self, argument: A, timeout: float) -> T | None:
        """The call's result, or None when it did not finish within ``timeout`` seconds."""
        results, abandoned = self.call_all([argument], timeout)
        return None if abandoned else results[0]

    def call_all(self, arguments: Sequence[A], timeout: float) -> tuple[list[T], bool]:
        """The results of the calls, in order, and whether the call after the last result passed its
        ``timeout`` and was abandoned (the calls after it were not made)."""
        if self._thread is None:
            self._start()
        batch: _Batch[A, T] = _Batch(arguments)
        self._inbox.put(batch)
        while not batch.done.wait(max(0.0, batch.started + timeout - time.monotonic())):
            finished = len(batch.results)  # before the clock: a call that ends now still counts
            if time.monotonic() >= batch.started + timeout and not batch.done.is_set():
                self._abandon()
                return batch.results[:finished], True
        return batch.results, False

    def _abandon(self) -> None:
        self.abandoned += 1
        stuck = self._thread
        self._start()
        if stuck is not None and stuck.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(stuck.ident), ctypes.py_object(Abandoned))
