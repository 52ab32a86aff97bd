"""Stateful interop cells: A's key-management state talks to B's (RFC 9605 §4.4.1, §5, §9.3).

For every ordered pair (sender A, receiver B), kind and suite both support, a
cell next to the stateless ones (``matrix.Cell`` with ``kind`` set):

- context: A's send context, B's receive context; four KIDs (inline, 32-bit,
  above 32 bits), counters across 2^32 and up to 2^64-1, a KID B learns late,
  frames delivered in another order than sent, forgeries;
- ratchet: A's sender (generation 5, R = 3) ratchets 19 steps, past 2^R; B's
  receiver follows, with reordering inside its window, steps it deleted, a
  jump past the window and a forgery;
- mls: A and B are members of one group (E = 4, S = 6): epochs come and go,
  A sends as two members (per-sender KIDs, two context ids), frames arrive an
  epoch late, a member removed after epoch 2 gets ``unknown_kid`` for every
  later epoch, and epoch 16 evicts epoch 0 (MLS-03);
- replay: B's window of 128 (``replay_window``) gets A's frames: duplicates,
  reordering, a jump, frames N or more below the highest, and a forgery that
  must not move the window.

Rules of this module:

- A sender script runs once per implementation, kind and suite (as the
  stateless corpus is encrypted once); each receiver then gets every sender's
  frames, one thread per receiver. The receiver's expectations come from the
  RFC and the script, never from A's answers.
- Checks reuse the stateless names: ``encrypt`` (A's sender steps, with the
  allowed refusal at CTR 2^64-1 non-strict), ``identity`` (A's frames are
  byte-identical to B's own frames for the same script), ``decrypt`` (B
  decrypts with the right plaintext and reports the right fields), ``tamper``
  (B refuses what it must: replays, stale or forged frames, removed epochs).
  A refusal with another error class than the one named is non-strict (the
  frame is discarded either way, RFC 9605 §4.4.4).
- Every note starts with its step ("send 3 ...", "step 7 ..."): a cell's first
  failure note is the first step where A and B diverge.
- A frame A refused (or could not make) is replaced by the reference's
  (sframe_py) so that B's half is still checked; the note says so.
- An implementation without the ratchet's stateful ops takes part where the
  protocol lets the harness compose them: ``ratchet_derive`` for the step's
  key, then the stateless ``encrypt``/``decrypt``. Such a receiver has no
  window of its own, so its window steps are ``unsupported``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sframe_py
from sframe_py import get_suite

from ..adapters.base import Adapter
from ..catalogue.inputs import BASE_KEY, METADATA, PLAINTEXT
from ..catalogue.mls_exporter import sframe_base_key
from ..locations import MLS_VECTORS
from ..model.allowances import ERROR_CLASS, refusal
from ..model.grading import Grade
from ..model.progress import OnProgress
from ..model.protocol import U64_MAX
from ..model.wire import Request, Response
from .matrix import FRAMES, Cell, Matrix

KINDS = ("context", "ratchet", "mls", "replay")
_NOTES = 8  # failure notes a cell keeps, as matrix.Cell does
# The hello capabilities that let an implementation take part in a kind (``ratchet_derive`` alone: composed).
CAPABILITIES = {"context": ("context",), "ratchet": ("ratchet", "ratchet_derive"), "mls": ("mls",),
                "replay": ("replay",)}


@dataclass(frozen=True)
class Frame:
    """One frame of a sender script, as the RFC says it must come out."""

    label: str
    kid: int
    ctr: int
    key: bytes  # the base_key the reference encrypts under (a ratchet step's, an epoch's)
    metadata: bytes
    plaintext: bytes
    step: int = 0  # ratchet: the sender's step

    def reference(self, suite: int) -> bytes:
        return bytes(sframe_py.encrypt(suite, self.key, self.kid, self.ctr, self.metadata, self.plaintext))


@dataclass(frozen=True)
class Op:
    """One request of a script on a named context. ``frame``: an encryption that must give that frame;
    ``errors``: the request must be refused with one of these; ``expect``: fields the answer must carry."""

    ctx: str
    op: str
    fields: dict[str, Any]
    frame: Frame | None = None
    errors: tuple[str, ...] = ()
    expect: dict[str, Any] = field(default_factory=dict)
    setup: bool = False  # must succeed before the rest is sent (a key, an epoch)


@dataclass(frozen=True)
class Delivery:
    """A frame given to a receiver context: it must decrypt (reporting ``expect``) or be refused (``errors``)."""

    ctx: str
    label: str
    expect: dict[str, Any] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    forged: bool = False  # the frame's last bit flipped: no key authenticates it
    window: bool = False  # the outcome is the receiver's own window state (a composed receiver has none)


Step = Op | Delivery


@dataclass(frozen=True)
class Script:
    """A kind's scripts in one suite: the sender's contexts and ops, the receiver's contexts and steps."""

    kind: str
    suite: int
    sender_contexts: dict[str, Request]
    sender: list[Op]
    frames: dict[str, Frame]
    receiver_contexts: dict[str, Request]
    receiver: list[Step]


