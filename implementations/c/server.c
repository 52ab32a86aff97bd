/*
 * server.c - stdio protocol server (harness/PROTOCOL.md, version 1).
 *
 * Reads one JSON request per line on stdin and writes exactly one JSON
 * response per line on stdout, in order, flushing after each.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "json.h"
#include "sfctx.h"
#include "sframe.h"

#define SERVER_NAME "sframe-c"
#define SERVER_VERSION "0.1.0"

/* A request-handling failure: class plus a static human message. */
typedef struct {
    const char *cls;
    const char *msg;
} req_err;

static int set_err(req_err *e, const char *cls, const char *msg)
{
    e->cls = cls;
    e->msg = msg;
    return 0;
}

static int set_sf_err(req_err *e, sf_err rc)
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

/* ---------------- field accessors ---------------- */

typedef struct {
    uint8_t *p; /* always non-NULL on success (possibly zero length) */
    size_t n;
} bytes;

static void bytes_free(bytes *b)
{
    if (b->p) {
        OPENSSL_cleanse(b->p, b->n);
        free(b->p);
    }
    b->p = NULL;
    b->n = 0;
}

static int get_hex(const json_object *o, const char *key, bytes *out,
                   req_err *e)
{
    const json_member *m = json_get(o, key);
    size_t k;

    out->p = NULL;
    out->n = 0;
    if (m == NULL)
        return set_err(e, "invalid_argument", "missing hex field");
    if (m->type != JV_STRING)
        return set_err(e, "invalid_argument", "hex field is not a string");
    if (m->str_len % 2 != 0)
        return set_err(e, "invalid_argument", "odd-length hex");
    out->n = m->str_len / 2;
    out->p = malloc(out->n ? out->n : 1);
    if (out->p == NULL) {
        out->n = 0;
        return set_err(e, "internal", "out of memory");
    }
    for (k = 0; k < out->n; k++) {
        int hi = json_hexval(m->str[2 * k]), lo = json_hexval(m->str[2 * k + 1]);
        if (hi < 0 || lo < 0) {
            bytes_free(out);
            return set_err(e, "invalid_argument", "bad hex digit");
        }
        out->p[k] = (uint8_t)((hi << 4) | lo);
    }
    return 1;
}

