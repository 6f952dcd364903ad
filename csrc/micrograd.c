/*
 * micrograd.c: the node arena, the ops and the backward sweep of micrograd_c.
 *
 * What this file is: every Value's data, grad, op and children live here, in an arena of
 * fixed-size blocks, struct-of-arrays inside each block. Python holds only node ids.
 * backward() is one descending sweep over the arena, with no recursion and no Python per node.
 * What it will not do: print, exit, abort, or reach into Python. Errors are mg_status codes.
 *
 * Floating point follows Python's float to the bit: the same libm calls (pow, tanh, exp) with
 * the same special cases as CPython's float_pow, and the build forbids FMA contraction
 * (-ffp-contract=off) so that `g += a * b` rounds twice, as Python does.
 *
 * --- Design note: order and lifetime ---
 * Order. Nodes are only ever appended, and a node's children always exist before it, so the
 * creation order is a topological order: backward is one sweep from the root down, marking
 * children as it goes (a mark byte that the sweep clears again). Creation order is the block's
 * `seq` (blocks in creation order), then the offset inside the block. A thread appends to its
 * own block; if a child lies in a block newer than that one (a graph shared between threads),
 * the node opens a new block, so the order still holds.
 *
 * Lifetime. A node id is slot << MG_BLOCK_SHIFT | offset. The Python layer keeps one small
 * owner object per slot, and every Value wrapper refers to the owner of its node's slot, so an
 * owner's reference count tells whether any wrapper into that block is alive. No call per op
 * and no finalizer: when the arena has grown enough (mg_should_collect), the Python layer
 * reads those counts in one step and passes them to mg_collect, which marks, newest block
 * first, everything reachable from (a) every node of a block with a live owner, (b) the nodes
 * each thread's last building call appended, and (c) the young nodes, appended since the
 * mg_collect_begin before last (one comes before the counts are read). Blocks left without a
 * marked node are freed (or kept as spares for the blocks to come) and their slots reused;
 * nothing moves. A Value is made right after the call that makes its node (an MLP's call makes
 * many, then wraps its outputs), and other
 * threads can run and collect in between: (b) keeps those nodes until the thread's next call.
 * (c) covers code that runs on the same thread in between (a finalizer run by the allocator,
 * a signal handler). A Value made later for an old node (a `_prev` lookup) is reachable from
 * a live one. A kept graph stays whole; a dropped one goes at the next collection. Roots are
 * whole blocks, so the dead nodes that share a block with a live Value stay too, with what
 * they reach: that is why leaves made by Value(x), the long-lived weights, are kept in blocks
 * of their own, where they reach nothing. Ids are reused with their slots, so they never run
 * out. Collections come when the blocks opened since the last one outnumber the blocks it
 * kept (at least MG_MIN_COLLECT), so a loop runs at flat memory.
 *
 * Threads. The cffi glue holds the GIL for the whole of every call, so calls never overlap;
 * only the end-of-thread destructor runs outside it, and it touches atomic fields only (its
 * blocks' `pinned`, its record's `alive`).
 */
#include "micrograd.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

// ----------------------------------------------------------------------------
// the arena

#define MG_BLOCK ((uint32_t)1 << MG_BLOCK_SHIFT)
#define MG_MAX_SLOTS ((uint32_t)1 << (31 - MG_BLOCK_SHIFT))   /* ids fit in int32 children */
#define MG_MIN_COLLECT 16                                      /* blocks between collections, at least */
#define MG_ERR(status) (((mg_id)1 << MG_ERROR_SHIFT) + (status))

typedef struct mg_block {
    uint64_t seq;               /* creation order of blocks */
    uint32_t slot;              /* where ids find it */
    uint32_t used;              /* nodes appended so far */
    uint32_t pending;           /* a node here is marked and not yet visited (backward or collection) */
    uint32_t pos;               /* index in arena.order */
    uint32_t fresh;             /* `used` at the last mg_collect_begin */
    uint32_t young;             /* `used` at the one before: nodes from here on are roots */
    uint32_t roots;             /* during mg_collect: the nodes from here on are roots */
    int pinned;                 /* a thread is appending here (atomic: see thread_exit) */
    struct mg_thread *thread;   /* the thread that appends or appended here */
    int stream;                 /* LEAVES or NODES */
    int trigger;                /* an mg_trigger */
    /* the nodes, struct-of-arrays at fixed offsets from the block */
    double data[MG_BLOCK];      /* forward values */
    double grad[MG_BLOCK];      /* gradients */
    double aux[MG_BLOCK];       /* per-op constant: a pow's exponent, a custom node's tag */
    int32_t kid0[MG_BLOCK];     /* children ids, -1 where none */
    int32_t kid1[MG_BLOCK];
    uint8_t op[MG_BLOCK];       /* enum mg_op */
    uint8_t mark[MG_BLOCK];     /* sweep marks: all zero between calls */
} mg_block;

