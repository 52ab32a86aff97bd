"""The results document (schema in harness/RESULTS.md): its types, its JSON form, merging and the gate.

Every reporter renders this one document, so ``merge`` can rebuild every output
from results.json files written by separate CI jobs.

Rules of this module: the document is typed from end to end (``Results``,
``RunRecord``, ``CaseResult``, the matrix's ``Matrix``/``Cell``, the gate's
``Gate``); JSON is only its storage. ``from_json`` trusts nothing: another job's
file, crafted or truncated, gives one ``ValueError`` line naming the field
(``runs[0].cases[3].grade: ...``). What can be derived from the cases (summary,
requirement rows, untested requirements, inconsistencies) is written for readers
and recomputed on load, never read back. Schema v1 (``result`` for a case's
grade, ``status`` for a cell's) is still read.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import reduce
from pathlib import Path
from typing import Any

from .. import __version__
from ..model.cases import Expected
from ..model.grading import FailOn, Grade, Outcome, Policy, fails_run
from ..model.requirements import Level
from ..model.wire import Hello
from . import gate as expectations
from . import verdicts
from .matrix import Matrix
from .ratchet_kat import RatchetKat
from .reading import Reader
from .runner import RunResult

SCHEMA = "sframe-conformance-results/v2"
SCHEMA_V1 = "sframe-conformance-results/v1"
EXTRAS = ("fuzz", "media", "bench", "timing")  # other rooms' sections: kept as they wrote them (objects)
_NAME_LIMIT = 200


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class CaseResult:
    id: str
    title: str
    section: str
    requirements: tuple[str, ...]
    level: Level  # the case's own level (it can be below its requirement's)
    expected: Expected
    flags: tuple[str, ...]
    source: str
    grade: Grade
    detail: str
    elapsed_ms: float
    reason: str = ""  # why RFC 9605 allows a non-strict grade (or the choice in ``policy``)
    policy: Policy | None = None  # what the implementation chose where the RFC lets it
    expected_failure: str | None = None  # set by the gate: the expectation file's entry

    @classmethod
    def from_outcome(cls, o: Outcome) -> CaseResult:
        c = o.case
        return cls(c.id, c.title, c.section, c.requirements, c.level, c.result, c.flags, c.source, o.grade, o.detail,
                   round(o.elapsed * 1000, 3), o.reason, o.policy)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "title": self.title, "section": self.section, "requirements": list(self.requirements),
            "level": self.level.value, "expected": self.expected.value, "flags": list(self.flags),
            "source": self.source, "grade": self.grade.value, "detail": self.detail, "elapsed_ms": self.elapsed_ms}
        if self.reason:
            out["reason"] = self.reason
        if self.policy is not None:
            out["policy"] = self.policy.value
        if self.expected_failure is not None:
            out["expected_failure"] = self.expected_failure
        return out

    @classmethod
    def from_json(cls, r: Reader, v1: bool) -> CaseResult:
        return cls(r.text("id", limit=_NAME_LIMIT), r.text("title"), r.text("section", limit=_NAME_LIMIT),
                   tuple(r.texts("requirements")), r.enum("level", Level), r.enum("expected", Expected),
                   tuple(r.texts("flags", [])), r.text("source", ""), r.enum("result" if v1 else "grade", Grade),
                   r.text("detail"), r.number("elapsed_ms", 0.0), r.text("reason", ""),
                   None if r.data.get("policy") is None else r.enum("policy", Policy),
                   r.optional_text("expected_failure"))


def _hello_json(h: Hello) -> dict[str, Any]:
    return {"name": h.name, "version": h.version, "protocol": h.protocol, "suites": list(h.suites),
            "capabilities": list(h.capabilities)}


def _hello_from_json(r: Reader) -> Hello:
    return Hello(r.text("name", limit=_NAME_LIMIT), r.text("version", limit=_NAME_LIMIT), r.integer("protocol"),
                 tuple(r.integers("suites", high=255)), tuple(r.texts("capabilities")))


@dataclass
class RunRecord:
    """One implementation's run of the catalogue."""

    implementation: str  # the name shown in rows, columns, gate keys and file names
    spec: str  # the --impl spec that starts it again
    hello: Hello
    started: str
    duration_s: float
    restarts: int
    cases: list[CaseResult]
    gate: expectations.Gate | None = None

    @classmethod
    def from_result(cls, result: RunResult) -> RunRecord:
        return cls(result.implementation, result.spec or result.implementation, result.hello, result.started,
                   round(result.duration, 3), result.restarts, [CaseResult.from_outcome(o) for o in result.outcomes])

    # Derived views (recomputed, never read back).
    def counts(self) -> dict[Grade, int]:
        counts = verdicts.zero_counts()
        for c in self.cases:
            counts[c.grade] += 1
        return counts

    def requirements(self) -> dict[str, verdicts.RequirementRow]:
        return verdicts.requirement_rows(self.cases)

    def untested(self) -> dict[Level, list[str]]:
        return verdicts.untested(self.requirements())

    def inconsistencies(self) -> list[verdicts.Inconsistency]:
        return verdicts.inconsistencies(self.cases)

    def failed(self, fail_on: FailOn = FailOn.MUST) -> bool:
        return any(fails_run(c.grade, c.level, fail_on) for c in self.cases)

    def summary(self) -> dict[str, int]:
        n = self.counts()
        return {"total": len(self.cases), "passed": n[Grade.PASS], "failed": n[Grade.FAIL],
                "non_strict": n[Grade.NON_STRICT], "unsupported": n[Grade.UNSUPPORTED], "error": n[Grade.ERROR],
                "must_failures": sum(c.grade is Grade.FAIL and c.level is Level.MUST for c in self.cases),
                "restarts": self.restarts}

    def to_json(self, fail_on: FailOn = FailOn.MUST) -> dict[str, Any]:
        rows = self.requirements()
        out: dict[str, Any] = {
            "implementation": {"name": self.implementation, "spec": self.spec, "hello": _hello_json(self.hello)},
            "started": self.started,
            "duration_s": self.duration_s,
            "exit_code": 1 if self.failed(fail_on) else 0,
            "summary": self.summary(),
            "requirements": {rid: row.to_json() for rid, row in rows.items()},
            "untested": {lv.value: ids for lv, ids in verdicts.untested(rows).items()},
            "inconsistencies": [i.to_json() for i in self.inconsistencies()],
        }
        if self.gate is not None:
            out["gate"] = self.gate.to_json()
        out["cases"] = [c.to_json() for c in self.cases]
        return out

    @classmethod
    def from_json(cls, r: Reader, v1: bool) -> RunRecord:
        impl = r.obj("implementation")
        name = impl.text("name", limit=_NAME_LIMIT)
        gate = r.optional_obj("gate")
        return cls(name, impl.text("spec", name, limit=100_000), _hello_from_json(impl.obj("hello")),
                   r.text("started", limit=_NAME_LIMIT), r.number("duration_s"),
                   r.obj("summary").integer("restarts", 0),
                   [CaseResult.from_json(c, v1) for c in r.objects("cases")],
                   expectations.Gate.from_json(gate) if gate else None)