/* A u64 as a decimal string: digits only, non-empty, value < 2^64. */
static int get_u64(const json_object *o, const char *key, uint64_t *out,
                   req_err *e)
{
    const json_member *m = json_get(o, key);
    uint64_t v = 0;
    size_t k;

    if (m == NULL)
        return set_err(e, "invalid_argument", "missing kid/ctr field");
    if (m->type != JV_STRING)
        return set_err(e, "invalid_argument",
                       "kid/ctr must be a decimal string");
    if (m->str_len == 0)
        return set_err(e, "invalid_argument", "empty kid/ctr");
    for (k = 0; k < m->str_len; k++) {
        char c = m->str[k];
        unsigned d;
        if (c < '0' || c > '9')
            return set_err(e, "invalid_argument",
                           "kid/ctr is not a decimal u64");
        d = (unsigned)(c - '0');
        if (v > (UINT64_MAX - d) / 10)
            return set_err(e, "invalid_argument", "kid/ctr >= 2^64");
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static int get_suite(const json_object *o, const sf_suite **out, req_err *e)
{
    const json_member *m = json_get(o, "suite");

    if (m == NULL)
        return set_err(e, "invalid_argument", "missing suite");
    if (m->type == JV_NUMBER) {
        /* Fraction/exponent or outside the integer range: no such suite
         * if it is an out-of-range integer literal, else a bad argument. */
        size_t k;
        for (k = 0; k < m->raw_len; k++) {
            char c = m->raw[k];
            if (c == '.' || c == 'e' || c == 'E')
                return set_err(e, "invalid_argument",
                               "suite must be an integer");
        }
        return set_err(e, "unsupported", "unsupported cipher suite");
    }
    if (m->type != JV_INT)
        return set_err(e, "invalid_argument", "suite must be an integer");
    *out = sf_suite_get(m->i);
    if (*out == NULL)
        return set_err(e, "unsupported", "unsupported cipher suite");
    return 1;
}

/* ---------------- ops ---------------- */

static int op_hello(const json_object *o, jbuf *r, req_err *e)
{
    (void)o;
    (void)e;
    jb_lit(r, ",\"name\":\"" SERVER_NAME "\",\"version\":\"" SERVER_VERSION
              "\",\"protocol\":1,\"suites\":[1,2,3,4,5,6,7,8],"
              "\"capabilities\":[\"encode_header\",\"decode_header\","
              "\"derive\",\"aead_encrypt\",\"aead_decrypt\",\"shutdown\","
              "\"context\",\"ratchet\",\"mls\",\"replay\"]");
    return 1;
}

static int op_encrypt(const json_object *o, jbuf *r, req_err *e)
{
    const sf_suite *s;
    bytes key = {0}, md = {0}, pt = {0};
    uint64_t kid, ctr;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int ok = 0;
    sf_err rc;

    if (!get_suite(o, &s, e) || !get_hex(o, "base_key", &key, e) ||
        !get_u64(o, "kid", &kid, e) || !get_u64(o, "ctr", &ctr, e) ||
        !get_hex(o, "metadata", &md, e) || !get_hex(o, "plaintext", &pt, e))
        goto done;
    rc = sf_encrypt(s, key.p, key.n, kid, ctr, md.p, md.n, pt.p, pt.n, &out,
                    &out_len);
    if (rc != SF_OK) {
        set_sf_err(e, rc);
        goto done;
    }
    jb_lit(r, ",\"ciphertext\":");
    jb_hex(r, out, out_len);
    ok = 1;
done:
    free(out);
    bytes_free(&key);
    bytes_free(&md);
    bytes_free(&pt);
    return ok;
}

static int op_decrypt(const json_object *o, jbuf *r, req_err *e)
{
    const sf_suite *s;
    bytes key = {0}, md = {0}, ct = {0};
    uint64_t kid;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int ok = 0;
    sf_err rc;

    if (!get_suite(o, &s, e) || !get_hex(o, "base_key", &key, e) ||
        !get_u64(o, "kid", &kid, e) || !get_hex(o, "metadata", &md, e) ||
        !get_hex(o, "ciphertext", &ct, e))
        goto done;
    rc = sf_decrypt(s, key.p, key.n, kid, md.p, md.n, ct.p, ct.n, &out,
                    &out_len);
    if (rc != SF_OK) {
        set_sf_err(e, rc);
        goto done;
    }
    jb_lit(r, ",\"plaintext\":");
    jb_hex(r, out, out_len);
    ok = 1;
done:
    if (out) {
        OPENSSL_cleanse(out, out_len);
        free(out);
    }
    bytes_free(&key);
    bytes_free(&md);
    bytes_free(&ct);
    return ok;
}

static int op_encode_header(const json_object *o, jbuf *r, req_err *e)
{
    uint64_t kid, ctr;
    uint8_t hdr[SF_MAX_HEADER_LEN];
    size_t n;

    if (!get_u64(o, "kid", &kid, e) || !get_u64(o, "ctr", &ctr, e))
        return 0;
    n = sf_header_encode(kid, ctr, hdr);
    jb_lit(r, ",\"header\":");
    jb_hex(r, hdr, n);
    return 1;
}

static int op_decode_header(const json_object *o, jbuf *r, req_err *e)
{
    bytes data = {0};
    uint64_t kid = 0, ctr = 0;
    size_t len = 0;
    sf_err rc;

    if (!get_hex(o, "data", &data, e))
        return 0;
    rc = sf_header_parse(data.p, data.n, &kid, &ctr, &len);
    bytes_free(&data);
    if (rc != SF_OK) {
        if (rc == SF_ERR_MALFORMED)
            return set_err(e, "malformed", "empty or truncated header");
        return set_sf_err(e, rc);
    }
    jb_lit(r, ",\"kid\":");
    jb_u64_str(r, kid);
    jb_lit(r, ",\"ctr\":");
    jb_u64_str(r, ctr);
    jb_lit(r, ",\"length\":");
    jb_i64(r, (long long)len);
    return 1;
}

static int op_derive(const json_object *o, jbuf *r, req_err *e)
{
    const sf_suite *s;
    bytes base = {0};
    uint64_t kid;
    uint8_t key[SF_MAX_KEY_LEN], salt[SF_NONCE_LEN];
    sf_err rc;

    if (!get_suite(o, &s, e) || !get_hex(o, "base_key", &base, e) ||
        !get_u64(o, "kid", &kid, e)) {
        bytes_free(&base);
        return 0;
    }
    rc = sf_derive(s, base.p, base.n, kid, key, salt);
    bytes_free(&base);
    if (rc != SF_OK)
        return set_sf_err(e, rc);
    jb_lit(r, ",\"key\":");
    jb_hex(r, key, s->nk);
    jb_lit(r, ",\"salt\":");
    jb_hex(r, salt, s->nn);
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(salt, sizeof(salt));
    return 1;
}

/* Shared by aead_encrypt / aead_decrypt. */
static int op_aead(const json_object *o, jbuf *r, req_err *e, int seal)
{
    const sf_suite *s;
    bytes key = {0}, nonce = {0}, aad = {0}, in = {0};
    uint8_t *out = NULL;
    size_t out_len = 0;
    int ok = 0;
    sf_err rc;

    if (!get_suite(o, &s, e) || !get_hex(o, "key", &key, e) ||
        !get_hex(o, "nonce", &nonce, e) || !get_hex(o, "aad", &aad, e) ||
        !get_hex(o, seal ? "plaintext" : "ciphertext", &in, e))
        goto done;
    if (key.n != s->nk) {
        set_err(e, "invalid_argument", "wrong key length for suite");
        goto done;
    }
    if (nonce.n != s->nn) {
        set_err(e, "invalid_argument", "nonce must be 12 bytes");
        goto done;
    }
    if (seal) {
        if (in.n > SIZE_MAX - s->nt) {
            set_err(e, "invalid_argument", "plaintext too long");
            goto done;
        }
        out_len = in.n + s->nt;
    } else {
        if (in.n < s->nt) {
            set_err(e, "malformed", "ciphertext shorter than the tag");
            goto done;
        }
        out_len = in.n - s->nt;
    }
    out = malloc(out_len ? out_len : 1);
    if (out == NULL) {
        set_err(e, "internal", "out of memory");
        goto done;
    }
    rc = seal ? sf_aead_seal(s, key.p, nonce.p, aad.p, aad.n, in.p, in.n, out)
              : sf_aead_open(s, key.p, nonce.p, aad.p, aad.n, in.p, in.n, out);
    if (rc != SF_OK) {
        set_sf_err(e, rc);
        goto done;
    }
    jb_lit(r, seal ? ",\"ciphertext\":" : ",\"plaintext\":");
    jb_hex(r, out, out_len);
    ok = 1;
done:
    if (out) {
        OPENSSL_cleanse(out, out_len);
        free(out);
    }
    bytes_free(&key);
    bytes_free(&nonce);
    bytes_free(&aad);
    bytes_free(&in);
    return ok;
}

static int op_aead_encrypt(const json_object *o, jbuf *r, req_err *e)
{
    return op_aead(o, r, e, 1);
}

static int op_aead_decrypt(const json_object *o, jbuf *r, req_err *e)
{
    return op_aead(o, r, e, 0);
}

/* ---------------- stateful ops (contexts) ---------------- */

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

/* The "ctx" field: "c" then a decimal id of a live context. */
static int get_ctx(const json_object *o, size_t *index, req_err *e)
{
    const json_member *m = json_get(o, "ctx");
    uint64_t id = 0;
    size_t k;

    if (m == NULL)
        return set_err(e, "invalid_argument", "missing ctx");
    if (m->type != JV_STRING || m->str_len < 2 || m->str_len > 21 ||
        m->str[0] != 'c')
        return set_err(e, "invalid_argument", "unknown ctx");
    for (k = 1; k < m->str_len; k++) {
        char c = m->str[k];
        unsigned d;
        if (c < '0' || c > '9')
            return set_err(e, "invalid_argument", "unknown ctx");
        d = (unsigned)(c - '0');
        if (id > (UINT64_MAX - d) / 10)
            return set_err(e, "invalid_argument", "unknown ctx");
        id = id * 10 + d;
    }
    *index = handle_index(id);
    if (*index == g_nhandles)
        return set_err(e, "invalid_argument", "unknown or freed ctx");
    return 1;
}

static void put_ctx(jbuf *r, uint64_t id)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "c%llu", (unsigned long long)id);
    jb_lit(r, ",\"ctx\":");
    jb_str(r, buf, n > 0 ? (size_t)n : 0);
}

