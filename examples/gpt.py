"""A GPT on scalars: a one-layer, four-head, 16-wide character model that learns to make up
names, trained with Adam, every number a scalar Value, as Karpathy's microgpt (2026) does.

    python examples/gpt.py                 # train (functional + optim), sample, then time
    python examples/gpt.py --steps 200 --time-steps 3

The model is written once (gpt() below) over a small set of helpers, and run three ways:

  python       a pure-Python scalar Value in microgpt's style (benchmarks/scalar_value.py)
               with the helpers in plain Python and Adam as a Python loop;
  micrograd_c  the same code with micrograd_c's Value: one import changes;
  functional   micrograd_c.functional's helpers (one C call each) and micrograd_c.optim's
               Adam with a cosine schedule: the few lines a microgpt user changes.

The three build the same graph, so the first step's loss is the same to the bit, and the next
ones agree to rounding (optim.Adam rounds its update as torch does). Names: the 1990 US
Census first-name lists (public domain), in examples/names.txt.
"""

import argparse
import math
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "benchmarks"))  # scalar_value.py

N_EMBD, N_HEAD, N_LAYER, BLOCK = 16, 4, 1, 16
HEAD_DIM = N_EMBD // N_HEAD
LR, BETAS, EPS = 0.01, (0.9, 0.95), 1e-8


NAMES = os.path.join(HERE, "names.txt")


def load_names(path=NAMES):
    with open(path) as f:
        names = [line.strip() for line in f if line.strip()]
    random.Random(42).shuffle(names)
    return names


class Tokenizer:
    """Characters to ids and back; BOS, the last id, opens and closes every name."""

    def __init__(self, names):
        self.chars = sorted(set("".join(names)))
        self.bos = len(self.chars)
        self.vocab = len(self.chars) + 1

    def encode(self, name):
        return [self.bos] + [self.chars.index(c) for c in name] + [self.bos]


# ----------------------------------------------------------------------------
# the model, over helpers H (plain Python, or micrograd_c.functional)


def make_params(Value, vocab, seed=1337):
    rng = random.Random(seed)

    def matrix(nout, nin):
        return [[Value(rng.gauss(0, 0.08)) for _ in range(nin)] for _ in range(nout)]

    p = {"wte": matrix(vocab, N_EMBD), "wpe": matrix(BLOCK, N_EMBD)}
    for i in range(N_LAYER):
        for name in ("wq", "wk", "wv", "wo"):
            p[f"{i}.{name}"] = matrix(N_EMBD, N_EMBD)
        p[f"{i}.fc1"] = matrix(4 * N_EMBD, N_EMBD)
        p[f"{i}.fc2"] = matrix(N_EMBD, 4 * N_EMBD)
    p["lm_head"] = matrix(vocab, N_EMBD)
    return p


def parameters(p):
    return [v for rows in p.values() for row in rows for v in row]


def gpt(H, p, token, pos, keys, values):
    """The logits of the next token after `token` at position `pos`; keys and values hold the
    earlier positions' (a cache, one list per layer)."""
    x = [t + q for t, q in zip(p["wte"][token], p["wpe"][pos])]
    x = H.rmsnorm(x)
    for i in range(N_LAYER):
        residual = x
        x = H.rmsnorm(x)
        q, k, v = (H.linear(x, p[f"{i}.{name}"]) for name in ("wq", "wk", "wv"))
        keys[i].append(k)
        values[i].append(v)
        heads = []
        for h in range(N_HEAD):
            s = h * HEAD_DIM
            q_h = q[s : s + HEAD_DIM]
            logits = [H.dot(q_h, kt[s : s + HEAD_DIM]) / HEAD_DIM**0.5 for kt in keys[i]]
            weights = H.softmax(logits)
            heads.extend(H.dot(weights, [vt[s + j] for vt in values[i]]) for j in range(HEAD_DIM))
        x = [a + b for a, b in zip(H.linear(heads, p[f"{i}.wo"]), residual)]
        residual = x
        x = H.linear(H.relu(H.linear(H.rmsnorm(x), p[f"{i}.fc1"])), p[f"{i}.fc2"])
        x = [a + b for a, b in zip(x, residual)]
    return H.linear(x, p["lm_head"])


def loss_of(H, p, tokens):
    """The mean cross-entropy of each next token of one name."""
    n = min(BLOCK, len(tokens) - 1)
    keys, values = [[] for _ in range(N_LAYER)], [[] for _ in range(N_LAYER)]
    losses = [H.cross_entropy(gpt(H, p, tokens[i], i, keys, values), tokens[i + 1]) for i in range(n)]
    return (1 / n) * H.sum(losses)


