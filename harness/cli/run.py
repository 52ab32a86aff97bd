"""``python -m harness [run] --impl X``: the catalogue against implementations (the default command)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..adapters.registry import Options, open_adapter
from ..catalogue import all_cases, select
from ..engine.results import document
from .common import UsageError, add_impl, add_outputs, add_selection, expand_specs, finish
from .matrix import run_matrix_command


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    run = sub.add_parser("run", help="run the catalogue against implementations (the default command)")
    add_impl(run, repeat=True)
    add_selection(run)
    run.add_argument("--matrix", action="store_true", help="also run the interop matrix over the same implementations")
    run.add_argument("--media", action="store_true",
                     help="also run the media scenarios (browser <-> aiortc SFU, 2 s each) when Chromium is installed")
    add_outputs(run)
    run.add_argument("--quiet", "-q", action="store_true", help="summary line only")
    run.set_defaults(handler=handle, needs_impl=True)


def handle(args: argparse.Namespace) -> int:
    from ..engine.runner import run
    from ..reporters.console import print_summary, summary_line
    from .progress import Progress

    cases = select(all_cases(), args.only, args.exclude)
    if not cases:
        raise UsageError("no case matches the --only/--exclude selection")
    specs = expand_specs(args.impl)
    results = []
    for spec in specs:
        with open_adapter(spec, Options(timeout=args.timeout)) as adapter:
            progress = Progress(len(cases))
            result = run(adapter, cases, progress.update)
            progress.finish()
        results.append(result)
        if args.quiet:
            print(summary_line(result))
        else:
            print_summary(result, sys.stdout)
    if len(results) > 1 and not args.quiet:
        print("\nsummary:")
        for result in results:
            print("  " + summary_line(result))
    matrix = run_matrix_command(specs, args.timeout, None) if args.matrix else None
    doc = document(results, matrix)
    if args.media:
        media = _run_media()
        if media is not None:
            doc["media"] = media
    return finish(doc, args)


def _run_media() -> dict[str, Any] | None:
    """A short media run for the report; its own failures fail the run through the gate."""
    from ..adapters.browser import unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        print(f"harness: media: {reason}", file=sys.stderr)
        return None
    from ..media.scenarios import MediaOptions, run_media

    result = run_media(MediaOptions(seconds=2.0, prebuilt_frames=30), open_adapter)
    print(f"media: {sum(s['ok'] for s in result['scenarios'])}/{len(result['scenarios'])} scenarios ok "
          f"in {result['total_seconds']}s")
    return result
