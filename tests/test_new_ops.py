"""sigmoid and log (csrc/ops.h), at the edges the generated table tests (test_ops_table.py)
do not single out.

sigmoid must never overflow or raise, whatever its input: its forward takes exp only of a
number <= 0. log must raise what math.log raises (ValueError, with math.log's message on the
running Python) wherever math.log does, and follow it elsewhere (inf, nan). Expected numbers
come from the definitions computed here in Python floats, from closed forms, from central
finite differences and, where torch is importable, from PyTorch in float64; never from
micrograd_c. micrograd 0.1.0 has neither op, so every test here is c_only.
"""

import math
import random
import struct

import pytest

from _helpers import py_sigmoid as sigmoid

pytestmark = pytest.mark.c_only

INF, NAN = math.inf, math.nan


def bits(x):
    return struct.pack("d", float(x))


def same_bits(got, want):
    if math.isnan(want):
        return math.isnan(got)
    return bits(got) == bits(want)


def central_difference(fn, x, h=1e-6):
    return (fn(x + h) - fn(x - h)) / (2 * h)


def fd_close(got, want):
    return math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9)


def log_error(x):
    """The ValueError math.log raises at x."""
    with pytest.raises(ValueError) as info:
        math.log(x)
    return info.value


def same_message(got, want, x):
    """An exception's message is Python's; where Python's quotes the operand (math.log on
    3.14: '..., got -1.0'), which a C status does not carry, the part before it."""
    return str(got) == str(want) or str(want) == f"{got}, got {float(x)!r}"


def wide_floats(n, seed):
    """n floats over many magnitudes, both signs: a seeded sweep."""
    rng = random.Random(seed)
    return [rng.choice((-1.0, 1.0)) * 10.0 ** rng.uniform(-320, 308) for _ in range(n)]


# ----------------------------------------------------------------------------------------
# sigmoid: forward


@pytest.mark.parametrize("x, want", [
    (800.0, 1.0), (-800.0, 0.0), (1000.0, 1.0), (-1000.0, 0.0), (1e308, 1.0), (-1e308, 0.0),
    (INF, 1.0), (-INF, 0.0), (40.0, 1.0),
])
def test_sigmoid_saturates_without_overflow(impl, x, want):
    v = impl.Value(x)
    y = v.sigmoid()
    assert y.data == want and math.copysign(1.0, y.data) == 1.0     # 0.0, never -0.0
    y.backward()
    assert v.grad == 0.0                                            # out * (1 - out): no NaN


def test_the_naive_formula_would_overflow_there():
    # what the two-branch forward avoids: 1 / (1 + e^-x) for a very negative x
    with pytest.raises(OverflowError):
        1.0 / (1.0 + math.exp(800.0))
    assert sigmoid(-800.0) == 0.0


@pytest.mark.parametrize("x", [-745.0, -744.0, -709.0, -708.4, -36.8, -1e-300, -5e-324,
                               5e-324, 1e-300, 36.8, 37.0, 709.0])
def test_sigmoid_is_the_definition_to_the_bit(impl, x):
    y = impl.Value(x).sigmoid()
    assert same_bits(y.data, sigmoid(x)), (x, y.data, sigmoid(x))


def test_sigmoid_underflows_to_subnormals_not_to_zero(impl):
    assert impl.Value(-745.0).sigmoid().data == 5e-324     # e^-745 rounds to the least subnormal
    assert 0.0 < impl.Value(-740.0).sigmoid().data < 1e-320


def test_sigmoid_sweep_is_the_definition_to_the_bit(impl):
    for x in wide_floats(2000, seed=1) + [k / 8 for k in range(-400, 401)]:
        y = impl.Value(x).sigmoid()
        assert same_bits(y.data, sigmoid(x)), (x, y.data, sigmoid(x))


@pytest.mark.parametrize("x", [0.0, -0.0])
def test_sigmoid_at_zero(impl, x):
    v = impl.Value(x)
    y = v.sigmoid()
    assert bits(y.data) == bits(0.5)
    y.backward()
    assert v.grad == 0.25


def test_sigmoid_of_nan_is_nan(impl):
    v = impl.Value(NAN)
    y = v.sigmoid()
    assert math.isnan(y.data)
    y.backward()
    assert math.isnan(v.grad)


def test_sigmoid_node(impl):
    v = impl.Value(0.3)
    y = v.sigmoid()
    assert y._op == "sigmoid" and y._prev == {v}
    assert isinstance(y, impl.Value) and isinstance(y.data, float)
    assert impl.Value(2).sigmoid().data == sigmoid(2.0)            # an int operand is its float


def test_sigmoid_is_symmetric(impl):
    for x in [0.1, 1.0, 3.3, 12.0, 30.0]:
        a, b = impl.Value(x).sigmoid().data, impl.Value(-x).sigmoid().data
        assert math.isclose(a + b, 1.0, rel_tol=1e-15)


