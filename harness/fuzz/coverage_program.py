"""Fuzz inputs as programs of protocol operations, for the coverage-guided campaign.

An input is a sequence of *records*: ``tag`` (1 byte), ``length`` (1 byte),
then ``length`` bytes of body. The tag picks an operation among those every
implementation of the campaign supports (``Plan``); the body holds its fields,
fixed-size ones first and length-prefixed blobs last, so a mutation inside one
record never changes how the others read. Any bytes decode to a program (short
bodies read as zeros); ``encode`` is the inverse for the fields' canonical form,
which is how seeds are written and shrunk programs saved.

Operations:

- stateless: ``encrypt``, ``decrypt`` of a frame the reference builds and may
  damage (``difffuzz.Recipe``: the same recipes the random campaign uses),
  ``encode_header``, ``decode_header``, ``ratchet_derive``;
- stateful (capabilities ``context``, ``ratchet``, ``mls``, ``replay``): a
  record that creates a context (``context_new``, ``ratchet_sender_new``,
  ``ratchet_receiver_new``, ``mls_context_new``), and records acting on the
  n-th context created so far: keys, encrypt, decrypt of frames the harness
  builds for that context (a ratchet step's KID and key, an MLS epoch's KID),
  advance, epochs, free.

Rules of this module:

- Running a program is two batches per implementation: every creation first
  (contexts are independent of each other and of the stateless ops, so
  hoisting them changes nothing), then the rest in program order, each
  context named by the handle *that* implementation returned, then a
  ``context_free`` of every context left, so no state outlives the input.
- The answers are compared step by step with difffuzz's oracle
  (``difffuzz.compare``); the first step that disagrees is the finding.
- Values are bounded where an implementation may legitimately take long
  (ratchet steps, sizes), so a slow input is a finding only when it hangs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

import sframe_py

from ..adapters.base import Adapter
from ..model.allowances import Allowance, either_way, refusal
from ..model.cases import Case, Expected, Ref, Step
from ..model.protocol import ERROR_CLASSES
from ..model.requirements import Level
from ..model.wire import Request, Response
from .difffuzz import MUTATIONS, RESULT_FIELDS, Key, Recipe, _smaller_bytes, _smaller_ints, compare

MAX_RECORDS = 8  # more ops per input means fewer inputs per second, and each mutation dilutes
MAX_INPUT = 4096
MAX_BLOB = 255
MAX_RATCHET_STEPS = 15
# Keys a one-byte key field selects; RFC 9605's vectors use the first.
KEYS = (bytes(range(16)), bytes(range(32)), bytes([0x42]) * 16, bytes(range(64)), bytes(16))
MISSING_CTX = "ctx-not-created"
# Ratchet R values a record can pick: every small one, and the invalid 0, 64 and 65. A large R is legal
# but lets one frame ask for up to 2^R - 1 derivations, seconds per input in an implementation that
# derives without a bound, which would spend the campaign on that one slow path.
RATCHET_BITS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 64, 65)


# ---------------------------------------------------------------------------
# Bytes
# ---------------------------------------------------------------------------


class Reader:
    """Reads a record body; past its end every field reads as zero or empty. A kind of field is read by
    one method here and written back by the Writer method of the same name (``u8`` for the bounded ones)."""

    def __init__(self, data: bytes, plan: Plan) -> None:
        self.data = data
        self.plan = plan
        self.pos = 0

    def take(self, n: int) -> bytes:
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out + bytes(n - len(out))

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u64(self) -> int:
        """A length byte (mod 9) and that many big-endian bytes."""
        return int.from_bytes(self.take(self.u8() % 9), "big")

    def blob(self) -> bytes:
        n = self.u8()
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def flag(self) -> bool:
        return bool(self.u8() & 1)

    def suite(self) -> int:
        return self.plan.suite(self.u8())

    def key(self) -> bytes:
        return key_field(self.blob())

    def mutation(self) -> str:
        return MUTATIONS[self.u8() % len(MUTATIONS)]

    def steps(self) -> int:
        """Ratchet steps, bounded (module rules)."""
        return self.u8() % (MAX_RATCHET_STEPS + 1)

    def kid_bits(self) -> int:
        """An MLS KID layout's bit count: 0 to 65, so 64 and 65 (invalid with any other field) occur."""
        return self.u8() % 66

    def replay(self) -> int | None:
        """0: no replay window; 255: window 0 (invalid); else that window. None where not every
        implementation has the ``replay`` capability (the byte is read all the same)."""
        raw = self.u8()
        if not self.plan.has("replay"):
            return None
        return None if raw == 0 else (0 if raw == 255 else raw)


