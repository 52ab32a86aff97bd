"""The Python implementation's ``bench`` and ``timing`` ops (PROTOCOL.md, "Benchmark and timing ops").

Rules of this module:
- Each op is sframe_py's own loop, timed by this process's clock
  (``time.perf_counter_ns``), so a figure is the library's, not the pipe's.
- Keys are derived before the clock starts, except in the ``*_derive`` modes, whose
  point is to derive per frame.
- ``aead`` is the physical limit: cryptography's AES-GCM with no SFrame code at all.
  The AES-CTR+HMAC suites have no such primitive in cryptography, and PROTOCOL.md
  lets them answer ``unsupported``.
- A ``timing`` sample is one call of the normal decrypt path (``FrameKey.decrypt``);
  a frame that decrypts is refused, since the op measures rejections.
"""

from __future__ import annotations

import sys
import time
from array import array
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import sframe_py
from sframe_py import AeadKind, FrameKey, InvalidArgumentError, SFrameError, UnsupportedSuiteError, get_suite

Fields = dict[str, Any]

MAX_COUNT = 10**7
MAX_SAMPLES = 1 << 20
CAPABILITIES = ("bench", "timing")
BENCH_MODES = ("encrypt", "decrypt", "encrypt_derive", "decrypt_derive", "aead")
CLOCK = "time.perf_counter_ns ns"


def _int_in(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidArgumentError(f"{name} must be an integer in {low}..{high}, got {value!r:.40}")
    return value


def bench(suite_id: int, base_key: bytes, kid: int, metadata: bytes, plaintext: bytes, count: object,
          mode: object) -> Fields:
    # One explicit loop per mode, no helper: a call per frame would add the same cost to
    # every mode and flatter the ratios to ``aead``.
    suite = get_suite(suite_id)
    n = _int_in("count", count, 1, MAX_COUNT)
    clock = time.perf_counter_ns
    out = b""
    if mode == "encrypt":
        seal = FrameKey.derive(suite, base_key, kid).seal
        start = clock()
        for ctr in range(n):
            out = seal(ctr, metadata, plaintext)
    elif mode == "decrypt":
        key = FrameKey.derive(suite, base_key, kid)
        frame, decrypt = key.seal(0, metadata, plaintext), key.decrypt
        start = clock()
        for _ in range(n):
            out = decrypt(metadata, frame)
    elif mode == "encrypt_derive":
        start = clock()
        for ctr in range(n):
            out = sframe_py.encrypt(suite_id, base_key, kid, ctr, metadata, plaintext)
    elif mode == "decrypt_derive":
        frame = sframe_py.encrypt(suite_id, base_key, kid, 0, metadata, plaintext)
        start = clock()
        for _ in range(n):
            out = sframe_py.decrypt(suite_id, base_key, kid, metadata, frame)
    elif mode == "aead":
        if suite.aead is not AeadKind.AES_GCM:
            raise UnsupportedSuiteError(f"no raw AEAD for {suite.name} in cryptography (AES-CTR+HMAC is SFrame's own)")
        encrypt, nn = AESGCM(sframe_py.derive_key_salt(suite, base_key, kid).sframe_key).encrypt, suite.nn
        start = clock()
        for i in range(n):
            out = encrypt(i.to_bytes(nn), plaintext, metadata)
    else:
        raise InvalidArgumentError(f"mode must be one of {', '.join(BENCH_MODES)}, got {mode!r:.40}")
    elapsed = clock() - start
    return {"elapsed_ns": elapsed, "count": n, ("plaintext" if mode in ("decrypt", "decrypt_derive") else "ciphertext"): out}


def timing(suite_id: int, base_key: bytes, kid: int, metadata: bytes, ciphertext_a: bytes, ciphertext_b: bytes,
           schedule: bytes) -> Fields:
    if not isinstance(schedule, bytes) or not 1 <= len(schedule) <= MAX_SAMPLES:
        raise InvalidArgumentError(f"schedule must be 1..{MAX_SAMPLES} bytes")
    if schedule.translate(None, b"\x00\x01"):
        raise InvalidArgumentError("schedule bytes must be 0 (ciphertext_a) or 1 (ciphertext_b)")
    decrypt = FrameKey.derive(get_suite(suite_id), base_key, kid).decrypt
    frames = (bytes(ciphertext_a), bytes(ciphertext_b))
    timings = array("Q", bytes(8 * len(schedule)))
    clock = time.perf_counter_ns
    for i, which in enumerate(schedule):
        frame = frames[which]
        start = clock()
        try:
            decrypt(metadata, frame)
        except SFrameError:
            timings[i] = clock() - start
        else:
            raise InvalidArgumentError(f"ciphertext_{'ab'[which]} decrypted: timing measures forged frames")
    if sys.byteorder == "little":
        timings.byteswap()  # the wire wants big-endian
    return {"timings": timings.tobytes(), "clock": CLOCK}
