/*
 * sframe.c - SFrame (RFC 9605) primitives over OpenSSL 3 libcrypto.
 */
#include "sframe.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* ------------------------------------------------------------------ */
/* Suite table (RFC 9605 section 4.5, plus suites 6-8 from the IANA    */
/* registry, draft-barnes-sframe-iana-256).                            */
/* ------------------------------------------------------------------ */

static const sf_suite SUITES[] = {
    /* id  name                            hash      kind              nh  nka nk  nn  nt */
    {0x0001, "AES_128_CTR_HMAC_SHA256_80", "SHA256", SF_AEAD_CTR_HMAC, 32, 16, 48, 12, 10},
    {0x0002, "AES_128_CTR_HMAC_SHA256_64", "SHA256", SF_AEAD_CTR_HMAC, 32, 16, 48, 12, 8},
    {0x0003, "AES_128_CTR_HMAC_SHA256_32", "SHA256", SF_AEAD_CTR_HMAC, 32, 16, 48, 12, 4},
    {0x0004, "AES_128_GCM_SHA256_128", "SHA256", SF_AEAD_GCM, 32, 0, 16, 12, 16},
    {0x0005, "AES_256_GCM_SHA512_128", "SHA512", SF_AEAD_GCM, 64, 0, 32, 12, 16},
    {0x0006, "AES_256_CTR_HMAC_SHA512_80", "SHA512", SF_AEAD_CTR_HMAC, 64, 32, 96, 12, 10},
    {0x0007, "AES_256_CTR_HMAC_SHA512_64", "SHA512", SF_AEAD_CTR_HMAC, 64, 32, 96, 12, 8},
    {0x0008, "AES_256_CTR_HMAC_SHA512_32", "SHA512", SF_AEAD_CTR_HMAC, 64, 32, 96, 12, 4},
};

const sf_suite *sf_suite_get(long long id)
{
    size_t i;
    for (i = 0; i < sizeof(SUITES) / sizeof(SUITES[0]); i++) {
        if ((long long)SUITES[i].id == id)
            return &SUITES[i];
    }
    return NULL;
}

const char *sf_err_class(sf_err e)
{
    switch (e) {
    case SF_OK: return "ok";
    case SF_ERR_MALFORMED: return "malformed";
    case SF_ERR_AUTH: return "auth_failed";
    case SF_ERR_UNKNOWN_KID: return "unknown_kid";
    case SF_ERR_UNSUPPORTED: return "unsupported";
    case SF_ERR_INVALID: return "invalid_argument";
    case SF_ERR_INTERNAL: return "internal";
    case SF_ERR_KEY_USAGE: return "key_usage";
    case SF_ERR_COUNTER: return "counter_exhausted";
    case SF_ERR_REPLAY: return "replay";
    }
    return "internal";
}

/* ------------------------------------------------------------------ */
/* Header (RFC 9605 section 4.3)                                       */
/* ------------------------------------------------------------------ */

/* Number of bytes needed for v in big-endian, at least 1. */
static size_t min_bytes(uint64_t v)
{
    size_t n = 1;
    while (n < 8 && (v >> (8 * n)) != 0)
        n++;
    return n;
}

static void put_be(uint8_t *out, uint64_t v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_be(const uint8_t *in, size_t n)
{
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < n; i++)
        v = (v << 8) | in[i];
    return v;
}

size_t sf_header_encode(uint64_t kid, uint64_t ctr,
                        uint8_t out[SF_MAX_HEADER_LEN])
{
    uint8_t kid_nib, ctr_nib;
    size_t pos = 1;

    if (kid < 8) {
        kid_nib = (uint8_t)kid;
    } else {
        size_t n = min_bytes(kid);
        kid_nib = (uint8_t)(0x8 | (n - 1));
        put_be(out + pos, kid, n);
        pos += n;
    }
    if (ctr < 8) {
        ctr_nib = (uint8_t)ctr;
    } else {
        size_t n = min_bytes(ctr);
        ctr_nib = (uint8_t)(0x8 | (n - 1));
        put_be(out + pos, ctr, n);
        pos += n;
    }
    out[0] = (uint8_t)((kid_nib << 4) | ctr_nib);
    return pos;
}

