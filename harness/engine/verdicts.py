"""What one run's grades say, requirement by requirement.

Rules of this module: these are views computed from a run's case results, never
stored as truth (``results.json`` writes them for readers; loading recomputes
them). Every reporter and the gate read them from here, so the console, the HTML
and results.json cannot disagree:

- counts per requirement and per **case level** (HDR-07 is a MUST requirement,
  but its non-minimal header cases are MAY: they are counted as MAY);
- **untested** requirements: every case unsupported or error, so a clean-looking
  row of zeros says so;
- **acceptable** cases (non-strict), grouped by requirement, with their reasons;
- **inconsistent policies**: where one implementation accepts some inputs of one
  allowed class and refuses others (accepts the non-minimal headers 0805 and
  8005, rejects 0800 and 0900ff). Each choice is allowed; the mix is worth a line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model.grading import Grade, Policy
from ..model.requirements import REQUIREMENTS, Level

if TYPE_CHECKING:
    from .results import CaseResult

_SHOWN_IDS = 4  # case ids quoted per side of an inconsistency line


def zero_counts() -> dict[Grade, int]:
    return {g: 0 for g in Grade}


def counts_json(counts: dict[Grade, int]) -> dict[str, int]:
    return {g.value: counts[g] for g in Grade}


@dataclass
class RequirementRow:
    id: str
    section: str
    level: Level | None  # the requirement's own level; None for an id the requirement list lacks
    title: str
    counts: dict[Grade, int] = field(default_factory=zero_counts)
    by_level: dict[Level, dict[Grade, int]] = field(default_factory=dict)  # case level -> counts

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def untested(self) -> bool:
        return self.total > 0 and not any(n for g, n in self.counts.items() if g.tested)

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "level": self.level.value if self.level else "", "title": self.title,
                **counts_json(self.counts), "untested": self.untested,
                "by_case_level": {lv.value: counts_json(c) for lv, c in self.by_level.items()}}


def requirement_rows(cases: Sequence[CaseResult]) -> dict[str, RequirementRow]:
    """One row per requirement the cases trace to, MUST requirements first."""
    rows: dict[str, RequirementRow] = {}
    for c in cases:
        for rid in c.requirements:
            row = rows.get(rid)
            if row is None:
                req = REQUIREMENTS.get(rid)
                row = rows[rid] = RequirementRow(rid, req.section if req else "", req.level if req else None,
                                                 req.title if req else "")
            row.counts[c.grade] += 1
            row.by_level.setdefault(c.level, zero_counts())[c.grade] += 1
    for row in rows.values():
        row.by_level = dict(sorted(row.by_level.items(), key=lambda item: item[0].rank))
    return dict(sorted(rows.items(), key=lambda item: (item[1].level.rank if item[1].level else 9, item[0])))


def untested(rows: dict[str, RequirementRow]) -> dict[Level, list[str]]:
    """Untested requirement ids by the requirement's level (only levels that have some)."""
    out: dict[Level, list[str]] = defaultdict(list)
    for row in rows.values():
        if row.untested:
            out[row.level or Level.MUST].append(row.id)
    return {lv: out[lv] for lv in sorted(out, key=lambda lv: lv.rank)}


def untested_line(by_level: dict[Level, list[str]]) -> str:
    """``MUST requirements untested: ENC-04, KEY-02; SHOULD requirements untested: SK-03`` (empty: none)."""
    return "; ".join(f"{lv.value} requirements untested: {', '.join(ids)}" for lv, ids in by_level.items())


def acceptable(cases: Sequence[CaseResult]) -> dict[str, list[CaseResult]]:
    """Every non-strict case, under its first requirement (MUST requirements first)."""
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for c in cases:
        if c.grade is Grade.NON_STRICT:
            groups[c.requirements[0] if c.requirements else ""].append(c)
    def rank(rid: str) -> tuple[int, str]:
        return (REQUIREMENTS[rid].level.rank if rid in REQUIREMENTS else 9, rid)
    return {rid: groups[rid] for rid in sorted(groups, key=rank)}


@dataclass(frozen=True)
class Inconsistency:
    requirement: str
    reason: str
    accepted: tuple[str, ...]
    refused: tuple[str, ...]

    @property
    def text(self) -> str:
        def some(ids: tuple[str, ...]) -> str:
            shown = ", ".join(i.rsplit("/", 1)[-1] for i in ids[:_SHOWN_IDS])
            return shown + (f" and {len(ids) - _SHOWN_IDS} more" if len(ids) > _SHOWN_IDS else "")
        return (f"{self.requirement}: inconsistent policy: accepts {len(self.accepted)} ({some(self.accepted)}) but "
                f"refuses {len(self.refused)} ({some(self.refused)}) of the same allowed class; each is allowed "
                f"({self.reason})")

    def to_json(self) -> dict[str, Any]:
        return {"requirement": self.requirement, "reason": self.reason, "accepted": list(self.accepted),
                "refused": list(self.refused), "text": self.text}


def inconsistencies(cases: Sequence[CaseResult]) -> list[Inconsistency]:
    """Per (first requirement, allowance reason): the cases accepted and those refused, when there are both."""
    sides: dict[tuple[str, str], dict[Policy, list[str]]] = defaultdict(lambda: {p: [] for p in Policy})
    for c in cases:
        if c.policy is not None and c.reason and c.grade in (Grade.PASS, Grade.NON_STRICT):
            sides[(c.requirements[0] if c.requirements else "", c.reason)][c.policy].append(c.id)
    return [Inconsistency(rid, reason, tuple(s[Policy.ACCEPTED]), tuple(s[Policy.REFUSED]))
            for (rid, reason), s in sides.items() if s[Policy.ACCEPTED] and s[Policy.REFUSED]]
