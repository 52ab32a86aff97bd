"""``python -m harness matrix``: the N x N interop matrix."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import TYPE_CHECKING

from ..adapters.registry import Options, open_adapter
from ..engine.results import document
from .common import UsageError, add_outputs, expand_specs, finish

if TYPE_CHECKING:
    from ..engine.matrix import Matrix


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    matrix = sub.add_parser("matrix", help="N x N interop matrix: every implementation encrypts, every other decrypts")
    matrix.add_argument("--impl", action="append", metavar="NAME", help="implementation (repeatable; default: all)")
    matrix.add_argument("--timeout", type=float, default=5.0, metavar="S", help="per-request timeout (default 5)")
    matrix.add_argument("--suite", type=int, action="append", metavar="N", help="suite (repeatable; default: 1-8)")
    add_outputs(matrix)
    matrix.set_defaults(handler=handle)


def run_matrix_command(specs: list[str], timeout: float, suites: list[int] | None) -> "Matrix":
    """Run the matrix over ``specs`` and print its summary lines."""
    from contextlib import ExitStack

    from ..engine.matrix import SUITES, run_matrix

    with ExitStack() as stack:
        adapters = [stack.enter_context(open_adapter(s, Options(timeout=timeout))) for s in specs]
        matrix = run_matrix(adapters, suites or SUITES)
    counts = Counter(c.status for c in matrix.cells)
    print(f"matrix: {len(specs)} implementations x {len(matrix.suites)} suites, {len(matrix.cells)} cells, "
          f"{matrix.frames} frames each: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
          + f" in {matrix.duration:.2f}s")
    bad = [c for c in matrix.cells if c.status in ("fail", "error")]
    for cell in bad[:5]:
        print(f"  {cell.status.upper()} {cell.key}: {cell.failures[0] if cell.failures else ''}")
    if len(bad) > 5:
        print(f"  ... and {len(bad) - 5} more failing cells (see the report)")
    return matrix


def handle(args: argparse.Namespace) -> int:
    bad = [s for s in args.suite or [] if not 1 <= s <= 8]
    if bad:
        raise UsageError(f"--suite {bad[0]}: suites are 1 to 8")
    return finish(document([], run_matrix_command(expand_specs(args.impl), args.timeout, args.suite)), args)
