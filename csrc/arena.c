/*
 * arena.c: the node arena of micrograd_c and its collector.
 *
 * What this file is: every Value's data, grad, op and children live here, in blocks of
 * MG_BLOCK nodes (arena.h), and this file decides when a block is freed. What it will not do:
 * print, exit, abort, or reach into Python (a node's Value is an opaque pointer to it).
 *
 * --- Design note: the invariants the core and the glue (value.c) keep ---
 *  1. Order. Nodes are only appended, at the end of the newest block, and a node's children
 *     exist before it; so (block seq, offset) is a topological order, and backward and the
 *     collection are each one descending sweep, with no recursion.
 *  2. One Value a node. A node has at most one live Value, and the arena knows it (value[],
 *     held): the glue binds a Value in the same C call that appends its node, and a Value's
 *     deallocation unbinds it (10). A Value's node changes only when __init__ runs again on
 *     it, which bumps mg_arena.epoch (an nn plan checks it: its ids are its Values' nodes).
 *     A Value keeps no copy of its node's data or grad: its getters read the node, so the
 *     arena is the one place either is written.
 *  3. Roots. A collection's roots are exactly the nodes that have a Value; a node is live when
 *     a root reaches it. A Value's children are live, so `_prev` can always give them Values.
 *  4. When. A collection runs only in mg_begin, the first step of every building call, and in
 *     mg_collect, which Python calls outside building calls (collect(), gc.callbacks). The
 *     glue allocates a Value before it appends the node, so no Python code, hence no
 *     collection, runs while a node lacks its Value: a call in progress loses nothing.
 *  5. Freeing. A block with no live node is freed whole and its slot reused; nothing moves.
 *     Dead nodes in a live block stay until the block goes; nothing live reaches them, so
 *     nothing visits them again.
 *  6. Pointers. A block pointer is valid until the next collection: no code keeps one across
 *     mg_begin or across anything that can run Python; it looks the id up again. The one
 *     exception: a block holding a node whose Value the keeper itself holds is never freed
 *     (3, 5), so an optimizer's parameter set (optim_glue.c) keeps pointers to its parameters'
 *     data and grad, and reads them again whenever mg_arena.epoch moves (2).
 *  7. Cadence. A collection is due when the blocks opened since the last one reach
 *     max(MG_MIN_WAIT, MG_GROWTH x the blocks it kept): the arena stays within a small
 *     multiple of what is live, and a loop runs at flat memory. Up to MG_MAX_SPARE freed
 *     blocks are kept for the next ones, and the rest go back to the system, so memory comes
 *     back after a drop. The reserve does not follow the wait: a training step's live set, and
 *     so the wait, rise and fall within a step, and a reserve cut to a low wait had fresh pages
 *     mapped again a step later (a GPT step of 20 blocks took 170 page faults, now 3).
 *  8. Threads. The glue holds the GIL through every call into the core, and the core runs in
 *     no other way: there is no thread state and no lock here.
 *  9. Marks. mark[] is all zero between calls: backward and the collection clear what they set.
 * 10. Python runs in between. Allocating an object (Python's collector and its gc.callbacks),
 *     dropping a reference (__del__, weakref callbacks) and calling a hook can run any Python,
 *     which can re-initialise any Value (2) and run a collection (4). So the glue (value.c):
 *     a. reads an id, or a block pointer from one, only after the last call that can run
 *        Python, and reads it again after any such call (a loop that allocates what it needs,
 *        then reads everything again, until a read needs nothing more);
 *     b. unbinds a Value in its deallocation before anything user-visible runs (its weakref
 *        callbacks, the clearing of its attributes);
 *     c. treats a bound Value whose reference count is zero as absent: it is being freed
 *        (a subclass's attributes or weak references are cleared before the base's
 *        deallocation runs), so the node lets go of it and gets a new Value if one is asked
 *        for; no reference to a dying Value is ever taken;
 *     d. makes an object consistent before it drops references it held (forget_kids).
 * 11. Python backward rules. A node whose Value was given a `_backward` callable carries
 *     MG_OP_PY in its op byte. A Value made by an op on such a Value, or on one made so, keeps
 *     its children's Values (as micrograd's _prev does; value.c's `below`), so a callable lives
 *     as long as any Value above its node. The sweep (ops.c) stops at an MG_OP_PY node, with its
 *     children marked, and the glue calls the callable, then resumes it. While a sweep is
 *     stopped, mg_arena.sweeping holds every collection off (mg_begin, mg_collect: the marks
 *     are the sweep's, and blocks must not move), nodes may still be appended, and a second
 *     sweep is refused (MG_BUSY); a sweep abandoned (the callable raised) clears its marks.
 */
