"""implementations/js: passes what Python passes, and its own node tests pass."""

import subprocess

import pytest

from tests.conftest import ROOT
from tests.implementations.conftest import assert_same_as_python, run_full

pytestmark = pytest.mark.node


def test_js_matches_python(python_grades):
    assert_same_as_python(run_full("js"), python_grades)


def test_js_unit_tests():
    proc = subprocess.run(["node", "--test", "implementations/js/test/"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout
