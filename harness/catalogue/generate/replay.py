"""§9.3 receiver anti-replay (REPLAY-02, a MAY): a CTR window per receive KID.

Rule: a window case is a script of (KID, CTR, outcome) frames given to one
receiver; each builder takes a ``Profile`` (scenario.py). The draft profile's
frames come from the implementation itself, so a duplicate is the very same
frame (a cache of sent frames), and it never goes near CTR 2^64-1.
"""

from __future__ import annotations

from collections.abc import Iterator

from .common import BASE_KEY, PLAINTEXT, U64_MAX, builder, forged, frame
from .mls import epoch_secret
from .scenario import DRAFT_FORGED_KEY, FORGED, RFC_PROFILE, Profile, Scenario, WireRef

Script = list[tuple[int, int, str | None]]  # (kid, ctr, error or None, or FORGED for a forged frame)


def window_case(p: Profile, name: str, comment: str, window: int | None, script: Script,
                flags: list[str] | None = None) -> Scenario:
    """One receiver (replay_window ``window``, or none) given ``script``'s frames in order."""
    s = p.scenario(f"gen/keys/replay{p.name}/{name}", comment, ["REPLAY-02"], ["ReplayWindow", *(flags or [])])
    ctx = s.new("context_new", suite=p.suite, **({} if window is None else {"replay_window": window}))
    for kid in sorted({k for k, _, _ in script}):
        s.step("context_add_key", ctx=ctx, kid=kid, base_key=BASE_KEY, usage="recv")
    sent: dict[tuple[int, int, bytes], WireRef] = {}  # draft: a duplicate is the same frame
    for kid, ctr, error in script:
        if error == FORGED:
            error = "auth_failed"
            received = (p.received(s, kid, ctr, key=DRAFT_FORGED_KEY, cache=sent) if p.draft
                        else forged(p.suite, kid, ctr))
        else:
            received = p.received(s, kid, ctr, cache=sent)
        if error:
            s.step("context_decrypt", ctx=ctx, metadata=p.metadata, ciphertext=received, errors=(error,))
        else:
            s.step("context_decrypt", ctx=ctx, metadata=p.metadata, ciphertext=received,
                   expect={"plaintext": PLAINTEXT, "ctr": ctr})
    return s


@builder
def windows(p: Profile = RFC_PROFILE) -> Iterator[Scenario]:
    """Duplicates, reordering inside the window, too-old frames, forgeries that must not move it, per-KID windows."""
    n = p.window
    far = 25 * n  # far enough above the frames that follow for a moved window to refuse them
    recheck: Script = [] if p.draft else [(1, 3, "replay")]
    yield window_case(p, "off-duplicates-accepted", "without replay_window a duplicate decrypts every time", None,
                      [(1, 0, None), (1, 0, None), (1, 0, None)])
    yield window_case(p, "duplicate-rejected", f"N={n}: the same frame twice", n, [(1, 0, None), (1, 0, "replay")])
    yield window_case(p, "in-window-reorder", f"N={n}: CTRs 5, 3, 4, 2 all decrypt; 3 again is a replay", n,
                      [(1, 5, None), (1, 3, None), (1, 4, None), (1, 2, None), (1, 3, "replay")])
    yield window_case(p, "too-old", f"N={n}: after CTR {n + 1}, CTR 1 ({n} behind) is too old; CTR 2 ({n - 1} "
                      "behind) decrypts", n, [(1, n + 1, None), (1, 1, "replay"), (1, 2, None)])
    yield window_case(p, "forged-does-not-move", f"N={n}: forged frames at CTR {far} and 3 fail authentication and "
                      f"change nothing: genuine CTR 2 and 3 then decrypt{'' if p.draft else ' once'}", n,
                      [(1, far, FORGED), (1, 2, None), (1, 3, FORGED), (1, 3, None), *recheck], ["ForgedFrame"])
    if not p.draft:
        yield window_case(p, "window-1", "N=1: only CTRs above the highest pass", 1,
                          [(1, 3, None), (1, 2, "replay"), (1, 3, "replay"), (1, 4, None)])
    size = n if p.draft else 64  # the RFC profile checks a mid-size window, the draft profile its fixed one
    top = size + 36
    yield window_case(p, f"window-{size}", f"N={size}: {size} behind is too old, {size - 1} behind decrypts; a jump "
                      f"of {size} clears the bitmap", size,
                      [(1, top, None), (1, top - size, "replay"), (1, top - size + 1, None),
                       (1, top - size + 1, "replay"), (1, top + size, None), (1, top + 1, None), (1, top, "replay")])
    if not p.draft:
        yield window_case(p, "max-ctr", "N=4 at CTR 2^64-1: no overflow in the window arithmetic", 4,
                          [(1, U64_MAX, None), (1, U64_MAX - 2, None), (1, U64_MAX, "replay"),
                           (1, U64_MAX - 4, "replay"), (1, U64_MAX - 3, None)], ["MaxValue"])
    yield window_case(p, "per-kid", f"N={n}: each KID has its own window", n,
                      [(1, far, None), (2, 0, None), (1, 0, "replay"), *([] if p.draft else [(2, 0, "replay")])])


@builder
def draft_windows(p: Profile) -> Iterator[Scenario]:
    """Draft profile only: tell a window that is off by one from no window at all, and a window from one that
    cannot be turned off."""
    n, far = p.window, 25 * p.window
    yield window_case(p, "far-too-old", f"N={n}: after CTR {n + 2}, CTR 1 ({n + 1} behind) is too old; CTR 3 "
                      f"({n - 1} behind) decrypts", n, [(1, n + 2, None), (1, 1, "replay"), (1, 3, None)])
    yield window_case(p, "off-old-accepted", f"without replay_window a CTR {far} below the highest decrypts", None,
                      [(1, far, None), (1, 0, None)])


@builder
def options() -> Iterator[Scenario]:
    """RFC profile only: the window's size is checked, and MLS contexts take one too."""
    s = Scenario("gen/keys/replay/bad-size", "replay_window 0 is refused", ["REPLAY-02"], ["ReplayWindow"])
    s.step("context_new", suite=4, replay_window=0, errors=("invalid_argument",))
    yield s
    s = Scenario("gen/keys/replay/mls", "N=4 on an MLS context: a duplicate frame is a replay", ["REPLAY-02"],
                 ["ReplayWindow"])
    ctx = s.new("mls_context_new", suite=4, epoch_bits=4, sender_bits=6, replay_window=4)
    s.step("mls_add_epoch", ctx=ctx, epoch=14, epoch_secret=epoch_secret(0, 4))
    duplicated = frame(4, epoch_secret(0, 4), 0x3E, 0, b"hello", b"")
    s.step("mls_decrypt", ctx=ctx, metadata=b"", ciphertext=duplicated, expect={"plaintext": b"hello"})
    s.step("mls_decrypt", ctx=ctx, metadata=b"", ciphertext=duplicated, errors=("replay",))
    yield s


def replay_scenarios(p: Profile = RFC_PROFILE) -> Iterator[Scenario]:
    yield from windows(p)
    yield from (draft_windows(p) if p.draft else options())
