"""The wheel an implementer installs: built from this checkout, installed into a
fresh venv, run outside the checkout, it grades like the in-process run.

The venv borrows the dependencies from the project's venv (a .pth line) and
installs the wheel itself with --no-deps, so the test needs no download but
the build backend (setuptools, which pip caches).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.adapters.inprocess import PythonAdapter
from harness.catalogue import all_cases
from harness.engine.results import Results
from harness.engine.runner import run
from harness.model.grading import Grade
from harness.model.repro import write_repro
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _sh(argv: list[str | Path], cwd: Path, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc


# Build outputs and local state, left out when the checkout is not a git repository (an unpacked archive).
_NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "target", "node_modules", "__pycache__", "reports",
                                     "*.egg-info", ".pytest_cache", ".hypothesis")


def _source_copy(dest: Path) -> Path:
    """What git would commit from the working tree (tracked and untracked, not ignored): no build outputs."""
    listing = _sh(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT, check=False)
    if listing.returncode != 0:
        shutil.copytree(ROOT, dest, symlinks=True, ignore=_NOT_SOURCE)
        return dest
    for name in filter(None, listing.stdout.split("\0")):
        src, dst = ROOT / name, dest / name
        if not src.is_symlink() and not src.is_file():
            continue  # deleted in the working tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        else:
            dst.write_bytes(src.read_bytes())
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("wheel")
    source = _source_copy(tmp / "src")
    _sh([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp / "dist", source], tmp)
    (wheel,) = (tmp / "dist").glob("sframe_conformance-*.whl")
    venv = tmp / "venv"
    _sh([sys.executable, "-m", "venv", "--without-pip", venv], tmp)
    python = venv / "bin" / "python"
    _sh([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel], tmp)
    purelib = _sh([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp).stdout.strip()
    (Path(purelib) / "_sframe_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp / "implementer"  # outside the checkout, as in an implementer's repository
    work.mkdir()
    return {"python": python, "harness": venv / "bin" / "sframe-harness", "work": work, "site": Path(purelib)}


def test_wheel_ships_the_vectors_and_is_not_the_checkout(installed):
    out = _sh([installed["python"], "-c", "import harness.locations as l; print(l.VECTORS, l.in_checkout())"],
              installed["work"]).stdout.split()
    assert out == [str(installed["site"] / "harness" / "vectors"), "False"]
    shipped = installed["site"] / "harness" / "vectors"
    assert not shipped.is_symlink() and (shipped / "README.md").is_file()  # the provenance comes along
    for folder in ("rfc9605", "generated", "mls"):
        names = {p.name for p in (ROOT / "vectors" / folder).glob("*.json")}
        assert names and {p.name for p in (shipped / folder).glob("*.json")} == names, folder


def test_catalogue_from_the_wheel_grades_like_in_process(installed):
    work = installed["work"]
    shim = f"cmd:{installed['python']} -m harness serve --impl python"
    proc = _sh([installed["harness"], "--impl", shim, "-q", "--json", "r.json", "--junit", "r.xml", "--html", "r.html"],
               work)
    expected = {o.case.id: o.grade for o in run(PythonAdapter(), all_cases()).outcomes}
    assert f"{len(expected)} cases" in proc.stdout
    (got,) = Results.from_json(json.loads((work / "r.json").read_text())).runs
    assert {c.id: c.grade for c in got.cases} == expected
    assert len(list(ET.parse(work / "r.xml").getroot().iter("testcase"))) == len(expected)
    assert "SFrame (RFC 9605) conformance" in (work / "r.html").read_text()


def test_checkout_only_implementations_say_so_in_one_line(installed):
    for name in ("c", "js", "medooze", "rust-ring", "browser-js"):
        proc = _sh([installed["harness"], "--impl", name, "-q"], installed["work"], check=False)
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "only available in a checkout" in proc.stderr, proc.stderr
    proc = _sh([installed["harness"], "--impl", "all", "-q", "--only", "rfc9605/*"], installed["work"])
    assert proc.stdout.startswith("python: ") and "only available in a checkout" in proc.stderr


def test_matrix_difffuzz_and_replay_from_the_wheel(installed, tmp_path):
    work, harness = installed["work"], installed["harness"]
    shim = f"cmd:{installed['python']} -m harness serve --impl python"
    _sh([harness, "matrix", "--impl", "python", "--impl", shim, "--suite", "1", "--json", "m.json"], work)
    matrix = Results.from_json(json.loads((work / "m.json").read_text())).matrix
    assert matrix is not None and len(matrix.cells) >= 4 and {c.grade for c in matrix.cells} == {Grade.PASS}
    # Exit 0: the wheel's python and the same python over the wire protocol never disagree.
    _sh([harness, "difffuzz", "--impl", "python", "--impl", shim, "--max-cases", "300", "--max-time", "30",
         "--out", tmp_path / "findings"], work)
    repro = write_repro(tmp_path / "case.json", all_cases()[0])
    proc = _sh([harness, "replay", repro, "--impl", shim], work)
    assert proc.stdout.strip().endswith(": pass")