@dataclass
class Sealed:
    frame: Frame
    ciphertext: bytes | None  # None: nothing to give the receiver
    own: bool  # the sender's own ciphertext (False: the reference's, in its place)


@dataclass
class SenderRun:
    """One implementation's run of a sender script; ``records`` are replayed into each of its cells."""

    name: str
    mode: str  # "native", "composed" or "unsupported"
    records: list[tuple[str, Grade, str]] = field(default_factory=list)
    sealed: dict[str, Sealed] = field(default_factory=dict)
    causes: list[str] = field(default_factory=list)  # a composed chain that is not RFC 9605's, step by step


# ---- the scripts -------------------------------------------------------------------------------------------

CONTEXT_KIDS = {"a": 0x123, "b": 0xFFFF_FFFF, "c": (1 << 32) + 7, "d": 7}


def _frame(label: str, kid: int, ctr: int, key: bytes = BASE_KEY, metadata: bytes = b"", step: int = 0) -> Frame:
    return Frame(label, kid, ctr, key, metadata, PLAINTEXT + label.encode(), step)


def _send(ctx: str, f: Frame, **extra: Any) -> Op:
    return Op(ctx, "context_encrypt", {"kid": f.kid, "metadata": f.metadata, "plaintext": f.plaintext, **extra},
              frame=f, expect={"ctr": f.ctr})


def context_script(suite: int) -> Script:
    """Four KIDs: a (metadata, from 0), b (2^32-2 across 2^32), c (2^64-2 to exhaustion), d (added late at B)."""
    k = CONTEXT_KIDS
    starts = {"a": 0, "b": (1 << 32) - 2, "c": U64_MAX - 1, "d": 0}
    md = {"a": METADATA, "b": b"", "c": b"", "d": METADATA}
    frames = {f"{n}{i}": _frame(f"{n}{i}", k[n], starts[n] + i, metadata=md[n]) for n, count in
              (("a", 3), ("b", 4), ("c", 2), ("d", 1)) for i in range(count)}
    sender = [Op("tx", "context_add_key", {"kid": k[n], "base_key": BASE_KEY, "usage": "send",
                                           "next_ctr": starts[n]}, setup=True) for n in k]
    for label in ("a0", "b0", "a1", "c0", "b1", "b2", "c1", "a2", "b3"):
        sender.append(_send("tx", frames[label]))
    sender.append(Op("tx", "context_encrypt", {"kid": k["c"], "metadata": b"", "plaintext": PLAINTEXT},
                     errors=("counter_exhausted",)))
    sender.append(_send("tx", frames["d0"]))
    receiver: list[Step] = [Op("rx", "context_add_key", {"kid": k[n], "base_key": BASE_KEY, "usage": "recv"},
                               setup=True) for n in "abc"]
    for label in ("b0", "a0", "b1", "a1", "c0", "c1", "b3", "b2", "a2"):
        receiver.append(Delivery("rx", label, {"kid": frames[label].kid, "ctr": frames[label].ctr}))
    receiver += [Delivery("rx", "d0", errors=("unknown_kid",)),
                 Op("rx", "context_add_key", {"kid": k["d"], "base_key": BASE_KEY, "usage": "recv"}),
                 Delivery("rx", "d0", {"kid": k["d"], "ctr": 0}),
                 Delivery("rx", "a0", errors=("auth_failed",), forged=True),
                 Delivery("rx", "b3", errors=("auth_failed",), forged=True)]
    return Script("context", suite, {"tx": Request("context_new", {"suite": suite})}, sender, frames,
                  {"rx": Request("context_new", {"suite": suite})}, receiver)


RATCHET_GENERATION, RATCHET_BITS = 5, 3  # W = 4 steps kept, 2^R = 8: the step field wraps at step 8
RATCHET_FRAMES = ((0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1), (4, 0), (5, 0), (6, 0), (7, 0),
                  (8, 0), (9, 0), (10, 0), (12, 0), (14, 0), (15, 0), (19, 0))
RATCHET_STEPS = 19


def _ratchet_kid(step: int) -> int:
    return (RATCHET_GENERATION << RATCHET_BITS) + step % (1 << RATCHET_BITS)


