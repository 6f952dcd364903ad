/*
 * ops.h: each op's forward and local backward, side by side, and the op table's shape.
 *
 * An op is a row of mg_ops[] (ops.c) and a pair of functions here: the forward returns an
 * mg_status and writes the value; the backward adds its local derivatives, times the node's
 * grad g, into its operands' grads (always +=). Floating point follows Python's float to the
 * bit: the same libm calls, CPython's special cases for pow, no FMA contraction (the build
 * passes -ffp-contract=off), so `g += a * b` rounds twice, as Python does.
 *
 * Adding an op: its line in enum mg_op (micrograd.h), its pair here, its row in ops.c (the
 * static assert there fails until the row is in); a unary op with a method name in its row
 * becomes that method of Value (value.c), and its tests come from the table.
 */
#ifndef MG_OPS_H
#define MG_OPS_H
#include "arena.h"

#include <math.h>

/* One operand's data and grad, as a backward rule sees them. */
typedef struct { double *data, *grad; } mg_ref;

typedef int (*mg_forward_fn)(double a, double b, double aux, double *out);
typedef int (*mg_backward_fn)(double g, double out, double aux, mg_ref a, mg_ref b);

typedef struct {
    const char *name;           /* micrograd's _op; "" for a leaf and where Python spells it */
    const char *method;         /* the Value method that makes the op (a unary op), or "" */
    int arity;                  /* operands: the children _prev shows */
    mg_forward_fn forward;      /* NULL: built another way (a leaf, a custom node) */
    mg_backward_fn backward;    /* NULL: no local derivative */
} mg_op_info;

extern const mg_op_info mg_ops[];      /* MG_OP_COUNT rows (unsized here, so ops.c can assert it) */

/* A backward sweep that can stop for Python: root.grad = 1, then += into everything it
 * reaches, node by node down the arena (design notes 1 and 11 in arena.c). */
typedef struct {
    uint32_t pos;               /* the block being swept (its index in mg_arena.order) */
    uint32_t i;                 /* its nodes below this one are still to be looked at */
    int status;                 /* the first status a rule returned */
    mg_id stopped;              /* the MG_OP_PY node whose Python rule is due */
} mg_sweep_t;

/* Starts a sweep from root: MG_OK, MG_BADID, or MG_BUSY while another one is stopped. */
int mg_sweep_begin(mg_sweep_t *s, mg_id root);
/* Runs the sweep on: MG_PYTHON when it stops at s->stopped (its children marked, its rule
 * not run: the caller runs it, then calls this again); else it is over, and returns the
 * first status a rule returned. Pointers to blocks are read again at each call. */
int mg_sweep(mg_sweep_t *s);
/* Ends a stopped sweep without going on: its marks cleared, grads as they are. */
void mg_sweep_abort(mg_sweep_t *s);

/* x ** k with Python float semantics (CPython's float_pow): a status and the result. */
int mg_py_pow(double x, double k, double *out);

/* a + b;  da += g, db += g */
static inline int mg_add_forward(double a, double b, double aux, double *out) {
    (void)aux;
    *out = a + b;
    return MG_OK;
}
static inline int mg_add_backward(double g, double out, double aux, mg_ref a, mg_ref b) {
    (void)out, (void)aux;
    *a.grad += g;
    *b.grad += g;
    return MG_OK;
}

/* a * b;  da += b * g, db += a * g (both products before either store: a may be b) */
static inline int mg_mul_forward(double a, double b, double aux, double *out) {
    (void)aux;
    *out = a * b;
    return MG_OK;
}
static inline int mg_mul_backward(double g, double out, double aux, mg_ref a, mg_ref b) {
    (void)out, (void)aux;
    double da = *b.data * g, db = *a.data * g;
    *a.grad += da;
    *b.grad += db;
    return MG_OK;
}

/* a ** k (k = aux);  da += (k * a**(k - 1)) * g, with k - 1 taken on k: exact for the ints
 * and floats an int-or-float pow holds; a named pow's hidden operand b holds float(k - 1) */
