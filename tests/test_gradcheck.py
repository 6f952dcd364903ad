"""micrograd_c.gradcheck: passes on the engine's own (correct) gradients, fails with a message
naming the worst input on wrong ones, validates its arguments, and leaves inputs as it found
them; on micrograd's Values as well as micrograd_c's. A wrong gradient is one mathematics
says is wrong (a detached factor, a mistaken backward rule), never a number taken from a run."""

import math
import random
import re

import pytest

from micrograd_c import GradcheckError, gradcheck

# ----------------------------------------------------------------------------------------
# correct gradients pass

# (id, f, inputs' data): away from relu's kink and pow's poles, for both engines
BOTH = [
    ("add_mul", lambda a, b: a * b + b * b * a + 3, (1.3, -0.7)),
    ("pow", lambda a, b: a**3 + b**-1 + (a * a) ** 0.5 + b**2, (1.3, -0.7)),
    ("relu", lambda a, b: (a * b + 1).relu() * a + (a - b).relu(), (1.3, -0.7)),
    ("sub_div_neg", lambda a, b: (a - b) / (a + 2) - -b + 1 / b, (1.3, -0.7)),
    ("numbers_on_the_left", lambda a, b: 2 * a + 1 - a / 3 - (4 - b), (0.2, 5.0)),
    ("one_input", lambda a: a * a * a - a, (0.4,)),
    ("three_inputs", lambda a, b, c: (a * b + c) ** 2 * c, (0.5, -1.25, 2.0)),
]

# tanh and exp: micrograd_c only (micrograd 0.1.0 has neither)
C_ONLY = [
    ("tanh", lambda a, b: (a * b).tanh() + (a - b).tanh() * b, (0.3, -0.8)),
    ("exp", lambda a, b: (a * b).exp() + (a - b).exp() * a, (0.3, -0.8)),
    ("tanh_exp_pow_relu", lambda a, b: ((a.exp() + b**2).tanh() * a).relu() + a**-2, (0.9, 0.4)),
]


@pytest.mark.parametrize("f, data", [c[1:] for c in BOTH], ids=[c[0] for c in BOTH])
def test_correct_gradients_pass(either, f, data):
    assert gradcheck(f, [either.Value(x) for x in data]) is True


@pytest.mark.c_only
@pytest.mark.parametrize("f, data", [c[1:] for c in C_ONLY], ids=[c[0] for c in C_ONLY])
def test_correct_gradients_of_tanh_and_exp_pass(impl, f, data):
    assert gradcheck(f, [impl.Value(x) for x in data]) is True


@pytest.mark.c_only
def test_the_lectures_neuron_passes(impl):
    V = impl.Value
    inputs = [V(2.0), V(0.0), V(-3.0), V(1.0), V(6.8813735870195432)]
    assert gradcheck(lambda x1, x2, w1, w2, b: (x1 * w1 + x2 * w2 + b).tanh(), inputs)


def test_an_nn_neurons_parameters_pass(either):
    # f ignores its arguments and calls the neuron, whose parameters they are: a change of
    # a parameter's data must reach the neuron's next call
    random.seed(7)
    n = either.nn.Neuron(3, nonlin=False)
    x = [0.5, -1.0, 2.0]
    assert gradcheck(lambda *params: n(x) * n(x), n.parameters())


def test_inputs_may_be_a_tuple(either):
    assert gradcheck(lambda a, b: a * b, (either.Value(2.0), either.Value(3.0)))


# ----------------------------------------------------------------------------------------
# wrong gradients fail, saying where

MESSAGE = re.compile(
    r"gradcheck: gradient mismatch for input (?P<index>\d+)(?: \('(?P<label>[^']*)'\))?: "
    r"analytic (?P<analytic>\S+), numeric (?P<numeric>\S+); "
    r"\|analytic - numeric\| = (?P<diff>\S+) > atol \+ rtol \* \|numeric\| = (?P<tol>\S+) "
    r"\(atol=(?P<atol>\S+), rtol=(?P<rtol>\S+)\)"
)


def parse(err):
    m = MESSAGE.match(str(err.value))
    assert m, str(err.value)
    return m


def leaked(x):
    # x * x with the second factor taken as a number: the forward is x**2, the graph knows
    # only one factor, so backward gives x where the derivative is 2x (a "detach" bug)
    return x * x.data


def test_a_detached_factor_fails_with_both_numbers(either):
    x = either.Value(1.5)
    with pytest.raises(GradcheckError) as err:
        gradcheck(leaked, [x])
    m = parse(err)
    assert m["index"] == "0" and m["label"] is None
    assert float(m["analytic"]) == 1.5  # the graph's gradient, x
    assert math.isclose(float(m["numeric"]), 3.0, rel_tol=1e-8)  # the true one, 2x
    numeric = float(m["numeric"])
    assert float(m["diff"]) == abs(1.5 - numeric)
    assert float(m["tol"]) == 1e-8 + 1e-5 * abs(numeric)
    assert (float(m["atol"]), float(m["rtol"])) == (1e-8, 1e-5)


def test_the_worst_input_is_named_with_its_label(impl):
    a, b, c = impl.Value(1.0), impl.Value(2.0), impl.Value(1.0)
    a.label, b.label, c.label = "a", "b", "c"

    # a 1% off (about 1e3 tolerances), b right, c half its gradient (about 5e4 tolerances)
    def f(a, b, c):
        return a + 0.01 * a.data * a.data + b * b + leaked(c)

    with pytest.raises(GradcheckError) as err:
        gradcheck(f, [a, b, c])
    m = parse(err)
    assert (m["index"], m["label"]) == ("2", "c")
    assert str(err.value).endswith("; 2 of 3 inputs disagree (indices [0, 2])")


