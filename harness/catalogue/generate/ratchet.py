"""§5.1 sender-key ratchet: chains (SK-01), KID layout (SK-02), the receiver window (SK-03, SK-04).

Rule: a receiver's frames are built with the stateless reference from
``ratchet_forward`` keys (``ratchet_frame``), each carrying its step number as
its last plaintext byte, so a frame decrypted under the wrong step's key shows.
"""

from __future__ import annotations

from collections.abc import Iterator

import sframe_py
from sframe_py import SUITES, get_suite

from .common import BASE_KEY, PLAINTEXT, U64_MAX, builder, forged, frame
from .scenario import FORGED, Scenario, ref

RATCHET_MD = b""
Script = list[tuple[int, int, str | None]]  # (step, ctr, error or None, or FORGED): the frames a receiver gets


def ratchet_frame(suite: int, generation: int, bits: int, step: int, ctr: int = 0) -> bytes:
    key = sframe_py.ratchet_forward(get_suite(suite), BASE_KEY, step)
    return frame(suite, key, (generation << bits) + step % (1 << bits), ctr, PLAINTEXT + bytes([step]), RATCHET_MD)


@builder
def per_suite() -> Iterator[Scenario]:
    """In every suite: the chain's known answers, a receiver in order, a sender ratcheting."""
    for suite in SUITES:
        s = Scenario(f"gen/keys/ratchet/suite-{suite}/chain",
                     "ratchet_derive after 0, 1, 2, 3 and 10 steps from the 16-byte base_key", ["SK-01"],
                     ["RatchetChain"])
        for steps in (0, 1, 2, 3, 10):
            s.step("ratchet_derive", suite=suite, base_key=BASE_KEY, steps=steps,
                   expect={"base_key": sframe_py.ratchet_forward(get_suite(suite), BASE_KEY, steps)})
        yield s

        s = Scenario(f"gen/keys/ratchet/suite-{suite}/receive-in-order",
                     "a receiver at step 0 (R=4, generation 2) decrypts steps 0 to 3 in order",
                     ["SK-03", "SK-01", "SK-02"], ["RatchetWindow"])
        rx = s.new("ratchet_receiver_new", suite=suite, base_key=BASE_KEY, generation=2, ratchet_bits=4)
        for step in range(4):
            s.step("context_decrypt", ctx=rx, metadata=RATCHET_MD, ciphertext=ratchet_frame(suite, 2, 4, step),
                   expect={"plaintext": PLAINTEXT + bytes([step]), "kid": 0x20 + step, "ctr": 0})
        yield s

        s = Scenario(f"gen/keys/ratchet/suite-{suite}/sender",
                     "a sender (R=8, generation 1) encrypts at KID 0x100, ratchets to 0x101 and 0x102, "
                     "its CTR restarting at 0", ["SK-02", "SK-01", "ENC-05"], ["RatchetKidLayout"])
        tx = s.new("ratchet_sender_new", suite=suite, base_key=BASE_KEY, generation=1, ratchet_bits=8)
        for step in range(3):
            if step:
                s.step("ratchet_advance", ctx=tx, expect={"kid": 0x100 + step, "step": step})
            for ctr in range(2):
                s.step("context_encrypt", ctx=tx, metadata=RATCHET_MD, plaintext=PLAINTEXT + bytes([step]),
                       expect={"ctr": ctr, "ciphertext": ratchet_frame(suite, 1, 8, step, ctr)})
        yield s


def layout(name: str, comment: str, generation: int, bits: int, kids: list[int], flags: list[str]) -> Scenario:
    """A sender's KIDs, step by step, and the last step's frame."""
    s = Scenario(f"gen/keys/ratchet/kid-layout/{name}", comment, ["SK-02"], ["RatchetKidLayout", *flags])
    tx = ref(s.step("ratchet_sender_new", suite=4, base_key=BASE_KEY, generation=generation, ratchet_bits=bits,
                    expect={"kid": kids[0]}))
    for step, kid in enumerate(kids[1:], 1):
        s.step("ratchet_advance", ctx=tx, expect={"kid": kid, "step": step})
    last_key = sframe_py.ratchet_forward(get_suite(4), BASE_KEY, len(kids) - 1)
    s.step("context_encrypt", ctx=tx, metadata=RATCHET_MD, plaintext=PLAINTEXT,
           expect={"ciphertext": frame(4, last_key, kids[-1], 0, PLAINTEXT, RATCHET_MD)})
    return s