/* True if the optional field is absent or null. */
static int absent(const json_object *o, const char *key)
{
    const json_member *m = json_get(o, key);
    return m == NULL || m->type == JV_NULL;
}

/* A JSON integer in [min, max]. */
static int get_int(const json_object *o, const char *key, long long min,
                   long long max, long long *out, req_err *e)
{
    const json_member *m = json_get(o, key);

    if (m == NULL)
        return set_err(e, "invalid_argument", "missing integer field");
    if (m->type != JV_INT)
        return set_err(e, "invalid_argument", "field must be an integer");
    if (m->i < min || m->i > max)
        return set_err(e, "invalid_argument", "integer field out of range");
    *out = m->i;
    return 1;
}

/* Optional replay_window: absent/null = 0 (off), else 1..max. */
static int get_replay(const json_object *o, uint64_t *out, req_err *e)
{
    long long v;
    *out = 0;
    if (absent(o, "replay_window"))
        return 1;
    if (!get_int(o, "replay_window", 1, SF_MAX_REPLAY_WINDOW, &v, e))
        return 0;
    *out = (uint64_t)v;
    return 1;
}

static int register_ctx(sf_err rc, sf_ctx *c, jbuf *r, req_err *e)
{
    uint64_t id;
    if (rc != SF_OK) {
        if (rc == SF_ERR_INVALID && sf_ctx_count() >= SF_MAX_CONTEXTS)
            return set_err(e, "invalid_argument", "too many live contexts");
        return set_sf_err(e, rc);
    }
    if (!handle_add(c, &id, e))
        return 0;
    put_ctx(r, id);
    return 1;
}

