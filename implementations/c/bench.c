/*
 * bench.c - bench and timing loops (see bench.h).
 *
 * Rules of this module: nothing inside a timed region allocates or parses
 * requests; buffers are sized before the clock starts. The raw AEAD loop
 * uses libcrypto directly, not sframe.c, so it is an independent baseline.
 */
#define _ISOC11_SOURCE
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include "bigendian.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define SF_HAVE_RDTSC 1
#endif

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int sf_bench_mode_parse(const char *name, size_t n, sf_bench_mode *mode)
{
    static const struct {
        const char *name;
        sf_bench_mode mode;
    } MODES[] = {
        {"encrypt", SF_BENCH_ENCRYPT},
        {"decrypt", SF_BENCH_DECRYPT},
        {"encrypt_derive", SF_BENCH_ENCRYPT_DERIVE},
        {"decrypt_derive", SF_BENCH_DECRYPT_DERIVE},
        {"aead", SF_BENCH_AEAD},
    };
    size_t k;
    for (k = 0; k < sizeof(MODES) / sizeof(MODES[0]); k++) {
        if (strlen(MODES[k].name) == n && memcmp(MODES[k].name, name, n) == 0) {
            *mode = MODES[k].mode;
            return 0;
        }
    }
    return -1;
}

static sf_err keep_copy(const uint8_t *p, size_t n, uint8_t **last,
                        size_t *last_len)
{
    *last = malloc(n ? n : 1);
    if (*last == NULL)
        return SF_ERR_INTERNAL;
    if (n)
        memcpy(*last, p, n);
    *last_len = n;
    return SF_OK;
}

/* ---------------- raw AEAD: the physical limit ---------------- */

typedef struct {
    const sf_suite *s;
    EVP_CIPHER *cipher;
    EVP_CIPHER_CTX *ctx;
    EVP_MAC *hmac;
    EVP_MAC_CTX *mac;
} raw_aead;

static void raw_free(raw_aead *r)
{
    EVP_CIPHER_CTX_free(r->ctx);
    EVP_CIPHER_free(r->cipher);
    EVP_MAC_CTX_free(r->mac);
    EVP_MAC_free(r->hmac);
    memset(r, 0, sizeof(*r));
}

/* Keys the cipher (and HMAC) once, as any caller of EVP would. */
static sf_err raw_init(raw_aead *r, const sf_suite *s, const uint8_t *key)
{
    int gcm = s->kind == SF_AEAD_GCM;
    const char *name = gcm ? (s->nk == 32 ? "AES-256-GCM" : "AES-128-GCM")
                           : (s->nka == 32 ? "AES-256-CTR" : "AES-128-CTR");

    memset(r, 0, sizeof(*r));
    r->s = s;
    r->cipher = EVP_CIPHER_fetch(NULL, name, NULL);
    r->ctx = EVP_CIPHER_CTX_new();
    if (r->cipher == NULL || r->ctx == NULL ||
        EVP_EncryptInit_ex(r->ctx, r->cipher, NULL, NULL, NULL) != 1 ||
        (gcm && EVP_CIPHER_CTX_ctrl(r->ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1) ||
        EVP_EncryptInit_ex(r->ctx, NULL, NULL, key, NULL) != 1)
        goto fail;
    if (!gcm) {
        OSSL_PARAM params[2];
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *)s->hash, 0);
        params[1] = OSSL_PARAM_construct_end();
        r->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        r->mac = r->hmac ? EVP_MAC_CTX_new(r->hmac) : NULL;
        if (r->mac == NULL || EVP_MAC_init(r->mac, key + s->nka, s->nh, params) != 1)
            goto fail;
    }
    return SF_OK;
fail:
    raw_free(r);
    return SF_ERR_INTERNAL;
}

