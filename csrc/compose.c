/*
 * compose.c: micrograd's compositions of its primitives, each built in one call, with the
 * nodes, order and values its Python gives (fold.h's rules for a number beside a Value).
 */
#include "compose.h"

static const mg_term MINUS_ONE = {-1, -1.0};

/* 1 with t's data read for a number or a live node; 0 for a node that is not live. */
static int live(mg_term *t) {
    if (t->id < 0) return 1;
    mg_block *b = mg_block_of(t->id);
    if (!b) return 0;
    t->x = b->data[MG_OFF(t->id)];
    return 1;
}

mg_id mg_build_neg(mg_term a) {
    mg_begin();
    if (a.id < 0 || !live(&a)) return MG_ERR(MG_BADID);
    mg_block *w = mg_room(2);
    return w ? mg_fold_op(w, MG_MUL, a, MINUS_ONE).id : MG_ERR(MG_NOMEM);
}

mg_id mg_build_sub(mg_term a, mg_term b) {
    mg_begin();
    if ((a.id < 0 && b.id < 0) || !live(&a) || !live(&b)) return MG_ERR(MG_BADID);
    mg_block *w = mg_room(4);
    if (!w) return MG_ERR(MG_NOMEM);
    mg_term neg = b.id < 0 ? (mg_term){-1, -b.x} : mg_fold_op(w, MG_MUL, b, MINUS_ONE);
    return mg_fold_op(w, MG_ADD, a, neg).id;       /* k - v: (v * -1) + k, the number second */
}

mg_id mg_build_div(mg_term a, mg_term b) {
    mg_begin();
    if ((a.id < 0 && b.id < 0) || !live(&a) || !live(&b)) return MG_ERR(MG_BADID);
    mg_term inv = {-1, 0.0};
    int st = mg_py_pow(b.x, -1.0, &inv.x);          /* a number's is Python's float pow */
    if (st) return MG_ERR(st);
    mg_block *w = mg_room(3);
    if (!w) return MG_ERR(MG_NOMEM);
    if (b.id >= 0) inv.id = mg_push(w, MG_POW_INT, inv.x, -1.0, b.id, -1);   /* _op '**-1' */
    return mg_fold_op(w, MG_MUL, a, inv).id;       /* k / v: v**-1 * k */
}
