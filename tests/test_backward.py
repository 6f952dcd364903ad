"""backward(), against micrograd 0.1.0: contributions accumulate as micrograd adds them (a node
used twice, a second backward, a weight shared by many samples), special floats pass through
as Python's floats do, and where Python float arithmetic raises, backward raises the same.
Then ops added the lecture's way: `out = Value(f(x), (x,), 'f')`, a closure that adds the
local derivative into the children's grads, `out._backward = closure`. Each test runs the same
code on micrograd and on micrograd_c and compares: forward values exactly, grads to
GRAD_RTOL; where micrograd cannot (a closure inside a C sweep), against mathematics."""

import gc
import math
import random
import traceback
import weakref

import pytest
from _helpers import assert_grads_match, grad_close, same_float

# ----------------------------------------------------------------------------------------
# backward(): accumulation, as micrograd's


def test_node_used_twice_gets_both_contributions(ref, impl):
    for eng in (ref, impl):
        a = eng.Value(3.0)
        (a + a).backward()
        assert a.grad == 2.0
        b = eng.Value(3.0)
        (b * b).backward()
        assert b.grad == 6.0


def test_second_backward_accumulates_like_micrograd(ref, impl):
    grads = []
    for eng in (ref, impl):
        a = eng.Value(2.0)
        b = a * 3
        c = b + 1
        c.backward()
        c.backward()
        grads.append((a.grad, b.grad, c.grad))
    # the root is set to 1 each time and everything else accumulates, interior nodes
    # included: b goes 1 -> 2, and a's second contribution is 3 * b.grad = 6 (total 9)
    assert grads[0] == (9, 2, 1)
    assert grads[1] == (9.0, 2.0, 1.0)


def test_backward_on_leaf(ref, impl):
    for eng in (ref, impl):
        a = eng.Value(5.0)
        a.backward()
        assert a.grad == 1


def test_shared_weight_over_many_samples(ref, impl):
    xs = [0.5 * i - 3 for i in range(100)]
    outs = []
    for eng in (ref, impl):
        w = eng.Value(0.3)
        loss = sum((w * x - 1) ** 2 for x in xs)
        loss.backward()
        outs.append((loss, w))
    (ref_loss, ref_w), (impl_loss, impl_w) = outs
    assert impl_loss.data == ref_loss.data
    assert grad_close(impl_w.grad, ref_w.grad, scale=sum(abs(2 * (0.3 * x - 1) * x) for x in xs))


def test_relu_at_zero_passes_no_gradient(ref, impl):
    for eng in (ref, impl):
        a = eng.Value(0.0)
        a.relu().backward()
        assert a.grad == 0


# ----------------------------------------------------------------------------------------
# special floats through backward, and where Python float arithmetic raises: the same
# numbers, or the same exception, as micrograd's closures


@pytest.mark.parametrize(
    "fn, x",
    [
        (lambda a: a.relu() * 1e308 * 10, -1.0),  # ReLU passes (out > 0) * inf = nan
        (lambda a: (a * 0) * 1e308 * 10, 2.0),  # 0 * inf
        (lambda a: (a**2) * 1e308 * 10, 0.0),  # 2 * 0.0 * inf
        (lambda a: a.relu(), math.nan),  # (nan > 0) is false: no gradient
        (lambda a: a * math.inf - a * math.inf, 1.0),
        (lambda a: (a * 1e200) * (a * 1e200), 1.0),  # forward inf, grads inf
    ],
)
def test_special_values_backward(ref, impl, fn, x):
    a_ref, a_impl = ref.Value(x), impl.Value(x)
    out_ref, out_impl = fn(a_ref), fn(a_impl)
    assert same_float(out_impl.data, out_ref.data)
    out_ref.backward()
    out_impl.backward()
    assert grad_close(a_impl.grad, a_ref.grad)


@pytest.mark.parametrize(
    "fn, exc",
    [
        (lambda V: V(0.0) ** 0.5, ZeroDivisionError),  # 0.5 * 0.0 ** -0.5
        (lambda V: V(0.0) ** 0, ZeroDivisionError),  # 0 * 0.0 ** -1
        (lambda V: V(1e-110) ** -2, OverflowError),  # -2 * (1e-110) ** -3
    ],
)
def test_backward_raises_where_micrograd_raises(ref, impl, fn, exc):
    with pytest.raises(exc):
        fn(ref.Value).backward()
    with pytest.raises(exc):
        fn(impl.Value).backward()


def test_backward_that_does_not_raise_at_zero(ref, impl):
    grads = []
    for eng in (ref, impl):
        a = eng.Value(0.0)
        (a**1.5).backward()  # 1.5 * 0.0 ** 0.5 = 0
        grads.append(a.grad)
    assert grads[0] == grads[1] == 0


# ----------------------------------------------------------------------------------------
# two ops a user adds: sin, and the lecture's tanh written with exp


def sin(self):
    """A sin op, as a user adds it to micrograd's Value (the README's example)."""
    out = self._engine_value(math.sin(self.data), (self,), "sin")

    def _backward():
        self.grad += math.cos(self.data) * out.grad

    out._backward = _backward
    return out


