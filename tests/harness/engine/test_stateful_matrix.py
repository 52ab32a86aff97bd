"""Stateful interop cells (context, ratchet, mls, replay) and the ratchet known-answer table.

Conforming implementations pass every cell; planted key-management bugs (a wrong counter start, a replay
window that is off, a ratchet with the wrong label, a different MLS KID layout) fail the cell with the first
diverging step in its first note; allowed behaviour (refusing CTR 2^64-1, another error class for a replay)
is non-strict, never fail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from harness.adapters.base import Adapter
from harness.adapters.inprocess import PythonAdapter
from harness.adapters.registry import open_adapter
from harness.cli import main
from harness.engine.matrix import Matrix
from harness.engine.ratchet_kat import STEPS, ratchet_kat
from harness.engine.reading import Reader
from harness.engine.results import apply_gate, document
from harness.engine.stateful_matrix import (
    CONTEXT_KIDS,
    KINDS,
    REPLAY_WINDOW,
    add_stateful,
    run_stateful,
)
from harness.model.grading import Grade
from harness.model.protocol import U64_MAX
from harness.model.wire import Hello, Request, Response
from harness.reporters.html import render


class Rewriting(Adapter):
    """python, with one planted behaviour: ``before`` may rewrite a request or answer it itself."""

    def __init__(self, name: str, before: Callable[[Request], Request | Response],
                 capabilities: Sequence[str] | None = None) -> None:
        self.inner = PythonAdapter()
        self.name, self.before = name, before
        h = self.inner.hello
        self.hello = Hello(h.name, h.version, h.protocol, h.suites,
                           tuple(capabilities) if capabilities is not None else h.capabilities)

    def run(self, requests: Sequence[Request]) -> list[Response]:
        out = []
        for request in requests:
            changed = self.before(request)
            out.append(changed if isinstance(changed, Response) else self.inner.call(changed))
        return out


def _with(request: Request, **fields: Any) -> Request:
    return Request(request.op, {**request.fields, **fields})


def cells_of(adapters: list[Adapter], suites: Sequence[int] = (4,), kinds: Sequence[str] = KINDS) -> dict[str, Any]:
    return {c.key: c for c in run_stateful(adapters, suites, kinds)}


def test_python_with_itself_passes_every_kind_and_counts_every_check():
    cells = cells_of([PythonAdapter(), PythonAdapter("python-2")], suites=(1, 4))
    assert len(cells) == 2 * 2 * 2 * len(KINDS)  # ordered pairs x suites x kinds
    for cell in cells.values():
        assert cell.grade is Grade.PASS, (cell.key, cell.failures)
        for check in ("encrypt", "decrypt", "identity", "tamper"):
            assert cell.checks[check].passed > 0, (cell.key, check)
    ratchet = cells["python->python-2/ratchet/suite-4"]
    assert ratchet.checks["tamper"].passed == 4  # two deleted steps, the jump past the window, a forgery
    mls = cells["python->python-2/mls/suite-1"]
    assert mls.checks["tamper"].passed >= 4  # the removed member's epochs, the evicted epoch, a forgery


@pytest.mark.native
@pytest.mark.node
def test_python_c_and_js_interoperate_in_every_stateful_kind():
    adapters = [open_adapter(n) for n in ("python", "c", "js")]
    try:
        cells = cells_of(adapters, suites=(1, 4, 7))
    finally:
        for a in adapters:
            a.close()
    assert len(cells) == 9 * 3 * len(KINDS)
    bad = {k: c.failures[:2] for k, c in cells.items() if c.grade is not Grade.PASS}
    assert not bad


def test_a_sender_ignoring_next_ctr_fails_at_its_first_frame_past_2_32():
    def restart(r: Request) -> Request:
        return _with(r, next_ctr=0) if r.op == "context_add_key" else r

    cells = cells_of([PythonAdapter(), Rewriting("zero", restart)], kinds=("context",))
    cell = cells["zero->python/context/suite-4"]
    assert cell.grade is Grade.FAIL
    assert cell.failures[0].startswith("send ") and f"expected {(1 << 32) - 2}" in cell.failures[0]
    back = cells["python->zero/context/suite-4"]  # its receive keys have no counter: only identity differs
    assert back.checks["decrypt"].failed == 0 and back.checks["identity"].failed > 0


def test_a_receiver_whose_window_is_off_fails_the_replay_cell_at_the_first_duplicate():
    def no_window(r: Request) -> Request:
        return Request(r.op, {k: v for k, v in r.fields.items() if k != "replay_window"})

    cells = cells_of([PythonAdapter(), Rewriting("nowindow", no_window)], kinds=("replay",))
    cell = cells["python->nowindow/replay/suite-4"]
    assert cell.grade is Grade.FAIL
    assert cell.failures[0].startswith("step 3 rx (nowindow) c0: decrypted, but must be refused (replay)")
    assert cells["nowindow->python/replay/suite-4"].grade is Grade.PASS
    assert REPLAY_WINDOW == 128  # medooze's fixed window: it can take part


def test_another_error_class_for_a_replay_is_non_strict_not_fail():
    def auth_instead(r: Request) -> Request | Response:
        return r

    class Relabel(Rewriting):
        def run(self, requests: Sequence[Request]) -> list[Response]:
            out = super().run(requests)
            return [Response(False, error="auth_failed", message="relabelled") if not r.ok and r.error == "replay"
                    else r for r in out]

    cells = cells_of([PythonAdapter(), Relabel("relabel", auth_instead)], kinds=("replay",))
    cell = cells["python->relabel/replay/suite-4"]
    assert cell.grade is Grade.NON_STRICT, cell.failures
    assert "refused with auth_failed, not replay" in cell.reasons[0]


def test_a_sender_refusing_ctr_max_is_acceptable_and_the_receiver_gets_the_reference_frame():
    state: dict[str, Any] = {}

    def refuse_last(r: Request) -> Request | Response:
        if r.op == "context_add_key" and r.fields.get("next_ctr") == U64_MAX - 1:
            state["kid"], state["sent"] = r.fields["kid"], 0
        elif r.op == "context_encrypt" and r.fields.get("kid") == state.get("kid"):
            state["sent"] += 1
            if state["sent"] > 1:  # it uses 2^64-2, then refuses 2^64-1 and everything after
                return Response(False, error="counter_exhausted", message="refuses the last CTR")
        return r

    cells = cells_of([PythonAdapter(), Rewriting("careful", refuse_last)], kinds=("context",))
    cell = cells["careful->python/context/suite-4"]
    assert cell.grade is Grade.NON_STRICT, cell.failures
    assert cell.checks["encrypt"].acceptable == 1 and "ENC-06" in cell.reasons[0]
    assert cell.checks["decrypt"].failed == 0 and cell.checks["decrypt"].passed == 10  # the reference's frame too
    assert CONTEXT_KIDS["c"] > 1 << 32


def test_a_wrong_ratchet_label_fails_at_step_1_and_shows_in_the_known_answer_table():
    import sframe_py
    from sframe_py import get_suite
    from sframe_py.kdf import hkdf_expand, hkdf_extract

    def wrong(r: Request) -> Request | Response:
        if r.op in ("ratchet_sender_new", "ratchet_receiver_new"):
            return Response(False, error="unsupported", message="no stateful ratchet")
        if r.op == "ratchet_derive":
            suite = get_suite(r.fields["suite"])
            key = r.fields["base_key"]
            for _ in range(r.fields["steps"]):  # the crate's label, and Nk bytes
                key = hkdf_expand(suite.hash_name, hkdf_extract(suite.hash_name, b"", key), b"Sframe 1.0 Ratchet",
                                  suite.nk)
            return Response(True, {"base_key": key})
        return r

    label = Rewriting("label", wrong, [c for c in PythonAdapter().hello.capabilities if c != "ratchet"]
                      + ["ratchet_derive"])
    cells = cells_of([PythonAdapter(), label], kinds=("ratchet",))
    cell = cells["label->python/ratchet/suite-4"]
    assert cell.grade is Grade.FAIL
    assert cell.failures[0].startswith("send ratchet_derive (label) steps=1: base_key ")
    assert "(16 bytes), RFC 9605's is" in cell.failures[0] and "(32 bytes)" in cell.failures[0]
    assert cell.checks["decrypt"].passed == 2  # step 0 is the base key itself
    assert cells["label->label/ratchet/suite-4"].grade is Grade.PASS  # it agrees with itself
    back = cells["python->label/ratchet/suite-4"]
    assert back.grade is Grade.FAIL and back.checks["tamper"].unsupported == 3  # composed: no window of its own
    kat = ratchet_kat([PythonAdapter(), label], [1, 4])
    assert kat.disagreements() == {"python": (0, 6), "label": (6, 6)}
    entry = next(e for e in kat.entries if e.implementation == "label" and e.suite == 4 and e.steps == 1)
    assert entry.length == 16 and entry.expected == sframe_py.ratchet_forward(get_suite(4), bytes(range(16)), 1).hex()
    assert sorted({e.steps for e in kat.entries}) == list(STEPS)


def test_a_different_mls_kid_layout_fails_the_mls_cell():
    def narrow(r: Request) -> Request:
        return _with(r, epoch_bits=2) if r.op == "mls_context_new" else r

    cells = cells_of([PythonAdapter(), Rewriting("narrow", narrow)], kinds=("mls",))
    for key in ("narrow->python/mls/suite-4", "python->narrow/mls/suite-4"):
        assert cells[key].grade is Grade.FAIL, key
    assert "answered kid" in cells["narrow->python/mls/suite-4"].failures[0]


def test_stateful_cells_and_the_table_go_through_results_json_html_and_the_gate():
    a, b = PythonAdapter(), Rewriting("nowindow", lambda r: Request(
        r.op, {k: v for k, v in r.fields.items() if k != "replay_window"}))
    matrix = add_stateful(Matrix([a.name, b.name], [4], [], 0.0, 0, {}), [a, b])
    assert matrix.ratchet_kat is not None and matrix.stateful_duration > 0
    data = matrix.to_json()
    again = Matrix.from_json(Reader(data, "matrix"))
    assert [c.key for c in again.cells] == [c.key for c in matrix.cells]
    assert again.ratchet_kat is not None and again.ratchet_kat.entries == matrix.ratchet_kat.entries
    doc = apply_gate(document([], again))
    assert doc.matrix_gate is not None
    assert sorted(doc.matrix_gate.new_failures) == ["nowindow->nowindow/replay/suite-4", "python->nowindow/replay/suite-4"]
    assert doc.exit_code == 1
    page = render(doc)
    assert 'id="matrix-replay"' in page and 'id="ratchet-kat-table"' in page
    assert "--kind replay" in page  # the failing cell's reproducer runs that kind only


def test_matrix_cli_runs_one_kind(capsys):
    code = main(["matrix", "--impl", "python", "--impl", "python", "--suite", "4", "--kind", "mls", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "matrix: 2 implementations x 1 suites, 0 cells" in out
    assert "stateful: 4 cells" in out and "mls 4 pass" in out
