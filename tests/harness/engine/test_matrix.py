"""The interop matrix and its CI gate."""

import json
import sys

from harness.adapters.registry import open_adapter
from harness.cli import main
from harness.engine.matrix import corpus, run_matrix, tamperings
from tests.conftest import ROOT

SHIM = f"cmd:{sys.executable} {ROOT / 'tests' / 'fixtures' / 'bitflip_shim.py'} 2"


def test_corpus_covers_sizes_boundaries_and_metadata():
    frames = corpus()
    assert {len(f.plaintext) for f in frames} >= {0, 1, 15, 16, 17, 100, 1200, 65536}
    assert {f.kid for f in frames} >= {0, 7, 8, 2**32, 2**64 - 1}
    assert {f.ctr for f in frames} >= {0, 7, 8, 2**32, 2**64 - 1}
    assert {bool(f.metadata) for f in frames} == {True, False}


def test_tamperings_touch_every_region():
    frame = corpus()[-1]  # KID and CTR 2^64-1: both extended
    names = [t.name for t in tamperings(frame, b"\xff" * 17 + bytes(100) + bytes(10), 10)]
    assert names == ["config-byte", "kid-byte", "ctr-byte", "body", "tag", "truncated-1", "header-only",
                     "metadata-flipped" if frame.metadata else "metadata-added"]


def test_conforming_implementations_interoperate_byte_for_byte():
    with open_adapter("python") as a, open_adapter(f"cmd:{sys.executable} -m harness serve --impl python") as b:
        matrix = run_matrix([a, b], suites=[1, 4, 8])
    assert len(matrix.cells) == 12
    for cell in matrix.cells:
        assert cell.status == "pass", (cell.key, cell.failures)
        assert cell.checks["identity"].passed == len(corpus())
        assert cell.checks["tamper"].passed > 0 and cell.checks["tamper"].failed == 0


def test_planted_bitflip_is_caught_in_its_suite_only():
    with open_adapter("python") as a, open_adapter(SHIM) as b:
        matrix = run_matrix([a, b], suites=[1, 2])
    status = {c.key: c.status for c in matrix.cells}
    assert status[f"python->{SHIM}/suite-2"] == "fail"
    assert status[f"{SHIM}->python/suite-2"] == "fail"
    assert status[f"{SHIM}->python/suite-1"] == "pass"
    cell = next(c for c in matrix.cells if c.key == f"python->{SHIM}/suite-2")
    assert cell.checks["identity"].failed > 0  # its ciphertexts differ from python's


def test_gate_fails_on_new_failure_and_passes_once_expected(tmp_path):
    args = ["matrix", "--impl", "python", "--impl", SHIM, "--suite", "1", "--suite", "2",
            "--expectations", str(tmp_path / "exp"), "--json", str(tmp_path / "r.json")]
    assert main(args) == 1
    doc = json.loads((tmp_path / "r.json").read_text())
    assert len(doc["matrix"]["gate"]["new_failures"]) == 3  # python->shim, shim->python, shim->shim in suite 2
    assert main(args + ["--update-expectations"]) == 0
    assert "fail: " in (tmp_path / "exp" / "matrix.toml").read_text()
    assert main(args) == 0
    # The expectation now lists a failure that a correct implementation does not have: an unexpected pass.
    fixed = ["matrix", "--impl", "python", "--impl", "c" if (ROOT / "implementations/c/build/sframe-server").exists()
             else "python-subprocess", "--suite", "2", "--expectations", str(tmp_path / "exp"), "--json",
             str(tmp_path / "r2.json")]
    exp = tmp_path / "exp" / "matrix.toml"
    exp.write_text(exp.read_text().replace(SHIM, fixed[4]))
    assert main(fixed) == 0
    assert json.loads((tmp_path / "r2.json").read_text())["matrix"]["gate"]["unexpected_passes"]


def test_bad_suite_is_a_usage_error(capsys):
    assert main(["matrix", "--impl", "python", "--suite", "9"]) == 2
    assert "suites are 1 to 8" in capsys.readouterr().err
