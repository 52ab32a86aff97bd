"""``python -m harness properties --impl X``: format-agnostic hypothesis properties."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..adapters.registry import Options, open_adapter
from .common import EXIT_FAIL, EXIT_OK, UsageError, add_impl, count
from .progress import Progress, add_quiet


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    props = sub.add_parser("properties", help="format-agnostic hypothesis properties through the adapter interface")
    add_impl(props)
    props.add_argument("--seed", type=int, metavar="N", help="hypothesis seed (default: fixed 0; see --random)")
    props.add_argument("--random", action="store_true", help="a random seed, for campaigns")
    props.add_argument("--max-examples", type=count, default=100, metavar="N", help="examples per property")
    props.add_argument("--only", action="append", metavar="NAME", help="run only this property (repeatable)")
    props.add_argument("--out", type=Path, metavar="DIR", help="findings directory (default fuzz/findings/properties)")
    add_quiet(props)
    props.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import random

    from ..fuzz import properties

    if not args.impl:
        raise UsageError("properties needs --impl NAME")
    names = args.only or list(properties.PROPERTIES)
    unknown = [n for n in names if n not in properties.PROPERTIES]
    if unknown:
        raise UsageError(f"unknown property {unknown[0]!r}; known: {', '.join(properties.PROPERTIES)}")
    seed = random.randrange(1 << 32) if args.random else (args.seed or 0)
    config = properties.Config(seed=seed, max_examples=args.max_examples, out=args.out or properties.DEFAULT_OUT)
    with open_adapter(args.impl, Options(timeout=args.timeout)) as adapter, \
            Progress("properties", len(names) * args.max_examples, unit="examples", findings=True,
                     enabled=not args.quiet) as progress:
        report = properties.check(adapter, names, config, on_progress=progress.update)
    properties.print_report(report)
    return EXIT_FAIL if report.findings else EXIT_OK