static int ctx_result(sf_err rc, req_err *e)
{
    if (rc == SF_ERR_INVALID)
        return set_err(e, "invalid_argument",
                       "wrong kind of context, or a limit was reached");
    if (rc != SF_OK)
        return set_sf_err(e, rc);
    return 1;
}

static void free_out(uint8_t *out, size_t n)
{
    if (out) {
        OPENSSL_cleanse(out, n);
        free(out);
    }
}

static int op_context_new(const json_object *o, jbuf *r, req_err *e)
{
    const sf_suite *s;
    uint64_t window;
    sf_ctx *c = NULL;
    sf_err rc;

    if (!get_suite(o, &s, e) || !get_replay(o, &window, e))
        return 0;
    rc = sf_ctx_new(s, window, &c);
    return register_ctx(rc, c, r, e);
}

static int op_context_add_key(const json_object *o, jbuf *r, req_err *e)
{
    const json_member *um;
    bytes key = {0};
    uint64_t kid, next_ctr = 0;
    size_t idx;
    int send, ok = 0;

    (void)r;
    if (!get_ctx(o, &idx, e) || !get_u64(o, "kid", &kid, e) ||
        !get_hex(o, "base_key", &key, e))
        goto done;
    um = json_get(o, "usage");
    if (um == NULL || um->type != JV_STRING) {
        set_err(e, "invalid_argument", "usage must be \"send\" or \"recv\"");
        goto done;
    }
    if (um->str_len == 4 && memcmp(um->str, "send", 4) == 0) {
        send = 1;
    } else if (um->str_len == 4 && memcmp(um->str, "recv", 4) == 0) {
        send = 0;
    } else {
        set_err(e, "invalid_argument", "usage must be \"send\" or \"recv\"");
        goto done;
    }
    if (send && !absent(o, "next_ctr") && !get_u64(o, "next_ctr", &next_ctr, e))
        goto done;
    ok = ctx_result(sf_ctx_add_key(g_handles[idx].ctx, kid, key.p, key.n,
                                   send, next_ctr),
                    e);
done:
    bytes_free(&key);
    return ok;
}

