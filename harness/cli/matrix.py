"""``python -m harness matrix``: the N x N interop matrix."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..adapters.registry import Options
from ..engine.results import document
from .common import UsageError, add_outputs, expand_specs, finish, open_for_run, seconds
from .progress import add_quiet

# The kinds of cells (engine.matrix.FRAMES and engine.stateful_matrix.KINDS; spelled here so that --help
# imports no engine).
MATRIX_KINDS = ("frames", "context", "ratchet", "mls", "replay")

if TYPE_CHECKING:
    from ..engine.matrix import Matrix


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    matrix = sub.add_parser("matrix", help="N x N interop matrix: every implementation encrypts, every other decrypts")
    matrix.add_argument("--impl", action="append", metavar="NAME", help="implementation (repeatable; default: all)")
    matrix.add_argument("--timeout", type=seconds, default=5.0, metavar="S", help="per-request timeout (default 5)")
    matrix.add_argument("--suite", type=int, action="append", metavar="N", help="suite (repeatable; default: 1-8)")
    matrix.add_argument("--kind", action="append", choices=MATRIX_KINDS, metavar="KIND",
                        help="cells of this kind (repeatable; default: all): frames (stateless), context, ratchet, "
                             "mls, replay (stateful key management)")
    add_outputs(matrix)
    add_quiet(matrix)
    matrix.set_defaults(handler=handle)


def run_matrix_command(specs: list[str], timeout: float, suites: list[int] | None, quiet: bool = False,
                       kinds: Sequence[str] = MATRIX_KINDS) -> "Matrix":
    """Run the matrix over ``specs`` and print its summary lines. A matrix that would not test some
    implementation (no suite in common) is a usage error, before any frame is sent."""
    from contextlib import ExitStack

    from ..engine.matrix import FRAMES, SUITES, Matrix, coverage_problem, run_matrix
    from ..engine.stateful_matrix import add_stateful, summary_lines
    from ..model.grading import Grade
    from ..model.text import for_terminal
    from .progress import Progress

    names: set[str] = set()
    with ExitStack() as stack:
        adapters = [stack.enter_context(open_for_run(s, Options(timeout=timeout), names, suites or SUITES))
                    for s in specs]
        problem = coverage_problem(adapters, suites or SUITES)
        if problem is not None:
            raise UsageError(f"matrix: {for_terminal(problem)}")
        progress = stack.enter_context(Progress("matrix", unit="cells", enabled=not quiet))
        named = {a.name: s for a, s in zip(adapters, specs)}
        matrix = (run_matrix(adapters, suites or SUITES, named, on_progress=progress.update) if FRAMES in kinds
                  else Matrix([a.name for a in adapters], list(suites or SUITES), [], 0.0, 0, named))
        add_stateful(matrix, adapters, [k for k in kinds if k != FRAMES], on_progress=progress.update)
    counts = Counter(c.grade.value for c in matrix.cells if c.kind == FRAMES)
    print(f"matrix: {len(specs)} implementations x {len(matrix.suites)} suites, {sum(counts.values())} cells, "
          f"{matrix.frames} frames each: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
          + f" in {matrix.duration:.2f}s")
    for line in summary_lines(matrix):
        print(for_terminal(line))
    bad = [c for c in matrix.cells if c.grade in (Grade.FAIL, Grade.ERROR)]
    for cell in bad[:5]:
        print(f"  {cell.grade.value.upper()} {for_terminal(cell.key)}: "
              f"{for_terminal(cell.failures[0]) if cell.failures else ''}")
    if len(bad) > 5:
        print(f"  ... and {len(bad) - 5} more failing cells (see the report)")
    allowed = [c for c in matrix.cells if c.grade is Grade.NON_STRICT]
    if allowed:
        print(f"  {len(allowed)} cells non-strict (an allowed refusal), e.g. {for_terminal(allowed[0].key)}: "
              f"{for_terminal(allowed[0].reasons[0]) if allowed[0].reasons else ''}")
    return matrix


def handle(args: argparse.Namespace) -> int:
    bad = [s for s in args.suite or [] if not 1 <= s <= 8]
    if bad:
        raise UsageError(f"--suite {bad[0]}: suites are 1 to 8")
    matrix = run_matrix_command(expand_specs(args.impl), args.timeout, args.suite, args.quiet, args.kind or MATRIX_KINDS)
    return finish(document([], matrix), args)
