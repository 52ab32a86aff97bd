"""``python -m harness bench``: throughput, latency and overhead, as ratios against same-run baselines.

This machine is shared and noisy, so absolute figures mean little: every figure
is reported next to baselines measured in the same run (raw AEADs from
``cryptography`` on the same frame sizes, and the in-process adapter).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..adapters.base import Adapter
from ..adapters.registry import Options, open_adapter
from ..model.wire import Request
from . import overhead

SCHEMA = "sframe-conformance-bench/v1"
SIZES = {"audio": 80, "video-packet": 1200, "video-frame": 30 * 1024, "keyframe": 200 * 1024}
BASE_KEY = bytes(range(16))


@dataclass(frozen=True)
class Timing:
    per_s: float  # median over repeats, operations per second
    min_per_s: float
    max_per_s: float


def measure(fn: Callable[[], int], repeats: int) -> Timing:
    """fn runs a batch and returns how many operations it did; the first run is a warm-up."""
    fn()
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = fn()
        rates.append(n / (time.perf_counter() - t0))
    return Timing(statistics.median(rates), min(rates), max(rates))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- baselines ------------------------------------------------------------------------------

def raw_gcm(key_len: int, plaintext: bytes, ops: int) -> Callable[[], int]:
    gcm, nonce = AESGCM(bytes(key_len)), bytes(12)

    def go() -> int:
        for _ in range(ops):
            gcm.encrypt(nonce, plaintext, b"")
        return ops

    return go


def raw_ctr_hmac(key_len: int, hash_alg: hashes.HashAlgorithm, plaintext: bytes, ops: int) -> Callable[[], int]:
    """AES-CTR then HMAC over the ciphertext: the primitives of §4.5.1, with no SFrame framing."""
    aes, mac_key, iv = algorithms.AES(bytes(key_len)), bytes(hash_alg.digest_size), bytes(16)

    def go() -> int:
        for _ in range(ops):
            enc = Cipher(aes, modes.CTR(iv)).encryptor()
            ct = enc.update(plaintext) + enc.finalize()
            mac = hmac.HMAC(mac_key, hash_alg)
            mac.update(ct)
            mac.finalize()
        return ops

    return go


def library_ratios(repeats: int, rounds: int = 200) -> list[dict[str, Any]]:
    """sframe_py's per-frame path (FrameKey.seal, suite 4) against raw AESGCM.encrypt, interleaved
    in small batches so that both see the same machine load; the ratio is of median batch times."""
    from sframe_py import FrameKey, get_suite

    key = FrameKey.derive(get_suite(4), bytes(16), 0x123)
    gcm, nonce = AESGCM(bytes(16)), bytes(12)
    out = []
    for size in (1024, 64 * 1024):
        plaintext = os.urandom(size)
        batch = max(5, 200_000 // (size + 200))
        ratios = []
        for r in range(rounds * max(1, repeats // 3)):
            t0 = time.perf_counter()
            for _ in range(batch):
                gcm.encrypt(nonce, plaintext, b"")
            t1 = time.perf_counter()
            for i in range(batch):
                key.seal(r * batch + i, b"", plaintext)
            t2 = time.perf_counter()
            ratios.append((t1 - t0) / (t2 - t1))
        out.append({"size": size, "ratio_to_raw_aesgcm": round(statistics.median(ratios), 3),
                    "p10": round(_percentile(ratios, 0.1), 3), "p90": round(_percentile(ratios, 0.9), 3)})
    return out


# --- implementations ------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    implementation: str
    op: str
    suite: int
    frame: str
    size: int
    frames_per_s: float
    min_frames_per_s: float
    max_frames_per_s: float
    mb_per_s: float
    p50_us: float
    p99_us: float
    ratio_to_raw: float


def _requests(suite: int, size: int, ops: int) -> tuple[list[Request], bytes]:
    plaintext = os.urandom(size)
    return [Request("encrypt", {"suite": suite, "base_key": BASE_KEY, "kid": 0x123, "ctr": i, "metadata": b"",
                                "plaintext": plaintext}) for i in range(ops)], plaintext


def _batch(adapter: Adapter, requests: list[Request]) -> Callable[[], int]:
    def go() -> int:
        responses = adapter.run(requests)
        bad = next((r for r in responses if not r.ok), None)
        if bad is not None:
            raise RuntimeError(f"{adapter.name} failed during the benchmark: {bad.error or bad.fault}: {bad.message}")
        return len(requests)

    return go


def implementation_rows(specs: Sequence[str], suites: Sequence[int], sizes: dict[str, int], budget_bytes: int,
                        repeats: int, latency_ops: int, baselines: dict[tuple[int, int], float]) -> list[Row]:
    rows = []
    with ExitStack() as stack:
        for spec in specs:
            fast = stack.enter_context(open_adapter(spec))
            # window=1: one request in flight, so a response's elapsed time is its full round trip.
            slow = fast if spec == "python" else stack.enter_context(open_adapter(spec, Options(window=1)))
            for suite in suites:
                if suite not in fast.hello.suites:
                    continue
                for frame, size in sizes.items():
                    ops = max(8, min(2000, budget_bytes // max(size, 64)))
                    enc, _ = _requests(suite, size, ops)
                    sealed = fast.run(enc)
                    if not all(r.ok for r in sealed):
                        continue  # e.g. medooze at a size or KID it rejects: not comparable
                    dec = [Request("decrypt", {"suite": suite, "base_key": BASE_KEY, "kid": 0x123, "metadata": b"",
                                               "ciphertext": r.fields["ciphertext"]}) for r in sealed]
                    for op, requests in (("encrypt", enc), ("decrypt", dec)):
                        timing = measure(_batch(fast, requests), repeats)
                        lat = [r.elapsed * 1e6 for r in slow.run(requests[:latency_ops])]
                        raw = baselines.get((suite, size), 0.0)
                        rows.append(Row(spec, op, suite, frame, size, round(timing.per_s, 1),
                                        round(timing.min_per_s, 1), round(timing.max_per_s, 1),
                                        round(timing.per_s * size / 1e6, 2), round(_percentile(lat, 0.5), 1),
                                        round(_percentile(lat, 0.99), 1),
                                        round(timing.per_s / raw, 4) if raw else 0.0))
    return rows


def transport_rows(specs: Sequence[str], ops: int, repeats: int) -> list[dict[str, Any]]:
    """Encrypt at 1 KiB in suite 4 through each adapter, pipelined and not, against in-process."""
    requests, plaintext = _requests(4, 1024, ops)
    raw = measure(raw_gcm(16, plaintext, ops), repeats)
    out = [{"name": "raw AESGCM.encrypt", **asdict(raw)}]
    with open_adapter("python") as adapter:
        in_process = measure(_batch(adapter, requests), repeats)
    out.append({"name": "python (in process)", **asdict(in_process)})
    for spec in specs:
        if spec == "python":
            continue
        for window, label in ((64, "pipelined"), (1, "unpipelined")):
            with open_adapter(spec, Options(window=window)) as adapter:
                if 4 not in adapter.hello.suites:
                    break
                out.append({"name": f"{spec} ({label})", **asdict(measure(_batch(adapter, requests), repeats))})
    for row in out:
        row["ratio_to_raw_aead"] = round(row["per_s"] / raw.per_s, 4)
        row["ratio_to_in_process"] = round(row["per_s"] / in_process.per_s, 4)
    return out


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


def measured_overhead(specs: Sequence[str]) -> dict[str, Any]:
    """SFrame bytes per ciphertext as produced, at the RFC's assumed KID (2 bytes) and CTR (3 bytes)."""
    measured: dict[str, dict[str, int]] = {}
    with ExitStack() as stack:
        for spec in specs:
            adapter = stack.enter_context(open_adapter(spec))
            for suite in adapter.hello.suites:
                r = adapter.call(Request("encrypt", {"suite": suite, "base_key": BASE_KEY, "kid": 0x123,
                                                     "ctr": 0x10000, "metadata": b"", "plaintext": bytes(100)}))
                if r.ok:
                    measured.setdefault(f"suite {suite}", {})[spec] = len(r.fields["ciphertext"]) - 100
    return measured


