"""§5.2 MLS: exporter keys (MLS-01), KID layout (MLS-02), epoch eviction (MLS-03), KID rewrites (MLS-04),
counters (MLS-05).

Rule: the RFC 9420 key-schedule vectors' exporter secrets (MLS suite 1) stand
in for a real group's epochs (``epoch_secret``), so each epoch's base_key is the
RFC 9420 exporter's output and never a value this module makes up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from sframe_py import SUITES

from ...locations import MLS_VECTORS
from ..mls_exporter import sframe_base_key
from .common import U64_MAX, builder, frame, rewrite_kid
from .scenario import Scenario, WireRef, ref

MLS_KEY_SCHEDULE = MLS_VECTORS / "mls-key-schedule.json"
MD, HELLO = b"", b"hello"


@cache
def _exporter_secrets() -> tuple[bytes, ...]:
    epochs = json.loads(MLS_KEY_SCHEDULE.read_text())[0]["epochs"]
    return tuple(bytes.fromhex(e["exporter_secret"]) for e in epochs)


def epoch_secret(index: int, suite: int) -> bytes:
    """The SFrame base_key of RFC 9420 vector epoch ``index`` (MLS suite 1) for SFrame suite ``suite``."""
    secrets = _exporter_secrets()
    return sframe_base_key(1, secrets[index % len(secrets)], suite)


def mls_kid(epoch: int, index: int, context_id: int, e: int, s: int) -> int:
    return (context_id << (s + e)) + (index << e) + epoch % (1 << e)


def member(s: Scenario, epochs: dict[int, int], e: int = 4, bits: int = 6, suite: int = 4, **extra: Any) -> WireRef:
    """A new MLS context with E=e, S=bits holding ``epochs`` (epoch -> RFC 9420 vector epoch index)."""
    ctx = s.new("mls_context_new", suite=suite, epoch_bits=e, sender_bits=bits, **extra)
    for epoch, index in epochs.items():
        s.step("mls_add_epoch", ctx=ctx, epoch=epoch, epoch_secret=epoch_secret(index, suite))
    return ctx


def send(s: Scenario, ctx: WireRef, epoch: int, index: int, context_id: int = 0, errors: tuple[str, ...] = (),
         **expect: Any) -> int:
    return s.step("mls_encrypt", ctx=ctx, epoch=epoch, sender_index=index, context_id=context_id, metadata=MD,
                  plaintext=HELLO, errors=errors, expect=expect)


@builder
def per_suite() -> Iterator[Scenario]:
    """In every suite: member 3 sends with the exporter's base_key; another member decrypts."""
    for suite in SUITES:
        s = Scenario(f"gen/keys/mls/suite-{suite}/round-trip",
                     "E=4, S=6: member 3 sends in epoch 14 with the exporter's base_key (RFC 9420 vector, "
                     "Nk bytes); another member decrypts", ["MLS-01", "MLS-02"], ["MlsKidLayout"])
        alice, bob = member(s, {14: 0}, suite=suite), member(s, {14: 0}, suite=suite)
        expect: dict[str, Any] = {"kid": 0x3E, "ctr": 0}
        if suite == 4:  # the requirements list's worked example
            expect["ciphertext"] = bytes.fromhex("803e1980178d8fb2689cc65ef16d73c1ed80a5988a5c59")
        sent = send(s, alice, 14, 3, **expect)
        s.step("mls_decrypt", ctx=bob, metadata=MD, ciphertext=ref(sent, "ciphertext"),
               expect={"plaintext": HELLO, "epoch": 14, "sender_index": 3, "context_id": 0})
        yield s


# RFC 9605 §5.2 figure, E=4 and S=6: (epoch, sender index, context) -> KID.
FIGURE = ((14, 3, 0, 0x3E), (14, 7, 0, 0x7E), (14, 20, 0, 0x14E), (15, 3, 0, 0x3F), (15, 5, 0, 0x5F),
          (16, 2, 2, 0x820), (16, 2, 3, 0xC20), (17, 33, 0, 0x211), (17, 51, 0, 0x331))


