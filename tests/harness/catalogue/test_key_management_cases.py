"""The stateful catalogue (vectors/generated/key-management.json): it passes on the
reference, grades missing capabilities as unsupported, and catches planted bugs."""

from collections import Counter

import sframe_py.context
import sframe_py.mls
import sframe_py.replay
from harness.adapters.inprocess import PythonAdapter
from harness.catalogue import all_cases
from harness.engine.runner import run
from harness.model.cases import Ref
from harness.model.grading import Grade
from harness.model.wire import Request, Response
from sframe_py import RatchetReceiver


def _cases():
    return [c for c in all_cases() if c.id.startswith("gen/keys/")]


def _failed(result) -> dict[str, tuple[str, ...]]:
    return {o.case.id: o.case.requirements for o in result.outcomes if o.grade is Grade.FAIL}


def test_cases_cover_the_issue_and_pass_on_the_reference():
    cases = _cases()
    per_requirement = Counter(r for c in cases for r in c.requirements)
    for req in ("ENC-04", "ENC-05", "ENC-06", "ENC-07", "DEC-02", "DEC-06", "KEY-02", "SK-01", "SK-02", "SK-03",
                "SK-04", "MLS-01", "MLS-02", "MLS-03", "MLS-04", "MLS-05", "MLS-06", "REPLAY-01", "REPLAY-02",
                "REPLAY-03"):
        assert per_requirement[req] >= 1, req
    assert {c.suite for c in cases if c.id.endswith("/chain")} == set(range(1, 9))
    figure = {c.id.rsplit("-", 1)[1] for c in cases if "/kid-layout/figure-" in c.id}
    assert figure == {"0x3e", "0x7e", "0x14e", "0x3f", "0x5f", "0x820", "0xc20", "0x211", "0x331"}
    assert all(isinstance(c.steps[1].request.fields["ctx"], Ref) for c in cases if c.stateful)
    result = run(PythonAdapter(), cases)
    assert {o.grade for o in result.outcomes} == {Grade.PASS}, [(o.case.id, o.detail) for o in result.outcomes
                                                                if o.grade is not Grade.PASS][:5]


class _WithoutStatefulOps(PythonAdapter):
    """An implementation that has none of the stateful capabilities."""

    def handle(self, request: Request) -> Response:
        if request.op.startswith(("context_", "ratchet_", "mls_")):
            return Response(False, error="unsupported", message=request.op)
        return super().handle(request)


def test_missing_capabilities_grade_unsupported_never_fail():
    result = run(_WithoutStatefulOps(), _cases())
    assert {o.grade for o in result.outcomes} == {Grade.UNSUPPORTED}
    assert not result.failed


def test_planted_bug_counter_wraps(monkeypatch):
    monkeypatch.setattr(sframe_py.context, "next_counter", lambda ctr: (ctr + 1) % 2**64)
    failed = _failed(run(PythonAdapter(), _cases()))
    assert "gen/keys/context/suite-4/counter-exhausted" in failed
    assert "gen/keys/context/counter-exhausted-at-first" in failed
    assert failed and all("ENC-06" in reqs for reqs in failed.values()), failed


def test_planted_bug_epoch_not_evicted(monkeypatch):
    monkeypatch.setattr(sframe_py.mls.MlsContext, "_evict", lambda self, epoch: None)
    failed = _failed(run(PythonAdapter(), _cases()))
    assert {"gen/keys/mls/evict/old-epoch-refused", "gen/keys/mls/evict/old-epoch-frame-fails",
            "gen/keys/mls/evict/e8", "gen/keys/mls/evict/e0"} <= set(failed)
    assert all("MLS-03" in reqs for reqs in failed.values()), failed


def test_planted_bug_replay_window_moved_by_a_forgery(monkeypatch):
    real_check = sframe_py.replay.ReplayWindow.check

    def check_and_move(self, ctr):
        real_check(self, ctr)
        self.accept(ctr)  # the bug: the window moves before the frame has authenticated

    monkeypatch.setattr(sframe_py.replay.ReplayWindow, "check", check_and_move)
    failed = _failed(run(PythonAdapter(), _cases()))
    assert "gen/keys/replay/forged-does-not-move" in failed
    assert all("REPLAY-02" in reqs for reqs in failed.values()), failed


def test_planted_bug_ratchet_receiver_keeps_one_step(monkeypatch):
    real_init = RatchetReceiver.__init__

    def init_with_window_one(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.window_size = 1  # the bug: reordered frames from the previous step are refused

    monkeypatch.setattr(RatchetReceiver, "__init__", init_with_window_one)
    failed = _failed(run(PythonAdapter(), _cases()))
    assert "gen/keys/ratchet/window/r2-reorder" in failed
    assert all("SK-03" in reqs for reqs in failed.values()), failed


def test_adapter_handles_name_live_contexts_of_the_right_kind():
    adapter = PythonAdapter()
    assert {"context", "ratchet", "mls", "replay"} <= set(adapter.hello.capabilities)
    call = lambda op, **f: adapter.call(Request(op, f))  # noqa: E731
    ctx = call("context_new", suite=4).fields["ctx"]
    mls = call("mls_context_new", suite=4, epoch_bits=4, sender_bits=6).fields["ctx"]
    assert isinstance(ctx, str) and ctx != mls
    assert call("mls_add_epoch", ctx=ctx, epoch=1, epoch_secret=b"k").error == "invalid_argument"
    assert call("context_add_key", ctx=mls, kid=1, base_key=b"k", usage="send").error == "invalid_argument"
    assert call("context_free", ctx=ctx).ok
    for op in ("context_free", "context_encrypt"):
        assert call(op, ctx=ctx, kid=1, metadata=b"", plaintext=b"").error == "invalid_argument"
    assert call("context_free", ctx="ctx-999").error == "invalid_argument"
    assert call("context_free").error == "invalid_argument"
