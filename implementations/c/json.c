/*
 * json.c - strict JSON object reader and response writer.
 */
#include "json.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t n;
    size_t i;
    const char *err;
} parser;

static int fail(parser *p, const char *msg)
{
    if (p->err == NULL)
        p->err = msg;
    return 0;
}

static void skip_ws(parser *p)
{
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->i++;
    }
}

int json_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads 4 hex digits at p->i. */
static int read_u4(parser *p, unsigned *out)
{
    unsigned v = 0;
    size_t k;
    if (p->n - p->i < 4)
        return fail(p, "truncated \\u escape");
    for (k = 0; k < 4; k++) {
        int h = json_hexval(p->s[p->i + k]);
        if (h < 0)
            return fail(p, "bad \\u escape");
        v = (v << 4) | (unsigned)h;
    }
    p->i += 4;
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Parses a string at p->i (which must be '"'). If out is non-NULL the
 * decoded bytes are returned in a malloc'd NUL-terminated buffer.
 */
static int parse_string(parser *p, char **out, size_t *out_len)
{
    size_t start, j, raw_len;
    char *buf = NULL;
    size_t o = 0;

    if (p->i >= p->n || p->s[p->i] != '"')
        return fail(p, "expected string");
    p->i++;
    start = p->i;
    /* Find the closing quote; escaped characters are skipped. */
    j = start;
    for (;;) {
        if (j >= p->n)
            return fail(p, "unterminated string");
        if (p->s[j] == '"')
            break;
        if (p->s[j] == '\\') {
            if (j + 1 >= p->n)
                return fail(p, "unterminated string");
            j += 2;
        } else {
            j++;
        }
    }
    raw_len = j - start;
    /* Decoded length never exceeds the raw length. */
    if (out != NULL) {
        buf = malloc(raw_len + 1);
        if (buf == NULL)
            return fail(p, "out of memory");
    }
    while (p->i < j) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c < 0x20) {
            free(buf);
            return fail(p, "control character in string");
        }
        if (c != '\\') {
            if (buf)
                buf[o++] = (char)c;
            p->i++;
            continue;
        }
        p->i++; /* backslash; j guarantees one more char before the quote */
        c = (unsigned char)p->s[p->i++];
        switch (c) {
        case '"': case '\\': case '/':
            if (buf) buf[o++] = (char)c;
            break;
        case 'b': if (buf) buf[o++] = '\b'; break;
        case 'f': if (buf) buf[o++] = '\f'; break;
        case 'n': if (buf) buf[o++] = '\n'; break;
        case 'r': if (buf) buf[o++] = '\r'; break;
        case 't': if (buf) buf[o++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (j - p->i < 4 || !read_u4(p, &cp)) {
                free(buf);
                return fail(p, "bad \\u escape");
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                free(buf);
                return fail(p, "lone low surrogate");
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (j - p->i < 6 || p->s[p->i] != '\\' ||
                    p->s[p->i + 1] != 'u') {
                    free(buf);
                    return fail(p, "lone high surrogate");
                }
                p->i += 2;
                if (!read_u4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    free(buf);
                    return fail(p, "bad surrogate pair");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (buf)
                o += put_utf8(buf + o, cp);
            break;
        }
        default:
            free(buf);
            return fail(p, "bad escape");
        }
    }
    p->i = j + 1; /* past the closing quote */
    if (buf) {
        buf[o] = '\0';
        *out = buf;
        *out_len = o;
    }
    return 1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_number(parser *p, jv_type *type, long long *ival)
{
    size_t start = p->i;
    int neg = 0, integral = 1;

    if (p->i < p->n && p->s[p->i] == '-') {
        neg = 1;
        p->i++;
    }
    if (p->i >= p->n || !is_digit(p->s[p->i]))
        return fail(p, "bad number");
    if (p->s[p->i] == '0') {
        p->i++;
    } else {
        while (p->i < p->n && is_digit(p->s[p->i]))
            p->i++;
    }
    if (p->i < p->n && p->s[p->i] == '.') {
        integral = 0;
        p->i++;
        if (p->i >= p->n || !is_digit(p->s[p->i]))
            return fail(p, "bad number");
        while (p->i < p->n && is_digit(p->s[p->i]))
            p->i++;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        integral = 0;
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (p->i >= p->n || !is_digit(p->s[p->i]))
            return fail(p, "bad number");
        while (p->i < p->n && is_digit(p->s[p->i]))
            p->i++;
    }
    *type = JV_NUMBER;
    if (integral) {
        /* Accumulate as a negative value so LLONG_MIN fits. */
        long long v = 0;
        size_t k;
        int overflow = 0;
        for (k = start + (size_t)neg; k < p->i; k++) {
            int d = p->s[k] - '0';
            if (v < (LLONG_MIN + d) / 10) {
                overflow = 1;
                break;
            }
            v = v * 10 - d;
        }
        if (!overflow && !neg && v == LLONG_MIN)
            overflow = 1;
        if (!overflow) {
            *ival = neg ? v : -v;
            *type = JV_INT;
        }
    }
    return 1;
}

static int match_lit(parser *p, const char *lit)
{
    size_t l = strlen(lit);
    if (p->n - p->i < l || memcmp(p->s + p->i, lit, l) != 0)
        return fail(p, "bad literal");
    p->i += l;
    return 1;
}

/* Validates (and skips) any JSON value; depth counts enclosing containers. */
static int skip_value(parser *p, int depth)
{
    jv_type t;
    long long iv;

    skip_ws(p);
    if (p->i >= p->n)
        return fail(p, "expected value");
    switch (p->s[p->i]) {
    case '"':
        return parse_string(p, NULL, NULL);
    case 't':
        return match_lit(p, "true");
    case 'f':
        return match_lit(p, "false");
    case 'n':
        return match_lit(p, "null");
    case '[':
    case '{': {
        char close = p->s[p->i] == '[' ? ']' : '}';
        int is_obj = close == '}';
        if (depth + 1 > JSON_MAX_DEPTH)
            return fail(p, "nesting too deep");
        p->i++;
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return 1;
        }
        for (;;) {
            if (is_obj) {
                skip_ws(p);
                if (!parse_string(p, NULL, NULL))
                    return 0;
                skip_ws(p);
                if (p->i >= p->n || p->s[p->i] != ':')
                    return fail(p, "expected ':'");
                p->i++;
            }
            if (!skip_value(p, depth + 1))
                return 0;
            skip_ws(p);
            if (p->i >= p->n)
                return fail(p, "unterminated container");
            if (p->s[p->i] == ',') {
                p->i++;
                continue;
            }
            if (p->s[p->i] == close) {
                p->i++;
                return 1;
            }
            return fail(p, "expected ',' or end of container");
        }
    }
    default:
        return parse_number(p, &t, &iv);
    }
}

static void member_free(json_member *m)
{
    free(m->key);
    free(m->str);
}

void json_object_free(json_object *obj)
{
    size_t k;
    if (obj == NULL)
        return;
    for (k = 0; k < obj->n; k++)
        member_free(&obj->m[k]);
    free(obj->m);
    obj->m = NULL;
    obj->n = obj->cap = 0;
}

static int find_key(const json_object *obj, const char *key, size_t key_len)
{
    size_t k;
    for (k = 0; k < obj->n; k++) {
        if (obj->m[k].key_len == key_len &&
            memcmp(obj->m[k].key, key, key_len) == 0)
            return 1;
    }
    return 0;
}

static int parse_member_value(parser *p, json_member *m)
{
    size_t start;

    skip_ws(p);
    if (p->i >= p->n)
        return fail(p, "expected value");
    start = p->i;
    switch (p->s[p->i]) {
    case '"':
        m->type = JV_STRING;
        if (!parse_string(p, &m->str, &m->str_len))
            return 0;
        break;
    case 't':
        m->type = JV_BOOL;
        m->b = 1;
        if (!match_lit(p, "true"))
            return 0;
        break;
    case 'f':
        m->type = JV_BOOL;
        m->b = 0;
        if (!match_lit(p, "false"))
            return 0;
        break;
    case 'n':
        m->type = JV_NULL;
        if (!match_lit(p, "null"))
            return 0;
        break;
    case '[':
    case '{':
        m->type = JV_OTHER;
        if (!skip_value(p, 1))
            return 0;
        break;
    default:
        if (!parse_number(p, &m->type, &m->i))
            return 0;
        break;
    }
    m->raw = p->s + start;
    m->raw_len = p->i - start;
    return 1;
}

int json_parse_object(const char *text, size_t len, json_object *obj,
                      const char **err)
{
    parser p;

    p.s = text;
    p.n = len;
    p.i = 0;
    p.err = NULL;
    obj->m = NULL;
    obj->n = obj->cap = 0;

    skip_ws(&p);
    if (p.i >= p.n || p.s[p.i] != '{') {
        fail(&p, "expected a JSON object");
        goto bad;
    }
    p.i++;
    skip_ws(&p);
    if (p.i < p.n && p.s[p.i] == '}') {
        p.i++;
    } else {
        for (;;) {
            json_member m;
            memset(&m, 0, sizeof(m));
            skip_ws(&p);
            if (!parse_string(&p, &m.key, &m.key_len))
                goto bad;
            if (find_key(obj, m.key, m.key_len)) {
                member_free(&m);
                fail(&p, "duplicate key");
                goto bad;
            }
            skip_ws(&p);
            if (p.i >= p.n || p.s[p.i] != ':') {
                member_free(&m);
                fail(&p, "expected ':'");
                goto bad;
            }
            p.i++;
            if (!parse_member_value(&p, &m)) {
                member_free(&m);
                goto bad;
            }
            if (obj->n == obj->cap) {
                size_t nc = obj->cap ? obj->cap * 2 : 8;
                json_member *nm;
                if (nc > SIZE_MAX / sizeof(*nm)) {
                    member_free(&m);
                    fail(&p, "too many members");
                    goto bad;
                }
                nm = realloc(obj->m, nc * sizeof(*nm));
                if (nm == NULL) {
                    member_free(&m);
                    fail(&p, "out of memory");
                    goto bad;
                }
                obj->m = nm;
                obj->cap = nc;
            }
            obj->m[obj->n++] = m;
            skip_ws(&p);
            if (p.i >= p.n) {
                fail(&p, "unterminated object");
                goto bad;
            }
            if (p.s[p.i] == ',') {
                p.i++;
                continue;
            }
            if (p.s[p.i] == '}') {
                p.i++;
                break;
            }
            fail(&p, "expected ',' or '}'");
            goto bad;
        }
    }
    skip_ws(&p);
    if (p.i != p.n) {
        fail(&p, "trailing data after object");
        goto bad;
    }
    *err = NULL;
    return 1;
bad:
    json_object_free(obj);
    *err = p.err ? p.err : "invalid JSON";
    return 0;
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

void jb_init(jbuf *b)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void jb_free(jbuf *b)
{
    free(b->p);
    jb_init(b);
}

static int jb_reserve(jbuf *b, size_t extra)
{
    size_t need, nc;
    char *np;

    if (b->failed)
        return 0;
    if (extra > SIZE_MAX - b->len - 1) {
        b->failed = 1;
        return 0;
    }
    need = b->len + extra + 1; /* keep room for a NUL */
    if (need <= b->cap)
        return 1;
    nc = b->cap ? b->cap : 256;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) {
            nc = need;
            break;
        }
        nc *= 2;
    }
    np = realloc(b->p, nc);
    if (np == NULL) {
        b->failed = 1;
        return 0;
    }
    b->p = np;
    b->cap = nc;
    return 1;
}

