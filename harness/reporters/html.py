"""index.html: a self-contained page (no network, no script) a person reads at a glance.

Sections: the gate verdict; implementations; the N x N matrix per suite as a
coloured grid; conformance per implementation grouped by requirement, MUST
failures first; every failure with its requirement, expected against actual,
and a copy-pasteable reproducer.
"""

from __future__ import annotations

import shlex
from html import escape
from pathlib import Path
from typing import Any

_LEVEL_RANK = {"MUST": 0, "SHOULD": 1, "MAY": 2}
_FAILURES_SHOWN = 150

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
"""


def _cell_class(status: str | None) -> str:
    return status if status in ("pass", "fail", "error", "unsupported", "non-strict") else "none"


def _verdict(doc: dict[str, Any]) -> str:
    ok = doc.get("exit_code", 0) == 0
    text = "PASS: no new failures" if ok else "FAIL: new failures"
    return f'<span class="verdict {"pass" if ok else "fail"}">{text}</span>'


def _count(n: int, grade: str) -> str:
    """A count cell, coloured by its grade only when it is not zero."""
    return f'<td class="num {grade if n else ""}">{n}</td>'


def _implementations(doc: dict[str, Any]) -> str:
    rows = []
    for run in doc["runs"]:
        h, s, g = run["implementation"]["hello"], run["summary"], run.get("gate", {})
        gate = ""
        if g:
            gate = (f'{len(g["new_failures"])} new, {g["expected_failures"]} expected'
                    + (f', {len(g["unexpected_passes"])} unexpected passes' if g["unexpected_passes"] else ""))
        rows.append(
            f'<tr><td><a href="#impl-{escape(run["implementation"]["name"])}">{escape(run["implementation"]["name"])}'
            f'</a></td><td>{escape(h["name"])} {escape(h["version"])}</td><td>{escape(", ".join(map(str, h["suites"])))}'
            f'</td><td class="num">{s["total"]}</td>{_count(s["passed"], "pass")}{_count(s["failed"], "fail")}'
            f'<td class="num">{s["non_strict"]}</td><td class="num">{s["unsupported"]}</td>'
            f'{_count(s["error"], "error")}<td>{gate}</td></tr>')
    return ("<h2>Implementations</h2><table><tr><th>implementation</th><th>reports itself as</th><th>suites</th>"
            "<th>cases</th><th>pass</th><th>fail</th><th>non-strict</th><th>unsupported</th><th>error</th>"
            "<th>gate</th></tr>" + "".join(rows) + "</table>")


def _matrix(matrix: dict[str, Any]) -> str:
    impls = matrix["implementations"]
    by_key = {(c["suite"], c["encryptor"], c["decryptor"]): c for c in matrix["cells"]}
    grids = []
    for suite in matrix["suites"]:
        head = "".join(f"<th>{escape(d)}</th>" for d in impls)
        rows = []
        for e in impls:
            tds = []
            for d in impls:
                c = by_key.get((suite, e, d))
                if c is None:
                    tds.append('<td class="none">&ndash;</td>')
                    continue
                checks = "; ".join(f"{k} {v['pass']}/{v['pass'] + v['fail'] + v['error']}" for k, v in c["checks"].items())
                title = escape(checks + ("\n" + "\n".join(c["failures"]) if c["failures"] else ""))
                tds.append(f'<td class="{_cell_class(c["status"])}" title="{title}">{c["status"]}</td>')
            rows.append(f"<tr><th>{escape(e)}</th>{''.join(tds)}</tr>")
        grids.append(f'<figure><figcaption>suite {suite}</figcaption><table class="matrix" id="matrix-suite-{suite}">'
                     f'<tr><th>encrypt &darr; / decrypt &rarr;</th>{head}</tr>{"".join(rows)}</table></figure>')
    gate = matrix.get("gate")
    gate_text = f' Gate: {len(gate["new_failures"])} new failing cells, {gate["expected_failures"]} expected.' if gate else ""
    return (f'<h2 id="matrix">Interop matrix</h2><p>{len(impls)} implementations, {len(matrix["suites"])} suites, '
            f'{matrix["frames_per_cell"]} frames per cell (plus tampered copies), {len(matrix["cells"])} cells in '
            f'{matrix["duration_s"]:.2f}s. Rows encrypt, columns decrypt; hover a cell for its checks '
            f'(decrypt, byte identity, tamper rejection).{gate_text}</p>'
            '<p><span class="tag pass">pass</span> <span class="tag fail">fail</span> <span class="tag error">error</span> '
            '<span class="tag unsupported">unsupported</span> <span class="tag none">&ndash; not both supported</span></p>'
            f'<div class="grids">{"".join(grids)}</div>{_matrix_failures(matrix)}')


def _matrix_failures(matrix: dict[str, Any]) -> str:
    items = []
    for c in matrix["cells"]:
        if c["status"] not in ("fail", "error"):
            continue
        cmd = shlex.join(["python", "-m", "harness", "matrix", "--impl", c["encryptor"], "--impl", c["decryptor"],
                          "--suite", str(c["suite"])])
        items.append(f'<li class="failure"><b>{escape(c["key"])}</b>: {c["status"]}<ul>'
                     + "".join(f"<li>{escape(f)}</li>" for f in c["failures"]) + f"</ul><pre>{escape(cmd)}</pre></li>")
    return f'<h3>Failing cells</h3><ol id="matrix-failures">{"".join(items)}</ol>' if items else ""


def _requirements(run: dict[str, Any]) -> str:
    rows = []
    # Failing requirements first, MUST before SHOULD before MAY.
    reqs = sorted(run["requirements"].items(), key=lambda kv: (not (kv[1]["fail"] or kv[1]["error"]), _LEVEL_RANK.get(kv[1]["level"], 3), kv[0]))
    for rid, r in reqs:
        bad = r["fail"] or r["error"]
        rows.append(f'<tr><td class="{"fail" if bad else ""}">{escape(rid)}</td><td>{escape(r["level"])}</td>'
                    f'<td>§{escape(r["section"])}</td><td>{escape(r["title"])}</td><td class="num">{r["pass"]}</td>'
                    f'<td class="num">{r["fail"]}</td><td class="num">{r["non-strict"]}</td>'
                    f'<td class="num">{r["unsupported"]}</td><td class="num">{r["error"]}</td></tr>')
    return ("<table class=\"requirements\"><tr><th>requirement</th><th>level</th><th>RFC 9605</th><th>title</th>"
            "<th>pass</th><th>fail</th><th>non-strict</th><th>unsupported</th><th>error</th></tr>"
            + "".join(rows) + "</table>")


def _failures(run: dict[str, Any]) -> str:
    name = run["implementation"]["name"]
    bad = [c for c in run["cases"] if c["result"] in ("fail", "error")]
    bad.sort(key=lambda c: (c["result"] != "error", _LEVEL_RANK.get(c["level"], 3)))
    items = []
    for c in bad[:_FAILURES_SHOWN]:
        cmd = shlex.join(["python", "-m", "harness", "--impl", name, "--only", c["id"]])
        known = f' <span class="tag unsupported">expected: {escape(c["expected_failure"])}</span>' if c.get(
            "expected_failure") else ""
        items.append(
            f'<li class="failure"><b>{escape(c["id"])}</b> <span class="tag {c["result"]}">{c["result"]}</span>{known}'
            f'<br>violates RFC 9605 §{escape(c["section"])} {escape(", ".join(c["requirements"]))} ({c["level"]}), '
            f'expected <i>{escape(c["expected"])}</i>: {escape(c["title"])}<br>'
            f'<span class="muted">actual:</span> {escape(c["detail"])}<pre>{escape(cmd)}</pre></li>')
    more = f"<p>... and {len(bad) - _FAILURES_SHOWN} more in results.json</p>" if len(bad) > _FAILURES_SHOWN else ""
    return (f'<h3>Failures ({len(bad)})</h3><ol class="failures">{"".join(items)}</ol>{more}' if bad
            else "<p>No failures.</p>")


def _table(rows: list[dict[str, Any]], cols: list[str] | None = None) -> str:
    cols = cols or list(dict.fromkeys(k for r in rows for k in r if not isinstance(r[k], (dict, list))))
    body = "".join("<tr>" + "".join(f"<td>{escape(str(r.get(k, '')))}</td>" for k in cols) + "</tr>" for r in rows)
    return "<table><tr>" + "".join(f"<th>{escape(k)}</th>" for k in cols) + f"</tr>{body}</table>"


def _fuzz(fuzz: dict[str, Any]) -> str:
    parts = ['<h2 id="fuzz">Fuzzing findings</h2>']
    diff = fuzz.get("difffuzz")
    if diff:
        parts.append(f'<p>Last difffuzz campaign: {escape(", ".join(diff["impls"]))}, seed {diff.get("seed")}, '
                     f'{diff.get("cases", 0):,} cases at {diff.get("cases_per_s", 0):,.0f}/s.</p>')
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
            f'<p>{escape(str(b.get("browser", "")))} launched in {b.get("launch_seconds")}s; '
            f'{escape(str(media.get("native_sframe", "")))}. Frames cross a real WebRTC loopback through an aiortc '
            f'SFU that holds no keys; {media.get("total_seconds")}s in all.</p>' + _table(rows)
            + "<h3>Frames decrypted to the frames sent, by decryptor</h3>" + _table(interop))


def _bench(bench: dict[str, Any]) -> str:
    h = bench["harness"]
    return ("<h2 id=\"bench\">Benchmarks</h2><p>Figures are ratios against baselines measured in the same run "
            "(the machine is shared and noisy).</p><h3>sframe_py per-frame path against raw AESGCM.encrypt</h3>"
            + _table(bench["library"]) + "<h3>Transport: encrypt 1 KiB, suite 4</h3>" + _table(bench["transport"])
            + f"<p>Harness: {h['cases']} cases; a full <code>--impl python</code> run takes {h['run_s']}s "
              f"({h['s_per_case'] * 1e6:.1f} &micro;s per case).</p>"
            + "<h3>Throughput and latency</h3>" + _table(bench["rows"]) + "<h3>Raw AEAD baselines</h3>"
            + _table(bench["baselines"]) + "<h3 id=\"overhead\">Overhead: SFrame against SRTP and PERC</h3>"
            + "<p>Scenarios and the 22-byte worst case are RFC 9605 Appendix B's; SFrame bytes per ciphertext are "
              "measured from real ciphertexts at KID 0x123 and CTR 0x10000; SFrame rows include SRTP's hop-by-hop "
              "10-byte tag per packet; PERC (RFC 8723) is 16 + 16 tag bytes and a 1-byte OHB per packet.</p>"
            + _table(bench["overhead"]["rows"]))


def render(doc: dict[str, Any], images: dict[str, str] | None = None) -> str:
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>SFrame conformance report</title>"
             f"<style>{CSS}</style></head><body><h1>SFrame (RFC 9605) conformance</h1>"
             f'<p class="muted">generated {escape(doc.get("generated", ""))} by sframe-conformance '
             f'{escape(doc.get("harness_version", ""))}, failing on {escape(doc.get("fail_on", "must"))}-level '
             f"failures</p><p>{_verdict(doc)}</p>", _implementations(doc)]
    if doc.get("matrix"):
        parts.append(_matrix(doc["matrix"]))
    if doc.get("fuzz"):
        parts.append(_fuzz(doc["fuzz"]))
    if doc.get("media"):
        parts.append(_media(doc["media"]))
    if doc.get("bench"):
        parts.append(_bench(doc["bench"]))
    for name, svg in (images or {}).items():
        parts.append(f'<h2>{escape(name)}</h2><div class="figure">{svg}</div>')
    parts.append('<h2 id="failures">Conformance by implementation</h2>')
    for run in doc["runs"]:
        name = run["implementation"]["name"]
        parts.append(f'<h2 id="impl-{escape(name)}">{escape(name)}</h2>{_requirements(run)}{_failures(run)}')
    parts.append("</body></html>")
    return "".join(parts)


def write_html(doc: dict[str, Any], path: Path, images: dict[str, str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(doc, images))
