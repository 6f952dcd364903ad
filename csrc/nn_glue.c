/*
 * nn_glue.c: an nn plan (micrograd_c/_plan.py), the glue's side: a plan holds its parameters'
 * node ids, layer by layer (nn.h), and the Values that keep those nodes; a call makes the
 * whole forward in one C call (nn.c) and gives its outputs their Values. The protocol is
 * micrograd_c/_plan.py's numbered invariants; this file keeps 6 (ids, epoch) and 7 (inputs).
 */
#include "glue.h"

#include "nn.h"
#include "ops.h"

/* An nn plan: the mg_net, its id arrays, and the Values that keep its parameters' nodes. */
typedef struct {
    mg_net net;
    int as_list;                /* the call returns a list (else the Value itself) */
    PyObject *params;           /* a tuple of the parameter Values */
} net_box;

#define NET_CAPSULE "micrograd_c._core.net"

static void net_free(net_box *box) {
    for (uint32_t l = 0; box->net.layers && l < box->net.nlayers; l++) {
        free(box->net.layers[l].w);
        free(box->net.layers[l].b);
        free(box->net.layers[l].nonlin);
    }
    free(box->net.layers);
    Py_XDECREF(box->params);
    free(box);
}

static void net_capsule_free(PyObject *capsule) { net_free(PyCapsule_GetPointer(capsule, NET_CAPSULE)); }

/* The id of Value o, for a plan: -1 with an exception if o is not a Value with a node. */
static mg_id param_id(PyObject *o) {
    if (!mg_is_value(o)) {
        mg_type_error(PyExc_TypeError, "an nn plan takes Values, not %U", o);
        return -1;
    }
    if (AS_VALUE(o)->id < 0) mg_unbound(o);
    return AS_VALUE(o)->id;
}

/* net_new(layers, as_list): layers is a list of (weights, biases, ends), weights a list of
 * nout * nin Values neuron after neuron, biases nout Values, ends the op each neuron ends with
 * (0 for none). */
static PyObject *glue_net_new(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *layers, *params = NULL;
    int as_list;
    if (!PyArg_ParseTuple(args, "Op:net_new", &layers, &as_list)) return NULL;
    Py_ssize_t nl = PyList_Check(layers) ? PyList_Size(layers) : -1;
    if (nl <= 0) {
        PyErr_SetString(PyExc_ValueError, "net_new: layers must be a non-empty list");
        return NULL;
    }
    net_box *box = calloc(1, sizeof *box);
    if (!box || !(box->net.layers = calloc((size_t)nl, sizeof(mg_layer))) || !(params = PyList_New(0))) {
        if (box) net_free(box);
        return PyErr_NoMemory();
    }
    box->net.nlayers = (uint32_t)nl;
    box->as_list = as_list;
    for (Py_ssize_t l = 0; l < nl; l++) {
        PyObject *spec = PyList_GetItem(layers, l), *w, *b, *nonlin;
        if (!PyArg_ParseTuple(spec, "OOO:net_new layer", &w, &b, &nonlin)) goto fail;
        Py_ssize_t nw = PyList_Check(w) ? PyList_Size(w) : -1, nb = PyList_Check(b) ? PyList_Size(b) : -1;
        if (nb <= 0 || nw <= 0 || nw % nb || !PyList_Check(nonlin) || PyList_Size(nonlin) != nb) {
            PyErr_SetString(PyExc_ValueError,
                            "net_new: a layer needs nout * nin weights, nout biases and ends");
            goto fail;
        }
        mg_layer *L = &box->net.layers[l];
        L->nout = (uint32_t)nb;
        L->nin = (uint32_t)(nw / nb);
        L->w = malloc((size_t)nw * sizeof(mg_id));
        L->b = malloc((size_t)nb * sizeof(mg_id));
        L->nonlin = malloc((size_t)nb);
        if (!L->w || !L->b || !L->nonlin) {
            PyErr_NoMemory();
            goto fail;
        }
        for (Py_ssize_t i = 0; i < nw + nb; i++) {
            PyObject *p = i < nw ? PyList_GetItem(w, i) : PyList_GetItem(b, i - nw);
            mg_id id = param_id(p);
            if (id < 0 || PyList_Append(params, p)) goto fail;
            if (i < nw)
                L->w[i] = id;
            else
                L->b[i - nw] = id;
        }
        for (Py_ssize_t j = 0; j < nb; j++) {
            long op = PyLong_AsLong(PyList_GetItem(nonlin, j));
            if (op == -1 && PyErr_Occurred()) goto fail;
            if (op && (op < 0 || op >= MG_OP_COUNT || mg_ops[op].arity != 1 || !mg_op_descs[op].method[0])) {
                PyErr_SetString(PyExc_ValueError,
                                "net_new: a neuron ends with 0 or a unary op with a method");
                goto fail;
            }
            L->nonlin[j] = (uint8_t)op;
        }
    }
    /* invariant 6: the ids above were read with Python running in between (PyList_Append,
     * truth tests), so an epoch taken now could miss a change; read them again after it */
    box->net.epoch = mg_arena.epoch;
    for (uint32_t l = 0, at = 0; l < box->net.nlayers; l++) {
        mg_layer *L = &box->net.layers[l];
        for (uint32_t i = 0; i < L->nout * L->nin + L->nout; i++, at++) {
            mg_id id = AS_VALUE(PyList_GetItem(params, at))->id;
            if (i < L->nout * L->nin)
                L->w[i] = id;
            else
                L->b[i - L->nout * L->nin] = id;
        }
    }
    if (mg_net_check(&box->net)) {
        PyErr_SetString(PyExc_ValueError, "net_new: the layers do not chain");
        goto fail;
    }
    box->params = PyList_AsTuple(params);
    Py_CLEAR(params);
    if (!box->params) goto fail;
    PyObject *capsule = PyCapsule_New(box, NET_CAPSULE, net_capsule_free);
    if (!capsule) net_free(box);
    return capsule;
fail:
    Py_XDECREF(params);
    net_free(box);
    return NULL;
}

