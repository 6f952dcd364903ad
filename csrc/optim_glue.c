/*
 * optim_glue.c: the optimizers' side of the Python type glue (micrograd_c/optim.py).
 *
 * A parameter set (ParamSet, the C base of optim.py's optimizers) holds the parameters'
 * Values, which keep their nodes live (so the nodes' blocks stay where they are, arena.c's
 * note 6), where each node's data and grad are, and the optimizer's settings and state.
 * step() and zero_grad() are its methods, each one C call over those. A step writes only the
 * nodes' data: a Value's data is read from its node (value.c), so a step makes no objects and
 * changes none.
 */
#include "glue.h"

#include "ops.h"
#include "optim.h"

#include <string.h>

enum {
    OPT_SGD,
    OPT_ADAM
};

typedef struct {
    uint32_t n;                 /* parameters */
    PyObject *values;           /* a tuple of the parameters' Values */
    double **data, **grad;      /* where each one's node keeps its data and grad */
    double **run;               /* the grads as runs of adjacent ones (nn's parameters are made
                                 * one after another): where each run starts, */
    uint32_t *run_len, nruns;   /* ... its length, and how many there are */
    double *m, *v;              /* state: SGD's momentum buffers; Adam's two moments */
    int64_t steps;              /* steps taken */
    uint64_t epoch;             /* mg_arena.epoch when data and grad were read */
    int kind;                   /* OPT_SGD or OPT_ADAM, as last configured */
    int buffers_begun;          /* SGD: a step with momentum has run */
    mg_sgd sgd;
    mg_adam adam;
} params_box;

static void params_free(params_box *box) {
    free(box->data);
    free(box->grad);
    free(box->run);
    free(box->run_len);
    free(box->m);
    free(box->v);
    Py_XDECREF(box->values);
    free(box);
}

/* Reads the parameters' nodes again, each a leaf's: 0, or -1 with TypeError or ValueError. */
static int read_params(params_box *box) {
    for (uint32_t i = 0; i < box->n; i++) {
        PyObject *o = PyTuple_GetItem(box->values, i);
        if (!mg_is_value(o)) {
            mg_type_error(PyExc_TypeError, "an optimizer takes Values as parameters, not %U", o);
            return -1;
        }
        mg_id id = AS_VALUE(o)->id;
        if (id < 0) return mg_unbound(o), -1;
        mg_block *b = mg_live_block(id);
        if (mg_op_at(b, MG_OFF(id)) != MG_LEAF) {
            PyErr_Format(PyExc_ValueError,
                         "parameter %u is not a leaf but the result of an op: an "
                         "optimizer updates leaves, the Values made as Value(x)",
                         (unsigned)i);
            return -1;
        }
        box->data[i] = &b->data[MG_OFF(id)];
        box->grad[i] = &b->grad[MG_OFF(id)];
    }
    box->nruns = 0;
    for (uint32_t i = 0; i < box->n; i++) {
        if (box->nruns && box->grad[i] == box->run[box->nruns - 1] + box->run_len[box->nruns - 1]) {
            box->run_len[box->nruns - 1]++;
        } else {
            box->run[box->nruns] = box->grad[i];
            box->run_len[box->nruns++] = 1;
        }
    }
    box->epoch = mg_arena.epoch;
    return 0;
}

/* A parameter set's state over the sequence values, with buffers (0, 1 or 2) state arrays of
 * zeros: NULL with an exception where it cannot be. */
static params_box *params_new(PyObject *values, int buffers) {
    params_box *box = calloc(1, sizeof *box);
    if (!box) return (params_box *)PyErr_NoMemory();
    if (!(box->values = PySequence_Tuple(values))) goto fail;
    Py_ssize_t n = PyTuple_Size(box->values);
    if (n > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "too many parameters");
        goto fail;
    }
    box->n = (uint32_t)n;
    size_t k = n ? (size_t)n : 1;
    if (!(box->data = malloc(k * sizeof(double *))) || !(box->grad = malloc(k * sizeof(double *)))
        || !(box->run = malloc(k * sizeof(double *))) || !(box->run_len = malloc(k * sizeof(uint32_t)))
        || (buffers > 0 && !(box->m = calloc(k, sizeof(double))))
        || (buffers > 1 && !(box->v = calloc(k, sizeof(double))))) {
        PyErr_NoMemory();
        goto fail;
    }
    if (read_params(box)) goto fail;
    return box;
fail:
    params_free(box);
    return NULL;
}

typedef struct {
    PyObject_HEAD
    params_box *box;            /* NULL until __init__ */
} params_object;

/* The state of parameter set self, its nodes current: NULL with an exception otherwise. */
static params_box *params_of(PyObject *self) {
    params_box *box = ((params_object *)self)->box;
    if (!box) {
        PyErr_SetString(PyExc_ValueError, "the optimizer has no parameters yet (its __init__ did not run)");
        return NULL;
    }
    if (box->epoch != mg_arena.epoch && read_params(box)) return NULL;  /* a Value changed node */
    return box;
}

/* _sgd(lr, momentum, dampening, weight_decay, nesterov): the settings of the steps to come */
static PyObject *params_sgd(PyObject *self, PyObject *args) {
    double lr, momentum, dampening, wd;
    int nesterov;
    if (!PyArg_ParseTuple(args, "ddddp:_sgd", &lr, &momentum, &dampening, &wd, &nesterov)) return NULL;
    params_box *box = params_of(self);
    if (!box) return NULL;
    if (momentum != 0.0 && !box->m) {
        PyErr_SetString(PyExc_ValueError, "_sgd: momentum needs a set with a buffer");
        return NULL;
    }
    box->kind = OPT_SGD;
    box->sgd = (mg_sgd){lr, momentum, dampening, wd, nesterov, 0};
    Py_RETURN_NONE;
}

