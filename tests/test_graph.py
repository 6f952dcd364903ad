"""The graph as users see it: trace_graph.ipynb's trace/draw_dot, `_prev` identity, `_op`,
`_backward` stepped by hand as in the lecture, labels and user attributes; each side by side
with micrograd 0.1.0, the same walk giving the same nodes, edges and grads (tanh, which
micrograd lacks, against math.tanh)."""

import math
import random

import pytest
from _helpers import (
    dot_signature,
    expression_cases,
    grad_close,
    graph_signature,
    trace,
)

# the shape does not depend on the numbers, except through ReLU: two input pairs suffice
CASES = [c for c in expression_cases() if c[2:] in ((-4.0, 2.0), (3.0, -0.5))]


# ----------------------------------------------------------------------------------------
# trace_graph.ipynb


def test_trace_of_relu_expression(ref, impl):
    sigs = []
    for eng in (ref, impl):
        x = eng.Value(1.0)
        y = (x * 2 + 1).relu()
        nodes, edges = trace(y)
        # x, the leaf 2, x*2, the leaf 1, +, ReLU
        assert len(nodes) == 6 and len(edges) == 5
        assert any(n is x for n in nodes)
        assert any(n is y for n in nodes)
        y.backward()
        sigs.append((graph_signature(y), dot_signature(y)))
    assert sigs[1] == sigs[0]


def test_trace_of_a_neuron(ref, impl):
    sigs = []
    for eng in (ref, impl):
        random.seed(1337)
        n = eng.nn.Neuron(2)
        x = [eng.Value(1.0), eng.Value(-2.0)]
        y = n(x)
        nodes, edges = trace(y)
        # 2 inputs, 2 weights, bias, 2 products, 2 sums, ReLU
        assert len(nodes) == 10 and len(edges) == 9
        for p in n.parameters() + x:
            assert any(node is p for node in nodes)
        y.backward()
        sigs.append((graph_signature(y), dot_signature(y)))
    assert sigs[1] == sigs[0]