def ratchet_script(suite: int) -> Script:
    """The receiver's window, with W = 4: c is its newest step; a step field that is not kept is taken as
    c + ((s - c) mod 8), at most 4 ahead once 4 steps are kept."""
    frames = {f"s{s}c{c}": _frame(f"s{s}c{c}", _ratchet_kid(s), c,
                                  sframe_py.ratchet_forward(get_suite(suite), BASE_KEY, s), step=s)
              for s, c in RATCHET_FRAMES}
    sender: list[Op] = []
    for step in range(RATCHET_STEPS + 1):
        if step:
            sender.append(Op("tx", "ratchet_advance", {}, expect={"kid": _ratchet_kid(step), "step": step}))
        sender += [_send("tx", f) for f in frames.values() if f.step == step]

    def ok(label: str) -> Delivery:
        return Delivery("rx", label, {"kid": frames[label].kid, "ctr": frames[label].ctr})

    def stale(label: str) -> Delivery:
        return Delivery("rx", label, errors=("auth_failed",), window=True)

    receiver: list[Step] = [
        ok("s0c0"), ok("s1c0"), ok("s0c1"),  # reordering: step 0 is still kept
        ok("s3c0"), ok("s2c0"), ok("s2c1"),  # 2 ahead, then back
        ok("s5c0"), stale("s1c1"),  # step 5 dropped steps 0 and 1
        ok("s4c0"), ok("s6c0"), ok("s7c0"), ok("s8c0"), ok("s9c0"), ok("s10c0"),  # the step field wraps at 8
        stale("s3c1"),  # deleted: taken as step 11, which it is not
        ok("s14c0"),  # 4 ahead: the farthest a full window follows
        stale("s19c0"),  # 5 ahead, past the window: its field is step 11's, whose key does not authenticate it
        ok("s15c0"), ok("s12c0"),  # the failed jump moved nothing
        Delivery("rx", "s15c0", errors=("auth_failed",), forged=True),
    ]
    layout = {"suite": suite, "base_key": BASE_KEY, "generation": RATCHET_GENERATION, "ratchet_bits": RATCHET_BITS}
    return Script("ratchet", suite, {"tx": Request("ratchet_sender_new", layout)}, sender, frames,
                  {"rx": Request("ratchet_receiver_new", layout)}, receiver)


MLS_E, MLS_S = 4, 6
MLS_EPOCHS = (0, 1, 2, 3, 4)
MLS_EVICTING_EPOCH = 16  # same low 4 bits as epoch 0
MLS_REMOVED_AFTER = 2  # the removed member holds epochs 0..2


@cache
def _exporter_secrets() -> tuple[tuple[int, bytes], ...]:
    """(MLS suite, exporter_secret) of every epoch of RFC 9420's key-schedule vectors: distinct epochs' keys."""
    groups = json.loads((MLS_VECTORS / "mls-key-schedule.json").read_text())
    return tuple((g["cipher_suite"], bytes.fromhex(e["exporter_secret"])) for g in groups for e in g["epochs"])


def epoch_base_key(epoch: int, suite: int) -> bytes:
    """Epoch ``epoch``'s SFrame base_key: MLS-Exporter("SFrame 1.0 Base Key", "", Nk) of an RFC 9420 vector epoch."""
    secrets = _exporter_secrets()
    mls_suite, secret = secrets[epoch % len(secrets)]
    return sframe_base_key(mls_suite, secret, suite)


def _mls_kid(epoch: int, index: int, context_id: int) -> int:
    return (context_id << (MLS_S + MLS_E)) + (index << MLS_E) + epoch % (1 << MLS_E)


