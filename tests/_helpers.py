"""Helpers shared by the test modules: loading the two engines, the moons data set,
the graph walks of trace_graph.ipynb, which nn calls ran, micrograd-side tanh/exp nodes, and
gradient comparison with a tolerance that survives a different order of accumulation.

Every comparison in this suite is against micrograd 0.1.0 (the reference) or against
mathematics, never against numbers micrograd_c produced earlier.
"""

import importlib
import math
import sys
from collections import Counter
from types import SimpleNamespace

import numpy as np

# Relative tolerance for gradients: micrograd adds contributions in set order, so its
# own grads move in the last bits from run to run (README.md, "Deliberate differences").
GRAD_RTOL = 1e-12
GRAD_ATOL = 1e-12


# ----------------------------------------------------------------------------------------
# engines


def load_engine(package):
    """The engine and nn modules of `package` ('micrograd' or 'micrograd_c') in one place."""
    engine = importlib.import_module(package + ".engine")
    nn = importlib.import_module(package + ".nn")
    return SimpleNamespace(name=package, engine=engine, nn=nn, Value=engine.Value)


def has_tanh_exp(eng):
    return hasattr(eng.Value, "tanh") and hasattr(eng.Value, "exp")


# ----------------------------------------------------------------------------------------
# data: scikit-learn's make_moons(n_samples, noise) with the global NumPy RandomState


def make_moons(n_samples=100, noise=0.1):
    """scikit-learn's make_moons from the global RandomState; micrograd_c.datasets' copy,
    which test_demo checks against the notebook's recorded losses."""
    from micrograd_c.datasets import make_moons as moons

    return moons(n_samples, noise=noise)


# ----------------------------------------------------------------------------------------
# graph walks (trace_graph.ipynb's trace and draw_dot, written iteratively)


def trace(root):
    """All nodes reachable through `_prev` and the (child, parent) edges, as the notebook
    collects them: a set of Value objects and a set of pairs (hashing is by identity)."""
    nodes, edges = set(), set()
    stack = [root]
    while stack:
        v = stack.pop()
        if v in nodes:
            continue
        nodes.add(v)
        for child in v._prev:
            edges.add((child, v))
            stack.append(child)
    return nodes, edges


def graph_signature(root):
    """What a drawing of the graph shows, independent of object ids: node count, edge
    count, the multiset of (op, data) per node and of ((op, data), (op, data)) per edge."""
    nodes, edges = trace(root)

    def key(v):
        x = float(v.data)
        return (v._op, "nan" if math.isnan(x) else x)

    return (
        len(nodes),
        len(edges),
        Counter(key(v) for v in nodes),
        Counter((key(a), key(b)) for a, b in edges),
    )


def dot_structure(root):
    """The nodes and edges draw_dot would hand to graphviz, keyed by str(id(n)) as the
    notebook does: one record per Value, one extra op node per non-leaf, an edge from the
    op node to its Value and an edge from each child to its parent's op node."""
    nodes, edges = trace(root)
    dot_nodes, dot_edges = {}, []
    for n in nodes:
        uid = str(id(n))
        dot_nodes[uid] = "{ data %.4f | grad %.4f }" % (n.data, n.grad)
        if n._op:
            dot_nodes[uid + n._op] = n._op
            dot_edges.append((uid + n._op, uid))
    for child, parent in edges:
        dot_edges.append((str(id(child)), str(id(parent)) + parent._op))
    assert all(a in dot_nodes and b in dot_nodes for a, b in dot_edges)
    return dot_nodes, dot_edges


def dot_signature(root):
    """dot_structure with the ids replaced by labels: comparable across engines."""
    dot_nodes, dot_edges = dot_structure(root)
    return (
        Counter(dot_nodes.values()),
        Counter((dot_nodes[a], dot_nodes[b]) for a, b in dot_edges),
    )


def topo_order(root):
    """Nodes reachable from root, children before parents (iterative post-order)."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        v, expanded = stack.pop()
        if expanded:
            order.append(v)
            continue
        if v in seen:
            continue
        seen.add(v)
        stack.append((v, True))
        for child in v._prev:
            if child not in seen:
                stack.append((child, False))
    return order


# ----------------------------------------------------------------------------------------
# which nn calls ran


def nn_calls(nn, call):
    """call()'s result, and the class of each nn module whose __call__ ran meanwhile, in order,
    seen through the interpreter's profiling hook: micrograd's fold calls every layer and
    neuron below the module called, micrograd_c's one C call none of them."""
    ran = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "__call__":
            module = frame.f_locals.get("self")
            if isinstance(module, nn.Module):
                ran.append(type(module).__name__)

    outer = sys.getprofile()  # a profiler of the run's own gets its hook back
    sys.setprofile(profile)
    try:
        out = call()
    finally:
        sys.setprofile(outer)
    return out, ran


