"""index.html: a self-contained page (no network, no script) a person reads at a glance.

Sections: the gate verdict; implementations; the N x N matrix per suite as a
coloured grid; conformance per implementation grouped by requirement and case
level, MUST failures first; the requirements nothing tested; every failure with
its requirement, expected against actual, and a copy-pasteable reproducer; every
non-strict (acceptable) case grouped by requirement with the reason RFC 9605
allows it; and inconsistent policies.

Rules of this module: it renders the typed results document and nothing else;
every interpolated value goes through ``for_html`` (values from implementations
and results files are untrusted), and a reproducer command names the
implementation by its ``--impl`` spec, not its display name.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..engine.matrix import FRAMES, Cell, Matrix
from ..engine.results import CaseResult, Results, RunRecord
from ..engine.verdicts import RequirementRow, acceptable, untested_line
from ..model.grading import Grade
from ..model.text import for_html
from .keys import ratchet_kat_section, stateful_section

_FAILURES_SHOWN = 150
_ACCEPTABLE_SHOWN = 400

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0} th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}
th{background:#f4f4f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
.matrix td,.matrix th{text-align:center;min-width:5.5em}
.pass{background:#2e9e44;color:#fff} .fail{background:#d73a3a;color:#fff} .error{background:#7b2a8c;color:#fff}
.unsupported{background:#bbb;color:#222} .none{background:#fff;color:#999} .non-strict{background:#e8b23a}
.verdict{display:inline-block;padding:.3em .8em;border-radius:4px;font-weight:bold}
.grids{display:flex;flex-wrap:wrap;gap:1.5em} .grids figure{margin:0}
pre{background:#f6f8fa;padding:.5em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
li.failure{margin-bottom:1em} .muted{color:#777} .tag{font-size:85%;padding:0 .4em;border-radius:3px}
.untested{background:#fff4d6;border-left:4px solid #e8b23a;padding:.3em .6em}
.inconsistent{background:#eef4ff;border-left:4px solid #5b8def;padding:.3em .6em}
"""


