"""Regression tests that pin bugs found by probing the previous design of micrograd_c.

Each test here failed (or crashed, or hung) on some earlier version of the core or of the
Python layer: a fork while other threads build graphs, copies and pickles of a `Value`
subclass, a subclass that skips `Value.__init__`, `**` with an integer exponent past 2**53,
the `data`/`grad` setters taking what the constructor refuses, and a hand-built node.

As everywhere in this suite, the expected results come from micrograd 0.1.0 (the `ref`
fixture) or from mathematics done with plain Python floats, never from numbers micrograd_c
produced itself.
"""

import copy
import math
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from _helpers import load_engine

IMPL_NAME = os.environ.get("MICROGRAD_C_TEST_IMPL", "micrograd_c")
_REF = load_engine("micrograd")
_IMPL = load_engine(IMPL_NAME)


# Module-level subclasses (pickle finds a class by its qualified name), one per engine:
# the same `class MyValue(Value): pass` written on each engine's Value.
class RefMyValue(_REF.Value):
    pass


class ImplMyValue(_IMPL.Value):
    pass



# ----------------------------------------------------------------------------------------
# 1. fork while other threads are building graphs

FORKS = 60
BUILDER_THREADS = 3
CHILD_TIMEOUT = 10.0  # seconds; a healthy child takes milliseconds


def _mlp_by_hand(model, x):
    """micrograd's MLP forward with plain Python floats, read from the parameters' data: each
    neuron is the left fold ((b + w0*x0) + w1*x1) + ..., ReLU on all layers but the last."""
    for layer in model.layers:
        out = []
        for n in layer.neurons:
            act = float(n.b.data)
            for wi, xi in zip(n.w, x):
                act = act + float(wi.data) * xi
            if n.nonlin:
                act = 0.0 if act < 0 else act
            out.append(act)
        x = out
    return x[0] if len(x) == 1 else x


def _child_work(impl):
    """What a forked child checks; True when every number is right."""
    V = impl.Value
    for _ in range(50):  # enough nodes that the arena grows and collects in the child
        a = V(1.5)
        b = (a * a + 1.0).relu()
        b.backward()
        if b.data != 1.5 * 1.5 + 1.0 or a.grad != 2 * 1.5:
            return False
    model = impl.nn.MLP(2, [4, 1])
    x = [0.5, -1.25]
    out = model(x)
    if out.data != _mlp_by_hand(model, x):
        return False
    out.backward()
    # d out / d (last bias) is 1 for a linear output neuron
    return model.layers[-1].neurons[0].b.grad == 1.0


@pytest.mark.c_only
@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32",
                    reason="needs os.fork (POSIX)")
def test_fork_while_threads_build_graphs(impl):
    stop = threading.Event()
    errors = []

    def builder():
        try:
            model = impl.nn.MLP(2, [4, 1])
            while not stop.is_set():
                a = impl.Value(1.5)
                b = (a * a + 1.0).relu()
                b.backward()
                model([0.25, -0.75]).backward()
        except BaseException:  # noqa: BLE001 - reported below
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=builder, daemon=True) for _ in range(BUILDER_THREADS)]
    for t in threads:
        t.start()
    failures = []
    try:
        with warnings.catch_warnings():
            # Python 3.12+: "This process is multi-threaded, use of fork() may lead to deadlocks"
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            for i in range(FORKS):
                pid = os.fork()
                if pid == 0:  # child: never return into pytest
                    code = 1
                    try:
                        code = 0 if _child_work(impl) else 1
                    except BaseException:  # noqa: BLE001
                        try:
                            os.write(2, traceback.format_exc().encode())
                        except BaseException:  # noqa: BLE001
                            pass
                    finally:
                        os._exit(code)
                deadline = time.monotonic() + CHILD_TIMEOUT
                while True:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        code = os.waitstatus_to_exitcode(status)
                        if code != 0:
                            failures.append(f"fork {i}: child exited with {code}")
                        break
                    if time.monotonic() > deadline:
                        os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        failures.append(f"fork {i}: child hung for {CHILD_TIMEOUT} s, killed")
                        break
                    time.sleep(0.005)
                if failures:
                    break
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    assert not errors, errors[0]
    assert not failures, failures


