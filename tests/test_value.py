"""Value, micrograd's API op by op, side by side with micrograd 0.1.0: forward values bit for
bit, grads to 1e-12 relative, _op strings, data and grad, repr, equality, special floats, the
exceptions bad input raises (a table, each row checked against micrograd too: it raises the
same, or the row says how it differs), copies, pickles and subclasses; tanh and exp, which
micrograd 0.1.0 lacks, against math.tanh / math.exp and their derivatives.

backward() and the Python _backward rules are test_backward's; the op table's ops, generated
from it, test_ops's.
"""

import copy
import gc
import math
import os
import pickle
import subprocess
import sys
import textwrap
import weakref
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from _helpers import (
    expression_cases,
    grad_close,
    graph_signature,
    load_engine,
    run_both,
    same_float,
)

CASES = expression_cases()
POW_MESSAGE = "only supporting int/float powers for now"
IMPL_NAME = os.environ.get("MICROGRAD_C_TEST_IMPL", "micrograd_c")
_REF = load_engine("micrograd")
_IMPL = load_engine(IMPL_NAME)


# ----------------------------------------------------------------------------------------
# every op and derived op, against micrograd


@pytest.mark.parametrize("fn, a, b", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_forward_and_grads_match_micrograd(ref, impl, fn, a, b):
    run_both(ref, impl, fn, [a, b])


@pytest.mark.parametrize("number", [2, -3, 0.5, -1.25, np.float64(0.75), np.int64(4), True])
@pytest.mark.parametrize("op", ["add", "radd", "sub", "rsub", "mul", "rmul", "div", "rdiv"])
def test_reflected_and_plain_ops_with_numbers(ref, impl, op, number):
    fns = {
        "add": lambda v: v + number,
        "radd": lambda v: number + v,
        "sub": lambda v: v - number,
        "rsub": lambda v: number - v,
        "mul": lambda v: v * number,
        "rmul": lambda v: number * v,
        "div": lambda v: v / number,
        "rdiv": lambda v: number / v,
    }
    if op == "div" and isinstance(number, np.integer):
        pytest.skip("micrograd fails here (np.int64 ** -1); see test_divide_by_numpy_int")
    ref_out, impl_out, _, _ = run_both(ref, impl, fns[op], [1.75])
    assert isinstance(impl_out, impl.Value)
    assert impl_out._op == ref_out._op


@pytest.mark.parametrize("op", ["radd", "rsub", "rmul", "rdiv"])
def test_numpy_array_on_the_left_gives_micrograds_object_array(ref, impl, op):
    # an array defers to Value (__array_priority__); the result must still be NumPy's
    # elementwise object array, node for node as micrograd gets it. (With the array on the
    # right, micrograd makes a Value of the whole array: micrograd_c's data are floats.)
    arr = np.array([0.5, -2.0, 3.0])
    fns = {
        "radd": lambda v: arr + v,
        "rsub": lambda v: arr - v,
        "rmul": lambda v: arr * v,
        "rdiv": lambda v: arr / v,
    }
    outs = {}
    for eng in (ref, impl):
        v = eng.Value(1.25)
        out = fns[op](v)
        assert isinstance(out, np.ndarray) and out.dtype == object and out.shape == (3,)
        total = sum(out)  # one graph: shows whether elements share nodes
        total.backward()
        outs[eng.name] = (graph_signature(total), v.grad)
    sig_ref, grad_ref = outs["micrograd"]
    sig_impl, grad_impl = outs[impl.name]
    assert sig_impl == sig_ref
    assert grad_close(grad_impl, grad_ref)


def test_numpy_scalar_on_the_left_is_a_value(ref, impl):
    for k in (np.float64(2.5), np.int64(-1), np.float32(0.5)):
        ref_out, impl_out, _, _ = run_both(ref, impl, lambda v: k * v + k, [1.75])
        assert type(impl_out) is impl.Value


@pytest.mark.deliberate
def test_divide_by_numpy_int(ref, impl):
    # micrograd computes np.int64(7) ** -1, which NumPy refuses; a Python number works
    run_both(ref, impl, lambda v: v / 7, [1.75])
    a = impl.Value(1.75)
    b = a / np.int64(7)
    ra = ref.Value(1.75)
    rb = ra / 7
    assert b.data == rb.data
    b.backward()
    rb.backward()
    assert grad_close(a.grad, ra.grad)


def test_number_operand_becomes_a_leaf(ref, impl):
    for eng in (ref, impl):
        a = eng.Value(3.0)
        out = a + 1
        assert len(out._prev) == 2
        (leaf,) = [v for v in out._prev if v is not a]
        assert leaf.data == 1.0 and leaf._op == "" and len(leaf._prev) == 0


def test_in_place_operators_rebind(ref, impl):
    for eng in (ref, impl):
        a = eng.Value(1.0)
        b = a
        a += 1
        assert a is not b and b.data == 1 and a.data == 2
        a *= 3
        assert a.data == 6 and b.data == 1


# ----------------------------------------------------------------------------------------
# data and grad: what the constructor and the setters take


def test_data_and_grad_read_write(impl):
    p = impl.Value(2.0)
    (p * 3.0).backward()
    assert p.grad == 3.0
    p.data -= 0.1 * p.grad
    assert p.data == 2.0 - 0.1 * 3.0
    p.grad = 0
    assert p.grad == 0
    p.data = 5
    assert p.data == 5
    q = p * 2
    assert q.data == 10.0


@pytest.mark.deliberate
@pytest.mark.parametrize("x", [2, 2.5, True, np.float64(1.5), np.int64(7), np.float32(0.25)])
def test_data_and_grad_are_python_floats(impl, x):
    v = impl.Value(x)
    assert type(v.data) is float and v.data == float(x)
    assert type(v.grad) is float and v.grad == 0.0
    r = (v * -1).relu()
    assert type(r.data) is float
    r.backward()
    assert type(r.grad) is float and type(v.grad) is float
    v.data = 3
    v.grad = 1
    assert type(v.data) is float and type(v.grad) is float


@pytest.mark.deliberate
def test_relu_of_negative_is_float_zero(impl):
    r = impl.Value(-3).relu()
    assert r.data == 0 and type(r.data) is float


def test_data_of_numpy_scalars(ref, impl):
    for x in [np.float64(0.1), np.int64(-3), np.float32(0.1)]:
        assert impl.Value(x).data == ref.Value(x).data


@pytest.mark.c_only
def test_data_written_any_way_reads_back_from_the_arena(impl):
    v = impl.Value(1.0)
    v.data = 4
    assert v.data == 4.0 and type(v.data) is float
    setattr(v, "data", 5.5)
    assert v.data == 5.5
    w = v * 2.0  # the arena has it too: ops read it there
    assert w.data == 11.0
    v.data -= 0.5
    assert v.data == 5.0 and (v + 0.0).data == 5.0


@pytest.mark.c_only
def test_deleting_data_or_grad_is_an_attribute_error(impl):
    v = impl.Value(1.0)
    with pytest.raises(AttributeError):
        del v.data
    with pytest.raises(AttributeError):
        del v.grad
    assert v.data == 1.0


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
@pytest.mark.parametrize(
    "number, expected",
    [
        (Fraction(3, 2), 1.5),
        (np.float64(1.5), 1.5),
        (np.int64(2), 2.0),
    ],
    ids=["Fraction", "float64", "int64"],
)
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
# repr


@pytest.mark.deliberate
def test_repr_of_leaf_shows_floats(impl):
    assert repr(impl.Value(2)) == "Value(data=2.0, grad=0.0)"
    assert repr(impl.Value(-0.5)) == "Value(data=-0.5, grad=0.0)"


def test_repr_matches_micrograd_once_both_hold_floats(ref, impl):
    reprs = []
    for eng in (ref, impl):
        a = eng.Value(2.0)
        b = a * 3.5 + 0.25
        b.backward()
        reprs.append((repr(a), str(a)))
    assert reprs[0] == reprs[1] == ("Value(data=2.0, grad=3.5)",) * 2


@pytest.mark.deliberate
def test_repr_after_backward(impl):
    a = impl.Value(0.1)
    b = a * a
    b.backward()
    assert repr(b) == f"Value(data={0.1 * 0.1!r}, grad=1.0)"
    assert repr(a) == f"Value(data=0.1, grad={2 * 0.1!r})"


# ----------------------------------------------------------------------------------------
# _op strings, and ** with huge integer exponents (past 2**53, where int -> float rounds)


@pytest.mark.parametrize(
    "fn, op",
    [
        (lambda a, b: a + b, "+"),
        (lambda a, b: a * b, "*"),
        (lambda a, b: a**2, "**2"),
        (lambda a, b: a**-1, "**-1"),
        (lambda a, b: a**0.5, "**0.5"),
        (lambda a, b: a**2.0, "**2.0"),
        (lambda a, b: a**-0.25, "**-0.25"),
        (lambda a, b: a.relu(), "ReLU"),
        (lambda a, b: -a, "*"),
        (lambda a, b: a - b, "+"),
        (lambda a, b: a / b, "*"),
        (lambda a, b: 2 / a, "*"),
        (lambda a, b: 2 - a, "+"),
        (lambda a, b: a, ""),
    ],
)
def test_op_strings(ref, impl, fn, op):
    out_ref = fn(ref.Value(4.0), ref.Value(2.0))
    out_impl = fn(impl.Value(4.0), impl.Value(2.0))
    assert out_ref._op == op  # the table itself is right
    assert out_impl._op == op


@pytest.mark.c_only
def test_op_strings_tanh_exp(impl):
    a = impl.Value(0.5)
    assert a.tanh()._op == "tanh"
    assert a.exp()._op == "exp"


def test_op_of_division_is_mul_by_pow_minus_one(ref, impl):
    for eng in (ref, impl):
        a, b = eng.Value(3.0), eng.Value(4.0)
        q = a / b
        ops = sorted(v._op for v in q._prev)
        assert ops == ["", "**-1"]
        (inv,) = [v for v in q._prev if v._op == "**-1"]
        assert next(iter(inv._prev)) is b


@pytest.mark.parametrize("k", [True, 10**17 + 1, -(2**53 + 1), 1e-7, 1e22, 0.1])
def test_op_string_of_unusual_exponents(ref, impl, k):
    # micrograd formats the exponent exactly as the user wrote it: f'**{k}'
    out_ref = ref.Value(1.0) ** k
    out_impl = impl.Value(1.0) ** k
    assert out_ref._op == f"**{k}"
    assert out_impl._op == out_ref._op
    assert out_impl.data == out_ref.data


HUGE_EXPONENTS = [2**53, 2**53 + 1, 2**53 + 3, -(2**53 + 1), 2**60 + 1]


@pytest.mark.parametrize("k", HUGE_EXPONENTS, ids=str)
def test_minus_one_to_a_huge_power(ref, impl, k):
    expected_data = (-1.0) ** k
    expected_grad = k * (-1.0) ** (k - 1)  # micrograd's formula in plain Python
    if k == 2**53 + 1:
        assert expected_grad == 9007199254740992.0
    for eng in (ref, impl):
        a = eng.Value(-1.0)
        b = a**k
        b.backward()
        assert b.data == expected_data, eng.name
        assert a.grad == expected_grad, eng.name
        assert math.copysign(1.0, a.grad) == math.copysign(1.0, expected_grad), eng.name
    ref_b, impl_b = ref.Value(-1.0) ** k, impl.Value(-1.0) ** k
    assert impl_b._op == ref_b._op == f"**{k}"


def test_just_below_one_to_a_huge_power(ref, impl):
    x, k = 0.9999999999999999, 2**53 + 2
    expected_data = x**k
    expected_grad = k * x ** (k - 1)
    for eng in (ref, impl):
        a = eng.Value(x)
        b = a**k
        b.backward()
        assert b.data == expected_data, eng.name
        assert a.grad == expected_grad, eng.name
    assert (impl.Value(x) ** k)._op == (ref.Value(x) ** k)._op


# ----------------------------------------------------------------------------------------
# equality and hashing are by identity


def test_equality_and_hash_by_identity(ref, impl):
    for eng in (ref, impl):
        a, b = eng.Value(1.0), eng.Value(1.0)
        assert a == a and not (a == b) and a != b
        assert len({a, b}) == 2
        assert hash(a) == hash(a)
        d = {a: "a", b: "b"}
        assert d[a] == "a" and d[b] == "b"
        assert a in {a} and b not in {a}


# ----------------------------------------------------------------------------------------
# special floats follow Python float semantics, as micrograd does


@pytest.mark.parametrize(
    "fn, xs",
    [
        (lambda a: a * 10, [1e308]),  # overflow of * is inf, not an error
        (lambda a: a + a, [1.7e308]),
        (lambda a: a - a * 2 + a, [math.inf]),  # inf - inf is nan
        (lambda a: a * 2, [math.nan]),
        (lambda a: a.relu(), [math.nan]),
        (lambda a: a.relu(), [-math.inf]),
        (lambda a: a**2, [math.inf]),
        (lambda a: a**-1, [math.inf]),
        (lambda a: a * 0, [-2.0]),  # -0.0
        (lambda a: a**0, [0.0]),  # 1.0; its derivative 0 * 0.0**-1 is not run here
        (lambda a: a.relu(), [0.0]),
        (lambda a: a.relu(), [-0.0]),
        (lambda a: a * 1e-300 * 1e-300, [1.0]),  # underflow to 0
    ],
)
def test_special_values_forward(ref, impl, fn, xs):
    out_ref = fn(*[ref.Value(x) for x in xs])
    out_impl = fn(*[impl.Value(x) for x in xs])
    assert same_float(out_impl.data, out_ref.data)
    if out_ref.data == 0:
        assert math.copysign(1.0, out_impl.data) == math.copysign(1.0, out_ref.data)


# ----------------------------------------------------------------------------------------
# tanh and exp (the lecture's ops; micrograd 0.1.0 has neither): against math

TANH_POINTS = [-1.0, 0.123, 2.0, 0.0, -20.0, 20.0, 1000.0, -1e-9, 3]
EXP_POINTS = [-1.0, 0.123, 2.0, 0.0, -20.0, 20.0, 709.0, -1000.0, -1e-9, 3]


@pytest.mark.c_only
@pytest.mark.parametrize("x", TANH_POINTS)
def test_tanh_against_math(impl, x):
    a = impl.Value(x)
    t = a.tanh()
    assert t.data == math.tanh(x)
    assert t._op == "tanh" and list(t._prev) == [a]
    t.backward()
    assert grad_close(a.grad, 1 - math.tanh(x) ** 2)


@pytest.mark.c_only
@pytest.mark.parametrize("x", EXP_POINTS)
def test_exp_against_math(impl, x):
    a = impl.Value(x)
    e = a.exp()
    assert e.data == math.exp(x)
    assert e._op == "exp" and list(e._prev) == [a]
    e.backward()
    assert grad_close(a.grad, math.exp(x))


@pytest.mark.c_only
def test_tanh_exp_chain_rule_with_reuse(impl):
    x = 0.7
    a = impl.Value(x)
    out = a.tanh() * a.exp() + a.tanh()
    t, e = math.tanh(x), math.exp(x)
    assert out.data == t * e + t
    out.backward()
    want = (1 - t * t) * e + t * e + (1 - t * t)
    assert grad_close(a.grad, want)


@pytest.mark.c_only
def test_finite_difference_of_a_composite(impl):
    def f(eng_value, x, y):
        a, b = eng_value(x), eng_value(y)
        out = (
            (a * b).tanh()
            + (a / b).exp()
            - (a - 2).relu() ** 2
            + b**0.5
            + 3 / (1 + a * a)
            - (b - a) ** 3 * 0.1
        )
        return a, b, out

    x, y = 0.8, 1.3
    a, b, out = f(impl.Value, x, y)
    out.backward()
    h = 1e-6
    fx = (f(impl.Value, x + h, y)[2].data - f(impl.Value, x - h, y)[2].data) / (2 * h)
    fy = (f(impl.Value, x, y + h)[2].data - f(impl.Value, x, y - h)[2].data) / (2 * h)
    assert a.grad == pytest.approx(fx, rel=1e-6)
    assert b.grad == pytest.approx(fy, rel=1e-6)
    # and the function itself is what plain floats give
    want = math.tanh(x * y) + math.exp(x / y) - 0.0 + math.sqrt(y) + 3 / (1 + x * x) - (y - x) ** 3 * 0.1
    assert out.data == pytest.approx(want, rel=1e-12)


# ----------------------------------------------------------------------------------------
# subclasses, copies and pickles; a Value whose __init__ never ran


# Module-level subclasses (pickle finds a class by its qualified name), one per engine:
# the same `class MyValue(Value): pass` written on each engine's Value.
class RefMyValue(_REF.Value):
    pass


class ImplMyValue(_IMPL.Value):
    pass


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
@pytest.mark.parametrize(
    "how",
    [copy.copy, copy.deepcopy, lambda v: pickle.loads(pickle.dumps(v))],
    ids=["copy", "deepcopy", "pickle"],
)
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


@pytest.mark.c_only
def test_user_attributes_weakrefs_and_subclass_slots(impl):
    class Tagged(impl.Value):
        __slots__ = ("tag",)

    t = Tagged(2.0, label="t")
    t.tag, t.note = "x", "y"
    assert (t.tag, t.note, t.label, t.data) == ("x", "y", "t", 2.0)
    assert type(t * t) is impl.Value
    r = weakref.ref(t)
    del t
    gc.collect()
    assert r() is None


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


def test_a_value_without_a_node_raises_as_micrograd_does(either):
    bare = either.Value.__new__(either.Value)  # __init__ never ran: no data, no node
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
    bare.data = 3.0  # setting data makes it an operand (in C, a node)
    assert (bare * 2.0).data == 6.0


# ----------------------------------------------------------------------------------------
# bad input and out-of-range numerics: a clear Python exception of the right type, never a
# crash; where micrograd raises too, the table says so and that is checked as well

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
    ("add_huge_int", lambda V: V(1.0) + 10**400, OverflowError, SAME),
    ("int_pow_overflow", lambda V: V(10) ** 400, OverflowError, RETURNS),  # micrograd: a big int
    ("negative_sqrt", lambda V: V(-8.0) ** 0.5, ValueError, RETURNS),  # micrograd: complex
    ("negative_cube_root", lambda V: V(-8.0) ** (1 / 3), ValueError, RETURNS),
    ("tiny_negative_sqrt", lambda V: V(-1e-300) ** 0.5, ValueError, RETURNS),
    ("negative_pow_minus_half", lambda V: V(-4.0) ** -0.5, ValueError, RETURNS),
    ("exp_overflow", lambda V: V(1000.0).exp(), OverflowError, "exp"),  # as math.exp
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


def _raises(fn, V, exc):
    """fn(V) raises exc; micrograd's assertion on a pow, with its message."""
    with pytest.raises(exc) as info:
        fn(V)
    if exc is AssertionError:
        assert str(info.value) == POW_MESSAGE


@pytest.mark.parametrize(
    "fn, exc",
    [pytest.param(fn, exc, id=name, marks=_marks(micrograd)) for name, fn, exc, micrograd in BAD_INPUTS],
)
def test_bad_input_raises(impl, fn, exc):
    _raises(fn, impl.Value, exc)


@pytest.mark.parametrize(
    "fn, exc",
    [pytest.param(fn, exc, id=name) for name, fn, exc, micrograd in BAD_INPUTS if micrograd is SAME],
)
def test_micrograd_raises_the_same(ref, fn, exc):
    _raises(fn, ref.Value, exc)


@pytest.mark.parametrize(
    "fn, micrograd",
    [
        pytest.param(fn, micrograd, id=name)
        for name, fn, exc, micrograd in BAD_INPUTS
        if micrograd is not SAME
    ],
)
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
    (-math.inf, 0.5),
    (0.0, -math.inf),
    (math.inf, -1),
    (-1.0, math.inf),
    (2.0, math.nan),
    (-2.0, math.nan),
    (-2.0, math.inf),
    (math.nan, 0),
    (1.0, math.nan),
    (-0.5, math.inf),
    (-0.5, -math.inf),
    (-0.0, 0.5),
    (0.0, 1.5),
    (0.0, 0),
    (-8.0, 3),
    (-8.0, 3.0),
    (-8.0, -3),
    (2.0, -1074),
    (2.0, 1023),
    (2.0, 1024),
    (0.5, -1024),
    (-2.0, 1025),
    (1e-320, 0.5),
    (4.0, 0.5),
    (math.nan, 2.5),
    (-math.inf, 3),
    (-math.inf, -3),
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
# nothing crashes the interpreter, nor leaks a reference


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
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "alive"


@pytest.mark.c_only
def test_no_references_leak(impl):
    v = impl.Value(1.5)
    before = sys.getrefcount(v), sys.getrefcount(impl.Value)
    for _ in range(1000):
        v + v, v * 2.0, 3 + v, v**2, v.relu(), v.tanh(), v._prev, v.data, v.grad
    after = sys.getrefcount(v), sys.getrefcount(impl.Value)
    assert after == before
