/*
 * wire.c - JSON lines and binary-v1 frames (see wire.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "wire.h"

#include "bigendian.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------- message model ---------------- */

static wfield *wmsg_push(wmsg *m)
{
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 16;
        wfield *nv = realloc(m->f, ncap * sizeof(*nv));
        if (nv == NULL)
            return NULL;
        m->f = nv;
        m->cap = ncap;
    }
    memset(&m->f[m->n], 0, sizeof(wfield));
    return &m->f[m->n++];
}

void wmsg_free(wmsg *m)
{
    free(m->f);
    if (m->has_json)
        json_object_free(&m->json);
    memset(m, 0, sizeof(*m));
}

const wfield *wmsg_get(const wmsg *m, const char *name)
{
    size_t k, len = strlen(name);
    for (k = 0; k < m->n; k++) {
        if (m->f[k].name_len == len && memcmp(m->f[k].name, name, len) == 0)
            return &m->f[k];
    }
    return NULL;
}

int wmsg_from_json(wmsg *m, const char *line, size_t len, const char **err)
{
    size_t k;

    memset(m, 0, sizeof(*m));
    if (!json_parse_object(line, len, &m->json, err))
        return 0;
    m->has_json = 1;
    for (k = 0; k < m->json.n; k++) {
        const json_member *j = &m->json.m[k];
        wfield *f = wmsg_push(m);
        if (f == NULL) {
            wmsg_free(m);
            *err = "out of memory";
            return 0;
        }
        f->name = j->key;
        f->name_len = j->key_len;
        f->raw = (const uint8_t *)j->raw;
        f->raw_len = j->raw_len;
        switch (j->type) {
        case JV_STRING:
            f->type = WF_STRING;
            f->p = (const uint8_t *)j->str;
            f->n = j->str_len;
            break;
        case JV_INT: f->type = WF_INT; f->i = j->i; break;
        case JV_NUMBER:
            f->type = WF_NUMBER;
            f->p = (const uint8_t *)j->raw;
            f->n = j->raw_len;
            break;
        case JV_BOOL: f->type = WF_BOOL; f->b = j->b; break;
        case JV_NULL: f->type = WF_NULL; break;
        case JV_OTHER:
            f->type = WF_JSON;
            f->p = (const uint8_t *)j->raw;
            f->n = j->raw_len;
            break;
        }
    }
    return 1;
}

/* One binary-v1 field at p[*at..end); advances *at. */
static int binary_field(wmsg *m, const uint8_t *p, size_t end, size_t *at,
                        const char **err)
{
    size_t start = *at, pos = *at, name_len, k;
    wfield *f;
    uint8_t type;

    if (end - pos < 2)
        return (*err = "binary frame ends inside a field header", 0);
    type = p[pos];
    name_len = p[pos + 1];
    pos += 2;
    if (name_len == 0 || end - pos < name_len)
        return (*err = "binary field name is empty or truncated", 0);
    for (k = 0; k < name_len; k++) {
        if (p[pos + k] >= 0x80)
            return (*err = "binary field name is not ASCII", 0);
    }
    for (k = 0; k < m->n; k++) {
        if (m->f[k].name_len == name_len &&
            memcmp(m->f[k].name, p + pos, name_len) == 0)
            return (*err = "binary field name is repeated", 0);
    }
    f = wmsg_push(m);
    if (f == NULL)
        return (*err = "out of memory", 0);
    f->name = (const char *)(p + pos);
    f->name_len = name_len;
    pos += name_len;
    switch (type) {
    case WF_BYTES:
    case WF_STRING:
    case WF_JSON: {
        size_t n;
        if (end - pos < 4)
            return (*err = "binary frame ends inside a value length", 0);
        n = (size_t)be_get(p + pos, 4);
        pos += 4;
        if (end - pos < n)
            return (*err = "binary frame ends inside a value", 0);
        f->p = p + pos;
        f->n = n;
        pos += n;
        break;
    }
    case WF_U64:
    case WF_INT:
        if (end - pos < 8)
            return (*err = "binary frame ends inside an integer", 0);
        f->u = be_get(p + pos, 8);
        f->i = (long long)f->u; /* two's complement, as binary-v1 says */
        pos += 8;
        break;
    case WF_BOOL:
        if (end - pos < 1 || p[pos] > 1)
            return (*err = "binary bool is truncated or not 0/1", 0);
        f->b = p[pos];
        pos += 1;
        break;
    default:
        return (*err = "binary field has an unknown type", 0);
    }
    f->type = (wf_type)type;
    f->raw = p + start;
    f->raw_len = pos - start;
    *at = pos;
    return 1;
}

