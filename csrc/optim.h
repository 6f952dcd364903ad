/*
 * optim.h: one parameter's update for each optimizer, for the glue's loop over a parameter
 * set (optim_glue.c); not the cffi API.
 *
 * The formulas are PyTorch's single-tensor updates, as torch.optim documents them (SGD with
 * momentum, dampening, weight decay and Nesterov; Adam, and AdamW's decoupled weight decay),
 * written per scalar in float64: N steps from the same gradients give PyTorch's parameters,
 * to rounding (torch may fuse or vectorize where this does not).
 */
#ifndef MG_OPTIM_H
#define MG_OPTIM_H

#include <math.h>

typedef struct {
    double lr, momentum, dampening, wd;
    int nesterov;
    int first;                  /* the first step: a momentum buffer starts as the gradient */
} mg_sgd;

/* g = grad + wd * x; with momentum, buf = g at the first step, else momentum * buf +
 * (1 - dampening) * g, and g = g + momentum * buf (Nesterov) or buf; returns x - lr * g. */
static inline double mg_sgd_update(const mg_sgd *k, double x, double g, double *buf) {
    if (k->wd != 0.0) g = g + k->wd * x;
    if (k->momentum != 0.0) {
        *buf = k->first ? g : *buf * k->momentum + (1.0 - k->dampening) * g;
        g = k->nesterov ? g + k->momentum * *buf : *buf;
    }
    return x + -k->lr * g;
}

typedef struct {
    double lr, beta1, beta2, eps, wd;
    int decoupled;              /* AdamW: the decay on x itself, none in the gradient */
    double step_size;           /* lr / (1 - beta1**t) at step t */
    double bc2_sqrt;            /* sqrt(1 - beta2**t) */
} mg_adam;

/* The step-t constants of k. */
static inline void mg_adam_at(mg_adam *k, double t) {
    k->step_size = k->lr / (1.0 - pow(k->beta1, t));
    k->bc2_sqrt = sqrt(1.0 - pow(k->beta2, t));
}

/* AdamW: x = x * (1 - lr * wd), else g = grad + wd * x; m = lerp(m, g, 1 - beta1);
 * v = beta2 * v + (1 - beta2) * g * g; returns x - step_size * m / (sqrt(v) / bc2_sqrt + eps). */
static inline double mg_adam_update(const mg_adam *k, double x, double g, double *m, double *v) {
    if (k->decoupled)
        x = x * (1.0 - k->lr * k->wd);
    else if (k->wd != 0.0)
        g = g + k->wd * x;
    double w = 1.0 - k->beta1;                      /* torch's lerp: two forms by the weight */
    *m = w < 0.5 ? *m + w * (g - *m) : g - (g - *m) * (1.0 - w);
    *v = *v * k->beta2 + (1.0 - k->beta2) * (g * g);
    return x + -k->step_size * (*m / (sqrt(*v) / k->bc2_sqrt + k->eps));
}

#endif