class Writer:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.out = bytearray()

    def suite(self, value: int) -> Writer:
        return self.u8(self.plan.suites.index(value))

    def u8(self, value: int) -> Writer:
        self.out.append(value & 0xFF)
        return self

    def u16(self, value: int) -> Writer:
        self.out += (value & 0xFFFF).to_bytes(2, "big")
        return self

    def u64(self, value: int) -> Writer:
        raw = value.to_bytes(8, "big").lstrip(b"\0")
        self.out.append(len(raw))
        self.out += raw
        return self

    def blob(self, value: bytes) -> Writer:
        value = value[:MAX_BLOB]
        self.out.append(len(value))
        self.out += value
        return self

    def flag(self, value: bool) -> Writer:
        return self.u8(int(value))

    def key(self, value: bytes) -> Writer:
        return self.blob(key_raw(value))

    def mutation(self, value: str) -> Writer:
        return self.u8(MUTATIONS.index(value))

    def replay(self, window: int | None) -> Writer:
        return self.u8(0 if window is None else (255 if window == 0 else window))


@dataclass(frozen=True)
class Field:
    """One kind of record field: how it reads and how it is written back in canonical form."""

    read: Callable[[Reader], Any]
    write: Callable[[Writer, Any], Writer]


U8, U16, U64 = Field(Reader.u8, Writer.u8), Field(Reader.u16, Writer.u16), Field(Reader.u64, Writer.u64)
BLOB, FLAG, KEY = Field(Reader.blob, Writer.blob), Field(Reader.flag, Writer.flag), Field(Reader.key, Writer.key)
SUITE, MUTATION = Field(Reader.suite, Writer.suite), Field(Reader.mutation, Writer.mutation)
STEPS, KID_BITS = Field(Reader.steps, Writer.u8), Field(Reader.kid_bits, Writer.u8)
REPLAY = Field(Reader.replay, Writer.replay)
Layout = tuple[tuple[str, Field], ...]  # (field name, its kind), in body order


def key_field(raw: bytes) -> bytes:
    """An empty key field is KEYS[0], one byte selects from KEYS, more is the key itself."""
    if not raw:
        return KEYS[0]
    return KEYS[raw[0] % len(KEYS)] if len(raw) == 1 else raw


def key_raw(key: bytes) -> bytes:
    return bytes([KEYS.index(key)]) if key in KEYS else key


def records(data: bytes) -> list[tuple[int, bytes]]:
    """(tag, body) of each record, at most MAX_RECORDS."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos + 1 < len(data) and len(out) < MAX_RECORDS:
        tag, n = data[pos], data[pos + 1]
        out.append((tag, data[pos + 2:pos + 2 + n]))
        pos += 2 + n
    return out


def join_records(items: Sequence[tuple[int, bytes]]) -> bytes:
    return b"".join(bytes([tag, len(body[:255])]) + body[:255] for tag, body in items[:MAX_RECORDS])


# ---------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One record. ``kind`` is its tag's meaning; ``wire`` names its fields in body order, each with its
    kind. An op whose body is not its fields one after the other (a flags byte that says whether a field
    counts) overrides ``read`` and ``write`` instead."""

    kind: ClassVar[str] = ""
    # Capabilities every implementation needs ("a|b": either one).
    needs: ClassVar[tuple[str, ...]] = ()
    creates: ClassVar[bool] = False  # a context-creating op (the first batch)
    wire: ClassVar[Layout] = ()

    def write(self, w: Writer) -> None:
        for name, spec in self.wire:
            spec.write(w, getattr(self, name))

    @classmethod
    def read(cls, r: Reader) -> Op:
        return cls(**{name: spec.read(r) for name, spec in cls.wire})


@dataclass(frozen=True)
class Stateless(Op):
    """An op that is exactly one difffuzz recipe (of op ``kind``): ``wire`` names the recipe's fields
    the body holds; the others keep Recipe's defaults."""

    recipe: Recipe = field(default_factory=lambda: Recipe("encrypt"))

    def write(self, w: Writer) -> None:
        for name, spec in self.wire:
            spec.write(w, getattr(self.recipe, name))

    @classmethod
    def read(cls, r: Reader) -> Op:
        return cls(Recipe(cls.kind, **{name: spec.read(r) for name, spec in cls.wire}))


@dataclass(frozen=True)
class EncryptOp(Stateless):
    kind = "encrypt"
    wire = (("suite", SUITE), ("kid", U64), ("ctr", U64), ("base_key", KEY), ("metadata", BLOB),
            ("plaintext", BLOB))


@dataclass(frozen=True)
class DecryptOp(Stateless):
    kind = "decrypt"
    wire = (("suite", SUITE), ("kid", U64), ("ctr", U64), ("mutation", MUTATION), ("position", U16),
            ("base_key", KEY), ("metadata", BLOB), ("plaintext", BLOB), ("data", BLOB))


@dataclass(frozen=True)
class EncodeHeaderOp(Stateless):
    kind = "encode_header"
    needs = ("encode_header",)
    wire = (("kid", U64), ("ctr", U64))


@dataclass(frozen=True)
class DecodeHeaderOp(Stateless):
    kind = "decode_header"
    needs = ("decode_header",)
    wire = (("data", BLOB),)


@dataclass(frozen=True)
class RatchetDeriveOp(Op):
    kind = "ratchet_derive"
    needs = ("ratchet|ratchet_derive",)
    wire = (("suite", SUITE), ("steps", STEPS), ("base_key", KEY))
    suite: int = 4
    steps: int = 0
    base_key: bytes = KEYS[0]


