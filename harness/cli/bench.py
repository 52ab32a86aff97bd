"""``python -m harness bench``: throughput, latency and overhead against same-run baselines."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..engine.results import apply_gate, document
from .common import EXIT_FAIL, EXIT_OK, UsageError, expand_specs, report_dir


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = sub.add_parser("bench", help="throughput, latency and overhead against same-run baselines")
    bench.add_argument("--impl", dest="impls", action="append", metavar="NAME",
                       help="implementation (repeatable; default: every built one but the browsers)")
    bench.add_argument("--suite", type=int, action="append", metavar="N", help="suite (repeatable; default 1-8)")
    bench.add_argument("--quick", action="store_true", help="a tiny budget: suites 1 and 4, small frames, 1 repeat")
    bench.add_argument("--repeats", type=int, default=3)
    bench.add_argument("--json", type=Path, metavar="PATH", help="write bench JSON here")
    bench.add_argument("--out", type=Path, metavar="DIR",
                       help="write bench.json, index.html and plots to DIR/<timestamp>/ and point DIR/latest at it")
    bench.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from ..bench import throughput as bench

    if args.repeats < 1 or any(not 1 <= x <= 8 for x in args.suite or []):
        raise UsageError("--repeats must be >= 1 and --suite 1 to 8")
    specs = args.impls or [s for s in expand_specs(["all"]) if not s.startswith("browser")]
    params: dict[str, Any]
    if args.quick:
        sizes = {k: v for k, v in bench.SIZES.items() if k in ("audio", "video-packet")}
        params = dict(suites=args.suite or [1, 4], sizes=sizes, budget_bytes=40_000, repeats=1, latency_ops=10,
                      transport_ops=200)
    else:
        params = dict(suites=args.suite or list(range(1, 9)), sizes=bench.SIZES, budget_bytes=2_000_000,
                      repeats=args.repeats)
    try:
        report = bench.run_bench(specs, **params)
    except RuntimeError as e:
        print(f"harness: {e}", file=sys.stderr)
        return EXIT_FAIL
    bench.print_report(report)
    try:
        if args.json:
            from ..reporters.json_report import write_json

            write_json(report, args.json)
        if args.out:
            from ..reporters.html import write_html
            from ..reporters.json_report import write_json
            from ..reporters.plot import write_bench_images

            directory = report_dir(args.out)
            write_json(report, directory / "bench.json")
            images = write_bench_images(report, directory)
            write_html(apply_gate(document([], extra={"bench": report})), directory / "index.html", images)
            print(f"reports written to {directory}")
    except OSError as e:
        raise UsageError(f"cannot write {e.filename}: {e.strerror or e}") from None
    return EXIT_OK
