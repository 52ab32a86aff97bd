"""The adapter interface: how the harness talks to one implementation.

An adapter turns protocol requests into responses. Requests are batched so
that adapters which can pipeline (subprocess, browser) do; the in-process
adapter simply loops. Adapters never raise for implementation misbehaviour:
they return a Response whose ``fault`` says what went wrong.

Rules for adapters over a process (``RestartingAdapter``):

- A fault costs the request that faulted and nothing else: the process is
  replaced and the batch goes on with the next request.
- ``restarts`` counts the replacements. Each one loses every context the old
  process held, so a caller running stateful cases compares it before and
  after a batch to know which answers came from a process that had lost state.
- The implementation is given up only when a fresh process cannot start or
  answer ``hello``: then every request left is faulted with that one reason,
  said once on stderr.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence

from ..model.text import for_terminal
from ..model.wire import Hello, Request, Response


class AdapterError(Exception):
    """The implementation cannot be used at all (does not start, fails hello)."""


class Adapter(ABC):
    name: str
    hello: Hello
    # Times the implementation lost its state (a process replaced after a fault, an in-process op abandoned).
    restarts: int = 0

    @abstractmethod
    def run(self, requests: Sequence[Request]) -> list[Response]:
        """Answer every request, in order, one Response each."""

    def call(self, request: Request) -> Response:
        return self.run([request])[0]

    def close(self) -> None:
        pass

    def __enter__(self) -> "Adapter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FailedAdapter(Adapter):
    """Stands in for an implementation that could not be started or failed ``hello``: every
    request is faulted with the reason, so its cases become a row of errors in a report
    that still holds every other implementation."""

    def __init__(self, name: str, reason: str, suites: Sequence[int] = ()) -> None:
        self.name = name
        self.reason = reason
        # ``suites``: the matrix gives every suite, so that the implementation's row and column are errors too.
        self.hello = Hello(name=name, version="unavailable", protocol=1, suites=tuple(suites), capabilities=())

    def run(self, requests: Sequence[Request]) -> list[Response]:
        return [Response.faulted(f"not run: {self.reason}") for _ in requests]


class RestartingAdapter(Adapter):
    """An adapter over a process (or browser worker) that it replaces after a fault (rules above)."""

    unusable: str | None = None  # why the implementation was given up, once it is

    @abstractmethod
    def _run_until_fault(self, requests: Sequence[Request], results: list[Response]) -> bool:
        """Append responses to ``results`` until the batch ends (True) or one faults (False)."""

    @abstractmethod
    def _replace(self) -> None:
        """After a fault: a fresh process that has answered hello; AdapterError when there is none."""

    def run(self, requests: Sequence[Request]) -> list[Response]:
        results: list[Response] = []
        while len(results) < len(requests):
            if self.unusable is not None:
                results.extend(Response.faulted(f"not run: {self.unusable}") for _ in requests[len(results):])
                break
            if self._run_until_fault(requests[len(results):], results):
                break
            self.restarts += 1
            try:
                self._replace()
            except AdapterError as e:
                self.give_up(f"implementation unusable after a fault: {e}")
        return results

    def give_up(self, reason: str) -> None:
        self.unusable = reason
        print(f"harness: {for_terminal(self.name)}: {for_terminal(reason)}; its remaining cases are graded error",
              file=sys.stderr)