sf_err sf_header_parse(const uint8_t *in, size_t len, uint64_t *kid,
                       uint64_t *ctr, size_t *hdr_len)
{
    uint8_t cfg;
    size_t kid_len, ctr_len, pos = 1;

    if (in == NULL || len < 1)
        return SF_ERR_MALFORMED;
    cfg = in[0];
    kid_len = (cfg & 0x80) ? (size_t)((cfg >> 4) & 0x7) + 1 : 0;
    ctr_len = (cfg & 0x08) ? (size_t)(cfg & 0x7) + 1 : 0;
    if (len - 1 < kid_len + ctr_len)
        return SF_ERR_MALFORMED;

    if (kid_len) {
        *kid = get_be(in + pos, kid_len);
        pos += kid_len;
    } else {
        *kid = (cfg >> 4) & 0x7;
    }
    if (ctr_len) {
        *ctr = get_be(in + pos, ctr_len);
        pos += ctr_len;
    } else {
        *ctr = cfg & 0x7;
    }
    *hdr_len = pos;
    return SF_OK;
}

/* ------------------------------------------------------------------ */
/* HMAC and HKDF                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
    const uint8_t *p;
    size_t n;
} sf_part;

/* HMAC over the concatenation of parts. out receives exactly nh bytes. */
static sf_err hmac_parts(const char *digest, size_t nh, const uint8_t *key,
                         size_t key_len, const sf_part *parts, size_t nparts,
                         uint8_t *out)
{
    sf_err rc = SF_ERR_INTERNAL;
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    OSSL_PARAM params[2];
    size_t out_len = 0, i;

    if (key_len == 0) /* all callers pass a non-empty key */
        return SF_ERR_INTERNAL;
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL)
        goto done;
    ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL)
        goto done;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(ctx, key, key_len, params) != 1)
        goto done;
    if (EVP_MAC_CTX_get_mac_size(ctx) != nh)
        goto done;
    for (i = 0; i < nparts; i++) {
        if (parts[i].n == 0)
            continue;
        if (EVP_MAC_update(ctx, parts[i].p, parts[i].n) != 1)
            goto done;
    }
    if (EVP_MAC_final(ctx, out, &out_len, nh) != 1 || out_len != nh)
        goto done;
    rc = SF_OK;
done:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

/*
 * HKDF-Expand (RFC 5869) with PRK of nh bytes. out_len <= 255 * nh.
 */
static sf_err hkdf_expand(const sf_suite *s, const uint8_t *prk,
                          const uint8_t *info, size_t info_len, uint8_t *out,
                          size_t out_len)
{
    uint8_t t[SF_MAX_HASH_LEN];
    size_t t_len = 0, done = 0;
    unsigned counter = 1;
    sf_err rc = SF_OK;

    if (out_len > 255 * s->nh)
        return SF_ERR_INTERNAL;
    while (done < out_len) {
        uint8_t c = (uint8_t)counter;
        sf_part parts[3];
        size_t take;

        parts[0].p = t;
        parts[0].n = t_len;
        parts[1].p = info;
        parts[1].n = info_len;
        parts[2].p = &c;
        parts[2].n = 1;
        rc = hmac_parts(s->hash, s->nh, prk, s->nh, parts, 3, t);
        if (rc != SF_OK)
            break;
        t_len = s->nh;
        take = out_len - done < s->nh ? out_len - done : s->nh;
        memcpy(out + done, t, take);
        done += take;
        counter++;
    }
    OPENSSL_cleanse(t, sizeof(t));
    return rc;
}

#define SF_LABEL_KEY "SFrame 1.0 Secret key "
#define SF_LABEL_SALT "SFrame 1.0 Secret salt "
#define SF_LABEL_MAX 64

/* label || u64be(kid) || u16be(suite); returns the length. */
static size_t build_info(uint8_t *info, const char *label, uint64_t kid,
                         uint16_t suite)
{
    size_t l = strlen(label);
    memcpy(info, label, l);
    put_be(info + l, kid, 8);
    put_be(info + l + 8, suite, 2);
    return l + 10;
}

