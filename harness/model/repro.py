"""Reproducers: one case as a self-contained JSON file (schema ``sframe-conformance-repro/v1``).

A reproducer is what a human (or the HTML report) needs to re-run one case
against any implementation, without the catalogue or the fuzzer that found it:

    {
      "schema": "sframe-conformance-repro/v1",
      "id": "...", "title": "...", "section": "4.4.3", "requirements": ["ENC-02"],
      "level": "MUST", "expected": "valid" | "invalid" | "acceptable", "flags": [...],
      "comment": "...", "source": "...",
      "steps": [
        {"op": "encrypt", "suite": 4, "kid": "291", ..., "expect": {"ok": true, "fields": {"ciphertext": "..."}}},
        {"op": "decrypt", ..., "expect": {"ok": false, "errors": ["auth_failed"]}}
      ]
    }

Request fields are in wire encoding (harness.protocol.to_wire): hex for binary,
decimal strings for u64. ``expect.may_fail: true`` marks an "acceptable" step.

A field value ``{"$from": N, "field": "ctx"}`` is a ``harness.cases.Ref``: field
``ctx`` of the response to step N (0-based). Stateful ops name contexts by
handles the implementation chooses, so a static file can only refer to them.

Producers may add top-level keys of their own (``finding``: how a fuzzer found
it); loaders ignore unknown keys, so adding them never breaks ``replay``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .cases import Case, Expected, Ref, Step
from .protocol import ProtocolError, from_wire, to_wire
from .requirements import Level
from .wire import Request

SCHEMA = "sframe-conformance-repro/v1"


class ReproError(ValueError):
    """The file is not a valid reproducer; the message names the problem."""


def _fields_to_json(fields: dict[str, Any]) -> dict[str, Any]:
    wire = to_wire({k: v for k, v in fields.items() if not isinstance(v, Ref)})
    return {k: ({"$from": v.step, "field": v.field} if isinstance(v, Ref) else wire[k]) for k, v in fields.items()}


def _step_to_json(step: Step) -> dict[str, Any]:
    expect: dict[str, Any]
    if step.expect_ok:
        expect = {"ok": True, "fields": to_wire(step.output)}
        if step.may_fail:
            expect["may_fail"] = True
    else:
        expect = {"ok": False, "errors": list(step.errors)}
    return {"op": step.request.op, **_fields_to_json(step.request.fields), "expect": expect}


def case_to_repro(case: Case) -> dict[str, Any]:
    """The reproducer of ``case`` as a JSON-ready dict (stable: the HTML report calls it)."""
    return {
        "schema": SCHEMA,
        "id": case.id,
        "title": case.title,
        "section": case.section,
        "requirements": list(case.requirements),
        "level": case.level.value,
        "expected": case.result.value,
        "flags": list(case.flags),
        "comment": case.comment,
        "source": case.source,
        "steps": [_step_to_json(s) for s in case.steps],
    }


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and "$from" in value


def _decode_fields(raw: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        decoded = from_wire({k: v for k, v in raw.items() if not _is_ref(v)})
        return {k: (Ref(int(v["$from"]), str(v.get("field", k))) if _is_ref(v) else decoded[k]) for k, v in raw.items()}
    except (ProtocolError, TypeError, ValueError) as e:
        raise ReproError(f"{where}: {e}") from None


def _step_from_json(raw: Any, index: int) -> Step:
    where = f"step {index}"
    if not isinstance(raw, dict) or not isinstance(raw.get("op"), str):
        raise ReproError(f"{where}: needs an object with a string 'op'")
    expect = raw.get("expect")
    if not isinstance(expect, dict) or not isinstance(expect.get("ok"), bool):
        raise ReproError(f"{where}: needs 'expect' with a boolean 'ok'")
    fields = _decode_fields({k: v for k, v in raw.items() if k not in ("op", "expect")}, where)
    request = Request(raw["op"], fields)
    if expect["ok"]:
        output = _decode_fields(dict(expect.get("fields") or {}), f"{where} expect")
        return Step(request, True, output, may_fail=bool(expect.get("may_fail", False)))
    return Step(request, False, errors=tuple(str(e) for e in expect.get("errors") or ()))


def repro_to_case(data: dict[str, Any]) -> Case:
    if data.get("schema") != SCHEMA:
        raise ReproError(f"schema is {data.get('schema')!r}, expected {SCHEMA!r}")
    try:
        steps = tuple(_step_from_json(s, i) for i, s in enumerate(data["steps"]))
        return Case(
            id=str(data["id"]),
            title=str(data.get("title", "")),
            section=str(data.get("section", "")),
            requirements=tuple(data.get("requirements", ())),
            level=Level(data.get("level", "MUST")),
            result=Expected(data.get("expected", "valid")),
            steps=steps,
            flags=tuple(data.get("flags", ())),
            comment=str(data.get("comment", "")),
            source=str(data.get("source", "")),
        )
    except (KeyError, TypeError) as e:
        raise ReproError(f"missing or mistyped field: {e}") from None
    except ValueError as e:
        raise ReproError(str(e)) from None


def load_repro(path: Path | str) -> Case:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as e:
        raise ReproError(f"cannot read {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise ReproError(f"{path} is not JSON: {e}") from None
    if not isinstance(data, dict):
        raise ReproError(f"{path} is not a JSON object")
    return repro_to_case(data)


def write_repro(path: Path, case: Case, **extra: Any) -> Path:
    """Write ``case`` (plus producer-specific top-level keys) as a reproducer file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**case_to_repro(case), **extra}, indent=1) + "\n")
    return path