/* One seal: out gets pt_len + nt bytes. Inputs are < 2^31 (request bound). */
static int raw_seal(raw_aead *r, const uint8_t nonce[12], const uint8_t *aad,
                    size_t aad_len, const uint8_t *pt, size_t pt_len,
                    uint8_t *out)
{
    const sf_suite *s = r->s;
    int outl = 0;

    if (s->kind == SF_AEAD_GCM) {
        return EVP_EncryptInit_ex(r->ctx, NULL, NULL, NULL, nonce) == 1 &&
               (aad_len == 0 ||
                EVP_EncryptUpdate(r->ctx, NULL, &outl, aad, (int)aad_len) == 1) &&
               (pt_len == 0 ||
                EVP_EncryptUpdate(r->ctx, out, &outl, pt, (int)pt_len) == 1) &&
               EVP_EncryptFinal_ex(r->ctx, out + pt_len, &outl) == 1 &&
               EVP_CIPHER_CTX_ctrl(r->ctx, EVP_CTRL_GCM_GET_TAG, (int)s->nt,
                                   out + pt_len) == 1;
    } else {
        /* RFC 9605 section 4.5.1: AES-CTR, then HMAC over
         * u64(aad_len) u64(ct_len) u64(nt) nonce aad ct, truncated. */
        uint8_t iv[16] = {0}, lens[24], tag[SF_MAX_HASH_LEN];
        size_t k, tag_len = 0;
        uint64_t v[3] = {aad_len, pt_len, s->nt};
        memcpy(iv, nonce, 12);
        for (k = 0; k < 3; k++)
            be_put(lens + 8 * k, v[k], 8);
        if (EVP_EncryptInit_ex(r->ctx, NULL, NULL, NULL, iv) != 1 ||
            (pt_len && EVP_EncryptUpdate(r->ctx, out, &outl, pt, (int)pt_len) != 1) ||
            EVP_MAC_init(r->mac, NULL, 0, NULL) != 1 ||
            EVP_MAC_update(r->mac, lens, 24) != 1 ||
            EVP_MAC_update(r->mac, nonce, 12) != 1 ||
            (aad_len && EVP_MAC_update(r->mac, aad, aad_len) != 1) ||
            (pt_len && EVP_MAC_update(r->mac, out, pt_len) != 1) ||
            EVP_MAC_final(r->mac, tag, &tag_len, sizeof(tag)) != 1 ||
            tag_len != s->nh)
            return 0;
        memcpy(out + pt_len, tag, s->nt);
        return 1;
    }
}

static sf_err bench_aead(const sf_bench_in *in, uint64_t *elapsed,
                         uint8_t **last, size_t *last_len)
{
    raw_aead r;
    uint8_t nonce[12] = {0}, key[SF_MAX_KEY_LEN], salt[SF_NONCE_LEN], *buf;
    uint64_t i, t0;
    size_t out_len = in->pt_len + in->suite->nt;
    sf_err rc;

    /* The key is sframe_key, derived before the clock starts (PROTOCOL.md). */
    rc = sf_derive(in->suite, in->base_key, in->base_len, in->kid, key, salt);
    if (rc == SF_OK)
        rc = raw_init(&r, in->suite, key);
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(salt, sizeof(salt));
    if (rc != SF_OK)
        return rc;
    buf = malloc(out_len);
    if (buf == NULL) {
        raw_free(&r);
        return SF_ERR_INTERNAL;
    }
    t0 = now_ns();
    for (i = 0; i < in->count; i++) {
        be_put(nonce + 4, i, 8); /* nonce i, 12-byte big-endian (the first 4 stay 0) */
        if (!raw_seal(&r, nonce, in->metadata, in->md_len, in->plaintext,
                      in->pt_len, buf)) {
            rc = SF_ERR_INTERNAL;
            break;
        }
    }
    *elapsed = now_ns() - t0;
    raw_free(&r);
    if (rc == SF_OK)
        rc = keep_copy(buf, out_len, last, last_len);
    free(buf);
    return rc;
}

/* ---------------- SFrame loops ---------------- */

/* Keys derived once; frame i sealed at CTR i into one buffer. */
static sf_err bench_encrypt(sf_key *k, const sf_bench_in *in, uint8_t *buf,
                            uint64_t *elapsed, size_t *len)
{
    uint64_t i, t0 = now_ns();
    sf_err rc = SF_OK;

    for (i = 0; i < in->count && rc == SF_OK; i++)
        rc = sf_key_seal(k, i, in->metadata, in->md_len, in->plaintext,
                         in->pt_len, buf, len);
    *elapsed = now_ns() - t0;
    return rc;
}

static sf_err bench_decrypt(sf_key *k, const sf_bench_in *in,
                            const uint8_t *frame, size_t frame_len,
                            uint8_t *out, uint64_t *elapsed, size_t *len)
{
    uint64_t i, t0 = now_ns();
    sf_err rc = SF_OK;

    for (i = 0; i < in->count && rc == SF_OK; i++)
        rc = sf_key_decrypt(k, frame, frame_len, in->metadata, in->md_len,
                            out, len);
    *elapsed = now_ns() - t0;
    return rc;
}

/* The library's base-key API: a key derivation inside every call. */
static sf_err bench_derive(const sf_bench_in *in, int decrypt,
                           const uint8_t *frame, size_t frame_len,
                           uint64_t *elapsed, uint8_t **last, size_t *last_len)
{
    uint64_t i, t0 = now_ns();
    sf_err rc = SF_OK;

    *last = NULL;
    for (i = 0; i < in->count && rc == SF_OK; i++) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        rc = decrypt ? sf_decrypt(in->suite, in->base_key, in->base_len, in->kid,
                                  in->metadata, in->md_len, frame, frame_len,
                                  &out, &out_len)
                     : sf_encrypt(in->suite, in->base_key, in->base_len, in->kid, i,
                                  in->metadata, in->md_len, in->plaintext,
                                  in->pt_len, &out, &out_len);
        free(*last);
        *last = out;
        *last_len = out_len;
    }
    *elapsed = now_ns() - t0;
    if (rc != SF_OK) {
        free(*last);
        *last = NULL;
    }
    return rc;
}