int wmsg_from_binary(wmsg *m, const uint8_t *payload, size_t len,
                     const char **err)
{
    size_t at = 0;

    memset(m, 0, sizeof(*m));
    while (at < len) {
        if (!binary_field(m, payload, len, &at, err)) {
            /* Keep the fields decoded so far: an id among them is echoed. */
            return 0;
        }
    }
    return 1;
}

/* Skips one JSON string starting at text[*i] == '"'; sets its raw content. */
static int skip_string(const uint8_t *t, size_t n, size_t *i,
                       const uint8_t **s, size_t *s_len)
{
    size_t k = *i + 1;
    while (k < n && t[k] != '"') {
        if (t[k] == '\\')
            k++;
        k++;
    }
    if (k >= n)
        return 0;
    *s = t + *i + 1;
    *s_len = k - *i - 1;
    *i = k + 1;
    return 1;
}

int wire_json_list_has(const uint8_t *t, size_t n, const char *want)
{
    size_t i = 0, wl = strlen(want);
    int depth = 0;

    /* The text was validated by the JSON reader; only strings at depth 1
     * are elements of the list. */
    while (i < n) {
        uint8_t c = t[i];
        if (c == '"') {
            const uint8_t *s;
            size_t sl;
            if (!skip_string(t, n, &i, &s, &sl))
                return 0;
            if (depth == 1 && sl == wl && memcmp(s, want, wl) == 0)
                return 1;
            continue;
        }
        if (c == '[' || c == '{')
            depth++;
        else if (c == ']' || c == '}')
            depth--;
        i++;
    }
    return 0;
}

/* ---------------- responses ---------------- */

static void put_u32(jbuf *b, uint32_t v)
{
    uint8_t c[4];
    be_put(c, v, 4);
    jb_raw(b, (const char *)c, 4);
}

static void put_u64(jbuf *b, uint64_t v)
{
    uint8_t c[8];
    be_put(c, v, 8);
    jb_raw(b, (const char *)c, 8);
}

/* binary-v1 field head: type, name length, name. */
static void put_head(jbuf *b, wf_type type, const char *name)
{
    size_t n = strlen(name);
    char head[2] = {(char)type, (char)n};
    jb_raw(b, head, 2);
    jb_raw(b, name, n);
}

/* JSON member head: ,"name": */
static void put_key(jbuf *b, const char *name)
{
    jb_lit(b, ",\"");
    jb_lit(b, name);
    jb_lit(b, "\":");
}

static void put_id(wresp *r, const wfield *id)
{
    if (!r->binary) {
        jb_lit(r->b, "{\"id\":");
        if (id != NULL && id->raw != NULL)
            jb_raw(r->b, (const char *)id->raw, id->raw_len);
        else
            jb_lit(r->b, "null");
        return;
    }
    if (id != NULL && id->raw_len > 0 && id->raw[0] == id->type) {
        /* A binary id: echo its field as it came. */
        jb_raw(r->b, (const char *)id->raw, id->raw_len);
    } else if (id != NULL && id->type == WF_INT) {
        put_head(r->b, WF_INT, "id");
        put_u64(r->b, (uint64_t)id->i);
    } else if (id != NULL && id->type == WF_STRING) {
        wr_str(r, "id", (const char *)id->p, id->n);
    } else {
        wr_json(r, "id", "null");
    }
}

void wr_begin(wresp *r, jbuf *b, int binary, const wfield *id, int ok)
{
    r->b = b;
    r->binary = binary;
    r->start = b->len;
    if (binary)
        put_u32(b, 0); /* length, patched by wr_end */
    put_id(r, id);
    if (binary) {
        char v = (char)(ok ? 1 : 0);
        put_head(b, WF_BOOL, "ok");
        jb_raw(b, &v, 1);
    } else {
        jb_lit(b, ok ? ",\"ok\":true" : ",\"ok\":false");
    }
}

void wr_bytes(wresp *r, const char *name, const uint8_t *p, size_t n)
{
    if (r->binary) {
        put_head(r->b, WF_BYTES, name);
        put_u32(r->b, (uint32_t)n);
        jb_raw(r->b, (const char *)p, n);
    } else {
        put_key(r->b, name);
        jb_hex(r->b, p, n);
    }
}

void wr_u64(wresp *r, const char *name, uint64_t v)
{
    if (r->binary) {
        put_head(r->b, WF_U64, name);
        put_u64(r->b, v);
    } else {
        put_key(r->b, name);
        jb_u64_str(r->b, v);
    }
}

