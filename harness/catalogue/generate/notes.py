"""The flags of the generated vectors: the bug class each one names (Wycheproof's ``notes``).

Rule: every flag a builder uses is defined here, once; a vector file carries the
notes of the flags it uses. ``bugType`` is Wycheproof's vocabulary, the
description says what a failing implementation gets wrong.
"""

from __future__ import annotations

NOTES: dict[str, dict[str, str]] = {
    "CtrTruncation": {"bugType": "EDGE_CASE", "description": "CTR >= 2^32: catches CTR truncated to 16 or 32 bits in the nonce or header."},
    "KidTruncation": {"bugType": "EDGE_CASE", "description": "KID >= 2^32: catches KID truncated in the header or in the KDF label."},
    "SignedInt64": {"bugType": "EDGE_CASE", "description": "Values around 2^63: catches signed 64-bit arithmetic."},
    "InlineBoundary": {"bugType": "EDGE_CASE", "description": "Values 0 to 8: the inline/extended boundary of the header fields."},
    "MaxValue": {"bugType": "EDGE_CASE", "description": "KID or CTR = 2^64-1, the largest encodable value."},
    "EmptyInput": {"bugType": "EDGE_CASE", "description": "Empty plaintext or metadata."},
    "BlockBoundary": {"bugType": "EDGE_CASE", "description": "Plaintext lengths around the 16-byte AES block."},
    "LargeFrame": {"bugType": "EDGE_CASE", "description": "A 64 KiB frame, larger than one video packet."},
    "BaseKeyLength": {"bugType": "EDGE_CASE", "description": "base_key lengths other than 16 bytes: the RFC fixes none, so refusing a length that is neither 16 nor the suite's Nk is an implementation limit, not a failure."},
    "HeaderBitFlip": {"bugType": "AUTH_BYPASS", "description": "A bit flip in the config byte must not decrypt."},
    "KidBitFlip": {"bugType": "AUTH_BYPASS", "description": "A bit flip in the KID bytes must not decrypt."},
    "CtrBitFlip": {"bugType": "AUTH_BYPASS", "description": "A bit flip in the CTR bytes must not decrypt."},
    "BodyBitFlip": {"bugType": "AUTH_BYPASS", "description": "A bit flip in the encrypted body must not decrypt."},
    "TagBitFlip": {"bugType": "AUTH_BYPASS", "description": "A bit flip in the tag must not decrypt (tag compared at all, and in full)."},
    "Truncation": {"bugType": "MALFORMED_INPUT", "description": "Input cut at a boundary: must be rejected without a crash or partial plaintext."},
    "ExtraByte": {"bugType": "AUTH_BYPASS", "description": "One byte appended: the tag position moves, so it must fail."},
    "MetadataNotAuthenticated": {"bugType": "AUTH_BYPASS", "description": "Metadata changed, dropped or added: it is part of the AAD."},
    "WrongSuite": {"bugType": "CONFUSION", "description": "A frame decrypted in another suite must fail (suite is in the KDF label)."},
    "TagTruncationDowngrade": {"bugType": "CONFUSION", "description": "A tag cut to a shorter suite's length must fail: Nt is MAC input."},
    "UnknownKid": {"bugType": "KEY_LOOKUP", "description": "A KID with no key must fail without releasing plaintext."},
    "KidNotInKdf": {"bugType": "CONFUSION", "description": "A frame moved to another KID under the same base_key must fail."},
    "NonMinimalHeader": {"bugType": "AAD_RECONSTRUCTION", "description": "A re-encoded header must fail: the AAD is the header as received, not a re-encoding."},
    "FieldSwap": {"bugType": "FORMAT", "description": "KID and CTR fields swapped."},
    "ForgedTag": {"bugType": "AUTH_BYPASS", "description": "A header followed by Nt random or zero bytes must not decrypt."},
    "TruncatedHeader": {"bugType": "MALFORMED_INPUT", "description": "A header whose config byte announces more bytes than present."},
    "UnknownSuite": {"bugType": "MISSING_CHECK", "description": "An unassigned suite code point must be refused cleanly, not crash."},
    "ValueOverflow": {"bugType": "EDGE_CASE", "description": "A KID or CTR of 2^64 or more must be refused, not truncated or wrapped."},
    "AllConfigBytes": {"bugType": "FORMAT", "description": "Every config byte value is well-formed with enough bytes."},
    "CounterAdvance": {"bugType": "NONCE_REUSE", "description": "The managed counter starts at 0 (or next_ctr) and moves by one per successful encryption, per KID."},
    "CounterExhaustion": {"bugType": "NONCE_REUSE", "description": "CTR 2^64-1 is a key's last: once it is used, or refused (RFC 9605 does not oblige a sender to use it), every later encryption must fail; the counter never wraps."},
    "KeyUsage": {"bugType": "KEY_LOOKUP", "description": "A KID holds one key, send-only or receive-only, used only in its direction."},
    "RatchetChain": {"bugType": "KDF", "description": "Ratchet known answers: HKDF with 'SFrame 1.0 Ratchet', output Nh bytes."},
    "RatchetKidLayout": {"bugType": "FORMAT", "description": "Ratchet KID = (generation << R) + (step mod 2^R)."},
    "RatchetWindow": {"bugType": "KEY_LOOKUP", "description": "Ratchet receiver window: reordered steps decrypt, steps past the window fail."},
    "MlsKidLayout": {"bugType": "FORMAT", "description": "MLS KID = (context_id << (S+E)) + (sender_index << E) + (epoch mod 2^E), RFC 9605 figure values included."},
    "EpochEviction": {"bugType": "KEY_LOOKUP", "description": "A new epoch with the same low E bits evicts the old one (MUST): its keys are gone."},
    "KidRewrite": {"bugType": "CONFUSION", "description": "A member's frame with its KID rewritten to another member, context or epoch must not decrypt."},
    "FieldOverflow": {"bugType": "EDGE_CASE", "description": "A sender index, context id, generation or bit width that does not fit its KID field must be refused, never truncated."},
    "LargeGroup": {"bugType": "EDGE_CASE", "description": "KID layouts for audiences beyond conference size: S up to 24 bits, E up to 8, KIDs using all 64 bits."},
    "ReplayWindow": {"bugType": "REPLAY", "description": "Optional receiver replay window: duplicates and too-old CTRs are rejected, in-window reordering is accepted."},
    "ForgedFrame": {"bugType": "STATE_CORRUPTION", "description": "A frame that fails authentication must not change receiver state (replay window, ratchet step)."},
}