@builder
def figure() -> Iterator[Scenario]:
    for epoch, index, context_id, kid in FIGURE:
        s = Scenario(f"gen/keys/mls/kid-layout/figure-{kid:#x}",
                     f"RFC 9605 figure: epoch {epoch}, sender {index}, context {context_id} is KID {kid:#x}",
                     ["MLS-02"], ["MlsKidLayout"])
        alice, bob = member(s, {epoch: epoch - 14}), member(s, {epoch: epoch - 14})
        sent = send(s, alice, epoch, index, context_id, kid=kid, ctr=0)
        s.step("mls_decrypt", ctx=bob, metadata=MD, ciphertext=ref(sent, "ciphertext"),
               expect={"epoch": epoch, "sender_index": index, "context_id": context_id})
        yield s


def layout(name: str, comment: str, e: int, bits: int, epoch: int, index: int, context_id: int,
           flags: list[str]) -> Scenario:
    s = Scenario(f"gen/keys/mls/kid-layout/{name}", comment, ["MLS-02"], ["MlsKidLayout", *flags])
    alice, bob = member(s, {epoch: 1}, e, bits), member(s, {epoch: 1}, e, bits)
    sent = send(s, alice, epoch, index, context_id, kid=mls_kid(epoch, index, context_id, e, bits))
    s.step("mls_decrypt", ctx=bob, metadata=MD, ciphertext=ref(sent, "ciphertext"),
           expect={"epoch": epoch, "sender_index": index, "context_id": context_id})
    return s


@builder
def large_layouts() -> Iterator[Scenario]:
    """Audiences beyond conference size: S up to 24 bits, E up to 64, KIDs using all 64 bits."""
    yield layout("s24-e8-max", "S=24, E=8: sender 2^24-1, epoch 255, context 2^32-1 is KID 2^64-1", 8, 24, 255,
                 2**24 - 1, 2**32 - 1, ["LargeGroup", "MaxValue"])
    yield layout("s24-e8-epoch-high-bits", "S=24, E=8: epoch 0x1ff is carried as 0xff; the receiver reports the "
                 "installed epoch 0x1ff", 8, 24, 0x1FF, 0x123456, 0, ["LargeGroup"])
    yield layout("s24-e8-context", "S=24, E=8: context 0xabcdef above sender 0xfedcba", 8, 24, 7, 0xFEDCBA, 0xABCDEF,
                 ["LargeGroup", "KidTruncation"])
    yield layout("s20-e4", "S=20, E=4: a million members", 4, 20, 9, 2**20 - 1, 5, ["LargeGroup"])
    yield layout("e-plus-s-64", "E=32, S=32: the KID has no context bits", 32, 32, 2**32 - 1, 2**32 - 1, 0,
                 ["LargeGroup", "MaxValue"])
    yield layout("e64", "E=64, S=0: the KID is the epoch", 64, 0, U64_MAX, 0, 0, ["MaxValue"])
    yield layout("e0-s0", "E=0, S=0: the KID is the context", 0, 0, 5, 0, 2**63, ["SignedInt64"])


def overflow(name: str, comment: str, e: int, bits: int, epoch: int, index: int, context_id: int) -> Scenario:
    s = Scenario(f"gen/keys/mls/overflow/{name}", comment, ["MLS-02"], ["MlsKidLayout", "FieldOverflow"])
    ctx = member(s, {epoch: 0}, e, bits)
    send(s, ctx, epoch, index, context_id, errors=("invalid_argument",))
    return s


@builder
def overflows() -> Iterator[Scenario]:
    """A sender index, context id or bit width that does not fit is refused, never truncated."""
    yield overflow("sender-index", "E=4, S=6: sender index 64 needs 7 bits", 4, 6, 14, 64, 0)
    yield overflow("sender-index-s24", "S=24, E=8: sender index 2^24", 8, 24, 1, 2**24, 0)
    yield overflow("context-id", "E=4, S=6: context 2^54 pushes the KID past 64 bits", 4, 6, 14, 3, 2**54)
    yield overflow("context-id-s24-e8", "S=24, E=8: context 2^32", 8, 24, 1, 0, 2**32)
    yield overflow("context-id-full-width", "E=32, S=32: any context but 0 overflows", 32, 32, 1, 0, 1)
    for e, bits in ((33, 32), (65, 0), (0, 65)):
        s = Scenario(f"gen/keys/mls/overflow/bits-e{e}-s{bits}", f"E={e}, S={bits}: more than 64 bits",
                     ["MLS-02"], ["MlsKidLayout", "FieldOverflow"])
        s.step("mls_context_new", suite=4, epoch_bits=e, sender_bits=bits, errors=("invalid_argument",))
        yield s


