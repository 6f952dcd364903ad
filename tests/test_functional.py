"""micrograd_c.functional against the plain Python each function stands for.

Each case builds the same computation twice on fresh Values of the same data: once with the
plain code (written out here, as the functional docstrings give it) and once with the
functional call. The two graphs must be the same graph: outputs bit for bit (the sign of zero
included), the same nodes (op and data, node by node) with the same edges, and after backward()
the same gradients to the bit, which also holds them to the same order of nodes (a node's
grad adds its parents' contributions in the order the sweep meets them). Where
micrograd 0.1.0 has the ops (dot, linear, sum, rmsnorm, relu), the plain code on micrograd's
own Value gives the same outputs to the bit and gradients to 1e-12. gradcheck holds each op to
finite differences, and bad input raises before any node is made.
"""

import hashlib
import math
import random
import struct

import pytest
from _helpers import grad_close

from micrograd_c import Value, gradcheck
from micrograd_c import functional as F
from micrograd_c.engine import live_nodes

pytestmark = pytest.mark.c_only

# ----------------------------------------------------------------------------------------
# the plain code each function replaces


def plain_dot(a, b):
    return sum(ai * bi for ai, bi in zip(a, b))


def plain_linear(x, w, bias=None):
    if bias is None:
        return [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]
    return [sum((wi * xi for wi, xi in zip(wo, x)), bo) for wo, bo in zip(w, bias)]


def plain_sum(values, start=0):
    return sum(values, start)


def plain_softmax(logits):
    max_val = max(v.data for v in logits)
    exps = [(v - max_val).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def plain_log_softmax(logits):
    max_val = max(v.data for v in logits)
    shifted = [v - max_val for v in logits]
    log_total = sum(s.exp() for s in shifted).log()
    return [s - log_total for s in shifted]


def plain_rmsnorm(x, eps=1e-5):
    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + eps) ** -0.5
    return [xi * scale for xi in x]


def plain_cross_entropy(logits, target):
    return -plain_softmax(logits)[target].log()


# ----------------------------------------------------------------------------------------
# comparing two graphs


def bits(x):
    return struct.pack("<d", float(x))


def as_list(out):
    return out if isinstance(out, list) else [out]


def graph(outputs):
    """The graph under outputs, whatever its objects: each node named by a digest of its op,
    its data's bits and its children's names, the outputs' names and how many nodes bear each
    name. Two graphs compare equal when they are the same graph (shared nodes counted once)."""
    memo = {}

    def name(v):
        if id(v) not in memo:
            stack = [(v, False)]
            while stack:  # children first, without recursion
                u, ready = stack.pop()
                if id(u) in memo:
                    continue
                kids = list(u._prev)
                if not ready:
                    stack.append((u, True))
                    stack.extend((k, False) for k in kids if id(k) not in memo)
                    continue
                desc = (u._op, bits(u.data), tuple(sorted(memo[id(k)] for k in kids)))
                memo[id(u)] = hashlib.sha256(repr(desc).encode()).hexdigest()
        return memo[id(v)]

    outs = [name(o) for o in outputs if isinstance(o, Value)]
    counts = {}
    for key in memo.values():
        counts[key] = counts.get(key, 0) + 1
    return outs, sorted(counts.items())


def build(fn, data, make):
    """fn on Values made from data (a list, or a list of lists), and those leaves."""
    leaves = []

    def value(x):
        if isinstance(x, (int, float)) and not isinstance(x, bool) and x is not None:
            v = make(x)
            leaves.append(v)
            return v
        return x

    args = [
        [[value(x) for x in row] for row in d]
        if d and isinstance(d[0], list)
        else [value(x) for x in d]
        if isinstance(d, list)
        else d
        for d in data
    ]
    return as_list(fn(*args)), leaves


def backward_all(outputs, eng_value):
    """backward() from the sum of the outputs, weighted so that each matters: grads."""
    total = sum((o * (1.0 + 0.25 * i) for i, o in enumerate(outputs)), eng_value(0.0))
    total.backward()


def assert_same(plain, func, data, numbers=()):
    """plain and func, on the same data, build the same graph with the same results."""
    got = {}
    for name, fn in (("plain", plain), ("functional", func)):
        outs, leaves = build(fn, data, Value)
        shape = graph(outs)
        backward_all(outs, Value)
        got[name] = (outs, leaves, shape)
    (po, pl, ps), (fo, fl, fs) = got["plain"], got["functional"]
    assert [bits(o.data) for o in fo] == [bits(o.data) for o in po]
    assert fs == ps, "the graphs differ"
    assert [bits(v.grad) for v in fl] == [bits(v.grad) for v in pl]
    return po, pl


# ----------------------------------------------------------------------------------------
# cases

rng = random.Random(20261206)


def vec(n, scale=2.0):
    return [rng.uniform(-scale, scale) for _ in range(n)]


SIZES = [1, 2, 3, 7, 16]