/* HKDF-Extract(salt = "", base_key) with the suite's hash. An empty salt is
 * HashLen zero bytes, which HMAC pads to the same key (RFC 5869 section 2.2).
 * Shared by the KDF (section 4.4.2) and the ratchet (section 5.1). */
static sf_err extract_empty_salt(const sf_suite *s, const uint8_t *base_key,
                                 size_t base_len, uint8_t *prk)
{
    static const uint8_t zeros[SF_MAX_HASH_LEN] = {0};
    sf_part part;

    if (s == NULL)
        return SF_ERR_UNSUPPORTED;
    if (base_key == NULL && base_len != 0)
        return SF_ERR_INVALID;
    part.p = base_key;
    part.n = base_len;
    return hmac_parts(s->hash, s->nh, zeros, s->nh, &part, 1, prk);
}

sf_err sf_derive(const sf_suite *s, const uint8_t *base_key, size_t base_len,
                 uint64_t kid, uint8_t *key, uint8_t *salt)
{
    uint8_t prk[SF_MAX_HASH_LEN];
    uint8_t info[SF_LABEL_MAX];
    size_t info_len;
    sf_err rc;

    rc = extract_empty_salt(s, base_key, base_len, prk);
    if (rc != SF_OK)
        goto done;

    info_len = build_info(info, SF_LABEL_KEY, kid, s->id);
    rc = hkdf_expand(s, prk, info, info_len, key, s->nk);
    if (rc != SF_OK)
        goto done;
    info_len = build_info(info, SF_LABEL_SALT, kid, s->id);
    rc = hkdf_expand(s, prk, info, info_len, salt, s->nn);
done:
    OPENSSL_cleanse(prk, sizeof(prk));
    return rc;
}

#define SF_LABEL_RATCHET "SFrame 1.0 Ratchet"

sf_err sf_ratchet(const sf_suite *s, const uint8_t *base_key, size_t base_len,
                  uint8_t *out)
{
    uint8_t prk[SF_MAX_HASH_LEN];
    sf_err rc;

    rc = extract_empty_salt(s, base_key, base_len, prk);
    if (rc == SF_OK)
        rc = hkdf_expand(s, prk, (const uint8_t *)SF_LABEL_RATCHET,
                         strlen(SF_LABEL_RATCHET), out, s->nh);
    OPENSSL_cleanse(prk, sizeof(prk));
    return rc;
}

/* ------------------------------------------------------------------ */
/* AEAD                                                                */
/* ------------------------------------------------------------------ */

/* EVP_*Update in chunks that fit in an int. */
#define SF_CHUNK ((size_t)1 << 30)

static int cipher_update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in,
                         size_t len)
{
    while (len > 0) {
        int n = (int)(len < SF_CHUNK ? len : SF_CHUNK);
        int outl = 0;
        if (EVP_CipherUpdate(ctx, out, &outl, in, n) != 1 || outl != n)
            return 0;
        out += n;
        in += n;
        len -= (size_t)n;
    }
    return 1;
}

static int aad_update(EVP_CIPHER_CTX *ctx, const uint8_t *aad, size_t len)
{
    while (len > 0) {
        int n = (int)(len < SF_CHUNK ? len : SF_CHUNK);
        int outl = 0;
        if (EVP_CipherUpdate(ctx, NULL, &outl, aad, n) != 1)
            return 0;
        aad += n;
        len -= (size_t)n;
    }
    return 1;
}

static const EVP_CIPHER *ctr_cipher(const sf_suite *s)
{
    return s->nka == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
}

static const EVP_CIPHER *gcm_cipher(const sf_suite *s)
{
    return s->nk == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
}

