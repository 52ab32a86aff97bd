/*
 * sfctx.c - stateful SFrame key management (see sfctx.h).
 */
#include "sfctx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* 2^n - 1 for n in 0..64, without a shift by 64. */
static uint64_t mask_bits(unsigned n)
{
    return n >= 64 ? UINT64_MAX : (((uint64_t)1 << n) - 1);
}

/* v << n for n in 0..64 (0 if n == 64). */
static uint64_t shl(uint64_t v, unsigned n)
{
    return n >= 64 ? 0 : v << n;
}

/* v >> n for n in 0..64 (0 if n == 64). */
static uint64_t shr(uint64_t v, unsigned n)
{
    return n >= 64 ? 0 : v >> n;
}

static size_t g_contexts;
static size_t g_keys;

/* ------------------------------------------------------------------ */
/* Replay window (RFC 3711 section 3.3.2 style)                        */
/* ------------------------------------------------------------------ */

typedef struct {
    int seen;       /* a frame has been accepted */
    uint64_t high;  /* highest accepted CTR */
    uint64_t *bits; /* bit i set: CTR high - i accepted (i < N) */
} sf_replay;

static size_t replay_words(uint64_t n)
{
    return (size_t)((n + 63) / 64);
}

/* Allocates the bitmap so that replay_update cannot fail later. */
static sf_err replay_prepare(sf_replay *r, uint64_t n)
{
    if (n == 0 || r->bits != NULL)
        return SF_OK;
    r->bits = calloc(replay_words(n), sizeof(uint64_t));
    return r->bits ? SF_OK : SF_ERR_INTERNAL;
}

static sf_err replay_check(const sf_replay *r, uint64_t n, uint64_t ctr)
{
    uint64_t d;

    if (n == 0 || !r->seen || ctr > r->high)
        return SF_OK;
    d = r->high - ctr;
    if (d >= n)
        return SF_ERR_REPLAY;
    if ((r->bits[d / 64] >> (d % 64)) & 1u)
        return SF_ERR_REPLAY;
    return SF_OK;
}

/* Moves bit i to bit i + s for every i (s < 64 * nw). */
static void bits_shift_up(uint64_t *w, size_t nw, uint64_t s)
{
    size_t ws = (size_t)(s / 64), i;
    unsigned bs = (unsigned)(s % 64);

    for (i = nw; i-- > 0;) {
        uint64_t v = 0;
        if (i >= ws) {
            v = w[i - ws] << bs;
            if (bs != 0 && i >= ws + 1)
                v |= w[i - ws - 1] >> (64 - bs);
        }
        w[i] = v;
    }
}

/* Records ctr as accepted. replay_prepare and replay_check passed. */
static void replay_update(sf_replay *r, uint64_t n, uint64_t ctr)
{
    size_t nw = replay_words(n);

    if (n == 0 || r->bits == NULL)
        return;
    if (!r->seen || ctr > r->high) {
        uint64_t s = r->seen ? ctr - r->high : n;
        if (s >= n)
            memset(r->bits, 0, nw * sizeof(uint64_t));
        else
            bits_shift_up(r->bits, nw, s);
        r->seen = 1;
        r->high = ctr;
        r->bits[0] |= 1u;
    } else {
        uint64_t d = r->high - ctr; /* < n: replay_check passed */
        r->bits[d / 64] |= (uint64_t)1 << (d % 64);
    }
}

/* ------------------------------------------------------------------ */
/* Key tables                                                          */
/* ------------------------------------------------------------------ */

enum { USE_SEND = 1, USE_RECV = 2 };

typedef struct {
    uint64_t kid;
    int usage;
    uint8_t key[SF_MAX_KEY_LEN];
    uint8_t salt[SF_NONCE_LEN];
    uint64_t next_ctr; /* send: next CTR to use */
    int exhausted;     /* send: CTR 2^64-1 has been used */
    sf_replay rp;      /* receive: replay window */
} key_entry;

typedef struct {
    key_entry *v;
    size_t n, cap;
} key_table;

static void entry_clear(key_entry *e)
{
    free(e->rp.bits);
    OPENSSL_cleanse(e, sizeof(*e));
}

static key_entry *table_find(const key_table *t, uint64_t kid)
{
    size_t i;
    for (i = 0; i < t->n; i++) {
        if (t->v[i].kid == kid)
            return &t->v[i];
    }
    return NULL;
}

static sf_err table_room(const key_table *t)
{
    if (t->n >= SF_MAX_KEYS_PER_TABLE || g_keys >= SF_MAX_KEYS_TOTAL)
        return SF_ERR_INVALID;
    return SF_OK;
}

