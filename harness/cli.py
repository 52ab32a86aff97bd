"""Command line: ``python -m harness [run] --impl X``, ``list``, ``serve``, ``vectors``.

Exit codes: 0 = no MUST-level failure and no error; 1 = failures; 2 = usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

from . import __version__
from .adapters.base import AdapterError
from .catalogue import all_cases, select
from .registry import REGISTRY, Options, open_adapter

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the message names the problem.
        raise UsageError(f"{message} (see --help)")


def _add_impl(parser: argparse.ArgumentParser, repeat: bool = False) -> None:
    # Checked after parsing, so that an unknown flag is reported as such rather than as a missing --impl.
    parser.add_argument("--impl", action="append" if repeat else "store", metavar="NAME",
                        help=f"implementation: {', '.join(REGISTRY)}, or cmd:COMMAND")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S", help="per-request timeout (default 5)")


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", action="append", metavar="PATTERN",
                        help="keep cases whose id, requirement id or flag matches (glob; repeatable)")
    parser.add_argument("--exclude", action="append", metavar="PATTERN", help="drop matching cases (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m harness", description="SFrame (RFC 9605) conformance harness")
    parser.add_argument("--version", action="version", version=f"sframe-conformance {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="run the catalogue against implementations (the default command)")
    _add_impl(run, repeat=True)
    _add_selection(run)
    run.add_argument("--json", type=Path, metavar="PATH", help="write results JSON here")
    run.add_argument("--junit", type=Path, metavar="PATH", help="write JUnit XML here")
    run.add_argument("--out", type=Path, metavar="DIR",
                     help="write results.json and junit.xml to DIR/<timestamp>/ and point DIR/latest at it")
    run.add_argument("--quiet", "-q", action="store_true", help="summary line only")

    lst = sub.add_parser("list", help="print the catalogue: id, requirements, level, title")
    _add_selection(lst)

    serve = sub.add_parser("serve", help="expose an implementation over wire protocol v1 on stdio")
    _add_impl(serve)

    bench = sub.add_parser("bench", help="adapter throughput against same-run baselines")
    bench.add_argument("--impl", dest="impls", action="append", metavar="NAME",
                       help="subprocess implementations to compare (default: python-subprocess, c, js)")
    bench.add_argument("--size", type=int, default=1024, help="frame size in bytes (default 1024)")
    bench.add_argument("--ops", type=int, default=2000, help="operations per repeat (default 2000)")
    bench.add_argument("--repeats", type=int, default=3)
    bench.add_argument("--json", type=Path, metavar="PATH", help="write bench JSON here")

    vec = sub.add_parser("vectors", help="regenerate or check vectors/generated")
    group = vec.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    return parser


COMMANDS = ("run", "list", "serve", "bench", "vectors")


def _report_dir(out: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    directory = out / stamp
    directory.mkdir(parents=True, exist_ok=True)
    latest = out / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(stamp)
    return directory


def _cmd_run(args: argparse.Namespace) -> int:
    from .reporters import REPORTERS
    from .reporters.console import print_summary, summary_line
    from .runner import Progress, run

    cases = select(all_cases(), args.only, args.exclude)
    if not cases:
        raise UsageError("no case matches the --only/--exclude selection")
    results = []
    for spec in args.impl:
        with open_adapter(spec, Options(timeout=args.timeout)) as adapter:
            result = run(adapter, cases, Progress(len(cases)))
        results.append(result)
        if args.quiet:
            print(summary_line(result))
        else:
            print_summary(result, sys.stdout)
    if len(results) > 1 and not args.quiet:
        print("\nsummary:")
        for result in results:
            print("  " + summary_line(result))
    outputs = {"json": args.json, "junit": args.junit}
    if args.out is not None:
        directory = _report_dir(args.out)
        outputs = {"json": args.json or directory / "results.json", "junit": args.junit or directory / "junit.xml"}
        print(f"reports written to {directory}")
    for name, path in outputs.items():
        if path is not None:
            try:
                REPORTERS[name](results, path)
            except OSError as e:
                raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    return EXIT_FAIL if any(r.failed for r in results) else EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    cases = select(all_cases(), args.only, args.exclude)
    for c in cases:
        print(f"{c.id}\t{','.join(c.requirements)}\t{c.level.value}\t{c.result.value}\t{c.title}")
    reqs = {r for c in cases for r in c.requirements}
    print(f"{len(cases)} cases, {len(reqs)} requirements", file=sys.stderr)
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    with open_adapter(args.impl, Options(timeout=args.timeout)) as adapter:
        serve(adapter, sys.stdin.buffer, sys.stdout.buffer)
    return EXIT_OK


def _cmd_bench(args: argparse.Namespace) -> int:
    from . import bench

    if args.size < 0 or args.ops < 1 or args.repeats < 1:
        raise UsageError("--size must be >= 0, --ops and --repeats >= 1")
    try:
        report = bench.run_bench(args.impls or ["python-subprocess", "c", "js"], args.size, args.ops, args.repeats)
    except RuntimeError as e:
        print(f"harness: {e}", file=sys.stderr)
        return EXIT_FAIL
    bench.print_table(report)
    if args.json:
        bench.write(report, args.json)
    return EXIT_OK


def _cmd_vectors(args: argparse.Namespace) -> int:
    from . import vectorgen

    if args.write:
        for path in vectorgen.write():
            print(f"wrote {path}")
        return EXIT_OK
    stale = vectorgen.stale()
    for name in stale:
        print(f"vectors/generated/{name} differs from a fresh generation", file=sys.stderr)
    return EXIT_FAIL if stale else EXIT_OK


HANDLERS = {"run": _cmd_run, "list": _cmd_list, "serve": _cmd_serve, "bench": _cmd_bench, "vectors": _cmd_vectors}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "run")
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            raise UsageError("nothing to do: give --impl NAME or a command (run, list, serve, vectors)")
        if "impl" in args and not args.impl:
            raise UsageError(f"{args.command} needs --impl NAME ({', '.join(REGISTRY)}, or cmd:COMMAND)")
        return HANDLERS[args.command](args)
    except UsageError as e:
        print(f"harness: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except AdapterError as e:
        print(f"harness: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