@dataclass(frozen=True)
class DeriveOp(Op):
    kind = "derive"
    needs = ("derive",)
    wire = (("suite", SUITE), ("kid", U64), ("base_key", KEY))
    suite: int = 4
    kid: int = 0
    base_key: bytes = KEYS[0]


@dataclass(frozen=True)
class AeadOp(Op):
    """``aead_encrypt``, or ``aead_decrypt`` of what the reference sealed, its bit ``flip`` flipped (0: none).
    An empty key is the suite's Nk bytes 0, 1, 2, ...; the nonce is cut or padded to 12 bytes unless ``raw``."""

    kind = "aead"
    needs = ("aead_encrypt", "aead_decrypt")
    decrypt: bool = False
    raw: bool = False
    suite: int = 4
    flip: int = 0
    key: bytes = b""
    nonce: bytes = b""
    aad: bytes = b""
    plaintext: bytes = b""

    @classmethod
    def read(cls, r: Reader) -> Op:
        flags, suite, flip = r.u8(), r.suite(), r.u16()
        return cls(bool(flags & 1), bool(flags & 2), suite, flip, r.blob(), r.blob(), r.blob(), r.blob())

    def write(self, w: Writer) -> None:
        w.u8(int(self.decrypt) | (2 if self.raw else 0)).suite(self.suite).u16(self.flip)
        w.blob(self.key).blob(self.nonce).blob(self.aad).blob(self.plaintext)

    def fields(self) -> dict[str, Any]:
        try:
            nk = sframe_py.get_suite(self.suite).nk
        except sframe_py.SFrameError:
            nk = 16
        key = self.key or bytes(range(nk))
        nonce = self.nonce if self.raw else (self.nonce + bytes(12))[:12]
        if not self.decrypt:
            return {"suite": self.suite, "key": key, "nonce": nonce, "aad": self.aad, "plaintext": self.plaintext}
        try:
            sealed = bytearray(sframe_py.make_aead(sframe_py.get_suite(self.suite), key).seal(nonce, self.aad,
                                                                                          self.plaintext))
        except sframe_py.SFrameError:
            sealed = bytearray(self.plaintext)
        if self.flip and sealed:
            bit = (self.flip - 1) % (8 * len(sealed))
            sealed[bit // 8] ^= 0x80 >> (bit % 8)
        return {"suite": self.suite, "key": key, "nonce": nonce, "aad": self.aad, "ciphertext": bytes(sealed)}


@dataclass(frozen=True)
class ContextNewOp(Op):
    kind = "context_new"
    needs = ("context",)
    creates = True
    wire = (("suite", SUITE), ("replay_window", REPLAY))
    suite: int = 4
    replay_window: int | None = None


@dataclass(frozen=True)
class RatchetNewOp(Op):
    """``ratchet_sender_new`` (step 0) or ``ratchet_receiver_new`` (its base key is that of ``step``)."""

    kind = "ratchet_new"
    needs = ("ratchet",)
    creates = True
    receiver: bool = False
    suite: int = 4
    generation: int = 0
    bits: int = 8
    step: int = 0
    base_key: bytes = KEYS[0]

    @classmethod
    def read(cls, r: Reader) -> Op:
        flags, suite, generation, bits, step = r.u8(), r.suite(), r.u64(), r.u8(), r.u8()
        return cls(bool(flags & 1), suite, generation, RATCHET_BITS[bits % len(RATCHET_BITS)],
                   step if flags & 1 else 0, r.key())

    def write(self, w: Writer) -> None:
        w.u8(int(self.receiver)).suite(self.suite).u64(self.generation).u8(RATCHET_BITS.index(self.bits))
        w.u8(self.step)
        w.key(self.base_key)


@dataclass(frozen=True)
class MlsNewOp(Op):
    kind = "mls_context_new"
    needs = ("mls",)
    creates = True
    wire = (("suite", SUITE), ("epoch_bits", KID_BITS), ("sender_bits", KID_BITS), ("replay_window", REPLAY))
    suite: int = 4
    epoch_bits: int = 2
    sender_bits: int = 4
    replay_window: int | None = None


@dataclass(frozen=True)
class OnContext(Op):
    """An op on the ``context``-th context created before it (index into the program's creations)."""

    wire: ClassVar[Layout] = (("context", U8),)
    context: int = 0


@dataclass(frozen=True)
class AddKeyOp(OnContext):
    kind = "context_add_key"
    needs = ("context",)
    kid: int = 0
    send: bool = False
    next_ctr: int | None = None
    base_key: bytes = KEYS[0]

    @classmethod
    def read(cls, r: Reader) -> Op:
        context, flags, kid, next_ctr = r.u8(), r.u8(), r.u64(), r.u64()
        return cls(context, kid, bool(flags & 1), next_ctr if flags & 2 else None, r.key())

    def write(self, w: Writer) -> None:
        w.u8(self.context).u8(int(self.send) | (2 if self.next_ctr is not None else 0)).u64(self.kid)
        w.u64(self.next_ctr or 0).key(self.base_key)


@dataclass(frozen=True)
class RemoveKeyOp(OnContext):
    kind = "context_remove_key"
    needs = ("context",)
    wire = (*OnContext.wire, ("kid", U64))
    kid: int = 0


@dataclass(frozen=True)
class ContextEncryptOp(OnContext):
    """``context_encrypt``; ``kid`` None leaves it out (a ratchet sender's current step)."""

    kind = "context_encrypt"
    needs = ("context",)
    kid: int | None = 0
    metadata: bytes = b""
    plaintext: bytes = b""

    @classmethod
    def read(cls, r: Reader) -> Op:
        context, flags, kid = r.u8(), r.u8(), r.u64()
        return cls(context, None if flags & 1 else kid, r.blob(), r.blob())

    def write(self, w: Writer) -> None:
        w.u8(self.context).u8(int(self.kid is None)).u64(self.kid or 0).blob(self.metadata).blob(self.plaintext)


@dataclass(frozen=True)
class FrameSpec:
    """A frame the harness builds for a decrypt: ``recipe`` gives key, KID, CTR, payload and damage;
    ``derived`` replaces KID and key by the context's own (a ratchet step, an MLS epoch's sender)."""

    recipe: Recipe
    derived: bool = False
    step: int = 0  # ratchet: steps after the context's first; MLS: sender_index
    context_id: int = 0  # MLS only


@dataclass(frozen=True)
class ContextDecryptOp(OnContext):
    """``context_decrypt`` or, on an MLS context, ``mls_decrypt`` (with ``recipe.kid`` as the epoch)."""

    kind = "context_decrypt"
    needs = ("context|mls",)
    frame: FrameSpec = field(default_factory=lambda: FrameSpec(Recipe("decrypt")))

    @classmethod
    def read(cls, r: Reader) -> Op:
        context, derived, step, kid, ctr, context_id = r.u8(), r.flag(), r.steps(), r.u64(), r.u64(), r.u64()
        mutation, position = r.mutation(), r.u16()
        key, metadata, plaintext, data = r.key(), r.blob(), r.blob(), r.blob()
        recipe = Recipe("decrypt", 4, key, kid, ctr, metadata, plaintext, mutation, position, data)
        return cls(context, FrameSpec(recipe, derived, step, context_id))

    def write(self, w: Writer) -> None:
        f, x = self.frame, self.frame.recipe
        w.u8(self.context).flag(f.derived).u8(f.step).u64(x.kid).u64(x.ctr).u64(f.context_id)
        w.mutation(x.mutation).u16(x.position)
        w.key(x.base_key).blob(x.metadata).blob(x.plaintext).blob(x.data)


@dataclass(frozen=True)
class AdvanceOp(OnContext):
    kind = "ratchet_advance"
    needs = ("ratchet",)


@dataclass(frozen=True)
class EpochOp(OnContext):
    """``mls_add_epoch`` (with ``secret``) or ``mls_remove_epoch``."""

    kind = "mls_epoch"
    needs = ("mls",)
    wire = (*OnContext.wire, ("remove", FLAG), ("epoch", U64), ("secret", KEY))
    remove: bool = False
    epoch: int = 0
    secret: bytes = KEYS[0]


@dataclass(frozen=True)
class MlsEncryptOp(OnContext):
    kind = "mls_encrypt"
    needs = ("mls",)
    epoch: int = 0
    sender_index: int = 0
    context_id: int = 0
    wire = (*OnContext.wire, ("epoch", U64), ("sender_index", U64), ("context_id", U64), ("metadata", BLOB),
            ("plaintext", BLOB))
    metadata: bytes = b""
    plaintext: bytes = b""


@dataclass(frozen=True)
class FreeOp(OnContext):
    kind = "context_free"
    needs = ("context|ratchet|mls",)


# The tag of a record is its index here, modulo the kinds the campaign's implementations all support.
KINDS: tuple[type[Op], ...] = (EncryptOp, DecryptOp, EncodeHeaderOp, DecodeHeaderOp, RatchetDeriveOp, ContextNewOp,
                               RatchetNewOp, MlsNewOp, AddKeyOp, RemoveKeyOp, ContextEncryptOp, ContextDecryptOp,
                               AdvanceOp, EpochOp, MlsEncryptOp, FreeOp, DeriveOp, AeadOp)


# ---------------------------------------------------------------------------
# Plans: what a set of implementations supports
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:  # not slotted: cached_property stores in __dict__
    """The suites and capabilities every implementation of the campaign has, and the kinds they allow."""

    suites: tuple[int, ...]
    capabilities: frozenset[str]

    @classmethod
    def of(cls, adapters: Sequence[Adapter]) -> Plan:
        suites = set.intersection(*(set(a.hello.suites) for a in adapters)) if adapters else {4}
        caps = frozenset.intersection(*(frozenset(a.hello.capabilities) for a in adapters)) if adapters else frozenset()
        return cls(tuple(sorted(suites)) or (4,), caps)

    def has(self, capability: str) -> bool:
        return any(c in self.capabilities for c in capability.split("|"))

    @functools.cached_property
    def kinds(self) -> tuple[type[Op], ...]:
        return tuple(k for k in KINDS if all(self.has(n) for n in k.needs))

    def suite(self, raw: int) -> int:
        return self.suites[raw % len(self.suites)]

    def tag(self, kind: type[Op]) -> int:
        return self.kinds.index(kind)

    def decode(self, data: bytes) -> list[Op]:
        kinds = self.kinds
        return [kinds[tag % len(kinds)].read(Reader(body, self)) for tag, body in records(data[:MAX_INPUT])]

    def encode(self, ops: Sequence[Op]) -> bytes:
        items = []
        for op in ops:
            w = Writer(self)
            op.write(w)
            items.append((self.tag(type(op)), bytes(w.out)))
        return join_records(items)


# ---------------------------------------------------------------------------
# From operations to requests
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Ctx:
    """A request field naming the context created by program step ``step``."""

    step: int


@dataclass(frozen=True)
class PlannedStep:
    op: str
    fields: dict[str, Any]
    suite: int | None = None  # for the oracle's dedup key
    creates: bool = False
    allowance: Allowance | None = None  # what RFC 9605 lets differ here that the request alone does not show


def _ratchet_kid(generation: int, bits: int, step: int) -> int:
    return ((generation << bits) + (step % (1 << bits))) & ((1 << 64) - 1)


def _mls_kid(context_id: int, sender: int, epoch: int, e: int, s: int) -> int:
    return ((context_id << (s + e)) + (sender << e) + (epoch % (1 << e))) & ((1 << 64) - 1)


def _frame(spec: FrameSpec, creator: Op | None, epochs: dict[int, bytes]) -> tuple[bytes, int]:
    """The ciphertext of a decrypt on a context, and the suite it is for."""
    x = spec.recipe
    if isinstance(creator, (ContextNewOp, RatchetNewOp, MlsNewOp)):
        x = dataclasses.replace(x, suite=creator.suite)
    if spec.derived and isinstance(creator, RatchetNewOp) and 1 <= creator.bits <= 63:
        try:
            key = sframe_py.ratchet_forward(sframe_py.get_suite(x.suite), creator.base_key, spec.step)
        except sframe_py.SFrameError:
            key = creator.base_key
        x = dataclasses.replace(x, base_key=key, kid=_ratchet_kid(creator.generation, creator.bits,
                                                                  creator.step + spec.step))
    elif spec.derived and isinstance(creator, MlsNewOp) and creator.epoch_bits + creator.sender_bits <= 64:
        kid = _mls_kid(spec.context_id, spec.step, x.kid, creator.epoch_bits, creator.sender_bits)
        x = dataclasses.replace(x, base_key=epochs.get(x.kid, x.base_key), kid=kid)
    return x.ciphertext(), x.suite


def fits(op: OnContext, creator: Op) -> bool:
    """Does ``op`` act on the kind of context ``creator`` makes? An op on a context of another kind still
    runs (the checks that refuse it are code to reach), under ``Allowance.CONTEXT_KIND``: it tests the
    harness protocol's context kinds, not RFC 9605, so accepting it is a note, never a disagreement."""
    if isinstance(op, (AddKeyOp, RemoveKeyOp)):
        return isinstance(creator, ContextNewOp)
    if isinstance(op, ContextEncryptOp):
        return isinstance(creator, ContextNewOp) or (isinstance(creator, RatchetNewOp) and not creator.receiver)
    if isinstance(op, AdvanceOp):
        return isinstance(creator, RatchetNewOp) and not creator.receiver
    if isinstance(op, (EpochOp, MlsEncryptOp)):
        return isinstance(creator, MlsNewOp)
    return True  # decrypt (context_decrypt or mls_decrypt by kind) and free fit every context


def plan_steps(ops: Sequence[Op]) -> list[PlannedStep]:
    """The requests of a program, creations first, then the rest, then frees of what is left."""
    creations = [i for i, op in enumerate(ops) if op.creates]
    steps: list[PlannedStep] = []
    for i in creations:
        steps.append(_creation(ops[i]))
    index_of = {op_index: step for step, op_index in enumerate(creations)}
    seen: list[int] = []  # creations so far, in program order
    live: dict[int, bool] = {}
    epochs: dict[int, dict[int, bytes]] = {}  # per creation step: epoch -> secret, as added so far
    for i, op in enumerate(ops):
        if op.creates:
            seen.append(index_of[i])
            live[index_of[i]] = True
            continue
        if isinstance(op, OnContext):
            if not seen:
                continue  # no context yet: the record does nothing
            step = seen[op.context % len(seen)]
            creator = ops[creations[step]]
            if isinstance(op, FreeOp):
                live[step] = False
            planned = _on_context(op, Ctx(step), creator, epochs.setdefault(step, {}))
            steps.append(planned if fits(op, creator) else dataclasses.replace(planned, allowance=Allowance.CONTEXT_KIND))
        elif isinstance(op, Stateless):
            x = op.recipe
            steps.append(PlannedStep(x.op, x.request().fields, x.suite if x.op in ("encrypt", "decrypt") else None))
        elif isinstance(op, DeriveOp):
            steps.append(PlannedStep("derive", {"suite": op.suite, "base_key": op.base_key, "kid": op.kid}, op.suite))
        elif isinstance(op, AeadOp):
            steps.append(PlannedStep("aead_decrypt" if op.decrypt else "aead_encrypt", op.fields(), op.suite))
        elif isinstance(op, RatchetDeriveOp):
            steps.append(PlannedStep("ratchet_derive", {"suite": op.suite, "base_key": op.base_key,
                                                        "steps": op.steps}, op.suite))
    steps += [PlannedStep("context_free", {"ctx": Ctx(step)}) for step, alive in live.items() if alive]
    return steps


def _creation(op: Op) -> PlannedStep:
    if isinstance(op, ContextNewOp):
        fields: dict[str, Any] = {"suite": op.suite}
        if op.replay_window is not None:
            fields["replay_window"] = op.replay_window
        return PlannedStep("context_new", fields, op.suite, creates=True)
    if isinstance(op, RatchetNewOp):
        fields = {"suite": op.suite, "base_key": op.base_key, "generation": op.generation, "ratchet_bits": op.bits}
        if op.receiver:
            return PlannedStep("ratchet_receiver_new", {**fields, "step": op.step}, op.suite, creates=True)
        return PlannedStep("ratchet_sender_new", fields, op.suite, creates=True)
    assert isinstance(op, MlsNewOp)
    fields = {"suite": op.suite, "epoch_bits": op.epoch_bits, "sender_bits": op.sender_bits}
    if op.replay_window is not None:
        fields["replay_window"] = op.replay_window
    return PlannedStep("mls_context_new", fields, op.suite, creates=True)


def _on_context(op: OnContext, ctx: Ctx, creator: Op, epochs: dict[int, bytes]) -> PlannedStep:
    suite = getattr(creator, "suite", None)
    if isinstance(op, AddKeyOp):
        fields: dict[str, Any] = {"ctx": ctx, "kid": op.kid, "base_key": op.base_key,
                                  "usage": "send" if op.send else "recv"}
        if op.next_ctr is not None:
            fields["next_ctr"] = op.next_ctr
        return PlannedStep("context_add_key", fields, suite)
    if isinstance(op, RemoveKeyOp):
        return PlannedStep("context_remove_key", {"ctx": ctx, "kid": op.kid}, suite)
    if isinstance(op, ContextEncryptOp):
        fields = {"ctx": ctx, "metadata": op.metadata, "plaintext": op.plaintext}
        if op.kid is not None:
            fields["kid"] = op.kid
        return PlannedStep("context_encrypt", fields, suite)
    if isinstance(op, ContextDecryptOp):
        ciphertext, suite = _frame(op.frame, creator, epochs)
        name = "mls_decrypt" if isinstance(creator, MlsNewOp) else "context_decrypt"
        return PlannedStep(name, {"ctx": ctx, "metadata": op.frame.recipe.metadata, "ciphertext": ciphertext}, suite)
    if isinstance(op, AdvanceOp):
        return PlannedStep("ratchet_advance", {"ctx": ctx}, suite)
    if isinstance(op, EpochOp):
        if op.remove:
            epochs.pop(op.epoch, None)
            return PlannedStep("mls_remove_epoch", {"ctx": ctx, "epoch": op.epoch}, suite)
        epochs[op.epoch] = op.secret
        return PlannedStep("mls_add_epoch", {"ctx": ctx, "epoch": op.epoch, "epoch_secret": op.secret}, suite)
    if isinstance(op, MlsEncryptOp):
        return PlannedStep("mls_encrypt", {"ctx": ctx, "epoch": op.epoch, "sender_index": op.sender_index,
                                           "context_id": op.context_id, "metadata": op.metadata,
                                           "plaintext": op.plaintext}, suite)
    assert isinstance(op, FreeOp)
    return PlannedStep("context_free", {"ctx": ctx}, suite)


# ---------------------------------------------------------------------------
# Running and judging
# ---------------------------------------------------------------------------


def _bind(fields: dict[str, Any], handles: dict[int, str]) -> dict[str, Any]:
    return {k: handles.get(v.step, MISSING_CTX) if isinstance(v, Ctx) else v for k, v in fields.items()}


def run_program(adapter: Adapter, steps: Sequence[PlannedStep]) -> list[Response]:
    """One implementation's answers: the creations in one batch, everything else in a second."""
    try:
        first = [i for i, s in enumerate(steps) if s.creates]
        answers = adapter.run([Request(steps[i].op, steps[i].fields) for i in first]) if first else []
        handles = {i: str(r.fields["ctx"]) for i, r in zip(first, answers)
                   if r.ok and isinstance(r.fields.get("ctx"), str)}
        rest = [i for i, s in enumerate(steps) if not s.creates]
        later = adapter.run([Request(steps[i].op, _bind(steps[i].fields, handles)) for i in rest]) if rest else []
    except Exception as e:  # noqa: BLE001 - an in-process implementation crashing is a finding
        return [Response.faulted(f"uncaught {type(e).__name__}: {e}") for _ in steps]
    out: list[Response | None] = [None] * len(steps)
    for i, r in zip(first, answers):
        out[i] = r
    for i, r in zip(rest, later):
        out[i] = r
    return [r if r is not None else Response.faulted("no answer") for r in out]


@dataclass(frozen=True)
class Disagreement:
    step: int
    key: Key


class Executor:
    """Runs planned steps on every adapter (subprocesses and browsers overlap, one thread each)."""

    def __init__(self, adapters: Sequence[Adapter]) -> None:
        self.adapters = list(adapters)
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.adapters) - 1))

    def run(self, steps: Sequence[PlannedStep]) -> dict[str, list[Response]]:
        if not steps:
            return {a.name: [] for a in self.adapters}
        first, *others = self.adapters
        futures = {a.name: self._pool.submit(run_program, a, steps) for a in others}
        results = {first.name: run_program(first, steps)}
        results.update({name: f.result() for name, f in futures.items()})
        return results

    @staticmethod
    def judge(steps: Sequence[PlannedStep], results: dict[str, list[Response]]) -> Disagreement | None:
        """The first step whose answers disagree, by difffuzz's oracle and RFC 9605's allowances. After an
        allowed split (one implementation refused what another did, as the RFC lets it) the implementations'
        states differ, so the rest of the program is not compared: notes are never disagreements, and neither
        are their consequences. An op on a context of another kind that any implementation accepted ends the
        comparison too: what that context does next is the implementation's own, not RFC 9605's."""
        for i, step in enumerate(steps):
            given = {name: answers[i] for name, answers in results.items()}
            if step.allowance is Allowance.CONTEXT_KIND and any(r.ok for r in given.values()):
                return None
            request = Request(step.op, {**step.fields, "suite": step.suite})
            key = compare(step.op, step.suite, given, step.allowance or refusal(request) or either_way(request))
            if key is not None and not key.is_note:
                return Disagreement(i, key)
            if key is not None and key.how != Allowance.ERROR_CLASS.value:
                return None
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=False)


