"""Invalid inputs (``sframe-invalid-input.json``): what an encryptor or decryptor must refuse cleanly.

Rule: these are refusals of the caller's input (an unassigned suite, a value
past u64), so their error class is fixed by PROTOCOL.md and stated here; the
reference must give it.
"""

from __future__ import annotations

from collections.abc import Iterator

from .common import BASE_KEY, METADATA, PLAINTEXT, Group, VectorTest, builder, frame

UNASSIGNED_SUITES = (0, 9, 0xEFFF, 0xF000, 0xFFFF)


@builder
def unknown_suite_encrypts() -> Iterator[VectorTest]:
    for suite in UNASSIGNED_SUITES:
        yield VectorTest(f"gen/encrypt/unknown-suite-{suite}", f"encrypt in unassigned suite {suite:#06x}",
                         ["SUITE-08"], ["UnknownSuite"], "invalid",
                         {"suite": suite, "base_key": BASE_KEY, "kid": 0x123, "ctr": 0, "metadata": METADATA,
                          "plaintext": PLAINTEXT}, errors=["unsupported"])


@builder
def unknown_suite_decrypts() -> Iterator[VectorTest]:
    ciphertext = frame(1, BASE_KEY, 0x123, 0x4567)
    for suite in UNASSIGNED_SUITES:
        yield VectorTest(f"gen/decrypt/unknown-suite-{suite}", f"decrypt in unassigned suite {suite:#06x}",
                         ["SUITE-08"], ["UnknownSuite"], "invalid",
                         {"decrypt_suite": suite, "base_key": BASE_KEY, "kid": 0x123, "metadata": METADATA,
                          "ciphertext": ciphertext}, errors=["unsupported"])


@builder
def values_past_u64() -> Iterator[VectorTest]:
    # kid and ctr stay decimal strings on the wire: they are deliberately out of u64 range.
    for name, kid, ctr in (("kid-2^64", 2**64, 0), ("ctr-2^64", 7, 2**64), ("kid-2^65", 2**65, 0),
                           ("ctr-2^64+5", 7, 2**64 + 5)):
        yield VectorTest(f"gen/encrypt/{name}", f"{name} does not fit in u64: refuse, never truncate", ["HDR-04"],
                         ["ValueOverflow"], "invalid",
                         {"suite": 4, "base_key": BASE_KEY, "kid": kid, "ctr": ctr, "metadata": b"",
                          "plaintext": PLAINTEXT}, errors=["invalid_argument"])


def invalid_input_groups() -> list[Group]:
    return [Group("SFrameEncryptInvalid", None, [*unknown_suite_encrypts(), *values_past_u64()]),
            Group("SFrameDecrypt", None, [*unknown_suite_decrypts()])]
