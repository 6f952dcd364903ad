"""The cffi glue tricks the core relies on: each test fails if a new cffi stops honouring one."""
import sys
import threading

import pytest

from micrograd_c._core import lib
from micrograd_c.engine import Value


def test_calls_keep_the_gil():
    # 1 only when cffi wraps the call in the Py_BEGIN_ALLOW_THREADS we redefine to keep the
    # GIL: the core has no locks of its own and relies on calls never overlapping.
    assert lib.mg_glue_holds_gil() == 1


def test_calls_keep_the_gil_in_other_threads():
    seen = []
    t = threading.Thread(target=lambda: seen.append(lib.mg_glue_holds_gil()))
    t.start()
    t.join()
    assert seen == [1]


def test_net_forward_refuses_what_it_cannot_read():
    # the C entry point checks its inputs itself: a number slot without numbers, a dead id
    from micrograd_c._core import ffi

    w, b = Value(0.5), Value(0.0)
    ws, bs, nonlin = ffi.new("mg_id[]", [w._id]), ffi.new("mg_id[]", [b._id]), ffi.new("uint8_t[]", [0])
    layer = ffi.new("mg_layer_spec[]", [{"nin": 1, "nout": 1, "w": ws, "b": bs, "nonlin": nonlin}])
    net = ffi.new("mg_net *", {"nlayers": 1, "layers": layer})
    assert lib.mg_net_check(net) == lib.MG_OK
    error = 1 << lib.MG_ERROR_SHIFT
    assert lib.mg_net_forward(net, [-1], ffi.NULL, 1, ffi.NULL) == error + lib.MG_BADID
    assert lib.mg_net_forward(net, [1 << 30], ffi.NULL, 1, ffi.NULL) == error + lib.MG_BADID
    x = Value(2.0)
    assert lib.mg_data(lib.mg_net_forward(net, [x._id], ffi.NULL, 1, ffi.NULL)) == 1.0
    assert lib.mg_data(lib.mg_net_forward(net, [-1], [4.0], 1, ffi.NULL)) == 2.0


# --- Value.data and Value.grad: C descriptors written against the Python C API (py_fields.c)

def test_fields_read_the_id_slot_at_its_offset():
    # 1 only when the probe at import found where a Value keeps `_id`; 0 would mean the slower
    # getattr path (still right), so a CPython that lays slots out otherwise shows up here
    assert lib.mg_glue_fields_direct() == 1
    assert type(Value.__dict__["data"]).__module__ == "micrograd_c._core"


def test_fields_read_and_write_the_node():
    a = Value(1.5)
    a.data = 3            # an int, as `p.data = 0` does; data is a float after it
    a.grad = 0.25
    assert (a.data, a.grad, type(a.data)) == (3.0, 0.25, float)
    assert (lib.mg_data(a._id), lib.mg_grad(a._id)) == (3.0, 0.25)
    assert ((a * a).data, Value(-0.0).data.hex()) == (9.0, (-0.0).hex())


def test_fields_on_a_subclass_with_slots_of_its_own():
    class Tagged(Value):
        __slots__ = ("tag",)

    t = Tagged(2.5)
    t.tag = "x"
    t.data += 1
    assert (t.data, (t * 2).data, t.tag) == (3.5, 7.0, "x")


def test_fields_refuse_what_they_cannot_read():
    bare = Value.__new__(Value)            # no _id yet: an AttributeError, not a crash
    with pytest.raises(AttributeError):
        bare.data
    with pytest.raises(AttributeError):
        bare.grad = 1.0
    with pytest.raises(AttributeError):
        Value.data.__get__(object())        # not a Value
    v = Value(1.0)
    with pytest.raises(AttributeError):
        del v.data
    with pytest.raises(TypeError):
        v.grad = "a"
    v._id = "a"                             # an id that is not an int
    with pytest.raises(TypeError):
        v.data
    assert Value.data is Value.__dict__["data"] and "value" in Value.data.__doc__


def test_fields_hold_no_reference():
    values = [Value(1.0) for _ in range(5000)]
    v = max(values, key=lambda v: v._id)    # an id past the small ints Python shares
    before = sys.getrefcount(v._id)
    for _ in range(1000):
        v.data = v.data + v.grad
    after = sys.getrefcount(v._id)         # outside the assert, which holds what it shows
    assert after == before and v.data == 1.0
