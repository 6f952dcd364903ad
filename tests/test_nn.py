"""nn against micrograd.nn: with the same random.seed the same weights, outputs, graphs and
grads; zero_grad, reprs, Layer's bare Value, inputs as numbers, Values or NumPy rows.

A Neuron's, Layer's or MLP's call runs as one C call where it can (micrograd_c's fast path):
every way a user can change a module or feed it odd inputs gives micrograd's graph and numbers,
whether the fast path takes the call or hands it back to micrograd's own fold; which one ran
shows as the nn calls the interpreter's profiling hook sees.

Then micrograd_c's additions, against mathematics: the activation= keyword (outputs computed
here in plain floats in micrograd's fold order, ((b + w0*x0) + w1*x1) + ..., then math.tanh or
the sigmoid's two-sided formula, so a C call that took another order or function would differ
in the last bits), and state_dict() / load_state_dict().
"""

import copy
import json
import math
import pickle
import random
import sys

import numpy as np
import pytest
from _helpers import (
    assert_grads_match,
    graph_signature,
    nn_calls,
    py_sigmoid,
    same_float,
    trace,
)

from micrograd_c import gradcheck


def _twins(ref, impl, make, seed=7):
    """make(engine) for micrograd and the implementation, each after random.seed(seed)."""
    random.seed(seed)
    m_ref = make(ref)
    state_ref = random.getstate()
    random.seed(seed)
    m_impl = make(impl)
    # the same number of draws from the stdlib generator, in the same order
    assert random.getstate() == state_ref
    return m_ref, m_impl


def _outputs(out):
    return out if isinstance(out, list) else [out]


def _own_module(eng, a, b):
    """A Module of the user's own: parameters a and b, given its own way."""

    class Pair(eng.nn.Module):
        def __init__(self):
            self.a, self.b = eng.Value(a), eng.Value(b)

        def parameters(self):
            return [self.a, self.b]

    return Pair()


def _nin(module):
    if hasattr(module, "w"):
        return len(module.w)
    if hasattr(module, "neurons"):
        return len(module.neurons[0].w)
    return len(module.layers[0].neurons[0].w)


# ----------------------------------------------------------------------------------------
# against micrograd: weights, outputs, grads, parameters, reprs


@pytest.mark.c_only
def test_imports():
    from micrograd_c import nn
    from micrograd_c.engine import Value
    from micrograd_c.nn import MLP, Layer, Module, Neuron

    assert nn.Neuron is Neuron and nn.Layer is Layer and nn.MLP is MLP and nn.Module is Module
    assert isinstance(Neuron(2).b, Value)


# a module of each kind, made on an engine (three inputs)
MODULES = [
    pytest.param(lambda e: e.nn.Neuron(3), id="neuron"),
    pytest.param(lambda e: e.nn.Neuron(3, nonlin=False), id="linear_neuron"),
    pytest.param(lambda e: e.nn.Layer(3, 4), id="layer"),
    pytest.param(lambda e: e.nn.Layer(3, 1, nonlin=False), id="layer1"),
    pytest.param(lambda e: e.nn.MLP(3, [4, 4, 1]), id="mlp"),
]


@pytest.mark.parametrize(
    "make",
    MODULES
    + [
        pytest.param(lambda e: e.nn.MLP(2, [16, 16, 1]), id="demo_mlp"),
        pytest.param(lambda e: e.nn.MLP(3, [5, 2]), id="mlp_2_out"),
    ],
)
def test_same_seed_same_weights_outputs_and_grads(ref, impl, make):
    m_ref, m_impl = _twins(ref, impl, make, seed=1337)
    p_ref, p_impl = m_ref.parameters(), m_impl.parameters()
    assert len(p_impl) == len(p_ref)
    assert all(isinstance(p, impl.Value) for p in p_impl)
    assert [p.data for p in p_impl] == [p.data for p in p_ref]

    x = [2.0, 3.0, -1.0][: _nin(m_ref)]
    out_ref, out_impl = m_ref(x), m_impl(x)
    outs_ref, outs_impl = _outputs(out_ref), _outputs(out_impl)
    assert len(outs_impl) == len(outs_ref)
    assert all(same_float(a.data, b.data) for a, b in zip(outs_impl, outs_ref))

    loss_ref = sum(o * o for o in outs_ref)
    loss_impl = sum(o * o for o in outs_impl)
    assert same_float(loss_impl.data, loss_ref.data)
    loss_ref.backward()
    loss_impl.backward()
    assert_grads_match(p_impl, p_ref, root_ref=loss_ref)


