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
decimal strings for u64. ``expect.may_fail: true`` marks an "acceptable" step and
``expect.reason`` says why RFC 9605 allows it.

A field value ``{"$from": N, "field": "ctx"}`` is a ``harness.cases.Ref``: field
``ctx`` of the response to step N (0-based). Stateful ops name contexts by
handles the implementation chooses, so a static file can only refer to them.
N must name an earlier step, and ``steps`` must not be empty: a file that breaks
either is a usage error when it is loaded, never a grade.

Producers may add top-level keys of their own (``finding``: how a fuzzer found
it); loaders ignore unknown keys, so adding them never breaks ``replay``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .cases import Case, Expected, Ref, Step
from .protocol import ProtocolError, from_wire, parse_json, to_wire
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
    if step.reason:
        expect["reason"] = step.reason
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
        **({"generator": case.generator} if case.generator else {}),
        "steps": [_step_to_json(s) for s in case.steps],
    }


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and "$from" in value


def _ref(value: dict[str, Any], name: str, where: str) -> Ref:
    step, field = value["$from"], value.get("field", name)
    if not isinstance(step, int) or isinstance(step, bool) or not isinstance(field, str):
        raise ReproError(f"{where}: field {name!r}: '$from' must be a step number and 'field' a string")
    return Ref(step, field)


def _decode_fields(raw: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        decoded = from_wire({k: v for k, v in raw.items() if not _is_ref(v)})
        return {k: (_ref(v, k, where) if _is_ref(v) else decoded[k]) for k, v in raw.items()}
    except ReproError:
        raise
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
    for name, value in fields.items():
        # A step can only use what an earlier step answered: anything else would be graded against the
        # implementation (an IndexError in the runner) although the file is at fault.
        if isinstance(value, Ref) and not 0 <= value.step < index:
            raise ReproError(f"{where}: field {name!r} takes $from step {value.step}, but only steps 0 to "
                             f"{index - 1} come before it" if index else f"{where}: field {name!r} takes $from "
                             f"step {value.step}, but the first step cannot refer to another")
    request = Request(raw["op"], fields)
    reason = str(expect.get("reason", ""))
    if expect["ok"]:
        if not isinstance(expect.get("fields", {}), dict):
            raise ReproError(f"{where}: 'expect.fields' must be an object")
        output = _decode_fields(dict(expect.get("fields") or {}), f"{where} expect")
        return Step(request, True, output, may_fail=expect.get("may_fail", False) is True, reason=reason)
    errors = expect.get("errors") or []
    if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors):
        raise ReproError(f"{where}: 'expect.errors' must be a list of error classes")
    return Step(request, False, errors=tuple(errors), reason=reason)


def repro_to_case(data: dict[str, Any]) -> Case:
    if data.get("schema") != SCHEMA:
        raise ReproError(f"schema is {data.get('schema')!r}, expected {SCHEMA!r}")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        # An empty case would grade "pass" without asking the implementation anything.
        raise ReproError("'steps' must be a non-empty list")
    try:
        steps = tuple(_step_from_json(s, i) for i, s in enumerate(raw_steps))
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
            generator=str(data.get("generator", "")),
        )
    except (KeyError, TypeError) as e:
        raise ReproError(f"missing or mistyped field: {e}") from None
    except ValueError as e:
        raise ReproError(str(e)) from None


def load_repro(path: Path | str) -> Case:
    try:
        data = parse_json(Path(path).read_bytes(), str(path))  # bounded: 100,000-deep nesting is an error line
    except OSError as e:
        raise ReproError(f"cannot read {path}: {e.strerror or e}") from None
    except ProtocolError as e:
        raise ReproError(str(e)) from None
    if not isinstance(data, dict):
        raise ReproError(f"{path} is not a JSON object")
    return repro_to_case(data)


def write_repro(path: Path, case: Case, **extra: Any) -> Path:
    """Write ``case`` (plus producer-specific top-level keys) as a reproducer file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**case_to_repro(case), **extra}, indent=1) + "\n")
    return path
