"""The sender-key ratchet (RFC 9605 §5.1).

A sender's base_key moves forward one HKDF step at a time; the step travels in
the low R bits of the KID, the generation above them. A receiver keeps the keys
of a window of recent steps so that reordered frames still decrypt, derives
forward when a newer step shows up (at most MAX_RATCHET_STEPS ahead, as the C
implementation), and forgets old steps only once a newer frame has
authenticated (a forged KID must not make it drop keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .context import Context, Decrypted
from .errors import AuthenticationError, InvalidArgumentError, KeyUsageError, UnknownKidError
from .header import U64_MAX, check_u64, parse_header
from .kdf import hkdf_expand, hkdf_extract
from .suites import CipherSuite

RATCHET_LABEL = b"SFrame 1.0 Ratchet"


def ratchet_step(suite: CipherSuite, base_key: bytes) -> bytes:
    """One ratchet step. The output is Nh bytes, not Nk (SK-01)."""
    return hkdf_expand(suite.hash_name, hkdf_extract(suite.hash_name, b"", bytes(base_key)), RATCHET_LABEL, suite.nh)


# More steps than this are refused (PROTOCOL.md, ratchet_derive): 10^12 would never answer.
MAX_RATCHET_STEPS = 1 << 16


def ratchet_forward(suite: CipherSuite, base_key: bytes, steps: int) -> bytes:
    if not isinstance(steps, int) or isinstance(steps, bool) or not 0 <= steps <= MAX_RATCHET_STEPS:
        raise InvalidArgumentError(f"steps must be an integer 0..{MAX_RATCHET_STEPS}, got {steps!r}")
    for _ in range(steps):
        base_key = ratchet_step(suite, base_key)
    return bytes(base_key)


@dataclass(frozen=True)
class KidLayout:
    """KID = (generation << R) + (step mod 2^R) (SK-02)."""

    generation: int
    ratchet_bits: int

    def __post_init__(self) -> None:
        r = self.ratchet_bits
        if not isinstance(r, int) or isinstance(r, bool) or not 1 <= r <= 63:
            raise InvalidArgumentError(f"ratchet_bits must be 1..63, got {r!r}")
        if check_u64("generation", self.generation) >> (64 - r):
            raise InvalidArgumentError(f"generation {self.generation} << {r} does not fit in 64 bits")

    @property
    def modulus(self) -> int:
        return 1 << self.ratchet_bits

    def kid(self, step: int) -> int:
        return (self.generation << self.ratchet_bits) + step % self.modulus

    def step_bits(self, kid: int) -> int | None:
        """The step field of ``kid``, or None when the KID belongs to another generation."""
        if kid >> self.ratchet_bits != self.generation:
            return None
        return kid % self.modulus


class RatchetSender:
    """One sender's current step: a single send key whose CTR restarts at 0 on each step."""

    def __init__(self, suite: int, base_key: bytes, generation: int, ratchet_bits: int) -> None:
        self.layout = KidLayout(generation, ratchet_bits)
        self.context = Context(suite)
        self.step = 0
        self._base_key = bytes(base_key)
        self.context.add_send_key(self.kid, self._base_key)

    @property
    def kid(self) -> int:
        return self.layout.kid(self.step)

    def advance(self) -> int:
        """Move to the next step; returns its KID."""
        old_kid = self.kid
        self._base_key = ratchet_step(self.context.suite, self._base_key)
        self.step += 1
        self.context.remove_key(old_kid)
        self.context.add_send_key(self.kid, self._base_key)
        return self.kid

    def encrypt(self, kid: int | None, metadata: bytes, plaintext: bytes) -> bytes:
        """Encrypt under the current step (``kid=None``). Naming an old step's KID is NoKeyError."""
        return self.context.encrypt(self.kid if kid is None else kid, metadata, plaintext)

    def decrypt_frame(self, metadata: bytes, ciphertext: bytes) -> Decrypted:
        return self.context.decrypt_frame(metadata, ciphertext)  # its only key is a send key


@dataclass
class _Window:
    newest: int  # c, the newest step that has authenticated
    keys: dict[int, bytes] = field(default_factory=dict)  # step -> base_key, for the kept steps


class RatchetReceiver:
    """Decrypts one sender's frames. With W = 2^(R-1) it keeps steps c-W+1..c (those it has
    seen or derived). A step field not kept is read as c + ((s - c) mod 2^R), ahead of c."""

    def __init__(self, suite: int, base_key: bytes, generation: int, ratchet_bits: int, step: int = 0) -> None:
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise InvalidArgumentError(f"step must be an integer >= 0, got {step!r}")
        self.layout = KidLayout(generation, ratchet_bits)
        self.context = Context(suite)
        self.window_size = 1 << (ratchet_bits - 1)
        self._window = _Window(step, {step: bytes(base_key)})
        self.context.add_recv_key(self.layout.kid(step), base_key)

    @property
    def steps(self) -> list[int]:
        """The kept steps, oldest first."""
        return sorted(self._window.keys)

    def encrypt(self, kid: int | None, metadata: bytes, plaintext: bytes) -> bytes:
        raise KeyUsageError("a ratchet receiver holds only receive keys")

    def _kept(self, bits: int) -> int | None:
        return next((s for s in self._window.keys if s % self.layout.modulus == bits), None)

    def decrypt_frame(self, metadata: bytes, ciphertext: bytes) -> Decrypted:
        header = parse_header(ciphertext)
        bits = self.layout.step_bits(header.kid)
        if bits is None:
            raise UnknownKidError(f"KID {header.kid} is not from generation {self.layout.generation}")
        if self._kept(bits) is not None:
            return Decrypted(header, self.context.open(header, metadata, ciphertext))
        c = self._window.newest
        ahead = (bits - c) % self.layout.modulus
        if ahead > MAX_RATCHET_STEPS or c + ahead > U64_MAX:
            # Only a KID field of more than 16 bits reaches this far: no key we are willing to derive
            # (a forged KID would otherwise cost up to 2^63 HKDF steps) authenticates the frame.
            raise AuthenticationError(f"KID {header.kid} is {ahead} ratchet steps ahead, past the "
                                      f"{MAX_RATCHET_STEPS} this receiver derives")
        target = c + ahead
        chain = {c: self._window.keys[c]}
        for s in range(c + 1, target + 1):
            chain[s] = ratchet_step(self.context.suite, chain[s - 1])
        # Try the candidate key before touching any state: a forged frame must not move the window.
        candidate = Context(self.context.suite.id)
        candidate.add_recv_key(header.kid, chain[target])
        plaintext = candidate.open(header, metadata, ciphertext)
        self._move_to(target, chain)
        return Decrypted(header, plaintext)

    def _move_to(self, target: int, chain: dict[int, bytes]) -> None:
        oldest = target - self.window_size + 1
        for s in [s for s in self._window.keys if s < oldest]:
            del self._window.keys[s]
            self.context.remove_key(self.layout.kid(s))
        for s, key in chain.items():
            if s >= oldest and s not in self._window.keys:
                self._window.keys[s] = key
                self.context.add_recv_key(self.layout.kid(s), key)
        self._window.newest = target
