"""The hostile-shim table (#14 "Proof"): every fault an implementation can commit, through the whole CLI.

Each mode of tests/fixtures/hostile_shim.py runs as ``python -m harness run --impl python --impl
hostile=cmd:... --out DIR`` in a process of its own (all modes at once, a few at a time), and for
each the test asserts:

- the run finishes within the bound the test states: 20 s plus three times the run without a fault
  (mode ``clean``, measured in the same table, so a loaded machine does not fail it) plus the
  time the fault itself may cost (``Expect.seconds``: the timeouts it causes);
- only the affected cases are ``error`` (or ``fail``), each with a one-line, bounded reason; the
  other cases, and every case of ``python`` beside it, grade as in a clean run;
- the harness process's peak RSS (VmHWM, read from /proc while it runs) stays under ``MEMORY_CAP``;
- the report is complete and valid: results.json loads through the schema checks of
  ``Results.from_json``, junit.xml parses, index.html holds the shim's markup only escaped;
- no process it started is left (each run's environment carries a marker, found in /proc).

Run this file with ``-s`` to print the table of times and memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.engine.results import Results
from tests.conftest import ROOT
from tests.fixtures.hostile_shim import HOSTILE_HTML, MODES
from tests.fixtures.processes import marked

SHIM = ROOT / "tests" / "fixtures" / "hostile_shim.py"
TIMEOUT = 1.0  # --timeout of every run: a hang costs this much
ONLY = ["rfc9605/sframe/suite-1/*", "rfc9605/sframe/suite-4/*", "gen/keys/context/suite-1/counter-starts-at-zero",
        "gen/keys/context/suite-4/counter-starts-at-zero"]
CASES = 8  # what ONLY selects: encrypt, decrypt, derive of two suites, and two stateful cases
MEMORY_CAP = 200 << 20  # bytes of peak RSS (44 MiB idle); a 64 MiB line is buffered once, then refused
MESSAGE_CAP = 6000  # characters of a stored reason: MESSAGE_LIMIT plus the op and fault around it
MARKER = "SFRAME_HOSTILE_RUN"


@dataclass(frozen=True)
class Expect:
    reason: str  # in every affected case's detail (alternatives separated by " | ")
    errors: int = 1  # cases graded error
    fails: int = 0  # cases graded fail
    seconds: float = 3.0  # what the fault may cost on top of a clean run: its timeouts, a restart


def bound(clean: float, expect: Expect) -> float:
    return 20 + 3 * clean + expect.seconds


HELLO_FAULT = dict(errors=CASES, seconds=7.0)
TABLE: dict[str, Expect] = {
    "clean": Expect("", errors=0),
    "crash-first": Expect("crashed: stdout closed (exit status 3); stderr: hostile shim: deliberate crash"),
    "crash-mid": Expect("crashed: stdout closed (exit status 3)"),
    "crash-stateful": Expect("context_encrypt: crashed: stdout closed (exit status 3)"),
    "hang-op": Expect("derive: timeout: no response within 1s", errors=2, seconds=5.0),
    "sleep-under": Expect("", errors=0),
    "sleep-over": Expect("timeout: no response within 1s"),
    "garbage": Expect("garbage on stdout: not JSON"),
    "partial-line": Expect("timeout: no response within 1s"),
    # 64 MiB through two Python processes may take longer than the timeout on a loaded machine.
    "endless-line": Expect("garbage on stdout: line longer than 67108864 bytes | timeout: no response within 1s"),
    "flood": Expect("out-of-order response: expected id"),  # the request after the flood began
    "huge-stderr": Expect("bytes cut"),
    "out-of-order": Expect("out-of-order response: expected id"),
    "twice": Expect("out-of-order response: expected id"),
    "non-utf8": Expect("garbage on stdout: not UTF-8"),
    "nested-json": Expect("garbage on stdout: nested deeper than 32"),
    "huge-u64": Expect("bad response: field 'kid' must be a decimal string of at most 20 digits"),
    "huge-int": Expect("garbage on stdout: not JSON (Exceeds the limit"),
    "wrong-types": Expect("bad response: needs 'ok' true"),
    "setsid-child": Expect("timeout: no response within 1s"),
    "ignore-sigterm": Expect("timeout: no response within 1s", seconds=5.0),  # and 2 s to close
    "hostile-text": Expect("expected success, got auth_failed", errors=0, fails=2),
    "big-message": Expect("characters cut"),
    "binary-huge-length": Expect("garbage on stdout: binary frame length 4294967295 outside"),
    "binary-partial": Expect("timeout: no response within 1s"),
    "binary-bad-field": Expect("garbage on stdout: binary field 'id' has unknown type 9"),
    "hello-hang": Expect("not run: hostile failed hello: timeout: no response within 5s", **HELLO_FAULT),
    "hello-crash": Expect("not run: hostile failed hello: crashed: stdout closed", **HELLO_FAULT),
    "hello-protocol-string": Expect("failed hello: bad response: field 'protocol' must be an integer, got 'one'",
                                    **HELLO_FAULT),
    "hello-protocol-2": Expect("gave a bad hello: hello: 'protocol' must be 1, got 2", **HELLO_FAULT),
    "hello-suites-int": Expect("gave a bad hello: hello: 'suites' must be a list", **HELLO_FAULT),
    "no-restart": Expect("crashed", errors=CASES),  # the crash, then "not run: implementation unusable ..."
}


@dataclass
class Run:
    mode: str
    seconds: float
    cpu: float  # seconds of CPU, the harness and the processes it waited for
    peak_rss: int  # bytes, the harness process alone
    code: int
    stderr: str
    out: Path
    leftovers: list[int]


def _peak_rss(pid: int, done: threading.Event) -> int:
    """The highest VmHWM of process ``pid`` seen until ``done`` (it only grows, so the last is the peak)."""
    peak = 0
    while not done.wait(0.02):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except (OSError, ValueError):
            pass
    return peak


def run_mode(mode: str, base: Path) -> Run:
    state, out = base / mode / "state", base / mode / "out"
    state.mkdir(parents=True)
    env = {**os.environ, "HOSTILE_STATE": str(state), "HOSTILE_TIMEOUT": str(TIMEOUT), MARKER: mode}
    argv = [sys.executable, "-m", "harness", "run", "--impl", "python", "--impl",
            f"hostile=cmd:{sys.executable} {SHIM} {mode}", "--timeout", str(TIMEOUT), "-q", "--out", str(out)]
    for pattern in ONLY:
        argv += ["--only", pattern]
    with open(base / mode / "stderr", "w+b") as stderr:
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        done = threading.Event()
        with ThreadPoolExecutor(max_workers=1) as watcher:
            peak = watcher.submit(_peak_rss, proc.pid, done)
            # Wait without reaping, so that /proc still shows the process until its very end.
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
            done.set()
            peak_rss = peak.result()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        time.sleep(0.2)  # a process killed just now may still be in /proc
        stderr.seek(0)
        text = stderr.read().decode(errors="replace")
    return Run(mode, seconds, usage.ru_utime + usage.ru_stime, peak_rss, proc.returncode, text, out, marked(MARKER, mode))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    base = tmp_path_factory.mktemp("hostile")
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = dict(zip(TABLE, pool.map(lambda m: run_mode(m, base), TABLE)))
    clean = done["clean"].seconds
    print(f"\n{'mode':<24} {'seconds':>8} {'bound':>6} {'CPU s':>6} {'peak RSS MiB':>13}")
    for run in done.values():
        print(f"{run.mode:<24} {run.seconds:>8.2f} {bound(clean, TABLE[run.mode]):>6.1f} {run.cpu:>6.2f} "
              f"{run.peak_rss / (1 << 20):>13.1f}")
    return done


def test_every_mode_of_the_shim_is_in_the_table() -> None:
    assert set(TABLE) == set(MODES)


@pytest.mark.parametrize("mode", list(TABLE))
def test_hostile_mode(runs: dict[str, Run], mode: str) -> None:
    run, expect = runs[mode], TABLE[mode]
    limit = bound(runs["clean"].seconds, expect)
    assert run.seconds < limit, f"{mode}: {run.seconds:.1f}s, bound {limit:.1f}s"
    assert run.peak_rss < MEMORY_CAP, f"{mode}: peak RSS {run.peak_rss >> 20} MiB"
    assert not run.leftovers, f"{mode}: processes left: {run.leftovers}"
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.code == (1 if expect.errors or expect.fails else 0), run.stderr[-2000:]

    report = run.out / "latest"
    assert {p.name for p in report.iterdir()} == {"results.json", "junit.xml", "index.html"}
    raw = json.loads((report / "results.json").read_text())
    doc = Results.from_json(raw)  # the schema's checks: raises on anything malformed
    python, hostile = doc.runs
    assert [c.grade.value for c in python.cases] == ["pass"] * CASES
    affected = [c for c in hostile.cases if c.grade.value != "pass"]
    assert sorted(c.grade.value for c in affected) == sorted(["error"] * expect.errors + ["fail"] * expect.fails), \
        [(c.id, c.grade.value, c.detail[:200]) for c in affected]
    for c in affected:
        assert any(reason in c.detail for reason in expect.reason.split(" | ")), c.detail[:300]
        assert "\n" not in c.detail and len(c.detail) <= MESSAGE_CAP, (len(c.detail), c.detail[:200])

    if mode == "no-restart":  # given up once, and said so once
        assert run.stderr.count("implementation unusable after a fault") == 1, run.stderr
        assert all("not run: implementation unusable after a fault" in c.detail for c in affected[1:])
    ET.parse(report / "junit.xml")
    html = (report / "index.html").read_text(encoding="utf-8")
    assert HOSTILE_HTML not in html and "<script" not in html