# ---------------------------------------------------------------------------
# Shrinking and reproducers
# ---------------------------------------------------------------------------


def _field_candidates(op: Op) -> Iterator[Op]:
    """One-field simplifications of an op, recipes included."""
    for f in dataclasses.fields(op):
        value = getattr(op, f.name)
        if isinstance(value, Recipe):
            from .difffuzz import candidates

            for smaller in candidates(value):
                yield dataclasses.replace(op, **{f.name: smaller})
        elif isinstance(value, FrameSpec):
            for smaller_op in _field_candidates(ContextDecryptOp(0, value)):
                assert isinstance(smaller_op, ContextDecryptOp)
                yield dataclasses.replace(op, **{f.name: smaller_op.frame})
            if value.step or value.context_id:
                yield dataclasses.replace(op, **{f.name: dataclasses.replace(value, step=0, context_id=0)})
        elif isinstance(value, bytes) and value not in KEYS:
            for b in _smaller_bytes(value):
                yield dataclasses.replace(op, **{f.name: b})
        elif isinstance(value, int) and not isinstance(value, bool) and f.name not in ("suite", "context"):
            for n in _smaller_ints(value):
                yield dataclasses.replace(op, **{f.name: n})


def program_candidates(ops: Sequence[Op]) -> Iterator[list[Op]]:
    """Smaller programs: drop one op (last first), then simplify one field."""
    for i in reversed(range(len(ops))):
        yield [*ops[:i], *ops[i + 1:]]
    for i, op in enumerate(ops):
        for smaller in _field_candidates(op):
            yield [*ops[:i], smaller, *ops[i + 1:]]