def mls_script(suite: int) -> Script:
    """Members 1 and 3 send on A (contexts 0 and 1); B holds a staying member and one removed after epoch 2."""
    frames: dict[str, Frame] = {}
    sender: list[Op] = []
    counters: dict[tuple[int, int], int] = {}  # per epoch and KID: an evicting epoch's KIDs count from 0 again

    def sent(epoch: int, index: int, context_id: int) -> str:
        kid = _mls_kid(epoch, index, context_id)
        ctr = counters.get((epoch, kid), 0)
        counters[epoch, kid] = ctr + 1
        label = f"e{epoch}m{index}x{context_id}c{ctr}"
        frames[label] = _frame(label, kid, ctr, epoch_base_key(epoch, suite), METADATA if index == 3 else b"")
        f = frames[label]
        sender.append(Op("tx", "mls_encrypt", {"epoch": epoch, "sender_index": index, "context_id": context_id,
                                              "metadata": f.metadata, "plaintext": f.plaintext},
                         frame=f, expect={"kid": kid, "ctr": ctr}))
        return label

    def add(ctx: str, epoch: int) -> Op:
        return Op(ctx, "mls_add_epoch", {"epoch": epoch, "epoch_secret": epoch_base_key(epoch, suite)})

    def ok(label: str, epoch: int, index: int, context_id: int) -> Delivery:
        return Delivery("member", label, {"epoch": epoch, "sender_index": index, "context_id": context_id})

    receiver: list[Step] = []
    late: list[tuple[str, int]] = []
    old = ""  # an epoch-0 frame delivered after epoch 16 evicted epoch 0
    for epoch in (*MLS_EPOCHS, MLS_EVICTING_EPOCH):
        sender.append(add("tx", epoch))
        if epoch == MLS_EVICTING_EPOCH:
            sender.append(Op("tx", "mls_encrypt", {"epoch": 0, "sender_index": 1, "context_id": 0, "metadata": b"",
                                                  "plaintext": PLAINTEXT}, errors=("unknown_kid",)))
        first, second = sent(epoch, 1, 0), sent(epoch, 3, 1)
        later = sent(epoch, 1, 0)
        receiver.append(add("member", epoch))
        if epoch <= MLS_REMOVED_AFTER:
            receiver.append(add("removed", epoch))
        receiver += [Delivery("member", label, {"epoch": e, "sender_index": 1, "context_id": 0}) for label, e in late]
        receiver += [ok(first, epoch, 1, 0), ok(second, epoch, 3, 1)]
        if epoch <= MLS_REMOVED_AFTER:
            receiver.append(Delivery("removed", first, {"epoch": epoch, "sender_index": 1, "context_id": 0}))
        elif epoch == MLS_EVICTING_EPOCH:  # its slot still holds the removed member's epoch 0: no key fits
            receiver.append(Delivery("removed", first, errors=("auth_failed", "unknown_kid")))
        else:
            receiver.append(Delivery("removed", first, errors=("unknown_kid",)))
        late = [(later, epoch)] if epoch != MLS_EVICTING_EPOCH else []
        if epoch == 0:
            old = sent(0, 3, 1)
        if epoch == 3:
            receiver.append(Delivery("member", second, errors=("auth_failed",), forged=True))
    receiver.append(Delivery("member", old, errors=("auth_failed", "unknown_kid")))
    layout = {"suite": suite, "epoch_bits": MLS_E, "sender_bits": MLS_S}
    return Script("mls", suite, {"tx": Request("mls_context_new", layout)}, sender, frames,
                  {"member": Request("mls_context_new", layout), "removed": Request("mls_context_new", layout)},
                  receiver)


REPLAY_WINDOW, REPLAY_KID = 128, 0x42


def replay_script(suite: int) -> Script:
    """A's frames at CTR 0-5 (one context), 131-133 (a restored one) and 400 (forged at B)."""
    starts = {"low": 0, "high": 131, "far": 400}
    counts = {"low": 6, "high": 3, "far": 1}
    frames = {f"c{starts[n] + i}": _frame(f"c{starts[n] + i}", REPLAY_KID, starts[n] + i)
              for n in starts for i in range(counts[n])}
    sender = [Op(n, "context_add_key", {"kid": REPLAY_KID, "base_key": BASE_KEY, "usage": "send",
                                        "next_ctr": starts[n]}, setup=True) for n in starts]
    sender += [_send(n, frames[f"c{starts[n] + i}"]) for n in starts for i in range(counts[n])]

    def ok(ctr: int) -> Delivery:
        return Delivery("rx", f"c{ctr}", {"kid": REPLAY_KID, "ctr": ctr})

    def replayed(ctr: int) -> Delivery:
        return Delivery("rx", f"c{ctr}", errors=("replay",))

    receiver: list[Step] = [
        Op("rx", "context_add_key", {"kid": REPLAY_KID, "base_key": BASE_KEY, "usage": "recv"}, setup=True),
        ok(0), ok(2), replayed(0), ok(5), ok(1), replayed(1),
        ok(132),  # a jump: the window now covers 5..132
        Delivery("rx", "c400", errors=("auth_failed",), forged=True),  # must not move the window
        replayed(4),  # exactly N below the highest: too old, though never seen
        replayed(5), replayed(3),
        ok(133), ok(131), replayed(131),  # 131 is inside the window only if the forgery moved nothing
    ]
    return Script("replay", suite, {n: Request("context_new", {"suite": suite}) for n in starts}, sender, frames,
                  {"rx": Request("context_new", {"suite": suite, "replay_window": REPLAY_WINDOW})}, receiver)


SCRIPTS: dict[str, Callable[[int], Script]] = {"context": context_script, "ratchet": ratchet_script,
                                               "mls": mls_script, "replay": replay_script}


# ---- running them ------------------------------------------------------------------------------------------

def _unsupported(r: Response) -> bool:
    return not r.ok and r.error == "unsupported" and r.fault is None


def _broken(r: Response) -> bool:
    return r.fault is not None or (not r.ok and r.error == "internal")


def _why(r: Response) -> str:
    return r.fault or f"{r.error}: {r.message}"


