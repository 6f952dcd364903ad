"""Every op of Value, from the C op table (csrc/ops.h, MG_OP_TABLE), against mathematics and
against micrograd 0.1.0; then sigmoid and log at the edges the table's cases do not single out.

The cases are not a hand-kept list of ops: at import the module reads the table (below) and
parametrizes over what it finds:

* every unary op with a method name (relu, tanh, exp, ... and whatever row is added next) is
  checked as `Value(x).<method>()`: its _op is the table's name, its _prev is {x}, its data is
  bit for bit what the pure-Python function in REFERENCE gives (or it raises the exception
  that function raises: its type and message), and its gradient agrees with central finite
  differences of that function, alone and composed as f(a * b + c), wherever the function is
  defined (elsewhere, as log of a negative number, it raises as the function does). A method
  with no entry in REFERENCE fails ("add a reference for <name>"), so a new op cannot go
  untested, nor untyped: micrograd_c/_core.pyi must declare its method;
* every binary op with an operator ('+', '*') is checked against micrograd 0.1.0 with Value,
  float, int and bool operands on either side; an operator missing from BINARY_OPERATORS
  fails the same way; a binary op with a method (`a.atan2(b)`, CONTRIBUTING.md) is checked as
  a unary one is, against its REFERENCE and the finite differences in both operands;
* pow (the table's unnamed pow rows) and relu, which micrograd has, against micrograd itself.

sigmoid must never overflow or raise, whatever its input: its forward takes exp only of a
number <= 0. log must raise what math.log raises (ValueError, with math.log's message on the
running Python) wherever math.log does, and follow it elsewhere (inf, nan). Both are checked
against their definitions in Python floats, closed forms, central finite differences and,
where torch is importable, PyTorch in float64.

Expected numbers come from mathematics or from the reference micrograd, never from
micrograd_c. Tests that need micrograd_c's extras (tanh, exp, sigmoid, log, ...) are marked
c_only; they are skipped when MICROGRAD_C_TEST_IMPL=micrograd.
"""

import math
import operator
import pathlib
import random
import re
import struct

import pytest
from _helpers import grad_close
from _helpers import py_sigmoid as sigmoid

import micrograd_c
from micrograd_c._glue import OPS

INF, NAN = math.inf, math.nan

# ----------------------------------------------------------------------------------------
# the table, read through cffi: the one list of ops there is (no public API enumerates them),
# and reading it is what makes a new op tested the day its row is added


def _name(op):
    return OPS[op].name


TABLE = [(op, row.name, row.method, row.arity) for op, row in enumerate(OPS)]

# every op that a Value method makes: (op, method)
UNARY = [(op, row.method) for op, row in enumerate(OPS) if row.arity == 1 and row.method]
UNARY_IDS = [method for _, method in UNARY]

# every binary op an operator makes: (op, its _op name)
BINARY = [(op, row.name) for op, row in enumerate(OPS) if row.arity == 2 and row.symbol]
BINARY_IDS = [name for _, name in BINARY]

# every binary op a method makes, as `a.method(b)`: (op, method)
BINARY_METHODS = [(op, row.method) for op, row in enumerate(OPS) if row.arity == 2 and row.method]
BINARY_METHOD_IDS = [method for _, method in BINARY_METHODS]


# ----------------------------------------------------------------------------------------
# what each op must compute: pure Python, written from the definitions


def _relu(x):
    return 0.0 if x < 0 else x


REFERENCE = {
    "relu": _relu,
    "tanh": math.tanh,
    "exp": math.exp,
    "sigmoid": sigmoid,
    "log": math.log,  # ValueError for x <= 0, which micrograd_c must raise alike
}
# (a binary method's reference takes two arguments: REFERENCE["atan2"] = math.atan2)

# points where the function is not differentiable: no finite differences near them
KINKS = {
    "relu": [0.0],
}

BINARY_OPERATORS = {
    "+": operator.add,
    "*": operator.mul,
}


def _entry(table, table_name, key, what):
    """table[key], or a failure telling where to add it: a new row cannot go untested."""
    if key not in table:
        pytest.fail(
            f"add {what} for {key}: the op table has {key!r}, which tests/test_ops.py "
            f"{table_name} does not know"
        )
    return table[key]


def reference_for(method):
    return _entry(REFERENCE, "REFERENCE", method, "a reference")


def operator_for(name):
    return _entry(BINARY_OPERATORS, "BINARY_OPERATORS", name, "an operator")