def test_demo_mlp_has_337_parameters(impl):
    assert len(impl.nn.MLP(2, [16, 16, 1]).parameters()) == 337


def test_parameters_order_and_bias(ref, impl):
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.MLP(2, [3, 1]), seed=5)
    for eng_model in (m_ref, m_impl):
        expected = [p for layer in eng_model.layers for n in layer.neurons for p in n.w + [n.b]]
        assert all(a is b for a, b in zip(eng_model.parameters(), expected))
        assert len(eng_model.parameters()) == len(expected) == 13
        assert all(n.b.data == 0 for layer in eng_model.layers for n in layer.neurons)
    assert [len(n.w) for layer in m_impl.layers for n in layer.neurons] == [2, 2, 2, 3]
    assert [n.nonlin for layer in m_impl.layers for n in layer.neurons] == [True] * 3 + [False]


@pytest.mark.parametrize("kind", ["numbers", "values", "numpy_row", "numpy_ints"])
def test_inputs_of_any_kind(ref, impl, kind):
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.MLP(2, [4, 1]), seed=3)
    raw = [0.5, -1.25]

    def inputs(eng):
        if kind == "numbers":
            return raw
        if kind == "values":
            return [eng.Value(x) for x in raw]
        if kind == "numpy_row":
            return np.array(raw)
        return np.array([2, -3])

    x_ref, x_impl = inputs(ref), inputs(impl)
    out_ref, out_impl = m_ref(x_ref), m_impl(x_impl)
    assert isinstance(out_impl, impl.Value)
    assert same_float(out_impl.data, out_ref.data)
    out_ref.backward()
    out_impl.backward()
    assert_grads_match(m_impl.parameters(), m_ref.parameters(), root_ref=out_ref)
    if kind == "values":
        assert_grads_match(x_impl, x_ref, root_ref=out_ref)


def test_layer_returns_bare_value_for_one_output(impl):
    random.seed(0)
    one = impl.nn.Layer(2, 1)([1.0, 2.0])
    assert isinstance(one, impl.Value)
    many = impl.nn.Layer(2, 3)([1.0, 2.0])
    assert isinstance(many, list) and len(many) == 3
    assert all(isinstance(v, impl.Value) for v in many)
    assert isinstance(impl.nn.MLP(2, [3, 1])([1.0, 2.0]), impl.Value)
    assert isinstance(impl.nn.MLP(2, [3, 2])([1.0, 2.0]), list)


def test_zero_grad(ref, impl):
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.MLP(3, [4, 1]), seed=1337)
    for m in (m_ref, m_impl):
        out = m([1.0, -2.0, 0.5])
        (out * out + sum(m.parameters())).backward()
        assert any(p.grad != 0 for p in m.parameters())
        m.zero_grad()
        assert all(p.grad == 0 for p in m.parameters())
        # after zeroing, a new backward gives fresh (not accumulated) grads
        out2 = m([1.0, -2.0, 0.5])
        out2.backward()
    assert_grads_match(m_impl.parameters(), m_ref.parameters(), root_ref=out2)


def test_module_base(impl):
    m = impl.nn.Module()
    assert m.parameters() == []
    m.zero_grad()  # nothing to do, no error

    f = _own_module(impl, 2.0, 1.0)
    (f.a * 3 + f.b).backward()
    assert (f.a.grad, f.b.grad) == (3.0, 1.0)
    f.zero_grad()
    assert (f.a.grad, f.b.grad) == (0.0, 0.0)
    assert isinstance(impl.nn.Neuron(1), impl.nn.Module)
    assert isinstance(impl.nn.Layer(1, 1), impl.nn.Module)
    assert isinstance(impl.nn.MLP(1, [1]), impl.nn.Module)


@pytest.mark.parametrize(
    "make, text",
    [
        (lambda e: e.nn.Neuron(2), "ReLUNeuron(2)"),
        (lambda e: e.nn.Neuron(3, nonlin=False), "LinearNeuron(3)"),
        (lambda e: e.nn.Layer(2, 2), "Layer of [ReLUNeuron(2), ReLUNeuron(2)]"),
        (
            lambda e: e.nn.MLP(2, [2, 1]),
            "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]",
        ),
        (lambda e: e.nn.MLP(2, [16, 16, 1]), None),
    ],
)
def test_reprs(ref, impl, make, text):
    m_ref, m_impl = _twins(ref, impl, make, seed=1337)
    assert repr(m_impl) == repr(m_ref) == str(m_impl)
    if text is not None:
        assert repr(m_impl) == text


