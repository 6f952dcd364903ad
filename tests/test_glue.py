"""The cffi glue tricks the core relies on: each test fails if a new cffi stops honouring one."""
import threading

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