def test_a_wrong_backward_in_a_micrograd_node_fails(ref):
    # an op written by hand on micrograd's Value: cube with the derivative of a square
    def cube(x):
        out = ref.Value(x.data**3, (x,), "cube")

        def _backward():
            x.grad += 2 * x.data * out.grad

        out._backward = _backward
        return out

    x, y = ref.Value(0.5), ref.Value(-1.0)
    with pytest.raises(GradcheckError) as err:
        gradcheck(lambda x, y: cube(x) * y, [x, y])
    m = parse(err)
    assert m["index"] == "0"
    assert float(m["analytic"]) == 2 * 0.5 * -1.0
    assert math.isclose(float(m["numeric"]), 3 * 0.25 * -1.0, rel_tol=1e-8)


def test_relu_at_its_kink_disagrees(either):
    # micrograd's relu has derivative 0 at 0; the central difference sees the mean slope 0.5
    with pytest.raises(GradcheckError) as err:
        gradcheck(lambda x: x.relu(), [either.Value(0.0)])
    m = parse(err)
    assert float(m["analytic"]) == 0.0
    assert math.isclose(float(m["numeric"]), 0.5, rel_tol=1e-8)


def test_nan_never_agrees(impl):
    with pytest.raises(GradcheckError, match="analytic nan, numeric nan"):
        gradcheck(lambda x: x * math.nan, [impl.Value(1.0)])


@pytest.mark.parametrize(
    "rtol, atol, ok",
    [
        (0.6, 0.0, True),
        (0.4, 0.0, False),  # |1 - 2| against rtol * 2
        (0.0, 1.1, True),
        (0.0, 0.9, False),  # against atol
        (0.3, 0.45, True),
        (0.3, 0.35, False),  # against atol + rtol * 2
    ],
)
def test_the_tolerance_is_atol_plus_rtol_times_numeric(either, rtol, atol, ok):
    x = either.Value(1.0)  # analytic 1, numeric 2
    if ok:
        assert gradcheck(leaked, [x], rtol=rtol, atol=atol)
    else:
        with pytest.raises(GradcheckError):
            gradcheck(leaked, [x], rtol=rtol, atol=atol)


def test_the_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


# ----------------------------------------------------------------------------------------
# arguments


def test_arguments_are_checked(either):
    V = either.Value
    x = V(1.0)
    ok = lambda x: x * 2  # noqa: E731
    cases = [
        (TypeError, "f must be callable", ("not f", [x])),
        (TypeError, "inputs must be a list of Values, got Value", (ok, x)),
        (TypeError, "inputs must be a list of Values, got float", (ok, 1.0)),
        (TypeError, r"inputs\[1\] must be a Value, got float", (ok, [x, 2.0])),
        (ValueError, "inputs is empty", (ok, [])),
        (ValueError, r"inputs\[0\] and inputs\[1\] are the same Value", (ok, [x, x])),
        (TypeError, "f must return a Value, got float", (lambda x: 2.0, [x])),
        (TypeError, "f must return a Value, got list", (lambda x: [x], [x])),
    ]
    for exc, msg, args in cases:
        with pytest.raises(exc, match=msg):
            gradcheck(*args)
    for kw, exc, msg in [
        ({"eps": 0}, ValueError, "eps must be finite and > 0, got 0"),
        ({"eps": -1e-6}, ValueError, "eps must be finite and > 0"),
        ({"eps": math.inf}, ValueError, "eps must be finite"),
        ({"eps": "1e-6"}, TypeError, "eps must be a number, got str"),
        ({"rtol": -1.0}, ValueError, "rtol must be finite and >= 0"),
        ({"atol": math.nan}, ValueError, "atol must be finite and >= 0"),
        ({"atol": True}, TypeError, "atol must be a number, got bool"),
    ]:
        with pytest.raises(exc, match=msg):
            gradcheck(ok, [x], **kw)
    assert gradcheck(ok, [x], rtol=0, atol=1e-6)  # zero tolerances are fine


# ----------------------------------------------------------------------------------------
# what it leaves behind


def test_data_is_restored_and_grads_are_the_analytic_ones(either):
    x, y = either.Value(0.1 + 0.2), either.Value(-0.7)  # 0.30000000000000004
    x.grad, y.grad = 100.0, -100.0  # zeroed first: these must not count
    assert gradcheck(lambda x, y: x * y + y * y, [x, y])
    assert x.data == 0.1 + 0.2 and y.data == -0.7
    assert x.grad == -0.7
    assert math.isclose(y.grad, 0.30000000000000004 + 2 * -0.7, rel_tol=1e-15)


def test_data_is_restored_after_a_mismatch(either):
    x = either.Value(1.25)
    with pytest.raises(GradcheckError):
        gradcheck(leaked, [x])
    assert x.data == 1.25
    assert x.grad == 1.25  # the (wrong) analytic gradient


def test_data_is_restored_when_f_raises_at_a_perturbed_point(either):
    x, y = either.Value(1.5), either.Value(2.5)

    def f(x, y):
        if y.data != 2.5:
            raise RuntimeError("only defined at y = 2.5")
        return x * y

    with pytest.raises(RuntimeError, match="only defined"):
        gradcheck(f, [x, y])
    assert (x.data, y.data) == (1.5, 2.5)


def test_f_sees_each_input_moved_by_eps_in_turn(either):
    seen = []

    def f(x, y):
        seen.append((x.data, y.data))
        return x * y

    gradcheck(f, [either.Value(1.0), either.Value(2.0)], eps=0.5)
    assert seen == [(1.0, 2.0), (1.5, 2.0), (0.5, 2.0), (1.0, 2.5), (1.0, 1.5)]
