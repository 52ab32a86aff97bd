"""Stateful cases: later steps take values (a context handle) from earlier responses."""

from harness.adapters.base import Adapter
from harness.engine.runner import run
from harness.model.cases import Case, Expected, Ref, Step
from harness.model.grading import Grade
from harness.model.requirements import Level
from harness.model.wire import Hello, Request, Response


class Counter(Adapter):
    """Toy stateful implementation: `new` makes a counter, `inc` bumps it."""

    name = "toy"
    hello = Hello("toy", "0", 1, (), ())

    def __init__(self):
        self.counters: dict[str, int] = {}
        self.batches: list[int] = []

    def run(self, requests):
        self.batches.append(len(requests))
        out = []
        for r in requests:
            if r.op == "new":
                handle = f"c{len(self.counters)}"
                self.counters[handle] = 0
                out.append(Response(True, {"ctx": handle}))
            elif r.op == "inc" and r.fields.get("ctx") in self.counters:
                self.counters[r.fields["ctx"]] += 1
                out.append(Response(True, {"value": self.counters[r.fields["ctx"]]}))
            else:
                out.append(Response(False, error="invalid_argument"))
        return out


def stateful_case(n: int, first: Request = Request("new")) -> Case:
    steps = [Step(first)] + [Step(Request("inc", {"ctx": Ref(0, "ctx")}), output={"value": i + 1}) for i in range(n)]
    return Case(f"t/{n}", "t", "4.4.1", ("ENC-05",), Level.MUST, Expected.VALID, tuple(steps))


def test_refs_are_resolved_and_steps_batched_across_cases():
    adapter = Counter()
    result = run(adapter, [stateful_case(3), stateful_case(1), stateful_case(2)])
    assert [o.grade for o in result.outcomes] == [Grade.PASS] * 3
    assert adapter.batches == [3, 3, 2, 1]  # one pipelined batch per step index


def test_a_failed_step_leaves_dependents_unrun_and_carries_the_grade():
    adapter = Counter()
    result = run(adapter, [stateful_case(2, first=Request("bogus"))])
    outcome = result.outcomes[0]
    assert outcome.grade is Grade.FAIL and "bogus: expected success" in outcome.detail
    assert adapter.batches == [1]


class Crashing(Counter):
    """Counter that "crashes" on the N-th `inc` (of any case): that request faults, the state is lost and
    ``restarts`` goes up, as a subprocess adapter replacing its process does. ``every``: crash again each N."""

    def __init__(self, crash_at: int, every: bool = False):
        super().__init__()
        self.crash_at, self.every, self.incs, self.restarts = crash_at, every, 0, 0

    def run(self, requests):
        out = []
        for r in requests:
            if r.op == "inc":
                self.incs += 1
                if self.incs == self.crash_at or (self.every and self.incs % self.crash_at == 0):
                    self.counters.clear()
                    self.restarts += 1
                    out.append(Response.faulted("crashed: stdout closed"))
                    continue
            out.extend(super().run([r]))
        return out


def test_a_crash_in_one_stateful_case_costs_that_case_only():
    cases = [stateful_case(n) for n in (3, 1, 4, 2, 5)]
    clean = [o.grade for o in run(Counter(), cases).outcomes]
    adapter = Crashing(crash_at=7)  # in the third batch of incs: every case but one still has steps to go
    outcomes = run(adapter, cases).outcomes
    errors = [o for o in outcomes if o.grade is Grade.ERROR]
    assert len(errors) == 1 and "crashed" in errors[0].detail
    assert [o.grade for o in outcomes if o is not errors[0]] == [g for o, g in zip(outcomes, clean) if o is not errors[0]]
    assert adapter.restarts == 1


def test_reruns_after_restarts_are_bounded():
    from harness.engine.runner import MAX_ROUNDS

    adapter = Crashing(crash_at=2, every=True)  # crashes on every second inc, for ever
    outcomes = run(adapter, [stateful_case(3) for _ in range(40)]).outcomes
    assert all(o.grade is Grade.ERROR for o in outcomes)
    assert adapter.restarts <= 40 * MAX_ROUNDS
    assert any(f"each of {MAX_ROUNDS} runs" in o.detail for o in outcomes)


def test_a_restarted_implementation_grades_every_other_stateful_case_as_without_the_crash(tmp_path):
    import sys

    from harness.adapters.inprocess import PythonAdapter
    from harness.adapters.registry import open_adapter
    from harness.catalogue import all_cases, select
    from tests.conftest import ROOT

    cases = select(all_cases(), only=["gen/keys/*"])
    clean = {o.case.id: o.grade for o in run(PythonAdapter(), cases).outcomes}
    shim = ROOT / "tests" / "fixtures" / "crash_once_shim.py"
    with open_adapter(f"cmd:{sys.executable} {shim} {tmp_path / 'crashed'} context_encrypt 40") as adapter:
        result = run(adapter, cases)
    assert result.restarts == 1
    differing = {o.case.id: o.detail for o in result.outcomes if o.grade is not clean[o.case.id]}
    assert len(differing) == 1, list(differing.items())[:5]  # before: 134 cases lost their contexts
    (detail,) = differing.values()
    assert detail.startswith("context_encrypt: crashed")
