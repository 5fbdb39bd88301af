/* The native readers (govweibo.ingest._sina_scan): what their files share.
 *
 * scan() maps a chunk of JSON lines of Sina status objects to the columns that the SQL
 * path (ingest/weibo_sql.py) produces for it, or returns None when any line is something
 * that path must judge: not strict JSON, not valid UTF-8, not a status, a value in a shape
 * other than the plain ones, or a record the SQL checks would quarantine. The caller then
 * maps the whole chunk in SQL, so the two paths never mix within a chunk and each accepted
 * value means exactly what the SQL path makes of it (tests/test_sina_fast.py compares the
 * two). scan_reposts() reads a batch of CED repost files into one set of string columns,
 * converting their plainly well-formed records, and declines any file for json.loads
 * that is not strict JSON in the plain shape (tests/test_ced_reposts.py).
 *
 * json.c     strict JSON: strings, numbers, objects walked key by key, values kept as Val
 * values.c   what the SQL macros (gw_id, gw_ts, gw_chain, ...) make of a Val, in C
 * columns.c  growable column buffers, handed to Python without a copy
 * statuses.c Sina statuses and users to posts and users rows; scan()
 * reposts.c  CED repost arrays; scan_reposts()
 * module.c   the Python module
 */
#ifndef GOVWEIBO_SCAN_H
#define GOVWEIBO_SCAN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FAIL 0
#define OK 1

/* ---- growable bytes ----------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
} Buf;

int buf_grow(Buf *b, size_t extra);
void buf_free(Buf *b);

static inline int buf_put(Buf *b, const void *src, size_t n) {
    if (!buf_grow(b, n)) return 0;
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
    return 1;
}

static inline int buf_i64(Buf *b, int64_t v) { return buf_put(b, &v, 8); }
static inline int buf_u8(Buf *b, uint8_t v) { return buf_put(b, &v, 1); }

/* ---- values of one parsed object ---------------------------------------------------- */

enum { V_ABSENT = 0, V_NULL, V_STR, V_INT, V_BOOL, V_ARRAY, V_OBJECT, V_OTHER };

typedef struct {
    int kind;
    int in_arena;    /* V_STR with escapes: decoded into the line's arena */
    size_t off, len; /* V_STR: bytes in the line, or in the arena; V_INT: token in the line */
    int64_t ival;    /* V_INT: value (|v| < 10^18); V_BOOL: 0/1; V_ARRAY: element count */
    int is_ascii;    /* V_STR */
} Val;

typedef struct {
    const char *line; /* the line (or file) being parsed */
    Buf arena;        /* decoded strings of the line */
} Ctx;

/* ---- strict JSON (json.c) ----------------------------------------------------------- */

static inline const char *ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* One UTF-8 sequence at p (strict: no overlongs, surrogates or > U+10FFFF); its length
 * or 0. */
static inline int utf8_len(const unsigned char *p, const unsigned char *e) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (e - p >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (e - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0;
        if (c == 0xED && p[1] >= 0xA0) return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (e - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0;
        if (c == 0xF4 && p[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

/* Walk an object's members; `member` handles each, returning FAIL to decline. */
typedef int (*MemberFn)(Ctx *, void *, const char *, size_t, const char **, const char *);

void init_plain(void);
int js_string(const char **pp, const char *e, Buf *out, int *ascii, int *escaped);
int js_skip(const char **pp, const char *e, int depth);
int js_literal(const char **pp, const char *e, const char *word);
int js_value(Ctx *cx, const char **pp, const char *e, Val *out);
int js_find(const char **names, const size_t *lens, int n, const char *k, size_t klen);
int js_object(Ctx *cx, const char **pp, const char *e, void *target, MemberFn member);
int js_slot(Ctx *cx, Val *v, const char **pp, const char *e);
int js_nested(Ctx *cx, const char **pp, const char *e, int *present, void *target,
              MemberFn member);

/* The VARCHAR json_transform gives a value: 1 (text in *t, *n), 0 (NULL), -1 (a shape
 * left to the SQL path). */
static inline int js_render(Ctx *cx, const Val *v, const char **t, size_t *n) {
    switch (v->kind) {
    case V_ABSENT: case V_NULL: return 0;
    case V_STR: *t = (v->in_arena ? cx->arena.p : cx->line) + v->off; *n = v->len; return 1;
    case V_INT: *t = cx->line + v->off; *n = v->len; return 1;
    case V_BOOL: *t = v->ival ? "true" : "false"; *n = v->ival ? 4 : 5; return 1;
    default: return -1;
    }
}

/* ---- columns (columns.c) ------------------------------------------------------------ */

typedef struct { Buf off, data, valid; } SCol; /* offsets int64 (n+1), bytes, valid u8 */
typedef struct { Buf val, valid; } ICol;       /* int64, valid u8 */
typedef struct { Buf off, valid; SCol item; } LCol;

int scol_init(SCol *c);
static inline int scol_put(SCol *c, const char *t, size_t n, int valid) {
    if (valid && !buf_put(&c->data, t, n)) return FAIL;
    return buf_i64(&c->off, (int64_t)c->data.len) && buf_u8(&c->valid, (uint8_t)valid);
}

static inline int icol_put(ICol *c, int64_t v, int valid) {
    return buf_i64(&c->val, valid ? v : 0) && buf_u8(&c->valid, (uint8_t)valid);
}
void scol_free(SCol *c);
int owned_ready(void);
PyObject *bytes_of(Buf *b);
int set(PyObject *d, const char *k, PyObject *v);
PyObject *scol_py(SCol *c);
PyObject *icol_py(ICol *c);

/* ---- the SQL macros' meaning (values.c) --------------------------------------------- */

int all_digits(const char *t, size_t n);
int gw_id(Ctx *cx, const Val *idstr, const Val *id, const char **t, size_t *n);
int gw_count(Ctx *cx, const Val *v, int64_t *out);
int gw_bool(Ctx *cx, const Val *v, int64_t *out);
int try_int32(Ctx *cx, const Val *v, int64_t *out);
int gw_ts(Ctx *cx, const Val *v, int64_t now_us, int64_t *out);
int put_text(Ctx *cx, SCol *c, const Val *v);
int put_chain(LCol *c, const char *t, size_t n, int valid);
int put_source(Ctx *cx, SCol *c, const Val *v);
int put_mid(SCol *c, const char *t, size_t n);
int has(const char *t, size_t n, const char *needle);

/* ---- the readers -------------------------------------------------------------------- */

void init_lengths(void);
void init_repost_lengths(void);
PyObject *scan(PyObject *self, PyObject *args);
PyObject *scan_reposts(PyObject *self, PyObject *args);

#endif