/* Appends a zeroed entry for kid and returns it (valid until the next
 * add or remove on this table). */
static sf_err table_add(key_table *t, uint64_t kid, key_entry **out)
{
    sf_err rc = table_room(t);

    *out = NULL;
    if (rc != SF_OK)
        return rc;
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 4;
        key_entry *nv;
        if (ncap > SF_MAX_KEYS_PER_TABLE)
            ncap = SF_MAX_KEYS_PER_TABLE;
        nv = malloc(ncap * sizeof(*nv));
        if (nv == NULL)
            return SF_ERR_INTERNAL;
        /* Copy by hand so that the old block can be wiped. */
        if (t->n)
            memcpy(nv, t->v, t->n * sizeof(*nv));
        if (t->v) {
            OPENSSL_cleanse(t->v, t->cap * sizeof(*t->v));
            free(t->v);
        }
        t->v = nv;
        t->cap = ncap;
    }
    memset(&t->v[t->n], 0, sizeof(key_entry));
    t->v[t->n].kid = kid;
    *out = &t->v[t->n];
    t->n++;
    g_keys++;
    return SF_OK;
}

static void table_remove(key_table *t, key_entry *e)
{
    size_t i = (size_t)(e - t->v);
    entry_clear(e);
    if (i != t->n - 1) {
        t->v[i] = t->v[t->n - 1];
        OPENSSL_cleanse(&t->v[t->n - 1], sizeof(key_entry));
    }
    t->n--;
    g_keys--;
}

