"""Wire types: the requests, responses and hello an adapter exchanges with an implementation.

Rules of this module: values here are already decoded (``bytes`` for binary
fields, ``int`` for u64 fields) and checked; the JSON-lines codec and the checks
are ``protocol``, the binary-v1 codec ``framing``. A ``Response`` never raises
for implementation misbehaviour: ``fault`` says what went wrong, and grading
turns it into an ``error``. A ``Hello`` that breaks the protocol is refused
(``ProtocolError``), since nothing can be run against it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .protocol import PROTOCOL_VERSION, ProtocolError, check_fields, decode_line, from_wire
from .text import clip


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
        """The hello of checked fields (``check_fields``); ProtocolError names what is wrong with it."""
        name, version = fields.get("name", "?"), fields.get("version", "?")
        protocol, suites, capabilities = fields.get("protocol"), fields.get("suites", []), fields.get("capabilities", [])
        if not isinstance(name, str) or not isinstance(version, str):
            raise ProtocolError("hello: 'name' and 'version' must be strings")
        if protocol != PROTOCOL_VERSION or isinstance(protocol, bool):
            raise ProtocolError(f"hello: 'protocol' must be {PROTOCOL_VERSION}, got {clip(repr(protocol), 40)}")
        if not isinstance(suites, list) or not all(type(s) is int and 0 <= s <= 0xFFFF for s in suites):
            raise ProtocolError(f"hello: 'suites' must be a list of cipher suite numbers, got {clip(repr(suites), 60)}")
        if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
            raise ProtocolError(f"hello: 'capabilities' must be a list of strings, got {clip(repr(capabilities), 60)}")
        return cls(name, version, protocol, tuple(suites), tuple(clip(c, 64) for c in capabilities))


def response_from_message(message: dict[str, Any], request_id: int) -> Response:
    """One decoded, checked message (either framing) as the Response to ``request_id``;
    a message that is not one is a fault."""
    if message.get("id") != request_id:
        return Response.faulted(f"out-of-order response: expected id {request_id}, got {clip(repr(message.get('id')), 40)}")
    ok = message.get("ok")
    if ok is True:
        return Response(True, {k: v for k, v in message.items() if k not in ("id", "ok")})
    error = message.get("error")
    if ok is False and isinstance(error, str):
        text = message.get("message", "")
        return Response(False, error=error, message=text if isinstance(text, str) else "")
    return Response.faulted("bad response: needs 'ok' true, or false with an 'error'")


def response_from_line(line: bytes, request_id: int, source: str) -> Response:
    """One wire-protocol response line as a Response. A line that is not a response to
    ``request_id`` is a fault, named after where it came from (``source``)."""
    try:
        message = decode_line(line)
    except ProtocolError as e:
        return Response.faulted(f"garbage on {source}: {e}")
    try:
        if message.get("ok") is True:
            fields = from_wire({k: v for k, v in message.items() if k not in ("id", "ok")})
        else:
            fields = check_fields({k: message[k] for k in ("error", "message") if k in message})
    except ProtocolError as e:
        return Response.faulted(f"bad response: {e}")
    return response_from_message({**message, **fields}, request_id)


# Something that answers one request: an adapter's ``call``. The catalogue generator records
# expected outputs through one, so it never imports an adapter.
Reference = Callable[[Request], Response]