@pytest.mark.parametrize("n", SIZES)
def test_dot(n):
    assert_same(plain_dot, F.dot, [vec(n), vec(n)])


def test_dot_with_numbers_on_either_side():
    a, b = vec(4), vec(4)

    def mixed(fn):
        return lambda va, vb: fn([va[0], 0.5, va[2], -3], [1.25, vb[1], vb[2], vb[3]])

    assert_same(mixed(plain_dot), mixed(F.dot), [a, b])


def test_dot_keeps_the_sign_of_zero():
    # -0.0 * 1.0 + 0 is 0.0 (Python's sum starts from the int 0); a later -0.0 stays added
    outs, _ = assert_same(plain_dot, F.dot, [[-0.0, -0.0], [1.0, 2.0]])
    assert bits(outs[0].data) == bits(0.0)


@pytest.mark.parametrize("nin, nout", [(1, 1), (3, 2), (16, 16), (16, 27)])
def test_linear(nin, nout):
    w = [vec(nin) for _ in range(nout)]
    assert_same(plain_linear, F.linear, [vec(nin), w])


def test_linear_with_a_bias_of_values_and_numbers():
    w = [vec(3) for _ in range(2)]

    def with_bias(fn):
        return lambda x, w, b: fn(x, w, [b[0], 0.75])

    assert_same(with_bias(plain_linear), with_bias(F.linear), [vec(3), w, vec(1)])


@pytest.mark.parametrize("start", [0, 1.5, "value"])
def test_sum(start):
    def with_start(fn):
        if start == "value":
            return lambda v, s: fn(v, s[0])
        return lambda v, s: fn(v, start)

    assert_same(with_start(plain_sum), with_start(F.sum), [vec(5), vec(1)])


@pytest.mark.parametrize("n", SIZES + [27])
@pytest.mark.parametrize(
    "plain, func",
    [(plain_softmax, F.softmax), (plain_log_softmax, F.log_softmax)],
    ids=["softmax", "log_softmax"],
)
def test_softmax(plain, func, n):
    assert_same(plain, func, [vec(n, 8.0)])


def test_softmax_of_large_logits_does_not_overflow():
    outs, _ = assert_same(plain_softmax, F.softmax, [[1000.0, 999.0, -1000.0]])
    assert math.isclose(builtin_sum(o.data for o in outs), 1.0)


builtin_sum = sum


@pytest.mark.parametrize("eps", [1e-5, 0.0, 1])
@pytest.mark.parametrize("n", SIZES)
def test_rmsnorm(n, eps):
    def with_eps(fn):
        return lambda x: fn(x, eps)

    assert_same(with_eps(plain_rmsnorm), with_eps(F.rmsnorm), [vec(n)])


@pytest.mark.parametrize("target", [0, 3, 26])
def test_cross_entropy(target):
    def at(fn):
        return lambda logits: fn(logits, target)

    assert_same(at(plain_cross_entropy), at(F.cross_entropy), [vec(27, 4.0)])


@pytest.mark.parametrize("method", ["relu", "tanh", "exp", "log"])
def test_each(method):
    def plain(xs):
        return [getattr(x, method)() for x in xs]

    data = [abs(x) + 0.1 for x in vec(6)] if method == "log" else vec(6)
    assert_same(plain, getattr(F, method), [data])


# ----------------------------------------------------------------------------------------
# against micrograd itself, where it has the ops


@pytest.mark.parametrize("case", ["dot", "linear", "sum", "rmsnorm", "relu"])
def test_micrograd_gives_the_same(ref, case):
    x, w = vec(5), [vec(5) for _ in range(3)]
    plain = {
        "dot": (
            lambda E: plain_dot([E(t) for t in x], [E(t) for t in w[0]]),
            lambda: F.dot([Value(t) for t in x], [Value(t) for t in w[0]]),
        ),
        "linear": (
            lambda E: plain_linear([E(t) for t in x], [[E(t) for t in r] for r in w]),
            lambda: F.linear([Value(t) for t in x], [[Value(t) for t in r] for r in w]),
        ),
        "sum": (lambda E: plain_sum([E(t) for t in x], 0.5), lambda: F.sum([Value(t) for t in x], 0.5)),
        "rmsnorm": (lambda E: plain_rmsnorm([E(t) for t in x]), lambda: F.rmsnorm([Value(t) for t in x])),
        "relu": (lambda E: [E(t).relu() for t in x], lambda: F.relu([Value(t) for t in x])),
    }[case]
    want, got = as_list(plain[0](ref.Value)), as_list(plain[1]())
    assert [bits(g.data) for g in got] == [bits(r.data) for r in want]
    backward_all(want, ref.Value)
    backward_all(got, Value)

    # the leaves, in the order they were made, on each side
    def leaves(outs):
        seen, stack, found = set(), list(outs), []
        while stack:
            v = stack.pop()
            if id(v) not in seen:
                seen.add(id(v))
                stack.extend(v._prev)
                if not v._prev:
                    found.append(v)
        return sorted(found, key=lambda v: (v.data, v.grad))

    for g, r in zip(leaves(got), leaves(want)):
        assert bits(g.data) == bits(r.data) and grad_close(g.grad, r.grad)


