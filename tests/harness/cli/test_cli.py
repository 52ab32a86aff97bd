import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from harness.cli import main
from tests.conftest import ROOT


def harness(*args, **kw):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=ROOT, **kw)


def test_full_run_against_python_passes_and_writes_outputs(tmp_path):
    assert main(["--impl", "python", "-q", "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml")]) == 0
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["schema"] == "sframe-conformance-results/v2"
    assert doc["summary"]["failed"] == 0 and doc["summary"]["error"] == 0
    assert doc["summary"]["passed"] + doc["summary"]["non_strict"] == doc["summary"]["total"] >= 1800
    case = doc["cases"][0]
    assert {"id", "requirements", "grade", "detail", "section", "level", "expected", "flags"} <= set(case)
    assert doc["implementation"]["hello"]["suites"] == [1, 2, 3, 4, 5, 6, 7, 8]
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert int(suite.get("tests")) == doc["summary"]["total"] and suite.get("failures") == "0"


def test_out_dir_and_latest_link(tmp_path):
    assert main(["run", "--impl", "python", "--only", "rfc9605/*", "-q", "--out", str(tmp_path)]) == 0
    latest = tmp_path / "latest"
    assert latest.is_symlink()
    assert json.loads((latest / "results.json").read_text())["summary"]["total"] == 319
    assert (latest / "junit.xml").exists()


def test_failures_exit_1(tmp_path):
    shim = ROOT / "tests" / "fixtures" / "faulty_shim.py"
    assert main(["--impl", f"cmd:{sys.executable} {shim} garbage", "--only", "rfc9605/sframe/*", "-q",
                 "--timeout", "1"]) == 1


@pytest.mark.parametrize("args,message", [
    (["--impl", "nope"], "unknown implementation 'nope'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["run"], "run needs --impl NAME"),
    ([], "nothing to do"),
    (["--impl", "python", "--only", "no-such-case"], "no case matches"),
    (["--impl", "python", "--timeout", "x"], "invalid number of seconds"),
    (["--impl", "cmd:"], "cmd: needs a command line"),
])
def test_usage_errors_are_one_line_and_exit_2(args, message):
    proc = harness(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_unwritable_output_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = harness("--impl", "python", "--only", "rfc9605/header/0", "-q", "--json", str(blocker / "x.json"))
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr


def test_list_prints_the_catalogue():
    proc = harness("list")
    assert proc.returncode == 0
    rows = proc.stdout.splitlines()
    assert len(rows) >= 300
    case_id, requirements, level, expected, title = rows[0].split("\t")
    assert case_id == "rfc9605/header/0" and requirements.startswith("TV-01") and level == "MUST"
    assert "cases," in proc.stderr and int(proc.stderr.split("cases, ")[1].split()[0]) >= 25


def test_vectors_check():
    assert harness("vectors", "--check").returncode == 0


def test_console_script_is_installed():
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "sframe-harness"), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "sframe-conformance" in proc.stdout