#define _DEFAULT_SOURCE             /* MAP_ANON from <sys/mman.h> under -std=c11 */
#include "arena.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <sys/mman.h>
#endif

#define MG_MAX_SLOTS ((uint32_t)1 << (31 - MG_BLOCK_SHIFT))  /* ids fit in int32 children */
#define MG_MIN_WAIT 16u             /* blocks between collections, at least */
#define MG_GROWTH 2u                /* ... or this many times the blocks the last one kept */
#define MG_MAX_SPARE 64u            /* freed blocks kept for reuse, at most (11 MB) */
#define MG_PAGE 4096u
#define BLOCK_BYTES ((sizeof(mg_block) + MG_PAGE - 1) / MG_PAGE * MG_PAGE)

mg_arena_t mg_arena = {.wait = MG_MIN_WAIT};

// ----------------------------------------------------------------------------
// pages: blocks come zeroed from the system and go back to it (malloc would keep freed
// blocks of this size in its heap, and the memory would not come back)

static void *pages_alloc(size_t n) {
#if defined(_WIN32)
    return VirtualAlloc(NULL, n, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
#else
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0);
    return p == MAP_FAILED ? NULL : p;
#endif
}

static void pages_free(void *p, size_t n) {
#if defined(_WIN32)
    (void)n;
    VirtualFree(p, 0, MEM_RELEASE);
#else
    munmap(p, n);
#endif
}

// ----------------------------------------------------------------------------
// blocks

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

/* A block with no nodes: a spare (its value[] all NULL, its marks all zero, as a freed
 * block's are) or fresh pages. NULL when out of memory. */
static mg_block *block_new(void) {
    mg_block *b = mg_arena.nspare ? mg_arena.spare[--mg_arena.nspare] : pages_alloc(BLOCK_BYTES);
    if (b) memset(b, 0, offsetof(mg_block, data));
    return b;
}

/* Keeps freed block b as a spare, or gives it back when the spares cannot grow. */
static void block_release(mg_block *b) {
    if (grow((void **)&mg_arena.spare, &mg_arena.sparecap, mg_arena.nspare + 1, sizeof b))
        mg_arena.spare[mg_arena.nspare++] = b;
    else
        pages_free(b, BLOCK_BYTES);
}

static uint32_t take_slot(void) {
    if (mg_arena.nfree) return mg_arena.freeslots[--mg_arena.nfree];
    if (mg_arena.nslots == MG_MAX_SLOTS) return MG_MAX_SLOTS;
    if (!grow((void **)&mg_arena.slot, &mg_arena.slotcap, mg_arena.nslots + 1, sizeof(mg_block *)))
        return MG_MAX_SLOTS;
    mg_arena.slot[mg_arena.nslots] = NULL;
    return mg_arena.nslots++;
}

mg_block *mg_open_block(void) {
    mg_arena_t *a = &mg_arena;
    /* room first, so that nothing below can fail once the block is taken */
    if (!grow((void **)&a->order, &a->ordercap, a->norder + 1, sizeof(mg_block *))) return NULL;
    if (!grow((void **)&a->freeslots, &a->freecap, a->nslots + 1, sizeof(uint32_t))) return NULL;
    uint32_t s = take_slot();
    if (s == MG_MAX_SLOTS) return NULL;
    mg_block *b = block_new();
    if (!b) {
        a->freeslots[a->nfree++] = s;
        return NULL;
    }
    a->slot[s] = b;
    b->slot = s;
    b->seq = a->seq++;
    b->pos = a->norder;
    a->order[a->norder++] = b;
    a->since++;
    a->cur = b;
    return b;
}

