"""Wire protocol v1 value codec (see PROTOCOL.md), and the one boundary every value from the wire crosses.

Inside the harness a request or response is a dict of Python values: ``bytes``
for binary fields, ``int`` for KID and CTR. On the wire binary is lowercase hex
and u64 values are decimal strings. Which field is which is a table, so a new
op only needs its new field names added here.

Rules of this module: whatever an implementation, a client of ``serve`` or a
reproducer file sends, decoding either returns values of the types the tables
below promise or raises ``ProtocolError`` with one line naming the problem,
never another exception. A message is at most ``MAX_MESSAGE`` bytes, nested at
most ``MAX_DEPTH`` deep; a u64 is at most 20 digits; free text is cut to a
bound (``text.clip``) and lone surrogates are replaced, so nothing downstream
(console, JUnit, HTML) has to survive them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .text import MESSAGE_LIMIT, clip, without_surrogates

PROTOCOL_VERSION = 1

MAX_MESSAGE = 64 << 20  # one JSON line (without its newline) or one binary frame, either direction
MAX_DEPTH = 32  # nesting of lists and objects in one message; the protocol itself needs 2
# Lists, objects and commas in one JSON message: "[[],[],...]" would otherwise turn 64 MiB into gigabytes.
MAX_ITEMS = 1 << 20
U64_DIGITS = 20  # "18446744073709551615"; 2^64 and above still parse, to be refused as invalid_argument

BINARY_FIELDS = frozenset(
    {"base_key", "metadata", "plaintext", "ciphertext", "header", "data", "key", "salt", "nonce", "aad", "epoch_secret",
     "ciphertext_a", "ciphertext_b", "schedule", "timings"}
)
U64_FIELDS = frozenset({"kid", "ctr", "next_ctr", "epoch", "sender_index", "context_id", "generation"})
U64_MAX = (1 << 64) - 1  # the range of a U64_FIELDS value: RFC 9605's KID and CTR are unsigned 64-bit
# JSON integers (binary-v1 type 4), never booleans: "suite": true is not suite 1.
INT_FIELDS = frozenset(
    {"suite", "length", "steps", "step", "ratchet_bits", "epoch_bits", "sender_bits", "replay_window", "protocol",
     "count", "elapsed_ns"}
)
BOOL_FIELDS = frozenset({"ok", "minimal"})
# Strings, with the bound on what is kept of each (a handle is never cut: it is sent back).
TEXT_FIELDS: dict[str, int | None] = {
    "op": 64, "error": 64, "message": MESSAGE_LIMIT, "name": 256, "version": 256, "framing": 64, "mode": 64,
    "clock": 256, "usage": 64, "ctx": None,
}
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1

ERROR_CLASSES = (
    "malformed",
    "auth_failed",
    "unknown_kid",
    "unsupported",
    "invalid_argument",
    "counter_exhausted",
    "key_usage",
    "replay",
    "internal",
)

CORE_OPS = ("hello", "encrypt", "decrypt")
OPTIONAL_OPS = ("encode_header", "decode_header", "derive", "aead_encrypt", "aead_decrypt", "shutdown")
# Capabilities naming groups of stateful ops (PROTOCOL.md, "Stateful ops").
STATEFUL_CAPABILITIES = ("context", "ratchet", "mls", "replay")


class ProtocolError(ValueError):
    """A message that does not follow the protocol."""


def _kind(value: Any) -> str:
    return type(value).__name__


def check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Type- and range-check decoded fields in place (both framings end here); returns ``fields``."""
    for name, value in fields.items():
        if name in BINARY_FIELDS:
            if not isinstance(value, bytes):
                raise ProtocolError(f"field {name!r} must be binary, got {_kind(value)}")
        elif name in U64_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**U64_DIGITS:
                raise ProtocolError(f"field {name!r} must be a u64, got {clip(repr(value), 40)}")
        elif name in INT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int) or not _INT_MIN <= value <= _INT_MAX:
                raise ProtocolError(f"field {name!r} must be an integer, got {clip(repr(value), 40)}")
        elif name in BOOL_FIELDS:
            if not isinstance(value, bool):
                raise ProtocolError(f"field {name!r} must be true or false, got {clip(repr(value), 40)}")
        elif name in TEXT_FIELDS:
            if not isinstance(value, str):
                raise ProtocolError(f"field {name!r} must be a string, got {_kind(value)}")
            limit = TEXT_FIELDS[name]
            fields[name] = clip(without_surrogates(value), limit) if limit else without_surrogates(value)
        else:
            fields[name] = check_value(value, name)
    return fields