static inline int mg_pow_forward(double a, double b, double k, double *out) {
    (void)b;
    return mg_py_pow(a, k, out);
}
static inline int mg_pow_rule(double g, double k, double k1, mg_ref a) {
    double p;
    int st = mg_py_pow(*a.data, k1, &p);
    if (st == MG_OK) *a.grad += (k * p) * g;
    return st;
}
static inline int mg_pow_backward(double g, double out, double k, mg_ref a, mg_ref b) {
    (void)out, (void)b;
    return mg_pow_rule(g, k, k - 1.0, a);
}
static inline int mg_pow_named_backward(double g, double out, double k, mg_ref a, mg_ref b) {
    (void)out;
    return mg_pow_rule(g, k, *b.data, a);
}

/* relu(a) = 0 if a < 0 else a;  da += (out > 0) * g */
static inline int mg_relu_forward(double a, double b, double aux, double *out) {
    (void)b, (void)aux;
    *out = a < 0.0 ? 0.0 : a;
    return MG_OK;
}
static inline int mg_relu_backward(double g, double out, double aux, mg_ref a, mg_ref b) {
    (void)aux, (void)b;
    *a.grad += (double)(out > 0.0) * g;
    return MG_OK;
}

/* tanh(a), as math.tanh;  da += (1 - out**2) * g */
static inline int mg_tanh_forward(double a, double b, double aux, double *out) {
    (void)b, (void)aux;
    *out = tanh(a);
    return MG_OK;
}
static inline int mg_tanh_backward(double g, double out, double aux, mg_ref a, mg_ref b) {
    (void)aux, (void)b;
    *a.grad += (1.0 - out * out) * g;
    return MG_OK;
}

/* exp(a), OverflowError as math.exp;  da += out * g */
static inline int mg_exp_forward(double a, double b, double aux, double *out) {
    (void)b, (void)aux;
    *out = exp(a);
    return isinf(*out) && isfinite(a) ? MG_OVERFLOW : MG_OK;
}
static inline int mg_exp_backward(double g, double out, double aux, mg_ref a, mg_ref b) {
    (void)aux, (void)b;
    *a.grad += out * g;
    return MG_OK;
}

/* sigmoid(a) = 1 / (1 + exp(-a)) for a >= 0, else e / (1 + e) with e = exp(a): exp only ever
 * sees a number <= 0, so nothing overflows (+-inf give 1.0 and 0.0), and NaN, which is not
 * >= 0, gives NaN;  da += (out * (1 - out)) * g */
static inline int mg_sigmoid_forward(double a, double b, double aux, double *out) {
    (void)b, (void)aux;
    if (a >= 0.0) {
        *out = 1.0 / (1.0 + exp(-a));
    } else {
        double e = exp(a);
        *out = e / (1.0 + e);
    }
    return MG_OK;
}
static inline int mg_sigmoid_backward(double g, double out, double aux, mg_ref a, mg_ref b) {
    (void)aux, (void)b;
    *a.grad += (out * (1.0 - out)) * g;
    return MG_OK;
}

/* log(a), as math.log: ValueError for a <= 0 (-0.0 and -inf too), log(inf) = inf, and NaN, not
 * <= 0, gives NaN;  da += g / a */
static inline int mg_log_forward(double a, double b, double aux, double *out) {
    (void)b, (void)aux;
    if (a <= 0.0) return MG_LOG_DOMAIN;
    *out = log(a);
    return MG_OK;
}
static inline int mg_log_backward(double g, double out, double aux, mg_ref a, mg_ref b) {
    (void)out, (void)aux, (void)b;
    *a.grad += g / *a.data;
    return MG_OK;
}

/* --- building: each appends its nodes and returns the id of the last, or MG_ERR(status).
 * Operands are live ids that have a Value (they stay live through the call's collection);
 * nothing here runs Python. */
mg_id mg_build_leaf(double x);
mg_id mg_build(int op, mg_id a, mg_id b, double aux);          /* b: -1 for a unary op */
mg_id mg_build_k(int op, mg_id a, double k);                   /* a op k: k's leaf, then the node */
mg_id mg_build_named_pow(mg_id a, double k, double k1, double tag);
mg_id mg_build_custom(double x, mg_id a, mg_id b, double tag); /* a, b: children or -1 */

#endif