# ----------------------------------------------------------------------------------------
# tanh and exp for the reference: micrograd 0.1.0 has neither, the lecture's versions are
# built here as micrograd nodes with the known derivatives (1 - tanh^2, exp).


def ref_tanh(v):
    t = math.tanh(v.data)
    out = type(v)(t, (v,), "tanh")

    def _backward():
        v.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def py_sigmoid(x):
    """1 / (1 + e^-x) in Python floats, in the order the C forward takes it: exp only of a
    number <= 0 (so never an overflow); NaN, not >= 0, takes the second form."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def ref_exp(v):
    e = math.exp(v.data)
    out = type(v)(e, (v,), "exp")

    def _backward():
        v.grad += e * out.grad

    out._backward = _backward
    return out


# ----------------------------------------------------------------------------------------
# comparing numbers


def same_float(got, want):
    """Forward values: bit-for-bit the same float (NaN matches NaN, 0.0 matches -0.0 as ==)."""
    got, want = float(got), float(want)
    if math.isnan(want):
        return math.isnan(got)
    return got == want


def abs_grad_scale(root):
    """For every node of a micrograd graph: the sum over all paths to `root` of the product
    of |local derivative|. A gradient summed in any order differs from any other order by
    about eps * this, so it is the honest scale for a relative tolerance under cancellation.
    Returns {node: scale} (hashing by identity)."""
    order = topo_order(root)
    scale = {v: 0.0 for v in order}
    scale[root] = 1.0
    for v in reversed(order):
        s = scale[v]
        kids = list(v._prev)
        op = v._op
        if not kids or s == 0.0:
            continue
        if op == "+":
            for c in kids:
                scale[c] += s * (2 if len(kids) == 1 else 1)
        elif op == "*":
            if len(kids) == 1:
                scale[kids[0]] += s * 2 * abs(kids[0].data)
            else:
                a, b = kids
                scale[a] += s * abs(b.data)
                scale[b] += s * abs(a.data)
        elif op.startswith("**"):
            k = float(op[2:])
            x = kids[0].data
            try:
                d = abs(k * x ** (k - 1))
            except (ZeroDivisionError, OverflowError):
                d = math.inf
            scale[kids[0]] += s * d
        elif op == "ReLU":
            scale[kids[0]] += s * (1.0 if v.data > 0 else 0.0)
        elif op == "tanh":
            scale[kids[0]] += s * abs(1 - v.data**2)
        elif op == "exp":
            scale[kids[0]] += s * abs(v.data)
        else:
            raise AssertionError(f"unknown op {op!r}")
    return scale


def grad_close(got, want, scale=0.0, rtol=GRAD_RTOL, atol=GRAD_ATOL):
    """A gradient matches the reference to rtol relative to max(|want|, scale), with an
    absolute floor atol for tiny values; NaN matches NaN and infinities must be equal."""
    got, want = float(got), float(want)
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want):
        return got == want
    if not math.isfinite(got):
        return False
    scale = scale if math.isfinite(scale) else 0.0
    return abs(got - want) <= rtol * max(abs(want), scale) + atol


def assert_grads_match(got_values, want_values, root_ref=None):
    """Element-wise gradient comparison; with root_ref (the reference root) the tolerance
    is scaled by abs_grad_scale of the reference graph."""
    got_values, want_values = list(got_values), list(want_values)
    assert len(got_values) == len(want_values)
    scales = abs_grad_scale(root_ref) if root_ref is not None else {}
    for i, (g, w) in enumerate(zip(got_values, want_values)):
        s = scales.get(w, 0.0)
        assert grad_close(g.grad, w.grad, s), (
            f"grad #{i}: micrograd_c {g.grad!r} vs micrograd {w.grad!r} (scale {s!r})"
        )


# ----------------------------------------------------------------------------------------
# the demo's loss (demo.ipynb, full batch)


def demo_loss(eng, model, X, y, alpha=1e-4):
    """demo.ipynb's SVM max-margin loss with L2 regularisation; returns (loss, accuracy)."""
    inputs = [list(map(eng.Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def train_steps(eng, model, X, y, steps, inspect=None):
    """demo.ipynb's optimisation loop for `steps` steps: [(loss, accuracy)] per step.
    inspect(k, total_loss), if given, runs after backward and before the update."""
    history = []
    for k in range(steps):
        total_loss, acc = demo_loss(eng, model, X, y)
        model.zero_grad()
        total_loss.backward()
        if inspect is not None:
            inspect(k, total_loss)
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append((float(total_loss.data), float(acc)))
    return history


# ----------------------------------------------------------------------------------------
# a table of expressions, each run on both engines side by side


def _more_ops(a, b):
    # micrograd's test/test_engine.py::test_more_ops, on two leaves
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def _sanity(a, b):
    # micrograd's test/test_engine.py::test_sanity_check, with b joining in at the end
    z = 2 * a + 2 + a
    q = z.relu() + z * a
    h = (z * z).relu()
    return h + q + q * a + b


def _in_place(a, b):
    c = a
    c += b
    c *= a
    c -= 1
    c /= b
    return c


# (id, function of two Values, needs a > 0 for a fractional power)
EXPRESSIONS = [
    ("add", lambda a, b: a + b, False),
    ("mul", lambda a, b: a * b, False),
    ("pow2", lambda a, b: a**2, False),
    ("pow3", lambda a, b: a**3, False),
    ("pow-1", lambda a, b: a**-1, False),
    ("pow-2", lambda a, b: a**-2, False),
    ("pow0", lambda a, b: a**0, False),
    ("pow1", lambda a, b: a**1, False),
    ("pow2.0", lambda a, b: a**2.0, False),
    ("pow0.5", lambda a, b: a**0.5, True),
    ("pow1.5", lambda a, b: a**1.5, True),
    ("pow-0.5", lambda a, b: a**-0.5, True),
    ("neg", lambda a, b: -a, False),
    ("sub", lambda a, b: a - b, False),
    ("div", lambda a, b: a / b, False),
    ("radd_int", lambda a, b: 2 + a, False),
    ("radd_float", lambda a, b: 2.5 + a, False),
    ("add_int", lambda a, b: a + 2, False),
    ("add_float", lambda a, b: a + 0.1, False),
    ("rsub_int", lambda a, b: 3 - a, False),
    ("rsub_float", lambda a, b: 0.5 - a, False),
    ("sub_int", lambda a, b: a - 3, False),
    ("rmul_int", lambda a, b: 3 * a, False),
    ("rmul_float", lambda a, b: -1.5 * a, False),
    ("mul_int", lambda a, b: a * 7, False),
    ("rtruediv_float", lambda a, b: 10.0 / a, False),
    ("rtruediv_int", lambda a, b: 1 / a, False),
    ("truediv_int", lambda a, b: a / 4, False),
    ("truediv_float", lambda a, b: a / 0.3, False),
    ("np_f64_rmul", lambda a, b: np.float64(2.5) * a, False),
    ("np_f64_mul", lambda a, b: a * np.float64(2.5), False),
    ("np_i64_radd", lambda a, b: np.int64(3) + a, False),
    ("np_i64_add", lambda a, b: a + np.int64(-3), False),
    ("np_i64_rsub", lambda a, b: np.int64(2) - a, False),
    ("np_f64_sub", lambda a, b: a - np.float64(0.25), False),
    ("np_f64_rtruediv", lambda a, b: np.float64(1.5) / a, False),
    ("np_i64_rmul", lambda a, b: np.int64(-1) * a, False),
    ("np_f32_rmul", lambda a, b: np.float32(0.1) * a, False),
    ("bool_radd", lambda a, b: True + a, False),
    ("relu", lambda a, b: a.relu(), False),
    ("relu_mul", lambda a, b: (a * b).relu(), False),
    ("relu_sub", lambda a, b: (a - b).relu(), False),
    ("a+a", lambda a, b: a + a, False),
    ("a*a", lambda a, b: a * a, False),
    ("a*a*a", lambda a, b: a * a * a, False),
    ("a/a", lambda a, b: a / a, False),
    ("diff_of_squares", lambda a, b: (a + b) * (a - b), False),
    ("poly", lambda a, b: 3 * a**2 - 4 * a * b + b**3 / 2 - 5, False),
    ("in_place", _in_place, False),
    ("sanity_check", _sanity, False),
    ("more_ops", _more_ops, False),
]

INPUT_PAIRS = [
    (-4.0, 2.0),
    (3.0, -0.5),
    (0.1, 0.7),
    (2, 3),
    (1e-3, 250.0),
    (-1.5, -2.25),
    (np.float64(0.3), np.float64(-1.7)),
]


def expression_cases():
    """(id, fn, a, b) for every expression and every input pair it is defined on."""
    cases = []
    for name, fn, positive in EXPRESSIONS:
        for a, b in INPUT_PAIRS:
            if positive and not a > 0:
                continue
            cases.append((f"{name}[{a!r},{b!r}]", fn, a, b))
    return cases


def run_both(ref, impl, fn, xs):
    """Builds fn(*leaves) on both engines, checks the forward value bit for bit, runs
    backward on both and checks every leaf's grad. Returns (ref_out, impl_out,
    ref_leaves, impl_leaves)."""
    ref_leaves = [ref.Value(x) for x in xs]
    impl_leaves = [impl.Value(x) for x in xs]
    ref_out = fn(*ref_leaves)
    impl_out = fn(*impl_leaves)
    assert isinstance(impl_out, impl.Value)
    assert same_float(impl_out.data, ref_out.data), (impl_out.data, ref_out.data)
    ref_out.backward()
    impl_out.backward()
    assert impl_out.grad == 1.0
    assert_grads_match(impl_leaves, ref_leaves, root_ref=ref_out)
    return ref_out, impl_out, ref_leaves, impl_leaves
