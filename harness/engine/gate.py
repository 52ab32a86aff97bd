"""The CI gate: known failures per implementation, like TLS-Anvil's expected
results or WPT expectation files.

``expectations/<impl>.toml`` lists an implementation's known failing cases and
``expectations/matrix.toml`` the known failing matrix cells, each with its grade
and a reason:

    [cases]
    "rfc9605/header/0" = "fail: pre-RFC header layout S|LEN|X|K"

A run then fails only on a failure that is not listed (a new failure), and
reports listed failures that now pass (unexpected passes). ``--update-expectations``
rewrites the files from the current run, keeping existing reasons.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FAIL_ON = ("must", "should", "any")
_LEVELS = {"must": ("MUST",), "should": ("MUST", "SHOULD"), "any": ("MUST", "SHOULD", "MAY")}
MATRIX_FILE = "matrix.toml"


def counted(case: dict[str, Any], fail_on: str) -> bool:
    """Does this case's result fail a run at this threshold? Errors always do."""
    if case["result"] == "error":
        return True
    return case["result"] == "fail" and case["level"] in _LEVELS[fail_on]


def file_name(implementation: str) -> str:
    # cmd: specs and other odd names become safe file names.
    return re.sub(r"[^A-Za-z0-9._-]+", "_", implementation).strip("_") + ".toml"


def load(path: Path) -> dict[str, str]:
    """Known failures: id -> "grade: reason". A missing file means none."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML: {e}") from None
    entries = data.get("cases", data.get("cells", {}))
    if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
        raise ValueError(f"{path}: expected a [cases] or [cells] table of \"id\" = \"grade: reason\"")
    return entries


def _grade_of(entry: str) -> str:
    return entry.split(":", 1)[0].strip()


@dataclass
class Gate:
    new_failures: list[str] = field(default_factory=list)
    expected_failures: int = 0
    unexpected_passes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.new_failures)

    def to_json(self) -> dict[str, Any]:
        return {"new_failures": self.new_failures, "expected_failures": self.expected_failures,
                "unexpected_passes": self.unexpected_passes, "failed": self.failed}


def check(items: list[tuple[str, str, bool]], known: dict[str, str]) -> Gate:
    """items: (id, result, counts as failure). A failure is expected when listed with the same grade."""
    gate = Gate()
    for item_id, result, failing in items:
        entry = known.get(item_id)
        if failing:
            if entry is not None and _grade_of(entry) == result:
                gate.expected_failures += 1
            else:
                gate.new_failures.append(item_id)
        elif entry is not None and result in ("pass", "non-strict"):
            gate.unexpected_passes.append(item_id)
    return gate


def render(header: str, table: str, entries: dict[str, str]) -> str:
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += ["", f"[{table}]"]
    lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(entries.items())]
    return "\n".join(lines) + "\n"


def updated(items: list[tuple[str, str, bool, str]], known: dict[str, str]) -> dict[str, str]:
    """items: (id, result, counts as failure, detail). Keep a known reason when the grade is unchanged."""
    out = {}
    for item_id, result, failing, detail in items:
        if not failing:
            continue
        entry = known.get(item_id)
        out[item_id] = entry if entry is not None and _grade_of(entry) == result else f"{result}: {detail[:200]}"
    return out