def run_bench(specs: Sequence[str], suites: Sequence[int], sizes: dict[str, int], budget_bytes: int, repeats: int,
              latency_ops: int = 50, transport_ops: int = 2000) -> dict[str, Any]:
    from sframe_py import SUITES

    baselines: dict[tuple[int, int], float] = {}
    baseline_rows = []
    for suite in suites:
        spec = SUITES[suite]
        for frame, size in sizes.items():
            plaintext = os.urandom(size)
            ops = max(8, min(5000, budget_bytes // max(size, 64)))
            if spec.aead.value == "aes-gcm":
                name, fn = f"raw AESGCM-{spec.nk * 8}", raw_gcm(spec.nk, plaintext, ops)
            else:
                hash_alg = hashes.SHA256() if spec.hash_name == "sha256" else hashes.SHA512()
                name, fn = f"raw AES-{spec.nka * 8}-CTR+HMAC-{spec.hash_name.upper()}", raw_ctr_hmac(
                    spec.nka, hash_alg, plaintext, ops)
            timing = measure(fn, repeats)
            baselines[(suite, size)] = timing.per_s
            baseline_rows.append({"baseline": name, "suite": suite, "frame": frame, "size": size,
                                  "frames_per_s": round(timing.per_s, 1), "mb_per_s": round(timing.per_s * size / 1e6, 2)})
    measured = measured_overhead(specs)
    per_suite = {label: max(v.values()) for label, v in measured.items()}
    return {
        "schema": SCHEMA,
        "sizes": sizes,
        "suites": list(suites),
        "repeats": repeats,
        "baselines": baseline_rows,
        "rows": [asdict(r) for r in implementation_rows(specs, suites, sizes, budget_bytes, repeats, latency_ops,
                                                        baselines)],
        "library": library_ratios(repeats),
        "transport": transport_rows(specs, transport_ops, repeats),
        "harness": harness_overhead(),
        "overhead": overhead.to_json(overhead.analyse({"RFC 9605 B.1 assumption (22 B)": overhead.RFC_ASSUMED_SFRAME,
                                                       **{f"{k} (measured)": v for k, v in per_suite.items()
                                                          if k in ("suite 3", "suite 4")}}), measured),
    }


def print_report(report: dict[str, Any]) -> None:
    print("throughput (median of repeats) and per-frame latency; x raw = against the raw AEAD baseline, same size")
    print(f"  {'implementation':<18} {'op':<8} {'suite':>5} {'frame':<12} {'frames/s':>10} {'MB/s':>8} "
          f"{'p50 us':>8} {'p99 us':>8} {'x raw':>7}")
    for r in report["rows"]:
        print(f"  {r['implementation']:<18} {r['op']:<8} {r['suite']:>5} {r['frame']:<12} {r['frames_per_s']:>10,.0f} "
              f"{r['mb_per_s']:>8.1f} {r['p50_us']:>8.1f} {r['p99_us']:>8.1f} {r['ratio_to_raw']:>7.3f}")
    print("sframe_py FrameKey.seal (suite 4) against raw AESGCM.encrypt, same run:")
    for lib in report["library"]:
        print(f"  {lib['size']:>6} B: {lib['ratio_to_raw_aesgcm']:.3f} (p10 {lib['p10']:.3f}, p90 {lib['p90']:.3f})")
    print("transport, encrypt 1 KiB suite 4:")
    for t in report["transport"]:
        print(f"  {t['name']:<34} {t['per_s']:>10,.0f}/s  x raw {t['ratio_to_raw_aead']:.3f}  "
              f"x in-process {t['ratio_to_in_process']:.3f}")
    h = report["harness"]
    print(f"harness: {h['cases']} cases, full --impl python run {h['run_s']:.3f}s ({h['s_per_case'] * 1e6:.1f} us/case)")
    print("overhead (kbps, % of base):")
    for row in report["overhead"]["rows"]:
        print(f"  {row['scenario']:<32} {row['scheme']:<58} {row['overhead_kbps']:>8.2f} {row['overhead_percent']:>6.2f}%")
