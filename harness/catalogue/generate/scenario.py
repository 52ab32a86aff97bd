"""Stateful scenarios (``vectors/generated/key-management.json``): the typed steps and their recording.

Rules of this module:

- A scenario is a list of steps on one implementation. A request field may be
  ``{"$ref": [step, field]}`` (``ref``): a field of an earlier step's response,
  the ``ctx`` handle or a ciphertext to decrypt.
- Expected outputs are recorded from a fresh reference, and every step's stated
  expectation (its error classes, ``expect`` values taken from the RFC or the
  requirements list) is asserted while recording: a reference bug stops
  generation instead of becoming a vector.
- Then the allowance audit (``policies.py``) runs the scenario under every
  allowed policy: a failing step lists every correct class, a step that a
  sender may refuse is ``may_fail``, each with its ``reason``.
- Frames a receiver decrypts are built with the stateless reference
  (``common.frame``), so receiver cases do not depend on sender state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...model.protocol import to_wire
from ...model.requirements import strongest_level
from ...model.wire import Response
from .common import BASE_KEY, METADATA, PLAINTEXT, error_order, frame, pseudo_random, tc_id
from .policies import Allowance, Factory, audit

WireRef = dict[str, list[Any]]
FORGED = "forged"  # in a script: a frame no key authenticates, in place of a genuine one


def ref(step: int, name: str = "ctx") -> WireRef:
    return {"$ref": [step, name]}


@dataclass
class ScenarioStep:
    op: str
    request: dict[str, Any]  # Python values, or WireRefs
    errors: tuple[str, ...] = ()  # the step must fail with one of these (the reference's class among them)
    expect: dict[str, Any] = field(default_factory=dict)  # values the response must carry (recorded in full)


@dataclass
class Scenario:
    id: str
    comment: str
    requirements: list[str]
    flags: list[str]
    steps: list[ScenarioStep] = field(default_factory=list)
    unpinned: tuple[str, ...] = ()  # output fields checked while recording but not written (format-dependent)
    source: str = ""  # set by @builder

    def step(self, op: str, *, errors: tuple[str, ...] = (), expect: dict[str, Any] | None = None,
             **request: Any) -> int:
        """Append a step; returns its index, for a later ``ref``."""
        self.steps.append(ScenarioStep(op, request, tuple(errors), expect or {}))
        return len(self.steps) - 1

    def new(self, op: str, **request: Any) -> WireRef:
        """A step that creates a context; returns the reference to its handle."""
        return ref(self.step(op, **request))

    def record(self, new_reference: Factory) -> dict[str, Any]:
        """The scenario as a vector: run on the reference, expectations asserted, allowances audited."""
        responses, allowances = audit([(s.op, s.request) for s in self.steps], new_reference, self.id)
        steps = [self._wire_step(i, step, response, allowance)
                 for i, (step, response, allowance) in enumerate(zip(self.steps, responses, allowances))]
        invalid = any("errors" in s for s in steps)
        return {"tcId": tc_id(self.id), "id": self.id, "source": self.source, "comment": self.comment,
                "level": strongest_level(self.requirements).value, "requirements": self.requirements,
                "flags": self.flags, "result": "invalid" if invalid else "valid", "steps": steps}

    def _wire_step(self, i: int, step: ScenarioStep, response: Response, allowance: Allowance) -> dict[str, Any]:
        where = f"{self.id} step {i} {step.op}"
        wire: dict[str, Any] = {"op": step.op, "request": to_wire(step.request)}
        if step.errors:
            if response.ok or response.error not in step.errors:
                raise AssertionError(f"{where}: expected {step.errors}, got {response}")
            wire["errors"] = error_order([*step.errors, *allowance.errors])
        else:
            if not response.ok:
                raise AssertionError(f"{where}: {response.error}: {response.message}")
            output = {k: v for k, v in response.fields.items() if k != "ctx"}
            wrong = {k: output.get(k) for k, v in step.expect.items() if output.get(k) != v}
            if wrong:
                raise AssertionError(f"{where}: expected {step.expect}, got {wrong}")
            output = {k: v for k, v in output.items() if k not in self.unpinned}
            if output:
                wire["output"] = to_wire(output)
            if allowance.refusals:
                wire["may_fail"] = True
        if allowance.reason:
            wire["reason"] = allowance.reason
        return wire


@dataclass(frozen=True)
class Profile:
    """A variant of the context and replay scenarios.

    ``RFC_PROFILE`` is the full set: suite 4 (every suite for the per-suite
    scenarios), metadata, receiver frames built with ``sframe_py.encrypt`` and
    every ciphertext pinned, so a case checks RFC 9605's wire format along with
    its key-management rule.

    ``DRAFT_PROFILE`` (ids ``gen/keys/context-s1/``, ``gen/keys/replay-s1/``) is
    for libraries written against an SFrame draft (medooze: suites 1 and 3, no
    metadata input, a fixed replay window of 128): suite 1, empty metadata,
    replay windows of 128 and only values below 2^53 (no counter exhaustion, no
    CTR 2^64-1). Receiver frames are sent by the implementation itself from a
    separate sender context and ciphertexts are not pinned, so a case measures
    the key-management rule whatever the wire format. Cases that only check
    argument validation are left out, and each window case checks one thing:
    duplicates have their own cases, so the forged-frame and per-KID ones do
    not recheck them.
    """

    name: str  # appended to "gen/keys/context" and "gen/keys/replay"
    suite: int
    metadata: bytes
    window: int  # replay_window where the size matters
    draft: bool

    def scenario(self, id: str, comment: str, requirements: list[str], flags: list[str]) -> Scenario:
        return Scenario(id, comment, requirements, flags, unpinned=("ciphertext",) if self.draft else ())

    def received(self, s: Scenario, kid: int, ctr: int, *, suite: int | None = None, key: bytes = BASE_KEY,
                 cache: dict[tuple[int, int, bytes], WireRef] | None = None) -> bytes | WireRef:
        """A frame for a receiver: built by sframe_py, or (draft) sent by the implementation under test."""
        suite = self.suite if suite is None else suite
        if not self.draft:
            return frame(suite, key, kid, ctr, metadata=self.metadata)
        if cache is not None and (kid, ctr, key) in cache:
            return cache[kid, ctr, key]
        sender = s.new("context_new", suite=suite)
        s.step("context_add_key", ctx=sender, kid=kid, base_key=key, usage="send", next_ctr=ctr)
        sent = s.step("context_encrypt", ctx=sender, kid=kid, metadata=self.metadata, plaintext=PLAINTEXT,
                      expect={"ctr": ctr})
        s.step("context_free", ctx=sender)
        received = ref(sent, "ciphertext")
        if cache is not None:
            cache[kid, ctr, key] = received
        return received


RFC_PROFILE = Profile("", 4, METADATA, 4, False)
DRAFT_PROFILE = Profile("-s1", 1, b"", 128, True)
DRAFT_FORGED_KEY = pseudo_random("draft-forged-key", 16)  # a sender under this key is not authenticated by BASE_KEY
