/*
 * request.c - field decoding from a table (see request.h).
 */
#include "request.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bench.h"
#include "sfctx.h"

typedef enum { K_SUITE, K_CTX, K_U64, K_BYTES, K_INT, K_STR } arg_kind;

static const struct {
    const char *name;
    arg_kind kind;
    long long min, max; /* K_INT */
} ARGS[A_N] = {
    [A_SUITE] = {"suite", K_SUITE, 0, 0},
    [A_CTX] = {"ctx", K_CTX, 0, 0},
    [A_KID] = {"kid", K_U64, 0, 0},
    [A_CTR] = {"ctr", K_U64, 0, 0},
    [A_NEXT_CTR] = {"next_ctr", K_U64, 0, 0},
    [A_GENERATION] = {"generation", K_U64, 0, 0},
    [A_EPOCH] = {"epoch", K_U64, 0, 0},
    [A_SENDER_INDEX] = {"sender_index", K_U64, 0, 0},
    [A_CONTEXT_ID] = {"context_id", K_U64, 0, 0},
    [A_BASE_KEY] = {"base_key", K_BYTES, 0, 0},
    [A_METADATA] = {"metadata", K_BYTES, 0, 0},
    [A_PLAINTEXT] = {"plaintext", K_BYTES, 0, 0},
    [A_CIPHERTEXT] = {"ciphertext", K_BYTES, 0, 0},
    [A_DATA] = {"data", K_BYTES, 0, 0},
    [A_KEY] = {"key", K_BYTES, 0, 0},
    [A_NONCE] = {"nonce", K_BYTES, 0, 0},
    [A_AAD] = {"aad", K_BYTES, 0, 0},
    [A_EPOCH_SECRET] = {"epoch_secret", K_BYTES, 0, 0},
    [A_CIPHERTEXT_A] = {"ciphertext_a", K_BYTES, 0, 0},
    [A_CIPHERTEXT_B] = {"ciphertext_b", K_BYTES, 0, 0},
    [A_SCHEDULE] = {"schedule", K_BYTES, 0, 0},
    [A_STEPS] = {"steps", K_INT, 0, SF_RATCHET_MAX_DERIVE},
    [A_RATCHET_BITS] = {"ratchet_bits", K_INT, 1, 63},
    [A_STEP] = {"step", K_INT, 0, LLONG_MAX},
    [A_EPOCH_BITS] = {"epoch_bits", K_INT, 0, 64},
    [A_SENDER_BITS] = {"sender_bits", K_INT, 0, 64},
    [A_REPLAY_WINDOW] = {"replay_window", K_INT, 1, SF_MAX_REPLAY_WINDOW},
    [A_COUNT] = {"count", K_INT, 1, (long long)SF_BENCH_MAX_COUNT},
    [A_USAGE] = {"usage", K_STR, 0, 0},
    [A_MODE] = {"mode", K_STR, 0, 0},
};

int set_err(req_err *e, const char *cls, const char *msg)
{
    e->cls = cls;
    e->msg = msg;
    return 0;
}

int set_sf_err(req_err *e, sf_err rc)
{
    const char *msg = "error";
    switch (rc) {
    case SF_ERR_MALFORMED: msg = "malformed ciphertext or header"; break;
    case SF_ERR_AUTH: msg = "tag mismatch"; break;
    case SF_ERR_UNKNOWN_KID: msg = "no key for the header KID"; break;
    case SF_ERR_UNSUPPORTED: msg = "unsupported cipher suite"; break;
    case SF_ERR_INVALID: msg = "invalid argument"; break;
    case SF_ERR_INTERNAL: msg = "internal error"; break;
    case SF_ERR_KEY_USAGE: msg = "key used against its usage"; break;
    case SF_ERR_COUNTER: msg = "counter exhausted: CTR 2^64-1 was used"; break;
    case SF_ERR_REPLAY: msg = "replayed or too old CTR"; break;
    case SF_OK: msg = "ok"; break;
    }
    return set_err(e, sf_err_class(rc), msg);
}