def check_value(value: Any, where: str = "value") -> Any:
    """Any other JSON value: nested at most MAX_DEPTH deep, its strings without lone surrogates."""
    if not isinstance(value, (str, list, dict)):
        return value
    if isinstance(value, str):
        return without_surrogates(value)
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        container, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ProtocolError(f"{where}: nested deeper than {MAX_DEPTH}")
        if isinstance(container, dict):
            if not all(k.isascii() for k in container):
                repaired = {without_surrogates(k): v for k, v in container.items()}
                container.clear()
                container.update(repaired)
            items: Iterable[tuple[Any, Any]] = container.items()
        else:
            items = enumerate(container)
        for key, item in list(items):
            if isinstance(item, str):
                if not item.isascii():
                    container[key] = without_surrogates(item)
            elif isinstance(item, (list, dict)):
                stack.append((item, depth + 1))
    return value


def to_wire(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in BINARY_FIELDS and isinstance(value, (bytes, bytearray, memoryview)):
            out[name] = bytes(value).hex()
        elif name in U64_FIELDS and isinstance(value, int) and not isinstance(value, bool):
            out[name] = str(value)
        else:
            out[name] = value
    return out


def from_wire(fields: dict[str, Any]) -> dict[str, Any]:
    """Decode and check wire values; raises ProtocolError naming the bad field."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in BINARY_FIELDS:
            if not isinstance(value, str):
                raise ProtocolError(f"field {name!r} must be a hex string, got {_kind(value)}")
            try:
                out[name] = bytes.fromhex(value)
            except ValueError:
                raise ProtocolError(f"field {name!r} is not valid hex") from None
        elif name in U64_FIELDS:
            if not isinstance(value, str) or not (value.isascii() and value.isdigit() and len(value) <= U64_DIGITS):
                raise ProtocolError(f"field {name!r} must be a decimal string of at most {U64_DIGITS} digits, "
                                    f"got {clip(repr(value), 40)}")
            out[name] = int(value)
        else:
            out[name] = value
    return check_fields(out)


def _no_constant(name: str) -> Any:
    raise ProtocolError(f"{name} is not a JSON number")


def parse_json(data: bytes | str, what: str = "") -> Any:
    """JSON text from outside, as Python values; ProtocolError for anything that is not
    UTF-8 JSON of bounded size and depth (NaN, 100,000-deep lists, 5,000-digit numbers included).
    ``what`` names the text in the error (a line needs no name)."""
    where = f"{what}: " if what else ""
    if len(data) > MAX_MESSAGE:
        raise ProtocolError(f"{where}{len(data)} bytes, more than {MAX_MESSAGE}")
    if len(data) > MAX_ITEMS:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        if raw.count(b"[") + raw.count(b"{") + raw.count(b",") > MAX_ITEMS:
            raise ProtocolError(f"{where}more than {MAX_ITEMS} JSON values")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as e:
        raise ProtocolError(f"{where}not UTF-8 (byte {e.start}): {clip(repr(data[:40]), 60)}") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ProtocolError(f"{where}nested deeper than {MAX_DEPTH}") from None
    except ProtocolError as e:
        raise ProtocolError(f"{where}{e}") from None
    except ValueError as e:  # JSONDecodeError, and ints beyond Python's int-string limit
        raise ProtocolError(f"{where}not JSON ({clip(str(e), 80)}): {clip(repr(text[:60]), 80)}") from None
    return check_value(value, what or "message")


def encode_line(message: dict[str, Any]) -> bytes:
    return json.dumps(to_wire(message), separators=(",", ":")).encode() + b"\n"


def decode_line(line: bytes) -> dict[str, Any]:
    """Parse one response or request line into a dict of wire values (not yet from_wire)."""
    message = parse_json(line)
    if not isinstance(message, dict):
        raise ProtocolError(f"not a JSON object: {clip(repr(line[:60]), 80)}")
    return message