sf_err sf_bench_run(const sf_bench_in *in, sf_bench_mode mode,
                    uint64_t *elapsed_ns, uint8_t **last, size_t *last_len)
{
    size_t cap = SF_MAX_HEADER_LEN + in->pt_len + SF_MAX_TAG_LEN, len = 0;
    uint8_t *frame = NULL, *out = NULL;
    sf_key k;
    sf_err rc;

    *last = NULL;
    *last_len = 0;
    if (mode == SF_BENCH_AEAD)
        return bench_aead(in, elapsed_ns, last, last_len);
    if (mode == SF_BENCH_ENCRYPT_DERIVE)
        return bench_derive(in, 0, NULL, 0, elapsed_ns, last, last_len);
    rc = sf_key_init(&k, in->suite, in->base_key, in->base_len, in->kid);
    if (rc != SF_OK)
        return rc;
    frame = malloc(cap);
    out = malloc(cap);
    if (frame == NULL || out == NULL) {
        rc = SF_ERR_INTERNAL;
    } else if (mode == SF_BENCH_ENCRYPT) {
        rc = bench_encrypt(&k, in, frame, elapsed_ns, &len);
        if (rc == SF_OK)
            rc = keep_copy(frame, len, last, last_len);
    } else {
        size_t frame_len = 0;
        rc = sf_key_seal(&k, 0, in->metadata, in->md_len, in->plaintext,
                         in->pt_len, frame, &frame_len);
        if (rc == SF_OK && mode == SF_BENCH_DECRYPT) {
            rc = bench_decrypt(&k, in, frame, frame_len, out, elapsed_ns, &len);
            if (rc == SF_OK)
                rc = keep_copy(out, len, last, last_len);
        } else if (rc == SF_OK) {
            rc = bench_derive(in, 1, frame, frame_len, elapsed_ns, last, last_len);
        }
    }
    sf_key_clear(&k);
    free(frame);
    if (out)
        OPENSSL_cleanse(out, cap);
    free(out);
    return rc;
}

/* ---------------- timing ---------------- */

#ifdef SF_HAVE_RDTSC
/* lfence on both sides keeps the timed call from overlapping the reads. */
static uint64_t ticks(void)
{
    uint64_t t;
    _mm_lfence();
    t = __rdtsc();
    _mm_lfence();
    return t;
}

const char *sf_timing_clock(void)
{
    return "rdtsc";
}
#else
static uint64_t ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *sf_timing_clock(void)
{
    return "clock_gettime(CLOCK_MONOTONIC_RAW) ns";
}
#endif

sf_err sf_timing_run(const sf_suite *s, const uint8_t *base_key,
                     size_t base_len, uint64_t kid, const uint8_t *metadata,
                     size_t md_len, const uint8_t *frame_a, size_t a_len,
                     const uint8_t *frame_b, size_t b_len,
                     const uint8_t *schedule, size_t samples, uint64_t *out_ticks)
{
    /* Both frames get copies at the same alignment (64 bytes, a cache line):
     * the classes must differ in content only, not in where they sit (the
     * request's buffers put them at different offsets, which alone moved
     * the mean by a few cycles). */
    size_t i, cap = ((a_len > b_len ? a_len : b_len) / 64 + 1) * 64, len = 0;
    uint8_t *out, *fa, *fb;
    sf_key k;
    sf_err rc;

    rc = sf_key_init(&k, s, base_key, base_len, kid);
    if (rc != SF_OK)
        return rc;
    out = aligned_alloc(64, cap);
    fa = aligned_alloc(64, cap);
    fb = aligned_alloc(64, cap);
    if (out == NULL || fa == NULL || fb == NULL) {
        free(out);
        free(fa);
        free(fb);
        sf_key_clear(&k);
        return SF_ERR_INTERNAL;
    }
    memcpy(fa, frame_a, a_len);
    memcpy(fb, frame_b, b_len);
    for (i = 0; i < samples; i++) {
        const uint8_t *f = schedule[i] ? fb : fa;
        size_t n = schedule[i] ? b_len : a_len;
        uint64_t t0 = ticks();
        rc = sf_key_decrypt(&k, f, n, metadata, md_len, out, &len);
        out_ticks[i] = ticks() - t0;
        if (rc == SF_OK) {
            /* Forged frames must fail: a pass means the input was wrong. */
            rc = SF_ERR_INVALID;
            break;
        }
        rc = SF_OK;
    }
    OPENSSL_cleanse(out, cap);
    free(out);
    free(fa);
    free(fb);
    sf_key_clear(&k);
    return rc;
}
