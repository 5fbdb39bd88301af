/* A native fast path for the commonest input: JSON lines of Sina status objects.
 *
 * scan(body, now_us) maps a chunk of complete lines to the columns that the SQL path
 * (weibo_sql.py) produces for it, or returns None when any line is something that
 * path must judge: not strict JSON, not valid UTF-8, not a status, a value in a shape
 * other than the plain ones below, or a record the SQL checks would quarantine.
 * The caller then maps the whole chunk in SQL, so the two paths never mix within a
 * chunk and each accepted value means exactly what the SQL path makes of it
 * (tests/test_sina_scan.py compares the two). Every macro of weibo_sql that this
 * file mirrors is named beside its C twin.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *p;
    size_t len, cap;
} Buf;

static int buf_grow(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return 0;
    b->p = p;
    b->cap = cap;
    return 1;
}

static int buf_put(Buf *b, const void *src, size_t n) {
    if (!buf_grow(b, n)) return 0;
    if (n) memcpy(b->p + b->len, src, n);
    b->len += n;
    return 1;
}

static int buf_i64(Buf *b, int64_t v) { return buf_put(b, &v, 8); }
static int buf_u8(Buf *b, uint8_t v) { return buf_put(b, &v, 1); }

/* ---- values of one parsed object -------------------------------------------------- */

enum { V_ABSENT = 0, V_NULL, V_STR, V_INT, V_BOOL, V_ARRAY, V_OBJECT, V_OTHER };

typedef struct {
    int kind;
    int in_arena;    /* V_STR with escapes: decoded into the line's arena */
    size_t off, len; /* V_STR: bytes in the line, or in the arena; V_INT: token in the line */
    int64_t ival;    /* V_INT: value (|v| < 10^18); V_BOOL: 0/1; V_ARRAY: element count */
    int is_ascii;    /* V_STR */
} Val;

/* Field slots. A status (top level or retweeted), a user, page_info. */
enum {
    S_ID, S_IDSTR, S_CREATED, S_TEXT, S_SOURCE, S_REPOSTS, S_COMMENTS, S_LIKES,
    S_TRUNCATED, S_THUMB, S_PICS, S_N
};
static const char *STATUS_KEYS[S_N] = {
    "id", "idstr", "created_at", "text", "source", "reposts_count", "comments_count",
    "attitudes_count", "truncated", "thumbnail_pic", "pic_urls"};

enum {
    U_ID, U_IDSTR, U_SCREEN, U_NAME, U_DESC, U_URL, U_VERIFIED, U_VTYPE, U_VREASON,
    U_PROVINCE, U_CITY, U_LOCATION, U_GENDER, U_CREATED, U_FOLLOWERS, U_FRIENDS,
    U_STATUSES, U_FAVOURITES, U_N
};
static const char *USER_KEYS[U_N] = {
    "id", "idstr", "screen_name", "name", "description", "url", "verified",
    "verified_type", "verified_reason", "province", "city", "location", "gender",
    "created_at", "followers_count", "friends_count", "statuses_count", "favourites_count"};

/* Keys that make a line a comment or an API page: the SQL path maps those. */
static const char *MARKER_KEYS[] = {"status", "reply_comment", "statuses", "comments",
                                    "users", "reposts", NULL};

typedef struct {
    Val v[U_N];
    int present;
} User;

typedef struct {
    Val v[S_N];
    int present;    /* 0 absent, -1 null, 1 an object */
    int page;       /* page_info: 0 absent, -1 null, 1 an object */
    Val page_type;
    User user;
} Status;

typedef struct {
    const char *line; /* the line being parsed */
    Buf arena;        /* decoded strings of the line */
} Ctx;

/* ---- strict JSON ------------------------------------------------------------------- */

#define FAIL 0
#define OK 1

static inline const char *ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static int utf8_put(Buf *b, uint32_t c) {
    char t[4];
    size_t n;
    if (c < 0x80) { t[0] = (char)c; n = 1; }
    else if (c < 0x800) { t[0] = (char)(0xC0 | (c >> 6)); t[1] = (char)(0x80 | (c & 0x3F)); n = 2; }
    else if (c < 0x10000) {
        t[0] = (char)(0xE0 | (c >> 12)); t[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        t[2] = (char)(0x80 | (c & 0x3F)); n = 3;
    } else {
        t[0] = (char)(0xF0 | (c >> 18)); t[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((c >> 6) & 0x3F)); t[3] = (char)(0x80 | (c & 0x3F)); n = 4;
    }
    return buf_put(b, t, n);
}

static int hex4(const char *p, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return FAIL;
    }
    *out = v;
    return OK;
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

/* Bytes that may stand in a string as they are: printable ASCII but the quote and the
 * backslash. */
static unsigned char PLAIN[256];

static void init_plain(void) {
    for (int c = 0x20; c < 0x80; c++) PLAIN[c] = c != '"' && c != '\\';
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Eight bytes all PLAIN: none below 0x20, none from 0x80, no quote, no backslash. */
static inline int plain8(uint64_t v) {
    uint64_t below = (v - ONES * 0x20) & ~v;
    uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
    uint64_t quote = (q - ONES) & ~q, slash = (b - ONES) & ~b;
    return ((below | quote | slash | v) & HIGHS) == 0;
}

/* A string at *pp (on its opening quote). With `out`, its decoded bytes are appended:
 * runs without escapes are validated in place and copied once. */
static int string(const char **pp, const char *e, Buf *out, int *ascii, int *escaped) {
    const char *p = *pp + 1;
    int all_ascii = 1, esc = 0;
    for (;;) {
        const char *run = p;
        for (;;) {
            /* eight plain ASCII bytes at a time, then byte by byte */
            while (e - p >= 8) {
                uint64_t v;
                memcpy(&v, p, 8);
                if (!plain8(v)) break;
                p += 8;
            }
            while (p < e && PLAIN[(unsigned char)*p]) p++;
            if (p < e && (unsigned char)*p >= 0x80) {
                int n = utf8_len((const unsigned char *)p, (const unsigned char *)e);
                if (!n) return FAIL;
                p += n;
                all_ascii = 0;
                continue;
            }
            break;
        }
        if (out && p > run && !buf_put(out, run, (size_t)(p - run))) return FAIL;
        if (p >= e) return FAIL;
        unsigned char c = (unsigned char)*p;
        if (c == '"') break;
        if (c < 0x20) return FAIL;
        /* an escape */
        esc = 1;
        if (e - p < 2) return FAIL;
        char x = p[1];
        const char *simple = "\"\\/bfnrt";
        const char *real = "\"\\/\b\f\n\r\t";
        const char *hit = x ? strchr(simple, x) : NULL;
        if (hit) {
            if (out && !buf_u8(out, (uint8_t)real[hit - simple])) return FAIL;
            p += 2;
            continue;
        }
        if (x != 'u' || e - p < 6) return FAIL;
        uint32_t cp;
        if (!hex4(p + 2, &cp)) return FAIL;
        p += 6;
        if (cp == 0) return FAIL; /* NUL inside a string: left to the SQL path */
        if (cp >= 0xDC00 && cp <= 0xDFFF) return FAIL;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &lo)) return FAIL;
            if (lo < 0xDC00 || lo > 0xDFFF) return FAIL;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        if (cp >= 0x80) all_ascii = 0;
        if (out && !utf8_put(out, cp)) return FAIL;
    }
    *pp = p + 1;
    if (ascii) *ascii = all_ascii;
    if (escaped) *escaped = esc;
    return OK;
}

