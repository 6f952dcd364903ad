"""The Python type glue (csrc/value.c): the cffi build keeps the GIL, Value's base type holds
its node and hot operators, and the calls into C refuse what they cannot take, with Python
exceptions rather than crashes."""

import gc
import sys
import threading
import weakref

import pytest

from micrograd_c import engine
from micrograd_c._glue import ValueBase, core, lib
from micrograd_c.engine import Value
from micrograd_c.nn import Neuron

pytestmark = pytest.mark.c_only


def test_calls_hold_the_gil():
    # 1 only from inside the redefined cffi macro: the build still holds the GIL through calls
    assert lib.mg_glue_holds_gil() == 1
    seen = []
    t = threading.Thread(target=lambda: seen.append(lib.mg_glue_holds_gil()))
    t.start()
    t.join()
    assert seen == [1]


def test_value_is_the_facade_over_the_c_base():
    assert issubclass(Value, ValueBase) and Value.__module__ == "micrograd_c.engine"
    v = Value(2.5)
    assert type(v.data) is float and v.data == 2.5
    assert type(v._id) is int
    # the hot operators are the base's slots, the unary ops methods of Value itself
    assert type(v + v) is Value and type(2 * v) is Value and type(v ** 2) is Value
    assert type(Value.__dict__["relu"]).__name__ == "method_descriptor"


def test_data_written_any_way_reads_back_from_the_arena():
    v = Value(1.0)
    v.data = 4
    assert v.data == 4.0 and type(v.data) is float
    setattr(v, "data", 5.5)
    assert v.data == 5.5
    w = v * 2.0                             # the arena has it too: ops read it there
    assert w.data == 11.0
    v.data -= 0.5
    assert v.data == 5.0 and (v + 0.0).data == 5.0


def test_a_value_without_a_node_raises_as_micrograd_does():
    bare = Value.__new__(Value)             # __init__ never ran: no node
    with pytest.raises(AttributeError, match="data"):
        bare.data
    with pytest.raises(AttributeError):
        bare.grad
    with pytest.raises(AttributeError):
        bare + 1.0
    with pytest.raises(AttributeError):
        bare.relu()
    with pytest.raises(AttributeError):
        bare.backward()
    bare.data = 3.0                         # setting data makes the node
    assert (bare * 2.0).data == 6.0


def test_deleting_data_or_grad_is_an_attribute_error():
    v = Value(1.0)
    with pytest.raises(AttributeError):
        del v.data
    with pytest.raises(AttributeError):
        del v.grad
    assert v.data == 1.0


def test_user_attributes_weakrefs_and_subclass_slots():
    class Tagged(Value):
        __slots__ = ("tag",)

    t = Tagged(2.0, label="t")
    t.tag, t.note = "x", "y"
    assert (t.tag, t.note, t.label, t.data) == ("x", "y", "t", 2.0)
    assert type(t * t) is Value
    r = weakref.ref(t)
    del t
    gc.collect()
    assert r() is None


def test_no_references_leak():
    v = Value(1.5)
    before = sys.getrefcount(v), sys.getrefcount(Value)
    for _ in range(1000):
        v + v, v * 2.0, 3 + v, v ** 2, v.relu(), v.tanh(), v._prev, v.data, v.grad
    after = sys.getrefcount(v), sys.getrefcount(Value)
    assert after == before


def test_net_calls_refuse_what_they_cannot_take():
    n = Neuron(2)
    with pytest.raises(TypeError):
        core.net_new([([n.w[0], "w"], [n.b], [True])], False)
    with pytest.raises(ValueError):
        core.net_new([([n.w[0]], [n.b, n.b], [True, True])], False)  # 1 weight for 2 neurons
    with pytest.raises(ValueError):
        core.net_new([], False)
    plan = core.net_new([(list(n.w), [n.b], [False])], False)
    with pytest.raises(TypeError):
        core.net_call("not a plan", [1.0, 2.0])
    assert core.net_call(plan, "ab") is NotImplemented          # not a list or a tuple
    assert core.net_call(plan, [1.0, object()]) is NotImplemented
    assert core.net_call(plan, []) is NotImplemented
    out = core.net_call(plan, [1.0, Value(2.0)])
    assert out.data == (n.b.data + n.w[0].data * 1.0) + n.w[1].data * 2.0


def test_net_plans_notice_a_parameter_given_another_node():
    n = Neuron(1, nonlin=False)
    assert n([2.0]).data == n.w[0].data * 2.0
    n.w[0].__init__(5.0)                    # the same Value, a new node
    assert n([2.0]).data == 10.0


def test_pow_named_takes_only_values():
    with pytest.raises(TypeError):
        core.pow_named(1.0, 2.0, 1.0, 0.0)
