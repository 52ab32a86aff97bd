"""A crafted results.json through ``merge`` never runs script in the report (#14, stored XSS).

The hostile document is a real one (a small run with a matrix) with a payload in every string
the schema checks let through, and sections of other rooms (fuzz, media, bench, timing) that
``merge`` keeps as written, in shapes and types of the attacker's choosing. The page is loaded
in headless Chromium: no dialog opens, no script or event-handler element exists, and the
payloads appear as text.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.engine.results import Results
from harness.reporters.html import render
from tests.conftest import ROOT
from tests.fixtures.chromium import chromium_page

PAYLOAD = "<script>alert('x')</script><img src=x onerror=alert('y')>\"'><svg onload=alert('z')>"
TRAPS = "<script>alert(1)</script>"


def _poison(doc: Any, path: list[Any], root: dict[str, Any]) -> int:
    """Append PAYLOAD to every string of ``doc`` that Results.from_json still accepts; the count poisoned."""
    count = 0
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    for key, value in list(items):
        if isinstance(value, str):
            doc[key] = value + PAYLOAD
            try:
                Results.from_json(root)
                count += 1
            except ValueError:
                doc[key] = value
        elif isinstance(value, (dict, list)):
            count += _poison(value, [*path, key], root)
    return count


EXTRAS: dict[str, Any] = {
    "fuzz": {"difffuzz": {"impls": [TRAPS, "c"], "seed": TRAPS, "cases": TRAPS, "cases_per_s": [TRAPS],
                          "mismatches": [{"key": {"groups": [[TRAPS], ["c"]], "op": TRAPS, "how": TRAPS},
                                          "count": TRAPS, "file": TRAPS}]},
             "properties": [{"file": TRAPS, "impl": TRAPS, "property": TRAPS}]},
    "media": {"scenarios": [{"scenario": TRAPS, "impl": TRAPS, "kind": TRAPS, "suite": TRAPS, "ok": False,
                             "problems": [TRAPS], "identical": {TRAPS: TRAPS}, "frames_sent": 3}],
              "interop": {TRAPS: {TRAPS: TRAPS}}, "browser": {"browser": TRAPS, "launch_seconds": TRAPS},
              "native_sframe": TRAPS, "total_seconds": TRAPS, "ok": True},
    "bench": {"harness": {"cases": TRAPS, "run_s": TRAPS}, "notes": [TRAPS], "rows": TRAPS,  # not a list
              "transport": [{"x": TRAPS}], "overhead": {"rows": [{"scenario": TRAPS}]}},
    "timing": {"requirement": TRAPS, "method": TRAPS, "budget_s": TRAPS, "target_samples": [TRAPS],
               "results": [{TRAPS: TRAPS}]},
}


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("xss")
    clean = tmp / "clean.json"
    subprocess.run([sys.executable, "-m", "harness", "run", "--impl", "python", "--impl", "python-subprocess",
                    "--matrix", "--only", "rfc9605/sframe/suite-4/*", "-q", "--json", str(clean)], cwd=ROOT,
                   timeout=300, capture_output=True, check=False)
    doc = json.loads(clean.read_text())
    poisoned = _poison(doc, [], doc)
    assert poisoned >= 50, poisoned  # names, hello, case ids, titles, details, cells, reasons...
    doc.update(EXTRAS)
    Results.from_json(doc)
    hostile = tmp / "hostile.json"
    hostile.write_text(json.dumps(doc))
    page = tmp / "index.html"
    proc = subprocess.run([sys.executable, "-m", "harness", "merge", str(hostile), "--html", str(page)], cwd=ROOT,
                          timeout=120, capture_output=True, text=True)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return page


def test_no_markup_survives_in_the_source(hostile_report: Path) -> None:
    html = hostile_report.read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and "<svg onload" not in html
    assert "&lt;script&gt;alert(" in html  # the payloads are there, as text
    assert "could not be read" in html  # a section whose shape does not fit says so, the rest is rendered


def test_escaping_holds_without_the_schema_checks() -> None:
    # The renderer is the last line: even a document built in memory with payloads everywhere stays inert.
    doc = Results.from_json({"schema": "sframe-conformance-results/v2", "runs": []})
    doc.extras.update(EXTRAS)
    doc.not_run.append(TRAPS)
    html = render(doc)
    assert "<script" not in html and "&lt;script&gt;" in html


@pytest.mark.browser
def test_no_script_runs_in_chromium(hostile_report: Path) -> None:
    with chromium_page() as page:
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(hostile_report.as_uri())
        page.wait_for_timeout(500)
        active = page.evaluate("document.querySelectorAll('script, [onerror], [onload], iframe, object').length")
        text = page.evaluate("document.body.innerText")
    assert dialogs == [] and active == 0
    assert "<script>alert('x')</script>" in text  # shown, not run
