from __future__ import annotations

import pytest

from harness.adapters.inprocess import PythonAdapter
from harness.adapters.registry import open_adapter
from harness.catalogue import all_cases
from harness.engine.runner import RunResult, run
from harness.model.grading import Grade


@pytest.fixture(scope="session")
def python_grades() -> dict[str, Grade]:
    return {o.case.id: o.grade for o in run(PythonAdapter(), all_cases()).outcomes}


def run_full(spec: str) -> RunResult:
    with open_adapter(spec) as adapter:
        return run(adapter, all_cases())


def assert_same_as_python(result: RunResult, python_grades: dict[str, Grade]) -> None:
    differing = [(o.case.id, o.grade.value, o.detail) for o in result.outcomes if o.grade is not python_grades[o.case.id]]
    assert not differing, differing[:10]
    assert not result.failed