def _open(adapter: Adapter, contexts: dict[str, Request]) -> tuple[dict[str, str], dict[str, Response]]:
    """Create the named contexts: (handles, the answers of those that failed)."""
    names = list(contexts)
    handles, failed = {}, {}
    for name, r in zip(names, adapter.run([contexts[n] for n in names])):
        ctx = r.fields.get("ctx") if r.ok else None
        if isinstance(ctx, str):
            handles[name] = ctx
        else:
            failed[name] = r
    return handles, failed


def _request(op: Op, handles: dict[str, str]) -> Request:
    return Request(op.op, {"ctx": handles[op.ctx], **op.fields})


class _Sender:
    """Grades one sender run, step by step, into ``run.records``."""

    def __init__(self, run: SenderRun, suite: int) -> None:
        self.run, self.suite = run, suite

    def note(self, grade: Grade, text: str) -> None:
        self.run.records.append(("encrypt", grade, text))

    def substitute(self, f: Frame, own: bytes | None = None) -> None:
        self.run.sealed[f.label] = Sealed(f, own if own is not None else f.reference(self.suite), own is not None)

    def answer(self, i: int, op: Op, r: Response, request: Request | None = None) -> None:
        where = f"send {i} {op.op} ({self.run.name})" + (f" {op.frame.label} kid={op.frame.kid} ctr={op.frame.ctr}"
                                                          if op.frame else "")
        if _broken(r):
            self.note(Grade.ERROR, f"{where}: {_why(r)}")
            if op.frame:
                self.substitute(op.frame)
        elif op.errors:
            if r.ok:
                self.note(Grade.FAIL, f"{where}: answered, but must be refused ({' or '.join(op.errors)})")
            elif r.error in op.errors:
                self.note(Grade.PASS, "")
            elif _unsupported(r):
                self.note(Grade.UNSUPPORTED, "")
            else:
                self.note(Grade.NON_STRICT, f"{where}: refused with {r.error}, not {'/'.join(op.errors)} "
                          f"({ERROR_CLASS})")
        elif not r.ok:
            self.refused(where, op, r, request)
        else:
            wrong = [f"{k} {r.fields.get(k)!r}, expected {v!r}" for k, v in op.expect.items() if r.fields.get(k) != v]
            self.note(Grade.FAIL if wrong else Grade.PASS, f"{where}: answered {'; '.join(wrong)}" if wrong else "")
            ct = r.fields.get("ciphertext")
            if op.frame is not None:
                if isinstance(ct, bytes):
                    self.substitute(op.frame, ct)
                else:
                    self.note(Grade.FAIL, f"{where}: no ciphertext in the answer")
                    self.substitute(op.frame)

    def refused(self, where: str, op: Op, r: Response, request: Request | None) -> None:
        if _unsupported(r):
            self.note(Grade.UNSUPPORTED, "")
            return  # nothing for the receiver: an option this sender lacks (metadata, a CTR it cannot hold)
        allowance = (refusal(request or Request("encrypt", {"ctr": op.frame.ctr, "suite": self.suite}))
                     if op.frame else None)
        if allowance is not None and op.frame is not None:
            self.note(Grade.NON_STRICT, f"{where}: refused with {r.error} (allowed: {allowance.reason}); the "
                      "receiver got the reference's frame instead")
        else:
            self.note(Grade.FAIL, f"{where}: refused with {_why(r)}"
                      + ("; the receiver got the reference's frame instead" if op.frame else ""))
        if op.frame is not None:
            self.substitute(op.frame)


def _run_ops(adapter: Adapter, grader: _Sender | None, handles: dict[str, str], ops: Sequence[Op]
             ) -> list[Response]:
    """Setup ops first (a refused one takes the ops of its KID out), then the rest, pipelined."""
    setup = [op for op in ops if op.setup and op.ctx in handles]
    answers = adapter.run([_request(op, handles) for op in setup])
    dropped = {(op.ctx, op.fields.get("kid")) for op, r in zip(setup, answers) if not r.ok}
    if grader is not None:
        for i, (op, r) in enumerate(zip(setup, answers)):
            if not r.ok:
                grader.note(Grade.UNSUPPORTED if _unsupported(r) else Grade.ERROR if _broken(r) else Grade.FAIL,
                            "" if _unsupported(r) else f"send {i} {op.op} ({adapter.name}) {op.fields}: {_why(r)}")
    rest = [op for op in ops if not op.setup and op.ctx in handles and (op.ctx, op.fields.get("kid")) not in dropped]
    out = adapter.run([_request(op, handles) for op in rest])
    if grader is not None:
        for i, (op, r) in enumerate(zip(rest, out), len(setup)):
            grader.answer(i, op, r)
    return out


