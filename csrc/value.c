/*
 * value.c: Value's C base type, ValueBase (glue.h says where the glue's other parts are).
 * Its storage (the node id, its children's Values once asked for, weak references; data and
 * grad are read from the arena), its operators and methods (+, *, ** by a number, and what
 * else the op table, csrc/ops.h, gives), Value(x), and _prev.
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

#include <string.h>

PyTypeObject *mg_base_type, *mg_value_type;
// ----------------------------------------------------------------------------
// making Values

/* A Value of type without a node: a kept one (recycle.c), or new. */
static mg_value *alloc_value(PyTypeObject *type) {
    mg_value *v = type == mg_value_type ? mg_reuse() : NULL;
    if (!v) v = (mg_value *)PyType_GenericAlloc(type, 0);
    if (v) v->id = -1, v->nkids = -1, v->below = 0;
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
PyObject *mg_finish(mg_value *out, mg_id id, int below) {
    if (!mg_built(id)) {
        Py_DECREF(out);
        return NULL;
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
int mg_real(PyObject *o, double *x) {
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
mg_value *mg_result_of(PyObject *self, mg_id *a) {
    mg_value *out = mg_new_value();
    if (!out) return NULL;
    if ((*a = AS_VALUE(self)->id) < 0) {
        Py_DECREF(out);
        mg_unbound(self);
        return NULL;
    }
    return out;
}

/* l op r for a binary op, either operand the Value: a Value, float, int or bool operand is
 * built here; any other goes to Python. With value_first, as micrograd's __add__ and __radd__,
 * both orders build self op other, the Value first; else the operands stay as written. */
static inline PyObject *binary(int op, int value_first, PyObject *l, PyObject *r) {
    PyObject *self = mg_is_value(l) ? l : r, *other = self == l ? r : l;
    int with_value = mg_is_value(other);
    double k = 0.0;
    if (!with_value) {                  /* a float subclass too (NumPy's float64), as real() */
        int number = PyFloat_Check(other) ? mg_real(other, &k) : mg_plain_number(other, &k);
        if (number < 0) return NULL;
        if (!number) return PyObject_CallFunction(mg_hook_binary, "iOOi", op, self, other, self == r);
    }
    mg_id a, b = 0;
    mg_value *out = mg_result_of(self, &a);
    if (!out) return NULL;
    if (with_value && (b = AS_VALUE(other)->id) < 0) {
        Py_DECREF(out);
        return mg_unbound(other);
    }
    int below = AS_VALUE(self)->below | (with_value && AS_VALUE(other)->below);
    mg_id id = with_value                  ? mg_build(op, a, b, 0.0)
               : !value_first && self == r ? mg_build_k_first(op, k, a)
                                           : mg_build_k(op, a, k);
    return mg_finish(out, id, below);
}

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
    mg_value *out = mg_result_of(self, &a);
    return out ? mg_finish(out, mg_build(op, a, -1, e), AS_VALUE(self)->below) : NULL;
}

static PyObject *unary(PyObject *self, int op) {
    mg_id a;
    mg_value *out = mg_result_of(self, &a);
    return out ? mg_finish(out, mg_build(op, a, -1, 0.0), AS_VALUE(self)->below) : NULL;
}

/* Each row's op as a method (unary: METH_NOARGS; binary: METH_O, which is also a number
 * slot's signature), made for every row, so that the table alone decides which Value has. */
#define MG_OP_FUNCTIONS(ID, NAME, METHOD, SYMBOL, ARITY, ORDER, ...)                                         \
    static PyObject *unary_##ID(PyObject *self, PyObject *unused) {                                          \
        (void)unused;                                                                                        \
        return unary(self, MG_##ID);                                                                         \
    }                                                                                                        \
    static PyObject *binary_##ID(PyObject *l, PyObject *r) {                                                 \
        return binary(MG_##ID, ORDER == MG_VALUE_FIRST, l, r);                                               \
    }
MG_OP_TABLE(MG_OP_FUNCTIONS)
#define MG_UNARY_ENTRY(ID, ...) unary_##ID,
#define MG_BINARY_ENTRY(ID, ...) binary_##ID,
static const PyCFunction unary_fn[MG_OP_COUNT] = {MG_OP_TABLE(MG_UNARY_ENTRY)};
static const binaryfunc binary_fn[MG_OP_COUNT] = {MG_OP_TABLE(MG_BINARY_ENTRY)};

/* The number slots a binary op's SYMBOL can take. */
static const struct {
    const char *symbol;
    int slot;
} number_slots[] = {
    {"+", Py_nb_add},
    {"-", Py_nb_subtract},
    {"*", Py_nb_multiply},
    {"/", Py_nb_true_divide},
};

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
            PyErr_SetString(PyExc_ValueError,
                            "micrograd_c: a hand-built Value takes at most two distinct children");
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
    } else if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OOO:Value", kwlist, &data, &children, &op,
                                            &label)) {
        return -1;
    }
    double x;
    if (mg_real(data, &x) < 0) return -1;
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
    if (!mg_built(id)) return -1;
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
    if (!mg_recycle(v)) ((freefunc)PyType_GetSlot(type, Py_tp_free))(self);
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
    if (mg_real(value, &x) < 0) return -1;
    mg_value *v = AS_VALUE(self);
    if (v->id < 0) {                    /* a leaf of this data, or of 0.0 under this grad */
        mg_id id = mg_build_leaf(grad ? 0.0 : x);
        if (!mg_built(id)) return -1;
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

static PyObject *name_data, *name_grad;     /* "data" and "grad", interned as code's names are */

/* v.data = x and v.grad = x straight to the node, for engine.Value itself with a node and a
 * float, int or bool x; anything else takes Python's own path. Still twice a plain attribute's
 * cost (219 instructions, 104): CPython specializes only a store into a dict or an object slot,
 * so this one comes through PyObject_SetAttr, which is most of it. */
static int value_setattro(PyObject *self, PyObject *name, PyObject *value) {
    int grad = name == name_grad;
    double x;
    if ((grad || name == name_data) && value && Py_TYPE(self) == mg_value_type && AS_VALUE(self)->id >= 0
        && mg_plain_number(value, &x) > 0) {
        mg_id n = AS_VALUE(self)->id;
        mg_block *b = mg_live_block(n);
        (grad ? b->grad : b->data)[MG_OFF(n)] = x;
        return 0;
    }
    PyErr_Clear();                          /* an int too large for a float: the path below says so */
    return PyObject_GenericSetAttr(self, name, value);
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
    PyObject *kids[2], *set = PySet_New(NULL);  /* first: allocating it can run Python */
    int count = set ? children_of(self, kids) : -1;
    if (count < 0) Py_CLEAR(set);
    for (int k = 0; k < count; k++) {
        if (set && PySet_Add(set, kids[k])) Py_CLEAR(set);
        Py_DECREF(kids[k]);
    }
    return set;
}

PyGetSetDef mg_value_getset[] = {
    {"_prev", get_prev, NULL, "A set of this node's children's Values: the same objects on every access.",
     NULL},
    {"data", get_data, set_data, "The node's value: a float.", NULL},
    {"grad", get_grad, set_grad, "d(root)/d(node) after root.backward(): a float.", NULL},
    {"_id", get_id, NULL, "The node's id in the C arena.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef value_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(mg_value, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

/* The table's methods (filled in by mg_value_type_make) and the end marker. */
PyMethodDef mg_value_methods[MG_OP_COUNT + 1];

#define BASE_SLOTS 14
/* The type's slots, then the table's operators (mg_value_type_make), then the end marker. */
static PyType_Slot value_slots[BASE_SLOTS + MG_OP_COUNT + 1] = {
    {Py_tp_doc, "The C half of micrograd_c's Value: a node of the arena and its hot operators."},
    {Py_tp_new, (void *)value_new},
    {Py_tp_init, (void *)value_init},
    {Py_tp_dealloc, (void *)value_dealloc},
    {Py_tp_traverse, (void *)value_traverse},
    {Py_tp_clear, (void *)value_clear},
    {Py_tp_getset, mg_value_getset},
    {Py_tp_setattro, (void *)value_setattro},
    {Py_tp_members, value_members},
    {Py_tp_methods, mg_value_methods},
    {Py_nb_power, (void *)value_pow},
    {Py_nb_negative, (void *)mg_value_neg},
    {Py_nb_subtract, (void *)mg_value_sub},
    {Py_nb_true_divide, (void *)mg_value_div},
};

static PyType_Spec value_spec = {
    "micrograd_c._core.ValueBase",
    sizeof(mg_value),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    value_slots,
};

// ----------------------------------------------------------------------------
// functions on the _core module, for engine.py and _pypath.py

/* pow_named(value, k, k1, tag): value ** k for a k Python names (tag), k1 = float(k - 1). */
static PyObject *glue_pow_named(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *self;
    double k, k1, tag;
    if (!PyArg_ParseTuple(args, "Oddd:pow_named", &self, &k, &k1, &tag)) return NULL;
    if (!mg_is_value(self)) return mg_type_error(PyExc_TypeError, "pow_named: not a Value: %U", self);
    mg_id a;
    mg_value *out = mg_result_of(self, &a);
    return out ? mg_finish(out, mg_build_named_pow(a, k, k1, tag), AS_VALUE(self)->below) : NULL;
}

PyMethodDef mg_value_functions[] = {
    {"pow_named", glue_pow_named, METH_VARARGS, "pow_named(value, k, k1, tag): value ** k, named by tag"},
    {NULL, NULL, 0, NULL},
};

/* Row op's operator as a number slot of ValueBase, at *n of value_slots; -1 with ImportError
 * for an operator no slot takes, or one taken (by another row, or by micrograd's - and /). */
static int add_number_slot(int op, int *n) {
    for (size_t k = 0; k < sizeof number_slots / sizeof number_slots[0]; k++) {
        if (strcmp(mg_op_descs[op].symbol, number_slots[k].symbol)) continue;
        for (int i = 0; i < *n; i++)
            if (value_slots[i].slot == number_slots[k].slot) goto taken;
        value_slots[(*n)++] = (PyType_Slot){number_slots[k].slot, (void *)binary_fn[op]};
        return 0;
    }
taken:
    PyErr_Format(PyExc_ImportError,
                 "op table row %s: operator '%s' is not one a row can take (+ or *, or another row's)",
                 mg_op_descs[op].key, mg_op_descs[op].symbol);
    return -1;
}

/* Value's methods and operators from the op table: a unary op's METHOD, a binary op's METHOD
 * and SYMBOL. A row that builds (it has a forward) but that no method or operator reaches,
 * other than the pows ** makes, is an error, as is a method on a row that does not build. */
static int from_table(void) {
    int nmethods = 0, nslots = BASE_SLOTS;
    for (int op = 0; op < MG_OP_COUNT; op++) {
        const mg_op_desc *d = &mg_op_descs[op];
        int builds = mg_ops[op].forward != NULL, binary = d->arity == 2;
        if ((d->method[0] || d->symbol[0]) && (!builds || d->arity < 1 || (d->symbol[0] && !binary))) {
            PyErr_Format(PyExc_ImportError,
                         "op table row %s: a method needs a FORWARD, an operator a binary op", d->key);
            return -1;
        }
        if (d->activation[0] && (d->arity != 1 || !d->method[0])) {
            PyErr_Format(PyExc_ImportError, "op table row %s: an activation is a unary op with a METHOD",
                         d->key);
            return -1;
        }
        if (binary && builds && !d->method[0] && !d->symbol[0]) {
            PyErr_Format(PyExc_ImportError, "op table row %s: a binary op needs a METHOD or a SYMBOL",
                         d->key);
            return -1;
        }
        if (d->method[0])
            mg_value_methods[nmethods++] = binary ? (PyMethodDef){d->method, binary_fn[op], METH_O, NULL}
                                                  : (PyMethodDef){d->method, unary_fn[op], METH_NOARGS, NULL};
        if (d->symbol[0] && add_number_slot(op, &nslots)) return -1;
    }
    mg_value_methods[nmethods] = (PyMethodDef){NULL, NULL, 0, NULL};
    value_slots[nslots] = (PyType_Slot){0, NULL};
    return 0;
}

int mg_value_type_make(PyObject *module) {
    if (from_table()) return -1;
    if (!name_data && !(name_data = PyUnicode_InternFromString("data"))) return -1;
    if (!name_grad && !(name_grad = PyUnicode_InternFromString("grad"))) return -1;
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
