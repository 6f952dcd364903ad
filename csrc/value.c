/*
 * value.c: Value's C base type, ValueBase (glue.h says where the glue's other parts are).
 * Its storage (the node id, its children's Values once asked for, weak references; data and
 * grad are read from the arena), its hottest operators (+, *, ** by a number, the unary ops
 * of the op table, Value(x)), _prev, and the hooks engine.py installs.
 *
 * engine.py's `class Value(ValueBase)` is the facade: micrograd's API, with what is not hot in
 * Python. What Python decides (which objects are real numbers, what NumPy operands do, the
 * exception for a status, the name of a custom op) it decides through the hooks, so each rule
 * is written once.
 *
 * It keeps design notes 2, 4, 6, 10 and 11 of arena.c: it allocates a Value before it
 * appends the node, binds it in the same call, looks ids up again after anything that can run
 * Python, and unbinds a Value that is being freed before anything can see it.
 */
#include "glue.h"

#include "ops.h"
#include "structmember.h"

PyTypeObject *mg_base_type, *mg_value_type;
PyObject *mg_hook_real, *mg_hook_binary, *mg_hook_pow, *mg_hook_raise, *mg_hook_tag;

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
// making Values

/* A Value of type without a node. */
static mg_value *alloc_value(PyTypeObject *type) {
    mg_value *v = (mg_value *)PyType_GenericAlloc(type, 0);
    if (v) v->id = -1, v->nkids = -1;
    return v;
}

/* Drops the children's Values v keeps (its node changes, or it goes). Dropping one can run
 * Python, which can ask for v's _prev: v is consistent before, keeping none. */
static void forget_kids(mg_value *v) {
    PyObject *kids[2] = {v->kids[0], v->kids[1]};
    v->kids[0] = v->kids[1] = NULL;
    v->nkids = -1;
    Py_XDECREF(kids[0]);
    Py_XDECREF(kids[1]);
}

mg_value *mg_new_value(void) { return alloc_value(mg_value_type); }

/* v, without a node, takes live node id (which has no Value). Runs no Python. */
void mg_attach(mg_value *v, mg_id id) {
    mg_bind(id, v);
    v->id = id;
}

/* v lets go of its node, if it has one (design note 10). Runs no Python. */
static void detach(mg_value *v) {
    if (v->id < 0) return;
    mg_unbind(v->id);
    v->id = -1;
}

static int children_of(PyObject *self, PyObject *kids[2]);

/* Note 11: v, whose node has a Python backward at or below it, keeps its children's Values
 * from now on, as micrograd's _prev keeps them (the callables live in those Values). 0, or -1
 * with an exception. */
static int keep_kids(mg_value *v) {
    v->below = 1;
    PyObject *kids[2];
    int count = children_of((PyObject *)v, kids);
    for (int k = 0; k < count; k++) Py_DECREF(kids[k]);
    return count < 0 ? -1 : 0;
}

/* out, given node id, built on Values of which one has below set (below); or, for a failed
 * build, nothing and the build's exception. */
static inline PyObject *finish(mg_value *out, mg_id id, int below) {
    if (id >= MG_ERR(0)) {
        Py_DECREF(out);
        return mg_raise_status((int)(id - MG_ERR(0)));
    }
    mg_attach(out, id);
    if (below && keep_kids(out)) Py_CLEAR(out);
    return (PyObject *)out;
}

/* v takes live node id (which has no Value); a node it had goes, and nn plans and optimizers
 * notice (design note 2). Python can run only at the end, once v holds its new node (the old
 * children's Values and callable dropped). */
static void rebind(mg_value *v, mg_id id) {
    int had_node = v->id >= 0;
    detach(v);
    mg_attach(v, id);
    v->below = 0;
    if (had_node) {
        mg_arena.epoch++;
        forget_kids(v);
        Py_CLEAR(v->backward);      /* micrograd's __init__ resets _backward too */
    }
}

/* The live Value of node k: NULL when it has none, or when its Value is being freed (its
 * reference count is zero: a subclass's dict or its weak references are being cleared), which
 * then lets go of the node, so that nothing can take a new reference to it (design note 10). */
