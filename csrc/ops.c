/*
 * ops.c: the op table's two arrays, the builders that append nodes, and the backward sweep.
 */
#include "ops.h"

#include <string.h>

/* Functions kept out of line, off a hot loop's path; MG_COLD ones are rarely run as well (gcc
 * and clang; MSVC keeps both out of line; other compilers may inline them). */
#if defined(__GNUC__)
#define MG_COLD __attribute__((noinline, cold))
#define MG_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define MG_COLD __declspec(noinline)
#define MG_NOINLINE __declspec(noinline)
#else
#define MG_COLD
#define MG_NOINLINE
#endif

/* CPython's float_pow, case for case (Objects/floatobject.c), over libm's pow. */
// clang-format off: one line per case, as a table of them
int mg_py_pow(double x, double k, double *out) {
    int negate = 0;
    if (k == 0.0) { *out = 1.0; return MG_OK; }                 /* even 0**0 and nan**0 */
    if (isnan(x)) { *out = x; return MG_OK; }
    if (isnan(k)) { *out = x == 1.0 ? 1.0 : k; return MG_OK; }
    if (isinf(k)) {
        double ax = fabs(x);
        *out = ax == 1.0 ? 1.0 : (k > 0) == (ax > 1.0) ? INFINITY : 0.0;
        return MG_OK;
    }
    int odd = fmod(fabs(k), 2.0) == 1.0;                         /* k is an odd integer */
    if (isinf(x)) {
        *out = k > 0 ? (odd ? x : fabs(x)) : (odd ? copysign(0.0, x) : 0.0);
        return MG_OK;
    }
    if (x == 0.0) {
        if (k < 0) return MG_ZERODIV;
        *out = odd ? x : 0.0;
        return MG_OK;
    }
    if (x < 0.0) {
        if (k != floor(k)) return MG_DOMAIN;                       /* Python would go complex */
        x = -x;
        negate = odd;
    }
    if (x == 1.0) { *out = negate ? -1.0 : 1.0; return MG_OK; }
    double r = pow(x, k);
    if (isinf(r)) return MG_OVERFLOW;
    *out = negate ? -r : r;
    return MG_OK;
}
// clang-format on

// ----------------------------------------------------------------------------
// the table (ops.h's MG_OP_TABLE), as the core and as Python read it