def test_training_a_few_steps_matches(ref, impl):
    # a tiny regression, 20 SGD steps: every loss and the final weights agree
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.MLP(3, [4, 4, 1]), seed=42)
    hist = {}
    for name, m in (("ref", m_ref), ("impl", m_impl)):
        losses = []
        for _ in range(20):
            loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, map(m, xs)))
            m.zero_grad()
            loss.backward()
            for p in m.parameters():
                p.data += -0.05 * p.grad
            losses.append(loss.data)
        hist[name] = (losses, [p.data for p in m.parameters()])
    assert hist["impl"][0] == pytest.approx(hist["ref"][0], rel=1e-9)
    assert hist["impl"][1] == pytest.approx(hist["ref"][1], rel=1e-9, abs=1e-12)


# ----------------------------------------------------------------------------------------
# the one C call, or micrograd's fold: a Layer's or a Neuron's call, against micrograd


def _check(ref, impl, m_ref, m_impl, x_ref, x_impl):
    """The same outputs, graph, and grads after backward through their sum."""
    out_ref, out_impl = m_ref(x_ref), m_impl(x_impl)
    outs_ref = out_ref if isinstance(out_ref, list) else [out_ref]
    outs_impl = out_impl if isinstance(out_impl, list) else [out_impl]
    assert len(outs_ref) == len(outs_impl)
    for a, b in zip(outs_impl, outs_ref):
        assert same_float(a.data, b.data)
        assert graph_signature(a) == graph_signature(b)
    total_ref = sum(outs_ref)
    total_impl = sum(outs_impl)
    total_ref.backward()
    total_impl.backward()
    assert_grads_match(m_impl.parameters(), m_ref.parameters(), root_ref=total_ref)
    return out_ref, out_impl


def _inputs(eng, xs):
    return [eng.Value(v) for v in xs]


@pytest.mark.parametrize("make", MODULES)
@pytest.mark.parametrize("kind", ["values", "floats", "ints", "numpy", "mixed", "tuple"])
def test_inputs_of_every_kind(ref, impl, make, kind):
    xs = [0.5, -1.25, 2.0]
    feed = {
        "values": lambda e: _inputs(e, xs),
        "floats": lambda e: list(xs),
        "ints": lambda e: [1, -2, 3],
        "numpy": lambda e: list(np.array(xs)),
        "mixed": lambda e: [e.Value(0.5), -1.25, np.float64(2.0)],
        "tuple": lambda e: tuple(_inputs(e, xs)),
    }[kind]
    m_ref, m_impl = _twins(ref, impl, make)
    _check(ref, impl, m_ref, m_impl, feed(ref), feed(impl))


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_inputs_shorter_or_longer_than_nin(ref, impl, n):
    # zip stops at the shorter: micrograd uses the first min(n, nin) weights
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.Layer(3, 2))
    xs = [0.25 * (i + 1) for i in range(n)]
    out_ref, out_impl = m_ref(xs), m_impl(xs)
    for a, b in zip(out_impl, out_ref):
        assert same_float(a.data, b.data)
        assert graph_signature(a) == graph_signature(b)


def test_no_inputs_gives_the_bias_itself(ref, impl):
    for eng in (ref, impl):
        n = eng.nn.Neuron(2, nonlin=False)
        assert n([]) is n.b


def test_generator_inputs(ref, impl):
    # micrograd's first neuron drains a generator; the others see nothing
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.Layer(2, 3, nonlin=False))
    out_ref = m_ref(v for v in [1.0, 2.0])
    out_impl = m_impl(v for v in [1.0, 2.0])
    assert [o.data for o in out_impl] == [o.data for o in out_ref]
    assert out_impl[1] is m_impl.neurons[1].b