mg_value *mg_live_value_of(mg_id k) {
    mg_value *v = mg_value_of(k);
    if (v && Py_REFCNT(v) == 0) {
        detach(v);
        v = NULL;
    }
    return v;
}

/* *x = float(o) and 1 for a float, an int or a bool, the numbers C reads without running
 * Python; 0 for any other o; -1 with OverflowError for an int too large for a float. */
int mg_plain_number(PyObject *o, double *x) {
    if (PyFloat_CheckExact(o)) {
        *x = PyFloat_AsDouble(o);
        return 1;
    }
    if (!PyLong_CheckExact(o) && !PyBool_Check(o)) return 0;
    *x = PyLong_AsDouble(o);
    return *x == -1.0 && PyErr_Occurred() ? -1 : 1;
}

/* 1 and *x = float(o) for a real number o; -1 with TypeError (or the conversion's error). */
static int real(PyObject *o, double *x) {
    int plain = mg_plain_number(o, x);
    if (plain) return plain;
    /* a float subclass (NumPy's float64) is a real number: float(o), which is this call */
    PyObject *f = PyFloat_Check(o) ? PyNumber_Float(o) : PyObject_CallFunctionObjArgs(mg_hook_real, o, NULL);
    if (!f) return -1;
    *x = PyFloat_AsDouble(f);
    Py_DECREF(f);
    return *x == -1.0 && PyErr_Occurred() ? -1 : 1;
}

// ----------------------------------------------------------------------------
// the operators

/* The Value an op on self will return, allocated before its node is made (design note 4),
 * and self's node, read after the allocation (which can run Python); NULL if either fails. */
static mg_value *result_of(PyObject *self, mg_id *a) {
    mg_value *out = mg_new_value();
    if (!out) return NULL;
    if ((*a = AS_VALUE(self)->id) < 0) {
        Py_DECREF(out);
        mg_unbound(self);
        return NULL;
    }
    return out;
}

/* op(l, r) for op MG_ADD or MG_MUL, either operand the Value: micrograd's __add__ and
 * __radd__ both build self + other, the Value first. A Value, float, int or bool operand is
 * built here; any other goes to Python. */
static PyObject *binary(int op, PyObject *l, PyObject *r) {
    PyObject *self = mg_is_value(l) ? l : r, *other = self == l ? r : l;
    int with_value = mg_is_value(other);
    double k = 0.0;
    if (!with_value) {                  /* a float subclass too (NumPy's float64), as real() */
        int number = PyFloat_Check(other) ? real(other, &k) : mg_plain_number(other, &k);
        if (number < 0) return NULL;
        if (!number) return PyObject_CallFunction(mg_hook_binary, "iOO", op, self, other);
    }
    mg_id a, b = 0;
    mg_value *out = result_of(self, &a);
    if (!out) return NULL;
    if (with_value && (b = AS_VALUE(other)->id) < 0) {
        Py_DECREF(out);
        return mg_unbound(other);
    }
    int below = AS_VALUE(self)->below | (with_value && AS_VALUE(other)->below);
    return finish(out, with_value ? mg_build(op, a, b, 0.0) : mg_build_k(op, a, k), below);
}

static PyObject *value_add(PyObject *l, PyObject *r) { return binary(MG_ADD, l, r); }
static PyObject *value_mul(PyObject *l, PyObject *r) { return binary(MG_MUL, l, r); }

/* self ** k: a float k, or an int a float holds exactly, here; any other k in Python (it
 * asserts micrograd's int/float rule and names the op). */
