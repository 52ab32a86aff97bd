/*
 * sframe.h - an independent implementation of SFrame (RFC 9605) over
 * OpenSSL 3 libcrypto.
 *
 * Stateless primitives: header encode/parse, key derivation, the sender
 * key ratchet, the per-suite AEAD, and whole-frame encrypt/decrypt for one
 * key. Stateful key management (contexts) is in sfctx.h.
 */
#ifndef SFRAME_H
#define SFRAME_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#define SF_MAX_HEADER_LEN 17 /* 1 config byte + 8 KID bytes + 8 CTR bytes */
#define SF_NONCE_LEN 12
#define SF_MAX_KEY_LEN 96  /* largest Nk (suites 6-8) */
#define SF_MAX_HASH_LEN 64 /* largest Nh */
#define SF_MAX_TAG_LEN 16

typedef enum {
    SF_OK = 0,
    SF_ERR_MALFORMED,   /* header/ciphertext cannot be parsed */
    SF_ERR_AUTH,        /* tag does not verify */
    SF_ERR_UNKNOWN_KID, /* header KID is not the installed KID */
    SF_ERR_UNSUPPORTED, /* unknown cipher suite */
    SF_ERR_INVALID,     /* bad argument (key/nonce length, ...) */
    SF_ERR_INTERNAL,    /* allocation or libcrypto failure */
    SF_ERR_KEY_USAGE,   /* key used against its usage (send vs receive) */
    SF_ERR_COUNTER,     /* CTR 2^64-1 already used: counter exhausted */
    SF_ERR_REPLAY       /* rejected by the receiver replay window */
} sf_err;

typedef enum { SF_AEAD_CTR_HMAC, SF_AEAD_GCM } sf_aead_kind;

typedef struct {
    uint16_t id;         /* IANA code point */
    const char *name;
    const char *hash;    /* OpenSSL digest name for HKDF (and HMAC) */
    sf_aead_kind kind;
    size_t nh;           /* hash output length */
    size_t nka;          /* AES key length (CTR+HMAC suites), else 0 */
    size_t nk;           /* AEAD key length */
    size_t nn;           /* nonce length */
    size_t nt;           /* tag length */
} sf_suite;

/* Returns the suite with the given code point, or NULL if unsupported. */
const sf_suite *sf_suite_get(long long id);

/* Short, stable name of an error class (as used by the wire protocol). */
const char *sf_err_class(sf_err e);

/* Minimal header encoding. Writes 1..17 bytes to out, returns the length. */
size_t sf_header_encode(uint64_t kid, uint64_t ctr,
                        uint8_t out[SF_MAX_HEADER_LEN]);

/*
 * Parses a header at the start of in[0..len). Accepts non-minimal
 * encodings. Returns SF_ERR_MALFORMED for empty or truncated input.
 */
sf_err sf_header_parse(const uint8_t *in, size_t len, uint64_t *kid,
                       uint64_t *ctr, size_t *hdr_len);

/* RFC 9605 section 4.4.2: key (suite->nk bytes) and salt (nn bytes). */
sf_err sf_derive(const sf_suite *s, const uint8_t *base_key, size_t base_len,
                 uint64_t kid, uint8_t *key, uint8_t *salt);

/*
 * Sender-key ratchet step (RFC 9605 section 5.1):
 * HKDF-Expand(HKDF-Extract("", base_key), "SFrame 1.0 Ratchet", Nh).
 * out receives s->nh bytes.
 */
sf_err sf_ratchet(const sf_suite *s, const uint8_t *base_key, size_t base_len,
                  uint8_t *out);

/*
 * Raw AEAD. key is s->nk bytes, nonce is s->nn bytes.
 * seal: out must hold pt_len + s->nt bytes.
 * open: out must hold ct_len - s->nt bytes (may be NULL if that is 0);
 *       ct_len < s->nt gives SF_ERR_MALFORMED.
 */
sf_err sf_aead_seal(const sf_suite *s, const uint8_t *key,
                    const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                    const uint8_t *pt, size_t pt_len, uint8_t *out);
sf_err sf_aead_open(const sf_suite *s, const uint8_t *key,
                    const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                    const uint8_t *ct, size_t ct_len, uint8_t *out);

/*
 * Whole-frame SFrame encryption at exactly (kid, ctr).
 * On success *out is a malloc'd buffer (header || ciphertext || tag).
 */
sf_err sf_encrypt(const sf_suite *s, const uint8_t *base_key, size_t base_len,
                  uint64_t kid, uint64_t ctr, const uint8_t *metadata,
                  size_t md_len, const uint8_t *pt, size_t pt_len,
                  uint8_t **out, size_t *out_len);