@dataclass
class Results:
    """The whole document: runs, the matrix, other rooms' sections and the gate's verdict."""

    runs: list[RunRecord] = field(default_factory=list)
    matrix: Matrix | None = None
    matrix_gate: expectations.Gate | None = None
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)  # "fuzz", "media", "bench", "timing"
    not_run: list[str] = field(default_factory=list)  # parts that could not run here (no Chromium), one line each
    generated: str = field(default_factory=_now)
    harness_version: str = __version__
    fail_on: FailOn = FailOn.MUST
    fail_untested: bool = False
    exit_code: int = 0  # set by the gate

    @property
    def media_failed(self) -> bool:
        media = self.extras.get("media")
        return media is not None and media.get("ok") is not True

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"schema": SCHEMA, "harness_version": self.harness_version, "generated": self.generated,
                               "fail_on": self.fail_on.value, "fail_untested": self.fail_untested,
                               "exit_code": self.exit_code, "runs": [r.to_json(self.fail_on) for r in self.runs]}
        if self.matrix is not None:
            doc["matrix"] = self.matrix.to_json()
            if self.matrix_gate is not None:
                doc["matrix"]["gate"] = self.matrix_gate.to_json()
        if self.not_run:
            doc["not_run"] = self.not_run
        doc.update(self.extras)
        if len(self.runs) == 1:
            # The single-implementation form also carries its run's fields at the top level.
            doc.update({k: v for k, v in doc["runs"][0].items() if k not in doc})
        return doc

    @classmethod
    def from_json(cls, data: Any) -> Results:
        """A document from results.json (v1 or v2); ValueError names the first bad field."""
        r = Reader(data, "")
        schema = r.data.get("schema")
        if schema not in (SCHEMA, SCHEMA_V1):
            raise ValueError(f"schema: not a {SCHEMA} (or v1) document (schema {schema!r:.60})")
        v1 = schema == SCHEMA_V1
        matrix = r.optional_obj("matrix")
        matrix_gate = matrix.optional_obj("gate") if matrix else None
        return cls(
            runs=[RunRecord.from_json(run, v1) for run in r.objects("runs")],
            matrix=Matrix.from_json(matrix) if matrix else None,
            matrix_gate=expectations.Gate.from_json(matrix_gate) if matrix_gate else None,
            extras={key: r.obj(key).data for key in EXTRAS if r.data.get(key) is not None},
            not_run=r.texts("not_run", []),
            generated=r.text("generated", _now(), limit=_NAME_LIMIT),
            harness_version=r.text("harness_version", "", limit=_NAME_LIMIT),
            fail_on=r.enum("fail_on", FailOn, FailOn.MUST.value),
            fail_untested=r.flag("fail_untested", False),
            exit_code=r.integer("exit_code", 0, high=1),
        )


def requirement_table(result: RunResult) -> dict[str, dict[str, Any]]:
    """Per requirement id: section, level, title and a count per grade (as in results.json)."""
    return {rid: row.to_json() for rid, row in RunRecord.from_result(result).requirements().items()}


