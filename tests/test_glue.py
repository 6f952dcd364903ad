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
