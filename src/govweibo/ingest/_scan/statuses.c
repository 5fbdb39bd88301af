/* Sina status lines to the rows of posts and users that weibo_sql gives them; scan(). */

#include "scan.h"

#include <pthread.h>

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

static size_t USER_LENS[U_N], STATUS_LENS[S_N];

void init_lengths(void) {
    for (int i = 0; i < U_N; i++) USER_LENS[i] = strlen(USER_KEYS[i]);
    for (int i = 0; i < S_N; i++) STATUS_LENS[i] = strlen(STATUS_KEYS[i]);
}

int js_find(const char **names, const size_t *lens, int n, const char *k, size_t klen) {
    for (int i = 0; i < n; i++)
        if (lens[i] == klen && names[i][0] == k[0] && memcmp(names[i], k, klen) == 0) return i;
    return -1;
}

/* Walk an object's members; `member` handles each, returning FAIL to decline. */
static int user_member(Ctx *cx, void *t, const char *k, size_t klen, const char **pp,
                       const char *e) {
    User *u = t;
    int i = js_find(USER_KEYS, USER_LENS, U_N, k, klen);
    if (i < 0) return js_skip(pp, e, 1);
    return js_slot(cx, &u->v[i], pp, e);
}

static int page_member(Ctx *cx, void *t, const char *k, size_t klen, const char **pp,
                       const char *e) {
    Val *type = t;
    if (klen == 4 && memcmp(k, "type", 4) == 0) return js_slot(cx, type, pp, e);
    return js_skip(pp, e, 1);
}

/* user / page_info / retweeted_status: an object, or null. */
static int status_member(Ctx *cx, void *t, const char *k, size_t klen, const char **pp,
                         const char *e) {
    Status *s = t;
    int i = js_find(STATUS_KEYS, STATUS_LENS, S_N, k, klen);
    if (i >= 0) return js_slot(cx, &s->v[i], pp, e);
    if (klen == 4 && memcmp(k, "user", 4) == 0)
        return js_nested(cx, pp, e, &s->user.present, &s->user, user_member);
    if (klen == 9 && memcmp(k, "page_info", 9) == 0)
        return js_nested(cx, pp, e, &s->page, &s->page_type, page_member);
    return js_skip(pp, e, 1);
}

typedef struct {
    Status st, rt;
} Top;

static int top_member(Ctx *cx, void *t, const char *k, size_t klen, const char **pp,
                      const char *e) {
    Top *top = t;
    if (klen == 16 && memcmp(k, "retweeted_status", 16) == 0)
        return js_nested(cx, pp, e, &top->rt.present, &top->rt, status_member);
    for (int i = 0; MARKER_KEYS[i]; i++)
        if (strlen(MARKER_KEYS[i]) == klen && memcmp(MARKER_KEYS[i], k, klen) == 0) return FAIL;
    return status_member(cx, &top->st, k, klen, pp, e);
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
    int has_text = js_render(cx, &s->v[S_TEXT], &text, &tn);
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
    if (s->page == 1 && js_render(cx, &s->page_type, &t, &n) == 1)
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
        int r = js_render(cx, &u->v[blank_null[k][0]], &t, &n);
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
            ok = q < e && *q == '{' && js_object(&cx, &q, e, &top, top_member) && ws(q, e) == e;
            const Status *rt = top.rt.present == 1 ? &top.rt : NULL;
            /* a status is a record with a text (weibo_sql.kind_expr) */
            const char *t;
            size_t n;
            ok = ok && js_render(&cx, &top.st.v[S_TEXT], &t, &n) == 1;
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
PyObject *scan(PyObject *self, PyObject *args) {
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

