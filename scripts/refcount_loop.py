"""micrograd_c's references, counted: every op and API in a loop, under a debug build of CPython.

    python3.14d scripts/refcount_loop.py [--rounds N] [--warmup N] [--calls N]

Each section below runs `calls` times a round. Around it, after gc.collect(), the script reads
sys.gettotalrefcount() (every reference the interpreter and the extensions hold),
sys.getallocatedblocks() (Python's allocator's blocks) and live_nodes() (the C arena's nodes).
What a section adds, less what the measuring itself adds (an empty section's count), must be 0
in every round after the warm-up (caches, interned names and the interpreter's specialized
code fill up there): a section that leaks one reference a call adds `calls` each round, and the
run fails (exit 1) naming it. Exit 2 on a release build, which has no sys.gettotalrefcount.

The extension must be built against the debug build's headers (scripts/cpython314.sh refcount
builds it so): there Py_INCREF and Py_DECREF count into the total, where a module built against
release headers changes references without counting them, and the total drifts with no leak.
"""

import argparse
import copy
import gc
import math
import pickle
import sys
import weakref
from fractions import Fraction

if not hasattr(sys, "gettotalrefcount"):
    print(
        f"error: {sys.executable} is not a debug build of CPython (no sys.gettotalrefcount); run "
        "this under one, such as Debian's python3.14d, with micrograd_c built against its headers",
        file=sys.stderr,
    )
    sys.exit(2)

from micrograd_c import GradcheckError, Value, draw_dot, gradcheck, optim
from micrograd_c import functional as F
from micrograd_c.engine import arena_bytes, collect, collections, live_nodes
from micrograd_c.nn import MLP, Layer, Neuron


def raises(exc, f, *args, **kwargs):
    """Calls f(*args, **kwargs), which must raise exc: the error paths count too."""
    try:
        f(*args, **kwargs)
    except exc:
        return
    raise AssertionError(f"{getattr(f, '__name__', f)}{args} did not raise {exc.__name__}")


class Leaf(Value):
    """A user's subclass: C leaves its operands and nn's plans to Python's ways."""


# ----------------------------------------------------------------------------------------
# the sections: each makes what it uses, and keeps nothing


def empty():
    pass


def values():
    a, b, c = Value(1.5), Value(2), Value(True, label="c")
    a.data, a.grad = 3, 0.25
    b.label = "b"
    s = Leaf(0.5)
    s.extra = [a]
    return (repr(a), a.data + b.data + c.data + a.grad, str(s), s.extra, Value(Fraction(1, 3)).data)


def arithmetic():
    a, b = Value(1.25), Value(-0.5)
    k, f = Fraction(3, 2), Leaf(2.0)
    out = [
        a + b,
        a + 2,
        2 + a,
        a - b,
        a - 2,
        2 - a,
        a * b,
        a * 3,
        3 * a,
        a / b,
        a / 4,
        4 / a,
        a**2,
        a**0.5,
        a**-1,
        a**3,
        a**2.5,
        b**2,
        -a,
        a + True,
        Value(-1.0) ** (2**60 + 1),  # an int no float holds: Python's pow
        a + k,
        k + a,
        a * k,
        k * a,
        a - k,
        k / a,  # a Fraction: the operand hook
        f + a,
        a * f,
        f**2,
    ]  # a subclass's Values
    return sum(v.data for v in out)


def unary():
    a, b = Value(0.75), Value(-1.5)
    out = [
        a.relu(),
        b.relu(),
        a.tanh(),
        b.tanh(),
        a.exp(),
        b.exp(),
        a.sigmoid(),
        b.sigmoid(),
        a.log(),
        (a * b).tanh().exp().sigmoid().relu(),
    ]
    return sum(v.data for v in out)


def functional():
    x = [Value(0.5), Value(-1.0), 2.0]
    w = [[Value(0.25), Value(1.5), Value(-0.5)], [Value(1.0), 0.5, Value(2.0)]]
    logits = F.linear(x, w, [Value(0.1), 0.2]) + F.linear(x, w)
    out = [F.dot(x, w[0]), F.sum(logits, 1.0), F.cross_entropy(logits, 1), F.sum(F.rmsnorm(logits))]
    out += F.softmax(logits) + F.log_softmax(logits) + F.relu(logits) + F.exp(logits)
    out += F.softmax([Leaf(0.5), Leaf(1.5)])  # through Python
    out[-1].backward()
    raises(ValueError, F.dot, [], [])
    raises(TypeError, F.softmax, [1.0])
    raises(ValueError, F.cross_entropy, logits, 9)
    return sum(v.data for v in out)


def graph():
    a, b = Value(0.5), Value(2.0)
    c = (a * b + a).tanh()
    kids = [v for v in c._prev for _ in v._prev]
    names = [c._op, (a * b)._op, (a**3)._op, (a**0.5)._op, (-a)._op, a._op, c._id]
    rules = [c._backward, a._backward]  # an op's rule; a leaf's
    return kids, names, rules


