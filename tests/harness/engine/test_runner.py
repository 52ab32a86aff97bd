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