/* A number at *pp. Sets *is_int and, for a plain integer of at most 18 digits, *value. */
static int number(const char **pp, const char *e, int *is_int, int64_t *value) {
    const char *p = *pp;
    int neg = 0;
    if (p < e && *p == '-') { neg = 1; p++; }
    if (p >= e || *p < '0' || *p > '9') return FAIL;
    const char *digits = p;
    if (*p == '0') p++;
    else while (p < e && *p >= '0' && *p <= '9') p++;
    size_t nd = (size_t)(p - digits);
    int plain = 1;
    if (p < e && *p == '.') {
        plain = 0;
        p++;
        if (p >= e || *p < '0' || *p > '9') return FAIL;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        plain = 0;
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || *p < '0' || *p > '9') return FAIL;
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    *is_int = plain && nd <= 18;
    if (*is_int) {
        int64_t v = 0;
        for (const char *q = digits; q < digits + nd; q++) v = v * 10 + (*q - '0');
        *value = neg ? -v : v;
    }
    *pp = p;
    return OK;
}

static int skip(const char **pp, const char *e, int depth);

static int skip_container(const char **pp, const char *e, int depth, int64_t *count) {
    const char *p = *pp;
    char open = *p, close = open == '{' ? '}' : ']';
    int64_t n = 0;
    if (depth > 64) return FAIL;
    p = ws(p + 1, e);
    if (p < e && *p == close) { *pp = p + 1; if (count) *count = 0; return OK; }
    for (;;) {
        if (open == '{') {
            if (p >= e || *p != '"' || !string(&p, e, NULL, NULL, NULL)) return FAIL;
            p = ws(p, e);
            if (p >= e || *p != ':') return FAIL;
            p = ws(p + 1, e);
        }
        if (!skip(&p, e, depth + 1)) return FAIL;
        n++;
        p = ws(p, e);
        if (p < e && *p == ',') { p = ws(p + 1, e); continue; }
        if (p < e && *p == close) { p++; break; }
        return FAIL;
    }
    *pp = p;
    if (count) *count = n;
    return OK;
}

static int literal(const char **pp, const char *e, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(e - *pp) < n || memcmp(*pp, word, n) != 0) return FAIL;
    *pp += n;
    return OK;
}

static int skip(const char **pp, const char *e, int depth) {
    const char *p = *pp;
    if (p >= e) return FAIL;
    int is_int;
    int64_t v;
    switch (*p) {
    case '"': return string(pp, e, NULL, NULL, NULL);
    case '{': case '[': return skip_container(pp, e, depth, NULL);
    case 't': return literal(pp, e, "true");
    case 'f': return literal(pp, e, "false");
    case 'n': return literal(pp, e, "null");
    default: return number(pp, e, &is_int, &v);
    }
}

/* A scalar slot's value. Objects and arrays are only told apart, then skipped. */
static int value(Ctx *cx, const char **pp, const char *e, Val *out) {
    const char *p = *pp;
    if (p >= e) return FAIL;
    switch (*p) {
    case '"': {
        /* Validated in place; decoded into the arena only when it has escapes. */
        int escaped;
        if (!string(pp, e, NULL, &out->is_ascii, &escaped)) return FAIL;
        out->kind = V_STR;
        if (!escaped) {
            out->in_arena = 0;
            out->off = (size_t)(p + 1 - cx->line);
            out->len = (size_t)(*pp - p - 2);
            return OK;
        }
        const char *again = p;
        out->in_arena = 1;
        out->off = cx->arena.len;
        if (!string(&again, e, &cx->arena, NULL, NULL)) return FAIL;
        out->len = cx->arena.len - out->off;
        return OK;
    }
    case 't': out->kind = V_BOOL; out->ival = 1; return literal(pp, e, "true");
    case 'f': out->kind = V_BOOL; out->ival = 0; return literal(pp, e, "false");
    case 'n': out->kind = V_NULL; return literal(pp, e, "null");
    case '[': out->kind = V_ARRAY; return skip_container(pp, e, 1, &out->ival);
    case '{': out->kind = V_OBJECT; return skip_container(pp, e, 1, NULL);
    default: {
        int is_int;
        const char *start = p;
        if (!number(pp, e, &is_int, &out->ival)) return FAIL;
        /* -0 renders as 0 in SQL: left to it, like fractions and long numbers */
        out->kind = is_int && !(start[0] == '-' && start[1] == '0') ? V_INT : V_OTHER;
        out->off = (size_t)(start - cx->line);
        out->len = (size_t)(*pp - start);
        return OK;
    }
    }
}

