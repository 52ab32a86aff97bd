"""What every command shares: usage errors, exit codes, the --impl/--only/--out options,
and the one path from a results document to the gate, the outputs and the exit code.

Rule: a command module registers its own subparser (``register``) and never
prints a traceback for bad input: it raises ``UsageError`` with one line.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

from ..adapters.registry import REGISTRY, expand
from ..engine.gate import FAIL_ON
from ..engine.results import apply_gate, update_expectations
from ..locations import EXPECTATIONS

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
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S", help="per-request timeout (default 5)")


def add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", action="append", metavar="PATTERN",
                        help="keep cases whose id, requirement id or flag matches (glob; repeatable)")
    parser.add_argument("--exclude", action="append", metavar="PATTERN", help="drop matching cases (repeatable)")


def add_outputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, metavar="PATH", help="write results JSON here")
    parser.add_argument("--junit", type=Path, metavar="PATH", help="write JUnit XML here")
    parser.add_argument("--html", type=Path, metavar="PATH", help="write the HTML report here")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write results.json, junit.xml, index.html (and matrix images) to DIR/<timestamp>/ "
                             "and point DIR/latest at it")
    parser.add_argument("--fail-on", choices=FAIL_ON, default="must",
                        help="failure level that fails the run (default: must; errors always fail)")
    parser.add_argument("--expectations", type=Path, metavar="DIR",
                        help="known failures (DIR/<impl>.toml, DIR/matrix.toml): only new failures fail the run")
    parser.add_argument("--update-expectations", action="store_true",
                        help="rewrite the expectation files from this run (default DIR: expectations/)")


def report_dir(out: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    directory = out / stamp
    directory.mkdir(parents=True, exist_ok=True)
    latest = out / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(stamp)
    return directory


def expand_specs(specs: list[str] | None) -> list[str]:
    expanded, notes = expand(specs or ["all"])
    for note in notes:
        print(f"harness: {note}", file=sys.stderr)
    if not expanded:
        raise UsageError("no implementation is available (run `make build`)")
    return expanded


def finish(doc: dict[str, Any], args: argparse.Namespace) -> int:
    """Apply the gate, write every requested output, and give the exit code."""
    from ..fuzz.findings import findings
    from ..reporters import REPORT_FILES, REPORTERS

    if "fuzz" not in doc and (found := findings()):
        doc["fuzz"] = found

    try:
        if args.update_expectations:
            for path in update_expectations(doc, args.expectations or DEFAULT_EXPECTATIONS, args.fail_on):
                print(f"wrote {path}")
        apply_gate(doc, args.fail_on, args.expectations or (DEFAULT_EXPECTATIONS if args.update_expectations else None))
    except ValueError as e:
        raise UsageError(str(e)) from None
    for run in doc["runs"]:
        print_gate(run["implementation"]["name"], run["gate"], args.expectations)
    if doc.get("matrix"):
        print_gate("matrix", doc["matrix"]["gate"], args.expectations)
    outputs = {name: getattr(args, name) for name in REPORTERS}
    try:
        if args.out is not None:
            directory = report_dir(args.out)
            outputs = {name: outputs[name] or directory / file for name, file in REPORT_FILES.items()}
            if doc.get("matrix"):
                from ..reporters.plot import write_matrix_images

                write_matrix_images(doc["matrix"], directory)
            print(f"reports written to {directory}")
        for name, path in outputs.items():
            if path is not None:
                REPORTERS[name](doc, path)
    except OSError as e:
        raise UsageError(f"cannot write {e.filename}: {e.strerror or e}") from None
    return EXIT_FAIL if doc["exit_code"] else EXIT_OK


def print_gate(name: str, gate: dict, directory: Path | None) -> None:
    if directory is None and not gate["expected_failures"]:
        return
    line = f"gate {name}: {len(gate['new_failures'])} new failures, {gate['expected_failures']} expected"
    if gate["unexpected_passes"]:
        line += f", {len(gate['unexpected_passes'])} unexpected passes (e.g. {gate['unexpected_passes'][0]})"
    if gate["new_failures"]:
        line += f"; first new: {gate['new_failures'][0]}"
    print(line)
