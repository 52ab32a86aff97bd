"""Differential fuzzing across adapters (cryptofuzz-style): ``python -m harness difffuzz``.

A seeded generator makes *recipes* (an op plus the parameters it was built
from); every adapter answers every recipe's request, in pipelined batches, and
the answers are compared:

- outputs that differ, or one implementation accepting what another rejects,
  are **mismatches** (exit 1);
- differences RFC 9605 allows (``model.allowances``) are **notes** only: two
  rejections with different error classes; a non-minimal header parsed by one
  and rejected by another; a refused base_key length other than 16 bytes or the
  suite's Nk (an empty or odd-length key); a refused encryption at CTR 2^64-1.
  Outputs that differ are a mismatch even there: an allowance covers refusing,
  never a wrong answer;
- an ``unsupported`` answer makes that implementation *not comparable* for the
  recipe (medooze has two suites and no metadata; that is not a bug).

Recipes use only the suites every implementation under test supports: a
campaign over implementations with no suite in common is refused
(``NoCommonSuite``, one line, exit 2), not spent on unsupported answers.

A mismatch is shrunk on its recipe (smaller plaintext, CTR, KID, ...) while it
keeps the same dedup key (op, suite, which implementations disagree, how) and
saved once per key as a reproducer (harness/repro.py) under ``--out``
(default ``fuzz/findings/difffuzz/``): ``<key-slug>.json``, plus ``index.json``
(schema ``sframe-conformance-difffuzz/v1``) listing every key seen in the
run, its count and file, the notes, and the measured cases/s. The
reproducer's expectation is the first-listed ``--impl``'s answer, so replaying
it against that implementation passes and against the odd one out fails.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import random
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sframe_py

from ..adapters.base import Adapter
from ..locations import FINDINGS
from ..model.allowances import Allowance, either_way, refusal
from ..model.cases import Case, Expected, Step
from ..model.progress import OnProgress
from ..model.protocol import U64_MAX, to_wire
from ..model.repro import write_repro
from ..model.requirements import Level
from ..model.wire import Request, Response

SCHEMA = "sframe-conformance-difffuzz/v1"
DEFAULT_OUT = FINDINGS / "difffuzz"

# The fields that carry an op's result; anything else (e.g. python's "minimal") is informational.
RESULT_FIELDS = {
    "encrypt": ("ciphertext",),
    "decrypt": ("plaintext",),
    "encode_header": ("header",),
    "decode_header": ("kid", "ctr", "length"),
    # Stateful ops (the coverage-guided campaign runs them); a context handle is the implementation's own.
    "ratchet_derive": ("base_key",),
    "derive": ("key", "salt"),
    "aead_encrypt": ("ciphertext",),
    "aead_decrypt": ("plaintext",),
    "ratchet_sender_new": ("kid",),
    "ratchet_advance": ("kid", "step"),
    "context_encrypt": ("ciphertext", "ctr"),
    "context_decrypt": ("plaintext", "kid", "ctr"),
    "mls_encrypt": ("ciphertext", "kid", "ctr"),
    "mls_decrypt": ("plaintext", "epoch", "sender_index", "context_id"),
}
MUTATIONS = ("none", "bitflip", "truncate", "append", "wrong-kid", "wrong-key", "random")


def boundary_u64(rng: random.Random) -> int:
    """A u64 biased to where encodings and truncations break: 0-8, around 2^k, then anything."""
    pick = rng.random()
    if pick < 0.25:
        return rng.randrange(0, 17)
    if pick < 0.75:
        k = rng.choice((8, 16, 24, 31, 32, 33, 40, 48, 53, 56, 63, 64)) if rng.random() < 0.6 else rng.randrange(3, 65)
        return min(max((1 << k) + rng.randrange(-2, 3), 0), U64_MAX)
    return rng.getrandbits(rng.randrange(1, 65))


@functools.lru_cache(maxsize=4096)
def _reference_frame(suite: int, base_key: bytes, kid: int, ctr: int, metadata: bytes, plaintext: bytes) -> bytes:
    """The reference's frame. Cached: a mutated program repeats most of its parent's frames, and frames
    are a pure function of these fields."""
    return sframe_py.encrypt(suite, base_key, kid, ctr, metadata, plaintext)


@dataclass(frozen=True)
class Recipe:
    """How one request is built. Shrinking edits these fields, never the raw request."""

    op: str
    suite: int = 4
    base_key: bytes = bytes(16)
    kid: int = 0
    ctr: int = 0
    metadata: bytes = b""
    plaintext: bytes = b""
    mutation: str = "none"  # decrypt only: how the valid frame is damaged
    position: int = 0  # the mutation's parameter (bit index, bytes cut, ...)
    data: bytes = b""  # decode_header input, or the "random" ciphertext

    def _valid_frame(self) -> bytes:
        try:
            return _reference_frame(self.suite, self.base_key, self.kid, self.ctr, self.metadata, self.plaintext)
        except sframe_py.SFrameError:
            return self.data  # a suite the reference lacks: fall back to the raw bytes

    def ciphertext(self) -> bytes:
        if self.mutation == "random":
            return self.data
        frame = bytearray(self._valid_frame())
        if self.mutation == "bitflip" and frame:
            bit = self.position % (8 * len(frame))
            frame[bit // 8] ^= 0x80 >> (bit % 8)
        elif self.mutation == "truncate" and frame:
            del frame[len(frame) - 1 - self.position % len(frame) :]
        elif self.mutation == "append":
            frame.append(self.position & 0xFF)
        return bytes(frame)

    def request(self) -> Request:
        if self.op == "encrypt":
            return Request("encrypt", {"suite": self.suite, "base_key": self.base_key, "kid": self.kid, "ctr": self.ctr,
                                       "metadata": self.metadata, "plaintext": self.plaintext})
        if self.op == "decrypt":
            kid = self.kid ^ 1 if self.mutation == "wrong-kid" else self.kid
            key = (bytes(b ^ 0x01 for b in self.base_key) or b"\x01") if self.mutation == "wrong-key" else self.base_key
            return Request("decrypt", {"suite": self.suite, "base_key": key, "kid": kid, "metadata": self.metadata,
                                       "ciphertext": self.ciphertext()})
        if self.op == "encode_header":
            return Request("encode_header", {"kid": self.kid, "ctr": self.ctr})
        return Request("decode_header", {"data": self.data})


def generate(rng: random.Random, suites: Sequence[int]) -> Recipe:
    op = rng.choices(("encrypt", "decrypt", "encode_header", "decode_header"), (4, 5, 1, 1))[0]
    suite = rng.choice(suites)
    key_len = rng.choice((16, 16, 16, 32, 64, rng.randrange(0, 65)))
    size = rng.choice((0, 1, 15, 16, 17, rng.randrange(0, 300)))
    metadata = b"" if rng.random() < 0.5 else rng.randbytes(rng.randrange(1, 33))
    mutation = rng.choice(MUTATIONS)
    if op == "decode_header":
        if rng.random() < 0.5:
            data = sframe_py.encode_header(boundary_u64(rng), boundary_u64(rng)) + rng.randbytes(rng.randrange(0, 3))
        else:
            data = rng.randbytes(rng.randrange(0, 20))
    else:
        data = rng.randbytes(rng.randrange(0, 48))
    return Recipe(op, suite, rng.randbytes(key_len), boundary_u64(rng), boundary_u64(rng), metadata,
                  rng.randbytes(size), mutation, rng.randrange(0, 1 << 16), data)


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """What dedups mismatches: the op, the suite, the groups of agreeing implementations, and how they differ."""

    op: str
    suite: int | None
    groups: tuple[tuple[str, ...], ...]
    how: str  # "output" | "accept-reject" | "fault", or an allowed difference (a note): ``Allowance`` values

    def slug(self) -> str:
        digest = hashlib.sha256(json.dumps(dataclasses.asdict(self), sort_keys=True).encode()).hexdigest()[:10]
        suite = f"suite{self.suite}-" if self.suite is not None else ""
        return f"{self.op}-{suite}{self.how}-{digest}"

    @property
    def is_note(self) -> bool:
        return self.how in NOTE_KINDS


def _signature(op: str, response: Response) -> tuple[Any, ...]:
    if response.ok:
        return ("ok",) + tuple(response.fields.get(f) for f in RESULT_FIELDS.get(op, ()))
    return ("reject",)


def _faulted(response: Response) -> bool:
    return response.fault is not None or response.error == "internal"


NOTE_KINDS = frozenset(a.value for a in Allowance)


def compare(op: str, suite: int | None, answers: dict[str, Response],
            allowance: Allowance | None = None) -> Key | None:
    """The disagreement among the comparable answers, or None when they agree.

    ``allowance``: RFC 9605 lets this request be accepted by some and refused by others (the recipe's
    non-minimal header, CTR 2^64-1, base_key length); such a split is a note of that kind."""
    comparable = {name: r for name, r in answers.items() if r.ok or r.error != "unsupported"}
    faulted = tuple(name for name, r in comparable.items() if _faulted(r))
    if faulted:
        rest = tuple(name for name in comparable if name not in faulted)
        return Key(op, suite, tuple(g for g in (rest, faulted) if g), "fault")
    groups: dict[tuple[Any, ...], list[str]] = {}
    for name, response in comparable.items():
        groups.setdefault(_signature(op, response), []).append(name)
    if len(groups) > 1:
        accepted = [sig for sig in groups if sig[0] == "ok"]
        how = "output" if len(accepted) > 1 else "accept-reject"
        if how == "accept-reject" and allowance is not None:
            how = allowance.value  # one answer given, others refused: allowed
        return Key(op, suite, tuple(tuple(g) for g in groups.values()), how)
    errors: dict[str, list[str]] = {}
    for name, response in comparable.items():
        if not response.ok:
            errors.setdefault(str(response.error), []).append(name)
    if len(errors) > 1:
        return Key(op, suite, tuple(tuple(g) for g in errors.values()), Allowance.ERROR_CLASS.value)
    return None


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


class Runner:
    """Runs request batches on every adapter at once (one thread each: subprocesses overlap)."""

    def __init__(self, adapters: Sequence[Adapter]) -> None:
        self.adapters = list(adapters)
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.adapters)))

    @staticmethod
    def _run(adapter: Adapter, requests: list[Request]) -> list[Response]:
        try:
            return adapter.run(requests)
        except Exception as e:  # noqa: BLE001 - an in-process implementation crashing is a finding
            return [Response.faulted(f"uncaught {type(e).__name__}: {e}") for _ in requests]

    def run(self, recipes: Sequence[Recipe]) -> list[dict[str, Response]]:
        requests = [r.request() for r in recipes]
        futures = {a.name: self._pool.submit(self._run, a, requests) for a in self.adapters}
        results = {name: f.result() for name, f in futures.items()}
        return [{name: results[name][i] for name in results} for i in range(len(recipes))]

    def key(self, recipe: Recipe, answers: dict[str, Response]) -> Key | None:
        request = recipe.request()
        return compare(recipe.op, recipe.suite if recipe.op in ("encrypt", "decrypt") else None, answers,
                       refusal(request) or either_way(request))

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def _smaller_ints(value: int) -> Iterator[int]:
    if value:
        yield 0
        top = 1 << (value.bit_length() - 1)
        yield from (top, value >> 1, value - top, value - 1)


def _smaller_bytes(value: bytes) -> Iterator[bytes]:
    if value:
        yield from (b"", value[: len(value) // 2], value[:-1], bytes(len(value)))


def candidates(recipe: Recipe) -> Iterator[Recipe]:
    """One-field simplifications, biggest first."""
    replace = dataclasses.replace
    if recipe.mutation != "none":
        yield replace(recipe, mutation="none")
    for name in ("plaintext", "metadata", "data", "base_key"):
        for fewer in _smaller_bytes(getattr(recipe, name)):
            if fewer != getattr(recipe, name):
                yield replace(recipe, **{name: fewer})
    for name in ("kid", "ctr", "position"):
        for lower in _smaller_ints(getattr(recipe, name)):
            if lower != getattr(recipe, name):
                yield replace(recipe, **{name: lower})


def shrink(runner: Runner, recipe: Recipe, key: Key, max_rounds: int = 60) -> tuple[Recipe, dict[str, Response]]:
    """Greedily simplify ``recipe`` while it keeps producing exactly ``key``."""
    answers = runner.run([recipe])[0]
    for _ in range(max_rounds):
        batch = list(dict.fromkeys(candidates(recipe)))
        if not batch:
            break
        for candidate, candidate_answers in zip(batch, runner.run(batch)):
            if runner.key(candidate, candidate_answers) == key:
                recipe, answers = candidate, candidate_answers
                break
        else:
            break
    return recipe, answers


# ---------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------


def _answer_json(response: Response) -> dict[str, Any]:
    if response.ok:
        return {"ok": True, "fields": to_wire(response.fields)}
    return {"ok": False, "error": response.error, "message": response.message[:300], "fault": response.fault}


def finding_case(recipe: Recipe, key: Key, reference: Response) -> Case:
    """A one-step case expecting the reference implementation's answer."""
    request = recipe.request()
    if reference.ok:
        step = Step(request, True, {f: reference.fields.get(f) for f in RESULT_FIELDS.get(recipe.op, ())})
    else:
        step = Step(request, False, errors=(str(reference.error),))
    groups = " vs ".join("+".join(g) for g in key.groups)
    return Case(
        id=f"difffuzz/{key.slug()}",
        title=f"{recipe.op} suite {recipe.suite}: {key.how} ({groups})",
        section="",
        requirements=(),
        level=Level.MUST,
        result=Expected.VALID if reference.ok else Expected.INVALID,
        steps=(step,),
        flags=("Difffuzz",),
        comment="expectation is the first-listed implementation's answer",
        source="python -m harness difffuzz",
    )


