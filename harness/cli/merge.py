"""``python -m harness merge``: one report from results.json files written by separate CI jobs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..engine.results import merge
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
            documents.append(json.loads(path.read_text()))
        except OSError as e:
            raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
        except ValueError:
            raise UsageError(f"{path} is not JSON") from None
    try:
        doc = merge(documents)
    except (ValueError, KeyError) as e:
        raise UsageError(f"cannot merge: {e}") from None
    print(f"merged {len(args.files)} files: {len(doc['runs'])} runs, "
          f"{len((doc.get('matrix') or {}).get('cells', []))} matrix cells")
    return finish(doc, args)
