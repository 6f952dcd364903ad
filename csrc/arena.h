/*
 * arena.h: the node arena's layout, shared by the core's files (not part of the cffi API).
 *
 * A node lives in a block of MG_BLOCK nodes, struct-of-arrays; its id is the block's slot
 * number shifted left by MG_BLOCK_SHIFT, plus its offset. arena.c says what may happen to a
 * block and when (its design note); this header is what the other files need to read nodes
 * and to append them.
 */
#ifndef MG_ARENA_H
#define MG_ARENA_H
#include "micrograd.h"

#include <stddef.h>
#include <stdint.h>

#define MG_BLOCK ((uint32_t)1 << MG_BLOCK_SHIFT)
#define MG_OFF(n) ((uint32_t)((n) & (MG_BLOCK - 1)))
#define MG_ERR(status) (((mg_id)1 << MG_ERROR_SHIFT) + (status))

/* A flag in a node's op byte, above its enum mg_op (design note 11 in arena.c): its backward
 * is its Value's Python callable, not its op's rule. */
#define MG_OP_PY 0x80u
#define MG_OP_MASK 0x7fu        /* the enum mg_op */

typedef struct mg_block {
    uint64_t seq;               /* creation order of blocks: children lie in older ones */
    uint32_t slot;              /* where ids find it */
    uint32_t used;              /* nodes appended so far */
    uint32_t pos;               /* index in mg_arena.order */
    uint32_t held;              /* nodes here that have a live Value */
    uint32_t pending;           /* a node here is marked and not yet visited */
    uint32_t unused;
    double data[MG_BLOCK];      /* forward values */
    double grad[MG_BLOCK];      /* gradients */
    double aux[MG_BLOCK];       /* per-op constant: a pow's exponent, a custom node's tag */
    void *value[MG_BLOCK];      /* the node's live Value (borrowed; the glue's), or NULL */
    int32_t kid0[MG_BLOCK];     /* children ids, -1 where none */
    int32_t kid1[MG_BLOCK];
    uint8_t op[MG_BLOCK];       /* enum mg_op, and the MG_OP_PY flag (mg_op_at reads the op) */
    uint8_t mark[MG_BLOCK];     /* marks of a sweep in progress: all zero between calls */
} mg_block;

typedef struct {
    mg_block **slot;            /* by slot number; NULL where free */
    uint32_t nslots, slotcap;
    uint32_t *freeslots;        /* free slot numbers */
    uint32_t nfree, freecap;
    mg_block **order;           /* live blocks, oldest first */
    uint32_t norder, ordercap;
    mg_block *cur;              /* the newest block: every node is appended here */
    uint64_t seq;               /* seq of the next block */
    uint32_t since;             /* blocks opened since the last collection */
    uint32_t wait;              /* ... that start the next one */
    mg_block **spare;           /* freed blocks kept for reuse (fresh pages cost faults) */
    uint32_t nspare, sparecap;
    uint64_t epoch;             /* bumped when a Value changes node: nn plans check it */
    int64_t collections;
    int sweeping;               /* a backward sweep is paused for Python: no collection runs */
} mg_arena_t;

extern mg_arena_t mg_arena;

/* The live block holding node n, or NULL (any id is safe to ask about). */
static inline mg_block *mg_block_of(mg_id n) {
    uint64_t s = (uint64_t)n >> MG_BLOCK_SHIFT;
    if (s >= mg_arena.nslots) return NULL;
    mg_block *b = mg_arena.slot[s];
    return b && MG_OFF(n) < b->used ? b : NULL;
}

/* The block of a node known to be live (a bound Value's, or a live node's child). */
static inline mg_block *mg_live_block(mg_id n) { return mg_arena.slot[(uint64_t)n >> MG_BLOCK_SHIFT]; }

/* Every call that appends nodes starts here, before its first node and before anything that
 * can run Python: a collection that is due runs now, when no node lacks its Value. After it,
 * pointers to blocks taken before are no longer valid. */
void mg_collect_due(void);
static inline void mg_begin(void) {
    if (mg_arena.since >= mg_arena.wait && !mg_arena.sweeping) mg_collect_due();
}

/* Marks live node k for a visit of its own (a sweep's or a collection's; note 9). */
static inline void mg_mark(int32_t k) {
    mg_block *c = mg_live_block(k);
    c->mark[MG_OFF(k)] = 1;
    c->pending = 1;
}

/* Marks node i of block b's children. */
static inline void mg_mark_kids(const mg_block *b, uint32_t i) {
    int32_t k0 = b->kid0[i], k1 = b->kid1[i];
    if (k0 >= 0) mg_mark(k0);
    if (k1 >= 0) mg_mark(k1);
}

/* The op of node i of block b, without its flags. */
static inline int mg_op_at(const mg_block *b, uint32_t i) { return b->op[i] & MG_OP_MASK; }

/* A block with room for n more nodes (n <= MG_BLOCK): the current one, or a new one. NULL
 * when out of memory. Nodes appended to it come after every node that exists. */
mg_block *mg_open_block(void);
static inline mg_block *mg_room(uint32_t n) {
    mg_block *w = mg_arena.cur;
    return w && w->used + n <= MG_BLOCK ? w : mg_open_block();
}

/* Node u of block w (the next one: w->used is u, and the caller counts it): op(a, b) = x. */
static inline void mg_put(mg_block *w, uint32_t u, uint8_t op, double x, double aux, mg_id a, mg_id b) {
    w->data[u] = x;
    w->grad[u] = 0.0;
    w->aux[u] = aux;
    w->kid0[u] = (int32_t)a;
    w->kid1[u] = (int32_t)b;
    w->op[u] = op; /* value[u] is NULL and mark[u] 0: blocks come so */
}

/* The one node appender: a node of block w (which has room) with children a, b (ids or -1). */
static inline mg_id mg_push(mg_block *w, uint8_t op, double x, double aux, mg_id a, mg_id b) {
    uint32_t i = w->used++;
    mg_put(w, i, op, x, aux, a, b);
    return (mg_id)w->slot << MG_BLOCK_SHIFT | i;
}

/* Node n (live, without a Value) gets the Value v; and loses it (v's deallocation). */
static inline void mg_bind(mg_id n, void *v) {
    mg_block *b = mg_live_block(n);
    b->value[MG_OFF(n)] = v;
    b->held++;
}
static inline void mg_unbind(mg_id n) {
    mg_block *b = mg_live_block(n);
    b->value[MG_OFF(n)] = NULL;
    b->held--;
}
static inline void *mg_value_of(mg_id n) { return mg_live_block(n)->value[MG_OFF(n)]; }

#endif
