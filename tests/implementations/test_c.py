"""implementations/c: the plain and the ASan/UBSan builds pass what Python passes."""

import pytest

from harness.adapters.registry import C_SERVER
from tests.implementations.conftest import assert_same_as_python, run_full

pytestmark = pytest.mark.native
ASAN = C_SERVER.with_name("sframe-server-asan")


def test_c_matches_python(python_grades):
    assert_same_as_python(run_full("c"), python_grades)


def test_c_under_asan_and_ubsan(python_grades):
    # -fno-sanitize-recover: any ASan/UBSan report kills the server, which the harness grades "error".
    result = run_full(f"cmd:{ASAN}")
    assert result.restarts == 0
    assert_same_as_python(result, python_grades)
