"""``python -m harness bench``: each library's speed against its own raw AEAD (the ``bench`` op), and the
harness's cost through the pipe, as ratios against baselines measured in the same run."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..adapters.registry import is_browser
from ..engine.results import apply_gate, document
from .common import EXIT_FAIL, EXIT_OK, UsageError, count, expand_specs, point_latest, report_dir, write_atomically
from .progress import Progress, add_quiet

# One bench request runs this long: shorter than a scheduler time slice, so that on a loaded
# machine some of the repeats run their whole loop without being preempted, and the best of
# them is the code's own speed.
TARGET_S = 0.002


def add_common(parser: argparse.ArgumentParser, section: str, default_suites: str) -> None:
    """The options ``bench`` and ``timing`` share: which implementations and suites, where to write."""
    parser.add_argument("--impl", dest="impls", action="append", metavar="NAME",
                        help="implementation (repeatable; default: every built one but the browsers)")
    parser.add_argument("--suite", type=int, action="append", metavar="N",
                        help=f"suite (repeatable; default {default_suites})")
    parser.add_argument("--json", type=Path, metavar="PATH", help=f"write the {section} JSON here")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help=f"write {section}.json, index.html (and plots) to DIR/<timestamp>/ and point "
                             "DIR/latest at it")
    add_quiet(parser)


def check_common(args: argparse.Namespace) -> list[str]:
    """The implementations to measure; a suite outside 1..8 is a usage error."""
    if any(not 1 <= x <= 8 for x in args.suite or []):
        raise UsageError("--suite must be 1 to 8")
    return args.impls or [s for s in expand_specs(["all"]) if not is_browser(s)]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = sub.add_parser("bench", help="each library's speed against its own raw AEAD, and the harness's cost")
    add_common(bench, "bench", "1-8")
    bench.add_argument("--quick", action="store_true",
                       help="a few seconds: suites 1 and 4, 80 and 1200 B frames, 5 repeats")
    bench.add_argument("--repeats", type=count, default=25, help="the best of these is kept (default 25)")
    bench.set_defaults(handler=handle)


def write_reports(section: str, report: dict[str, Any], json_path: Path | None, out: Path | None,
                  images: Callable[[Path], dict[str, str]] | None = None) -> None:
    """``report`` as JSON at ``json_path``, and under ``out`` as <section>.json and the HTML report with
    ``report`` as the results document's ``section``."""
    text = json.dumps(report, indent=1) + "\n"

    def write(tmp: Path) -> None:
        tmp.write_text(text)

    def write_json(path: Path) -> None:
        write_atomically(path, write)

    try:
        if json_path:
            write_json(json_path)
        if out:
            from ..reporters.html import write_html

            directory = report_dir(out)
            write_json(directory / f"{section}.json")
            svgs = images(directory) if images else {}
            write_html(apply_gate(document([], extra={section: report})), directory / "index.html", svgs)
            point_latest(out, directory)  # only now: an interrupted bench leaves the previous report
            print(f"reports written to {directory}")
    except OSError as e:
        raise UsageError(f"cannot write {e.filename}: {e.strerror or e}") from None


def handle(args: argparse.Namespace) -> int:
    from ..bench import report as bench
    from ..bench.inside import BenchError

    specs = check_common(args)
    params: dict[str, Any]
    if args.quick:
        sizes = {k: v for k, v in bench.SIZES.items() if k in ("audio", "video-packet")}
        params = dict(suites=args.suite or [1, 4], sizes=sizes, repeats=5, target_s=0.001, budget_bytes=20_000,
                      transport_ops=100, latency_ops=10)
    else:
        params = dict(suites=args.suite or list(range(1, 9)), sizes=bench.SIZES, repeats=args.repeats,
                      target_s=TARGET_S, budget_bytes=2_000_000, transport_ops=1000)
    try:
        with Progress("bench", unit="tables", enabled=not args.quiet) as progress:
            report = bench.run_bench(specs, **params, on_progress=progress.update)
    except BenchError as e:
        print(f"harness: {e}", file=sys.stderr)
        return EXIT_FAIL
    bench.print_report(report)

    def images(directory: Path) -> dict[str, str]:
        from ..reporters.plot import write_bench_images

        return write_bench_images(report, directory)

    write_reports("bench", report, args.json, args.out, images)
    return EXIT_OK
