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
  errors to the protocol without a lookup table that could drift. Two classes
  may share a code: the wire protocol names what went wrong, not whose fault it is.
"""

from __future__ import annotations


class SFrameError(Exception):
    """Base class: every failure this library raises is one of its subclasses."""

    code = "internal"


class LocalError(SFrameError):
    """The caller misused the library."""


class RemoteError(SFrameError):
    """A received frame is bad; no plaintext is released and no state has changed."""


class InvalidArgumentError(LocalError):
    """A caller-supplied value is out of range (KID >= 2^64, wrong key length, ...)."""

    code = "invalid_argument"


class UnsupportedSuiteError(LocalError):
    """The cipher suite code point is not one this library implements."""

    code = "unsupported"


class KeyUsageError(LocalError):
    """A key was used against its usage (send-only vs receive-only)."""

    code = "key_usage"


class CounterExhaustedError(LocalError):
    """CTR 2^64-1 has been used: encrypting again would reuse a nonce."""

    code = "counter_exhausted"


class NoKeyError(LocalError):
    """The caller named a KID (or an MLS epoch) that holds no key: encrypting under it,
    or removing it."""

    code = "unknown_kid"


class MalformedError(RemoteError):
    """The input cannot be parsed: empty, truncated header, or body shorter than the tag."""

    code = "malformed"


class AuthenticationError(RemoteError):
    """The AEAD tag did not verify. No plaintext is released."""

    code = "auth_failed"


class UnknownKidError(RemoteError):
    """A received frame's KID has no receive key here."""

    code = "unknown_kid"


class ReplayError(RemoteError):
    """An optional receiver replay window rejected the frame: its CTR was already
    accepted under this KID, or is too far behind the newest one."""

    code = "replay"