@pytest.mark.parametrize("fn, a, b", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_graph_shape_matches_micrograd(ref, impl, fn, a, b):
    out_ref = fn(ref.Value(a), ref.Value(b))
    out_impl = fn(impl.Value(a), impl.Value(b))
    assert graph_signature(out_impl) == graph_signature(out_ref)


def test_trace_of_an_mlp_output(ref, impl):
    sigs = []
    for eng in (ref, impl):
        random.seed(7)
        model = eng.nn.MLP(3, [4, 4, 1])
        y = model([2.0, 3.0, -1.0])
        sigs.append(graph_signature(y))
    assert sigs[1] == sigs[0]


def test_shared_interior_node_is_one_node(ref, impl):
    sigs = []
    for eng in (ref, impl):
        a, b = eng.Value(2.0), eng.Value(-3.0)
        t = a * b
        out = t + t.relu() + t * t
        del t  # reachable only through the graph now
        nodes, edges = trace(out)
        # a, b, t, relu, +, t*t, +
        assert len(nodes) == 7 and len(edges) == 8
        sigs.append(graph_signature(out))
    assert sigs[1] == sigs[0]


# ----------------------------------------------------------------------------------------
# _prev


def test_prev_is_a_set_of_the_users_values(ref, impl):
    for eng in (ref, impl):
        a, b = eng.Value(2.0), eng.Value(3.0)
        c = a * b
        d = c + a
        assert isinstance(c._prev, set) and isinstance(a._prev, set)
        assert len(a._prev) == 0
        assert c._prev == {a, b}
        assert d._prev == {c, a}
        assert any(v is c for v in d._prev)


def test_prev_is_identity_stable(impl):
    a, b, c = impl.Value(2.0), impl.Value(-3.0), impl.Value(10.0)
    out = (a * b + c) * 2
    first = out._prev
    second = out._prev
    assert sorted(map(id, first)) == sorted(map(id, second))
    (s,) = [v for v in first if v._op == "+"]
    assert sorted(map(id, s._prev)) == sorted(map(id, s._prev))
    (m,) = [v for v in s._prev if v._op == "*"]
    assert any(v is a for v in m._prev) and any(v is b for v in m._prev)
    # walking down again reaches the very same interior objects
    (s2,) = [v for v in out._prev if v._op == "+"]
    assert s2 is s
    (m2,) = [v for v in s2._prev if v._op == "*"]
    assert m2 is m


def test_prev_of_number_operand_and_self_use(ref, impl):
    for eng in (ref, impl):
        a = eng.Value(3.0)
        assert len((a + 1)._prev) == 2
        assert (a + a)._prev == {a}
        assert (a * a)._prev == {a}
        assert len((a - a)._prev) == 2  # a + (a * -1)
        (p,) = (a**2)._prev
        assert p is a


def test_node_built_by_hand(ref, impl):
    # Value(data, _children, _op): micrograd records the edges and the op, with a no-op
    # _backward, so backward() through it leaves the children alone
    results = []
    for eng in (ref, impl):
        a, b = eng.Value(2.0), eng.Value(3.0)
        c = eng.Value(5.0, (a, b), "+")
        assert c._prev == {a, b} and c._op == "+" and c.data == 5
        d = c * 2
        d.backward()
        results.append((c.grad, a.grad, b.grad))
    assert results[0] == (2, 0, 0)
    assert results[1] == results[0]


# ----------------------------------------------------------------------------------------
# _backward by hand, in the lecture's order


def _lecture_graph(eng):
    def leaf(x, name):
        v = eng.Value(x)
        v.label = name  # micrograd 0.1.0 takes no label keyword; the attribute works on both
        return v

    a, b, c = leaf(2.0, "a"), leaf(-3.0, "b"), leaf(10.0, "c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = leaf(-2.0, "f")
    L = d * f
    L.label = "L"
    return a, b, c, d, e, f, L


def test_backward_by_hand_equals_backward(ref, impl):
    for eng in (ref, impl):
        a, b, c, d, e, f, L = _lecture_graph(eng)
        L.grad = 1.0
        for node in (L, d, e, a, b, c, f):  # the lecture's order; leaves are no-ops
            node._backward()
        by_hand = [v.grad for v in (a, b, c, d, e, f, L)]

        a, b, c, d, e, f, L = _lecture_graph(eng)
        L.backward()
        automatic = [v.grad for v in (a, b, c, d, e, f, L)]
        # dL/da = f*b, dL/db = f*a, dL/dc = f, dL/dd = f, dL/de = f, dL/df = d
        assert by_hand == automatic == [6.0, -4.0, -2.0, -2.0, -2.0, 4.0, 1.0]


@pytest.mark.c_only
def test_backward_by_hand_through_tanh(impl):
    # the lecture's neuron: o = tanh(x1*w1 + x2*w2 + b)
    V = impl.Value
    x1, x2 = V(2.0, label="x1"), V(0.0, label="x2")
    w1, w2 = V(-3.0, label="w1"), V(1.0, label="w2")
    b = V(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    o.grad = 1.0
    for node in (o, n, b, x1w1x2w2, x2w2, x1w1, x1, x2, w1, w2):
        node._backward()
    t = math.tanh(2.0 * -3.0 + 0.0 * 1.0 + 6.8813735870195432)
    assert o.data == t
    dn = 1 - t**2
    assert grad_close(n.grad, dn)
    assert grad_close(x1.grad, dn * -3.0) and grad_close(w1.grad, dn * 2.0)
    assert grad_close(x2.grad, dn * 1.0) and w2.grad == 0.0
    assert grad_close(b.grad, dn)


def test_backward_of_leaf_is_a_no_op(ref, impl):
    for eng in (ref, impl):
        a = eng.Value(3.0)
        a.grad = 0.5
        assert callable(a._backward)
        a._backward()
        assert a.grad == 0.5


def test_backward_by_hand_applies_only_the_local_rule(ref, impl):
    results = []
    for eng in (ref, impl):
        a, b = eng.Value(2.0), eng.Value(5.0)
        m = a * b
        out = m + 1
        out.grad = 3.0
        m._backward()  # m.grad is still 0: nothing flows yet
        step1 = (a.grad, b.grad)
        out._backward()
        step2 = (m.grad, a.grad)
        m._backward()
        m._backward()  # twice: accumulates twice
        results.append((step1, step2, a.grad, b.grad))
    assert results[0] == ((0, 0), (3.0, 0), 30.0, 12.0)
    assert results[1] == results[0]


# ----------------------------------------------------------------------------------------
# labels and attributes


@pytest.mark.c_only
def test_label_keyword_and_default(impl):
    assert impl.Value(1.0).label == ""
    assert impl.Value(1.0, label="a").label == "a"
    assert (impl.Value(1.0) + 2).label == ""
    a = impl.Value(1.0, (), "", "x")  # label is the fourth positional parameter
    assert a.label == "x"


def test_label_and_user_attributes(either):
    a = either.Value(2.0)
    a.label = "a"
    a.name = "weight"
    a.whatever = [1, 2]
    b = a * 3
    b.label = "b"
    c = b + a
    assert (a.label, a.name, a.whatever) == ("a", "weight", [1, 2])
    labels = sorted(getattr(v, "label", "") for v in c._prev)
    assert labels == ["a", "b"]
    (bb,) = [v for v in c._prev if v._op == "*"]
    assert bb.label == "b" and bb is b


def test_labels_in_the_lecture_graph_through_prev(either):
    a, b, c, d, e, f, L = _lecture_graph(either)
    nodes, _ = trace(L)
    assert sorted(n.label for n in nodes) == sorted("abcdefL")


def test_prev_leaves_unrelated_objects_alone(either):
    # walking the graph must not touch the user's other objects: a lazy proxy (Django's
    # SimpleLazyObject, werkzeug's LocalProxy, torch's deprecated aliases) evaluates, warns
    # or fails when its __class__ is read
    touched = []

    class LazyProxy:
        @property
        def __class__(self):
            touched.append(self)
            return LazyProxy

    proxy = LazyProxy()
    a = either.Value(2.0)
    b = a * 3 + 1
    nodes, _ = trace(b)
    assert len(nodes) == 5
    assert touched == []
    del proxy


def test_a_walk_keyed_by_id_that_keeps_no_values_counts_every_node(ref, impl):
    # micrograd's nodes outlive any walk, so a walk may key them by id() and keep nothing
    # else; the Values _prev gives must outlive it too (while the root lives), or ids are
    # reused by the next Values and the count comes out wrong, with no error
    counts = []
    for eng in (ref, impl):
        V = eng.Value
        root = sum((V(0.5 * i) * V(1.0 - i)).relu() for i in range(500))
        seen, todo = {id(root)}, [root]
        while todo:
            for child in todo.pop()._prev:
                if id(child) not in seen:
                    seen.add(id(child))
                    todo.append(child)
        counts.append(len(seen))
    assert counts[0] == counts[1] == 2501, counts
