"""An SFrame context (RFC 9605 §4.4.1): send and receive keys, and managed counters.

Rules this module enforces:
- A KID is either send-only or receive-only, never both (KEY-02).
- A send key's CTR starts at its ``next_ctr`` (0 by default), advances only after a
  successful encryption, and once 2^64-1 has been used the key refuses to encrypt:
  it never wraps (ENC-06).
- Decryption only uses receive keys (DEC-06).

Room is left for later key schedules: the sender-key ratchet and MLS epochs
install and evict receive keys through ``add_recv_key``/``remove_key``, and a
replay window can wrap ``decrypt``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import CounterExhaustedError, KeyUsageError, UnknownKidError
from .frame import FrameKey
from .header import U64_MAX, check_u64, parse_header
from .suites import get_suite


@dataclass
class SendKey:
    key: FrameKey
    next_ctr: int | None  # None once CTR 2^64-1 has been used


class Context:
    def __init__(self, suite: int) -> None:
        self.suite = get_suite(suite)
        self._send: dict[int, SendKey] = {}
        self._recv: dict[int, FrameKey] = {}

    def _check_free(self, kid: int) -> None:
        if kid in self._send or kid in self._recv:
            usage = "send" if kid in self._send else "receive"
            raise KeyUsageError(f"KID {kid} already holds a {usage} key; a key is send-only or receive-only")

    def add_send_key(self, kid: int, base_key: bytes, next_ctr: int = 0) -> None:
        self._check_free(check_u64("kid", kid))
        self._send[kid] = SendKey(FrameKey.derive(self.suite, base_key, kid), check_u64("next_ctr", next_ctr))

    def add_recv_key(self, kid: int, base_key: bytes) -> None:
        self._check_free(check_u64("kid", kid))
        self._recv[kid] = FrameKey.derive(self.suite, base_key, kid)

    def remove_key(self, kid: int) -> None:
        if self._send.pop(kid, None) is None and self._recv.pop(kid, None) is None:
            raise UnknownKidError(f"no key for KID {kid}")

    def next_ctr(self, kid: int) -> int | None:
        return self._send_key(kid).next_ctr

    def _send_key(self, kid: int) -> SendKey:
        if kid in self._recv:
            raise KeyUsageError(f"KID {kid} is a receive-only key")
        try:
            return self._send[kid]
        except KeyError:
            raise UnknownKidError(f"no send key for KID {kid}") from None

    def encrypt(self, kid: int, metadata: bytes, plaintext: bytes) -> bytes:
        send = self._send_key(kid)
        ctr = send.next_ctr
        if ctr is None:
            raise CounterExhaustedError(f"KID {kid} has used CTR 2^64-1; rekey or use a new KID")
        ciphertext = send.key.seal(ctr, metadata, plaintext)
        send.next_ctr = None if ctr == U64_MAX else ctr + 1
        return ciphertext

    def decrypt(self, metadata: bytes, ciphertext: bytes) -> bytes:
        header = parse_header(ciphertext)
        if header.kid in self._send:
            raise KeyUsageError(f"KID {header.kid} is a send-only key")
        try:
            key = self._recv[header.kid]
        except KeyError:
            raise UnknownKidError(f"no receive key for KID {header.kid}") from None
        return key.open(header, metadata, ciphertext)
