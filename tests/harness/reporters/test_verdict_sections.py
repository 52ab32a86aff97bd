"""What a reader learns beyond pass/fail: untested requirements, case levels, acceptable cases with their
reasons, inconsistent policies; in the console, results.json and index.html alike."""

import json
import sys

import pytest

from harness.cli import main
from tests.conftest import ROOT

SHIM = ROOT / "tests" / "fixtures" / "allowed_shim.py"
MIXED = f"mixed=cmd:{sys.executable} {SHIM} mixed-non-minimal"
GCM_ONLY = f"cmd:{sys.executable} {SHIM} suites-4-5"
ONLY = ["--only", "rfc9605/*", "--only", "gen/header/non-minimal-*", "--only", "HDR-07"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("verdicts")
    code = main(["run", "--impl", "python", "--impl", MIXED, "--impl", GCM_ONLY, *ONLY, "--out", str(out)])
    assert code == 0  # nothing here is a failure: every difference is allowed, and untested does not fail by default
    doc = json.loads((out / "latest" / "results.json").read_text())
    return doc, (out / "latest" / "index.html").read_text()


def test_untested_requirements_are_named(report, capsys):
    doc, html = report
    gcm = doc["runs"][2]
    assert gcm["implementation"]["name"] == "allowed-suites-4-5"
    assert gcm["untested"] == {"MUST": ["SUITE-02", "SUITE-03", "SUITE-04", "TV-02"]}
    assert gcm["requirements"]["TV-02"]["untested"] and not gcm["requirements"]["TV-01"]["untested"]
    assert doc["runs"][0]["untested"] == {}
    assert 'id="impl-allowed-suites-4-5-untested"><b>MUST requirements untested: SUITE-02, SUITE-03, SUITE-04, ' \
           'TV-02</b>' in html


def test_fail_untested_fails_the_gate_unless_expected(tmp_path, capsys):
    args = ["--impl", GCM_ONLY, "--only", "rfc9605/*", "-q", "--fail-untested"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "4 MUST requirements untested" in out
    assert "gate allowed-suites-4-5: untested requirements fail the gate: SUITE-02, SUITE-03, SUITE-04, TV-02" in out
    exp = tmp_path / "exp"
    assert main(args + ["--expectations", str(exp), "--update-expectations"]) == 0
    assert '[untested]\n"SUITE-02" = "untested: ' in (exp / "allowed-suites-4-5.toml").read_text()
    assert main(args + ["--expectations", str(exp)]) == 0
    assert main(["--impl", GCM_ONLY, "--only", "rfc9605/*", "-q", "--fail-untested", "--fail-on", "any",
                 "--expectations", str(exp)]) == 0


def test_cases_are_counted_at_their_own_level(report):
    doc, html = report
    hdr07 = doc["runs"][0]["requirements"]["HDR-07"]
    assert hdr07["level"] == "MUST"
    assert hdr07["by_case_level"]["MAY"]["non-strict"] == 8 and hdr07["by_case_level"]["MUST"]["pass"] > 0
    assert '<td>MAY <span class="muted">(requirement MUST)</span></td>' in html


def test_every_acceptable_case_is_listed_with_its_reason(report):
    doc, html = report
    listed = html.split('id="impl-python-acceptable">')[1].split("</ol>")[0]
    assert listed.startswith('<li><b>HDR-07</b> (8)<br><span class="muted">why allowed:</span> RFC 9605 requires '
                             'senders to encode KID and CTR minimally')
    for header in ("0805", "8005", "0800", "0900ff"):
        assert f"gen/header/non-minimal-{header}</b> (MAY): accepted (acceptable)</li>" in listed
    refused = html.split('id="impl-mixed-acceptable">')[1].split("</ol>")[0]
    assert "gen/header/non-minimal-0800</b> (MAY): decode_header: refused with malformed: non-minimal header 0800 " \
           "(allowed)</li>" in refused
    reasons = {c["reason"] for c in doc["runs"][0]["cases"] if c["grade"] == "non-strict"}
    assert len(reasons) == 1 and "HDR-07" in reasons.pop()


def test_an_inconsistent_policy_is_flagged(report, capsys):
    doc, html = report
    (mixed,) = doc["runs"][1]["inconsistencies"]
    assert mixed["requirement"] == "HDR-07"
    assert {"gen/header/non-minimal-0805", "gen/header/non-minimal-8005"} == set(mixed["accepted"])
    assert {"gen/header/non-minimal-0800", "gen/header/non-minimal-0900ff"} <= set(mixed["refused"])
    assert "HDR-07: inconsistent policy: accepts 2 (non-minimal-0805, non-minimal-8005) but refuses 6 " in html
    assert doc["runs"][0]["inconsistencies"] == [] and doc["runs"][2]["inconsistencies"] == []
    assert main(["--impl", MIXED, *ONLY]) == 0
    assert "  note: HDR-07: inconsistent policy: accepts 2 (non-minimal-0805, non-minimal-8005)" in \
        capsys.readouterr().out
