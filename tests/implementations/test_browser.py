"""implementations/browser, direct mode: js and medooze in a headless Chromium worker
grade exactly as they do in Node, and the adapter cleans up and recovers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from harness.adapters.browser import INSTALL_HINT, BrowserSession, StaticServer, UnavailableAdapter
from harness.adapters.registry import REGISTRY, open_adapter
from harness.catalogue import all_cases
from harness.engine.runner import run
from harness.model.grading import Grade
from harness.model.wire import Request
from tests.conftest import ROOT
from tests.implementations.conftest import assert_same_as_python, run_full
from tests.implementations.wire_checks import check_bench, check_timing

pytestmark = pytest.mark.browser


# Without Chromium these skip, and fail in CI: tests/conftest.py.


def _grades(spec: str) -> dict[str, Grade]:
    return {o.case.id: o.grade for o in run_full(spec).outcomes}


@pytest.mark.node
def test_browser_js_grades_like_js_and_python(python_grades):
    browser = run_full("browser-js")
    assert_same_as_python(browser, python_grades)
    assert browser.restarts == 0
    assert browser.hello.name == "sframe-js"
    node = _grades("js")
    assert {o.case.id: o.grade for o in browser.outcomes} == node


@pytest.mark.node
def test_browser_medooze_grades_like_medooze():
    browser = run_full("browser-medooze")
    assert browser.restarts == 0
    assert browser.hello.name == "medooze-sframe" and browser.hello.suites == (1, 3)
    node = _grades("medooze")
    differing = [(o.case.id, o.grade.value) for o in browser.outcomes if o.grade is not node[o.case.id]]
    assert not differing, differing[:10]


def test_browser_js_bench_and_timing_answer_like_the_reference():
    # The worker's clock is performance.now(), which Chromium coarsens to 100 us: a short
    # loop may read 0 ns, and the harness calls too-coarse timing ticks inconclusive.
    with open_adapter("browser-js") as adapter:
        assert {"bench", "timing"} <= set(adapter.hello.capabilities)
        assert check_bench(adapter, (1, 4, 5, 8), aead_suites=(1, 4, 5, 8), coarse_clock=True) == 4 * 3 * 5
        assert check_timing(adapter, 4).startswith("performance.now()")
        # Lines cross page.evaluate as text: the worker never switches to binary framing.
        hello = adapter.call(Request("hello", {"framings": ["binary-v1"]}))
        assert hello.ok and "framing" not in hello.fields


def test_probe_reports_version_and_native_sframe():
    with open_adapter("browser-js") as adapter:
        probe = adapter.probe
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", probe.version), probe
        assert probe.script_transform
        assert probe.version in probe.native_line
        if probe.native_sframe:  # a Chromium with a native API: it must be tested as its own implementation
            assert "browser-native" in REGISTRY, probe.native_line
        else:
            assert "not available" in probe.native_line


def test_frames_round_trip_and_tampering_is_rejected():
    key = {"suite": 4, "base_key": bytes(range(16)), "kid": 291}
    with open_adapter("browser-js") as adapter:
        sealed = adapter.call(Request("encrypt", {**key, "ctr": 17767, "metadata": b"m", "plaintext": b"frame"}))
        assert sealed.ok, sealed.message
        ct = sealed.fields["ciphertext"]
        opened = adapter.call(Request("decrypt", {**key, "metadata": b"m", "ciphertext": ct}))
        assert opened.ok and opened.fields["plaintext"] == b"frame"
        tampered = adapter.call(Request("decrypt", {**key, "metadata": b"n", "ciphertext": ct}))
        assert not tampered.ok and tampered.error == "auth_failed"


def test_a_worker_that_exits_faults_one_request_and_is_restarted():
    # `shutdown` makes the shim exit, as in Node: the next request faults, the worker restarts.
    with open_adapter("browser-js") as adapter:
        hello = Request("hello")
        first, after_exit, recovered = adapter.run([Request("shutdown"), hello, hello])
        assert first.ok
        assert after_exit.fault and "worker exited" in after_exit.fault
        assert recovered.ok and recovered.fields["name"] == "sframe-js"
        assert adapter.restarts == 1


def test_close_leaves_no_browser_and_no_profile():
    with open_adapter("browser-js") as adapter:
        profile = Path(adapter.session.user_data_dir)
        marker = f"--user-data-dir={profile}".encode()
        assert profile.is_dir()
    assert not profile.exists()
    running = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline(p).count(marker)]
    assert not running


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


def test_calls_into_the_browser_have_deadlines():
    import asyncio

    session = BrowserSession()
    try:
        with pytest.raises(TimeoutError):
            session.run(asyncio.sleep(30), timeout=0.3)
        assert session.run(session.page.evaluate("1 + 1"), timeout=5) == 2
    finally:
        session.close()


def test_missing_chromium_grades_browser_cases_unsupported(monkeypatch, capsys):
    monkeypatch.setenv("SFRAME_CHROMIUM", "/nonexistent/chromium")
    with open_adapter("browser-js") as adapter:
        assert isinstance(adapter, UnavailableAdapter)
        result = run(adapter, all_cases()[:20])
    assert {o.grade for o in result.outcomes} == {Grade.UNSUPPORTED}
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "apt-get install -y chromium" in err[0] and INSTALL_HINT in err[0]


def test_static_server_serves_only_its_trees_and_rewrites_node_imports():
    server = StaticServer()
    try:
        shim = urllib.request.urlopen(server.url("/js/server.mjs"), timeout=5)
        assert shim.headers["Content-Type"].startswith("text/javascript")
        source = shim.read().decode()
        assert "'/www/node/process.mjs'" in source and "node:" not in source
        medooze = urllib.request.urlopen(server.url("/medooze/shim.mjs"), timeout=5).read().decode()
        assert 'import("/medooze/lib/Context.js")' in medooze
        for path in ("/js/../../pyproject.toml", "/etc/passwd", "/www/../../../README.md"):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(server.url(path), timeout=5)
            assert e.value.code == 404
    finally:
        server.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_leaves_no_browser_behind(tmp_path, signum):
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # every profile this run makes lands here
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "media", "--impl", "browser-js", "--kind", "video", "--seconds", "20"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a background shell would ignore it
    )
    deadline = time.monotonic() + 30
    while not any(tmp_path.glob("sframe-browser-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(3)  # media flowing
    proc.send_signal(signum)
    out = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode in (130, 128 + signum), out[-500:]
    assert not list(tmp_path.glob("sframe-browser-*"))
    assert not [p for p in Path("/proc").iterdir() if p.name.isdigit() and str(tmp_path).encode() in _cmdline(p)]