static struct {
    mg_block **slot;            /* by slot number; NULL where free */
    uint32_t nslots, slotcap;
    uint32_t *freeslots;        /* free slot numbers, highest first (sorted by each collection) */
    uint32_t nfree, freecap;
    mg_block **order;           /* live blocks by seq, oldest first */
    uint32_t norder, ordercap;
    uint64_t seq;               /* seq of the next block */
    uint64_t begun;             /* mg_collect_begin calls so far */
    uint64_t created;           /* nodes created so far */
    uint32_t since;             /* blocks opened since the last collection */
    uint32_t kept;              /* blocks the last collection kept for more than being young */
    mg_block **spare;           /* freed blocks kept for reuse, marks all zero: fresh pages cost faults */
    uint32_t nspare, sparecap;
    uint64_t young_seq;         /* blocks from this seq on opened since the begin before last */
    uint64_t fresh_seq;         /* blocks from this seq on opened since the last begin */
    uint32_t covered;           /* slots below this one are in the Python layer's flat table */
} arena;

/* What a thread appends to, per stream: leaves made by Value(x) go to blocks of their own,
 * so that a block held by a long-lived leaf (a weight) holds nothing that reaches further.
 * The nodes its last building call appended are roots until its next call (the caller is
 * wrapping them in Values); they start at offset from_off of the block of seq from_seq, and
 * take in the thread's blocks after it. Threads' records are never freed, only reused. */
enum { LEAVES, NODES };
typedef struct mg_thread {
    mg_block *cur[2];           /* the block each stream appends to */
    uint64_t from_seq[2];       /* where the last call began, per stream */
    uint32_t from_off[2];
    int alive;                  /* cleared by thread_exit (atomic) */
    struct mg_thread *next;     /* all records */
    mg_id *layer_out[2];        /* mg_net_forward's layer outputs, alternately */
    uint32_t layer_cap[2];
} mg_thread;

static __thread mg_thread *self;
static mg_thread *threads;
static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

static void unpin(mg_block *b) { if (b) __atomic_store_n(&b->pinned, 0, __ATOMIC_RELEASE); }

static void thread_exit(void *p) {
    mg_thread *t = p;
    unpin(t->cur[LEAVES]);
    unpin(t->cur[NODES]);
    __atomic_store_n(&t->alive, 0, __ATOMIC_RELEASE);
}

static void thread_key_init(void) { (void)pthread_key_create(&thread_key, thread_exit); }

/* This thread's record, made (or taken over from an ended thread) on first use. */
static mg_thread *thread_self(void) {
    mg_thread *t = threads;
    while (t && __atomic_load_n(&t->alive, __ATOMIC_ACQUIRE)) t = t->next;
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t) return NULL;
        t->next = threads;
        threads = t;
    }
    pthread_once(&thread_once, thread_key_init);
    if (pthread_setspecific(thread_key, t)) return NULL;
    t->cur[LEAVES] = t->cur[NODES] = NULL;
    t->from_seq[LEAVES] = t->from_seq[NODES] = arena.seq;
    t->from_off[LEAVES] = t->from_off[NODES] = 0;
    t->alive = 1;
    self = t;
    return t;
}

/* Every exported function that appends nodes starts here: the nodes of this thread's previous
 * call stop being roots on their own. Returns 0 when out of memory. */
static int begin_call(int stream) {
    mg_thread *t = self ? self : thread_self();
    if (!t) return 0;
    mg_block *c = t->cur[stream];
    t->from_seq[stream] = c ? c->seq : arena.seq;
    t->from_off[stream] = c ? c->used : 0;
    return 1;
}

static mg_block *block_new(void) {
    mg_block *b;
    if (arena.nspare) {
        b = arena.spare[--arena.nspare];        /* its marks are all zero already */
    } else {
        b = malloc(sizeof *b);
        if (!b) return NULL;
        memset(b->mark, 0, sizeof b->mark);
    }
    memset(b, 0, offsetof(mg_block, data));
    return b;
}

/* Grows an array of `size`-byte items to hold at least `need`. On failure the old array stays
 * valid and 0 is returned. After success, pointers into the old array are no longer valid. */
static int grow(void **arr, uint32_t *cap, uint32_t need, size_t size) {
    if (need <= *cap) return 1;
    uint32_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *p = realloc(*arr, (size_t)c * size);
    if (!p) return 0;
    *arr = p;
    *cap = c;
    return 1;
}

/* The blocks to open before the next collection, after one that kept `kept`. */
static uint32_t collect_wait(uint32_t kept) { return kept > MG_MIN_COLLECT ? kept : MG_MIN_COLLECT; }

