"""``python -m harness fuzz`` and ``corpus``: coverage-guided atheris campaigns on fuzz/ targets."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import UsageError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    fuzz = sub.add_parser("fuzz", help="coverage-guided atheris campaign on one fuzz/ target")
    fuzz.add_argument("--target", required=True, metavar="NAME", help="header, decrypt or context")
    fuzz.add_argument("--max-time", type=int, metavar="S", help="campaign length in seconds")
    fuzz.add_argument("--runs", type=int, metavar="N", help="number of inputs to run")
    fuzz.add_argument("--jobs", type=int, default=1, metavar="N", help="parallel libFuzzer workers (fork mode)")
    fuzz.set_defaults(handler=handle_fuzz)

    corpus = sub.add_parser("corpus", help="seed, merge or minimise a fuzz target's corpus")
    corpus.add_argument("action", choices=("seed", "merge", "minimise"))
    corpus.add_argument("--target", required=True, metavar="NAME", help="header, decrypt or context")
    corpus.add_argument("--from", dest="dirs", type=Path, action="append", default=[], metavar="DIR",
                        help="merge/minimise: another corpus to fold into the target's (repeatable)")
    corpus.set_defaults(handler=handle_corpus)


def handle_fuzz(args: argparse.Namespace) -> int:
    from ..fuzz import libfuzzer

    try:
        return libfuzzer.campaign(args.target, max_time=args.max_time, runs=args.runs, jobs=args.jobs)
    except libfuzzer.FuzzUsageError as e:
        raise UsageError(str(e)) from None


def handle_corpus(args: argparse.Namespace) -> int:
    from ..fuzz import libfuzzer

    try:
        return libfuzzer.corpus_command(args.action, args.target, args.dirs)
    except libfuzzer.FuzzUsageError as e:
        raise UsageError(str(e)) from None