def bits(x):
    return struct.pack("d", float(x))


def same_bits(got, want):
    """Forward values: the same float to the bit (-0.0 is not 0.0); NaN matches NaN."""
    got, want = float(got), float(want)
    if math.isnan(want):
        return math.isnan(got)
    return bits(got) == bits(want)


def python_outcome(fn, x):
    """('ok', value) or ('raise', the exception) for the Python function at x."""
    try:
        return "ok", fn(x)
    except Exception as e:  # noqa: BLE001 - its type and message are what is compared
        return "raise", e


def same_message(got, want, x):
    """An exception's message is Python's; where Python's quotes the operand (math.log on
    3.14: '..., got -1.0'), which a C status does not carry, the part before it."""
    return str(got) == str(want) or str(want) == f"{got}, got {float(x)!r}"


def raises_as_python(make, want, x):
    """make() raises what the Python function raised at x: the same type and message."""
    with pytest.raises(type(want)) as info:
        make()
    assert type(info.value) is type(want)
    assert same_message(info.value, want, x), (str(info.value), str(want))


def near_kink(method, x, h):
    return any(abs(x - k) <= 100 * h for k in KINKS.get(method, ()))


def central_difference(fn, x, h=1e-6):
    return (fn(x + h) - fn(x - h)) / (2 * h)


def fd_close(got, want):
    return math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9)


def log_error(x):
    """The ValueError math.log raises at x."""
    with pytest.raises(ValueError) as info:
        math.log(x)
    return info.value


def wide_floats(n, seed):
    """n floats over many magnitudes, both signs: a seeded sweep."""
    rng = random.Random(seed)
    return [rng.choice((-1.0, 1.0)) * 10.0 ** rng.uniform(-320, 308) for _ in range(n)]


FORWARD_INPUTS = [
    -1000.0,
    -30.0,
    -2.5,
    -1.0,
    -1e-300,
    -5e-324,
    -0.0,
    0.0,
    5e-324,
    1e-300,
    1e-8,
    0.5,
    1.0,
    3.7,
    19.0,
    30.0,
    700.0,
    709.78,
    709.79,
    710.0,
    1000.0,
    1e308,
    -1e308,
    INF,
    -INF,
    NAN,
    2,
    -3,
    0,
    True,
    False,
]
GRAD_POINTS = [-1.3, -0.4, 0.2, 0.9, 1.7]
COMPOSE_POINTS = [(0.7, -1.2, 0.5), (-0.9, 0.4, 1.1), (1.3, 0.6, -0.2), (-0.5, -1.5, -0.1)]


# ----------------------------------------------------------------------------------------
# 1. the table itself: the cases see every op, and the stub types each method


@pytest.mark.c_only
def test_table_lists_the_unary_method_ops():
    assert UNARY, "no unary op with a method name in the op table"
    methods = {method for _, method in UNARY}
    assert {"relu", "tanh", "exp", "sigmoid", "log"} <= methods, methods
    assert [op for op, _ in UNARY if _name(op) == ""] == [], "a method op without an _op name"
    assert len(methods) == len(UNARY), "two ops share a method name"


@pytest.mark.c_only
def test_table_lists_the_binary_ops():
    assert {name for _, name in BINARY} == {"+", "*"}


def _stub_methods():
    """The methods class ValueBase of micrograd_c/_core.pyi declares, as their lines."""
    stub = (pathlib.Path(micrograd_c.__file__).parent / "_core.pyi").read_text()
    body = stub.split("class ValueBase:", 1)[1].split("\ndef ", 1)[0]
    return {line.strip() for line in body.splitlines() if line.startswith("    def ")}


def _stub_line(op):
    row = OPS[op]
    if row.arity == 1:
        return f"def {row.method}(self) -> Value: ..."
    return f"def {row.method}(self, other: Value | Real) -> Value: ..."


@pytest.mark.c_only
@pytest.mark.parametrize("op, method", UNARY + BINARY_METHODS, ids=UNARY_IDS + BINARY_METHOD_IDS)
def test_the_stub_types_each_method_the_table_gives(op, method):
    # the methods are made from the table in C; micrograd_c/_core.pyi must declare each one
    assert _stub_line(op) in _stub_methods(), f"add to _core.pyi's class ValueBase: {_stub_line(op)}"


