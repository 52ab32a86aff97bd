"""results.json: the results document written as JSON (schema in harness/RESULTS.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")