static PyObject *value_pow(PyObject *self, PyObject *k, PyObject *mod) {
    if (!mg_is_value(self) || mod != Py_None) Py_RETURN_NOTIMPLEMENTED;
    int op;
    double e;
    if (PyFloat_CheckExact(k)) {
        op = MG_POW_FLOAT;
        e = PyFloat_AsDouble(k);
    } else {
        int overflow = 0;
        long long n = PyLong_CheckExact(k) ? PyLong_AsLongLongAndOverflow(k, &overflow) : 0;
        if (!PyLong_CheckExact(k) || overflow || n > (1LL << 53) || n < -(1LL << 53))
            return PyObject_CallFunction(mg_hook_pow, "OO", self, k);
        op = MG_POW_INT;
        e = (double)n;
    }
    mg_id a;
    mg_value *out = result_of(self, &a);
    return out ? finish(out, mg_build(op, a, -1, e), AS_VALUE(self)->below) : NULL;
}

static PyObject *unary(PyObject *self, int op) {
    mg_id a;
    mg_value *out = result_of(self, &a);
    return out ? finish(out, mg_build(op, a, -1, 0.0), AS_VALUE(self)->below) : NULL;
}

/* A METH_NOARGS function per op index, so that the table's unary ops become methods. */
// clang-format off: the macro's uses read as a row each, which it would break up
#define UNARY(k) \
    static PyObject *unary_##k(PyObject *self, PyObject *unused) { (void)unused; return unary(self, k); }
UNARY(0) UNARY(1) UNARY(2) UNARY(3) UNARY(4) UNARY(5) UNARY(6) UNARY(7)
UNARY(8) UNARY(9) UNARY(10) UNARY(11) UNARY(12) UNARY(13) UNARY(14) UNARY(15)
static const PyCFunction unary_fn[] = {
    unary_0, unary_1, unary_2, unary_3, unary_4, unary_5, unary_6, unary_7,
    unary_8, unary_9, unary_10, unary_11, unary_12, unary_13, unary_14, unary_15,
};
// clang-format on
_Static_assert(MG_OP_COUNT <= sizeof unary_fn / sizeof unary_fn[0], "one unary_k per op");

// ----------------------------------------------------------------------------
// Value(data, _children=(), _op='', label='')

/* A hand-built node: micrograd's edges to at most two distinct Values, no local derivative. */
static mg_id custom(double x, PyObject *children, PyObject *op, int *below) {
    PyObject *kids[2] = {NULL, NULL}, *c, *tag = NULL;
    mg_id id = MG_ERR(MG_OK);           /* MG_ERR(MG_OK): an exception is set */
    int n = 0;
    PyObject *it = NULL;
    if (children && !(it = PyObject_GetIter(children))) return id;
    while (it && (c = PyIter_Next(it))) {
        if (!mg_is_value(c))
            mg_type_error(PyExc_TypeError, "Value children must be Values, not %U", c);
        else if (c != kids[0] && c != kids[1] && n == 2)
            PyErr_SetString(PyExc_ValueError, "micrograd_c: a hand-built Value takes at most two distinct children");
        else if (c != kids[0] && c != kids[1])
            Py_INCREF(c), kids[n++] = c;
        Py_DECREF(c);
        if (PyErr_Occurred()) goto done;
    }
    if (PyErr_Occurred()) goto done;
    tag = PyObject_CallFunctionObjArgs(mg_hook_tag, op, NULL);     /* op NULL: tag() names '' */
    double t = tag ? PyFloat_AsDouble(tag) : -1.0;
    if (PyErr_Occurred()) goto done;
    mg_id a = n > 0 ? AS_VALUE(kids[0])->id : -1, b = n > 1 ? AS_VALUE(kids[1])->id : -1;
    if ((n > 0 && a < 0) || (n > 1 && b < 0)) {
        mg_unbound(a < 0 ? kids[0] : kids[1]);
        goto done;
    }
    id = mg_build_custom(x, a, b, t);
    *below = (n > 0 && AS_VALUE(kids[0])->below) || (n > 1 && AS_VALUE(kids[1])->below);
done:
    Py_XDECREF(it);
    Py_XDECREF(tag);
    Py_XDECREF(kids[0]);
    Py_XDECREF(kids[1]);
    return id;
}

static PyObject *value_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)args, (void)kwds;             /* __init__ takes them: a subclass's own may differ */
    return (PyObject *)alloc_value(type);
}