/* Frees block b, whose marks are all zero, or keeps it for block_new while fewer than `keep`
 * are kept: the arena grows back to its size before the next collection anyway. */
static void block_free(mg_block *b, uint32_t keep) {
    if (arena.nspare < keep && grow((void **)&arena.spare, &arena.sparecap, arena.nspare + 1, sizeof b))
        arena.spare[arena.nspare++] = b;
    else
        free(b);
}

/* A slot for a new block: the lowest free one, or with `past_table` the lowest free one the
 * Python layer's table does not cover; else a new one. MG_MAX_SLOTS when none is left. */
static uint32_t take_slot(int past_table) {
    uint32_t *fs = arena.freeslots;
    for (uint32_t k = arena.nfree; k-- > 0;) {          /* lowest first */
        if (past_table && fs[k] < arena.covered) continue;
        uint32_t s = fs[k];
        memmove(&fs[k], &fs[k + 1], (arena.nfree - k - 1) * sizeof *fs);
        arena.nfree--;
        return s;
    }
    if (arena.nslots == MG_MAX_SLOTS) return past_table && arena.nfree ? take_slot(0) : MG_MAX_SLOTS;
    if (!grow((void **)&arena.slot, &arena.slotcap, arena.nslots + 1, sizeof(mg_block *))) return MG_MAX_SLOTS;
    arena.slot[arena.nslots] = NULL;
    return arena.nslots++;
}

/* Opens a new block for thread t's stream to append to. NULL when out of memory or slots.
 * A block opened once a collection is due is a trigger (MG_TRIGGER_OPEN): it lies in a slot
 * past the Python layer's table, so the first Value made for a node there finds no owner in
 * the table and collects. That collection closes it to further nodes; its slot is free again
 * once they are dead, and a later trigger takes it: slot numbers do not grow with collections. */
static mg_block *open_block(mg_thread *t, int stream) {
    int due = mg_should_collect();
    if (!grow((void **)&arena.order, &arena.ordercap, arena.norder + 1, sizeof(mg_block *))) return NULL;
    if (!grow((void **)&arena.freeslots, &arena.freecap, arena.nslots + 1, sizeof(uint32_t))) return NULL;
    mg_block *b = block_new();
    if (!b) return NULL;
    uint32_t s = take_slot(due);
    if (s == MG_MAX_SLOTS) {
        block_free(b, collect_wait(arena.kept));
        return NULL;
    }
    b->trigger = due ? MG_TRIGGER_OPEN : MG_TRIGGER_NONE;
    arena.slot[s] = b;
    b->slot = s;
    b->seq = arena.seq++;
    b->pos = arena.norder;
    arena.order[arena.norder++] = b;
    arena.since++;
    unpin(t->cur[stream]);
    b->pinned = 1;
    b->thread = t;
    b->stream = stream;
    t->cur[stream] = b;
    return b;
}

/* The live block holding node n, or NULL. */
static inline mg_block *block_of(mg_id n) {
    uint64_t s = (uint64_t)n >> MG_BLOCK_SHIFT;
    if (s >= arena.nslots) return NULL;
    mg_block *b = arena.slot[s];
    return b && (uint32_t)(n & (MG_BLOCK - 1)) < b->used ? b : NULL;
}

#define OFF(n) ((uint32_t)((n) & (MG_BLOCK - 1)))
#define ID(b, i) ((mg_id)(b)->slot << MG_BLOCK_SHIFT | (i))

/* Appends a node to this thread's stream; its children a, b lie in blocks ka, kb (or NULL).
 * Returns its id, or MG_ERR. */
static mg_id append(int stream, uint8_t op, double x, double aux, mg_id a, const mg_block *ka, mg_id b,
                    const mg_block *kb) {
    mg_thread *t = self;                /* set by begin_call */
    mg_block *w = t->cur[stream];
    if (!w || w->used == MG_BLOCK || (ka && ka->seq > w->seq) || (kb && kb->seq > w->seq)) {
        w = open_block(t, stream);
        if (!w) return MG_ERR(MG_NOMEM);
    }
    uint32_t i = w->used++;
    w->data[i] = x;
    w->grad[i] = 0.0;
    w->aux[i] = aux;
    w->kid0[i] = ka ? (int32_t)a : -1;
    w->kid1[i] = kb ? (int32_t)b : -1;
    w->op[i] = op;
    arena.created++;
    return ID(w, i);
}

// ----------------------------------------------------------------------------
// the ops: forward and local backward side by side. Adding an op touches this file in
// three places: its enum line in micrograd.h, its pair here with a row in OP_NAME[] (the static
// assert below fails until the row is there), and its case in local_backward() (-Werror=switch).

/* A reference to one node's data and grad. */
typedef struct { double *data, *grad; } mg_ref;

