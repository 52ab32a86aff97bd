"""The N x N interop matrix: every implementation encrypts, every other decrypts.

For every ordered pair (encryptor A, decryptor B) and every suite both support,
a corpus of frames (sizes 0 to 64 KiB, KID and CTR boundaries, with and without
metadata) checks three things:

- decrypt: B decrypts A's frames to the original plaintext;
- identity: A's and B's ciphertexts for the same input are byte-identical
  (SFrame is deterministic given key, KID and CTR);
- tamper: B rejects A's frames after a bit flip in each region, truncation
  or wrong metadata;
- encrypt: A encrypts every frame, or refuses one that RFC 9605 lets it refuse
  (``model.allowances``: CTR 2^64-1). An allowed refusal makes the cell
  ``non-strict`` with the reason, and B's half is still checked: B decrypts the
  reference's (sframe_py's) ciphertext of that frame instead.

A cell's grade is a ``Grade``: its worst check's, ``unsupported`` when B
decrypted nothing. Every failure note starts with the operation that failed
and the implementation that ran it ("encrypt (c): ...", "decrypt (js): ...").

Each implementation encrypts the corpus once; decryption runs one thread per
decryptor, so subprocess implementations use both cores.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sframe_py

from ..adapters.base import Adapter
from ..catalogue.inputs import BASE_KEY, METADATA
from ..model.allowances import refusal
from ..model.grading import Grade
from ..model.progress import OnProgress
from ..model.protocol import U64_MAX
from ..model.wire import Request, Response
from .ratchet_kat import RatchetKat
from .reading import Reader

SIZES = (0, 1, 15, 16, 17, 100, 1200, 65536)
BOUNDARIES = (0, 7, 8, 1 << 32, U64_MAX)
SUITES = tuple(range(1, 9))
FRAMES = "frames"  # the kind of a stateless cell


@dataclass(frozen=True)
class Frame:
    kid: int
    ctr: int
    metadata: bytes
    plaintext: bytes

    @property
    def label(self) -> str:
        return f"kid={self.kid} ctr={self.ctr} md={len(self.metadata)}B pt={len(self.plaintext)}B"


def corpus() -> list[Frame]:
    frames = []
    for i, size in enumerate(SIZES):
        for metadata in (b"", METADATA):
            frames.append(Frame(0x123, i, metadata, bytes((j * 31 + size) & 0xFF for j in range(size))))
    for kid in BOUNDARIES:
        for ctr in BOUNDARIES:
            frames.append(Frame(kid, ctr, METADATA if (kid ^ ctr) & 1 else b"", bytes(range(100))))
    return frames


@dataclass(frozen=True)
class Tamper:
    name: str
    ciphertext: bytes
    metadata: bytes


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def tamperings(frame: Frame, ciphertext: bytes, tag_bytes: int) -> list[Tamper]:
    """Mutations of one frame; the header length is read from its config byte."""
    config = ciphertext[0]
    kid_len = ((config >> 4) & 0x7) + 1 if config & 0x80 else 0
    ctr_len = (config & 0x7) + 1 if config & 0x08 else 0
    header_len = 1 + kid_len + ctr_len
    md = frame.metadata
    out = [Tamper("config-byte", _flip(ciphertext, 0), md)]
    if kid_len:
        out.append(Tamper("kid-byte", _flip(ciphertext, 1), md))
    if ctr_len:
        out.append(Tamper("ctr-byte", _flip(ciphertext, 1 + kid_len), md))
    if len(ciphertext) - header_len > tag_bytes:
        out.append(Tamper("body", _flip(ciphertext, header_len), md))
    out += [
        Tamper("tag", _flip(ciphertext, len(ciphertext) - 1), md),
        Tamper("truncated-1", ciphertext[:-1], md),
        Tamper("header-only", ciphertext[:header_len], md),
        Tamper("metadata-flipped" if md else "metadata-added", ciphertext, _flip(md, 0) if md else b"\x00"),
    ]
    return out


CHECKS = ("encrypt", "decrypt", "identity", "tamper")
_NOTES = 8  # failure notes kept per cell; the counts keep the rest


@dataclass
class Check:
    passed: int = 0
    failed: int = 0
    acceptable: int = 0  # non-strict: an allowed refusal
    unsupported: int = 0
    errors: int = 0

    def add(self, grade: Grade) -> None:
        name = {Grade.PASS: "passed", Grade.FAIL: "failed", Grade.NON_STRICT: "acceptable",
                Grade.UNSUPPORTED: "unsupported", Grade.ERROR: "errors"}[grade]
        setattr(self, name, getattr(self, name) + 1)

    @property
    def answered(self) -> int:
        return self.passed + self.failed + self.acceptable + self.errors

    def to_json(self) -> dict[str, int]:
        return {"pass": self.passed, "fail": self.failed, "non-strict": self.acceptable,
                "unsupported": self.unsupported, "error": self.errors}

    @classmethod
    def from_json(cls, r: Reader) -> Check:
        return cls(r.integer("pass"), r.integer("fail"), r.integer("non-strict", 0), r.integer("unsupported"),
                   r.integer("error"))


@dataclass
class Cell:
    encryptor: str
    decryptor: str
    suite: int
    checks: dict[str, Check] = field(default_factory=lambda: {k: Check() for k in CHECKS})
    failures: list[str] = field(default_factory=list)  # why it is not a pass: errors first
    reasons: list[str] = field(default_factory=list)  # allowed differences, with the RFC's reason
    elapsed: float = 0.0
    kind: str = FRAMES  # FRAMES: a stateless cell; else a stateful one (stateful_matrix.KINDS)

    @property
    def grade(self) -> Grade:
        checks = self.checks.values()
        if any(c.errors for c in checks):
            return Grade.ERROR
        if any(c.failed for c in checks):
            return Grade.FAIL
        if not self.checks["decrypt"].passed:
            return Grade.UNSUPPORTED  # the decryptor's half says nothing
        return Grade.NON_STRICT if any(c.acceptable for c in checks) else Grade.PASS

    @property
    def key(self) -> str:
        kind = "" if self.kind == FRAMES else f"/{self.kind}"
        return f"{self.encryptor}->{self.decryptor}{kind}/suite-{self.suite}"

    def record(self, check: str, grade: Grade, note: str = "") -> None:
        self.checks[check].add(grade)
        if grade is Grade.ERROR:
            self.failures.insert(0, note)  # the first note explains the cell's grade
            del self.failures[_NOTES:]
        elif grade is Grade.FAIL and len(self.failures) < _NOTES:
            self.failures.append(note)
        elif grade is Grade.NON_STRICT and len(self.reasons) < _NOTES:
            self.reasons.append(note)

    def to_json(self) -> dict[str, Any]:
        return {"encryptor": self.encryptor, "decryptor": self.decryptor, "suite": self.suite, "key": self.key,
                "grade": self.grade.value, "checks": {k: v.to_json() for k, v in self.checks.items()},
                "failures": self.failures, "reasons": self.reasons, "elapsed_s": round(self.elapsed, 4),
                **({} if self.kind == FRAMES else {"kind": self.kind})}

    @classmethod
    def from_json(cls, r: Reader) -> Cell:
        """A cell from results.json (v1 cells have no ``encrypt`` check and no reasons)."""
        raw = r.obj("checks")
        checks = {name: Check.from_json(raw.obj(name)) for name in CHECKS if raw.has(name)}
        cell = cls(r.text("encryptor", limit=200), r.text("decryptor", limit=200), r.integer("suite", high=255),
                   {k: checks.get(k, Check()) for k in CHECKS}, r.texts("failures"), r.texts("reasons", []),
                   r.number("elapsed_s", 0.0), r.text("kind", FRAMES, limit=40))
        stated = r.enum("grade", Grade, r.data.get("status", cell.grade.value))
        if stated is not cell.grade:
            raise ValueError(f"{r.where}.grade: {stated.value} does not follow from its checks ({cell.grade.value})")
        return cell


@dataclass
class Matrix:
    implementations: list[str]
    suites: list[int]
    cells: list[Cell]
    duration: float
    frames: int
    specs: dict[str, str] = field(default_factory=dict)  # name -> the --impl spec that starts it
    ratchet_kat: RatchetKat | None = None  # stateful_matrix.add_stateful's known-answer table
    stateful_duration: float = 0.0  # of the stateful cells and the table, apart from ``duration``

    def to_json(self) -> dict[str, Any]:
        out = {"implementations": self.implementations, "specs": self.specs, "suites": self.suites,
               "frames_per_cell": self.frames, "duration_s": round(self.duration, 3),
               "cells": [c.to_json() for c in self.cells]}
        if self.stateful_duration:
            out["stateful_duration_s"] = round(self.stateful_duration, 3)
        if self.ratchet_kat is not None:
            out["ratchet_kat"] = self.ratchet_kat.to_json()
        return out

    @classmethod
    def from_json(cls, r: Reader) -> Matrix:
        names = r.texts("implementations")
        cells = [Cell.from_json(c) for c in r.objects("cells")]
        for i, c in enumerate(cells):
            if c.encryptor not in names or c.decryptor not in names:
                raise ValueError(f"{r.path('cells')}[{i}]: {c.key} names an implementation not in 'implementations'")
        specs = r.text_map("specs", {})
        kat = r.optional_obj("ratchet_kat")
        return cls(names, r.integers("suites", high=255), cells, r.number("duration_s", 0.0),
                   r.integer("frames_per_cell", 0), {n: specs.get(n, n) for n in names},
                   RatchetKat.from_json(kat) if kat else None, r.number("stateful_duration_s", 0.0))


def _unsupported(r: Response) -> bool:
    return not r.ok and r.error == "unsupported" and r.fault is None


def _encrypt_request(suite: int, f: Frame) -> Request:
    return Request("encrypt", {"suite": suite, "base_key": BASE_KEY, "kid": f.kid, "ctr": f.ctr,
                               "metadata": f.metadata, "plaintext": f.plaintext})


def _encrypt_all(adapter: Adapter, suites: Sequence[int], frames: Sequence[Frame]) -> dict[int, list[Response]]:
    out = {}
    for suite in suites:
        if suite not in adapter.hello.suites:
            continue
        out[suite] = adapter.run([_encrypt_request(suite, f) for f in frames])
    return out


def _decrypt_request(suite: int, kid: int, metadata: bytes, ciphertext: bytes) -> Request:
    return Request("decrypt", {"suite": suite, "base_key": BASE_KEY, "kid": kid, "metadata": metadata,
                               "ciphertext": ciphertext})


def _reference_ciphertext(suite: int, frame: Frame) -> bytes | None:
    try:
        return bytes(sframe_py.encrypt(suite, BASE_KEY, frame.kid, frame.ctr, frame.metadata, frame.plaintext))
    except sframe_py.SFrameError:
        return None


def _sender_half(cell: Cell, enc_name: str, suite: int, frame: Frame, enc: Response) -> bytes | None:
    """Grade A's encryption of ``frame``; return the ciphertext B's half is checked with (None: nothing to check)."""
    where = f"encrypt ({enc_name}) {frame.label}"
    if enc.fault is not None:
        cell.record("encrypt", Grade.ERROR, f"{where}: {enc.fault}")
        return None
    if enc.ok:
        cell.record("encrypt", Grade.PASS)
        ciphertext = enc.fields.get("ciphertext")
        return ciphertext if isinstance(ciphertext, bytes) else None
    if _unsupported(enc):
        cell.record("encrypt", Grade.UNSUPPORTED)
        return None
    allowance = refusal(_encrypt_request(suite, frame))
    if allowance is None:
        cell.record("encrypt", Grade.FAIL, f"{where}: refused with {enc.error}: {enc.message}")
        return None
    cell.record("encrypt", Grade.NON_STRICT, f"{where}: refused with {enc.error} (allowed: {allowance.reason}); "
                "decrypted the reference's ciphertext instead")
    return _reference_ciphertext(suite, frame)


def _receiver_half(cell: Cell, dec_name: str, check: str, frame: Frame, tamper: str, r: Response) -> None:
    where = f"{'decrypt' if check == 'decrypt' else 'tamper'} ({dec_name}) {frame.label}" + (f" {tamper}" if tamper
                                                                                              else "")
    if r.fault is not None or (not r.ok and r.error == "internal"):
        cell.record(check, Grade.ERROR, f"{where}: {r.fault or r.message}")
    elif _unsupported(r):
        cell.record(check, Grade.UNSUPPORTED)
    elif check == "decrypt":
        if r.ok and r.fields.get("plaintext") == frame.plaintext:
            cell.record(check, Grade.PASS)
        elif r.ok:
            cell.record(check, Grade.FAIL, f"{where}: decrypted to different plaintext")
        else:
            cell.record(check, Grade.FAIL, f"{where}: rejected with {r.error}: {r.message}")
    elif r.ok:
        cell.record(check, Grade.FAIL, f"{where}: accepted the tampered frame")
    else:
        cell.record(check, Grade.PASS)


def _identity(cell: Cell, frames: Sequence[Frame], sealed: list[Response], own: list[Response]) -> None:
    for frame, a, b in zip(frames, sealed, own):
        if not (a.ok and b.ok):
            cell.record("identity", Grade.UNSUPPORTED)
        elif a.fields["ciphertext"] == b.fields["ciphertext"]:
            cell.record("identity", Grade.PASS)
        else:
            cell.record("identity", Grade.FAIL, f"identity ({cell.encryptor} vs {cell.decryptor}) {frame.label}: "
                        f"ciphertexts differ ({a.fields['ciphertext'][:8].hex()}... vs "
                        f"{b.fields['ciphertext'][:8].hex()}...)")


def _cell(decryptor: Adapter, enc_name: str, suite: int, frames: Sequence[Frame], sealed: list[Response],
          own: list[Response] | None, tag_bytes: int) -> Cell:
    start = time.perf_counter()
    cell = Cell(enc_name, decryptor.name, suite)
    requests: list[tuple[str, Frame, Request, str]] = []  # (check, frame, request, tamper name)
    for frame, enc in zip(frames, sealed):
        ct = _sender_half(cell, enc_name, suite, frame, enc)
        if ct is None:
            continue
        requests.append(("decrypt", frame, _decrypt_request(suite, frame.kid, frame.metadata, ct), ""))
        if frame.plaintext and len(frame.plaintext) <= 100:
            for t in tamperings(frame, ct, tag_bytes):
                requests.append(("tamper", frame, _decrypt_request(suite, frame.kid, t.metadata, t.ciphertext), t.name))
    for (check, frame, _, tamper), r in zip(requests, decryptor.run([q for _, _, q, _ in requests])):
        _receiver_half(cell, decryptor.name, check, frame, tamper, r)
    if own is not None:
        _identity(cell, frames, sealed, own)
    cell.elapsed = time.perf_counter() - start
    return cell


def coverage_problem(adapters: Sequence[Adapter], suites: Sequence[int]) -> str | None:
    """Why this matrix would test nothing for someone (one line), or None: an implementation with none of the
    suites, or several implementations of which no two share a suite."""
    wanted = set(suites)
    for a in adapters:
        if not wanted & set(a.hello.suites):
            return (f"{a.name} supports none of suite(s) {', '.join(map(str, sorted(wanted)))} "
                    f"(it has {', '.join(map(str, a.hello.suites)) or 'none'}): no matrix cell would test it")
    pairs = [(a, b) for i, a in enumerate(adapters) for b in adapters[i + 1:]]
    if pairs and not any(wanted & set(a.hello.suites) & set(b.hello.suites) for a, b in pairs):
        return "no two implementations have a suite in common: " + "; ".join(
            f"{a.name} has {', '.join(map(str, sorted(wanted & set(a.hello.suites))))}" for a in adapters)
    return None


def run_matrix(adapters: Sequence[Adapter], suites: Sequence[int] = SUITES,
               specs: dict[str, str] | None = None, on_progress: OnProgress | None = None) -> Matrix:
    from sframe_py import SUITES as SUITE_TABLE

    start = time.perf_counter()
    frames = corpus()
    with ThreadPoolExecutor(max_workers=max(1, len(adapters))) as pool:
        sealed = dict(zip((a.name for a in adapters), pool.map(lambda a: _encrypt_all(a, suites, frames), adapters)))
        total = sum(1 for d in adapters for s in suites for e in adapters if s in sealed[e.name] and s in d.hello.suites)
        done, lock = [0], threading.Lock()  # cells done, over the rows' threads

        def decrypt_row(decryptor: Adapter) -> list[Cell]:
            cells = []
            for suite in suites:
                for encryptor in adapters:
                    if suite not in sealed[encryptor.name] or suite not in decryptor.hello.suites:
                        continue
                    own = sealed[decryptor.name].get(suite)
                    cells.append(_cell(decryptor, encryptor.name, suite, frames, sealed[encryptor.name][suite], own,
                                       SUITE_TABLE[suite].nt if suite in SUITE_TABLE else 0))
                    if on_progress is not None:
                        with lock:
                            done[0] += 1
                            on_progress(done[0], total, 0)
            return cells

        rows = list(pool.map(decrypt_row, adapters))
    cells = [c for row in rows for c in row]
    order = {a.name: i for i, a in enumerate(adapters)}
    cells.sort(key=lambda c: (c.suite, order[c.encryptor], order[c.decryptor]))
    names = [a.name for a in adapters]
    return Matrix(names, list(suites), cells, time.perf_counter() - start, len(frames),
                  {n: (specs or {}).get(n, n) for n in names})
