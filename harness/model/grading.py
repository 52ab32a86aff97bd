"""Grading: compare an implementation's responses with a case's expectations.

Grades:
- pass: what the case expects, exactly.
- fail: accepted what must be rejected, rejected what must be accepted, or wrong output.
- non-strict: conformant, but not the only conformant answer: another error class, a refused
  ``may_fail`` step, or an accepted ``acceptable`` case. It always carries the reason RFC 9605
  allows it.
- unsupported: the implementation said it does not implement the op or suite.
- error: the implementation misbehaved (crash, hang, garbage, out of order, "internal").

Rules of this module: a ``fail`` is an accusation, so it is given only where a step forces it;
every latitude comes from the case (``Step.may_fail``, ``Step.errors``, ``Expected.ACCEPTABLE``)
with its reason from ``allowances``. Whether a grade fails a run is decided in one place,
``fails_run``; the runner's exit code, the results summary and the CI gate all ask it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from . import allowances
from .cases import Case, Expected, Step
from .requirements import Level
from .wire import Response

# The error class the runner gives a step it could not send (an earlier step it depends on failed).
NOT_RUN = "not_run"


class Grade(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    NON_STRICT = "non-strict"
    UNSUPPORTED = "unsupported"
    ERROR = "error"

    @property
    def severity(self) -> int:
        """Worst first: the grade of a case (or matrix cell) is its worst step's."""
        return _SEVERITY.index(self)

    @property
    def tested(self) -> bool:
        """Did the implementation answer the check at all? (unsupported and error say nothing about conformance)"""
        return self not in (Grade.UNSUPPORTED, Grade.ERROR)


_SEVERITY = [Grade.ERROR, Grade.FAIL, Grade.UNSUPPORTED, Grade.NON_STRICT, Grade.PASS]


class FailOn(str, Enum):
    """The lowest requirement level whose failures fail a run (``--fail-on``, like h2spec's ``--strict``)."""

    MUST = "must"
    SHOULD = "should"
    ANY = "any"

    @property
    def levels(self) -> tuple[Level, ...]:
        return {FailOn.MUST: (Level.MUST,), FailOn.SHOULD: (Level.MUST, Level.SHOULD),
                FailOn.ANY: (Level.MUST, Level.SHOULD, Level.MAY)}[self]


FAIL_ON = tuple(f.value for f in FailOn)


def fails_run(grade: Grade, level: Level, fail_on: FailOn = FailOn.MUST) -> bool:
    """The one failure rule: any error fails a run; a fail does when its level is at the threshold."""
    return grade is Grade.ERROR or (grade is Grade.FAIL and level in fail_on.levels)


class Policy(str, Enum):
    """What an implementation did where RFC 9605 lets it choose (reports compare it across cases)."""

    ACCEPTED = "accepted"
    REFUSED = "refused"


@dataclass(frozen=True)
class Outcome:
    case: Case
    grade: Grade
    detail: str
    elapsed: float = 0.0
    responses: tuple[Response, ...] = ()
    reason: str = ""  # why RFC 9605 allows a non-strict grade (or the choice in ``policy``)
    policy: Policy | None = None  # the choice made at an allowed step, if the case has one

    @property
    def fails_run(self) -> bool:
        return fails_run(self.grade, self.case.level)


@dataclass(frozen=True)
class _Verdict:
    """One step's grade (None: as expected) and, at an allowed step, the choice made."""

    grade: Grade | None
    detail: str = ""
    reason: str = ""
    policy: Policy | None = None


def _show(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).hex()
        return (text[:64] + f"...({len(value)} bytes)") if len(text) > 64 else (text or '""')
    return repr(value)


def _mismatch(step: Step, response: Response) -> str | None:
    for name, expected in step.output.items():
        actual = response.fields.get(name)
        if actual != expected:
            return f"{step.request.op}: {name} expected {_show(expected)}, got {_show(actual)}"
    return None


def _refused(op: str, response: Response) -> str:
    return f"{op}: refused with {response.error}" + (f": {response.message}" if response.message else "")


def _allowed(step: Step) -> tuple[bool, str]:
    """May this step be refused, and why? The vector data says so (``may_fail``, ``reason``); a request that
    ``allowances`` recognises (an encryption at CTR 2^64-1, an unusual base_key length, a non-minimal header)
    may be refused even where the data does not say it, so a reproducer or a new vector cannot accuse a
    conservative implementation."""
    allowance = allowances.refusal(step.request) or allowances.either_way(step.request)
    if step.may_fail:
        return True, step.reason or (allowance.reason if allowance else allowances.REFUSAL)
    return (True, allowance.reason) if allowance else (False, "")


def _grade_step(step: Step, response: Response) -> _Verdict:
    op = step.request.op
    if response.error == NOT_RUN:
        return _Verdict(None)  # the step it depends on carries the grade
    if response.fault is not None:
        return _Verdict(Grade.ERROR, f"{op}: {response.fault}")
    if not step.expect_ok and not response.ok and response.error in step.errors:
        return _Verdict(None)  # includes a required "unsupported", e.g. for an unknown suite
    if not response.ok and response.error == "unsupported":
        return _Verdict(Grade.UNSUPPORTED, f"{op}: unsupported" + (f" ({response.message})" if response.message else ""))
    if not response.ok and response.error == "internal":
        return _Verdict(Grade.ERROR, f"{op}: internal error: {response.message}")
    if step.expect_ok:
        may_fail, reason = _allowed(step)
        if response.ok:
            mismatch = _mismatch(step, response)
            if mismatch:
                return _Verdict(Grade.FAIL, mismatch)
            return _Verdict(None, reason=reason, policy=Policy.ACCEPTED) if may_fail else _Verdict(None)
        if may_fail:
            return _Verdict(Grade.NON_STRICT, f"{_refused(op, response)} (allowed: {reason})", reason, Policy.REFUSED)
        return _Verdict(Grade.FAIL, f"{op}: expected success, got {response.error}: {response.message}")
    if response.ok:
        return _Verdict(Grade.FAIL, f"{op}: accepted input that must be rejected (expected {'/'.join(step.errors)})")
    if step.errors:
        reason = step.reason or allowances.ERROR_CLASS
        return _Verdict(Grade.NON_STRICT, f"{op}: rejected with {response.error}, expected {'/'.join(step.errors)}",
                        reason)
    return _Verdict(None)


def grade(case: Case, responses: Sequence[Response]) -> Outcome:
    """The case's grade is its worst step's; every step is graded, so a refused allowed step does not hide a
    failure in a later one."""
    elapsed = sum(r.elapsed for r in responses)
    verdicts = [_grade_step(step, r) for step, r in zip(case.steps, responses)]
    policies = [v for v in verdicts if v.policy is not None]
    chosen = next((v for v in policies if v.policy is Policy.REFUSED), policies[0] if policies else None)
    policy, policy_reason = (chosen.policy, chosen.reason) if chosen else (None, "")
    found = [v for v in verdicts if v.grade is not None]
    if found:
        worst = min(found, key=lambda v: v.grade.severity if v.grade else 0)
        assert worst.grade is not None
        return Outcome(case, worst.grade, worst.detail, elapsed, tuple(responses), worst.reason or policy_reason,
                       policy)
    if case.result is Expected.ACCEPTABLE:
        reason = policy_reason or allowances.ACCEPTABLE
        return Outcome(case, Grade.NON_STRICT, f"accepted (acceptable: {reason})", elapsed, tuple(responses), reason,
                       Policy.ACCEPTED)
    return Outcome(case, Grade.PASS, "", elapsed, tuple(responses), policy_reason, policy)
