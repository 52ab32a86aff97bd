"""An SFrame context (RFC 9605 §4.4.1): send and receive keys, and managed counters.

Rules this module enforces:
- A KID is either send-only or receive-only, never both (KEY-02).
- A send key's CTR starts at its ``next_ctr`` (0 by default), advances only after a
  successful encryption, and once 2^64-1 has been used the key refuses to encrypt:
  it never wraps (ENC-06).
- Decryption only uses receive keys (DEC-06).
- With ``replay_window``, each receive key has a replay window (REPLAY-02) that
  moves only once a frame has authenticated.

The sender-key ratchet (``ratchet.py``) and MLS epochs (``mls.py``) build on this
class: they install and remove keys, and call ``open`` with a header they have
already parsed to choose the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .errors import CounterExhaustedError, InvalidArgumentError, KeyUsageError, NoKeyError, UnknownKidError
from .frame import FrameKey
from .header import U64_MAX, Header, check_u64, parse_header
from .replay import ReplayWindow
from .suites import get_suite


def next_counter(ctr: int) -> int | None:
    """The CTR after ``ctr``, or None once 2^64-1 has been used: the counter never wraps."""
    return None if ctr == U64_MAX else ctr + 1


@dataclass
class SendKey:
    key: FrameKey
    next_ctr: int | None  # None once CTR 2^64-1 has been used


@dataclass
class RecvKey:
    key: FrameKey
    window: ReplayWindow | None


@dataclass(frozen=True)
class Decrypted:
    header: Header
    plaintext: bytes


class KeyContext(Protocol):
    """What ``Context``, ``RatchetSender`` and ``RatchetReceiver`` share: encrypt under a
    KID and decrypt a received frame. ``kid=None`` means the context's current send KID
    (a ratchet sender's step); a plain ``Context`` has none and refuses it."""

    def encrypt(self, kid: int | None, metadata: bytes, plaintext: bytes) -> bytes: ...

    def decrypt_frame(self, metadata: bytes, ciphertext: bytes) -> Decrypted: ...


class Context:
    def __init__(self, suite: int, replay_window: int | None = None) -> None:
        self.suite = get_suite(suite)
        if replay_window is not None:
            ReplayWindow(replay_window)  # validate now, not at the first frame
        self.replay_window = replay_window
        self._send: dict[int, SendKey] = {}
        self._recv: dict[int, RecvKey] = {}

    def __contains__(self, kid: object) -> bool:
        return kid in self._send or kid in self._recv

    def _check_free(self, kid: int) -> None:
        if kid in self:
            usage = "send" if kid in self._send else "receive"
            raise KeyUsageError(f"KID {kid} already holds a {usage} key; a key is send-only or receive-only")

    def add_send_key(self, kid: int, base_key: bytes, next_ctr: int = 0) -> None:
        self._check_free(check_u64("kid", kid))
        self._send[kid] = SendKey(FrameKey.derive(self.suite, base_key, kid), check_u64("next_ctr", next_ctr))

    def add_recv_key(self, kid: int, base_key: bytes) -> None:
        self._check_free(check_u64("kid", kid))
        window = ReplayWindow(self.replay_window) if self.replay_window is not None else None
        self._recv[kid] = RecvKey(FrameKey.derive(self.suite, base_key, kid), window)

    def remove_key(self, kid: int) -> None:
        if self._send.pop(kid, None) is None and self._recv.pop(kid, None) is None:
            raise NoKeyError(f"no key for KID {kid}")

    def next_ctr(self, kid: int) -> int | None:
        return self._send_key(kid).next_ctr

    def _send_key(self, kid: int) -> SendKey:
        if kid in self._recv:
            raise KeyUsageError(f"KID {kid} is a receive-only key")
        try:
            return self._send[kid]
        except KeyError:
            raise NoKeyError(f"no send key for KID {kid}") from None

    def encrypt(self, kid: int | None, metadata: bytes, plaintext: bytes) -> bytes:
        if kid is None:
            raise InvalidArgumentError("a context has no current KID: name the send key's KID")
        send = self._send_key(kid)
        ctr = send.next_ctr
        if ctr is None:
            raise CounterExhaustedError(f"KID {kid} has used CTR 2^64-1; rekey or use a new KID")
        ciphertext = send.key.seal(ctr, metadata, plaintext)
        send.next_ctr = next_counter(ctr)
        return ciphertext

    def open(self, header: Header, metadata: bytes, ciphertext: bytes) -> bytes:
        """Decrypt ``ciphertext`` whose header the caller has parsed as ``header``."""
        if header.kid in self._send:
            raise KeyUsageError(f"KID {header.kid} is a send-only key")
        try:
            recv = self._recv[header.kid]
        except KeyError:
            raise UnknownKidError(f"no receive key for KID {header.kid}") from None
        if recv.window is not None:
            recv.window.check(header.ctr)
        plaintext = recv.key.open(header, metadata, ciphertext)
        if recv.window is not None:
            recv.window.accept(header.ctr)
        return plaintext

    def decrypt_frame(self, metadata: bytes, ciphertext: bytes) -> Decrypted:
        header = parse_header(ciphertext)
        return Decrypted(header, self.open(header, metadata, ciphertext))

    def decrypt(self, metadata: bytes, ciphertext: bytes) -> bytes:
        return self.decrypt_frame(metadata, ciphertext).plaintext