void jb_raw(jbuf *b, const char *s, size_t n)
{
    if (n == 0 || !jb_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void jb_lit(jbuf *b, const char *s)
{
    jb_raw(b, s, strlen(s));
}

void jb_str(jbuf *b, const char *s, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    size_t k;

    jb_raw(b, "\"", 1);
    for (k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        char esc[6];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            jb_raw(b, esc, 2);
        } else if (c < 0x20 || c == 0x7f || c >= 0x80) {
            /* Non-ASCII bytes are escaped one by one (messages only). */
            esc[0] = '\\';
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hx[c >> 4];
            esc[5] = hx[c & 0xF];
            jb_raw(b, esc, 6);
        } else {
            esc[0] = (char)c;
            jb_raw(b, esc, 1);
        }
    }
    jb_raw(b, "\"", 1);
}

void jb_hex(jbuf *b, const uint8_t *d, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    size_t k;
    char *o;

    if (n > (SIZE_MAX - 2) / 2 || !jb_reserve(b, 2 * n + 2))
        return;
    o = b->p + b->len;
    *o++ = '"';
    for (k = 0; k < n; k++) {
        *o++ = hx[d[k] >> 4];
        *o++ = hx[d[k] & 0xF];
    }
    *o++ = '"';
    b->len += 2 * n + 2;
    b->p[b->len] = '\0';
}

void jb_u64_str(jbuf *b, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "\"%llu\"", (unsigned long long)v);
    if (n > 0 && (size_t)n < sizeof(tmp))
        jb_raw(b, tmp, (size_t)n);
    else
        b->failed = 1;
}

void jb_i64(jbuf *b, long long v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lld", v);
    if (n > 0 && (size_t)n < sizeof(tmp))
        jb_raw(b, tmp, (size_t)n);
    else
        b->failed = 1;
}