@pytest.mark.c_only
def test_the_stub_types_no_method_the_table_lacks():
    # the methods that make a Value (not the dunders, not data and grad)
    declared = {
        line for line in _stub_methods() if re.fullmatch(r"def [a-z]\w*\(self.*\) -> Value: \.\.\.", line)
    }
    assert declared == {_stub_line(op) for op, _ in UNARY + BINARY_METHODS}


# ----------------------------------------------------------------------------------------
# 2, 3. forward: the node, and the value (or the exception) Python's function gives


@pytest.mark.c_only
@pytest.mark.parametrize("x", FORWARD_INPUTS, ids=repr)
@pytest.mark.parametrize("op, method", UNARY, ids=UNARY_IDS)
def test_unary_forward_is_pythons(impl, op, method, x):
    fn = reference_for(method)
    kind, want = python_outcome(fn, float(x))
    v = impl.Value(x)
    if kind == "raise":
        raises_as_python(getattr(v, method), want, x)
        assert v.data == float(x) and v.grad == 0.0  # the operand is untouched
        return
    y = getattr(v, method)()
    assert isinstance(y, impl.Value)
    assert y._op == _name(op)
    assert y._prev == {v}
    assert isinstance(y.data, float)
    assert same_bits(y.data, want), (
        f"{method}({x!r}): micrograd_c {y.data!r} ({bits(y.data).hex()}), "
        f"Python {want!r} ({bits(want).hex()})"
    )
    assert y.grad == 0.0 and v.grad == 0.0


@pytest.mark.c_only
def test_exp_overflow_is_among_the_cases():
    # the raising branch above is exercised: math.exp overflows inside FORWARD_INPUTS, and
    # there micrograd_c must raise its OverflowError and leave the operand as it was
    raising = [x for x in FORWARD_INPUTS if python_outcome(math.exp, float(x))[0] == "raise"]
    assert {1000.0, 710.0, 709.79, 1e308} <= set(raising) and 709.78 not in raising


# ----------------------------------------------------------------------------------------
# 4. backward: central finite differences of the Python function


@pytest.mark.c_only
@pytest.mark.parametrize("x", GRAD_POINTS)
@pytest.mark.parametrize("op, method", UNARY, ids=UNARY_IDS)
def test_unary_grad_is_the_finite_difference(impl, op, method, x):
    fn = reference_for(method)
    h = 1e-6
    if near_kink(method, x, h):
        pytest.skip(f"{method} has a kink near {x}")
    v = impl.Value(x)
    kind, err = python_outcome(fn, x)
    if kind == "raise":  # outside the domain (log of a negative): raise as Python does
        raises_as_python(getattr(v, method), err, x)
        return
    y = getattr(v, method)()
    y.backward()
    want = central_difference(fn, x, h)
    assert y.grad == 1.0
    assert fd_close(v.grad, want), f"d{method}/dx at {x}: {v.grad!r} vs finite difference {want!r}"


@pytest.mark.c_only
@pytest.mark.parametrize("a, b, c", COMPOSE_POINTS)
@pytest.mark.parametrize("op, method", UNARY, ids=UNARY_IDS)
def test_unary_composed_grad_is_the_finite_difference(impl, op, method, a, b, c):
    fn = reference_for(method)
    h = 1e-6
    if near_kink(method, a * b + c, h * (1 + abs(a) + abs(b))):
        pytest.skip(f"{method} has a kink near a * b + c = {a * b + c}")
    va, vb, vc = impl.Value(a), impl.Value(b), impl.Value(c)
    kind, err = python_outcome(fn, a * b + c)
    if kind == "raise":
        raises_as_python(getattr(va * vb + vc, method), err, a * b + c)
        return
    y = getattr(va * vb + vc, method)()
    assert same_bits(y.data, fn(a * b + c))
    y.backward()
    want = {
        "a": central_difference(lambda t: fn(t * b + c), a, h),
        "b": central_difference(lambda t: fn(a * t + c), b, h),
        "c": central_difference(lambda t: fn(a * b + t), c, h),
    }
    got = {"a": va.grad, "b": vb.grad, "c": vc.grad}
    for k in "abc":
        assert fd_close(got[k], want[k]), (
            f"d{method}(a*b+c)/d{k} at {(a, b, c)}: {got[k]!r} vs finite difference {want[k]!r}"
        )


# ----------------------------------------------------------------------------------------
# 5. relu against micrograd itself


