"""The N x N interop matrix: every implementation encrypts, every other decrypts.

For every ordered pair (encryptor A, decryptor B) and every suite both support,
a corpus of frames (sizes 0 to 64 KiB, KID and CTR boundaries, with and without
metadata) checks three things:

- decrypt: B decrypts A's frames to the original plaintext;
- identity: A's and B's ciphertexts for the same input are byte-identical
  (SFrame is deterministic given key, KID and CTR);
- tamper: B rejects A's frames after a bit flip in each region, truncation
  or wrong metadata.

Each implementation encrypts the corpus once; decryption runs one thread per
decryptor, so subprocess implementations use both cores.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..adapters.base import Adapter
from ..model.wire import Request, Response

U64_MAX = (1 << 64) - 1
SIZES = (0, 1, 15, 16, 17, 100, 1200, 65536)
BOUNDARIES = (0, 7, 8, 1 << 32, U64_MAX)
METADATA = b"IETF SFrame WG"
BASE_KEY = bytes(range(16))
SUITES = tuple(range(1, 9))


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


@dataclass
class Check:
    passed: int = 0
    failed: int = 0
    unsupported: int = 0
    errors: int = 0

    def to_json(self) -> dict[str, int]:
        return {"pass": self.passed, "fail": self.failed, "unsupported": self.unsupported, "error": self.errors}


@dataclass
class Cell:
    encryptor: str
    decryptor: str
    suite: int
    checks: dict[str, Check] = field(default_factory=lambda: {k: Check() for k in ("decrypt", "identity", "tamper")})
    failures: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def status(self) -> str:
        if any(c.errors for c in self.checks.values()):
            return "error"
        if any(c.failed for c in self.checks.values()):
            return "fail"
        if not any(c.passed for c in self.checks.values()):
            return "unsupported"
        return "pass"

    @property
    def key(self) -> str:
        return f"{self.encryptor}->{self.decryptor}/suite-{self.suite}"

    def record(self, check: str, outcome: str, detail: str = "") -> None:
        c = self.checks[check]
        if outcome == "pass":
            c.passed += 1
        elif outcome == "unsupported":
            c.unsupported += 1
        elif outcome == "error":
            c.errors += 1
            self._note(f"{check}: {detail}", first=True)
        else:
            c.failed += 1
            self._note(f"{check}: {detail}")

    def _note(self, text: str, first: bool = False) -> None:
        # Errors go first: the first note explains the cell's status.
        if first:
            self.failures.insert(0, text)
            del self.failures[8:]
        elif len(self.failures) < 8:
            self.failures.append(text)

    def to_json(self) -> dict[str, Any]:
        return {"encryptor": self.encryptor, "decryptor": self.decryptor, "suite": self.suite, "key": self.key,
                "status": self.status, "checks": {k: v.to_json() for k, v in self.checks.items()},
                "failures": self.failures, "elapsed_s": round(self.elapsed, 4)}


@dataclass
class Matrix:
    implementations: list[str]
    suites: list[int]
    cells: list[Cell]
    duration: float
    frames: int

    def to_json(self) -> dict[str, Any]:
        return {"implementations": self.implementations, "suites": self.suites, "frames_per_cell": self.frames,
                "duration_s": round(self.duration, 3), "cells": [c.to_json() for c in self.cells]}


def _unsupported(r: Response) -> bool:
    return not r.ok and r.error == "unsupported" and r.fault is None


def _encrypt_all(adapter: Adapter, suites: Sequence[int], frames: Sequence[Frame]) -> dict[int, list[Response]]:
    out = {}
    for suite in suites:
        if suite not in adapter.hello.suites:
            continue
        out[suite] = adapter.run([Request("encrypt", {"suite": suite, "base_key": BASE_KEY, "kid": f.kid, "ctr": f.ctr,
                                                      "metadata": f.metadata, "plaintext": f.plaintext})
                                  for f in frames])
    return out


def _decrypt_request(suite: int, kid: int, metadata: bytes, ciphertext: bytes) -> Request:
    return Request("decrypt", {"suite": suite, "base_key": BASE_KEY, "kid": kid, "metadata": metadata,
                               "ciphertext": ciphertext})


def _cell(decryptor: Adapter, enc_name: str, suite: int, frames: Sequence[Frame], sealed: list[Response],
          own: list[Response] | None, tag_bytes: int) -> Cell:
    start = time.perf_counter()
    cell = Cell(enc_name, decryptor.name, suite)
    requests: list[tuple[str, Frame, Request, str]] = []  # (check, frame, request, tamper name)
    for frame, enc in zip(frames, sealed):
        if enc.fault is not None:
            cell.record("decrypt", "error", f"{enc_name} encrypt {frame.label}: {enc.fault}")
            continue
        if not enc.ok:
            cell.record("decrypt", "unsupported" if _unsupported(enc) else "fail",
                        f"{enc_name} failed to encrypt {frame.label}: {enc.error} {enc.message}")
            continue
        ct = enc.fields["ciphertext"]
        requests.append(("decrypt", frame, _decrypt_request(suite, frame.kid, frame.metadata, ct), ""))
        if frame.plaintext and len(frame.plaintext) <= 100:
            for t in tamperings(frame, ct, tag_bytes):
                requests.append(("tamper", frame, _decrypt_request(suite, frame.kid, t.metadata, t.ciphertext), t.name))
    for (check, frame, _, tamper), r in zip(requests, decryptor.run([q for _, _, q, _ in requests])):
        if r.fault is not None or (not r.ok and r.error == "internal"):
            cell.record(check, "error", f"{frame.label} {tamper}: {r.fault or r.message}")
        elif _unsupported(r):
            cell.record(check, "unsupported")
        elif check == "decrypt":
            if r.ok and r.fields.get("plaintext") == frame.plaintext:
                cell.record(check, "pass")
            elif r.ok:
                cell.record(check, "fail", f"{frame.label}: decrypted to different plaintext")
            else:
                cell.record(check, "fail", f"{frame.label}: rejected with {r.error}: {r.message}")
        elif r.ok:
            cell.record(check, "fail", f"{frame.label}: accepted {tamper} tampering")
        else:
            cell.record(check, "pass")
    if own is not None:
        for frame, a, b in zip(frames, sealed, own):
            if not (a.ok and b.ok):
                cell.record("identity", "unsupported")
            elif a.fields["ciphertext"] == b.fields["ciphertext"]:
                cell.record("identity", "pass")
            else:
                cell.record("identity", "fail", f"{frame.label}: ciphertexts differ "
                            f"({a.fields['ciphertext'][:8].hex()}... vs {b.fields['ciphertext'][:8].hex()}...)")
    cell.elapsed = time.perf_counter() - start
    return cell


def run_matrix(adapters: Sequence[Adapter], suites: Sequence[int] = SUITES) -> Matrix:
    from sframe_py import SUITES as SUITE_TABLE

    start = time.perf_counter()
    frames = corpus()
    with ThreadPoolExecutor(max_workers=max(1, len(adapters))) as pool:
        sealed = dict(zip((a.name for a in adapters), pool.map(lambda a: _encrypt_all(a, suites, frames), adapters)))

        def decrypt_row(decryptor: Adapter) -> list[Cell]:
            cells = []
            for suite in suites:
                for encryptor in adapters:
                    if suite not in sealed[encryptor.name] or suite not in decryptor.hello.suites:
                        continue
                    own = sealed[decryptor.name].get(suite)
                    cells.append(_cell(decryptor, encryptor.name, suite, frames, sealed[encryptor.name][suite], own,
                                       SUITE_TABLE[suite].nt if suite in SUITE_TABLE else 0))
            return cells

        rows = list(pool.map(decrypt_row, adapters))
    cells = [c for row in rows for c in row]
    order = {a.name: i for i, a in enumerate(adapters)}
    cells.sort(key=lambda c: (c.suite, order[c.encryptor], order[c.decryptor]))
    return Matrix([a.name for a in adapters], list(suites), cells, time.perf_counter() - start, len(frames))
