"""Grading: compare an implementation's responses with a case's expectations.

Grades:
- pass: what the case expects, exactly.
- fail: accepted what must be rejected, rejected what must be accepted, or wrong output.
- non-strict: right accept/reject but another error class, or an "acceptable" case.
- unsupported: the implementation said it does not implement the op or suite.
- error: the implementation misbehaved (crash, hang, garbage, out of order, "internal").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .cases import Case, Expected, Step
from .wire import Response

# The error class the runner gives a step it could not send (an earlier step it depends on failed).
NOT_RUN = "not_run"


class Grade(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    NON_STRICT = "non-strict"
    UNSUPPORTED = "unsupported"
    ERROR = "error"


@dataclass(frozen=True)
class Outcome:
    case: Case
    grade: Grade
    detail: str
    elapsed: float = 0.0
    responses: tuple[Response, ...] = ()

    @property
    def fails_run(self) -> bool:
        """A MUST-level failure or any error fails the run (exit 1)."""
        return self.grade is Grade.ERROR or (self.grade is Grade.FAIL and self.case.level.value == "MUST")


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


def _grade_step(case: Case, step: Step, response: Response) -> tuple[Grade, str] | None:
    """The grade this step forces, or None when it is as expected."""
    op = step.request.op
    if response.error == NOT_RUN:
        return None  # the step it depends on carries the grade
    if response.fault is not None:
        return Grade.ERROR, f"{op}: {response.fault}"
    if not step.expect_ok and not response.ok and response.error in step.errors:
        return None  # includes a required "unsupported", e.g. for an unknown suite
    if not response.ok and response.error == "unsupported":
        return Grade.UNSUPPORTED, f"{op}: unsupported ({response.message})" if response.message else f"{op}: unsupported"
    if not response.ok and response.error == "internal":
        return Grade.ERROR, f"{op}: internal error: {response.message}"
    if step.expect_ok:
        if response.ok:
            mismatch = _mismatch(step, response)
            return (Grade.FAIL, mismatch) if mismatch else None
        if step.may_fail:
            return Grade.NON_STRICT, f"{op}: rejected with {response.error} (acceptable)"
        return Grade.FAIL, f"{op}: expected success, got {response.error}: {response.message}"
    if response.ok:
        return Grade.FAIL, f"{op}: accepted input that must be rejected (expected {'/'.join(step.errors)})"
    if step.errors:
        return Grade.NON_STRICT, f"{op}: rejected with {response.error}, expected {'/'.join(step.errors)}"
    return None


_SEVERITY = [Grade.ERROR, Grade.FAIL, Grade.UNSUPPORTED, Grade.NON_STRICT]


def grade(case: Case, responses: Sequence[Response]) -> Outcome:
    elapsed = sum(r.elapsed for r in responses)
    found = [g for step, r in zip(case.steps, responses) if (g := _grade_step(case, step, r)) is not None]
    if found:
        worst = min(found, key=lambda g: _SEVERITY.index(g[0]))
        return Outcome(case, worst[0], worst[1], elapsed, tuple(responses))
    if case.result is Expected.ACCEPTABLE:
        return Outcome(case, Grade.NON_STRICT, "accepted (acceptable)", elapsed, tuple(responses))
    return Outcome(case, Grade.PASS, "", elapsed, tuple(responses))
