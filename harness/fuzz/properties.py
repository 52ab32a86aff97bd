"""Format-agnostic SFrame properties, checked with hypothesis through the adapter interface.

They hold for any SFrame-like implementation, RFC 9605 or an earlier draft,
because they only look at what goes in and what comes out:

- ``roundtrip``: decrypt(encrypt(x)) == x for every suite, KID, CTR and size the
  implementation accepts for encryption (an encrypt rejection means "not
  claimed" and the example is discarded);
- ``bitflip``: every single-bit change of a ciphertext is rejected;
- ``keystream``: two frames of zeros under distinct (KID, CTR) never share a run
  of keystream (a common run of ``KEYSTREAM_RUN`` bytes; headers are shorter);
- ``wrong-key``: a frame is rejected under another base key.

Optional request field ``skip`` (integer): the draft-era "clear prefix" of
npm ``sframe`` (medooze), the first ``skip`` plaintext bytes sent in front of the
frame. The suite probes it once: if the implementation answers an encrypt with
``skip`` successfully it is drawn for every example, otherwise never sent. An
implementation that ignores the field just sees ordinary frames.

A property violation is shrunk by hypothesis and saved as a reproducer
(harness/repro.py) under ``--out`` (default ``fuzz/findings/properties/``),
named ``<impl>-<property>-<kind>.json``, with a ``finding`` key describing it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, assume, given, seed, settings
from hypothesis import strategies as st

from ..adapters.base import Adapter
from ..locations import FINDINGS
from ..model.cases import Case, Expected, Step
from ..model.progress import OnProgress
from ..model.protocol import U64_MAX, to_wire
from ..model.repro import write_repro
from ..model.requirements import Level
from ..model.wire import Request, Response

DEFAULT_OUT = FINDINGS / "properties"
KEYSTREAM_PLAINTEXT = 64  # four AES blocks: long enough for block-offset overlaps to show
KEYSTREAM_RUN = 24  # longer than any SFrame header (17 bytes), so a shared run is keystream
REJECTIONS = ("auth_failed", "malformed", "unknown_kid")


class Violation(Exception):
    """A property does not hold; carries the reproducer case."""

    def __init__(self, prop: str, kind: str, message: str, case: Case, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{prop}/{kind}: {message}")
        self.prop, self.kind, self.message, self.case = prop, kind, message, case
        self.details = details or {}


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

# Where encodings break: inline/extended (8), byte lengths, 32-bit and JS-Number (2^53) limits.
_BOUNDARY_BITS = (3, 8, 16, 24, 31, 32, 33, 40, 48, 53, 56, 63)
u64 = st.one_of(
    st.integers(0, 16),
    st.builds(lambda k, d: min(max((1 << k) + d, 0), U64_MAX), st.sampled_from(_BOUNDARY_BITS), st.integers(-2, 2)),
    st.integers(0, U64_MAX),
)


@dataclass(frozen=True)
class Frame:
    suite: int
    base_key: bytes
    kid: int
    ctr: int
    metadata: bytes
    plaintext: bytes
    skip: int = 0

    def encrypt(self, with_skip: bool) -> Request:
        fields: dict[str, Any] = {"suite": self.suite, "base_key": self.base_key, "kid": self.kid, "ctr": self.ctr,
                                  "metadata": self.metadata, "plaintext": self.plaintext}
        if with_skip:
            fields["skip"] = self.skip
        return Request("encrypt", fields)

    def decrypt(self, ciphertext: bytes, with_skip: bool, base_key: bytes | None = None) -> Request:
        fields: dict[str, Any] = {"suite": self.suite, "base_key": self.base_key if base_key is None else base_key,
                                  "kid": self.kid, "metadata": self.metadata, "ciphertext": ciphertext}
        if with_skip:
            fields["skip"] = self.skip
        return Request("decrypt", fields)


def frames(suites: tuple[int, ...], max_plaintext: int, with_skip: bool) -> st.SearchStrategy[Frame]:
    @st.composite
    def build(draw: st.DrawFn) -> Frame:
        plaintext = draw(st.binary(max_size=max_plaintext))
        skip = draw(st.integers(0, min(4, len(plaintext)))) if with_skip else 0
        return Frame(draw(st.sampled_from(suites)), draw(st.binary(min_size=16, max_size=16)), draw(u64), draw(u64),
                     draw(st.one_of(st.just(b""), st.binary(min_size=1, max_size=16))), plaintext, skip)

    return build()


# ---------------------------------------------------------------------------
# The properties
# ---------------------------------------------------------------------------


@dataclass
class Subject:
    """The implementation under test and what it claims."""

    adapter: Adapter
    suites: tuple[int, ...]
    with_skip: bool

    def call(self, request: Request) -> Response:
        return self.adapter.call(request)

    def encrypt(self, frame: Frame) -> bytes:
        """The frame's ciphertext; discards the example when the implementation declines it."""
        response = self.call(frame.encrypt(self.with_skip))
        assume(response.ok)
        return bytes(response.fields["ciphertext"])


