"""The key-management parts of index.html: the stateful interop grids and the ratchet known-answer table.

Rules of this module: like ``html``, it renders the typed results document and nothing else, and every
interpolated value goes through ``for_html`` (cells and answers come from implementations and files).
A stateful grid has one cell per ordered pair: the worst grade over the suites, with every suite's
grade and the first notes in its title; the failing cells themselves are listed by ``html``.
"""

from __future__ import annotations

from ..engine.matrix import FRAMES, Cell, Matrix
from ..engine.ratchet_kat import RatchetKat
from ..model.grading import Grade
from ..model.text import for_html

KIND_TITLES = {
    "context": "context: A's send context, B's receive context (four KIDs, counters across 2^32 and up to 2^64-1)",
    "ratchet": "ratchet: A's sender ratchets 19 steps (R = 3), B's receiver follows (reordering, deleted steps, "
               "a jump past the window)",
    "mls": "mls: A and B in one group (E = 4, S = 6): epochs, two senders, late frames, a removed member, "
           "an evicted epoch",
    "replay": "replay: A's frames at B's replay window of 128 (duplicates, too old, a forgery that must not move it)",
}


def _worst(cells: list[Cell]) -> Grade:
    return min((c.grade for c in cells), key=lambda g: g.severity)


def _title(cells: list[Cell]) -> str:
    lines = [f"suite {c.suite}: {c.grade.value}" for c in cells]
    for c in cells:
        lines += [f"suite {c.suite}: {note}" for note in c.failures[:2]]
    return for_html("\n".join(lines))


def _grid(matrix: Matrix, kind: str) -> str:
    cells = [c for c in matrix.cells if c.kind == kind]
    if not cells:
        return ""
    pairs: dict[tuple[str, str], list[Cell]] = {}
    for c in cells:
        pairs.setdefault((c.encryptor, c.decryptor), []).append(c)
    senders = [n for n in matrix.implementations if any(e == n for e, _ in pairs)]
    receivers = [n for n in matrix.implementations if any(d == n for _, d in pairs)]
    rows = []
    for e in senders:
        tds = []
        for d in receivers:
            group = pairs.get((e, d))
            if not group:
                tds.append('<td class="none">&ndash;</td>')
                continue
            worst = _worst(group)
            good = sum(c.grade in (Grade.PASS, Grade.NON_STRICT) for c in group)
            tds.append(f'<td class="{worst.value}" title="{_title(group)}">{worst.value} {good}/{len(group)}</td>')
        rows.append(f"<tr><th>{for_html(e)}</th>{''.join(tds)}</tr>")
    head = "".join(f"<th>{for_html(d)}</th>" for d in receivers)
    return (f'<figure><figcaption>{for_html(KIND_TITLES.get(kind, kind))}</figcaption>'
            f'<table class="matrix" id="matrix-{for_html(kind)}"><tr><th>send &darr; / receive &rarr;</th>{head}</tr>'
            f'{"".join(rows)}</table></figure>')


def stateful_section(matrix: Matrix) -> str:
    kinds = list(dict.fromkeys(c.kind for c in matrix.cells if c.kind != FRAMES))
    if not kinds:
        return ""
    count = sum(c.kind != FRAMES for c in matrix.cells)
    return (f'<h3 id="matrix-stateful">Key management across implementations</h3><p>{count} stateful cells in '
            f'{matrix.stateful_duration:.2f}s: A keeps the sender state, B the receiver state, and frames cross '
            "between them. Each grid cell is the worst grade over the suites both support and how many of "
            "them pass; hover for each suite and the first diverging step. Checks: encrypt (A\'s sender steps), "
            "identity (A\'s frames byte-identical to B\'s own), decrypt, tamper (what B must refuse). A ratchet "
            "implementation with only <code>ratchet_derive</code> is composed from it and the stateless ops "
            "(its window is then not tested).</p>"
            f'<div class="grids">{"".join(_grid(matrix, k) for k in kinds)}</div>')


def _value(hex_value: str | None, length: int, error: str, width: int = 12) -> str:
    if hex_value is None:
        return for_html(error or "no answer")
    if not hex_value:
        return '<code>""</code>'
    cut = for_html(hex_value[:width]) + ("&hellip;" if len(hex_value) > width else "")
    return f"<code>{cut}</code> {length}&nbsp;B"


def ratchet_kat_section(kat: RatchetKat | None) -> str:
    if kat is None or not kat.entries:
        return ""
    names = list(dict.fromkeys(e.implementation for e in kat.entries))
    by_key = {(e.implementation, e.suite, e.steps): e for e in kat.entries}
    rows = []
    for suite, steps in sorted({(e.suite, e.steps) for e in kat.entries}):
        expected = next(e.expected for e in kat.entries if (e.suite, e.steps) == (suite, steps))
        tds = [f'<td title="{for_html(expected)}">{_value(expected, len(expected) // 2, "", 16)}</td>']
        for name in names:
            e = by_key.get((name, suite, steps))
            if e is None:
                tds.append('<td class="none">&ndash;</td>')
            else:
                shown = "&#10003;" if e.agrees else _value(e.value, e.length, e.error)
                tds.append(f'<td class="{"pass" if e.agrees else "fail"}" title="{for_html(e.value or e.error)}">'
                           f"{shown}</td>")
        rows.append(f"<tr><th>suite {suite}, {steps} step{'s' if steps > 1 else ''}</th>{''.join(tds)}</tr>")
    off = kat.disagreements()
    summary = ", ".join(f"{for_html(n)} {bad}/{total}" for n, (bad, total) in off.items())
    return ('<h3 id="ratchet-kat">Ratchet known answers</h3><p>The base_key after 1, 2 and 10 ratchet steps '
            "(RFC 9605 §5.1: HKDF-Expand(HKDF-Extract(\"\", base_key), \"SFrame 1.0 Ratchet\", Nh)) from the "
            "vectors' base_key, by each implementation's <code>ratchet_derive</code>, beside the expected value "
            "(&#10003;: the same); "
            f"a red cell differs (a label or length bug). Differing, per implementation: {summary}.</p>"
            '<table class="kat" id="ratchet-kat-table"><tr><th></th><th>expected</th>'
            + "".join(f"<th>{for_html(n)}</th>" for n in names) + "</tr>" + "".join(rows) + "</table>")
