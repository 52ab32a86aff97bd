"""``python -m harness [run] --impl X``: the catalogue against implementations (the default command)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..adapters.registry import Options, open_adapter
from ..catalogue import all_cases, select
from ..engine.results import document
from .common import UsageError, add_impl, add_outputs, add_selection, expand_specs, finish, open_for_run
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
    names: set[str] = set()  # an unnamed cmd: program is called by its hello name, made unique here
    for spec in specs:
        with open_for_run(spec, Options(timeout=args.timeout), names) as adapter, \
                Progress(adapter.name, len(cases), enabled=not args.quiet) as progress:
            result = run(adapter, cases, progress.update, spec=spec)
        results.append(result)
        if args.quiet:
            print(summary_line(result))
        else:
            print_summary(result, sys.stdout)
    if len(results) > 1 and not args.quiet:
        print("\nsummary:")
        for result in results:
            print("  " + summary_line(result))
    matrix = run_matrix_command(specs, args.timeout, None, args.quiet) if args.matrix else None
    doc = document(results, matrix)
    if args.media:
        media = _run_media(args.quiet)
        if media is not None:
            doc.extras["media"] = media
    not_run = _not_run(specs, args.media)
    if not_run:
        doc.not_run.append(not_run)
    code = finish(doc, args)
    if not_run:
        print(not_run)  # last, on its own line: a run without Chromium must not look complete
    return code


def _not_run(specs: list[str], media: bool) -> str | None:
    """One line when the browser implementations or the media scenarios could not run here."""
    from ..adapters.browser import chromium_path, unavailable_reason
    from ..adapters.registry import is_browser

    parts = (["browser"] if any(is_browser(s) for s in specs) else []) + (["media"] if media else [])
    if not parts:
        return None  # before unavailable_reason, which imports Playwright (a quarter of a second)
    reason = unavailable_reason()
    if reason is None:
        return None
    if chromium_path() is None:
        reason = "install chromium: `sudo apt-get install -y chromium` (or `sudo make deps`)"
    return f"{' and '.join(parts)}: NOT RUN — {reason}"


def _run_media(quiet: bool) -> dict[str, Any] | None:
    """A short media run for the report; its own failures fail the run through the gate."""
    from ..adapters.browser import unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        print(f"harness: media: {reason}", file=sys.stderr)
        return None
    from ..media.scenarios import MediaOptions, run_media, scenario_count
    from .progress import Progress

    options = MediaOptions(seconds=2.0, prebuilt_frames=30)
    with Progress("media", scenario_count(options), unit="scenarios", findings=True, enabled=not quiet) as progress:
        result = run_media(options, open_adapter, on_progress=progress.update)
    print(f"media: {sum(s['ok'] for s in result['scenarios'])}/{len(result['scenarios'])} scenarios ok "
          f"in {result['total_seconds']}s")
    return result