/*
 * Whole-frame SFrame decryption with one key installed under kid.
 * On success *out is a malloc'd buffer (never NULL, possibly length 0).
 */
sf_err sf_decrypt(const sf_suite *s, const uint8_t *base_key, size_t base_len,
                  uint64_t kid, const uint8_t *metadata, size_t md_len,
                  const uint8_t *frame, size_t frame_len, uint8_t **out,
                  size_t *out_len);

/*
 * Frame encryption with an already derived key (s->nk bytes) and salt
 * (SF_NONCE_LEN bytes), at exactly (kid, ctr). *out is malloc'd.
 */
sf_err sf_frame_seal(const sf_suite *s, const uint8_t *key,
                     const uint8_t *salt, uint64_t kid, uint64_t ctr,
                     const uint8_t *metadata, size_t md_len,
                     const uint8_t *pt, size_t pt_len, uint8_t **out,
                     size_t *out_len);

/*
 * Frame decryption with an already derived key and salt. The caller has
 * parsed the header (hdr_len bytes at the start of frame, counter ctr);
 * the AAD is those bytes as received, then metadata. A body shorter than
 * s->nt gives SF_ERR_MALFORMED. On success *out is malloc'd (never NULL).
 */
sf_err sf_frame_open(const sf_suite *s, const uint8_t *key,
                     const uint8_t *salt, const uint8_t *frame,
                     size_t frame_len, size_t hdr_len, uint64_t ctr,
                     const uint8_t *metadata, size_t md_len, uint8_t **out,
                     size_t *out_len);

/*
 * A prepared key: sframe_key and sframe_salt for one KID, with the suite's
 * libcrypto contexts keyed once, so that each frame costs only its AEAD.
 * This is the fast path; sf_encrypt/sf_decrypt build one per call.
 * Not shared between threads. sf_key_clear wipes and frees it.
 */
typedef struct {
    const sf_suite *suite;
    uint64_t kid;
    uint8_t key[SF_MAX_KEY_LEN];
    uint8_t salt[SF_NONCE_LEN];
    EVP_CIPHER_CTX *seal; /* GCM encrypt, or AES-CTR (both directions) */
    EVP_CIPHER_CTX *open; /* GCM decrypt */
    EVP_MAC_CTX *mac;     /* CTR+HMAC: HMAC keyed with the auth key */
} sf_key;

/* Derives (section 4.4.2) and prepares the key for kid. */
sf_err sf_key_init(sf_key *k, const sf_suite *s, const uint8_t *base_key,
                   size_t base_len, uint64_t kid);
/* Prepares an already derived key (s->nk bytes) and salt (NULL: zeros). */
sf_err sf_key_init_raw(sf_key *k, const sf_suite *s, const uint8_t *key,
                       const uint8_t *salt, uint64_t kid);
void sf_key_clear(sf_key *k);

/* Seals a frame at (k->kid, ctr) into out, which must hold
 * SF_MAX_HEADER_LEN + pt_len + nt bytes; *out_len is the frame length. */
sf_err sf_key_seal(sf_key *k, uint64_t ctr, const uint8_t *metadata,
                   size_t md_len, const uint8_t *pt, size_t pt_len,
                   uint8_t *out, size_t *out_len);
/* The same, into a malloc'd *out. */
sf_err sf_key_seal_alloc(sf_key *k, uint64_t ctr, const uint8_t *metadata,
                         size_t md_len, const uint8_t *pt, size_t pt_len,
                         uint8_t **out, size_t *out_len);

/* Opens a frame whose header (hdr_len bytes, counter ctr) the caller has
 * parsed. out must hold frame_len - hdr_len - nt bytes. */
sf_err sf_key_open(sf_key *k, const uint8_t *frame, size_t frame_len,
                   size_t hdr_len, uint64_t ctr, const uint8_t *metadata,
                   size_t md_len, uint8_t *out, size_t *out_len);

/* Decrypts with k installed as the only key: parse the header (malformed),
 * the header KID must be k->kid (unknown_kid), then the body length
 * (malformed) and the tag (auth_failed). out must hold frame_len bytes. */
sf_err sf_key_decrypt(sf_key *k, const uint8_t *frame, size_t frame_len,
                      const uint8_t *metadata, size_t md_len, uint8_t *out,
                      size_t *out_len);
/* The same, into a malloc'd *out (never NULL on success). */
sf_err sf_key_decrypt_alloc(sf_key *k, const uint8_t *frame, size_t frame_len,
                            const uint8_t *metadata, size_t md_len,
                            uint8_t **out, size_t *out_len);

/* Frees the calling thread's cached libcrypto algorithms (at exit). */
void sf_cleanup(void);

#endif /* SFRAME_H */