def _composed_sender(adapter: Adapter, script: Script, run: SenderRun) -> None:
    """A sender with only ``ratchet_derive`` and ``encrypt``: each step's key by its own chain."""
    steps = sorted({f.step for f in script.frames.values()})
    derived = adapter.run([Request("ratchet_derive", {"suite": script.suite, "base_key": BASE_KEY, "steps": s})
                           for s in steps])
    if all(_unsupported(r) for r in derived):
        run.mode = "unsupported"
        return
    keys = {s: r.fields.get("base_key") for s, r in zip(steps, derived) if r.ok}
    grader = _Sender(run, script.suite)
    frames = [f for f in script.frames.values() if isinstance(keys.get(f.step), bytes)]
    for s, r in zip(steps, derived):
        note = chain_note(f"send ratchet_derive ({run.name})", script.suite, s, r)
        if note is None:
            continue
        if r.ok:
            run.causes.append(note)  # an explanation, not a grade: a cell fails only where frames do not cross
        else:
            grader.note(Grade.ERROR if _broken(r) else Grade.FAIL, note)
    requests = [Request("encrypt", {"suite": script.suite, "base_key": keys[f.step], "kid": f.kid, "ctr": f.ctr,
                                    "metadata": f.metadata, "plaintext": f.plaintext}) for f in frames]
    for i, (f, q, r) in enumerate(zip(frames, requests, adapter.run(requests))):
        grader.answer(i, Op("tx", "encrypt", {}, frame=f), r, q)


def chain_note(where: str, suite: int, steps: int, r: Response) -> str | None:
    """Why a ``ratchet_derive`` answer is not RFC 9605's key after ``steps`` steps, or None when it is."""
    if not r.ok:
        return None if _unsupported(r) else f"{where} steps={steps}: {_why(r)}"
    got, expected = r.fields.get("base_key"), sframe_py.ratchet_forward(get_suite(suite), BASE_KEY, steps)
    if got == expected:
        return None
    shown = got.hex()[:16] + f"... ({len(got)} bytes)" if isinstance(got, bytes) else repr(got)
    return (f"{where} steps={steps}: base_key {shown}, RFC 9605's is {expected.hex()[:16]}... "
            f"({len(expected)} bytes)")


def send(adapter: Adapter, script: Script) -> SenderRun:
    """Run ``script``'s sender on ``adapter``: natively, composed (ratchet), or not at all."""
    run = SenderRun(adapter.name, "native")
    handles, failed = _open(adapter, script.sender_contexts)
    if failed:
        first = next(iter(failed.values()))
        if script.kind == "ratchet" and _unsupported(first):
            run.mode = "composed"
            _composed_sender(adapter, script, run)
        elif _unsupported(first):
            run.mode = "unsupported"
        else:
            op = script.sender_contexts[next(iter(failed))].op
            run.records.append(("encrypt", Grade.ERROR if _broken(first) else Grade.FAIL,
                                f"send 0 {op} ({adapter.name}): {_why(first)}"))
        return run
    grader = _Sender(run, script.suite)
    _run_ops(adapter, grader, handles, script.sender)
    return run


class _Receiver:
    """Grades one receiver's answers into a cell."""

    def __init__(self, cell: Cell, name: str) -> None:
        self.cell, self.name = cell, name

    def setup(self, i: int, op: Op, r: Response) -> None:
        if not r.ok and not _unsupported(r):
            self.cell.record("decrypt", Grade.ERROR if _broken(r) else Grade.FAIL,
                             f"step {i} {op.op} ({self.name}) {op.ctx}: {_why(r)}")

    def delivery(self, i: int, d: Delivery, sealed: Sealed, r: Response) -> None:
        stand_in = "" if sealed.own else " (the reference's frame)"
        where = f"step {i} {d.ctx} ({self.name}) {'forged ' if d.forged else ''}{d.label}{stand_in}"
        check = "tamper" if d.errors else "decrypt"
        if _broken(r):
            self.cell.record(check, Grade.ERROR, f"{where}: {_why(r)}")
        elif _unsupported(r):
            self.cell.record(check, Grade.UNSUPPORTED)
        elif d.errors:
            if r.ok:
                self.cell.record(check, Grade.FAIL, f"{where}: decrypted, but must be refused ({'/'.join(d.errors)})")
            elif r.error in d.errors:
                self.cell.record(check, Grade.PASS)
            else:
                self.cell.record(check, Grade.NON_STRICT, f"{where}: refused with {r.error}, not "
                                 f"{'/'.join(d.errors)} ({ERROR_CLASS})")
        elif not r.ok:
            self.cell.record(check, Grade.FAIL, f"{where}: rejected with {r.error}: {r.message}")
        elif r.fields.get("plaintext") != sealed.frame.plaintext:
            self.cell.record(check, Grade.FAIL, f"{where}: decrypted to different plaintext")
        else:
            wrong = [f"{k} {r.fields.get(k)!r}, expected {v!r}" for k, v in d.expect.items() if r.fields.get(k) != v]
            self.cell.record(check, Grade.FAIL if wrong else Grade.PASS,
                             f"{where}: reported {'; '.join(wrong)}" if wrong else "")