def shrink(executor: Executor, ops: list[Op], key: Key, budget: int = 600) -> list[Op]:
    """Greedily simplify ``ops`` while they still produce exactly ``key``; at most ``budget`` runs."""
    runs = 0
    improved = True
    while improved and runs < budget:
        improved = False
        for candidate in program_candidates(ops):
            runs += 1
            if runs >= budget:
                break
            steps = plan_steps(candidate)
            found = executor.judge(steps, executor.run(steps))
            if found is not None and found.key == key:
                ops, improved = candidate, True
                break
    return ops


ANY_ERROR = tuple(e for e in ERROR_CLASSES if e != "internal")


def to_case(ops: Sequence[Op], results: dict[str, list[Response]], reference: str, disagreement: Disagreement,
            case_id: str) -> Case:
    """The program up to the step that disagrees, expecting ``reference``'s answers. A context is named
    by a Ref to the step that created it (the reference's own handle means nothing to another)."""
    steps = plan_steps(ops)[:disagreement.step + 1]
    answers = results[reference]
    out = []
    for i, step in enumerate(steps):
        fields = {k: (Ref(v.step, "ctx") if answers[v.step].ok else MISSING_CTX) if isinstance(v, Ctx) else v
                  for k, v in step.fields.items()}
        request, answer = Request(step.op, fields), answers[i]
        if answer.ok:
            out.append(Step(request, True, {f: answer.fields.get(f) for f in RESULT_FIELDS.get(step.op, ())}))
        else:
            # Only the disagreeing step's error class is the finding; elsewhere any refusal will do
            # (a different class is a note, never a failure).
            errors = (str(answer.error),) if i == disagreement.step else ANY_ERROR
            out.append(Step(request, False, errors=errors))
    key = disagreement.key
    groups = " vs ".join("+".join(g) for g in key.groups)
    return Case(id=case_id, title=f"{key.op} (step {disagreement.step + 1} of {len(steps)}): {key.how} ({groups})",
                section="", requirements=(), level=Level.MUST,
                result=Expected.VALID if answers[disagreement.step].ok else Expected.INVALID, steps=tuple(out),
                flags=("Fuzz", "Coverage"), comment=f"expectation is {reference}'s answer",
                source="python -m harness fuzz --impl ...")


# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------

RFC_METADATA = b"IETF SFrame WG"
RFC_PLAINTEXT = b"draft-ietf-sframe-enc"


def seed_programs(plan: Plan) -> list[list[Op]]:
    """A few programs per operation kind, with RFC 9605's vector values, that the campaign starts from."""
    out: list[list[Op]] = []
    kinds = set(plan.kinds)
    for suite in plan.suites:
        out.append([EncryptOp(Recipe("encrypt", suite, KEYS[0], 0x123, 0x4567, RFC_METADATA, RFC_PLAINTEXT))])
        for mutation in MUTATIONS:
            out.append([DecryptOp(Recipe("decrypt", suite, KEYS[0], 0x123, 0x4567, RFC_METADATA, RFC_PLAINTEXT,
                                         mutation, 3, b"\x99\x01\x23"))])
    for kid, ctr in ((0, 0), (7, 8), (0x123, 0x4567), (0xFFFFFFFF, 1 << 32), ((1 << 64) - 1, (1 << 64) - 1)):
        if EncodeHeaderOp in kinds:
            out.append([EncodeHeaderOp(Recipe("encode_header", kid=kid, ctr=ctr))])
        if DecodeHeaderOp in kinds:
            out.append([DecodeHeaderOp(Recipe("decode_header", data=sframe_py.encode_header(kid, ctr) + b"\x00"))])
    suite = plan.suites[0]
    if DeriveOp in kinds:
        out += [[DeriveOp(s, 0x123, KEYS[0])] for s in plan.suites]
    if AeadOp in kinds:
        out += [[AeadOp(decrypt, False, s, flip, b"", b"\x01", RFC_METADATA, RFC_PLAINTEXT)]
                for s in plan.suites for decrypt, flip in ((False, 0), (True, 0), (True, 9))]
    if RatchetDeriveOp in kinds:
        out += [[RatchetDeriveOp(suite, steps, KEYS[0])] for steps in (0, 1, 3)]
    frame = Recipe("decrypt", 4, KEYS[0], 2, 0, b"", RFC_PLAINTEXT)  # a context's frames take its suite
    if ContextNewOp in kinds:
        ctx: list[Op] = [ContextNewOp(suite), AddKeyOp(0, 1, True), AddKeyOp(0, 2, False),
                         ContextEncryptOp(0, 1, b"", RFC_PLAINTEXT), ContextDecryptOp(0, FrameSpec(frame)),
                         RemoveKeyOp(0, 2), ContextDecryptOp(0, FrameSpec(frame))]
        out.append(ctx)
        out.append([ContextNewOp(suite, 4 if plan.has("replay") else None), AddKeyOp(0, 2, False),
                    ContextDecryptOp(0, FrameSpec(frame)), ContextDecryptOp(0, FrameSpec(frame)),
                    AddKeyOp(0, 3, True, (1 << 64) - 2), ContextEncryptOp(0, 3), ContextEncryptOp(0, 3),
                    ContextEncryptOp(0, 3)])
    if RatchetNewOp in kinds:
        out.append([RatchetNewOp(False, suite, 1, 4), ContextEncryptOp(0, None, b"", RFC_PLAINTEXT), AdvanceOp(0),
                    ContextEncryptOp(0, None), RatchetNewOp(True, suite, 1, 4),
                    ContextDecryptOp(1, FrameSpec(frame, derived=True, step=0)),
                    ContextDecryptOp(1, FrameSpec(frame, derived=True, step=2)), FreeOp(0)])
    if MlsNewOp in kinds:
        out.append([MlsNewOp(suite, 2, 4), EpochOp(0, False, 1, KEYS[1]),
                    MlsEncryptOp(0, 1, 3, 0, b"", RFC_PLAINTEXT),
                    ContextDecryptOp(0, FrameSpec(dataclasses.replace(frame, base_key=KEYS[1], kid=1), True, 5)),
                    EpochOp(0, True, 1), MlsEncryptOp(0, 1, 3, 0)])
    return out
