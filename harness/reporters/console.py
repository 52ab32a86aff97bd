"""The console summary: counts, then requirements (MUST first), then failures."""

from __future__ import annotations

from typing import TextIO

from ..engine.results import requirement_table
from ..engine.runner import RunResult
from ..model.grading import Grade

_SHOWN_FAILURES = 15


def print_summary(result: RunResult, out: TextIO) -> None:
    h = result.hello
    out.write(f"\n{result.implementation}: {h.name} {h.version}, suites {','.join(map(str, h.suites))}\n")
    table = requirement_table(result)
    out.write(f"  {'requirement':<10} {'level':<6} {'pass':>5} {'fail':>5} {'n-s':>5} {'unsup':>5} {'err':>5}  title\n")
    for rid, row in table.items():
        mark = "!" if row["fail"] or row["error"] else " "
        out.write(f"{mark} {rid:<10} {row['level']:<6} {row['pass']:>5} {row['fail']:>5} {row['non-strict']:>5} "
                  f"{row['unsupported']:>5} {row['error']:>5}  {row['title'][:60]}\n")
    bad = sorted((o for o in result.outcomes if o.grade in (Grade.FAIL, Grade.ERROR)),
                 key=lambda o: (o.grade is not Grade.ERROR, o.case.level.rank))
    for o in bad[:_SHOWN_FAILURES]:
        cite = f"RFC 9605 §{o.case.section} {', '.join(o.case.requirements)} ({o.case.level.value})"
        out.write(f"  {o.grade.value.upper()} {o.case.id}: {cite}: {o.detail}\n")
    if len(bad) > _SHOWN_FAILURES:
        out.write(f"  ... and {len(bad) - _SHOWN_FAILURES} more failures (see --json)\n")
    out.write(summary_line(result) + f" in {result.duration:.2f}s"
              + (f" ({result.restarts} restarts)" if result.restarts else "") + "\n")


def summary_line(result: RunResult) -> str:
    c = result.counts
    return (f"{result.implementation}: {len(result.outcomes)} cases: {c['pass']} passed, {c['fail']} failed, "
            f"{c['non-strict']} non-strict, {c['unsupported']} unsupported, {c['error']} error")
