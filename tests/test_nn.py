"""nn against micrograd.nn: with the same random.seed the same weights, outputs and grads;
zero_grad; reprs; Layer's bare Value; inputs as numbers, Values or NumPy rows."""

import random

import numpy as np
import pytest

from _helpers import assert_grads_match, same_float


def _pair(ref, impl, make, seed=1337):
    random.seed(seed)
    m_ref = make(ref.nn)
    state_ref = random.getstate()
    random.seed(seed)
    m_impl = make(impl.nn)
    # the same number of draws from the stdlib generator, in the same order
    assert random.getstate() == state_ref
    return m_ref, m_impl


def _outputs(out):
    return out if isinstance(out, list) else [out]


@pytest.mark.c_only
def test_imports():
    from micrograd_c import nn
    from micrograd_c.engine import Value
    from micrograd_c.nn import MLP, Layer, Module, Neuron

    assert nn.Neuron is Neuron and nn.Layer is Layer and nn.MLP is MLP and nn.Module is Module
    assert isinstance(Neuron(2).b, Value)


@pytest.mark.parametrize("make", [
    lambda nn: nn.Neuron(3),
    lambda nn: nn.Neuron(3, nonlin=False),
    lambda nn: nn.Layer(3, 4),
    lambda nn: nn.Layer(3, 1, nonlin=False),
    lambda nn: nn.MLP(3, [4, 4, 1]),
    lambda nn: nn.MLP(2, [16, 16, 1]),
    lambda nn: nn.MLP(3, [5, 2]),
], ids=["neuron", "linear_neuron", "layer", "layer1", "mlp", "demo_mlp", "mlp_2_out"])
def test_same_seed_same_weights_outputs_and_grads(ref, impl, make):
    m_ref, m_impl = _pair(ref, impl, make)
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


def _nin(module):
    if hasattr(module, "w"):
        return len(module.w)
    if hasattr(module, "neurons"):
        return len(module.neurons[0].w)
    return len(module.layers[0].neurons[0].w)


def test_demo_mlp_has_337_parameters(impl):
    assert len(impl.nn.MLP(2, [16, 16, 1]).parameters()) == 337


def test_parameters_order_and_bias(ref, impl):
    m_ref, m_impl = _pair(ref, impl, lambda nn: nn.MLP(2, [3, 1]), seed=5)
    for eng_model in (m_ref, m_impl):
        expected = [p for layer in eng_model.layers for n in layer.neurons for p in n.w + [n.b]]
        assert all(a is b for a, b in zip(eng_model.parameters(), expected))
        assert len(eng_model.parameters()) == len(expected) == 13
        assert all(n.b.data == 0 for layer in eng_model.layers for n in layer.neurons)
    assert [len(n.w) for layer in m_impl.layers for n in layer.neurons] == [2, 2, 2, 3]
    assert [n.nonlin for layer in m_impl.layers for n in layer.neurons] == [True] * 3 + [False]


@pytest.mark.parametrize("kind", ["numbers", "values", "numpy_row", "numpy_ints"])
def test_inputs_of_any_kind(ref, impl, kind):
    m_ref, m_impl = _pair(ref, impl, lambda nn: nn.MLP(2, [4, 1]), seed=3)
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
    m_ref, m_impl = _pair(ref, impl, lambda nn: nn.MLP(3, [4, 1]))
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

    class Affine(impl.nn.Module):
        def __init__(self):
            self.a, self.b = impl.Value(2.0), impl.Value(1.0)

        def parameters(self):
            return [self.a, self.b]

    f = Affine()
    (f.a * 3 + f.b).backward()
    assert (f.a.grad, f.b.grad) == (3.0, 1.0)
    f.zero_grad()
    assert (f.a.grad, f.b.grad) == (0.0, 0.0)
    assert isinstance(impl.nn.Neuron(1), impl.nn.Module)
    assert isinstance(impl.nn.Layer(1, 1), impl.nn.Module)
    assert isinstance(impl.nn.MLP(1, [1]), impl.nn.Module)


@pytest.mark.parametrize("make, text", [
    (lambda nn: nn.Neuron(2), "ReLUNeuron(2)"),
    (lambda nn: nn.Neuron(3, nonlin=False), "LinearNeuron(3)"),
    (lambda nn: nn.Layer(2, 2), "Layer of [ReLUNeuron(2), ReLUNeuron(2)]"),
    (lambda nn: nn.MLP(2, [2, 1]),
     "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]"),
    (lambda nn: nn.MLP(2, [16, 16, 1]), None),
])
def test_reprs(ref, impl, make, text):
    m_ref, m_impl = _pair(ref, impl, make)
    assert repr(m_impl) == repr(m_ref) == str(m_impl)
    if text is not None:
        assert repr(m_impl) == text


def test_training_a_few_steps_matches(ref, impl):
    # a tiny regression, 20 SGD steps: every loss and the final weights agree
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    m_ref, m_impl = _pair(ref, impl, lambda nn: nn.MLP(3, [4, 4, 1]), seed=42)
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
