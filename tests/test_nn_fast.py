"""The nn fast path (a Layer's or a Neuron's nodes built in one C call) against micrograd:
every way a user can change a module or feed it odd inputs gives micrograd's graph and numbers,
whether the fast path takes the call or hands it back to micrograd's own fold."""

import math
import random
import sys

import numpy as np
import pytest

from _helpers import assert_grads_match, graph_signature, nn_calls, same_float, trace


def _twins(ref, impl, make, seed=7):
    random.seed(seed)
    m_ref = make(ref)
    random.seed(seed)
    return m_ref, make(impl)


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


@pytest.mark.parametrize("make", [
    lambda e: e.nn.Neuron(3),
    lambda e: e.nn.Neuron(3, nonlin=False),
    lambda e: e.nn.Layer(3, 4),
    lambda e: e.nn.Layer(3, 1, nonlin=False),
    lambda e: e.nn.MLP(3, [4, 4, 1]),
])
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


@pytest.mark.parametrize("change", ["replace_weight", "append_weight", "new_list", "bias", "nonlin",
                                    "neuron", "data"])
def test_changed_module_is_seen(ref, impl, change):
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.Layer(3, 3))
    xs = [0.5, -0.75, 1.5]
    _check(ref, impl, m_ref, m_impl, _inputs(ref, xs), _inputs(impl, xs))   # the plan is made

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
            random.seed(3)      # the same new weights for both
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
    import copy
    import pickle

    random.seed(5)
    model = impl.nn.MLP(2, [3, 1])
    model([1.0, 2.0])                       # makes the plans
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert [p.data for p in clone.parameters()] == [p.data for p in model.parameters()]
        assert not set(map(id, clone.parameters())) & set(map(id, model.parameters()))
        assert clone([1.0, 2.0]).data == model([1.0, 2.0]).data
        clone.parameters()[0].data += 1.0
        assert clone.parameters()[0].data != model.parameters()[0].data


# --- the whole-MLP call: one C call per sample, checked in O(1) against changes -------------

@pytest.mark.parametrize("change", ["layer_weight", "layer_bias", "replace_layer", "drop_layer",
                                    "neuron_list", "plain_list", "append_neuron"])
def test_changed_mlp_is_seen(ref, impl, change):
    m_ref, m_impl = _twins(ref, impl, lambda e: e.nn.MLP(2, [3, 3, 1]))
    xs = [0.5, -0.75]
    _check(ref, impl, m_ref, m_impl, _inputs(ref, xs), _inputs(impl, xs))   # the plan is made

    for m, eng in ((m_ref, ref), (m_impl, impl)):
        random.seed(11)                 # the same new weights for both
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
            m(_inputs(eng, xs))         # a call with the new list, then a change nothing watches
            m.layers[0].neurons[0].w[1] = eng.Value(1.75)
        elif change == "append_neuron":
            m.layers[1].neurons.append(eng.nn.Neuron(3))
    for p in m_ref.parameters():
        p.grad = 0
    m_impl.zero_grad()
    if change == "append_neuron":       # layer 2 still takes 3 inputs: zip cuts the fourth
        out_ref, out_impl = m_ref(_inputs(ref, xs)), m_impl(_inputs(impl, xs))
        assert same_float(out_impl.data, out_ref.data)
        assert graph_signature(out_impl) == graph_signature(out_ref)
        return
    _check(ref, impl, m_ref, m_impl, _inputs(ref, xs), _inputs(impl, xs))


def test_class_level_call_patch_is_honoured(impl):
    random.seed(2)
    model = impl.nn.MLP(2, [3, 1])
    x = [impl.Value(1.0), impl.Value(-2.0)]
    model(x)                            # the plan is made
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
    assert calls == model.layers        # micrograd's MLP calls each layer: so must this one


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
    sys.setrecursionlimit(20000)        # micrograd's backward recurses once per level
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
    n.w = list(n.w)                     # a plain list tells nobody of its changes: the fold runs
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
