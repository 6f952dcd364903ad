"""Bad input and out-of-range numerics: a clear Python exception of the right type, never a
crash. Where micrograd raises too, the table says so and that is checked as well."""

import math
import os
import subprocess
import sys
import textwrap

import pytest

from _helpers import same_float

POW_MESSAGE = "only supporting int/float powers for now"

# What micrograd 0.1.0 does with a row's input, where it differs from micrograd_c: RETURNS a
# result without raising (a deliberate difference), or, named by a string, has no such method
# (micrograd_c's extras). SAME: it raises the same exception.
SAME, RETURNS = True, None

# (id, fn(Value) -> anything, exception, what micrograd does)
BAD_INPUTS = [
    ("value_of_str", lambda V: V("a"), TypeError, RETURNS),
    ("value_of_numeric_str", lambda V: V("1.0"), TypeError, RETURNS),
    ("value_of_none", lambda V: V(None), TypeError, RETURNS),
    ("value_of_value", lambda V: V(V(1)), TypeError, RETURNS),
    ("value_of_list", lambda V: V([1.0]), TypeError, RETURNS),
    ("value_of_complex", lambda V: V(1 + 2j), TypeError, RETURNS),
    ("add_str", lambda V: V(2.0) + "a", TypeError, SAME),
    ("radd_str", lambda V: "a" + V(2.0), TypeError, SAME),
    ("mul_str", lambda V: V(2.0) * "a", TypeError, SAME),
    ("sub_str", lambda V: V(2.0) - "a", TypeError, SAME),
    ("rsub_str", lambda V: "a" - V(2.0), TypeError, SAME),
    ("div_str", lambda V: V(2.0) / "a", TypeError, SAME),
    ("rdiv_str", lambda V: "a" / V(2.0), TypeError, SAME),
    ("add_none", lambda V: V(2.0) + None, TypeError, SAME),
    ("mul_list", lambda V: V(2.0) * [1.0], TypeError, SAME),
    ("rmul_none", lambda V: None * V(2.0), TypeError, SAME),
    ("rpow_number", lambda V: 2 ** V(2.0), TypeError, SAME),
    ("pow_with_modulo", lambda V: pow(V(2.0), 2, 5), TypeError, SAME),
    ("pow_value", lambda V: V(2.0) ** V(2), AssertionError, SAME),
    ("pow_str", lambda V: V(2.0) ** "2", AssertionError, SAME),
    ("pow_none", lambda V: V(2.0) ** None, AssertionError, SAME),
    ("pow_complex", lambda V: V(2.0) ** 2j, AssertionError, SAME),
    ("zero_pow_minus_one", lambda V: V(0.0) ** -1, ZeroDivisionError, SAME),
    ("int_zero_pow_minus_two", lambda V: V(0) ** -2, ZeroDivisionError, SAME),
    ("zero_pow_minus_half", lambda V: V(0.0) ** -0.5, ZeroDivisionError, SAME),
    ("neg_zero_pow_minus_three", lambda V: V(-0.0) ** -3, ZeroDivisionError, SAME),
    ("div_by_zero", lambda V: V(1.0) / V(0.0), ZeroDivisionError, SAME),
    ("rdiv_by_zero", lambda V: 1 / V(0.0), ZeroDivisionError, SAME),
    ("div_by_number_zero", lambda V: V(1.0) / 0.0, ZeroDivisionError, SAME),
    ("relu_zero_reciprocal", lambda V: V(-1.0).relu() ** -1, ZeroDivisionError, SAME),
    ("pow_overflow", lambda V: V(10.0) ** 400, OverflowError, SAME),
    ("pow_overflow_float_exponent", lambda V: V(10.0) ** 400.0, OverflowError, SAME),
    ("square_overflow", lambda V: V(1e300) ** 2, OverflowError, SAME),
    ("cube_overflow_negative", lambda V: V(-1e300) ** 3, OverflowError, SAME),
    ("reciprocal_overflow", lambda V: V(1e-310) ** -2, OverflowError, SAME),
    ("add_huge_int", lambda V: V(1.0) + 10 ** 400, OverflowError, SAME),
    ("int_pow_overflow", lambda V: V(10) ** 400, OverflowError, RETURNS),  # micrograd: a big int
    ("negative_sqrt", lambda V: V(-8.0) ** 0.5, ValueError, RETURNS),      # micrograd: complex
    ("negative_cube_root", lambda V: V(-8.0) ** (1 / 3), ValueError, RETURNS),
    ("tiny_negative_sqrt", lambda V: V(-1e-300) ** 0.5, ValueError, RETURNS),
    ("negative_pow_minus_half", lambda V: V(-4.0) ** -0.5, ValueError, RETURNS),
    ("exp_overflow", lambda V: V(1000.0).exp(), OverflowError, "exp"),      # as math.exp
    ("exp_overflow_chain", lambda V: V(10.0).exp().exp(), OverflowError, "exp"),
    ("set_data_str", lambda V: setattr(V(1.0), "data", "a"), TypeError, RETURNS),
    ("set_grad_none", lambda V: setattr(V(1.0), "grad", None), TypeError, RETURNS),
]


def _marks(micrograd):
    """A row's marks: none where micrograd raises the same, else a deliberate difference or an
    op micrograd lacks."""
    if micrograd is SAME:
        return ()
    return (pytest.mark.deliberate,) if micrograd is RETURNS else (pytest.mark.c_only,)