@builder
def evictions() -> Iterator[Scenario]:
    """A new epoch with the same low E bits evicts the old one (MLS-03, a MUST): its keys are gone."""
    s = Scenario("gen/keys/mls/evict/old-epoch-refused",
                 "E=2: adding epoch 5 evicts epoch 1; epoch 1 neither encrypts nor can be removed", ["MLS-03"],
                 ["EpochEviction"])
    ctx = member(s, {1: 0, 5: 1}, e=2)
    send(s, ctx, 1, 3, errors=("unknown_kid",))
    s.step("mls_remove_epoch", ctx=ctx, epoch=1, errors=("unknown_kid",))
    send(s, ctx, 5, 3, kid=(3 << 2) + 1, ctr=0)
    yield s

    s = Scenario("gen/keys/mls/evict/old-epoch-frame-fails",
                 "E=2: an epoch-1 frame decrypts, then fails once epoch 5 has evicted epoch 1; epoch 5 decrypts",
                 ["MLS-03"], ["EpochEviction"])
    bob = member(s, {1: 0}, e=2)
    kid = mls_kid(1, 3, 0, 2, 6)
    old = [frame(4, epoch_secret(0, 4), kid, ctr, HELLO, MD) for ctr in range(2)]
    s.step("mls_decrypt", ctx=bob, metadata=MD, ciphertext=old[0], expect={"plaintext": HELLO, "epoch": 1})
    s.step("mls_add_epoch", ctx=bob, epoch=5, epoch_secret=epoch_secret(1, 4))
    s.step("mls_decrypt", ctx=bob, metadata=MD, ciphertext=old[1], errors=("auth_failed",))
    s.step("mls_decrypt", ctx=bob, metadata=MD, ciphertext=frame(4, epoch_secret(1, 4), kid, 0, HELLO, MD),
           expect={"plaintext": HELLO, "epoch": 5})
    yield s

    s = Scenario("gen/keys/mls/evict/only-same-low-bits",
                 "E=2: epochs 1-4 coexist (2^E of them); epoch 5 evicts 1 only", ["MLS-03", "MLS-06"],
                 ["EpochEviction"])
    ctx = member(s, {1: 0, 2: 1, 3: 2, 4: 3}, e=2)
    for epoch in (1, 2, 3, 4):
        send(s, ctx, epoch, 0, kid=epoch % 4, ctr=0)
    s.step("mls_add_epoch", ctx=ctx, epoch=5, epoch_secret=epoch_secret(4, 4))
    send(s, ctx, 1, 0, errors=("unknown_kid",))
    for epoch in (2, 3, 4):
        send(s, ctx, epoch, 0, kid=epoch % 4, ctr=1)
    yield s


@builder
def narrow_evictions() -> Iterator[Scenario]:
    """Eviction at the extremes of E, and the counter a replacing epoch starts from."""
    s = Scenario("gen/keys/mls/evict/e8", "E=8: epoch 259 evicts epoch 3", ["MLS-03"], ["EpochEviction"])
    ctx = member(s, {3: 0, 259: 1}, e=8, bits=8)
    send(s, ctx, 3, 1, errors=("unknown_kid",))
    send(s, ctx, 259, 1, kid=0x103, ctr=0)
    yield s

    s = Scenario("gen/keys/mls/evict/e0", "E=0: only one epoch at a time; epoch 8 evicts epoch 7", ["MLS-03"],
                 ["EpochEviction"])
    ctx = member(s, {7: 0, 8: 1}, e=0, bits=6)
    send(s, ctx, 7, 1, errors=("unknown_kid",))
    send(s, ctx, 8, 1, kid=1, ctr=0)
    yield s

    s = Scenario("gen/keys/mls/evict/counter-restarts",
                 "E=2: epoch 5 replaces epoch 1 under the same KIDs, with a new key and a counter from 0",
                 ["MLS-03", "MLS-05"], ["EpochEviction", "CounterAdvance"])
    ctx = member(s, {1: 0}, e=2)
    kid = mls_kid(1, 3, 0, 2, 6)
    send(s, ctx, 1, 3, kid=kid, ctr=0)
    send(s, ctx, 1, 3, kid=kid, ctr=1)
    s.step("mls_add_epoch", ctx=ctx, epoch=5, epoch_secret=epoch_secret(1, 4))
    send(s, ctx, 5, 3, kid=kid, ctr=0, ciphertext=frame(4, epoch_secret(1, 4), kid, 0, HELLO, MD))
    yield s