static int op_context_remove_key(const json_object *o, jbuf *r, req_err *e)
{
    uint64_t kid;
    size_t idx;

    (void)r;
    if (!get_ctx(o, &idx, e) || !get_u64(o, "kid", &kid, e))
        return 0;
    return ctx_result(sf_ctx_remove_key(g_handles[idx].ctx, kid), e);
}

/* The fields of a stateful encryption's answer: the frame and the KID and CTR it used. */
static void put_sealed(jbuf *r, const uint8_t *out, size_t out_len, uint64_t kid, uint64_t ctr)
{
    jb_lit(r, ",\"ciphertext\":");
    jb_hex(r, out, out_len);
    jb_lit(r, ",\"kid\":");
    jb_u64_str(r, kid);
    jb_lit(r, ",\"ctr\":");
    jb_u64_str(r, ctr);
}

static int op_context_encrypt(const json_object *o, jbuf *r, req_err *e)
{
    bytes md = {0}, pt = {0};
    uint64_t kid = 0, kid_used = 0, ctr = 0;
    uint8_t *out = NULL;
    size_t out_len = 0, idx;
    int has_kid, ok = 0;

    if (!get_ctx(o, &idx, e))
        return 0;
    has_kid = !absent(o, "kid");
    if ((has_kid && !get_u64(o, "kid", &kid, e)) ||
        !get_hex(o, "metadata", &md, e) || !get_hex(o, "plaintext", &pt, e))
        goto done;
    ok = ctx_result(sf_ctx_encrypt(g_handles[idx].ctx, has_kid, kid, md.p,
                                   md.n, pt.p, pt.n, &out, &out_len,
                                   &kid_used, &ctr),
                    e);
    if (ok)
        put_sealed(r, out, out_len, kid_used, ctr);
done:
    free(out);
    bytes_free(&md);
    bytes_free(&pt);
    return ok;
}

static int op_context_decrypt(const json_object *o, jbuf *r, req_err *e)
{
    bytes md = {0}, ct = {0};
    uint64_t kid = 0, ctr = 0;
    uint8_t *out = NULL;
    size_t out_len = 0, idx;
    int ok = 0;

    if (!get_ctx(o, &idx, e) || !get_hex(o, "metadata", &md, e) ||
        !get_hex(o, "ciphertext", &ct, e))
        goto done;
    ok = ctx_result(sf_ctx_decrypt(g_handles[idx].ctx, md.p, md.n, ct.p,
                                   ct.n, &out, &out_len, &kid, &ctr),
                    e);
    if (ok) {
        jb_lit(r, ",\"plaintext\":");
        jb_hex(r, out, out_len);
        jb_lit(r, ",\"kid\":");
        jb_u64_str(r, kid);
        jb_lit(r, ",\"ctr\":");
        jb_u64_str(r, ctr);
    }
done:
    free_out(out, out_len);
    bytes_free(&md);
    bytes_free(&ct);
    return ok;
}

static int op_context_free(const json_object *o, jbuf *r, req_err *e)
{
    size_t idx;

    (void)r;
    if (!get_ctx(o, &idx, e))
        return 0;
    sf_ctx_free(g_handles[idx].ctx);
    memmove(&g_handles[idx], &g_handles[idx + 1],
            (g_nhandles - idx - 1) * sizeof(*g_handles));
    g_nhandles--;
    return 1;
}

static int op_ratchet_derive(const json_object *o, jbuf *r, req_err *e)
{
    const sf_suite *s;
    bytes key = {0};
    long long steps;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int ok = 0;

    if (!get_suite(o, &s, e) || !get_hex(o, "base_key", &key, e) ||
        !get_int(o, "steps", 0, SF_RATCHET_MAX_DERIVE, &steps, e))
        goto done;
    ok = ctx_result(sf_ratchet_derive(s, key.p, key.n, (uint64_t)steps, &out,
                                      &out_len),
                    e);
    if (ok) {
        jb_lit(r, ",\"base_key\":");
        jb_hex(r, out, out_len);
    }
done:
    free_out(out, out_len);
    bytes_free(&key);
    return ok;
}

