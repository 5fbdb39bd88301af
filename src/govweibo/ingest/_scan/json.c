/* Strict JSON, walked in place: a value is validated, and a string decoded only when it
 * has escapes. Anything not plainly RFC 8259 fails, and the caller declines. */

#include "scan.h"

int buf_grow(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return 0;
    b->p = p;
    b->cap = cap;
    return 1;
}

int utf8_put(Buf *b, uint32_t c) {
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

int hex4(const char *p, uint32_t *out) {
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

/* Bytes that may stand in a string as they are: printable ASCII but the quote and the
 * backslash. */
static unsigned char PLAIN[256];

void init_plain(void) {
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
int js_string(const char **pp, const char *e, Buf *out, int *ascii, int *escaped) {
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
int js_number(const char **pp, const char *e, int *is_int, int64_t *value) {
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
    /* An integer Python will not convert (sys.get_int_max_str_digits, 4,300 by default):
     * json.loads raises on it, so the caller's slower path decides what it means. */
    if (plain && nd > 4300) return FAIL;
    *is_int = plain && nd <= 18;
    if (*is_int) {
        int64_t v = 0;
        for (const char *q = digits; q < digits + nd; q++) v = v * 10 + (*q - '0');
        *value = neg ? -v : v;
    }
    *pp = p;
    return OK;
}

int js_skip(const char **pp, const char *e, int depth);

int js_skip_container(const char **pp, const char *e, int depth, int64_t *count) {
    const char *p = *pp;
    char open = *p, close = open == '{' ? '}' : ']';
    int64_t n = 0;
    if (depth > 64) return FAIL;
    p = ws(p + 1, e);
    if (p < e && *p == close) { *pp = p + 1; if (count) *count = 0; return OK; }
    for (;;) {
        if (open == '{') {
            if (p >= e || *p != '"' || !js_string(&p, e, NULL, NULL, NULL)) return FAIL;
            p = ws(p, e);
            if (p >= e || *p != ':') return FAIL;
            p = ws(p + 1, e);
        }
        if (!js_skip(&p, e, depth + 1)) return FAIL;
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

int js_literal(const char **pp, const char *e, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(e - *pp) < n || memcmp(*pp, word, n) != 0) return FAIL;
    *pp += n;
    return OK;
}

int js_skip(const char **pp, const char *e, int depth) {
    const char *p = *pp;
    if (p >= e) return FAIL;
    int is_int;
    int64_t v;
    switch (*p) {
    case '"': return js_string(pp, e, NULL, NULL, NULL);
    case '{': case '[': return js_skip_container(pp, e, depth, NULL);
    case 't': return js_literal(pp, e, "true");
    case 'f': return js_literal(pp, e, "false");
    case 'n': return js_literal(pp, e, "null");
    default: return js_number(pp, e, &is_int, &v);
    }
}

/* A scalar slot's value. Objects and arrays are only told apart, then skipped. */
int js_value(Ctx *cx, const char **pp, const char *e, Val *out) {
    const char *p = *pp;
    if (p >= e) return FAIL;
    switch (*p) {
    case '"': {
        /* Validated in place; decoded into the arena only when it has escapes. */
        int escaped;
        if (!js_string(pp, e, NULL, &out->is_ascii, &escaped)) return FAIL;
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
        if (!js_string(&again, e, &cx->arena, NULL, NULL)) return FAIL;
        out->len = cx->arena.len - out->off;
        return OK;
    }
    case 't': out->kind = V_BOOL; out->ival = 1; return js_literal(pp, e, "true");
    case 'f': out->kind = V_BOOL; out->ival = 0; return js_literal(pp, e, "false");
    case 'n': out->kind = V_NULL; return js_literal(pp, e, "null");
    case '[': out->kind = V_ARRAY; return js_skip_container(pp, e, 1, &out->ival);
    case '{': out->kind = V_OBJECT; return js_skip_container(pp, e, 1, NULL);
    default: {
        int is_int;
        const char *start = p;
        if (!js_number(pp, e, &is_int, &out->ival)) return FAIL;
        /* -0 renders as 0 in SQL: left to it, like fractions and long numbers */
        out->kind = is_int && !(start[0] == '-' && start[1] == '0') ? V_INT : V_OTHER;
        out->off = (size_t)(start - cx->line);
        out->len = (size_t)(*pp - start);
        return OK;
    }
    }
}

/* The key at *pp (an unescaped string; a key with escapes is left to the SQL path). */
int js_key(const char **pp, const char *e, const char **k, size_t *klen) {
    const char *p = *pp;
    if (p >= e || *p != '"') return FAIL;
    const char *s = ++p;
    for (;;) {
        while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 &&
               (unsigned char)*p < 0x80)
            p++;
        if (p >= e || (unsigned char)*p < 0x80) break;
        /* a key is text too: bytes that are not UTF-8 are the SQL path's to judge */
        int n = utf8_len((const unsigned char *)p, (const unsigned char *)e);
        if (!n) return FAIL;
        p += n;
    }
    if (p >= e || *p != '"') return FAIL;
    *k = s;
    *klen = (size_t)(p - s);
    p = ws(p + 1, e);
    if (p >= e || *p != ':') return FAIL;
    *pp = ws(p + 1, e);
    return OK;
}

int js_object(Ctx *cx, const char **pp, const char *e, void *target, MemberFn member) {
    const char *p = ws(*pp + 1, e);
    if (p < e && *p == '}') { *pp = p + 1; return OK; }
    for (;;) {
        const char *k;
        size_t klen;
        if (!js_key(&p, e, &k, &klen)) return FAIL;
        if (!member(cx, target, k, klen, &p, e)) return FAIL;
        p = ws(p, e);
        if (p < e && *p == ',') { p = ws(p + 1, e); continue; }
        if (p < e && *p == '}') { p++; break; }
        return FAIL;
    }
    *pp = p;
    return OK;
}

int js_slot(Ctx *cx, Val *v, const char **pp, const char *e) {
    if (v->kind != V_ABSENT) return FAIL; /* a repeated key */
    return js_value(cx, pp, e, v);
}

int js_nested(Ctx *cx, const char **pp, const char *e, int *present, void *target,
                  MemberFn member) {
    if (*present) return FAIL;
    if (*pp >= e) return FAIL; /* the buffer ends right after the key */
    if (**pp == 'n') { *present = -1; return js_literal(pp, e, "null"); }
    if (**pp != '{') return FAIL;
    *present = 1;
    return js_object(cx, pp, e, target, member);
}

void buf_free(Buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
