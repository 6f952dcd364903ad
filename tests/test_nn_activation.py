"""nn's activation= keyword (an addition to micrograd's API): relu, tanh, sigmoid or None.

Expected outputs are computed here in plain floats from the weights, in micrograd's fold order
((b + w0*x0) + w1*x1) + ..., then math.tanh or the sigmoid's two-sided formula, so a C call
that took another order or another function would differ in the last bits.
"""
import math
import random

import pytest

from _helpers import nn_calls, py_sigmoid
from micrograd_c import gradcheck, nn
from micrograd_c.engine import Value
from micrograd_c.nn import MLP, Layer, Neuron


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


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", None])
def test_mlp_output_is_the_fold_to_the_bit(activation):
    random.seed(3)
    model = MLP(3, [8, 8, 2], activation=activation)
    rng = random.Random(4)
    for _ in range(5):
        x = [rng.uniform(-2, 2) for _ in range(3)]
        got, calls = nn_calls(nn, lambda: model([Value(xi) for xi in x]))
        assert [v.data for v in got] == _by_hand(model, x, activation)
        assert calls == ["MLP"]                         # the one C call made them: no fold


@pytest.mark.parametrize("activation, op", [("relu", "ReLU"), ("tanh", "tanh"), ("sigmoid", "sigmoid")])
def test_a_hidden_neuron_ends_with_its_op(activation, op):
    layer = Layer(2, 3, activation=activation)
    out = layer([Value(0.5), Value(-1.0)])
    assert [v._op for v in out] == [op] * 3


def test_none_is_linear():
    n = Neuron(2, activation=None)
    out = n([Value(0.5), Value(-1.0)])
    assert out._op == "+"
    assert repr(n) == "LinearNeuron(2)"


def test_reprs():
    assert repr(Neuron(2)) == "ReLUNeuron(2)"
    assert repr(Neuron(2, activation="tanh")) == "TanhNeuron(2)"
    assert repr(Neuron(3, activation="sigmoid")) == "SigmoidNeuron(3)"
    assert repr(Neuron(2, nonlin=False, activation="tanh")) == "LinearNeuron(2)"
    assert repr(MLP(2, [2, 1], activation="tanh")) == \
        "MLP of [Layer of [TanhNeuron(2), TanhNeuron(2)], Layer of [LinearNeuron(2)]]"


def test_last_layer_stays_linear():
    model = MLP(2, [4, 1], activation="sigmoid")
    out = model([Value(0.1), Value(0.2)])
    assert out._op == "+"


def test_same_initial_weights_whatever_the_activation():
    random.seed(7)
    a = [p.data for p in MLP(2, [4, 1]).parameters()]
    random.seed(7)
    b = [p.data for p in MLP(2, [4, 1], activation="tanh").parameters()]
    assert a == b


def test_unknown_activation():
    with pytest.raises(ValueError, match="activation must be one of"):
        Neuron(2, activation="gelu")
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP(2, [2, 1], activation="softmax")


def test_changing_the_activation_changes_the_next_call():
    random.seed(1)
    model = MLP(2, [3, 1])
    x = [0.3, -0.7]
    first = model([Value(v) for v in x]).data
    assert first == _by_hand(model, x, "relu")[0]
    for n in model.layers[0].neurons:
        n.activation = "tanh"
    assert model([Value(v) for v in x]).data == _by_hand(model, x, "tanh")[0]


def test_an_unknown_activation_set_later_fails_as_the_fold_does():
    n = Neuron(2)
    n.activation = "swish"
    with pytest.raises(AttributeError):
        n([Value(1.0), Value(2.0)])


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_gradients_against_finite_differences(activation):
    random.seed(5)
    model = MLP(2, [4, 4, 1], activation=activation)
    params = model.parameters()

    def f(*ps):
        return model([Value(0.4), Value(-0.9)]) * 1.0
    assert gradcheck(f, params, eps=1e-6, rtol=1e-5, atol=1e-8)
