/*
 * ops.h: the op table, and each op's forward and local backward, side by side.
 *
 * MG_OP_TABLE is the one list of ops: a row per op, from which enum mg_op, the table ops.c
 * keeps (mg_ops[], and mg_op_descs[] that Python reads), Value's methods and operators
 * (value.c), nn's activations, the type stubs' check and the tests all follow. An op is its
 * row and its pair of functions here: the forward returns an mg_status and writes the value;
 * the backward adds its local derivatives, times the node's grad g, into its operands' grads
 * (always +=). Floating point follows Python's float to the bit: the same libm calls,
 * CPython's special cases for pow, no FMA contraction (the build passes -ffp-contract=off),
 * so `g += a * b` rounds twice, as Python does.
 *
 * Each pair opens with MG_ROW_OF(ID), which does not compile without the op's row, so a row
 * deleted or renamed fails the build, as does a row whose pair is missing. CONTRIBUTING.md
 * walks through adding an op.
 */
#ifndef MG_OPS_H
#define MG_OPS_H
#include "arena.h"

#include <math.h>

/* The columns of a row:
 *   ID        enum mg_op's name, after MG_
 *   NAME      micrograd's _op; "" for a leaf and where Python spells it out (pow, custom)
 *   METHOD    the Value method that makes the op (a.relu(), a.atan2(b)), or ""
 *   SYMBOL    a binary op's Python operator ("+", "-", "*", "/"), wired to Value's number slot
 *   ARITY     operands: the children _prev shows
 *   ORDER     a binary op's operands: MG_VALUE_FIRST, micrograd's `k + v`, which builds v + k
 *             (right for an op that commutes, and only for one), or MG_AS_WRITTEN
 *   ACT       nn's name for the op as a neuron's activation ("ReLU": ReLUNeuron), or ""
 *   FORWARD, BACKWARD   its pair below; NULL for a node built another way, or no derivative
 */
// clang-format off
#define MG_OP_TABLE(X) \
    /* ID          NAME       METHOD     SYMBOL ARITY ORDER           ACT        FORWARD              BACKWARD */ \
    X(LEAF,        "",        "",        "",    0,    MG_AS_WRITTEN,  "",        NULL,                NULL)                   \
    X(ADD,         "+",       "",        "+",   2,    MG_VALUE_FIRST, "",        mg_add_forward,      mg_add_backward)        \
    X(MUL,         "*",       "",        "*",   2,    MG_VALUE_FIRST, "",        mg_mul_forward,      mg_mul_backward)        \
    X(POW_INT,     "",        "",        "",    1,    MG_AS_WRITTEN,  "",        mg_pow_forward,      mg_pow_backward)        \
    X(POW_FLOAT,   "",        "",        "",    1,    MG_AS_WRITTEN,  "",        mg_pow_forward,      mg_pow_backward)        \
    X(POW_NAMED,   "",        "",        "",    1,    MG_AS_WRITTEN,  "",        mg_pow_forward,      mg_pow_named_backward)  \
    X(RELU,        "ReLU",    "relu",    "",    1,    MG_AS_WRITTEN,  "ReLU",    mg_relu_forward,     mg_relu_backward)       \
    X(TANH,        "tanh",    "tanh",    "",    1,    MG_AS_WRITTEN,  "Tanh",    mg_tanh_forward,     mg_tanh_backward)       \
    X(EXP,         "exp",     "exp",     "",    1,    MG_AS_WRITTEN,  "",        mg_exp_forward,      mg_exp_backward)        \
    X(SIGMOID,     "sigmoid", "sigmoid", "",    1,    MG_AS_WRITTEN,  "Sigmoid", mg_sigmoid_forward,  mg_sigmoid_backward)    \
    X(LOG,         "log",     "log",     "",    1,    MG_AS_WRITTEN,  "",        mg_log_forward,      mg_log_backward)        \
    X(CUSTOM,      "",        "",        "",    2,    MG_AS_WRITTEN,  "",        NULL,                NULL)
// clang-format on

/* The rows' kinds of leaf, pow and custom nodes: the unnamed ones Python names (_pypath.py):
 *   LEAF       a number: Value(x)
 *   POW_INT    a ** k for an int k that a float holds exactly: _op '**2'
 *   POW_FLOAT  a ** k for a float k: _op '**2.0'
 *   POW_NAMED  a ** k for any other k: a hidden leaf child holds float(k - 1)
 *   CUSTOM     Value(x, children, op) built by hand: edges, no local derivative */

#define MG_ENUM_ROW(ID, ...) MG_##ID,
enum mg_op {
    MG_OP_TABLE(MG_ENUM_ROW) MG_OP_COUNT
};
#undef MG_ENUM_ROW
_Static_assert(MG_OP_COUNT <= MG_OP_MASK + 1, "an op must fit the node's op byte beside MG_OP_PY");
_Static_assert(MG_LEAF == 0, "a leaf is op 0");

enum mg_order {
    MG_AS_WRITTEN,
    MG_VALUE_FIRST
};

/* A compile-time check that op ID has its row: the opening line of its pair. */
#define MG_ROW_OF(ID) _Static_assert(MG_##ID < MG_OP_COUNT, "an op's pair needs its row in MG_OP_TABLE")

/* One operand's data and grad, as a backward rule sees them. */
typedef struct {
    double *data, *grad;
} mg_ref;

typedef int (*mg_forward_fn)(double a, double b, double aux, double *out);
typedef int (*mg_backward_fn)(double g, double out, double aux, mg_ref a, mg_ref b);

/* What the core itself needs of a row (mg_op_descs[] holds what Python reads: micrograd.h). */
typedef struct {
    int arity;                  /* operands: the children _prev shows */
    mg_forward_fn forward;      /* NULL: built another way (a leaf, a custom node) */
    mg_backward_fn backward;    /* NULL: no local derivative */
} mg_op_info;

extern const mg_op_info mg_ops[MG_OP_COUNT];
extern const mg_op_desc mg_op_descs[MG_OP_COUNT];

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

MG_ROW_OF(ADD);
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

MG_ROW_OF(MUL);
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

MG_ROW_OF(POW_INT);
MG_ROW_OF(POW_FLOAT);
MG_ROW_OF(POW_NAMED);
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

MG_ROW_OF(RELU);
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

MG_ROW_OF(TANH);
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

MG_ROW_OF(EXP);
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

MG_ROW_OF(SIGMOID);
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

MG_ROW_OF(LOG);
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
mg_id mg_build_k_first(int op, double k, mg_id a);             /* k op a: likewise, k first */
mg_id mg_build_named_pow(mg_id a, double k, double k1, double tag);
mg_id mg_build_custom(double x, mg_id a, mg_id b, double tag); /* a, b: children or -1 */

#endif
