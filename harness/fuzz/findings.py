"""The latest fuzzing findings on disk, gathered for the report (fuzz/findings/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..locations import FINDINGS


def findings(root: Path = FINDINGS) -> dict[str, Any] | None:
    """The latest difffuzz index and property findings (fuzz/findings/README.md), for the report."""
    out: dict[str, Any] = {}
    index = root / "difffuzz" / "index.json"
    try:
        if index.exists():
            out["difffuzz"] = json.loads(index.read_text())
        props = []
        for path in sorted((root / "properties").glob("*.json")):
            finding = json.loads(path.read_text()).get("finding", {})
            props.append({"impl": finding.get("impl"), "property": finding.get("property"),
                          "violation": finding.get("violation"), "message": finding.get("message"),
                          "file": str(path.relative_to(root.parent.parent))})
        if props:
            out["properties"] = props
    except (OSError, ValueError):
        return None  # a half-written campaign output must not break the report
    return out or None
