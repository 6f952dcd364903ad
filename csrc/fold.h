/*
 * fold.h: Python's arithmetic on Values and numbers, node for node, for the calls that build
 * many nodes at once (nn.c's forward, functional.c): what `a * b`, `v + k` and a sum() over
 * products append, in the order Python appends them, with the values Value's ops give.
 *
 * The rules are Value's (csrc/value.c): a number meeting a Value gets a leaf of its own, made
 * just before the node, and goes second, whichever side it was on (micrograd's __radd__ and
 * __rmul__ build v + k); forward values are the op table's pairs. The caller has called
 * mg_begin() once, before the first node, and no Python runs until the last one: the nodes
 * between have no Value, and no collection may run meanwhile.
 */
#ifndef MG_FOLD_H
#define MG_FOLD_H
#include "ops.h"

/* An operand: a node that has a Value (id >= 0) and its data, or a number (id -1). */
typedef struct {
    mg_id id;
    double x;
} mg_term;

#define MG_DATA(n) (mg_live_block(n)->data[MG_OFF(n)])

/* The term for element i of an operand list: ids[i], or the number nums[i] where ids[i] < 0. */
static inline mg_term mg_term_at(const mg_id *ids, const double *nums, uint32_t i) {
    mg_id id = ids[i];
    return (mg_term){id, id < 0 ? nums[i] : MG_DATA(id)};
}

/* l op r, op MG_ADD or MG_MUL, into block w, which has room for 2 nodes; at least one of l
 * and r is a node. */
static inline mg_term mg_fold_op(mg_block *w, int op, mg_term l, mg_term r) {
    mg_term v = l.id < 0 ? r : l, k = l.id < 0 ? l : r, out = {0, 0.0};
    if (op == MG_MUL)
        mg_mul_forward(v.x, k.x, 0.0, &out.x);
    else
        mg_add_forward(v.x, k.x, 0.0, &out.x);
    if (k.id < 0) k.id = mg_push(w, MG_LEAF, k.x, 0.0, -1, -1);
    out.id = mg_push(w, (uint8_t)op, out.x, 0.0, v.id, k.id);
    return out;
}

/* *acc = sum((a[i] * b[i] for i in range(n)), *acc), Python's left fold: each product, then
 * its sum (acc + product: the product's node first when acc is a number, as `0 + v` builds
 * v + 0). a[i] is node a[i], or the number ak[i] where a[i] < 0; likewise b[i]; never both
 * numbers. ak or bk is NULL when a or b holds nodes only (a constant NULL compiles its tests
 * away: nn.c's weights). MG_OK, or MG_NOMEM. */
static inline int mg_fold_dot(mg_term *acc, const mg_id *a, const double *ak, const mg_id *b,
                              const double *bk, uint32_t n) {
    mg_term sum = *acc;
    uint32_t i = 0;
    if (sum.id < 0 && n) {                              /* a number to start: 0 + v is v + 0 */
        mg_block *w = mg_room(4);
        if (!w) return MG_NOMEM;
        mg_term p = mg_fold_op(w, MG_MUL, mg_term_at(a, ak, 0), mg_term_at(b, bk, 0));
        sum = mg_fold_op(w, MG_ADD, p, sum);
        i = 1;
    }
    while (i < n) {
        mg_block *w = mg_room(3);                      /* a term adds 3 nodes at most: */
        if (!w) return MG_NOMEM;                        /* [leaf], mul, add */
        mg_block *const *slots = mg_arena.slot;        /* (a new block can move the table) */
        /* the terms that fit in this block, its count kept in u: a byte store (the op) may
         * alias anything, and would make w->used a load and a store per node */
        uint32_t u = w->used, fit = (MG_BLOCK - u) / 3, end = n - i < fit ? n : i + fit;
        mg_id base = (mg_id)w->slot << MG_BLOCK_SHIFT;
        for (; i < end; i++) {
            mg_id x = a[i], y = b[i];
            int kx = ak && x < 0, ky = bk && y < 0;
            double xv = kx ? ak[i] : slots[(uint64_t)x >> MG_BLOCK_SHIFT]->data[MG_OFF(x)];
            double yv = ky ? bk[i] : slots[(uint64_t)y >> MG_BLOCK_SHIFT]->data[MG_OFF(y)], p;
            if (kx) {                                   /* k * v builds v * k */
                mg_id t = x;
                double tv = xv;
                x = y, xv = yv, y = t, yv = tv;
            }
            if (kx || ky) {                             /* the number's leaf */
                mg_put(w, u, MG_LEAF, yv, 0.0, -1, -1);
                y = base | u++;
            }
            mg_mul_forward(xv, yv, 0.0, &p);
            mg_put(w, u, MG_MUL, p, 0.0, x, y);
            mg_id prod = base | u++;
            mg_add_forward(sum.x, p, 0.0, &sum.x);
            mg_put(w, u, MG_ADD, sum.x, 0.0, sum.id, prod);
            sum.id = base | u++;
        }
        w->used = u;
    }
    *acc = sum;
    return MG_OK;
}

#endif
