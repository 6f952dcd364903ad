/*
 * compose.c: micrograd's compositions of its primitives, each built in one call, with the
 * nodes, order and values its Python gives (fold.h's rules for a number beside a Value).
 */
#include "compose.h"

static const mg_term MINUS_ONE = {-1, -1.0};

/* 1 with t's data read for a number or a live node; 0 for a node that is not live. */
static int live(mg_term *t) {
    if (t->id < 0) return 1;
    mg_block *b = mg_block_of(t->id);
    if (!b) return 0;
    t->x = b->data[MG_OFF(t->id)];
    return 1;
}

mg_id mg_build_neg(mg_term a) {
    mg_begin();
    if (a.id < 0 || !live(&a)) return MG_ERR(MG_BADID);
    mg_block *w = mg_room(2);
    return w ? mg_fold_op(w, MG_MUL, a, MINUS_ONE).id : MG_ERR(MG_NOMEM);
}

mg_id mg_build_sub(mg_term a, mg_term b) {
    mg_begin();
    if ((a.id < 0 && b.id < 0) || !live(&a) || !live(&b)) return MG_ERR(MG_BADID);
    mg_block *w = mg_room(4);
    if (!w) return MG_ERR(MG_NOMEM);
    mg_term neg = b.id < 0 ? (mg_term){-1, -b.x} : mg_fold_op(w, MG_MUL, b, MINUS_ONE);
    return mg_fold_op(w, MG_ADD, a, neg).id;       /* k - v: (v * -1) + k, the number second */
}

mg_id mg_build_div(mg_term a, mg_term b) {
    mg_begin();
    if ((a.id < 0 && b.id < 0) || !live(&a) || !live(&b)) return MG_ERR(MG_BADID);
    mg_term inv = {-1, 0.0};
    int st = mg_py_pow(b.x, -1.0, &inv.x);          /* a number's is Python's float pow */
    if (st) return MG_ERR(st);
    mg_block *w = mg_room(3);
    if (!w) return MG_ERR(MG_NOMEM);
    if (b.id >= 0) inv.id = mg_push(w, MG_POW_INT, inv.x, -1.0, b.id, -1);   /* _op '**-1' */
    return mg_fold_op(w, MG_MUL, a, inv).id;       /* k / v: v**-1 * k */
}

// ----------------------------------------------------------------------------
// the functional ops (micrograd_c/functional.py writes out the Python each one builds)

static inline mg_term node(mg_id id) { return (mg_term){id, MG_DATA(id)}; }

/* op(a) for a unary op of the table, or a pow whose exponent is aux: its node. */
static int unary(int op, double aux, mg_term a, mg_term *out) {
    int st = mg_ops[op].forward(a.x, 0.0, aux, &out->x);
    if (st) return st;
    mg_block *w = mg_room(1);
    if (!w) return MG_NOMEM;
    out->id = mg_push(w, (uint8_t)op, out->x, aux, a.id, -1);
    return MG_OK;
}

/* l op r for op MG_ADD or MG_MUL (fold.h's rules). */
static int binary(int op, mg_term l, mg_term r, mg_term *out) {
    mg_block *w = mg_room(2);
    if (!w) return MG_NOMEM;
    *out = mg_fold_op(w, op, l, r);
    return MG_OK;
}

int mg_build_dot(mg_term start, const mg_id *a, const double *ak, const mg_id *b, const double *bk,
                 uint32_t n, mg_id *out) {
    mg_begin();
    int st = mg_fold_dot(&start, a, ak, b, bk, n);
    *out = start.id;
    return st;
}

int mg_build_linear(const mg_id *x, const double *xk, uint32_t nin, const mg_id *w, const double *wk,
                    const mg_id *bias, const double *biask, uint32_t nout, mg_id *out) {
    mg_begin();
    for (uint32_t o = 0; o < nout; o++) {
        mg_term acc = bias ? mg_term_at(bias, biask, o) : (mg_term){-1, 0.0};
        int st = mg_fold_dot(&acc, w + (size_t)o * nin, wk ? wk + (size_t)o * nin : NULL, x, xk, nin);
        if (st) return st;
        out[o] = acc.id;
    }
    return MG_OK;
}

int mg_build_sum(mg_term start, const mg_id *v, const double *vk, uint32_t n, mg_id *out) {
    mg_begin();
    for (uint32_t i = 0; i < n; i++) {
        int st = binary(MG_ADD, start, mg_term_at(v, vk, i), &start);
        if (st) return st;
    }
    *out = start.id;
    return MG_OK;
}

