"""npm sframe 0.1.0 (medooze): runs to completion and reports its departures from RFC 9605."""

import pytest

from harness.adapters.registry import open_adapter
from harness.engine.results import requirement_table
from harness.model.cases import Expected
from harness.model.grading import Grade
from harness.model.wire import Request
from tests.implementations.conftest import run_full

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def medooze():
    return run_full("medooze")


def test_runs_to_completion_without_restarts(medooze):
    assert medooze.hello.name == "medooze-sframe"
    assert medooze.hello.suites == (1, 3)
    assert medooze.restarts == 0
    assert len(medooze.outcomes) > 1800


def test_departures_are_reported_per_requirement(medooze):
    table = requirement_table(medooze)
    # Its header format (S|LEN|X|K) is not RFC 9605's: every official header vector fails.
    assert table["TV-01"]["fail"] == 289
    assert table["HDR-03"]["fail"] > 0 and table["HDR-08"]["fail"] > 0
    # No metadata input: every case with metadata is unsupported, never silently passed.
    assert table["ENC-03"]["pass"] == 0
    # RFC suites it lacks (GCM, 8-byte tags, AES-256) are unsupported, not failures.
    assert table["SUITE-06"]["unsupported"] == table["SUITE-06"]["pass"] + table["SUITE-06"]["unsupported"]
    assert medooze.failed


def test_key_management_departures_are_reported_on_the_draft_profile(medooze):
    # gen/keys/*-s1/ (suite 1, no metadata, replay window 128) reaches its contexts, so the README's departures
    # show up per requirement: one KID may hold a send and a receive key (KEY-02).
    draft = [o for o in medooze.outcomes if "-s1/" in o.case.id]
    assert draft and not [o.case.id for o in draft if o.grade is Grade.UNSUPPORTED]
    assert requirement_table(medooze)["KEY-02"]["fail"] >= 3


def test_never_decrypts_a_negative_vector(medooze):
    negatives = [o for o in medooze.outcomes if o.case.result is Expected.INVALID and o.case.id.startswith("gen/decrypt/")]
    assert negatives and not [o.case.id for o in negatives if o.grade is Grade.FAIL]


def test_its_header_parser_reads_past_truncated_input(medooze):
    # Its Header.js does no bounds checks: truncated headers "parse" (HDR-06), a real departure.
    truncated = [o for o in medooze.outcomes if o.case.id.endswith("-truncated")]
    assert truncated and sum(o.grade is Grade.FAIL for o in truncated) > 100


def test_own_frames_round_trip_and_tampering_is_rejected():
    key = {"suite": 1, "base_key": bytes(range(16)), "kid": 7}
    with open_adapter("medooze") as adapter:
        sealed = adapter.call(Request("encrypt", {**key, "ctr": 5, "metadata": b"", "plaintext": b"frame"}))
        assert sealed.ok, sealed.message
        ct = sealed.fields["ciphertext"]
        opened = adapter.call(Request("decrypt", {**key, "metadata": b"", "ciphertext": ct}))
        assert opened.ok and opened.fields["plaintext"] == b"frame"
        tampered = ct[:-1] + bytes([ct[-1] ^ 1])
        rejected = adapter.call(Request("decrypt", {**key, "metadata": b"", "ciphertext": tampered}))
        assert not rejected.ok and rejected.error == "auth_failed"