@builder
def missing_epochs() -> Iterator[Scenario]:
    """A removed epoch, or one never added, neither encrypts nor decrypts."""
    s = Scenario("gen/keys/mls/remove-epoch", "a removed epoch neither encrypts nor decrypts", ["MLS-03", "DEC-02"],
                 ["UnknownKid"])
    ctx = member(s, {14: 0})
    s.step("mls_remove_epoch", ctx=ctx, epoch=14)
    send(s, ctx, 14, 3, errors=("unknown_kid",))
    s.step("mls_decrypt", ctx=ctx, metadata=MD, ciphertext=frame(4, epoch_secret(0, 4), 0x3E, 0, HELLO, MD),
           errors=("unknown_kid",))
    s.step("mls_remove_epoch", ctx=ctx, epoch=14, errors=("unknown_kid",))
    yield s

    s = Scenario("gen/keys/mls/unknown-epoch", "an epoch never added neither encrypts nor decrypts",
                 ["ENC-07", "DEC-02"], ["UnknownKid"])
    ctx = member(s, {14: 0})
    send(s, ctx, 15, 3, errors=("unknown_kid",))
    s.step("mls_decrypt", ctx=ctx, metadata=MD, ciphertext=frame(4, epoch_secret(1, 4), 0x3F, 0, HELLO, MD),
           errors=("unknown_kid",))
    yield s


@builder
def rewrites() -> Iterator[Scenario]:
    """Member 3's frame with its KID rewritten to another member, context or epoch fails; the genuine one decrypts."""
    genuine = frame(4, epoch_secret(0, 4), 0x3E, 7, HELLO, MD)  # epoch 14, sender 3, context 0, E=4, S=6
    for name, kid, comment, error in (
        ("sender-index", 0x5E, "to sender 5", "auth_failed"),
        ("context-id", 0x43E, "to context 1", "auth_failed"),
        ("epoch-installed", 0x3F, "to epoch 15, which is installed", "auth_failed"),
        ("epoch-not-installed", 0x3D, "to epoch 13, which is not installed", "unknown_kid"),
    ):
        s = Scenario(f"gen/keys/mls/rewrite/{name}", f"member 3's frame with its KID rewritten {comment} fails; "
                     "the genuine frame still decrypts", ["MLS-04", "KDF-06"], ["KidRewrite"])
        bob = member(s, {14: 0, 15: 1})
        s.step("mls_decrypt", ctx=bob, metadata=MD, ciphertext=rewrite_kid(genuine, kid), errors=(error,))
        s.step("mls_decrypt", ctx=bob, metadata=MD, ciphertext=genuine,
               expect={"plaintext": HELLO, "epoch": 14, "sender_index": 3, "context_id": 0})
        yield s


@builder
def counters() -> Iterator[Scenario]:
    """Each KID (sender index, context id) counts from 0 on its own; two members decrypt each other."""
    s = Scenario("gen/keys/mls/counter-per-context-id",
                 "one member's contexts 0 and 1 (two streams) and another sender index count from 0 independently",
                 ["MLS-05", "ENC-04"], ["CounterAdvance"])
    ctx = member(s, {14: 0})
    for index, context_id, ctr in ((3, 0, 0), (3, 1, 0), (3, 0, 1), (4, 0, 0), (3, 1, 1), (3, 0, 2)):
        send(s, ctx, 14, index, context_id, kid=mls_kid(14, index, context_id, 4, 6), ctr=ctr)
    yield s

    s = Scenario("gen/keys/mls/two-members", "members 0 and 1 each send in epoch 14 and decrypt the other",
                 ["MLS-04", "MLS-05"], ["MlsKidLayout"])
    alice, bob = member(s, {14: 0}), member(s, {14: 0})
    for sender, receiver, index in ((alice, bob, 0), (bob, alice, 1), (alice, bob, 0)):
        sent = send(s, sender, 14, index)
        s.step("mls_decrypt", ctx=receiver, metadata=MD, ciphertext=ref(sent, "ciphertext"),
               expect={"plaintext": HELLO, "sender_index": index})
    yield s


def mls_scenarios() -> Iterator[Scenario]:
    for build in (per_suite, figure, large_layouts, overflows, evictions, narrow_evictions, missing_epochs, rewrites,
                  counters):
        yield from build()
