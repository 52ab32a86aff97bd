"""The harness's own cost: frames through the pipe (issue 17 §2), in a table of its own.

Rules of this module:
- These figures time whole requests as the harness sees them (encoding, the pipe
  or the browser worker, the implementation's parsing, decoding), so they say how
  fast the harness can drive an implementation, never how fast its library is.
- Each adapter is measured against the in-process adapter in the same run,
  alternating batch by batch; a figure is the best batch (load only slows down).
- Every framing the adapter can negotiate is measured (JSON lines, and
  ``binary-v1`` where both sides speak it), pipelined and one request at a time
  (one ``call`` after another: exactly one request in flight).
- An implementation without the ``bench`` op is measured here per suite and size
  instead (``pipe_rows``): its only figures are the pipe's, and the report says so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..adapters.base import Adapter
from ..adapters.inprocess import PythonAdapter
from ..adapters.registry import Options, open_adapter
from ..catalogue.inputs import BASE_KEY
from ..model.text import clip, one_line
from ..model.wire import Request, Response
from .inside import KID, METADATA, BenchError

TRANSPORT_SUITE = 4
TRANSPORT_SIZE = 1200  # a video packet: the size of issue 17's goals


def encrypt_requests(suite: int, size: int, ops: int) -> list[Request]:
    plaintext = os.urandom(size)
    return [Request("encrypt", {"suite": suite, "base_key": BASE_KEY, "kid": KID, "ctr": i, "metadata": METADATA,
                                "plaintext": plaintext}) for i in range(ops)]


def _check(adapter: Adapter, responses: list[Response]) -> None:
    bad = next((r for r in responses if not r.ok), None)
    if bad is not None:
        why = clip(one_line(bad.fault or f"{bad.error}: {bad.message}"), 300)
        raise BenchError(f"{adapter.name} failed during the benchmark: {why}")


def batch_rate(adapter: Adapter, requests: list[Request], one_at_a_time: bool = False) -> Callable[[], float]:
    """A function that runs ``requests`` through ``adapter`` and returns requests per second:
    all in one batch (pipelined as far as the adapter goes), or one ``call`` after another."""
    def go() -> float:
        t0 = time.perf_counter()
        responses = [adapter.call(r) for r in requests] if one_at_a_time else adapter.run(requests)
        rate = len(requests) / (time.perf_counter() - t0)
        _check(adapter, responses)
        return rate

    return go


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def transport_rows(opened: Sequence[tuple[str, Adapter]], ops: int, repeats: int,
                   latency_ops: int) -> list[dict[str, Any]]:
    """Encrypt at 1200 B, suite 4, through every adapter, each against in-process Python. An adapter
    that negotiated binary-v1 is measured again over a second process offered JSON lines only."""
    requests = encrypt_requests(TRANSPORT_SUITE, TRANSPORT_SIZE, ops)
    in_process = PythonAdapter()
    baseline = batch_rate(in_process, requests)
    baseline()
    best = [0.0]  # the in-process figure: the best of every batch it ran, beside each adapter

    def measured_baseline() -> float:
        rate = baseline()
        best[0] = max(best[0], rate)
        return rate

    rows = []
    for spec, adapter in opened:
        if isinstance(adapter, PythonAdapter) or TRANSPORT_SUITE not in adapter.hello.suites:
            continue
        rows += _transport_rows(adapter, requests, measured_baseline, repeats, latency_ops)
        if _framing(adapter) != "json-lines":
            with open_adapter(spec, Options(framings=())) as json_lines:
                if _framing(json_lines) == "json-lines":
                    rows += _transport_rows(json_lines, requests, measured_baseline, repeats, latency_ops)
    for _ in range(repeats):
        measured_baseline()
    return [{"name": "python (in process)", "framing": "none", "ops_per_s": round(best[0], 1),
             "ratio_to_in_process": 1.0}, *rows]


def _framing(adapter: Adapter) -> str:
    return str(getattr(adapter, "framing", "json-lines"))  # a browser worker's transport has no choice


def _transport_rows(adapter: Adapter, requests: list[Request], baseline: Callable[[], float], repeats: int,
                    latency_ops: int) -> list[dict[str, Any]]:
    rows = []
    for one_at_a_time in (False, True):
        rate = batch_rate(adapter, requests, one_at_a_time)
        rate()
        best, best_base = 0.0, 0.0
        for _ in range(repeats):
            best_base, best = max(best_base, baseline()), max(best, rate())
        row: dict[str, Any] = {"name": f"{adapter.name} ({'one at a time' if one_at_a_time else 'pipelined'})",
                               "framing": _framing(adapter), "ops_per_s": round(best, 1),
                               "ratio_to_in_process": round(best / best_base, 4)}
        if one_at_a_time:
            latency = [adapter.call(r).elapsed * 1e6 for r in requests[:latency_ops]]
            row.update(p50_us=round(_percentile(latency, 0.5), 1), p99_us=round(_percentile(latency, 0.99), 1))
        rows.append(row)
    return rows


def pipe_rows(adapter: Adapter, suites: Sequence[int], sizes: dict[str, int], budget_bytes: int,
              repeats: int) -> list[dict[str, Any]]:
    """For an implementation without ``bench``: encrypt and decrypt requests through the pipe."""
    rows = []
    for suite in suites:
        if suite not in adapter.hello.suites:
            continue
        for frame, size in sizes.items():
            ops = max(8, min(2000, budget_bytes // max(size, 64)))
            enc = encrypt_requests(suite, size, ops)
            sealed = adapter.run(enc)
            if not all(r.ok for r in sealed):
                continue  # e.g. medooze at a size or KID it rejects: not comparable
            dec = [Request("decrypt", {"suite": suite, "base_key": BASE_KEY, "kid": KID, "metadata": METADATA,
                                       "ciphertext": r.fields["ciphertext"]}) for r in sealed]
            for mode, requests in (("encrypt", enc), ("decrypt", dec)):
                go = batch_rate(adapter, requests)
                go()
                per_s = max(go() for _ in range(repeats))
                rows.append({"implementation": adapter.name, "suite": suite, "frame": frame, "size": size,
                             "mode": mode, "frames_per_s": round(per_s, 1), "mb_per_s": round(per_s * size / 1e6, 2),
                             "limit_frames_per_s": None, "ratio_to_limit": None, "count": ops, "via": "pipe"})
    return rows
