/*
 * backward_glue.c: backward() as the glue runs it, and a Value's Python _backward (arena.c,
 * design note 11). The core's sweep (ops.c) stops at a node whose rule is Python's; this
 * calls the callable, then lets the sweep go on.
 */
#include "glue.h"

#include "ops.h"

/* backward(value): value.grad = 1, then += into everything it reaches, a node's Python
 * _backward at its node's turn (arena.c, note 11). An exception a callable raises propagates
 * as it is, the grads as far as the sweep got. */
static PyObject *glue_backward(PyObject *module, PyObject *self) {
    (void)module;
    if (!mg_is_value(self)) return mg_type_error(PyExc_TypeError, "backward: not a Value: %U", self);
    if (AS_VALUE(self)->id < 0) return mg_unbound(self);
    mg_sweep_t sweep;
    int status = mg_sweep_begin(&sweep, AS_VALUE(self)->id);
    if (status) return mg_raise_status(status);
    while ((status = mg_sweep(&sweep)) == MG_PYTHON) {
        mg_value *v = mg_live_value_of(sweep.stopped);
        PyObject *fn = v ? v->backward : NULL;     /* none: its Value was given another node */
        if (!fn) continue;
        Py_INCREF(fn);
        PyObject *r = PyObject_CallObject(fn, NULL);
        Py_DECREF(fn);
        if (!r) {
            mg_sweep_abort(&sweep);
            return NULL;
        }
        Py_DECREF(r);
    }
    return status ? mg_raise_status(status) : (Py_INCREF(Py_None), Py_None);
}

/* set_backward(value, fn): fn is value's node's backward from now on, in place of its op's. */
static PyObject *glue_set_backward(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *self, *fn;
    if (!PyArg_ParseTuple(args, "OO:set_backward", &self, &fn)) return NULL;
    if (!mg_is_value(self)) return mg_type_error(PyExc_TypeError, "set_backward: not a Value: %U", self);
    if (!PyCallable_Check(fn))
        return mg_type_error(PyExc_TypeError, "_backward must be callable, not %U", fn);
    mg_value *v = AS_VALUE(self);
    if (v->id < 0) return mg_unbound(self);
    mg_set_ref(&v->backward, fn);          /* drops the one before: can run Python */
    if (v->id < 0) return mg_unbound(self);
    mg_live_block(v->id)->op[MG_OFF(v->id)] |= MG_OP_PY;
    v->below = 1;
    Py_RETURN_NONE;
}

/* get_backward(value): the Python _backward value's node runs, or None for its op's rule. */
static PyObject *glue_get_backward(PyObject *module, PyObject *self) {
    (void)module;
    if (!mg_is_value(self)) return mg_type_error(PyExc_TypeError, "get_backward: not a Value: %U", self);
    PyObject *fn = AS_VALUE(self)->backward ? AS_VALUE(self)->backward : Py_None;
    Py_INCREF(fn);
    return fn;
}

PyMethodDef mg_backward_functions[] = {
    {"backward", glue_backward, METH_O, "backward(value): the sweep, Python rules included"},
    {"set_backward", glue_set_backward, METH_VARARGS, "set_backward(value, fn): a Python _backward"},
    {"get_backward", glue_get_backward, METH_O, "get_backward(value): its Python _backward or None"},
    {NULL, NULL, 0, NULL},
};
