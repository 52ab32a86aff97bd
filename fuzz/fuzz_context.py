"""atheris target: the sframe_py.Context state machine (RFC 9605 §4.4.1).

Input: [suite selector] then 3-byte ops (opcode, a, b) run on a sender and a
receiver Context. A model (which KIDs hold which keys, each send key's next
CTR, the frames sent so far) predicts every outcome.
Invariants:
- every outcome (success or error class) is the model's;
- encrypt uses exactly the model's next CTR (read back from the header), and
  after CTR 2^64-1 the key answers counter_exhausted, it never wraps;
- an untouched frame decrypts to what was sent; a modified one never does;
- only typed sframe_py errors escape.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import atheris

with atheris.instrument_imports():
    from sframe_py import SUITES, Context, SFrameError, parse_header

SUITE_IDS = tuple(sorted(SUITES))
KID_POOL = (0, 7, 8, 2**64 - 1)
CTR_POOL = (0, 7, 2**32 - 1, 2**64 - 2, 2**64 - 1)
OPS = ("add_send", "add_recv", "remove_send", "remove_recv", "encrypt", "decrypt", "encrypt_on_recv", "decrypt_on_send")
MAX_OPS = 64


def base_key(kid: int) -> bytes:
    return bytes([KID_POOL.index(kid) + 1]) * 16


@dataclass(frozen=True)
class Op:
    name: str
    kid: int
    a: int
    b: int


def parse(data: bytes) -> tuple[int, list[Op]]:
    suite = SUITE_IDS[data[0] % len(SUITE_IDS)] if data else SUITE_IDS[0]
    ops = []
    for i in range(1, min(len(data) - 2, 1 + 3 * MAX_OPS), 3):
        code, a, b = data[i], data[i + 1], data[i + 2]
        ops.append(Op(OPS[code % len(OPS)], KID_POOL[a % len(KID_POOL)], a, b))
    return suite, ops


@dataclass
class Model:
    send: dict[int, int | None] = field(default_factory=dict)  # KID -> next CTR (None: exhausted)
    recv: set[int] = field(default_factory=set)
    frames: list[tuple[bytes, bytes, int]] = field(default_factory=list)  # (ciphertext, plaintext, kid)


@dataclass(frozen=True)
class Outcome:
    error: str | None  # protocol error class, None for success
    ctr: int | None = None
    frame: bytes | None = None  # decrypt input
    plaintext: bytes | None = None


def expect(model: Model, op: Op) -> Outcome:
    """What RFC 9605 §4.4.1 (and PROTOCOL.md's context rules) say the op must do; updates the model."""
    if op.name == "add_send":
        if op.kid in model.send:
            return Outcome("key_usage")
        model.send[op.kid] = CTR_POOL[op.b % len(CTR_POOL)]
        return Outcome(None)
    if op.name == "add_recv":
        if op.kid in model.recv:
            return Outcome("key_usage")
        model.recv.add(op.kid)
        return Outcome(None)
    if op.name in ("remove_send", "remove_recv"):
        keys = model.send if op.name == "remove_send" else model.recv
        if op.kid not in keys:
            return Outcome("unknown_kid")
        if isinstance(keys, dict):
            del keys[op.kid]
        else:
            keys.discard(op.kid)
        return Outcome(None)
    if op.name == "encrypt":
        if op.kid not in model.send:
            return Outcome("unknown_kid")
        ctr = model.send[op.kid]
        if ctr is None:
            return Outcome("counter_exhausted")
        model.send[op.kid] = None if ctr == 2**64 - 1 else ctr + 1
        return Outcome(None, ctr=ctr, plaintext=bytes([op.a]) * (op.b % 40))
    if op.name == "encrypt_on_recv":
        return Outcome("key_usage" if op.kid in model.recv else "unknown_kid")
    if not model.frames:
        return Outcome("malformed", frame=b"")
    ciphertext, plaintext, kid = model.frames[op.a % len(model.frames)]
    if op.name == "decrypt_on_send":
        # The sender holds only send keys: a frame for one of them is key misuse.
        return Outcome("key_usage" if kid in model.send else "unknown_kid", frame=ciphertext)
    frame = bytearray(ciphertext)
    if op.b:
        bit = (op.b - 1) % (8 * len(frame))
        frame[bit // 8] ^= 0x80 >> (bit % 8)
    if op.b == 0:
        return Outcome(None if kid in model.recv else "unknown_kid", frame=bytes(frame), plaintext=plaintext)
    return Outcome("rejected", frame=bytes(frame))  # any rejection: a flip may also change the KID or length


def run(suite: int, ops: list[Op]) -> None:
    sender, receiver, model = Context(suite), Context(suite), Model()
    for step, op in enumerate(ops):
        want = expect(model, op)
        got_error, result = None, None
        try:
            if op.name == "add_send":
                sender.add_send_key(op.kid, base_key(op.kid), model.send[op.kid] if want.error is None else 0)
            elif op.name == "add_recv":
                receiver.add_recv_key(op.kid, base_key(op.kid))
            elif op.name == "remove_send":
                sender.remove_key(op.kid)
            elif op.name == "remove_recv":
                receiver.remove_key(op.kid)
            elif op.name == "encrypt":
                result = sender.encrypt(op.kid, b"", want.plaintext or b"")
            elif op.name == "encrypt_on_recv":
                result = receiver.encrypt(op.kid, b"", b"x")
            elif op.name == "decrypt":
                result = receiver.decrypt(b"", want.frame or b"")
            else:
                result = sender.decrypt(b"", want.frame or b"")
        except SFrameError as e:
            got_error = e.code
        where = f"op {step} {op}"
        if want.error == "rejected":
            if got_error is None:
                raise AssertionError(f"{where}: a modified frame decrypted to {result!r}")
            continue
        if got_error != want.error:
            raise AssertionError(f"{where}: got {got_error or 'success'}, the model says {want.error or 'success'}")
        if op.name == "encrypt" and result is not None:
            if parse_header(result).ctr != want.ctr:
                raise AssertionError(f"{where}: encrypted at CTR {parse_header(result).ctr}, expected {want.ctr}")
            model.frames.append((result, want.plaintext or b"", op.kid))
        if op.name == "decrypt" and want.error is None and result != want.plaintext:
            raise AssertionError(f"{where}: decrypted {result!r}, sent {want.plaintext!r}")


def TestOneInput(data: bytes) -> None:
    run(*parse(data))


def seeds() -> Iterator[bytes]:
    # Not from vectors/: context scenarios have no vectors. One per suite covering
    # the happy path, misuse, counter exhaustion and tampering.
    script = [
        (0, 0, 0), (1, 0, 0),  # add send/recv KID 0 at CTR 0
        (4, 0, 5), (5, 0, 0), (5, 0, 1),  # encrypt, decrypt, decrypt a flipped frame
        (0, 3, 4), (1, 3, 0), (4, 3, 3), (4, 3, 3),  # KID 2^64-1 at CTR 2^64-1: one frame, then exhausted
        (6, 0, 0), (7, 0, 0), (0, 0, 0), (2, 1, 0), (3, 0, 0), (5, 0, 0),  # misuse, unknown KIDs, removed key
    ]
    for index in range(len(SUITE_IDS)):
        yield bytes([index]) + bytes(b for triple in script for b in triple)


def to_case(data: bytes):  # -> harness.cases.Case over the protocol's context ops
    from harness.model.cases import Case, Expected, Ref, Step
    from harness.model.requirements import Level
    from harness.model.wire import Request

    suite, ops = parse(data)
    model = Model()
    sender, receiver = Ref(0, "ctx"), Ref(1, "ctx")
    steps = [Step(Request("context_new", {"suite": suite})), Step(Request("context_new", {"suite": suite}))]
    shadow = Context(suite)  # only to compute the concrete frames later steps decrypt
    for op in ops:
        want = expect(model, op)
        if op.name in ("add_send", "add_recv"):
            usage, ctx = ("send", sender) if op.name == "add_send" else ("recv", receiver)
            fields = {"ctx": ctx, "kid": op.kid, "base_key": base_key(op.kid), "usage": usage}
            if usage == "send" and want.error is None:
                fields["next_ctr"] = model.send[op.kid]
                shadow.add_send_key(op.kid, base_key(op.kid), model.send[op.kid])
            request = Request("context_add_key", fields)
        elif op.name in ("remove_send", "remove_recv"):
            if op.name == "remove_send" and want.error is None:
                shadow.remove_key(op.kid)
            request = Request("context_remove_key", {"ctx": sender if op.name == "remove_send" else receiver,
                                                     "kid": op.kid})
        elif op.name in ("encrypt", "encrypt_on_recv"):
            plaintext = want.plaintext or b"x"
            request = Request("context_encrypt", {"ctx": sender if op.name == "encrypt" else receiver, "kid": op.kid,
                                                  "metadata": b"", "plaintext": plaintext})
            if op.name == "encrypt" and want.error is None:
                model.frames.append((shadow.encrypt(op.kid, b"", plaintext), plaintext, op.kid))
        else:
            request = Request("context_decrypt", {"ctx": receiver if op.name == "decrypt" else sender,
                                                  "metadata": b"", "ciphertext": want.frame or b""})
        if want.error == "rejected":
            steps.append(Step(request, False, errors=("auth_failed", "malformed", "unknown_kid")))
        elif want.error is not None:
            steps.append(Step(request, False, errors=(want.error,)))
        elif op.name == "encrypt":
            steps.append(Step(request, True, {"ctr": want.ctr}))
        elif op.name == "decrypt":
            steps.append(Step(request, True, {"plaintext": want.plaintext}))
        else:
            steps.append(Step(request))
    return Case(id=f"fuzz/context/{data[:12].hex() or 'empty'}", title="context state machine (atheris finding)",
                section="4.4.1", requirements=("KEY-02", "ENC-06", "DEC-06"), level=Level.MUST,
                result=Expected.VALID, steps=tuple(steps), flags=("Fuzz",), source="fuzz/fuzz_context.py")


def main() -> None:
    from harness.fuzz.libfuzzer import run_target

    run_target(TestOneInput)


if __name__ == "__main__":
    main()