def _case(prop: str, kind: str, title: str, steps: list[Step], flags: tuple[str, ...]) -> Case:
    return Case(id=f"properties/{prop}/{kind}", title=title, section="", requirements=(), level=Level.MUST,
                result=Expected.INVALID if any(not s.expect_ok for s in steps) else Expected.VALID,
                steps=tuple(steps), flags=flags, source="python -m harness properties")


def _roundtrip(subject: Subject, frame: Frame) -> None:
    ciphertext = subject.encrypt(frame)
    decrypt = frame.decrypt(ciphertext, subject.with_skip)
    response = subject.call(decrypt)
    steps = [Step(frame.encrypt(subject.with_skip)), Step(decrypt, True, {"plaintext": frame.plaintext})]
    if response.ok and response.fields.get("plaintext") != frame.plaintext:
        raise Violation("roundtrip", "wrong-plaintext",
                        f"suite {frame.suite} KID {frame.kid} CTR {frame.ctr}: own frame decrypts to other plaintext "
                        "without an error", _case("roundtrip", "wrong-plaintext", "decrypt(encrypt(x)) != x, no error",
                                                  steps, ("SilentCorruption",)),
                        {"got": bytes(response.fields.get("plaintext") or b"").hex()})
    if not response.ok:
        raise Violation("roundtrip", "rejected",
                        f"suite {frame.suite} KID {frame.kid} CTR {frame.ctr}: own frame rejected ({response.error})",
                        _case("roundtrip", "rejected", "decrypt(encrypt(x)) rejected", steps, ("RoundTrip",)),
                        {"error": response.error, "message": response.message[:300]})


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


def _bitflip(subject: Subject, frame: Frame) -> None:
    ciphertext = subject.encrypt(frame)
    flipped = [frame.decrypt(_flip(ciphertext, bit), subject.with_skip) for bit in range(8 * len(ciphertext))]
    for bit, response in enumerate(subject.adapter.run(flipped)):
        if response.ok:
            original = frame.decrypt(ciphertext, subject.with_skip)
            steps = [Step(original, True, {"plaintext": frame.plaintext}), Step(flipped[bit], False, errors=REJECTIONS)]
            where = f"byte {bit // 8} of {len(ciphertext)}" + (f" (skip {frame.skip})" if subject.with_skip else "")
            raise Violation("bitflip", "accepted",
                            f"suite {frame.suite}: bit {bit % 8} of {where} flipped, frame still decrypts",
                            _case("bitflip", "accepted", "a single-bit change is accepted", steps, ("BitFlip",)),
                            {"bit": bit, "byte": bit // 8, "skip": frame.skip,
                             "got": bytes(response.fields.get("plaintext") or b"").hex()})


def _common_run(a: bytes, b: bytes, n: int) -> tuple[int, int] | None:
    """Offsets of an n-byte run present in both, if any."""
    windows = {a[i : i + n]: i for i in range(len(a) - n + 1)}
    for j in range(len(b) - n + 1):
        if (i := windows.get(b[j : j + n])) is not None:
            return i, j
    return None


def _keystream(subject: Subject, pair: tuple[Frame, Frame]) -> None:
    first, second = pair
    assume((first.kid, first.ctr) != (second.kid, second.ctr))
    a, b = subject.encrypt(first), subject.encrypt(second)
    shared = _common_run(a, b, KEYSTREAM_RUN)
    if shared is not None:
        steps = [Step(first.encrypt(subject.with_skip), True, {"ciphertext": a}),
                 Step(second.encrypt(subject.with_skip), True, {"ciphertext": b})]
        raise Violation("keystream", "shared",
                        f"suite {first.suite}: (KID {first.kid}, CTR {first.ctr}) at byte {shared[0]} and "
                        f"(KID {second.kid}, CTR {second.ctr}) at byte {shared[1]} share {KEYSTREAM_RUN}+ bytes of "
                        "keystream", _case("keystream", "shared", "distinct (KID, CTR) share keystream "
                                           "(replay shows the overlapping outputs)", steps, ("KeystreamReuse",)),
                        {"offsets": list(shared)})


def _wrong_key(subject: Subject, frame: Frame) -> None:
    other = bytes(b ^ 0x5A for b in frame.base_key)
    ciphertext = subject.encrypt(frame)
    decrypt = frame.decrypt(ciphertext, subject.with_skip, base_key=other)
    response = subject.call(decrypt)
    if response.ok:
        steps = [Step(frame.encrypt(subject.with_skip)), Step(decrypt, False, errors=REJECTIONS)]
        raise Violation("wrong-key", "accepted", f"suite {frame.suite}: frame decrypts under another base key",
                        _case("wrong-key", "accepted", "frame accepted under the wrong key", steps, ("WrongKey",)))


