"""The subprocess adapter against deliberately faulty implementations."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from harness.adapters.base import AdapterError
from harness.adapters.subprocess import SubprocessAdapter
from harness.catalogue import all_cases, select
from harness.engine.runner import run
from harness.model.grading import Grade
from harness.model.wire import Request
from tests.conftest import ROOT
from tests.fixtures.processes import marked

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


def test_only_the_requests_that_fault_are_graded_not_the_batch():
    # #13: three faults in a row used to give up on the rest of the batch; a restarted
    # implementation that answers hello is used again, whatever happened before.
    with faulty("always-hang", timeout=0.2) as adapter:
        responses = adapter.run([Request("encrypt", {})] * 6 + [Request("hello")])
        assert [bool(r.fault) for r in responses] == [True] * 6 + [False]
        assert all(r.fault.startswith("timeout: no response within 0.2s") for r in responses[:6])
        assert adapter.restarts == 6 and adapter.unusable is None


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


HOSTILE = ROOT / "tests" / "fixtures" / "hostile_shim.py"


def hostile(mode: str, tmp_path, monkeypatch, timeout: float = 0.5) -> SubprocessAdapter:
    monkeypatch.setenv("HOSTILE_STATE", str(tmp_path))
    return SubprocessAdapter([sys.executable, str(HOSTILE), mode], timeout=timeout)


def test_binary_framing_is_negotiated_and_json_lines_stay_the_default():
    with SubprocessAdapter([sys.executable, "-m", "harness", "serve", "--impl", "python"], cwd=ROOT) as served:
        assert served.framing == "binary-v1"
        assert served.call(Request("encode_header", {"kid": 5, "ctr": 7})).fields["header"] == b"\x57"
    with faulty("garbage") as plain:  # a shim that ignores "framings"
        assert plain.framing == "json-lines"


def test_the_leftover_check_sees_a_process_carrying_the_marker(tmp_path):
    # Every "nothing is left running" assertion relies on this: a check that found nothing would pass them all.
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                            env={**os.environ, "SFRAME_MARKED_TEST": str(tmp_path)})
    try:
        assert marked("SFRAME_MARKED_TEST", str(tmp_path)) == [proc.pid]
        assert marked("SFRAME_MARKED_TEST", str(tmp_path)[:-1]) == []  # the whole value, not a prefix
    finally:
        proc.kill()
        proc.wait()
    assert marked("SFRAME_MARKED_TEST", str(tmp_path)) == []


def test_a_child_in_its_own_session_holding_stdout_is_killed(tmp_path, monkeypatch):
    with hostile("setsid-child", tmp_path, monkeypatch) as adapter:
        started = time.monotonic()
        fault, after = adapter.run([Request("encode_header", {"kid": 1, "ctr": 1}), Request("hello")])
        assert fault.fault.startswith("timeout") and after.ok and adapter.restarts == 1
        assert time.monotonic() - started < 10  # one 0.5 s timeout, a kill and a restart, on a loaded machine
    assert marked("HOSTILE_STATE", str(tmp_path)) == []


def test_close_is_bounded_for_a_program_that_ignores_eof_and_sigterm(tmp_path, monkeypatch):
    adapter = hostile("ignore-sigterm", tmp_path, monkeypatch)
    adapter.call(Request("hello"))
    pid = adapter._proc.popen.pid
    started = time.monotonic()
    adapter.close()
    assert time.monotonic() - started < 4  # EOF, 1 s; SIGTERM, 1 s; then SIGKILL
    assert adapter._proc is None
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_ctrl_c_stops_a_wait_on_a_hanging_implementation():
    adapter = faulty("always-hang", timeout=60)
    try:
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()  # a real signal, as Ctrl-C sends
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            adapter.run([Request("encrypt", {})])
        assert time.monotonic() - started < 2
    finally:
        started = time.monotonic()
        adapter.close()
    assert time.monotonic() - started < 4


def test_a_request_the_harness_cannot_encode_costs_only_itself():
    with SubprocessAdapter([sys.executable, "-m", "harness", "serve", "--impl", "python"], cwd=ROOT,
                           framings=()) as adapter:
        good = Request("encode_header", {"kid": 1, "ctr": 2})
        responses = adapter.run([good, Request("encode_header", {"kid": object()}), good])
    assert [r.ok for r in responses] == [True, False, True]
    assert responses[1].error == "invalid_argument" and "could not encode" in responses[1].message


def test_given_up_only_when_a_fresh_process_fails_hello_and_said_once(tmp_path, monkeypatch, capsys):
    adapter = hostile("no-restart", tmp_path, monkeypatch)
    responses = adapter.run([Request("encode_header", {"kid": 1, "ctr": 1})] * 5)
    adapter.close()
    assert responses[0].fault.startswith("crashed")
    assert all(r.fault.startswith("not run: implementation unusable after a fault: ") for r in responses[1:])
    assert adapter.unusable and capsys.readouterr().err.count("implementation unusable") == 1
