"""``python -m harness serve --impl NAME``: expose an implementation over wire protocol v1 on stdio."""

from __future__ import annotations

from typing import Any, BinaryIO

from ..model.protocol import ProtocolError, decode_line, encode_line, from_wire
from ..model.wire import Request
from .base import Adapter


def _answer(adapter: Adapter, message: dict[str, Any]) -> dict[str, Any]:
    request_id = message.get("id")
    op = message.get("op")
    if not isinstance(op, str):
        return {"id": request_id, "ok": False, "error": "invalid_argument", "message": "missing 'op'"}
    try:
        fields = from_wire({k: v for k, v in message.items() if k not in ("id", "op")})
    except ProtocolError as e:
        return {"id": request_id, "ok": False, "error": "invalid_argument", "message": str(e)}
    response = adapter.call(Request(op, fields))
    if response.ok:
        return {"id": request_id, "ok": True, **response.fields}
    if response.fault is not None:
        return {"id": request_id, "ok": False, "error": "internal", "message": response.fault}
    return {"id": request_id, "ok": False, "error": response.error, "message": response.message}


def serve(adapter: Adapter, stdin: BinaryIO, stdout: BinaryIO) -> None:
    for line in stdin:
        if not line.strip():
            continue
        try:
            message = decode_line(line)
        except ProtocolError as e:
            message = None
            reply = {"id": None, "ok": False, "error": "invalid_argument", "message": str(e)}
        else:
            reply = _answer(adapter, message)
        stdout.write(encode_line(reply))
        stdout.flush()
        if message is not None and message.get("op") == "shutdown" and reply["ok"]:
            break
