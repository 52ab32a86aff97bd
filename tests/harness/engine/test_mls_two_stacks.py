"""One MLS group over ts-mls and OpenMLS (issue #18 §2), keying SFrame in python, c, js and rust-ring.

The group (``mls_stacks.PLAN``) has members on both stacks joined through real Welcomes, commits from both
stacks, a standalone proposal from each stack committed by the other, an update from each stack and a
removal made by each stack, over ten epochs, in every MLS cipher suite both stacks offer here. Every
member's exporter output agrees; frames cross members, epochs, stacks and implementations; removed
members answer ``unknown_kid``. The OpenMLS driver is built by ``make build`` (``make openmls``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.adapters.base import Adapter, AdapterError
from harness.adapters.registry import open_adapter
from harness.engine.mls_stacks import (
    DRIVERS,
    MEMBERS,
    OPENMLS,
    PLAN,
    TS_MLS,
    Driver,
    Figures,
    StackError,
    open_drivers,
    run_group,
    shared_suites,
)
from tests.conftest import ROOT

pytestmark = [pytest.mark.rust, pytest.mark.node]


@pytest.fixture(scope="module")
def drivers() -> Iterator[dict[str, Driver]]:
    binary = DRIVERS[OPENMLS][0]
    if not (ROOT / "implementations" / "openmls-group" / "target" / "release" / "openmls-group").exists():
        pytest.fail(f"{binary} is not built: run `make build` (make openmls)")
    try:
        with open_drivers() as opened:
            yield opened
    except AdapterError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="module")
def adapters() -> Iterator[Any]:
    opened: dict[str, Adapter] = {}

    def get(name: str) -> Adapter:
        if name not in opened:
            opened[name] = open_adapter(name)
        return opened[name]

    yield get
    for a in opened.values():
        a.close()


@pytest.fixture(scope="module")
def suites(drivers: dict[str, Driver]) -> tuple[dict[str, list[int]], list[int]]:
    return shared_suites(drivers)


@pytest.fixture(scope="module")
def runs(drivers: dict[str, Driver], adapters: Any, suites: tuple[dict[str, list[int]], list[int]]
         ) -> dict[int, Figures]:
    return {suite: run_group(drivers, adapters, suite) for suite in suites[1]}


def test_the_stacks_offer_these_mls_suites_and_share_1_2_3(suites):
    offered, shared = suites
    assert set(offered[OPENMLS]) == {1, 2, 3}  # openmls_rust_crypto 0.6.0
    assert {1, 2, 3} <= set(offered[TS_MLS])  # ts-mls with @noble/curves and @hpke/chacha20poly1305
    assert shared == [1, 2, 3]


def test_the_plan_uses_both_stacks_for_every_kind_of_change():
    stack = {m.name: m.stack for m in MEMBERS}
    by = {(c.action, stack[c.by]) for c in PLAN}
    assert {("add", TS_MLS), ("add", OPENMLS), ("update", TS_MLS), ("update", OPENMLS),
            ("commit_pending", TS_MLS), ("commit_pending", OPENMLS), ("remove", TS_MLS)} <= by
    proposers = {stack[c.proposer] for c in PLAN if c.proposer}
    assert proposers == {TS_MLS, OPENMLS}  # each stack's Proposal is committed by the other
    removals = {stack[c.by] for c in PLAN if c.action == "remove" or c.proposal == "remove"}
    assert removals == {TS_MLS, OPENMLS}
    assert {stack[m.name] for m in MEMBERS if m.sframe in ("c", "rust-ring")} <= {OPENMLS, TS_MLS}
    assert len({m.sframe for m in MEMBERS}) >= 4


def test_one_group_spans_both_stacks_in_every_shared_suite(runs):
    for suite, f in runs.items():
        assert not f.divergences, (suite, f.divergences[:3])
        assert f.epochs >= 5
        assert set(f.members) == {TS_MLS, OPENMLS}
        assert f.commits[TS_MLS] > 0 and f.commits[OPENMLS] > 0
        assert f.proposals == {TS_MLS: 1, OPENMLS: 1}


def test_every_member_exports_the_same_sframe_base_keys(runs):
    # Per epoch, per member, for SFrame suites 1-5 (Nk bytes each), compared with the first member's; ts-mls
    # members' values are also the harness's RFC 9420 exporter of their exporter_secret.
    for f in runs.values():
        assert f.exports_compared >= f.epochs * 2 * 5


def test_frames_cross_members_stacks_and_epochs_and_removed_members_get_unknown_kid(runs):
    for f in runs.values():
        assert f.frames > 50 and f.cross_stack_frames > 20 and f.late_frames > 10
        assert f.removed_checks > 0  # carol (ts-mls, removed by OpenMLS) and dave (OpenMLS, removed by ts-mls)


def test_a_commit_altered_in_transit_is_refused_by_the_other_stack(drivers):
    # ts-mls commits; one byte of it is flipped before OpenMLS processes it: OpenMLS must refuse it.
    ts, om = drivers[TS_MLS], drivers[OPENMLS]
    ts.call("key_package", name="tamper-a", mls_suite=1)
    package = om.call("key_package", name="tamper-b", mls_suite=1)["key_package"]
    ts.call("create", name="tamper-a", group_id=b"tamper".hex())
    added = ts.call("add", name="tamper-a", key_packages=[package])
    om.call("join", name="tamper-b", welcome=added["welcome"])
    commit = ts.call("update", name="tamper-a")["commit"]
    flipped = commit[:-2] + f"{int(commit[-2:], 16) ^ 1:02x}"
    with pytest.raises(StackError, match="openmls process tamper-b"):
        om.call("process", name="tamper-b", mls_message=flipped)
    assert om.call("process", name="tamper-b", mls_message=commit)["state"]["epoch"] == "2"