static void table_free(key_table *t)
{
    size_t i;
    for (i = 0; i < t->n; i++)
        entry_clear(&t->v[i]);
    g_keys -= t->n;
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

/* Encrypts with a send entry at its next CTR, then advances it. */
static sf_err entry_seal(const sf_suite *s, key_entry *e, const uint8_t *md,
                         size_t md_len, const uint8_t *pt, size_t pt_len,
                         uint8_t **out, size_t *out_len, uint64_t *ctr_used)
{
    uint64_t ctr = e->next_ctr;
    sf_err rc;

    if (e->exhausted)
        return SF_ERR_COUNTER;
    rc = sf_frame_seal(s, e->key, e->salt, e->kid, ctr, md, md_len, pt,
                       pt_len, out, out_len);
    if (rc != SF_OK)
        return rc;
    if (ctr == UINT64_MAX)
        e->exhausted = 1; /* never wrap */
    else
        e->next_ctr = ctr + 1;
    *ctr_used = ctr;
    return SF_OK;
}

/* ------------------------------------------------------------------ */
/* Contexts                                                            */
/* ------------------------------------------------------------------ */

typedef enum {
    CTX_PLAIN,
    CTX_RATCHET_SEND,
    CTX_RATCHET_RECV,
    CTX_MLS
} ctx_kind;

typedef struct {
    uint64_t step;
    uint8_t key[SF_MAX_KEY_LEN];
    uint8_t salt[SF_NONCE_LEN];
} ratchet_key;

typedef struct {
    uint64_t epoch;
    uint8_t *secret;
    size_t secret_len;
    key_table kids;
} mls_epoch;

struct sf_ctx {
    ctx_kind kind;
    const sf_suite *suite;
    uint64_t replay; /* window N, 0 = off */

    /* CTX_PLAIN */
    key_table keys;

    /* CTX_RATCHET_*: KID = (gen << r) + (step mod 2^r) */
    uint64_t gen;
    unsigned r;
    uint64_t step;     /* sender: current step; receiver: newest step c */
    uint8_t *base;     /* base key of `step` */
    size_t base_len;
    key_entry send;    /* sender: the current step's send key */
    ratchet_key *kept; /* receiver: steps kept[0].step .. c, ascending,
                          contiguous */
    size_t nkept, kept_cap, kept_max;

    /* CTX_MLS: KID = (context << (s+e)) + (index << e) + (epoch mod 2^e) */
    unsigned e, s;
    mls_epoch *epochs;
    size_t nepochs, epochs_cap;
};

size_t sf_ctx_count(void)
{
    return g_contexts;
}

static sf_err ctx_alloc(const sf_suite *s, ctx_kind kind, sf_ctx **out)
{
    sf_ctx *c;

    *out = NULL;
    if (s == NULL)
        return SF_ERR_UNSUPPORTED;
    if (g_contexts >= SF_MAX_CONTEXTS)
        return SF_ERR_INVALID;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return SF_ERR_INTERNAL;
    c->kind = kind;
    c->suite = s;
    g_contexts++;
    *out = c;
    return SF_OK;
}

static void free_secret(uint8_t **p, size_t *n)
{
    if (*p) {
        OPENSSL_cleanse(*p, *n);
        free(*p);
    }
    *p = NULL;
    *n = 0;
}

static sf_err dup_secret(const uint8_t *in, size_t n, uint8_t **out)
{
    *out = malloc(n ? n : 1);
    if (*out == NULL)
        return SF_ERR_INTERNAL;
    if (n)
        memcpy(*out, in, n);
    return SF_OK;
}

static void epoch_free(mls_epoch *ep)
{
    free_secret(&ep->secret, &ep->secret_len);
    table_free(&ep->kids);
}

void sf_ctx_free(sf_ctx *c)
{
    size_t i;

    if (c == NULL)
        return;
    table_free(&c->keys);
    free_secret(&c->base, &c->base_len);
    OPENSSL_cleanse(&c->send, sizeof(c->send));
    if (c->kept) {
        OPENSSL_cleanse(c->kept, c->kept_cap * sizeof(*c->kept));
        free(c->kept);
    }
    for (i = 0; i < c->nepochs; i++)
        epoch_free(&c->epochs[i]);
    free(c->epochs);
    OPENSSL_cleanse(c, sizeof(*c));
    free(c);
    g_contexts--;
}

/* ------------------------------------------------------------------ */
/* Plain contexts                                                      */
/* ------------------------------------------------------------------ */

sf_err sf_ctx_new(const sf_suite *s, uint64_t replay_window, sf_ctx **out)
{
    sf_err rc;

    *out = NULL;
    if (replay_window > SF_MAX_REPLAY_WINDOW)
        return SF_ERR_INVALID;
    rc = ctx_alloc(s, CTX_PLAIN, out);
    if (rc == SF_OK)
        (*out)->replay = replay_window;
    return rc;
}

sf_err sf_ctx_add_key(sf_ctx *c, uint64_t kid, const uint8_t *base_key,
                      size_t base_len, int send, uint64_t next_ctr)
{
    uint8_t key[SF_MAX_KEY_LEN], salt[SF_NONCE_LEN];
    key_entry *e;
    sf_err rc;

    if (c->kind != CTX_PLAIN)
        return SF_ERR_INVALID;
    if (table_find(&c->keys, kid) != NULL)
        return SF_ERR_KEY_USAGE; /* one key per KID, send or receive */
    rc = table_room(&c->keys);
    if (rc != SF_OK)
        return rc;
    rc = sf_derive(c->suite, base_key, base_len, kid, key, salt);
    if (rc == SF_OK)
        rc = table_add(&c->keys, kid, &e);
    if (rc == SF_OK) {
        memcpy(e->key, key, sizeof(key));
        memcpy(e->salt, salt, sizeof(salt));
        e->usage = send ? USE_SEND : USE_RECV;
        e->next_ctr = send ? next_ctr : 0;
    }
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(salt, sizeof(salt));
    return rc;
}

sf_err sf_ctx_remove_key(sf_ctx *c, uint64_t kid)
{
    key_entry *e;

    if (c->kind != CTX_PLAIN)
        return SF_ERR_INVALID;
    e = table_find(&c->keys, kid);
    if (e == NULL)
        return SF_ERR_UNKNOWN_KID;
    table_remove(&c->keys, e);
    return SF_OK;
}

/* Receiver: the kept step whose KID is kid, or NULL. */
static ratchet_key *ratchet_kept(const sf_ctx *c, uint64_t kid)
{
    uint64_t mask = mask_bits(c->r), d;

    if ((kid >> c->r) != c->gen || c->nkept == 0)
        return NULL;
    /* Steps behind c that share kid's step field: the nearest one. */
    d = (c->step - (kid & mask)) & mask;
    if (d >= c->nkept)
        return NULL;
    return &c->kept[c->nkept - 1 - (size_t)d];
}

sf_err sf_ctx_encrypt(sf_ctx *c, int has_kid, uint64_t kid,
                      const uint8_t *md, size_t md_len, const uint8_t *pt,
                      size_t pt_len, uint8_t **out, size_t *out_len,
                      uint64_t *kid_used, uint64_t *ctr_used)
{
    key_entry *e;

    *out = NULL;
    *out_len = 0;
    switch (c->kind) {
    case CTX_PLAIN:
        if (!has_kid)
            return SF_ERR_INVALID;
        e = table_find(&c->keys, kid);
        if (e == NULL)
            return SF_ERR_UNKNOWN_KID;
        if (e->usage != USE_SEND)
            return SF_ERR_KEY_USAGE;
        break;
    case CTX_RATCHET_SEND:
        if (has_kid && kid != c->send.kid)
            return SF_ERR_UNKNOWN_KID;
        e = &c->send;
        break;
    case CTX_RATCHET_RECV: /* receivers only decrypt */
    case CTX_MLS:
    default:
        return SF_ERR_INVALID;
    }
    *kid_used = e->kid;
    return entry_seal(c->suite, e, md, md_len, pt, pt_len, out, out_len,
                      ctr_used);
}

/* Ratchet receiver decrypt (section 5.1, PROTOCOL.md receiver window). */
static sf_err ratchet_recv_open(sf_ctx *c, const uint8_t *md, size_t md_len,
                                const uint8_t *frame, size_t frame_len,
                                size_t hdr_len, uint64_t kid, uint64_t ctr,
                                uint8_t **out, size_t *out_len)
{
    const sf_suite *s = c->suite;
    uint64_t mask = mask_bits(c->r), ahead, target, st;
    ratchet_key *k = ratchet_kept(c, kid), *tmp = NULL;
    uint8_t base[SF_MAX_HASH_LEN], next[SF_MAX_HASH_LEN];
    size_t ntmp, need, i;
    sf_err rc;

    if ((kid >> c->r) != c->gen)
        return SF_ERR_UNKNOWN_KID;
    if (frame_len - hdr_len < s->nt)
        return SF_ERR_MALFORMED;
    if (k != NULL) /* a kept step: reordering, no state change */
        return sf_frame_open(s, k->key, k->salt, frame, frame_len, hdr_len,
                             ctr, md, md_len, out, out_len);

    /* A step ahead of c: derive forward, commit only if it authenticates. */
    ahead = ((kid & mask) - c->step) & mask;
    if (ahead == 0) /* cannot happen: step c is always kept */
        return SF_ERR_INTERNAL;
    /* Too far to derive (only for R > 16) or past step 2^64-1: no key we
     * are willing to derive authenticates it. */
    if (ahead > SF_RATCHET_MAX_FORWARD || c->step > UINT64_MAX - ahead)
        return SF_ERR_AUTH;
    target = c->step + ahead;
    ntmp = ahead < c->kept_max ? (size_t)ahead : c->kept_max;
    tmp = malloc(ntmp * sizeof(*tmp));
    if (tmp == NULL)
        return SF_ERR_INTERNAL;

    /* The first step from c->base (any length), then Nh-byte keys. */
    rc = sf_ratchet(s, c->base, c->base_len, base);
    for (st = c->step + 1; rc == SF_OK; st++) {
        if (target - st < ntmp) {
            ratchet_key *slot = &tmp[ntmp - 1 - (size_t)(target - st)];
            slot->step = st;
            rc = sf_derive(s, base, s->nh, (c->gen << c->r) | (st & mask),
                           slot->key, slot->salt);
            if (rc != SF_OK)
                break;
        }
        if (st == target)
            break;
        rc = sf_ratchet(s, base, s->nh, next);
        memcpy(base, next, s->nh);
    }
    if (rc == SF_OK)
        rc = sf_frame_open(s, tmp[ntmp - 1].key, tmp[ntmp - 1].salt, frame,
                           frame_len, hdr_len, ctr, md, md_len, out, out_len);
    if (rc == SF_OK && c->base_len != s->nh) {
        uint8_t *nb = malloc(s->nh);
        if (nb == NULL) {
            rc = SF_ERR_INTERNAL;
        } else {
            free_secret(&c->base, &c->base_len);
            c->base = nb;
            c->base_len = s->nh;
        }
    }
    need = c->nkept + ntmp < c->kept_max ? c->nkept + ntmp : c->kept_max;
    if (rc == SF_OK && c->kept_cap < need) {
        ratchet_key *nk = malloc(need * sizeof(*nk));
        if (nk == NULL) {
            rc = SF_ERR_INTERNAL;
        } else {
            memcpy(nk, c->kept, c->nkept * sizeof(*nk));
            OPENSSL_cleanse(c->kept, c->kept_cap * sizeof(*c->kept));
            free(c->kept);
            c->kept = nk;
            c->kept_cap = need;
        }
    }
    if (rc != SF_OK) {
        if (*out) {
            OPENSSL_cleanse(*out, *out_len);
            free(*out);
            *out = NULL;
            *out_len = 0;
        }
    } else {
        /* Commit: c moves to target; keep the newest kept_max steps. */
        size_t keep_old = 0;
        if (ntmp < c->kept_max) {
            keep_old = c->kept_max - ntmp;
            if (ahead > ntmp) /* not contiguous with the old steps */
                keep_old = 0;
            if (keep_old > c->nkept)
                keep_old = c->nkept;
        }
        if (keep_old < c->nkept) {
            size_t drop = c->nkept - keep_old;
            memmove(c->kept, c->kept + drop, keep_old * sizeof(*c->kept));
            OPENSSL_cleanse(c->kept + keep_old, drop * sizeof(*c->kept));
        }
        for (i = 0; i < ntmp; i++)
            c->kept[keep_old + i] = tmp[i];
        c->nkept = keep_old + ntmp;
        memcpy(c->base, base, s->nh);
        c->step = target;
    }
    OPENSSL_cleanse(tmp, ntmp * sizeof(*tmp));
    free(tmp);
    OPENSSL_cleanse(base, sizeof(base));
    OPENSSL_cleanse(next, sizeof(next));
    return rc;
}

/* Replay-checked open with a receive entry; window updated on success. */
static sf_err entry_open(const sf_suite *s, key_entry *e, uint64_t window,
                         const uint8_t *md, size_t md_len,
                         const uint8_t *frame, size_t frame_len,
                         size_t hdr_len, uint64_t ctr, uint8_t **out,
                         size_t *out_len)
{
    sf_err rc = replay_check(&e->rp, window, ctr);

    if (rc == SF_OK)
        rc = replay_prepare(&e->rp, window);
    if (rc == SF_OK)
        rc = sf_frame_open(s, e->key, e->salt, frame, frame_len, hdr_len,
                           ctr, md, md_len, out, out_len);
    if (rc == SF_OK)
        replay_update(&e->rp, window, ctr);
    return rc;
}

sf_err sf_ctx_decrypt(sf_ctx *c, const uint8_t *md, size_t md_len,
                      const uint8_t *frame, size_t frame_len, uint8_t **out,
                      size_t *out_len, uint64_t *kid, uint64_t *ctr)
{
    size_t hdr_len = 0;
    key_entry *e;
    sf_err rc;

    *out = NULL;
    *out_len = 0;
    if (c->kind == CTX_MLS)
        return SF_ERR_INVALID;
    rc = sf_header_parse(frame, frame_len, kid, ctr, &hdr_len);
    if (rc != SF_OK)
        return rc;
    switch (c->kind) {
    case CTX_PLAIN:
        e = table_find(&c->keys, *kid);
        if (e == NULL)
            return SF_ERR_UNKNOWN_KID;
        if (e->usage != USE_RECV)
            return SF_ERR_KEY_USAGE;
        return entry_open(c->suite, e, c->replay, md, md_len, frame,
                          frame_len, hdr_len, *ctr, out, out_len);
    case CTX_RATCHET_SEND:
        return *kid == c->send.kid ? SF_ERR_KEY_USAGE : SF_ERR_UNKNOWN_KID;
    case CTX_RATCHET_RECV:
        return ratchet_recv_open(c, md, md_len, frame, frame_len, hdr_len,
                                 *kid, *ctr, out, out_len);
    case CTX_MLS:
    default:
        return SF_ERR_INVALID;
    }
}

/* ------------------------------------------------------------------ */
/* Sender-key ratchet                                                  */
/* ------------------------------------------------------------------ */

sf_err sf_ratchet_derive(const sf_suite *s, const uint8_t *base_key,
                         size_t base_len, uint64_t steps, uint8_t **out,
                         size_t *out_len)
{
    uint8_t cur[SF_MAX_HASH_LEN], next[SF_MAX_HASH_LEN];
    uint64_t i;
    sf_err rc = SF_OK;

    *out = NULL;
    *out_len = 0;
    if (s == NULL)
        return SF_ERR_UNSUPPORTED;
    if (steps > SF_RATCHET_MAX_DERIVE)
        return SF_ERR_INVALID;
    if (steps == 0) {
        rc = dup_secret(base_key, base_len, out);
        if (rc == SF_OK)
            *out_len = base_len;
        return rc;
    }
    rc = sf_ratchet(s, base_key, base_len, cur);
    for (i = 1; rc == SF_OK && i < steps; i++) {
        rc = sf_ratchet(s, cur, s->nh, next);
        memcpy(cur, next, s->nh);
    }
    if (rc == SF_OK)
        rc = dup_secret(cur, s->nh, out);
    if (rc == SF_OK)
        *out_len = s->nh;
    OPENSSL_cleanse(cur, sizeof(cur));
    OPENSSL_cleanse(next, sizeof(next));
    return rc;
}

static sf_err ratchet_check(uint64_t generation, uint64_t r)
{
    if (r < 1 || r > 63)
        return SF_ERR_INVALID;
    if ((generation >> (64 - r)) != 0) /* generation << r overflows */
        return SF_ERR_INVALID;
    return SF_OK;
}

/* A ratchet sender or receiver with its generation, R and first step set. */
static sf_err ratchet_ctx_new(const sf_suite *s, ctx_kind kind, uint64_t generation,
                              uint64_t ratchet_bits, uint64_t step, sf_ctx **out)
{
    sf_err rc;

    if (s == NULL)
        return SF_ERR_UNSUPPORTED;
    rc = ratchet_check(generation, ratchet_bits);
    if (rc == SF_OK)
        rc = ctx_alloc(s, kind, out);
    if (rc != SF_OK)
        return rc;
    (*out)->gen = generation;
    (*out)->r = (unsigned)ratchet_bits;
    (*out)->step = step;
    return SF_OK;
}

sf_err sf_ratchet_sender_new(const sf_suite *s, const uint8_t *base_key,
                             size_t base_len, uint64_t generation,
                             uint64_t ratchet_bits, sf_ctx **out,
                             uint64_t *kid)
{
    sf_ctx *c;
    sf_err rc;

    *out = NULL;
    rc = ratchet_ctx_new(s, CTX_RATCHET_SEND, generation, ratchet_bits, 0, &c);
    if (rc != SF_OK)
        return rc;
    c->send.kid = generation << c->r;
    c->send.usage = USE_SEND;
    rc = dup_secret(base_key, base_len, &c->base);
    if (rc == SF_OK) {
        c->base_len = base_len;
        rc = sf_derive(s, base_key, base_len, c->send.kid, c->send.key,
                       c->send.salt);
    }
    if (rc != SF_OK) {
        sf_ctx_free(c);
        return rc;
    }
    *kid = c->send.kid;
    *out = c;
    return SF_OK;
}

sf_err sf_ratchet_advance(sf_ctx *c, uint64_t *kid, uint64_t *step)
{
    const sf_suite *s = c->suite;
    uint8_t next[SF_MAX_HASH_LEN], key[SF_MAX_KEY_LEN], salt[SF_NONCE_LEN];
    uint64_t nkid;
    uint8_t *nb = NULL;
    sf_err rc;

    if (c->kind != CTX_RATCHET_SEND)
        return SF_ERR_INVALID;
    if (c->step >= (uint64_t)INT64_MAX) /* step is a JSON integer */
        return SF_ERR_INVALID;
    nkid = (c->gen << c->r) | ((c->step + 1) & mask_bits(c->r));
    rc = sf_ratchet(s, c->base, c->base_len, next);
    if (rc == SF_OK)
        rc = sf_derive(s, next, s->nh, nkid, key, salt);
    if (rc == SF_OK)
        rc = dup_secret(next, s->nh, &nb);
    if (rc == SF_OK) {
        free_secret(&c->base, &c->base_len);
        c->base = nb;
        c->base_len = s->nh;
        c->step++;
        memcpy(c->send.key, key, sizeof(key));
        memcpy(c->send.salt, salt, sizeof(salt));
        c->send.kid = nkid;
        c->send.next_ctr = 0; /* a new key: its CTR restarts at 0 */
        c->send.exhausted = 0;
        *kid = nkid;
        *step = c->step;
    }
    OPENSSL_cleanse(next, sizeof(next));
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(salt, sizeof(salt));
    return rc;
}

sf_err sf_ratchet_receiver_new(const sf_suite *s, const uint8_t *base_key,
                               size_t base_len, uint64_t generation,
                               uint64_t ratchet_bits, uint64_t step,
                               sf_ctx **out)
{
    uint64_t w;
    sf_ctx *c;
    sf_err rc;

    *out = NULL;
    rc = ratchet_ctx_new(s, CTX_RATCHET_RECV, generation, ratchet_bits, step, &c);
    if (rc != SF_OK)
        return rc;
    w = (uint64_t)1 << (c->r - 1); /* W = 2^(R-1) */
    c->kept_max = w < SF_RATCHET_MAX_KEPT ? (size_t)w : SF_RATCHET_MAX_KEPT;
    c->kept = malloc(sizeof(*c->kept));
    if (c->kept == NULL) {
        rc = SF_ERR_INTERNAL;
    } else {
        c->kept_cap = 1;
        c->kept[0].step = step;
        rc = dup_secret(base_key, base_len, &c->base);
    }
    if (rc == SF_OK) {
        c->base_len = base_len;
        rc = sf_derive(s, base_key, base_len,
                       (generation << c->r) | (step & mask_bits(c->r)),
                       c->kept[0].key, c->kept[0].salt);
    }
    if (rc != SF_OK) {
        sf_ctx_free(c);
        return rc;
    }
    c->nkept = 1;
    *out = c;
    return SF_OK;
}

/* ------------------------------------------------------------------ */
/* MLS (section 5.2)                                                   */
/* ------------------------------------------------------------------ */

sf_err sf_mls_new(const sf_suite *s, uint64_t epoch_bits, uint64_t sender_bits,
                  uint64_t replay_window, sf_ctx **out)
{
    sf_err rc;

    *out = NULL;
    if (s == NULL)
        return SF_ERR_UNSUPPORTED;
    if (epoch_bits > 64 || sender_bits > 64 || epoch_bits + sender_bits > 64)
        return SF_ERR_INVALID;
    if (replay_window > SF_MAX_REPLAY_WINDOW)
        return SF_ERR_INVALID;
    rc = ctx_alloc(s, CTX_MLS, out);
    if (rc != SF_OK)
        return rc;
    (*out)->e = (unsigned)epoch_bits;
    (*out)->s = (unsigned)sender_bits;
    (*out)->replay = replay_window;
    return SF_OK;
}

static mls_epoch *epoch_by_low(const sf_ctx *c, uint64_t low)
{
    uint64_t m = mask_bits(c->e);
    size_t i;
    for (i = 0; i < c->nepochs; i++) {
        if ((c->epochs[i].epoch & m) == low)
            return &c->epochs[i];
    }
    return NULL;
}

static void epoch_remove(sf_ctx *c, mls_epoch *ep)
{
    size_t i = (size_t)(ep - c->epochs);
    epoch_free(ep);
    if (i != c->nepochs - 1)
        c->epochs[i] = c->epochs[c->nepochs - 1];
    c->nepochs--;
}

sf_err sf_mls_add_epoch(sf_ctx *c, uint64_t epoch, const uint8_t *secret,
                        size_t secret_len)
{
    mls_epoch *ep;
    uint8_t *copy = NULL;
    sf_err rc;

    if (c->kind != CTX_MLS)
        return SF_ERR_INVALID;
    rc = dup_secret(secret, secret_len, &copy);
    if (rc != SF_OK)
        return rc;
    /* An epoch sharing the low E bits is evicted first (a MUST). */
    ep = epoch_by_low(c, epoch & mask_bits(c->e));
    if (ep != NULL)
        epoch_remove(c, ep);
    if (c->nepochs >= SF_MAX_MLS_EPOCHS) {
        free_secret(&copy, &secret_len);
        return SF_ERR_INVALID;
    }
    if (c->nepochs == c->epochs_cap) {
        size_t ncap = c->epochs_cap ? c->epochs_cap * 2 : 4;
        mls_epoch *nv = realloc(c->epochs, ncap * sizeof(*nv));
        if (nv == NULL) {
            free_secret(&copy, &secret_len);
            return SF_ERR_INTERNAL;
        }
        c->epochs = nv;
        c->epochs_cap = ncap;
    }
    ep = &c->epochs[c->nepochs++];
    memset(ep, 0, sizeof(*ep));
    ep->epoch = epoch;
    ep->secret = copy;
    ep->secret_len = secret_len;
    return SF_OK;
}

sf_err sf_mls_remove_epoch(sf_ctx *c, uint64_t epoch)
{
    mls_epoch *ep;

    if (c->kind != CTX_MLS)
        return SF_ERR_INVALID;
    ep = epoch_by_low(c, epoch & mask_bits(c->e));
    if (ep == NULL || ep->epoch != epoch)
        return SF_ERR_UNKNOWN_KID;
    epoch_remove(c, ep);
    return SF_OK;
}

/* Derives a new entry for kid in the epoch's table. */
static sf_err epoch_add_kid(const sf_ctx *c, mls_epoch *ep, uint64_t kid,
                            key_entry **out)
{
    uint8_t key[SF_MAX_KEY_LEN], salt[SF_NONCE_LEN];
    sf_err rc;

    *out = NULL;
    rc = table_room(&ep->kids);
    if (rc == SF_OK)
        rc = sf_derive(c->suite, ep->secret, ep->secret_len, kid, key, salt);
    if (rc == SF_OK)
        rc = table_add(&ep->kids, kid, out);
    if (rc == SF_OK) {
        memcpy((*out)->key, key, sizeof(key));
        memcpy((*out)->salt, salt, sizeof(salt));
    }
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(salt, sizeof(salt));
    return rc;
}

sf_err sf_mls_encrypt(sf_ctx *c, uint64_t epoch, uint64_t sender_index,
                      uint64_t context_id, const uint8_t *md, size_t md_len,
                      const uint8_t *pt, size_t pt_len, uint8_t **out,
                      size_t *out_len, uint64_t *kid, uint64_t *ctr)
{
    mls_epoch *ep;
    key_entry *e;
    uint64_t k;
    sf_err rc;

    *out = NULL;
    *out_len = 0;
    if (c->kind != CTX_MLS)
        return SF_ERR_INVALID;
    if (sender_index > mask_bits(c->s) ||
        context_id > mask_bits(64 - c->s - c->e))
        return SF_ERR_INVALID;
    ep = epoch_by_low(c, epoch & mask_bits(c->e));
    if (ep == NULL || ep->epoch != epoch)
        return SF_ERR_UNKNOWN_KID;
    k = shl(context_id, c->s + c->e) | shl(sender_index, c->e) |
        (epoch & mask_bits(c->e));
    e = table_find(&ep->kids, k);
    if (e == NULL) {
        rc = epoch_add_kid(c, ep, k, &e);
        if (rc != SF_OK)
            return rc;
        e->usage = USE_SEND;
    } else if (e->usage != USE_SEND) {
        return SF_ERR_KEY_USAGE; /* this member receives on that KID */
    }
    *kid = k;
    return entry_seal(c->suite, e, md, md_len, pt, pt_len, out, out_len, ctr);
}

sf_err sf_mls_decrypt(sf_ctx *c, const uint8_t *md, size_t md_len,
                      const uint8_t *frame, size_t frame_len, uint8_t **out,
                      size_t *out_len, uint64_t *epoch,
                      uint64_t *sender_index, uint64_t *context_id)
{
    uint64_t kid = 0, ctr = 0;
    size_t hdr_len = 0;
    mls_epoch *ep;
    key_entry *e;
    sf_err rc;

    *out = NULL;
    *out_len = 0;
    if (c->kind != CTX_MLS)
        return SF_ERR_INVALID;
    rc = sf_header_parse(frame, frame_len, &kid, &ctr, &hdr_len);
    if (rc != SF_OK)
        return rc;
    ep = epoch_by_low(c, kid & mask_bits(c->e));
    if (ep == NULL)
        return SF_ERR_UNKNOWN_KID;
    e = table_find(&ep->kids, kid);
    if (e != NULL && e->usage != USE_RECV) {
        return SF_ERR_KEY_USAGE; /* this member sends on that KID */
    } else if (e != NULL) {
        rc = entry_open(c->suite, e, c->replay, md, md_len, frame, frame_len,
                        hdr_len, ctr, out, out_len);
    } else {
        /* First frame for this KID: derive, and only if it authenticates
         * install it as a receive key (with its replay window). */
        uint8_t key[SF_MAX_KEY_LEN], salt[SF_NONCE_LEN];
        rc = table_room(&ep->kids);
        if (rc == SF_OK)
            rc = sf_derive(c->suite, ep->secret, ep->secret_len, kid, key,
                           salt);
        if (rc == SF_OK)
            rc = sf_frame_open(c->suite, key, salt, frame, frame_len, hdr_len,
                               ctr, md, md_len, out, out_len);
        if (rc == SF_OK) {
            rc = table_add(&ep->kids, kid, &e);
            if (rc == SF_OK) {
                memcpy(e->key, key, sizeof(key));
                memcpy(e->salt, salt, sizeof(salt));
                e->usage = USE_RECV;
                rc = replay_prepare(&e->rp, c->replay);
            }
            if (rc == SF_OK) {
                replay_update(&e->rp, c->replay, ctr);
            } else {
                OPENSSL_cleanse(*out, *out_len);
                free(*out);
                *out = NULL;
                *out_len = 0;
            }
        }
        OPENSSL_cleanse(key, sizeof(key));
        OPENSSL_cleanse(salt, sizeof(salt));
    }
    if (rc != SF_OK)
        return rc;
    *epoch = ep->epoch;
    *sender_index = shr(kid, c->e) & mask_bits(c->s);
    *context_id = shr(kid, c->s + c->e);
    return SF_OK;
}