def lecture_tanh(self):
    """The lecture's tanh, written with exp."""
    x = self.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = self._engine_value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


@pytest.fixture
def patched(monkeypatch, ref, impl):
    """Both engines' Value with sin and the lecture's tanh added by monkeypatching."""
    for eng in (ref, impl):
        monkeypatch.setattr(eng.Value, "_engine_value", eng.Value, raising=False)
        monkeypatch.setattr(eng.Value, "sin", sin, raising=False)
        monkeypatch.setattr(eng.Value, "tanh", lecture_tanh, raising=False)
    return ref, impl


def _both(engines, program):
    """program(Value) on each engine: (the Values it returns, for comparison) per engine."""
    return [program(eng.Value) for eng in engines]


def _compare(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert same_float(g.data, w.data), (g, w)
    assert_grads_match(got, want)


# ----------------------------------------------------------------------------------------
# the lecture's ways to add an op


def test_a_monkeypatched_op(patched):
    def program(Value):
        x = Value(0.5)
        y = (x * 2).sin() * x + x.sin()
        y.backward()
        return [x, y]

    want, got = _both(patched, program)
    _compare(got, want)
    assert same_float(got[0].grad, 2 * math.cos(1.0) * 0.5 + math.sin(1.0) + math.cos(0.5))


def test_the_lecture_s_neuron_with_its_own_tanh(patched):
    def program(Value):
        x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
        b = Value(6.8813735870195432)
        n = x1 * w1 + x2 * w2 + b
        o = n.tanh()
        o.backward()
        return [x1, x2, w1, w2, b, n, o]

    want, got = _both(patched, program)
    _compare(got, want)
    x = got[5].data  # the lecture's formula, to the bit
    assert got[6].data == (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    assert got[6]._op == "tanh" and got[6]._prev == {got[5]}


def test_a_subclass_s_op(ref, impl):
    def program(Value):
        class Scaled(Value):
            def softplus(self):
                out = Scaled(math.log1p(math.exp(self.data)), (self,), "softplus")

                def _backward():
                    self.grad += out.grad / (1 + math.exp(-self.data))

                out._backward = _backward
                return out

        x = Scaled(-0.3)
        s = x.softplus()
        y = s * s + s.softplus()
        y.backward()
        return [x, s, y]

    want, got = _both((ref, impl), program)
    _compare(got, want)


def test_a_closure_replaces_a_built_in_node_s_rule(ref, impl):
    # a straight-through estimator: relu's forward, the identity's backward
    def program(Value):
        x = Value(-1.5)
        inner = x * 3.0
        out = inner.relu()

        def straight_through():
            inner.grad += out.grad

        out._backward = straight_through
        y = out * 2.0 + x
        y.backward()
        return [x, inner, out, y]

    want, got = _both((ref, impl), program)
    _compare(got, want)
    assert got[0].grad == 3.0 * 2.0 + 1.0  # through the relu, which would have passed none


def test_backward_reads_back_the_callable_given(ref, impl):
    for eng in (ref, impl):
        out = eng.Value(2.0) * 3.0

        def rule():
            pass

        out._backward = rule
        assert out._backward is rule


def test_a_node_built_with_children_and_an_op_label(ref, impl):
    def program(Value):
        a, b = Value(2.0), Value(-1.0)
        c = Value(5.0, (a, b), "myop")  # no _backward: passes no gradient
        d = Value(data=1.5, _children=(c,), _op="k")
        y = d * c
        y.backward()
        return [a, b, c, d, y]

    want, got = _both((ref, impl), program)
    _compare(got, want)
    a, b, c, d, y = got
    assert (c._op, d._op) == ("myop", "k")
    assert c._prev == {a, b} and d._prev == {c}
    assert (a.grad, b.grad) == (0.0, 0.0)


# ----------------------------------------------------------------------------------------
# manual backprop, as the lecture steps through it


def test_manual_backprop_node_by_node(patched):
    def program(Value):
        x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
        b = Value(6.8813735870195432)
        x1w1, x2w2 = x1 * w1, x2 * w2
        s = x1w1 + x2w2
        n = s + b
        o = n.tanh()  # a closure node among C ones
        o.grad = 1.0
        for v in (o, n, s, x2w2, x1w1):  # the lecture's order, by hand
            v._backward()
        return [x1, x2, w1, w2, b, x1w1, x2w2, s, n, o]

    want, got = _both(patched, program)
    _compare(got, want)


def test_manual_backprop_in_another_order_too(patched):
    def program(Value):
        x = Value(0.7)
        s = x.sin()
        y = s * x
        y.grad = 2.0
        y._backward()
        s._backward()
        s._backward()  # twice: the user's choice, as in micrograd
        return [x, s, y]

    want, got = _both(patched, program)
    _compare(got, want)


# ----------------------------------------------------------------------------------------
# a closure that raises


class Boom(Exception):
    pass


def test_a_closure_that_raises(ref, impl):
    def program(Value):
        x = Value(1.5)
        y = x * 2.0
        z = Value(y.data**2, (y,), "sq")

        def broken():
            raise Boom("the closure failed")

        z._backward = broken
        w = z * 3.0 + x
        with pytest.raises(Boom, match="the closure failed") as info:
            w.backward()
        names = [frame.name for frame in traceback.extract_tb(info.tb)]
        assert names[-1] == "broken"
        partial = [x.grad, y.grad, z.grad, w.grad]  # as far as the sweep got

        def fixed():
            y.grad += 2 * y.data * z.grad

        z._backward = fixed
        for v in (x, y, z, w):
            v.grad = 0.0
        w.backward()  # nothing damaged: it runs again
        return partial, [x, y, z, w]

    (want_partial, want), (got_partial, got) = _both((ref, impl), program)
    assert got_partial == want_partial == [1.0, 0.0, 3.0, 1.0]
    _compare(got, want)


@pytest.mark.c_only
def test_after_a_closure_raised_other_graphs_and_collections_work(impl):
    Value = impl.Value
    x = Value(1.0)
    z = Value(2.0, (x,), "f")
    z._backward = lambda: 1 / 0
    with pytest.raises(ZeroDivisionError):
        (z * 2.0).backward()
    impl.engine.collect()
    a = Value(3.0)
    b = (a * a + a).relu()
    b.backward()
    assert a.grad == 7.0


# ----------------------------------------------------------------------------------------
# what closures keep alive, and what they do not


def test_a_closure_lives_as_long_as_a_node_above_it(patched):
    def program(Value):
        def build():
            x = Value(0.5)
            w = ((x.sin() * 2.0) + 1.0).relu()  # the sin's and the product's Values dropped
            return x, w

        x, w = build()
        gc.collect()
        w.backward()
        return [x, w]

    want, got = _both(patched, program)
    _compare(got, want)


def test_an_nn_call_on_inputs_with_closures(patched):
    def program(Value, nn):
        random.seed(7)
        model = nn.MLP(2, [3, 1])
        a, b = Value(0.3), Value(-0.8)
        out = model([a.sin(), b.tanh()])
        out.backward()
        return [a, b, out] + model.parameters()

    (ref, impl) = patched
    want = program(ref.Value, ref.nn)
    got = program(impl.Value, impl.nn)
    _compare(got, want)


def test_a_closure_that_builds_values_while_backward_runs(ref, impl):
    def program(Value):
        x = Value(0.25)
        out = Value(x.data**3, (x,), "cube")

        def _backward():
            local = (x * x * 3.0).data  # a small graph, made in the middle of the sweep
            x.grad += local * out.grad

        out._backward = _backward
        y = out * out + x
        y.backward()
        return [x, out, y]

    want, got = _both((ref, impl), program)
    _compare(got, want)


@pytest.mark.c_only
def test_custom_op_graphs_dropped_in_a_loop_leave_memory_flat(impl, patched):
    Value, engine = impl.Value, impl.engine

    def step(k):
        x = Value(0.01 * k)
        y = (x.sin() * x + x.tanh()).sin()
        y.backward()
        return weakref.ref(y)

    refs = [step(k) for k in range(2000)]  # the arena's blocks and spares in place
    gc.collect()
    assert all(r() is None for r in refs)  # each graph is a cycle: gone with gc.collect()
    nodes, size = engine.live_nodes(), engine.arena_bytes(spares=True)
    for k in range(2000):  # 2,000 more: nothing more is kept
        step(k)
    gc.collect()
    assert engine.live_nodes() <= nodes
    assert engine.arena_bytes(spares=True) <= size


@pytest.mark.c_only
def test_backward_inside_a_closure_is_refused_clearly(impl):
    Value = impl.Value
    x = Value(1.0)
    other = Value(2.0) * 3.0
    out = Value(1.0, (x,), "f")
    out._backward = other.backward
    with pytest.raises(RuntimeError, match="stopped at a Python _backward"):
        (out * 2.0).backward()
    other.backward()  # and once the first is over, it runs
    assert other.grad == 1.0


@pytest.mark.deliberate
def test_a_non_callable_backward_is_a_type_error(impl):
    # micrograd takes it, and fails at backward() with the same TypeError
    out = impl.Value(1.0) * 2.0
    with pytest.raises(TypeError, match="callable"):
        out._backward = 3


@pytest.mark.c_only
def test_a_closure_that_grows_the_arena_and_asks_for_collections(impl):
    # while backward() waits for a closure, collections wait for backward(); the nodes the
    # closure makes (new blocks, the arena's tables grown) do not disturb the sweep
    Value, engine = impl.Value, impl.engine
    kept = []
    x = Value(0.5)
    chain = x
    for _ in range(5000):  # blocks of nodes below the closure's node
        chain = chain * 1.0 + 0.0
    out = Value(chain.data * 2, (chain,), "double")

    def rule():
        kept.extend(Value(float(k)) * 2.0 for k in range(20_000))
        gc.collect()
        engine.collect()
        chain.grad += 2 * out.grad

    out._backward = rule
    y = out * 3.0 + x
    y.backward()
    assert x.grad == 2 * 3.0 + 1.0
    del kept[:]
    before = engine.collections()
    gc.collect()
    assert engine.collections() > before  # and they run again once it is over
