"""The adapter interface: how the harness talks to one implementation.

An adapter turns protocol requests into responses. Requests are batched so
that adapters which can pipeline (subprocess, browser) do; the in-process
adapter simply loops. Adapters never raise for implementation misbehaviour:
they return a Response whose ``fault`` says what went wrong.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ..model.wire import Hello, Request, Response


class AdapterError(Exception):
    """The implementation cannot be used at all (does not start, fails hello)."""


class Adapter(ABC):
    name: str
    hello: Hello

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


class RestartingAdapter(Adapter):
    """An adapter over a process (or browser worker) that it restarts after a fault.

    A run goes on after a fault with the next request; after ``max_consecutive_faults``
    faults in a row the implementation is taken as unusable and the rest of the batch
    is faulted at once, so a hanging implementation costs a few timeouts, not one each.
    """

    max_consecutive_faults: int = 3

    @abstractmethod
    def _run_until_fault(self, requests: Sequence[Request], results: list[Response]) -> bool:
        """Append responses to ``results`` until the batch ends (True) or one faults (False)."""

    def run(self, requests: Sequence[Request]) -> list[Response]:
        results: list[Response] = []
        consecutive_faults = 0
        while len(results) < len(requests):
            if consecutive_faults >= self.max_consecutive_faults:
                reason = f"not run: {consecutive_faults} consecutive faults, implementation unusable"
                results.extend(Response.faulted(reason) for _ in requests[len(results) :])
                break
            done = self._run_until_fault(requests[len(results) :], results)
            consecutive_faults = 0 if done else consecutive_faults + 1
        return results
