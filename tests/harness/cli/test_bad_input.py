"""Every bad CLI input of #14 gives one line on stderr and exit 2, never a traceback or a hang.

The table is walked through a real ``python -m harness`` process each, under a timeout, so a
hang (``--timeout nan`` used to spin, ``fuzz --max-time -5`` to run forever) fails the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

ONE = ["--only", "rfc9605/header/0", "-q"]


def _files(tmp: Path) -> dict[str, str]:
    """The files some rows need, by name: the row's arguments say {name}."""
    (tmp / "list.json").write_text("[1, 2]")
    (tmp / "runs-abc.json").write_text(json.dumps({"schema": "sframe-conformance-results/v2", "runs": "abc"}))
    (tmp / "nested.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp / "not-json.json").write_text("{")
    (tmp / "expectations" / "python.toml").mkdir(parents=True)
    (tmp / "a-file").write_text("")
    return {"tmp": str(tmp), "file": str(tmp / "a-file")}


# (arguments, what the one line says)
TABLE = [
    (["--impl", 'cmd:"unbalanced'], "cannot parse the command line: No closing quotation"),
    (["--impl", "python", "--impl", 'cmd:"unbalanced'], "cannot parse the command line"),
    (["--impl", "python", "--impl", "nope"], "unknown implementation 'nope'"),
    (["--impl", "python", "--timeout", "-1"], "argument --timeout: seconds must be above 0"),
    (["--impl", "python", "--timeout", "inf"], "argument --timeout: seconds must be above 0"),
    (["--impl", "python", "--timeout", "nan"], "argument --timeout: seconds must be above 0"),
    (["--impl", "python", "--timeout", "0"], "argument --timeout: seconds must be above 0"),
    (["matrix", "--impl", "python", "--timeout", "nan"], "argument --timeout: seconds must be above 0"),
    (["merge", "{tmp}/list.json"], "expected an object"),
    (["merge", "{tmp}/runs-abc.json"], "runs: expected a list"),
    (["merge", "{tmp}/nested.json"], "is not JSON"),
    (["merge", "{tmp}/not-json.json"], "is not JSON"),
    (["--impl", "python", *ONE, "--expectations", "{tmp}/expectations"], "python.toml: Is a directory"),
    (["--impl", "python", *ONE, "--update-expectations", "--expectations", "{file}/sub"], "expectations: cannot use"),
    (["--impl", "python", *ONE, "--junit", "/dev/full"], "cannot write /dev/full: No space left on device"),
    (["--impl", "python", *ONE, "--json", "{file}/x.json"], "cannot write {file}/x.json"),
    (["--impl", "python", *ONE, "--out", "{file}"], "cannot write {file}"),
    (["properties", "--impl", "python", "--max-examples", "-1"], "argument --max-examples: must be at least 1"),
    (["fuzz", "--max-time", "-5"], "argument --max-time: seconds must be above 0"),
    (["difffuzz", "--impl", "python", "--max-time", "nan"], "argument --max-time: seconds must be above 0"),
    (["replay", "{tmp}/nested.json", "--impl", "python"], "nested deeper than 32"),
    (["serve", "--impl", "cmd:/no/such/program"], "cannot start /no/such/program"),
]


@pytest.mark.parametrize("args,message", TABLE, ids=[" ".join(a)[:60] for a, _ in TABLE])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    names = _files(tmp_path)
    argv = [a.format(**names) for a in args]
    proc = subprocess.run([sys.executable, "-m", "harness", *argv], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, stdin=subprocess.DEVNULL)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1 and message.format(**names) in lines[0], proc.stderr[-2000:]


def test_names_are_checked_before_anything_runs() -> None:
    # An unknown --impl after others used to throw away their finished results; now nothing runs.
    proc = subprocess.run([sys.executable, "-m", "harness", "--impl", "python", "--impl", "nope", "-q"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""


def test_an_implementation_that_cannot_start_is_a_row_of_errors(tmp_path: Path) -> None:
    # One bad implementation never discards the others: its row says why, the rest of the report stands.
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "harness", "--impl", "python", "--impl", "cmd:/no/such/binary",
                           "--impl", "python", "--only", "rfc9605/sframe/suite-4/*", "-q", "--json", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    said = [line for line in proc.stderr.splitlines() if "cannot start /no/such/binary" in line]
    assert len(said) == 1, proc.stderr  # said once, not once per case
    runs = json.loads(out.read_text())["runs"]
    assert [r["summary"]["passed"] for r in runs] == [3, 0, 3]
    bad = runs[1]["cases"]
    assert all(c["grade"] == "error" and "not run: cannot start /no/such/binary" in c["detail"] for c in bad)
