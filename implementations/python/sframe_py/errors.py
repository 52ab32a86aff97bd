"""Typed SFrame errors.

Each class carries ``code``, the wire-protocol error class, so adapters map
errors to the protocol without a lookup table that could drift.
"""

from __future__ import annotations


class SFrameError(Exception):
    """Base class: every failure this library raises is one of its subclasses."""

    code = "internal"


class MalformedError(SFrameError):
    """The input cannot be parsed: empty, truncated header, or body shorter than the tag."""

    code = "malformed"


class AuthenticationError(SFrameError):
    """The AEAD tag did not verify. No plaintext is released."""

    code = "auth_failed"


class UnknownKidError(SFrameError):
    """No key is installed for this KID."""

    code = "unknown_kid"


class UnsupportedSuiteError(SFrameError):
    """The cipher suite code point is not one this library implements."""

    code = "unsupported"


class InvalidArgumentError(SFrameError):
    """A caller-supplied value is out of range (KID >= 2^64, wrong key length, ...)."""

    code = "invalid_argument"


class CounterExhaustedError(SFrameError):
    """CTR 2^64-1 has been used: encrypting again would reuse a nonce."""

    code = "counter_exhausted"


class KeyUsageError(SFrameError):
    """A key was used against its usage (send-only vs receive-only)."""

    code = "key_usage"


class ReplayError(SFrameError):
    """An optional receiver replay window rejected the frame: its CTR was already
    accepted under this KID, or is too far behind the newest one."""

    code = "replay"
