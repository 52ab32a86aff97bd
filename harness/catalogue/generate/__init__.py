"""Deterministic generator for the project's own vectors (``vectors/generated/``).

The official RFC vectors are positive-only and use one KID and CTR (0x123,
0x4567), which hides whole bug classes. These vectors add boundaries, sizes,
negative cases and stateful scenarios. Regenerating must give byte-identical
files (a test checks it)::

    python -m harness vectors --write      # regenerate
    python -m harness vectors --check      # exit 1 if the checked-in files differ

Rules of this package:

- One module per family of vectors, each a set of small builders (``@builder``,
  common.py): ``frames`` (round trips), ``negatives`` (decrypt negatives),
  ``invalid`` (refused inputs), ``header`` (codec), and the stateful
  ``context``, ``ratchet``, ``mls``, ``replay`` (scenario.py has their steps).
  Every test records its builder as ``source``, and its tcId is derived from its
  id (``common.tc_id``).
- Expected values are computed with ``implementations/python`` and every test
  is replayed on the reference it is handed (``new_reference``: the CLI passes
  the in-process adapter; this package never imports ``harness.adapters``).
- Where RFC 9605 leaves a choice, ``policies.py`` runs every test under every
  allowed policy and writes what it finds: the error classes that pass, the
  steps that may be refused, and the reason. No allowance is written by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sframe_py import SUITES

from ...locations import GENERATED_VECTORS
from .common import Group, VectorTest
from .context import context_scenarios
from .frames import roundtrip_group
from .header import header_groups
from .invalid import invalid_input_groups
from .mls import mls_scenarios
from .negatives import decrypt_group
from .notes import NOTES
from .policies import Factory
from .ratchet import ratchet_scenarios
from .record import record_test
from .replay import replay_scenarios
from .scenario import DRAFT_PROFILE, Scenario

SCHEMA = "sframe-conformance-vectors/v1"
GENERATED_DIR = GENERATED_VECTORS


def key_management_scenarios() -> Iterator[Scenario]:
    yield from context_scenarios()
    yield from ratchet_scenarios()
    yield from mls_scenarios()
    yield from replay_scenarios()
    yield from context_scenarios(DRAFT_PROFILE)
    yield from replay_scenarios(DRAFT_PROFILE)


@dataclass(frozen=True)
class VectorFile:
    name: str
    description: str
    groups: Callable[[], list[Group]]


FILES = (
    VectorFile("sframe-roundtrip.json", "Encrypt then decrypt at KID/CTR boundaries, frame sizes and base_key lengths",
               lambda: [roundtrip_group(s) for s in SUITES]),
    VectorFile("sframe-decrypt.json", "Tampered, truncated, re-encoded and misdirected frames that must not decrypt",
               lambda: [decrypt_group(s) for s in SUITES]),
    VectorFile("sframe-invalid-input.json", "Unassigned suites and out-of-range values an implementation must refuse",
               invalid_input_groups),
    VectorFile("header.json", "Header encoding and parsing, every config byte, malformed input", header_groups),
    VectorFile("key-management.json", "Stateful scenarios: counters, key usage, sender-key ratchet, MLS epochs, "
               "replay window", lambda: [Group("KeyManagementScenario", None, [*key_management_scenarios()])]),
)


def _document(file: VectorFile, new_reference: Factory) -> dict[str, Any]:
    groups = file.groups()
    stateless = new_reference()  # flat tests share one reference (and its key cache); a scenario gets fresh ones

    def record(test: VectorTest | Scenario, group: Group) -> dict[str, Any]:
        if isinstance(test, Scenario):
            return test.record(new_reference)
        return record_test(test, group, lambda: stateless)

    out_groups: list[dict[str, Any]] = [{"type": g.type, **({"suite": g.suite} if g.suite is not None else {}),
                                         "tests": [record(t, g) for t in g.tests]} for g in groups]
    tests = [t for g in out_groups for t in g["tests"]]
    used = sorted({f for t in tests for f in t["flags"]})
    return {"schema": SCHEMA, "generator": "python -m harness vectors --write", "description": file.description,
            "numberOfTests": len(tests), "notes": {f: NOTES[f] for f in used}, "testGroups": out_groups}


def documents(new_reference: Factory) -> dict[str, dict[str, Any]]:
    docs = {file.name: _document(file, new_reference) for file in FILES}
    _check_unique([t for doc in docs.values() for g in doc["testGroups"] for t in g["tests"]])
    return docs


def _check_unique(tests: list[dict[str, Any]]) -> None:
    """Ids are unique, and so are tcIds (derived from the ids: a clash means renaming a case)."""
    ids: dict[int, str] = {}
    for t in tests:
        if t["tcId"] in ids:
            twice = ids[t["tcId"]] == t["id"]
            raise AssertionError(f"case id {t['id']} generated twice" if twice else
                                 f"tcId {t['tcId']} of {t['id']} is also {ids[t['tcId']]}'s: rename one of them")
        ids[t["tcId"]] = t["id"]


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1) + "\n"


def write(new_reference: Factory, directory: Path = GENERATED_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, doc in documents(new_reference).items():
        path = directory / name
        path.write_text(render(doc))
        paths.append(path)
    return paths


def stale(new_reference: Factory, directory: Path = GENERATED_DIR) -> list[str]:
    """Names of checked-in files that differ from a fresh generation."""
    return [name for name, doc in documents(new_reference).items()
            if not (directory / name).exists() or (directory / name).read_text() != render(doc)]