@pytest.mark.parametrize("fn, exc", [pytest.param(fn, exc, id=name, marks=_marks(micrograd))
                                     for name, fn, exc, micrograd in BAD_INPUTS])
def test_bad_input_raises(impl, fn, exc):
    with pytest.raises(exc) as info:
        fn(impl.Value)
    if exc is AssertionError:
        assert str(info.value) == POW_MESSAGE


@pytest.mark.parametrize("fn, exc", [pytest.param(fn, exc, id=name)
                                     for name, fn, exc, micrograd in BAD_INPUTS
                                     if micrograd is SAME])
def test_micrograd_raises_the_same(ref, fn, exc):
    with pytest.raises(exc) as info:
        fn(ref.Value)
    if exc is AssertionError:
        assert str(info.value) == POW_MESSAGE


@pytest.mark.parametrize("fn, micrograd", [pytest.param(fn, micrograd, id=name)
                                           for name, fn, exc, micrograd in BAD_INPUTS
                                           if micrograd is not SAME])
def test_documented_differences_really_differ(ref, fn, micrograd):
    # each row is right about micrograd: it returns (an exception here fails the test), or
    # it has no such method, and then only that AttributeError is taken
    if micrograd is RETURNS:
        fn(ref.Value)
        return
    assert not hasattr(ref.Value, micrograd), f"micrograd has {micrograd}(): the row is wrong"
    with pytest.raises(AttributeError) as info:
        fn(ref.Value)
    assert str(info.value) == f"'Value' object has no attribute '{micrograd}'"


# ----------------------------------------------------------------------------------------
# ** at the edges of the float domain: Python float semantics, as micrograd computes them

POW_EDGES = [
    (-math.inf, 0.5), (0.0, -math.inf), (math.inf, -1), (-1.0, math.inf), (2.0, math.nan),
    (-2.0, math.nan), (-2.0, math.inf), (math.nan, 0), (1.0, math.nan), (-0.5, math.inf),
    (-0.5, -math.inf), (-0.0, 0.5), (0.0, 1.5), (0.0, 0), (-8.0, 3), (-8.0, 3.0),
    (-8.0, -3), (2.0, -1074), (2.0, 1023), (2.0, 1024), (0.5, -1024), (-2.0, 1025),
    (1e-320, 0.5), (4.0, 0.5), (math.nan, 2.5), (-math.inf, 3), (-math.inf, -3),
]


@pytest.mark.parametrize("x, k", POW_EDGES, ids=[f"{x!r}**{k!r}" for x, k in POW_EDGES])
def test_pow_edges_follow_micrograd(ref, impl, x, k):
    def outcome(V):
        try:
            return ("ok", (V(x) ** k).data)
        except Exception as e:  # noqa: BLE001 - the type is what is compared
            return (type(e),)

    want, got = outcome(ref.Value), outcome(impl.Value)
    if want[0] == "ok":
        assert not isinstance(want[1], complex)
        assert got[0] == "ok" and same_float(got[1], want[1]), (got, want)
    else:
        assert got == want


# ----------------------------------------------------------------------------------------
# backward where Python float arithmetic raises: the same exception as micrograd's closure

@pytest.mark.parametrize("fn, exc", [
    (lambda V: V(0.0) ** 0.5, ZeroDivisionError),   # 0.5 * 0.0 ** -0.5
    (lambda V: V(0.0) ** 0, ZeroDivisionError),     # 0 * 0.0 ** -1
    (lambda V: V(1e-110) ** -2, OverflowError),     # -2 * (1e-110) ** -3
])
def test_backward_raises_where_micrograd_raises(ref, impl, fn, exc):
    with pytest.raises(exc):
        fn(ref.Value).backward()
    with pytest.raises(exc):
        fn(impl.Value).backward()


def test_backward_that_does_not_raise_at_zero(ref, impl):
    grads = []
    for eng in (ref, impl):
        a = eng.Value(0.0)
        (a ** 1.5).backward()  # 1.5 * 0.0 ** 0.5 = 0
        grads.append(a.grad)
    assert grads[0] == grads[1] == 0


# ----------------------------------------------------------------------------------------
# nothing crashes the interpreter

@pytest.mark.c_only
def test_abuse_does_not_crash_the_interpreter(impl):
    code = textwrap.dedent("""
        import gc
        from micrograd_c.engine import Value
        v = Value.__new__(Value)
        for attempt in (lambda: v.data, lambda: v.grad, lambda: v.backward(),
                        lambda: v._prev, lambda: v + 1, lambda: v._op, lambda: repr(v)):
            try:
                attempt()
            except Exception:
                pass
        a = Value(1.0)
        for bad in ("a", None, [1], {}, object(), 1j, Value):
            for attempt in (lambda: a + bad, lambda: bad * a, lambda: a ** bad,
                            lambda: Value(bad), lambda: setattr(a, "data", bad),
                            lambda: Value(1.0, bad), lambda: Value(1.0, (bad,), "+")):
                try:
                    attempt()
                except Exception:
                    pass
        # after all that, the engine still computes
        b = a * 3 + 1
        b.backward()
        gc.collect()
        assert (b.data, a.grad) == (4.0, 3.0), (b.data, a.grad)
        print("alive")
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(impl.engine.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "alive"
