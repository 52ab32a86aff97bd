"""Which lines and functions of each implementation a corpus reaches.

The corpus (and the seeds) is replayed once through every implementation with
source-level coverage on (``open_coverage_adapter(report=...)``), then:

- native programs built with ``-fprofile-instr-generate -fcoverage-mapping``
  (``c-cov``): ``llvm-profdata merge`` and ``llvm-cov export -format=lcov``;
- Node programs: ``NODE_V8_COVERAGE``'s JSON, and the browser: the final
  ``takePreciseCoverage``; V8 block ranges become lines (below);
- anything else (the in-process Python, rustc builds, whose LLVM is newer than
  the machine's llvm-cov) has edges only, and the report says so.

Rules of this module: a line of JavaScript counts as executable when it holds
code (not blank, not only a comment or a bracket); it is covered when the
innermost V8 range around its first character ran. "Library" files are the
implementation proper (``implementations/c/sframe.c`` and ``sfctx.c``, the
JS ``lib/``), reported apart from its server or shim.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..adapters.registry import REGISTRY, Options
from ..locations import IMPLEMENTATIONS, ROOT
from ..model.text import for_terminal

C_LIBRARY = ("sframe.c", "sfctx.c")
SHOWN_UNCOVERED = 80  # uncovered line ranges listed per file
_NOT_CODE = re.compile(r"^\s*(?://.*|/?\*.*|[{}()\[\];,]*)\s*$")


@dataclass
class FileCoverage:
    path: str
    library: bool
    lines: dict[int, int] = field(default_factory=dict)  # executable line -> hits
    functions: dict[str, int] = field(default_factory=dict)  # name -> hits

    def merge(self, other: FileCoverage) -> None:
        for line, hits in other.lines.items():
            self.lines[line] = self.lines.get(line, 0) + hits
        for name, hits in other.functions.items():
            self.functions[name] = self.functions.get(name, 0) + hits

    def to_json(self) -> dict[str, Any]:
        uncovered = sorted(line for line, hits in self.lines.items() if not hits)
        return {"path": self.path, "library": self.library, "lines_total": len(self.lines),
                "lines_covered": sum(1 for h in self.lines.values() if h),
                "functions_total": len(self.functions), "functions_covered": sum(1 for h in self.functions.values() if h),
                "uncovered_lines": _ranges(uncovered)[:SHOWN_UNCOVERED],
                "uncovered_functions": sorted(n for n, h in self.functions.items() if not h)}


def _ranges(lines: list[int]) -> list[str]:
    out: list[list[int]] = []
    for line in lines:
        if out and line == out[-1][1] + 1:
            out[-1][1] = line
        else:
            out.append([line, line])
    return [f"{a}" if a == b else f"{a}-{b}" for a, b in out]


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return path


# ---------------------------------------------------------------------------
# Native: llvm-cov
# ---------------------------------------------------------------------------


def parse_lcov(text: str) -> dict[str, FileCoverage]:
    files: dict[str, FileCoverage] = {}
    current: FileCoverage | None = None
    for line in text.splitlines():
        tag, _, value = line.partition(":")
        if tag == "SF":
            path = _relative(value)
            current = files.setdefault(path, FileCoverage(path, Path(value).name in C_LIBRARY))
        elif current is None:
            continue
        elif tag == "DA":
            number, _, hits = value.partition(",")
            current.lines[int(number)] = current.lines.get(int(number), 0) + int(hits.split(",")[0])
        elif tag == "FNDA":
            hits, _, name = value.partition(",")
            current.functions[name] = current.functions.get(name, 0) + int(hits)
        elif tag == "FN":
            _, _, name = value.partition(",")
            current.functions.setdefault(name, 0)
        elif tag == "end_of_record":
            current = None
    return files


def native_coverage(binary: Path, profiles: list[Path]) -> dict[str, FileCoverage] | str:
    """Line coverage from llvm profiles, or why there is none."""
    if not profiles:
        return "no llvm profile written (not built with -fprofile-instr-generate)"
    profdata, cov = shutil.which("llvm-profdata"), shutil.which("llvm-cov")
    if profdata is None or cov is None:
        return "llvm-profdata/llvm-cov not installed (apt-get install llvm)"
    with tempfile.TemporaryDirectory(prefix="sframe-llvmcov-") as tmp:
        merged = Path(tmp) / "merged.profdata"
        run = subprocess.run([profdata, "merge", "-sparse", "-o", str(merged), *map(str, profiles)],
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            return f"llvm-profdata failed: {run.stderr.strip()[:300]}"
        export = subprocess.run([cov, "export", "-format=lcov", f"-instr-profile={merged}", str(binary)],
                                capture_output=True, text=True, timeout=120)
        if export.returncode != 0:
            return f"llvm-cov failed: {export.stderr.strip()[:300]}"
    return parse_lcov(export.stdout)


# ---------------------------------------------------------------------------
# JavaScript: V8 ranges
# ---------------------------------------------------------------------------


def v8_lines(source: str, functions: list[dict[str, Any]]) -> tuple[dict[int, int], dict[str, int]]:
    """Executable lines of one script with the count of the innermost range at each, and its functions."""
    ranges = [(r["startOffset"], r["endOffset"], r["count"]) for f in functions for r in f.get("ranges", [])]
    lines: dict[int, int] = {}
    offset = 0
    for number, text in enumerate(source.split("\n"), start=1):
        stripped = len(text) - len(text.lstrip())
        if text.strip() and not _NOT_CODE.match(text):
            at = offset + stripped
            inner = [(end - start, count) for start, end, count in ranges if start <= at < end]
            lines[number] = min(inner)[1] if inner else 0
        offset += len(text) + 1
    names: dict[str, int] = {}
    for f in functions:
        first = (f.get("ranges") or [{}])[0]
        if f.get("functionName") or first.get("startOffset", 0):
            line = source.count("\n", 0, first.get("startOffset", 0)) + 1
            key = f"{f.get('functionName') or '(anonymous)'}:{line}"
            names[key] = names.get(key, 0) + int(first.get("count", 0))
    return lines, names


def _local_path(url: str) -> Path | None:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return Path(urllib.parse.unquote(parsed.path))
    if parsed.scheme in ("http", "https"):
        from ..adapters import browser

        return browser._resolve(parsed.path)  # the static server's own mapping of URLs to files
    return None


def js_coverage(scripts: list[dict[str, Any]], include: tuple[str, ...]) -> dict[str, FileCoverage]:
    files: dict[str, FileCoverage] = {}
    for script in scripts:
        url = script.get("url", "")
        if not any(part in url for part in include):
            continue
        path = _local_path(url)
        if path is None or not path.is_file():
            continue
        lines, functions = v8_lines(path.read_text(errors="replace"), script.get("functions", []))
        cov = FileCoverage(_relative(str(path)), True, lines, functions)
        if cov.path in files:
            files[cov.path].merge(cov)
        else:
            files[cov.path] = cov
    return files


# ---------------------------------------------------------------------------
# The corpus replayed
# ---------------------------------------------------------------------------


def _summary(name: str, files: dict[str, FileCoverage] | str, scope: str) -> dict[str, Any]:
    if isinstance(files, str):
        return {"name": name, "scope": scope, "note": files}
    library = [f for f in files.values() if f.library] or list(files.values())
    total = sum(len(f.lines) for f in library)
    covered = sum(sum(1 for h in f.lines.values() if h) for f in library)
    return {"name": name, "scope": scope, "lines_total": total, "lines_covered": covered,
            "percent": 100.0 * covered / total if total else 0.0,
            "files": [f.to_json() for f in sorted(files.values(), key=lambda f: (not f.library, f.path))]}


def replay(specs: tuple[str, ...], inputs: list[bytes], directory: Path, timeout: float) -> None:
    """Run every input once through every implementation, with report-mode coverage into ``directory``."""
    from ..fuzz.coverage_program import Plan, plan_steps, run_program
    from .coverage_campaign import open_all

    adapters = open_all(specs, Options(timeout=timeout), report=directory)
    try:
        plan = Plan.of(adapters)
        for data in inputs:
            steps = plan_steps(plan.decode(data))
            for adapter in adapters:
                run_program(adapter, steps)
    finally:
        for adapter in adapters:
            adapter.close()


def _slug(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", spec)[:60]


def corpus_coverage(config: Any, log: Any) -> dict[str, Any]:
    """Line and function coverage of each implementation reached by ``config.out``'s corpus and seeds."""
    inputs = [p.read_bytes() for d in ("seeds", "corpus") for p in sorted((config.out / d).glob("*")) if p.is_file()]
    directory = config.out / "coverage"
    shutil.rmtree(directory, ignore_errors=True)
    try:
        replay(tuple(config.impls), inputs, directory, config.timeout)
    except Exception as e:  # noqa: BLE001 - the campaign's findings stand without the report
        print(f"harness: no coverage report: {for_terminal(str(e))}", file=log)
        return {"error": str(e)}
    return {"inputs": len(inputs), **summarize(tuple(config.impls), directory)}


