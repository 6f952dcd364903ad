/*
 * functional_glue.c: micrograd_c.functional's ops as one C call each (compose.c builds them).
 *
 * Each function here takes the Python objects as given and returns the results, or
 * NotImplemented for anything but the case it is for: engine.Value itself (no subclass, no
 * Python _backward below it) and floats, ints and bools where the op takes numbers, in lists
 * or tuples of the right shape. functional.py then runs the op's Python, which checks its
 * input (with the errors it raises) and builds the same nodes one op at a time.
 *
 * It keeps design notes 4 and 6 of arena.c: the results' Values are allocated first (which
 * can run Python, and so change the lists), and only then are the items read, in one pass
 * that runs no Python, up to the last node made.
 */
#include "glue.h"

#include "compose.h"

#include <stdlib.h>

/* A list or tuple, its kind read once (each check is a call under the limited API). */
typedef struct {
    PyObject *o;
    int list;                   /* 1 a list, 0 a tuple, -1 anything else */
} seq;

static seq seq_of(PyObject *o) { return (seq){o, PyList_Check(o) ? 1 : PyTuple_Check(o) ? 0 : -1}; }

/* The length of s; -1 for anything but a list or tuple. */
static Py_ssize_t seq_len(seq s) {
    return s.list > 0 ? PyList_Size(s.o) : s.list == 0 ? PyTuple_Size(s.o) : -1;
}

static Py_ssize_t length(PyObject *o) { return seq_len(seq_of(o)); }

/* Item i of s, a list or tuple that has it (borrowed). */
static PyObject *item(seq s, Py_ssize_t i) {
    return s.list ? PyList_GetItem(s.o, i) : PyTuple_GetItem(s.o, i);
}

/* The items' ids and numbers, read after the results are allocated: one buffer, kept. */
static mg_id *ids;
static double *nums;
static size_t cap;

static int room_for(size_t n) {
    if (n <= cap) return 1;
    mg_id *i = realloc(ids, n * sizeof *i);
    if (i) ids = i;
    double *x = i ? realloc(nums, n * sizeof *x) : NULL;
    if (x) nums = x;
    if (!i || !x) return 0;
    cap = n;
    return 1;
}

/* The n items of o (a list or tuple that must still have n) into ids and nums from `at`: 1
 * when each is engine.Value itself with a node and no Python _backward below it, or (with
 * numbers) a float, int or bool, whose id is -1; else 0. Runs no Python. */