def _ciphertext(sealed: Sealed, forged: bool) -> bytes:
    assert sealed.ciphertext is not None
    ct = sealed.ciphertext
    return ct[:-1] + bytes([ct[-1] ^ 0x01]) if forged else ct


def _decrypt_request(d: Delivery, sealed: Sealed, handles: dict[str, str]) -> Request:
    op = "mls_decrypt" if d.ctx in ("member", "removed") else "context_decrypt"
    return Request(op, {"ctx": handles[d.ctx], "metadata": sealed.frame.metadata,
                        "ciphertext": _ciphertext(sealed, d.forged)})


def _native_receiver(adapter: Adapter, script: Script, sender: SenderRun, grader: _Receiver,
                     handles: dict[str, str]) -> None:
    steps: list[tuple[int, Step]] = []
    for i, s in enumerate(script.receiver):
        if s.ctx not in handles:
            continue
        if isinstance(s, Delivery):
            sealed = sender.sealed.get(s.label)
            if sealed is None or sealed.ciphertext is None:
                continue  # the sender could not make it (unsupported): nothing to deliver
        steps.append((i, s))
    setup = [(i, s) for i, s in steps if isinstance(s, Op) and s.setup]
    for (i, op), r in zip(setup, adapter.run([_request(op, handles) for _, op in setup])):
        assert isinstance(op, Op)
        grader.setup(i, op, r)
    rest = [(i, s) for i, s in steps if not (isinstance(s, Op) and s.setup)]
    requests = [_request(s, handles) if isinstance(s, Op) else _decrypt_request(s, sender.sealed[s.label], handles)
                for _, s in rest]
    for (i, s), r in zip(rest, adapter.run(requests)):
        if isinstance(s, Op):
            grader.setup(i, s, r)
        else:
            grader.delivery(i, s, sender.sealed[s.label], r)


def _composed_receiver(adapter: Adapter, script: Script, sender: SenderRun, grader: _Receiver) -> list[str]:
    """A ratchet receiver from ``ratchet_derive`` and the stateless ``decrypt``: the chain is checked, the window
    is not (it would be the harness's)."""
    deliveries = [(i, s) for i, s in enumerate(script.receiver) if isinstance(s, Delivery)
                  and s.label in sender.sealed and sender.sealed[s.label].ciphertext is not None]
    for _, d in deliveries:
        if d.window:
            grader.cell.record("tamper", Grade.UNSUPPORTED)
    deliveries = [(i, d) for i, d in deliveries if not d.window]
    steps = sorted({sender.sealed[d.label].frame.step for _, d in deliveries})
    derived = dict(zip(steps, adapter.run([Request("ratchet_derive", {"suite": script.suite, "base_key": BASE_KEY,
                                                                      "steps": s}) for s in steps])))
    usable = [(i, d) for i, d in deliveries if derived[sender.sealed[d.label].frame.step].ok]
    causes = []
    for s, r in derived.items():
        note = chain_note(f"step ratchet_derive ({adapter.name})", script.suite, s, r)
        if note is not None and r.ok:
            causes.append(note)
        elif note is not None:
            grader.cell.record("decrypt", Grade.ERROR if _broken(r) else Grade.FAIL, note)
    requests = []
    for _, d in usable:
        sealed = sender.sealed[d.label]
        key = derived[sealed.frame.step].fields.get("base_key")
        requests.append(Request("decrypt", {"suite": script.suite, "base_key": key, "kid": sealed.frame.kid,
                                            "metadata": sealed.frame.metadata,
                                            "ciphertext": _ciphertext(sealed, d.forged)}))
    for (i, d), r in zip(usable, adapter.run(requests)):
        grader.delivery(i, Delivery(d.ctx, d.label, {}, d.errors, d.forged), sender.sealed[d.label], r)  # plaintext only
    return causes


def receive(adapter: Adapter, script: Script, sender: SenderRun, own: SenderRun | None) -> Cell:
    """One cell: ``adapter`` receives ``sender``'s frames; ``own`` is its own sender run (for identity)."""
    start = time.perf_counter()
    cell = Cell(sender.name, adapter.name, script.suite, kind=script.kind)
    for check, grade, note in sender.records:
        cell.record(check, grade, note)
    if own is not None and own.mode != "unsupported":
        _identity(cell, sender, own)
    grader = _Receiver(cell, adapter.name)
    handles, failed = _open(adapter, script.receiver_contexts)
    causes = list(sender.causes)
    if failed:
        first = next(iter(failed.values()))
        if script.kind == "ratchet" and _unsupported(first):
            causes += _composed_receiver(adapter, script, sender, grader)
        elif not _unsupported(first):
            cell.record("decrypt", Grade.ERROR if _broken(first) else Grade.FAIL,
                        f"step 0 {script.receiver_contexts[next(iter(failed))].op} ({adapter.name}): {_why(first)}")
    else:
        _native_receiver(adapter, script, sender, grader, handles)
    if cell.grade is Grade.FAIL and causes:
        cell.failures[:0] = causes[:2]  # the first step where a chain left RFC 9605 explains the rest
        del cell.failures[_NOTES:]
    cell.elapsed = time.perf_counter() - start
    return cell