/* The largest data of nodes v[0..n), as max() takes it (a later one only if greater). */
static double max_data(const mg_id *v, uint32_t n) {
    double m = MG_DATA(v[0]);
    for (uint32_t i = 1; i < n; i++) {
        double x = MG_DATA(v[i]);
        if (x > m) m = x;
    }
    return m;
}

/* out[i] = v[i] - max, as `v - max_val` builds it with max_val = max(v.data ...); with exp,
 * each one's .exp() after it. */
static int shifted(const mg_id *v, uint32_t n, int with_exp, mg_id *out) {
    mg_term shift = {-1, -max_data(v, n)}, t = {-1, 0.0};
    int st = MG_OK;
    for (uint32_t i = 0; i < n && !st; i++) {
        st = binary(MG_ADD, node(v[i]), shift, &t);
        if (!st && with_exp) st = unary(MG_EXP, 0.0, t, &t);
        out[i] = t.id;
    }
    return st;
}

/* softmax's nodes, into out: exps = [(v - max).exp() ...], total = sum(exps), [e / total ...] */
int mg_build_softmax(const mg_id *v, uint32_t n, mg_id *out) {
    mg_begin();
    mg_term total = {-1, 0.0}, t = {-1, 0.0};
    int st = shifted(v, n, 1, out);
    for (uint32_t i = 0; i < n && !st; i++) st = binary(MG_ADD, total, node(out[i]), &total);
    for (uint32_t i = 0; i < n && !st; i++) {
        st = unary(MG_POW_INT, -1.0, total, &t); /* e / total: e * total**-1 */
        if (!st) st = binary(MG_MUL, node(out[i]), t, &t);
        out[i] = t.id;
    }
    return st;
}

/* shifted = [v - max ...], lt = sum(s.exp() for s in shifted).log(), [s - lt for s in shifted] */
int mg_build_log_softmax(const mg_id *v, uint32_t n, mg_id *out) {
    mg_begin();
    mg_term total = {-1, 0.0}, t = {-1, 0.0};
    int st = shifted(v, n, 0, out);
    for (uint32_t i = 0; i < n && !st; i++) {
        st = unary(MG_EXP, 0.0, node(out[i]), &t);
        if (!st) st = binary(MG_ADD, total, t, &total);
    }
    if (!st) st = unary(MG_LOG, 0.0, total, &total);
    for (uint32_t i = 0; i < n && !st; i++) {
        st = binary(MG_MUL, total, MINUS_ONE, &t); /* s - lt: s + (lt * -1) */
        if (!st) st = binary(MG_ADD, node(out[i]), t, &t);
        out[i] = t.id;
    }
    return st;
}

/* ms = sum(xi * xi ...) / len(x), scale = (ms + eps) ** -0.5, [xi * scale ...] */
int mg_build_rmsnorm(const mg_id *x, uint32_t n, double eps, mg_id *out) {
    mg_begin();
    mg_term ms = {-1, 0.0}, inv_n = {-1, 0.0}, t = {-1, 0.0};
    int st = mg_fold_dot(&ms, x, NULL, x, NULL, n);
    if (!st) st = mg_py_pow((double)n, -1.0, &inv_n.x);             /* / len(x): * float(n)**-1 */
    if (!st) st = binary(MG_MUL, ms, inv_n, &ms);
    if (!st) st = binary(MG_ADD, ms, (mg_term){-1, eps}, &ms);
    if (!st) st = unary(MG_POW_FLOAT, -0.5, ms, &ms);
    for (uint32_t i = 0; i < n && !st; i++) {
        st = binary(MG_MUL, node(x[i]), ms, &t);
        out[i] = t.id;
    }
    return st;
}

/* probs = softmax(v); -probs[target].log(): its log, times -1 */
int mg_build_cross_entropy(const mg_id *v, uint32_t n, uint32_t target, mg_id *out) {
    if (target >= n) return MG_BADID;
    int st = mg_build_softmax(v, n, out);
    mg_term t = {-1, 0.0};
    if (!st) st = unary(MG_LOG, 0.0, node(out[target]), &t);
    if (!st) st = binary(MG_MUL, t, MINUS_ONE, &t);
    out[0] = t.id;
    return st;
}

int mg_build_map(int op, const mg_id *v, uint32_t n, mg_id *out) {
    mg_begin();
    if (op <= 0 || op >= MG_OP_COUNT || mg_ops[op].arity != 1 || !mg_ops[op].forward) return MG_BADID;
    int st = MG_OK;
    for (uint32_t i = 0; i < n && !st; i++) {
        mg_term t = {-1, 0.0};
        st = unary(op, 0.0, node(v[i]), &t);
        out[i] = t.id;
    }
    return st;
}
