/*
 * functional_glue.c: micrograd_c.functional's ops as one C call each (compose.c builds them).
 *
 * Each function here takes the Python objects as given and returns the results, or
 * NotImplemented for anything but the case it is for: engine.Value itself (no subclass, no
 * Python _backward below it) and plain numbers where the op takes them, in lists or tuples of
 * the right shape. functional.py then runs the op's Python, which checks its input (with the
 * errors it raises) and builds the same nodes one op at a time.
 *
 * It keeps design notes 4 and 6 of arena.c: the items are taken into a tuple (which Python
 * cannot change), the results' Values are allocated, and only then are the ids read, once no
 * Python can run until the nodes are made.
 */
#include "glue.h"

#include "compose.h"

#include <stdlib.h>

/* An operand list: its items, held, and their ids (a number's id -1, its value in nums). */
typedef struct {
    PyObject *items;            /* a tuple */
    uint32_t n;
    mg_id *ids;
    double *nums;
} operands;

static void release(operands *l) {
    Py_CLEAR(l->items);
    free(l->ids);
    l->ids = NULL;
    l->nums = NULL;
}

/* The items of o (a list or tuple) into l: 1 when each is engine.Value itself or, if numbers,
 * a float, int or bool (a float subclass too); 0 when Python's own code must run (l empty); -1
 * with an exception. The ids are read later (read_ids). */
static int take(PyObject *o, int numbers, operands *l) {
    *l = (operands){NULL, 0, NULL, NULL};
    if (!PyList_Check(o) && !PyTuple_Check(o)) return 0;
    if (!(l->items = PySequence_Tuple(o))) return -1;
    Py_ssize_t n = PyTuple_Size(l->items);
    if (n <= 0 || n > (Py_ssize_t)UINT32_MAX / 2) return release(l), 0;
    l->n = (uint32_t)n;
    if (!(l->ids = malloc(l->n * (sizeof *l->ids + sizeof *l->nums))))
        return release(l), PyErr_NoMemory(), -1;
    l->nums = (double *)(l->ids + l->n);
    for (uint32_t i = 0; i < l->n; i++) {
        PyObject *x = PyTuple_GetItem(l->items, i);
        l->ids[i] = -1;
        if (Py_TYPE(x) == mg_value_type) continue;
        int number = !numbers || mg_is_value(x) ? 0
                     : PyFloat_Check(x)         ? mg_real(x, &l->nums[i])
                                                : mg_plain_number(x, &l->nums[i]);
        if (number <= 0) return release(l), number;
        l->ids[i] = -2;                                             /* a number */
    }
    return 1;
}

/* The ids of l's Values, read now: 1, or 0 if one of them has no node or has a Python
 * _backward below it (Python's own code runs). */
static int read_ids(operands *l) {
    for (uint32_t i = 0; i < l->n; i++) {
        if (l->ids[i] == -2) {
            l->ids[i] = -1;
            continue;
        }
        mg_value *v = AS_VALUE(PyTuple_GetItem(l->items, i));
        if (v->id < 0 || v->below) return 0;
        l->ids[i] = v->id;
    }
    return 1;
}

/* The results' Values, allocated before anything is read (design note 4). */
typedef struct {
    mg_value **v;
    uint32_t n;
} results;

static int allocate(results *r, uint32_t n) {
    r->n = 0;
    if (!(r->v = calloc(n, sizeof *r->v))) return PyErr_NoMemory(), -1;
    for (; r->n < n; r->n++)
        if (!(r->v[r->n] = mg_new_value())) return -1;
    return 0;
}

static void drop(results *r) {
    for (uint32_t i = 0; i < r->n; i++) Py_XDECREF(r->v[i]);
    free(r->v);
    r->v = NULL;
}

/* The results of a build that returned status st with ids out[0..n): one Value, or a list of
 * them (as_list); NULL with the status's exception. */
static PyObject *give(results *r, int st, const mg_id *out, uint32_t n, int as_list) {
    if (st) return mg_raise_status(st);
    for (uint32_t i = 0; i < n; i++) mg_attach(r->v[i], out[i]);
    PyObject *list = as_list ? PyList_New(n) : NULL;
    if (as_list && !list) return NULL;
    for (uint32_t i = 0; as_list && i < n; i++) {
        PyList_SetItem(list, i, (PyObject *)r->v[i]);           /* steals it */
        r->v[i] = NULL;
    }
    if (as_list) return list;
    PyObject *one = (PyObject *)r->v[0];
    r->v[0] = NULL;
    return one;
}

// ----------------------------------------------------------------------------
// the ops

/* A call's state: up to three operand lists, the results, and their ids. */
typedef struct {
    operands l[3];
    results r;
    mg_id *out;
} call;

