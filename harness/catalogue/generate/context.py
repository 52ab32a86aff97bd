"""§4.4.1 contexts: managed counters (ENC-04/05/06, REPLAY-01/03), key usage (KEY-02, ENC-07, DEC-06), unknown KIDs.

Rule: each builder takes a ``Profile`` (scenario.py): the RFC profile checks
every rule with pinned ciphertexts, the draft profile (suite 1, no metadata,
nothing near 2^64) the same key-management rules whatever the wire format.
An encryption at CTR 2^64-1 is ``may_fail`` (the audit's counter policy); the
step after it must fail either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sframe_py import SUITES

from .common import BASE_KEY, PLAINTEXT, U64_MAX, builder, frame
from .scenario import RFC_PROFILE, Profile, Scenario, WireRef, ref

KID = 0x123


def send_context(s: Scenario, p: Profile, *kids: int, next_ctr: int | None = None) -> WireRef:
    """A new context holding a send key under each of ``kids``."""
    ctx = s.new("context_new", suite=p.suite)
    restored: dict[str, Any] = {} if next_ctr is None else {"next_ctr": next_ctr}
    for k in kids:
        s.step("context_add_key", ctx=ctx, kid=k, base_key=BASE_KEY, usage="send", **restored)
    return ctx


def encrypt(s: Scenario, p: Profile, ctx: WireRef, kid: int, ctr: int | None = None,
            errors: tuple[str, ...] = ()) -> int:
    return s.step("context_encrypt", ctx=ctx, kid=kid, metadata=p.metadata, plaintext=PLAINTEXT, errors=errors,
                  expect=None if ctr is None else {"ctr": ctr})


@builder
def per_suite(p: Profile = RFC_PROFILE) -> Iterator[Scenario]:
    """In every suite (RFC profile): the counter from 0, exhaustion at 2^64-1, a KID that is unknown until added."""
    root, md = f"gen/keys/context{p.name}", p.metadata
    for suite in (p.suite,) if p.draft else SUITES:
        where = f"{root}/" if p.draft else f"{root}/suite-{suite}/"
        s = p.scenario(f"{where}counter-starts-at-zero", "a new send key encrypts at CTR 0, then 1, then 2",
                       ["ENC-05"], ["CounterAdvance"])
        ctx = s.new("context_new", suite=suite)
        s.step("context_add_key", ctx=ctx, kid=KID, base_key=BASE_KEY, usage="send")
        for ctr in range(3):
            s.step("context_encrypt", ctx=ctx, kid=KID, metadata=md, plaintext=PLAINTEXT,
                   expect={"ctr": ctr, "ciphertext": frame(suite, BASE_KEY, KID, ctr, metadata=md)})
        yield s
        if not p.draft:
            yield exhausted(p, suite, where)
        s = p.scenario(f"{where}unknown-kid-then-key-added",
                       "a frame fails as unknown_kid, then decrypts once its receive key is added",
                       ["DEC-02", "DEC-01"], ["UnknownKid"])
        received = p.received(s, KID, 0x4567, suite=suite)
        ctx = s.new("context_new", suite=suite)
        s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=received, errors=("unknown_kid",))
        s.step("context_add_key", ctx=ctx, kid=KID, base_key=BASE_KEY, usage="recv")
        s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=received,
               expect={"plaintext": PLAINTEXT, "kid": KID, "ctr": 0x4567})
        yield s


def exhausted(p: Profile, suite: int, where: str) -> Scenario:
    s = p.scenario(f"{where}counter-exhausted",
                   "CTR 2^64-2 and 2^64-1 encrypt, then the key refuses every time: it never wraps to 0",
                   ["ENC-06", "ENC-04", "REPLAY-01"], ["CounterExhaustion", "MaxValue"])
    ctx = s.new("context_new", suite=suite)
    s.step("context_add_key", ctx=ctx, kid=KID, base_key=BASE_KEY, usage="send", next_ctr=U64_MAX - 1)
    for ctr in (U64_MAX - 1, U64_MAX):
        s.step("context_encrypt", ctx=ctx, kid=KID, metadata=p.metadata, plaintext=PLAINTEXT,
               expect={"ctr": ctr, "ciphertext": frame(suite, BASE_KEY, KID, ctr, metadata=p.metadata)})
    for _ in range(2):
        s.step("context_encrypt", ctx=ctx, kid=KID, metadata=p.metadata, plaintext=PLAINTEXT,
               errors=("counter_exhausted",))
    return s


@builder
def exhaustion(p: Profile = RFC_PROFILE) -> Iterator[Scenario]:
    """Counter exhaustion from next_ctr 2^64-1, per KID (RFC profile only: the draft profile stays below 2^53)."""
    if p.draft:
        return
    root = f"gen/keys/context{p.name}"
    s = p.scenario(f"{root}/counter-exhausted-at-first", "next_ctr 2^64-1: one encryption, then refusal",
                   ["ENC-06", "ENC-04"], ["CounterExhaustion", "MaxValue"])
    ctx = send_context(s, p, KID, next_ctr=U64_MAX)
    encrypt(s, p, ctx, KID, U64_MAX)
    encrypt(s, p, ctx, KID, errors=("counter_exhausted",))
    yield s

    s = p.scenario(f"{root}/exhaustion-is-per-kid", "one KID exhausted; another KID of the same context still "
                   "encrypts from 0", ["ENC-06", "ENC-05"], ["CounterExhaustion"])
    ctx = send_context(s, p, 1, next_ctr=U64_MAX)
    s.step("context_add_key", ctx=ctx, kid=2, base_key=BASE_KEY, usage="send")
    encrypt(s, p, ctx, 1, U64_MAX)
    encrypt(s, p, ctx, 1, errors=("counter_exhausted",))
    encrypt(s, p, ctx, 2, 0)
    yield s


@builder
def counters(p: Profile = RFC_PROFILE) -> Iterator[Scenario]:
    """next_ctr restores a counter; a counter moves only on success, and per KID."""
    root = f"gen/keys/context{p.name}"
    s = p.scenario(f"{root}/next-ctr-restores-state", "a context restored with next_ctr 1000 continues at 1000, "
                   "never below", ["REPLAY-03", "ENC-04"], ["CounterAdvance"])
    ctx = send_context(s, p, KID, next_ctr=1000)
    encrypt(s, p, ctx, KID, 1000)
    encrypt(s, p, ctx, KID, 1001)
    yield s

    if not p.draft:
        s = p.scenario(f"{root}/next-ctr-out-of-range", "next_ctr 2^64 is refused, not truncated",
                       ["ENC-06", "HDR-04"], ["FieldOverflow"])
        ctx = s.new("context_new", suite=p.suite)
        s.step("context_add_key", ctx=ctx, kid=KID, base_key=BASE_KEY, usage="send", next_ctr=2**64,
               errors=("invalid_argument",))
        yield s

    s = p.scenario(f"{root}/counter-advances-only-on-success",
                   "failed encryptions (missing plaintext, unknown KID) do not move the counter",
                   ["ENC-05", "ENC-04"], ["CounterAdvance"])
    ctx = send_context(s, p, KID)
    encrypt(s, p, ctx, KID, 0)
    s.step("context_encrypt", ctx=ctx, kid=KID, metadata=p.metadata, errors=("invalid_argument",))
    encrypt(s, p, ctx, 0x124, errors=("unknown_kid",))
    encrypt(s, p, ctx, KID, 1)
    yield s

    s = p.scenario(f"{root}/counter-per-kid", "two send keys count independently, each from 0",
                   ["ENC-05", "ENC-04"], ["CounterAdvance"])
    ctx = send_context(s, p, 1, 2)
    for k, ctr in ((1, 0), (2, 0), (1, 1), (1, 2), (2, 1)):
        encrypt(s, p, ctx, k, ctr)
    yield s


@builder
def key_usage(p: Profile = RFC_PROFILE) -> Iterator[Scenario]:
    """A KID holds one key, send-only or receive-only, used only in its direction (KEY-02, ENC-07, DEC-06)."""
    root, md = f"gen/keys/context{p.name}", p.metadata
    for first, second in (("send", "recv"), ("recv", "send"), ("send", "send"), ("recv", "recv")):
        s = p.scenario(f"{root}/kid-{first}-then-{second}", f"a KID holding a {first} key refuses a {second} key",
                       ["KEY-02"], ["KeyUsage"])
        ctx = s.new("context_new", suite=p.suite)
        s.step("context_add_key", ctx=ctx, kid=KID, base_key=BASE_KEY, usage=first)
        s.step("context_add_key", ctx=ctx, kid=KID, base_key=BASE_KEY, usage=second, errors=("key_usage",))
        yield s

    s = p.scenario(f"{root}/send-and-recv-different-kids", "a send key and a receive key under different KIDs both "
                   "work", ["KEY-02", "DEC-06"], ["KeyUsage"])
    ctx = send_context(s, p, 1)
    s.step("context_add_key", ctx=ctx, kid=2, base_key=BASE_KEY, usage="recv")
    encrypt(s, p, ctx, 1, 0)
    s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=p.received(s, 2, 9),
           expect={"plaintext": PLAINTEXT, "kid": 2, "ctr": 9})
    yield s

    s = p.scenario(f"{root}/encrypt-with-recv-key", "a receive key never encrypts", ["KEY-02", "ENC-07"], ["KeyUsage"])
    ctx = s.new("context_new", suite=p.suite)
    s.step("context_add_key", ctx=ctx, kid=KID, base_key=BASE_KEY, usage="recv")
    encrypt(s, p, ctx, KID, errors=("key_usage",))
    yield s

    s = p.scenario(f"{root}/encrypt-without-key", "encrypting under a KID with no key fails", ["ENC-07"],
                   ["UnknownKid"])
    encrypt(s, p, send_context(s, p, 1), KID, errors=("unknown_kid",))
    yield s

    s = p.scenario(f"{root}/decrypt-with-send-key", "a frame whose KID holds a send key is refused, not decrypted",
                   ["DEC-06", "KEY-02"], ["KeyUsage"])
    ctx = send_context(s, p, KID)
    s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=p.received(s, KID, 0x4567), errors=("key_usage",))
    yield s

    s = p.scenario(f"{root}/decrypt-own-frame", "a sender cannot decrypt its own frame with its send key",
                   ["DEC-06"], ["KeyUsage"])
    ctx = send_context(s, p, KID)
    sent = encrypt(s, p, ctx, KID, 0)
    s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=ref(sent, "ciphertext"), errors=("key_usage",))
    yield s


@builder
def removed_keys(p: Profile = RFC_PROFILE) -> Iterator[Scenario]:
    """A removed key neither encrypts nor decrypts; and (RFC profile) usage is only send or recv."""
    root, md = f"gen/keys/context{p.name}", p.metadata
    s = p.scenario(f"{root}/removed-send-key", "after removal a send key no longer encrypts; removing it "
                   "again is unknown_kid", ["ENC-07"], ["UnknownKid"])
    ctx = send_context(s, p, KID)
    s.step("context_remove_key", ctx=ctx, kid=KID)
    encrypt(s, p, ctx, KID, errors=("unknown_kid",))
    s.step("context_remove_key", ctx=ctx, kid=KID, errors=("unknown_kid",))
    yield s

    s = p.scenario(f"{root}/removed-recv-key", "after removal a receive key no longer decrypts", ["DEC-02"],
                   ["UnknownKid"])
    ctx = s.new("context_new", suite=p.suite)
    s.step("context_add_key", ctx=ctx, kid=KID, base_key=BASE_KEY, usage="recv")
    received = p.received(s, KID, 0x4567)
    s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=received, expect={"plaintext": PLAINTEXT})
    s.step("context_remove_key", ctx=ctx, kid=KID)
    s.step("context_decrypt", ctx=ctx, metadata=md, ciphertext=received, errors=("unknown_kid",))
    yield s

    if not p.draft:
        s = p.scenario(f"{root}/bad-usage", "usage must be send or recv", ["KEY-02"], ["KeyUsage"])
        ctx = s.new("context_new", suite=p.suite)
        s.step("context_add_key", ctx=ctx, kid=KID, base_key=BASE_KEY, usage="both", errors=("invalid_argument",))
        yield s


def context_scenarios(p: Profile = RFC_PROFILE) -> Iterator[Scenario]:
    for build in (per_suite, exhaustion, counters, key_usage, removed_keys):
        yield from build(p)
