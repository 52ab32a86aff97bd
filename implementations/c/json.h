/*
 * json.h - a small, strict JSON reader for one flat request object, and a
 * growable buffer for writing response lines.
 *
 * The reader accepts any valid JSON object (RFC 8259). Member values that
 * are strings, numbers, booleans or null are decoded; nested arrays and
 * objects are validated (up to JSON_MAX_DEPTH) and recorded as JV_OTHER.
 */
#ifndef SFRAME_JSON_H
#define SFRAME_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

typedef enum {
    JV_STRING,
    JV_INT,    /* integer literal that fits in long long */
    JV_NUMBER, /* any other number (fraction, exponent, out of range) */
    JV_BOOL,
    JV_NULL,
    JV_OTHER   /* array or object */
} jv_type;

typedef struct {
    char *key;           /* decoded, NUL-terminated (may contain NULs) */
    size_t key_len;
    jv_type type;
    char *str;           /* JV_STRING: decoded bytes, NUL-terminated */
    size_t str_len;
    long long i;         /* JV_INT */
    int b;               /* JV_BOOL */
    const char *raw;     /* the value's JSON text, points into the input */
    size_t raw_len;
} json_member;

typedef struct {
    json_member *m;
    size_t n, cap;
} json_object;

/*
 * Parses text[0..len) as exactly one JSON object (surrounding whitespace
 * allowed). Duplicate keys are rejected. Returns 1 on success; on failure
 * returns 0, sets *err to a static message and leaves obj empty.
 * raw pointers stay valid as long as text does.
 */
int json_parse_object(const char *text, size_t len, json_object *obj,
                      const char **err);
void json_object_free(json_object *obj);

/* Output buffer. Any allocation failure sets failed; later calls no-op. */
typedef struct {
    char *p;
    size_t len, cap;
    int failed;
} jbuf;

void jb_init(jbuf *b);
void jb_free(jbuf *b);
void jb_raw(jbuf *b, const char *s, size_t n);
void jb_lit(jbuf *b, const char *s);               /* raw NUL-terminated */
void jb_str(jbuf *b, const char *s, size_t n);     /* quoted, escaped */
void jb_hex(jbuf *b, const uint8_t *d, size_t n);  /* quoted lowercase hex */
void jb_u64_str(jbuf *b, uint64_t v);              /* quoted decimal */
void jb_i64(jbuf *b, long long v);                 /* bare integer */

/* Value of one hex digit (either case), or -1. */
int json_hexval(char c);

#endif /* SFRAME_JSON_H */
