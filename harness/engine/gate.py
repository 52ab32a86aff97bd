"""The CI gate: known failures per implementation, like TLS-Anvil's expected
results or WPT expectation files.

``expectations/<impl>.toml`` lists an implementation's known failing cases and
``expectations/matrix.toml`` the known failing matrix cells, each with its grade
and a reason:

    [cases]
    "rfc9605/header/0" = "fail: pre-RFC header layout S|LEN|X|K"

    [untested]           # only read with --fail-untested
    "ENC-04" = "untested: no context capability"

A run then fails only on a failure that is not listed (a new failure), and
reports listed failures that now pass (unexpected passes). ``--update-expectations``
rewrites the files from the current run, keeping existing reasons.

Rules of this module: what counts as a failure is ``grading.fails_run`` and
nothing else, for cases and for matrix cells (an interop cell is MUST-level:
receivers MUST decrypt what conforming senders produce). With ``--fail-untested``
a requirement at the ``--fail-on`` levels whose cases were all unsupported or
error fails the gate too, unless its expectation file lists it.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.grading import FAIL_ON, FailOn, Grade, fails_run
from ..model.requirements import Level
from .reading import Reader

__all__ = ["FAIL_ON", "MATRIX_FILE", "Gate", "Item", "Expectations", "check", "file_name", "load", "render",
           "updated"]

MATRIX_FILE = "matrix.toml"


@dataclass(frozen=True)
class Item:
    """One gated thing: a case of a run or a matrix cell."""

    id: str
    grade: Grade
    level: Level
    detail: str

    def failing(self, fail_on: FailOn) -> bool:
        return fails_run(self.grade, self.level, fail_on)


def file_name(implementation: str) -> str:
    # Odd names (a program's own name from hello) become safe file names.
    return re.sub(r"[^A-Za-z0-9._-]+", "_", implementation).strip("_") + ".toml"


@dataclass
class Expectations:
    known: dict[str, str] = field(default_factory=dict)  # id -> "grade: reason"
    untested: dict[str, str] = field(default_factory=dict)  # requirement id -> reason


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, str]:
    entries = data.get(name, {})
    if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
        raise ValueError(f"{path}: expected a [{name}] table of \"id\" = \"grade: reason\"")
    return entries


def load(path: Path) -> Expectations:
    """Known failures. A missing file means none."""
    if not path.exists():
        return Expectations()
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML: {e}") from None
    return Expectations(_table(data, "cells" if "cells" in data else "cases", path), _table(data, "untested", path))


def _grade_of(entry: str) -> str:
    return entry.split(":", 1)[0].strip()


@dataclass
class Gate:
    new_failures: list[str] = field(default_factory=list)
    expected_failures: int = 0
    unexpected_passes: list[str] = field(default_factory=list)
    untested: list[str] = field(default_factory=list)  # requirements failing the gate as untested

    @property
    def failed(self) -> bool:
        return bool(self.new_failures or self.untested)

    def to_json(self) -> dict[str, Any]:
        return {"new_failures": self.new_failures, "expected_failures": self.expected_failures,
                "unexpected_passes": self.unexpected_passes, "untested": self.untested, "failed": self.failed}

    @classmethod
    def from_json(cls, r: Reader) -> Gate:
        return cls(r.texts("new_failures"), r.integer("expected_failures"), r.texts("unexpected_passes"),
                   r.texts("untested", []))


def check(items: Iterable[Item], known: dict[str, str], fail_on: FailOn) -> Gate:
    """A failure is expected when listed with the same grade."""
    gate = Gate()
    for item in items:
        entry = known.get(item.id)
        if item.failing(fail_on):
            if entry is not None and _grade_of(entry) == item.grade.value:
                gate.expected_failures += 1
            else:
                gate.new_failures.append(item.id)
        elif entry is not None and item.grade in (Grade.PASS, Grade.NON_STRICT):
            gate.unexpected_passes.append(item.id)
    return gate


def render(header: str, tables: dict[str, dict[str, str]]) -> str:
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for table, entries in tables.items():
        lines += ["", f"[{table}]"]
        lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(entries.items())]
    return "\n".join(lines) + "\n"


def updated(items: Iterable[Item], known: dict[str, str], fail_on: FailOn) -> dict[str, str]:
    """The failing items' entries; a known reason is kept when the grade is unchanged."""
    out = {}
    for item in items:
        if not item.failing(fail_on):
            continue
        entry = known.get(item.id)
        fresh = f"{item.grade.value}: {item.detail[:200]}"
        out[item.id] = entry if entry is not None and _grade_of(entry) == item.grade.value else fresh
    return out
