"""``python -m harness difffuzz``: every implementation runs the same generated ops."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..adapters.registry import Options, open_adapter
from .common import EXIT_FAIL, EXIT_OK, UsageError, add_impl


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    diff = sub.add_parser("difffuzz", help="differential fuzzing: every implementation runs the same generated ops")
    add_impl(diff, repeat=True)
    diff.add_argument("--max-time", type=float, default=60.0, metavar="S", help="campaign length (default 60)")
    diff.add_argument("--max-cases", type=int, metavar="N", help="stop after N cases")
    diff.add_argument("--seed", type=int, default=0, metavar="N", help="generator seed (default 0)")
    diff.add_argument("--batch", type=int, default=256, metavar="N", help="requests per pipelined batch")
    diff.add_argument("--out", type=Path, metavar="DIR", help="findings directory (default fuzz/findings/difffuzz)")
    diff.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from ..fuzz import difffuzz

    if not args.impl or len(args.impl) < 2:
        raise UsageError("difffuzz needs at least two --impl")
    if args.max_time <= 0 or args.batch < 1:
        raise UsageError("--max-time must be > 0 and --batch >= 1")
    config = difffuzz.Config(max_time=args.max_time, max_cases=args.max_cases, seed=args.seed, batch=args.batch,
                             out=args.out or difffuzz.DEFAULT_OUT)
    with ExitStack() as stack:
        adapters = [stack.enter_context(open_adapter(spec, Options(timeout=args.timeout))) for spec in args.impl]
        report = difffuzz.campaign(adapters, config)
    difffuzz.print_report(report)
    return EXIT_FAIL if report.mismatches else EXIT_OK
