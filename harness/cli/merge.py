"""``python -m harness merge``: one report from results.json files written by separate CI jobs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..engine.results import Results, merge
from ..model.text import for_terminal
from .common import UsageError, add_outputs, finish


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("merge", help="combine results.json files from separate jobs into one report")
    parser.add_argument("files", type=Path, nargs="+", metavar="RESULTS_JSON")
    add_outputs(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    documents = []
    for path in args.files:
        try:
            data = json.loads(path.read_text())
        except OSError as e:
            raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
        except (ValueError, RecursionError):
            raise UsageError(f"{path} is not JSON") from None
        try:
            documents.append(Results.from_json(data))
        except ValueError as e:
            # One line naming the file and the field (a crafted or truncated results.json).
            raise UsageError(f"cannot merge {path}: {for_terminal(e)}") from None
    doc = merge(documents)
    print(f"merged {len(args.files)} files: {len(doc.runs)} runs, "
          f"{len(doc.matrix.cells) if doc.matrix else 0} matrix cells")
    return finish(doc, args)
