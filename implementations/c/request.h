/*
 * request.h - a request's fields, decoded once by name from a table.
 *
 * Each op in server.c names the fields it needs (and those it may take) as
 * a bit mask of arg_id; request_decode checks and decodes them all before
 * the op runs, and request_free releases them after. Decoding is the same
 * for both framings: a binary field is raw bytes (binary-v1) or hex text
 * (JSON lines, or a string in binary-v1), a u64 is a U64 value or a decimal
 * string, an integer is an integer.
 */
#ifndef SFRAME_REQUEST_H
#define SFRAME_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "sframe.h"
#include "wire.h"

/* The decode order is this order: suite first, so an unknown suite is
 * `unsupported` whatever else is wrong. */
typedef enum {
    A_SUITE,
    A_CTX,
    /* u64 */
    A_KID, A_CTR, A_NEXT_CTR, A_GENERATION, A_EPOCH, A_SENDER_INDEX,
    A_CONTEXT_ID,
    /* binary */
    A_BASE_KEY, A_METADATA, A_PLAINTEXT, A_CIPHERTEXT, A_DATA, A_KEY,
    A_NONCE, A_AAD, A_EPOCH_SECRET, A_CIPHERTEXT_A, A_CIPHERTEXT_B,
    A_SCHEDULE,
    /* integers, each with its range */
    A_STEPS, A_RATCHET_BITS, A_STEP, A_EPOCH_BITS, A_SENDER_BITS,
    A_REPLAY_WINDOW, A_COUNT,
    /* strings */
    A_USAGE, A_MODE,
    A_N
} arg_id;

#define ARG(a) ((uint64_t)1 << (a))

/* A request-handling failure: class plus a static human message. */
typedef struct {
    const char *cls;
    const char *msg;
} req_err;

int set_err(req_err *e, const char *cls, const char *msg);
int set_sf_err(req_err *e, sf_err rc);

typedef struct {
    const uint8_t *p; /* never NULL once decoded (possibly zero length) */
    size_t n;
    uint8_t *owned;   /* hex-decoded copy, wiped and freed by request_free */
} arg_bytes;

typedef struct {
    uint64_t present;     /* ARG() bits of the fields decoded */
    const sf_suite *suite;
    uint64_t ctx_id;      /* A_CTX: the number after "c" */
    uint64_t u[A_N];      /* u64 fields */
    long long i[A_N];     /* integer fields */
    arg_bytes b[A_N];     /* binary fields */
    const char *s[A_N];   /* string fields (not NUL-terminated) */
    size_t s_len[A_N];
} args;

/*
 * Decodes the fields in need (missing: invalid_argument) and in opt
 * (absent or null: left out of a->present). Returns 1, or 0 with *e set.
 * Call request_free in either case.
 */
int request_decode(const wmsg *m, uint64_t need, uint64_t opt, args *a,
                   req_err *e);
void request_free(args *a);

static inline int has(const args *a, arg_id id)
{
    return (a->present & ARG(id)) != 0;
}

#endif /* SFRAME_REQUEST_H */
