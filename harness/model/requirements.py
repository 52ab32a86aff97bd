"""The requirement catalogue: RFC 9605 requirements the cases trace to.

Ids follow the project's requirement list (HDR, KDF, ENC, DEC, SUITE, KEY, SK,
MLS, REPLAY, TV). Titles are paraphrases, not RFC text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Level(str, Enum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"

    @property
    def rank(self) -> int:
        return {"MUST": 0, "SHOULD": 1, "MAY": 2}[self.value]


@dataclass(frozen=True)
class Requirement:
    id: str
    section: str
    level: Level
    title: str


_M, _S, _Y = Level.MUST, Level.SHOULD, Level.MAY

REQUIREMENTS: dict[str, Requirement] = {
    r.id: r
    for r in (
        Requirement("HDR-01", "4.3", _M, "Config byte X|K|Y|C, then extended KID bytes, then extended CTR bytes"),
        Requirement("HDR-02", "4.3", _M, "Values 0-7 are carried inline in their 3-bit field"),
        Requirement("HDR-03", "4.3", _M, "Values >= 8 use the fewest big-endian bytes (1-8) and length-1 in the field"),
        Requirement("HDR-04", "4.3", _M, "KID and CTR are unsigned 64-bit; the header is 1 to 17 bytes"),
        Requirement("HDR-05", "4.4.4", _M, "The parser returns KID, CTR and the exact header bytes"),
        Requirement("HDR-06", "4.4.4", _M, "Empty input or a header running past the input is discarded cleanly"),
        Requirement("HDR-07", "4.3", _M, "AAD is the header as received: a re-encoded header fails authentication"),
        Requirement("HDR-08", "4.3", _M, "Every config byte value is well-formed when enough bytes follow"),
        Requirement("KDF-01", "4.4.2", _M, "sframe_secret = HKDF-Extract(empty salt, base_key)"),
        Requirement("KDF-02", "4.4.2", _M, "sframe_key = HKDF-Expand(secret, 'SFrame 1.0 Secret key ' | KID | suite, Nk)"),
        Requirement("KDF-03", "4.4.2", _M, "sframe_salt = HKDF-Expand(secret, 'SFrame 1.0 Secret salt ' | KID | suite, Nn)"),
        Requirement("KDF-04", "4.4.2", _M, "The KID enters the label as a full 8-byte big-endian integer"),
        Requirement("KDF-05", "4.4.2", _M, "The suite id is in the label: other suites give unrelated keys"),
        Requirement("KDF-06", "4.4.2", _M, "Different KIDs give different keys under one base_key"),
        Requirement("KDF-07", "4.4.2", _Y, "base_key length is not fixed: 16, 32, 48 and 64 bytes should work"),
        Requirement("ENC-01", "4.2", _M, "Ciphertext = header | AEAD output; length = header + plaintext + Nt"),
        Requirement("ENC-02", "4.4.3", _M, "nonce = sframe_salt XOR CTR as a 12-byte big-endian integer"),
        Requirement("ENC-03", "4.4.3", _M, "AAD = header bytes | metadata; metadata may be empty"),
        Requirement("ENC-04", "4.3", _M, "A (key, KID, CTR) triple encrypts at most once"),
        Requirement("ENC-05", "4.4.1", _S, "An implicit counter starts at 0 and advances after each encryption"),
        Requirement("ENC-06", "4.3", _M, "After CTR 2^64-1 the key refuses to encrypt; it never wraps"),
        Requirement("ENC-07", "4.4.1", _M, "Encrypting with a KID that has no send key fails"),
        Requirement("ENC-08", "4.4.3", _M, "Empty plaintext and empty metadata are valid"),
        Requirement("DEC-01", "4.4.4", _M, "Decrypt: parse, choose key by KID, nonce from CTR, AAD as received"),
        Requirement("DEC-02", "4.4.4", _Y, "Unknown KID: fail (or hold and retry later), never release plaintext"),
        Requirement("DEC-03", "4.4.4", _M, "Any failure discards the frame and returns no plaintext"),
        Requirement("DEC-04", "4.4.4", _S, "Rejection should not be observable (constant time)"),
        Requirement("DEC-05", "4.5.1", _M, "CTR+HMAC: reject input shorter than Nt; verify the tag before decrypting"),
        Requirement("DEC-06", "4.4.1", _M, "Only receive keys decrypt"),
        Requirement("SUITE-01", "4.5", _M, "Suite constants Nh, Nka, Nk, Nn, Nt; tag overhead is Nt"),
        Requirement("SUITE-02", "4.5.1", _M, "AEAD key = enc_key (Nka bytes) | auth_key (Nh bytes)"),
        Requirement("SUITE-03", "4.5.1", _M, "AES-CTR counter block starts at nonce | 00000000"),
        Requirement("SUITE-04", "4.5.1", _M, "Tag = HMAC(auth_key, len(aad) | len(ct) | Nt | nonce | aad | ct)[:Nt]"),
        Requirement("SUITE-05", "4.5.1", _M, "Nt is MAC input: a shorter tag is not a prefix of a longer one"),
        Requirement("SUITE-06", "4.5", _M, "Suites 4 and 5 are AES-GCM with a 12-byte nonce and 16-byte tag"),
        Requirement("SUITE-07", "4.5", _M, "One suite per context: a frame fails in another suite"),
        Requirement("SUITE-08", "8.1", _M, "Unknown suite code points are refused cleanly"),
        Requirement("KEY-02", "4.4.1", _M, "A key is send-only or receive-only, never both"),
        Requirement("SK-01", "5.1", _M, "Ratchet: base_key' = HKDF-Expand(Extract('', base_key), 'SFrame 1.0 Ratchet', Nh)"),
        Requirement("SK-02", "5.1", _M, "Ratchet KID = (generation << R) + (step mod 2^R)"),
        Requirement("SK-03", "5.1", _S, "A receiver derives forward to newer steps and keeps recent ones for reordering"),
        Requirement("SK-04", "5.1", _S, "R bounds the window: a step 2^R or more away is not told apart, and fails"),
        Requirement("MLS-01", "5.2", _M, "base_key = MLS-Exporter('SFrame 1.0 Base Key', '', Nk)"),
        Requirement("MLS-02", "5.2", _M, "MLS KID = context << (S+E) | sender_index << E | epoch mod 2^E"),
        Requirement("MLS-03", "5.2", _M, "A new epoch with the same low E bits evicts the old one"),
        Requirement("MLS-04", "5.2", _M, "Members share a base_key but not keys: a KID rewritten to another member fails"),
        Requirement("MLS-05", "5.2", _S, "A sender's KIDs (one per context_id) each have their own counter from 0"),
        Requirement("MLS-06", "5.2", _S, "At most 2^E epochs are live: epochs with distinct low E bits coexist"),
        Requirement("REPLAY-01", "9.3", _M, "The sender refuses to encrypt twice under one key and nonce"),
        Requirement("REPLAY-02", "9.3", _Y, "Optional receiver replay window"),
        Requirement("REPLAY-03", "9.1", _M, "A restored context continues at its stored next CTR, never below"),
        Requirement("TV-01", "C.1", _M, "Official header vectors: encode and decode"),
        Requirement("TV-02", "C.2", _M, "Official AES-CTR+HMAC AEAD vectors"),
        Requirement("TV-03", "C.3", _M, "Official SFrame encryption vectors"),
    )
}


def strongest_level(requirement_ids: list[str] | tuple[str, ...]) -> Level:
    levels = [REQUIREMENTS[r].level for r in requirement_ids if r in REQUIREMENTS]
    return min(levels, key=lambda lv: lv.rank) if levels else Level.MUST
