"""What every command shares: usage errors, exit codes, the --impl/--only/--out options,
and the one path from a results document to the gate, the outputs and the exit code.

Rules: a command module registers its own subparser (``register``) and never
prints a traceback for bad input: it raises ``UsageError`` with one line
(``seconds`` and ``count`` are the argparse types that refuse NaN, infinities
and negatives). Every ``--impl`` is checked before anything runs; one that then
fails to start or to answer ``hello`` becomes a row of errors
(``open_for_run``), never the end of the other implementations' results.
Reports are written atomically: each file under a temporary name renamed into
place, an ``--out`` report into a fresh directory that ``latest`` points at
only once it is complete, so an interrupted run leaves the previous report.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

from ..adapters.base import Adapter, AdapterError, FailedAdapter
from ..adapters.registry import REGISTRY, Options, expand, open_adapter, program_name, split_name, unique_name
from ..engine.gate import FAIL_ON, Gate
from ..engine.results import Results, apply_gate, update_expectations
from ..locations import EXPECTATIONS
from ..model.text import for_terminal

DEFAULT_EXPECTATIONS = EXPECTATIONS

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    commands: frozenset[str] = frozenset()  # the subcommand names, set by build_parser

    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the message names the problem.
        raise UsageError(f"{message} (see --help)")


def add_impl(parser: argparse.ArgumentParser, repeat: bool = False) -> None:
    # Checked after parsing, so that an unknown flag is reported as such rather than as a missing --impl.
    parser.add_argument("--impl", action="append" if repeat else "store", metavar="NAME",
                        help=f"implementation: {', '.join(REGISTRY)}, or cmd:COMMAND")
    parser.add_argument("--timeout", type=seconds, default=5.0, metavar="S", help="per-request timeout (default 5)")


MAX_SECONDS = 7 * 24 * 3600.0


def seconds(text: str) -> float:
    """An argparse type: a duration in seconds, finite and above 0 (NaN would make every wait spin)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of seconds: {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= MAX_SECONDS):
        raise argparse.ArgumentTypeError(f"seconds must be above 0 and at most {MAX_SECONDS:g}, got {text!r}")
    return value


def count(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", action="append", metavar="PATTERN",
                        help="keep cases whose id, requirement id or flag matches (glob; repeatable)")
    parser.add_argument("--exclude", action="append", metavar="PATTERN", help="drop matching cases (repeatable)")


def add_outputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, metavar="PATH", help="write results JSON here")
    parser.add_argument("--junit", type=Path, metavar="PATH", help="write JUnit XML here")
    parser.add_argument("--html", type=Path, metavar="PATH", help="write the HTML report here")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write results.json, junit.xml, index.html (and matrix images) to a fresh "
                             "DIR/<timestamp>-<id>/ and point DIR/latest at it once complete")
    parser.add_argument("--fail-on", choices=FAIL_ON, default="must",
                        help="failure level that fails the run (default: must; errors always fail)")
    parser.add_argument("--fail-untested", action="store_true",
                        help="also fail when a requirement at the --fail-on levels was untested (its cases all "
                             "unsupported or error), unless DIR/<impl>.toml lists it under [untested]")
    parser.add_argument("--expectations", type=Path, metavar="DIR",
                        help="known failures (DIR/<impl>.toml, DIR/matrix.toml): only new failures fail the run")
    parser.add_argument("--update-expectations", action="store_true",
                        help="rewrite the expectation files from this run (default DIR: expectations/)")


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write(temporary path)`` next to ``path``, then rename it over ``path``: a reader sees
    the old file or the whole new one. A path that is not a regular file (/dev/stdout, a FIFO)
    is written in place, since renaming over it would replace the device."""
    target = path.resolve() if path.is_symlink() else path
    if target.exists() and not target.is_file():
        write(target)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def report_dir(out: Path) -> Path:
    """A fresh directory for one report: DIR/<UTC timestamp>-<unique id>, never shared by two runs."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    directory = Path(tempfile.mkdtemp(prefix=f"{stamp}-", dir=out))
    directory.chmod(0o755)
    return directory


def point_latest(out: Path, directory: Path) -> None:
    """Switch DIR/latest to ``directory`` in one rename (a new symlink renamed over the old)."""
    link = out / f".latest-{directory.name}"
    link.unlink(missing_ok=True)
    link.symlink_to(directory.name)
    try:
        os.replace(link, out / "latest")
    except BaseException:
        link.unlink(missing_ok=True)
        raise


