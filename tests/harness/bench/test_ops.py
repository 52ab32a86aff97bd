"""The Python implementation's bench and timing ops (harness/adapters/measure.py) answer what
PROTOCOL.md says, and refuse what it forbids."""

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import sframe_py
from harness.adapters.inprocess import PythonAdapter
from harness.model.wire import Request

KEY, KID, MD, PT = bytes(range(16)), 0x123, b"md", bytes(100)


def _bench(mode, suite=4, count=5, **extra):
    return PythonAdapter().call(Request("bench", {"suite": suite, "base_key": KEY, "kid": KID, "metadata": MD,
                                                  "plaintext": PT, "count": count, "mode": mode, **extra}))


def test_hello_announces_bench_and_timing():
    assert {"bench", "timing"} <= set(PythonAdapter().hello.capabilities)


@pytest.mark.parametrize("mode", ["encrypt", "encrypt_derive"])
def test_encrypt_modes_return_the_frame_at_ctr_count_minus_one(mode):
    r = _bench(mode, suite=1)
    assert r.ok and r.fields["count"] == 5 and r.fields["elapsed_ns"] > 0
    assert r.fields["ciphertext"] == sframe_py.encrypt(1, KEY, KID, 4, MD, PT)


@pytest.mark.parametrize("mode", ["decrypt", "decrypt_derive"])
def test_decrypt_modes_return_the_plaintext(mode):
    r = _bench(mode)
    assert r.ok and r.fields["plaintext"] == PT


def test_aead_mode_is_cryptography_with_the_derived_key_and_nonce_count_minus_one():
    r = _bench("aead", suite=5)
    key = sframe_py.derive_key_salt(sframe_py.get_suite(5), KEY, KID).sframe_key
    assert r.fields["ciphertext"] == AESGCM(key).encrypt((4).to_bytes(12, "big"), PT, MD)
    assert _bench("aead", suite=1).error == "unsupported"  # no raw AES-CTR+HMAC in cryptography


@pytest.mark.parametrize("fields, error", [
    ({"mode": "fast"}, "invalid_argument"),
    ({"count": 0}, "invalid_argument"),
    ({"count": 10**7 + 1}, "invalid_argument"),
    ({"count": True}, "invalid_argument"),
    ({"suite": 99}, "unsupported"),
])
def test_bench_refuses_what_the_protocol_forbids(fields, error):
    assert _bench(**{"mode": "encrypt", **fields}).error == error


def _timing(schedule, a=None, b=None):
    frame = sframe_py.encrypt(4, KEY, KID, 0, MD, PT)
    forged = frame[:-1] + bytes([frame[-1] ^ 1])
    return PythonAdapter().call(Request("timing", {
        "suite": 4, "base_key": KEY, "kid": KID, "metadata": MD, "ciphertext_a": a or forged,
        "ciphertext_b": b or forged, "schedule": schedule}))


def test_timing_returns_one_big_endian_duration_per_sample():
    r = _timing(bytes([0, 1, 1, 0, 1]))
    assert r.ok and len(r.fields["timings"]) == 40 and r.fields["clock"] == "time.perf_counter_ns ns"
    durations = [int.from_bytes(r.fields["timings"][i:i + 8], "big") for i in range(0, 40, 8)]
    assert all(0 < d < 10**9 for d in durations)  # nanoseconds, not byte-swapped garbage


@pytest.mark.parametrize("schedule", [b"", bytes([0, 2]), bytes(2**20 + 1)])
def test_timing_refuses_a_bad_schedule(schedule):
    assert _timing(schedule).error == "invalid_argument"


def test_timing_refuses_a_frame_that_decrypts():
    genuine = sframe_py.encrypt(4, KEY, KID, 0, MD, PT)
    r = _timing(bytes([0, 1]), b=genuine)
    assert r.error == "invalid_argument" and "ciphertext_b decrypted" in r.message