/* The key at *pp (an unescaped string; a key with escapes is left to the SQL path). */
static int key(const char **pp, const char *e, const char **k, size_t *klen) {
    const char *p = *pp;
    if (p >= e || *p != '"') return FAIL;
    const char *s = ++p;
    while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) p++;
    if (p >= e || *p != '"') return FAIL;
    *k = s;
    *klen = (size_t)(p - s);
    p = ws(p + 1, e);
    if (p >= e || *p != ':') return FAIL;
    *pp = ws(p + 1, e);
    return OK;
}

static size_t USER_LENS[U_N], STATUS_LENS[S_N];

static void init_lengths(void) {
    for (int i = 0; i < U_N; i++) USER_LENS[i] = strlen(USER_KEYS[i]);
    for (int i = 0; i < S_N; i++) STATUS_LENS[i] = strlen(STATUS_KEYS[i]);
}

static int find(const char **names, const size_t *lens, int n, const char *k, size_t klen) {
    for (int i = 0; i < n; i++)
        if (lens[i] == klen && names[i][0] == k[0] && memcmp(names[i], k, klen) == 0) return i;
    return -1;
}

/* Walk an object's members; `member` handles each, returning FAIL to decline. */
typedef int (*MemberFn)(Ctx *, void *, const char *, size_t, const char **, const char *);

static int object(Ctx *cx, const char **pp, const char *e, void *target, MemberFn member) {
    const char *p = ws(*pp + 1, e);
    if (p < e && *p == '}') { *pp = p + 1; return OK; }
    for (;;) {
        const char *k;
        size_t klen;
        if (!key(&p, e, &k, &klen)) return FAIL;
        if (!member(cx, target, k, klen, &p, e)) return FAIL;
        p = ws(p, e);
        if (p < e && *p == ',') { p = ws(p + 1, e); continue; }
        if (p < e && *p == '}') { p++; break; }
        return FAIL;
    }
    *pp = p;
    return OK;
}

static int slot(Ctx *cx, Val *v, const char **pp, const char *e) {
    if (v->kind != V_ABSENT) return FAIL; /* a repeated key */
    return value(cx, pp, e, v);
}

static int user_member(Ctx *cx, void *t, const char *k, size_t klen, const char **pp,
                       const char *e) {
    User *u = t;
    int i = find(USER_KEYS, USER_LENS, U_N, k, klen);
    if (i < 0) return skip(pp, e, 1);
    return slot(cx, &u->v[i], pp, e);
}

static int page_member(Ctx *cx, void *t, const char *k, size_t klen, const char **pp,
                       const char *e) {
    Val *type = t;
    if (klen == 4 && memcmp(k, "type", 4) == 0) return slot(cx, type, pp, e);
    return skip(pp, e, 1);
}

/* user / page_info / retweeted_status: an object, or null. */
static int nested(Ctx *cx, const char **pp, const char *e, int *present, void *target,
                  MemberFn member) {
    if (*present) return FAIL;
    if (**pp == 'n') { *present = -1; return literal(pp, e, "null"); }
    if (**pp != '{') return FAIL;
    *present = 1;
    return object(cx, pp, e, target, member);
}

static int status_member(Ctx *cx, void *t, const char *k, size_t klen, const char **pp,
                         const char *e) {
    Status *s = t;
    int i = find(STATUS_KEYS, STATUS_LENS, S_N, k, klen);
    if (i >= 0) return slot(cx, &s->v[i], pp, e);
    if (klen == 4 && memcmp(k, "user", 4) == 0)
        return nested(cx, pp, e, &s->user.present, &s->user, user_member);
    if (klen == 9 && memcmp(k, "page_info", 9) == 0)
        return nested(cx, pp, e, &s->page, &s->page_type, page_member);
    return skip(pp, e, 1);
}

typedef struct {
    Status st, rt;
} Top;

static int top_member(Ctx *cx, void *t, const char *k, size_t klen, const char **pp,
                      const char *e) {
    Top *top = t;
    if (klen == 16 && memcmp(k, "retweeted_status", 16) == 0)
        return nested(cx, pp, e, &top->rt.present, &top->rt, status_member);
    for (int i = 0; MARKER_KEYS[i]; i++)
        if (strlen(MARKER_KEYS[i]) == klen && memcmp(MARKER_KEYS[i], k, klen) == 0) return FAIL;
    return status_member(cx, &top->st, k, klen, pp, e);
}

/* ---- what the SQL macros make of a value ------------------------------------------- */

/* The VARCHAR json_transform gives a value: 1 (text in *t, *n), 0 (NULL), -1 (a shape
 * left to the SQL path). */
static int render(Ctx *cx, const Val *v, const char **t, size_t *n) {
    switch (v->kind) {
    case V_ABSENT: case V_NULL: return 0;
    case V_STR: *t = (v->in_arena ? cx->arena.p : cx->line) + v->off; *n = v->len; return 1;
    case V_INT: *t = cx->line + v->off; *n = v->len; return 1;
    case V_BOOL: *t = v->ival ? "true" : "false"; *n = v->ival ? 4 : 5; return 1;
    default: return -1;
    }
}

/* gw_digits: 1 to 20 ASCII digits. */
static int all_digits(const char *t, size_t n) {
    if (n < 1 || n > 20) return 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] < '0' || t[i] > '9') return 0;
    return 1;
}

/* gw_id(idstr, id): 1 with the id's text, 0 if neither is an id, -1 to decline. */
static int gw_id(Ctx *cx, const Val *idstr, const Val *id, const char **t, size_t *n) {
    const Val *vs[2] = {idstr, id};
    for (int i = 0; i < 2; i++) {
        int r = render(cx, vs[i], t, n);
        if (r < 0) return -1;
        if (r && all_digits(*t, *n)) return 1;
    }
    return 0;
}

