/*
 * server.c - stdio protocol server (harness/PROTOCOL.md, version 1).
 *
 * Rules of this file: every op is one row of OPS, which names the fields it
 * needs and may take; the dispatcher decodes them (request.c), runs the
 * handler, writes the answer (wire.c) and frees the fields, so a handler is
 * only the call into the library and the fields of its answer. Requests are
 * answered in order; answers are flushed whenever no further request is
 * already waiting in the input (the protocol's "after each batch").
 */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bench.h"
#include "bigendian.h"
#include "json.h"
#include "request.h"
#include "sfctx.h"
#include "sframe.h"
#include "wire.h"

#define SERVER_VERSION "0.2.0"
#ifdef SF_PLANTED_TAG_LEAK
#define SERVER_NAME "sframe-c-planted-leak" /* never mistaken for the real one */
#else
#define SERVER_NAME "sframe-c"
#endif

static int g_binary;      /* binary-v1 in force */
static int g_binary_next; /* hello negotiated it: switch after answering */

/* ---------------- context handles ---------------- */

/*
 * Live contexts, named "c<n>" with n = 1, 2, ... never reused. Ids only
 * grow, so the table stays sorted by id and lookup is a binary search.
 */
typedef struct {
    uint64_t id;
    sf_ctx *ctx;
} handle;

static handle *g_handles;
static size_t g_nhandles, g_handles_cap;
static uint64_t g_next_id = 1;

static int handle_add(sf_ctx *c, uint64_t *id, req_err *e)
{
    if (g_nhandles == g_handles_cap) {
        size_t ncap = g_handles_cap ? g_handles_cap * 2 : 64;
        handle *nv = realloc(g_handles, ncap * sizeof(*nv));
        if (nv == NULL) {
            sf_ctx_free(c);
            return set_err(e, "internal", "out of memory");
        }
        g_handles = nv;
        g_handles_cap = ncap;
    }
    g_handles[g_nhandles].id = g_next_id;
    g_handles[g_nhandles].ctx = c;
    g_nhandles++;
    *id = g_next_id++;
    return 1;
}

