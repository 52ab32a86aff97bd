"""The case model: one conformance case, traced to RFC requirements.

A case is one or more protocol steps with expectations, plus the metadata a
failure report needs: its RFC section, requirement ids, level, the expected
result (Wycheproof's valid / invalid / acceptable) and flags naming the bug
class it catches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .requirements import Level
from .wire import Request


@dataclass(frozen=True)
class Ref:
    """A request field taken from an earlier step's response in the same case,
    e.g. the ``ctx`` handle that ``context_new`` returned."""

    step: int
    field: str


class Expected(str, Enum):
    VALID = "valid"  # must be accepted, with exactly the expected output
    INVALID = "invalid"  # must be rejected
    ACCEPTABLE = "acceptable"  # either is conformant; accepting must give the expected output


@dataclass(frozen=True)
class Step:
    request: Request
    expect_ok: bool = True
    output: dict[str, Any] = field(default_factory=dict)  # fields a successful response must carry
    errors: tuple[str, ...] = ()  # error classes that grade "pass" when the step must fail
    may_fail: bool = False  # an "acceptable" step: rejection is conformant too
    reason: str = ""  # why RFC 9605 allows what this step lets pass (a refusal, another error class), for the report


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    section: str
    requirements: tuple[str, ...]
    level: Level
    result: Expected
    steps: tuple[Step, ...]
    flags: tuple[str, ...] = ()
    comment: str = ""
    source: str = ""  # the vector file and entry it came from ("vectors/generated/header.json#tcId=123")
    generator: str = ""  # the code that made a generated vector ("harness/catalogue/generate/header.py:truncated")

    @property
    def stateful(self) -> bool:
        return any(isinstance(v, Ref) for step in self.steps for v in step.request.fields.values())

    @property
    def suite(self) -> int | None:
        return self.steps[0].request.fields.get("suite")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "section": self.section,
            "requirements": list(self.requirements),
            "level": self.level.value,
            "expected": self.result.value,
            "flags": list(self.flags),
            "source": self.source,
        }
