/*
 * py_fields.c: Value.data and Value.grad as C descriptors, for the cffi glue only.
 *
 * A Python property runs a Python function on every read: 120-230 ns here, against about 20 ns
 * for micrograd's plain attribute. These descriptors read the node straight from the arena. The
 * glue (micrograd_c/_build.py) includes this file into the module cffi generates, which is a
 * CPython extension compiled against Python.h (the limited API), and holds the GIL through
 * every call (see mg_glue_holds_gil), as the Python C API needs.
 *
 * A descriptor reads its instance's node id from the instance's `_id` slot, at the offset found
 * once at import (field_find_id), else through getattr; a Value with an unknown id reads NaN
 * and writes nothing, as mg_data / mg_set_data do.
 */
#include "structmember.h"

typedef struct {
    PyObject_HEAD
    int is_grad;                /* 0: data, 1: grad */
    PyObject *doc;
} mg_field;

static PyObject *field_id_name;     /* "_id", interned */
static PyTypeObject *field_cls;     /* Value */
static Py_ssize_t field_id_offset;  /* where a Value keeps its `_id` slot; 0: unknown */

static int field_node(PyObject *obj, mg_id *n) {
    PyObject *id = NULL;
    if (field_id_offset && PyObject_TypeCheck(obj, field_cls)) {
        id = *(PyObject **)((char *)obj + field_id_offset);
        Py_XINCREF(id);
    }
    if (!id && !(id = PyObject_GetAttr(obj, field_id_name))) {
        return -1;                  /* Python's own AttributeError, as for an unset slot */
    }
    long long v = PyLong_AsLongLong(id);
    Py_DECREF(id);
    if (v == -1 && PyErr_Occurred()) return -1;
    *n = v;
    return 0;
}

static PyObject *field_get(PyObject *self, PyObject *obj, PyObject *type) {
    (void)type;
    if (obj == NULL || obj == Py_None) {    /* Value.data: the descriptor itself */
        Py_INCREF(self);
        return self;
    }
    mg_id n;
    if (field_node(obj, &n)) return NULL;
    return PyFloat_FromDouble(((mg_field *)self)->is_grad ? mg_grad(n) : mg_data(n));
}

static int field_set(PyObject *self, PyObject *obj, PyObject *value) {
    const char *name = ((mg_field *)self)->is_grad ? "grad" : "data";
    if (value == NULL) {
        PyErr_Format(PyExc_AttributeError, "cannot delete a Value's %s", name);
        return -1;
    }
    double x = PyFloat_AsDouble(value);     /* as cffi converts a double argument */
    if (x == -1.0 && PyErr_Occurred()) return -1;
    mg_id n;
    if (field_node(obj, &n)) return -1;
    if (((mg_field *)self)->is_grad) mg_set_grad(n, x); else mg_set_data(n, x);
    return 0;
}

static void field_dealloc(PyObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    Py_XDECREF(((mg_field *)self)->doc);
    PyObject_Free(self);
    Py_DECREF(type);
}

static PyMemberDef field_members[] = {
    {"__doc__", T_OBJECT, offsetof(mg_field, doc), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot field_slots[] = {
    {Py_tp_descr_get, (void *)field_get},
    {Py_tp_descr_set, (void *)field_set},
    {Py_tp_dealloc, (void *)field_dealloc},
    {Py_tp_members, field_members},
    {0, NULL},
};

static PyType_Spec field_spec = {
    "micrograd_c._core.field", sizeof(mg_field), 0, Py_TPFLAGS_DEFAULT, field_slots,
};

static int field_add(PyObject *cls, PyObject *type, const char *name, int is_grad, const char *doc) {
    mg_field *f = PyObject_New(mg_field, (PyTypeObject *)type);
    if (!f) return -1;
    f->is_grad = is_grad;
    f->doc = PyUnicode_FromString(doc);
    int failed = !f->doc || PyObject_SetAttrString(cls, name, (PyObject *)f);
    Py_DECREF(f);
    return failed ? -1 : 0;
}

/* Where instances of cls keep the `_id` slot, found by storing a marker through the slot's
 * descriptor in a bare instance and looking for it; 0 if not found once and only once. A slot
 * lives at the same offset in every instance of cls and of its subclasses. */
static Py_ssize_t field_find_id(PyTypeObject *cls) {
    Py_ssize_t found = 0, size;
    PyObject *size_obj = PyObject_GetAttrString((PyObject *)cls, "__basicsize__");
    if (!size_obj) return 0;
    size = PyLong_AsSsize_t(size_obj);
    Py_DECREF(size_obj);
    PyObject *obj = PyType_GenericAlloc(cls, 0);
    PyObject *marker = PyLong_FromLong(0x5eed);
    if (obj && marker && size > 0 && !PyObject_SetAttr(obj, field_id_name, marker)) {
        for (Py_ssize_t at = sizeof(PyObject); at + (Py_ssize_t)sizeof(PyObject *) <= size;
             at += sizeof(PyObject *)) {
            if (*(PyObject **)((char *)obj + at) == marker) {
                if (found) { found = 0; break; }   /* twice: not sure which */
                found = at;
            }
        }
    }
    Py_XDECREF(obj);
    Py_XDECREF(marker);
    PyErr_Clear();
    return found;
}

/* Sets module.cls.data and .grad to the descriptors. Returns 0, or -1 with nothing raised. */
int mg_glue_install_fields(const char *module, const char *cls_name) {
    PyObject *mod = NULL, *cls = NULL, *type = NULL;
    int failed = -1;
    if (!field_id_name && !(field_id_name = PyUnicode_InternFromString("_id"))) goto done;
    if (!(mod = PyImport_ImportModule(module))) goto done;
    if (!(cls = PyObject_GetAttrString(mod, cls_name))) goto done;
    if (!PyType_Check(cls)) goto done;
    if (!(type = PyType_FromSpec(&field_spec))) goto done;
    Py_XDECREF(field_cls);
    Py_INCREF(cls);
    field_cls = (PyTypeObject *)cls;
    field_id_offset = field_find_id(field_cls);
    if (field_add(cls, type, "data", 0, "The node's value, a float, read from and written to C.")) goto done;
    if (field_add(cls, type, "grad", 1, "d(root)/d(node) after root.backward(), a float.")) goto done;
    failed = 0;
done:
    Py_XDECREF(type);
    Py_XDECREF(cls);
    Py_XDECREF(mod);
    if (failed) PyErr_Clear();
    return failed;
}

/* 1 when the descriptors read `_id` at its offset, 0 when through getattr (slower). */
int mg_glue_fields_direct(void) { return field_id_offset != 0; }