def _number(value: Any, spec: str = "") -> str:
    """A number formatted with ``spec``; anything else (a crafted file's string or list) escaped as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return for_html(format(value, spec))
    return for_html(value)


def _section(name: str, render: Callable[[dict[str, Any]], str], value: Any) -> str:
    """A section of another room (fuzz, media, bench, timing), kept as it was written: a merged
    file may hold any shape there, and one that does not fit is said so instead of ending the report."""
    try:
        return render(value)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        return f'<h2 id="{for_html(name)}">{for_html(name)}</h2><p>This section could not be read: ' \
               f'{for_html(type(e).__name__)}: {for_html(e)}</p>'


def _grade_class(grade: Grade | None) -> str:
    return grade.value if grade is not None else "none"


def _verdict(doc: Results) -> str:
    ok = doc.exit_code == 0
    text = "PASS: no new failures" if ok else "FAIL: new failures"
    return f'<span class="verdict {"pass" if ok else "fail"}">{text}</span>'


def _count(n: int, grade: Grade) -> str:
    """A count cell, coloured by its grade only when it is not zero."""
    return f'<td class="num {grade.value if n else ""}">{n}</td>'


def _anchor(run: RunRecord) -> str:
    return for_html(f"impl-{run.implementation}")


def _implementations(doc: Results) -> str:
    rows = []
    for run in doc.runs:
        h, s, g = run.hello, run.summary(), run.gate
        gate = ""
        if g:
            gate = (f'{len(g.new_failures)} new, {g.expected_failures} expected'
                    + (f', {len(g.unexpected_passes)} unexpected passes' if g.unexpected_passes else "")
                    + (f', {len(g.untested)} untested requirements' if g.untested else ""))
        rows.append(
            f'<tr><td><a href="#{_anchor(run)}">{for_html(run.implementation)}</a></td>'
            f'<td>{for_html(h.name)} {for_html(h.version)}</td><td>{for_html(", ".join(map(str, h.suites)))}</td>'
            f'<td class="num">{s["total"]}</td>{_count(s["passed"], Grade.PASS)}{_count(s["failed"], Grade.FAIL)}'
            f'<td class="num">{s["non_strict"]}</td><td class="num">{s["unsupported"]}</td>'
            f'{_count(s["error"], Grade.ERROR)}<td>{for_html(gate)}</td></tr>')
    return ("<h2>Implementations</h2><table><tr><th>implementation</th><th>reports itself as</th><th>suites</th>"
            "<th>cases</th><th>pass</th><th>fail</th><th>non-strict</th><th>unsupported</th><th>error</th>"
            "<th>gate</th></tr>" + "".join(rows) + "</table>")


def _cell_title(c: Cell) -> str:
    checks = "; ".join(f"{k} {v.passed}/{v.answered}" for k, v in c.checks.items())
    return for_html("\n".join([checks, *c.failures, *c.reasons]))


def _matrix(matrix: Matrix, gate_failed: list[str] | None, expected: int | None) -> str:
    impls = matrix.implementations
    by_key = {(c.suite, c.encryptor, c.decryptor): c for c in matrix.cells if c.kind == FRAMES}
    grids = []
    for suite in matrix.suites:
        head = "".join(f"<th>{for_html(d)}</th>" for d in impls)
        rows = []
        for e in impls:
            tds = []
            for d in impls:
                c = by_key.get((suite, e, d))
                if c is None:
                    tds.append('<td class="none">&ndash;</td>')
                    continue
                tds.append(f'<td class="{_grade_class(c.grade)}" title="{_cell_title(c)}">{c.grade.value}</td>')
            rows.append(f"<tr><th>{for_html(e)}</th>{''.join(tds)}</tr>")
        grids.append(f'<figure><figcaption>suite {for_html(suite)}</figcaption><table class="matrix" '
                     f'id="matrix-suite-{for_html(suite)}"><tr><th>encrypt &darr; / decrypt &rarr;</th>{head}</tr>'
                     f'{"".join(rows)}</table></figure>')
    gate_text = (f" Gate: {len(gate_failed)} new failing cells, {expected} expected." if gate_failed is not None
                 else "")
    return (f'<h2 id="matrix">Interop matrix</h2><p>{len(impls)} implementations, {len(matrix.suites)} suites, '
            f'{matrix.frames} frames per cell (plus tampered copies), {len(by_key)} cells in '
            f'{matrix.duration:.2f}s. Rows encrypt, columns decrypt; hover a cell for its checks '
            f'(encrypt, decrypt, byte identity, tamper rejection).{gate_text}</p>'
            '<p><span class="tag pass">pass</span> <span class="tag non-strict">non-strict: an allowed '
            'refusal</span> <span class="tag fail">fail</span> <span class="tag error">error</span> '
            '<span class="tag unsupported">unsupported</span> <span class="tag none">&ndash; not both supported</span></p>'
            f'<div class="grids">{"".join(grids)}</div>{stateful_section(matrix)}'
            f'{ratchet_kat_section(matrix.ratchet_kat)}{_matrix_cells(matrix)}')


def _matrix_cells(matrix: Matrix) -> str:
    """Failing cells, then acceptable ones with their reasons."""
    failing, allowed = [], []
    for c in matrix.cells:
        spec = matrix.specs.get
        cmd = shlex.join(["python", "-m", "harness", "matrix", "--impl", spec(c.encryptor, c.encryptor), "--impl",
                          spec(c.decryptor, c.decryptor), "--suite", str(c.suite),
                          *([] if c.kind == FRAMES else ["--kind", c.kind])])
        if c.grade in (Grade.FAIL, Grade.ERROR):
            failing.append(f'<li class="failure"><b>{for_html(c.key)}</b>: {c.grade.value}<ul>'
                           + "".join(f"<li>{for_html(f)}</li>" for f in c.failures)
                           + f"</ul><pre>{for_html(cmd)}</pre></li>")
        elif c.grade is Grade.NON_STRICT:
            allowed.append(f'<li><b>{for_html(c.key)}</b>: non-strict<ul>'
                           + "".join(f"<li>{for_html(r)}</li>" for r in c.reasons) + "</ul></li>")
    return ((f'<h3>Failing cells</h3><ol id="matrix-failures">{"".join(failing)}</ol>' if failing else "")
            + (f'<h3>Acceptable cells</h3><ol id="matrix-acceptable">{"".join(allowed)}</ol>' if allowed else ""))


def _level_rows(rid: str, row: RequirementRow) -> list[str]:
    """One table row per case level of the requirement: HDR-07's MAY cases are not counted as MUST."""
    out = []
    for level, counts in row.by_level.items():
        bad = counts[Grade.FAIL] or counts[Grade.ERROR]
        own = row.level.value if row.level else ""
        label = level.value if level.value == own else f"{level.value} <span class=\"muted\">(requirement " \
                                                       f"{for_html(own)})</span>"
        nums = "".join(f'<td class="num">{counts[g]}</td>' for g in Grade)
        out.append(f'<tr><td class="{"fail" if bad else ("non-strict" if row.untested else "")}">{for_html(rid)}'
                   f'{" (untested)" if row.untested else ""}</td><td>{label}</td><td>§{for_html(row.section)}</td>'
                   f'<td>{for_html(row.title)}</td>{nums}</tr>')
    return out


