"""The vector generator (harness/catalogue/generate/): every case names its builder, tcIds survive an
insertion, ``list --show`` prints a case whole, and the allowances in the data are exactly what
implementations that differ from the reference only where RFC 9605 lets them actually do.

The variants below are written here, independently of ``generate/policies.py``, so that a wrong
policy in the generator and a wrong check here would have to agree to hide each other."""

from __future__ import annotations

import importlib
import inspect
import re
from collections import Counter
from pathlib import Path

import pytest

import sframe_py
from harness.adapters.inprocess import PythonAdapter
from harness.catalogue import all_cases, generate
from harness.catalogue.generate.common import BASE_KEY, Group, VectorTest, tc_id
from harness.catalogue.generate.scenario import Scenario, ref
from harness.cli import main
from harness.engine.runner import run
from harness.model.cases import Case
from harness.model.grading import Grade
from harness.model.wire import Request, Response
from sframe_py import SUITES, SFrameError, parse_header
from tests.conftest import ROOT

U64_MAX = (1 << 64) - 1
RECEIVING = ("decrypt", "context_decrypt", "mls_decrypt")


def _generated() -> list[Case]:
    return [c for c in all_cases() if c.id.startswith("gen/")]


def test_every_generated_case_names_the_builder_that_made_it():
    builders = Counter()
    for case in _generated():
        match = re.fullmatch(r"(harness/catalogue/generate/\w+)\.py:(\w+)", case.generator)
        assert match, (case.id, case.generator)
        module = importlib.import_module(match[1].replace("/", "."))
        builder = getattr(module, match[2], None)
        assert callable(builder) and hasattr(builder, "__wrapped__"), f"{case.id}: {case.generator} is no @builder"
        assert Path(inspect.getsourcefile(builder.__wrapped__)) == ROOT / f"{match[1]}.py", case.generator
        builders[case.generator] += 1
    assert len(builders) >= 30  # one function per family of cases, not one per module
    assert builders["harness/catalogue/generate/header.py:truncated"] == 192  # the config bytes that announce extension bytes
    for case in all_cases():
        if case.id.startswith("rfc9605/"):
            assert case.generator == "" and re.fullmatch(r"vectors/rfc9605/[\w.-]+\.json#\w+\[\d+\]", case.source)


def test_list_show_prints_the_case_whole(capsys):
    assert main(["list", "--show", "gen/header/config-08-truncated"]) == 0
    out = capsys.readouterr().out
    for part in ("id           gen/header/config-08-truncated", "section      RFC 9605 §4.4.4",
                 "HDR-06 MUST: ", "level        MUST", "expected     invalid", "TruncatedHeader: A header whose",
                 f"vector       vectors/generated/header.json  tcId {tc_id('gen/header/config-08-truncated')}",
                 "generator    harness/catalogue/generate/header.py:truncated", "  0 decode_header data=08",
                 "    -> must fail: malformed"):
        assert part in out, part
    assert main(["list", "--show", "gen/roundtrip/suite-4/kid-291-ctr-18446744073709551615"]) == 0
    out = capsys.readouterr().out
    assert "(may be refused)" in out and "why: RFC 9605 forbids reusing or wrapping the counter" in out
    assert "-> ok plaintext=" in out  # the receiver half decrypts the pinned frame


