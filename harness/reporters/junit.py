"""JUnit XML: one testsuite per implementation (one testcase per case) and one for the matrix."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any


def _outcome(tc: ET.Element, result: str, message: str, text: str) -> None:
    if result == "fail":
        ET.SubElement(tc, "failure", message=message).text = text
    elif result == "error":
        ET.SubElement(tc, "error", message=message).text = text
    elif result == "unsupported":
        ET.SubElement(tc, "skipped", message=message)
    elif result == "non-strict":
        ET.SubElement(tc, "system-out").text = f"non-strict: {message}"


def write_junit(doc: dict[str, Any], path: Path) -> None:
    root = ET.Element("testsuites")
    for run in doc["runs"]:
        s = run["summary"]
        suite = ET.SubElement(root, "testsuite", name=f"sframe-conformance[{run['implementation']['name']}]",
                              tests=str(s["total"]), failures=str(s["failed"]), errors=str(s["error"]),
                              skipped=str(s["unsupported"]), time=f"{run['duration_s']:.3f}", timestamp=run["started"])
        for c in run["cases"]:
            tc = ET.SubElement(suite, "testcase", classname=f"{run['implementation']['name']}.{c['requirements'][0]}",
                               name=c["id"], time=f"{c['elapsed_ms'] / 1000:.6f}")
            cite = f"[{c['level']} {', '.join(c['requirements'])} RFC 9605 §{c['section']}] {c['detail']}"
            _outcome(tc, c["result"], cite, c["title"])
    matrix = doc.get("matrix")
    if matrix:
        cells = matrix["cells"]
        suite = ET.SubElement(root, "testsuite", name="sframe-interop-matrix", tests=str(len(cells)),
                              failures=str(sum(c["status"] == "fail" for c in cells)),
                              errors=str(sum(c["status"] == "error" for c in cells)),
                              skipped=str(sum(c["status"] == "unsupported" for c in cells)),
                              time=f"{matrix['duration_s']:.3f}")
        for c in cells:
            tc = ET.SubElement(suite, "testcase", classname=f"matrix.suite-{c['suite']}", name=c["key"],
                               time=f"{c['elapsed_s']:.6f}")
            _outcome(tc, c["status"], "; ".join(c["failures"][:3]), "\n".join(c["failures"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