def _requirements(run: RunRecord) -> str:
    rows = run.requirements()
    # Failing requirements first, then untested, MUST before SHOULD before MAY.
    order = sorted(rows.items(), key=lambda kv: (not (kv[1].counts[Grade.FAIL] or kv[1].counts[Grade.ERROR]),
                                                 not kv[1].untested, kv[1].level.rank if kv[1].level else 9, kv[0]))
    body = [line for rid, row in order for line in _level_rows(rid, row)]
    return ('<table class="requirements"><tr><th>requirement</th><th>case level</th><th>RFC 9605</th><th>title</th>'
            + "".join(f"<th>{g.value}</th>" for g in Grade) + "</tr>" + "".join(body) + "</table>")


def _untested(run: RunRecord) -> str:
    line = untested_line(run.untested())
    return f'<p class="untested" id="{_anchor(run)}-untested"><b>{for_html(line)}</b></p>' if line else ""


def _inconsistent(run: RunRecord) -> str:
    items = [f"<li>{for_html(i.text)}</li>" for i in run.inconsistencies()]
    return (f'<div class="inconsistent"><b>Inconsistent policy</b><ul id="{_anchor(run)}-inconsistent">'
            f'{"".join(items)}</ul></div>' if items else "")


def _repro(run: RunRecord, case_id: str) -> str:
    return shlex.join(["python", "-m", "harness", "--impl", run.spec, "--only", case_id])


def _failures(run: RunRecord) -> str:
    bad = sorted((c for c in run.cases if c.grade in (Grade.FAIL, Grade.ERROR)),
                 key=lambda c: (c.grade is not Grade.ERROR, c.level.rank))
    items = []
    for c in bad[:_FAILURES_SHOWN]:
        known = (f' <span class="tag unsupported">expected: {for_html(c.expected_failure)}</span>'
                 if c.expected_failure else "")
        items.append(
            f'<li class="failure"><b>{for_html(c.id)}</b> <span class="tag {c.grade.value}">{c.grade.value}</span>'
            f'{known}<br>violates RFC 9605 §{for_html(c.section)} {for_html(", ".join(c.requirements))} '
            f'({c.level.value}), expected <i>{c.expected.value}</i>: {for_html(c.title)}<br>'
            f'<span class="muted">actual:</span> {for_html(c.detail)}<pre>{for_html(_repro(run, c.id))}</pre></li>')
    more = f"<p>... and {len(bad) - _FAILURES_SHOWN} more in results.json</p>" if len(bad) > _FAILURES_SHOWN else ""
    return (f'<h3>Failures ({len(bad)})</h3><ol class="failures">{"".join(items)}</ol>{more}' if bad
            else "<p>No failures.</p>")


def _acceptable_group(rid: str, cases: list[CaseResult], room: int) -> str:
    """One requirement's non-strict cases; a reason they all share is said once, not after every case."""
    reasons = {c.reason for c in cases}
    shared = reasons.pop() if len(reasons) == 1 else ""
    items = []
    for c in cases[:room]:
        # The detail ends "(allowed: REASON)" or "(acceptable: REASON)": the shared reason is above.
        detail = c.detail.replace(f": {shared})", ")") if shared else c.detail
        why = f'<br><span class="muted">why allowed:</span> {for_html(c.reason)}' if c.reason and not shared else ""
        items.append(f"<li><b>{for_html(c.id)}</b> ({c.level.value}): {for_html(detail)}{why}</li>")
    head = f'<li><b>{for_html(rid)}</b> ({len(cases)})'
    if shared:
        head += f'<br><span class="muted">why allowed:</span> {for_html(shared)}'
    return head + "<ul>" + "".join(items) + "</ul></li>"


def _acceptable(run: RunRecord) -> str:
    """Every non-strict case, grouped by requirement, with the reason RFC 9605 allows it."""
    groups = acceptable(run.cases)
    if not groups:
        return ""
    total = sum(len(cases) for cases in groups.values())
    shown, parts = 0, []
    for rid, cases in groups.items():
        room = max(0, _ACCEPTABLE_SHOWN - shown)
        parts.append(_acceptable_group(rid, cases, room))
        shown += min(room, len(cases))
    more = f"<p>... and {total - shown} more in results.json</p>" if total > shown else ""
    return (f'<h3>Non-strict and acceptable ({total})</h3><ol class="acceptable" id="{_anchor(run)}-acceptable">'
            f'{"".join(parts)}</ol>{more}')


