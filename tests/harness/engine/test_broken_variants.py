"""A deliberately broken implementation must fail the run, naming the right requirement.

The official vectors use KID 0x123 and CTR 0x4567, so a CTR truncated to 32 bits
passes every one of them; the generated boundary vectors must catch it.
"""

import io

import pytest

from harness.adapters.inprocess import PythonAdapter
from harness.catalogue import all_cases, select
from harness.engine.runner import run
from harness.model.grading import Grade
from harness.reporters.console import print_summary
from sframe_py.frame import FrameKey

CORRECT_NONCE = FrameKey.nonce


def ctr_truncated_to_32_bits(self, ctr):
    return CORRECT_NONCE(self, ctr & 0xFFFFFFFF)


def seal_with_ctr_truncated(self, ctr, metadata, plaintext):
    header = self.header(ctr)
    return header + self.aead.seal_unchecked(ctr_truncated_to_32_bits(self, ctr), header + metadata, plaintext)


def seal_without_metadata(self, ctr, metadata, plaintext):
    header = self.header(ctr)
    return header + self.aead.seal(self.nonce(ctr), header, plaintext)


def open_without_metadata(self, header, metadata, ciphertext):
    return self.aead.open(self.nonce(header.ctr), header.encoded, bytes(ciphertext[header.length:]))


def failing_requirements(result):
    return {r for o in result.outcomes if o.grade is Grade.FAIL for r in o.case.requirements}


def test_ctr_truncation_passes_official_vectors_but_fails_the_catalogue(monkeypatch):
    monkeypatch.setattr(FrameKey, "nonce", ctr_truncated_to_32_bits)
    monkeypatch.setattr(FrameKey, "seal", seal_with_ctr_truncated)
    official = run(PythonAdapter(), select(all_cases(), only=["rfc9605/*"]))
    assert not official.failed, "the official vectors cannot see this bug"
    result = run(PythonAdapter(), all_cases())
    assert result.failed
    assert "ENC-02" in failing_requirements(result)
    # Only cases with a CTR of 2^32 or more can see it.
    high_ctr = {"CtrTruncation", "MaxValue", "CounterExhaustion"}
    assert all(high_ctr & set(o.case.flags) for o in result.outcomes if o.grade is Grade.FAIL)
    # The encrypt side is planted too: ciphertexts at CTR >= 2^32 differ from the vectors.
    assert any(o.grade is Grade.FAIL and "encrypt: ciphertext expected" in o.detail for o in result.outcomes)
    out = io.StringIO()
    print_summary(result, out)
    assert "! ENC-02" in out.getvalue()
    assert "RFC 9605 §4.2 ENC-01, ENC-02" in out.getvalue()


def test_metadata_left_out_of_aad_fails_enc_03(monkeypatch):
    monkeypatch.setattr(FrameKey, "seal", seal_without_metadata)
    monkeypatch.setattr(FrameKey, "open", open_without_metadata)
    result = run(PythonAdapter(), all_cases())
    assert result.failed
    failing = failing_requirements(result)
    assert {"ENC-03", "TV-03"} <= failing
    # Frames sealed without metadata decrypt whatever metadata the receiver is given.
    added = [o for o in result.outcomes if o.case.id.endswith("/c/metadata-added")]
    assert len(added) == 8 and all(o.grade is Grade.FAIL for o in added)
    assert "accepted input that must be rejected" in added[0].detail


@pytest.mark.parametrize("label", ["tag compare skipped"])
def test_unchecked_tag_fails_dec_03(monkeypatch, label):
    from sframe_py import aead

    monkeypatch.setattr(aead.hmac, "compare_digest", lambda a, b: True)
    result = run(PythonAdapter(), select(all_cases(), only=["gen/decrypt/*"]))
    assert {"DEC-03", "DEC-05"} <= failing_requirements(result)