# ----------------------------------------------------------------------------------------
# sigmoid: backward

SIGMOID_POINTS = [-20.0, -3.5, -1.0, -1e-8, 0.3, 2.0, 15.0]


@pytest.mark.parametrize("g", [1.0, -2.5, 3.0])
@pytest.mark.parametrize("x", SIGMOID_POINTS)
def test_sigmoid_grad_is_the_closed_form(impl, x, g):
    v = impl.Value(x)
    (v.sigmoid() * g).backward()        # the sigmoid node's grad is g * 1.0 = g exactly
    s = sigmoid(x)
    assert v.grad == (s * (1.0 - s)) * g, (v.grad, (s * (1.0 - s)) * g)
    # and the same derivative written another way, e^-x / (1 + e^-x)^2: for a large x,
    # 1 - out cancels, so the rule's error there is absolute, about an ulp of 1 times g
    e = math.exp(-x)
    assert math.isclose(v.grad, g * e / (1.0 + e) ** 2, rel_tol=1e-12, abs_tol=3e-16 * abs(g))


@pytest.mark.parametrize("x", SIGMOID_POINTS)
def test_sigmoid_grad_is_the_finite_difference(impl, x):
    v = impl.Value(x)
    v.sigmoid().backward()
    assert fd_close(v.grad, central_difference(sigmoid, x)), v.grad


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
# log: forward

LOG_DOMAIN = [0.0, -0.0, -5e-324, -1e-300, -1.0, -2, -1e308, -INF]


@pytest.mark.parametrize("x", LOG_DOMAIN, ids=repr)
def test_log_outside_its_domain_raises_as_math_log(impl, x):
    want = log_error(x)
    v = impl.Value(x)
    with pytest.raises(ValueError) as info:
        v.log()
    assert type(info.value) is ValueError
    assert same_message(info.value, want, x), (str(info.value), str(want))
    assert v.data == x and v.grad == 0.0                        # the operand is untouched
    assert (v * 2.0).data == x * 2.0                            # and still usable


def test_log_domain_error_in_a_graph(impl):
    a, b = impl.Value(0.5), impl.Value(-3.0)
    with pytest.raises(ValueError) as info:
        (a * b + 1.0).log()                                     # log(-0.5)
    assert same_message(info.value, log_error(-0.5), -0.5)
    with pytest.raises(ValueError):
        (a - a).log()                                           # log(0.0)


def test_log_of_inf_is_inf(impl):
    v = impl.Value(INF)
    y = v.log()
    assert y.data == INF
    y.backward()
    assert bits(v.grad) == bits(0.0)                            # 1 / inf


def test_log_of_nan_is_nan(impl):
    v = impl.Value(NAN)
    y = v.log()
    assert math.isnan(y.data)
    y.backward()
    assert math.isnan(v.grad)


@pytest.mark.parametrize("x", [5e-324, 2.2250738585072014e-308, 1e-300, 0.1, 1.0, 2.0,
                               math.e, 10.0, 1e300, 1.7976931348623157e308, 3, True])
def test_log_is_math_log_to_the_bit(impl, x):
    y = impl.Value(x).log()
    assert same_bits(y.data, math.log(float(x))), (x, y.data, math.log(x))


def test_log_of_one_is_plus_zero(impl):
    assert bits(impl.Value(1.0).log().data) == bits(0.0)


def test_log_sweep_is_math_log_to_the_bit(impl):
    for x in wide_floats(2000, seed=2):
        x = abs(x)
        assert same_bits(impl.Value(x).log().data, math.log(x)), x


def test_log_node(impl):
    v = impl.Value(2.5)
    y = v.log()
    assert y._op == "log" and y._prev == {v}
    assert isinstance(y, impl.Value) and isinstance(y.data, float)


# ----------------------------------------------------------------------------------------
# log: backward

LOG_POINTS = [1e-3, 0.5, 1.0, 2.5, 1e6]


@pytest.mark.parametrize("g", [1.0, -3.0, 0.25])
@pytest.mark.parametrize("x", LOG_POINTS)
def test_log_grad_is_one_over_a(impl, x, g):
    v = impl.Value(x)
    (v.log() * g).backward()
    assert v.grad == g / x, (v.grad, g / x)
    assert math.isclose(v.grad, (1.0 / x) * g, rel_tol=1e-15)


def test_log_grad_at_the_least_subnormal_is_inf(impl):
    v = impl.Value(5e-324)
    v.log().backward()
    assert v.grad == 1.0 / 5e-324 == INF                        # Python's own division agrees


@pytest.mark.parametrize("x", LOG_POINTS[:4] + [7.3])
def test_log_grad_is_the_finite_difference(impl, x):
    v = impl.Value(x)
    v.log().backward()
    h = 1e-6 * x
    assert fd_close(v.grad, central_difference(math.log, x, h)), v.grad


