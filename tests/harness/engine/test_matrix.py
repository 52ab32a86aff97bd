"""The interop matrix and its CI gate: graded with ``Grade``, allowed refusals acceptable, names readable."""

import json
import sys

from harness.adapters.registry import open_adapter
from harness.cli import main
from harness.engine.matrix import corpus, run_matrix, tamperings
from harness.model.allowances import U64_MAX
from harness.model.grading import Grade
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
SHIM = f"flip=cmd:{sys.executable} {FIXTURES / 'bitflip_shim.py'} 2"
REFUSE_LAST = f"cmd:{sys.executable} {FIXTURES / 'allowed_shim.py'} refuse-ctr-max"
ONLY_4_5 = f"cmd:{sys.executable} {FIXTURES / 'allowed_shim.py'} suites-4-5"


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
    assert b.name == "sframe-py"  # an unnamed program is called by the name it gives in hello
    assert len(matrix.cells) == 12
    for cell in matrix.cells:
        assert cell.grade is Grade.PASS, (cell.key, cell.failures)
        assert cell.checks["identity"].passed == len(corpus())
        assert cell.checks["tamper"].passed > 0 and cell.checks["tamper"].failed == 0


def test_planted_bitflip_is_caught_in_its_suite_only_and_the_note_names_the_operation():
    with open_adapter("python") as a, open_adapter(SHIM) as b:
        matrix = run_matrix([a, b], suites=[1, 2])
    grade = {c.key: c.grade for c in matrix.cells}
    assert grade["python->flip/suite-2"] is Grade.FAIL
    assert grade["flip->python/suite-2"] is Grade.FAIL
    assert grade["flip->python/suite-1"] is Grade.PASS
    cell = next(c for c in matrix.cells if c.key == "python->flip/suite-2")
    assert cell.checks["identity"].failed > 0  # its ciphertexts differ from python's
    assert cell.failures[0].startswith("identity (python vs flip) ")
    # python fails to decrypt what flip encrypted: the note says decrypt, by python, not "failed to encrypt".
    back = next(c for c in matrix.cells if c.key == "flip->python/suite-2")
    assert any(f.startswith("decrypt (python) ") and "rejected with auth_failed" in f for f in back.failures)


def test_a_sender_refusing_ctr_max_is_acceptable_and_its_receiver_half_still_checked():
    with open_adapter("python") as a, open_adapter(REFUSE_LAST) as b:
        matrix = run_matrix([a, b], suites=[4])
    by_key = {c.key: c for c in matrix.cells}
    last = sum(f.ctr == U64_MAX for f in corpus())
    refused = by_key["allowed-refuse-ctr-max->python/suite-4"]
    assert refused.grade is Grade.NON_STRICT, refused.failures
    assert refused.checks["encrypt"].acceptable == last and refused.checks["encrypt"].failed == 0
    assert refused.reasons and "refused with counter_exhausted (allowed: " in refused.reasons[0]
    assert "ENC-06" in refused.reasons[0]
    # python decrypted the reference's ciphertext for every refused frame: all frames were checked.
    assert refused.checks["decrypt"].passed == len(corpus())
    # The refusing implementation still decrypts CTR 2^64-1 frames made by python (a MUST).
    received = by_key["python->allowed-refuse-ctr-max/suite-4"]
    assert received.grade is Grade.PASS and received.checks["decrypt"].passed == len(corpus())


def test_gate_fails_on_new_failure_and_passes_once_expected(tmp_path):
    args = ["matrix", "--impl", "python", "--impl", SHIM, "--suite", "1", "--suite", "2",
            "--expectations", str(tmp_path / "exp"), "--json", str(tmp_path / "r.json")]
    assert main(args) == 1
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["matrix"]["gate"]["new_failures"] == ["python->flip/suite-2", "flip->python/suite-2",
                                                     "flip->flip/suite-2"]
    assert {c["grade"] for c in doc["matrix"]["cells"]} == {"pass", "fail"}
    assert main(args + ["--update-expectations"]) == 0
    assert '"flip->python/suite-2" = "fail: ' in (tmp_path / "exp" / "matrix.toml").read_text()
    assert main(args) == 0
    # The same name on a correct program: the listed failures now pass, an unexpected pass.
    fixed = ["matrix", "--impl", "python", "--impl", f"flip=cmd:{sys.executable} -m harness serve --impl python",
             "--suite", "2", "--expectations", str(tmp_path / "exp"), "--json", str(tmp_path / "r2.json")]
    assert main(fixed) == 0
    assert json.loads((tmp_path / "r2.json").read_text())["matrix"]["gate"]["unexpected_passes"]


def test_bad_suite_is_a_usage_error(capsys):
    assert main(["matrix", "--impl", "python", "--suite", "9"]) == 2
    assert "suites are 1 to 8" in capsys.readouterr().err


def test_no_suite_in_common_is_one_line_and_exit_2(capsys):
    assert main(["matrix", "--impl", "python", "--impl", ONLY_4_5, "--suite", "6"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "allowed-suites-4-5 supports none of suite(s) 6 (it has 4, 5)" in err
