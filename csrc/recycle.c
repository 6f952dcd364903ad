/*
 * recycle.c: a freed engine.Value's memory, kept for the next Value an op makes.
 *
 * An op makes a Value, and about as often one goes: the product that sum() has just added,
 * a training step's graph. Handing a freed Value's memory to the next one skips Python's
 * allocator and the collector's bookkeeping on both sides, about a fifth of what an op costs
 * (callgrind, CPython 3.11: `a * b` 785 -> 641 instructions).
 *
 * What makes a kept object as good as a new one. value_dealloc offers one only when it is an
 * instance of engine.Value itself, a class without __slots__, whose __del__ (if it was given
 * one) has not run, after CPython has cleared its attribute dict (subtype_dealloc leaves the
 * dict pointer NULL, as allocation does) and value_dealloc has untracked it and dropped its
 * weak references, children and callable. So it holds no reference and nothing can reach it;
 * mg_reuse sets what allocation sets: the reference count, the class's reference, the
 * collector's tracking (alloc_value, in value.c, sets the fields for either). CPython 3.13
 * moved a class's attribute values into the instance itself, filled in at allocation, which a
 * kept object would skip: from 3.13 on (and on any Python but CPython) nothing is kept, and
 * every Value is allocated.
 *
 * At most MG_KEPT objects (about 100 KB); they go back to Python when engine.Value changes
 * (importlib.reload). The type glue holds the GIL here, as everywhere.
 */
#include "glue.h"

#define MG_KEPT 1024

static mg_value *kept[MG_KEPT];
static int nkept;
static int keeping;         /* 1 on a CPython whose layout this file knows (3.9 to 3.12) */

void mg_recycle_setup(void) {
    PyObject *info = PySys_GetObject("version_info"), *impl = PySys_GetObject("implementation");
    PyObject *major = info ? PySequence_GetItem(info, 0) : NULL; /* info and impl: borrowed */
    PyObject *minor = info ? PySequence_GetItem(info, 1) : NULL;
    PyObject *name = impl ? PyObject_GetAttrString(impl, "name") : NULL;
    long ma = major ? PyLong_AsLong(major) : -1, mi = minor ? PyLong_AsLong(minor) : -1;
    int cpython = name && PyUnicode_Check(name) && !PyUnicode_CompareWithASCIIString(name, "cpython");
    Py_XDECREF(major);
    Py_XDECREF(minor);
    Py_XDECREF(name);
    PyErr_Clear();          /* unreadable: nothing is kept */
    keeping = cpython && ma == 3 && mi >= 9 && mi <= 12;
}

mg_value *mg_reuse(void) {
    if (!nkept) return NULL;
    mg_value *v = kept[--nkept];
    Py_INCREF(mg_value_type);       /* an instance's reference to its heap type */
    Py_INCREF(v);                   /* from 0: a debug build counts it as allocation does */
    PyObject_GC_Track(v);           /* its fields: alloc_value's, as for a new one */
    return v;
}

/* v, of reference count 0, untracked, and without weak references, children or callable
 * (value_dealloc has dropped them): 1 when it is kept. Not one whose __del__ has run: CPython
 * marks it finalized, and would never run __del__ again for the Value made in it. */
int mg_recycle(mg_value *v) {
    if (!keeping || nkept == MG_KEPT || Py_TYPE(v) != mg_value_type || PyObject_GC_IsFinalized((PyObject *)v))
        return 0;
    kept[nkept++] = v;
    return 1;
}

void mg_recycle_drop(void) {
    while (nkept) PyObject_GC_Del(kept[--nkept]);
}