static PyObject *end(call *c, PyObject *result) {
    for (int k = 0; k < 3; k++) release(&c->l[k]);
    drop(&c->r);
    free(c->out);
    return result;
}

static PyObject *not_implemented(void) {
    Py_INCREF(Py_NotImplemented);
    return Py_NotImplemented;
}

static PyObject *not_here(call *c) {
    PyErr_Clear();
    return end(c, not_implemented());
}

/* c->r and c->out for n results, and the ids of c->l's lists read after: 1, 0 (Python's
 * code runs), or -1 with an exception. */
static int prepare(call *c, uint32_t n) {
    if (allocate(&c->r, n) || !(c->out = malloc(n * sizeof *c->out))) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    for (int k = 0; k < 3; k++)
        if (c->l[k].items && !read_ids(&c->l[k])) return 0;
    return 1;
}

#define TAKE(c, k, o, numbers)                                                                               \
    do {                                                                                                     \
        int st_ = take((o), (numbers), &(c)->l[k]);                                                          \
        if (st_ <= 0) return st_ ? end((c), NULL) : not_here(c);                                             \
    } while (0)

#define PREPARE(c, n)                                                                                        \
    do {                                                                                                     \
        int st_ = prepare((c), (n));                                                                         \
        if (st_ <= 0) return st_ ? end((c), NULL) : not_here(c);                                             \
    } while (0)

/* Whether position i of a and b holds two numbers (their product is Python's float). */
static int two_numbers(const operands *a, const operands *b) {
    for (uint32_t i = 0; i < a->n; i++)
        if (a->ids[i] < 0 && b->ids[i] < 0) return 1;
    return 0;
}

/* dot(a, b): sum(ai * bi for ai, bi in zip(a, b)) */
static PyObject *fn_dot(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *a, *b;
    call c = {0};
    if (!PyArg_ParseTuple(args, "OO:dot", &a, &b)) return NULL;
    TAKE(&c, 0, a, 1);
    TAKE(&c, 1, b, 1);
    if (c.l[0].n != c.l[1].n) return not_here(&c);
    PREPARE(&c, 1);
    if (two_numbers(&c.l[0], &c.l[1])) return not_here(&c);
    int st =
        mg_build_dot((mg_term){-1, 0.0}, c.l[0].ids, c.l[0].nums, c.l[1].ids, c.l[1].nums, c.l[0].n, c.out);
    return end(&c, give(&c.r, st, c.out, 1, 0));
}

/* linear(x, w, bias): [sum((wi * xi for wi, xi in zip(wo, x)), bo) ...], bo 0 without bias */
static PyObject *fn_linear(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *x, *w, *bias;
    call c = {0};
    if (!PyArg_ParseTuple(args, "OOO:linear", &x, &w, &bias)) return NULL;
    TAKE(&c, 0, x, 1);
    uint32_t nin = c.l[0].n;
    if (!PyList_Check(w) && !PyTuple_Check(w)) return not_here(&c);
    PyObject *rows = PySequence_Tuple(w);           /* each row joins l[1], flattened */
    if (!rows) return end(&c, NULL);
    Py_ssize_t nout = PyTuple_Size(rows);
    PyObject *flat = nout > 0 && nout < (Py_ssize_t)(UINT32_MAX / 2 / nin) ? PyList_New(0) : NULL;
    for (Py_ssize_t o = 0; flat && o < nout; o++) {
        PyObject *row = PyTuple_GetItem(rows, o);
        if ((!PyList_Check(row) && !PyTuple_Check(row)) || PySequence_Size(row) != (Py_ssize_t)nin) {
            Py_CLEAR(flat);
            break;
        }
        PyObject *more = PySequence_InPlaceConcat(flat, row);
        Py_XDECREF(more);
        if (!more) Py_CLEAR(flat);
    }
    Py_DECREF(rows);
    if (!flat) return PyErr_Occurred() ? end(&c, NULL) : not_here(&c);
    int st = take(flat, 1, &c.l[1]);
    Py_DECREF(flat);
    if (st <= 0) return st ? end(&c, NULL) : not_here(&c);
    if (bias != Py_None) TAKE(&c, 2, bias, 1);
    if (bias != Py_None && c.l[2].n != (uint32_t)nout) return not_here(&c);
    PREPARE(&c, (uint32_t)nout);
    for (uint32_t o = 0; o < (uint32_t)nout; o++) {
        operands row = {NULL, nin, c.l[1].ids + (size_t)o * nin, NULL};
        if (two_numbers(&c.l[0], &row)) return not_here(&c);
    }
    st = mg_build_linear(c.l[0].ids, c.l[0].nums, nin, c.l[1].ids, c.l[1].nums,
                         bias != Py_None ? c.l[2].ids : NULL, bias != Py_None ? c.l[2].nums : NULL,
                         (uint32_t)nout, c.out);
    return end(&c, give(&c.r, st, c.out, (uint32_t)nout, 1));
}

