/*
 * micrograd.h: the C API of micrograd_c's core, as Python's cffi sees it.
 *
 * This file is the only declaration of that API: the cffi build reads it as its cdef
 * (dropping the lines that start with '#'), so keep it to plain typedefs, enums and
 * prototypes. Every exported name starts with mg_ / MG_. The core's own files share more
 * through arena.h and ops.h, which cffi does not read.
 *
 * Node ids are plain integers: Python never holds a pointer into memory that can move. A call
 * that can fail returns an mg_status; a builder that fails returns MG_ERROR + its status.
 */
#ifndef MICROGRAD_H
#define MICROGRAD_H
#include <stdint.h>

typedef int64_t mg_id;

enum mg_layout {
    MG_BLOCK_SHIFT = 12,        /* a block holds 1 << MG_BLOCK_SHIFT nodes; id = slot << shift | offset */
    MG_ERROR_SHIFT = 62         /* a failed builder returns (1 << MG_ERROR_SHIFT) + its mg_status */
};

enum mg_status {
    MG_OK,
    MG_NOMEM,                   /* out of memory: MemoryError */
    MG_ZERODIV,                 /* 0.0 to a negative power: ZeroDivisionError */
    MG_OVERFLOW,                /* result out of range: OverflowError */
    MG_DOMAIN,                  /* negative number to a fractional power: ValueError */
    MG_LOG_DOMAIN,              /* log of 0.0 or of a negative number: ValueError, as math.log */
    MG_BADID,                   /* not the id of a live node: ValueError */
    MG_STALE,                   /* an nn plan whose parameters' nodes changed: make it again */
    MG_BUSY,                    /* backward() while another one is stopped at a Python rule */
    MG_PYTHON                   /* a sweep stopped at a node whose rule is Python's (ops.h) */
};

/* --- the op table (ops.h's MG_OP_TABLE: a row per op, op = its index) --- */
typedef struct {
    const char *key;            /* enum mg_op's name after MG_ ("ADD", "RELU") */
    const char *name;           /* micrograd's _op, "" where Python spells it out (pow) */
    const char *method;         /* the Value method that makes the op, or "" */
    const char *symbol;         /* a binary op's Python operator ("+"), or "" */
    const char *activation;     /* nn's name for the op as an activation ("ReLU"), or "" */
    int arity;                  /* operands: the children _prev shows */
    int value_first;            /* `k op v` builds v op k, as micrograd's + and *: it commutes */
} mg_op_desc;

int mg_op_count(void);
const mg_op_desc *mg_op_describe(int op);   /* NULL for a number outside the table */

/* --- reading one node (an id that is not live reads as NaN / -1) --- */
double mg_data(mg_id n);
double mg_grad(mg_id n);
int mg_op(mg_id n);
double mg_aux(mg_id n);                 /* the exponent of a pow, the tag of a custom node */
mg_id mg_child(mg_id n, int which);     /* which = 0 or 1, hidden ones included; -1: none */

/* --- backward (ops.c; the sweep itself is the glue's: ops.h) --- */
int mg_backward_node(mg_id n);          /* n's local chain rule only (the lecture's _backward()) */

/* --- lifetime (arena.c; the design note there) --- */
int mg_collect(void);                   /* a collection now, handing freed blocks back */
int64_t mg_live_nodes(void);            /* nodes in blocks that hold a live node */
int64_t mg_arena_bytes(void);           /* bytes of those blocks and of the arena's tables */
int64_t mg_spare_bytes(void);           /* bytes of freed blocks kept for the nodes to come */
int64_t mg_collections(void);           /* collections so far */

/* --- the Python type glue (module.c and the files glue.h lists, in the cffi module) --- */
int mg_glue_holds_gil(void);            /* 1 when called through glue that keeps the GIL */
int mg_glue_install(void);              /* puts ValueBase and the glue's functions on _core */
const char *mg_glue_error(void);        /* why the last mg_glue_install failed */

enum mg_glue_status {                   /* what mg_glue_install returns */
    MG_GLUE_OK,
    MG_GLUE_FAILED,                     /* the types could not be made: mg_glue_error() says why */
    MG_GLUE_SUBINTERPRETER              /* not the main interpreter: nothing was touched */
};

#endif