// ----------------------------------------------------------------------------
// the collector (invariants 3 to 7)

/* The number of node b's nodes that are roots or marked, marking their children. */
static uint32_t visit(mg_block *b) {
    uint32_t live = 0;
    void *const *value = b->value;
    const uint8_t *m = b->mark;
    for (uint32_t i = b->used; i-- > 0;) {
        if (!m[i] && !value[i]) continue;
        live++;
        mg_mark_kids(b, i);
    }
    memset(b->mark, 0, b->used);
    b->pending = 0;
    return live;
}

static void collect(void) {
    mg_arena_t *a = &mg_arena;
    uint32_t kept = 0;
    for (uint32_t pos = a->norder; pos-- > 0;) {    /* newest first: parents before children */
        mg_block *b = a->order[pos];
        if ((b->held || b->pending) && visit(b)) {
            kept++;
            continue;
        }
        a->slot[b->slot] = NULL;
        a->freeslots[a->nfree++] = b->slot;        /* room: freecap >= nslots */
        a->order[pos] = NULL;
        if (a->cur == b) a->cur = NULL;
        block_release(b);
    }
    uint32_t k = 0;                                 /* close the gaps, oldest first */
    for (uint32_t p = 0; p < a->norder; p++)
        if (a->order[p]) {
            a->order[k] = a->order[p];
            a->order[k]->pos = k;
            k++;
        }
    a->norder = k;
    a->since = 0;
    a->wait = kept * MG_GROWTH > MG_MIN_WAIT ? kept * MG_GROWTH : MG_MIN_WAIT;
    while (a->nspare > MG_MAX_SPARE) pages_free(a->spare[--a->nspare], BLOCK_BYTES);
    a->collections++;
}

void mg_collect_due(void) { collect(); }

int mg_collect(void) {
    if (!mg_arena.sweeping) collect();     /* else when the sweep is over (note 11) */
    return MG_OK;
}

int64_t mg_collections(void) { return mg_arena.collections; }

int64_t mg_live_nodes(void) {
    int64_t n = 0;
    for (uint32_t p = 0; p < mg_arena.norder; p++) n += mg_arena.order[p]->used;
    return n;
}

int64_t mg_arena_bytes(void) {
    const mg_arena_t *a = &mg_arena;
    int64_t n = (int64_t)a->norder * (int64_t)BLOCK_BYTES;
    n += (int64_t)(a->slotcap + a->ordercap + a->sparecap) * (int64_t)sizeof(mg_block *);
    n += (int64_t)a->freecap * (int64_t)sizeof(uint32_t);
    return n;
}

int64_t mg_spare_bytes(void) { return (int64_t)mg_arena.nspare * (int64_t)BLOCK_BYTES; }

// ----------------------------------------------------------------------------
// reading one node

double mg_data(mg_id n) {
    mg_block *b = mg_block_of(n);
    return b ? b->data[MG_OFF(n)] : NAN;
}
double mg_grad(mg_id n) {
    mg_block *b = mg_block_of(n);
    return b ? b->grad[MG_OFF(n)] : NAN;
}
int mg_op(mg_id n) {
    mg_block *b = mg_block_of(n);
    return b ? mg_op_at(b, MG_OFF(n)) : -1;
}
double mg_aux(mg_id n) {
    mg_block *b = mg_block_of(n);
    return b ? b->aux[MG_OFF(n)] : NAN;
}

mg_id mg_child(mg_id n, int which) {
    mg_block *b = mg_block_of(n);
    if (!b || which < 0 || which > 1) return -1;
    return which ? b->kid1[MG_OFF(n)] : b->kid0[MG_OFF(n)];
}