/* _adam(lr, beta1, beta2, eps, weight_decay, decoupled): the settings of the steps to come */
static PyObject *params_adam(PyObject *self, PyObject *args) {
    double lr, beta1, beta2, eps, wd;
    int decoupled;
    if (!PyArg_ParseTuple(args, "dddddp:_adam", &lr, &beta1, &beta2, &eps, &wd, &decoupled)) return NULL;
    params_box *box = params_of(self);
    if (!box) return NULL;
    if (!box->v) {
        PyErr_SetString(PyExc_ValueError, "_adam: the set has no second moments");
        return NULL;
    }
    box->kind = OPT_ADAM;
    box->adam = (mg_adam){lr, beta1, beta2, eps, wd, decoupled, 0.0, 0.0};
    Py_RETURN_NONE;
}

/* step(): one step of the optimizer configured, over every parameter */
static PyObject *params_step(PyObject *self, PyObject *unused) {
    (void)unused;
    params_box *box = params_of(self);
    if (!box) return NULL;
    uint32_t n = box->n;
    double **data = box->data, **grad = box->grad, *m = box->m, *v = box->v;
    if (box->kind == OPT_SGD) {
        mg_sgd k = box->sgd;
        k.first = !box->buffers_begun;              /* torch: a buffer starts at its first use */
        if (k.momentum == 0.0 && k.wd == 0.0) {     /* plain SGD: the same update, with the */
            const mg_sgd plain = {k.lr, 0.0, 0.0, 0.0, 0, 0};   /* compiler folding its tests */
            double unused = 0.0;
            for (uint32_t i = 0; i < n; i++) *data[i] = mg_sgd_update(&plain, *data[i], *grad[i], &unused);
        } else {
            for (uint32_t i = 0; i < n; i++) {
                double buf = m ? m[i] : 0.0;
                *data[i] = mg_sgd_update(&k, *data[i], *grad[i], &buf);
                if (m) m[i] = buf;
            }
        }
        if (k.momentum != 0.0) box->buffers_begun = 1;
    } else {
        mg_adam k = box->adam;
        mg_adam_at(&k, (double)(box->steps + 1));
        for (uint32_t i = 0; i < n; i++) *data[i] = mg_adam_update(&k, *data[i], *grad[i], &m[i], &v[i]);
    }
    box->steps++;
    Py_RETURN_NONE;
}

/* zero_grad(): every parameter's grad = 0 */
static PyObject *params_zero_grad(PyObject *self, PyObject *unused) {
    (void)unused;
    params_box *box = params_of(self);
    if (!box) return NULL;
    for (uint32_t r = 0; r < box->nruns; r++)          /* 0.0 is all zero bits */
        memset(box->run[r], 0, box->run_len[r] * sizeof(double));
    Py_RETURN_NONE;
}

/* steps: the steps taken */
static PyObject *params_steps(PyObject *self, void *unused) {
    (void)unused;
    params_box *box = params_of(self);
    return box ? PyLong_FromLongLong(box->steps) : NULL;
}

// ----------------------------------------------------------------------------
// the type: ParamSet(values, buffers)

static int params_init(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"params", "buffers", NULL};
    PyObject *values;
    int buffers = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|i:ParamSet", kwlist, &values, &buffers)) return -1;
    params_box *box = params_new(values, buffers);
    if (!box) return -1;
    params_object *p = (params_object *)self;
    params_box *old = p->box;
    p->box = box;
    if (old) params_free(old);
    return 0;
}

static int params_traverse(PyObject *self, visitproc visit, void *arg) {
    params_box *box = ((params_object *)self)->box;
    if (box) Py_VISIT(box->values);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int params_clear(PyObject *self) {
    params_object *p = (params_object *)self;
    params_box *box = p->box;
    p->box = NULL;
    if (box) params_free(box);
    return 0;
}

static void params_dealloc(PyObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    params_clear(self);
    ((freefunc)PyType_GetSlot(type, Py_tp_free))(self);
    Py_DECREF(type);
}

static PyMethodDef params_methods[] = {
    {"step", params_step, METH_NOARGS, "One update of every parameter from its grad."},
    {"zero_grad", params_zero_grad, METH_NOARGS, "Every parameter's grad = 0."},
    {"_sgd", params_sgd, METH_VARARGS, "_sgd(lr, momentum, dampening, weight_decay, nesterov)"},
    {"_adam", params_adam, METH_VARARGS, "_adam(lr, beta1, beta2, eps, weight_decay, decoupled)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef params_getset[] = {
    {"steps", params_steps, NULL, "The steps taken.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot params_slots[] = {
    {Py_tp_doc, "The C half of micrograd_c.optim's optimizers: their parameters, state and steps."},
    {Py_tp_new, (void *)PyType_GenericNew},
    {Py_tp_init, (void *)params_init},
    {Py_tp_dealloc, (void *)params_dealloc},
    {Py_tp_traverse, (void *)params_traverse},
    {Py_tp_clear, (void *)params_clear},
    {Py_tp_methods, params_methods},
    {Py_tp_getset, params_getset},
    {0, NULL},
};

static PyType_Spec params_spec = {
    "micrograd_c._core.ParamSet",
    sizeof(params_object),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    params_slots,
};

/* Puts ParamSet on the module: 0, or -1 with an exception. */
int mg_optim_install(PyObject *module) {
    PyObject *type = PyType_FromSpec(&params_spec);
    if (!type) return -1;
    if (PyModule_AddObject(module, "ParamSet", type)) {     /* steals type on success */
        Py_DECREF(type);
        return -1;
    }
    return 0;
}
