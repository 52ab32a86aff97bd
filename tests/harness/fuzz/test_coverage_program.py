"""Fuzz inputs as programs: any bytes decode, canonical programs round-trip, and a finding becomes a reproducer."""

import random

import pytest

from harness.adapters.inprocess import PythonAdapter
from harness.fuzz import coverage_program as cp
from harness.fuzz.difffuzz import Key
from harness.model.repro import case_to_repro, repro_to_case
from harness.model.wire import Request, Response

pytestmark = pytest.mark.fuzz

EVERYTHING = cp.Plan((1, 2, 3, 4, 5, 6, 7, 8),
                     frozenset({"context", "ratchet", "mls", "replay", "encode_header", "decode_header", "derive",
                                "aead_encrypt", "aead_decrypt"}))


def test_any_bytes_decode_and_the_decoding_round_trips():
    rng = random.Random(5)
    for _ in range(3000):
        ops = EVERYTHING.decode(rng.randbytes(rng.randrange(0, 300)))
        assert len(ops) <= cp.MAX_RECORDS
        assert EVERYTHING.decode(EVERYTHING.encode(ops)) == ops
        cp.plan_steps(ops)  # never raises either


def test_only_supported_operations_are_decoded():
    plan = cp.Plan((4, 5), frozenset({"encode_header", "decode_header", "ratchet_derive"}))  # rust-ring's hello
    assert {k.kind for k in plan.kinds} == {"encrypt", "decrypt", "encode_header", "decode_header", "ratchet_derive"}
    rng = random.Random(1)
    for _ in range(500):
        for step in cp.plan_steps(plan.decode(rng.randbytes(80))):
            assert step.op in ("encrypt", "decrypt", "encode_header", "decode_header", "ratchet_derive")
            assert step.fields.get("suite", 4) in (4, 5)


def test_contexts_are_created_first_and_freed_last():
    frame = cp.FrameSpec(cp.Recipe("decrypt", 4, cp.KEYS[0], 2, 0, b"", b"hi"))
    ops = [cp.EncryptOp(), cp.ContextNewOp(4), cp.AddKeyOp(0, 2), cp.ContextDecryptOp(0, frame)]
    steps = cp.plan_steps(ops)
    assert [s.op for s in steps] == ["context_new", "encrypt", "context_add_key", "context_decrypt", "context_free"]
    assert steps[2].fields["ctx"] == cp.Ctx(0) and steps[0].creates


def test_seeds_run_clean_on_the_reference():
    """Every seed program decrypts what it should on sframe_py: the campaign starts from valid frames."""
    python = PythonAdapter()
    plan = cp.Plan.of([python])
    executor = cp.Executor([python])
    try:
        for program in cp.seed_programs(plan):
            assert plan.decode(plan.encode(program)) == program
            steps = cp.plan_steps(program)
            answers = executor.run(steps)["python"]
            assert all(r.fault is None for r in answers)
            for step, answer in zip(steps, answers):
                if step.op in ("context_decrypt", "mls_decrypt") and step is steps[-2]:
                    assert answer.ok or answer.error in ("unknown_kid", "replay"), (step, answer)
    finally:
        executor.close()


class Planted(PythonAdapter):
    """sframe_py, except that a context_decrypt of a 3-byte plaintext comes back with its first bit flipped."""

    def __init__(self) -> None:
        super().__init__("planted")

    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        if request.op == "context_decrypt" and response.ok and len(response.fields["plaintext"]) == 3:
            wrong = bytes([response.fields["plaintext"][0] ^ 0x80]) + response.fields["plaintext"][1:]
            return Response(True, {**response.fields, "plaintext": wrong})
        return response


def test_a_disagreement_shrinks_to_a_reproducer_that_replays():
    python, planted = PythonAdapter(), Planted()
    executor = cp.Executor([python, planted])
    frame = cp.FrameSpec(cp.Recipe("decrypt", 4, cp.KEYS[0], 2, 0, b"meta", b"abc"))
    ops = [cp.EncryptOp(), cp.ContextNewOp(4), cp.AddKeyOp(0, 1, True), cp.AddKeyOp(0, 2),
           cp.ContextEncryptOp(0, 1, b"", b"xyz"), cp.ContextDecryptOp(0, frame), cp.DecodeHeaderOp()]
    try:
        steps = cp.plan_steps(ops)
        found = executor.judge(steps, executor.run(steps))
        assert found is not None and found.key == Key("context_decrypt", 4, (("python",), ("planted",)), "output")
        small = cp.shrink(executor, ops, found.key)
        assert len(small) == 3  # context_new, the receive key, the decrypt: nothing else is needed
        steps = cp.plan_steps(small)
        results = executor.run(steps)
        again = executor.judge(steps, results)
        assert again is not None
        case = cp.to_case(small, results, "python", again, "fuzz/test")
    finally:
        executor.close()
    loaded = repro_to_case(case_to_repro(case))
    assert [s.request.op for s in loaded.steps] == ["context_new", "context_add_key", "context_decrypt"]
    assert loaded.steps[2].output["plaintext"] == b"abc"


class KeysOnAnyContext(PythonAdapter):
    """sframe_py, except that it accepts context_add_key on a ratchet sender (the harness protocol says
    invalid_argument; RFC 9605 defines no such context kinds) and then encrypts under the added key wrongly."""

    def __init__(self) -> None:
        super().__init__("lenient")
        self.ratchets: set[str] = set()

    def handle(self, request: Request) -> Response:
        if request.op == "context_add_key" and request.fields["ctx"] in self.ratchets:
            return Response(True, {})
        response = super().handle(request)
        if request.op == "ratchet_sender_new" and response.ok:
            self.ratchets.add(response.fields["ctx"])
        if request.op == "context_encrypt" and response.ok and request.fields["ctx"] in self.ratchets:
            return Response(True, {**response.fields, "ciphertext": b"\x00" + response.fields["ciphertext"]})
        return response


def test_ops_on_a_context_of_another_kind_run_and_accepting_them_is_never_a_disagreement():
    """Wrong-kind ops reach the checks that refuse them; a shim that takes one is noted, not accused, and
    what its context does afterwards is not compared."""
    ops = [cp.RatchetNewOp(False, 4, 1, 4), cp.AddKeyOp(0, 9, True), cp.ContextEncryptOp(0, 9, b"", b"hi"),
           cp.ContextNewOp(4), cp.AdvanceOp(1)]
    steps = cp.plan_steps(ops)
    kinds = {s.op: s.allowance for s in steps}
    assert kinds["context_add_key"] is cp.Allowance.CONTEXT_KIND and kinds["ratchet_advance"] is cp.Allowance.CONTEXT_KIND
    assert kinds["context_encrypt"] is None  # a ratchet sender does encrypt
    python, lenient = PythonAdapter(), KeysOnAnyContext()
    executor = cp.Executor([python, lenient])
    try:
        results = executor.run(steps)
        assert results["python"][2].error == "invalid_argument" and results["lenient"][2].ok
        assert executor.judge(steps, results) is None
        # The same wrong encryption on a context of the right kind is a disagreement.
        ops = [cp.RatchetNewOp(False, 4, 1, 4), cp.ContextEncryptOp(0, None, b"", b"hi")]
        steps = cp.plan_steps(ops)
        found = executor.judge(steps, executor.run(steps))
        assert found is not None and found.key.how == "output"
    finally:
        executor.close()