def _keystream_pairs(subject: Subject) -> st.SearchStrategy[tuple[Frame, Frame]]:
    zeros = bytes(KEYSTREAM_PLAINTEXT)

    @st.composite
    def build(draw: st.DrawFn) -> tuple[Frame, Frame]:
        first = Frame(draw(st.sampled_from(subject.suites)), draw(st.binary(min_size=16, max_size=16)),
                      draw(u64), draw(u64), b"", zeros)
        # Neighbours as well as strangers: counter-block overlaps sit at small distances,
        # truncations at a power of two.
        delta = draw(st.one_of(st.integers(1, 8), st.sampled_from(_BOUNDARY_BITS).map(lambda k: 1 << k)))
        kid, ctr = draw(st.sampled_from((
            (first.kid ^ delta, first.ctr), (first.kid, first.ctr ^ delta),
            (min(first.kid + delta, U64_MAX), first.ctr), (first.kid, min(first.ctr + delta, U64_MAX)),
            (draw(u64), draw(u64)),
        )))
        return first, Frame(first.suite, first.base_key, kid, ctr, b"", zeros)

    return build()


@dataclass(frozen=True)
class Property:
    check: Callable[[Subject, Any], None]
    strategy: Callable[[Subject], st.SearchStrategy[Any]]


PROPERTIES: dict[str, Property] = {
    "roundtrip": Property(_roundtrip, lambda s: frames(s.suites, 64, s.with_skip)),
    "bitflip": Property(_bitflip, lambda s: frames(s.suites, 24, s.with_skip)),
    "keystream": Property(_keystream, _keystream_pairs),
    "wrong-key": Property(_wrong_key, lambda s: frames(s.suites, 32, s.with_skip)),
}


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    seed: int = 0
    max_examples: int = 100
    out: Path | None = DEFAULT_OUT  # None: do not write reproducers


@dataclass
class Finding:
    impl: str
    prop: str
    kind: str
    message: str
    file: str | None


@dataclass
class Report:
    impl: str
    seed: int
    checked: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a property that could not run, with why


def _probe_skip(adapter: Adapter, suite: int) -> bool:
    response = adapter.call(Request("encrypt", {"suite": suite, "base_key": bytes(16), "kid": 0, "ctr": 0,
                                                "metadata": b"", "plaintext": b"\x00\x01", "skip": 1}))
    return response.ok


def _violations(error: BaseException) -> list[Violation]:
    if isinstance(error, Violation):
        return [error]
    if isinstance(error, BaseExceptionGroup):
        return [v for e in error.exceptions for v in _violations(e)]
    return []


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _bind(prop_check: Callable[[Subject, Any], None], subject: Subject,
          tick: Callable[[], None] = lambda: None) -> Callable[[Any], None]:
    def test(example: Any) -> None:
        tick()
        prop_check(subject, example)

    return test


def check(adapter: Adapter, names: list[str], config: Config, on_progress: OnProgress | None = None) -> Report:
    suites = tuple(adapter.hello.suites)
    report = Report(adapter.name, config.seed)
    examples = [0]  # run so far, over all properties; shrinking can run more than max_examples each

    def tick() -> None:
        examples[0] += 1
        if on_progress is not None:
            on_progress(examples[0], max(examples[0], len(names) * config.max_examples), len(report.findings))
    if not suites:
        report.errors.append(f"{adapter.name} claims no cipher suite")
        return report
    subject = Subject(adapter, suites, _probe_skip(adapter, suites[0]))
    for name in names:
        prop = PROPERTIES[name]
        run_settings = settings(max_examples=config.max_examples, deadline=None, database=None,
                                verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
                                phases=(Phase.generate, Phase.target, Phase.shrink), report_multiple_bugs=True)

        test = run_settings(seed(config.seed)(given(prop.strategy(subject))(_bind(prop.check, subject, tick))))

        report.checked.append(name)
        try:
            test()
        except BaseException as error:  # noqa: BLE001 - hypothesis re-raises the shrunk violation(s)
            found = _violations(error)
            if not found:
                if isinstance(error, KeyboardInterrupt):
                    raise
                report.errors.append(f"{name}: {type(error).__name__}: {error}")
            for v in found:
                path = None
                if config.out is not None:
                    path = write_repro(config.out / _slug(f"{adapter.name}-{v.prop}-{v.kind}.json"), v.case, finding={
                        "kind": "property", "property": v.prop, "violation": v.kind, "impl": adapter.name,
                        "message": v.message, "seed": config.seed, "details": to_wire(v.details)})
                report.findings.append(Finding(adapter.name, v.prop, v.kind, v.message, str(path) if path else None))
    return report


def print_report(report: Report, out: Any = None) -> None:
    out = out or sys.stdout  # looked up per call, so redirection and capture work
    print(f"properties {report.impl} (seed {report.seed}): {', '.join(report.checked)}", file=out)
    for f in report.findings:
        print(f"  FINDING {f.prop}/{f.kind}: {f.message}" + (f" -> {f.file}" if f.file else ""), file=out)
    for e in report.errors:
        print(f"  ERROR {e}", file=out)
    if not report.findings and not report.errors:
        print("  all properties hold", file=out)
