import pytest

from sframe_py import (
    AuthenticationError,
    InvalidArgumentError,
    KeyUsageError,
    MlsContext,
    MlsKidLayout,
    NoKeyError,
    UnknownKidError,
    encode_header,
    parse_header,
)

# MLS suite 1, epoch 0 of the RFC 9420 key-schedule vectors, exported for SFrame suite 4 (requirements list §4).
BASE_KEY = bytes.fromhex("ac05c9e087590fc123efe6533126f808")
OTHER_KEY = bytes(range(16))


def test_kid_layout_matches_the_rfc_figure():
    layout = MlsKidLayout(epoch_bits=4, sender_bits=6)
    figure = {(14, 3, 0): 0x3E, (14, 7, 0): 0x7E, (14, 20, 0): 0x14E, (15, 3, 0): 0x3F, (15, 5, 0): 0x5F,
              (16, 2, 2): 0x820, (16, 2, 3): 0xC20, (17, 33, 0): 0x211, (17, 51, 0): 0x331}
    for (epoch, index, context_id), kid in figure.items():
        assert layout.kid(epoch, index, context_id) == kid
        assert layout.split(kid) == (epoch % 16, index, context_id)


def test_kid_layout_limits():
    big = MlsKidLayout(epoch_bits=8, sender_bits=24)
    assert big.kid(255, 2**24 - 1, 2**32 - 1) == 2**64 - 1
    for args in ((0, 2**24, 0), (0, 0, 2**32), (2**64, 0, 0)):
        with pytest.raises(InvalidArgumentError):
            big.kid(*args)
    assert MlsKidLayout(64, 0).kid(2**64 - 1, 0, 0) == 2**64 - 1
    assert MlsKidLayout(0, 0).kid(9, 0, 5) == 5
    for e, s in ((33, 32), (65, 0), (-1, 4)):
        with pytest.raises(InvalidArgumentError):
            MlsKidLayout(e, s)


def test_worked_example_round_trip():
    alice, bob = MlsContext(4, 4, 6), MlsContext(4, 4, 6)
    alice.add_epoch(14, BASE_KEY)
    bob.add_epoch(14, BASE_KEY)
    ct = alice.encrypt(14, 3, 0, b"", b"hello")
    assert ct.hex() == "803e1980178d8fb2689cc65ef16d73c1ed80a5988a5c59"
    frame = bob.decrypt(b"", ct)
    assert (frame.epoch, frame.sender_index, frame.context_id, frame.ctr, frame.plaintext) == (14, 3, 0, 0, b"hello")


def test_counters_per_kid():
    ctx = MlsContext(4, 4, 6)
    ctx.add_epoch(14, BASE_KEY)
    ctrs = [parse_header(ctx.encrypt(14, 3, c, b"", b"")).ctr for c in (0, 1, 0, 0, 1)]
    assert ctrs == [0, 0, 1, 2, 1]


def test_eviction_of_the_epoch_with_the_same_low_bits():
    ctx = MlsContext(4, epoch_bits=2, sender_bits=6)
    for epoch in (1, 2, 3, 4):
        ctx.add_epoch(epoch, BASE_KEY)
    old = ctx.encrypt(1, 3, 0, b"", b"old")
    ctx.add_epoch(5, OTHER_KEY)
    assert ctx.epochs == [2, 3, 4, 5]
    with pytest.raises(NoKeyError):
        ctx.encrypt(1, 3, 0, b"", b"")
    with pytest.raises(NoKeyError):
        ctx.remove_epoch(1)
    receiver = MlsContext(4, 2, 6)
    receiver.add_epoch(1, BASE_KEY)
    assert receiver.decrypt(b"", old).epoch == 1
    receiver.add_epoch(5, OTHER_KEY)
    with pytest.raises(AuthenticationError):
        receiver.decrypt(b"", old)


def test_rewritten_kid_fails_and_leaves_no_key_behind():
    alice, bob = MlsContext(4, 4, 6), MlsContext(4, 4, 6)
    alice.add_epoch(14, BASE_KEY)
    bob.add_epoch(14, BASE_KEY)
    ct = alice.encrypt(14, 3, 0, b"", b"hi")
    header = parse_header(ct)
    as_bob = encode_header(0x5E, header.ctr) + ct[header.length:]  # sender 5, Bob's own index
    with pytest.raises(AuthenticationError):
        bob.decrypt(b"", as_bob)
    # The failed frame installed nothing: Bob can still send under his own KID.
    assert parse_header(bob.encrypt(14, 5, 0, b"", b"")).kid == 0x5E
    with pytest.raises(KeyUsageError):
        bob.decrypt(b"", as_bob)  # 0x5E now holds Bob's send key
    assert bob.decrypt(b"", ct).plaintext == b"hi"


def test_unknown_and_removed_epochs():
    ctx = MlsContext(4, 4, 6)
    ctx.add_epoch(14, BASE_KEY)
    with pytest.raises(NoKeyError):  # local misuse: encrypting in an epoch never added
        ctx.encrypt(15, 3, 0, b"", b"")
    ctx.remove_epoch(14)
    with pytest.raises(NoKeyError):
        ctx.encrypt(14, 3, 0, b"", b"")
    with pytest.raises(NoKeyError):
        ctx.remove_epoch(14)
    with pytest.raises(UnknownKidError):  # remote: a received frame for an epoch not installed
        ctx.decrypt(b"", _epoch_14_frame())


def _epoch_14_frame() -> bytes:
    sender = MlsContext(4, 4, 6)
    sender.add_epoch(14, BASE_KEY)
    return sender.encrypt(14, 3, 0, b"", b"x")