@dataclass
class KeyStats:
    count: int = 0
    file: str | None = None


@dataclass
class Report:
    impls: list[str]
    seed: int
    cases: int = 0
    duration: float = 0.0
    first_mismatch_after: float | None = None
    not_comparable: dict[str, int] = field(default_factory=dict)
    keys: dict[Key, KeyStats] = field(default_factory=dict)

    @property
    def cases_per_s(self) -> float:
        return self.cases / self.duration if self.duration else 0.0

    @property
    def mismatches(self) -> list[Key]:
        return [k for k in self.keys if not k.is_note]

    def to_json(self) -> dict[str, Any]:
        def entry(k: Key, s: KeyStats) -> dict[str, Any]:
            return {"key": dataclasses.asdict(k), "count": s.count, "file": s.file}

        return {
            "schema": SCHEMA,
            "impls": self.impls,
            "seed": self.seed,
            "cases": self.cases,
            "duration_s": round(self.duration, 3),
            "cases_per_s": round(self.cases_per_s, 1),
            "first_mismatch_after_s": None if self.first_mismatch_after is None else round(self.first_mismatch_after, 3),
            "not_comparable": self.not_comparable,
            "mismatches": [entry(k, s) for k, s in self.keys.items() if not k.is_note],
            "notes": [entry(k, s) for k, s in self.keys.items() if k.is_note],
        }