@pytest.mark.parametrize("x", [-2.0, -7, -1e-300, -0.0, 0.0, 0, 1e-300, 0.5, 3, 30.0])
def test_relu_matches_micrograd(ref, impl, x):
    vr, vi = ref.Value(x), impl.Value(x)
    yr, yi = vr.relu(), vi.relu()
    assert same_bits(yi.data, yr.data), (yi.data, yr.data)
    assert yi._op == yr._op
    assert len(yi._prev) == len(yr._prev) == 1
    yr.backward()
    yi.backward()
    assert grad_close(vi.grad, vr.grad), (vi.grad, vr.grad)


@pytest.mark.parametrize("a, b, c", COMPOSE_POINTS + [(2, -3, 6), (0.5, 4.0, -2.0)])
def test_relu_composed_matches_micrograd(ref, impl, a, b, c):
    outs = {}
    for eng in (ref, impl):
        leaves = [eng.Value(t) for t in (a, b, c)]
        y = (leaves[0] * leaves[1] + leaves[2]).relu()
        y.backward()
        outs[eng.name] = (y, leaves)
    (yr, lr), (yi, li) = outs[ref.name], outs[impl.name]
    assert same_bits(yi.data, yr.data) and yi._op == yr._op
    for gi, gr in zip(li, lr):
        assert grad_close(gi.grad, gr.grad), (gi.grad, gr.grad)


# ----------------------------------------------------------------------------------------
# 6. the binary ops against micrograd, with numbers on either side

VALUE_DATA = [1.75, -3]
NUMBERS = {"float": 2.5, "int": -4, "bool": True}
# (id, left kind, right kind): 'V' a Value, 'W' a second Value, or a NUMBERS key
OPERANDS = [
    ("V-W", "V", "W"),
    ("V-V", "V", "V"),
    ("V-float", "V", "float"),
    ("V-int", "V", "int"),
    ("V-bool", "V", "bool"),
    ("float-V", "float", "V"),
    ("int-V", "int", "V"),
    ("bool-V", "bool", "V"),
]


def _operand(eng, kind, values):
    if kind in ("V", "W"):
        return values[kind]
    return NUMBERS[kind]


def _children_by_side(out, left, right, eng):
    """The node's child for each operand: the Value itself, or the leaf made for a number."""
    kids = list(out._prev)
    values = [x for x in (left, right) if isinstance(x, eng.Value)]
    leaves = [k for k in kids if all(k is not v for v in values)]
    sides = []
    for x in (left, right):
        if isinstance(x, eng.Value):
            sides.append(x)
        else:
            assert len(leaves) == 1, leaves
            sides.append(leaves[0])
    return sides


@pytest.mark.parametrize("kinds", OPERANDS, ids=[o[0] for o in OPERANDS])
@pytest.mark.parametrize("data", VALUE_DATA, ids=repr)
@pytest.mark.parametrize("op, name", BINARY, ids=BINARY_IDS)
def test_binary_op_matches_micrograd(ref, impl, op, name, data, kinds):
    fn = operator_for(name)
    _, lk, rk = kinds
    got = {}
    for eng in (ref, impl):
        values = {"V": eng.Value(data), "W": eng.Value(0.625)}
        left, right = _operand(eng, lk, values), _operand(eng, rk, values)
        out = fn(left, right)
        assert isinstance(out, eng.Value)
        sides = _children_by_side(out, left, right, eng)
        out.backward()
        got[eng.name] = (out, sides)
    (out_r, sides_r), (out_i, sides_i) = got[ref.name], got[impl.name]
    assert same_bits(out_i.data, out_r.data), (out_i.data, out_r.data)
    assert out_i._op == out_r._op == name
    assert len(out_i._prev) == len(out_r._prev)
    for si, sr in zip(sides_i, sides_r):
        assert same_bits(si.data, sr.data), (si.data, sr.data)
        assert si._op == sr._op
        assert grad_close(si.grad, sr.grad), (si.grad, sr.grad)


# ----------------------------------------------------------------------------------------
# 7. pow against micrograd

POW_EXPONENTS = [2, 3, -1, 0.5, 2.0, -2.5]
POW_BASES = [0.3, 1.7, 4.0, 2]