/* net_call(plan, x): the plan's output on inputs x (a list or tuple of Values and floats,
 * ints or bools); NotImplemented for inputs it does not take (micrograd's own path runs);
 * None when the plan is stale (a parameter changed node: make it again). */
static PyObject *glue_net_call(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *capsule, *x, *result = NULL;
    if (!PyArg_ParseTuple(args, "OO:net_call", &capsule, &x)) return NULL;
    if (!PyCapsule_IsValid(capsule, NET_CAPSULE))
        return mg_type_error(PyExc_TypeError, "net_call: not an nn plan: %U", capsule);
    net_box *box = PyCapsule_GetPointer(capsule, NET_CAPSULE);
    int is_list = PyList_CheckExact(x), is_tuple = PyTuple_CheckExact(x);
    Py_ssize_t nx = is_list ? PyList_Size(x) : is_tuple ? PyTuple_Size(x) : 0;
    if (nx <= 0) Py_RETURN_NOTIMPLEMENTED;
    const mg_layer *first = &box->net.layers[0], *last = &box->net.layers[box->net.nlayers - 1];
    uint32_t m = nx < (Py_ssize_t)first->nin ? (uint32_t)nx : first->nin, nout = last->nout;

    enum {
        SMALL = 64
    };
    mg_id ids_small[SMALL], outs_small[SMALL];
    double nums_small[SMALL];
    mg_value *vals_small[SMALL];
    mg_id *ids = m <= SMALL ? ids_small : malloc(m * sizeof *ids);
    double *nums = m <= SMALL ? nums_small : malloc(m * sizeof *nums);
    mg_id *outs = nout <= SMALL ? outs_small : malloc(nout * sizeof *outs);
    mg_value **vals = nout <= SMALL ? vals_small : calloc(nout, sizeof *vals);
    uint32_t made = 0;
    if (!ids || !nums || !outs || !vals) {
        PyErr_NoMemory();
        goto done;
    }
    for (; made < nout; made++)         /* the Values first: allocating can run Python */
        if (!(vals[made] = mg_new_value())) goto done;
    int with_numbers = 0;
    for (uint32_t i = 0; i < m; i++) {  /* then the inputs, with no Python until the nodes are made */
        PyObject *o = is_list ? PyList_GetItem(x, i) : PyTuple_GetItem(x, i);
        if (!o) goto fallback;          /* the list got shorter meanwhile */
        if (Py_TYPE(o) == mg_value_type) { /* a subclass may have its own __rmul__: the fold's */
            if ((ids[i] = AS_VALUE(o)->id) < 0 || AS_VALUE(o)->below) goto fallback;
            continue;                   /* (with a Python backward below, every node needs its
                                         * Value: micrograd's fold makes them) */
        }
        if (mg_plain_number(o, &nums[i]) <= 0) goto fallback;
        ids[i] = -1;
        with_numbers = 1;
    }
    mg_id first_out = mg_net_forward(&box->net, ids, with_numbers ? nums : NULL, m, outs);
    if (first_out == MG_ERR(MG_STALE)) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    if (!mg_built(first_out)) goto done;
    for (uint32_t j = 0; j < nout; j++) mg_attach(vals[j], outs[j]);
    if (!box->as_list) {
        result = (PyObject *)vals[0];
        vals[0] = NULL;
        goto done;
    }
    if (!(result = PyList_New(nout))) goto done;
    for (uint32_t j = 0; j < nout; j++) {
        PyList_SetItem(result, j, (PyObject *)vals[j]);     /* steals it */
        vals[j] = NULL;
    }
    goto done;
fallback:
    PyErr_Clear();
    result = Py_NotImplemented;
    Py_INCREF(result);
done:
    for (uint32_t j = 0; j < made; j++) Py_XDECREF(vals[j]);
    if (ids != ids_small) free(ids);
    if (nums != nums_small) free(nums);
    if (outs != outs_small) free(outs);
    if (vals != vals_small) free(vals);
    return result;
}

PyMethodDef mg_nn_functions[] = {
    {"net_new", glue_net_new, METH_VARARGS, "net_new(layers, as_list): an nn plan"},
    {"net_call", glue_net_call, METH_VARARGS, "net_call(plan, x): the plan's output, NotImplemented or None"},
    {NULL, NULL, 0, NULL},
};
