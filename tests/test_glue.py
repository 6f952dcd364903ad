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


def test_pair_packing_reaches_both_operands():
    # binary ops take a << MG_PAIR_SHIFT | b: ids must stay below 1 << MG_PAIR_SHIFT
    a, b = Value(3.0), Value(5.0)
    assert a._id < 1 << lib.MG_PAIR_SHIFT and b._id < 1 << lib.MG_PAIR_SHIFT
    assert lib.mg_data(lib.mg_add(a._id << lib.MG_PAIR_SHIFT | b._id)) == 8.0
    assert lib.mg_data(lib.mg_add(b._id << lib.MG_PAIR_SHIFT | b._id)) == 10.0