# ----------------------------------------------------------------------------------------
# 2. copy, deepcopy and pickle keep a Value subclass

def _labelled(cls):
    v = cls(2.5)
    (v * v).backward()  # grad 5.0
    v.label = "x"
    v.name = "n"
    return v


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_copies_keep_the_subclass(ref, impl, how):
    ref_v = _labelled(RefMyValue)
    impl_v = _labelled(ImplMyValue)
    ref_c, impl_c = how(ref_v), how(impl_v)
    assert type(ref_c) is RefMyValue  # what micrograd does
    assert type(impl_c) is ImplMyValue  # and micrograd_c the same, not its base Value
    assert (type(impl_c) is type(impl_v)) == (type(ref_c) is type(ref_v))
    assert impl_c is not impl_v
    for c in (ref_c, impl_c):
        assert c.data == 2.5
        assert c.grad == 5.0
        assert c.label == "x"
        assert c.name == "n"


@pytest.mark.c_only  # micrograd cannot pickle a Value at all: its _backward is a lambda
def test_pickle_keeps_the_subclass(ref, impl):
    with pytest.raises((AttributeError, pickle.PicklingError)):
        pickle.dumps(_labelled(RefMyValue))
    v = _labelled(ImplMyValue)
    c = pickle.loads(pickle.dumps(v))
    # the class micrograd's copies keep (test above), data, grad and attributes
    assert type(c) is ImplMyValue
    assert type(copy.copy(_labelled(RefMyValue))) is RefMyValue
    assert (c.data, c.grad, c.label, c.name) == (2.5, 5.0, "x", "n")


@pytest.mark.deliberate  # README: a copy is a new leaf (micrograd's would copy the graph)
@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy,
                                 lambda v: pickle.loads(pickle.dumps(v))],
                         ids=["copy", "deepcopy", "pickle"])
def test_a_copied_subclass_is_a_new_leaf(impl, how):
    a = ImplMyValue(2.0)
    b = a * 3.0
    c = how(b)
    assert type(c) is type(b)
    assert len(c._prev) == 0
    assert c.data == 6.0
    # and it is a working node of its own: 2*c / dc = 2
    (c * 2.0).backward()
    assert c.grad == 2.0


# ----------------------------------------------------------------------------------------
# 3. a subclass that never calls Value.__init__

def _sub_without_init(V):
    class Sub(V):
        def __init__(self, x):
            self.data = x
            self.grad = 0

    return Sub


def test_subclass_without_value_init_forward(either):
    Sub = _sub_without_init(either.Value)
    s = Sub(3.0)
    assert s.data == 3.0
    assert s.grad == 0
    out = s * 2
    assert out.data == 6.0
    assert (s + 1.0).data == 4.0
    assert (s * s).data == 9.0


@pytest.mark.c_only  # micrograd's backward needs the _prev its __init__ sets: AttributeError
def test_subclass_without_value_init_backward(ref, impl):
    with pytest.raises(AttributeError):
        (_sub_without_init(ref.Value)(3.0) * _sub_without_init(ref.Value)(1.0)).backward()
    s = _sub_without_init(impl.Value)(3.0)
    (s * s).backward()
    assert s.grad == 2 * 3.0  # d(s*s)/ds = 2s
    t = _sub_without_init(impl.Value)(3.0)
    (t * 2).backward()
    assert t.grad == 2.0


# ----------------------------------------------------------------------------------------
# 4. ** with huge integer exponents (past 2**53, where int -> float rounds)

