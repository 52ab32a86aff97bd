import pytest

from sframe_py import (
    AuthenticationError,
    InvalidArgumentError,
    KeyUsageError,
    KidLayout,
    NoKeyError,
    RatchetReceiver,
    RatchetSender,
    UnknownKidError,
    encrypt,
    get_suite,
    parse_header,
    ratchet_forward,
    ratchet_step,
)

KEY = bytes(range(16))


def test_ratchet_known_answers_from_the_requirements_list():
    # SK-01 positive values: the output is Nh bytes (32 for SHA-256, 64 for SHA-512), not Nk.
    one = ratchet_forward(get_suite(1), KEY, 1)
    assert one.hex() == "fb75d8d5782da6c6cbf18ac43eca5da9e47f7e6ac7926a78e486226bd2af0f87"
    two = ratchet_forward(get_suite(1), KEY, 2)
    assert two.hex() == "e24577b569963f5222734f2f57c43927c10dd36180e6124cf9f10cd43ab4598e"
    five = ratchet_forward(get_suite(5), KEY, 1)
    assert len(five) == 64 and five.hex().startswith("895fe560") and five.hex().endswith("d07475aa")
    assert ratchet_forward(get_suite(4), KEY, 1) == one  # same hash, and the label carries no suite
    assert ratchet_forward(get_suite(1), KEY, 0) == KEY
    assert ratchet_step(get_suite(1), one) == ratchet_forward(get_suite(1), KEY, 2)
    with pytest.raises(InvalidArgumentError):
        ratchet_forward(get_suite(1), KEY, -1)


def test_kid_layout():
    assert KidLayout(1, 8).kid(3) == 0x103
    assert encrypt(4, KEY, KidLayout(1, 8).kid(3), 0, b"", b"")[:3].hex() == "900103"  # X=1, K=1: 2 KID bytes
    assert [KidLayout(5, 1).kid(s) for s in range(4)] == [10, 11, 10, 11]
    assert KidLayout(2**56 - 1, 8).kid(0) == 0xFFFFFFFFFFFFFF00
    assert KidLayout(1, 8).step_bits(0x1FF) == 0xFF and KidLayout(1, 8).step_bits(0x203) is None
    for generation, bits in ((2**56, 8), (2, 63), (0, 0), (0, 64), (-1, 8)):
        with pytest.raises(InvalidArgumentError):
            KidLayout(generation, bits)


def _frame(step: int, bits: int = 2, ctr: int = 0, generation: int = 3) -> bytes:
    key = ratchet_forward(get_suite(4), KEY, step)
    return encrypt(4, key, KidLayout(generation, bits).kid(step), ctr, b"", bytes([step]))


def test_sender_ratchets_and_restarts_its_counter():
    tx = RatchetSender(4, KEY, 3, 2)
    assert tx.kid == 12
    assert tx.encrypt(None, b"", b"\x00") == _frame(0)
    assert tx.encrypt(None, b"", b"\x00") == _frame(0, ctr=1)
    assert tx.advance() == 13 and tx.step == 1
    assert tx.encrypt(None, b"", b"\x01") == _frame(1)
    with pytest.raises(NoKeyError):  # the old step's KID: the caller's mistake, not the network's
        tx.encrypt(12, b"", b"")
    with pytest.raises(KeyUsageError):
        tx.decrypt_frame(b"", _frame(1))


def test_receiver_reorders_within_the_window_and_drops_older_steps():
    rx = RatchetReceiver(4, KEY, 3, 2)  # W = 2
    assert rx.decrypt_frame(b"", _frame(2)).plaintext == b"\x02"
    assert rx.steps == [1, 2]
    assert rx.decrypt_frame(b"", _frame(1)).plaintext == b"\x01"
    assert rx.decrypt_frame(b"", _frame(3)).header.kid == 15
    assert rx.steps == [2, 3]
    with pytest.raises(AuthenticationError):
        rx.decrypt_frame(b"", _frame(1, ctr=1))  # step 1 was deleted; its field now reads as step 5


def test_receiver_state_survives_forged_and_ambiguous_frames():
    rx = RatchetReceiver(4, KEY, 3, 2)
    forged = bytearray(_frame(2))
    forged[-1] ^= 1
    with pytest.raises(AuthenticationError):
        rx.decrypt_frame(b"", bytes(forged))
    with pytest.raises(AuthenticationError):
        rx.decrypt_frame(b"", _frame(4))  # 2^R ahead: same KID as step 0, so it is read as step 0
    assert rx.steps == [0]
    assert rx.decrypt_frame(b"", _frame(0)).plaintext == b"\x00"


def test_receiver_starting_later_and_other_generations():
    rx = RatchetReceiver(4, ratchet_forward(get_suite(4), KEY, 5), 3, 4, step=5)
    assert rx.decrypt_frame(b"", _frame(6, bits=4)).plaintext == b"\x06"
    with pytest.raises(AuthenticationError):
        rx.decrypt_frame(b"", _frame(4, bits=4))  # before its first step: never held
    with pytest.raises(UnknownKidError):
        rx.decrypt_frame(b"", _frame(6, bits=4, generation=2))
    assert parse_header(_frame(6, bits=4)).kid in [KidLayout(3, 4).kid(s) for s in rx.steps]


def test_receiver_refuses_a_jump_past_the_derivation_bound_without_deriving():
    """A forged KID in a 40-bit step field would cost up to 2^40 HKDF steps; beyond MAX_RATCHET_STEPS the
    frame is auth_failed at once (as in C), and a jump within the bound is still followed."""
    from sframe_py.ratchet import MAX_RATCHET_STEPS

    sender, receiver = RatchetSender(4, KEY, 0, 40), RatchetReceiver(4, KEY, 0, 40)
    for _ in range(MAX_RATCHET_STEPS):
        sender.advance()
    with pytest.raises(AuthenticationError, match="ratchet steps ahead"):
        receiver.decrypt_frame(b"", encrypt(4, KEY, (1 << 39) + 5, 0, b"", b"x"))
    assert receiver.decrypt_frame(b"", sender.encrypt(None, b"", b"far")).plaintext == b"far"  # 65,536 ahead
