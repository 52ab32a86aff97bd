"""``python -m harness bench``: adapter throughput, as ratios against same-run baselines.

This machine is shared and noisy, so absolute figures mean little: every figure
is reported next to the raw AEAD baseline (``cryptography``'s AESGCM on the same
frame) and the in-process adapter, both measured in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .adapters.base import Adapter, Request
from .registry import Options, open_adapter

SCHEMA = "sframe-conformance-bench/v1"


@dataclass(frozen=True)
class Measurement:
    name: str
    ops_per_s: float
    min_ops_per_s: float
    max_ops_per_s: float
    ratio_to_raw_aead: float = 0.0
    ratio_to_in_process: float = 0.0


def _measure(fn: Callable[[], int], repeats: int) -> tuple[float, float, float]:
    fn()  # warm-up: process start, key caches, JIT
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = fn()
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates), min(rates), max(rates)


def _adapter_fn(adapter: Adapter, requests: list[Request]) -> Callable[[], int]:
    def go() -> int:
        responses = adapter.run(requests)
        if not all(r.ok for r in responses):
            bad = next(r for r in responses if not r.ok)
            raise RuntimeError(f"{adapter.name} failed during the benchmark: {bad.error or bad.fault}: {bad.message}")
        return len(requests)

    return go


def run_bench(impls: list[str], frame_size: int = 1024, ops: int = 2000, repeats: int = 3,
              suite: int = 4) -> dict[str, Any]:
    plaintext = os.urandom(frame_size)
    base_key = bytes(range(16))
    requests = [Request("encrypt", {"suite": suite, "base_key": base_key, "kid": 1, "ctr": i, "metadata": b"",
                                    "plaintext": plaintext}) for i in range(ops)]
    gcm, nonce = AESGCM(bytes(16)), bytes(12)

    def raw() -> int:
        for _ in range(ops):
            gcm.encrypt(nonce, plaintext, b"")
        return ops

    results: list[Measurement] = [Measurement("raw AESGCM.encrypt", *_measure(raw, repeats))]
    with open_adapter("python") as adapter:
        results.append(Measurement("python (in process)", *_measure(_adapter_fn(adapter, requests), repeats)))
    for spec in impls:
        for window, label in ((64, "pipelined"), (1, "unpipelined")):
            with open_adapter(spec, Options(window=window)) as adapter:
                results.append(Measurement(f"{spec} ({label})", *_measure(_adapter_fn(adapter, requests), repeats)))
    raw_rate, in_process = results[0].ops_per_s, results[1].ops_per_s
    results = [Measurement(m.name, m.ops_per_s, m.min_ops_per_s, m.max_ops_per_s,
                           m.ops_per_s / raw_rate, m.ops_per_s / in_process) for m in results]
    return {"schema": SCHEMA, "op": "encrypt", "suite": suite, "frame_size": frame_size, "ops": ops,
            "repeats": repeats, "results": [asdict(m) for m in results]}


def print_table(report: dict[str, Any]) -> None:
    print(f"encrypt, suite {report['suite']}, {report['frame_size']}-byte frames, "
          f"{report['ops']} ops x {report['repeats']} repeats (median, min-max)")
    print(f"  {'adapter':<34} {'ops/s':>10} {'min-max':>19} {'x raw AEAD':>11} {'x in-process':>13}")
    for m in report["results"]:
        spread = f"{m['min_ops_per_s']:,.0f}-{m['max_ops_per_s']:,.0f}"
        print(f"  {m['name']:<34} {m['ops_per_s']:>10,.0f} {spread:>19} {m['ratio_to_raw_aead']:>11.3f} "
              f"{m['ratio_to_in_process']:>13.3f}")


def write(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