def test_list_show_of_an_unknown_case_is_a_one_line_usage_error(capsys):
    assert main(["list", "--show", "gen/no/such\x1b[2Jcase"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no case" in err and "\x1b" not in err


def test_tc_ids_survive_an_insertion():
    file = generate.FILES[3]  # header.json
    assert file.name == "header.json"
    reference = lambda: PythonAdapter().call  # noqa: E731
    before = {t["id"]: t["tcId"] for g in generate._document(file, reference)["testGroups"] for t in g["tests"]}
    inserted = VectorTest("gen/header/inserted-first", "a case inserted in front of all others", ["HDR-06"],
                          ["EmptyInput"], "invalid", {"data": b"\x08"}, errors=["malformed"], source="test")

    def groups() -> list[Group]:
        out = file.groups()
        out[1].tests.insert(0, inserted)
        return out

    after = {t["id"]: t["tcId"] for g in generate._document(generate.VectorFile(file.name, file.description, groups),
                                                            reference)["testGroups"] for t in g["tests"]}
    assert after.pop("gen/header/inserted-first") not in before.values()
    assert after == before


# --- Implementations that differ from the reference only where RFC 9605 lets them -------------------------------


class _Variant(PythonAdapter):
    """The reference with one allowed choice made differently."""

    def ciphertext(self, request: Request) -> bytes | None:
        data = request.fields.get("data" if request.op == "decode_header" else "ciphertext")
        return data if request.op in (*RECEIVING, "decode_header") and isinstance(data, bytes) else None


class StrictParser(_Variant):
    """Rejects every non-minimal header as malformed."""

    def handle(self, request: Request) -> Response:
        data = self.ciphertext(request)
        try:
            if data is not None and not parse_header(data).minimal:
                return Response(False, error="malformed", message="non-minimal header")
        except SFrameError:
            pass
        return super().handle(request)


class ShortBodyIsAuthFailure(_Variant):
    """Reports a body shorter than the tag as an authentication failure."""

    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        data = self.ciphertext(request)
        if response.error == "malformed" and request.op in RECEIVING and data is not None:
            try:
                parse_header(data)
                return Response(False, error="auth_failed", message="too short to authenticate")
            except SFrameError:
                pass
        return response


class StrictAndShortBodyIsAuthFailure(StrictParser, ShortBodyIsAuthFailure):
    pass


class RefusesLastCtr(_Variant):
    """Never encrypts at CTR 2^64-1: its managed counters stop one value early."""

    def handle(self, request: Request) -> Response:
        if request.op == "encrypt" and request.fields.get("ctr") == U64_MAX:
            return Response(False, error="counter_exhausted", message="CTR 2^64-1 is not used")
        response = super().handle(request)
        if request.op in ("context_encrypt", "mls_encrypt") and response.ok and response.fields["ctr"] == U64_MAX:
            return Response(False, error="counter_exhausted", message="CTR 2^64-1 is not used")
        return response


class RefusesUnusualBaseKeys(_Variant):
    """Accepts only a 16-byte or an Nk-byte base_key."""

    def handle(self, request: Request) -> Response:
        key, suite = request.fields.get("base_key"), request.fields.get("suite")
        if request.op in ("encrypt", "decrypt") and isinstance(key, bytes) and suite in SUITES \
                and len(key) not in (16, SUITES[suite].nk):
            return Response(False, error="invalid_argument", message="base_key length not supported")
        return super().handle(request)


PARSERS = (PythonAdapter, StrictParser, ShortBodyIsAuthFailure, StrictAndShortBodyIsAuthFailure)


def _widened() -> list[tuple[Case, int]]:
    return [(c, i) for c in _generated() for i, s in enumerate(c.steps) if len(s.errors) > 1]


def test_each_allowed_error_class_is_given_by_some_allowed_parser():
    widened = _widened()
    assert len(widened) == 88  # 40 audited (kid bytes, config bits, short bodies) + 48 non-minimal re-encodings
    for case, i in widened:
        step = case.steps[i]
        assert not case.stateful and step.reason, case.id
        given = {variant().call(step.request).error for variant in PARSERS}
        assert given == set(step.errors), (case.id, given, step.errors)
    ids = {c.id for c, _ in widened}
    assert "gen/decrypt/suite-1/a/kid-byte-1" in ids and "gen/decrypt/suite-8/a/truncated-header-only" in ids


def test_a_single_error_class_is_the_only_one_any_allowed_parser_gives():
    for case in _generated():
        for step in case.steps:
            if len(step.errors) == 1 and not case.stateful:
                assert {v().call(step.request).error for v in PARSERS} == set(step.errors), case.id


@pytest.mark.parametrize("variant", [StrictParser, ShortBodyIsAuthFailure, StrictAndShortBodyIsAuthFailure,
                                     RefusesLastCtr, RefusesUnusualBaseKeys])
def test_allowed_behaviour_never_fails_a_case(variant):
    result = run(variant(), all_cases())
    grades = Counter(o.grade for o in result.outcomes)
    assert grades[Grade.FAIL] == grades[Grade.ERROR] == 0, [(o.case.id, o.detail) for o in result.outcomes
                                                            if o.grade in (Grade.FAIL, Grade.ERROR)][:5]
    assert grades[Grade.PASS] > 1900


def test_every_ctr_max_encryption_may_be_refused_and_every_receiver_must_decrypt():
    counted = Counter()
    for case in _generated():
        for step in case.steps:
            ctr = step.request.fields.get("ctr") if step.request.op == "encrypt" else step.output.get("ctr")
            if step.request.op in ("encrypt", "context_encrypt", "mls_encrypt") and ctr == U64_MAX:
                assert step.may_fail and "ENC-06" in step.reason, case.id
                counted["encrypt"] += 1
            if step.request.op in RECEIVING and step.expect_ok:
                assert not step.may_fail or "KDF-07" in case.requirements, case.id
    assert counted["encrypt"] == 26  # 16 round trips (2 per suite) and 10 context scenarios


def test_a_refusal_does_not_hide_a_wrap(monkeypatch):
    import sframe_py.context

    monkeypatch.setattr(sframe_py.context, "next_counter", lambda ctr: (ctr + 1) % 2**64)
    failed = {o.case.id for o in run(RefusesLastCtr(), _generated()).outcomes if o.grade is Grade.FAIL}
    assert {"gen/keys/context/counter-exhausted-at-first", "gen/keys/context/exhaustion-is-per-kid",
            *(f"gen/keys/context/suite-{s}/counter-exhausted" for s in SUITES)} <= failed


def _scenario_reading_a_refusable_frame() -> Scenario:
    s = Scenario("gen/test/reads-ctr-max", "a receiver decrypts the sender's CTR 2^64-1 frame", ["ENC-06"], [])
    tx = s.new("context_new", suite=4)
    s.step("context_add_key", ctx=tx, kid=1, base_key=BASE_KEY, usage="send", next_ctr=U64_MAX)
    sent = s.step("context_encrypt", ctx=tx, kid=1, metadata=b"", plaintext=b"x")
    rx = s.new("context_new", suite=4)
    s.step("context_add_key", ctx=rx, kid=1, base_key=BASE_KEY, usage="recv")
    s.step("context_decrypt", ctx=rx, metadata=b"", ciphertext=ref(sent, "ciphertext"), expect={"plaintext": b"x"})
    return s


def test_the_generator_refuses_a_receiver_that_depends_on_a_refusable_encryption():
    with pytest.raises(AssertionError, match="pin it"):
        _scenario_reading_a_refusable_frame().record(lambda: PythonAdapter().call)


def test_the_generator_refuses_a_valid_step_that_an_allowed_parser_rejects():
    s = Scenario("gen/test/non-minimal-valid", "a non-minimal header stated as one that must decode", ["HDR-07"], [])
    s.step("decode_header", data=bytes.fromhex("0805"), expect={"ctr": 5})
    with pytest.raises(AssertionError, match="requires it to succeed"):
        s.record(lambda: PythonAdapter().call)
