from harness.model.cases import Case, Expected, Step
from harness.model.grading import Grade, Policy, grade
from harness.model.requirements import Level
from harness.model.wire import Request, Response


def case(*steps, result=Expected.VALID, level=Level.MUST):
    return Case("t/1", "t", "4.4.4", ("DEC-03",), level, result, tuple(steps))


DEC = Request("decrypt", {})
ok_step = Step(DEC, output={"plaintext": b"pt"})
bad_step = Step(DEC, expect_ok=False, errors=("auth_failed",))


def test_valid_case():
    assert grade(case(ok_step), [Response(True, {"plaintext": b"pt"})]).grade is Grade.PASS
    out = grade(case(ok_step), [Response(True, {"plaintext": b"px"})])
    assert out.grade is Grade.FAIL and "plaintext expected 7074, got 7078" in out.detail
    assert grade(case(ok_step), [Response(False, error="auth_failed")]).grade is Grade.FAIL


def test_invalid_case():
    assert grade(case(bad_step), [Response(False, error="auth_failed")]).grade is Grade.PASS
    out = grade(case(bad_step), [Response(False, error="malformed")])
    assert out.grade is Grade.NON_STRICT and "rejected with malformed, expected auth_failed" in out.detail
    out = grade(case(bad_step), [Response(True, {"plaintext": b""})])
    assert out.grade is Grade.FAIL and out.fails_run


def test_unsupported_internal_and_fault():
    assert grade(case(ok_step), [Response(False, error="unsupported")]).grade is Grade.UNSUPPORTED
    assert grade(case(bad_step), [Response(False, error="internal", message="x")]).grade is Grade.ERROR
    out = grade(case(ok_step), [Response.faulted("timeout")])
    assert out.grade is Grade.ERROR and out.fails_run


def test_required_unsupported_passes():
    step = Step(Request("encrypt", {"suite": 9}), expect_ok=False, errors=("unsupported",))
    assert grade(case(step), [Response(False, error="unsupported")]).grade is Grade.PASS


def test_acceptable_case():
    step = Step(Request("decode_header", {}), output={"ctr": 5}, may_fail=True)
    c = case(step, result=Expected.ACCEPTABLE)
    assert grade(c, [Response(True, {"ctr": 5})]).grade is Grade.NON_STRICT
    assert grade(c, [Response(False, error="malformed")]).grade is Grade.NON_STRICT
    assert grade(c, [Response(True, {"ctr": 6})]).grade is Grade.FAIL


def test_only_must_failures_fail_the_run():
    c = case(ok_step, level=Level.MAY)
    out = grade(c, [Response(False, error="invalid_argument")])
    assert out.grade is Grade.FAIL and not out.fails_run


def test_worst_step_wins():
    c = case(ok_step, ok_step)
    out = grade(c, [Response(False, error="unsupported"), Response.faulted("crashed")])
    assert out.grade is Grade.ERROR


U64_MAX = (1 << 64) - 1


def test_a_refused_may_fail_step_is_non_strict_with_its_reason_and_later_steps_are_still_graded():
    refusable = Step(Request("context_encrypt", {}), output={"ctr": U64_MAX}, may_fail=True,
                     reason="a sender may stop one value early (ENC-06)")
    after = Step(Request("context_encrypt", {}), expect_ok=False, errors=("counter_exhausted",))
    c = case(refusable, after)
    out = grade(c, [Response(False, error="counter_exhausted"), Response(False, error="counter_exhausted")])
    assert out.grade is Grade.NON_STRICT and not out.fails_run
    assert "context_encrypt: refused with counter_exhausted" in out.detail and "ENC-06" in out.detail
    assert out.reason == "a sender may stop one value early (ENC-06)" and out.policy is Policy.REFUSED
    # The step after the refusal is still graded: a wrap to CTR 0 is a MUST failure.
    out = grade(c, [Response(False, error="counter_exhausted"), Response(True, {"ctr": 0})])
    assert out.grade is Grade.FAIL and out.fails_run and "accepted input that must be rejected" in out.detail
    accepted = grade(c, [Response(True, {"ctr": U64_MAX}), Response(False, error="counter_exhausted")])
    assert accepted.grade is Grade.PASS and accepted.policy is Policy.ACCEPTED


