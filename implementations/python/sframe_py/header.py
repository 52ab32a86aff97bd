"""SFrame header codec (RFC 9605 §4.3).

The encoder always produces the minimal form. The parser accepts every
well-formed header, including non-minimal ones (the RFC does not require
rejecting them), but reports minimality and keeps the exact received bytes:
the AAD must be those bytes, never a re-encoding.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidArgumentError, MalformedError

U64_MAX = (1 << 64) - 1


def check_u64(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= U64_MAX:
        raise InvalidArgumentError(f"{name} {value!r} is not an unsigned 64-bit integer")
    return value


def _field(value: int) -> tuple[int, bytes]:
    """Return (4-bit config nibble, extension bytes) for one of KID or CTR."""
    if value < 8:
        return value, b""
    n = (value.bit_length() + 7) // 8
    return 0x8 | (n - 1), value.to_bytes(n, "big")


def encode_header(kid: int, ctr: int) -> bytes:
    kid_nibble, kid_bytes = _field(check_u64("kid", kid))
    ctr_nibble, ctr_bytes = _field(check_u64("ctr", ctr))
    return bytes([(kid_nibble << 4) | ctr_nibble]) + kid_bytes + ctr_bytes


@dataclass(frozen=True)
class Header:
    kid: int
    ctr: int
    encoded: bytes  # the exact bytes as received: this, not a re-encoding, is the AAD

    @property
    def length(self) -> int:
        return len(self.encoded)

    @property
    def minimal(self) -> bool:
        return self.encoded == encode_header(self.kid, self.ctr)


def parse_header(data: bytes) -> Header:
    """Parse the header at the start of ``data``; trailing bytes are ignored."""
    if not data:
        raise MalformedError("empty input: no SFrame header")
    config = data[0]
    # The two fields inline, not through a helper: this runs once per received frame.
    kid, end = config >> 4, 1
    if kid & 0x8:
        start, end = end, end + (kid & 0x7) + 1
        if end > len(data):
            raise MalformedError(f"header truncated: KID needs {end - start} bytes, {len(data) - start} present")
        kid = int.from_bytes(data[start:end], "big")
    ctr = config & 0xF
    if ctr & 0x8:
        start, end = end, end + (ctr & 0x7) + 1
        if end > len(data):
            raise MalformedError(f"header truncated: CTR needs {end - start} bytes, {len(data) - start} present")
        ctr = int.from_bytes(data[start:end], "big")
    return Header(kid, ctr, bytes(data[:end]))
