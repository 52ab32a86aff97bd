"""``python -m harness timing``: the constant-time check of tag verification (DEC-04), dudect's method.

Exit codes: 0 when no implementation is flagged (pass, inconclusive or unsupported),
1 when one is (``fail``) or could not be measured (``error``), 2 for a usage error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..adapters.registry import Options, open_adapter
from .bench import add_common, check_common, write_reports
from .common import EXIT_FAIL, EXIT_OK, UsageError, count, seconds
from .progress import Progress

DEFAULT_BUDGET_S = 60.0
DEFAULT_SAMPLES = 1_000_000


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    timing = sub.add_parser("timing", help="is the tag check constant-time? (dudect's t-test, DEC-04)")
    add_common(timing, "timing", "1 (AES-CTR+HMAC) and 4 (AES-GCM)")
    timing.add_argument("--budget", type=seconds, default=DEFAULT_BUDGET_S, metavar="S",
                        help=f"seconds per implementation and suite (default {DEFAULT_BUDGET_S:g})")
    timing.add_argument("--samples", type=count, default=DEFAULT_SAMPLES, metavar="N",
                        help=f"samples per class for a pass (default {DEFAULT_SAMPLES:,})")
    timing.add_argument("--seed", type=int, default=0, help="seed of the random schedule")
    timing.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from ..bench import dudect
    from ..bench import timing as check

    if not 0 < args.budget <= 24 * 3600 or args.samples < dudect.MIN_SAMPLES:
        raise UsageError(f"--budget must be in (0, 86400] seconds and --samples >= {dudect.MIN_SAMPLES}")
    specs = check_common(args)
    results = []
    for spec in specs:
        # A batch of BATCH samples is one request: give it far more than the default 5 s.
        with open_adapter(spec, Options(timeout=60.0)) as adapter:
            for suite in args.suite or check.SUITES:
                with Progress(f"timing {spec} suite {suite}", total=args.samples, unit="samples per class",
                              budget=args.budget, findings=True, enabled=not args.quiet) as progress:
                    results.append(check.check(adapter, suite, args.budget, args.samples, args.seed,
                                               on_progress=progress.update))
    section = check.report(results, args.budget, args.samples)
    check.print_report(section)
    write_reports("timing", section, args.json, args.out)
    return EXIT_FAIL if any(r.verdict in ("fail", "error") for r in results) else EXIT_OK
