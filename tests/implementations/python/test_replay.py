import pytest

from sframe_py import U64_MAX, AuthenticationError, Context, InvalidArgumentError, ReplayError, ReplayWindow, encrypt

KEY = bytes(range(16))


def _accept(window: ReplayWindow, ctr: int) -> bool:
    try:
        window.check(ctr)
    except ReplayError:
        return False
    window.accept(ctr)
    return True


def test_window_rejects_duplicates_and_old_frames_and_accepts_reordering():
    w = ReplayWindow(4)
    assert [_accept(w, c) for c in (5, 3, 4, 2, 3, 1, 6, 2, 9, 5, 6, 7)] == [
        True, True, True, True, False, False, True, False, True, False, False, True]


def test_window_of_one_and_of_64_and_at_the_top_of_the_counter():
    one = ReplayWindow(1)
    assert [_accept(one, c) for c in (3, 2, 3, 4)] == [True, False, False, True]
    big = ReplayWindow(64)
    assert [_accept(big, c) for c in (100, 36, 37, 37, 164, 101, 100)] == [True, False, True, False, True, True, False]
    top = ReplayWindow(4)
    assert [_accept(top, c) for c in (U64_MAX, U64_MAX - 2, U64_MAX, U64_MAX - 4, U64_MAX - 3)] == [
        True, True, False, False, True]


def test_check_never_moves_the_window():
    w = ReplayWindow(4)
    w.check(1000)
    assert w.highest is None
    for size in (0, -1, True, "4"):
        with pytest.raises(InvalidArgumentError):
            ReplayWindow(size)  # type: ignore[arg-type]


def test_context_window_moves_only_after_authentication():
    ctx = Context(4, replay_window=4)
    ctx.add_recv_key(1, KEY)
    genuine = {c: encrypt(4, KEY, 1, c, b"", b"x") for c in (2, 100)}
    forged = bytearray(genuine[100])
    forged[-1] ^= 1
    with pytest.raises(AuthenticationError):
        ctx.decrypt(b"", bytes(forged))
    assert ctx.decrypt(b"", genuine[2]) == b"x"  # would be too old had the forgery moved the window
    with pytest.raises(ReplayError):
        ctx.decrypt(b"", genuine[2])


def test_context_without_window_accepts_duplicates_and_windows_are_per_kid():
    plain = Context(4)
    plain.add_recv_key(1, KEY)
    frame = encrypt(4, KEY, 1, 0, b"", b"x")
    assert plain.decrypt(b"", frame) == plain.decrypt(b"", frame) == b"x"
    ctx = Context(4, replay_window=4)
    ctx.add_recv_key(1, KEY)
    ctx.add_recv_key(2, KEY)
    ctx.decrypt(b"", encrypt(4, KEY, 1, 100, b"", b"x"))
    assert ctx.decrypt(b"", encrypt(4, KEY, 2, 0, b"", b"y")) == b"y"
    with pytest.raises(InvalidArgumentError):
        Context(4, replay_window=0)
