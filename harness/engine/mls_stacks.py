"""One MLS group over two MLS stacks (ts-mls and OpenMLS), keying SFrame in several implementations (RFC 9605 §5.2).

Each stack is a long-running driver (``implementations/mls-group/driver.mjs``,
``implementations/openmls-group``) speaking JSON lines over the wire protocol's
transport; this module carries their KeyPackages, Welcomes, Commits and
Proposals between them as serialized MLS messages, so members of both stacks
are members of one group. Every epoch, every member exports
``MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`` for SFrame suites 1-5, the
values are compared across members and stacks (and with the harness's own
exporter run on ts-mls's exporter_secret), and each member installs its own
export in its SFrame implementation. Every member then sends a frame that
every other member decrypts; last epoch's frames arrive late; members removed
(by either stack) must answer ``unknown_kid`` for every later epoch.

Rules of this module:

- ``PLAN`` is the group's history, as data; ``run_group`` follows it and
  raises ``StackError`` with the stack's own message at the first MLS step
  that fails (that message is the finding when two stacks disagree), and
  collects SFrame divergences as notes instead of stopping.
- A member's SFrame side is an implementation's ``mls`` context; an
  implementation without one (the rust shims) is composed by the harness
  from its stateless ``encrypt``/``decrypt`` with the RFC 9605 KID layout,
  and is never a removed member (its ``unknown_kid`` would be the harness's).
- Bounded: every driver request has a timeout; a driver that faults is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import sframe_py

from ..adapters.base import Adapter, AdapterError
from ..adapters.subprocess import SubprocessAdapter
from ..catalogue.mls_exporter import SFRAME_LABEL, sframe_base_key
from ..locations import IMPLEMENTATIONS, ROOT
from ..model.wire import Request, Response

TS_MLS, OPENMLS = "ts-mls", "openmls"
DRIVERS: dict[str, list[str]] = {
    TS_MLS: ["node", str(IMPLEMENTATIONS / "mls-group" / "driver.mjs")],
    OPENMLS: [str(IMPLEMENTATIONS / "openmls-group" / "target" / "release" / "openmls-group")],
}
SFRAME_NK = {1: 48, 2: 48, 3: 48, 4: 16, 5: 32}  # AEAD.Nk of SFrame suites 1-5: the exporter lengths
FRAME_SUITE = 4  # the SFrame suite the frames use (every implementation here has it)
EPOCH_BITS, SENDER_BITS = 4, 6  # room for every epoch of PLAN: nothing is evicted
DRIVER_TIMEOUT = 60.0  # seconds per MLS request (a P-256 commit in ts-mls takes well under one)


class StackError(Exception):
    """An MLS step failed: which stack, which op, and the stack's own words."""


@dataclass(frozen=True)
class Member:
    name: str
    stack: str
    sframe: str  # the SFrame implementation (registry name) that holds this member's keys


@dataclass(frozen=True)
class Change:
    """One epoch change: ``by`` commits ``action`` (add / remove / update / commit_pending), after an optional
    standalone proposal from ``proposer``."""

    by: str
    action: str
    targets: tuple[str, ...] = ()
    proposer: str = ""
    proposal: str = ""  # "update", "remove"

    def describe(self) -> str:
        if self.proposer:
            return (f"{self.proposer} proposes {self.proposal} {' '.join(self.targets)}".rstrip()
                    + f", {self.by} commits it")
        return f"{self.by} {self.action}s {' '.join(self.targets)}".rstrip() if self.targets else f"{self.by} updates"


MEMBERS = (Member("alice", TS_MLS, "python"), Member("bob", OPENMLS, "c"), Member("carol", TS_MLS, "js"),
           Member("dave", OPENMLS, "python"), Member("erin", TS_MLS, "rust-ring"))
PLAN = (
    Change("alice", "add", ("bob",)),  # ts-mls commits, OpenMLS joins from its Welcome
    Change("bob", "add", ("carol", "dave")),  # OpenMLS commits, both stacks join
    Change("carol", "update"),  # ts-mls path-only commit
    Change("alice", "commit_pending", proposer="bob", proposal="update"),  # OpenMLS Proposal, ts-mls commits it
    Change("dave", "commit_pending", ("carol",), proposer="alice", proposal="remove"),  # ts-mls Proposal, OpenMLS
    Change("alice", "remove", ("dave",)),  # ts-mls removes an OpenMLS member
    Change("bob", "add", ("erin",)),
    Change("erin", "update"),
    Change("bob", "update"),  # OpenMLS full commit with a path
)


