"""MLS-based key management (RFC 9605 §5.2).

Every member of an MLS epoch shares one base_key (the epoch's MLS exporter
output); members are told apart only by their KIDs, whose keys and salts the KDF
derives separately (KDF-06). The KID layout, from the least significant bit up:
E bits of epoch, S bits of sender index, then the rest for a per-sender
``context_id`` (for example one per media stream). Keys are derived on demand,
per KID, and each KID has its own counter.

An epoch is named on the wire by its low E bits only, so installing an epoch
evicts any installed epoch with the same low bits (MLS-03): their KIDs are equal.
"""

from __future__ import annotations

from dataclasses import dataclass

from .context import Context
from .errors import InvalidArgumentError, NoKeyError, UnknownKidError
from .header import check_u64, parse_header


def _check_bits(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 64:
        raise InvalidArgumentError(f"{name} must be an integer in 0..64, got {value!r}")
    return value


@dataclass(frozen=True)
class MlsKidLayout:
    epoch_bits: int  # E
    sender_bits: int  # S

    def __post_init__(self) -> None:
        e, s = _check_bits("epoch_bits", self.epoch_bits), _check_bits("sender_bits", self.sender_bits)
        if e + s > 64:
            raise InvalidArgumentError(f"epoch_bits + sender_bits = {e + s} leaves no room in a 64-bit KID")

    def slot(self, epoch: int) -> int:
        """``epoch mod 2^E``: the only part of the epoch a KID carries."""
        return epoch & ((1 << self.epoch_bits) - 1)

    def kid(self, epoch: int, sender_index: int, context_id: int) -> int:
        e, s = self.epoch_bits, self.sender_bits
        check_u64("epoch", epoch)
        if check_u64("sender_index", sender_index) >> s:
            raise InvalidArgumentError(f"sender_index {sender_index} does not fit in {s} bits")
        if check_u64("context_id", context_id) >> (64 - e - s):
            raise InvalidArgumentError(f"context_id {context_id} pushes the KID past 64 bits (E + S = {e + s})")
        return (context_id << (e + s)) + (sender_index << e) + self.slot(epoch)

    def split(self, kid: int) -> tuple[int, int, int]:
        """(epoch slot, sender_index, context_id) of a KID."""
        e, s = self.epoch_bits, self.sender_bits
        return self.slot(kid), (kid >> e) & ((1 << s) - 1), kid >> (e + s)


@dataclass(frozen=True)
class MlsFrame:
    epoch: int
    sender_index: int
    context_id: int
    ctr: int
    plaintext: bytes


@dataclass
class _Epoch:
    base_key: bytes
    keys: Context  # per-KID keys and counters, derived on first use


class MlsContext:
    """One member's view of an MLS group: the installed epochs and their per-KID keys."""

    def __init__(self, suite: int, epoch_bits: int, sender_bits: int, replay_window: int | None = None) -> None:
        self.layout = MlsKidLayout(epoch_bits, sender_bits)
        self.suite = suite
        self.replay_window = replay_window
        Context(suite, replay_window)  # validates both now, not at the first frame
        self._epochs: dict[int, _Epoch] = {}

    @property
    def epochs(self) -> list[int]:
        return sorted(self._epochs)

    def _evict(self, epoch: int) -> None:
        slot = self.layout.slot(epoch)
        for old in [e for e in self._epochs if self.layout.slot(e) == slot]:
            del self._epochs[old]

    def add_epoch(self, epoch: int, base_key: bytes) -> None:
        check_u64("epoch", epoch)
        self._evict(epoch)
        self._epochs[epoch] = _Epoch(bytes(base_key), Context(self.suite, self.replay_window))

    def remove_epoch(self, epoch: int) -> None:
        if self._epochs.pop(epoch, None) is None:
            raise NoKeyError(f"epoch {epoch} is not installed")

    def _epoch(self, epoch: int) -> _Epoch:
        try:
            return self._epochs[epoch]
        except KeyError:
            raise NoKeyError(f"epoch {epoch} is not installed (never added, removed or evicted)") from None

    def encrypt(self, epoch: int, sender_index: int, context_id: int, metadata: bytes, plaintext: bytes) -> bytes:
        kid = self.layout.kid(epoch, sender_index, context_id)
        installed = self._epoch(epoch)
        if kid not in installed.keys:
            installed.keys.add_send_key(kid, installed.base_key)
        return installed.keys.encrypt(kid, metadata, plaintext)

    def decrypt(self, metadata: bytes, ciphertext: bytes) -> MlsFrame:
        header = parse_header(ciphertext)
        slot, sender_index, context_id = self.layout.split(header.kid)
        epoch = next((e for e in self._epochs if self.layout.slot(e) == slot), None)
        if epoch is None:
            raise UnknownKidError(f"KID {header.kid}: no installed epoch has low bits {slot}")
        keys = self._epochs[epoch].keys
        added = header.kid not in keys
        if added:
            keys.add_recv_key(header.kid, self._epochs[epoch].base_key)
        try:
            plaintext = keys.open(header, metadata, ciphertext)
        except Exception:
            # A frame that fails must leave no trace: a receive key installed for a forged KID
            # would later block this member from sending under that KID.
            if added:
                keys.remove_key(header.kid)
            raise
        return MlsFrame(epoch, sender_index, context_id, header.ctr, plaintext)