@pytest.mark.parametrize(
    "change", ["replace_weight", "append_weight", "new_list", "bias", "nonlin", "neuron", "data"]
)
def test_changed_module_is_seen(ref, impl, change):
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.Layer(3, 3))
    xs = [0.5, -0.75, 1.5]
    _check(ref, impl, m_ref, m_impl, _inputs(ref, xs), _inputs(impl, xs))  # the plan is made

    for m, eng in ((m_ref, ref), (m_impl, impl)):
        n = m.neurons[1]
        if change == "replace_weight":
            n.w[2] = eng.Value(3.0)
        elif change == "append_weight":
            n.w.append(eng.Value(-2.0))
        elif change == "new_list":
            n.w = [eng.Value(0.1), eng.Value(0.2), eng.Value(0.3)]
        elif change == "bias":
            n.b = eng.Value(5.0)
        elif change == "nonlin":
            n.nonlin = False
        elif change == "neuron":
            random.seed(3)  # the same new weights for both
            m.neurons[2] = eng.nn.Neuron(3, nonlin=False)
        elif change == "data":
            n.w[0].data = 10.0
    for p in m_ref.parameters():
        p.grad = 0
    m_impl.zero_grad()
    _check(ref, impl, m_ref, m_impl, _inputs(ref, xs), _inputs(impl, xs))


def test_overridden_neuron_call_is_honoured(ref, impl):
    def make(eng):
        class Doubling(eng.nn.Neuron):
            def __call__(self, x):
                return super().__call__(x) * 2

        layer = eng.nn.Layer(2, 2)
        layer.neurons[0] = Doubling(2)
        return layer

    m_ref, m_impl = _twins(ref, impl, make)
    _check(ref, impl, m_ref, m_impl, [1.0, -0.5], [1.0, -0.5])


def test_odd_inputs_go_micrograds_way(ref, impl):
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.Neuron(2))
    for m in (m_ref, m_impl):
        with pytest.raises(TypeError):
            m(["a", "b"])


@pytest.mark.c_only  # micrograd cannot pickle a model: its Values hold lambdas
def test_copies_and_pickles_of_a_model_train_alike(impl):
    random.seed(5)
    model = impl.nn.MLP(2, [3, 1])
    model([1.0, 2.0])  # makes the plans
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert [p.data for p in clone.parameters()] == [p.data for p in model.parameters()]
        assert not set(map(id, clone.parameters())) & set(map(id, model.parameters()))
        assert clone([1.0, 2.0]).data == model([1.0, 2.0]).data
        clone.parameters()[0].data += 1.0
        assert clone.parameters()[0].data != model.parameters()[0].data


@pytest.mark.c_only
def test_net_plans_notice_a_parameter_given_another_node(impl):
    n = impl.nn.Neuron(1, nonlin=False)
    assert n([2.0]).data == n.w[0].data * 2.0
    n.w[0].__init__(5.0)  # the same Value, a new node
    assert n([2.0]).data == 10.0


# ----------------------------------------------------------------------------------------
# the whole MLP's call: one C call per sample, checked in O(1) against changes


@pytest.mark.parametrize(
    "change",
    [
        "layer_weight",
        "layer_bias",
        "replace_layer",
        "drop_layer",
        "neuron_list",
        "plain_list",
        "append_neuron",
    ],
)
def test_changed_mlp_is_seen(ref, impl, change):
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.MLP(2, [3, 3, 1]))
    xs = [0.5, -0.75]
    _check(ref, impl, m_ref, m_impl, _inputs(ref, xs), _inputs(impl, xs))  # the plan is made

    for m, eng in ((m_ref, ref), (m_impl, impl)):
        random.seed(11)  # the same new weights for both
        if change == "layer_weight":
            m.layers[1].neurons[2].w[0] = eng.Value(-4.0)
        elif change == "layer_bias":
            m.layers[0].neurons[1].b = eng.Value(2.5)
        elif change == "replace_layer":
            m.layers[1] = eng.nn.Layer(3, 3, nonlin=False)
        elif change == "drop_layer":
            del m.layers[1]
        elif change == "neuron_list":
            m.layers[2].neurons = [eng.nn.Neuron(3, nonlin=False)]
        elif change == "plain_list":
            m.layers[0].neurons[0].w = [eng.Value(0.3), eng.Value(-0.6)]
            m(_inputs(eng, xs))  # a call with the new list, then a change nothing watches
            m.layers[0].neurons[0].w[1] = eng.Value(1.75)
        elif change == "append_neuron":
            m.layers[1].neurons.append(eng.nn.Neuron(3))
    for p in m_ref.parameters():
        p.grad = 0
    m_impl.zero_grad()
    if change == "append_neuron":  # layer 2 still takes 3 inputs: zip cuts the fourth
        out_ref, out_impl = m_ref(_inputs(ref, xs)), m_impl(_inputs(impl, xs))
        assert same_float(out_impl.data, out_ref.data)
        assert graph_signature(out_impl) == graph_signature(out_ref)
        return
    _check(ref, impl, m_ref, m_impl, _inputs(ref, xs), _inputs(impl, xs))


