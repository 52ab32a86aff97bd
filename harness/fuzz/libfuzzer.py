"""Coverage-guided campaigns on the atheris targets in fuzz/: ``python -m harness fuzz`` and ``corpus``.

Each target ``fuzz/fuzz_<name>.py`` defines ``TestOneInput(data)`` (invariants
inside), ``seeds()`` (built from vectors/, deterministic) and ``to_case(data)``
(the input as a protocol case). Layout:

- ``fuzz/corpus/<name>/``: the working corpus (git-ignored; ``corpus seed`` rebuilds its seeds);
- ``fuzz/dictionaries/<name>.dict``: libFuzzer dictionary;
- ``fuzz/findings/<name>/``: libFuzzer's crash/timeout/oom artifacts, each
  next to ``<artifact>.json``, its reproducer for ``python -m harness replay``.

``--jobs N`` > 1 uses libFuzzer's fork mode (``-fork=N``) so one campaign uses
N cores and survives crashes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from ..locations import FUZZ
from ..model.progress import OnProgress
from ..model.repro import write_repro

TARGETS = ("header", "decrypt", "context")
_ARTIFACT = re.compile(r"^(crash|timeout|oom|leak|slow-unit)-[0-9a-f]+$")


class FuzzUsageError(Exception):
    pass


def target_path(name: str) -> Path:
    if name not in TARGETS:
        raise FuzzUsageError(f"unknown fuzz target {name!r}; known: {', '.join(TARGETS)}")
    return FUZZ / f"fuzz_{name}.py"


def load_target(name: str) -> ModuleType:
    path = target_path(name)
    module_name = f"fuzz_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses in the target look their module up here
    spec.loader.exec_module(module)
    return module


def run_target(test_one_input: Callable[[bytes], None]) -> None:
    """A target's ``main``: start libFuzzer on ``test_one_input`` with this process's arguments."""
    import atheris

    argv = list(sys.argv)
    if not getattr(sys, "frozen", False):
        # libFuzzer's fork, jobs and merge modes re-run argv[0] through the shell, and a
        # .py file is neither executable nor bound to this venv's interpreter: name both.
        argv[0] = f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(argv[0]).resolve()))}"
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


def corpus_dir(name: str) -> Path:
    return FUZZ / "corpus" / name


def findings_dir(name: str) -> Path:
    return FUZZ / "findings" / name


def write_seeds(name: str, directory: Path | None = None) -> int:
    """Write the target's seeds, one file per input named by its SHA-1 (libFuzzer's convention)."""
    directory = directory or corpus_dir(name)
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for data in load_target(name).seeds():
        path = directory / hashlib.sha1(data).hexdigest()
        if not path.exists():
            path.write_bytes(data)
            count += 1
    return count


def _libfuzzer(name: str, args: Sequence[str],
               on_line: Callable[[str], None] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the target under libFuzzer; its output, each line also handed to ``on_line`` as it comes."""
    dictionary = FUZZ / "dictionaries" / f"{name}.dict"
    argv = [sys.executable, str(target_path(name)), *args]
    if dictionary.exists():
        argv.insert(2, f"-dict={dictionary}")
    if on_line is None:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    lines: list[str] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            on_line(line)
    return subprocess.CompletedProcess(argv, proc.returncode, "".join(lines))


_EXECS = re.compile(r"^#(\d+)\s")  # libFuzzer's status lines: "#4096	pulse  cov: ... exec/s: ..."


def progress_reader(on_progress: OnProgress, runs: int | None) -> Callable[[str], None]:
    """An ``on_line`` for ``_libfuzzer`` that reports inputs run and artifacts written so far."""
    state = {"execs": 0, "findings": 0}

    def on_line(line: str) -> None:
        if (m := _EXECS.match(line)) is not None:
            state["execs"] = int(m.group(1))
        elif "Test unit written to" in line:
            state["findings"] += 1
        else:
            return
        on_progress(state["execs"], runs, state["findings"])

    return on_line


def exec_rate(log: str) -> int | None:
    """The last exec/s libFuzzer printed."""
    rates = re.findall(r"exec/s:? (\d+)", log)
    return int(rates[-1]) if rates else None


def save_reproducers(name: str) -> list[Path]:
    """A reproducer next to every artifact that has none yet."""
    target, out = load_target(name), []
    directory = findings_dir(name)
    for artifact in sorted(directory.glob("*")) if directory.exists() else []:
        repro = artifact.with_name(artifact.name + ".json")
        if not _ARTIFACT.match(artifact.name) or repro.exists():
            continue
        data = artifact.read_bytes()
        out.append(write_repro(repro, target.to_case(data), finding={
            "kind": "atheris", "target": name, "artifact": artifact.name, "input": data.hex()}))
    return out


def campaign(name: str, max_time: int | None = None, runs: int | None = None, jobs: int = 1,
             on_progress: OnProgress | None = None) -> int:
    """Run libFuzzer on the target; exit 1 when it found something (reproducers written), else 0."""
    corpus = corpus_dir(name)
    write_seeds(name, corpus)
    findings = findings_dir(name)
    findings.mkdir(parents=True, exist_ok=True)
    args = [str(corpus), f"-artifact_prefix={findings}/", "-print_final_stats=1"]
    if max_time is not None:
        args.append(f"-max_total_time={max_time}")
    if runs is not None:
        args.append(f"-runs={runs}")
    if jobs > 1:
        args.append(f"-fork={jobs}")
    result = _libfuzzer(name, args, progress_reader(on_progress, runs) if on_progress is not None else None)
    sys.stderr.write(result.stdout[-4000:])
    new = save_reproducers(name)
    rate = exec_rate(result.stdout)
    print(f"fuzz {name}: exit {result.returncode}, {rate if rate is not None else '?'} exec/s, "
          f"corpus {sum(1 for _ in corpus.iterdir())} inputs, {len(new)} new finding(s)")
    for path in new:
        print(f"  finding: {path}  (python -m harness replay {path} --impl python)")
    return 1 if new or result.returncode not in (0,) else 0


def corpus_command(action: str, name: str, dirs: Sequence[Path]) -> int:
    corpus = corpus_dir(name)
    if action == "seed":
        print(f"{name}: {write_seeds(name, corpus)} new seed(s) in {corpus}")
        return 0
    missing = [d for d in dirs if not d.is_dir()]
    if missing:
        raise FuzzUsageError(f"not a directory: {missing[0]}")
    if action == "merge" and not dirs:
        raise FuzzUsageError("corpus merge needs at least one DIR to fold in")
    corpus.mkdir(parents=True, exist_ok=True)
    before = sum(1 for _ in corpus.iterdir())
    if action == "merge":
        # -merge=1 adds only inputs that bring new coverage to the first directory.
        result = _libfuzzer(name, ["-merge=1", str(corpus), *map(str, dirs)])
    else:
        # Minimise: merge everything into an empty directory, which keeps a minimal covering subset.
        with tempfile.TemporaryDirectory(prefix=f"corpus-{name}-") as fresh:
            result = _libfuzzer(name, ["-merge=1", fresh, str(corpus), *map(str, dirs)])
            if result.returncode == 0:
                shutil.rmtree(corpus)
                shutil.copytree(fresh, corpus)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-2000:])
        return 1
    print(f"{name}: corpus {before} -> {sum(1 for _ in corpus.iterdir())} inputs ({action})")
    return 0
