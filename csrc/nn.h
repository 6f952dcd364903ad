/*
 * nn.h: a whole Neuron, Layer or MLP call in one go (nn.c), for the glue (not the cffi API).
 */
#ifndef MG_NN_H
#define MG_NN_H
#include "arena.h"

/* A layer's neurons, as micrograd's Neuron calls build them: for neuron j,
 * act = b[j]; for each input i: act = act + w[j * nin + i] * x[i]; then act.<nonlin[j]>()
 * (relu in micrograd's, tanh or sigmoid as activation= asks) where nonlin[j] is not 0. */
typedef struct {
    uint32_t nin;               /* weights per neuron */
    uint32_t nout;              /* neurons */
    mg_id *w;                   /* nout * nin weight ids, neuron after neuron */
    mg_id *b;                   /* nout bias ids */
    uint8_t *nonlin;            /* nout ops: a unary op after the sum (MG_RELU, ...), or 0 */
} mg_layer;

typedef struct {
    uint32_t nlayers;
    mg_layer *layers;           /* layer l + 1 takes layer l's outputs: its nin is their count */
    uint64_t epoch;             /* mg_arena.epoch when the ids were read from their Values */
} mg_net;

/* Whether the layers chain (each nin is the last nout) and every id is live: an mg_status. */
int mg_net_check(const mg_net *net);

/* Appends the nodes of the net on inputs x[0..nx), in micrograd's order, and writes the last
 * layer's outputs to out; returns the first of them, or MG_ERR(status): MG_STALE when a
 * parameter's Value changed node since the ids were read. Layer 0 takes the first
 * min(nx, nin) inputs, as zip does; x[i] < 0 stands for the number xk[i], which gets a leaf of
 * its own at each use, as `w * 2.0` does (xk may be NULL when no x[i] is). The ids in x are
 * live nodes with a Value, and so are the parameters (the caller's Values hold them). */
mg_id mg_net_forward(const mg_net *net, const mg_id *x, const double *xk, uint32_t nx, mg_id *out);

#endif