/* Index of id in g_handles, or g_nhandles if absent. */
static size_t handle_index(uint64_t id)
{
    size_t lo = 0, hi = g_nhandles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g_handles[mid].id == id)
            return mid;
        if (g_handles[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return g_nhandles;
}

static void handles_free_all(void)
{
    size_t k;
    for (k = 0; k < g_nhandles; k++)
        sf_ctx_free(g_handles[k].ctx);
    free(g_handles);
    g_handles = NULL;
    g_nhandles = g_handles_cap = 0;
}

/* ---------------- stateless key cache ---------------- */

/*
 * The stateless ops name base_key and kid in every request, and catalogues
 * and fuzzers repeat the same few. Deriving is deterministic, so the server
 * keeps the last few prepared keys (wiped on eviction and at exit).
 */
#define KEY_CACHE_SLOTS 16
#define KEY_CACHE_MAX_BASE 64

static struct {
    int used;
    uint8_t base[KEY_CACHE_MAX_BASE];
    size_t base_len;
    sf_key key; /* key.suite, key.kid name the entry */
} g_keys[KEY_CACHE_SLOTS];
static size_t g_keys_next;

/* A prepared key for (suite, base_key, kid): cached, or in *tmp (the caller
 * clears *tmp if the returned pointer is tmp). */
static sf_err stateless_key(const args *a, sf_key *tmp, sf_key **out)
{
    const arg_bytes *base = &a->b[A_BASE_KEY];
    uint64_t kid = a->u[A_KID];
    size_t k;
    sf_err rc;

    for (k = 0; k < KEY_CACHE_SLOTS; k++) {
        if (g_keys[k].used && g_keys[k].key.suite == a->suite &&
            g_keys[k].key.kid == kid && g_keys[k].base_len == base->n &&
            CRYPTO_memcmp(g_keys[k].base, base->p, base->n) == 0) {
            *out = &g_keys[k].key;
            return SF_OK;
        }
    }
    if (base->n > KEY_CACHE_MAX_BASE) {
        *out = tmp;
        return sf_key_init(tmp, a->suite, base->p, base->n, kid);
    }
    k = g_keys_next;
    g_keys_next = (g_keys_next + 1) % KEY_CACHE_SLOTS;
    if (g_keys[k].used)
        sf_key_clear(&g_keys[k].key);
    g_keys[k].used = 0;
    rc = sf_key_init(&g_keys[k].key, a->suite, base->p, base->n, kid);
    if (rc != SF_OK)
        return rc;
    memcpy(g_keys[k].base, base->p, base->n);
    g_keys[k].base_len = base->n;
    g_keys[k].used = 1;
    *out = &g_keys[k].key;
    return SF_OK;
}

static void keys_free_all(void)
{
    size_t k;
    for (k = 0; k < KEY_CACHE_SLOTS; k++) {
        if (g_keys[k].used)
            sf_key_clear(&g_keys[k].key);
        OPENSSL_cleanse(&g_keys[k], sizeof(g_keys[k]));
    }
}

/* ---------------- shared answer helpers ---------------- */

static void free_out(uint8_t *out, size_t n)
{
    if (out) {
        OPENSSL_cleanse(out, n);
        free(out);
    }
}

/* A context op's result: SF_ERR_INVALID names the cases that give it. */
static int ctx_result(sf_err rc, req_err *e)
{
    if (rc == SF_ERR_INVALID)
        return set_err(e, "invalid_argument",
                       "wrong kind of context, or a limit was reached");
    if (rc != SF_OK)
        return set_sf_err(e, rc);
    return 1;
}

/* The live context named by the request's ctx (the dispatcher has checked
 * that it exists). */
static sf_ctx *ctx_of(const args *a)
{
    return g_handles[handle_index(a->ctx_id)].ctx;
}

/* c is read only after rc has been computed: callers pass &c beside the call
 * that fills it. */
static int register_ctx(sf_err rc, sf_ctx *const *c, wresp *r, req_err *e)
{
    char name[32];
    uint64_t id = 0;
    int n;

    if (rc != SF_OK) {
        if (rc == SF_ERR_INVALID && sf_ctx_count() >= SF_MAX_CONTEXTS)
            return set_err(e, "invalid_argument", "too many live contexts");
        return set_sf_err(e, rc);
    }
    if (!handle_add(*c, &id, e))
        return 0;
    n = snprintf(name, sizeof(name), "c%llu", (unsigned long long)id);
    wr_str(r, "ctx", name, n > 0 ? (size_t)n : 0);
    return 1;
}

/* The answer of an op whose result is a malloc'd buffer, as one binary
 * field. Frees (and wipes) the buffer either way. */
static int answer_buf(sf_err rc, uint8_t *out, size_t out_len,
                      const char *field, wresp *r, req_err *e)
{
    int ok = ctx_result(rc, e);
    if (ok)
        wr_bytes(r, field, out, out_len);
    free_out(out, out_len);
    return ok;
}

/* ---------------- core and optional ops ---------------- */

typedef int (*op_fn)(const wmsg *m, const args *a, wresp *r, req_err *e);

static int op_hello(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    const wfield *framings = wmsg_get(m, "framings");
    (void)a;
    (void)e;
    wr_str(r, "name", SERVER_NAME, strlen(SERVER_NAME));
    wr_str(r, "version", SERVER_VERSION, strlen(SERVER_VERSION));
    wr_int(r, "protocol", 1);
    wr_json(r, "suites", "[1,2,3,4,5,6,7,8]");
    wr_json(r, "capabilities",
            "[\"encode_header\",\"decode_header\",\"derive\",\"aead_encrypt\","
            "\"aead_decrypt\",\"shutdown\",\"context\",\"ratchet\",\"mls\","
            "\"replay\",\"bench\",\"timing\"]");
    if (!g_binary && framings != NULL && framings->type == WF_JSON &&
        wire_json_list_has(framings->p, framings->n, "binary-v1")) {
        wr_str(r, "framing", "binary-v1", 9);
        g_binary_next = 1;
    }
    return 1;
}

static int op_shutdown(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    (void)m, (void)a, (void)r, (void)e;
    return 1;
}

static int op_encrypt(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    sf_key tmp, *k = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    sf_err rc;

    (void)m;
    rc = stateless_key(a, &tmp, &k);
    if (rc == SF_OK)
        rc = sf_key_seal_alloc(k, a->u[A_CTR], a->b[A_METADATA].p,
                               a->b[A_METADATA].n, a->b[A_PLAINTEXT].p,
                               a->b[A_PLAINTEXT].n, &out, &out_len);
    if (k == &tmp)
        sf_key_clear(&tmp);
    return answer_buf(rc, out, out_len, "ciphertext", r, e);
}

static int op_decrypt(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    const arg_bytes *ct = &a->b[A_CIPHERTEXT];
    uint64_t hkid = 0, hctr = 0;
    size_t hdr_len = 0, out_len = 0;
    sf_key tmp, *k = NULL;
    uint8_t *out = NULL;
    sf_err rc;

    (void)m;
    /* The checks that need no key come first (README "Decrypt order"). */
    rc = sf_header_parse(ct->p, ct->n, &hkid, &hctr, &hdr_len);
    if (rc == SF_OK && hkid != a->u[A_KID])
        rc = SF_ERR_UNKNOWN_KID;
    if (rc == SF_OK && ct->n - hdr_len < a->suite->nt)
        rc = SF_ERR_MALFORMED;
    if (rc == SF_OK)
        rc = stateless_key(a, &tmp, &k);
    if (rc == SF_OK)
        rc = sf_key_decrypt_alloc(k, ct->p, ct->n, a->b[A_METADATA].p,
                                  a->b[A_METADATA].n, &out, &out_len);
    if (k == &tmp)
        sf_key_clear(&tmp);
    return answer_buf(rc, out, out_len, "plaintext", r, e);
}

static int op_encode_header(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    uint8_t hdr[SF_MAX_HEADER_LEN];
    size_t n = sf_header_encode(a->u[A_KID], a->u[A_CTR], hdr);
    (void)m, (void)e;
    wr_bytes(r, "header", hdr, n);
    return 1;
}

static int op_decode_header(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    uint64_t kid = 0, ctr = 0;
    size_t len = 0;
    (void)m;
    if (sf_header_parse(a->b[A_DATA].p, a->b[A_DATA].n, &kid, &ctr, &len) != SF_OK)
        return set_err(e, "malformed", "empty or truncated header");
    wr_u64(r, "kid", kid);
    wr_u64(r, "ctr", ctr);
    wr_int(r, "length", (long long)len);
    return 1;
}

static int op_derive(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    uint8_t key[SF_MAX_KEY_LEN], salt[SF_NONCE_LEN];
    sf_err rc = sf_derive(a->suite, a->b[A_BASE_KEY].p, a->b[A_BASE_KEY].n,
                          a->u[A_KID], key, salt);
    (void)m;
    if (rc == SF_OK) {
        wr_bytes(r, "key", key, a->suite->nk);
        wr_bytes(r, "salt", salt, a->suite->nn);
    }
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(salt, sizeof(salt));
    return rc == SF_OK ? 1 : set_sf_err(e, rc);
}

/* Shared by aead_encrypt / aead_decrypt. */
static int aead_op(const args *a, wresp *r, req_err *e, int seal)
{
    const sf_suite *s = a->suite;
    const arg_bytes *in = &a->b[seal ? A_PLAINTEXT : A_CIPHERTEXT];
    uint8_t *out;
    size_t out_len;
    sf_err rc;

    if (a->b[A_KEY].n != s->nk)
        return set_err(e, "invalid_argument", "wrong key length for suite");
    if (a->b[A_NONCE].n != s->nn)
        return set_err(e, "invalid_argument", "nonce must be 12 bytes");
    if (!seal && in->n < s->nt)
        return set_err(e, "malformed", "ciphertext shorter than the tag");
    if (seal && in->n > SIZE_MAX - s->nt)
        return set_err(e, "invalid_argument", "plaintext too long");
    out_len = seal ? in->n + s->nt : in->n - s->nt;
    out = malloc(out_len ? out_len : 1);
    if (out == NULL)
        return set_err(e, "internal", "out of memory");
    rc = (seal ? sf_aead_seal : sf_aead_open)(s, a->b[A_KEY].p, a->b[A_NONCE].p,
                                              a->b[A_AAD].p, a->b[A_AAD].n,
                                              in->p, in->n, out);
    return answer_buf(rc, out, out_len, seal ? "ciphertext" : "plaintext", r, e);
}

static int op_aead_encrypt(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    (void)m;
    return aead_op(a, r, e, 1);
}

static int op_aead_decrypt(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    (void)m;
    return aead_op(a, r, e, 0);
}

/* ---------------- stateful ops (contexts) ---------------- */

static int op_context_new(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    sf_ctx *c = NULL;
    (void)m;
    return register_ctx(sf_ctx_new(a->suite, (uint64_t)a->i[A_REPLAY_WINDOW], &c),
                        &c, r, e);
}

static int op_context_add_key(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    const char *u = a->s[A_USAGE];
    size_t ul = a->s_len[A_USAGE];
    uint64_t next_ctr = 0;
    int send;

    (void)m, (void)r;
    if (ul == 4 && memcmp(u, "send", 4) == 0)
        send = 1;
    else if (ul == 4 && memcmp(u, "recv", 4) == 0)
        send = 0;
    else
        return set_err(e, "invalid_argument", "usage must be \"send\" or \"recv\"");
    /* next_ctr is read from the request only for send keys. */
    if (send && has(a, A_NEXT_CTR))
        next_ctr = a->u[A_NEXT_CTR];
    return ctx_result(sf_ctx_add_key(ctx_of(a), a->u[A_KID],
                                     a->b[A_BASE_KEY].p, a->b[A_BASE_KEY].n,
                                     send, next_ctr),
                      e);
}

static int op_context_remove_key(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    (void)m, (void)r;
    return ctx_result(sf_ctx_remove_key(ctx_of(a), a->u[A_KID]), e);
}

/* The fields of a stateful encryption's or decryption's answer: the frame
 * ("ciphertext") or what it held ("plaintext"), and the frame's KID and CTR. */
static int answer_framed(sf_err rc, uint8_t *out, size_t out_len,
                         const char *field, uint64_t kid, uint64_t ctr,
                         wresp *r, req_err *e)
{
    if (!answer_buf(rc, out, out_len, field, r, e))
        return 0;
    wr_u64(r, "kid", kid);
    wr_u64(r, "ctr", ctr);
    return 1;
}

static int op_context_encrypt(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    uint64_t kid_used = 0, ctr = 0;
    uint8_t *out = NULL;
    size_t out_len = 0;
    sf_err rc;

    (void)m;
    rc = sf_ctx_encrypt(ctx_of(a), has(a, A_KID), a->u[A_KID],
                        a->b[A_METADATA].p, a->b[A_METADATA].n,
                        a->b[A_PLAINTEXT].p, a->b[A_PLAINTEXT].n, &out,
                        &out_len, &kid_used, &ctr);
    return answer_framed(rc, out, out_len, "ciphertext", kid_used, ctr, r, e);
}

static int op_context_decrypt(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    uint64_t kid = 0, ctr = 0;
    uint8_t *out = NULL;
    size_t out_len = 0;
    sf_err rc;

    (void)m;
    rc = sf_ctx_decrypt(ctx_of(a), a->b[A_METADATA].p,
                        a->b[A_METADATA].n, a->b[A_CIPHERTEXT].p,
                        a->b[A_CIPHERTEXT].n, &out, &out_len, &kid, &ctr);
    return answer_framed(rc, out, out_len, "plaintext", kid, ctr, r, e);
}

static int op_context_free(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    size_t idx = handle_index(a->ctx_id);
    (void)m, (void)r, (void)e;
    sf_ctx_free(g_handles[idx].ctx);
    memmove(&g_handles[idx], &g_handles[idx + 1],
            (g_nhandles - idx - 1) * sizeof(*g_handles));
    g_nhandles--;
    return 1;
}

static int op_ratchet_derive(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    sf_err rc = sf_ratchet_derive(a->suite, a->b[A_BASE_KEY].p,
                                  a->b[A_BASE_KEY].n, (uint64_t)a->i[A_STEPS],
                                  &out, &out_len);
    (void)m;
    return answer_buf(rc, out, out_len, "base_key", r, e);
}

static int op_ratchet_sender_new(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    uint64_t kid = 0;
    sf_ctx *c = NULL;
    sf_err rc;

    (void)m;
    rc = sf_ratchet_sender_new(a->suite, a->b[A_BASE_KEY].p, a->b[A_BASE_KEY].n,
                               a->u[A_GENERATION], (uint64_t)a->i[A_RATCHET_BITS],
                               &c, &kid);
    if (!register_ctx(rc, &c, r, e))
        return 0;
    wr_u64(r, "kid", kid);
    return 1;
}

static int op_ratchet_advance(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    uint64_t kid = 0, step = 0;

    (void)m;
    if (!ctx_result(sf_ratchet_advance(ctx_of(a), &kid, &step), e))
        return 0;
    wr_u64(r, "kid", kid);
    wr_int(r, "step", (long long)step);
    return 1;
}

static int op_ratchet_receiver_new(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    sf_ctx *c = NULL;
    (void)m;
    return register_ctx(sf_ratchet_receiver_new(a->suite, a->b[A_BASE_KEY].p,
                                                a->b[A_BASE_KEY].n,
                                                a->u[A_GENERATION],
                                                (uint64_t)a->i[A_RATCHET_BITS],
                                                (uint64_t)a->i[A_STEP], &c),
                        &c, r, e);
}

static int op_mls_context_new(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    sf_ctx *c = NULL;
    (void)m;
    if (a->i[A_EPOCH_BITS] + a->i[A_SENDER_BITS] > 64)
        return set_err(e, "invalid_argument", "epoch_bits + sender_bits > 64");
    return register_ctx(sf_mls_new(a->suite, (uint64_t)a->i[A_EPOCH_BITS],
                                   (uint64_t)a->i[A_SENDER_BITS],
                                   (uint64_t)a->i[A_REPLAY_WINDOW], &c),
                        &c, r, e);
}

static int op_mls_add_epoch(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    (void)m, (void)r;
    return ctx_result(sf_mls_add_epoch(ctx_of(a), a->u[A_EPOCH],
                                       a->b[A_EPOCH_SECRET].p,
                                       a->b[A_EPOCH_SECRET].n),
                      e);
}

static int op_mls_remove_epoch(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    (void)m, (void)r;
    return ctx_result(sf_mls_remove_epoch(ctx_of(a), a->u[A_EPOCH]), e);
}

static int op_mls_encrypt(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    uint64_t kid = 0, ctr = 0;
    uint8_t *out = NULL;
    size_t out_len = 0;
    sf_err rc;

    (void)m;
    rc = sf_mls_encrypt(ctx_of(a), a->u[A_EPOCH], a->u[A_SENDER_INDEX],
                        a->u[A_CONTEXT_ID], a->b[A_METADATA].p,
                        a->b[A_METADATA].n, a->b[A_PLAINTEXT].p,
                        a->b[A_PLAINTEXT].n, &out, &out_len, &kid, &ctr);
    return answer_framed(rc, out, out_len, "ciphertext", kid, ctr, r, e);
}

static int op_mls_decrypt(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    uint64_t epoch = 0, index = 0, cid = 0;
    uint8_t *out = NULL;
    size_t out_len = 0;
    sf_err rc;

    (void)m;
    rc = sf_mls_decrypt(ctx_of(a), a->b[A_METADATA].p, a->b[A_METADATA].n,
                        a->b[A_CIPHERTEXT].p, a->b[A_CIPHERTEXT].n, &out,
                        &out_len, &epoch, &index, &cid);
    if (!answer_buf(rc, out, out_len, "plaintext", r, e))
        return 0;
    wr_u64(r, "epoch", epoch);
    wr_u64(r, "sender_index", index);
    wr_u64(r, "context_id", cid);
    return 1;
}

/* ---------------- bench and timing ---------------- */

static int op_bench(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    sf_bench_in in;
    sf_bench_mode mode;
    uint64_t elapsed = 0;
    uint8_t *last = NULL;
    size_t last_len = 0;
    sf_err rc;

    (void)m;
    if (sf_bench_mode_parse(a->s[A_MODE], a->s_len[A_MODE], &mode) != 0)
        return set_err(e, "invalid_argument", "unknown bench mode");
    in.suite = a->suite;
    in.base_key = a->b[A_BASE_KEY].p;
    in.base_len = a->b[A_BASE_KEY].n;
    in.kid = a->u[A_KID];
    in.metadata = a->b[A_METADATA].p;
    in.md_len = a->b[A_METADATA].n;
    in.plaintext = a->b[A_PLAINTEXT].p;
    in.pt_len = a->b[A_PLAINTEXT].n;
    in.count = (uint64_t)a->i[A_COUNT];
    rc = sf_bench_run(&in, mode, &elapsed, &last, &last_len);
    if (!answer_buf(rc, last, last_len,
                    mode == SF_BENCH_DECRYPT || mode == SF_BENCH_DECRYPT_DERIVE
                        ? "plaintext" : "ciphertext",
                    r, e))
        return 0;
    wr_int(r, "elapsed_ns", (long long)elapsed);
    wr_int(r, "count", a->i[A_COUNT]);
    return 1;
}

static int op_timing(const wmsg *m, const args *a, wresp *r, req_err *e)
{
    const arg_bytes *sched = &a->b[A_SCHEDULE];
    uint64_t *ticks;
    uint8_t *out;
    size_t k;
    sf_err rc;

    (void)m;
    if (sched->n == 0 || sched->n > SF_TIMING_MAX_SAMPLES)
        return set_err(e, "invalid_argument", "schedule must hold 1..2^20 samples");
    for (k = 0; k < sched->n; k++) {
        if (sched->p[k] > 1)
            return set_err(e, "invalid_argument", "schedule bytes must be 0 or 1");
    }
    ticks = malloc(sched->n * sizeof(*ticks));
    out = malloc(sched->n * 8);
    if (ticks == NULL || out == NULL) {
        free(ticks);
        free(out);
        return set_err(e, "internal", "out of memory");
    }
    rc = sf_timing_run(a->suite, a->b[A_BASE_KEY].p, a->b[A_BASE_KEY].n,
                       a->u[A_KID], a->b[A_METADATA].p, a->b[A_METADATA].n,
                       a->b[A_CIPHERTEXT_A].p, a->b[A_CIPHERTEXT_A].n,
                       a->b[A_CIPHERTEXT_B].p, a->b[A_CIPHERTEXT_B].n,
                       sched->p, sched->n, ticks);
    for (k = 0; k < sched->n; k++)
        be_put(out + 8 * k, ticks[k], 8);
    free(ticks);
    if (rc == SF_ERR_INVALID) {
        free(out);
        return set_err(e, "invalid_argument", "a timing frame authenticated; both must be forged");
    }
    if (!answer_buf(rc, out, sched->n * 8, "timings", r, e))
        return 0;
    wr_str(r, "clock", sf_timing_clock(), strlen(sf_timing_clock()));
    return 1;
}

/* ---------------- the dispatch table ---------------- */

#define SUITE ARG(A_SUITE)
#define CTX ARG(A_CTX)
#define BASE ARG(A_BASE_KEY)
#define KID ARG(A_KID)
#define MD ARG(A_METADATA)
#define PT ARG(A_PLAINTEXT)
#define CT ARG(A_CIPHERTEXT)

static const struct op {
    const char *name;
    op_fn fn;
    uint64_t need, opt; /* fields, as ARG() bits */
    int quit;           /* exit 0 after answering */
} OPS[] = {
    {"hello", op_hello, 0, 0, 0},
    {"shutdown", op_shutdown, 0, 0, 1},
    {"encrypt", op_encrypt, SUITE | BASE | KID | ARG(A_CTR) | MD | PT, 0, 0},
    {"decrypt", op_decrypt, SUITE | BASE | KID | MD | CT, 0, 0},
    {"encode_header", op_encode_header, KID | ARG(A_CTR), 0, 0},
    {"decode_header", op_decode_header, ARG(A_DATA), 0, 0},
    {"derive", op_derive, SUITE | BASE | KID, 0, 0},
    {"aead_encrypt", op_aead_encrypt, SUITE | ARG(A_KEY) | ARG(A_NONCE) | ARG(A_AAD) | PT, 0, 0},
    {"aead_decrypt", op_aead_decrypt, SUITE | ARG(A_KEY) | ARG(A_NONCE) | ARG(A_AAD) | CT, 0, 0},
    {"context_new", op_context_new, SUITE, ARG(A_REPLAY_WINDOW), 0},
    {"context_add_key", op_context_add_key, CTX | KID | BASE | ARG(A_USAGE), ARG(A_NEXT_CTR), 0},
    {"context_remove_key", op_context_remove_key, CTX | KID, 0, 0},
    {"context_encrypt", op_context_encrypt, CTX | MD | PT, KID, 0},
    {"context_decrypt", op_context_decrypt, CTX | MD | CT, 0, 0},
    {"context_free", op_context_free, CTX, 0, 0},
    {"ratchet_derive", op_ratchet_derive, SUITE | BASE | ARG(A_STEPS), 0, 0},
    {"ratchet_sender_new", op_ratchet_sender_new, SUITE | BASE | ARG(A_GENERATION) | ARG(A_RATCHET_BITS), 0, 0},
    {"ratchet_advance", op_ratchet_advance, CTX, 0, 0},
    {"ratchet_receiver_new", op_ratchet_receiver_new, SUITE | BASE | ARG(A_GENERATION) | ARG(A_RATCHET_BITS), ARG(A_STEP), 0},
    {"mls_context_new", op_mls_context_new, SUITE | ARG(A_EPOCH_BITS) | ARG(A_SENDER_BITS), ARG(A_REPLAY_WINDOW), 0},
    {"mls_add_epoch", op_mls_add_epoch, CTX | ARG(A_EPOCH) | ARG(A_EPOCH_SECRET), 0, 0},
    {"mls_remove_epoch", op_mls_remove_epoch, CTX | ARG(A_EPOCH), 0, 0},
    {"mls_encrypt", op_mls_encrypt, CTX | ARG(A_EPOCH) | ARG(A_SENDER_INDEX) | ARG(A_CONTEXT_ID) | MD | PT, 0, 0},
    {"mls_decrypt", op_mls_decrypt, CTX | MD | CT, 0, 0},
    {"bench", op_bench, SUITE | BASE | KID | MD | PT | ARG(A_COUNT) | ARG(A_MODE), 0, 0},
    {"timing", op_timing, SUITE | BASE | KID | MD | ARG(A_CIPHERTEXT_A) | ARG(A_CIPHERTEXT_B) | ARG(A_SCHEDULE), 0, 0},
};

static const struct op *find_op(const wfield *f)
{
    size_t k;
    if (f == NULL || f->type != WF_STRING)
        return NULL;
    for (k = 0; k < sizeof(OPS) / sizeof(OPS[0]); k++) {
        if (strlen(OPS[k].name) == f->n && memcmp(OPS[k].name, f->p, f->n) == 0)
            return &OPS[k];
    }
    return NULL;
}

/* ---------------- request loop ---------------- */

/* An id the protocol allows: an integer, a number or a string. */
static const wfield *valid_id(const wmsg *m)
{
    const wfield *id = wmsg_get(m, "id");
    if (id != NULL && (id->type == WF_INT || id->type == WF_NUMBER ||
                       id->type == WF_STRING))
        return id;
    return NULL;
}

/* Answers one parsed message into out. Returns 1 if the server should exit. */
static int handle_message(const wmsg *m, jbuf *out)
{
    const wfield *id = valid_id(m), *opf = wmsg_get(m, "op");
    const struct op *op;
    req_err e = {"internal", "internal error"};
    wresp r;
    args a;
    int ok;

    wr_begin(&r, out, g_binary, id, 1);
    if (id == NULL) {
        wr_error(&r, NULL, "invalid_argument", "missing or invalid id");
        return 0;
    }
    if (opf == NULL || opf->type != WF_STRING) {
        wr_error(&r, id, "invalid_argument", "missing or invalid op");
        return 0;
    }
    op = find_op(opf);
    if (op == NULL) {
        wr_error(&r, id, "unsupported", "unknown op");
        return 0;
    }
    ok = request_decode(m, op->need, op->opt, &a, &e) &&
         (!(op->need & CTX) || handle_index(a.ctx_id) < g_nhandles ||
          set_err(&e, "invalid_argument", "unknown or freed ctx")) &&
         op->fn(m, &a, &r, &e);
    request_free(&a);
    if (ok && !out->failed)
        wr_end(&r);
    else if (ok)
        wr_error(&r, id, "internal", "out of memory");
    else
        wr_error(&r, id, e.cls, e.msg);
    return ok && op->quit;
}

/* A request that could not be parsed: an error answer with id null, or the
 * id when the part of a binary frame before the fault held one. */
static void answer_unparsed(const wmsg *m, const char *why, jbuf *out)
{
    wresp r;
    wr_begin(&r, out, g_binary, NULL, 0);
    wr_error(&r, m ? valid_id(m) : NULL, "invalid_argument", why);
}

static int blank(const uint8_t *s, size_t n)
{
    size_t k;
    for (k = 0; k < n; k++) {
        if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r' && s[k] != '\n')
            return 0;
    }
    return 1;
}

/* Answers every complete request in the input. Returns 1 to exit (shutdown
 * or a binary stream that cannot be resynchronised), else 0. */
static int drain(win *in, jbuf *out, int *status)
{
    for (;;) {
        const uint8_t *p;
        const char *err = "malformed request";
        size_t n;
        wmsg m;
        int got, quit;

        got = g_binary ? win_frame(in, &p, &n, &err) : win_line(in, &p, &n);
        if (got == 0)
            return 0;
        if (got < 0 && g_binary) {
            fprintf(stderr, "sframe-c: %s\n", err);
            *status = 1;
            return 1;
        }
        if (got < 0) {
            answer_unparsed(NULL, "line too long", out);
            continue;
        }
        if (!g_binary && blank(p, n))
            continue;
        if (!(g_binary ? wmsg_from_binary(&m, p, n, &err)
                       : wmsg_from_json(&m, (const char *)p, n, &err))) {
            answer_unparsed(&m, err, out);
            wmsg_free(&m);
            continue;
        }
        quit = handle_message(&m, out);
        wmsg_free(&m);
        if (g_binary_next) {
            g_binary_next = 0;
            g_binary = 1;
        }
        if (quit)
            return 1;
    }
}

int main(void)
{
    win in = {0};
    jbuf out;
    int status = 0, stop = 0;

    jb_init(&out);
    while (!stop) {
        int got;
        stop = drain(&in, &out, &status);
        /* Nothing more is waiting: send this batch of answers. */
        if (wire_flush(&out, 1) != 0) {
            status = 1;
            break;
        }
        if (stop || in.eof)
            break;
        got = win_fill(&in, 0);
        if (got < 0) {
            fprintf(stderr, "sframe-c: read error\n");
            status = 1;
            break;
        }
    }
    jb_free(&out);
    win_free(&in);
    handles_free_all();
    keys_free_all();
    sf_cleanup();
    return status;
}
