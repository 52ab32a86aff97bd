"""JUnit XML: one testsuite per implementation (one testcase per case) and one for the matrix.

Rule of this module: whatever the document holds (an implementation's message
with NUL, ESC or a surrogate, a 20 MB detail from a merged file), the file is
valid XML 1.0: before writing, every attribute and text is cut to a bound and
every character XML forbids is shown as an escape (``text.for_xml``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..engine.matrix import FRAMES
from ..engine.results import Results
from ..model.grading import Grade
from ..model.text import MESSAGE_LIMIT, clip, for_xml

TEXT_LIMIT = 4 * MESSAGE_LIMIT


def _outcome(tc: ET.Element, grade: Grade, message: str, text: str) -> None:
    if grade is Grade.FAIL:
        ET.SubElement(tc, "failure", message=message).text = text
    elif grade is Grade.ERROR:
        ET.SubElement(tc, "error", message=message).text = text
    elif grade is Grade.UNSUPPORTED:
        ET.SubElement(tc, "skipped", message=message)
    elif grade is Grade.NON_STRICT:
        ET.SubElement(tc, "system-out").text = f"non-strict: {message}"


def write_junit(doc: Results, path: Path) -> None:
    root = ET.Element("testsuites")
    for run in doc.runs:
        s = run.summary()
        suite = ET.SubElement(root, "testsuite", name=f"sframe-conformance[{run.implementation}]",
                              tests=str(s["total"]), failures=str(s["failed"]), errors=str(s["error"]),
                              skipped=str(s["unsupported"]), time=f"{run.duration_s:.3f}", timestamp=run.started)
        for c in run.cases:
            tc = ET.SubElement(suite, "testcase", classname=f"{run.implementation}.{c.requirements[0]}",
                               name=c.id, time=f"{c.elapsed_ms / 1000:.6f}")
            cite = f"[{c.level.value} {', '.join(c.requirements)} RFC 9605 §{c.section}] {c.detail}"
            _outcome(tc, c.grade, cite, c.title)
    matrix = doc.matrix
    if matrix:
        cells = matrix.cells
        suite = ET.SubElement(root, "testsuite", name="sframe-interop-matrix", tests=str(len(cells)),
                              failures=str(sum(c.grade is Grade.FAIL for c in cells)),
                              errors=str(sum(c.grade is Grade.ERROR for c in cells)),
                              skipped=str(sum(c.grade is Grade.UNSUPPORTED for c in cells)),
                              time=f"{matrix.duration:.3f}")
        for cell in cells:
            tc = ET.SubElement(suite, "testcase", classname=f"matrix.{cell.kind}.suite-{cell.suite}" if cell.kind != FRAMES
                               else f"matrix.suite-{cell.suite}", name=cell.key,
                               time=f"{cell.elapsed:.6f}")
            notes = cell.failures or cell.reasons
            _outcome(tc, cell.grade, "; ".join(notes[:3]), "\n".join(cell.failures + cell.reasons))
    _make_safe(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _make_safe(root: ET.Element) -> None:
    for element in root.iter():
        for key, value in element.attrib.items():
            element.set(key, for_xml(clip(value, MESSAGE_LIMIT)))
        if element.text:
            element.text = for_xml(clip(element.text, TEXT_LIMIT))
