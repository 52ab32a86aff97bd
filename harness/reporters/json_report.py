"""results.json: the results document written as JSON (schema in harness/RESULTS.md)."""

from __future__ import annotations

import json
from pathlib import Path

from ..engine.results import Results


def write_json(doc: Results, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # ASCII: a lone surrogate a merged file carried is written as its escape, never as invalid UTF-8.
    path.write_text(json.dumps(doc.to_json(), indent=1, ensure_ascii=True) + "\n", encoding="ascii")
