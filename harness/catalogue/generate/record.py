"""Recording a flat test: the steps the loader will grade, run on the reference and audited.

Rule: a flat test is checked as the catalogue will run it. Its JSON goes through
``loader.GROUP_TYPES`` (the very code that builds the graded steps), the steps
run on the reference, the pinned outputs must match what the reference answers
(so a builder and the reference cross-check each other), and the allowance
audit widens the error classes and marks the refusals RFC 9605 allows.
"""

from __future__ import annotations

from typing import Any

from ...model.cases import Step
from ...model.wire import Response
from ..loader import GROUP_TYPES
from .common import Group, VectorTest, error_order
from .policies import Allowance, Factory, audit


def _check(where: str, test: VectorTest, step: Step, response: Response) -> None:
    if not step.expect_ok:
        if response.ok:
            raise AssertionError(f"{where}: the negative {step.request.op} succeeds on the reference")
        if test.errors and response.error not in test.errors:
            raise AssertionError(f"{where}: expected {test.errors}, the reference gives {response.error}")
        return
    if not response.ok:
        raise AssertionError(f"{where}: {step.request.op} fails on the reference: {response.error}: {response.message}")
    wrong = {k for k, v in step.output.items() if response.fields.get(k) != v}
    if wrong:
        raise AssertionError(f"{where}: the reference disagrees with the pinned {sorted(wrong)}")


def record_test(test: VectorTest, group: Group, new_reference: Factory) -> dict[str, Any]:
    draft = test.to_json() | ({"errors": test.errors} if test.result == "invalid" else {})
    steps = GROUP_TYPES[group.type](draft, group.suite)
    responses, allowances = audit([(s.request.op, s.request.fields) for s in steps], new_reference, test.id,
                                  acceptable=test.result == "acceptable")
    for step, response in zip(steps, responses):
        _check(test.id, test, step, response)
    failing = [a for step, a in zip(steps, allowances) if not step.expect_ok]
    if failing:
        (allowance,) = failing  # a flat negative is one step
        test.errors = error_order([*test.errors, *allowance.errors])
    test.may_fail = [step.request.op for step, a in zip(steps, allowances) if a.refusals]
    test.reason = _reason(allowances)
    return test.to_json()


def _reason(allowances: list[Allowance]) -> str:
    reasons: list[str] = []
    for a in allowances:
        if a.reason and a.reason not in reasons:
            reasons.append(a.reason)
    return " ".join(reasons)
