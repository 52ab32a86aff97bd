"""Allowed-behaviour shims: the mirror of the planted-bug shims. Each differs from the reference only where
RFC 9605 allows; each must pass the whole catalogue with no fail and no error, and difffuzz against python
must find no mismatch. (The planted bugs must still fail: test_broken_variants.py, test_matrix.py.)"""

import sys

import pytest

from harness.adapters.registry import open_adapter
from harness.catalogue import all_cases
from harness.engine.runner import run
from harness.fuzz import difffuzz
from harness.model.grading import Grade, Policy
from tests.conftest import ROOT

SHIM = ROOT / "tests" / "fixtures" / "allowed_shim.py"
MODES = ("refuse-ctr-max", "reject-non-minimal", "accept-non-minimal", "other-error-class", "refuse-empty-key",
         "suites-4-5", "mixed-non-minimal")


def _spec(mode: str) -> str:
    return f"cmd:{sys.executable} {SHIM} {mode}"


@pytest.mark.parametrize("mode", MODES)
def test_an_allowed_difference_never_fails_the_catalogue_nor_difffuzz(mode, tmp_path):
    with open_adapter(_spec(mode)) as shim:
        result = run(shim, all_cases())
    bad = [(o.case.id, o.grade.value, o.detail) for o in result.outcomes if o.grade in (Grade.FAIL, Grade.ERROR)]
    assert not bad, bad[:10]
    assert result.restarts == 0
    names: set[str] = set()
    with open_adapter("python", taken=names) as python, open_adapter(_spec(mode), taken=names) as shim:
        report = difffuzz.campaign([python, shim], difffuzz.Config(max_time=20, max_cases=1536, seed=11, out=tmp_path))
    assert not report.mismatches, [(k, s.count) for k, s in report.keys.items() if not k.is_note]


def test_the_allowed_differences_show_as_non_strict_with_their_reason():
    with open_adapter(_spec("refuse-ctr-max")) as shim:
        outcomes = run(shim, all_cases()).outcomes
    refused = [o for o in outcomes if o.policy is Policy.REFUSED]
    assert refused and all(o.grade is Grade.NON_STRICT and "2^64-1" in o.reason for o in refused)
    # The receiver half of each refused round trip was graded: the official and generated CTR 2^64-1
    # frames decrypted (step 2 answered ok).
    trips = [o for o in refused if o.case.id.startswith("gen/roundtrip/")]
    assert len(trips) == 16 and all(o.responses[1].ok for o in trips)


@pytest.mark.parametrize("mode, policy", [("accept-non-minimal", Policy.ACCEPTED), ("reject-non-minimal", Policy.REFUSED)])
def test_a_header_policy_is_recorded_case_by_case(mode, policy):
    with open_adapter(_spec(mode)) as shim:
        outcomes = [o for o in run(shim, all_cases()).outcomes if o.case.id.startswith("gen/header/non-minimal-")]
    assert len(outcomes) == 8 and all(o.policy is policy and o.grade is Grade.NON_STRICT for o in outcomes)


def test_difffuzz_calls_the_allowed_differences_notes(tmp_path):
    names: set[str] = set()
    with open_adapter("python", taken=names) as python, open_adapter(_spec("refuse-ctr-max"), taken=names) as shim:
        report = difffuzz.campaign([python, shim], difffuzz.Config(max_time=20, max_cases=1536, seed=11, out=tmp_path))
    assert {k.how for k in report.keys} == {"ctr-exhaustion"} and all(k.is_note for k in report.keys)


def test_difffuzz_generates_only_over_shared_suites_and_refuses_none_shared(capsys, tmp_path):
    names: set[str] = set()
    with open_adapter("python", taken=names) as python, open_adapter(_spec("suites-4-5"), taken=names) as shim:
        assert difffuzz.common_suites([python, shim]) == [4, 5]
    from harness.cli import main

    medooze_like = f"cmd:{sys.executable} {SHIM} suites-4-5"
    assert main(["difffuzz", "--impl", medooze_like, "--impl", f"x=cmd:{sys.executable} -m harness serve --impl python",
                 "--max-cases", "10", "-q", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    with pytest.raises(difffuzz.NoCommonSuite) as e:
        difffuzz.common_suites([type("A", (), {"name": "a", "hello": type("H", (), {"suites": (1,)})()})(),
                                type("B", (), {"name": "b", "hello": type("H", (), {"suites": (4,)})()})()])
    assert "no suite in common (a has 1; b has 4)" in str(e.value)


def test_comparison_rules_for_allowed_differences():
    from harness.model.allowances import Allowance
    from harness.model.wire import Response

    ok, other = Response(True, {"plaintext": b"a"}), Response(True, {"plaintext": b"b"})
    refused = Response(False, error="malformed")
    for allowance in (Allowance.NON_MINIMAL_HEADER, Allowance.BASE_KEY_LENGTH, Allowance.CTR_LAST):
        key = difffuzz.compare("decrypt", 4, {"a": ok, "b": refused}, allowance)
        assert key.how == allowance.value and key.is_note
        # An allowance covers refusing, never a different answer.
        assert difffuzz.compare("decrypt", 4, {"a": ok, "b": other, "c": refused}, allowance).how == "output"
        assert not difffuzz.compare("decrypt", 4, {"a": ok, "b": Response.faulted("x")}, allowance).is_note
    assert not difffuzz.compare("decrypt", 4, {"a": ok, "b": refused}).is_note
