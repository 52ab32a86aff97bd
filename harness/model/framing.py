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

from .protocol import BINARY_FIELDS, MAX_MESSAGE, U64_DIGITS, U64_FIELDS, ProtocolError, check_fields, parse_json

NAME = "binary-v1"
__all__ = ["MAX_MESSAGE", "NAME", "Deframer", "check", "decode", "decode_unchecked", "encode", "frame_length"]

BYTES, U64, STRING, INT, BOOL, JSON = 1, 2, 3, 4, 5, 6
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_I64 = struct.Struct(">q")
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1


_HEADS: dict[str, tuple[bytes, ...]] = {}  # name -> the field's first bytes, by type; names are few


def _heads(name: str) -> tuple[bytes, ...]:
    heads = _HEADS.get(name)
    if heads is None:
        key = name.encode("ascii")
        if not 1 <= len(key) <= 255:
            raise ValueError(f"field name {name!r} must be 1 to 255 ASCII bytes")
        heads = _HEADS[name] = tuple(bytes((kind, len(key))) + key for kind in range(JSON + 1))
    return heads


def _field(parts: list[bytes], name: str, value: Any) -> None:
    heads = _heads(name)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        parts += (heads[BYTES], _U32.pack(len(data)), data)
    elif isinstance(value, bool):
        parts += (heads[BOOL], b"\x01" if value else b"\x00")
    elif isinstance(value, int):
        if name in U64_FIELDS and 0 <= value < (1 << 64):
            parts += (heads[U64], _U64.pack(value))
        elif name in U64_FIELDS or not _INT_MIN <= value <= _INT_MAX:
            # Out of range on purpose (invalid-input cases): sent as a decimal string, as JSON lines do.
            text = str(value).encode()
            parts += (heads[STRING], _U32.pack(len(text)), text)
        else:
            parts += (heads[INT], _I64.pack(value))
    elif isinstance(value, str):
        text = value.encode("utf-8", "replace")  # a lone surrogate cannot cross as UTF-8
        parts += (heads[STRING], _U32.pack(len(text)), text)
    else:
        text = json.dumps(value, separators=(",", ":")).encode()
        parts += (heads[JSON], _U32.pack(len(text)), text)


def encode(message: dict[str, Any]) -> bytes:
    """One framed message (length prefix included)."""
    parts = [b""]
    append = parts.append
    for name, value in message.items():
        # The common types first, inline: this runs once per request of a pipelined batch.
        kind = type(value)
        if kind is bytes:
            heads = _HEADS.get(name) or _heads(name)
            append(heads[BYTES])
            append(_U32.pack(len(value)))
            append(value)
        elif kind is int and name not in U64_FIELDS and _INT_MIN <= value <= _INT_MAX:
            append((_HEADS.get(name) or _heads(name))[INT])
            append(_I64.pack(value))
        elif kind is str:
            text = value.encode("utf-8", "replace")
            append((_HEADS.get(name) or _heads(name))[STRING])
            append(_U32.pack(len(text)))
            append(text)
        else:
            _field(parts, name, value)
    length = sum(map(len, parts))
    if length > MAX_MESSAGE:
        raise ValueError(f"message of {length} bytes exceeds {MAX_MESSAGE}")
    parts[0] = _U32.pack(length)
    return b"".join(parts)


def frame_length(prefix: bytes) -> int:
    """The payload length a 4-byte prefix announces; ProtocolError when out of bounds."""
    length: int = _U32.unpack(prefix)[0]
    if not 1 <= length <= MAX_MESSAGE:
        raise ProtocolError(f"binary frame length {length} outside 1..{MAX_MESSAGE}")
    return length


def decode(payload: bytes) -> dict[str, Any]:
    """The fields of one payload (without its length prefix), decoded and validated."""
    return check(decode_unchecked(payload))


