"""Assemble the results document (schema in harness/RESULTS.md) and apply the CI gate.

Every reporter renders this one document, so `merge` can rebuild every output
from results.json files written by separate CI jobs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import __version__
from ..model.grading import Grade
from ..model.requirements import REQUIREMENTS
from . import gate as expectations
from .matrix import Matrix
from .runner import RunResult

SCHEMA = "sframe-conformance-results/v1"


def _summary(result: RunResult) -> dict[str, Any]:
    counts = result.counts
    return {
        "total": len(result.outcomes),
        "passed": counts["pass"],
        "failed": counts["fail"],
        "non_strict": counts["non-strict"],
        "unsupported": counts["unsupported"],
        "error": counts["error"],
        "must_failures": sum(1 for o in result.outcomes if o.grade is Grade.FAIL and o.case.level.value == "MUST"),
        "restarts": result.restarts,
    }


def requirement_table(result: RunResult) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = defaultdict(lambda: {g.value: 0 for g in Grade})
    for o in result.outcomes:
        for r in o.case.requirements:
            table[r][o.grade.value] += 1
    out = {}
    for rid in sorted(table, key=lambda r: (REQUIREMENTS[r].level.rank if r in REQUIREMENTS else 9, r)):
        req = REQUIREMENTS.get(rid)
        out[rid] = {"section": req.section if req else "", "level": req.level.value if req else "",
                    "title": req.title if req else "", **table[rid]}
    return out


def result_to_json(result: RunResult) -> dict[str, Any]:
    h = result.hello
    return {
        "implementation": {"name": result.implementation, "hello": {
            "name": h.name, "version": h.version, "protocol": h.protocol,
            "suites": list(h.suites), "capabilities": list(h.capabilities)}},
        "started": result.started,
        "duration_s": round(result.duration, 3),
        "exit_code": 1 if result.failed else 0,
        "summary": _summary(result),
        "requirements": requirement_table(result),
        "cases": [{**o.case.to_json(), "result": o.grade.value, "detail": o.detail,
                   "elapsed_ms": round(o.elapsed * 1000, 3)} for o in result.outcomes],
    }


def _run_items(run: dict[str, Any], fail_on: str) -> list[tuple[str, str, bool, str]]:
    return [(c["id"], c["result"], expectations.counted(c, fail_on), c["detail"]) for c in run["cases"]]


def _cell_items(matrix: dict[str, Any]) -> list[tuple[str, str, bool, str]]:
    return [(c["key"], c["status"], c["status"] in ("fail", "error"), "; ".join(c["failures"][:2]))
            for c in matrix["cells"]]


def apply_gate(doc: dict[str, Any], fail_on: str = "must", directory: Path | None = None) -> dict[str, Any]:
    """Annotate each run and the matrix with a gate verdict; set the document's exit_code."""
    for run in doc["runs"]:
        known = expectations.load(directory / expectations.file_name(run["implementation"]["name"])) if directory else {}
        gate = expectations.check([(i, r, f) for i, r, f, _ in _run_items(run, fail_on)], known)
        run["gate"] = gate.to_json()
        for case in run["cases"]:
            if case["id"] in known and expectations.counted(case, fail_on) and case["id"] not in gate.new_failures:
                case["expected_failure"] = known[case["id"]]
    if doc.get("matrix"):
        known = expectations.load(directory / expectations.MATRIX_FILE) if directory else {}
        gate = expectations.check([(i, r, f) for i, r, f, _ in _cell_items(doc["matrix"])], known)
        doc["matrix"]["gate"] = gate.to_json()
    gates = [r["gate"] for r in doc["runs"]] + ([doc["matrix"]["gate"]] if doc.get("matrix") else [])
    doc["fail_on"] = fail_on
    media_failed = bool(doc.get("media")) and not doc["media"].get("ok", False)
    doc["exit_code"] = 1 if media_failed or any(g["failed"] for g in gates) else 0
    return doc


def update_expectations(doc: dict[str, Any], directory: Path, fail_on: str = "must") -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for run in doc["runs"]:
        name = run["implementation"]["name"]
        path = directory / expectations.file_name(name)
        entries = expectations.updated(_run_items(run, fail_on), expectations.load(path))
        path.write_text(expectations.render(
            f"Known failures of implementation {name!r} at --fail-on {fail_on}.\n"
            "Regenerate with: python -m harness run --impl " + name + " --update-expectations\n"
            "Edit the reasons freely; an entry is \"grade: reason\".", "cases", entries))
        written.append(path)
    if doc.get("matrix"):
        path = directory / expectations.MATRIX_FILE
        entries = expectations.updated(_cell_items(doc["matrix"]), expectations.load(path))
        path.write_text(expectations.render(
            "Known failing interop matrix cells (encryptor->decryptor/suite).\n"
            "Regenerate with: python -m harness matrix --update-expectations", "cells", entries))
        written.append(path)
    return written


def document(results: list[RunResult], matrix: Matrix | None = None, extra: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "harness_version": __version__,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs": [result_to_json(r) for r in results],
    }
    if matrix is not None:
        doc["matrix"] = matrix.to_json()
    doc.update(extra or {})
    if len(doc["runs"]) == 1:
        # The single-implementation form also carries its run's fields at the top level.
        doc.update({k: v for k, v in doc["runs"][0].items() if k not in doc})
    return doc


def merge(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine documents from separate jobs: runs are concatenated (a later run of the
    same implementation replaces an earlier one) and matrix cells are unioned."""
    runs: dict[str, dict[str, Any]] = {}
    cells: dict[str, dict[str, Any]] = {}
    impls: list[str] = []
    suites: set[int] = set()
    extra: dict[str, Any] = {}
    for doc in documents:
        if doc.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document (schema {doc.get('schema')!r})")
        for run in doc.get("runs", []):
            runs[run["implementation"]["name"]] = run
        matrix = doc.get("matrix")
        if matrix:
            impls += [i for i in matrix["implementations"] if i not in impls]
            suites.update(matrix["suites"])
            cells.update({c["key"]: c for c in matrix["cells"]})
        for key in ("fuzz", "media", "bench"):
            if key in doc:
                extra[key] = doc[key]
    merged: dict[str, Any] = {"schema": SCHEMA, "harness_version": __version__,
                              "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              "runs": list(runs.values()), **extra}
    if cells:
        merged["matrix"] = {"implementations": impls, "suites": sorted(suites), "cells": list(cells.values()),
                            "frames_per_cell": max((d.get("matrix") or {}).get("frames_per_cell", 0) for d in documents),
                            "duration_s": sum((d.get("matrix") or {}).get("duration_s", 0) for d in documents)}
    return merged