class NoCommonSuite(ValueError):
    """The implementations under test share no suite: a campaign would compare nothing."""


def common_suites(adapters: Sequence[Adapter]) -> list[int]:
    """The suites every implementation under test supports (about 30% of cases went to suites only one
    implementation had, each a wasted "not comparable")."""
    shared = set.intersection(*(set(a.hello.suites) for a in adapters)) if adapters else set()
    if not shared:
        have = "; ".join(f"{a.name} has {', '.join(map(str, a.hello.suites)) or 'none'}" for a in adapters)
        raise NoCommonSuite(f"difffuzz: the implementations have no suite in common ({have})")
    return sorted(shared)


@dataclass(frozen=True)
class Config:
    max_time: float = 60.0
    max_cases: int | None = None
    seed: int = 0
    batch: int = 256
    out: Path = DEFAULT_OUT
    stop_on_first: bool = False  # end the campaign at the first mismatch (used by tests and triage)


def campaign(adapters: Sequence[Adapter], config: Config, log: Any = sys.stderr,
             on_progress: OnProgress | None = None) -> Report:
    rng = random.Random(config.seed)
    suites = common_suites(adapters)
    runner = Runner(adapters)
    report = Report([a.name for a in adapters], config.seed, not_comparable={a.name: 0 for a in adapters})
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < config.max_time:
            if config.max_cases is not None and report.cases >= config.max_cases:
                break
            recipes = [generate(rng, suites) for _ in range(config.batch)]
            for recipe, answers in zip(recipes, runner.run(recipes)):
                report.cases += 1
                for name, response in answers.items():
                    if not response.ok and response.error == "unsupported":
                        report.not_comparable[name] += 1
                key = runner.key(recipe, answers)
                if key is None:
                    continue
                stats = report.keys.setdefault(key, KeyStats())
                stats.count += 1
                if stats.file is None and not key.is_note:
                    if report.first_mismatch_after is None:
                        report.first_mismatch_after = time.perf_counter() - start
                    small, small_answers = shrink(runner, recipe, key)
                    case = finding_case(small, key, small_answers[adapters[0].name])
                    path = write_repro(config.out / f"{key.slug()}.json", case, finding={
                        "kind": "difffuzz", "key": dataclasses.asdict(key), "seed": config.seed,
                        "recipe": {f.name: to_wire({f.name: getattr(small, f.name)})[f.name]
                                   for f in dataclasses.fields(small)},
                        "answers": {name: _answer_json(r) for name, r in small_answers.items()},
                    })
                    stats.file = str(path)
                    print(f"mismatch: {case.title} -> {path}", file=log)
            if on_progress is not None:
                on_progress(report.cases, config.max_cases, len(report.mismatches))
            if config.stop_on_first and report.mismatches:
                break
    finally:
        report.duration = time.perf_counter() - start
        runner.close()
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / "index.json").write_text(json.dumps(report.to_json(), indent=1) + "\n")
    return report


def print_report(report: Report, out: Any = None) -> None:
    out = out or sys.stdout  # looked up per call, so redirection and capture work
    print(f"difffuzz {' + '.join(report.impls)}: {report.cases} cases in {report.duration:.1f}s "
          f"({report.cases_per_s:,.0f} cases/s), seed {report.seed}", file=out)
    for name, n in report.not_comparable.items():
        if n:
            print(f"  {name}: {n} not comparable (unsupported)", file=out)
    for key, stats in report.keys.items():
        label = "note" if key.is_note else "MISMATCH"
        groups = " vs ".join("+".join(g) for g in key.groups)
        print(f"  {label} {key.op} suite {key.suite}: {key.how} ({groups}) x{stats.count}"
              + (f" -> {stats.file}" if stats.file else ""), file=out)
    if not report.mismatches:
        print("  no mismatch", file=out)
