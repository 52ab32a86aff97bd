/*
 * bigendian.h - unsigned integers as big-endian bytes: SFrame's header
 * fields, KDF info and MAC lengths (RFC 9605), and binary-v1's lengths and
 * integers (harness/PROTOCOL.md) all use this one byte order.
 */
#ifndef SF_BIGENDIAN_H
#define SF_BIGENDIAN_H

#include <stddef.h>
#include <stdint.h>

/* The low n bytes of v (n <= 8), most significant first. */
static inline void be_put(uint8_t *out, uint64_t v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

/* The value of n bytes (n <= 8), most significant first. */
static inline uint64_t be_get(const uint8_t *in, size_t n)
{
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < n; i++)
        v = (v << 8) | in[i];
    return v;
}

#endif
