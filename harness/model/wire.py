"""Wire types: the requests, responses and hello an adapter exchanges with an implementation.

Rules of this module: values here are already decoded (``bytes`` for binary
fields, ``int`` for u64 fields); the JSON-lines codec is ``protocol``. A
``Response`` never raises for implementation misbehaviour: ``fault`` says what
went wrong, and grading turns it into an ``error``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .protocol import ProtocolError, decode_line, from_wire


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


# Something that answers one request: an adapter's ``call``. The catalogue generator records
# expected outputs through one, so it never imports an adapter.
Reference = Callable[[Request], Response]
