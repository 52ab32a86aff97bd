"""The console summary: requirements by case level (MUST first), what was not tested,
inconsistent policies, failures, then why the non-strict cases are allowed.

Rules of this module: it prints views of ``engine.verdicts`` (the same the HTML and
results.json show) and passes every value that came from an implementation through
``for_terminal``.
"""

from __future__ import annotations

from collections import Counter
from typing import TextIO

from ..engine.results import RunRecord
from ..engine.runner import RunResult
from ..engine.verdicts import untested_line
from ..model.grading import Grade
from ..model.text import for_terminal

_SHOWN_FAILURES = 15
_SHOWN_REASONS = 6


def _requirement_lines(record: RunRecord) -> list[str]:
    lines = [f"  {'requirement':<10} {'level':<6} {'pass':>5} {'fail':>5} {'n-s':>5} {'unsup':>5} {'err':>5}  title"]
    for rid, row in record.requirements().items():
        own = row.level.value if row.level else ""
        for level, n in row.by_level.items():
            mark = "!" if n[Grade.FAIL] or n[Grade.ERROR] else ("?" if row.untested else " ")
            # A case level below its requirement's (HDR-07's MAY cases) is shown as such, not counted as MUST.
            title = row.title if level.value == own else f"[requirement {own}] {row.title}"
            lines.append(f"{mark} {rid:<10} {level.value:<6} {n[Grade.PASS]:>5} {n[Grade.FAIL]:>5} "
                         f"{n[Grade.NON_STRICT]:>5} {n[Grade.UNSUPPORTED]:>5} {n[Grade.ERROR]:>5}  {title[:60]}")
    return lines


def _reason_lines(record: RunRecord) -> list[str]:
    reasons = Counter(c.reason for c in record.cases if c.grade is Grade.NON_STRICT)
    lines = [f"  non-strict x{n}: {for_terminal(reason or 'no reason given')[:160]}"
             for reason, n in reasons.most_common(_SHOWN_REASONS)]
    if len(reasons) > _SHOWN_REASONS:
        lines.append(f"  ... and {len(reasons) - _SHOWN_REASONS} more reasons (see the HTML report)")
    return lines


def print_summary(result: RunResult, out: TextIO) -> None:
    record = RunRecord.from_result(result)
    h = result.hello
    out.write(f"\n{for_terminal(result.implementation)}: {for_terminal(h.name)} {for_terminal(h.version)}, "
              f"suites {','.join(map(str, h.suites))}\n")
    lines = _requirement_lines(record)
    untested = untested_line(record.untested())
    if untested:
        lines.append(f"? {untested}")
    lines += [f"  note: {for_terminal(i.text)[:300]}" for i in record.inconsistencies()]
    bad = sorted((c for c in record.cases if c.grade in (Grade.FAIL, Grade.ERROR)),
                 key=lambda c: (c.grade is not Grade.ERROR, c.level.rank))
    for c in bad[:_SHOWN_FAILURES]:
        cite = f"RFC 9605 §{c.section} {', '.join(c.requirements)} ({c.level.value})"
        lines.append(f"  {c.grade.value.upper()} {for_terminal(c.id)}: {cite}: {for_terminal(c.detail)}")
    if len(bad) > _SHOWN_FAILURES:
        lines.append(f"  ... and {len(bad) - _SHOWN_FAILURES} more failures (see --json)")
    lines += _reason_lines(record)
    out.write("\n".join(lines) + "\n")
    out.write(summary_line(result) + f" in {result.duration:.2f}s"
              + (f" ({result.restarts} restarts)" if result.restarts else "") + "\n")


def summary_line(result: RunResult) -> str:
    c = result.counts
    untested = RunRecord.from_result(result).untested()
    return (f"{for_terminal(result.implementation)}: {len(result.outcomes)} cases: {c['pass']} passed, "
            f"{c['fail']} failed, {c['non-strict']} non-strict, {c['unsupported']} unsupported, {c['error']} error"
            + "".join(f", {len(ids)} {lv.value} requirements untested" for lv, ids in untested.items()))
