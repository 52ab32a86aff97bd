"""Allowed behaviours: where RFC 9605 leaves a choice, every vector lets every choice pass.

A fail is an accusation, so a vector must pass any implementation that differs
from the reference only where the RFC lets it. Rather than hand-edit error
lists, each such freedom is a *policy*: a wrapper around the reference that
behaves as such an implementation would. Every vector is run on the reference
and under every policy (``audit``), and the differences become data:

- **Parser policies** choose the error class of a bad frame. A receiver may
  reject non-minimal headers as ``malformed`` or accept them (§4.3 asks senders,
  not receivers, for the minimal form); may report a body shorter than the tag
  as ``malformed`` or ``auth_failed``; may check that length before or after it
  looks up the KID. All combinations run; a failing step lists every class one
  of them gives, and ``reason`` says which choice gives which.
- **Sender policies** refuse: a sender may refuse to encrypt at CTR 2^64-1
  (ENC-06 as corrected: the RFC forbids nonce reuse and wrapping, not stopping
  one value early), and may refuse a base_key of a length other than 16 bytes
  (every vector's) and the suite's Nk (the MLS exporter's): KDF-07, the RFC
  fixes none. A step one of them refuses becomes ``may_fail`` with the reason
  ``harness.model.allowances`` gives that class, the wording grades and reports
  use too.

What must not move is enforced here too, and stops generation: no policy may
accept a negative, a parser policy may not refuse a valid step (outside an
``acceptable`` test), and a refusal may not change any other step's outcome.
That last rule keeps "the counter never wraps" checked after a refused
CTR 2^64-1 (the next encryption must still fail), and forbids a step that reads
a refusable step's output: a receiver decrypts a pinned ciphertext instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sframe_py import SUITES, SFrameError, parse_header
from sframe_py.header import Header

from ...model.allowances import BASE_KEY_LENGTH, CTR_LAST, NON_MINIMAL_HEADER, base_key_length_allowed
from ...model.protocol import U64_MAX
from ...model.wire import Reference, Request, Response
from .common import error_order

Factory = Callable[[], Reference]
RequestSpec = tuple[str, dict[str, Any]]  # op and fields; a field may be {"$ref": [step, name]}

DECRYPT_OPS = frozenset({"decrypt", "context_decrypt", "mls_decrypt"})
NOT_RUN = "not run"  # the audit's own marker for a step whose $ref has no value

# Each choice of a parser policy, as (the reference's phrase, the alternative's phrase).
CHOICES = {
    "reject_non_minimal": ("if non-minimal headers are accepted",
                           "if non-minimal headers are rejected (RFC 9605 §4.3 requires the minimal form of senders only)"),
    "short_body_auth": ("if a body shorter than the tag is reported as malformed",
                        "if a body shorter than the tag is reported as an authentication failure"),
    "length_first": ("if the KID is looked up before the body's length is checked",
                     "if the body's length is checked before the KID is looked up"),
}
ERRORS_PREAMBLE = "RFC 9605 only requires that this frame be discarded, so several error classes are correct: "


def _wire_ref(value: Any) -> tuple[int, str] | None:
    if isinstance(value, dict) and "$ref" in value:
        step, name = value["$ref"]
        return int(step), str(name)
    return None


def play(reference: Reference, requests: Sequence[RequestSpec]) -> list[Response]:
    """Run ``requests`` in order on one reference; a ``$ref`` to a field an earlier response
    lacks makes the step not run (as the runner does)."""
    responses: list[Response] = []
    for op, fields in requests:
        resolved: dict[str, Any] = {}
        for name, value in fields.items():
            ref = _wire_ref(value)
            if ref is None:
                resolved[name] = value
            elif ref[1] in responses[ref[0]].fields:
                resolved[name] = responses[ref[0]].fields[ref[1]]
            else:
                break
        else:
            responses.append(reference(Request(op, resolved)))
            continue
        responses.append(Response(False, error=NOT_RUN))
    return responses


def _refusal(error: str, message: str) -> Response:
    return Response(False, error=error, message=message)


def _header(request: Request) -> tuple[bytes, Header] | None:
    """The frame (or header data) a receiving op parses, and its header if it parses at all."""
    data = request.fields.get("data" if request.op == "decode_header" else "ciphertext")
    if request.op not in DECRYPT_OPS | {"decode_header"} or not isinstance(data, bytes):
        return None
    try:
        return data, parse_header(data)
    except SFrameError:
        return None  # empty or truncated: malformed under every policy, as the reference says


class Suites:
    """The suite of each context a reference has created, by handle: a stateful request names only its ``ctx``."""

    def __init__(self) -> None:
        self._by_ctx: dict[Any, int] = {}

    def of(self, request: Request) -> Any:
        return request.fields["suite"] if "suite" in request.fields else self._by_ctx.get(request.fields.get("ctx"))

    def note(self, request: Request, response: Response) -> None:
        if response.ok and "ctx" in response.fields and isinstance(request.fields.get("suite"), int):
            self._by_ctx[response.fields["ctx"]] = request.fields["suite"]


@dataclass(frozen=True)
class ParserPolicy:
    """How a receiver classifies a bad frame, where RFC 9605 leaves it open."""

    reject_non_minimal: bool
    short_body: str  # the class of a body shorter than the tag: "malformed" (the reference) or "auth_failed"
    length_first: bool  # the body's length is checked before the KID lookup

    @property
    def choices(self) -> dict[str, bool]:
        """Which of CHOICES this policy makes differently from the reference."""
        return {"reject_non_minimal": self.reject_non_minimal, "short_body_auth": self.short_body == "auth_failed",
                "length_first": self.length_first}

    def wrap(self, reference: Reference) -> Reference:
        suites = Suites()

        def call(request: Request) -> Response:
            parsed = _header(request)
            early = self._before_reference(request, parsed, suites.of(request)) if parsed else None
            if early is not None:
                return early
            response = reference(request)
            suites.note(request, response)
            if parsed and request.op in DECRYPT_OPS and response.error == "malformed":
                # The header parsed, so the reference's "malformed" is a body shorter than the tag.
                return _refusal(self.short_body, response.message)
            return response

        return call

    def _before_reference(self, request: Request, parsed: tuple[bytes, Header], suite: Any) -> Response | None:
        data, header = parsed
        if self.reject_non_minimal and not header.minimal:
            return _refusal("malformed", f"non-minimal header {header.encoded.hex()}")
        if self.length_first and request.op in DECRYPT_OPS and suite in SUITES:
            if len(data) - header.length < SUITES[suite].nt:
                return _refusal(self.short_body, "body shorter than the tag")
        return None


# Every combination, fewest changes from the reference first (so a class is explained by its simplest cause).
PARSER_POLICIES = sorted((ParserPolicy(strict, short, first) for strict, short, first in
                          itertools.product((False, True), ("malformed", "auth_failed"), (False, True))),
                         key=lambda p: sum(p.choices.values()))
REFERENCE = PARSER_POLICIES[0]  # the reference's own choices


@dataclass(frozen=True)
class SenderPolicy:
    """A refusal RFC 9605 allows: ``refuses(request, its suite, the reference's response)``."""

    name: str
    reason: str  # harness.model.allowances' sentence for it: one wording in vectors, grades and reports
    refuses: Callable[[Request, Any, Response], bool]
    error: str

    def wrap(self, reference: Reference) -> Reference:
        suites = Suites()

        def call(request: Request) -> Response:
            response = reference(request)
            suites.note(request, response)
            return _refusal(self.error, self.name) if self.refuses(request, suites.of(request), response) else response

        return call


def _last_ctr(request: Request, suite: Any, response: Response) -> bool:
    # The stateless op names the CTR; a managed counter says which it used. The reference has then used
    # CTR 2^64-1 and refuses from here on, as a sender that stopped one value early does.
    if request.op == "encrypt":
        return request.fields.get("ctr") == U64_MAX
    return request.op in ("context_encrypt", "mls_encrypt") and response.ok and response.fields.get("ctr") == U64_MAX


def _unusual_base_key(request: Request, suite: Any, response: Response) -> bool:
    # Only where the caller chooses the base_key: a ratchet's keys are Nh bytes by §5.1, an MLS epoch's Nk by §5.2.
    base_key = request.fields.get("base_key")
    return request.op in ("encrypt", "decrypt", "derive", "context_add_key") and isinstance(base_key, bytes) \
        and not base_key_length_allowed(suite, len(base_key))


SENDER_POLICIES = (
    SenderPolicy("refuses to encrypt at CTR 2^64-1", CTR_LAST, _last_ctr, "counter_exhausted"),
    SenderPolicy("refuses base_key lengths other than 16 bytes and Nk", BASE_KEY_LENGTH, _unusual_base_key,
                 "invalid_argument"),
)


@dataclass
class Allowance:
    """What the policies allow at one step."""

    # A failing step: each correct class -> the first parser policy giving it, or a sender policy's reason.
    errors: dict[str, ParserPolicy | str] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)  # a succeeding step: why a refusal is allowed

    @property
    def reason(self) -> str:
        parts = [self._errors_reason()] if len(self.errors) > 1 else []
        return " ".join(parts + self.refusals)

    def _errors_reason(self) -> str:
        # Name only the choices that make a difference here, for the reference's class too.
        varied = [c for c in CHOICES if any(isinstance(p, ParserPolicy) and p.choices[c] for p in self.errors.values())]

        def why(policy: ParserPolicy | str) -> str:
            if isinstance(policy, str):
                return policy
            said = " and ".join(CHOICES[c][policy.choices[c]] for c in varied)
            return f"{said}, as the reference does" if policy == REFERENCE else said

        return ERRORS_PREAMBLE + "; ".join(f"{e} {why(self.errors[e])}" for e in error_order(self.errors))