/* AES-CTR with IV = nonce || 0x00000000 (RFC 9605 section 4.5.1). */
static sf_err aes_ctr(const sf_suite *s, const uint8_t *enc_key,
                      const uint8_t *nonce, const uint8_t *in, size_t len,
                      uint8_t *out)
{
    uint8_t iv[16];
    EVP_CIPHER_CTX *ctx;
    sf_err rc = SF_ERR_INTERNAL;
    int outl = 0;

    if (len == 0)
        return SF_OK;
    memcpy(iv, nonce, SF_NONCE_LEN);
    memset(iv + SF_NONCE_LEN, 0, 4);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return SF_ERR_INTERNAL;
    if (EVP_EncryptInit_ex(ctx, ctr_cipher(s), NULL, enc_key, iv) != 1)
        goto done;
    if (!cipher_update(ctx, out, in, len))
        goto done;
    if (EVP_EncryptFinal_ex(ctx, out + len, &outl) != 1 || outl != 0)
        goto done;
    rc = SF_OK;
done:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

/* Full-length HMAC tag over the section 4.5.1 MAC input. */
static sf_err ctr_hmac_tag(const sf_suite *s, const uint8_t *auth_key,
                           const uint8_t *nonce, const uint8_t *aad1,
                           size_t aad1_len, const uint8_t *aad2,
                           size_t aad2_len, const uint8_t *ct, size_t ct_len,
                           uint8_t *tag /* nh bytes */)
{
    uint8_t lens[24];
    sf_part parts[5];

    /* aad1_len + aad2_len cannot overflow: both are in-memory objects. */
    put_be(lens, (uint64_t)(aad1_len + aad2_len), 8);
    put_be(lens + 8, (uint64_t)ct_len, 8);
    put_be(lens + 16, (uint64_t)s->nt, 8);
    parts[0].p = lens;
    parts[0].n = sizeof(lens);
    parts[1].p = nonce;
    parts[1].n = s->nn;
    parts[2].p = aad1;
    parts[2].n = aad1_len;
    parts[3].p = aad2;
    parts[3].n = aad2_len;
    parts[4].p = ct;
    parts[4].n = ct_len;
    return hmac_parts(s->hash, s->nh, auth_key + s->nka, s->nh, parts, 5, tag);
}

/* AAD is aad1 || aad2 (the SFrame header as sent/received, then metadata). */
static sf_err aead_seal2(const sf_suite *s, const uint8_t *key,
                         const uint8_t *nonce, const uint8_t *aad1,
                         size_t aad1_len, const uint8_t *aad2, size_t aad2_len,
                         const uint8_t *pt, size_t pt_len, uint8_t *out)
{
    sf_err rc = SF_ERR_INTERNAL;

    if (s->kind == SF_AEAD_CTR_HMAC) {
        uint8_t tag[SF_MAX_HASH_LEN];
        rc = aes_ctr(s, key, nonce, pt, pt_len, out);
        if (rc != SF_OK)
            return rc;
        rc = ctr_hmac_tag(s, key, nonce, aad1, aad1_len, aad2, aad2_len, out,
                          pt_len, tag);
        if (rc == SF_OK)
            memcpy(out + pt_len, tag, s->nt);
        OPENSSL_cleanse(tag, sizeof(tag));
        return rc;
    } else {
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int outl = 0;
        if (ctx == NULL)
            return SF_ERR_INTERNAL;
        if (EVP_EncryptInit_ex(ctx, gcm_cipher(s), NULL, NULL, NULL) != 1)
            goto gcm_done;
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)s->nn,
                                NULL) != 1)
            goto gcm_done;
        if (EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1)
            goto gcm_done;
        if (!aad_update(ctx, aad1, aad1_len) || !aad_update(ctx, aad2, aad2_len))
            goto gcm_done;
        if (!cipher_update(ctx, out, pt, pt_len))
            goto gcm_done;
        if (EVP_EncryptFinal_ex(ctx, out + pt_len, &outl) != 1 || outl != 0)
            goto gcm_done;
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)s->nt,
                                out + pt_len) != 1)
            goto gcm_done;
        rc = SF_OK;
    gcm_done:
        EVP_CIPHER_CTX_free(ctx);
        return rc;
    }
}