/* gw_int for a count: 1 with *out, 0 for NULL; -1 where SQL would reject or may differ. */
static int gw_count(Ctx *cx, const Val *v, int64_t *out) {
    const char *t;
    size_t n;
    int r = render(cx, v, &t, &n);
    if (r <= 0) return r;
    if (!all_digits(t, n) || n > 18) return -1;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) x = x * 10 + (t[i] - '0');
    *out = x;
    return 1;
}

/* gw_bool: lower(x) in true/1 or false/0, else NULL. */
static int gw_bool(Ctx *cx, const Val *v, int64_t *out) {
    const char *t;
    size_t n;
    int r = render(cx, v, &t, &n);
    if (r <= 0) return r;
    char low[6];
    if (n > 5) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c >= 0x80) return -1;
        low[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    if ((n == 4 && !memcmp(low, "true", 4)) || (n == 1 && low[0] == '1')) { *out = 1; return 1; }
    if ((n == 5 && !memcmp(low, "false", 5)) || (n == 1 && low[0] == '0')) { *out = 0; return 1; }
    return 0;
}

/* TRY_CAST(x AS INTEGER) for plain integers; anything else declines. */
static int try_int32(Ctx *cx, const Val *v, int64_t *out) {
    const char *t;
    size_t n;
    int r = render(cx, v, &t, &n);
    if (r <= 0) return r;
    size_t i = (n && t[0] == '-') ? 1 : 0;
    if (n - i < 1 || n - i > 9 || !all_digits(t + i, n - i)) return -1;
    int64_t x = 0;
    for (size_t j = i; j < n; j++) x = x * 10 + (t[j] - '0');
    *out = i ? -x : x;
    return 1;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int two(const char *t, int *out) {
    if (t[0] < '0' || t[0] > '9' || t[1] < '0' || t[1] > '9') return 0;
    *out = (t[0] - '0') * 10 + (t[1] - '0');
    return 1;
}

#define EPOCH_2000_US 946684800000000LL
#define DAY_US 86400000000LL

/* gw_ts for Sina's own format, `Wed Jun 01 10:00:00 +0800 2011`, exactly; 1 with UTC
 * microseconds, 0 for NULL, -1 for anything else (other formats, out of range). */
static int gw_ts(Ctx *cx, const Val *v, int64_t now_us, int64_t *out) {
    static const char *days = "MonTueWedThuFriSatSun";
    static const char *months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *t;
    size_t n;
    int r = render(cx, v, &t, &n);
    if (r <= 0) return r;
    if (n != 30 || v->kind != V_STR) return -1;
    int wd = -1, mo = -1;
    for (int i = 0; i < 7; i++)
        if (!memcmp(t, days + 3 * i, 3)) wd = i;
    for (int i = 0; i < 12; i++)
        if (!memcmp(t + 4, months + 3 * i, 3)) mo = i + 1;
    int d, hh, mi, ss, oh, om, y1, y2;
    if (wd < 0 || mo < 0 || t[3] != ' ' || t[7] != ' ' || t[10] != ' ' || t[13] != ':' ||
        t[16] != ':' || t[19] != ' ' || (t[20] != '+' && t[20] != '-') || t[25] != ' ' ||
        !two(t + 8, &d) || !two(t + 11, &hh) || !two(t + 14, &mi) || !two(t + 17, &ss) ||
        !two(t + 21, &oh) || !two(t + 23, &om) || !two(t + 26, &y1) || !two(t + 28, &y2))
        return -1;
    int y = y1 * 100 + y2;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int dim = mdays[mo - 1] + (mo == 2 && leap);
    if (d < 1 || d > dim || hh > 23 || mi > 59 || ss > 59 || oh > 14 || om > 59) return -1;
    int64_t off = (int64_t)(oh * 3600 + om * 60) * (t[20] == '+' ? 1 : -1);
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 +
                   mi * 60 + ss - off;
    int64_t us = secs * 1000000;
    /* BETWEEN 2000-01-01 AND now() + 1 day; a minute's margin at the upper end, since
     * the SQL path's now() is its own transaction's. */
    if (us < EPOCH_2000_US || us > now_us + DAY_US - 60000000LL) return -1;
    *out = us;
    return 1;
}

static int is_fullwidth_colon(const unsigned char *p, const unsigned char *e) {
    return e - p >= 3 && p[0] == 0xEF && p[1] == 0xBC && p[2] == 0x9A; /* U+FF1A */
}

/* ---- columns ------------------------------------------------------------------------ */

typedef struct { Buf off, data, valid; } SCol; /* offsets int64 (n+1), bytes, valid u8 */
typedef struct { Buf val, valid; } ICol;       /* int64, valid u8 */
typedef struct { Buf off, valid; SCol item; } LCol;

static int scol_init(SCol *c) { return buf_i64(&c->off, 0); }

static int scol_put(SCol *c, const char *t, size_t n, int valid) {
    if (valid && !buf_put(&c->data, t, n)) return FAIL;
    return buf_i64(&c->off, (int64_t)c->data.len) && buf_u8(&c->valid, (uint8_t)valid);
}

static int icol_put(ICol *c, int64_t v, int valid) {
    return buf_i64(&c->val, valid ? v : 0) && buf_u8(&c->valid, (uint8_t)valid);
}

enum { P_POST_ID, P_MID, P_AUTHOR_ID, P_TEXT, P_SOURCE, P_RETWEETED_ID, P_NS };
static const char *POST_S[P_NS] = {"post_id", "mid", "author_id", "text", "source",
                                   "retweeted_post_id"};
enum { P_CREATED, P_REPOSTS, P_COMMENTS, P_LIKES, P_TRUNCATED, P_PICS, P_VIDEO, P_URL, P_NI };
static const char *POST_I[P_NI] = {"created_at", "reposts", "comments", "likes",
                                   "is_truncated", "pic_count", "has_video", "has_url"};
enum { A_ID, A_SCREEN, A_DESC, A_URL, A_VREASON, A_PROVINCE, A_CITY, A_LOCATION, A_GENDER, A_NS };
static const char *USER_S[A_NS] = {"account_id", "screen_name", "description", "url",
                                   "verified_reason", "province_code", "city_code", "location",
                                   "gender"};
enum { A_VERIFIED, A_VTYPE, A_CREATED, A_FOLLOWERS, A_FRIENDS, A_STATUSES, A_FAVOURITES, A_NI };
static const char *USER_I[A_NI] = {"verified", "verified_type", "created_at", "followers",
                                   "friends", "statuses", "favourites"};

typedef struct {
    int64_t rows;
    SCol s[P_NS];
    ICol i[P_NI];
    LCol chain;
} Posts;

typedef struct {
    int64_t rows;
    SCol s[A_NS];
    ICol i[A_NI];
} Users;

static int posts_init(Posts *p) {
    memset(p, 0, sizeof *p);
    for (int k = 0; k < P_NS; k++)
        if (!scol_init(&p->s[k])) return FAIL;
    return scol_init(&p->chain.item) && buf_i64(&p->chain.off, 0);
}

static int users_init(Users *u) {
    memset(u, 0, sizeof *u);
    for (int k = 0; k < A_NS; k++)
        if (!scol_init(&u->s[k])) return FAIL;
    return OK;
}

static void buf_free(Buf *b) { free(b->p); b->p = NULL; b->len = b->cap = 0; }
static void scol_free(SCol *c) { buf_free(&c->off); buf_free(&c->data); buf_free(&c->valid); }

static void posts_free(Posts *p) {
    for (int k = 0; k < P_NS; k++) scol_free(&p->s[k]);
    for (int k = 0; k < P_NI; k++) { buf_free(&p->i[k].val); buf_free(&p->i[k].valid); }
    buf_free(&p->chain.off);
    buf_free(&p->chain.valid);
    scol_free(&p->chain.item);
}

static void users_free(Users *u) {
    for (int k = 0; k < A_NS; k++) scol_free(&u->s[k]);
    for (int k = 0; k < A_NI; k++) { buf_free(&u->i[k].val); buf_free(&u->i[k].valid); }
}

/* A rendered text column value (NULL when absent or null). */
static int put_text(Ctx *cx, SCol *c, const Val *v) {
    const char *t = NULL;
    size_t n = 0;
    int r = render(cx, v, &t, &n);
    if (r < 0) return FAIL;
    return scol_put(c, t, n, r);
}

/* gw_chain: regexp_extract_all(t, '//@([^:：\s/]{1,40})[:：]', 1). */
static int put_chain(LCol *c, const char *t, size_t n, int valid) {
    if (valid) {
        const unsigned char *p = (const unsigned char *)t, *e = p + n;
        while (e - p >= 3) {
            if (!(p[0] == '/' && p[1] == '/' && p[2] == '@')) { p++; continue; }
            const unsigned char *q = p + 3;
            int chars = 0;
            while (q < e && *q != ':' && *q != '/' && *q != ' ' && *q != '\t' && *q != '\n' &&
                   *q != '\f' && *q != '\r' && !is_fullwidth_colon(q, e)) {
                int l = utf8_len(q, e);
                if (!l) return FAIL;
                q += l;
                chars++;
            }
            if (chars >= 1 && chars <= 40 && q < e && (*q == ':' || is_fullwidth_colon(q, e))) {
                if (!scol_put(&c->item, (const char *)p + 3, (size_t)(q - p - 3), 1)) return FAIL;
                p = q + (*q == ':' ? 1 : 3);
            } else {
                p++;
            }
        }
    }
    return buf_i64(&c->off, (int64_t)(c->item.off.len / 8 - 1)) && buf_u8(&c->valid, (uint8_t)valid);
}

/* gw_source: the text of the first `>...</a>`, else the value itself. */
static int put_source(Ctx *cx, SCol *c, const Val *v) {
    const char *t = NULL;
    size_t n = 0;
    int r = render(cx, v, &t, &n);
    if (r <= 0) return r < 0 ? FAIL : scol_put(c, NULL, 0, 0);
    const char *e = t + n, *p = memchr(t, '>', n);
    while (p) {
        const char *q = memchr(p + 1, '<', (size_t)(e - p - 1));
        if (!q) break;
        if (e - q >= 4 && !memcmp(q, "</a>", 4)) {
            if (q > p + 1) return scol_put(c, p + 1, (size_t)(q - p - 1), 1);
            break;
        }
        /* every '>' before q meets the same '<': go on from the first after it */
        p = memchr(q, '>', (size_t)(e - q));
    }
    return scol_put(c, t, n, 1);
}

/* sina_ids.id_to_mid: groups of seven digits from the right, each four base62
 * characters, leading zeros dropped (an id of 0 keeps one). */
static int put_mid(SCol *c, const char *t, size_t n) {
    static const char *b62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char out[12];
    size_t end = n;
    for (int g = 2; g >= 0; g--) {
        size_t start = end > 7 ? end - 7 : 0;
        int64_t v = 0;
        for (size_t i = start; i < end; i++) v = v * 10 + (t[i] - '0');
        for (int d = 3; d >= 0; d--) {
            out[g * 4 + d] = b62[v % 62];
            v /= 62;
        }
        end = start;
    }
    int first = 0;
    while (first < 11 && out[first] == '0') first++;
    return scol_put(c, out + first, (size_t)(12 - first), 1);
}

static int has(const char *t, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (const char *p = t; n >= k && (p = memchr(p, needle[0], (size_t)(t + n - p - k + 1)));
         p++)
        if (!memcmp(p, needle, k)) return 1;
    return 0;
}

/* The checks of weibo_sql._checks for a status: everything required present and valid. */
static int put_post(Ctx *cx, Posts *out, const Status *s, const Status *rt, int64_t now_us) {
    const char *t;
    size_t n;
    int64_t x;
    if (gw_id(cx, &s->v[S_IDSTR], &s->v[S_ID], &t, &n) != 1) return FAIL;
    if (!scol_put(&out->s[P_POST_ID], t, n, 1) || !put_mid(&out->s[P_MID], t, n)) return FAIL;
    int r = s->user.present == 1 ? gw_id(cx, &s->user.v[U_IDSTR], &s->user.v[U_ID], &t, &n) : 0;
    if (r < 0 || !scol_put(&out->s[P_AUTHOR_ID], t, n, r)) return FAIL;
    if (gw_ts(cx, &s->v[S_CREATED], now_us, &x) != 1 || !icol_put(&out->i[P_CREATED], x, 1))
        return FAIL;
    const char *text = NULL;
    size_t tn = 0;
    int has_text = render(cx, &s->v[S_TEXT], &text, &tn);
    if (has_text < 0 || !scol_put(&out->s[P_TEXT], text, tn, has_text)) return FAIL;
    if (!put_source(cx, &out->s[P_SOURCE], &s->v[S_SOURCE])) return FAIL;
    static const int counts[3][2] = {{S_REPOSTS, P_REPOSTS}, {S_COMMENTS, P_COMMENTS},
                                     {S_LIKES, P_LIKES}};
    for (int k = 0; k < 3; k++) {
        r = gw_count(cx, &s->v[counts[k][0]], &x);
        if (r < 0 || !icol_put(&out->i[counts[k][1]], x, r)) return FAIL;
    }
    r = rt ? gw_id(cx, &rt->v[S_IDSTR], &rt->v[S_ID], &t, &n) : 0;
    if (r < 0 || (rt && r == 0) || !scol_put(&out->s[P_RETWEETED_ID], t, n, r)) return FAIL;
    if (!put_chain(&out->chain, text, tn, has_text)) return FAIL;
    r = gw_bool(cx, &s->v[S_TRUNCATED], &x);
    if (r < 0 || !icol_put(&out->i[P_TRUNCATED], r ? x : 0, 1)) return FAIL;
    const Val *pics = &s->v[S_PICS];
    if (pics->kind == V_ARRAY) x = pics->ival;
    else if (pics->kind == V_ABSENT || pics->kind == V_NULL || pics->kind == V_STR)
        x = s->v[S_THUMB].kind != V_ABSENT && s->v[S_THUMB].kind != V_NULL;
    else return FAIL;
    if (!icol_put(&out->i[P_PICS], x, 1)) return FAIL;
    int video = 0;
    if (s->page == 1 && render(cx, &s->page_type, &t, &n) == 1)
        video = n == 5 && !memcmp(t, "video", 5);
    if (!icol_put(&out->i[P_VIDEO], video, 1)) return FAIL;
    int url = has_text == 1 && (has(text, tn, "http://") || has(text, tn, "https://"));
    if (!icol_put(&out->i[P_URL], url, 1)) return FAIL;
    out->rows++;
    return OK;
}

static int put_user(Ctx *cx, Users *out, const User *u, int64_t now_us) {
    const char *t;
    size_t n;
    int64_t x;
    if (gw_id(cx, &u->v[U_IDSTR], &u->v[U_ID], &t, &n) != 1) return FAIL;
    if (!scol_put(&out->s[A_ID], t, n, 1)) return FAIL;
    const Val *screen = u->v[U_SCREEN].kind > V_NULL ? &u->v[U_SCREEN] : &u->v[U_NAME];
    if (!put_text(cx, &out->s[A_SCREEN], screen)) return FAIL;
    if (!put_text(cx, &out->s[A_DESC], &u->v[U_DESC])) return FAIL;
    /* url and verified_reason: nullif(x, '') */
    static const int blank_null[2][2] = {{U_URL, A_URL}, {U_VREASON, A_VREASON}};
    for (int k = 0; k < 2; k++) {
        int r = render(cx, &u->v[blank_null[k][0]], &t, &n);
        if (r < 0 || !scol_put(&out->s[blank_null[k][1]], t, n, r == 1 && n > 0)) return FAIL;
    }
    static const int plain[4][2] = {{U_PROVINCE, A_PROVINCE}, {U_CITY, A_CITY},
                                    {U_LOCATION, A_LOCATION}, {U_GENDER, A_GENDER}};
    for (int k = 0; k < 4; k++)
        if (!put_text(cx, &out->s[plain[k][1]], &u->v[plain[k][0]])) return FAIL;
    int r = gw_bool(cx, &u->v[U_VERIFIED], &x);
    if (r < 0 || !icol_put(&out->i[A_VERIFIED], x, r)) return FAIL;
    r = try_int32(cx, &u->v[U_VTYPE], &x);
    if (r < 0 || !icol_put(&out->i[A_VTYPE], x, r)) return FAIL;
    r = gw_ts(cx, &u->v[U_CREATED], now_us, &x);
    if (r < 0 || !icol_put(&out->i[A_CREATED], x, r)) return FAIL;
    static const int counts[4][2] = {{U_FOLLOWERS, A_FOLLOWERS}, {U_FRIENDS, A_FRIENDS},
                                     {U_STATUSES, A_STATUSES}, {U_FAVOURITES, A_FAVOURITES}};
    for (int k = 0; k < 4; k++) {
        r = gw_count(cx, &u->v[counts[k][0]], &x);
        if (r < 0 || !icol_put(&out->i[counts[k][1]], x, r)) return FAIL;
    }
    out->rows++;
    return OK;
}

/* ---- the chunk ---------------------------------------------------------------------- */

typedef struct {
    Posts posts[2];  /* the records themselves, then the posts they repost */
    Users users[2];  /* the records' authors, then the reposted posts' authors */
    int64_t records, empty;
} Chunk;

static int line_blank(const char *a, const char *b) {
    /* as lines.py: at most two bytes with the newline, all whitespace */
    if (b - a > 1) return 0;
    for (const char *p = a; p < b; p++)
        if (!(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\v' || *p == '\f')) return 0;
    return 1;
}

static int scan_chunk(const char *body, size_t size, int64_t now_us, Chunk *ck) {
    Ctx cx = {0};
    int ok = OK;
    const char *p = body, *end = body + size;
    while (ok && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (line_blank(p, e)) {
            ck->empty++;
        } else {
            Top top;
            memset(&top, 0, sizeof top);
            cx.line = p;
            cx.arena.len = 0;
            const char *q = ws(p, e);
            ok = q < e && *q == '{' && object(&cx, &q, e, &top, top_member) && ws(q, e) == e;
            const Status *rt = top.rt.present == 1 ? &top.rt : NULL;
            /* a status is a record with a text (weibo_sql.kind_expr) */
            const char *t;
            size_t n;
            ok = ok && render(&cx, &top.st.v[S_TEXT], &t, &n) == 1;
            ok = ok && put_post(&cx, &ck->posts[0], &top.st, rt, now_us);
            ok = ok && (!rt || put_post(&cx, &ck->posts[1], rt, NULL, now_us));
            ok = ok && (top.st.user.present != 1 ||
                        put_user(&cx, &ck->users[0], &top.st.user, now_us));
            ok = ok && (!rt || rt->user.present != 1 ||
                        put_user(&cx, &ck->users[1], &rt->user, now_us));
            ck->records++;
        }
        p = nl ? nl + 1 : end;
    }
    buf_free(&cx.arena);
    return ok;
}

/* ---- Python ------------------------------------------------------------------------- */

/* A column buffer handed to Python without a copy: it owns the memory the scan filled
 * and lends it out through the buffer protocol (Arrow and numpy keep a reference). */
typedef struct {
    PyObject_HEAD
    char *p;
    Py_ssize_t len;
} Owned;

static void owned_dealloc(PyObject *self) {
    free(((Owned *)self)->p);
    Py_TYPE(self)->tp_free(self);
}

static int owned_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    Owned *o = (Owned *)self;
    static char empty[1];
    return PyBuffer_FillInfo(view, self, o->p ? o->p : empty, o->len, 1, flags);
}

static PyBufferProcs OWNED_BUFFER = {owned_getbuffer, NULL};

static PyTypeObject OwnedType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_sina_scan.Owned",
    .tp_basicsize = sizeof(Owned),
    .tp_dealloc = owned_dealloc,
    .tp_as_buffer = &OWNED_BUFFER,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Memory a scan filled, lent out read-only.",
};

/* The buffer's memory, now owned by a Python object; `b` is left empty. */
static PyObject *bytes_of(Buf *b) {
    Owned *o = PyObject_New(Owned, &OwnedType);
    if (!o) return NULL;
    o->p = b->p;
    o->len = (Py_ssize_t)b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return (PyObject *)o;
}

static int set(PyObject *d, const char *k, PyObject *v) {
    if (!v) return FAIL;
    int r = PyDict_SetItemString(d, k, v);
    Py_DECREF(v);
    return r == 0;
}

static PyObject *scol_py(SCol *c) {
    return Py_BuildValue("(NNN)", bytes_of(&c->off), bytes_of(&c->data), bytes_of(&c->valid));
}

static PyObject *icol_py(ICol *c) {
    return Py_BuildValue("(NN)", bytes_of(&c->val), bytes_of(&c->valid));
}

static PyObject *posts_py(Posts *p) {
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    int ok = set(d, "rows", PyLong_FromLongLong(p->rows));
    for (int k = 0; ok && k < P_NS; k++) ok = set(d, POST_S[k], scol_py(&p->s[k]));
    for (int k = 0; ok && k < P_NI; k++) ok = set(d, POST_I[k], icol_py(&p->i[k]));
    ok = ok && set(d, "repost_chain",
                   Py_BuildValue("(NNNN)", bytes_of(&p->chain.off), bytes_of(&p->chain.valid),
                                 bytes_of(&p->chain.item.off), bytes_of(&p->chain.item.data)));
    if (!ok) { Py_DECREF(d); return NULL; }
    return d;
}

static PyObject *users_py(Users *u) {
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    int ok = set(d, "rows", PyLong_FromLongLong(u->rows));
    for (int k = 0; ok && k < A_NS; k++) ok = set(d, USER_S[k], scol_py(&u->s[k]));
    for (int k = 0; ok && k < A_NI; k++) ok = set(d, USER_I[k], icol_py(&u->i[k]));
    if (!ok) { Py_DECREF(d); return NULL; }
    return d;
}

/* ---- CED repost files: [{"mid", "uid", "parent", "text", "date", "kids"}, ...] ------ */

enum { R_MID, R_UID, R_PARENT, R_TEXT, R_DATE, R_N };
static const char *REPOST_KEYS[R_N] = {"mid", "uid", "parent", "text", "date"};
static size_t REPOST_LENS[R_N];

static void init_repost_lengths(void) {
    for (int i = 0; i < R_N; i++) REPOST_LENS[i] = strlen(REPOST_KEYS[i]);
}

static int repost_member(Ctx *cx, void *t, const char *k, size_t klen, const char **pp,
                         const char *e) {
    Val *v = t;
    int i = find(REPOST_KEYS, REPOST_LENS, R_N, k, klen);
    if (i < 0) return skip(pp, e, 1);
    return slot(cx, &v[i], pp, e);
}

/* A string, or for `uid` a plain integer (its digits, as str(int) prints them); NULL
 * when absent or null; anything else declines (json.loads' reading decides then). */
static int put_field(Ctx *cx, SCol *c, const Val *v, int ints) {
    if (v->kind == V_ABSENT || v->kind == V_NULL) return scol_put(c, NULL, 0, 0);
    if (v->kind != V_STR && !(ints && v->kind == V_INT)) return FAIL;
    const char *t;
    size_t n;
    render(cx, v, &t, &n);
    return scol_put(c, t, n, 1);
}

static int scan_repost_array(const char *b, size_t size, SCol *cols, int64_t *rows) {
    Ctx cx = {0};
    const char *p = ws(b, b + size), *e = b + size;
    int ok = p < e && *p == '[';
    if (ok) p = ws(p + 1, e);
    if (ok && p < e && *p == ']') {
        p++;
    } else {
        while (ok) {
            Val v[R_N];
            memset(v, 0, sizeof v);
            cx.line = b;
            ok = p < e && *p == '{' && object(&cx, &p, e, v, repost_member);
            for (int k = 0; ok && k < R_N; k++) ok = put_field(&cx, &cols[k], &v[k], k == R_UID);
            if (!ok) break;
            (*rows)++;
            p = ws(p, e);
            if (p < e && *p == ',') { p = ws(p + 1, e); continue; }
            if (p < e && *p == ']') { p++; break; }
            ok = 0;
        }
    }
    ok = ok && ws(p, e) == e;
    buf_free(&cx.arena);
    return ok;
}

/* scan_reposts(file bytes): (rows, [(offsets, bytes, valid)] for mid, uid, parent, text,
 * date), or None where json.loads must read the file. */
static PyObject *scan_reposts(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer body;
    if (!PyArg_ParseTuple(args, "y*", &body)) return NULL;
    SCol cols[R_N];
    memset(cols, 0, sizeof cols);
    int64_t rows = 0;
    int ok = 1;
    for (int k = 0; k < R_N; k++) ok = ok && scol_init(&cols[k]);
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        ok = scan_repost_array(body.buf, (size_t)body.len, cols, &rows);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&body);
    PyObject *out;
    if (!ok) {
        out = Py_None;
        Py_INCREF(out);
    } else {
        out = Py_BuildValue("(L[NNNNN])", (long long)rows, scol_py(&cols[0]), scol_py(&cols[1]),
                            scol_py(&cols[2]), scol_py(&cols[3]), scol_py(&cols[4]));
    }
    for (int k = 0; k < R_N; k++) scol_free(&cols[k]);
    return out;
}

