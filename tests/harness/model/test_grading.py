from harness.model.cases import Case, Expected, Step
from harness.model.grading import Grade, grade
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