def backward():
    x, w, b = Value(0.3), Value(-1.2), Value(0.1)
    y = (x * w + b).tanh() * x + (x**2).exp() / (w.sigmoid() + 1) - b.relu() + x.log()
    y.backward()
    y.backward()  # grads accumulate: a second sweep over the same graph
    z = x * x
    z.backward()
    c = x * w
    c._backward()  # one node's rule, by hand
    return x.grad + w.grad + b.grad


def custom():
    x = Value(0.4)

    def sin(v):
        out = Value(math.sin(v.data), (v,), "sin")

        def _backward():
            v.grad += math.cos(v.data) * out.grad

        out._backward = _backward
        return out

    y = sin(x * 2) * x + sin(x)
    y.backward()
    hand = Value(1.0, (x, y), "hand")  # micrograd's hand-built node, no rule
    hand.backward()
    twice = Value(2.0, [x, x], "")
    twice.backward()
    fn = y._backward
    fn()
    return x.grad, hand._op, sorted(v.data for v in hand._prev)


def errors():
    a = Value(1.0)
    raises(TypeError, Value, "one")
    raises(TypeError, Value, None)
    raises(TypeError, Value, 1.0, [1.0], "bad")
    raises(ValueError, Value, 1.0, (a, Value(2), Value(3)), "three")
    raises(TypeError, lambda: a + "x")
    raises(TypeError, lambda: "x" * a)
    raises(TypeError, lambda: a - "x")
    raises(AssertionError, lambda: a**a)
    raises(AssertionError, lambda: a ** Fraction(1, 2))
    raises(ZeroDivisionError, lambda: Value(0.0) ** -1)
    raises(ZeroDivisionError, lambda: 1 / Value(0.0))
    raises(OverflowError, lambda: Value(10.0) ** 400)
    raises(OverflowError, Value(1000.0).exp)
    raises(ValueError, Value(-1.0).log)
    raises(ValueError, Value(0.0).log)
    raises(ValueError, lambda: Value(-2.0) ** 0.5)
    raises(TypeError, setattr, a, "data", "x")
    raises(TypeError, setattr, a, "grad", None)
    raises(AttributeError, delattr, a, "data")
    raises(TypeError, setattr, a, "_backward", 3)
    raises(AttributeError, lambda: Leaf.__new__(Leaf).data)

    y = a * 2

    def boom():
        raise KeyError("from a _backward")

    y._backward = boom
    raises(KeyError, (y + 1).backward)

    z = a * 3

    def again():
        z.backward()  # a backward inside a backward: refused

    z._backward = again
    raises(RuntimeError, (z + 1).backward)


def nn():
    model = MLP(3, [4, 4, 1])
    x = [Value(0.5), -1.0, 2]
    loss = (model(x) - 1) ** 2 + model([1, 2, 3]).tanh()  # the plan: one C call
    loss.backward()
    slow = Layer(2, 2)(Fraction(1, 2) for _ in range(2))  # micrograd's fold, in Python
    leaf = Neuron(2, activation="sigmoid")([Leaf(1.0), Leaf(2.0)])
    model.layers[0].neurons[0].w[0] = Value(0.1)  # its plan dropped, then remade
    again = model(x)
    params = model.parameters()
    state = model.state_dict()
    model.load_state_dict(state)
    raises(ValueError, model.load_state_dict, {"x": 1.0})
    raises(ValueError, Neuron, 2, activation="nope")
    model.zero_grad()
    return repr(model), slow, leaf, again.data, len(params)


def optimizers():
    model = MLP(2, [3, 1])
    params = model.parameters()
    for opt in (
        optim.SGD(params, lr=0.1),
        optim.SGD(params + params[:2], lr=0.1, momentum=0.9, nesterov=True),
        optim.Adam(params, lr=0.01),
        optim.AdamW(params, lr=0.01),
    ):
        loss = (model([1.0, -2.0]) - 0.5) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        opt.lr = 0.05
        raises(TypeError, setattr, opt, "lr", "fast")
        raises(ValueError, setattr, opt, "lr", -1.0)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    cosine = optim.CosineAnnealingLR(optim.SGD(params, lr=0.1), T_max=3)
    for _ in range(3):
        sched.step()
        cosine.step()
    raises(ValueError, optim.SGD, [], lr=0.1)
    raises(ValueError, optim.SGD, [params[0] * 2], lr=0.1)
    raises(TypeError, optim.Adam, [1.0])
    raises(ValueError, optim.Adam, params, betas=(0.9, 1.0))
    model.load_state_dict(model.state_dict())
    return opt.steps, sched.get_last_lr(), cosine.get_last_lr()


def checking():
    x, y = Value(0.5), Value(-1.5)
    ok = gradcheck(lambda x, y: (x * y + x**2).tanh() + y.exp(), [x, y])

    def wrong(x):
        out = Value(x.data**2, (x,), "sq")

        def _backward():
            x.grad += out.grad  # should be 2 x

        out._backward = _backward
        return out

    raises(GradcheckError, gradcheck, wrong, [Value(3.0)])
    raises(TypeError, gradcheck, lambda x: 1.0, [x])
    return ok