def _run(run: RunRecord) -> str:
    return (f'<h2 id="{_anchor(run)}">{for_html(run.implementation)}</h2>{_untested(run)}{_inconsistent(run)}'
            f'{_requirements(run)}{_failures(run)}{_acceptable(run)}')


def _table(rows: list[dict[str, Any]], cols: list[str] | None = None) -> str:
    cols = cols or list(dict.fromkeys(k for r in rows for k in r if not isinstance(r[k], (dict, list))))
    body = "".join("<tr>" + "".join(f"<td>{for_html(str(r.get(k, '')))}</td>" for k in cols) + "</tr>" for r in rows)
    return "<table><tr>" + "".join(f"<th>{for_html(k)}</th>" for k in cols) + f"</tr>{body}</table>"


def _fuzz(fuzz: dict[str, Any]) -> str:
    parts = ['<h2 id="fuzz">Fuzzing findings</h2>']
    diff = fuzz.get("difffuzz")
    if diff:
        parts.append(f'<p>Last difffuzz campaign: {for_html(", ".join(diff["impls"]))}, seed {for_html(diff.get("seed"))}, '
                     f'{_number(diff.get("cases", 0), ",")} cases at {_number(diff.get("cases_per_s", 0), ",.0f")}/s.</p>')
        rows = []
        for m in diff.get("mismatches", []):
            key = m["key"]
            groups = " vs ".join("+".join(g) for g in key["groups"])
            cmd = shlex.join(["python", "-m", "harness", "replay", m["file"], "--impl", key["groups"][-1][0]]) if m.get(
                "file") else ""
            rows.append({"op": key["op"], "suite": key.get("suite"), "how": key["how"], "disagreeing": groups,
                         "count": m["count"], "reproducer": cmd})
        parts.append(_table(rows) if rows else "<p>No mismatch.</p>")
    props = fuzz.get("properties")
    if props:
        parts.append("<h3>Property violations</h3>" + _table([
            {**p, "reproducer": shlex.join(["python", "-m", "harness", "replay", p["file"], "--impl", p["impl"] or ""])}
            for p in props]))
    return "".join(parts)


def _media(media: dict[str, Any]) -> str:
    rows = []
    for sc in media["scenarios"]:
        counts = ", ".join(f"{k.removeprefix('frames_')} {v}" for k, v in sc.items()
                           if isinstance(v, int) and not isinstance(v, bool) and k not in ("suite",))
        identical = sc.get("identical")
        rows.append({"scenario": sc["scenario"], "implementation": sc["impl"], "kind": sc["kind"], "suite": sc["suite"],
                     "setup s": sc.get("setup_seconds"), "frames/s": sc.get("frames_per_second"), "counts": counts,
                     "identical": ", ".join(f"{k} {v}" for k, v in identical.items()) if isinstance(identical, dict)
                     else identical, "ok": "ok" if sc["ok"] else "; ".join(sc.get("problems", [])) or "FAIL"})
    interop = [{"encrypting browser": impl, **cells} for impl, cells in media.get("interop", {}).items()]
    b = media.get("browser", {})
    return ('<h2 id="media">Media over WebRTC</h2>'
            f'<p>{for_html(str(b.get("browser", "")))} launched in {for_html(b.get("launch_seconds"))}s; '
            f'{for_html(str(media.get("native_sframe", "")))}. Frames cross a real WebRTC loopback through an aiortc '
            f'SFU that holds no keys; {for_html(media.get("total_seconds"))}s in all.</p>' + _table(rows)
            + "<h3>Frames decrypted to the frames sent, by decryptor</h3>" + _table(interop))


def _bench(bench: dict[str, Any]) -> str:
    h = bench.get("harness", {})
    notes = "".join(f"<p><strong>{for_html(n)}</strong></p>" for n in bench.get("notes", []))
    return ("<h2 id=\"bench\">Benchmarks</h2><p>Inside each implementation (the <code>bench</code> op): frames/s "
            "by its own clock, beside the same implementation's raw AEAD (<code>aead</code> mode) measured in the "
            "same run, each the best of its repeats.</p>" + notes
            + _table(bench.get("rows", []))
            + "<h3>Transport: the harness's cost (encrypt 1200 B, suite 4, whole requests)</h3>"
            + _table(bench.get("transport", []))
            + f"<p>Harness: {for_html(h.get('cases'))} cases; a full <code>--impl python</code> run takes "
              f"{for_html(h.get('run_s'))}s.</p>"
            + "<h3 id=\"overhead\">Overhead: SFrame against SRTP and PERC</h3>"
            + "<p>Scenarios and the 22-byte worst case are RFC 9605 Appendix B's; SFrame bytes per ciphertext are "
              "measured from real ciphertexts at KID 0x123 and CTR 0x10000; SFrame rows include SRTP's hop-by-hop "
              "10-byte tag per packet; PERC (RFC 8723) is 16 + 16 tag bytes and a 1-byte OHB per packet.</p>"
            + _table(bench.get("overhead", {}).get("rows", [])))