@pytest.mark.parametrize("base", POW_BASES, ids=repr)
@pytest.mark.parametrize("k", POW_EXPONENTS, ids=repr)
def test_pow_matches_micrograd(ref, impl, k, base):
    vr, vi = ref.Value(base), impl.Value(base)
    yr, yi = vr**k, vi**k
    assert same_bits(yi.data, yr.data), (yi.data, yr.data)
    assert yi._op == yr._op == f"**{k}"
    assert len(yi._prev) == len(yr._prev) == 1
    yr.backward()
    yi.backward()
    assert grad_close(vi.grad, vr.grad, rtol=1e-12), (vi.grad, vr.grad)


# ----------------------------------------------------------------------------------------
# 8. sigmoid: forward


@pytest.mark.c_only
@pytest.mark.parametrize(
    "x, want",
    [
        (800.0, 1.0),
        (-800.0, 0.0),
        (1000.0, 1.0),
        (-1000.0, 0.0),
        (1e308, 1.0),
        (-1e308, 0.0),
        (INF, 1.0),
        (-INF, 0.0),
        (40.0, 1.0),
    ],
)
def test_sigmoid_saturates_without_overflow(impl, x, want):
    v = impl.Value(x)
    y = v.sigmoid()
    assert y.data == want and math.copysign(1.0, y.data) == 1.0  # 0.0, never -0.0
    y.backward()
    assert v.grad == 0.0  # out * (1 - out): no NaN


@pytest.mark.c_only
def test_the_naive_formula_would_overflow_there():
    # what the two-branch forward avoids: 1 / (1 + e^-x) for a very negative x
    with pytest.raises(OverflowError):
        1.0 / (1.0 + math.exp(800.0))
    assert sigmoid(-800.0) == 0.0


@pytest.mark.c_only
@pytest.mark.parametrize(
    "x", [-745.0, -744.0, -709.0, -708.4, -36.8, -1e-300, -5e-324, 5e-324, 1e-300, 36.8, 37.0, 709.0]
)
def test_sigmoid_is_the_definition_to_the_bit(impl, x):
    y = impl.Value(x).sigmoid()
    assert same_bits(y.data, sigmoid(x)), (x, y.data, sigmoid(x))


@pytest.mark.c_only
def test_sigmoid_underflows_to_subnormals_not_to_zero(impl):
    assert impl.Value(-745.0).sigmoid().data == 5e-324  # e^-745 rounds to the least subnormal
    assert 0.0 < impl.Value(-740.0).sigmoid().data < 1e-320


@pytest.mark.c_only
def test_sigmoid_sweep_is_the_definition_to_the_bit(impl):
    for x in wide_floats(2000, seed=1) + [k / 8 for k in range(-400, 401)]:
        y = impl.Value(x).sigmoid()
        assert same_bits(y.data, sigmoid(x)), (x, y.data, sigmoid(x))


@pytest.mark.c_only
@pytest.mark.parametrize("x", [0.0, -0.0])
def test_sigmoid_at_zero(impl, x):
    v = impl.Value(x)
    y = v.sigmoid()
    assert bits(y.data) == bits(0.5)
    y.backward()
    assert v.grad == 0.25


@pytest.mark.c_only
def test_sigmoid_of_nan_is_nan(impl):
    v = impl.Value(NAN)
    y = v.sigmoid()
    assert math.isnan(y.data)
    y.backward()
    assert math.isnan(v.grad)


@pytest.mark.c_only
def test_sigmoid_is_symmetric(impl):
    for x in [0.1, 1.0, 3.3, 12.0, 30.0]:
        a, b = impl.Value(x).sigmoid().data, impl.Value(-x).sigmoid().data
        assert math.isclose(a + b, 1.0, rel_tol=1e-15)


# ----------------------------------------------------------------------------------------
# 9. sigmoid: backward

SIGMOID_POINTS = [-20.0, -3.5, -1.0, -1e-8, 0.3, 2.0, 15.0]


@pytest.mark.c_only
@pytest.mark.parametrize("g", [1.0, -2.5, 3.0])
@pytest.mark.parametrize("x", SIGMOID_POINTS)
def test_sigmoid_grad_is_the_closed_form(impl, x, g):
    v = impl.Value(x)
    (v.sigmoid() * g).backward()  # the sigmoid node's grad is g * 1.0 = g exactly
    s = sigmoid(x)
    assert v.grad == (s * (1.0 - s)) * g, (v.grad, (s * (1.0 - s)) * g)
    # and the same derivative written another way, e^-x / (1 + e^-x)^2: for a large x,
    # 1 - out cancels, so the rule's error there is absolute, about an ulp of 1 times g
    e = math.exp(-x)
    assert math.isclose(v.grad, g * e / (1.0 + e) ** 2, rel_tol=1e-12, abs_tol=3e-16 * abs(g))


@pytest.mark.c_only
@pytest.mark.parametrize("x", SIGMOID_POINTS)
def test_sigmoid_grad_is_the_finite_difference(impl, x):
    v = impl.Value(x)
    v.sigmoid().backward()
    assert fd_close(v.grad, central_difference(sigmoid, x)), v.grad


@pytest.mark.c_only
def test_sigmoid_matches_its_spelling_in_micrograd_ops(impl):
    # 1 / (1 + e^-x) out of ops micrograd_c already had: the same value and gradient
    for x in [-4.0, -0.6, 0.0, 0.8, 5.0]:
        v, w = impl.Value(x), impl.Value(x)
        y, z = v.sigmoid(), (1 + (-w).exp()) ** -1
        assert math.isclose(y.data, z.data, rel_tol=1e-15)
        y.backward()
        z.backward()
        assert math.isclose(v.grad, w.grad, rel_tol=1e-13)


# ----------------------------------------------------------------------------------------
# 10. log: forward

LOG_DOMAIN = [0.0, -0.0, -5e-324, -1e-300, -1.0, -2, -1e308, -INF]


@pytest.mark.c_only
@pytest.mark.parametrize("x", LOG_DOMAIN, ids=repr)
def test_log_outside_its_domain_raises_as_math_log(impl, x):
    want = log_error(x)
    v = impl.Value(x)
    with pytest.raises(ValueError) as info:
        v.log()
    assert type(info.value) is ValueError
    assert same_message(info.value, want, x), (str(info.value), str(want))
    assert v.data == x and v.grad == 0.0  # the operand is untouched
    assert (v * 2.0).data == x * 2.0  # and still usable


@pytest.mark.c_only
def test_log_domain_error_in_a_graph(impl):
    a, b = impl.Value(0.5), impl.Value(-3.0)
    with pytest.raises(ValueError) as info:
        (a * b + 1.0).log()  # log(-0.5)
    assert same_message(info.value, log_error(-0.5), -0.5)
    with pytest.raises(ValueError):
        (a - a).log()  # log(0.0)


@pytest.mark.c_only
def test_log_of_inf_is_inf(impl):
    v = impl.Value(INF)
    y = v.log()
    assert y.data == INF
    y.backward()
    assert bits(v.grad) == bits(0.0)  # 1 / inf


@pytest.mark.c_only
def test_log_of_nan_is_nan(impl):
    v = impl.Value(NAN)
    y = v.log()
    assert math.isnan(y.data)
    y.backward()
    assert math.isnan(v.grad)


@pytest.mark.c_only
@pytest.mark.parametrize(
    "x",
    [
        5e-324,
        2.2250738585072014e-308,
        1e-300,
        0.1,
        1.0,
        2.0,
        math.e,
        10.0,
        1e300,
        1.7976931348623157e308,
        3,
        True,
    ],
)
def test_log_is_math_log_to_the_bit(impl, x):
    y = impl.Value(x).log()
    assert same_bits(y.data, math.log(float(x))), (x, y.data, math.log(x))


@pytest.mark.c_only
def test_log_of_one_is_plus_zero(impl):
    assert bits(impl.Value(1.0).log().data) == bits(0.0)


@pytest.mark.c_only
def test_log_sweep_is_math_log_to_the_bit(impl):
    for x in wide_floats(2000, seed=2):
        x = abs(x)
        assert same_bits(impl.Value(x).log().data, math.log(x)), x


# ----------------------------------------------------------------------------------------
# 11. log: backward

LOG_POINTS = [1e-3, 0.5, 1.0, 2.5, 1e6]


@pytest.mark.c_only
@pytest.mark.parametrize("g", [1.0, -3.0, 0.25])
@pytest.mark.parametrize("x", LOG_POINTS)
def test_log_grad_is_one_over_a(impl, x, g):
    v = impl.Value(x)
    (v.log() * g).backward()
    assert v.grad == g / x, (v.grad, g / x)
    assert math.isclose(v.grad, (1.0 / x) * g, rel_tol=1e-15)


@pytest.mark.c_only
def test_log_grad_at_the_least_subnormal_is_inf(impl):
    v = impl.Value(5e-324)
    v.log().backward()
    assert v.grad == 1.0 / 5e-324 == INF  # Python's own division agrees


