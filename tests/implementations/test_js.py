"""implementations/js: passes what Python passes over either framing, its bench and timing ops
answer like the reference, and its own node tests pass."""

import subprocess

import pytest

from harness.adapters.registry import JS_SERVER
from harness.adapters.subprocess import SubprocessAdapter
from tests.conftest import ROOT
from tests.implementations.wire_checks import check_bench, check_timing, grades_by_framing

pytestmark = pytest.mark.node

FRAMINGS = {"json-lines": (), "binary-v1": ("binary-v1",)}
SUITES = tuple(range(1, 9))


def test_js_matches_python_over_either_framing(python_grades):
    grades = grades_by_framing(["node", str(JS_SERVER)])  # binary-v1 is taken when offered
    assert set(grades) == set(FRAMINGS)
    for framing, by_case in grades.items():
        differing = [(case, grade.value) for case, grade in by_case.items() if grade is not python_grades[case]]
        assert not differing, (framing, differing[:10])


@pytest.mark.parametrize("framing", FRAMINGS)
def test_js_bench_and_timing_answer_like_the_reference(framing):
    with SubprocessAdapter(["node", str(JS_SERVER)], name="js", cwd=ROOT, framings=FRAMINGS[framing]) as adapter:
        assert adapter.framing == framing
        assert {"bench", "timing"} <= set(adapter.hello.capabilities)
        assert check_bench(adapter, SUITES, aead_suites=SUITES) == len(SUITES) * 3 * 5
        for suite in (1, 4):
            assert check_timing(adapter, suite) == "process.hrtime.bigint() ns"


def test_js_unit_tests():
    proc = subprocess.run(["node", "--test", "implementations/js/test/"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout
