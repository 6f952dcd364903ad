"""Contracts inside micrograd_c that no public call shows, checked where they live: the cffi
build's GIL, the C base type under Value, the op table's rows, and the glue's C entry points
(nn's plans, pow's named path) refusing bad arguments with Python exceptions, not crashes.

Everything else in this suite goes through the public API; each test here says why it must
look inside. A redesign of the inside may rewrite this file, and only this file. Expected
results are mathematics (a neuron's fold in floats) or the C header's own names.
"""

import threading

import pytest

from micrograd_c._glue import ValueBase, core, lib
from micrograd_c.engine import Value
from micrograd_c.nn import Neuron

pytestmark = pytest.mark.c_only


def test_calls_hold_the_gil():
    # inside: the build redefines cffi's macro so that calls keep the GIL (csrc/arena.c, design
    # note 8); only the C side can tell (1 from inside that macro), a user nothing until a race
    assert lib.mg_glue_holds_gil() == 1
    seen = []
    t = threading.Thread(target=lambda: seen.append(lib.mg_glue_holds_gil()))
    t.start()
    t.join()
    assert seen == [1]


def test_value_is_the_facade_over_the_c_base():
    # inside: which type holds the node and which operators are C slots is a design choice a
    # user never sees (the results are test_value's); this pins it
    assert issubclass(Value, ValueBase) and Value.__module__ == "micrograd_c.engine"
    v = Value(2.5)
    assert type(v.data) is float and v.data == 2.5
    assert type(v._id) is int
    # the hot operators are the base's slots, the unary ops methods of Value itself
    assert type(v + v) is Value and type(2 * v) is Value and type(v**2) is Value
    assert type(Value.__dict__["relu"]).__name__ == "method_descriptor"


def test_table_rows_are_the_ops_the_core_names():
    # inside: the rows Python reads (mg_op_describe) are the ones the C code names; test_ops
    # reads the rows themselves, and this test holds them to the names the core uses
    from micrograd_c._glue import OP, OPS

    def row(key):
        r = OPS[OP[key]]
        return (r.name, r.method, r.arity)

    assert row("RELU")[:2] == ("ReLU", "relu")
    assert row("TANH")[:2] == ("tanh", "tanh")
    assert row("EXP")[:2] == ("exp", "exp")
    assert row("SIGMOID")[:2] == ("sigmoid", "sigmoid")
    assert row("LOG")[:2] == ("log", "log")
    assert row("ADD") == ("+", "", 2) and row("MUL") == ("*", "", 2)
    assert OPS[OP["ADD"]].value_first and OPS[OP["MUL"]].value_first
    for key in ("LEAF", "POW_INT", "POW_FLOAT", "POW_NAMED", "CUSTOM"):
        assert row(key)[:2] == ("", "")
    assert OP["LEAF"] == 0 and row("LEAF")[2] == 0
    assert len(OPS) == len(OP) and all(OP[r.key] == op for op, r in enumerate(OPS))


def test_net_calls_refuse_what_they_cannot_take():
    # inside: nn's plans (micrograd_c/_plan.py) are the only callers, and they never pass these;
    # the C entry points must still refuse them rather than read past a list
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
    assert core.net_call(plan, "ab") is NotImplemented  # not a list or a tuple
    assert core.net_call(plan, [1.0, object()]) is NotImplemented
    assert core.net_call(plan, []) is NotImplemented
    out = core.net_call(plan, [1.0, Value(2.0)])
    assert out.data == (n.b.data + n.w[0].data * 1.0) + n.w[1].data * 2.0


def test_pow_named_takes_only_values():
    # inside: _pypath.power, its one caller, passes a Value; the entry point refuses the rest
    with pytest.raises(TypeError):
        core.pow_named(1.0, 2.0, 1.0, 0.0)
