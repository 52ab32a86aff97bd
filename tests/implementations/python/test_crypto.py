"""KDF, AEAD and stateless frame encryption against the official vectors."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sframe_py
from sframe_py import (
    SUITES,
    AuthenticationError,
    InvalidArgumentError,
    MalformedError,
    UnknownKidError,
    UnsupportedSuiteError,
    derive_key_salt,
    get_suite,
    make_aead,
)
from tests.conftest import RFC_VECTORS


def _aead_vectors():
    post = json.loads((RFC_VECTORS / "test-vectors-post-rfc.json").read_text())
    return post["aes_ctr_hmac"] + post["aes_256_ctr_hmac"]


@pytest.mark.parametrize("v", _aead_vectors(), ids=lambda v: f"suite-{v['cipher_suite']}")
def test_aead_vectors(v):
    aead = make_aead(get_suite(v["cipher_suite"]), bytes.fromhex(v["key"]))
    nonce, aad, pt, ct = (bytes.fromhex(v[k]) for k in ("nonce", "aad", "pt", "ct"))
    assert aead.seal(nonce, aad, pt) == ct
    assert aead.open(nonce, aad, ct) == pt
    with pytest.raises(AuthenticationError):
        aead.open(nonce, aad, ct[:-1] + bytes([ct[-1] ^ 1]))


def test_sframe_vectors(sframe_vectors):
    assert sorted(v["cipher_suite"] for v in sframe_vectors) == list(range(1, 9))
    for v in sframe_vectors:
        suite, base_key = v["cipher_suite"], bytes.fromhex(v["base_key"])
        material = derive_key_salt(get_suite(suite), base_key, v["kid"])
        assert material.sframe_key.hex() == v["sframe_key"]
        assert material.sframe_salt.hex() == v["sframe_salt"]
        md, pt = bytes.fromhex(v["metadata"]), bytes.fromhex(v["pt"])
        ct = sframe_py.encrypt(suite, base_key, v["kid"], v["ctr"], md, pt)
        assert ct.hex() == v["ct"]
        assert sframe_py.decrypt(suite, base_key, v["kid"], md, ct) == pt


@pytest.mark.parametrize("suite,expected", [(1, "00c130b36745c8b6a91464"), (4, "00a35d08f9dc7426fbde0f3649dfb2e85b")])
def test_empty_frame(suite, expected):
    assert sframe_py.encrypt(suite, bytes(range(16)), 0, 0, b"", b"").hex() == expected


def test_nonce_uses_all_64_ctr_bits():
    # ENC-02: suite 4, KID 0x123; a 32-bit CTR would give the same nonce for both.
    key = sframe_py.FrameKey.derive(get_suite(4), bytes(range(16)), 0x123)
    assert key.nonce(0).hex() == "75234edefe07819026751816"
    assert key.nonce(2**64 - 1).hex() == "75234ede01f87e6fd98ae7e9"


@settings(max_examples=60)
@given(st.sampled_from(sorted(SUITES)), st.binary(min_size=1, max_size=64), st.integers(0, 2**64 - 1),
       st.integers(0, 2**64 - 1), st.binary(max_size=32), st.binary(max_size=300))
def test_round_trip_and_tamper(suite, base_key, kid, ctr, metadata, plaintext):
    ct = sframe_py.encrypt(suite, base_key, kid, ctr, metadata, plaintext)
    assert len(ct) == len(sframe_py.encode_header(kid, ctr)) + len(plaintext) + SUITES[suite].nt
    assert sframe_py.decrypt(suite, base_key, kid, metadata, ct) == plaintext
    for i in range(len(ct)):
        tampered = ct[:i] + bytes([ct[i] ^ 0x01]) + ct[i + 1 :]
        with pytest.raises(sframe_py.SFrameError):
            sframe_py.decrypt(suite, base_key, kid, metadata, tampered)


def test_typed_errors():
    base_key = bytes(16)
    ct = sframe_py.encrypt(1, base_key, 9, 0, b"", b"hello")
    with pytest.raises(UnknownKidError):
        sframe_py.decrypt(1, base_key, 10, b"", ct)
    with pytest.raises(MalformedError):
        sframe_py.decrypt(1, base_key, 9, b"", ct[:3])
    with pytest.raises(AuthenticationError):
        sframe_py.decrypt(1, base_key, 9, b"x", ct)
    with pytest.raises(UnsupportedSuiteError):
        sframe_py.encrypt(9, base_key, 9, 0, b"", b"")
    with pytest.raises(InvalidArgumentError):
        make_aead(get_suite(4), bytes(15))
    assert {e.code for e in (UnknownKidError(), MalformedError(), AuthenticationError())} == {
        "unknown_kid", "malformed", "auth_failed"}