def test_log_grad_accumulates_over_uses(impl):
    x = 1.7
    v = impl.Value(x)
    u = v.log()
    (u * u + u).backward()                                      # d/dx (l^2 + l) = (2l + 1) / x
    assert math.isclose(v.grad, (2 * math.log(x) + 1) / x, rel_tol=1e-14)


# ----------------------------------------------------------------------------------------
# the two composed, and with the other ops


def _composed(x, y):
    # log(sigmoid(x * y)) + sigmoid(log(x)) * y + log(x ** 2 + 1)
    return (x * y).sigmoid().log() + x.log().sigmoid() * y + (x ** 2 + 1).log()


def _composed_float(x, y):
    return (math.log(sigmoid(x * y)) + sigmoid(math.log(x)) * y + math.log(x ** 2 + 1))


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


def test_log_of_sigmoid_saturated_is_zero_or_raises(impl):
    assert impl.Value(800.0).sigmoid().log().data == 0.0
    with pytest.raises(ValueError) as info:
        impl.Value(-800.0).sigmoid().log()                      # sigmoid gives 0.0
    assert same_message(info.value, log_error(0.0), 0.0)


@pytest.mark.parametrize("w, b, x, t", [(0.8, -0.3, 1.5, 1.0), (-1.2, 0.4, 2.0, 0.0),
                                        (2.5, 1.0, -0.7, 1.0), (0.1, 0.0, 3.0, 0.0)])
def test_binary_cross_entropy_grad_is_s_minus_t(impl, w, b, x, t):
    # L = -(t log s + (1 - t) log(1 - s)), s = sigmoid(w x + b): dL/dz = s - t
    vw, vb = impl.Value(w), impl.Value(b)
    s = (vw * x + vb).sigmoid()
    loss = -(t * s.log() + (1 - t) * (1 - s).log())
    loss.backward()
    z = w * x + b
    sz = sigmoid(z)
    assert math.isclose(loss.data, -(t * math.log(sz) + (1 - t) * math.log(1 - sz)),
                        rel_tol=1e-14)
    assert math.isclose(vb.grad, sz - t, rel_tol=1e-12)
    assert math.isclose(vw.grad, (sz - t) * x, rel_tol=1e-12)


# ----------------------------------------------------------------------------------------
# against PyTorch in float64 (skipped without torch)


def _torch():
    try:
        return pytest.importorskip("torch")
    except OSError as exc:  # a wheel that imports but cannot load its libraries
        pytest.skip(f"torch is installed but unusable: {exc}")


def _leaf(torch, x):
    return torch.tensor([x], dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("name, x", [
    ("sigmoid", -800.0), ("sigmoid", -30.0), ("sigmoid", -1.5), ("sigmoid", 0.0),
    ("sigmoid", 0.7), ("sigmoid", 30.0), ("sigmoid", 800.0),
    ("log", 1e-300), ("log", 0.3), ("log", 1.0), ("log", 7.5), ("log", 1e300),
])
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


@pytest.mark.parametrize("x, y", [(0.7, -1.2), (1.9, 0.4), (0.05, 3.0), (3.5, -0.8)])
def test_composed_against_torch(impl, x, y):
    torch = _torch()
    vx, vy = impl.Value(x), impl.Value(y)
    out = _composed(vx, vy)
    out.backward()
    tx, ty = _leaf(torch, x), _leaf(torch, y)
    out_t = (torch.log(torch.sigmoid(tx * ty)) + torch.sigmoid(torch.log(tx)) * ty
             + torch.log(tx ** 2 + 1))
    out_t.backward()
    assert math.isclose(out.data, out_t.item(), rel_tol=1e-14)
    assert math.isclose(vx.grad, tx.grad.item(), rel_tol=1e-12)
    assert math.isclose(vy.grad, ty.grad.item(), rel_tol=1e-12)


def test_log_of_zero_where_torch_gives_minus_inf(impl):
    # a deliberate difference: micrograd_c's log is math.log's, which raises
    torch = _torch()
    assert torch.log(torch.tensor([0.0], dtype=torch.float64)).item() == -INF
    with pytest.raises(ValueError):
        impl.Value(0.0).log()


# --- through micrograd_c.gradcheck, as a user would check a new op

@pytest.mark.parametrize("f", [
    lambda a, b: (a * b).sigmoid(),
    lambda a, b: (a.sigmoid() + b).log(),
    lambda a, b: (a * a + 1.0).log() * b.sigmoid(),
    lambda a, b: (a.tanh() * b).sigmoid().log(),
], ids=["sigmoid(a*b)", "log(sigmoid(a)+b)", "log(a*a+1)*sigmoid(b)", "log(sigmoid(tanh(a)*b))"])
@pytest.mark.parametrize("x", [(0.3, 1.7), (-1.2, 2.5), (2.0, 0.4)])
def test_gradcheck_on_the_new_ops(f, x):
    from micrograd_c import gradcheck
    from micrograd_c.engine import Value

    assert gradcheck(f, [Value(x[0]), Value(x[1])])
