"""A malformed reproducer is a usage error when it is loaded, never a grade against the implementation."""

import json

import pytest

from harness.cli import main
from harness.model.repro import SCHEMA, ReproError, repro_to_case

NEW = {"op": "context_new", "suite": 4, "expect": {"ok": True}}


def _doc(*steps):
    return {"schema": SCHEMA, "id": "x", "steps": list(steps)}


def _encrypt(source):
    return {"op": "context_encrypt", "ctx": {"$from": source, "field": "ctx"}, "kid": "1", "metadata": "",
            "plaintext": "", "expect": {"ok": True}}


@pytest.mark.parametrize("data, message", [
    (_doc(), "'steps' must be a non-empty list"),
    ({"schema": SCHEMA, "id": "x"}, "'steps' must be a non-empty list"),
    (_doc(NEW, _encrypt(5)), "step 1: field 'ctx' takes $from step 5, but only steps 0 to 0 come before it"),
    (_doc(NEW, _encrypt(1)), "takes $from step 1"),
    (_doc(NEW, _encrypt(-1)), "takes $from step -1"),
    (_doc(_encrypt(0)), "step 0: field 'ctx' takes $from step 0, but the first step cannot refer to another"),
    (_doc(NEW, {**_encrypt(0), "ctx": {"$from": "0", "field": "ctx"}}), "'$from' must be a step number"),
    (_doc({"op": "decrypt", "expect": {"ok": False, "errors": "auth_failed"}}), "must be a list of error classes"),
])
def test_malformed_reproducers_are_refused_on_load(data, message):
    with pytest.raises(ReproError) as e:
        repro_to_case(data)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_replay_of_a_malformed_reproducer_exits_2_with_one_line(tmp_path, capsys):
    for data in (_doc(), _doc(NEW, _encrypt(3))):
        path = tmp_path / "case.json"
        path.write_text(json.dumps(data))
        assert main(["replay", str(path), "--impl", "python"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "IndexError" not in err


def test_reasons_and_may_fail_round_trip():
    data = _doc(NEW, {**_encrypt(0), "expect": {"ok": True, "may_fail": True, "reason": "ENC-06 allows it"}})
    case = repro_to_case(data)
    assert case.steps[1].may_fail and case.steps[1].reason == "ENC-06 allows it"
