"""``python -m harness serve --impl NAME``: expose an implementation over wire protocol v1 on stdio.

Rules of this module: serve is an implementation seen from the outside, so its
client is not trusted either. Input is read in chunks through a ``Deframer``
(at most one message of ``MAX_MESSAGE`` bytes is held); every request is
decoded and checked by the model's codecs, and anything that fails becomes an
``invalid_argument`` answer, never an exception. A ``hello`` offering
``binary-v1`` is answered with ``"framing": "binary-v1"`` (still a JSON line),
and both directions use binary frames from the next message on.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from ..model import framing
from ..model.protocol import ProtocolError, decode_line, encode_line, from_wire
from ..model.wire import Request
from .base import Adapter

CHUNK = 1 << 16


def _error(request_id: Any, error: str, message: str) -> dict[str, Any]:
    return {"id": request_id, "ok": False, "error": error, "message": message}


def _answer(adapter: Adapter, request_id: Any, op: Any, fields: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(op, str):
        return _error(request_id, "invalid_argument", "missing 'op'")
    response = adapter.call(Request(op, fields))
    if response.ok:
        return {"id": request_id, "ok": True, **response.fields}
    if response.fault is not None:
        return _error(request_id, "internal", response.fault)
    return _error(request_id, response.error or "internal", response.message)


class _Session:
    """One client: its framing, and the answer to each message it sends."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.deframer = framing.Deframer()
        self.done = False

    def reply(self, item: bytes | ProtocolError) -> bytes:
        binary = self.deframer.binary
        request_id: Any = None
        try:
            if isinstance(item, ProtocolError):
                raise item
            if binary:
                message = framing.decode_unchecked(item)
                request_id = message.pop("id", None)
                op, fields = message.pop("op", None), framing.check(message)
            else:
                if not item.strip():
                    return b""
                message = decode_line(item)
                request_id = message.get("id")
                op = message.get("op")
                fields = from_wire({k: v for k, v in message.items() if k not in ("id", "op")})
        except ProtocolError as e:
            answer = _error(request_id if isinstance(request_id, (int, str)) else None, "invalid_argument", str(e))
            return framing.encode(answer) if binary else encode_line(answer)
        offered = fields.get("framings")
        switch = op == "hello" and not binary and isinstance(offered, list) and framing.NAME in offered
        answer = _answer(self.adapter, request_id, op, {k: v for k, v in fields.items() if k != "framings"})
        if switch and answer["ok"]:
            answer["framing"] = framing.NAME
            self.deframer.binary = True
        if op == "shutdown" and answer["ok"]:
            self.done = True
        try:
            return framing.encode(answer) if binary else encode_line(answer)
        except (TypeError, ValueError) as e:
            fallback = _error(request_id, "internal", f"cannot encode the answer: {e}")
            return framing.encode(fallback) if binary else encode_line(fallback)


def serve(adapter: Adapter, stdin: BinaryIO, stdout: BinaryIO) -> None:
    session = _Session(adapter)
    read = getattr(stdin, "read1", stdin.read)
    while not session.done and not session.deframer.broken:
        chunk = read(CHUNK)
        if not chunk:
            break
        replies = []
        for item in session.deframer.feed(chunk):
            replies.append(session.reply(item))
            if session.done:
                break
        # One write per chunk read: a pipelining client gets its answers in batches.
        stdout.write(b"".join(replies))
        stdout.flush()