static int op_ratchet_sender_new(const json_object *o, jbuf *r, req_err *e)
{
    const sf_suite *s;
    bytes key = {0};
    uint64_t gen, kid = 0;
    long long bits;
    sf_ctx *c = NULL;
    sf_err rc;
    int ok = 0;

    if (!get_suite(o, &s, e) || !get_hex(o, "base_key", &key, e) ||
        !get_u64(o, "generation", &gen, e) ||
        !get_int(o, "ratchet_bits", 1, 63, &bits, e))
        goto done;
    rc = sf_ratchet_sender_new(s, key.p, key.n, gen, (uint64_t)bits, &c,
                               &kid);
    ok = register_ctx(rc, c, r, e);
    if (ok) {
        jb_lit(r, ",\"kid\":");
        jb_u64_str(r, kid);
    }
done:
    bytes_free(&key);
    return ok;
}

static int op_ratchet_advance(const json_object *o, jbuf *r, req_err *e)
{
    uint64_t kid = 0, step = 0;
    size_t idx;

    if (!get_ctx(o, &idx, e))
        return 0;
    if (!ctx_result(sf_ratchet_advance(g_handles[idx].ctx, &kid, &step), e))
        return 0;
    jb_lit(r, ",\"kid\":");
    jb_u64_str(r, kid);
    jb_lit(r, ",\"step\":");
    jb_i64(r, (long long)step);
    return 1;
}

static int op_ratchet_receiver_new(const json_object *o, jbuf *r, req_err *e)
{
    const sf_suite *s;
    bytes key = {0};
    uint64_t gen;
    long long bits, step = 0;
    sf_ctx *c = NULL;
    sf_err rc;
    int ok = 0;

    if (!get_suite(o, &s, e) || !get_hex(o, "base_key", &key, e) ||
        !get_u64(o, "generation", &gen, e) ||
        !get_int(o, "ratchet_bits", 1, 63, &bits, e) ||
        (!absent(o, "step") && !get_int(o, "step", 0, LLONG_MAX, &step, e)))
        goto done;
    rc = sf_ratchet_receiver_new(s, key.p, key.n, gen, (uint64_t)bits,
                                 (uint64_t)step, &c);
    ok = register_ctx(rc, c, r, e);
done:
    bytes_free(&key);
    return ok;
}

static int op_mls_context_new(const json_object *o, jbuf *r, req_err *e)
{
    const sf_suite *s;
    long long ebits, sbits;
    uint64_t window;
    sf_ctx *c = NULL;
    sf_err rc;

    if (!get_suite(o, &s, e) || !get_int(o, "epoch_bits", 0, 64, &ebits, e) ||
        !get_int(o, "sender_bits", 0, 64, &sbits, e) ||
        !get_replay(o, &window, e))
        return 0;
    if (ebits + sbits > 64)
        return set_err(e, "invalid_argument", "epoch_bits + sender_bits > 64");
    rc = sf_mls_new(s, (uint64_t)ebits, (uint64_t)sbits, window, &c);
    return register_ctx(rc, c, r, e);
}

static int op_mls_add_epoch(const json_object *o, jbuf *r, req_err *e)
{
    bytes secret = {0};
    uint64_t epoch;
    size_t idx;
    int ok = 0;

    (void)r;
    if (get_ctx(o, &idx, e) && get_u64(o, "epoch", &epoch, e) &&
        get_hex(o, "epoch_secret", &secret, e))
        ok = ctx_result(sf_mls_add_epoch(g_handles[idx].ctx, epoch, secret.p,
                                         secret.n),
                        e);
    bytes_free(&secret);
    return ok;
}

static int op_mls_remove_epoch(const json_object *o, jbuf *r, req_err *e)
{
    uint64_t epoch;
    size_t idx;

    (void)r;
    if (!get_ctx(o, &idx, e) || !get_u64(o, "epoch", &epoch, e))
        return 0;
    return ctx_result(sf_mls_remove_epoch(g_handles[idx].ctx, epoch), e);
}

