"""What RFC 9605 lets conforming implementations do differently, and why.

Rules of this module: every latitude the harness grants lives here, once, with
the sentence a report shows for it. A function answers "does the RFC allow
this, for this request or input?" and never grades; ``grading``, the interop
matrix and difffuzz ask it. A check that catches a real bug is never loosened
here: an allowance names one input class (the last CTR value, a base_key
length no vector uses, a non-minimal header, a context of another kind), never
an op or a suite.

The catalogue marks its own allowed steps in the vector data (``Step.may_fail``
and ``Step.reason``); the reasons below are the defaults for the same classes.
"""

from __future__ import annotations

from enum import Enum

from sframe_py import SUITES, SFrameError, parse_header

from .protocol import U64_MAX
from .wire import Request

# Every RFC 9605 vector uses a 16-byte base_key, for every suite (Appendix C).
VECTOR_BASE_KEY_LENGTH = 16

CTR_LAST = ("RFC 9605 forbids reusing or wrapping the counter (§4.3, §9.1) but does not oblige a sender to use "
            "CTR 2^64-1: refusing to encrypt there is conservative (ENC-06)")
BASE_KEY_LENGTH = ("RFC 9605 fixes no base_key length (§4.4.2, HKDF input keying material): refusing a length "
                   "other than 16 bytes or the suite's Nk is an implementation limit (KDF-07)")
NON_MINIMAL_HEADER = ("RFC 9605 requires senders to encode KID and CTR minimally (§4.3) but does not tell a receiver "
                      "to reject a non-minimal header: accepting and rejecting are both conformant (HDR-07)")
ERROR_CLASS = ("RFC 9605 requires a failed frame to be discarded (§4.4.4), not which error is reported: another "
               "error class is conformant")
CONTEXT_KIND = ("an op on a context of another kind than it takes (a key added to a ratchet context, context_encrypt "
                "on a ratchet receiver) tests the harness protocol's context kinds, which RFC 9605 does not define: "
                "accepting and refusing it are both conformant to RFC 9605 (PROTOCOL.md asks for invalid_argument)")
ACCEPTABLE = "RFC 9605 allows both accepting and rejecting this input"
REFUSAL = "RFC 9605 allows this step to be refused"

_ENCRYPT_OPS = ("encrypt", "context_encrypt", "mls_encrypt")


class Allowance(str, Enum):
    """A class of allowed difference; the value names it in difffuzz keys and reports."""

    CTR_LAST = "ctr-exhaustion"
    BASE_KEY_LENGTH = "base-key-policy"
    NON_MINIMAL_HEADER = "non-minimal-header"
    ERROR_CLASS = "error-class"
    CONTEXT_KIND = "context-kind"

    @property
    def reason(self) -> str:
        return _REASONS[self]


_REASONS = {Allowance.CTR_LAST: CTR_LAST, Allowance.BASE_KEY_LENGTH: BASE_KEY_LENGTH,
            Allowance.NON_MINIMAL_HEADER: NON_MINIMAL_HEADER, Allowance.ERROR_CLASS: ERROR_CLASS,
            Allowance.CONTEXT_KIND: CONTEXT_KIND}


def base_key_length_allowed(suite: object, length: int) -> bool:
    """Must an implementation of ``suite`` accept a base_key of ``length`` bytes? 16 (every vector) and Nk
    (what the MLS exporter gives) must work; any other length may be refused."""
    nk = SUITES[suite].nk if isinstance(suite, int) and suite in SUITES else None
    return length in (VECTOR_BASE_KEY_LENGTH, nk)


def header_is_minimal(data: bytes) -> bool | None:
    """Is the header at the start of ``data`` minimally encoded? None when it does not parse at all."""
    try:
        return bool(parse_header(data).minimal)
    except SFrameError:
        return None


def refusal(request: Request) -> Allowance | None:
    """The allowance under which refusing ``request`` is conformant, or None when it must be answered.

    Only what the request shows is known here: an implicit counter (``context_encrypt``) reaching 2^64-1 is
    marked in the vector data instead."""
    fields = request.fields
    if request.op in _ENCRYPT_OPS and fields.get("ctr") == U64_MAX:
        return Allowance.CTR_LAST
    key = fields.get("base_key")
    if isinstance(key, bytes) and not base_key_length_allowed(fields.get("suite"), len(key)):
        return Allowance.BASE_KEY_LENGTH
    return None


def either_way(request: Request) -> Allowance | None:
    """The allowance under which accepting and rejecting ``request`` are both conformant: a request whose
    input starts with a non-minimal header: a receiver may parse it (and then authenticate the header bytes as
    received) or reject it outright."""
    data = request.fields.get("data") if request.op == "decode_header" else request.fields.get("ciphertext")
    if request.op in ("decode_header", "decrypt") and isinstance(data, bytes) and header_is_minimal(data) is False:
        return Allowance.NON_MINIMAL_HEADER
    return None
