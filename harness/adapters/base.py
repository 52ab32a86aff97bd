"""The adapter interface: how the harness talks to one implementation.

An adapter turns protocol requests into responses. Requests are batched so
that adapters which can pipeline (subprocess, browser) do; the in-process
adapter simply loops. Adapters never raise for implementation misbehaviour:
they return a Response whose ``fault`` says what went wrong.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..protocol import ProtocolError, decode_line, from_wire


@dataclass(frozen=True)
class Request:
    op: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    ok: bool
    fields: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # protocol error class when ok is False
    message: str = ""
    fault: str | None = None  # the implementation misbehaved (crash, hang, garbage): grade "error"
    elapsed: float = 0.0

    @classmethod
    def faulted(cls, reason: str) -> "Response":
        return cls(ok=False, error=None, message=reason, fault=reason)


@dataclass(frozen=True)
class Hello:
    name: str
    version: str
    protocol: int
    suites: tuple[int, ...]
    capabilities: tuple[str, ...]

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> "Hello":
        return cls(
            name=str(fields.get("name", "?")),
            version=str(fields.get("version", "?")),
            protocol=int(fields.get("protocol", 0)),
            suites=tuple(int(s) for s in fields.get("suites", ())),
            capabilities=tuple(str(c) for c in fields.get("capabilities", ())),
        )


def response_from_line(line: bytes, request_id: int, source: str) -> Response:
    """One wire-protocol response line as a Response. A line that is not a response to
    ``request_id`` is a fault, named after where it came from (``source``)."""
    try:
        message = decode_line(line)
    except ProtocolError as e:
        return Response.faulted(f"garbage on {source}: {e}")
    if message.get("id") != request_id:
        return Response.faulted(f"out-of-order response: expected id {request_id}, got {message.get('id')!r}")
    ok = message.get("ok")
    if ok is True:
        try:
            return Response(True, from_wire({k: v for k, v in message.items() if k not in ("id", "ok")}))
        except ProtocolError as e:
            return Response.faulted(f"bad response: {e}")
    if ok is False and isinstance(message.get("error"), str):
        return Response(False, error=message["error"], message=str(message.get("message", "")))
    return Response.faulted("bad response: needs 'ok' true, or false with an 'error'")


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
