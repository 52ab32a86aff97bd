"""A receiver replay window for one KID (RFC 9605 §9.3, in the style of RFC 3711 §3.3.2).

Anti-replay is optional in SFrame (REPLAY-02). The window is split into a check,
done before decryption, and an update, done only after the frame authenticates:
otherwise a forged frame with a high CTR would slide the window and make every
genuine frame look too old.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidArgumentError, ReplayError

# Larger windows are refused (PROTOCOL.md, replay): the bitmap is an int of N bits.
MAX_REPLAY_WINDOW = 1 << 16


@dataclass
class ReplayWindow:
    size: int  # N: the highest CTR seen and the N-1 below it are tracked
    highest: int | None = None
    # Bit i is set when CTR ``highest - i`` has been accepted.
    seen: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 1 <= self.size <= MAX_REPLAY_WINDOW:
            raise InvalidArgumentError(f"replay window size must be an integer 1..{MAX_REPLAY_WINDOW}, "
                                       f"got {self.size!r}")

    def check(self, ctr: int) -> None:
        """Raise ReplayError when ``ctr`` must not be accepted; never changes the window."""
        if self.highest is None or ctr > self.highest:
            return
        behind = self.highest - ctr
        if behind >= self.size:
            raise ReplayError(f"CTR {ctr} is {behind} behind the newest, {self.highest}: "
                              f"outside the {self.size}-frame window")
        if self.seen >> behind & 1:
            raise ReplayError(f"CTR {ctr} was already accepted")

    def accept(self, ctr: int) -> None:
        """Record an authenticated frame. The caller has called ``check`` first."""
        mask = (1 << self.size) - 1
        if self.highest is None or ctr > self.highest:
            shift = self.size if self.highest is None else min(ctr - self.highest, self.size)
            self.seen = (self.seen << shift | 1) & mask
            self.highest = ctr
        else:
            self.seen |= 1 << (self.highest - ctr)
