"""FrameKey's hot path against the plain functions it inlines, and the error split."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sframe_py
from sframe_py import (
    SUITES,
    U64_MAX,
    AuthenticationError,
    Context,
    CounterExhaustedError,
    FrameKey,
    InvalidArgumentError,
    KeyContext,
    KeyUsageError,
    LocalError,
    MalformedError,
    NoKeyError,
    RatchetReceiver,
    RatchetSender,
    RemoteError,
    ReplayError,
    SFrameError,
    UnknownKidError,
    UnsupportedSuiteError,
    encode_header,
    get_suite,
    parse_header,
)

KEY = bytes(range(16))
u64 = st.integers(0, U64_MAX)


@given(kid=u64, ctr=u64, suite=st.sampled_from(sorted(SUITES)))
def test_header_and_nonce_match_the_plain_functions(kid, ctr, suite):
    key = FrameKey.derive(get_suite(suite), KEY, kid)
    assert key.header(ctr) == encode_header(kid, ctr)
    salt = int.from_bytes(key.material.sframe_salt, "big")
    assert key.nonce(ctr) == (salt ^ ctr).to_bytes(get_suite(suite).nn, "big")


@given(kid=u64, ctr=st.one_of(st.integers(0, 300), u64), metadata=st.binary(max_size=20),
       plaintext=st.binary(max_size=100), suite=st.sampled_from(sorted(SUITES)))
def test_seal_is_header_then_aead_of_the_rfc(kid, ctr, metadata, plaintext, suite):
    key = FrameKey.derive(get_suite(suite), KEY, kid)
    frame = key.seal(ctr, metadata, plaintext)
    header = encode_header(kid, ctr)
    assert frame == header + key.aead.seal(key.nonce(ctr), header + metadata, plaintext)
    assert parse_header(frame).ctr == ctr and key.decrypt(metadata, frame) == plaintext


@pytest.mark.parametrize("ctr", [-1, U64_MAX + 1])
def test_seal_refuses_a_ctr_outside_u64(ctr):
    with pytest.raises(InvalidArgumentError):
        FrameKey.derive(get_suite(4), KEY, 1).seal(ctr, b"", b"")


def test_frame_key_repr_never_shows_the_key():
    key = FrameKey.derive(get_suite(4), KEY, 7)
    assert repr(key) == "FrameKey(suite=4, kid=7)"
    assert key.material.sframe_key.hex() not in repr(key)


def test_every_error_is_local_or_remote():
    local = {InvalidArgumentError, UnsupportedSuiteError, KeyUsageError, CounterExhaustedError, NoKeyError}
    remote = {MalformedError, AuthenticationError, UnknownKidError, ReplayError}
    everything = {e for e in vars(sframe_py.errors).values() if isinstance(e, type) and issubclass(e, SFrameError)}
    assert everything - {SFrameError, LocalError, RemoteError} == local | remote
    assert all(issubclass(e, LocalError) and not issubclass(e, RemoteError) for e in local)
    assert all(issubclass(e, RemoteError) and not issubclass(e, LocalError) for e in remote)
    assert NoKeyError.code == UnknownKidError.code == "unknown_kid"  # one wire class, two faults


def test_the_caller_naming_a_missing_key_is_local_a_frame_for_one_is_remote():
    ctx = Context(4)
    with pytest.raises(NoKeyError):
        ctx.encrypt(9, b"", b"")
    with pytest.raises(NoKeyError):
        ctx.remove_key(9)
    with pytest.raises(UnknownKidError):
        ctx.decrypt(b"", sframe_py.encrypt(4, KEY, 9, 0, b"", b"x"))


def test_key_contexts_share_one_interface():
    sender, receiver = RatchetSender(4, KEY, 1, 4), RatchetReceiver(4, KEY, 1, 4)
    plain = Context(4)
    plain.add_send_key(5, KEY)
    contexts: list[KeyContext] = [plain, sender, receiver]
    frames = [ctx.encrypt(5 if ctx is plain else None, b"m", b"hi") for ctx in contexts[:2]]
    assert receiver.decrypt_frame(b"m", frames[1]).plaintext == b"hi"
    with pytest.raises(InvalidArgumentError):  # a plain context has no current KID
        plain.encrypt(None, b"", b"")
    with pytest.raises(KeyUsageError):  # a receiver holds only receive keys
        receiver.encrypt(None, b"", b"")
    with pytest.raises(KeyUsageError):  # the sender's own KID is a send key
        sender.decrypt_frame(b"m", frames[1])
