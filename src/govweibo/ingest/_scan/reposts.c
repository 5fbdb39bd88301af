/* CED repost files: [{"mid", "uid", "parent", "text", "date", "kids"}, ...].
 *
 * Besides the five fields as strings, each record gets what ingest/ced_reposts.convert
 * makes of it when it is plainly well formed (its `fast` flag): the numeric post id of its
 * mid and of its parent (sina_ids.mid_to_id) and its time (Beijing, `YYYY-MM-DD
 * HH:MM:SS`) in UTC microseconds. Any other record is left to the per-record path in
 * ingest/ced.py, which says what is wrong with it; tests/test_ced_reposts.py compares. */

#include "scan.h"

enum { R_MID, R_UID, R_PARENT, R_TEXT, R_DATE, R_N };
static const char *REPOST_KEYS[R_N] = {"mid", "uid", "parent", "text", "date"};
static size_t REPOST_LENS[R_N];

void init_repost_lengths(void) {
    for (int i = 0; i < R_N; i++) REPOST_LENS[i] = strlen(REPOST_KEYS[i]);
}

static int repost_member(Ctx *cx, void *t, const char *k, size_t klen, const char **pp,
                         const char *e) {
    Val *v = t;
    int i = js_find(REPOST_KEYS, REPOST_LENS, R_N, k, klen);
    if (i < 0) return js_skip(pp, e, 1);
    return js_slot(cx, &v[i], pp, e);
}

/* A string, or for `uid` a plain integer (its digits, as str(int) prints them); NULL
 * when absent or null; anything else declines (json.loads' reading decides then). */
static int put_field(Ctx *cx, SCol *c, const Val *v, int ints) {
    if (v->kind == V_ABSENT || v->kind == V_NULL) return scol_put(c, NULL, 0, 0);
    if (v->kind != V_STR && !(ints && v->kind == V_INT)) return FAIL;
    const char *t;
    size_t n;
    js_render(cx, v, &t, &n);
    return scol_put(c, t, n, 1);
}

typedef struct {
    SCol id, parent; /* numeric ids of mid and parent; parent NULL where there is none */
    ICol created;    /* UTC microseconds */
    Buf fast;        /* u8: the record is plainly well formed */
} Derived;

static int b62(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 36;
    return -1;
}

/* sina_ids.mid_to_id of a mid of 1-12 base62 characters, into out (>= 40 bytes): its
 * length, or 0 when it is not such a mid. Groups of four characters from the right, each
 * printed as seven digits or more, the first unpadded; leading zeros dropped. */
static size_t mid_id(const char *t, size_t n, char *out) {
    if (n < 1 || n > 12) return 0;
    int64_t g[3];
    int k = 0;
    for (size_t end = n; end > 0; k++) {
        size_t start = end > 4 ? end - 4 : 0;
        int64_t v = 0;
        for (size_t i = start; i < end; i++) {
            int d = b62((unsigned char)t[i]);
            if (d < 0) return 0;
            v = v * 62 + d;
        }
        g[k] = v;
        end = start;
    }
    char text[48];
    size_t len = 0;
    for (int j = k - 1; j >= 0; j--) {
        char digits[20];
        int m = 0;
        int64_t v = g[j];
        do { digits[m++] = (char)('0' + v % 10); v /= 10; } while (v);
        if (j < k - 1) for (; m < 7; m++) digits[m] = '0';
        while (m) text[len++] = digits[--m];
    }
    size_t first = 0;
    while (first < len - 1 && text[first] == '0') first++;
    memcpy(out, text + first, len - first);
    return len - first;
}

