import pytest

from sframe_py import U64_MAX, Context, CounterExhaustedError, KeyUsageError, UnknownKidError, parse_header

KEY = bytes(range(16))


def test_counter_starts_at_zero_and_advances():
    ctx = Context(4)
    ctx.add_send_key(0x123, KEY)
    headers = [parse_header(ctx.encrypt(0x123, b"", b"x")).encoded.hex() for _ in range(3)]
    assert headers == ["900123", "910123", "920123"]


def test_send_and_receive_contexts_interoperate():
    alice, bob = Context(1), Context(1)
    alice.add_send_key(7, KEY)
    bob.add_recv_key(7, KEY)
    for i in range(3):
        assert bob.decrypt(b"md", alice.encrypt(7, b"md", bytes([i]) * i)) == bytes([i]) * i


def test_counter_never_wraps():
    ctx = Context(4)
    ctx.add_send_key(1, KEY, next_ctr=U64_MAX)
    last = ctx.encrypt(1, b"", b"last")
    assert parse_header(last).ctr == U64_MAX
    assert ctx.next_ctr(1) is None
    for _ in range(2):
        with pytest.raises(CounterExhaustedError):
            ctx.encrypt(1, b"", b"again")


def test_failed_encrypt_does_not_advance_counter():
    ctx = Context(4)
    ctx.add_send_key(1, KEY)
    with pytest.raises(TypeError):
        ctx.encrypt(1, b"", None)  # type: ignore[arg-type]
    assert ctx.next_ctr(1) == 0


def test_key_usage_separation():
    ctx = Context(4)
    ctx.add_send_key(1, KEY)
    ctx.add_recv_key(2, KEY)
    with pytest.raises(KeyUsageError):
        ctx.add_recv_key(1, KEY)
    with pytest.raises(KeyUsageError):
        ctx.add_send_key(2, KEY)
    with pytest.raises(KeyUsageError):
        ctx.encrypt(2, b"", b"")
    own = ctx.encrypt(1, b"", b"mine")
    with pytest.raises(KeyUsageError):
        ctx.decrypt(b"", own)  # DEC-06: a send key never decrypts


def test_unknown_kid_then_key_arrives():
    sender, receiver = Context(2), Context(2)
    sender.add_send_key(5, KEY)
    ct = sender.encrypt(5, b"", b"later")
    with pytest.raises(UnknownKidError):
        receiver.decrypt(b"", ct)
    receiver.add_recv_key(5, KEY)
    assert receiver.decrypt(b"", ct) == b"later"
    receiver.remove_key(5)
    with pytest.raises(UnknownKidError):
        receiver.decrypt(b"", ct)
