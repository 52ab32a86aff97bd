"""``python -m harness vectors --write|--check``: regenerate or check vectors/generated."""

from __future__ import annotations

import argparse
import sys

from ..adapters.inprocess import PythonAdapter
from ..model.wire import Reference
from .common import EXIT_FAIL, EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    vec = sub.add_parser("vectors", help="regenerate or check vectors/generated")
    group = vec.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    vec.set_defaults(handler=handle)


def _reference() -> Reference:
    # Each scenario records its expected outputs on a fresh reference, so handles never leak between them.
    return PythonAdapter().call


def handle(args: argparse.Namespace) -> int:
    from ..catalogue import generate

    if args.write:
        for path in generate.write(_reference):
            print(f"wrote {path}")
        return EXIT_OK
    stale = generate.stale(_reference)
    for name in stale:
        print(f"vectors/generated/{name} differs from a fresh generation", file=sys.stderr)
    return EXIT_FAIL if stale else EXIT_OK