static int op_mls_encrypt(const json_object *o, jbuf *r, req_err *e)
{
    bytes md = {0}, pt = {0};
    uint64_t epoch, index, cid, kid = 0, ctr = 0;
    uint8_t *out = NULL;
    size_t out_len = 0, idx;
    int ok = 0;

    if (!get_ctx(o, &idx, e) || !get_u64(o, "epoch", &epoch, e) ||
        !get_u64(o, "sender_index", &index, e) ||
        !get_u64(o, "context_id", &cid, e) ||
        !get_hex(o, "metadata", &md, e) || !get_hex(o, "plaintext", &pt, e))
        goto done;
    ok = ctx_result(sf_mls_encrypt(g_handles[idx].ctx, epoch, index, cid,
                                   md.p, md.n, pt.p, pt.n, &out, &out_len,
                                   &kid, &ctr),
                    e);
    if (ok)
        put_sealed(r, out, out_len, kid, ctr);
done:
    free(out);
    bytes_free(&md);
    bytes_free(&pt);
    return ok;
}

static int op_mls_decrypt(const json_object *o, jbuf *r, req_err *e)
{
    bytes md = {0}, ct = {0};
    uint64_t epoch = 0, index = 0, cid = 0;
    uint8_t *out = NULL;
    size_t out_len = 0, idx;
    int ok = 0;

    if (!get_ctx(o, &idx, e) || !get_hex(o, "metadata", &md, e) ||
        !get_hex(o, "ciphertext", &ct, e))
        goto done;
    ok = ctx_result(sf_mls_decrypt(g_handles[idx].ctx, md.p, md.n, ct.p, ct.n,
                                   &out, &out_len, &epoch, &index, &cid),
                    e);
    if (ok) {
        jb_lit(r, ",\"plaintext\":");
        jb_hex(r, out, out_len);
        jb_lit(r, ",\"epoch\":");
        jb_u64_str(r, epoch);
        jb_lit(r, ",\"sender_index\":");
        jb_u64_str(r, index);
        jb_lit(r, ",\"context_id\":");
        jb_u64_str(r, cid);
    }
done:
    free_out(out, out_len);
    bytes_free(&md);
    bytes_free(&ct);
    return ok;
}

typedef int (*op_fn)(const json_object *, jbuf *, req_err *);

static const struct {
    const char *name;
    op_fn fn;
} OPS[] = {
    {"hello", op_hello},
    {"encrypt", op_encrypt},
    {"decrypt", op_decrypt},
    {"encode_header", op_encode_header},
    {"decode_header", op_decode_header},
    {"derive", op_derive},
    {"aead_encrypt", op_aead_encrypt},
    {"aead_decrypt", op_aead_decrypt},
    {"context_new", op_context_new},
    {"context_add_key", op_context_add_key},
    {"context_remove_key", op_context_remove_key},
    {"context_encrypt", op_context_encrypt},
    {"context_decrypt", op_context_decrypt},
    {"context_free", op_context_free},
    {"ratchet_derive", op_ratchet_derive},
    {"ratchet_sender_new", op_ratchet_sender_new},
    {"ratchet_advance", op_ratchet_advance},
    {"ratchet_receiver_new", op_ratchet_receiver_new},
    {"mls_context_new", op_mls_context_new},
    {"mls_add_epoch", op_mls_add_epoch},
    {"mls_remove_epoch", op_mls_remove_epoch},
    {"mls_encrypt", op_mls_encrypt},
    {"mls_decrypt", op_mls_decrypt},
};

/* ---------------- request loop ---------------- */

static void write_line(const jbuf *r, const char *id_raw, size_t id_len)
{
    if (!r->failed) {
        fwrite(r->p, 1, r->len, stdout);
    } else {
        /* Could not build the response: report without the payload. */
        fputs("{\"id\":", stdout);
        if (id_raw)
            fwrite(id_raw, 1, id_len, stdout);
        else
            fputs("null", stdout);
        fputs(",\"ok\":false,\"error\":\"internal\","
              "\"message\":\"out of memory\"}\n",
              stdout);
    }
    fflush(stdout);
}