static int read_items(PyObject *o, Py_ssize_t n, int numbers, size_t at) {
    seq s = seq_of(o);
    if (seq_len(s) != n) return 0;
    mg_id *id = ids + at;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *x = item(s, i);
        if (Py_TYPE(x) == mg_value_type) {
            const mg_value *v = AS_VALUE(x);
            if (v->id < 0 || v->below) return 0;
            id[i] = v->id;
        } else if (numbers && (PyFloat_CheckExact(x) || PyLong_CheckExact(x) || PyBool_Check(x))) {
            id[i] = -1;
            if (mg_plain_number(x, &nums[at + i]) < 0) return PyErr_Clear(), 0;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Whether position i of the lists at a and b holds two numbers (their product is Python's). */
static int two_numbers(size_t a, size_t b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (ids[a + i] < 0 && ids[b + i] < 0) return 1;
    return 0;
}

/* A call's results: their Values, allocated before anything is read (design note 4). */
typedef struct {
    mg_value *small[8];
    mg_value **v;
    uint32_t n, made;
    mg_id out_small[8];
    mg_id *out;                 /* the builder's ids (room for n, or more when asked) */
} results;

static void drop(results *r) {
    for (uint32_t i = 0; i < r->made; i++) Py_XDECREF(r->v[i]);
    if (r->v != r->small) free(r->v);
    if (r->out != r->out_small) free(r->out);
}

/* n Values, and room for `room` ids: 0, or -1 with an exception (nothing held). */
static int allocate(results *r, uint32_t n, uint32_t room) {
    r->n = n, r->made = 0;
    r->v = n <= 8 ? r->small : malloc(n * sizeof *r->v);
    r->out = room <= 8 ? r->out_small : malloc(room * sizeof *r->out);
    if (!r->v || !r->out) {
        if (r->v) r->made = 0;
        drop(r);
        PyErr_NoMemory();
        return -1;
    }
    for (; r->made < n; r->made++) {
        if (!(r->v[r->made] = mg_new_value())) {
            drop(r);
            return -1;
        }
    }
    return 0;
}

static PyObject *not_implemented(results *r) {
    if (r) drop(r);
    Py_INCREF(Py_NotImplemented);
    return Py_NotImplemented;
}

/* The results of a build that returned status st: one Value, or a list of all (as_list). */
static PyObject *give(results *r, int st, int as_list) {
    PyObject *list = NULL;
    if (st) {
        mg_raise_status(st);
    } else if (!as_list) {
        mg_attach(r->v[0], r->out[0]);
        list = (PyObject *)r->v[0];
        r->v[0] = NULL;
    } else if ((list = PyList_New(r->n))) {
        for (uint32_t i = 0; i < r->n; i++) {
            mg_attach(r->v[i], r->out[i]);
            PyList_SetItem(list, i, (PyObject *)r->v[i]); /* steals it */
            r->v[i] = NULL;
        }
    }
    drop(r);
    return list;
}

/* How many items each list of a call may have: enough that sizes fit the core's uint32_t. */
#define MAX_ITEMS ((Py_ssize_t)1 << 24)

// ----------------------------------------------------------------------------
// the ops

/* dot(a, b): sum(ai * bi for ai, bi in zip(a, b)) */
static PyObject *fn_dot(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "OO:dot", &a, &b)) return NULL;
    Py_ssize_t n = length(a);
    if (n <= 0 || n > MAX_ITEMS || length(b) != n) return not_implemented(NULL);
    results r;
    if (allocate(&r, 1, 1)) return NULL;
    if (!room_for(2 * (size_t)n)) return drop(&r), PyErr_NoMemory();
    if (!read_items(a, n, 1, 0) || !read_items(b, n, 1, n) || two_numbers(0, n, n))
        return not_implemented(&r);
    int st = mg_build_dot((mg_term){-1, 0.0}, ids, nums, ids + n, nums + n, n, r.out);
    return give(&r, st, 0);
}

/* linear(x, w, bias): [sum((wi * xi for wi, xi in zip(wo, x)), bo) ...], bo 0 without bias */
static PyObject *fn_linear(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *x, *w, *bias;
    if (!PyArg_ParseTuple(args, "OOO:linear", &x, &w, &bias)) return NULL;
    Py_ssize_t nin = length(x), nout = length(w);
    if (nin <= 0 || nout <= 0 || nin * nout > MAX_ITEMS || (bias != Py_None && length(bias) != nout))
        return not_implemented(NULL);
    results r;
    if (allocate(&r, (uint32_t)nout, (uint32_t)nout)) return NULL;
    size_t at_w = nin, at_b = at_w + nin * nout;
    if (!room_for(at_b + nout)) return drop(&r), PyErr_NoMemory();
    if (!read_items(x, nin, 1, 0)) return not_implemented(&r);
    seq rows = seq_of(w);
    for (Py_ssize_t o = 0; o < nout; o++) {
        PyObject *row = seq_len(rows) == nout ? item(rows, o) : NULL;
        if (!row || !read_items(row, nin, 1, at_w + o * nin) || two_numbers(0, at_w + o * nin, nin))
            return not_implemented(&r);
    }
    if (bias != Py_None && !read_items(bias, nout, 1, at_b)) return not_implemented(&r);
    int st = mg_build_linear(ids, nums, nin, ids + at_w, nums + at_w, bias != Py_None ? ids + at_b : NULL,
                             bias != Py_None ? nums + at_b : NULL, (uint32_t)nout, r.out);
    return give(&r, st, 1);
}

/* sum(values, start): start + values[0] + values[1] + ... */
static PyObject *fn_sum(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *values, *start;
    if (!PyArg_ParseTuple(args, "OO:sum", &values, &start)) return NULL;
    Py_ssize_t n = length(values);
    if (n <= 0 || n > MAX_ITEMS) return not_implemented(NULL);
    results r;
    if (allocate(&r, 1, 1)) return NULL;
    if (!room_for(n + 1)) return drop(&r), PyErr_NoMemory();
    PyObject *one = PyTuple_Pack(1, start);         /* start as a list of one */
    if (!one) {
        drop(&r);
        return NULL;
    }
    int ok = read_items(one, 1, 1, n) && read_items(values, n, 1, 0);
    Py_DECREF(one);
    /* two numbers first would be Python's float sum, which may compensate: Python runs it */
    if (!ok || (ids[n] < 0 && ids[0] < 0)) return not_implemented(&r);
    int st = mg_build_sum(mg_term_at(ids, nums, n), ids, nums, n, r.out);
    return give(&r, st, 0);
}

/* An op over a list of Values alone. */
enum {
    SOFTMAX,
    LOG_SOFTMAX,
    RMSNORM,
    MAP,
    CROSS_ENTROPY
};

static PyObject *over_values(int which, PyObject *v, double param, int op) {
    Py_ssize_t n = length(v);
    if (n <= 0 || n > MAX_ITEMS || (which == CROSS_ENTROPY && param >= n)) return not_implemented(NULL);
    results r;
    if (allocate(&r, which == CROSS_ENTROPY ? 1 : (uint32_t)n, (uint32_t)n)) return NULL;
    if (!room_for(n)) return drop(&r), PyErr_NoMemory();
    if (!read_items(v, n, 0, 0)) return not_implemented(&r);
    uint32_t m = (uint32_t)n;
    int st = which == SOFTMAX       ? mg_build_softmax(ids, m, r.out)
             : which == LOG_SOFTMAX ? mg_build_log_softmax(ids, m, r.out)
             : which == RMSNORM     ? mg_build_rmsnorm(ids, m, param, r.out)
             : which == MAP         ? mg_build_map(op, ids, m, r.out)
                                    : mg_build_cross_entropy(ids, m, (uint32_t)param, r.out);
    return give(&r, st, which != CROSS_ENTROPY);
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
    if (number < 0) PyErr_Clear();
    return number > 0 ? over_values(RMSNORM, x, e, 0) : not_implemented(NULL);
}

static PyObject *fn_cross_entropy(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *logits, *target;
    if (!PyArg_ParseTuple(args, "OO:cross_entropy", &logits, &target)) return NULL;
    long long t = PyLong_CheckExact(target) ? PyLong_AsLongLong(target) : -1;
    if (t < 0) {                                    /* Python checks it, and says why */
        PyErr_Clear();
        return not_implemented(NULL);
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