#define MAX_PARTS 8

typedef struct {
    const char *body;
    size_t size;
    int64_t now_us;
    Chunk ck;
    int ok;
} Part;

static void *scan_part(void *arg) {
    Part *p = arg;
    p->ok = posts_init(&p->ck.posts[0]) && posts_init(&p->ck.posts[1]) &&
            users_init(&p->ck.users[0]) && users_init(&p->ck.users[1]) &&
            scan_chunk(p->body, p->size, p->now_us, &p->ck);
    return NULL;
}

/* scan(body, now_us, parts): the body cut at line ends into `parts` runs scanned side by
 * side, one thread each; a list of their columns in order, or None. */
static PyObject *scan(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer body;
    long long now_us;
    int nparts = 1;
    if (!PyArg_ParseTuple(args, "y*L|i", &body, &now_us, &nparts)) return NULL;
    if (nparts < 1) nparts = 1;
    if (nparts > MAX_PARTS) nparts = MAX_PARTS;
    Part parts[MAX_PARTS];
    memset(parts, 0, sizeof parts);
    const char *b = body.buf, *e = b + body.len;
    int n = 0;
    for (const char *p = b; p < e && n < nparts; n++) {
        const char *cut = e;
        if (n < nparts - 1 && (size_t)(e - p) > (size_t)body.len / (size_t)nparts) {
            const char *mid = p + (size_t)body.len / (size_t)nparts;
            const char *nl = memchr(mid, '\n', (size_t)(e - mid));
            cut = nl ? nl + 1 : e;
        }
        parts[n].body = p;
        parts[n].size = (size_t)(cut - p);
        parts[n].now_us = now_us;
        p = cut;
    }
    int ok = 1;
    Py_BEGIN_ALLOW_THREADS
    pthread_t tids[MAX_PARTS];
    int started[MAX_PARTS] = {0};
    for (int k = 1; k < n; k++) started[k] = pthread_create(&tids[k], NULL, scan_part, &parts[k]) == 0;
    if (n > 0) scan_part(&parts[0]);
    for (int k = 1; k < n; k++) {
        if (started[k]) pthread_join(tids[k], NULL);
        else scan_part(&parts[k]);
    }
    for (int k = 0; k < n; k++) ok = ok && parts[k].ok;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&body);
    PyObject *out = NULL;
    if (!ok) {
        out = Py_None;
        Py_INCREF(out);
    } else {
        out = PyList_New(0);
        for (int k = 0; out && k < n; k++) {
            Chunk *ck = &parts[k].ck;
            PyObject *d = Py_BuildValue(
                "{s:L,s:L,s:(NN),s:(NN)}", "records", (long long)ck->records, "empty",
                (long long)ck->empty, "posts", posts_py(&ck->posts[0]), posts_py(&ck->posts[1]),
                "users", users_py(&ck->users[0]), users_py(&ck->users[1]));
            if (!d || PyList_Append(out, d) < 0) { Py_XDECREF(d); Py_CLEAR(out); break; }
            Py_DECREF(d);
        }
    }
    for (int k = 0; k < n; k++)
        for (int j = 0; j < 2; j++) {
            posts_free(&parts[k].ck.posts[j]);
            users_free(&parts[k].ck.users[j]);
        }
    return out;
}

static PyMethodDef METHODS[] = {
    {"scan", scan, METH_VARARGS,
     "scan(body, now_us, parts=1) -> the columns of a chunk of Sina status lines, per part, or None"},
    {"scan_reposts", scan_reposts, METH_VARARGS,
     "scan_reposts(body) -> (rows, columns mid, uid, parent, text, date) of a CED repost file, or None"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_sina_scan",
                                    "Native fast path for Sina status JSON lines.", -1, METHODS,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__sina_scan(void) {
    init_lengths();
    init_repost_lengths();
    init_plain();
    if (PyType_Ready(&OwnedType) < 0) return NULL;
    return PyModule_Create(&MODULE);
}
