"""``python -m harness serve --impl NAME``: an implementation over the wire protocol on stdio."""

from __future__ import annotations

import argparse
import sys

from ..adapters.registry import Options, open_adapter
from .common import EXIT_OK, add_impl


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("serve", help="expose an implementation over wire protocol v1 on stdio")
    add_impl(parser)
    parser.set_defaults(handler=handle, needs_impl=True)


def handle(args: argparse.Namespace) -> int:
    from ..adapters.serve import serve

    with open_adapter(args.impl, Options(timeout=args.timeout)) as adapter:
        serve(adapter, sys.stdin.buffer, sys.stdout.buffer)
    return EXIT_OK