def _timing(timing: dict[str, Any]) -> str:
    return (f'<h2 id="timing">{for_html(timing.get("requirement", "DEC-04"))}: constant-time tag check</h2>'
            f'<p>{for_html(timing.get("method", ""))}. Budget {for_html(timing.get("budget_s"))}s per implementation '
            f'and suite; a pass needs {for_html(timing.get("target_samples"))} samples per class.</p>'
            + _table(timing.get("results", [])))


def _coverage_fuzz(index: dict[str, Any]) -> str:
    """The coverage-guided campaign (harness/fuzz/coverage_campaign.py): figures, findings, lines reached."""
    parts = [f'<h2 id="coverage-fuzz">Coverage-guided fuzzing</h2><p>{for_html(" + ".join(index["impls"]))}: '
             f'{for_html(format(index["execs"], ","))} execs in {for_html(index["duration_s"])}s '
             f'({for_html(index["execs_per_s"])}/s, {for_html(index.get("execs_per_cpu_s"))} per CPU-second), '
             f'corpus {for_html(index["corpus"])}, seed {for_html(index["seed"])}.</p>',
             _table([{k: i.get(k) for k in ("name", "kind", "edges", "status")} for i in index["implementations"]])]
    rows = [{"finding": f.get("title"), "after s": f.get("after_s"),
             "reproducer": shlex.join(["python", "-m", "harness", "replay", str(f.get("file")), "--impl",
                                       str(index["impls"][-1])])} for f in index.get("findings", [])]
    parts.append(_table(rows) if rows else "<p>No finding.</p>")
    for impl in index.get("coverage", {}).get("implementations", []):
        if impl.get("note"):
            parts.append(f"<h3>{for_html(impl['name'])}</h3><p>{for_html(impl['note'])}</p>")
            continue
        parts.append(f"<h3>{for_html(impl['name'])}: {for_html(impl['lines_covered'])}/{for_html(impl['lines_total'])} "
                     f"lines of {for_html(impl['scope'])} ({for_html(round(impl['percent'], 1))}%)</h3>")
        parts.append(_table([{"file": f["path"], "library": f["library"],
                              "lines": f"{f['lines_covered']}/{f['lines_total']}",
                              "functions": f"{f['functions_covered']}/{f['functions_total']}",
                              "uncovered lines": ", ".join(f["uncovered_lines"]),
                              "uncovered functions": ", ".join(f["uncovered_functions"])} for f in impl["files"]]))
    return "".join(parts)


def render(doc: Results, images: dict[str, str] | None = None) -> str:
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>SFrame conformance report</title>"
             f"<style>{CSS}</style></head><body><h1>SFrame (RFC 9605) conformance</h1>"
             f'<p class="muted">generated {for_html(doc.generated)} by sframe-conformance '
             f'{for_html(doc.harness_version)}, failing on {for_html(doc.fail_on.value)}-level failures'
             f'{" and untested requirements" if doc.fail_untested else ""}</p><p>{_verdict(doc)}</p>']
    parts += [f'<p class="not-run"><strong>{for_html(line)}</strong></p>' for line in doc.not_run]
    parts.append(_implementations(doc))
    if doc.matrix is not None:
        gate = doc.matrix_gate
        parts.append(_matrix(doc.matrix, gate.new_failures if gate else None, gate.expected_failures if gate else None))
    for name, section in (("fuzz", _fuzz), ("coverage_fuzz", _coverage_fuzz), ("media", _media), ("bench", _bench),
                          ("timing", _timing)):
        if doc.extras.get(name):
            parts.append(_section(name, section, doc.extras[name]))
    for name, svg in (images or {}).items():
        parts.append(f'<h2>{for_html(name)}</h2><div class="figure">{svg}</div>')
    parts.append('<h2 id="failures">Conformance by implementation</h2>')
    parts += [_run(run) for run in doc.runs]
    parts.append("</body></html>")
    return "".join(parts)


def write_html(doc: Results, path: Path, images: dict[str, str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(doc, images), encoding="utf-8")
