"""The coverage-guided differential campaign: ``python -m harness fuzz --impl A --impl B ...``.

Layout of ``--out DIR`` (default ``fuzz/campaigns/<impls>/``), kept between
runs so a campaign resumes where the last one stopped:

- ``corpus/``: libFuzzer's corpus (inputs that reached new coverage in any
  implementation); ``seeds/``: the seed programs, rewritten each run;
- ``findings/raw/<key>.bin|.json``: what the driver saw; ``findings/<key>.json``:
  its shrunk ``sframe-conformance-repro/v1`` reproducer, for ``replay``;
- ``index.json`` (schema ``sframe-conformance-fuzz/v1``): the last run's
  figures, findings and line coverage; ``coverage/``: the profiles it came from.

Rules of this module:

- libFuzzer runs in a child process (``coverage_driver``), which exits when it
  is done; this process reads its output and status files, draws progress,
  and does what needs the run to be over: shrinking, the coverage report
  (the corpus replayed once through each implementation with source-level
  coverage on), the summary line per implementation.
- Everything the child prints is untrusted text (it quotes implementations):
  shown through ``for_terminal``, bounded.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..adapters.base import AdapterError
from ..adapters.coverage import CoverageAdapter, open_coverage_adapter, variant
from ..adapters.registry import Options
from ..locations import FUZZ
from ..model.repro import write_repro
from ..model.text import clip, for_terminal
from .coverage_program import Executor, Plan, plan_steps, seed_programs
from .difffuzz import Key

SCHEMA = "sframe-conformance-fuzz/v1"
DICTIONARY = FUZZ / "dictionaries" / "program.dict"
_STAT = re.compile(r"^#(\d+):?\s+(?:(\w+)\s+)?cov: (\d+) ft: (\d+) corp: (\d+)(?:/\S+)?(?: .*?exec/s: (\d+))?")


@dataclass(frozen=True)
class CampaignConfig:
    impls: tuple[str, ...]
    out: Path
    max_time: float | None = 60.0
    runs: int | None = None
    jobs: int = 1
    seed: int = 0
    timeout: float = 5.0
    stop_on_first: bool = False
    report: bool = True
    keep_variant_names: bool = False  # fuzz exactly the named implementations (no ``c`` -> ``c-cov``)
    # "libfuzzer" (coverage-guided), or "random": difffuzz's generator through the same coverage
    # channels, so its edges and lines are measured the same way (the baseline of the README's figures).
    engine: str = "libfuzzer"


@dataclass
class Live:
    """What the campaign shows while it runs."""

    execs: int = 0
    rate: int = 0
    corpus: int = 0
    cov: int = 0
    features: int = 0
    findings: int = 0
    cpu: float = 0.0  # CPU seconds of the driver and the implementations' processes
    impls: list[dict[str, Any]] = field(default_factory=list)

    def line(self) -> str:
        edges = ", ".join(f"{i['name']} {i['edges'] if i['edges'] is not None else '-'}" for i in self.impls)
        return f"corpus {self.corpus}, edges: {edges}, libFuzzer cov {self.cov} ft {self.features}"


def default_out(impls: tuple[str, ...]) -> Path:
    slug = "+".join(re.sub(r"[^A-Za-z0-9._-]", "_", s)[:40] for s in impls)
    return FUZZ / "campaigns" / slug


def resolve(specs: tuple[str, ...], keep: bool, log: Any) -> tuple[str, ...]:
    """``c`` becomes ``c-cov`` when the coverage build is there (said once)."""
    out = []
    for spec in specs:
        chosen = spec if keep else variant(spec)
        if chosen != spec:
            print(f"harness: fuzzing {spec} through its coverage build {chosen}", file=log)
        out.append(chosen)
    return tuple(out)


def _driver_argv(config: CampaignConfig, config_path: Path, corpus: Path, seeds: Path) -> list[str]:
    argv = [sys.executable, "-m", "harness.fuzz.coverage_driver", str(config_path), str(corpus), str(seeds),
            # libFuzzer's seed 0 means "pick one"; an input may wait out several adapter timeouts.
            f"-seed={config.seed + 1}", "-max_len=4096", f"-timeout={int(max(30, config.timeout * 12))}",
            "-rss_limit_mb=8192", "-print_final_stats=1", "-reload=1",
            f"-artifact_prefix={config.out / 'findings'}/libfuzzer-"]
    if DICTIONARY.exists():
        argv.append(f"-dict={DICTIONARY}")
    if config.max_time is not None:
        argv.append(f"-max_total_time={max(1, int(config.max_time))}")
    if config.runs is not None:
        argv.append(f"-atheris_runs={config.runs}")
    if config.jobs > 1:
        argv.append(f"-fork={config.jobs}")
    return argv


def _write_seeds(adapters: list[CoverageAdapter], seeds: Path) -> list[str]:
    plan = Plan.of(adapters)
    seeds.mkdir(parents=True, exist_ok=True)
    for old in seeds.iterdir():
        old.unlink()
    encoded = [plan.encode(program) for program in seed_programs(plan)]
    for i, data in enumerate(encoded):
        (seeds / f"seed-{i:03d}").write_bytes(data)
    return [d.hex() for d in encoded]


def _read_status(out: Path) -> tuple[int, float, list[dict[str, Any]]]:
    execs, cpu = 0, 0.0
    impls: dict[str, dict[str, Any]] = {}
    for path in out.glob("status-*.json"):
        try:
            status = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        execs += int(status.get("execs", 0))
        cpu += float(status.get("cpu_s", 0.0))
        for i in status.get("impls", []):
            best = impls.get(i["name"])
            if best is None or (i.get("edges") or 0) > (best.get("edges") or 0):
                impls[i["name"]] = i
    return execs, cpu, list(impls.values())


def _pump(stream: Any, live: Live, log: Any, tail: list[str]) -> None:
    """Read the driver's stderr: libFuzzer's status lines feed ``live``; the harness's lines are shown."""
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        tail.append(clip(line, 500))
        del tail[:-60]
        m = _STAT.match(line)
        if m:
            live.cov, live.features, live.corpus = int(m[3]), int(m[4]), int(m[5])
            if m[6]:
                live.rate = int(m[6])
        elif line.startswith("harness: "):
            print(for_terminal(clip(line, 500)), file=log, flush=True)