static int value_init(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"data", "_children", "_op", "label", NULL};
    PyObject *data, *children = NULL, *op = NULL, *label = NULL;
    if (!kwds && PyTuple_Size(args) == 1) {
        data = PyTuple_GetItem(args, 0);
    } else if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OOO:Value", kwlist, &data, &children, &op, &label)) {
        return -1;
    }
    double x;
    if (real(data, &x) < 0) return -1;
    int has_children = children ? PyObject_IsTrue(children) : 0, has_op = op ? PyObject_IsTrue(op) : 0;
    if (has_children < 0 || has_op < 0) return -1;
    mg_id id;
    int below = 0;
    if (has_children || has_op) {
        id = custom(x, has_children ? children : NULL, op, &below);
        if (id == MG_ERR(MG_OK)) return -1;
    } else {
        id = mg_build_leaf(x);
    }
    if (id >= MG_ERR(0)) {
        mg_raise_status((int)(id - MG_ERR(0)));
        return -1;
    }
    rebind(AS_VALUE(self), id);
    if (below && keep_kids(AS_VALUE(self))) return -1;
    if (label) {
        int has_label = PyObject_IsTrue(label);
        if (has_label < 0 || (has_label && PyObject_SetAttrString(self, "label", label))) return -1;
    }
    return 0;
}

// ----------------------------------------------------------------------------
// storage

static void value_dealloc(PyObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    mg_value *v = AS_VALUE(self);
    PyObject_GC_UnTrack(self);
    detach(v);                          /* first: weakref callbacks can run Python (note 10) */
    if (v->weakrefs) PyObject_ClearWeakRefs(self);
    forget_kids(v);
    Py_CLEAR(v->backward);
    ((freefunc)PyType_GetSlot(type, Py_tp_free))(self);
    Py_DECREF(type);
}

static int value_traverse(PyObject *self, visitproc visit, void *arg) {
    Py_VISIT(AS_VALUE(self)->kids[0]);
    Py_VISIT(AS_VALUE(self)->kids[1]);
    Py_VISIT(AS_VALUE(self)->backward);
    Py_VISIT(Py_TYPE(self));            /* the dict is the subclass's: CPython visits it */
    return 0;
}

static int value_clear(PyObject *self) {
    forget_kids(AS_VALUE(self));
    Py_CLEAR(AS_VALUE(self)->backward);
    return 0;
}

/* data and grad: floats of the node's, made at each read */
static PyObject *get_data(PyObject *self, void *unused) {
    (void)unused;
    mg_id n = AS_VALUE(self)->id;
    return n < 0 ? mg_unbound(self) : PyFloat_FromDouble(mg_live_block(n)->data[MG_OFF(n)]);
}

static PyObject *get_grad(PyObject *self, void *unused) {
    (void)unused;
    mg_id n = AS_VALUE(self)->id;
    return n < 0 ? mg_unbound(self) : PyFloat_FromDouble(mg_live_block(n)->grad[MG_OFF(n)]);
}

/* data or grad = value, by Value(x)'s rule for numbers; a Value without a node gets a leaf. */
static int set_field(PyObject *self, PyObject *value, int grad) {
    if (!value) {
        PyErr_Format(PyExc_AttributeError, "cannot delete a Value's %s", grad ? "grad" : "data");
        return -1;
    }
    double x;
    if (real(value, &x) < 0) return -1;
    mg_value *v = AS_VALUE(self);
    if (v->id < 0) {                    /* a leaf of this data, or of 0.0 under this grad */
        mg_id id = mg_build_leaf(grad ? 0.0 : x);
        if (id >= MG_ERR(0)) {
            mg_raise_status((int)(id - MG_ERR(0)));
            return -1;
        }
        rebind(v, id);
        if (!grad) return 0;
    }
    mg_block *b = mg_live_block(v->id);
    (grad ? b->grad : b->data)[MG_OFF(v->id)] = x;
    return 0;
}

static int set_data(PyObject *self, PyObject *value, void *unused) {
    (void)unused;
    return set_field(self, value, 0);
}

static int set_grad(PyObject *self, PyObject *value, void *unused) {
    (void)unused;
    return set_field(self, value, 1);
}