@dataclass
class Figures:
    """What one run of the group did (the issue's closing figures), per MLS cipher suite."""

    mls_suite: int
    members: dict[str, list[str]] = field(default_factory=dict)  # stack -> member names
    epochs: int = 0
    commits: dict[str, int] = field(default_factory=dict)  # stack -> commits made
    proposals: dict[str, int] = field(default_factory=dict)  # stack -> standalone proposals made
    exports_compared: int = 0  # member exports compared with another stack's (and the harness's)
    frames: int = 0  # frames sent and decrypted by another member
    cross_stack_frames: int = 0  # of those, between members of different stacks
    removed_checks: int = 0  # frames a removed member refused as unknown_kid
    late_frames: int = 0
    history: list[str] = field(default_factory=list)
    divergences: list[str] = field(default_factory=list)  # SFrame notes: empty when everything crossed


class Driver:
    """One stack's driver process."""

    def __init__(self, stack: str, timeout: float = DRIVER_TIMEOUT) -> None:
        self.stack = stack
        self.adapter = SubprocessAdapter(DRIVERS[stack], name=stack, timeout=timeout, cwd=ROOT, framings=())

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        r = self.adapter.call(Request(op, fields))
        if not r.ok:
            raise StackError(f"{self.stack} {op} {fields.get('name', '')}: {r.fault or f'{r.error}: {r.message}'}")
        return r.fields

    def mls_suites(self) -> list[int]:
        suites = self.call("mls_suites").get("mls_suites")
        return [s for s in suites if isinstance(s, int)] if isinstance(suites, list) else []

    def close(self) -> None:
        self.adapter.close()


def shared_suites(drivers: dict[str, Driver]) -> tuple[dict[str, list[int]], list[int]]:
    """Each stack's MLS cipher suites here, and those every stack offers."""
    offered = {stack: d.mls_suites() for stack, d in drivers.items()}
    return offered, sorted(set.intersection(*(set(v) for v in offered.values())))


def _mls_kid(epoch: int, index: int) -> int:
    return (index << EPOCH_BITS) + epoch % (1 << EPOCH_BITS)


class SFrameSide:
    """A member's SFrame keys in one implementation: an ``mls`` context, or composed from stateless ops."""

    def __init__(self, adapter: Adapter, suite: int) -> None:
        self.adapter, self.suite = adapter, suite
        self.composed = "mls" not in adapter.hello.capabilities
        self.epochs: dict[int, bytes] = {}  # composed: epoch -> base_key
        self.counters: dict[int, int] = {}  # composed: kid -> next ctr
        self.ctx = "" if self.composed else self._ok("mls_context_new", suite=suite, epoch_bits=EPOCH_BITS,
                                                     sender_bits=SENDER_BITS)["ctx"]

    def _call(self, op: str, **fields: Any) -> Response:
        return self.adapter.call(Request(op, fields))

    def _ok(self, op: str, **fields: Any) -> dict[str, Any]:
        r = self._call(op, **fields)
        if not r.ok:
            raise StackError(f"{self.adapter.name} {op}: {r.fault or f'{r.error}: {r.message}'}")
        return r.fields

    def add_epoch(self, epoch: int, base_key: bytes) -> None:
        if self.composed:
            self.epochs[epoch] = base_key
        else:
            self._ok("mls_add_epoch", ctx=self.ctx, epoch=epoch, epoch_secret=base_key)

    def encrypt(self, epoch: int, index: int, plaintext: bytes) -> bytes:
        if not self.composed:
            return bytes(self._ok("mls_encrypt", ctx=self.ctx, epoch=epoch, sender_index=index, context_id=0,
                                  metadata=b"", plaintext=plaintext)["ciphertext"])
        kid = _mls_kid(epoch, index)
        ctr = self.counters.get(kid, 0)
        self.counters[kid] = ctr + 1
        return bytes(self._ok("encrypt", suite=self.suite, base_key=self.epochs[epoch], kid=kid, ctr=ctr,
                              metadata=b"", plaintext=plaintext)["ciphertext"])

    def decrypt(self, ciphertext: bytes) -> Response:
        if not self.composed:
            return self._call("mls_decrypt", ctx=self.ctx, metadata=b"", ciphertext=ciphertext)
        kid = sframe_py.parse_header(ciphertext).kid
        slot = [e for e in self.epochs if e % (1 << EPOCH_BITS) == kid % (1 << EPOCH_BITS)]
        if not slot:
            return Response(False, error="unknown_kid", message="composed: no epoch in this KID's slot (harness)")
        r = self._call("decrypt", suite=self.suite, base_key=self.epochs[slot[-1]], kid=kid, metadata=b"",
                       ciphertext=ciphertext)
        return Response(r.ok, {**r.fields, "epoch": slot[-1], "sender_index": kid >> EPOCH_BITS}, r.error,
                        r.message, r.fault)