def summarize(specs: tuple[str, ...], directory: Path) -> dict[str, Any]:
    """The line coverage each implementation's processes wrote under ``directory/<spec>/``."""
    from ..adapters.coverage import v8_sources

    out = []
    for spec in specs:
        where = directory / _slug(spec)
        profiles = sorted(where.glob("*.profraw"))
        v8 = [json.loads(p.read_text()) for p in sorted(where.glob("**/coverage-*.json"))]
        cdp = [json.loads(p.read_text()) for p in sorted(where.glob("*-cdp.json"))]
        include = v8_sources(spec) or ("file:",)
        if spec == "python":
            out.append(_summary(spec, "Python: edges by atheris only (no line report)", "sframe_py"))
        elif profiles:
            binary = _binary(spec)
            out.append(_summary(spec, native_coverage(binary, profiles) if binary else "binary not found",
                                "library files " + ", ".join(C_LIBRARY) if _language(spec) == "c" else "all files"))
        elif v8 or cdp:
            scripts = [s for doc in v8 + cdp for s in (doc.get("result") or [])]
            out.append(_summary(spec, js_coverage(scripts, include), "library files (lib/)"))
        else:
            out.append(_summary(spec, "no source-level coverage from this implementation (edges only)", ""))
    return {"implementations": out}


def _language(spec: str) -> str:
    impl = REGISTRY.get(spec)
    return impl.language if impl is not None else ""


def _binary(spec: str) -> Path | None:
    from ..adapters.registry import REGISTRY, split_name

    spec = split_name(spec)[1]
    impl = REGISTRY.get(spec)
    if impl is not None and impl.argv:
        return Path(impl.argv[0])
    if spec.startswith("cmd:"):
        import shlex

        argv = shlex.split(spec[4:])
        found = shutil.which(argv[0]) if argv else None
        return Path(found or argv[0]) if argv else None
    return None
