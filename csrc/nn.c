/*
 * nn.c: a whole Neuron, Layer or MLP call in one go: the same nodes in the same order as
 * micrograd's fold, so forward values, _prev and drawings are micrograd's (invariant 1 of the
 * nn plan, micrograd_c/_plan.py).
 */
#include "nn.h"

#include <stdlib.h>

#include "fold.h"

int mg_net_check(const mg_net *net) {
    for (uint32_t l = 0; l < net->nlayers; l++) {
        const mg_layer *L = &net->layers[l];
        if (L->nin == 0 || L->nout == 0 || (l && L->nin != net->layers[l - 1].nout)) return MG_BADID;
        for (size_t i = 0; i < (size_t)L->nout * L->nin; i++)
            if (!mg_block_of(L->w[i])) return MG_BADID;
        for (uint32_t j = 0; j < L->nout; j++)
            if (!mg_block_of(L->b[j])) return MG_BADID;
    }
    return MG_OK;
}

/* Two buffers of a hidden layer's outputs, taken in turn (no Python runs in a call). */
static mg_id *hidden[2];
static uint32_t hidden_cap;

static int hidden_room(const mg_net *net) {
    uint32_t need = 1;
    for (uint32_t l = 0; l < net->nlayers; l++)
        if (net->layers[l].nout > need) need = net->layers[l].nout;
    if (need <= hidden_cap) return 1;
    for (int k = 0; k < 2; k++) {
        mg_id *p = realloc(hidden[k], (size_t)need * sizeof *p);
        if (!p) return 0;
        hidden[k] = p;
    }
    hidden_cap = need;
    return 1;
}

mg_id mg_net_forward(const mg_net *net, const mg_id *x, const double *xk, uint32_t nx, mg_id *out_last) {
    mg_begin();
    if (net->epoch != mg_arena.epoch) return MG_ERR(MG_STALE);
    if (!hidden_room(net)) return MG_ERR(MG_NOMEM);
    for (uint32_t i = 0; i < nx; i++)
        if (x[i] < 0 ? !xk : !mg_block_of(x[i])) return MG_ERR(MG_BADID);
    const mg_id *in = x;
    for (uint32_t l = 0; l < net->nlayers; l++) {
        const mg_layer *L = &net->layers[l];
        uint32_t m = l || nx > L->nin ? L->nin : nx;    /* zip stops at the shorter */
        mg_id *out = l + 1 == net->nlayers ? out_last : hidden[l & 1];
        for (uint32_t j = 0; j < L->nout; j++) {
            mg_term act = {L->b[j], MG_DATA(L->b[j])};  /* sum((w * x ...), b): b first */
            if (mg_fold_dot(&act, L->w + (size_t)j * L->nin, NULL, in, l ? NULL : xk, m))
                return MG_ERR(MG_NOMEM);
            double sum = act.x;
            int op = L->nonlin[j];
            if (op) {
                mg_block *w = mg_room(1);
                if (!w) return MG_ERR(MG_NOMEM);
                int st = op == MG_RELU ? mg_relu_forward(sum, 0.0, 0.0, &sum)  /* inline: the commonest */
                                       : mg_ops[op].forward(sum, 0.0, 0.0, &sum);
                if (st != MG_OK) return MG_ERR(st);
                act.id = mg_push(w, op, sum, 0.0, act.id, -1);
            }
            out[j] = act.id;
        }
        in = out;
    }
    return in[0];
}