@dataclass
class _State:
    drivers: dict[str, Driver]
    adapters: Callable[[str], Adapter]
    mls_suite: int
    figures: Figures
    members: dict[str, Member] = field(default_factory=lambda: {m.name: m for m in MEMBERS})
    current: list[str] = field(default_factory=list)  # names in the group, in join order
    removed: list[str] = field(default_factory=list)
    leaf: dict[str, int] = field(default_factory=dict)
    sides: dict[str, SFrameSide] = field(default_factory=dict)
    epoch: int = 0
    late: list[tuple[int, str, str, bytes, bytes]] = field(default_factory=list)  # epoch, sender, to, pt, ct

    def driver(self, name: str) -> Driver:
        return self.drivers[self.members[name].stack]

    def call(self, name: str, op: str, **fields: Any) -> dict[str, Any]:
        out = self.driver(name).call(op, name=name, **fields)
        state = out.get("state")
        if isinstance(state, dict) and isinstance(state.get("leaf_index"), int) and state["leaf_index"] >= 0:
            self.leaf[name] = state["leaf_index"]
        return out


def _deliver(s: _State, message: str, sender: str) -> None:
    """Every current member but ``sender`` processes ``message``."""
    for name in s.current:
        if name != sender:
            out = s.call(name, "process", mls_message=message)
            if out.get("content") not in ("commit", "proposal"):
                raise StackError(f"{s.members[name].stack} process {name}: the message was neither a commit nor a "
                                 f"proposal ({out.get('content')!r})")


def _commit(s: _State, change: Change) -> None:
    """Make ``change``'s commit, carry it and its Welcome, and update the membership."""
    stack = s.members[change.by].stack
    if change.proposer:
        fields: dict[str, Any] = {"leaf_index": s.leaf[change.targets[0]]} if change.proposal == "remove" else {}
        proposal = s.call(change.proposer, f"propose_{change.proposal}", **fields)["proposal"]
        _deliver(s, proposal, change.proposer)
        p_stack = s.members[change.proposer].stack
        s.figures.proposals[p_stack] = s.figures.proposals.get(p_stack, 0) + 1
    joiners: list[str] = []
    if change.action == "add":
        joiners = list(change.targets)
        packages = [s.call(n, "key_package", mls_suite=s.mls_suite)["key_package"] for n in joiners]
        out = s.call(change.by, "add", key_packages=packages)
    elif change.action == "remove":
        out = s.call(change.by, "remove", leaf_index=s.leaf[change.targets[0]])
    else:
        out = s.call(change.by, change.action)
    gone = list(change.targets) if change.action == "remove" or change.proposal == "remove" else []
    _deliver(s, out["commit"], change.by)  # the removed members process it too: they learn they are out
    for name in gone:
        s.current.remove(name)
        s.removed.append(name)
    for name in joiners:
        s.call(name, "join", welcome=out["welcome"])
        s.current.append(name)
    s.figures.commits[stack] = s.figures.commits.get(stack, 0) + 1
    s.figures.history.append(change.describe())


def _exports(s: _State) -> dict[int, bytes]:
    """Every current member's exports for SFrame suites 1-5; they must all agree. Returns suite -> base_key."""
    agreed: dict[int, bytes] = {}
    for name in s.current:
        for suite, nk in SFRAME_NK.items():
            out = s.call(name, "export", label=SFRAME_LABEL.decode(), context="", length=nk)
            value = bytes.fromhex(out["secret"])
            epoch = int(out["state"]["epoch"])
            if epoch != s.epoch:
                raise StackError(f"{s.members[name].stack} {name} is in epoch {epoch}, the group in {s.epoch}")
            raw = out.get("exporter_secret")
            if isinstance(raw, str) and sframe_base_key(s.mls_suite, bytes.fromhex(raw), suite) != value:
                raise StackError(f"{name}'s export for SFrame suite {suite} is not RFC 9420's exporter of its own "
                                 "exporter_secret (harness's exporter)")
            if suite in agreed and agreed[suite] != value:
                raise StackError(f"epoch {s.epoch}: {name} ({s.members[name].stack}) exports "
                                 f"{value.hex()[:16]}... for SFrame suite {suite}, others {agreed[suite].hex()[:16]}...")
            agreed.setdefault(suite, value)
            s.figures.exports_compared += 1
    return agreed


