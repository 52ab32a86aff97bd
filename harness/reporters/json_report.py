"""results.json, schema ``sframe-conformance-results/v1`` (documented in harness/RESULTS.md)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..grading import Grade
from ..requirements import REQUIREMENTS
from ..runner import RunResult

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


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")
