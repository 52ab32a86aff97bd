/*
 * bench.h - measurements inside the implementation (harness/PROTOCOL.md,
 * "Benchmark and timing ops"): SFrame frames in a loop by our own monotonic
 * clock, the raw libcrypto AEAD beside them as the physical limit, and the
 * per-call timing of failing decryptions for the constant-time check.
 */
#ifndef SFRAME_BENCH_H
#define SFRAME_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "sframe.h"

#define SF_BENCH_MAX_COUNT 10000000ull
#define SF_TIMING_MAX_SAMPLES ((size_t)1 << 20)

typedef enum {
    SF_BENCH_ENCRYPT,        /* keys derived once, frame i at CTR i */
    SF_BENCH_DECRYPT,        /* one frame sealed at CTR 0, opened count times */
    SF_BENCH_ENCRYPT_DERIVE, /* sf_encrypt: keys derived for every frame */
    SF_BENCH_DECRYPT_DERIVE, /* sf_decrypt: keys derived for every frame */
    SF_BENCH_AEAD            /* raw EVP AEAD with sframe_key, nonce i, no SFrame code */
} sf_bench_mode;

/* Returns 0 and sets *mode, or -1 for an unknown name. */
int sf_bench_mode_parse(const char *name, size_t n, sf_bench_mode *mode);

typedef struct {
    const sf_suite *suite;
    const uint8_t *base_key; /* SF_BENCH_AEAD too: its sframe_key is the key */
    size_t base_len;
    uint64_t kid;
    const uint8_t *metadata; /* SF_BENCH_AEAD: the AAD */
    size_t md_len;
    const uint8_t *plaintext;
    size_t pt_len;
    uint64_t count; /* 1..SF_BENCH_MAX_COUNT */
} sf_bench_in;

/*
 * Runs the loop. *elapsed_ns is its duration by CLOCK_MONOTONIC; *last (a
 * malloc'd copy) is the last frame's ciphertext (encrypt modes, aead) or
 * plaintext (decrypt modes), so the harness can check the work was done.
 */
sf_err sf_bench_run(const sf_bench_in *in, sf_bench_mode mode,
                    uint64_t *elapsed_ns, uint8_t **last, size_t *last_len);

/* The name of the clock sf_timing_run counts in. */
const char *sf_timing_clock(void);

/*
 * Decrypts frame_a or frame_b (schedule[i] 0 or 1) once per sample with a
 * key derived before the first, and stores each call's duration in ticks.
 * Every call must fail: a frame that authenticates is SF_ERR_INVALID.
 */
sf_err sf_timing_run(const sf_suite *s, const uint8_t *base_key,
                     size_t base_len, uint64_t kid, const uint8_t *metadata,
                     size_t md_len, const uint8_t *frame_a, size_t a_len,
                     const uint8_t *frame_b, size_t b_len,
                     const uint8_t *schedule, size_t samples,
                     uint64_t *ticks);

#endif /* SFRAME_BENCH_H */
