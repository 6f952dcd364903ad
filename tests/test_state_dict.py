"""Module.state_dict() and load_state_dict(): the parameters' data as plain floats, by name."""
import json
import pickle
import random

import pytest

from micrograd_c.engine import Value
from micrograd_c.nn import MLP, Layer, Module, Neuron


def test_state_dict_is_the_parameters_data_in_order():
    random.seed(0)
    model = MLP(2, [3, 2, 1])
    state = model.state_dict()
    assert list(state.values()) == [p.data for p in model.parameters()]
    assert all(type(x) is float for x in state.values())
    assert list(state)[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert list(state)[-1] == "layers.2.neurons.0.b"
    assert len(state) == len(model.parameters()) == 3 * 3 + 2 * 4 + 1 * 3


def test_round_trip_through_json():
    random.seed(1)
    a, b = MLP(2, [4, 1]), MLP(2, [4, 1])
    assert a.state_dict() != b.state_dict()
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    assert b.state_dict() == a.state_dict()
    x = [Value(0.3), Value(-0.2)]
    assert b(x).data == a(x).data          # the loaded model computes the same


def test_neuron_and_layer():
    n = Neuron(3)
    assert list(n.state_dict()) == ["w.0", "w.1", "w.2", "b"]
    layer = Layer(2, 2)
    assert list(layer.state_dict()) == ["neurons.0.w.0", "neurons.0.w.1", "neurons.0.b",
                                        "neurons.1.w.0", "neurons.1.w.1", "neurons.1.b"]


def test_size_mismatch_names_what_differs():
    state = MLP(2, [3, 1]).state_dict()
    target = MLP(2, [4, 1])
    before = target.state_dict()
    with pytest.raises(ValueError, match=r"13 values for 17 parameters; missing: layers\.0\.neurons\.3\.w\.0"):
        target.load_state_dict(state)
    assert target.state_dict() == before


def test_shape_mismatch_of_the_same_size():
    state = MLP(5, [2]).state_dict()        # 12 parameters
    target = MLP(3, [3])                    # 12 too, named otherwise
    assert len(state) == len(target.parameters())
    with pytest.raises(ValueError, match="missing: .*unexpected: "):
        target.load_state_dict(state)


def test_not_a_number_sets_nothing():
    model = Neuron(2)
    before = model.state_dict()
    bad = dict(before, b="0.5")
    with pytest.raises(TypeError):
        model.load_state_dict(bad)
    assert model.state_dict() == before


def test_a_module_with_its_own_parameters_is_named_by_position():
    class Pair(Module):
        def __init__(self):
            self.a, self.b = Value(1.0), Value(2.0)

        def parameters(self):
            return [self.a, self.b]
    p = Pair()
    assert p.state_dict() == {"0": 1.0, "1": 2.0}
    p.load_state_dict({"0": 5.0, "1": 6.0})
    assert (p.a.data, p.b.data) == (5.0, 6.0)


def test_pickling_still_works():
    random.seed(2)
    model = MLP(2, [3, 1], activation="tanh")
    copy = pickle.loads(pickle.dumps(model))
    assert copy.state_dict() == model.state_dict()
    assert repr(copy) == repr(model)