/* sum(values, start): start + values[0] + values[1] + ... */
static PyObject *fn_sum(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *values, *start;
    call c = {0};
    if (!PyArg_ParseTuple(args, "OO:sum", &values, &start)) return NULL;
    TAKE(&c, 0, values, 1);
    PyObject *one = PyTuple_Pack(1, start);         /* start as a list of one */
    int st = one ? take(one, 1, &c.l[1]) : -1;
    Py_XDECREF(one);
    if (st <= 0) return st ? end(&c, NULL) : not_here(&c);
    PREPARE(&c, 1);
    /* two numbers first would be Python's float sum, which may compensate: Python runs it */
    if (c.l[1].ids[0] < 0 && c.l[0].ids[0] < 0) return not_here(&c);
    mg_term s = mg_term_at(c.l[1].ids, c.l[1].nums, 0);
    st = mg_build_sum(s, c.l[0].ids, c.l[0].nums, c.l[0].n, c.out);
    return end(&c, give(&c.r, st, c.out, 1, 0));
}

/* An op over a list of Values alone: softmax, log_softmax, rmsnorm, a unary op on each, and
 * cross_entropy, whose one result is its loss. */
enum {
    SOFTMAX,
    LOG_SOFTMAX,
    RMSNORM,
    MAP,
    CROSS_ENTROPY
};

static PyObject *over_values(int which, PyObject *v, double param, int op) {
    call c = {0};
    TAKE(&c, 0, v, 0);
    uint32_t n = c.l[0].n;
    if (which == CROSS_ENTROPY && param >= n) return not_here(&c);
    PREPARE(&c, which == CROSS_ENTROPY ? 1 : n);
    free(c.out);                                    /* room for n ids, whatever it returns */
    if (!(c.out = malloc(n * sizeof *c.out))) return end(&c, PyErr_NoMemory());
    const mg_id *ids = c.l[0].ids;
    int st = which == SOFTMAX       ? mg_build_softmax(ids, n, c.out)
             : which == LOG_SOFTMAX ? mg_build_log_softmax(ids, n, c.out)
             : which == RMSNORM     ? mg_build_rmsnorm(ids, n, param, c.out)
             : which == MAP         ? mg_build_map(op, ids, n, c.out)
                                    : mg_build_cross_entropy(ids, n, (uint32_t)param, c.out);
    return end(&c, give(&c.r, st, c.out, which == CROSS_ENTROPY ? 1 : n, which != CROSS_ENTROPY));
}

static PyObject *fn_softmax(PyObject *module, PyObject *v) {
    return (void)module, over_values(SOFTMAX, v, 0, 0);
}
static PyObject *fn_log_softmax(PyObject *module, PyObject *v) {
    return (void)module, over_values(LOG_SOFTMAX, v, 0, 0);
}

static PyObject *fn_rmsnorm(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *x, *eps;
    double e;
    if (!PyArg_ParseTuple(args, "OO:rmsnorm", &x, &eps)) return NULL;
    int number = mg_plain_number(eps, &e);
    if (number <= 0) return number ? NULL : not_implemented();
    return over_values(RMSNORM, x, e, 0);
}

static PyObject *fn_cross_entropy(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *logits, *target;
    if (!PyArg_ParseTuple(args, "OO:cross_entropy", &logits, &target)) return NULL;
    long long t = PyLong_CheckExact(target) ? PyLong_AsLongLong(target) : -1;
    if (t < 0) {                                    /* Python checks it, and says why */
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    return over_values(CROSS_ENTROPY, logits, (double)t, 0);
}

static PyObject *fn_map(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *v;
    int op;
    if (!PyArg_ParseTuple(args, "iO:map", &op, &v)) return NULL;
    return over_values(MAP, v, 0, op);
}

PyMethodDef mg_functional_functions[] = {
    {"fn_dot", fn_dot, METH_VARARGS, "fn_dot(a, b): functional.dot in C, or NotImplemented"},
    {"fn_linear", fn_linear, METH_VARARGS, "fn_linear(x, w, bias or None)"},
    {"fn_sum", fn_sum, METH_VARARGS, "fn_sum(values, start)"},
    {"fn_softmax", fn_softmax, METH_O, "fn_softmax(logits)"},
    {"fn_log_softmax", fn_log_softmax, METH_O, "fn_log_softmax(logits)"},
    {"fn_rmsnorm", fn_rmsnorm, METH_VARARGS, "fn_rmsnorm(x, eps)"},
    {"fn_cross_entropy", fn_cross_entropy, METH_VARARGS, "fn_cross_entropy(logits, target)"},
    {"fn_map", fn_map, METH_VARARGS, "fn_map(op, values): a unary op of the table on each"},
    {NULL, NULL, 0, NULL},
};
