/* CED repost files: [{"mid", "uid", "parent", "text", "date", "kids"}, ...]. */

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
            ok = p < e && *p == '{' && js_object(&cx, &p, e, v, repost_member);
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
PyObject *scan_reposts(PyObject *self, PyObject *args) {
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