static PyObject *get_id(PyObject *self, void *unused) {
    (void)unused;
    mg_id n = AS_VALUE(self)->id;
    return n < 0 ? mg_unbound(self) : PyLong_FromLongLong(n);
}

/* The Values of self's node's children, as many as its op shows (a named pow hides its
 * exponent), into kids[0..count): new references, also kept by self; -1 with an exception.
 * A child without a live Value gets a new one, allocated before self's node is read, since
 * allocating can run Python, which can give self another node and free blocks (note 10). */
static int children_of(PyObject *self, PyObject *kids[2]) {
    mg_value *v = AS_VALUE(self), *spare[2] = {NULL, NULL};
    int nspare = 0, count;
    while (v->nkids < 0) {
        mg_id n = v->id;
        if (n < 0) {
            mg_unbound(self);
            goto fail;
        }
        mg_block *b = mg_live_block(n);
        uint32_t i = MG_OFF(n);
        mg_id ids[2] = {b->kid0[i], b->kid1[i]};
        int arity = mg_ops[mg_op_at(b, i)].arity, need = 0;
        count = 0;
        for (int k = 0; k < arity; k++) count += ids[k] >= 0;
        for (int k = 0; k < count; k++)                 /* a + a: one Value for both */
            need += (k == 0 || ids[1] != ids[0]) && !mg_live_value_of(ids[k]);
        if (nspare < need) {                            /* Python can run: read it all again */
            if (!(spare[nspare] = mg_new_value())) goto fail;
            nspare++;
            continue;
        }
        for (int k = 0; k < count; k++) {               /* no Python since the read above */
            mg_value *c = mg_live_value_of(ids[k]);        /* self's node reaches ids[k]: live */
            if (c) {
                Py_INCREF(c);
            } else {
                c = spare[--nspare];
                spare[nspare] = NULL;
                mg_attach(c, ids[k]);
            }
            v->kids[k] = (PyObject *)c;                 /* self keeps these */
        }
        v->nkids = count;
    }
    count = v->nkids;
    for (int k = 0; k < count; k++) Py_INCREF(kids[k] = v->kids[k]);
    while (nspare > 0) Py_DECREF(spare[--nspare]);      /* last: this can run Python too */
    return count;
fail:
    while (nspare > 0) Py_DECREF(spare[--nspare]);
    return -1;
}

/* _prev: a set of the node's children's Values, made on each access from the ones self
 * keeps: the same objects every time, as long as self lives. The set itself is not kept, so
 * a walk over a graph leaves one object a node behind (its Value), not two, for Python's
 * collector to traverse again and again. */
static PyObject *get_prev(PyObject *self, void *unused) {
    (void)unused;
    PyObject *kids[2];
    int count = children_of(self, kids);
    PyObject *set = count < 0 ? NULL : PySet_New(NULL);
    for (int k = 0; k < count; k++) {
        if (set && PySet_Add(set, kids[k])) Py_CLEAR(set);
        Py_DECREF(kids[k]);
    }
    return set;
}