/* x ** k with Python float semantics (CPython's float_pow), as a status and a result. */
static int py_pow(double x, double k, double *out) {
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

/* a + b;  da += g, db += g */
static double add_forward(double a, double b) { return a + b; }
static void add_backward(double g, mg_ref a, mg_ref b) { *a.grad += g; *b.grad += g; }

/* a * b;  da += b * g, db += a * g */
static double mul_forward(double a, double b) { return a * b; }
static void mul_backward(double g, mg_ref a, mg_ref b) { *a.grad += *b.data * g; *b.grad += *a.data * g; }

/* a ** k;  da += (k * a**(k-1)) * g */
static int pow_forward(double a, double k, double *out) { return py_pow(a, k, out); }
static int pow_backward(double g, double k, mg_ref a) {
    double p;
    int st = py_pow(*a.data, k - 1.0, &p);
    if (st == MG_OK) *a.grad += (k * p) * g;
    return st;
}

/* relu(a) = 0 if a < 0 else a;  da += (out > 0) * g */
static double relu_forward(double a) { return a < 0.0 ? 0.0 : a; }
static void relu_backward(double g, double out, mg_ref a) { *a.grad += (double)(out > 0.0) * g; }

/* tanh(a);  da += (1 - out**2) * g */
static double tanh_forward(double a) { return tanh(a); }
static void tanh_backward(double g, double out, mg_ref a) { *a.grad += (1.0 - out * out) * g; }

/* exp(a), OverflowError as math.exp;  da += out * g */
static int exp_forward(double a, double *out) {
    *out = exp(a);
    return isinf(*out) && isfinite(a) ? MG_OVERFLOW : MG_OK;
}
static void exp_backward(double g, double out, mg_ref a) { *a.grad += out * g; }

/* micrograd's _op for each op; for pow and custom nodes the Python layer spells it out. */
static const char *const OP_NAME[] = {
    [MG_LEAF] = "",
    [MG_ADD] = "+",
    [MG_MUL] = "*",
    [MG_POW_INT] = "**",
    [MG_POW_FLOAT] = "**",
    [MG_RELU] = "ReLU",
    [MG_TANH] = "tanh",
    [MG_EXP] = "exp",
    [MG_CUSTOM] = "",
};
_Static_assert(sizeof OP_NAME / sizeof OP_NAME[0] == MG_OP_COUNT, "every op needs a row in OP_NAME");

/* Node i of block b adds its local derivatives into its children's grads, which ka and kb
 * point at (unused where it has fewer children). */
static inline int local_backward(const mg_block *b, uint32_t i, mg_ref ka, mg_ref kb) {
    double g = b->grad[i];
    switch ((enum mg_op)b->op[i]) {
    case MG_ADD: add_backward(g, ka, kb); return MG_OK;
    case MG_MUL: mul_backward(g, ka, kb); return MG_OK;
    case MG_POW_INT:
    case MG_POW_FLOAT: return pow_backward(g, b->aux[i], ka);
    case MG_RELU: relu_backward(g, b->data[i], ka); return MG_OK;
    case MG_TANH: tanh_backward(g, b->data[i], ka); return MG_OK;
    case MG_EXP: exp_backward(g, b->data[i], ka); return MG_OK;
    case MG_LEAF:
    case MG_CUSTOM:
    case MG_OP_COUNT: return MG_OK;
    }
    return MG_OK;
}

// ----------------------------------------------------------------------------
// building

/* The block thread t appends nodes to, with room for n more nodes whose children lie in blocks
 * no newer than seq `need`: the current one, or a new one (NULL when out of memory). */
static inline mg_block *room(mg_thread *t, uint32_t n, uint64_t need) {
    mg_block *w = t->cur[NODES];
    if (w && w->used + n <= MG_BLOCK && w->seq >= need) return w;
    return open_block(t, NODES);
}

/* Appends a node to block w, which has room; a and b are live ids or -1. The caller counts it
 * into arena.created. */
static inline mg_id push(mg_block *w, uint8_t op, double x, mg_id a, mg_id b) {
    uint32_t i = w->used++;
    w->data[i] = x;
    w->grad[i] = 0.0;
    w->kid0[i] = (int32_t)a;
    w->kid1[i] = (int32_t)b;
    w->op[i] = op;
    return ID(w, i);
}

#define BEGIN(stream) do { if (!begin_call(stream)) return MG_ERR(MG_NOMEM); } while (0)

mg_id mg_leaf(double x) { BEGIN(LEAVES); return append(LEAVES, MG_LEAF, x, 0.0, -1, NULL, -1, NULL); }

typedef double (*binary_fn)(double, double);

static mg_id binary(uint8_t op, binary_fn f, mg_id a, mg_id b) {
    mg_block *ka = block_of(a), *kb = block_of(b);
    if (!ka || !kb) return MG_ERR(MG_BADID);
    double x = f(ka->data[OFF(a)], kb->data[OFF(b)]);
    return append(NODES, op, x, 0.0, a, ka, b, kb);
}

mg_id mg_add(mg_id a, mg_id b) { BEGIN(NODES); return binary(MG_ADD, add_forward, a, b); }
mg_id mg_mul(mg_id a, mg_id b) { BEGIN(NODES); return binary(MG_MUL, mul_forward, a, b); }

/* a op k: the number's leaf, then the node, as micrograd's Value(k) before the op; both in
 * one block, with one check for room. */
static mg_id binary_k(uint8_t op, binary_fn f, mg_id a, double k) {
    const mg_block *ka = block_of(a);
    if (!ka) return MG_ERR(MG_BADID);
    double x = f(ka->data[OFF(a)], k);
    mg_block *w = room(self, 2, ka->seq);
    if (!w) return MG_ERR(MG_NOMEM);
    mg_id kid = push(w, MG_LEAF, k, -1, -1);
    arena.created += 2;
    return push(w, op, x, a, kid);
}

mg_id mg_add_k(mg_id a, double k) { BEGIN(NODES); return binary_k(MG_ADD, add_forward, a, k); }
mg_id mg_mul_k(mg_id a, double k) { BEGIN(NODES); return binary_k(MG_MUL, mul_forward, a, k); }

mg_id mg_pow(mg_id a, double k, int k_is_int) {
    BEGIN(NODES);
    mg_block *ka = block_of(a);
    if (!ka) return MG_ERR(MG_BADID);
    double x;
    int st = pow_forward(ka->data[OFF(a)], k, &x);
    if (st) return MG_ERR(st);
    return append(NODES, k_is_int ? MG_POW_INT : MG_POW_FLOAT, x, k, a, ka, -1, NULL);
}

static mg_id relu(mg_id a) {
    mg_block *ka = block_of(a);
    if (!ka) return MG_ERR(MG_BADID);
    return append(NODES, MG_RELU, relu_forward(ka->data[OFF(a)]), 0.0, a, ka, -1, NULL);
}

mg_id mg_relu(mg_id a) { BEGIN(NODES); return relu(a); }

mg_id mg_tanh(mg_id a) {
    BEGIN(NODES);
    mg_block *ka = block_of(a);
    if (!ka) return MG_ERR(MG_BADID);
    return append(NODES, MG_TANH, tanh_forward(ka->data[OFF(a)]), 0.0, a, ka, -1, NULL);
}

mg_id mg_exp(mg_id a) {
    BEGIN(NODES);
    mg_block *ka = block_of(a);
    if (!ka) return MG_ERR(MG_BADID);
    double x;
    int st = exp_forward(ka->data[OFF(a)], &x);
    if (st) return MG_ERR(st);
    return append(NODES, MG_EXP, x, 0.0, a, ka, -1, NULL);
}

mg_id mg_custom(double x, mg_id a, mg_id b, double tag) {
    BEGIN(NODES);
    mg_block *ka = a < 0 ? NULL : block_of(a), *kb = b < 0 ? NULL : block_of(b);
    if ((a >= 0 && !ka) || (b >= 0 && !kb)) return MG_ERR(MG_BADID);
    if (!ka && kb) return append(NODES, MG_CUSTOM, x, tag, b, kb, -1, NULL);
    return append(NODES, MG_CUSTOM, x, tag, a, ka, b, kb);
}

// ----------------------------------------------------------------------------
// nn: a whole Neuron, Layer or MLP call in one go

/* The block of a node known to be live (the caller checked its id), and its data. */
#define LIVE_BLOCK(n) (arena.slot[(uint64_t)(n) >> MG_BLOCK_SHIFT])
#define LIVE_DATA(n) (LIVE_BLOCK(n)->data[OFF(n)])

int mg_net_check(mg_net *net) {
    uint64_t seq = 0;
    for (uint32_t l = 0; l < net->nlayers; l++) {
        const mg_layer_spec *L = &net->layers[l];
        if (L->nin == 0 || L->nout == 0 || (l && L->nin != net->layers[l - 1].nout)) return MG_BADID;
        for (size_t i = 0; i < (size_t)L->nout * L->nin + L->nout; i++) {
            mg_id p = i < (size_t)L->nout * L->nin ? L->w[i] : L->b[i - (size_t)L->nout * L->nin];
            const mg_block *k = block_of(p);
            if (!k) return MG_BADID;
            if (k->seq > seq) seq = k->seq;
        }
    }
    net->seq = seq;
    return MG_OK;
}

/* Thread t's two buffers of layer outputs, with room for the widest layer of net. */
static int net_buffers(mg_thread *t, const mg_net *net) {
    uint32_t need = 1;
    for (uint32_t l = 0; l < net->nlayers; l++)
        if (net->layers[l].nout > need) need = net->layers[l].nout;
    for (int k = 0; k < 2; k++)
        if (!grow((void **)&t->layer_out[k], &t->layer_cap[k], need, sizeof(mg_id))) return 0;
    return 1;
}

#define ROOM(n, need) do { if (!(w = room(t, (n), (need)))) { act = MG_ERR(MG_NOMEM); goto done; } } while (0)

mg_id mg_net_forward(const mg_net *net, const mg_id *x, const double *xk, uint32_t nx, mg_id *out_last) {
    if (!begin_call(NODES)) return MG_ERR(MG_NOMEM);
    mg_thread *t = self;
    if (!net_buffers(t, net)) return MG_ERR(MG_NOMEM);
    uint64_t need = net->seq;                           /* the children's newest block */
    for (uint32_t i = 0; i < nx; i++) {
        if (x[i] < 0) {
            if (!xk) return MG_ERR(MG_BADID);           /* a number, but none given */
            continue;
        }
        const mg_block *k = block_of(x[i]);
        if (!k) return MG_ERR(MG_BADID);
        if (k->seq > need) need = k->seq;
    }
    mg_block *w;
    uint64_t made = 0;
    mg_id act = 0;
    ROOM(0, need);
    const mg_id *in = x;
    for (uint32_t l = 0; l < net->nlayers; l++) {
        const mg_layer_spec *L = &net->layers[l];
        uint32_t m = l || nx > L->nin ? L->nin : nx;    /* zip stops at the shorter */
        uint32_t per = l || !xk ? 2 : 3;                /* nodes an input adds: [leaf,] mul, add */
        mg_id *out = l + 1 == net->nlayers && out_last ? out_last : t->layer_out[l & 1];
        for (uint32_t j = 0; j < L->nout; j++) {
            const mg_id *wj = L->w + (size_t)j * L->nin;
            act = L->b[j];
            double sum = LIVE_DATA(act);
            for (uint32_t i = 0; i < m;) {
                ROOM(per, 0);
                uint32_t fit = (MG_BLOCK - w->used) / per, start = i;
                uint32_t end = m - i < fit ? m : i + fit;
                for (; i < end; i++) {                  /* the inputs that fit in this block */
                    mg_id xi = in[i];
                    double xv;
                    if (xi < 0) {                       /* a number: a leaf of its own, as Value(k) */
                        xv = xk[i];
                        xi = push(w, MG_LEAF, xv, -1, -1);
                        made++;
                    } else {
                        xv = LIVE_DATA(xi);
                    }
                    double p = mul_forward(LIVE_DATA(wj[i]), xv);
                    mg_id prod = push(w, MG_MUL, p, wj[i], xi);
                    sum = add_forward(sum, p);
                    act = push(w, MG_ADD, sum, act, prod);
                }
                made += 2 * (uint64_t)(end - start);
            }
            if (L->nonlin[j]) {
                ROOM(1, 0);
                act = push(w, MG_RELU, relu_forward(sum), act, -1);
                made++;
            }
            out[j] = act;
        }
        in = out;
    }
    act = in[0];
done:
    arena.created += made;
    return act;
}

// ----------------------------------------------------------------------------
// reading and writing

double mg_data(mg_id n) { mg_block *b = block_of(n); return b ? b->data[OFF(n)] : NAN; }
double mg_grad(mg_id n) { mg_block *b = block_of(n); return b ? b->grad[OFF(n)] : NAN; }
void mg_set_data(mg_id n, double x) { mg_block *b = block_of(n); if (b) b->data[OFF(n)] = x; }
void mg_set_grad(mg_id n, double g) { mg_block *b = block_of(n); if (b) b->grad[OFF(n)] = g; }
int mg_op(mg_id n) { mg_block *b = block_of(n); return b ? b->op[OFF(n)] : -1; }
double mg_aux(mg_id n) { mg_block *b = block_of(n); return b ? b->aux[OFF(n)] : NAN; }
const char *mg_op_name(int op) { return op >= 0 && op < MG_OP_COUNT ? OP_NAME[op] : ""; }

mg_id mg_child(mg_id n, int which) {
    mg_block *b = block_of(n);
    if (!b || which < 0 || which > 1) return -1;
    return which ? b->kid1[OFF(n)] : b->kid0[OFF(n)];
}

// ----------------------------------------------------------------------------
// backward

static const mg_ref NO_REF = {NULL, NULL};

/* Points ref at child k's data and grad, and marks k for a visit of its own (and its block
 * as having one); stores, not tests, as most children are met once. */
#define VISIT_KID(k, ref)                                                   \
    do {                                                                    \
        uint32_t k_ = (uint32_t)(k);                                        \
        mg_block *c_ = slots[k_ >> MG_BLOCK_SHIFT];                         \
        uint32_t o_ = OFF(k_);                                              \
        c_->mark[o_] = 1;                                                   \
        c_->pending = 1;                                                    \
        (ref) = (mg_ref){&c_->data[o_], &c_->grad[o_]};                     \
    } while (0)
#define VISIT(k, ref) do { if ((k) >= 0) VISIT_KID(k, ref); } while (0)

int mg_backward(mg_id root) {
    mg_block *rb = block_of(root);
    if (!rb) return MG_BADID;
    mg_block *const *slots = arena.slot;
    uint32_t r = OFF(root);
    int status = MG_OK;
    rb->grad[r] = 1.0;
    rb->mark[r] = 1;
    rb->pending = 1;
    for (uint32_t pos = rb->pos + 1; pos-- > 0;) {   /* blocks with nothing marked cost a test */
        mg_block *b = arena.order[pos];
        if (!b->pending) continue;
        for (uint32_t i = b == rb ? r + 1 : b->used; i-- > 0;) {
            if (!b->mark[i]) continue;
            b->mark[i] = 0;
            uint8_t op = b->op[i];
            if (op == MG_MUL || op == MG_ADD) { /* the commonest ops, out of the switch */
                /* the loads first: a byte store may alias anything, and would force them again */
                uint32_t k0 = (uint32_t)b->kid0[i], k1 = (uint32_t)b->kid1[i];
                double g = b->grad[i];
                mg_block *c0 = slots[k0 >> MG_BLOCK_SHIFT], *c1 = slots[k1 >> MG_BLOCK_SHIFT];
                uint32_t o0 = OFF(k0), o1 = OFF(k1);
                double g0 = g, g1 = g;
                if (op == MG_MUL) {
                    g0 = c1->data[o1] * g;
                    g1 = c0->data[o0] * g;
                }
                c0->grad[o0] += g0;
                c1->grad[o1] += g1;
                c0->mark[o0] = 1;
                c1->mark[o1] = 1;
                c0->pending = 1;
                c1->pending = 1;
            } else {
                mg_ref ka = NO_REF, kb = NO_REF;
                VISIT(b->kid0[i], ka);
                VISIT(b->kid1[i], kb);
                int st = local_backward(b, i, ka, kb);
                if (st && !status) status = st;
            }
        }
        b->pending = 0;                 /* children lie below their parents: all visited */
    }
    return status;
}

static inline mg_ref ref_of(int32_t k) {
    if (k < 0) return NO_REF;
    mg_block *c = arena.slot[(uint32_t)k >> MG_BLOCK_SHIFT];
    return (mg_ref){&c->data[OFF(k)], &c->grad[OFF(k)]};
}

int mg_backward_node(mg_id n) {
    mg_block *b = block_of(n);
    if (!b) return MG_BADID;
    uint32_t i = OFF(n);
    return local_backward(b, i, ref_of(b->kid0[i]), ref_of(b->kid1[i]));
}

// ----------------------------------------------------------------------------
// lifetime

uint32_t mg_slots(void) { return arena.nslots; }
void mg_cover(uint32_t n) { arena.covered = n; }
int mg_slot_trigger(uint32_t s) {
    return s < arena.nslots && arena.slot[s] ? arena.slot[s]->trigger : MG_TRIGGER_NONE;
}
uint64_t mg_collect_begin(void) {
    for (uint32_t p = 0; p < arena.norder; p++) {
        mg_block *b = arena.order[p];
        b->young = b->fresh;
        b->fresh = b->used;
    }
    arena.young_seq = arena.fresh_seq;
    arena.fresh_seq = arena.seq;
    return ++arena.begun;
}
uint64_t mg_created(void) { return arena.created; }

int64_t mg_live_nodes(void) {
    int64_t n = 0;
    for (uint32_t p = 0; p < arena.norder; p++) n += arena.order[p]->used;
    return n;
}

int64_t mg_arena_bytes(void) {
    int64_t n = (int64_t)arena.norder * sizeof(mg_block);
    n += (int64_t)arena.slotcap * sizeof(mg_block *) + (int64_t)arena.ordercap * sizeof(mg_block *);
    n += (int64_t)arena.freecap * sizeof(uint32_t);
    n += (int64_t)arena.sparecap * sizeof(mg_block *);     /* the spares themselves hold no node */
    for (const mg_thread *t = threads; t; t = t->next) n += sizeof *t;
    return n;
}

int64_t mg_spare_bytes(void) { return (int64_t)arena.nspare * sizeof(mg_block); }

int mg_should_collect(void) {
    return arena.since >= collect_wait(arena.kept);
}

/* From which offset block b's nodes are roots as the last call of a thread other than
 * `caller` (MG_BLOCK: none). */
static uint32_t last_call_from(const mg_block *b, const mg_thread *caller) {
    const mg_thread *t = b->thread;
    if (!t || t == caller || !__atomic_load_n(&t->alive, __ATOMIC_ACQUIRE)) return MG_BLOCK;
    if (b->seq > t->from_seq[b->stream]) return 0;
    return b->seq == t->from_seq[b->stream] ? t->from_off[b->stream] : MG_BLOCK;
}

/* Marks node k as reachable from a root, unless it is a root itself (a weight, say, whose
 * block has a live owner: the commonest child, and its block's line is kept out of the writes). */
static inline void mark_live(int32_t k) {
    mg_block *c = arena.slot[(uint32_t)k >> MG_BLOCK_SHIFT];
    if (OFF(k) < c->roots) {
        c->mark[OFF(k)] = 1;
        c->pending = 1;
    }
}

/* The collection that a trigger block's first Value set off has run: later nodes go elsewhere,
 * into slots the Python layer's table covers. */
static void close_triggers(void) {
    for (uint32_t p = 0; p < arena.norder; p++) {
        mg_block *b = arena.order[p];
        if (b->trigger != MG_TRIGGER_OPEN) continue;
        b->trigger = MG_TRIGGER_CLOSED;
        if (b->thread && b->thread->cur[b->stream] == b) {
            b->thread->cur[b->stream] = NULL;
            unpin(b);
        }
    }
}

static int highest_first(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x < y) - (x > y);
}

