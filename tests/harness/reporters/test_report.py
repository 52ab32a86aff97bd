"""Reports people read: results.json, JUnit, index.html (checked in a real browser), merge."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from html import escape

import pytest

from harness.cli import main
from tests.conftest import ROOT
from tests.fixtures.chromium import chromium_page

SHIM = f"cmd:{sys.executable} {ROOT / 'tests' / 'fixtures' / 'bitflip_shim.py'} 4"  # calls itself sframe-py


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    code = main(["run", "--impl", "python", "--impl", SHIM, "--only", "rfc9605/sframe/*", "--matrix", "-q",
                 "--out", str(out)])
    assert code == 1  # the shim's suite-4 ciphertexts are wrong
    return out / "latest"


def test_report_directory(report):
    assert {p.name for p in report.iterdir()} == {"results.json", "junit.xml", "index.html", "matrix.svg",
                                                  "matrix.png"}
    doc = json.loads((report / "results.json").read_text())
    # An unnamed cmd: program is called by the name it gives in hello; its spec is kept to start it again.
    assert [r["implementation"]["name"] for r in doc["runs"]] == ["python", "sframe-py"]
    assert doc["runs"][1]["implementation"]["spec"] == SHIM
    assert doc["matrix"]["implementations"] == ["python", "sframe-py"]
    assert doc["exit_code"] == 1 and doc["matrix"]["gate"]["new_failures"]
    bad = [c for c in doc["runs"][1]["cases"] if c["grade"] == "fail"]
    assert [c["id"] for c in bad] == ["rfc9605/sframe/suite-4/encrypt"]


def test_junit_has_cases_and_cells(report):
    root = ET.parse(report / "junit.xml").getroot()
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert "sframe-interop-matrix" in suites
    matrix = suites["sframe-interop-matrix"]
    cells = json.loads((report / "results.json").read_text())["matrix"]["cells"]
    stateless = [c for c in cells if "kind" not in c]  # the stateful cells (kind context, ratchet, ...) follow
    assert len(stateless) == 32 and sum(c["grade"] == "fail" for c in stateless) == 3
    assert int(matrix.get("tests")) == len(cells) > 32
    assert int(matrix.get("failures")) == sum(c["grade"] == "fail" for c in cells)


def test_html_is_self_contained_and_cites_requirements(report):
    html = (report / "index.html").read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert 'id="matrix-suite-4"' in html
    assert "violates RFC 9605 §C.3 TV-03, ENC-01, ENC-02, ENC-03, SUITE-01, SUITE-06 (MUST)" in html
    assert escape(f"python -m harness --impl '{SHIM}' --only rfc9605/sframe/suite-4/encrypt") in html


@pytest.mark.browser
def test_html_renders_in_headless_chromium(report, tmp_path):
    with chromium_page() as page:
        page.goto((report / "index.html").as_uri())
        grid = page.locator("#matrix-suite-4")
        assert grid.is_visible()
        assert grid.locator("td.fail").count() == 3 and grid.locator("td.pass").count() == 1
        assert page.locator("ol.failures li.failure").count() == 1
        assert page.locator("#matrix-failures li.failure").count() == 3
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_merge_combines_jobs(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["run", "--impl", "python", "--only", "rfc9605/header/*", "-q", "--json", str(a)]) == 0
    assert main(["matrix", "--impl", "python", "--suite", "1", "--json", str(b)]) == 0
    assert main(["merge", str(a), str(b), "--out", str(tmp_path / "merged")]) == 0
    doc = json.loads((tmp_path / "merged" / "latest" / "results.json").read_text())
    assert len(doc["runs"]) == 1 and doc["runs"][0]["summary"]["total"] == 289
    assert [c["key"] for c in doc["matrix"]["cells"]] == ["python->python/suite-1"] + [
        f"python->python/{kind}/suite-1" for kind in ("context", "ratchet", "mls", "replay")]
    assert len(doc["matrix"]["ratchet_kat"]["entries"]) == 3  # python's key after 1, 2 and 10 steps
    assert (tmp_path / "merged" / "latest" / "index.html").exists()


def test_merge_rejects_foreign_files(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something-else"}')
    assert main(["merge", str(bad)]) == 2
    assert "cannot merge" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "missing.json")]) == 2


def test_workflow_files_lint():
    actionlint = ROOT / ".venv" / "bin" / "actionlint"
    assert actionlint.exists(), "make build installs actionlint (from the Go module proxy)"
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert any(w.name == "conformance.yml" for w in workflows)
    proc = subprocess.run([str(actionlint), *map(str, workflows)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_fuzz_findings_appear_in_the_report(tmp_path):
    from harness.engine.results import document
    from harness.fuzz.findings import findings
    from harness.reporters.html import render

    root = tmp_path / "fuzz" / "findings"
    (root / "difffuzz").mkdir(parents=True)
    (root / "properties").mkdir()
    (root / "difffuzz" / "index.json").write_text(json.dumps({
        "schema": "sframe-conformance-difffuzz/v1", "impls": ["python", "c"], "seed": 3, "cases": 10, "cases_per_s": 5,
        "mismatches": [{"key": {"op": "encrypt", "suite": 1, "groups": [["python"], ["c"]], "how": "output"},
                        "count": 2, "file": "fuzz/findings/difffuzz/x.json"}]}))
    (root / "properties" / "m.json").write_text(json.dumps({"finding": {
        "impl": "medooze", "property": "roundtrip", "violation": "wrong-plaintext", "message": "CTR 2^32"}}))
    found = findings(root)
    assert found["difffuzz"]["seed"] == 3 and found["properties"][0]["violation"] == "wrong-plaintext"
    html = render(document([], extra={"fuzz": found}))
    assert 'id="fuzz"' in html and "python -m harness replay fuzz/findings/difffuzz/x.json --impl c" in html
    assert "wrong-plaintext" in html
    (root / "difffuzz" / "index.json").write_text("{half written")
    assert findings(root) is None


def test_media_results_appear_in_the_report_and_fail_the_gate():
    from harness.engine.results import apply_gate, document
    from harness.reporters.html import render

    scenario = {"scenario": "browser->sfu", "impl": "browser-js", "kind": "video", "suite": 4, "setup_seconds": 0.2,
                "frames_sent": 41, "frames_captured": 40, "identical": {"python": 40, "c": 40}, "frames_per_second": 14.8,
                "problems": [], "ok": True}
    media = {"browser": {"browser": "Chrome/156", "launch_seconds": 0.7}, "native_sframe": "not available",
             "scenarios": [scenario], "interop": {"browser-js": {"python": "40/40"}}, "total_seconds": 3.1, "ok": True}
    doc = apply_gate(document([], extra={"media": media}))
    html = render(doc)
    assert 'id="media"' in html and "sent 41, captured 40" in html and "python 40, c 40" in html
    assert doc.exit_code == 0
    broken = {**media, "ok": False, "scenarios": [{**scenario, "ok": False, "problems": ["3 frames lost"]}]}
    doc = apply_gate(document([], extra={"media": broken}))
    assert doc.exit_code == 1 and "3 frames lost" in render(doc)