@builder
def kid_layouts() -> Iterator[Scenario]:
    """KID = (generation << R) + (step mod 2^R), at the field boundaries; layouts past 64 bits are refused."""
    yield layout("r8-gen1", "R=8, generation 1: steps 0-3 are KIDs 0x100-0x103 (header 90 0103 at CTR 0)", 1, 8,
                 [0x100, 0x101, 0x102, 0x103], [])
    yield layout("r1-wraps", "R=1, generation 5: the step field wraps, KIDs 10, 11, 10, 11", 5, 1, [10, 11, 10, 11], [])
    yield layout("r2-wraps", "R=2, generation 0: KIDs 0, 1, 2, 3, 0 (step 4 reuses step 0's KID with a new key)",
                 0, 2, [0, 1, 2, 3, 0], ["InlineBoundary"])
    yield layout("r63", "R=63, generation 1: KIDs 2^63 and 2^63+1", 1, 63, [2**63, 2**63 + 1], ["SignedInt64"])
    yield layout("64-bit", "R=8, generation 2^56-1: KIDs 0xffffffffffffff00 and ...01, all 64 bits used",
                 2**56 - 1, 8, [U64_MAX - 0xFF, U64_MAX - 0xFE], ["KidTruncation"])
    for name, generation, bits in (("gen-2^56-r8", 2**56, 8), ("gen-2-r63", 2, 63), ("r0", 1, 0), ("r64", 0, 64)):
        s = Scenario(f"gen/keys/ratchet/kid-layout/invalid-{name}",
                     f"generation {generation} with R={bits} does not give a 64-bit KID layout: refused",
                     ["SK-02"], ["RatchetKidLayout", "FieldOverflow"])
        s.step("ratchet_sender_new", suite=4, base_key=BASE_KEY, generation=generation, ratchet_bits=bits,
               errors=("invalid_argument",))
        yield s

    s = Scenario("gen/keys/ratchet/sender-old-kid", "after ratchet_advance the previous step's KID no longer "
                 "encrypts", ["SK-02", "ENC-07"], ["RatchetKidLayout"])
    tx = s.new("ratchet_sender_new", suite=4, base_key=BASE_KEY, generation=1, ratchet_bits=8)
    s.step("context_encrypt", ctx=tx, kid=0x100, metadata=RATCHET_MD, plaintext=PLAINTEXT, expect={"ctr": 0})
    s.step("ratchet_advance", ctx=tx, expect={"kid": 0x101})
    s.step("context_encrypt", ctx=tx, kid=0x100, metadata=RATCHET_MD, plaintext=PLAINTEXT, errors=("unknown_kid",))
    s.step("context_encrypt", ctx=tx, kid=0x101, metadata=RATCHET_MD, plaintext=PLAINTEXT, expect={"ctr": 0})
    yield s


def window(name: str, comment: str, bits: int, script: Script, reqs: list[str], flags: list[str] | None = None,
           start: int = 0) -> Scenario:
    """A generation-3 receiver (created at step ``start``) given ``script``'s frames in order; FORGED as the
    error is a forged frame with that step's KID, which must fail authentication."""
    s = Scenario(f"gen/keys/ratchet/window/{name}", comment, reqs, ["RatchetWindow", *(flags or [])])
    rx = s.new("ratchet_receiver_new", suite=4, base_key=sframe_py.ratchet_forward(get_suite(4), BASE_KEY, start),
               generation=3, ratchet_bits=bits, **({"step": start} if start else {}))
    for step, ctr, error in script:
        if error == FORGED:
            received, error = forged(4, (3 << bits) + step % (1 << bits), ctr), "auth_failed"
        else:
            received = ratchet_frame(4, 3, bits, step, ctr)
        if error:
            s.step("context_decrypt", ctx=rx, metadata=RATCHET_MD, ciphertext=received, errors=(error,))
        else:
            s.step("context_decrypt", ctx=rx, metadata=RATCHET_MD, ciphertext=received,
                   expect={"plaintext": PLAINTEXT + bytes([step])})
    return s


@builder
def windows() -> Iterator[Scenario]:
    """The receiver keeps a window of 2^(R-1) steps: reordering inside it decrypts, steps past it fail."""
    yield window("r2-reorder", "R=2 (W=2): steps 2, 1, 3, 2 decrypt; then step 1, dropped when step 3 arrived, fails",
                 2, [(2, 0, None), (1, 0, None), (3, 0, None), (2, 1, None), (1, 1, "auth_failed")], ["SK-03", "SK-04"])
    yield window("r3-reorder", "R=3 (W=4): steps 3, 1, 2, 0, then 7 (4 ahead), 4, 5, 6 decrypt; step 3 then fails",
                 3, [(3, 0, None), (1, 0, None), (2, 0, None), (0, 0, None), (7, 0, None), (4, 0, None),
                     (5, 0, None), (6, 0, None), (3, 1, "auth_failed")], ["SK-03", "SK-04"])
    yield window("beyond-window", "R=2 at step 0: step 4 carries step 0's KID field, so it is taken as step 0 and "
                 "fails; step 0 still decrypts", 2, [(4, 0, "auth_failed"), (0, 0, None)], ["SK-04"])
    yield window("fresh-receiver-jump", "R=2 at step 0, nothing older kept: step 3 (3 ahead) decrypts, then step 2",
                 2, [(3, 0, None), (2, 0, None), (1, 0, "auth_failed")], ["SK-03", "SK-04"])
    yield window("forged-does-not-move", "R=2 at step 0: a forged step-2 frame fails and keeps step 0 alive",
                 2, [(2, 0, FORGED), (0, 0, None), (1, 0, None)], ["SK-03"], ["ForgedFrame"])
    yield window("start-at-step", "a receiver created at step 5 (R=4) decrypts steps 5 and 6; step 4, never held, "
                 "fails", 4, [(5, 0, None), (6, 0, None), (4, 0, "auth_failed")], ["SK-03"], start=5)
    s = Scenario("gen/keys/ratchet/window/other-generation",
                 "a frame from generation 4 is unknown to a generation-3 receiver", ["SK-02", "DEC-02"],
                 ["RatchetWindow", "UnknownKid"])
    rx = s.new("ratchet_receiver_new", suite=4, base_key=BASE_KEY, generation=3, ratchet_bits=4)
    s.step("context_decrypt", ctx=rx, metadata=RATCHET_MD, ciphertext=ratchet_frame(4, 4, 4, 0),
           errors=("unknown_kid",))
    yield s


def ratchet_scenarios() -> Iterator[Scenario]:
    for build in (per_suite, kid_layouts, windows):
        yield from build()