def document(results: list[RunResult], matrix: Matrix | None = None, extra: dict[str, Any] | None = None
             ) -> Results:
    doc = Results([RunRecord.from_result(r) for r in results], matrix)
    for key, value in (extra or {}).items():
        if key == "not_run":
            doc.not_run = list(value)
        else:
            doc.extras[key] = value
    return doc


def merge(documents: list[Results]) -> Results:
    """Combine documents from separate jobs: runs are concatenated (a later run of the
    same implementation replaces an earlier one) and matrix cells are unioned."""
    runs: dict[str, RunRecord] = {}
    merged = Results()
    cells: dict[str, Any] = {}
    matrices = [d.matrix for d in documents if d.matrix is not None]
    for doc in documents:
        runs.update((run.implementation, run) for run in doc.runs)
        merged.extras.update(doc.extras)
        merged.not_run = list(dict.fromkeys([*merged.not_run, *doc.not_run]))  # said once each
    for m in matrices:
        cells.update((c.key, c) for c in m.cells)
    merged.runs = list(runs.values())
    if matrices:
        names = list(dict.fromkeys(n for m in matrices for n in m.implementations))
        specs = {n: s for m in matrices for n, s in m.specs.items()}
        merged.matrix = Matrix(names, sorted({s for m in matrices for s in m.suites}), list(cells.values()),
                               sum(m.duration for m in matrices), max(m.frames for m in matrices), specs)
        kats = [m.ratchet_kat for m in matrices if m.ratchet_kat is not None]
        merged.matrix.ratchet_kat = reduce(RatchetKat.merged, kats) if kats else None
        merged.matrix.stateful_duration = sum(m.stateful_duration for m in matrices)
    return merged


def _run_items(run: RunRecord) -> list[expectations.Item]:
    return [expectations.Item(c.id, c.grade, c.level, c.detail) for c in run.cases]


def _cell_items(matrix: Matrix) -> list[expectations.Item]:
    # Interop is MUST-level: a receiver MUST decrypt what a conforming sender produced.
    return [expectations.Item(c.key, c.grade, Level.MUST, "; ".join(c.failures[:2])) for c in matrix.cells]


def _untested_at(run: RunRecord, fail_on: FailOn) -> list[str]:
    return [rid for lv, ids in run.untested().items() if lv in fail_on.levels for rid in ids]


def apply_gate(doc: Results, fail_on: FailOn | str = FailOn.MUST, directory: Path | None = None,
               fail_untested: bool = False) -> Results:
    """Give each run and the matrix a gate verdict; set the document's exit_code."""
    fail_on = FailOn(fail_on)
    doc.fail_on, doc.fail_untested = fail_on, fail_untested
    for run in doc.runs:
        known = expectations.load(directory / expectations.file_name(run.implementation)) if directory else None
        entries = known.known if known else {}
        gate = expectations.check(_run_items(run), entries, fail_on)
        if fail_untested:
            gate.untested = [rid for rid in _untested_at(run, fail_on) if not known or rid not in known.untested]
        new = set(gate.new_failures)
        for case in run.cases:
            if case.id in entries and fails_run(case.grade, case.level, fail_on) and case.id not in new:
                case.expected_failure = entries[case.id]
        run.gate = gate
    if doc.matrix is not None:
        known = expectations.load(directory / expectations.MATRIX_FILE) if directory else None
        doc.matrix_gate = expectations.check(_cell_items(doc.matrix), known.known if known else {}, fail_on)
    gates = [r.gate for r in doc.runs if r.gate] + ([doc.matrix_gate] if doc.matrix_gate else [])
    doc.exit_code = 1 if doc.media_failed or any(g.failed for g in gates) else 0
    return doc


def update_expectations(doc: Results, directory: Path, fail_on: FailOn | str = FailOn.MUST,
                        fail_untested: bool = False) -> list[Path]:
    fail_on = FailOn(fail_on)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for run in doc.runs:
        name = run.implementation
        path = directory / expectations.file_name(name)
        known = expectations.load(path)
        tables = {"cases": expectations.updated(_run_items(run), known.known, fail_on)}
        if fail_untested:
            tables["untested"] = {rid: known.untested.get(rid, "untested: every case unsupported or error")
                                  for rid in _untested_at(run, fail_on)}
        path.write_text(expectations.render(
            f"Known failures of implementation {name!r} at --fail-on {fail_on.value}.\n"
            "Regenerate with: python -m harness run --impl " + shlex.quote(run.spec) + " --update-expectations\n"
            "Edit the reasons freely; an entry is \"grade: reason\".", tables))
        written.append(path)
    if doc.matrix is not None:
        path = directory / expectations.MATRIX_FILE
        entries = expectations.updated(_cell_items(doc.matrix), expectations.load(path).known, fail_on)
        path.write_text(expectations.render(
            "Known failing interop matrix cells (encryptor->decryptor/suite).\n"
            "Regenerate with: python -m harness matrix --update-expectations", {"cells": entries}))
        written.append(path)
    return written