# ----------------------------------------------------------------------------------------
# gradcheck: the gradients are the functions' own


@pytest.mark.parametrize(
    "fn",
    [
        lambda *v: F.dot(v[:3], v[3:]),
        lambda *v: F.sum(F.linear(v[:3], [v[3:6], v[:3]], [v[0], 2.0])),
        lambda *v: F.cross_entropy(list(v), 2),
        lambda *v: F.sum(F.log_softmax(list(v))),
        lambda *v: F.dot(F.rmsnorm(list(v)), list(v)),
    ],
    ids=["dot", "linear", "cross_entropy", "log_softmax", "rmsnorm"],
)
def test_gradcheck(fn):
    assert gradcheck(fn, [Value(t) for t in vec(6)])


# ----------------------------------------------------------------------------------------
# inputs C leaves to Python: the same graph, through Python


class Sub(Value):
    pass


def test_a_value_subclass_goes_through_python():
    for fn, plain in ((F.softmax, plain_softmax), (F.rmsnorm, plain_rmsnorm)):
        data = vec(4)
        a, b = fn([Sub(t) for t in data]), plain([Sub(t) for t in data])
        assert graph(a) == graph(b)


def test_a_python_backward_below_is_kept():
    import math as m

    x = Value(0.3)
    s = Value(m.sin(x.data), (x,), "sin")

    def _backward():
        x.grad += m.cos(x.data) * s.grad

    s._backward = _backward
    out = F.dot([s, Value(2.0)], [Value(1.5), s])
    out.backward()
    assert math.isclose(x.grad, (1.5 + 2.0) * m.cos(0.3), rel_tol=1e-12)


def test_numpy_numbers_go_through_python():
    np = pytest.importorskip("numpy")
    xs = [Value(t) for t in (0.5, -1.0)]
    out = F.dot(xs, [np.float32(2.0), np.int64(3)])
    assert out.data == 0.5 * float(np.float32(2.0)) + -1.0 * 3


# ----------------------------------------------------------------------------------------
# bad input: an exception, and no node made


def V(*xs):
    return [Value(x) for x in xs]


# (the call, a maker of its arguments, the exception, words of its message)
BAD = [
    (F.dot, lambda: ([], []), ValueError, "empty"),
    (F.dot, lambda: (V(1.0), V(1.0, 2.0)), ValueError, "lengths differ"),
    (F.dot, lambda: ([Value(1.0), "x"], V(1.0, 2.0)), TypeError, "a\\[1\\] is str"),
    (F.dot, lambda: (Value(1.0), V(1.0)), TypeError, "list or tuple"),
    (F.linear, lambda: (V(1.0, 2.0), [V(1.0, 2.0), V(3.0)]), ValueError, "w\\[1\\] and x"),
    (F.linear, lambda: (V(1.0), [V(1.0)], V(1.0, 2.0)), ValueError, "bias and w"),
    (F.linear, lambda: (V(1.0), []), ValueError, "w is empty"),
    (F.softmax, lambda: ([Value(1.0), 2.0],), TypeError, "logits\\[1\\] is float"),
    (F.softmax, lambda: ([],), ValueError, "empty"),
    (F.rmsnorm, lambda: (V(1.0), "eps"), TypeError, "eps"),
    (F.cross_entropy, lambda: (V(1.0, 2.0), 2), ValueError, "out of range"),
    (F.cross_entropy, lambda: (V(1.0, 2.0), -1), ValueError, "out of range"),
    (F.cross_entropy, lambda: (V(1.0, 2.0), 1.0), TypeError, "int"),
    (F.relu, lambda: ([Value(1.0), None],), TypeError, "xs\\[1\\] is NoneType"),
    (F.sum, lambda: (V(1.0), "0"), TypeError, "start"),
]


@pytest.mark.parametrize("fn, make, exc, words", BAD, ids=[b[3] for b in BAD])
def test_bad_input_raises_before_any_node(fn, make, exc, words):
    args = make()
    before = live_nodes()
    with pytest.raises(exc, match=words):
        fn(*args)
    assert live_nodes() == before


def test_a_call_that_outgrows_the_block_table():
    # in a fresh interpreter, one linear() call makes more blocks than the arena's table of
    # blocks had room for: the table moves in the middle of the call
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import random
        from micrograd_c import Value, functional as F
        rng = random.Random(5)
        x = [Value(rng.uniform(-1, 1)) for _ in range(300)]
        w = [[Value(rng.uniform(-1, 1)) for _ in range(300)] for _ in range(300)]
        got = [v.data for v in F.linear(x, w)]
        want = [sum(wi * xi for wi, xi in zip(wo, x)).data for wo in w]
        print(got == want)
        """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "True", run.stdout + run.stderr