static int days_in_month(int64_t y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* A date of exactly `YYYY-MM-DD HH:MM:SS` (Beijing time) that names a real second, in
 * UTC microseconds; 0 for anything else (spaces around it, unpadded fields, a year-less
 * date: the per-record path reads those). A time outside 2000-2100 (UTC) is left to it
 * too: it quarantines those. */
static int ced_date(const char *t, size_t n, int64_t *us) {
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    if (n != 19) return 0;
    int f[19];
    for (int i = 0; i < 19; i++) {
        if (shape[i] == 'd') {
            if (t[i] < '0' || t[i] > '9') return 0;
            f[i] = t[i] - '0';
        } else if (t[i] != shape[i]) {
            return 0;
        }
    }
    int64_t y = f[0] * 1000 + f[1] * 100 + f[2] * 10 + f[3];
    int mo = f[5] * 10 + f[6], d = f[8] * 10 + f[9];
    int h = f[11] * 10 + f[12], mi = f[14] * 10 + f[15], s = f[17] * 10 + f[18];
    if (y < 1999 || y > 2100 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 59)
        return 0;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - 8 * 3600;
    /* 2000-01-01 to 2100-01-01 UTC, as ced.in_range */
    if (secs < 946684800LL || secs >= 4102444800LL) return 0;
    *us = secs * 1000000;
    return 1;
}

static int derive(Ctx *cx, Derived *out, const Val *v) {
    char id[40], parent[40];
    const char *t;
    size_t n, id_len = 0, parent_len = 0;
    int64_t us = 0;
    int fast = v[R_MID].kind == V_STR && v[R_UID].kind != V_ABSENT && v[R_UID].kind != V_NULL;
    if (fast && v[R_UID].kind == V_STR) fast = v[R_UID].len > 0;
    if (fast) {
        js_render(cx, &v[R_MID], &t, &n);
        fast = (id_len = mid_id(t, n, id)) > 0;
    }
    /* A parent that is null or "" is none: the repost hangs from the source post. */
    int has_parent = v[R_PARENT].kind == V_STR && v[R_PARENT].len > 0;
    if (fast && has_parent) {
        js_render(cx, &v[R_PARENT], &t, &n);
        fast = (parent_len = mid_id(t, n, parent)) > 0;
    }
    if (fast) {
        fast = v[R_DATE].kind == V_STR;
        if (fast) {
            js_render(cx, &v[R_DATE], &t, &n);
            fast = ced_date(t, n, &us);
        }
    }
    return scol_put(&out->id, id, id_len, fast) &&
           scol_put(&out->parent, parent, parent_len, fast && has_parent) &&
           icol_put(&out->created, us, fast) && buf_u8(&out->fast, (uint8_t)fast);
}

static int scan_repost_array(const char *b, size_t size, SCol *cols, Derived *out,
                             int64_t *rows) {
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
            ok = p < e && *p == '{' && js_object(&cx, &p, e, v, repost_member);
            for (int k = 0; ok && k < R_N; k++) ok = put_field(&cx, &cols[k], &v[k], k == R_UID);
            ok = ok && derive(&cx, out, v);
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

/* Lengths of every buffer a file's scan appends to, to take a declined file's rows back. */
typedef struct { size_t len[3 * (R_N + 2) + 3]; } Mark;

static void marks(SCol *cols, Derived *d, Mark *m, int restore) {
    Buf *bufs[3 * (R_N + 2) + 3];
    int n = 0;
    for (int k = 0; k < R_N; k++) {
        bufs[n++] = &cols[k].off;
        bufs[n++] = &cols[k].data;
        bufs[n++] = &cols[k].valid;
    }
    SCol *ids[2] = {&d->id, &d->parent};
    for (int k = 0; k < 2; k++) {
        bufs[n++] = &ids[k]->off;
        bufs[n++] = &ids[k]->data;
        bufs[n++] = &ids[k]->valid;
    }
    bufs[n++] = &d->created.val;
    bufs[n++] = &d->created.valid;
    bufs[n++] = &d->fast;
    for (int i = 0; i < n; i++) {
        if (restore) bufs[i]->len = m->len[i];
        else m->len[i] = bufs[i]->len;
    }
}

/* scan_reposts([file bytes, ...]): ([rows of each file, or -1 where json.loads must read
 * it], [(offsets, bytes, valid)] for mid, uid, parent, text, date, id, parent id],
 * (created values, valid), fast flags): one set of columns for the files scanned, in
 * order, the GIL released for all of them. */
PyObject *scan_reposts(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *list;
    if (!PyArg_ParseTuple(args, "O", &list)) return NULL;
    PyObject *seq = PySequence_Fast(list, "scan_reposts takes a list of bytes");
    if (!seq) return NULL;
    Py_ssize_t nfiles = PySequence_Fast_GET_SIZE(seq);
    Py_buffer *views = calloc((size_t)nfiles + 1, sizeof(Py_buffer));
    int64_t *counts = calloc((size_t)nfiles + 1, sizeof(int64_t));
    Py_ssize_t got = 0; /* views held */
    int ok = views && counts;
    if (!ok) PyErr_NoMemory();
    while (ok && got < nfiles) {
        ok = PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, got), &views[got], PyBUF_SIMPLE) == 0;
        if (ok) got++;
    }
    SCol cols[R_N];
    Derived d;
    memset(cols, 0, sizeof cols);
    memset(&d, 0, sizeof d);
    int mem = ok && scol_init(&d.id) && scol_init(&d.parent);
    for (int k = 0; k < R_N; k++) mem = mem && scol_init(&cols[k]);
    if (mem) {
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < nfiles; i++) {
            Mark m;
            int64_t rows = 0;
            marks(cols, &d, &m, 0);
            if (scan_repost_array(views[i].buf, (size_t)views[i].len, cols, &d, &rows)) {
                counts[i] = rows;
            } else {
                marks(cols, &d, &m, 1);
                counts[i] = -1;
            }
        }
        Py_END_ALLOW_THREADS
    }
    for (Py_ssize_t i = 0; i < got; i++) PyBuffer_Release(&views[i]);
    Py_DECREF(seq);
    PyObject *out = NULL;
    if (ok && mem) {
        PyObject *rows = PyList_New(nfiles);
        for (Py_ssize_t i = 0; rows && i < nfiles; i++)
            PyList_SET_ITEM(rows, i, PyLong_FromLongLong((long long)counts[i]));
        if (rows)
            out = Py_BuildValue("(N[NNNNNNN]NN)", rows, scol_py(&cols[0]), scol_py(&cols[1]),
                                scol_py(&cols[2]), scol_py(&cols[3]), scol_py(&cols[4]),
                                scol_py(&d.id), scol_py(&d.parent), icol_py(&d.created),
                                bytes_of(&d.fast));
    } else if (ok) {
        PyErr_NoMemory();
    }
    free(views);
    free(counts);
    for (int k = 0; k < R_N; k++) scol_free(&cols[k]);
    scol_free(&d.id);
    scol_free(&d.parent);
    buf_free(&d.created.val);
    buf_free(&d.created.valid);
    buf_free(&d.fast);
    return out;
}
