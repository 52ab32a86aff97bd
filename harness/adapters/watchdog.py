"""A deadline for calls that run in this process (the in-process adapter's stateful ops).

Rules of this module: a call runs in one daemon worker thread while the caller
waits at most ``timeout`` seconds (Ctrl-C ends the wait). A call past its
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
from collections.abc import Callable
from typing import Generic, TypeVar

A = TypeVar("A")
T = TypeVar("T")


class Abandoned(BaseException):
    """Raised into a worker whose call passed its deadline (BaseException: no handler catches it)."""


class Watchdog(Generic[A, T]):
    """Runs ``function(argument)`` calls one at a time with a deadline; ``function`` must not raise."""

    def __init__(self, function: Callable[[A], T], name: str = "sframe-watchdog") -> None:
        self.function = function
        self.name = name
        self.abandoned = 0
        self._thread: threading.Thread | None = None
        self._inbox: queue.SimpleQueue[tuple[A, queue.SimpleQueue[T]] | None] = queue.SimpleQueue()

    def _start(self) -> None:
        self._inbox = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, args=(self._inbox,), name=self.name, daemon=True)
        self._thread.start()

    def _work(self, inbox: queue.SimpleQueue[tuple[A, queue.SimpleQueue[T]] | None]) -> None:
        try:
            while (job := inbox.get()) is not None:
                argument, answer = job
                answer.put(self.function(argument))
        except Abandoned:
            pass

    def close(self) -> None:
        """End the worker thread (a call in progress finishes first)."""
        if self._thread is not None:
            self._inbox.put(None)
            self._thread = None

    def call(self, argument: A, timeout: float) -> T | None:
        """The call's result, or None when it did not finish within ``timeout`` seconds."""
        if self._thread is None:
            self._start()
        answer: queue.SimpleQueue[T] = queue.SimpleQueue()
        self._inbox.put((argument, answer))
        try:
            return answer.get(timeout=timeout)
        except queue.Empty:
            pass
        self.abandoned += 1
        stuck = self._thread
        self._start()
        if stuck is not None and stuck.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(stuck.ident), ctypes.py_object(Abandoned))
        return None