def run_driver(config: CampaignConfig, on_progress: Callable[[Live], None], log: Any) -> tuple[int, Live, list[str]]:
    """Start libFuzzer in its own process and follow it to the end; (exit status, last figures, its last lines)."""
    out = config.out
    corpus, seeds = out / "corpus", out / "seeds"
    corpus.mkdir(parents=True, exist_ok=True)
    for old in out.glob("status-*.json"):
        old.unlink()
    probe = open_all(config.impls, Options(timeout=config.timeout))
    try:
        templates = _write_seeds(probe, seeds)
    finally:
        for adapter in probe:
            adapter.close()
    config_path = out / "driver.json"
    config_path.write_text(json.dumps({"impls": list(config.impls), "out": str(out), "timeout": config.timeout,
                                       "stop_on_first": config.stop_on_first, "templates": templates}))
    live, tail = Live(), list[str]()
    proc = subprocess.Popen(_driver_argv(config, config_path, corpus, seeds), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    pump = threading.Thread(target=_pump, args=(proc.stderr, live, log, tail), daemon=True)
    pump.start()
    try:
        while proc.poll() is None:
            time.sleep(0.5)
            live.execs, live.cpu, live.impls = _read_status(out)
            live.findings = len(list((out / "findings" / "raw").glob("*.json")))
            on_progress(live)
            if config.stop_on_first and live.findings and config.jobs > 1:
                os.killpg(proc.pid, signal.SIGINT)  # a fork-mode worker that stops does not stop the rest
                proc.wait(10)
    except KeyboardInterrupt:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    pump.join(2)
    live.execs, live.cpu, live.impls = _read_status(out)
    live.findings = len(list((out / "findings" / "raw").glob("*.json")))
    return proc.returncode, live, tail


# ---------------------------------------------------------------------------
# After the run
# ---------------------------------------------------------------------------


def shrink_findings(config: CampaignConfig, log: Any) -> list[dict[str, Any]]:
    """A reproducer for every raw finding that has none yet; the list of all findings of the campaign."""
    from .coverage_program import shrink, to_case

    raw_dir = config.out / "findings" / "raw"
    pending = sorted(p for p in raw_dir.glob("*.json") if not (config.out / "findings" / p.name).exists())
    findings: list[dict[str, Any]] = []
    adapters: list[CoverageAdapter] = []
    try:
        if pending:
            adapters = open_all(config.impls, Options(timeout=config.timeout))
        executor = Executor(adapters) if adapters else None
        plan = Plan.of(adapters) if adapters else None
        for path in pending:
            assert executor is not None and plan is not None
            meta = json.loads(path.read_text())
            key = Key(**{**meta["key"], "groups": tuple(tuple(g) for g in meta["key"]["groups"])})
            ops = plan.decode(bytes.fromhex(meta["input"]))
            steps = plan_steps(ops)
            found = executor.judge(steps, executor.run(steps))
            if found is None or found.key != key:
                print(f"harness: finding {path.stem} did not reproduce ({'no disagreement' if found is None else found.key.how}); "
                      "kept raw only", file=log)
                continue
            small = shrink(executor, ops, key)
            steps = plan_steps(small)
            results = executor.run(steps)
            again = executor.judge(steps, results)
            assert again is not None
            case = to_case(small, results, config.impls[0], again, f"fuzz/{key.slug()}")
            write_repro(config.out / "findings" / path.name, case, finding={
                "kind": "coverage-fuzz", "key": dataclasses.asdict(key), "seed": config.seed,
                "input": plan.encode(small).hex(), "original_input": meta["input"], "after_s": meta.get("after_s"),
                "execs": meta.get("execs"), "impls": list(config.impls)})
    finally:
        for adapter in adapters:
            adapter.close()
    for path in sorted((config.out / "findings").glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        finding = data.get("finding") or {}
        findings.append({"title": data.get("title"), "file": str(path), "key": finding.get("key"),
                         "after_s": finding.get("after_s"), "execs": finding.get("execs")})
    return findings


def campaign(config: CampaignConfig, on_progress: Callable[[Live], None] = lambda live: None,
             log: Any = sys.stderr) -> dict[str, Any]:
    """Run the campaign; its index document (also written to ``out/index.json``)."""
    from .coverage_report import corpus_coverage

    config.out.mkdir(parents=True, exist_ok=True)
    if config.engine == "random":
        return random_campaign(config, on_progress, log)
    started = time.monotonic()
    status, live, tail = run_driver(config, on_progress, log)
    duration = time.monotonic() - started
    if status not in (0, None) and not live.findings:
        # libFuzzer stopped for a reason of its own (a crash in the harness, a bad flag): say it.
        for line in tail[-15:]:
            print(for_terminal(line), file=log)
    findings = shrink_findings(config, log)
    coverage = corpus_coverage(config, log) if config.report else {}
    corpus = config.out / "corpus"
    index = {
        "schema": SCHEMA, "impls": list(config.impls), "seed": config.seed, "jobs": config.jobs,
        "duration_s": round(duration, 1), "execs": live.execs, "execs_per_s": round(live.execs / duration, 1)
        if duration else 0.0, "cpu_s": round(live.cpu, 1),
        "execs_per_cpu_s": round(live.execs / live.cpu, 1) if live.cpu else None, "corpus": sum(1 for _ in corpus.iterdir()) if corpus.is_dir() else 0,
        "libfuzzer": {"cov": live.cov, "ft": live.features, "exit_status": status},
        "implementations": [{"name": i["name"], "kind": i["kind"], "edges": i["edges"], "status": i["status"]}
                            for i in live.impls],
        "findings": findings, "coverage": coverage, "out": str(config.out),
    }
    (config.out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return index


def random_campaign(config: CampaignConfig, on_progress: Callable[[Live], None], log: Any) -> dict[str, Any]:
    """difffuzz's random campaign with every implementation behind its coverage channel and source-level
    coverage on for the whole run: what it reaches, measured as the coverage-guided campaign's corpus is."""
    from . import difffuzz
    from .coverage_report import summarize

    directory = config.out / "coverage"
    shutil.rmtree(directory, ignore_errors=True)
    adapters = open_all(config.impls, Options(timeout=config.timeout), report=directory)
    live = Live()
    try:
        for adapter in adapters:
            adapter.begin()
        cpu0 = time.process_time()
        report = difffuzz.campaign(adapters, difffuzz.Config(max_time=config.max_time or 60.0, seed=config.seed,
                                                             out=config.out / "findings", stop_on_first=config.stop_on_first),
                                   log=log, on_progress=lambda done, total, found: on_progress(
                                       dataclasses.replace(live, execs=done, findings=found)))
        live.cpu = time.process_time() - cpu0
        for adapter in adapters:
            adapter.end()  # the maps were never cleared: they hold the whole run
        impls = [{"name": a.name, "kind": a.kind, "edges": a.edges, "status": a.status()} for a in adapters]
    finally:
        for adapter in adapters:
            adapter.close()
    index = {
        "schema": SCHEMA, "engine": "random", "impls": list(config.impls), "seed": config.seed, "jobs": 1,
        "duration_s": round(report.duration, 1), "execs": report.cases, "execs_per_s": round(report.cases_per_s, 1),
        "cpu_s": round(live.cpu, 1), "execs_per_cpu_s": None, "corpus": 0, "libfuzzer": {},
        "implementations": impls,
        "findings": [{"title": f"{k.op}: {k.how}", "file": s.file, "key": dataclasses.asdict(k),
                      "after_s": report.first_mismatch_after, "execs": None}
                     for k, s in report.keys.items() if not k.is_note],
        "coverage": summarize(config.impls, directory) if config.report else {}, "out": str(config.out),
    }
    (config.out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return index


def print_summary(index: dict[str, Any], out: Any = None) -> None:
    out = out or sys.stdout
    per_cpu = f", {index['execs_per_cpu_s']:,.0f} per CPU-second" if index.get("execs_per_cpu_s") else ""
    print(f"fuzz {' + '.join(index['impls'])}: {index['execs']:,} execs in {index['duration_s']}s "
          f"({index['execs_per_s']:,.0f}/s{per_cpu}), corpus {index['corpus']}, {len(index['findings'])} finding(s), "
          f"seed {index['seed']}", file=out)
    lines = {c["name"]: c for c in index.get("coverage", {}).get("implementations", [])}
    for impl in index["implementations"]:
        edges = impl["edges"] if impl["edges"] is not None else "-"
        cov = lines.get(impl["name"])
        reach = (f", lines {cov['lines_covered']}/{cov['lines_total']} ({cov['percent']:.1f}%) of {cov['scope']}"
                 if cov and cov.get("lines_total") else "")
        print(f"  {for_terminal(impl['name'])}: {impl['kind']} coverage, {edges} edges{reach}", file=out)
    for finding in index["findings"]:
        print(f"  FINDING {for_terminal(str(finding['title']))} -> {finding['file']}", file=out)
        print(f"    python -m harness replay {finding['file']} --impl {index['impls'][-1]}", file=out)
    if not index["findings"]:
        print("  no finding", file=out)


def _slug(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", spec)[:60]


def open_all(specs: tuple[str, ...], options: Options, report: Path | None = None) -> list[CoverageAdapter]:
    out: list[CoverageAdapter] = []
    names: set[str] = set()
    try:
        for spec in specs:
            out.append(open_coverage_adapter(spec, options, report=report / _slug(spec) if report else None,
                                             taken=names))
    except AdapterError:
        for adapter in out:
            adapter.close()
        raise
    return out