static PyGetSetDef value_getset[] = {
    {"_prev", get_prev, NULL, "A set of this node's children's Values: the same objects on every access.", NULL},
    {"data", get_data, set_data, "The node's value: a float.", NULL},
    {"grad", get_grad, set_grad, "d(root)/d(node) after root.backward(): a float.", NULL},
    {"_id", get_id, NULL, "The node's id in the C arena.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef value_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(mg_value, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

/* The table's unary ops (filled in by mg_value_type_make) and the end marker. */
static PyMethodDef value_methods[MG_OP_COUNT + 1];

static PyType_Slot value_slots[] = {
    {Py_tp_doc, "The C half of micrograd_c's Value: a node of the arena and its hot operators."},
    {Py_tp_new, (void *)value_new},
    {Py_tp_init, (void *)value_init},
    {Py_tp_dealloc, (void *)value_dealloc},
    {Py_tp_traverse, (void *)value_traverse},
    {Py_tp_clear, (void *)value_clear},
    {Py_tp_getset, value_getset},
    {Py_tp_members, value_members},
    {Py_tp_methods, value_methods},
    {Py_nb_add, (void *)value_add},
    {Py_nb_multiply, (void *)value_mul},
    {Py_nb_power, (void *)value_pow},
    {0, NULL},
};

static PyType_Spec value_spec = {
    "micrograd_c._core.ValueBase", sizeof(mg_value), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, value_slots,
};

// ----------------------------------------------------------------------------
// functions on the _core module, for engine.py and _pypath.py

/* install(value_class, real, binary, pow, raise_status, tag): what the ops make, and the hooks. */
static PyObject *glue_install_hooks(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *cls, *hooks[5];
    if (!PyArg_ParseTuple(args, "OOOOOO:install", &cls, &hooks[0], &hooks[1], &hooks[2], &hooks[3], &hooks[4]))
        return NULL;
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, mg_base_type)) {
        PyErr_SetString(PyExc_TypeError, "install: the class must be a subclass of ValueBase");
        return NULL;
    }
    PyObject **slots[] = {&mg_hook_real, &mg_hook_binary, &mg_hook_pow, &mg_hook_raise, &mg_hook_tag};
    /* The methods and getsets again, as cls's own: CPython calls a method descriptor inline
     * only on an instance of exactly the class that holds it (3.11 to 3.13's specializer),
     * and checks a getset's instance by a walk over its bases unless it is of that class. */
    for (PyMethodDef *m = value_methods; m->ml_name; m++) {
        PyObject *descr = PyDescr_NewMethod((PyTypeObject *)cls, m);
        int failed = !descr || PyObject_SetAttrString(cls, m->ml_name, descr);
        Py_XDECREF(descr);
        if (failed) return NULL;
    }
    for (PyGetSetDef *g = value_getset; g->name; g++) {
        PyObject *descr = PyDescr_NewGetSet((PyTypeObject *)cls, g);
        int failed = !descr || PyObject_SetAttrString(cls, g->name, descr);
        Py_XDECREF(descr);
        if (failed) return NULL;
    }
    for (int k = 0; k < 5; k++) mg_set_ref(slots[k], hooks[k]);
    mg_set_ref((PyObject **)&mg_value_type, cls);
    Py_RETURN_NONE;
}

/* pow_named(value, k, k1, tag): value ** k for a k Python names (tag), k1 = float(k - 1). */
static PyObject *glue_pow_named(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *self;
    double k, k1, tag;
    if (!PyArg_ParseTuple(args, "Oddd:pow_named", &self, &k, &k1, &tag)) return NULL;
    if (!mg_is_value(self)) return mg_type_error(PyExc_TypeError, "pow_named: not a Value: %U", self);
    mg_id a;
    mg_value *out = result_of(self, &a);
    return out ? finish(out, mg_build_named_pow(a, k, k1, tag), AS_VALUE(self)->below) : NULL;
}

PyMethodDef mg_value_functions[] = {
    {"install", glue_install_hooks, METH_VARARGS, "install(Value, real, binary, pow, raise_status, tag)"},
    {"pow_named", glue_pow_named, METH_VARARGS, "pow_named(value, k, k1, tag): value ** k, named by tag"},
    {NULL, NULL, 0, NULL},
};

int mg_value_type_make(PyObject *module) {
    int k = 0;
    for (int op = 0; op < MG_OP_COUNT; op++)
        if (mg_ops[op].method[0] && mg_ops[op].arity == 1)
            value_methods[k++] = (PyMethodDef){mg_ops[op].method, unary_fn[op], METH_NOARGS, NULL};
    value_methods[k] = (PyMethodDef){NULL, NULL, 0, NULL};
    PyObject *type = PyType_FromSpec(&value_spec);
    if (!type) return -1;
    mg_set_ref((PyObject **)&mg_base_type, type);
    mg_set_ref((PyObject **)&mg_value_type, type);
    if (PyModule_AddObject(module, "ValueBase", type)) {    /* steals type on success */
        Py_DECREF(type);
        return -1;
    }
    return 0;
}
