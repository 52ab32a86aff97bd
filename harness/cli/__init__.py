"""Command line: ``python -m harness [run] --impl X`` and the other commands.

Rule: one module per command, each registering its own subparser and handler
(``register(sub)``); ``COMMANDS`` below is the one place that lists them, as
pytest lists its plugins. Exit codes: 0 = no new failure at the --fail-on level
and no error; 1 = failures; 2 = usage error, always one line on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .. import __version__
from ..adapters.base import AdapterError
from ..adapters.registry import REGISTRY
from ..model.text import for_terminal, one_line
from . import bench, difffuzz, fuzz, listing, matrix, media, merge, properties, replay, run, serve, timing, vectors
from .common import EXIT_OK, EXIT_USAGE, Parser, UsageError

COMMANDS = (run, matrix, merge, listing, serve, bench, timing, vectors, replay, difffuzz, properties, fuzz, media)


def build_parser() -> Parser:
    parser = Parser(prog="python -m harness", description="SFrame (RFC 9605) conformance harness")
    parser.add_argument("--version", action="version", version=f"sframe-conformance {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    for command in COMMANDS:
        command.register(sub)
    parser.commands = frozenset(sub.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        # Untrusted text is escaped before it is printed (text.for_terminal); this only keeps a
        # character the terminal's encoding lacks from ending the run.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    if argv and argv[0] not in parser.commands and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "run")
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("nothing to do: give --impl NAME or a command (run, list, serve, vectors)")
        if getattr(args, "needs_impl", False) and not args.impl:
            raise UsageError(f"{args.command} needs --impl NAME ({', '.join(REGISTRY)}, or cmd:COMMAND)")
        return int(args.handler(args))
    except (UsageError, AdapterError) as e:
        print(f"harness: error: {for_terminal(one_line(str(e)))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