static void respond_error(const char *id_raw, size_t id_len, const char *cls,
                          const char *msg, const char *detail,
                          size_t detail_len)
{
    jbuf r;
    jb_init(&r);
    jb_lit(&r, "{\"id\":");
    if (id_raw)
        jb_raw(&r, id_raw, id_len);
    else
        jb_lit(&r, "null");
    jb_lit(&r, ",\"ok\":false,\"error\":");
    jb_str(&r, cls, strlen(cls));
    jb_lit(&r, ",\"message\":");
    if (detail) {
        /* msg + ": " + detail, built as one escaped string */
        jbuf m;
        jb_init(&m);
        jb_lit(&m, msg);
        jb_lit(&m, ": ");
        jb_raw(&m, detail, detail_len > 200 ? 200 : detail_len);
        if (m.failed)
            jb_str(&r, msg, strlen(msg));
        else
            jb_str(&r, m.p, m.len);
        jb_free(&m);
    } else {
        jb_str(&r, msg, strlen(msg));
    }
    jb_lit(&r, "}\n");
    write_line(&r, id_raw, id_len);
    jb_free(&r);
}

/* Returns 1 if the server should exit (shutdown). */
static int handle_line(const char *line, size_t len)
{
    json_object o;
    const char *perr = NULL;
    const json_member *idm, *opm;
    const char *id_raw = NULL;
    size_t id_len = 0, k;
    int quit = 0;

    if (!json_parse_object(line, len, &o, &perr)) {
        respond_error(NULL, 0, "invalid_argument", "malformed JSON", perr,
                      strlen(perr));
        return 0;
    }
    idm = json_get(&o, "id");
    if (idm != NULL && (idm->type == JV_INT || idm->type == JV_NUMBER ||
                        idm->type == JV_STRING)) {
        id_raw = idm->raw;
        id_len = idm->raw_len;
    }
    if (id_raw == NULL) {
        respond_error(NULL, 0, "invalid_argument",
                      "missing or invalid id", NULL, 0);
        goto out;
    }
    opm = json_get(&o, "op");
    if (opm == NULL || opm->type != JV_STRING) {
        respond_error(id_raw, id_len, "invalid_argument",
                      "missing or invalid op", NULL, 0);
        goto out;
    }
    if (opm->str_len == 8 && memcmp(opm->str, "shutdown", 8) == 0) {
        jbuf r;
        jb_init(&r);
        jb_lit(&r, "{\"id\":");
        jb_raw(&r, id_raw, id_len);
        jb_lit(&r, ",\"ok\":true}\n");
        write_line(&r, id_raw, id_len);
        jb_free(&r);
        quit = 1;
        goto out;
    }
    for (k = 0; k < sizeof(OPS) / sizeof(OPS[0]); k++) {
        if (strlen(OPS[k].name) == opm->str_len &&
            memcmp(OPS[k].name, opm->str, opm->str_len) == 0)
            break;
    }
    if (k == sizeof(OPS) / sizeof(OPS[0])) {
        respond_error(id_raw, id_len, "unsupported", "unknown op", opm->str,
                      opm->str_len);
        goto out;
    } else {
        jbuf r;
        req_err e = {"internal", "internal error"};
        jb_init(&r);
        jb_lit(&r, "{\"id\":");
        jb_raw(&r, id_raw, id_len);
        jb_lit(&r, ",\"ok\":true");
        if (OPS[k].fn(&o, &r, &e)) {
            jb_lit(&r, "}\n");
            write_line(&r, id_raw, id_len);
        } else {
            respond_error(id_raw, id_len, e.cls, e.msg, NULL, 0);
        }
        jb_free(&r);
    }
out:
    json_object_free(&o);
    return quit;
}

static int blank(const char *s, size_t n)
{
    size_t k;
    for (k = 0; k < n; k++) {
        if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r' && s[k] != '\n')
            return 0;
    }
    return 1;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int status = 0;

    for (;;) {
        errno = 0;
        got = getline(&line, &cap, stdin);
        if (got < 0) {
            if (ferror(stdin)) {
                fprintf(stderr, "sframe-c: read error: %s\n",
                        strerror(errno));
                status = 1;
            }
            break;
        }
        if (blank(line, (size_t)got))
            continue;
        if (handle_line(line, (size_t)got))
            break;
    }
    free(line);
    handles_free_all();
    return status;
}