def test_an_encryption_at_ctr_max_may_be_refused_even_where_the_data_does_not_say_so():
    step = Step(Request("encrypt", {"suite": 4, "base_key": bytes(16), "kid": 1, "ctr": U64_MAX}),
                output={"ciphertext": b"x"})
    decrypt = Step(Request("decrypt", {"suite": 4, "base_key": bytes(16), "kid": 1}), output={"plaintext": b"pt"})
    out = grade(case(step, decrypt), [Response(False, error="counter_exhausted"), Response(True, {"plaintext": b"pt"})])
    assert out.grade is Grade.NON_STRICT and "ENC-06" in out.reason
    # The receiver half is graded: failing to decrypt the CTR 2^64-1 frame is a MUST failure.
    out = grade(case(step, decrypt), [Response(False, error="counter_exhausted"), Response(False, error="auth_failed")])
    assert out.grade is Grade.FAIL and out.detail.startswith("decrypt: expected success")
    # A refusal at any other CTR is still a failure: the allowance names one value, not the op.
    other = Step(Request("encrypt", {"suite": 4, "base_key": bytes(16), "kid": 1, "ctr": U64_MAX - 1}))
    assert grade(case(other), [Response(False, error="counter_exhausted")]).grade is Grade.FAIL
    # Nor is a wrong ciphertext at CTR 2^64-1 excused.
    assert grade(case(step), [Response(True, {"ciphertext": b"y"})]).grade is Grade.FAIL


def test_base_key_lengths_16_and_nk_must_work_others_may_be_refused():
    def enc(length, suite=4):
        return Step(Request("encrypt", {"suite": suite, "base_key": bytes(length), "kid": 1, "ctr": 0}))

    refused = Response(False, error="invalid_argument")
    assert grade(case(enc(0)), [refused]).grade is Grade.NON_STRICT
    assert grade(case(enc(33)), [refused]).grade is Grade.NON_STRICT
    assert grade(case(enc(16)), [refused]).grade is Grade.FAIL
    assert grade(case(enc(48, suite=1)), [refused]).grade is Grade.FAIL  # Nk of suite 1, as the MLS exporter gives


def test_another_error_class_carries_the_reason():
    out = grade(case(bad_step), [Response(False, error="malformed")])
    assert out.grade is Grade.NON_STRICT and "error class" in out.reason


def test_an_accepted_acceptable_case_says_why():
    step = Step(Request("decode_header", {"data": bytes.fromhex("0805")}), output={"ctr": 5}, may_fail=True)
    out = grade(case(step, result=Expected.ACCEPTABLE), [Response(True, {"ctr": 5})])
    assert out.grade is Grade.NON_STRICT and "non-minimal" in out.detail and out.policy is Policy.ACCEPTED
    out = grade(case(step, result=Expected.ACCEPTABLE), [Response(False, error="malformed")])
    assert out.grade is Grade.NON_STRICT and out.policy is Policy.REFUSED and "HDR-07" in out.reason


def test_one_failure_rule():
    from harness.model.grading import FailOn, fails_run

    for g in Grade:
        for level in Level:
            o = grade(case(ok_step, level=level), [{
                Grade.PASS: Response(True, {"plaintext": b"pt"}), Grade.FAIL: Response(True, {"plaintext": b"x"}),
                Grade.NON_STRICT: Response(True, {"plaintext": b"pt"}), Grade.UNSUPPORTED: Response(False, error="unsupported"),
                Grade.ERROR: Response.faulted("hang")}[g]])
            assert o.fails_run == fails_run(o.grade, level, FailOn.MUST)
    assert fails_run(Grade.ERROR, Level.MAY) and not fails_run(Grade.FAIL, Level.SHOULD)
    assert fails_run(Grade.FAIL, Level.SHOULD, FailOn.SHOULD) and not fails_run(Grade.FAIL, Level.MAY, FailOn.SHOULD)
    assert fails_run(Grade.FAIL, Level.MAY, FailOn.ANY) and not fails_run(Grade.NON_STRICT, Level.MUST, FailOn.ANY)
