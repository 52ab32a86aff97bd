"""``python -m harness list``: the catalogue, one case a line."""

from __future__ import annotations

import argparse
import sys

from ..catalogue import all_cases, select
from .common import EXIT_OK, add_selection


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("list", help="print the catalogue: id, requirements, level, title")
    add_selection(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    cases = select(all_cases(), args.only, args.exclude)
    for c in cases:
        print(f"{c.id}\t{','.join(c.requirements)}\t{c.level.value}\t{c.result.value}\t{c.title}")
    reqs = {r for c in cases for r in c.requirements}
    print(f"{len(cases)} cases, {len(reqs)} requirements", file=sys.stderr)
    return EXIT_OK