class Plain:
    """The helpers in plain Python, as microgpt writes them: any scalar Value runs them."""

    @staticmethod
    def dot(a, b):
        return sum(ai * bi for ai, bi in zip(a, b))

    @staticmethod
    def linear(x, w):
        return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]

    @staticmethod
    def softmax(logits):
        max_val = max(v.data for v in logits)
        exps = [(v - max_val).exp() for v in logits]
        total = sum(exps)
        return [e / total for e in exps]

    @staticmethod
    def rmsnorm(x):
        ms = sum(xi * xi for xi in x) / len(x)
        scale = (ms + 1e-5) ** -0.5
        return [xi * scale for xi in x]

    @staticmethod
    def relu(xs):
        return [x.relu() for x in xs]

    @staticmethod
    def cross_entropy(logits, target):
        return -Plain.softmax(logits)[target].log()

    sum = staticmethod(sum)


def cosine_lr(step, steps):
    return LR * 0.5 * (1 + math.cos(math.pi * step / steps))


class PlainAdam:
    """Adam as a Python loop over the parameters, with the cosine schedule."""

    def __init__(self, params, steps):
        self.params, self.steps, self.t = params, steps, 0
        self.m, self.v = [0.0] * len(params), [0.0] * len(params)

    def step(self):
        lr, (b1, b2) = cosine_lr(self.t, self.steps), BETAS
        self.t += 1
        for i, p in enumerate(self.params):
            g = p.grad
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            m_hat = self.m[i] / (1 - b1**self.t)
            v_hat = self.v[i] / (1 - b2**self.t)
            p.data -= lr * m_hat / (v_hat**0.5 + EPS)
            p.grad = 0.0


class Way:
    """One of the three ways: its Value, its helpers, and a step that trains on a name."""

    def __init__(self, name, tokenizer, steps):
        self.name = name
        if name == "python":
            from scalar_value import Value
        else:
            from micrograd_c import Value
        self.H = Plain
        self.params = make_params(Value, tokenizer.vocab)
        flat = parameters(self.params)
        if name == "functional":
            from micrograd_c import functional, optim

            self.H = functional
            self.opt = optim.Adam(flat, lr=LR, betas=BETAS, eps=EPS)
            self.schedule = optim.CosineAnnealingLR(self.opt, T_max=steps)
        else:
            self.opt = PlainAdam(flat, steps)

    def step(self, tokens):
        loss = loss_of(self.H, self.params, tokens)
        loss.backward()
        self.opt.step()
        if self.name == "functional":
            self.opt.zero_grad()
            self.schedule.step()
        return loss.data


def sample(way, tokenizer, n, seed=7, temperature=0.6):
    """n names from the model, a character at a time until BOS."""
    rng, out = random.Random(seed), []
    for _ in range(n):
        keys, values = [[] for _ in range(N_LAYER)], [[] for _ in range(N_LAYER)]
        token, name = tokenizer.bos, ""
        for pos in range(BLOCK):
            logits = gpt(way.H, way.params, token, pos, keys, values)
            probs = way.H.softmax([x / temperature for x in logits])
            token = rng.choices(range(tokenizer.vocab), weights=[p.data for p in probs])[0]
            if token == tokenizer.bos:
                break
            name += tokenizer.chars[token]
        out.append(name)
    return out


def time_steps(way, docs, n):
    """The median time of a training step on each of n names, in seconds, after one untimed
    pass over the same names (micrograd_c's first steps map the arena's pages)."""
    for doc in docs[:n]:
        way.step(doc)
    times = []
    for doc in docs[:n]:
        t = time.perf_counter()
        way.step(doc)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="training steps (one name each)")
    parser.add_argument("--time-steps", type=int, default=5, help="names each way is timed on (after a pass)")
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args(argv)
    names = load_names()
    tok = Tokenizer(names)
    docs = [tok.encode(n) for n in names]

    print(f"{len(names)} names, vocabulary {tok.vocab}; training {args.steps} steps (functional + optim)")
    way = Way("functional", tok, args.steps)
    print(f"{len(parameters(way.params))} parameters")
    t0 = time.perf_counter()
    for step in range(args.steps):
        loss = way.step(docs[step % len(docs)])
        if step % max(1, args.steps // 10) == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {loss:.4f}")
    print(f"trained in {time.perf_counter() - t0:.1f} s; samples:")
    print("  " + ", ".join(sample(way, tok, args.samples)))

    print(f"\none training step, median of {args.time_steps} (same model, three ways):")
    times = {
        name: time_steps(Way(name, tok, args.steps), docs, args.time_steps)
        for name in ("python", "micrograd_c", "functional")
    }
    for name, t in times.items():
        print(f"  {name:12s} {t * 1e3:9.2f} ms   {times['python'] / t:6.1f}x")


if __name__ == "__main__":
    main()
