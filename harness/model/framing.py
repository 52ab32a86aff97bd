"""Binary framing ``binary-v1`` (PROTOCOL.md, "Binary framing"): the codec, sans I/O.

Rules of this module: a message is the same dict of decoded values that the
JSON-lines codec gives (``bytes`` for binary fields, ``int`` for u64 and
integer fields); only its bytes on the wire differ. Decoding validates every
length against the bytes present and against ``MAX_MESSAGE``, so a hostile
peer gets a ``ProtocolError`` naming the problem, never an exception of another
kind or an allocation it chose.

    frame   = length:u32be payload            (1 <= length <= MAX_MESSAGE)
    payload = field*
    field   = type:u8 name_len:u8 name value
    value   = BYTES  u32be n, n bytes         (binary fields: base_key, ciphertext, ...)
            | U64    8 bytes big-endian       (u64 fields: kid, ctr, ...)
            | STRING u32be n, n bytes UTF-8
            | INT    8 bytes big-endian two's complement
            | BOOL   1 byte, 0 or 1
            | JSON   u32be n, n bytes of UTF-8 JSON text (lists, objects, null)
"""

from __future__ import annotations

import json
import struct
from typing import Any

from .protocol import BINARY_FIELDS, U64_FIELDS, ProtocolError

NAME = "binary-v1"
MAX_MESSAGE = 64 << 20  # one message, either direction (PROTOCOL.md)

BYTES, U64, STRING, INT, BOOL, JSON = 1, 2, 3, 4, 5, 6
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_I64 = struct.Struct(">q")
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1


def _field(name: str, value: Any) -> bytes:
    key = name.encode("ascii")
    if not 1 <= len(key) <= 255:
        raise ValueError(f"field name {name!r} must be 1 to 255 ASCII bytes")

    def head(kind: int) -> bytes:
        return bytes((kind, len(key))) + key

    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return head(BYTES) + _U32.pack(len(data)) + data
    if isinstance(value, bool):
        return head(BOOL) + (b"\x01" if value else b"\x00")
    if isinstance(value, int):
        if name in U64_FIELDS and 0 <= value < (1 << 64):
            return head(U64) + _U64.pack(value)
        if name in U64_FIELDS or not _INT_MIN <= value <= _INT_MAX:
            # Out of range on purpose (invalid-input cases): sent as a decimal string, as JSON lines do.
            text = str(value).encode()
            return head(STRING) + _U32.pack(len(text)) + text
        return head(INT) + _I64.pack(value)
    if isinstance(value, str):
        text = value.encode("utf-8", "replace")  # a lone surrogate cannot cross as UTF-8
        return head(STRING) + _U32.pack(len(text)) + text
    text = json.dumps(value, separators=(",", ":")).encode()
    return head(JSON) + _U32.pack(len(text)) + text


def encode(message: dict[str, Any]) -> bytes:
    """One framed message (length prefix included)."""
    payload = b"".join(_field(name, value) for name, value in message.items())
    if len(payload) > MAX_MESSAGE:
        raise ValueError(f"message of {len(payload)} bytes exceeds {MAX_MESSAGE}")
    return _U32.pack(len(payload)) + payload


def frame_length(prefix: bytes) -> int:
    """The payload length a 4-byte prefix announces; ProtocolError when out of bounds."""
    length: int = _U32.unpack(prefix)[0]
    if not 1 <= length <= MAX_MESSAGE:
        raise ProtocolError(f"binary frame length {length} outside 1..{MAX_MESSAGE}")
    return length


def decode(payload: bytes) -> dict[str, Any]:
    """The fields of one payload (without its length prefix), decoded and validated."""
    out: dict[str, Any] = {}
    view = memoryview(payload)
    at, end = 0, len(payload)

    def take(n: int, what: str) -> bytes:
        nonlocal at
        if n > end - at:
            raise ProtocolError(f"binary frame ends inside {what}")
        chunk = bytes(view[at : at + n])
        at += n
        return chunk

    while at < end:
        kind, name_len = take(2, "a field header")
        try:
            name = take(name_len, "a field name").decode("ascii")
        except UnicodeDecodeError:
            raise ProtocolError("binary field name is not ASCII") from None
        if not name or name in out:
            raise ProtocolError(f"binary field name {name!r} is empty or repeated")
        if kind == BYTES:
            value: Any = take(_U32.unpack(take(4, name))[0], name)
        elif kind == U64:
            value = _U64.unpack(take(8, name))[0]
        elif kind == INT:
            value = _I64.unpack(take(8, name))[0]
        elif kind == BOOL:
            flag = take(1, name)[0]
            if flag > 1:
                raise ProtocolError(f"binary field {name!r}: bool byte {flag}")
            value = flag == 1
        elif kind in (STRING, JSON):
            raw = take(_U32.unpack(take(4, name))[0], name)
            try:
                value = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError(f"binary field {name!r} is not UTF-8") from None
            if kind == JSON:
                value = _json_value(name, value)
        else:
            raise ProtocolError(f"binary field {name!r} has unknown type {kind}")
        out[name] = value
    return _check_kinds(out)


def _json_value(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(f"binary field {name!r} holds invalid JSON") from None


def _check_kinds(fields: dict[str, Any]) -> dict[str, Any]:
    """Binary fields must arrive as BYTES; a u64 field as U64 (or a decimal string, as in JSON lines)."""
    for name, value in fields.items():
        if name in BINARY_FIELDS and not isinstance(value, bytes):
            raise ProtocolError(f"field {name!r} must be bytes, got {type(value).__name__}")
        if name in U64_FIELDS and isinstance(value, str):
            if not (value.isascii() and value.isdigit() and len(value) <= 20):
                raise ProtocolError(f"field {name!r} must be a u64, got {value[:40]!r}")
            fields[name] = int(value)
        elif name in U64_FIELDS and (isinstance(value, bool) or not isinstance(value, int)):
            raise ProtocolError(f"field {name!r} must be a u64, got {type(value).__name__}")
    return fields
