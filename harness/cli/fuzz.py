"""``python -m harness fuzz`` and ``corpus``: coverage-guided fuzzing.

Two modes of ``fuzz``:

- ``--impl A --impl B ...``: the differential campaign over any implementations
  (``harness.fuzz.coverage_campaign``): libFuzzer through atheris, fed the
  coverage of every implementation; ``difffuzz --coverage`` is an alias;
- ``--target NAME``: an atheris campaign on one fuzz/ target over ``sframe_py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import EXIT_FAIL, EXIT_OK, UsageError, add_impl, seconds


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from .progress import add_quiet

    fuzz = sub.add_parser("fuzz", help="coverage-guided fuzzing: a differential campaign over --impl (at least two; "
                          "the first is the reference reproducers expect), or an atheris campaign on a fuzz/ target")
    add_impl(fuzz, repeat=True)
    fuzz.add_argument("--target", metavar="NAME", help="instead: an atheris campaign on fuzz/fuzz_NAME.py "
                                                       "(header, decrypt or context)")
    add_campaign_arguments(fuzz)
    fuzz.add_argument("--runs", type=int, metavar="N", help="number of inputs to run")
    fuzz.add_argument("--exact", action="store_true", help="fuzz the implementations named, not their coverage builds")
    fuzz.add_argument("--engine", choices=("libfuzzer", "random"), default="libfuzzer",
                      help="random: difffuzz's generator through the same coverage channels (a baseline)")
    add_quiet(fuzz)
    fuzz.set_defaults(handler=handle_fuzz)

    corpus = sub.add_parser("corpus", help="seed, merge or minimise a fuzz target's corpus")
    corpus.add_argument("action", choices=("seed", "merge", "minimise"))
    corpus.add_argument("--target", required=True, metavar="NAME", help="header, decrypt or context")
    corpus.add_argument("--from", dest="dirs", type=Path, action="append", default=[], metavar="DIR",
                        help="merge/minimise: another corpus to fold into the target's (repeatable)")
    corpus.set_defaults(handler=handle_corpus)


def add_campaign_arguments(parser: argparse.ArgumentParser) -> None:
    """The options ``fuzz --impl`` and its alias ``difffuzz --coverage`` share (difffuzz has --max-time/--seed/--out)."""
    own = {a.dest for a in parser._actions}
    if "max_time" not in own:
        parser.add_argument("--max-time", type=seconds, metavar="S", help="campaign length in seconds (default 60)")
    if "seed" not in own:
        parser.add_argument("--seed", type=int, default=0, metavar="N", help="libFuzzer's seed (default 0)")
    if "out" not in own:
        parser.add_argument("--out", type=Path, metavar="DIR",
                            help="campaign directory: corpus, findings, index.json (default fuzz/campaigns/<impls>); "
                                 "an existing one is resumed")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="parallel libFuzzer workers (fork mode)")
    parser.add_argument("--stop-on-first", action="store_true", help="end at the first finding")
    parser.add_argument("--no-report", action="store_true", help="skip the line-coverage report after the run")
    parser.add_argument("--reports", type=Path, metavar="DIR",
                        help="also write index.html and coverage_fuzz.json to DIR/<timestamp>/ (e.g. reports)")


def handle_fuzz(args: argparse.Namespace) -> int:
    if args.target:
        if args.impl:
            raise UsageError("give either --target (an atheris target) or --impl (a differential campaign)")
        from ..fuzz import libfuzzer
        from .progress import Progress

        try:
            max_time = int(args.max_time) if args.max_time is not None else None
            with Progress(f"fuzz {args.target}", args.runs, unit="execs", budget=max_time, findings=True,
                          enabled=not args.quiet) as progress:
                return libfuzzer.campaign(args.target, max_time=max_time, runs=args.runs, jobs=args.jobs,
                                          on_progress=progress.update)
        except libfuzzer.FuzzUsageError as e:
            raise UsageError(str(e)) from None
    return run_campaign(args)


def run_campaign(args: argparse.Namespace) -> int:
    import sys

    from ..adapters.base import AdapterError
    from ..fuzz import coverage_campaign as cc
    from .progress import Progress

    impls = tuple(args.impl or ())
    if len(impls) < 2:
        raise UsageError("fuzz needs --target NAME, or at least two --impl to compare")
    if args.jobs < 1 or (args.max_time is not None and args.max_time <= 0):
        raise UsageError("--jobs must be >= 1 and --max-time > 0")
    impls = cc.resolve(impls, getattr(args, "exact", False), sys.stderr)
    max_time = args.max_time if args.max_time is not None else (None if getattr(args, "runs", None) else 60.0)
    config = cc.CampaignConfig(impls, args.out or cc.default_out(impls), max_time, getattr(args, "runs", None),
                               args.jobs, args.seed, args.timeout, args.stop_on_first, not args.no_report,
                               engine=getattr(args, "engine", "libfuzzer"))

    class CampaignProgress(Progress):
        extra = ""

        def line(self, now: float | None = None) -> str:
            return super().line(now) + (f", {self.extra}" if self.extra else "")

    try:
        progress = CampaignProgress("fuzz", None, unit="execs", budget=max_time, findings=True, enabled=not args.quiet)
        with progress:
            def show(live: Any) -> None:
                progress.extra = live.line()
                progress.update(live.execs, None, live.findings)

            index = cc.campaign(config, show)
    except AdapterError as e:
        raise UsageError(str(e)) from None
    cc.print_summary(index)
    if args.reports:
        from .bench import write_reports

        write_reports("coverage_fuzz", index, None, args.reports)
    return EXIT_FAIL if index["findings"] else EXIT_OK


def handle_corpus(args: argparse.Namespace) -> int:
    from ..fuzz import libfuzzer

    try:
        return libfuzzer.corpus_command(args.action, args.target, args.dirs)
    except libfuzzer.FuzzUsageError as e:
        raise UsageError(str(e)) from None
