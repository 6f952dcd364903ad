/*
 * module.c: the glue's set-up on micrograd_c._core (glue.h lists the glue's files): the
 * hooks engine.py installs and the errors raised through them, the hook Python's collector
 * calls, and mg_glue_install.
 */
#include "glue.h"

#include <stdio.h>

PyObject *mg_hook_real, *mg_hook_binary, *mg_hook_pow, *mg_hook_raise, *mg_hook_tag, *mg_hook_sub,
    *mg_hook_div;

// ----------------------------------------------------------------------------
// errors

PyObject *mg_raise_status(int status) {
    PyObject *r = mg_hook_raise ? PyObject_CallFunction(mg_hook_raise, "i", status) : NULL;
    Py_XDECREF(r);
    if (!PyErr_Occurred()) PyErr_Format(PyExc_SystemError, "micrograd_c: status %d", status);
    return NULL;
}

/* Raises `exc(fmt % type(o).__name__)`; fmt has one %U. */
PyObject *mg_type_error(PyObject *exc, const char *fmt, PyObject *o) {
    PyObject *name = PyObject_GetAttrString((PyObject *)Py_TYPE(o), "__name__");
    if (name) {
        PyErr_Format(exc, fmt, name);
        Py_DECREF(name);
    }
    return NULL;
}

/* A Value that has no node yet (a subclass's __init__ that never set data): micrograd's
 * AttributeError for the attribute it lacks. */
PyObject *mg_unbound(PyObject *self) {
    return mg_type_error(PyExc_AttributeError, "'%U' object has no attribute 'data'", self);
}

// ----------------------------------------------------------------------------
// the module's own functions

/* install(value_class, real, binary, pow, raise_status, tag, sub, div): what the ops make, and
 * the hooks. */
static PyObject *glue_install_hooks(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *cls, *hooks[7];
    if (!PyArg_ParseTuple(args, "OOOOOOOO:install", &cls, &hooks[0], &hooks[1], &hooks[2], &hooks[3],
                          &hooks[4], &hooks[5], &hooks[6]))
        return NULL;
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, mg_base_type)) {
        PyErr_SetString(PyExc_TypeError, "install: the class must be a subclass of ValueBase");
        return NULL;
    }
    PyObject **slots[] = {&mg_hook_real, &mg_hook_binary, &mg_hook_pow, &mg_hook_raise,
                          &mg_hook_tag,  &mg_hook_sub,    &mg_hook_div};
    /* The methods and getsets again, as cls's own: CPython calls a method descriptor inline
     * only on an instance of exactly the class that holds it (3.11 to 3.13's specializer),
     * and checks a getset's instance by a walk over its bases unless it is of that class. */
    for (PyMethodDef *m = mg_value_methods; m->ml_name; m++) {
        PyObject *descr = PyDescr_NewMethod((PyTypeObject *)cls, m);
        int failed = !descr || PyObject_SetAttrString(cls, m->ml_name, descr);
        Py_XDECREF(descr);
        if (failed) return NULL;
    }
    for (PyGetSetDef *g = mg_value_getset; g->name; g++) {
        PyObject *descr = PyDescr_NewGetSet((PyTypeObject *)cls, g);
        int failed = !descr || PyObject_SetAttrString(cls, g->name, descr);
        Py_XDECREF(descr);
        if (failed) return NULL;
    }
    for (int k = 0; k < 7; k++) mg_set_ref(slots[k], hooks[k]);
    if (cls != (PyObject *)mg_value_type) mg_recycle_drop();   /* kept ones are the old class's */
    mg_set_ref((PyObject **)&mg_value_type, cls);
    Py_RETURN_NONE;
}

/* after_gc(phase, info): gc.callbacks' hook (lifetime.py), a collection of the arena after
 * each full run of Python's collector, when the last Values of a graph held in a reference
 * cycle have gone. A C function: no Python frame runs, so no signal can land in it and be
 * lost as an exception the collector can only print. */
static PyObject *glue_after_gc(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *phase, *info, *generation;
    if (!PyArg_ParseTuple(args, "OO:after_gc", &phase, &info)) return NULL;
    if (PyUnicode_Check(phase) && !PyUnicode_CompareWithASCIIString(phase, "stop") && PyDict_Check(info)
        && (generation = PyDict_GetItemString(info, "generation")) && PyLong_Check(generation)
        && PyLong_AsLong(generation) == 2)
        mg_collect();
    Py_RETURN_NONE;
}

static PyMethodDef module_functions[] = {
    {"install", glue_install_hooks, METH_VARARGS,
     "install(Value, real, binary, pow, raise_status, tag, sub, div)"},
    {"after_gc", glue_after_gc, METH_VARARGS, "after_gc(phase, info): gc.callbacks' hook"},
    {NULL, NULL, 0, NULL},
};

static char glue_error[256];

/* Why the last mg_glue_install failed: its exception's message, kept here because a call
 * through cffi cannot return one. */
const char *mg_glue_error(void) { return glue_error; }

/* The exception set now, as glue_error, cleared. */
static void keep_error(void) {
    PyObject *type, *value, *trace;
    PyErr_Fetch(&type, &value, &trace);
    PyObject *text = value ? PyObject_Str(value) : NULL;
    PyObject *utf8 = text ? PyUnicode_AsUTF8String(text) : NULL;
    snprintf(glue_error, sizeof glue_error, "%s", utf8 ? PyBytes_AsString(utf8) : "(no message)");
    Py_XDECREF(utf8);
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(trace);
    PyErr_Clear();
}

/* Makes ValueBase and ParamSet and puts them, with the glue's functions, on micrograd_c._core,
 * once: a second call (importlib.reload of _glue) finds them there. Returns MG_GLUE_OK;
 * MG_GLUE_SUBINTERPRETER in any interpreter but the main one, where nothing is touched (the
 * types and hooks are the process's, and another interpreter's objects must never reach
 * them); or MG_GLUE_FAILED with nothing raised and mg_glue_error() saying why. _glue.py
 * raises ImportError for either. */
int mg_glue_install(void) {
    if (PyInterpreterState_GetID(PyInterpreterState_Get()) != 0) return MG_GLUE_SUBINTERPRETER;
    if (mg_base_type) return MG_GLUE_OK;
    mg_recycle_setup();
    PyObject *module = PyImport_ImportModule("micrograd_c._core");
    int failed = !module || mg_value_type_make(module) || PyModule_AddFunctions(module, mg_value_functions)
                 || PyModule_AddFunctions(module, mg_backward_functions)
                 || PyModule_AddFunctions(module, mg_nn_functions)
                 || PyModule_AddFunctions(module, mg_functional_functions)
                 || PyModule_AddFunctions(module, module_functions) || mg_optim_install(module);
    Py_XDECREF(module);
    if (failed) {
        keep_error();
        Py_CLEAR(mg_base_type);         /* so that a second try starts again */
        Py_CLEAR(mg_value_type);
    }
    return failed ? MG_GLUE_FAILED : MG_GLUE_OK;
}