def _frames(s: _State, keys: dict[int, bytes]) -> None:
    """Install the epoch, deliver last epoch's frames late, then every member to every other, and to the removed."""
    for name in s.current:
        if name not in s.sides:
            s.sides[name] = SFrameSide(s.adapters(s.members[name].sframe), FRAME_SUITE)
        s.sides[name].add_epoch(s.epoch, keys[FRAME_SUITE])
    for epoch, sender, to, plaintext, ciphertext in s.late:
        if to in s.current:
            _check(s, epoch, sender, to, plaintext, ciphertext, late=True)
    s.late = []
    for sender in s.current:
        for to in s.current:
            if to == sender:
                continue
            plaintext = f"epoch {s.epoch}: {sender} -> {to}".encode()
            ciphertext = s.sides[sender].encrypt(s.epoch, s.leaf[sender], plaintext)
            _check(s, s.epoch, sender, to, plaintext, ciphertext)
            s.late.append((s.epoch, sender, to, plaintext, ciphertext))
            for gone in s.removed:
                r = s.sides[gone].decrypt(ciphertext)
                if r.ok or r.error != "unknown_kid":
                    s.figures.divergences.append(f"epoch {s.epoch}: removed {gone} ({s.members[gone].sframe}) "
                                                 f"answered {r.error or 'ok'} for {sender}'s frame, not unknown_kid")
                else:
                    s.figures.removed_checks += 1


def _check(s: _State, epoch: int, sender: str, to: str, plaintext: bytes, ciphertext: bytes, late: bool = False
           ) -> None:
    r = s.sides[to].decrypt(ciphertext)
    where = (f"epoch {epoch}{' (late)' if late else ''}: {sender} ({s.members[sender].stack}, "
             f"{s.members[sender].sframe}) -> {to} ({s.members[to].stack}, {s.members[to].sframe})")
    if not r.ok:
        s.figures.divergences.append(f"{where}: {r.fault or f'{r.error}: {r.message}'}")
    elif (r.fields.get("plaintext"), r.fields.get("epoch"), r.fields.get("sender_index")) != (
            plaintext, epoch, s.leaf[sender]):
        s.figures.divergences.append(f"{where}: decrypted to other plaintext, epoch or sender")
    else:
        s.figures.frames += 1
        s.figures.late_frames += late
        s.figures.cross_stack_frames += s.members[sender].stack != s.members[to].stack


def run_group(drivers: dict[str, Driver], adapters: Callable[[str], Adapter], mls_suite: int) -> Figures:
    """Follow ``PLAN`` in MLS cipher suite ``mls_suite``; StackError at the first MLS step that fails."""
    figures = Figures(mls_suite)
    s = _State(drivers, adapters, mls_suite, figures)
    founder = PLAN[0].by
    s.call(founder, "key_package", mls_suite=mls_suite)
    s.call(founder, "create", group_id=f"sframe-conformance/{mls_suite}".encode().hex())
    s.current.append(founder)
    figures.history.append(f"{founder} creates the group")
    for step in range(len(PLAN) + 1):
        _frames(s, _exports(s))
        if step == len(PLAN):
            break
        _commit(s, PLAN[step])
        s.epoch += 1
    figures.epochs = s.epoch + 1
    for m in MEMBERS:
        figures.members.setdefault(m.stack, []).append(m.name)
    return figures


@contextmanager
def open_drivers(stacks: Sequence[str] = (TS_MLS, OPENMLS)) -> Iterator[dict[str, Driver]]:
    """The drivers, closed on exit; AdapterError names one that cannot start."""
    with ExitStack() as stack:
        drivers: dict[str, Driver] = {}
        for name in stacks:
            try:
                drivers[name] = Driver(name)
            except AdapterError as e:
                raise AdapterError(f"MLS driver {name}: {e}") from None
            stack.callback(drivers[name].close)
        yield drivers
