"""Wire protocol v1 value codec (see PROTOCOL.md).

Inside the harness a request or response is a dict of Python values: ``bytes``
for binary fields, ``int`` for KID and CTR. On the wire binary is lowercase hex
and u64 values are decimal strings. Which field is which is a table, so a new
op only needs its new field names added here.
"""

from __future__ import annotations

import json
from typing import Any

PROTOCOL_VERSION = 1

BINARY_FIELDS = frozenset(
    {"base_key", "metadata", "plaintext", "ciphertext", "header", "data", "key", "salt", "nonce", "aad", "epoch_secret",
     "ciphertext_a", "ciphertext_b", "schedule", "timings"}
)
U64_FIELDS = frozenset({"kid", "ctr", "next_ctr", "epoch", "sender_index", "context_id", "generation"})

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
    """Decode wire values; raises ProtocolError naming the bad field."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in BINARY_FIELDS:
            if not isinstance(value, str):
                raise ProtocolError(f"field {name!r} must be a hex string, got {type(value).__name__}")
            try:
                out[name] = bytes.fromhex(value)
            except ValueError:
                raise ProtocolError(f"field {name!r} is not valid hex") from None
        elif name in U64_FIELDS:
            if not isinstance(value, str) or not value.isdigit() or not value.isascii():
                raise ProtocolError(f"field {name!r} must be a decimal string, got {value!r:.40}")
            out[name] = int(value)
        else:
            out[name] = value
    return out


def encode_line(message: dict[str, Any]) -> bytes:
    return json.dumps(to_wire(message), separators=(",", ":")).encode() + b"\n"


def decode_line(line: bytes) -> dict[str, Any]:
    """Parse one response or request line into a dict of wire values (not yet from_wire)."""
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError(f"not JSON: {line[:80]!r}") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"not a JSON object: {line[:80]!r}")
    return message
