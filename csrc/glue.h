/*
 * glue.h: what the files of the Python type glue share, and nothing else (not the cffi API).
 *
 * The glue is the layer between the core (arena.c, ops.c, nn.c) and Python objects, in eight
 * files, each a translation unit of its own, compiled by the cffi build against Python's
 * limited API into the module cffi generates; that glue holds the GIL through every call:
 *   value.c           Value's C base type: its storage, its operators and methods, _prev
 *   compose_glue.c    -a, a - b and a / b, micrograd's compositions, as number slots
 *   functional_glue.c micrograd_c.functional's ops (dot, softmax, ...), one C call each
 *   backward_glue.c   backward() as a sweep that stops for Python _backward callables
 *   nn_glue.c         an nn plan: a whole Neuron, Layer or MLP call as one C call
 *   optim_glue.c      ParamSet, the optimizers' C base
 *   recycle.c         a freed engine.Value's memory, kept for the next Value
 *   module.c          setting it all up on micrograd_c._core, once, in the main interpreter;
 *                     the hooks engine.py installs, and the errors raised through them
 * They keep design notes 2, 4, 6, 10 and 11 of arena.c.
 */
#ifndef MG_GLUE_H
#define MG_GLUE_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "arena.h"

/* A Value's C part. The attribute dict is the Python subclass's (engine.Value's), so that
 * CPython manages it and its method calls stay specialized. data has no copy here: its getter
 * makes a float of the node's, so the arena is the one place it is written (an optimizer's
 * step included), and no float object is ever changed in place. */
typedef struct {
    PyObject_HEAD
    mg_id id;                   /* the node, or -1 before one is made */
    PyObject *kids[2];          /* the children's Values, kept from the first _prev on: they
                                 * live as long as this one, as micrograd's do */
    int nkids;                  /* how many of kids hold one; -1 until _prev is first asked */
    int below;                  /* its node's backward, or one below it, is Python's: it keeps
                                 * its children's Values from the start (arena.c, note 11) */
    PyObject *backward;         /* a Python _backward given to it (arena.c, note 11), or NULL */
    PyObject *weakrefs;
} mg_value;

#define AS_VALUE(o) ((mg_value *)(o))

/* What engine.py installs (value.c): the classes, and the rules Python decides, each written
 * once in micrograd_c/_pypath.py and _glue.py. */
extern PyTypeObject *mg_base_type;  /* ValueBase */
extern PyTypeObject *mg_value_type; /* engine.Value: what the ops make */
extern PyObject *mg_hook_real;      /* x -> float(x) for a real number x, else TypeError */
extern PyObject
    *mg_hook_binary;    /* (op, value, other, reflected) -> the op on an operand C leaves to Python */
extern PyObject *mg_hook_pow;       /* (value, k) -> value ** k for a k C leaves to Python */
extern PyObject *mg_hook_raise;     /* status -> raises its exception */
extern PyObject *mg_hook_tag;       /* op name -> the tag a custom node keeps */
extern PyObject *mg_hook_sub;       /* (left, right) -> left - right as micrograd composes it */
extern PyObject *mg_hook_div;       /* (left, right) -> left / right likewise */

/* *slot = new reference o, dropping the old one (Py_XSETREF, which the limited API lacks). */
static inline void mg_set_ref(PyObject **slot, PyObject *o) {
    PyObject *old = *slot;
    Py_XINCREF(o);
    *slot = o;
    Py_XDECREF(old);
}

/* Whether o is a Value: a float or an int, the commonest other operands, without a walk
 * over their bases. */
static inline int mg_is_value(PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    return t == mg_value_type
           || (t != &PyFloat_Type && t != &PyLong_Type && PyType_IsSubtype(t, mg_base_type));
}

/* --- value.c --- */
PyObject *mg_raise_status(int status);          /* raises the exception for a C status: NULL */

/* 1 for a builder's id of a node; else 0, with the failed build's status raised. */
static inline int mg_built(mg_id id) {
    if (id < MG_ERR(0)) return 1;
    mg_raise_status((int)(id - MG_ERR(0)));
    return 0;
}
PyObject *mg_type_error(PyObject *exc, const char *fmt, PyObject *o);  /* fmt % type(o).__name__ */
PyObject *mg_unbound(PyObject *self);           /* a Value without a node: AttributeError */
mg_value *mg_new_value(void);                   /* an engine.Value without a node (runs Python) */
mg_value *mg_result_of(PyObject *self, mg_id *a);   /* the result's Value, then self's node */
PyObject *mg_finish(mg_value *out, mg_id id, int below);    /* out takes a builder's node */
int mg_real(PyObject *o, double *x);            /* float(o) for a real number: 1; or -1 */
void mg_attach(mg_value *v, mg_id id);          /* v, without a node, takes live node id */
mg_value *mg_live_value_of(mg_id k);            /* node k's Value, unless none or one dying */
int mg_plain_number(PyObject *o, double *x);    /* a float, int or bool: 1; other: 0; -1 */
int mg_value_type_make(PyObject *module);       /* makes ValueBase: 0, or -1 with an exception */
extern PyMethodDef mg_value_functions[];        /* pow_named */
extern PyMethodDef mg_value_methods[];          /* ValueBase's: the op table's methods */
extern PyGetSetDef mg_value_getset[];           /* ValueBase's: data, grad, _prev, _id */

/* --- the other files: their functions on _core, ValueBase's composed ops, and ParamSet --- */
PyObject *mg_value_sub(PyObject *l, PyObject *r);   /* compose_glue.c: l - r */
PyObject *mg_value_div(PyObject *l, PyObject *r);   /* l / r */
PyObject *mg_value_neg(PyObject *self);             /* -self */
extern PyMethodDef mg_backward_functions[];     /* backward_glue.c */
extern PyMethodDef mg_nn_functions[];           /* nn_glue.c */
extern PyMethodDef mg_functional_functions[];   /* functional_glue.c */
int mg_optim_install(PyObject *module);         /* optim_glue.c: ParamSet; 0, or -1 */
void mg_recycle_setup(void);                    /* recycle.c: whether this CPython's Values are kept */
mg_value *mg_reuse(void);                       /* a kept engine.Value, as allocation makes one; or NULL */
int mg_recycle(mg_value *v);                    /* 1: v, being freed, is kept (not to be freed) */
void mg_recycle_drop(void);                     /* frees every kept one */

#endif