def decode_unchecked(payload: bytes) -> dict[str, Any]:
    """The fields of one payload as their wire types, structure checked (lengths, types, names)
    but not the protocol's field tables: a server reads ``id`` here to echo it in its refusal."""
    out: dict[str, Any] = {}
    at, end = 0, len(payload)
    name = ""
    try:
        while at < end:
            kind, name_end = payload[at], at + 2 + payload[at + 1]
            if name_end > end:
                raise IndexError
            name = payload[at + 2 : name_end].decode("ascii")
            at = name_end
            if not name or name in out:
                raise ProtocolError(f"binary field name {name!r} is empty or repeated")
            value: Any
            if kind == BYTES or kind == STRING or kind == JSON:
                value_end = at + 4 + _U32.unpack_from(payload, at)[0]
                if value_end > end:
                    raise IndexError
                raw = payload[at + 4 : value_end]
                at = value_end
                if kind == BYTES:
                    value = raw
                else:
                    value = raw.decode("utf-8")
                    if kind == JSON:
                        value = parse_json(value, f"binary field {name!r}")
            elif kind == U64:
                value = _U64.unpack_from(payload, at)[0]
                at += 8
            elif kind == INT:
                value = _I64.unpack_from(payload, at)[0]
                at += 8
            elif kind == BOOL:
                flag = payload[at]
                at += 1
                if flag > 1:
                    raise ProtocolError(f"binary field {name!r}: bool byte {flag}")
                value = flag == 1
            else:
                raise ProtocolError(f"binary field {name!r} has unknown type {kind}")
            if at > end:
                raise IndexError
            out[name] = value
    except (IndexError, struct.error):
        raise ProtocolError(f"binary frame ends inside field {name!r}" if name else "binary frame ends inside a field")
    except UnicodeDecodeError:
        raise ProtocolError(f"binary field {name!r} is not UTF-8" if name else "binary field name is not ASCII") from None
    return out


def check(fields: dict[str, Any]) -> dict[str, Any]:
    """Binary fields must arrive as BYTES; a u64 field as U64 (or a decimal string, as in JSON lines);
    then the checks every decoded message passes, whatever its framing."""
    for name, value in fields.items():
        if name in BINARY_FIELDS and not isinstance(value, bytes):
            raise ProtocolError(f"field {name!r} must be bytes, got {type(value).__name__}")
        if name in U64_FIELDS and isinstance(value, str):
            if not (value.isascii() and value.isdigit() and len(value) <= U64_DIGITS):
                raise ProtocolError(f"field {name!r} must be a u64, got {value[:40]!r}")
            fields[name] = int(value)
    return check_fields(fields)


class Deframer:
    """Splits a byte stream into messages, sans I/O: JSON lines (without their newline) until
    ``binary`` is set, binary-v1 payloads after. ``feed`` returns each message as ``bytes``,
    or a ``ProtocolError`` in its place: a line over ``limit`` bytes (its rest is skipped up to
    the next newline), or a frame length out of bounds, after which nothing more can be read
    (``broken``). Memory stays within one message plus one chunk, whatever the peer sends."""

    def __init__(self, limit: int = MAX_MESSAGE) -> None:
        self.limit = limit
        self.binary = False
        self.broken = False
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer already searched for a newline
        self._skipping = False  # inside a line already reported as too long

    def feed(self, data: bytes) -> list[bytes | ProtocolError]:
        out: list[bytes | ProtocolError] = []
        if self.broken:
            return out
        buffer = self._buffer
        buffer += data
        pos = 0
        while pos < len(buffer):
            if self.binary:
                if len(buffer) - pos < 4:
                    break
                try:
                    length = frame_length(bytes(buffer[pos : pos + 4]))
                except ProtocolError as e:
                    out.append(e)
                    self.broken = True
                    buffer.clear()
                    return out
                if len(buffer) - pos - 4 < length:
                    break
                out.append(bytes(buffer[pos + 4 : pos + 4 + length]))
                pos += 4 + length
                continue
            end = buffer.find(b"\n", max(pos, self._scanned))
            if end < 0:
                if len(buffer) - pos > self.limit:
                    if not self._skipping:
                        out.append(ProtocolError(f"line longer than {self.limit} bytes"))
                    self._skipping = True
                    pos = len(buffer)
                self._scanned = len(buffer)
                break
            if self._skipping:
                self._skipping = False  # the end of the too-long line
            elif end - pos > self.limit:
                out.append(ProtocolError(f"line longer than {self.limit} bytes"))
            else:
                out.append(bytes(buffer[pos:end]))
            pos = end + 1
        del buffer[:pos]
        self._scanned = max(0, self._scanned - pos)
        return out