#define MG_INFO_ROW(ID, NAME, METHOD, SYMBOL, ARITY, ORDER, ACT, FORWARD, BACKWARD)                          \
    [MG_##ID] = {ARITY, FORWARD, BACKWARD},
const mg_op_info mg_ops[MG_OP_COUNT] = {MG_OP_TABLE(MG_INFO_ROW)};

#define MG_DESC_ROW(ID, NAME, METHOD, SYMBOL, ARITY, ORDER, ACT, FORWARD, BACKWARD)                          \
    [MG_##ID] = {#ID, NAME, METHOD, SYMBOL, ACT, ARITY, ORDER == MG_VALUE_FIRST},
const mg_op_desc mg_op_descs[MG_OP_COUNT] = {MG_OP_TABLE(MG_DESC_ROW)};

static int known(int op) { return op >= 0 && op < MG_OP_COUNT; }
int mg_op_count(void) { return MG_OP_COUNT; }
const mg_op_desc *mg_op_describe(int op) { return known(op) ? &mg_op_descs[op] : NULL; }

// ----------------------------------------------------------------------------
// building (each call: mg_begin, then the forward, then its nodes)

mg_id mg_build_leaf(double x) {
    mg_begin();
    mg_block *w = mg_room(1);
    return w ? mg_push(w, MG_LEAF, x, 0.0, -1, -1) : MG_ERR(MG_NOMEM);
}

mg_id mg_build(int op, mg_id a, mg_id b, double aux) {
    mg_begin();
    mg_block *ka = mg_block_of(a), *kb = b < 0 ? NULL : mg_block_of(b);
    if (!known(op) || !mg_ops[op].forward || !ka || (b >= 0 && !kb)) return MG_ERR(MG_BADID);
    double x;
    int st = mg_ops[op].forward(ka->data[MG_OFF(a)], kb ? kb->data[MG_OFF(b)] : 0.0, aux, &x);
    if (st) return MG_ERR(st);
    mg_block *w = mg_room(1);
    return w ? mg_push(w, (uint8_t)op, x, aux, a, b) : MG_ERR(MG_NOMEM);
}

/* a op k as micrograd's Value(k) then the op: the number's leaf, then the node, (a, leaf), or
 * (leaf, a) with k_first. Each caller passes a constant k_first, which compiles away. */
static inline mg_id build_k(int op, mg_id a, double k, int k_first) {
    mg_begin();
    mg_block *ka = mg_block_of(a);
    if (!known(op) || mg_ops[op].arity != 2 || !mg_ops[op].forward || !ka) return MG_ERR(MG_BADID);
    double x, av = ka->data[MG_OFF(a)];
    int st = k_first ? mg_ops[op].forward(k, av, 0.0, &x) : mg_ops[op].forward(av, k, 0.0, &x);
    if (st) return MG_ERR(st);
    mg_block *w = mg_room(2);
    if (!w) return MG_ERR(MG_NOMEM);
    mg_id leaf = mg_push(w, MG_LEAF, k, 0.0, -1, -1);
    return k_first ? mg_push(w, (uint8_t)op, x, 0.0, leaf, a) : mg_push(w, (uint8_t)op, x, 0.0, a, leaf);
}

mg_id mg_build_k(int op, mg_id a, double k) { return build_k(op, a, k, 0); }
mg_id mg_build_k_first(int op, double k, mg_id a) { return build_k(op, a, k, 1); }

/* a ** k whose k - 1 is k1 (Python's int arithmetic, exact), the tag naming it in Python. */
mg_id mg_build_named_pow(mg_id a, double k, double k1, double tag) {
    mg_begin();
    mg_block *ka = mg_block_of(a);
    if (!ka) return MG_ERR(MG_BADID);
    double x;
    int st = mg_pow_forward(ka->data[MG_OFF(a)], 0.0, k, &x);
    if (st) return MG_ERR(st);
    mg_block *w = mg_room(2);
    if (!w) return MG_ERR(MG_NOMEM);
    mg_id hidden = mg_push(w, MG_LEAF, k1, tag, -1, -1);
    return mg_push(w, MG_POW_NAMED, x, k, a, hidden);
}

mg_id mg_build_custom(double x, mg_id a, mg_id b, double tag) {
    mg_begin();
    if ((a >= 0 && !mg_block_of(a)) || (b >= 0 && !mg_block_of(b))) return MG_ERR(MG_BADID);
    if (a < 0) a = b, b = -1;
    mg_block *w = mg_room(1);
    return w ? mg_push(w, MG_CUSTOM, x, tag, a, b) : MG_ERR(MG_NOMEM);
}

// ----------------------------------------------------------------------------
// backward: one descending sweep (design note 1 in arena.c)

static const mg_ref NO_REF = {NULL, NULL};

/* A reference to node k's data and grad; NO_REF for -1. */
static inline mg_ref ref_of(int32_t k) {
    if (k < 0) return NO_REF;
    mg_block *c = mg_live_block(k);
    return (mg_ref){&c->data[MG_OFF(k)], &c->grad[MG_OFF(k)]};
}

/* Node i of block b, of op op (its flags off): op's rule into its children (ka, kb). */
static inline int local_backward(int op, const mg_block *b, uint32_t i, mg_ref ka, mg_ref kb) {
    mg_backward_fn rule = mg_ops[op].backward;
    return rule ? rule(b->grad[i], b->data[i], b->aux[i], ka, kb) : MG_OK;
}

/* Node i of block b, whose rule is Python's (note 11): its children marked for their turn. */
static MG_COLD void python_turn(const mg_block *b, uint32_t i) { mg_mark_kids(b, i); }

/* Node i of block b, of op op (no MG_OP_PY) other than the sweep's inline ones: its rule, then
 * its children marked. Its status. Out of line: the sweep's loop keeps its registers. */
static MG_NOINLINE int visit(const mg_block *b, uint32_t i, int op) {
    int32_t k0 = b->kid0[i], k1 = b->kid1[i];
    int st = local_backward(op, b, i, ref_of(k0), ref_of(k1));
    if (k0 >= 0) mg_mark(k0);
    if (k1 >= 0) mg_mark(k1);
    return st;
}

/* Node i of block b, an ADD or a MUL (op: a constant at each call): its rule, inline, then its
 * two children marked. A copy for each op, and size_t offsets: the compiler then indexes the
 * children's arrays from their blocks, without forming pointers to each first. */
static inline void binary(mg_block *const *slots, const mg_block *b, uint32_t i, int op) {
    int32_t k0 = b->kid0[i], k1 = b->kid1[i];
    mg_block *c0 = slots[(uint32_t)k0 >> MG_BLOCK_SHIFT], *c1 = slots[(uint32_t)k1 >> MG_BLOCK_SHIFT];
    size_t o0 = MG_OFF(k0), o1 = MG_OFF(k1);
    mg_ref ka = {&c0->data[o0], &c0->grad[o0]}, kb = {&c1->data[o1], &c1->grad[o1]};
    if (op == MG_MUL)
        mg_mul_backward(b->grad[i], 0.0, 0.0, ka, kb);
    else
        mg_add_backward(b->grad[i], 0.0, 0.0, ka, kb);
    c0->mark[o0] = 1;               /* stores last: a byte store may alias what is loaded */
    c1->mark[o1] = 1;
    c0->pending = 1;
    c1->pending = 1;
}

int mg_sweep_begin(mg_sweep_t *s, mg_id root) {
    if (mg_arena.sweeping) return MG_BUSY;
    mg_block *rb = mg_block_of(root);
    if (!rb) return MG_BADID;
    uint32_t r = MG_OFF(root);
    rb->grad[r] = 1.0;
    rb->mark[r] = 1;
    rb->pending = 1;
    *s = (mg_sweep_t){rb->pos, r + 1, MG_OK, -1};
    mg_arena.sweeping = 1;
    return MG_OK;
}

int mg_sweep(mg_sweep_t *s) {
    /* nothing moves these until the return: Python runs only between calls. The state is
     * copied to locals: a byte store (a mark) may alias *s, and would force reloads */
    mg_block *const *slots = mg_arena.slot, *const *order = mg_arena.order;
    uint32_t first = s->i;                          /* where the first block goes on from */
    int status = s->status;
    for (uint32_t pos = s->pos + 1; pos-- > 0; first = MG_BLOCK) {  /* nothing marked: one test */
        mg_block *b = order[pos];
        if (!b->pending) continue;
        for (uint32_t i = first < b->used ? first : b->used; i-- > 0;) {
            if (!b->mark[i]) continue;
            b->mark[i] = 0;
            uint8_t op = b->op[i];
            switch (op) {
            case MG_ADD:                                /* the commonest two, inline */
                binary(slots, b, i, MG_ADD);
                continue;
            case MG_MUL:
                binary(slots, b, i, MG_MUL);
                continue;
            case MG_LEAF:                               /* no rule, and no children: -1, -1 */
                continue;
            default:
                break;
            }
            if (op & MG_OP_PY) {                        /* Python's turn: on below i after */
                python_turn(b, i);
                *s = (mg_sweep_t){pos, i, status, (mg_id)b->slot << MG_BLOCK_SHIFT | i};
                return MG_PYTHON;
            }
            int st = visit(b, i, op);
            if (st && !status) status = st;
        }
        b->pending = 0;                 /* children lie below their parents: all visited */
    }
    mg_arena.sweeping = 0;
    return status;
}

void mg_sweep_abort(mg_sweep_t *s) {
    for (uint32_t pos = s->pos + 1; pos-- > 0;) {
        mg_block *b = mg_arena.order[pos];
        if (b->pending) memset(b->mark, 0, b->used), b->pending = 0;
    }
    mg_arena.sweeping = 0;
}

int mg_backward_node(mg_id n) {
    mg_block *b = mg_block_of(n);
    if (!b) return MG_BADID;
    uint32_t i = MG_OFF(n);
    return local_backward(mg_op_at(b, i), b, i, ref_of(b->kid0[i]), ref_of(b->kid1[i]));
}