@pytest.mark.c_only
@pytest.mark.parametrize("x", LOG_POINTS[:4] + [7.3])
def test_log_grad_is_the_finite_difference(impl, x):
    v = impl.Value(x)
    v.log().backward()
    h = 1e-6 * x
    assert fd_close(v.grad, central_difference(math.log, x, h)), v.grad


@pytest.mark.c_only
def test_log_grad_accumulates_over_uses(impl):
    x = 1.7
    v = impl.Value(x)
    u = v.log()
    (u * u + u).backward()  # d/dx (l^2 + l) = (2l + 1) / x
    assert math.isclose(v.grad, (2 * math.log(x) + 1) / x, rel_tol=1e-14)


# ----------------------------------------------------------------------------------------
# 12. sigmoid and log composed, and with the other ops


def _composed(x, y):
    # log(sigmoid(x * y)) + sigmoid(log(x)) * y + log(x ** 2 + 1)
    return (x * y).sigmoid().log() + x.log().sigmoid() * y + (x**2 + 1).log()


def _composed_float(x, y):
    return math.log(sigmoid(x * y)) + sigmoid(math.log(x)) * y + math.log(x**2 + 1)


@pytest.mark.c_only
@pytest.mark.parametrize("x, y", [(0.7, -1.2), (1.9, 0.4), (0.05, 3.0), (3.5, -0.8)])
def test_composed_graph_is_the_finite_difference(impl, x, y):
    vx, vy = impl.Value(x), impl.Value(y)
    out = _composed(vx, vy)
    assert math.isclose(out.data, _composed_float(x, y), rel_tol=1e-15)
    out.backward()
    h = 1e-6
    dx = central_difference(lambda t: _composed_float(t, y), x, h * x)
    dy = central_difference(lambda t: _composed_float(x, t), y, h)
    assert fd_close(vx.grad, dx), (vx.grad, dx)
    assert fd_close(vy.grad, dy), (vy.grad, dy)


@pytest.mark.c_only
def test_log_of_sigmoid_saturated_is_zero_or_raises(impl):
    assert impl.Value(800.0).sigmoid().log().data == 0.0
    with pytest.raises(ValueError) as info:
        impl.Value(-800.0).sigmoid().log()  # sigmoid gives 0.0
    assert same_message(info.value, log_error(0.0), 0.0)


@pytest.mark.c_only
@pytest.mark.parametrize(
    "w, b, x, t", [(0.8, -0.3, 1.5, 1.0), (-1.2, 0.4, 2.0, 0.0), (2.5, 1.0, -0.7, 1.0), (0.1, 0.0, 3.0, 0.0)]
)
def test_binary_cross_entropy_grad_is_s_minus_t(impl, w, b, x, t):
    # L = -(t log s + (1 - t) log(1 - s)), s = sigmoid(w x + b): dL/dz = s - t
    vw, vb = impl.Value(w), impl.Value(b)
    s = (vw * x + vb).sigmoid()
    loss = -(t * s.log() + (1 - t) * (1 - s).log())
    loss.backward()
    z = w * x + b
    sz = sigmoid(z)
    assert math.isclose(loss.data, -(t * math.log(sz) + (1 - t) * math.log(1 - sz)), rel_tol=1e-14)
    assert math.isclose(vb.grad, sz - t, rel_tol=1e-12)
    assert math.isclose(vw.grad, (sz - t) * x, rel_tol=1e-12)


# ----------------------------------------------------------------------------------------
# 13. sigmoid and log against PyTorch in float64 (skipped without torch)


def _torch():
    try:
        return pytest.importorskip("torch")
    except OSError as exc:  # a wheel that imports but cannot load its libraries
        pytest.skip(f"torch is installed but unusable: {exc}")


def _leaf(torch, x):
    return torch.tensor([x], dtype=torch.float64, requires_grad=True)


@pytest.mark.c_only
@pytest.mark.parametrize(
    "name, x",
    [
        ("sigmoid", -800.0),
        ("sigmoid", -30.0),
        ("sigmoid", -1.5),
        ("sigmoid", 0.0),
        ("sigmoid", 0.7),
        ("sigmoid", 30.0),
        ("sigmoid", 800.0),
        ("log", 1e-300),
        ("log", 0.3),
        ("log", 1.0),
        ("log", 7.5),
        ("log", 1e300),
    ],
)
def test_unary_against_torch(impl, name, x):
    torch = _torch()
    v = impl.Value(x)
    out = getattr(v, name)()
    out.backward()
    t = _leaf(torch, x)
    out_t = getattr(torch, name)(t)
    out_t.backward()
    assert math.isclose(out.data, out_t.item(), rel_tol=1e-15, abs_tol=1e-300)
    assert math.isclose(v.grad, t.grad.item(), rel_tol=1e-14, abs_tol=1e-300)


