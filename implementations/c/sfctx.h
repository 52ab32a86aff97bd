/*
 * sfctx.h - stateful SFrame key management over sframe.h:
 *
 *   - plain contexts: a key store of send-only / receive-only keys with
 *     managed counters (RFC 9605 section 4.4.1), optional replay window;
 *   - sender-key ratchet senders and receivers (section 5.1);
 *   - MLS epoch contexts (section 5.2), optional replay window.
 *
 * Every function returns SF_OK or an sf_err class. Use of a context of the
 * wrong kind (e.g. mls_encrypt on a plain context) is SF_ERR_INVALID.
 * Memory is bounded: see the SF_MAX_* limits below; going past one is
 * SF_ERR_INVALID.
 */
#ifndef SFRAME_CTX_H
#define SFRAME_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "sframe.h"

#define SF_MAX_CONTEXTS 65536         /* live contexts, all kinds */
#define SF_MAX_KEYS_PER_TABLE 4096    /* keys in one context or MLS epoch */
#define SF_MAX_KEYS_TOTAL (1u << 20)  /* keys across all contexts */
#define SF_MAX_REPLAY_WINDOW 65536    /* replay_window N */
#define SF_MAX_MLS_EPOCHS 1024        /* installed epochs per MLS context */
#define SF_RATCHET_MAX_KEPT 1024      /* receiver keeps min(W, this) steps */
#define SF_RATCHET_MAX_FORWARD 65536  /* receiver derives at most this far */
#define SF_RATCHET_MAX_DERIVE (1u << 20) /* steps for sf_ratchet_derive */

typedef struct sf_ctx sf_ctx;

/* Number of live contexts. */
size_t sf_ctx_count(void);
void sf_ctx_free(sf_ctx *c);

/* ---- plain contexts ---- */

/* replay_window 0 = no replay window, else 1..SF_MAX_REPLAY_WINDOW. */
sf_err sf_ctx_new(const sf_suite *s, uint64_t replay_window, sf_ctx **out);
sf_err sf_ctx_add_key(sf_ctx *c, uint64_t kid, const uint8_t *base_key,
                      size_t base_len, int send, uint64_t next_ctr);
sf_err sf_ctx_remove_key(sf_ctx *c, uint64_t kid);

/*
 * Encrypt with the send key for kid (has_kid = 0: a ratchet sender's
 * current KID) at its next CTR, then advance the counter. *out is malloc'd.
 */
sf_err sf_ctx_encrypt(sf_ctx *c, int has_kid, uint64_t kid,
                      const uint8_t *md, size_t md_len, const uint8_t *pt,
                      size_t pt_len, uint8_t **out, size_t *out_len,
                      uint64_t *kid_used, uint64_t *ctr_used);

/* Decrypt with the receive key named by the header. *out is malloc'd. */
sf_err sf_ctx_decrypt(sf_ctx *c, const uint8_t *md, size_t md_len,
                      const uint8_t *frame, size_t frame_len, uint8_t **out,
                      size_t *out_len, uint64_t *kid, uint64_t *ctr);

/* ---- sender-key ratchet ---- */

/* base_key after `steps` ratchet steps; *out (s->nh or base_len bytes) is
 * malloc'd. steps <= SF_RATCHET_MAX_DERIVE. */
sf_err sf_ratchet_derive(const sf_suite *s, const uint8_t *base_key,
                         size_t base_len, uint64_t steps, uint8_t **out,
                         size_t *out_len);

/* ratchet_bits R in 1..63; (generation << R) must fit in 64 bits. */
sf_err sf_ratchet_sender_new(const sf_suite *s, const uint8_t *base_key,
                             size_t base_len, uint64_t generation,
                             uint64_t ratchet_bits, sf_ctx **out,
                             uint64_t *kid);
sf_err sf_ratchet_advance(sf_ctx *c, uint64_t *kid, uint64_t *step);
sf_err sf_ratchet_receiver_new(const sf_suite *s, const uint8_t *base_key,
                               size_t base_len, uint64_t generation,
                               uint64_t ratchet_bits, uint64_t step,
                               sf_ctx **out);

/* ---- MLS ---- */

sf_err sf_mls_new(const sf_suite *s, uint64_t epoch_bits, uint64_t sender_bits,
                  uint64_t replay_window, sf_ctx **out);
sf_err sf_mls_add_epoch(sf_ctx *c, uint64_t epoch, const uint8_t *secret,
                        size_t secret_len);
sf_err sf_mls_remove_epoch(sf_ctx *c, uint64_t epoch);
sf_err sf_mls_encrypt(sf_ctx *c, uint64_t epoch, uint64_t sender_index,
                      uint64_t context_id, const uint8_t *md, size_t md_len,
                      const uint8_t *pt, size_t pt_len, uint8_t **out,
                      size_t *out_len, uint64_t *kid, uint64_t *ctr);
sf_err sf_mls_decrypt(sf_ctx *c, const uint8_t *md, size_t md_len,
                      const uint8_t *frame, size_t frame_len, uint8_t **out,
                      size_t *out_len, uint64_t *epoch,
                      uint64_t *sender_index, uint64_t *context_id);

#endif /* SFRAME_CTX_H */
