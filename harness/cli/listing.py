"""``python -m harness list``: the catalogue, one case a line; ``--show ID`` prints one case whole.

Rule: ``--show`` prints everything a reader needs to go from a case id to its
code and back: the requirements with their levels, the expected result and
what RFC 9605 lets pass (``may_fail``, several error classes, each with its
reason), the vector file and entry, and the builder that generated it.
Every value is escaped for the terminal (``for_terminal``): a vector file is
data, and data may hold anything.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..catalogue import all_cases, flag_notes, select
from ..model.cases import Case, Ref, Step
from ..model.requirements import REQUIREMENTS
from ..model.text import for_terminal
from .common import EXIT_OK, UsageError, add_selection

SHOWN_BYTES = 24  # a byte field longer than this is shown by its start and length


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("list", help="print the catalogue: id, requirements, level, title")
    add_selection(parser)
    parser.add_argument("--show", metavar="ID",
                        help="print one case whole: requirements, expectations, vector entry, generator, steps")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.show is not None:
        print(show(find(args.show)))
        return EXIT_OK
    cases = select(all_cases(), args.only, args.exclude)
    for c in cases:
        print("\t".join(for_terminal(v) for v in (c.id, ",".join(c.requirements), c.level.value, c.result.value,
                                                   c.title)))
    reqs = {r for c in cases for r in c.requirements}
    print(f"{len(cases)} cases, {len(reqs)} requirements", file=sys.stderr)
    return EXIT_OK


def find(case_id: str) -> Case:
    for case in all_cases():
        if case.id == case_id:
            return case
    raise UsageError(f"no case {for_terminal(case_id)!r} in the catalogue (python -m harness list shows the ids)")


def _value(value: Any) -> str:
    if isinstance(value, Ref):
        return f"<step {value.step} {value.field}>"
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).hex()
        return f"{text[:2 * SHOWN_BYTES]}...({len(value)} bytes)" if len(value) > SHOWN_BYTES else (text or '""')
    return str(value)


def _fields(fields: dict[str, Any]) -> str:
    return " ".join(f"{name}={_value(value)}" for name, value in fields.items())


def _expectation(step: Step) -> list[str]:
    if not step.expect_ok:
        lines = [f"-> must fail: {' or '.join(step.errors) or 'any error'}"]
    else:
        lines = [f"-> ok {_fields(step.output)}".rstrip()]
        if step.may_fail:
            lines.append("   (may be refused)")
    return lines + ([f"   why: {step.reason}"] if step.reason else [])


def _source(case: Case) -> str:
    path, _, entry = case.source.partition("#")
    return f"{path}  {entry.replace('=', ' ')}" if entry else path


def show(case: Case) -> str:
    notes = flag_notes()
    rows = [("id", case.id), ("title", case.title), ("section", f"RFC 9605 §{case.section}")]
    rows += [("requirements" if i == 0 else "", f"{r} {REQUIREMENTS[r].level.value}: {REQUIREMENTS[r].title}")
             for i, r in enumerate(case.requirements)]
    rows += [("level", f"{case.level.value} (this case)"), ("expected", case.result.value)]
    rows += [("flags" if i == 0 else "", f"{f}: {notes.get(f, '(no note)')}") for i, f in enumerate(case.flags)]
    rows += [("comment", case.comment)] if case.comment and case.comment != case.title else []
    rows += [("vector", _source(case)), ("generator", case.generator or "none (an official vector)")]
    lines = [f"{name:<13}{value}" for name, value in rows]
    lines.append("steps")
    for i, step in enumerate(case.steps):
        lines.append(f"  {i} {step.request.op} {_fields(step.request.fields)}".rstrip())
        lines += [f"    {line}" for line in _expectation(step)]
    return "\n".join(for_terminal(line) for line in lines)