static sf_err aead_open2(const sf_suite *s, const uint8_t *key,
                         const uint8_t *nonce, const uint8_t *aad1,
                         size_t aad1_len, const uint8_t *aad2, size_t aad2_len,
                         const uint8_t *ct, size_t ct_len, uint8_t *out)
{
    size_t body_len;
    const uint8_t *tag;
    sf_err rc = SF_ERR_INTERNAL;

    if (ct_len < s->nt)
        return SF_ERR_MALFORMED;
    body_len = ct_len - s->nt;
    tag = ct + body_len;

    if (s->kind == SF_AEAD_CTR_HMAC) {
        uint8_t want[SF_MAX_HASH_LEN];
        rc = ctr_hmac_tag(s, key, nonce, aad1, aad1_len, aad2, aad2_len, ct,
                          body_len, want);
        if (rc == SF_OK && CRYPTO_memcmp(want, tag, s->nt) != 0)
            rc = SF_ERR_AUTH;
        OPENSSL_cleanse(want, sizeof(want));
        if (rc != SF_OK)
            return rc;
        /* Tag verified: only now decrypt. */
        return aes_ctr(s, key, nonce, ct, body_len, out);
    } else {
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        uint8_t tagbuf[SF_MAX_TAG_LEN];
        int outl = 0;
        if (ctx == NULL)
            return SF_ERR_INTERNAL;
        memcpy(tagbuf, tag, s->nt);
        if (EVP_DecryptInit_ex(ctx, gcm_cipher(s), NULL, NULL, NULL) != 1)
            goto gcm_done;
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)s->nn,
                                NULL) != 1)
            goto gcm_done;
        if (EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) != 1)
            goto gcm_done;
        if (!aad_update(ctx, aad1, aad1_len) || !aad_update(ctx, aad2, aad2_len))
            goto gcm_done;
        if (!cipher_update(ctx, out, ct, body_len))
            goto gcm_done;
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)s->nt,
                                tagbuf) != 1)
            goto gcm_done;
        if (EVP_DecryptFinal_ex(ctx, out + body_len, &outl) != 1) {
            /* Never release unauthenticated plaintext. */
            if (body_len)
                OPENSSL_cleanse(out, body_len);
            rc = SF_ERR_AUTH;
            goto gcm_done;
        }
        rc = SF_OK;
    gcm_done:
        EVP_CIPHER_CTX_free(ctx);
        return rc;
    }
}

sf_err sf_aead_seal(const sf_suite *s, const uint8_t *key,
                    const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                    const uint8_t *pt, size_t pt_len, uint8_t *out)
{
    if (s == NULL)
        return SF_ERR_UNSUPPORTED;
    return aead_seal2(s, key, nonce, aad, aad_len, NULL, 0, pt, pt_len, out);
}

sf_err sf_aead_open(const sf_suite *s, const uint8_t *key,
                    const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                    const uint8_t *ct, size_t ct_len, uint8_t *out)
{
    if (s == NULL)
        return SF_ERR_UNSUPPORTED;
    return aead_open2(s, key, nonce, aad, aad_len, NULL, 0, ct, ct_len, out);
}

/* ------------------------------------------------------------------ */
/* Whole-frame encrypt / decrypt (RFC 9605 sections 4.4.3, 4.4.4)      */
/* ------------------------------------------------------------------ */

static void make_nonce(const uint8_t *salt, uint64_t ctr, uint8_t *nonce)
{
    size_t i;
    memcpy(nonce, salt, SF_NONCE_LEN);
    /* be12(ctr): the top 4 bytes are zero for a 64-bit counter. */
    for (i = 0; i < 8; i++)
        nonce[SF_NONCE_LEN - 1 - i] ^= (uint8_t)(ctr >> (8 * i));
}