/* Decimal digits only, non-empty, value < 2^64 (also the ctx number). */
static int parse_dec(const uint8_t *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t k;

    if (n == 0)
        return 0;
    for (k = 0; k < n; k++) {
        unsigned d;
        if (s[k] < '0' || s[k] > '9')
            return 0;
        d = (unsigned)(s[k] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static int get_u64(const wfield *f, uint64_t *out, req_err *e)
{
    if (f->type == WF_U64) {
        *out = f->u;
        return 1;
    }
    if (f->type != WF_STRING)
        return set_err(e, "invalid_argument", "a u64 field must be a decimal string");
    if (!parse_dec(f->p, f->n, out))
        return set_err(e, "invalid_argument", "a u64 field is not a decimal below 2^64");
    return 1;
}

static int get_bytes(const wfield *f, arg_bytes *out, req_err *e)
{
    static const uint8_t empty[1] = {0};
    size_t k, n;

    if (f->type == WF_BYTES) {
        out->p = f->n ? f->p : empty;
        out->n = f->n;
        return 1;
    }
    if (f->type != WF_STRING)
        return set_err(e, "invalid_argument", "a binary field must be hex or bytes");
    if (f->n % 2 != 0)
        return set_err(e, "invalid_argument", "odd-length hex");
    n = f->n / 2;
    out->owned = malloc(n ? n : 1);
    if (out->owned == NULL)
        return set_err(e, "internal", "out of memory");
    out->p = out->owned;
    out->n = n;
    for (k = 0; k < n; k++) {
        int hi = json_hexval((char)f->p[2 * k]), lo = json_hexval((char)f->p[2 * k + 1]);
        if (hi < 0 || lo < 0)
            return set_err(e, "invalid_argument", "bad hex digit");
        out->owned[k] = (uint8_t)((hi << 4) | lo);
    }
    return 1;
}

static int get_suite(const wfield *f, const sf_suite **out, req_err *e)
{
    if (f->type == WF_NUMBER) {
        /* Fraction/exponent: a bad argument; an integer literal out of
         * range: no such suite. */
        size_t k;
        for (k = 0; k < f->n; k++) {
            if (f->p[k] == '.' || f->p[k] == 'e' || f->p[k] == 'E')
                return set_err(e, "invalid_argument", "suite must be an integer");
        }
        return set_err(e, "unsupported", "unsupported cipher suite");
    }
    if (f->type != WF_INT)
        return set_err(e, "invalid_argument", "suite must be an integer");
    *out = sf_suite_get(f->i);
    if (*out == NULL)
        return set_err(e, "unsupported", "unsupported cipher suite");
    return 1;
}

static int get_int(const wfield *f, arg_id id, long long *out, req_err *e)
{
    if (f->type != WF_INT)
        return set_err(e, "invalid_argument", "field must be an integer");
    if (f->i < ARGS[id].min || f->i > ARGS[id].max)
        return set_err(e, "invalid_argument", "integer field out of range");
    *out = f->i;
    return 1;
}

/* The "ctx" field: "c" then a decimal id. */
static int get_ctx(const wfield *f, uint64_t *id, req_err *e)
{
    if (f->type != WF_STRING || f->n < 2 || f->n > 21 || f->p[0] != 'c' ||
        !parse_dec(f->p + 1, f->n - 1, id))
        return set_err(e, "invalid_argument", "unknown ctx");
    return 1;
}

static int decode_one(const wfield *f, arg_id id, args *a, req_err *e)
{
    switch (ARGS[id].kind) {
    case K_SUITE: return get_suite(f, &a->suite, e);
    case K_CTX: return get_ctx(f, &a->ctx_id, e);
    case K_U64: return get_u64(f, &a->u[id], e);
    case K_BYTES: return get_bytes(f, &a->b[id], e);
    case K_INT: return get_int(f, id, &a->i[id], e);
    case K_STR:
        if (f->type != WF_STRING)
            return set_err(e, "invalid_argument", "field must be a string");
        a->s[id] = (const char *)f->p;
        a->s_len[id] = f->n;
        return 1;
    }
    return set_err(e, "internal", "unknown field kind");
}

int request_decode(const wmsg *m, uint64_t need, uint64_t opt, args *a,
                   req_err *e)
{
    int id;

    memset(a, 0, sizeof(*a));
    for (id = 0; id < A_N; id++) {
        const wfield *f;
        if (!((need | opt) & ARG(id)))
            continue;
        f = wmsg_get(m, ARGS[id].name);
        if (f == NULL || f->type == WF_NULL) {
            if (need & ARG(id))
                return set_err(e, "invalid_argument", "missing field");
            continue;
        }
        if (!decode_one(f, (arg_id)id, a, e))
            return 0;
        a->present |= ARG(id);
    }
    return 1;
}

void request_free(args *a)
{
    int id;
    for (id = 0; id < A_N; id++) {
        if (a->b[id].owned) {
            OPENSSL_cleanse(a->b[id].owned, a->b[id].n);
            free(a->b[id].owned);
        }
    }
    memset(a, 0, sizeof(*a));
}