@pytest.mark.c_only
@pytest.mark.parametrize("x, y", [(0.7, -1.2), (1.9, 0.4), (0.05, 3.0), (3.5, -0.8)])
def test_composed_against_torch(impl, x, y):
    torch = _torch()
    vx, vy = impl.Value(x), impl.Value(y)
    out = _composed(vx, vy)
    out.backward()
    tx, ty = _leaf(torch, x), _leaf(torch, y)
    out_t = torch.log(torch.sigmoid(tx * ty)) + torch.sigmoid(torch.log(tx)) * ty + torch.log(tx**2 + 1)
    out_t.backward()
    assert math.isclose(out.data, out_t.item(), rel_tol=1e-14)
    assert math.isclose(vx.grad, tx.grad.item(), rel_tol=1e-12)
    assert math.isclose(vy.grad, ty.grad.item(), rel_tol=1e-12)


@pytest.mark.c_only
def test_log_of_zero_where_torch_gives_minus_inf(impl):
    # a deliberate difference: micrograd_c's log is math.log's, which raises
    torch = _torch()
    assert torch.log(torch.tensor([0.0], dtype=torch.float64)).item() == -INF
    with pytest.raises(ValueError):
        impl.Value(0.0).log()


# --- through micrograd_c.gradcheck, as a user would check a new op


@pytest.mark.c_only
@pytest.mark.parametrize(
    "f",
    [
        lambda a, b: (a * b).sigmoid(),
        lambda a, b: (a.sigmoid() + b).log(),
        lambda a, b: (a * a + 1.0).log() * b.sigmoid(),
        lambda a, b: (a.tanh() * b).sigmoid().log(),
    ],
    ids=["sigmoid(a*b)", "log(sigmoid(a)+b)", "log(a*a+1)*sigmoid(b)", "log(sigmoid(tanh(a)*b))"],
)
@pytest.mark.parametrize("x", [(0.3, 1.7), (-1.2, 2.5), (2.0, 0.4)])
def test_gradcheck_on_sigmoid_and_log(f, x):
    from micrograd_c import gradcheck
    from micrograd_c.engine import Value

    assert gradcheck(f, [Value(x[0]), Value(x[1])])


# ----------------------------------------------------------------------------------------
# 7. binary ops a method makes: against their reference and finite differences

BINARY_POINTS = [(0.7, -1.2), (-0.9, 0.4), (1.3, 0.6), (-0.5, -1.5), (2.0, 2.0)]


@pytest.mark.c_only
@pytest.mark.parametrize("a, b", BINARY_POINTS)
@pytest.mark.parametrize("op, method", BINARY_METHODS, ids=BINARY_METHOD_IDS)
def test_binary_method_forward_and_grad(impl, op, method, a, b):
    fn = reference_for(method)
    va, vb = impl.Value(a), impl.Value(b)
    y = getattr(va, method)(vb)
    assert same_bits(y.data, fn(a, b)) and y._op == _name(op) and y._prev == {va, vb}
    y.backward()
    h = 1e-6
    want_a = central_difference(lambda t: fn(t, b), a, h)
    want_b = central_difference(lambda t: fn(a, t), b, h)
    assert fd_close(va.grad, want_a), (va.grad, want_a)
    assert fd_close(vb.grad, want_b), (vb.grad, want_b)


@pytest.mark.c_only
@pytest.mark.parametrize("k", [2.5, -4, True])
@pytest.mark.parametrize("op, method", BINARY_METHODS, ids=BINARY_METHOD_IDS)
def test_binary_method_takes_a_number_second(impl, op, method, k):
    fn = reference_for(method)
    va = impl.Value(0.75)
    y = getattr(va, method)(k)
    assert same_bits(y.data, fn(0.75, float(k)))
    (leaf,) = y._prev - {va}
    assert leaf.data == float(k) and leaf._op == ""
    with pytest.raises(TypeError):
        getattr(va, method)("1.0")