void wr_int(wresp *r, const char *name, long long v)
{
    if (r->binary) {
        put_head(r->b, WF_INT, name);
        put_u64(r->b, (uint64_t)v);
    } else {
        put_key(r->b, name);
        jb_i64(r->b, v);
    }
}

void wr_str(wresp *r, const char *name, const char *s, size_t n)
{
    if (r->binary) {
        put_head(r->b, WF_STRING, name);
        put_u32(r->b, (uint32_t)n);
        jb_raw(r->b, s, n);
    } else {
        put_key(r->b, name);
        jb_str(r->b, s, n);
    }
}

void wr_json(wresp *r, const char *name, const char *json_text)
{
    size_t n = strlen(json_text);
    if (r->binary) {
        put_head(r->b, WF_JSON, name);
        put_u32(r->b, (uint32_t)n);
    } else {
        put_key(r->b, name);
    }
    jb_raw(r->b, json_text, n);
}

void wr_end(wresp *r)
{
    if (!r->binary) {
        jb_lit(r->b, "}\n");
        return;
    }
    if (!r->b->failed) {
        size_t n = r->b->len - r->start - 4;
        be_put((uint8_t *)r->b->p + r->start, n, 4);
    }
}

void wr_error(wresp *r, const wfield *id, const char *cls, const char *msg)
{
    jbuf *b = r->b;
    int binary = r->binary;
    if (b->failed) {
        /* Out of memory while building: drop the payload, keep the rest. */
        b->failed = 0;
    }
    if (r->start <= b->len)
        b->len = r->start;
    wr_begin(r, b, binary, id, 0);
    wr_str(r, "error", cls, strlen(cls));
    wr_str(r, "message", msg, strlen(msg));
    wr_end(r);
}

/* ---------------- input ---------------- */

int win_fill(win *in, int fd)
{
    ssize_t got;

    if (in->off > 0 && in->off == in->len) {
        in->off = in->len = 0;
    } else if (in->off > (1u << 20) || (in->off > 0 && in->len == in->cap)) {
        memmove(in->p, in->p + in->off, in->len - in->off);
        in->len -= in->off;
        in->off = 0;
    }
    if (in->cap - in->len < 65536) {
        size_t ncap = in->cap ? in->cap * 2 : (1u << 17);
        uint8_t *nv = realloc(in->p, ncap);
        if (nv == NULL)
            return -1;
        in->p = nv;
        in->cap = ncap;
    }
    do {
        got = read(fd, in->p + in->len, in->cap - in->len);
    } while (got < 0 && errno == EINTR);
    if (got < 0)
        return -1;
    if (got == 0) {
        in->eof = 1;
        return 0;
    }
    in->len += (size_t)got;
    return 1;
}

int win_line(win *in, const uint8_t **line, size_t *n)
{
    const uint8_t *start, *nl;

    if (in->off == in->len)
        return 0;
    start = in->p + in->off;
    nl = memchr(start, '\n', in->len - in->off);

    if (in->skipping) {
        if (nl == NULL) {
            in->off = in->len; /* keep discarding */
            return 0;
        }
        in->off = (size_t)(nl - in->p) + 1;
        in->skipping = 0;
        return win_line(in, line, n);
    }
    if (nl == NULL) {
        if (in->len - in->off > WIRE_MAX_LINE) {
            in->skipping = 1;
            in->off = in->len;
            return -1;
        }
        if (in->eof && in->len > in->off) {
            /* A last line without its newline. */
            *line = start;
            *n = in->len - in->off;
            in->off = in->len;
            return 1;
        }
        return 0;
    }
    *line = start;
    *n = (size_t)(nl - start) + 1;
    in->off += *n;
    return 1;
}

int win_frame(win *in, const uint8_t **payload, size_t *n, const char **err)
{
    size_t have = in->len - in->off, len;

    if (have < 4)
        return 0;
    len = (size_t)be_get(in->p + in->off, 4);
    if (len < 1 || len > WIRE_MAX_FRAME) {
        *err = "binary frame length outside 1..64 MiB";
        return -1;
    }
    if (have - 4 < len)
        return 0;
    *payload = in->p + in->off + 4;
    *n = len;
    in->off += 4 + len;
    return 1;
}

void win_free(win *in)
{
    free(in->p);
    memset(in, 0, sizeof(*in));
}

int wire_flush(jbuf *b, int fd)
{
    size_t done = 0;

    while (done < b->len) {
        ssize_t put = write(fd, b->p + done, b->len - done);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return -1;
        done += (size_t)put;
    }
    b->len = 0;
    return 0;
}
