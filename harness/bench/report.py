"""``python -m harness bench``: one run of every table, as the JSON the reports read.

Rules of this module:
- Tables, in order of what they tell an implementer: ``inside`` (the library's own
  speed against its own raw AEAD, via the ``bench`` op), ``transport`` (the harness's
  cost through the pipe), ``harness`` (a whole catalogue run), ``overhead`` (bytes on
  the wire against SRTP and PERC).
- An implementation without the ``bench`` op gets pipe figures in ``inside`` (``via``
  says so) and one line in ``notes``; nothing is silently left out.
- Figures are quoted as ratios against baselines measured in this run; absolute
  figures on this shared machine mean little.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from ..adapters.base import Adapter
from ..adapters.registry import open_adapter
from ..catalogue.inputs import BASE_KEY
from ..model.progress import OnProgress
from ..model.text import for_terminal
from ..model.wire import Request
from . import overhead
from .inside import KID, inside_rows
from .transport import pipe_rows, transport_rows

SCHEMA = "sframe-conformance-bench/v2"
SIZES = {"audio": 80, "video-packet": 1200, "video-frame": 30 * 1024, "keyframe": 200 * 1024}


def harness_overhead() -> dict[str, Any]:
    from ..adapters.inprocess import PythonAdapter
    from ..catalogue import all_cases
    from ..engine.runner import run

    t0 = time.perf_counter()
    cases = all_cases()
    loaded = time.perf_counter()
    result = run(PythonAdapter(), cases)
    return {"cases": len(cases), "catalogue_load_s": round(loaded - t0, 3), "run_s": round(result.duration, 3),
            "s_per_case": round(result.duration / len(cases), 7)}


def measured_overhead(opened: Sequence[tuple[str, Adapter]]) -> dict[str, dict[str, int]]:
    """SFrame bytes per ciphertext as produced, at the RFC's assumed KID (2 bytes) and CTR (3 bytes)."""
    measured: dict[str, dict[str, int]] = {}
    for spec, adapter in opened:
        for suite in adapter.hello.suites:
            r = adapter.call(Request("encrypt", {"suite": suite, "base_key": BASE_KEY, "kid": KID,
                                                 "ctr": 0x10000, "metadata": b"", "plaintext": bytes(100)}))
            if r.ok and isinstance(r.fields.get("ciphertext"), bytes):
                measured.setdefault(f"suite {suite}", {})[spec] = len(r.fields["ciphertext"]) - 100
    return measured


def run_bench(specs: Sequence[str], suites: Sequence[int], sizes: dict[str, int], repeats: int, target_s: float,
              budget_bytes: int, transport_ops: int, latency_ops: int = 50,
              on_progress: OnProgress | None = None) -> dict[str, Any]:
    """Every table; ``on_progress`` counts tables: one per implementation, then transport, overhead
    and the harness run."""
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    total = len(specs) + 3

    def step(done: int) -> None:
        if on_progress is not None:
            on_progress(done, total, 0)

    with ExitStack() as stack:
        # One process per implementation for every table (starting one costs seconds on a loaded machine).
        opened = [(spec, stack.enter_context(open_adapter(spec))) for spec in specs]
        for done, (spec, adapter) in enumerate(opened, 1):
            if "bench" in adapter.hello.capabilities:
                rows += [{**r, "via": "bench op"} for r in inside_rows(adapter, suites, sizes, repeats, target_s)]
            else:
                notes.append(f"{spec}: no bench op in hello capabilities; its figures are through the pipe "
                             f"(JSON and hex included), not the library's")
                rows += pipe_rows(adapter, suites, sizes, budget_bytes, repeats)
            step(done)
        transport = transport_rows(opened, transport_ops, repeats, latency_ops)
        step(len(specs) + 1)
        measured = measured_overhead(opened)
        step(len(specs) + 2)
    harness = harness_overhead()
    step(total)
    per_suite = {label: max(v.values()) for label, v in measured.items()}
    return {
        "schema": SCHEMA,
        "sizes": sizes,
        "suites": list(suites),
        "repeats": repeats,
        "notes": notes,
        "rows": rows,
        "transport": transport,
        "harness": harness,
        "overhead": overhead.to_json(overhead.analyse({"RFC 9605 B.1 assumption (22 B)": overhead.RFC_ASSUMED_SFRAME,
                                                       **{f"{k} (measured)": v for k, v in per_suite.items()
                                                          if k in ("suite 3", "suite 4")}}), measured),
    }


def _ratio(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "-"


def print_report(report: dict[str, Any]) -> None:
    print("inside each implementation (bench op): frames/s by its own clock; x limit = against its own raw AEAD "
          "(aead mode), same size, same run")
    print(f"  {'implementation':<18} {'suite':>5} {'size':>7} {'mode':<15} {'frames/s':>11} {'MB/s':>9} "
          f"{'limit/s':>11} {'x limit':>7}  via")
    for r in report["rows"]:
        limit = f"{r['limit_frames_per_s']:>11,.0f}" if r["limit_frames_per_s"] else f"{'-':>11}"
        print(f"  {for_terminal(r['implementation']):<18} {r['suite']:>5} {r['size']:>7} {r['mode']:<15} "
              f"{r['frames_per_s']:>11,.0f} {r['mb_per_s']:>9.1f} {limit} {_ratio(r['ratio_to_limit']):>7}  "
              f"{r['via']}")
    for note in report["notes"]:
        print(f"  note: {for_terminal(note)}")
    print("transport (the harness's cost): encrypt 1200 B, suite 4, whole requests; x in-process = against the "
          "in-process python adapter, same run")
    for t in report["transport"]:
        latency = f"  p50 {t['p50_us']:.1f} us, p99 {t['p99_us']:.1f} us" if "p50_us" in t else ""
        print(f"  {for_terminal(t['name']):<34} {for_terminal(t['framing']):<10} {t['ops_per_s']:>10,.0f}/s  "
              f"x in-process {t['ratio_to_in_process']:.3f}{latency}")
    h = report["harness"]
    print(f"harness: {h['cases']} cases, full --impl python run {h['run_s']:.3f}s ({h['s_per_case'] * 1e6:.1f} us/case)")
    print("overhead (kbps, % of base):")
    for row in report["overhead"]["rows"]:
        print(f"  {row['scenario']:<32} {row['scheme']:<58} {row['overhead_kbps']:>8.2f} {row['overhead_percent']:>6.2f}%")