def audit(requests: Sequence[RequestSpec], new_reference: Factory, where: str,
          acceptable: bool = False) -> tuple[list[Response], list[Allowance]]:
    """The reference's responses to ``requests`` and, per step, what the policies allow.
    ``acceptable``: the test is Wycheproof-"acceptable", so a parser policy may refuse it."""
    base = play(new_reference(), requests)
    allowances = [Allowance({r.error: REFERENCE} if not r.ok and r.error else {}) for r in base]
    for policy in PARSER_POLICIES[1:]:
        alt = play(policy.wrap(new_reference()), requests)
        _compare(f"{where} under the parser policy {policy}", base, alt, allowances, policy,
                 NON_MINIMAL_HEADER if acceptable else None)
    for sender in SENDER_POLICIES:
        alt = play(sender.wrap(new_reference()), requests)
        _compare(f"{where} with a sender that {sender.name}", base, alt, allowances, sender.reason, sender.reason)
    return base, allowances


def _compare(where: str, base: list[Response], alt: list[Response], allowances: list[Allowance],
             why: ParserPolicy | str, refusal: str | None) -> None:
    for i, (b, a) in enumerate(zip(base, alt)):
        if b.ok and a.ok:
            continue
        if a.error == NOT_RUN and b.error != NOT_RUN:
            raise AssertionError(f"{where}: step {i} reads the output of a step this policy refuses; pin it")
        if not b.ok and a.ok:
            raise AssertionError(f"{where}: step {i} succeeds, so it is not a negative for every allowed policy")
        if b.ok and refusal is None:
            raise AssertionError(f"{where}: step {i} fails ({a.error}) although RFC 9605 requires it to succeed")
        if b.ok:
            if refusal is not None and refusal not in allowances[i].refusals:
                allowances[i].refusals.append(refusal)
        elif a.error and a.error not in allowances[i].errors:
            allowances[i].errors[a.error] = why
