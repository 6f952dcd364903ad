"""Op tests generated from the C op table (csrc/ops.c, mg_ops[]).

The cases here are not a hand-kept list of ops: at import the module reads the table through
cffi (micrograd_c._glue: mg_op_name, mg_op_method, mg_op_arity over range(MG_OP_COUNT)) and
parametrizes over what it finds:

* every unary op with a method name (relu, tanh, exp, ... and whatever row is added next) is
  checked as `Value(x).<method>()`: its _op is the table's name, its _prev is {x}, its data is
  bit for bit what the pure-Python function in REFERENCE gives (or it raises the exception
  that function raises: its type and message), and its gradient agrees with central finite
  differences of that function, alone and composed as f(a * b + c), wherever the function is
  defined (elsewhere, as log of a negative number, it raises as the function does). A method
  with no entry in REFERENCE fails ("add a reference for <name>"), so a new op cannot go
  untested;
* every binary op with a name ('+', '*') is checked against micrograd 0.1.0 with Value, float,
  int and bool operands on either side; an op with no Python operator in BINARY_OPERATORS
  fails the same way;
* pow (the table's unnamed pow rows) and relu, which micrograd has, against micrograd itself.

Expected numbers come from mathematics (Python's math module, finite differences) or from the
reference micrograd, never from micrograd_c. Tests that need micrograd_c's extras (tanh, exp, ...)
or read the table are marked c_only; they are skipped when MICROGRAD_C_TEST_IMPL=micrograd.
"""

import math
import operator
import struct

import pytest

from _helpers import grad_close, py_sigmoid
from micrograd_c._glue import ffi, lib

# ----------------------------------------------------------------------------------------
# the table


def _name(op):
    return ffi.string(lib.mg_op_name(op)).decode()


def _method(op):
    return ffi.string(lib.mg_op_method(op)).decode()


TABLE = [(op, _name(op), _method(op), lib.mg_op_arity(op)) for op in range(lib.MG_OP_COUNT)]

# every op that a Value method makes: (op, method)
UNARY = [(op, method) for op, name, method, arity in TABLE if arity == 1 and method]
UNARY_IDS = [method for _, method in UNARY]

# every named binary op: (op, name)
BINARY = [(op, name) for op, name, method, arity in TABLE if arity == 2 and name]
BINARY_IDS = [name for _, name in BINARY]


# ----------------------------------------------------------------------------------------
# what each op must compute: pure Python, written from the definitions


def _relu(x):
    return 0.0 if x < 0 else x


REFERENCE = {
    "relu": _relu,
    "tanh": math.tanh,
    "exp": math.exp,
    "sigmoid": py_sigmoid,
    "log": math.log,    # ValueError for x <= 0, which micrograd_c must raise alike
}

# points where the function is not differentiable: no finite differences near them
KINKS = {
    "relu": [0.0],
}

BINARY_OPERATORS = {
    "+": operator.add,
    "*": operator.mul,
}


def reference_for(method):
    if method not in REFERENCE:
        pytest.fail(f"add a reference for {method}: the op table has a method {method!r} "
                    f"that tests/test_ops_table.py REFERENCE does not know")
    return REFERENCE[method]


def operator_for(name):
    if name not in BINARY_OPERATORS:
        pytest.fail(f"add an operator for {name}: the op table has a binary op {name!r} "
                    f"that tests/test_ops_table.py BINARY_OPERATORS does not know")
    return BINARY_OPERATORS[name]


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


INF, NAN = math.inf, math.nan
FORWARD_INPUTS = [
    -1000.0, -30.0, -2.5, -1.0, -1e-300, -5e-324, -0.0, 0.0, 5e-324, 1e-300, 1e-8, 0.5, 1.0,
    3.7, 19.0, 30.0, 700.0, 709.78, 709.79, 710.0, 1000.0, 1e308, -1e308, INF, -INF, NAN,
    2, -3, 0, True, False,
]
GRAD_POINTS = [-1.3, -0.4, 0.2, 0.9, 1.7]
COMPOSE_POINTS = [(0.7, -1.2, 0.5), (-0.9, 0.4, 1.1), (1.3, 0.6, -0.2), (-0.5, -1.5, -0.1)]


# ----------------------------------------------------------------------------------------
# 1. the table itself


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
    assert (lib.MG_ADD, "+") in BINARY and (lib.MG_MUL, "*") in BINARY


@pytest.mark.c_only
def test_table_constants_are_its_rows():
    assert _method(lib.MG_RELU) == "relu" and _name(lib.MG_RELU) == "ReLU"
    assert _method(lib.MG_TANH) == "tanh" and _name(lib.MG_TANH) == "tanh"
    assert _method(lib.MG_EXP) == "exp" and _name(lib.MG_EXP) == "exp"
    assert _method(lib.MG_SIGMOID) == "sigmoid" and _name(lib.MG_SIGMOID) == "sigmoid"
    assert _method(lib.MG_LOG) == "log" and _name(lib.MG_LOG) == "log"
    for op in (lib.MG_LEAF, lib.MG_POW_INT, lib.MG_POW_FLOAT, lib.MG_POW_NAMED, lib.MG_CUSTOM):
        assert _method(op) == "" and _name(op) == ""
    assert lib.mg_op_arity(lib.MG_LEAF) == 0


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
        assert v.data == float(x) and v.grad == 0.0     # the operand is untouched
        return
    y = getattr(v, method)()
    assert isinstance(y, impl.Value)
    assert y._op == _name(op)
    assert y._prev == {v}
    assert isinstance(y.data, float)
    assert same_bits(y.data, want), (
        f"{method}({x!r}): micrograd_c {y.data!r} ({bits(y.data).hex()}), "
        f"Python {want!r} ({bits(want).hex()})")
    assert y.grad == 0.0 and v.grad == 0.0


@pytest.mark.c_only
def test_exp_overflow_is_among_the_cases():
    # the raising branch above is exercised: math.exp overflows inside FORWARD_INPUTS
    raising = [x for x in FORWARD_INPUTS if python_outcome(math.exp, float(x))[0] == "raise"]
    assert 1000.0 in raising and 710.0 in raising and 709.78 not in raising


@pytest.mark.c_only
@pytest.mark.parametrize("x", [1000.0, 710.0, 709.79, 1e308])
def test_exp_overflow_raises_overflowerror(impl, x):
    with pytest.raises(OverflowError):
        math.exp(x)
    v = impl.Value(x)
    with pytest.raises(OverflowError):
        v.exp()
    assert v.data == x and v.grad == 0.0    # the operand is untouched


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
    if kind == "raise":     # outside the domain (log of a negative): raise as Python does
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
            f"d{method}(a*b+c)/d{k} at {(a, b, c)}: {got[k]!r} vs finite difference {want[k]!r}")


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
    yr, yi = vr ** k, vi ** k
    assert same_bits(yi.data, yr.data), (yi.data, yr.data)
    assert yi._op == yr._op == f"**{k}"
    assert len(yi._prev) == len(yr._prev) == 1
    yr.backward()
    yi.backward()
    assert grad_close(vi.grad, vr.grad, rtol=1e-12), (vi.grad, vr.grad)
