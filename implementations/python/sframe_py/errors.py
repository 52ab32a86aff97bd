"""Typed SFrame errors, split by whose fault they are (as h11 splits
LocalProtocolError from RemoteProtocolError).

Rules of this module:
- ``LocalError``: the calling code misused the library (an argument out of range,
  a key used against its usage, a counter used up, a KID or epoch that holds no
  key). Retrying the same call fails the same way; fix the caller.
- ``RemoteError``: a frame received from the network is bad (unparsable, forged,
  for a KID we hold no key for, replayed). Drop the frame and carry on; the
  library's state is unchanged.
- Each class carries ``code``, the wire-protocol error class, so adapters map
  errors to the protocol without a lookup table that could drift. A class states
  it in its class line (``class X(LocalError, code="...")``) beside whose fault it
  is. Two classes may share a code: the wire protocol names what went wrong, not
  whose fault it is.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SFrameError(Exception):
    """Base class: every failure this library raises is one of its subclasses."""

    code: ClassVar[str] = "internal"

    def __init_subclass__(cls, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code


class LocalError(SFrameError):
    """The caller misused the library."""


class RemoteError(SFrameError):
    """A received frame is bad; no plaintext is released and no state has changed."""


class InvalidArgumentError(LocalError, code="invalid_argument"):
    """A caller-supplied value is out of range (KID >= 2^64, wrong key length, ...)."""


class UnsupportedSuiteError(LocalError, code="unsupported"):
    """The cipher suite code point is not one this library implements."""


class KeyUsageError(LocalError, code="key_usage"):
    """A key was used against its usage (send-only vs receive-only)."""


class CounterExhaustedError(LocalError, code="counter_exhausted"):
    """CTR 2^64-1 has been used: encrypting again would reuse a nonce."""


class NoKeyError(LocalError, code="unknown_kid"):
    """The caller named a KID (or an MLS epoch) that holds no key: encrypting under it,
    or removing it."""


class MalformedError(RemoteError, code="malformed"):
    """The input cannot be parsed: empty, truncated header, or body shorter than the tag."""


class AuthenticationError(RemoteError, code="auth_failed"):
    """The AEAD tag did not verify. No plaintext is released."""


class UnknownKidError(RemoteError, code="unknown_kid"):
    """A received frame's KID has no receive key here."""


class ReplayError(RemoteError, code="replay"):
    """An optional receiver replay window rejected the frame: its CTR was already
    accepted under this KID, or is too far behind the newest one."""
