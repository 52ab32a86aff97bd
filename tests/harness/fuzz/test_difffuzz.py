"""Differential fuzzing: finds a planted bug the official vectors miss, and stays quiet on agreeing implementations."""

import json
import sys
from pathlib import Path

import pytest

from harness.adapters.registry import open_adapter
from harness.adapters.subprocess import SubprocessAdapter
from harness.cli import main
from harness.fuzz import difffuzz
from harness.model.wire import Response
from tests.conftest import ROOT

pytestmark = pytest.mark.fuzz

CTR32_SHIM = f"cmd:{sys.executable} {ROOT / 'tests' / 'fixtures' / 'ctr32_shim.py'}"


def test_finds_the_planted_32_bit_ctr_bug_within_a_minute(tmp_path):
    config = difffuzz.Config(max_time=60, seed=7, out=tmp_path, stop_on_first=True)
    with open_adapter("python") as python, SubprocessAdapter(CTR32_SHIM[4:], name="ctr32") as shim:
        report = difffuzz.campaign([python, shim], config)
    assert report.mismatches, "the planted bug was not found"
    assert report.first_mismatch_after is not None and report.first_mismatch_after < 60
    key = report.mismatches[0]
    assert key.groups == (("python",), ("ctr32",)) and key.how in ("output", "accept-reject")
    finding = json.loads(Path(report.keys[key].file).read_text())
    # Shrinking isolates the cause: the smallest CTR that no longer fits in 32 bits.
    assert finding["finding"]["recipe"]["ctr"] == str(1 << 32)
    assert finding["finding"]["recipe"]["plaintext"] == ""
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["schema"] == difffuzz.SCHEMA and index["mismatches"][0]["file"] == report.keys[key].file
    repro = report.keys[key].file
    assert main(["replay", repro, "--impl", "python"]) == 0
    assert main(["replay", repro, "--impl", CTR32_SHIM]) == 1


def test_agreeing_implementations_give_no_mismatch(tmp_path, capsys):
    code = main(["difffuzz", "--impl", "python", "--impl", "python-subprocess", "--max-time", "3", "--seed", "3",
                 "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "no mismatch" in out and "cases/s" in out
    assert json.loads((tmp_path / "index.json").read_text())["cases"] > 500


def test_comparison_rules():
    ok = Response(True, {"plaintext": b"a"})
    other = Response(True, {"plaintext": b"b"})
    auth, malformed = Response(False, error="auth_failed"), Response(False, error="malformed")
    unsupported = Response(False, error="unsupported")
    assert difffuzz.compare("decrypt", 1, {"a": ok, "b": ok}) is None
    assert difffuzz.compare("decrypt", 1, {"a": ok, "b": other}).how == "output"
    assert difffuzz.compare("decrypt", 1, {"a": ok, "b": auth}).how == "accept-reject"
    note = difffuzz.compare("decrypt", 1, {"a": auth, "b": malformed})
    assert note.how == "error-class" and note.is_note
    assert difffuzz.compare("decrypt", 1, {"a": ok, "b": unsupported}) is None  # not comparable
    assert difffuzz.compare("decrypt", 1, {"a": ok, "b": Response.faulted("crashed")}).how == "fault"


def test_generation_is_deterministic():
    import random

    rng, again_rng = random.Random(5), random.Random(5)
    first = [difffuzz.generate(rng, [1, 4]) for _ in range(300)]
    again = [difffuzz.generate(again_rng, [1, 4]) for _ in range(300)]
    assert first == again
    assert {r.op for r in first} == {"encrypt", "decrypt", "encode_header", "decode_header"}


def test_usage_errors(capsys):
    assert main(["difffuzz", "--impl", "python"]) == 2
    assert "at least two" in capsys.readouterr().err
