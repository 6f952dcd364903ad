/*
 * compose_glue.c: -a, a - b and a / b as ValueBase's number slots, built in C as micrograd
 * composes them (compose.c), where it wrote them in Python: a - b is a + (-b), -b is b * -1,
 * a / b is a * b**-1, with the same nodes, values and errors.
 *
 * C builds them for engine.Value itself and numbers it reads without Python (float, int,
 * bool, a float subclass); a subclass of Value (whose own + or * must run), a Value with a
 * Python _backward at or below it (every node then needs its Value: arena.c, note 11) and any
 * other operand go to micrograd_c/_pypath.py's compositions, which run micrograd's Python.
 */
#include "glue.h"

#include "compose.h"

#define UNREAD (-2)                 /* a term's id: a Value's, to be read */

/* o as a term: 1 for engine.Value itself (its id UNREAD) or a plain number; 0 for what
 * Python must do; -1 with an exception (an int too large for a float). */
static int term_of(PyObject *o, mg_term *t) {
    if (Py_TYPE(o) == mg_value_type) {
        t->id = UNREAD;
        return !AS_VALUE(o)->below;
    }
    if (mg_is_value(o)) return 0;
    t->id = -1;
    return PyFloat_Check(o) ? mg_real(o, &t->x) : mg_plain_number(o, &t->x);
}

/* l - r (div 0) or l / r (div 1), one of them a Value. */
static PyObject *compose(int div, PyObject *l, PyObject *r) {
    PyObject *operand[2] = {l, r};
    mg_term t[2];
    for (int k = 0; k < 2; k++) {
        int st = term_of(operand[k], &t[k]);
        if (st <= 0)
            return st ? NULL : PyObject_CallFunctionObjArgs(div ? mg_hook_div : mg_hook_sub, l, r, NULL);
    }
    mg_id id;
    mg_value *out = mg_result_of(t[0].id == UNREAD ? l : r, &id);   /* can run Python: */
    if (!out) return NULL;
    for (int k = 0; k < 2; k++) {                                    /* ids read after it */
        if (t[k].id == UNREAD && (t[k].id = AS_VALUE(operand[k])->id) < 0) {
            Py_DECREF(out);
            return mg_unbound(operand[k]);
        }
    }
    return mg_finish(out, div ? mg_build_div(t[0], t[1]) : mg_build_sub(t[0], t[1]), 0);
}

PyObject *mg_value_sub(PyObject *l, PyObject *r) { return compose(0, l, r); }
PyObject *mg_value_div(PyObject *l, PyObject *r) { return compose(1, l, r); }

/* -self: self * -1, in C for engine.Value itself; a subclass's own * runs, as in Python. */
PyObject *mg_value_neg(PyObject *self) {
    if (Py_TYPE(self) != mg_value_type || AS_VALUE(self)->below) {
        PyObject *minus_one = PyLong_FromLong(-1);
        PyObject *out = minus_one ? PyNumber_Multiply(self, minus_one) : NULL;
        Py_XDECREF(minus_one);
        return out;
    }
    mg_id a;
    mg_value *out = mg_result_of(self, &a);
    return out ? mg_finish(out, mg_build_neg((mg_term){a, 0.0}), 0) : NULL;
}