/* Frees every block that holds no node reachable from a root (see the design note).
 * rooted[s] != 0 says slot s has a live owner; slots at or past n have none. token is what
 * mg_collect_begin() returned before the owners were counted; if another begin came since,
 * the call does nothing and returns MG_STALE. caller_idle says the calling thread wraps
 * nothing now, so its last call's nodes need not be kept. After the call, ids in freed
 * blocks are no longer valid, and slot numbers may be reused. */
int mg_collect(const uint8_t *rooted, uint32_t n, uint64_t token, int caller_idle) {
    const mg_thread *caller = caller_idle ? self : NULL;
    if (token != arena.begun) return MG_STALE;
    for (uint32_t pos = 0; pos < arena.norder; pos++) {
        mg_block *b = arena.order[pos];
        uint32_t from = b->slot < n && rooted[b->slot] ? 0 : b->young;
        uint32_t last = last_call_from(b, caller);
        b->roots = last < from ? last : from;
    }
    uint32_t kept = 0;
    for (uint32_t pos = arena.norder; pos-- > 0;) {
        mg_block *b = arena.order[pos];
        int pinned = __atomic_load_n(&b->pinned, __ATOMIC_ACQUIRE);
        uint32_t from = b->roots < b->used ? b->roots : b->used;
        uint32_t live = b->used - from;
        if (live || b->pending || pinned) {             /* else nothing here is live: no node to visit */
            /* the roots; a child among them (the commonest, in a young block) is one itself */
            uint32_t lo = (uint32_t)ID(b, from), span = b->used - from;
            for (uint32_t i = b->used; i-- > from;) {
                uint32_t k0 = (uint32_t)b->kid0[i], k1 = (uint32_t)b->kid1[i];
                if (k0 - lo >= span && (int32_t)k0 >= 0) mark_live((int32_t)k0);
                if (k1 - lo >= span && (int32_t)k1 >= 0) mark_live((int32_t)k1);
            }
            for (uint32_t i = from; i-- > 0;) {
                if (b->mark[i]) {
                    live++;
                    if (b->kid0[i] >= 0) mark_live(b->kid0[i]);
                    if (b->kid1[i] >= 0) mark_live(b->kid1[i]);
                } else {
                    b->kid0[i] = b->kid1[i] = -1;   /* dead for good: its children may go */
                }
            }
            memset(b->mark, 0, from);
            b->pending = 0;
        }
        if (live || pinned) {       /* a block being appended to stays */
            arena.order[pos] = b;
            kept += b->seq < arena.young_seq;   /* young blocks are not what the next wait scales with */
        } else {
            arena.slot[b->slot] = NULL;
            arena.freeslots[arena.nfree++] = b->slot;
            arena.order[pos] = NULL;
            block_free(b, collect_wait(arena.kept));
        }
    }
    uint32_t k = 0;                     /* close the gaps, oldest first */
    for (uint32_t p = 0; p < arena.norder; p++)
        if (arena.order[p]) {
            arena.order[k] = arena.order[p];
            arena.order[k]->pos = k;
            k++;
        }
    arena.norder = k;
    close_triggers();
    qsort(arena.freeslots, arena.nfree, sizeof *arena.freeslots, highest_first);
    arena.kept = kept;
    while (arena.nspare > collect_wait(kept)) free(arena.spare[--arena.nspare]);
    arena.since = 0;
    arena.begun++;
    return MG_OK;
}