def test_class_level_call_patch_is_honoured(impl):
    random.seed(2)
    model = impl.nn.MLP(2, [3, 1])
    x = [impl.Value(1.0), impl.Value(-2.0)]
    model(x)  # the plan is made
    calls = []
    original = impl.nn.Layer.__call__

    def logged(self, x):
        calls.append(self)
        return original(self, x)

    impl.nn.Layer.__call__ = logged
    try:
        model(x)
    finally:
        impl.nn.Layer.__call__ = original
    assert calls == model.layers  # micrograd's MLP calls each layer: so must this one


def test_one_wide_hidden_layer_hands_a_bare_value_on(ref, impl):
    # MLP(2, [1, 2]): micrograd's first layer returns a bare Value, which the next cannot zip
    for eng in (ref, impl):
        model = eng.nn.MLP(2, [1, 2])
        with pytest.raises(TypeError):
            model([1.0, 2.0])


def test_negative_zero_input_keeps_its_sign(ref, impl):
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.Neuron(2, nonlin=False))
    out_ref, out_impl = _check(ref, impl, m_ref, m_impl, [-0.0, 1.0], [-0.0, 1.0])
    leaves = [v for v in trace(out_impl)[0] if v._op == "" and v.data == 0.0 and v is not m_impl.b]
    assert [math.copysign(1.0, v.data) for v in leaves] == [-1.0]


@pytest.mark.c_only  # micrograd_c's zero_grad is one C call for plain Values
def test_zero_grad_with_a_parameter_of_another_kind(impl):
    # a subclass's own grad setter must run: zero_grad's one C call is for plain Values only
    class Tracked(impl.Value):
        set_to = []

        @property
        def grad(self):
            return impl.Value.grad.__get__(self)

        @grad.setter
        def grad(self, g):
            Tracked.set_to.append(g)
            impl.Value.grad.__set__(self, g)

    random.seed(4)
    n = impl.nn.Neuron(2, nonlin=False)
    n.w[0] = Tracked(0.5)
    n(_inputs(impl, [1.0, 2.0])).backward()
    assert any(p.grad != 0 for p in n.parameters())
    n.zero_grad()
    assert [p.grad for p in n.parameters()] == [0.0, 0.0, 0.0]
    assert Tracked.set_to == [0]


def test_mlp_output_of_several_values(ref, impl):
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.MLP(3, [4, 2]))
    out_ref, out_impl = _check(ref, impl, m_ref, m_impl, [1.0, -1.0, 0.5], [1.0, -1.0, 0.5])
    assert isinstance(out_impl, list) and len(out_impl) == 2


@pytest.mark.parametrize("kind", ["values", "floats"])
def test_neuron_wider_than_a_block(ref, impl, kind):
    # 2500 inputs make 5000-7500 nodes: one neuron's fold runs across C blocks of 4096
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.Neuron(2500, nonlin=False))
    xs = [((i * 37) % 101 - 50) / 25.0 for i in range(2500)]
    feed = (lambda e: _inputs(e, xs)) if kind == "values" else (lambda e: list(xs))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)  # micrograd's backward recurses once per level
    try:
        _check(ref, impl, m_ref, m_impl, feed(ref), feed(impl))
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.c_only
def test_a_module_on_the_fold_gets_the_fast_path_once_fixed(impl):
    # a layer that falls back reads its neurons too: putting nn's own list back in one of them
    # takes the layer to its one C call again (no neuron's __call__ runs)
    layer = impl.nn.Layer(2, 3)
    n = layer.neurons[1]
    watched = type(n.w)
    n.w = list(n.w)  # a plain list tells nobody of its changes: the fold runs
    folded, calls = nn_calls(impl.nn, lambda: layer([1.0, 2.0]))
    assert calls == ["Layer", "Neuron", "Neuron", "Neuron"]
    n.w = watched(n.w)
    fast, calls = nn_calls(impl.nn, lambda: layer([1.0, 2.0]))
    assert calls == ["Layer"]
    assert [v.data for v in fast] == [v.data for v in folded]