sf_err sf_frame_seal(const sf_suite *s, const uint8_t *key,
                     const uint8_t *salt, uint64_t kid, uint64_t ctr,
                     const uint8_t *metadata, size_t md_len,
                     const uint8_t *pt, size_t pt_len, uint8_t **out,
                     size_t *out_len)
{
    uint8_t nonce[SF_NONCE_LEN];
    uint8_t hdr[SF_MAX_HEADER_LEN];
    size_t hdr_len, total;
    uint8_t *buf;
    sf_err rc;

    *out = NULL;
    *out_len = 0;
    if (s == NULL)
        return SF_ERR_UNSUPPORTED;
    if (pt_len > SIZE_MAX - SF_MAX_HEADER_LEN - SF_MAX_TAG_LEN)
        return SF_ERR_INVALID;
    make_nonce(salt, ctr, nonce);
    hdr_len = sf_header_encode(kid, ctr, hdr);
    total = hdr_len + pt_len + s->nt;
    buf = malloc(total);
    if (buf == NULL)
        return SF_ERR_INTERNAL;
    memcpy(buf, hdr, hdr_len);
    rc = aead_seal2(s, key, nonce, hdr, hdr_len, metadata, md_len, pt, pt_len,
                    buf + hdr_len);
    if (rc != SF_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = total;
    return SF_OK;
}

sf_err sf_frame_open(const sf_suite *s, const uint8_t *key,
                     const uint8_t *salt, const uint8_t *frame,
                     size_t frame_len, size_t hdr_len, uint64_t ctr,
                     const uint8_t *metadata, size_t md_len, uint8_t **out,
                     size_t *out_len)
{
    uint8_t nonce[SF_NONCE_LEN];
    size_t body_len, pt_len;
    uint8_t *buf;
    sf_err rc;

    *out = NULL;
    *out_len = 0;
    if (s == NULL)
        return SF_ERR_UNSUPPORTED;
    if (hdr_len > frame_len)
        return SF_ERR_MALFORMED;
    body_len = frame_len - hdr_len;
    if (body_len < s->nt)
        return SF_ERR_MALFORMED;
    pt_len = body_len - s->nt;
    make_nonce(salt, ctr, nonce);
    buf = malloc(pt_len ? pt_len : 1);
    if (buf == NULL)
        return SF_ERR_INTERNAL;
    /* AAD = header bytes exactly as received, then metadata. */
    rc = aead_open2(s, key, nonce, frame, hdr_len, metadata, md_len,
                    frame + hdr_len, body_len, buf);
    if (rc != SF_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = pt_len;
    return SF_OK;
}

sf_err sf_encrypt(const sf_suite *s, const uint8_t *base_key, size_t base_len,
                  uint64_t kid, uint64_t ctr, const uint8_t *metadata,
                  size_t md_len, const uint8_t *pt, size_t pt_len,
                  uint8_t **out, size_t *out_len)
{
    uint8_t key[SF_MAX_KEY_LEN], salt[SF_NONCE_LEN];
    sf_err rc;

    *out = NULL;
    *out_len = 0;
    if (s == NULL)
        return SF_ERR_UNSUPPORTED;
    rc = sf_derive(s, base_key, base_len, kid, key, salt);
    if (rc == SF_OK)
        rc = sf_frame_seal(s, key, salt, kid, ctr, metadata, md_len, pt,
                           pt_len, out, out_len);
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(salt, sizeof(salt));
    return rc;
}

sf_err sf_decrypt(const sf_suite *s, const uint8_t *base_key, size_t base_len,
                  uint64_t kid, const uint8_t *metadata, size_t md_len,
                  const uint8_t *frame, size_t frame_len, uint8_t **out,
                  size_t *out_len)
{
    uint8_t key[SF_MAX_KEY_LEN], salt[SF_NONCE_LEN];
    uint64_t hkid = 0, hctr = 0;
    size_t hdr_len = 0;
    sf_err rc;

    *out = NULL;
    *out_len = 0;
    if (s == NULL)
        return SF_ERR_UNSUPPORTED;
    rc = sf_header_parse(frame, frame_len, &hkid, &hctr, &hdr_len);
    if (rc != SF_OK)
        return rc;
    if (hkid != kid)
        return SF_ERR_UNKNOWN_KID;
    if (frame_len - hdr_len < s->nt)
        return SF_ERR_MALFORMED;
    rc = sf_derive(s, base_key, base_len, kid, key, salt);
    if (rc == SF_OK)
        rc = sf_frame_open(s, key, salt, frame, frame_len, hdr_len, hctr,
                           metadata, md_len, out, out_len);
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(salt, sizeof(salt));
    return rc;
}
