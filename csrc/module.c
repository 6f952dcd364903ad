/*
 * module.c: the glue's set-up on micrograd_c._core (glue.h lists the glue's files), and the
 * hook Python's collector calls.
 */
#include "glue.h"

#include "ops.h"

#include <stdio.h>

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
    PyObject *module = PyImport_ImportModule("micrograd_c._core");
    int failed = !module || mg_value_type_make(module)
              || PyModule_AddFunctions(module, mg_value_functions)
              || PyModule_AddFunctions(module, mg_backward_functions)
              || PyModule_AddFunctions(module, mg_nn_functions)
              || PyModule_AddFunctions(module, module_functions) || mg_optim_install(module);
    Py_XDECREF(module);
    if (failed) {
        keep_error();
        Py_CLEAR(mg_base_type);         /* so that a second try starts again */
        Py_CLEAR(mg_value_type);
    }
    return failed ? MG_GLUE_FAILED : MG_GLUE_OK;
}
