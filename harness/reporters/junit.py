"""JUnit XML: one testsuite per implementation, one testcase per case."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..grading import Grade
from ..runner import RunResult


def write_junit(results: list[RunResult], path: Path) -> None:
    root = ET.Element("testsuites")
    for result in results:
        counts = result.counts
        suite = ET.SubElement(root, "testsuite", name=f"sframe-conformance[{result.implementation}]",
                              tests=str(len(result.outcomes)), failures=str(counts["fail"]),
                              errors=str(counts["error"]), skipped=str(counts["unsupported"]),
                              time=f"{result.duration:.3f}", timestamp=result.started)
        for o in result.outcomes:
            case = o.case
            tc = ET.SubElement(suite, "testcase", classname=f"{result.implementation}.{case.requirements[0]}",
                               name=case.id, time=f"{o.elapsed:.6f}")
            message = f"[{case.level.value} {', '.join(case.requirements)} RFC 9605 §{case.section}] {o.detail}"
            if o.grade is Grade.FAIL:
                ET.SubElement(tc, "failure", message=message, type=case.level.value).text = case.title
            elif o.grade is Grade.ERROR:
                ET.SubElement(tc, "error", message=message, type="implementation-fault").text = case.title
            elif o.grade is Grade.UNSUPPORTED:
                ET.SubElement(tc, "skipped", message=o.detail)
            elif o.grade is Grade.NON_STRICT:
                ET.SubElement(tc, "system-out").text = f"non-strict: {o.detail}"
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