def test_an_input_subclass_with_its_own_rmul_is_honoured(ref, impl):
    # micrograd's fold computes w * x, which Python hands to x's __rmul__ first when x's class
    # is a subclass that defines one: the one C call must not skip it
    outs = []
    for eng in (ref, impl):

        class Doubling(eng.Value):
            def __rmul__(self, other):
                return other * (self * 2.0)

        random.seed(5)
        n = eng.nn.Neuron(2, nonlin=False)
        outs.append(n([Doubling(1.5), eng.Value(-0.5)]).data)
    assert outs[0] == outs[1]


# ----------------------------------------------------------------------------------------
# activation= (an addition to micrograd's API): relu, tanh, sigmoid or None

END = {"relu": lambda a: 0.0 if a < 0 else a, "tanh": math.tanh, "sigmoid": py_sigmoid, None: lambda a: a}


def _by_hand(model, x, activation):
    """The model's output on floats x, from its weights, in floats."""
    for i, layer in enumerate(model.layers):
        last = i == len(model.layers) - 1
        out = []
        for n in layer.neurons:
            act = n.b.data
            for w, xi in zip(n.w, x):
                act = act + w.data * xi
            out.append(act if last else END[activation](act))
        x = out
    return x


@pytest.mark.c_only
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", None])
def test_mlp_output_is_the_fold_to_the_bit(impl, activation):
    random.seed(3)
    model = impl.nn.MLP(3, [8, 8, 2], activation=activation)
    rng = random.Random(4)
    for _ in range(5):
        x = [rng.uniform(-2, 2) for _ in range(3)]
        got, calls = nn_calls(impl.nn, lambda: model([impl.Value(xi) for xi in x]))
        assert [v.data for v in got] == _by_hand(model, x, activation)
        assert calls == ["MLP"]  # the one C call made them: no fold


@pytest.mark.c_only
@pytest.mark.parametrize("activation, op", [("relu", "ReLU"), ("tanh", "tanh"), ("sigmoid", "sigmoid")])
def test_a_hidden_neuron_ends_with_its_op(impl, activation, op):
    layer = impl.nn.Layer(2, 3, activation=activation)
    out = layer([impl.Value(0.5), impl.Value(-1.0)])
    assert [v._op for v in out] == [op] * 3


@pytest.mark.c_only
def test_none_is_linear(impl):
    n = impl.nn.Neuron(2, activation=None)
    out = n([impl.Value(0.5), impl.Value(-1.0)])
    assert out._op == "+"
    assert repr(n) == "LinearNeuron(2)"


@pytest.mark.c_only
def test_activation_reprs(impl):
    assert repr(impl.nn.Neuron(2)) == "ReLUNeuron(2)"
    assert repr(impl.nn.Neuron(2, activation="tanh")) == "TanhNeuron(2)"
    assert repr(impl.nn.Neuron(3, activation="sigmoid")) == "SigmoidNeuron(3)"
    assert repr(impl.nn.Neuron(2, nonlin=False, activation="tanh")) == "LinearNeuron(2)"
    assert (
        repr(impl.nn.MLP(2, [2, 1], activation="tanh"))
        == "MLP of [Layer of [TanhNeuron(2), TanhNeuron(2)], Layer of [LinearNeuron(2)]]"
    )


@pytest.mark.c_only
def test_last_layer_stays_linear(impl):
    model = impl.nn.MLP(2, [4, 1], activation="sigmoid")
    out = model([impl.Value(0.1), impl.Value(0.2)])
    assert out._op == "+"


@pytest.mark.c_only
def test_same_initial_weights_whatever_the_activation(impl):
    random.seed(7)
    a = [p.data for p in impl.nn.MLP(2, [4, 1]).parameters()]
    random.seed(7)
    b = [p.data for p in impl.nn.MLP(2, [4, 1], activation="tanh").parameters()]
    assert a == b


@pytest.mark.c_only
def test_unknown_activation(impl):
    with pytest.raises(ValueError, match="activation must be one of"):
        impl.nn.Neuron(2, activation="gelu")
    with pytest.raises(ValueError, match="activation must be one of"):
        impl.nn.MLP(2, [2, 1], activation="softmax")


