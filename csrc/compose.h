/*
 * compose.h: what micrograd composes from its primitives, built in one call (compose.c):
 * -a, a - b and a / b as micrograd writes them (a * -1, a + (-b), a * b**-1), and the
 * functional ops (micrograd_c/functional.py, where the Python each stands for is written
 * out), node for node.
 */
#ifndef MG_COMPOSE_H
#define MG_COMPOSE_H
#include "fold.h"

/* Each appends its nodes and returns the id of the last, or MG_ERR(status). An operand is a
 * term (fold.h): a live node with a Value, or a number; at least one of the two is a node. */
mg_id mg_build_neg(mg_term a);                  /* a * -1: leaf -1, the product */
mg_id mg_build_sub(mg_term a, mg_term b);       /* a + (-b); b a number: a + leaf(-b) */
mg_id mg_build_div(mg_term a, mg_term b);       /* a * b**-1; b a number: a * leaf(b**-1) */

/* The functional ops. Operand lists are ids or, where an id is negative, the number at the
 * same index of the parallel array (which may be NULL where no id is); the ids are live nodes
 * with a Value (the glue reads them from bound Values, and no Python runs until the return). Each appends its
 * nodes and returns MG_OK with the results' ids in out (or the id of the one result), or a status; n >= 1
 * throughout. */
int mg_build_dot(mg_term start, const mg_id *a, const double *ak, const mg_id *b, const double *bk,
                 uint32_t n, mg_id *out);                                   /* sum((ai * bi ...), start) */
int mg_build_linear(const mg_id *x, const double *xk, uint32_t nin, const mg_id *w, const double *wk,
                    const mg_id *bias, const double *biask, uint32_t nout, mg_id *out);
int mg_build_sum(mg_term start, const mg_id *v, const double *vk, uint32_t n, mg_id *out);
int mg_build_softmax(const mg_id *v, uint32_t n, mg_id *out);
int mg_build_log_softmax(const mg_id *v, uint32_t n, mg_id *out);
int mg_build_rmsnorm(const mg_id *x, uint32_t n, double eps, mg_id *out);
int mg_build_cross_entropy(const mg_id *v, uint32_t n, uint32_t target, mg_id *out); /* out: n ids of room */
int mg_build_map(int op, const mg_id *v, uint32_t n, mg_id *out); /* a unary op on each */

#endif