def check_specs(specs: list[str]) -> None:
    """Every --impl names something that can be tried, before anything runs: an unknown name, an
    unbuilt implementation or a command line that does not parse is a usage error."""
    for spec in specs:
        name, rest = split_name(spec)
        if rest == "all" and name is None:
            continue
        if rest.startswith("cmd:"):
            command = rest[4:].strip()
            if not command:
                raise UsageError("cmd: needs a command line, e.g. cmd:'./my-shim --flag'")
            try:
                shlex.split(command)
            except ValueError as e:
                raise UsageError(f"--impl {for_terminal(spec)!r}: cannot parse the command line: {e}") from None
            continue
        impl = REGISTRY.get(rest)
        if impl is None:
            known = ", ".join(sorted(REGISTRY))
            raise UsageError(f"unknown implementation {for_terminal(spec)!r}; known: {known}, or cmd:COMMAND")
        if (reason := impl.unavailable()) is not None:
            raise UsageError(reason)


def open_for_run(spec: str, options: Options, taken: set[str] | None = None, suites: Sequence[int] = ()) -> Adapter:
    """The adapter for ``spec``, or, when it cannot start or answer hello, a FailedAdapter whose
    cases are all errors with the reason (said once here), so the other implementations' results stand."""
    try:
        return open_adapter(spec, options, taken)
    except AdapterError as e:
        name, rest = split_name(spec)
        if name is None:
            name = program_name("", rest[4:].strip()) if rest.startswith("cmd:") else rest
        print(f"harness: {for_terminal(spec)}: {for_terminal(e)}; its cases are graded error", file=sys.stderr)
        return FailedAdapter(unique_name(name, taken) if taken is not None else name, str(e), suites)


def expand_specs(specs: list[str] | None) -> list[str]:
    check_specs(specs or [])
    expanded, notes = expand(specs or ["all"])
    for note in notes:
        print(f"harness: {note}", file=sys.stderr)
    if not expanded:
        raise UsageError("no implementation is available (run `make build`)")
    return expanded


def finish(doc: Results, args: argparse.Namespace) -> int:
    """Apply the gate, write every requested output, and give the exit code."""
    from ..fuzz.findings import findings

    if "fuzz" not in doc.extras and (found := findings()):
        doc.extras["fuzz"] = found

    fail_untested = getattr(args, "fail_untested", False)
    try:
        if args.update_expectations:
            for path in update_expectations(doc, args.expectations or DEFAULT_EXPECTATIONS, args.fail_on,
                                            fail_untested):
                print(f"wrote {path}")
        apply_gate(doc, args.fail_on, args.expectations or (DEFAULT_EXPECTATIONS if args.update_expectations else None),
                   fail_untested)
    except ValueError as e:
        raise UsageError(str(e)) from None
    except OSError as e:  # an expectation file that is a directory, an unwritable expectations directory
        raise UsageError(f"expectations: cannot use {e.filename}: {e.strerror or e}") from None
    for run in doc.runs:
        if run.gate is not None:
            print_gate(run.implementation, run.gate, args.expectations)
    if doc.matrix_gate is not None:
        print_gate("matrix", doc.matrix_gate, args.expectations)
    write_outputs(doc, args)
    return EXIT_FAIL if doc.exit_code else EXIT_OK


def write_outputs(doc: Results, args: argparse.Namespace) -> None:
    """Every requested output, each atomically; an --out report in a fresh directory that becomes
    DIR/latest only once complete (on any failure or Ctrl-C it is removed, and latest is untouched)."""
    from ..reporters import REPORT_FILES, REPORTERS

    outputs: dict[str, Path | None] = {name: getattr(args, name) for name in REPORTERS}
    directory: Path | None = None
    current: Path | None = None
    try:
        if args.out is not None:
            current = args.out
            directory = report_dir(args.out)
            outputs = {name: outputs[name] or directory / file for name, file in REPORT_FILES.items()}
            if doc.matrix is not None:
                from ..reporters.plot import write_matrix_images

                write_matrix_images(doc.matrix, directory)
        for name, target in outputs.items():
            if target is not None:
                current = target
                write_atomically(target, functools.partial(REPORTERS[name], doc))
        if directory is not None:
            current = args.out / "latest"
            point_latest(args.out, directory)
            written, directory = directory, None
            print(f"reports written to {written}")
    except BaseException as e:
        if directory is not None:  # not yet pointed at: the previous report stays the latest
            shutil.rmtree(directory, ignore_errors=True)
        if isinstance(e, OSError):
            raise UsageError(f"cannot write {current}: {e.strerror or e}") from None
        raise


def print_gate(name: str, gate: Gate, directory: Path | None) -> None:
    name = for_terminal(name)
    if gate.untested:
        print(f"gate {name}: untested requirements fail the gate: {', '.join(gate.untested)}")
    if directory is None and not gate.expected_failures:
        return
    line = f"gate {name}: {len(gate.new_failures)} new failures, {gate.expected_failures} expected"
    if gate.unexpected_passes:
        line += f", {len(gate.unexpected_passes)} unexpected passes (e.g. {for_terminal(gate.unexpected_passes[0])})"
    if gate.new_failures:
        line += f"; first new: {for_terminal(gate.new_failures[0])}"
    print(line)