@pytest.mark.c_only
def test_changing_the_activation_changes_the_next_call(impl):
    random.seed(1)
    model = impl.nn.MLP(2, [3, 1])
    x = [0.3, -0.7]
    first = model([impl.Value(v) for v in x]).data
    assert first == _by_hand(model, x, "relu")[0]
    for n in model.layers[0].neurons:
        n.activation = "tanh"
    assert model([impl.Value(v) for v in x]).data == _by_hand(model, x, "tanh")[0]


@pytest.mark.c_only
def test_an_unknown_activation_set_later_fails_as_the_fold_does(impl):
    n = impl.nn.Neuron(2)
    n.activation = "swish"
    with pytest.raises(AttributeError):
        n([impl.Value(1.0), impl.Value(2.0)])


@pytest.mark.c_only
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_gradients_against_finite_differences(impl, activation):
    random.seed(5)
    model = impl.nn.MLP(2, [4, 4, 1], activation=activation)
    params = model.parameters()

    def f(*ps):
        return model([impl.Value(0.4), impl.Value(-0.9)]) * 1.0

    assert gradcheck(f, params, eps=1e-6, rtol=1e-5, atol=1e-8)


# ----------------------------------------------------------------------------------------
# state_dict() and load_state_dict(): the parameters' data as plain floats, by name


@pytest.mark.c_only
def test_state_dict_is_the_parameters_data_in_order(impl):
    random.seed(0)
    model = impl.nn.MLP(2, [3, 2, 1])
    state = model.state_dict()
    assert list(state.values()) == [p.data for p in model.parameters()]
    assert all(type(x) is float for x in state.values())
    assert list(state)[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert list(state)[-1] == "layers.2.neurons.0.b"
    assert len(state) == len(model.parameters()) == 3 * 3 + 2 * 4 + 1 * 3


@pytest.mark.c_only
def test_round_trip_through_json(impl):
    random.seed(1)
    a, b = impl.nn.MLP(2, [4, 1]), impl.nn.MLP(2, [4, 1])
    assert a.state_dict() != b.state_dict()
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert b.state_dict() == a.state_dict()
    x = [impl.Value(0.3), impl.Value(-0.2)]
    assert b(x).data == a(x).data  # the loaded model computes the same


@pytest.mark.c_only
def test_neuron_and_layer(impl):
    n = impl.nn.Neuron(3)
    assert list(n.state_dict()) == ["w.0", "w.1", "w.2", "b"]
    layer = impl.nn.Layer(2, 2)
    assert list(layer.state_dict()) == [
        "neurons.0.w.0",
        "neurons.0.w.1",
        "neurons.0.b",
        "neurons.1.w.0",
        "neurons.1.w.1",
        "neurons.1.b",
    ]


@pytest.mark.c_only
def test_size_mismatch_names_what_differs(impl):
    state = impl.nn.MLP(2, [3, 1]).state_dict()
    target = impl.nn.MLP(2, [4, 1])
    before = target.state_dict()
    with pytest.raises(
        ValueError, match=r"13 values for 17 parameters; missing: layers\.0\.neurons\.3\.w\.0"
    ):
        target.load_state_dict(state)
    assert target.state_dict() == before


@pytest.mark.c_only
def test_shape_mismatch_of_the_same_size(impl):
    state = impl.nn.MLP(5, [2]).state_dict()  # 12 parameters
    target = impl.nn.MLP(3, [3])  # 12 too, named otherwise
    assert len(state) == len(target.parameters())
    with pytest.raises(ValueError, match="missing: .*unexpected: "):
        target.load_state_dict(state)


@pytest.mark.c_only
def test_not_a_number_sets_nothing(impl):
    model = impl.nn.Neuron(2)
    before = model.state_dict()
    bad = dict(before, b="0.5")
    with pytest.raises(TypeError):
        model.load_state_dict(bad)
    assert model.state_dict() == before


@pytest.mark.c_only
def test_a_module_with_its_own_parameters_is_named_by_position(impl):
    p = _own_module(impl, 1.0, 2.0)
    assert p.state_dict() == {"0": 1.0, "1": 2.0}
    p.load_state_dict({"0": 5.0, "1": 6.0})
    assert (p.a.data, p.b.data) == (5.0, 6.0)


@pytest.mark.c_only
def test_pickling_still_works(impl):
    random.seed(2)
    model = impl.nn.MLP(2, [3, 1], activation="tanh")
    clone = pickle.loads(pickle.dumps(model))
    assert clone.state_dict() == model.state_dict()
    assert repr(clone) == repr(model)
