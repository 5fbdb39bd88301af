/* Column buffers, and how they reach Python: without a copy. */

#include "scan.h"

int scol_init(SCol *c) { return buf_i64(&c->off, 0); }

void scol_free(SCol *c) { buf_free(&c->off); buf_free(&c->data); buf_free(&c->valid); }

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

int owned_ready(void) { return PyType_Ready(&OwnedType); }

/* The buffer's memory, now owned by a Python object; `b` is left empty. */
PyObject *bytes_of(Buf *b) {
    Owned *o = PyObject_New(Owned, &OwnedType);
    if (!o) return NULL;
    o->p = b->p;
    o->len = (Py_ssize_t)b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return (PyObject *)o;
}

int set(PyObject *d, const char *k, PyObject *v) {
    if (!v) return FAIL;
    int r = PyDict_SetItemString(d, k, v);
    Py_DECREF(v);
    return r == 0;
}

PyObject *scol_py(SCol *c) {
    return Py_BuildValue("(NNN)", bytes_of(&c->off), bytes_of(&c->data), bytes_of(&c->valid));
}

PyObject *icol_py(ICol *c) {
    return Py_BuildValue("(NN)", bytes_of(&c->val), bytes_of(&c->valid));
}

