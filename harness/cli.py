"""Command line: ``python -m harness [run] --impl X``, ``matrix``, ``merge``, ``list``, ``serve``,
``bench``, ``vectors``.

Exit codes: 0 = no new failure at the --fail-on level and no error; 1 = failures; 2 = usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import __version__
from .adapters.base import AdapterError
from .catalogue import all_cases, select
from .expectations import FAIL_ON
from .registry import REGISTRY, Options, expand, open_adapter
from .report import apply_gate, document, update_expectations
from .report import merge as merge_documents
from .sfu.cli import add_media_parser, media_command

if TYPE_CHECKING:
    from .matrix import Matrix

DEFAULT_EXPECTATIONS = Path(__file__).resolve().parent.parent / "expectations"

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


def _add_outputs(parser: argparse.ArgumentParser) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m harness", description="SFrame (RFC 9605) conformance harness")
    parser.add_argument("--version", action="version", version=f"sframe-conformance {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="run the catalogue against implementations (the default command)")
    _add_impl(run, repeat=True)
    _add_selection(run)
    run.add_argument("--matrix", action="store_true", help="also run the interop matrix over the same implementations")
    run.add_argument("--media", action="store_true",
                     help="also run the media scenarios (browser <-> aiortc SFU, 2 s each) when Chromium is installed")
    _add_outputs(run)
    run.add_argument("--quiet", "-q", action="store_true", help="summary line only")

    matrix = sub.add_parser("matrix", help="N x N interop matrix: every implementation encrypts, every other decrypts")
    matrix.add_argument("--impl", action="append", metavar="NAME", help="implementation (repeatable; default: all)")
    matrix.add_argument("--timeout", type=float, default=5.0, metavar="S", help="per-request timeout (default 5)")
    matrix.add_argument("--suite", type=int, action="append", metavar="N", help="suite (repeatable; default: 1-8)")
    _add_outputs(matrix)

    merge = sub.add_parser("merge", help="combine results.json files from separate jobs into one report")
    merge.add_argument("files", type=Path, nargs="+", metavar="RESULTS_JSON")
    _add_outputs(merge)

    lst = sub.add_parser("list", help="print the catalogue: id, requirements, level, title")
    _add_selection(lst)

    serve = sub.add_parser("serve", help="expose an implementation over wire protocol v1 on stdio")
    _add_impl(serve)

    bench = sub.add_parser("bench", help="throughput, latency and overhead against same-run baselines")
    bench.add_argument("--impl", dest="impls", action="append", metavar="NAME",
                       help="implementation (repeatable; default: every built one but the browsers)")
    bench.add_argument("--suite", type=int, action="append", metavar="N", help="suite (repeatable; default 1-8)")
    bench.add_argument("--quick", action="store_true", help="a tiny budget: suites 1 and 4, small frames, 1 repeat")
    bench.add_argument("--repeats", type=int, default=3)
    bench.add_argument("--json", type=Path, metavar="PATH", help="write bench JSON here")
    bench.add_argument("--out", type=Path, metavar="DIR",
                       help="write bench.json, index.html and plots to DIR/<timestamp>/ and point DIR/latest at it")

    vec = sub.add_parser("vectors", help="regenerate or check vectors/generated")
    group = vec.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")

    replay = sub.add_parser("replay", help="run one reproducer file (sframe-conformance-repro/v1) and grade it")
    replay.add_argument("file", type=Path, metavar="FILE")
    _add_impl(replay)

    diff = sub.add_parser("difffuzz", help="differential fuzzing: every implementation runs the same generated ops")
    _add_impl(diff, repeat=True)
    diff.add_argument("--max-time", type=float, default=60.0, metavar="S", help="campaign length (default 60)")
    diff.add_argument("--max-cases", type=int, metavar="N", help="stop after N cases")
    diff.add_argument("--seed", type=int, default=0, metavar="N", help="generator seed (default 0)")
    diff.add_argument("--batch", type=int, default=256, metavar="N", help="requests per pipelined batch")
    diff.add_argument("--out", type=Path, metavar="DIR", help="findings directory (default fuzz/findings/difffuzz)")

    props = sub.add_parser("properties", help="format-agnostic hypothesis properties through the adapter interface")
    _add_impl(props)
    props.add_argument("--seed", type=int, metavar="N", help="hypothesis seed (default: fixed 0; see --random)")
    props.add_argument("--random", action="store_true", help="a random seed, for campaigns")
    props.add_argument("--max-examples", type=int, default=100, metavar="N", help="examples per property")
    props.add_argument("--only", action="append", metavar="NAME", help="run only this property (repeatable)")
    props.add_argument("--out", type=Path, metavar="DIR", help="findings directory (default fuzz/findings/properties)")

    fuzz = sub.add_parser("fuzz", help="coverage-guided atheris campaign on one fuzz/ target")
    fuzz.add_argument("--target", required=True, metavar="NAME", help="header, decrypt or context")
    fuzz.add_argument("--max-time", type=int, metavar="S", help="campaign length in seconds")
    fuzz.add_argument("--runs", type=int, metavar="N", help="number of inputs to run")
    fuzz.add_argument("--jobs", type=int, default=1, metavar="N", help="parallel libFuzzer workers (fork mode)")

    corpus = sub.add_parser("corpus", help="seed, merge or minimise a fuzz target's corpus")
    corpus.add_argument("action", choices=("seed", "merge", "minimise"))
    corpus.add_argument("--target", required=True, metavar="NAME", help="header, decrypt or context")
    corpus.add_argument("--from", dest="dirs", type=Path, action="append", default=[], metavar="DIR",
                        help="merge/minimise: another corpus to fold into the target's (repeatable)")
    add_media_parser(sub)
    return parser




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
    from .reporters.console import print_summary, summary_line
    from .runner import Progress, run

    cases = select(all_cases(), args.only, args.exclude)
    if not cases:
        raise UsageError("no case matches the --only/--exclude selection")
    specs = _expand(args.impl)
    results = []
    for spec in specs:
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
    matrix = _run_matrix(specs, args.timeout, None) if args.matrix else None
    doc = document(results, matrix)
    if args.media:
        media = _run_media()
        if media is not None:
            doc["media"] = media
    return _finish(doc, args)


def _run_media() -> dict | None:
    """A short media run for the report; its own failures fail the run through the gate."""
    from .adapters.browser import unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        print(f"harness: media: {reason}", file=sys.stderr)
        return None
    from .sfu.media import MediaOptions, run_media

    result = run_media(MediaOptions(seconds=2.0, prebuilt_frames=30), open_adapter)
    print(f"media: {sum(s['ok'] for s in result['scenarios'])}/{len(result['scenarios'])} scenarios ok "
          f"in {result['total_seconds']}s")
    return result


def _expand(specs: list[str] | None) -> list[str]:
    expanded, notes = expand(specs or ["all"])
    for note in notes:
        print(f"harness: {note}", file=sys.stderr)
    if not expanded:
        raise UsageError("no implementation is available (run `make build`)")
    return expanded


def _run_matrix(specs: list[str], timeout: float, suites: list[int] | None) -> "Matrix":
    from contextlib import ExitStack

    from .matrix import SUITES, run_matrix

    with ExitStack() as stack:
        adapters = [stack.enter_context(open_adapter(s, Options(timeout=timeout))) for s in specs]
        matrix = run_matrix(adapters, suites or SUITES)
    counts = Counter(c.status for c in matrix.cells)
    print(f"matrix: {len(specs)} implementations x {len(matrix.suites)} suites, {len(matrix.cells)} cells, "
          f"{matrix.frames} frames each: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
          + f" in {matrix.duration:.2f}s")
    bad = [c for c in matrix.cells if c.status in ("fail", "error")]
    for cell in bad[:5]:
        print(f"  {cell.status.upper()} {cell.key}: {cell.failures[0] if cell.failures else ''}")
    if len(bad) > 5:
        print(f"  ... and {len(bad) - 5} more failing cells (see the report)")
    return matrix


def _cmd_matrix(args: argparse.Namespace) -> int:
    bad = [s for s in args.suite or [] if not 1 <= s <= 8]
    if bad:
        raise UsageError(f"--suite {bad[0]}: suites are 1 to 8")
    return _finish(document([], _run_matrix(_expand(args.impl), args.timeout, args.suite)), args)


def _cmd_merge(args: argparse.Namespace) -> int:
    documents = []
    for path in args.files:
        try:
            documents.append(json.loads(path.read_text()))
        except OSError as e:
            raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
        except ValueError:
            raise UsageError(f"{path} is not JSON") from None
    try:
        doc = merge_documents(documents)
    except (ValueError, KeyError) as e:
        raise UsageError(f"cannot merge: {e}") from None
    print(f"merged {len(args.files)} files: {len(doc['runs'])} runs, "
          f"{len((doc.get('matrix') or {}).get('cells', []))} matrix cells")
    return _finish(doc, args)


def _finish(doc: dict, args: argparse.Namespace) -> int:
    """Apply the gate, write every requested output, and give the exit code."""
    from .report import findings
    from .reporters import REPORT_FILES, REPORTERS

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
        _print_gate(run["implementation"]["name"], run["gate"], args.expectations)
    if doc.get("matrix"):
        _print_gate("matrix", doc["matrix"]["gate"], args.expectations)
    outputs = {name: getattr(args, name) for name in REPORTERS}
    try:
        if args.out is not None:
            directory = _report_dir(args.out)
            outputs = {name: outputs[name] or directory / file for name, file in REPORT_FILES.items()}
            if doc.get("matrix"):
                from .reporters.plot import write_matrix_images

                write_matrix_images(doc["matrix"], directory)
            print(f"reports written to {directory}")
        for name, path in outputs.items():
            if path is not None:
                REPORTERS[name](doc, path)
    except OSError as e:
        raise UsageError(f"cannot write {e.filename}: {e.strerror or e}") from None
    return EXIT_FAIL if doc["exit_code"] else EXIT_OK


def _print_gate(name: str, gate: dict, directory: Path | None) -> None:
    if directory is None and not gate["expected_failures"]:
        return
    line = f"gate {name}: {len(gate['new_failures'])} new failures, {gate['expected_failures']} expected"
    if gate["unexpected_passes"]:
        line += f", {len(gate['unexpected_passes'])} unexpected passes (e.g. {gate['unexpected_passes'][0]})"
    if gate["new_failures"]:
        line += f"; first new: {gate['new_failures'][0]}"
    print(line)


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

    if args.repeats < 1 or any(not 1 <= x <= 8 for x in args.suite or []):
        raise UsageError("--repeats must be >= 1 and --suite 1 to 8")
    specs = args.impls or [s for s in _expand(["all"]) if not s.startswith("browser")]
    if args.quick:
        sizes = {k: v for k, v in bench.SIZES.items() if k in ("audio", "video-packet")}
        params = dict(suites=args.suite or [1, 4], sizes=sizes, budget_bytes=40_000, repeats=1, latency_ops=10,
                      transport_ops=200)
    else:
        params = dict(suites=args.suite or list(range(1, 9)), sizes=bench.SIZES, budget_bytes=2_000_000,
                      repeats=args.repeats)
    try:
        report = bench.run_bench(specs, **params)
    except RuntimeError as e:
        print(f"harness: {e}", file=sys.stderr)
        return EXIT_FAIL
    bench.print_report(report)
    try:
        if args.json:
            from .reporters.json_report import write_json

            write_json(report, args.json)
        if args.out:
            from .reporters.html import write_html
            from .reporters.json_report import write_json
            from .reporters.plot import write_bench_images

            directory = _report_dir(args.out)
            write_json(report, directory / "bench.json")
            images = write_bench_images(report, directory)
            write_html(apply_gate(document([], extra={"bench": report})), directory / "index.html", images)
            print(f"reports written to {directory}")
    except OSError as e:
        raise UsageError(f"cannot write {e.filename}: {e.strerror or e}") from None
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


def _cmd_replay(args: argparse.Namespace) -> int:
    from .grading import Grade
    from .repro import ReproError, load_repro, run_case

    if not args.impl:
        raise UsageError("replay needs --impl NAME")
    try:
        case = load_repro(args.file)
    except ReproError as e:
        raise UsageError(str(e)) from None
    with open_adapter(args.impl, Options(timeout=args.timeout)) as adapter:
        outcome = run_case(adapter, case)
    print(f"{case.id}: {outcome.grade.value}" + (f": {outcome.detail}" if outcome.detail else ""))
    return EXIT_OK if outcome.grade in (Grade.PASS, Grade.NON_STRICT) else EXIT_FAIL


def _cmd_difffuzz(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from . import difffuzz

    if not args.impl or len(args.impl) < 2:
        raise UsageError("difffuzz needs at least two --impl")
    if args.max_time <= 0 or args.batch < 1:
        raise UsageError("--max-time must be > 0 and --batch >= 1")
    config = difffuzz.Config(max_time=args.max_time, max_cases=args.max_cases, seed=args.seed, batch=args.batch,
                             out=args.out or difffuzz.DEFAULT_OUT)
    with ExitStack() as stack:
        adapters = [stack.enter_context(open_adapter(spec, Options(timeout=args.timeout))) for spec in args.impl]
        report = difffuzz.campaign(adapters, config)
    difffuzz.print_report(report)
    return EXIT_FAIL if report.mismatches else EXIT_OK


def _cmd_properties(args: argparse.Namespace) -> int:
    import random

    from . import properties

    if not args.impl:
        raise UsageError("properties needs --impl NAME")
    names = args.only or list(properties.PROPERTIES)
    unknown = [n for n in names if n not in properties.PROPERTIES]
    if unknown:
        raise UsageError(f"unknown property {unknown[0]!r}; known: {', '.join(properties.PROPERTIES)}")
    seed = random.randrange(1 << 32) if args.random else (args.seed or 0)
    config = properties.Config(seed=seed, max_examples=args.max_examples, out=args.out or properties.DEFAULT_OUT)
    with open_adapter(args.impl, Options(timeout=args.timeout)) as adapter:
        report = properties.check(adapter, names, config)
    properties.print_report(report)
    return EXIT_FAIL if report.findings else EXIT_OK


def _cmd_fuzz(args: argparse.Namespace) -> int:
    from . import libfuzzer

    try:
        return libfuzzer.campaign(args.target, max_time=args.max_time, runs=args.runs, jobs=args.jobs)
    except libfuzzer.FuzzUsageError as e:
        raise UsageError(str(e)) from None


def _cmd_corpus(args: argparse.Namespace) -> int:
    from . import libfuzzer

    try:
        return libfuzzer.corpus_command(args.action, args.target, args.dirs)
    except libfuzzer.FuzzUsageError as e:
        raise UsageError(str(e)) from None


# One entry per subcommand of build_parser(); an argv not starting with one of these is `run`.
HANDLERS = {"run": _cmd_run, "list": _cmd_list, "serve": _cmd_serve, "bench": _cmd_bench, "vectors": _cmd_vectors,
            "matrix": _cmd_matrix, "merge": _cmd_merge, "replay": _cmd_replay, "difffuzz": _cmd_difffuzz,
            "properties": _cmd_properties, "fuzz": _cmd_fuzz, "corpus": _cmd_corpus, "media": media_command}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in HANDLERS and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "run")
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            raise UsageError("nothing to do: give --impl NAME or a command (run, list, serve, vectors)")
        if args.command in ("run", "serve") and not args.impl:
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