def drawing():
    x = Value(2.0, label="x")
    y = (x * 3 + x.exp()).relu()
    y.label = "y\n&<>{}|"
    y.backward()
    source = draw_dot(y, rankdir="TB").source  # the graph built; nothing rendered
    raises(TypeError, draw_dot, 3)
    raises(ValueError, draw_dot, y, max_nodes=2)
    return source


def copies():
    a = Value(1.5, label="a")
    a.grad = 0.5
    b = pickle.loads(pickle.dumps(a * 2))
    c, d = copy.copy(a), copy.deepcopy(a)
    model = MLP(2, [2, 1])
    model([1.0, 2.0])  # with a plan, which copies leave out
    twin = copy.deepcopy(model)
    restored = pickle.loads(pickle.dumps(model))
    return b.data + c.data + d.grad + twin([1.0, 2.0]).data + restored([1.0, 2.0]).data


def weakrefs():
    a = Value(1.0)
    r = weakref.ref(a)
    seen = []
    f = weakref.finalize(a, seen.append, 1)
    b = a * 2
    kept = weakref.WeakValueDictionary({"b": b})
    del a  # b's node keeps a's node; a's Value goes
    assert r() is None and seen == [1] and not f.alive
    alive = [v.data for v in b._prev]
    return alive, len(kept)


def cycles():
    a = Value(1.0)
    b = a * 2
    a.me = a  # Values in reference cycles: gone at the next gc.collect()
    b.pair = [b, a]
    c = Leaf(3.0)
    c.graph = (c * a).tanh()
    gc.collect()  # after_gc collects the arena too
    collect()
    return live_nodes(), arena_bytes(), arena_bytes(spares=True), collections()


SECTIONS = [
    values,
    arithmetic,
    unary,
    functional,
    graph,
    backward,
    custom,
    errors,
    nn,
    optimizers,
    checking,
    drawing,
    copies,
    weakrefs,
    cycles,
]


# ----------------------------------------------------------------------------------------
# the measuring

# CPython's type cache holds a reference to each attribute name it caches, and places a name by
# its address: a name made anew (PyObject_GetAttrString's, pickle's) lands in a slot at random,
# evicting another, so the total moves by a few references either way with no leak. Emptied
# before each count, it takes no part in them.
_clear_caches = getattr(sys, "_clear_internal_caches", None) or sys._clear_type_cache  # 3.13+, older


def counts():
    """(total references, allocated blocks, C nodes), after a full collection and with the
    interpreter's caches empty."""
    gc.collect()
    _clear_caches()
    return sys.gettotalrefcount(), sys.getallocatedblocks(), live_nodes()


def run(section, calls):
    """What `calls` runs of section add to each count."""
    before = counts()
    for _ in range(calls):
        section()
    after = counts()
    return tuple(a - b for a, b in zip(after, before))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="rounds counted, after the warm-up")
    parser.add_argument("--warmup", type=int, default=3, help="rounds run first, not counted")
    parser.add_argument("--calls", type=int, default=20, help="runs of each section a round")
    args = parser.parse_args()
    if args.rounds < 1 or args.calls < 1 or args.warmup < 0:
        parser.error("--rounds and --calls must be 1 or more, --warmup 0 or more")

    print(f"{sys.version.split()[0]} (debug build), micrograd_c from {sys.modules['micrograd_c'].__file__}")
    names = [s.__name__ for s in SECTIONS]
    grown = {name: [] for name in names}  # per section, per counted round: (refs, blocks, nodes)
    for r in range(args.warmup + args.rounds):
        base = run(empty, args.calls)
        for section in SECTIONS:
            added = tuple(n - b for n, b in zip(run(section, args.calls), base))
            if r >= args.warmup:
                grown[section.__name__].append(added)

    print(
        f"{args.warmup} warm-up rounds, then {args.rounds} rounds of {args.calls} calls a section; "
        "what each section added a round, less an empty section's (references, blocks, nodes):"
    )
    bad = []
    for name in names:
        rows = grown[name]
        flat = all(row == (0, 0, 0) for row in rows)
        shown = " ".join(f"{refs:+d}/{blocks:+d}/{nodes:+d}" for refs, blocks, nodes in rows)
        print(f"  {name:<11} {'flat' if flat else 'GROWS'}  {shown}")
        if not flat:
            bad.append(name)
    if bad:
        sys.stdout.flush()  # the table first, then the verdict
        print(
            f"error: not flat in {', '.join(bad)}: a section that leaks one reference a call "
            f"adds {args.calls} a round",
            file=sys.stderr,
        )
        return 1
    print(
        f"flat: sys.gettotalrefcount() {sys.gettotalrefcount()}, blocks {sys.getallocatedblocks()}, "
        f"nodes {live_nodes()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