def _identity(cell: Cell, a: SenderRun, b: SenderRun) -> None:
    for label, mine in a.sealed.items():
        theirs = b.sealed.get(label)
        if theirs is None or not (mine.own and theirs.own):
            cell.record("identity", Grade.UNSUPPORTED)
        elif mine.ciphertext == theirs.ciphertext:
            cell.record("identity", Grade.PASS)
        else:
            assert mine.ciphertext is not None and theirs.ciphertext is not None
            cell.record("identity", Grade.FAIL, f"identity ({a.name} vs {b.name}) {label}: ciphertexts differ "
                        f"({mine.ciphertext[:8].hex()}... vs {theirs.ciphertext[:8].hex()}...)")


def takes_part(adapter: Adapter, kind: str, suite: int) -> bool:
    return suite in adapter.hello.suites and any(c in adapter.hello.capabilities for c in CAPABILITIES[kind])


def run_stateful(adapters: Sequence[Adapter], suites: Sequence[int], kinds: Sequence[str] = KINDS,
                 on_progress: OnProgress | None = None) -> list[Cell]:
    """Every stateful cell over ``adapters``: senders first (one thread per implementation), then receivers."""
    scripts = {(k, s): SCRIPTS[k](s) for k in kinds for s in suites
               if any(takes_part(a, k, s) for a in adapters)}

    def send_all(a: Adapter) -> dict[tuple[str, int], SenderRun]:
        return {key: send(a, script) for key, script in scripts.items() if takes_part(a, *key)}

    with ThreadPoolExecutor(max_workers=max(1, len(adapters))) as pool:
        runs = dict(zip((a.name for a in adapters), pool.map(send_all, adapters)))
        pairs = [(key, e.name, d) for d in adapters for key in scripts for e in adapters
                 if takes_part(d, *key) and key in runs[e.name] and runs[e.name][key].mode != "unsupported"]
        done, lock = [0], threading.Lock()

        def receive_all(d: Adapter) -> list[Cell]:
            cells = []
            for key, enc, dec in pairs:
                if dec is not d:
                    continue
                cells.append(receive(d, scripts[key], runs[enc][key], runs[d.name].get(key)))
                if on_progress is not None:
                    with lock:
                        done[0] += 1
                        on_progress(done[0], len(pairs), 0)
            return cells

        rows = list(pool.map(receive_all, adapters))
    order = {a.name: i for i, a in enumerate(adapters)}
    cells = [c for row in rows for c in row]
    cells.sort(key=lambda c: (KINDS.index(c.kind), c.suite, order[c.encryptor], order[c.decryptor]))
    return cells


def add_stateful(matrix: Matrix, adapters: Sequence[Adapter], kinds: Sequence[str] = KINDS,
                 on_progress: OnProgress | None = None) -> Matrix:
    """``matrix`` with the stateful cells and the ratchet known-answer table added (in place)."""
    from .ratchet_kat import ratchet_kat

    start = time.perf_counter()
    matrix.cells += run_stateful(adapters, matrix.suites, kinds, on_progress)
    if "ratchet" in kinds:
        matrix.ratchet_kat = ratchet_kat(adapters, matrix.suites)
    matrix.stateful_duration = time.perf_counter() - start
    return matrix


def summary_lines(matrix: Matrix) -> list[str]:
    """The stateful cells and the known-answer table in a few plain lines (the CLI escapes them)."""
    stateful = [c for c in matrix.cells if c.kind != FRAMES]
    if not stateful and matrix.ratchet_kat is None:
        return []
    counts = {k: Counter(c.grade.value for c in stateful if c.kind == k) for k in KINDS}
    lines = [f"stateful: {len(stateful)} cells in {matrix.stateful_duration:.2f}s: " + "; ".join(
        f"{k} " + ", ".join(f"{n} {g}" for g, n in sorted(v.items())) for k, v in counts.items() if v)]
    if matrix.ratchet_kat is not None:
        table = matrix.ratchet_kat.disagreements()
        off = [f"{name} {bad}/{total}" for name, (bad, total) in table.items() if bad]
        lines.append(f"ratchet known answers (1, 2, 10 steps): {len(table)} implementations; "
                     + ("differ from RFC 9605: " + ", ".join(off) if off else "all agree with RFC 9605"))
    return lines
