/*
 * wire.h - the transport of harness/PROTOCOL.md: JSON lines (the default)
 * and binary-v1 frames, read into one message model and written by one
 * response writer, so that the op handlers never see which framing is used.
 *
 * Rules of this module: every length read from the wire is checked against
 * the bytes present before it is used; a message's fields point into the
 * input buffer (binary) or into its parsed JSON object, and stay valid until
 * wmsg_free.
 */
#ifndef SFRAME_WIRE_H
#define SFRAME_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define WIRE_MAX_FRAME ((size_t)64 << 20) /* binary-v1 payload, either way */
#define WIRE_MAX_LINE ((size_t)256 << 20) /* one JSON line */

/* Field types. 1..6 are binary-v1's type bytes; the rest come from JSON. */
typedef enum {
    WF_BYTES = 1,
    WF_U64 = 2,
    WF_STRING = 3,
    WF_INT = 4,
    WF_BOOL = 5,
    WF_JSON = 6,   /* binary JSON field, or a JSON array/object */
    WF_NULL = 7,   /* JSON null */
    WF_NUMBER = 8  /* JSON number that is not an integer in range (p: text) */
} wf_type;

typedef struct {
    const char *name;
    size_t name_len;
    wf_type type;
    const uint8_t *p; /* BYTES, STRING, JSON, NUMBER: the value's bytes */
    size_t n;
    uint64_t u;  /* U64 */
    long long i; /* INT */
    int b;       /* BOOL */
    /* The value as it arrived, to echo an id: JSON text, or the whole
     * binary field (type, name and value). */
    const uint8_t *raw;
    size_t raw_len;
} wfield;

typedef struct {
    wfield *f;
    size_t n, cap;
    json_object json; /* JSON form: owns the decoded strings */
    int has_json;
} wmsg;

/* Parse one request. Return 1, or 0 with *err set (msg left empty). */
int wmsg_from_json(wmsg *m, const char *line, size_t len, const char **err);
int wmsg_from_binary(wmsg *m, const uint8_t *payload, size_t len,
                     const char **err);
void wmsg_free(wmsg *m);
const wfield *wmsg_get(const wmsg *m, const char *name);

/* True if a JSON array text lists the string s (hello's "framings"). */
int wire_json_list_has(const uint8_t *text, size_t n, const char *s);

/* ---- responses ---- */

typedef struct {
    jbuf *b;
    int binary;
    size_t start; /* where this response began in b */
} wresp;

/* Starts a response; id NULL writes a null id. */
void wr_begin(wresp *r, jbuf *b, int binary, const wfield *id, int ok);
void wr_bytes(wresp *r, const char *name, const uint8_t *p, size_t n);
void wr_u64(wresp *r, const char *name, uint64_t v);
void wr_int(wresp *r, const char *name, long long v);
void wr_str(wresp *r, const char *name, const char *s, size_t n);
/* A value that is JSON text (lists): a JSON field in binary-v1. */
void wr_json(wresp *r, const char *name, const char *json_text);
void wr_end(wresp *r);
/* Replaces the response begun at r->start by an error without payload. */
void wr_error(wresp *r, const wfield *id, const char *cls, const char *msg);

/* ---- input ---- */

typedef struct {
    uint8_t *p;
    size_t len, off, cap;
    int eof;
    int skipping; /* discarding an over-long JSON line up to its newline */
} win;

/* Reads more of fd into the buffer: 1 read some, 0 EOF, -1 error. */
int win_fill(win *in, int fd);
/* Next complete JSON line: 1 (line, n), 0 need more input, -1 the line is
 * longer than WIRE_MAX_LINE (it is being skipped; answer it with an error). */
int win_line(win *in, const uint8_t **line, size_t *n);
/* Next complete binary-v1 frame: 1 (payload, n), 0 need more input,
 * -1 bad length prefix (*err set; the stream cannot be resynchronised). */
int win_frame(win *in, const uint8_t **payload, size_t *n, const char **err);
void win_free(win *in);

/* Writes all of b to fd and empties it. 0 on success, -1 on error. */
int wire_flush(jbuf *b, int fd);

#endif /* SFRAME_WIRE_H */
