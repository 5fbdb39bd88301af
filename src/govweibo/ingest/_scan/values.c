/* What the SQL path's macros (ingest/weibo_sql.py, sina_ids.py) make of a value, in C.
 * Each returns 1 with the value, 0 for NULL, or -1 where the SQL path must judge. */

#include "scan.h"

/* gw_digits: 1 to 20 ASCII digits. */
int all_digits(const char *t, size_t n) {
    if (n < 1 || n > 20) return 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] < '0' || t[i] > '9') return 0;
    return 1;
}

/* gw_id(idstr, id): 1 with the id's text, 0 if neither is an id, -1 to decline. */
int gw_id(Ctx *cx, const Val *idstr, const Val *id, const char **t, size_t *n) {
    const Val *vs[2] = {idstr, id};
    for (int i = 0; i < 2; i++) {
        int r = js_render(cx, vs[i], t, n);
        if (r < 0) return -1;
        if (r && all_digits(*t, *n)) return 1;
    }
    return 0;
}

/* gw_int for a count: 1 with *out, 0 for NULL; -1 where SQL would reject or may differ. */
int gw_count(Ctx *cx, const Val *v, int64_t *out) {
    const char *t;
    size_t n;
    int r = js_render(cx, v, &t, &n);
    if (r <= 0) return r;
    if (!all_digits(t, n) || n > 18) return -1;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) x = x * 10 + (t[i] - '0');
    *out = x;
    return 1;
}

/* gw_bool: lower(x) in true/1 or false/0, else NULL. */
int gw_bool(Ctx *cx, const Val *v, int64_t *out) {
    const char *t;
    size_t n;
    int r = js_render(cx, v, &t, &n);
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
int try_int32(Ctx *cx, const Val *v, int64_t *out) {
    const char *t;
    size_t n;
    int r = js_render(cx, v, &t, &n);
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
int gw_ts(Ctx *cx, const Val *v, int64_t now_us, int64_t *out) {
    static const char *days = "MonTueWedThuFriSatSun";
    static const char *months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *t;
    size_t n;
    int r = js_render(cx, v, &t, &n);
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

int put_text(Ctx *cx, SCol *c, const Val *v) {
    const char *t = NULL;
    size_t n = 0;
    int r = js_render(cx, v, &t, &n);
    if (r < 0) return FAIL;
    return scol_put(c, t, n, r);
}

/* gw_chain: regexp_extract_all(t, '//@([^:：\s/]{1,40})[:：]', 1). */
int put_chain(LCol *c, const char *t, size_t n, int valid) {
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
int put_source(Ctx *cx, SCol *c, const Val *v) {
    const char *t = NULL;
    size_t n = 0;
    int r = js_render(cx, v, &t, &n);
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
int put_mid(SCol *c, const char *t, size_t n) {
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

int has(const char *t, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (const char *p = t; n >= k && (p = memchr(p, needle[0], (size_t)(t + n - p - k + 1)));
         p++)
        if (!memcmp(p, needle, k)) return 1;
    return 0;
}

/* The checks of weibo_sql._checks for a status: everything required present and valid. */
