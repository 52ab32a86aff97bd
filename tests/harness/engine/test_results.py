"""The typed results document: JSON round trip, validation on load, schema v1 still merged, one failure rule."""

import copy
import json

import pytest

from harness.adapters.inprocess import PythonAdapter
from harness.catalogue import all_cases, select
from harness.cli import main
from harness.engine.matrix import run_matrix
from harness.engine.results import SCHEMA, Results, apply_gate, document, merge
from harness.engine.runner import run
from harness.model.grading import FailOn, Grade, fails_run


@pytest.fixture(scope="module")
def doc():
    cases = select(all_cases(), only=["rfc9605/*", "gen/header/non-minimal-*", "gen/keys/context/suite-4/*"])
    with PythonAdapter() as a:
        matrix = run_matrix([a], suites=[4])
    return apply_gate(document([run(PythonAdapter(), cases)], matrix, {"media": {"ok": True, "scenarios": []}}))


def test_round_trip_is_exact(doc):
    data = json.loads(json.dumps(doc.to_json()))
    assert data["schema"] == SCHEMA == "sframe-conformance-results/v2"
    again = Results.from_json(data)
    assert again.to_json() == data
    case = data["runs"][0]["cases"][0]
    assert "grade" in case and "result" not in case  # ``result`` is the vectors' expected outcome only
    assert {c["grade"] for c in data["matrix"]["cells"]} == {"pass"}


def _v1(data):
    """The same document as schema v1 wrote it."""
    old = copy.deepcopy(data)
    old["schema"] = "sframe-conformance-results/v1"
    for run_ in old["runs"]:
        for c in run_["cases"]:
            c["result"] = c.pop("grade")
        run_["implementation"].pop("spec")
    for cell in old["matrix"]["cells"]:
        cell["status"] = cell.pop("grade")
        del cell["checks"]["encrypt"], cell["reasons"]
        for check in cell["checks"].values():
            del check["non-strict"]
    return old


def test_schema_v1_is_still_read(doc):
    data = doc.to_json()
    old = Results.from_json(_v1(data))
    assert [c.grade for c in old.runs[0].cases] == [c.grade for c in doc.runs[0].cases]
    assert old.runs[0].spec == "python" and old.matrix.cells[0].grade is Grade.PASS


def _set(data, path, value):
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


_DELETE = object()
CRAFTED = [
    (("runs", 0, "cases", 3, "grade"), "passed", "runs[0].cases[3].grade: expected one of pass, fail"),
    (("runs", 0, "cases", 0, "level"), 1, "runs[0].cases[0].level: expected one of MUST, SHOULD, MAY"),
    (("runs", 0, "cases", 2, "id"), None, "runs[0].cases[2].id: expected a string, got null"),
    (("runs", 0, "cases", 1, "elapsed_ms"), -3, "runs[0].cases[1].elapsed_ms: -3 is below 0"),
    (("runs", 0, "duration_s"), "1.2", "runs[0].duration_s: expected a number, got a string"),
    (("runs", 0, "summary", "restarts"), True, "runs[0].summary.restarts: expected an integer, got a boolean"),
    (("runs", 0, "implementation", "hello", "suites"), [4, 4000], "runs[0].implementation.hello.suites[1]"),
    (("runs", 0, "cases"), {}, "runs[0].cases: expected a list, got an object"),
    (("runs", 0, "implementation"), _DELETE, "runs[0].implementation: missing"),
    (("matrix", "cells", 0, "checks", "decrypt", "pass"), -1, "matrix.cells[0].checks.decrypt.pass: -1 is out of"),
    (("matrix", "cells", 0, "grade"), "fail", "matrix.cells[0].grade: fail does not follow from its checks"),
    (("matrix", "cells", 0, "encryptor"), "nobody", "matrix.cells[0]: nobody->python/suite-4 names an"),
    (("media",), [1], "media: expected an object, got a list"),
    (("exit_code",), 7, "exit_code: 7 is out of range 0..1"),
    (("schema",), "sframe-conformance-results/v9", "schema: not a sframe-conformance-results/v2"),
]


@pytest.mark.parametrize("path, value, message", CRAFTED)
def test_a_crafted_document_gives_one_line_naming_the_field(doc, path, value, message):
    data = doc.to_json()
    _set(data, path, value)
    with pytest.raises(ValueError) as e:
        Results.from_json(data)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_merge_turns_a_bad_file_into_exit_2_naming_it(doc, tmp_path, capsys):
    good, bad, cut = tmp_path / "good.json", tmp_path / "bad.json", tmp_path / "cut.json"
    good.write_text(json.dumps(doc.to_json()))
    data = doc.to_json()
    data["runs"][0]["cases"][3]["grade"] = "passed"
    bad.write_text(json.dumps(data))
    cut.write_text(good.read_text()[: len(good.read_text()) // 2])
    assert main(["merge", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot merge {bad}: runs[0].cases[3].grade" in err
    assert main(["merge", str(cut)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["merge", str(deep)]) == 2


def test_merge_reads_v1_and_v2_together(doc, tmp_path):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    v1 = _v1(doc.to_json())
    v1["runs"][0]["implementation"]["name"] = "python-v1"
    old.write_text(json.dumps(v1))
    new.write_text(json.dumps(doc.to_json()))
    assert main(["merge", str(old), str(new), "--json", str(tmp_path / "m.json")]) == 0
    merged = json.loads((tmp_path / "m.json").read_text())
    assert merged["schema"] == SCHEMA and [r["implementation"]["name"] for r in merged["runs"]] == ["python-v1",
                                                                                                    "python"]
    assert merged["media"] == {"ok": True, "scenarios": []}


def test_one_failure_rule_for_outcomes_runs_and_the_gate(doc):
    run_ = doc.runs[0]
    for fail_on in FailOn:
        gated = apply_gate(merge([doc]), fail_on)
        want = any(fails_run(c.grade, c.level, fail_on) for c in run_.cases)
        assert run_.failed(fail_on) is want
        assert bool(gated.runs[0].gate.new_failures) is want
        assert gated.to_json()["runs"][0]["exit_code"] == int(want)
    outcomes = run(PythonAdapter(), select(all_cases(), only=["rfc9605/header/*"])).outcomes
    assert all(o.fails_run == fails_run(o.grade, o.case.level) for o in outcomes)
