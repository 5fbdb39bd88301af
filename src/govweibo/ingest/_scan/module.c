/* govweibo.ingest._sina_scan: the native readers (scan.h). */

#include "scan.h"

static PyMethodDef METHODS[] = {
    {"scan", scan, METH_VARARGS,
     "scan(body, now_us, parts=1) -> the columns of a chunk of Sina status lines, per part, or None"},
    {"scan_reposts", scan_reposts, METH_VARARGS,
     "scan_reposts([body, ...]) -> (rows per file or -1, columns mid, uid, parent, text, "
     "date, id, parent id, created, fast) of CED repost files"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_sina_scan",
                                    "Native readers: Sina status lines and CED repost files.", -1, METHODS,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__sina_scan(void) {
    init_lengths();
    init_repost_lengths();
    init_plain();
    if (owned_ready() < 0) return NULL;
    return PyModule_Create(&MODULE);
}
