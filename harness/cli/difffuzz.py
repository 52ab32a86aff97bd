"""``python -m harness difffuzz``: every implementation runs the same generated ops."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..adapters.registry import Options, open_adapter
from .common import EXIT_FAIL, EXIT_OK, UsageError, add_impl, count, seconds
from .progress import Progress, add_quiet


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    diff = sub.add_parser("difffuzz", help="differential fuzzing: every implementation runs the same generated ops")
    add_impl(diff, repeat=True)
    diff.add_argument("--max-time", type=seconds, default=60.0, metavar="S", help="campaign length (default 60)")
    diff.add_argument("--max-cases", type=count, metavar="N", help="stop after N cases")
    diff.add_argument("--seed", type=int, default=0, metavar="N", help="generator seed (default 0)")
    diff.add_argument("--batch", type=count, default=256, metavar="N", help="requests per pipelined batch")
    diff.add_argument("--out", type=Path, metavar="DIR", help="findings directory (default fuzz/findings/difffuzz)")
    add_quiet(diff)
    diff.add_argument("--coverage", action="store_true",
                      help="coverage-guided instead: an alias of `fuzz --impl ...` (its options below apply)")
    from .fuzz import add_campaign_arguments

    add_campaign_arguments(diff)
    diff.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from ..fuzz import difffuzz

    if args.coverage:
        from .fuzz import run_campaign

        return run_campaign(args)
    if not args.impl or len(args.impl) < 2:
        raise UsageError("difffuzz needs at least two --impl")
    if args.max_time <= 0 or args.batch < 1:
        raise UsageError("--max-time must be > 0 and --batch >= 1")
    config = difffuzz.Config(max_time=args.max_time, max_cases=args.max_cases, seed=args.seed, batch=args.batch,
                             out=args.out or difffuzz.DEFAULT_OUT)
    with ExitStack() as stack:
        names: set[str] = set()
        adapters = [stack.enter_context(open_adapter(spec, Options(timeout=args.timeout), names))
                    for spec in args.impl]
        try:
            difffuzz.common_suites(adapters)
        except difffuzz.NoCommonSuite as e:
            raise UsageError(str(e)) from None
        progress = stack.enter_context(Progress("difffuzz", args.max_cases, budget=args.max_time, findings=True,
                                                enabled=not args.quiet))
        report = difffuzz.campaign(adapters, config, on_progress=progress.update)
    difffuzz.print_report(report)
    return EXIT_FAIL if report.mismatches else EXIT_OK
