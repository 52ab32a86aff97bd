"""The subprocess adapter against deliberately faulty implementations."""

import sys

import pytest

from harness.adapters.base import AdapterError
from harness.adapters.subprocess import SubprocessAdapter
from harness.catalogue import all_cases, select
from harness.engine.runner import run
from harness.model.grading import Grade
from harness.model.wire import Request
from tests.conftest import ROOT

SHIM = ROOT / "tests" / "fixtures" / "faulty_shim.py"
# Six single-step cases: the shim faults on every second request it sees.
CASES = select(all_cases(), only=["rfc9605/sframe/suite-*/encrypt"])[:6]


def faulty(mode: str, timeout: float = 0.5) -> SubprocessAdapter:
    return SubprocessAdapter([sys.executable, str(SHIM), mode], timeout=timeout)


@pytest.mark.parametrize("mode,reason", [
    ("crash", "crashed: stdout closed (exit status 3); stderr: faulty shim: deliberate crash"),
    ("hang", "timeout: no response within 0.5s"),
    ("garbage", "garbage on stdout: not JSON"),
    ("out-of-order", "out-of-order response"),
    ("bad-fields", "bad response: field 'ciphertext' is not valid hex"),
])
def test_fault_is_graded_error_and_run_continues(mode, reason):
    assert len(CASES) == 6
    with faulty(mode) as adapter:
        result = run(adapter, CASES)
        grades = [o.grade for o in result.outcomes]
        assert grades == [Grade.UNSUPPORTED, Grade.ERROR] * 3
        for o in result.outcomes[1::2]:
            assert reason in o.detail
            assert o.fails_run
        assert adapter.restarts == 3
    assert result.failed


def test_unusable_implementation_is_abandoned_not_waited_on():
    with faulty("always-hang", timeout=0.3) as adapter:
        responses = adapter.run([Request("encrypt", {})] * 10)
    assert all(r.fault for r in responses)
    assert sum("timeout" in r.fault for r in responses) == 3
    assert "consecutive faults" in responses[-1].fault


def test_pipelining_keeps_order_beyond_the_window():
    adapter = SubprocessAdapter([sys.executable, "-m", "harness", "serve", "--impl", "python"], window=8, cwd=ROOT)
    with adapter:
        requests = [Request("encode_header", {"kid": i, "ctr": i * 7}) for i in range(500)]
        responses = adapter.run(requests)
    assert [r.fields["header"] for r in responses] == [
        __import__("sframe_py").encode_header(i, i * 7) for i in range(500)]


def test_command_that_does_not_start():
    with pytest.raises(AdapterError, match="cannot start /no/such/program"):
        SubprocessAdapter(["/no/such/program"])


def test_command_that_fails_hello():
    with pytest.raises(AdapterError, match="failed hello"):
        SubprocessAdapter([sys.executable, "-c", "import sys; sys.exit(0)"], timeout=2)
