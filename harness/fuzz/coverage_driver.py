"""The process libFuzzer runs in, for ``python -m harness fuzz --impl A --impl B``.

``python -m harness.fuzz.coverage_driver CONFIG.json [libFuzzer arguments]``:
``coverage_campaign`` writes the config and starts this process (libFuzzer's
fork mode starts more of it); a ClusterFuzzLite build packages it with
``SFRAME_FUZZ_CONFIG`` naming the config instead.

Rules of this module:

- libFuzzer, through atheris, is the engine. Every implementation's coverage
  map is handed to it as an extra module of 8-bit counters with a PC table
  of its own (``__sanitizer_cov_8bit_counters_init`` / ``__sanitizer_cov_pcs_init``,
  in pairs as atheris registers its own), so an input joins the corpus when
  it reaches a new edge, or a new hit-count bucket, in any implementation.
  ``sframe_py`` is instrumented by atheris when ``python`` is fuzzed, and only
  then (its comparisons feed libFuzzer's table of recent compares too).
- Mutation is structure-aware: most mutations act on one record of the
  program (``coverage_program``) through libFuzzer's own mutator, which
  brings the dictionary and the compare table; the rest reorder, copy, drop
  or splice records.
- Input-to-state: the operands of failed comparisons against constants
  that a native implementation logged during an input (``hints``) are kept
  for that input, and a quarter of its mutations put a constant where its
  compared value sits in the input (AFL++'s cmplog idea): what a byte must
  be to pass ``p[4] == 0x8d`` is read off the comparison, not guessed.
- A disagreement is saved once per dedup key, as the raw input and its key,
  under ``findings/raw/``; the campaign shrinks it into a reproducer after
  libFuzzer stops (shrinking here would credit the shrink runs' coverage to
  the input). A fault (crash, hang, sanitizer abort) is a disagreement too.
- ``status-<pid>.json`` is rewritten about every second: execs, corpus
  additions are libFuzzer's to print, edges per implementation are ours.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import random
import shlex
import sys
import time
from pathlib import Path
from typing import Any, Literal

STATUS_EVERY = 1.0
HINTED_INPUTS = 20_000  # inputs whose comparison hints are remembered (the newest)


def input_to_state(data: bytes, hints: tuple[tuple[int, int, int], ...], rng: random.Random,
                   tried: dict[tuple[int, int], int]) -> bytes | None:
    """``data`` with one compared value replaced by the constant it was compared with, or None. Constants
    tried least so far come first: a comparison that only an input deep in the program reaches is new,
    while the ones every input makes have been tried many times over."""
    ranked = sorted(hints, key=lambda h: (tried.get((h[0], h[1]), 0), rng.random()))
    for i in range(8):
        width, constant, value = ranked[i] if i < len(ranked) and rng.random() < 0.7 else rng.choice(hints)
        tried[(width, constant)] = tried.get((width, constant), 0) + 1
        order: Literal["big", "little"] = "big" if rng.random() < 0.5 else "little"
        old, new = value.to_bytes(width, order), constant.to_bytes(width, order)
        spots: list[int] = []
        at = data.find(old)
        while at >= 0 and len(spots) < 64:
            spots.append(at)
            at = data.find(old, at + 1)
        if spots:
            at = rng.choice(spots)
            return data[:at] + new + data[at + width:]
    return None
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """CPU time of this process and of its live children (the implementations' processes), in seconds:
    on a shared machine, execs per CPU-second is the figure a single free core would give."""
    total = time.process_time()
    me = str(os.getpid())
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:  # ppid; then utime and stime are fields 14 and 15 of stat(5)
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def _libfuzzer() -> ctypes.CDLL:
    """The libFuzzer that atheris loaded (its core module, found among the process's mappings)."""
    module = sys.modules.get("atheris.core_with_libfuzzer")
    path = getattr(module, "__file__", None)
    if path is None:
        with open("/proc/self/maps") as maps:
            path = next((line.split()[-1] for line in maps if "core_with_libfuzzer" in line), None)
    if path is None:
        raise RuntimeError("atheris's libFuzzer core is not loaded")
    return ctypes.CDLL(path)


class Registered:
    """Counters and PC tables handed to libFuzzer; they must live as long as the process."""

    def __init__(self) -> None:
        self.keep: list[Any] = []

    def add(self, lib: ctypes.CDLL, address: int, size: int, tag: int) -> None:
        pcs = (ctypes.c_size_t * (2 * size))()  # (pc, flags) pairs, uintptr_t each
        for i in range(size):
            pcs[2 * i] = (tag << 40) | (i << 4)  # a made-up PC per counter: unique, never symbolised
        self.keep.append(pcs)
        # getattr: inside a class, a name with two leading underscores would be mangled.
        getattr(lib, "__sanitizer_cov_8bit_counters_init")(ctypes.c_void_p(address), ctypes.c_void_p(address + size))
        begin = ctypes.addressof(pcs)
        getattr(lib, "__sanitizer_cov_pcs_init")(ctypes.c_void_p(begin), ctypes.c_void_p(begin + ctypes.sizeof(pcs)))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    config_path = os.environ.get("SFRAME_FUZZ_CONFIG") or (argv.pop(1) if len(argv) > 1 else "")
    config = json.loads(Path(config_path).read_text())
    # A relative "cmd:" or "out" is relative to the config (ClusterFuzzLite moves $OUT as a whole).
    base = Path(config_path).resolve().parent
    config["impls"] = [f"cmd:{base / s[4:]}" if s.startswith("cmd:./") else s for s in config["impls"]]
    config["out"] = str(base / config.get("out", "campaign"))
    import atheris

    if "python" in config["impls"]:
        with atheris.instrument_imports(include=["sframe_py"]):
            import sframe_py  # noqa: F401 - instrumented before anything else imports it

    from ..adapters.coverage import CoverageAdapter, decode_hints, open_coverage_adapter
    from ..adapters.registry import Options
    from .coverage_program import MAX_INPUT, Executor, Plan, join_records, plan_steps, records

    out = Path(config["out"])
    raw = out / "findings" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    options = Options(timeout=config.get("timeout", 5.0))
    adapters: list[CoverageAdapter] = []
    names: set[str] = set()
    for spec in config["impls"]:
        adapters.append(open_coverage_adapter(spec, options, taken=names))
        print(f"harness: {adapters[-1].status()}", file=sys.stderr)
    plan = Plan.of(adapters)
    executor = Executor(adapters)
    templates = [r for seed in config.get("templates", []) for r in records(bytes.fromhex(seed))]
    state: dict[str, Any] = {"execs": 0, "findings": 0, "last": 0.0, "registered": False,
                             "started": time.time(), "stop": bool(config.get("stop_on_first"))}
    registered = Registered()
    hinted: dict[int, bytes | tuple[tuple[int, int, int], ...]] = {}
    tried: dict[tuple[int, int], int] = {}
    status_path = out / f"status-{os.getpid()}.json"

    def write_status(final: bool = False) -> None:
        status = {"pid": os.getpid(), "execs": state["execs"], "findings": state["findings"],
                  "elapsed": time.time() - state["started"], "final": final, "cpu_s": cpu_seconds(),
                  "impls": [{"name": a.name, "kind": a.kind, "edges": a.edges, "status": a.status()}
                            for a in adapters]}
        tmp = status_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(status))
        os.replace(tmp, status_path)

    def record(data: bytes, step: int, key: Any) -> None:
        from .difffuzz import Key

        assert isinstance(key, Key)
        slug = key.slug()
        if (raw / f"{slug}.json").exists():
            return
        (raw / f"{slug}.bin").write_bytes(data)
        tmp = raw / f"{slug}.tmp"
        tmp.write_text(json.dumps({"key": dataclasses.asdict(key), "step": step, "input": data.hex(),
                                   "after_s": round(time.time() - state["started"], 3), "execs": state["execs"]}))
        os.replace(tmp, raw / f"{slug}.json")
        state["findings"] += 1
        if config.get("crash_on_finding"):
            raise AssertionError(f"implementations disagree: {key.op} {key.how} "
                                 f"({' vs '.join('+'.join(g) for g in key.groups)}), step {step}")
        print(f"harness: finding after {time.time() - state['started']:.1f}s, {state['execs']} execs: "
              f"{key.op} {key.how} ({' vs '.join('+'.join(g) for g in key.groups)})", file=sys.stderr)

    def test_one_input(data: bytes) -> None:
        if not state["registered"]:
            lib = _libfuzzer()
            for tag, adapter in enumerate(adapters, start=1):
                if adapter.map is not None:
                    registered.add(lib, adapter.map.address, adapter.map.size, tag)
            state["registered"] = True
        steps = plan_steps(plan.decode(data))
        for a in adapters:
            a.begin()
        results = executor.run(steps)
        for a in adapters:
            a.end()
        state["execs"] += 1
        log = b"".join(a.hints() for a in adapters)
        if log:
            if len(hinted) >= HINTED_INPUTS:
                del hinted[next(iter(hinted))]
            hinted[hash(data)] = log  # decoded by the first mutation of this input, if any
        found = executor.judge(steps, results)
        if found is not None:
            record(data, found.step, found.key)
        now = time.time()
        if now - state["last"] >= STATUS_EVERY or (found is not None and state["stop"]):
            state["last"] = now
            write_status()
        if found is not None and state["stop"]:
            for a in adapters:
                a.close()
            os._exit(0)

    def mutate(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        hints = hinted.get(hash(data))
        if isinstance(hints, bytes):
            hints = hinted[hash(data)] = tuple(h for h in decode_hints(hints) if h[1] or h[0] < 8)
        if hints and rng.random() < 0.25:
            replaced = input_to_state(data, hints, rng, tried)
            if replaced is not None:
                return replaced[:max_size]
        items = records(data)
        pick = rng.random()
        if not items or pick < 0.08:
            new = rng.choice(templates) if templates else (rng.randrange(256), rng.randbytes(rng.randrange(1, 40)))
            items.insert(rng.randrange(len(items) + 1), new)
        elif pick < 0.70:
            i = rng.randrange(len(items))
            tag, body = items[i]
            items[i] = (tag, bytes(atheris.Mutate(body, min(255, max(len(body) * 2, 48)))))
        elif pick < 0.76:
            i = rng.randrange(len(items))
            items[i] = (rng.randrange(256), items[i][1])
        elif pick < 0.84:
            i = rng.randrange(len(items))
            items.insert(rng.randrange(len(items) + 1), items[i])
        elif pick < 0.90 and len(items) > 1:
            del items[rng.randrange(len(items))]
        elif pick < 0.95 and len(items) > 1:
            i, j = rng.randrange(len(items)), rng.randrange(len(items))
            items[i], items[j] = items[j], items[i]
        else:
            return bytes(atheris.Mutate(data, min(max_size, MAX_INPUT)))
        return join_records(items)[:max_size]

    def crossover(data1: bytes, data2: bytes, max_out_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        a, b = records(data1), records(data2)
        cut_a, cut_b = rng.randrange(len(a) + 1), rng.randrange(len(b) + 1)
        return join_records(a[:cut_a] + b[cut_b:])[:max_out_size]

    fuzz_args = [argv[0], *argv[1:]]
    if not getattr(sys, "frozen", False):
        # libFuzzer's fork mode (--jobs) starts its workers by running argv[0] through the shell, without
        # the config argument: name the interpreter, the module and the config (as ClusterFuzzLite does).
        fuzz_args[0] = (f"SFRAME_FUZZ_CONFIG={shlex.quote(str(Path(config_path).resolve()))} "
                        f"{shlex.quote(sys.executable)} -m harness.fuzz.coverage_driver")
    atheris.Setup(fuzz_args, test_one_input, custom_mutator=mutate, custom_crossover=crossover)
    try:
        atheris.Fuzz()
    finally:
        write_status(final=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
