/*
 * micrograd.h: the C API of micrograd_c's core.
 *
 * This file is the only declaration of the API: the cffi build reads it as its cdef
 * (dropping the lines that start with '#'), so keep it to plain typedefs, enums and
 * prototypes. Every exported name starts with mg_ / MG_.
 *
 * Node ids are plain integers: the Python layer never holds a pointer into memory that can
 * move. An op that fails returns MG_ERROR + an mg_status instead of an id; every other
 * call that can fail returns an mg_status.
 */
#ifndef MICROGRAD_H
#define MICROGRAD_H
#include <stdint.h>

typedef int64_t mg_id;

enum mg_layout {
    MG_BLOCK_SHIFT = 12,        /* a block holds 1 << MG_BLOCK_SHIFT nodes; id = slot << shift | offset */
    MG_ERROR_SHIFT = 62         /* a failed op returns (1 << MG_ERROR_SHIFT) + its mg_status */
};

/* Every op has its row in OP_NAME[] and its case in local_backward(), micrograd.c; keep MG_OP_COUNT last. */
enum mg_op {
    MG_LEAF,                    /* a number: Value(x) */
    MG_ADD,                     /* a + b */
    MG_MUL,                     /* a * b */
    MG_POW_INT,                 /* a ** k, k given as a Python int (the _op reads '**2') */
    MG_POW_FLOAT,               /* a ** k, k given as a Python float (the _op reads '**2.0') */
    MG_RELU,                    /* relu(a) */
    MG_TANH,                    /* tanh(a) */
    MG_EXP,                     /* exp(a) */
    MG_CUSTOM,                  /* Value(x, children, op) built by hand: edges, no local derivative */
    MG_OP_COUNT
};

/* What mg_slot_trigger says of a slot's block (see open_block in micrograd.c). */
enum mg_trigger {
    MG_TRIGGER_NONE,            /* an ordinary block, or no block */
    MG_TRIGGER_OPEN,            /* opened when a collection was due: its first Value collects */
    MG_TRIGGER_CLOSED           /* one that was, closed to new nodes by that collection */
};

enum mg_status {
    MG_OK,
    MG_NOMEM,                   /* out of memory: MemoryError */
    MG_ZERODIV,                 /* 0.0 to a negative power: ZeroDivisionError */
    MG_OVERFLOW,                /* result out of range: OverflowError */
    MG_DOMAIN,                  /* negative number to a fractional power: ValueError */
    MG_BADID,                   /* not the id of a live node: ValueError */
    MG_STALE                    /* a collection ran since the caller read its roots: nothing done */
};

/* --- building: each appends one node and returns its id ---
 * A number operand k gets a leaf of its own at each use, as micrograd's Value(k). Binary ops
 * take two arguments: cffi's argument tuple costs less than packing two ids into one Python int
 * (a multi-digit int, slow to make and to convert), and a number operand costs the same. */
mg_id mg_leaf(double x);                /* Value(x): kept with the other leaves */
mg_id mg_add(mg_id a, mg_id b);
mg_id mg_mul(mg_id a, mg_id b);
mg_id mg_add_k(mg_id a, double k);      /* a + k for a number k: its leaf, then the sum */
mg_id mg_mul_k(mg_id a, double k);      /* a * k likewise */
mg_id mg_pow(mg_id a, double k, int k_is_int);
mg_id mg_relu(mg_id a);
mg_id mg_tanh(mg_id a);
mg_id mg_exp(mg_id a);
mg_id mg_custom(double x, mg_id a, mg_id b, double tag);   /* a, b: children or -1; tag: caller's op-name index */

/* --- nn: a whole Neuron, Layer or MLP call in one go ---
 * A layer's neurons, as micrograd's Neuron calls build them: for neuron j,
 * act = b[j]; for each input i: act = act + w[j * nin + i] * x[i]; then relu(act) if nonlin[j]. */
typedef struct {
    uint32_t nin;               /* weights per neuron */
    uint32_t nout;              /* neurons */
    const mg_id *w;             /* nout * nin weight ids, neuron after neuron */
    const mg_id *b;             /* nout bias ids */
    const uint8_t *nonlin;      /* nout flags: relu after the sum */
} mg_layer_spec;

typedef struct {
    uint32_t nlayers;
    const mg_layer_spec *layers; /* layer l + 1 takes layer l's outputs: its nin is their count */
    uint64_t seq;               /* set by mg_net_check: the newest block holding a parameter */
} mg_net;

/* Checks that every parameter id is live and the layers chain; sets net->seq. Returns an
 * mg_status; mg_net_forward trusts a net that passed, as long as its parameters live. */
int mg_net_check(mg_net *net);

/* Appends the nodes of the net's layers on inputs x[0..nx), in micrograd's order, and returns
 * the id of the last layer's first output (or MG_ERROR + status); out, unless NULL, gets all of
 * the last layer's outputs. Layer 0 uses the first min(nx, nin) inputs and weights, as zip does.
 * x[i] < 0 stands for the number xk[i], which gets a leaf of its own at each use, as in
 * `w * 2.0`; xk may be NULL when no x[i] is. */
mg_id mg_net_forward(const mg_net *net, const mg_id *x, const double *xk, uint32_t nx, mg_id *out);

/* --- reading and writing one node (an unknown id reads as NaN / -1 and writes nothing) --- */
double mg_data(mg_id n);
double mg_grad(mg_id n);
void mg_set_data(mg_id n, double x);
void mg_set_grad(mg_id n, double g);
int mg_op(mg_id n);
double mg_aux(mg_id n);                 /* the exponent of a pow, the tag of a custom node */
mg_id mg_child(mg_id n, int which);     /* which = 0 or 1; -1 where there is none */
const char *mg_op_name(int op);         /* micrograd's _op for an op that has a fixed one, else "" */

/* --- backward --- */
int mg_backward(mg_id root);            /* root.grad = 1, then += into everything it reaches */
int mg_backward_node(mg_id n);          /* n's local chain rule only (the lecture's _backward()) */

/* --- lifetime: see the design note at the top of micrograd.c --- */
uint32_t mg_slots(void);                /* slot count; the Python layer keeps one owner per slot */
void mg_cover(uint32_t n);              /* its flat table of owners by node id covers slots 0..n) */
int mg_slot_trigger(uint32_t slot);     /* an mg_trigger */
uint64_t mg_collect_begin(void);        /* call before reading the owners' counts; returns a token */
uint64_t mg_created(void);              /* nodes created so far (never wraps in practice) */
int mg_should_collect(void);
int mg_collect(const uint8_t *rooted, uint32_t n, uint64_t token, int caller_idle);
int64_t mg_live_nodes(void);            /* nodes held in blocks not yet reclaimed */
int64_t mg_arena_bytes(void);           /* bytes of the blocks that hold nodes, and of the tables */
int64_t mg_spare_bytes(void);           /* bytes of the freed blocks kept for reuse */

/* defined by the cffi glue, not by micrograd.c: 1 when called through glue that keeps the GIL */
int mg_glue_holds_gil(void);
/* defined by the glue too (csrc/py_fields.c): sets module.cls.data and .grad to C descriptors */
int mg_glue_install_fields(const char *module, const char *cls);
int mg_glue_fields_direct(void);        /* 1 when they read a Value's _id slot at its offset */

#endif
