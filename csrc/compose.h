/*
 * compose.h: what micrograd composes from its primitives, built in one call (compose.c):
 * -a, a - b and a / b as micrograd writes them (a * -1, a + (-b), a * b**-1), node for node.
 */
#ifndef MG_COMPOSE_H
#define MG_COMPOSE_H
#include "fold.h"

/* Each appends its nodes and returns the id of the last, or MG_ERR(status). An operand is a
 * term (fold.h): a live node with a Value, or a number; at least one of the two is a node. */
mg_id mg_build_neg(mg_term a);                  /* a * -1: leaf -1, the product */
mg_id mg_build_sub(mg_term a, mg_term b);       /* a + (-b); b a number: a + leaf(-b) */
mg_id mg_build_div(mg_term a, mg_term b);       /* a * b**-1; b a number: a * leaf(b**-1) */

#endif
