"""The ratchet known-answer table: each implementation's base_key after 1, 2 and 10 ratchet steps (RFC 9605 §5.1).

``ratchet(base_key) = HKDF-Expand(HKDF-Extract("", base_key), "SFrame 1.0 Ratchet", Nh)``: a label or a
length bug shows at a glance as a value that differs from the expected one, step 1 onwards.

Rules of this module: the expected value is sframe_py's ``ratchet_forward`` from the official vectors'
base_key; an implementation's value is what its ``ratchet_derive`` answers, kept as hex (cut to
``VALUE_LIMIT``) with its length, or the error it gave. Nothing here grades: SK-01's grade is the
catalogue's (``gen/keys/ratchet/suite-*/chain``); the table shows what each one outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sframe_py
from sframe_py import get_suite

from ..adapters.base import Adapter
from ..catalogue.inputs import BASE_KEY
from ..model.wire import Request
from .reading import Reader

STEPS = (1, 2, 10)
VALUE_LIMIT = 256  # hex characters kept of an answer (a 64-byte Nh is 128)
CAPABILITIES = ("ratchet", "ratchet_derive")


@dataclass(frozen=True)
class KatEntry:
    implementation: str
    suite: int
    steps: int
    expected: str  # hex
    value: str | None  # hex, None when the implementation gave an error
    length: int  # bytes of the value (0 with an error)
    error: str = ""  # "class: message" when it refused

    @property
    def agrees(self) -> bool:
        return self.value == self.expected

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"implementation": self.implementation, "suite": self.suite, "steps": self.steps,
                               "expected": self.expected, "value": self.value, "length": self.length,
                               "agrees": self.agrees}
        if self.error:
            out["error"] = self.error
        return out

    @classmethod
    def from_json(cls, r: Reader) -> KatEntry:
        value = r.optional_text("value")
        return cls(r.text("implementation", limit=200), r.integer("suite", high=255), r.integer("steps", high=65536),
                   r.text("expected", limit=VALUE_LIMIT), None if value is None else value[:VALUE_LIMIT],
                   r.integer("length", 0), r.text("error", "", limit=400))


@dataclass
class RatchetKat:
    entries: list[KatEntry] = field(default_factory=list)

    def disagreements(self) -> dict[str, tuple[int, int]]:
        """Per implementation: (entries that differ from the expected value, entries)."""
        out: dict[str, tuple[int, int]] = {}
        for e in self.entries:
            bad, total = out.get(e.implementation, (0, 0))
            out[e.implementation] = (bad + (not e.agrees), total + 1)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"steps": list(STEPS), "entries": [e.to_json() for e in self.entries]}

    @classmethod
    def from_json(cls, r: Reader) -> RatchetKat:
        return cls([KatEntry.from_json(e) for e in r.objects("entries")])

    def merged(self, other: RatchetKat) -> RatchetKat:
        """Both tables; a later file's entry for the same implementation, suite and steps replaces one."""
        keyed = {(e.implementation, e.suite, e.steps): e for e in [*self.entries, *other.entries]}
        return RatchetKat(list(keyed.values()))


def expected(suite: int, steps: int) -> bytes:
    return sframe_py.ratchet_forward(get_suite(suite), BASE_KEY, steps)


def _entries(adapter: Adapter, suites: Sequence[int]) -> list[KatEntry]:
    wanted = [(s, n) for s in suites if s in adapter.hello.suites and s in sframe_py.SUITES for n in STEPS]
    answers = adapter.run([Request("ratchet_derive", {"suite": s, "base_key": BASE_KEY, "steps": n})
                           for s, n in wanted])
    out = []
    for (suite, steps), r in zip(wanted, answers):
        key = r.fields.get("base_key") if r.ok else None
        if isinstance(key, bytes):
            out.append(KatEntry(adapter.name, suite, steps, expected(suite, steps).hex(), key.hex()[:VALUE_LIMIT],
                                len(key)))
        elif not (r.fault is None and r.error == "unsupported"):
            why = r.fault or (f"{r.error}: {r.message}" if not r.ok else "answered without a binary base_key")
            out.append(KatEntry(adapter.name, suite, steps, expected(suite, steps).hex(), None, 0, why[:400]))
    return out


def ratchet_kat(adapters: Sequence[Adapter], suites: Sequence[int]) -> RatchetKat:
    """The table over every implementation that announces a ratchet (one thread each)."""
    takers = [a for a in adapters if any(c in a.hello.capabilities for c in CAPABILITIES)]
    with ThreadPoolExecutor(max_workers=max(1, len(takers))) as pool:
        rows = list(pool.map(lambda a: _entries(a, suites), takers))
    return RatchetKat([e for row in rows for e in row])