HUGE_EXPONENTS = [2**53, 2**53 + 1, 2**53 + 3, -(2**53 + 1), 2**60 + 1]


@pytest.mark.parametrize("k", HUGE_EXPONENTS, ids=str)
def test_minus_one_to_a_huge_power(ref, impl, k):
    expected_data = (-1.0) ** k
    expected_grad = k * (-1.0) ** (k - 1)  # micrograd's formula in plain Python
    if k == 2**53 + 1:
        assert expected_grad == 9007199254740992.0
    for eng in (ref, impl):
        a = eng.Value(-1.0)
        b = a ** k
        b.backward()
        assert b.data == expected_data, eng.name
        assert a.grad == expected_grad, eng.name
        assert math.copysign(1.0, a.grad) == math.copysign(1.0, expected_grad), eng.name
    ref_b, impl_b = ref.Value(-1.0) ** k, impl.Value(-1.0) ** k
    assert impl_b._op == ref_b._op == f"**{k}"


def test_op_of_a_huge_power_is_micrograds(ref, impl):
    k = 2**53 + 1
    assert (ref.Value(-1.0) ** k)._op == "**9007199254740993"
    assert (impl.Value(-1.0) ** k)._op == (ref.Value(-1.0) ** k)._op


def test_just_below_one_to_a_huge_power(ref, impl):
    x, k = 0.9999999999999999, 2**53 + 2
    expected_data = x ** k
    expected_grad = k * x ** (k - 1)
    for eng in (ref, impl):
        a = eng.Value(x)
        b = a ** k
        b.backward()
        assert b.data == expected_data, eng.name
        assert a.grad == expected_grad, eng.name
    assert (impl.Value(x) ** k)._op == (ref.Value(x) ** k)._op


# ----------------------------------------------------------------------------------------
# 5. the data/grad setters and the constructor take the same numbers

@pytest.mark.c_only
def test_decimal_refused_by_constructor_and_setters(impl):
    V = impl.Value
    with pytest.raises(TypeError):
        V(Decimal("1.5"))
    v = V(1.0)
    with pytest.raises(TypeError):
        v.data = Decimal("1.5")
    with pytest.raises(TypeError):
        v.grad = Decimal("1.5")
    assert v.data == 1.0 and v.grad == 0.0  # a refused set leaves the node alone


@pytest.mark.c_only
@pytest.mark.parametrize("number, expected", [
    (Fraction(3, 2), 1.5),
    (np.float64(1.5), 1.5),
    (np.int64(2), 2.0),
], ids=["Fraction", "float64", "int64"])
def test_real_numbers_accepted_by_constructor_and_setters(impl, number, expected):
    V = impl.Value
    assert V(number).data == expected
    v = V(0.0)
    v.data = number
    assert v.data == expected
    v.grad = number
    assert v.grad == expected
    # and they are working numbers: d(v*v)/dv = 2v
    w = V(number)
    (w * w).backward()
    assert w.grad == 2 * expected


@pytest.mark.c_only
def test_str_refused_by_constructor_and_setters(impl):
    V = impl.Value
    with pytest.raises(TypeError):
        V("1.5")
    v = V(1.0)
    with pytest.raises(TypeError):
        v.data = "1.5"
    with pytest.raises(TypeError):
        v.grad = "1.5"
    assert v.data == 1.0 and v.grad == 0.0


# ----------------------------------------------------------------------------------------
# 6. a hand-built node keeps its op and children

def test_hand_built_node_keeps_op_and_prev(ref, impl):
    seen = {}
    for eng in (ref, impl):
        a, b = eng.Value(1.0), eng.Value(2.0)
        c = eng.Value(3.0, (a, b), "+")
        assert c.data == 3.0
        assert c._op == "+"
        assert c._prev == {a, b}
        assert len(c._prev) == 2
        seen[eng.name] = (c._op, sorted(float(p.data) for p in c._prev))
    assert seen[impl.name] == seen[ref.name]
