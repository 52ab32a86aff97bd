"""``python -m harness replay FILE --impl X``: run one reproducer and grade it."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..adapters.registry import Options, open_adapter
from ..model.text import for_terminal
from .common import EXIT_FAIL, EXIT_OK, UsageError, add_impl


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    replay = sub.add_parser("replay", help="run one reproducer file (sframe-conformance-repro/v1) and grade it")
    replay.add_argument("file", type=Path, metavar="FILE")
    add_impl(replay)
    replay.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from ..engine.runner import run_case
    from ..model.grading import Grade
    from ..model.repro import ReproError, load_repro

    if not args.impl:
        raise UsageError("replay needs --impl NAME")
    try:
        case = load_repro(args.file)
    except ReproError as e:
        raise UsageError(str(e)) from None
    with open_adapter(args.impl, Options(timeout=args.timeout)) as adapter:
        outcome = run_case(adapter, case)
    print(f"{for_terminal(case.id)}: {outcome.grade.value}" + (f": {for_terminal(outcome.detail)}" if outcome.detail else ""))
    return EXIT_OK if outcome.grade in (Grade.PASS, Grade.NON_STRICT) else EXIT_FAIL
