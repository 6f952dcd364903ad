"""micrograd_c.optim against the formulas, written out here in float64 Python from torch.optim's
documentation, and against torch.optim itself where torch is installed.

Each test runs N steps from the same gradient sequence on both sides (the gradients are set by
hand, so the comparison is of the updates alone) and compares the parameters to 1e-12 relative.
"""

import math
import random
import struct

import pytest

from micrograd_c import optim
from micrograd_c.engine import Value
from micrograd_c.nn import MLP

STEPS = 25
RTOL = 1e-12


def _grads(n, steps, seed=0):
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(n)] for _ in range(steps)]


def _start(n, seed=1):
    rng = random.Random(seed)
    return [rng.uniform(-1, 1) for _ in range(n)]


def _close(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert math.isclose(x, y, rel_tol=RTOL, abs_tol=1e-300), (x, y)


def _run(make, start, grads, each_step=None):
    """The parameters after each step of micrograd_c's optimizer make(params)."""
    params = [Value(x) for x in start]
    opt = make(params)
    for k, g in enumerate(grads):
        for p, gi in zip(params, g):
            p.grad = gi
        opt.step()
        if each_step:
            each_step(opt, k)
    return [p.data for p in params]


# -----------------------------------------------------------------------------------------
# the formulas, as torch.optim's documentation writes them, in plain Python floats


def sgd_reference(start, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    x, buf = list(start), [None] * len(start)
    for g in grads:
        for i, gi in enumerate(g):
            if weight_decay:
                gi = gi + weight_decay * x[i]
            if momentum:
                buf[i] = gi if buf[i] is None else momentum * buf[i] + (1 - dampening) * gi
                gi = gi + momentum * buf[i] if nesterov else buf[i]
            x[i] = x[i] - lr * gi
    return x


def adam_reference(start, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    b1, b2 = betas
    x, m, v = list(start), [0.0] * len(start), [0.0] * len(start)
    for t, g in enumerate(grads, 1):
        for i, gi in enumerate(g):
            if decoupled:
                x[i] = x[i] * (1 - lr * weight_decay)
            elif weight_decay:
                gi = gi + weight_decay * x[i]
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            m_hat = m[i] / (1 - b1**t)
            v_hat = v[i] / (1 - b2**t)
            x[i] = x[i] - lr * m_hat / (math.sqrt(v_hat) + eps)
    return x


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.02, weight_decay=0.1),
    dict(lr=0.02, momentum=0.5, weight_decay=0.01, nesterov=True),
]
ADAM_CASES = [
    dict(lr=1e-3),
    dict(lr=0.05, betas=(0.8, 0.99)),
    dict(lr=0.01, betas=(0.3, 0.9)),  # beta1 < 0.5: torch's other lerp form
    dict(lr=0.01, eps=1e-3, weight_decay=0.1),
]


@pytest.mark.parametrize("kw", SGD_CASES, ids=str)
def test_sgd_matches_the_formulas(kw):
    start, grads = _start(7), _grads(7, STEPS)
    _close(_run(lambda ps: optim.SGD(ps, **kw), start, grads), sgd_reference(start, grads, **kw))


@pytest.mark.parametrize("kw", ADAM_CASES, ids=str)
def test_adam_matches_the_formulas(kw):
    start, grads = _start(7), _grads(7, STEPS)
    _close(_run(lambda ps: optim.Adam(ps, **kw), start, grads), adam_reference(start, grads, **kw))


@pytest.mark.parametrize(
    "kw", [dict(lr=1e-3), dict(lr=0.05, weight_decay=0.1), dict(lr=0.01, betas=(0.5, 0.9))], ids=str
)
def test_adamw_matches_the_formulas(kw):
    start, grads = _start(7), _grads(7, STEPS)
    kw_ref = dict(kw, weight_decay=kw.get("weight_decay", 1e-2), decoupled=True)
    _close(_run(lambda ps: optim.AdamW(ps, **kw), start, grads), adam_reference(start, grads, **kw_ref))


def test_adamw_default_decay_is_torchs():
    assert optim.AdamW([Value(1.0)]).weight_decay == 1e-2
    assert optim.Adam([Value(1.0)]).weight_decay == 0.0


def test_plain_sgd_is_the_demos_loop_to_the_bit():
    # micrograd's own update, p.data -= lr * p.grad, gives the very same floats
    start, grads = _start(9), _grads(9, STEPS)
    by_hand = [Value(x) for x in start]
    for g in grads:
        for p, gi in zip(by_hand, g):
            p.grad = gi
            p.data -= 0.37 * p.grad
    assert _run(lambda ps: optim.SGD(ps, lr=0.37), start, grads) == [p.data for p in by_hand]


def test_momentum_switched_on_later_starts_its_buffer_then():
    start, grads = _start(3), _grads(3, 6)

    def switch(opt, k):
        if k == 1:
            opt.momentum, opt.dampening = 0.9, 0.5

    got = _run(lambda ps: optim.SGD(ps, lr=0.1), start, grads, switch)
    x = sgd_reference(start, grads[:2], lr=0.1)
    x = sgd_reference(x, grads[2:], lr=0.1, momentum=0.9, dampening=0.5)
    _close(got, x)


def test_lr_can_change_between_steps():
    start, grads = _start(4), _grads(4, 4)
    lrs = [0.1, 0.01, 0.5, 0.2]

    def set_lr(opt, k):
        if k + 1 < len(lrs):
            opt.lr = lrs[k + 1]

    got = _run(lambda ps: optim.Adam(ps, lr=lrs[0]), start, grads, set_lr)
    # the reference, one step at a time, carrying its moments: the formulas at each lr
    b1, b2, eps = 0.9, 0.999, 1e-8
    x, m, v = list(start), [0.0] * 4, [0.0] * 4
    for t, (g, lr) in enumerate(zip(grads, lrs), 1):
        for i, gi in enumerate(g):
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            x[i] = x[i] - lr * (m[i] / (1 - b1**t)) / (math.sqrt(v[i] / (1 - b2**t)) + eps)
    _close(got, x)


# -----------------------------------------------------------------------------------------
# the parameters' data: the node and the Value agree, and nobody's float changes under them


def test_step_updates_data_and_node_alike():
    params = [Value(1.0), Value(-2.0)]
    for p in params:
        p.grad = 0.5
    optim.SGD(params, lr=0.1).step()
    assert [p.data for p in params] == [0.95, -2.05]
    assert [(p * 1.0).data for p in params] == [0.95, -2.05]  # an op reads the node's data


def test_a_float_held_elsewhere_is_never_changed():
    p = Value(1.0)
    held = p.data  # the user holds the very float of the data slot
    p.grad = 1.0
    opt = optim.SGD([p], lr=0.25)
    opt.step()
    assert held == 1.0 and p.data == 0.75
    again = p.data
    opt.step()
    assert again == 0.75 and p.data == 0.5 and held == 1.0


@pytest.mark.parametrize(
    "make",
    [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps, lr=0.1)],
    ids=["sgd", "adam"],
)
def test_no_float_anywhere_changes_under_steps(make):
    # a float object is immutable: a step writes the parameters' nodes and nothing else, even
    # with parameters named twice (which once had a step rewrite floats others held)
    rng = random.Random(3)
    params = [Value(rng.uniform(-1, 1)) for _ in range(20)]
    floats = [rng.uniform(-1, 1) for _ in range(2000)]  # floats that just lie around
    copies = [struct.pack("d", x) for x in floats]
    opt = make(params + params[::-1] + params[:5])
    for _ in range(50):
        held = [p.data for p in params]  # each a float the user now holds
        kept = [struct.pack("d", x) for x in held]
        for p in params:
            p.grad = rng.uniform(-1, 1)
        opt.step()
        assert [struct.pack("d", x) for x in held] == kept
        assert all(p.data == (p * 1.0).data for p in params)  # a Value and its node agree
    assert [struct.pack("d", x) for x in floats] == copies


def test_data_set_by_hand_between_steps_is_used():
    p = Value(1.0)
    opt = optim.SGD([p], lr=0.5)
    p.grad = 1.0
    opt.step()
    p.data = 10.0
    opt.step()
    assert p.data == 9.5
    other = optim.SGD([p], lr=1.0)  # two sets over one Value: each sees the other's steps
    other.step()
    opt.step()
    assert p.data == 8.0


def test_a_parameter_reinitialized_is_followed():
    p = Value(1.0)
    opt = optim.SGD([p], lr=1.0)
    p.__init__(5.0)  # a new node for the same Value
    p.grad = 2.0
    opt.step()
    assert p.data == 3.0


def test_zero_grad_zeroes_every_grad():
    params = [Value(float(i)) for i in range(5)]
    for p in params:
        p.grad = 3.0
    optim.Adam(params).zero_grad()
    assert [p.grad for p in params] == [0.0] * 5


def test_zero_grad_of_parameters_scattered_reversed_and_repeated():
    params = []
    for i in range(6):
        params.append(Value(float(i)))
        Value(9.0) * 2.0  # other nodes in between
    params = params[::-1] + params[:2]  # out of order, and two of them twice
    for p in params:
        p.grad = 3.0
    untouched = Value(1.0)
    untouched.grad = 5.0
    optim.SGD(params, lr=0.1).zero_grad()
    assert [p.grad for p in params] == [0.0] * 8
    assert untouched.grad == 5.0


def test_a_value_subclass_is_a_parameter():
    class Param(Value):
        pass

    p = Param(2.0)
    p.grad = 1.0
    optim.SGD([p], lr=0.5).step()
    assert p.data == 1.5 and type(p) is Param


def test_an_optimizer_never_initialized_raises_instead_of_crashing():
    opt = optim.SGD.__new__(optim.SGD)
    with pytest.raises(ValueError, match="no parameters"):
        opt.step()
    with pytest.raises(ValueError, match="no parameters"):
        opt.zero_grad()


def test_an_optimizer_in_a_reference_cycle_is_collected():
    import gc
    import weakref

    params = [Value(1.0)]
    opt = optim.Adam(params)
    opt.me = opt
    gone = weakref.ref(opt)
    del opt
    gc.collect()
    assert gone() is None
    params[0].grad = 1.0  # the parameters live on, untouched
    assert params[0].data == 1.0


def test_steps_count():
    opt = optim.Adam([Value(1.0)])
    for _ in range(3):
        opt.step()
    assert opt.steps == 3


# -----------------------------------------------------------------------------------------
# bad parameters and settings


def test_not_a_value_is_a_type_error():
    with pytest.raises(TypeError, match="parameter 1 is a float, not a Value"):
        optim.SGD([Value(1.0), 2.0], lr=0.1)


def test_not_a_leaf_is_a_value_error():
    a = Value(1.0)
    with pytest.raises(ValueError, match=r"parameter 1 is the result of '\+', not a leaf"):
        optim.Adam([a, a + 1.0])
    with pytest.raises(ValueError, match="not a leaf"):
        optim.Adam([a.relu()])


def test_a_parameter_made_a_node_later_is_refused_at_the_step():
    a, b = Value(1.0), Value(2.0)
    opt = optim.SGD([a], lr=0.1)
    a.__init__(3.0, (b,), "custom")  # a is now a hand-built op node
    with pytest.raises(ValueError, match="not a leaf"):
        opt.step()


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=-0.1),
        lambda ps: optim.SGD(ps, lr=float("nan")),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=-1),
        lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1),
        lambda ps: optim.SGD(ps, lr=0.1, nesterov=True),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
        lambda ps: optim.Adam(ps, betas=(1.0, 0.9)),
        lambda ps: optim.Adam(ps, betas=(0.9, -0.1)),
        lambda ps: optim.Adam(ps, eps=-1.0),
        lambda ps: optim.AdamW(ps, weight_decay=-0.1),
    ],
)
def test_bad_settings_are_value_errors(make):
    with pytest.raises(ValueError):
        make([Value(1.0)])


def test_a_negative_lr_set_later_is_refused():
    opt = optim.SGD([Value(1.0)], lr=0.1)
    with pytest.raises(ValueError, match="invalid lr: "):
        opt.lr = -1.0
    assert opt.lr == 0.1


# -----------------------------------------------------------------------------------------
# settings: each checked by one rule, the same at construction and on assignment; a value
# refused leaves the optimizer as it was, and it steps on as if it had never seen it

NAN, INF = float("nan"), float("inf")
A_VALUE = "<a Value>"  # stands for Value(0.5), made in the test (no node made at import)
NOT_NUMBERS = ["0.5", None, A_VALUE, True]  # True: a flag where a number goes is a slip
NOT_FINITE = [NAN, INF, -INF]

GOOD = {  # an optimizer of each kind with every setting given, none at its default
    "SGD": dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False),
    "Adam": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01),
    "AdamW": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
}


def _reference(kind, start, grads, **kw):
    if kind == "SGD":
        return sgd_reference(start, grads, **kw)
    return adam_reference(start, grads, decoupled=kind == "AdamW", **kw)


def _cases(kind, setting, values, error):
    return [pytest.param(kind, setting, v, error, id=f"{kind}.{setting}={v!r}") for v in values]


BAD_SETTINGS = [
    *_cases("SGD", "lr", NOT_FINITE + [-0.1, -1e-300], ValueError),
    *_cases("SGD", "lr", NOT_NUMBERS, TypeError),
    *_cases("SGD", "momentum", NOT_FINITE + [-5.0], ValueError),
    *_cases("SGD", "momentum", NOT_NUMBERS, TypeError),
    *_cases("SGD", "dampening", NOT_FINITE + [-0.1, 1.5], ValueError),
    *_cases("SGD", "dampening", NOT_NUMBERS, TypeError),
    *_cases("SGD", "weight_decay", NOT_FINITE + [-1.0], ValueError),
    *_cases("SGD", "weight_decay", NOT_NUMBERS, TypeError),
    *_cases("SGD", "nesterov", [1, 0.0, "yes", None, A_VALUE], TypeError),
    *_cases("Adam", "lr", NOT_FINITE + [-1e-3], ValueError),
    *_cases("Adam", "lr", NOT_NUMBERS, TypeError),
    *_cases(
        "Adam",
        "betas",
        [
            (NAN, 0.9),
            (0.9, INF),
            (-INF, 0.9),
            (1.0, 0.9),
            (0.9, -0.1),
            (2.0, 5.0),
            (0.9,),
            (0.9, 0.99, 0.999),
        ],
        ValueError,
    ),
    *_cases("Adam", "betas", [0.5, None, A_VALUE, "ab", (0.9, "0.99"), (None, 0.9), (True, 0.9)], TypeError),
    *_cases("Adam", "eps", NOT_FINITE + [-1e-8], ValueError),
    *_cases("Adam", "eps", NOT_NUMBERS, TypeError),
    *_cases("Adam", "weight_decay", NOT_FINITE + [-0.01], ValueError),
    *_cases("AdamW", "weight_decay", NOT_FINITE + [-0.01], ValueError),
    *_cases("AdamW", "weight_decay", NOT_NUMBERS, TypeError),
    *_cases("AdamW", "betas", [(0.9, 1.0), (0.9, NAN)], ValueError),
]


def _made(bad):
    return Value(0.5) if bad == A_VALUE else bad


@pytest.mark.parametrize("kind, setting, bad, error", BAD_SETTINGS)
def test_a_bad_setting_is_refused_at_construction(kind, setting, bad, error):
    with pytest.raises(error, match=f"invalid {setting}: "):
        getattr(optim, kind)([Value(1.0)], **dict(GOOD[kind], **{setting: _made(bad)}))


@pytest.mark.parametrize("kind, setting, bad, error", BAD_SETTINGS)
def test_a_bad_setting_assigned_is_refused_and_changes_nothing(kind, setting, bad, error):
    start, grads = _start(3), _grads(3, 8)
    mine, twins = [Value(x) for x in start], [Value(x) for x in start]
    opt, twin = getattr(optim, kind)(mine, **GOOD[kind]), getattr(optim, kind)(twins, **GOOD[kind])

    def step(k):
        for params, o in ((mine, opt), (twins, twin)):
            for p, gi in zip(params, grads[k]):
                p.grad = gi
            o.step()

    step(0)
    step(1)  # the state (buffers, moments) under way
    before = dict(vars(opt))
    with pytest.raises(error, match=f"invalid {setting}: "):
        setattr(opt, setting, _made(bad))
    assert vars(opt) == before
    step(2)
    step(3)
    assert [p.data for p in mine] == [p.data for p in twins]
    _close([p.data for p in mine], _reference(kind, start, grads[:4], **GOOD[kind]))
    opt.lr = twin.lr = 0.003  # and a later assignment is taken
    assert opt.lr == 0.003
    for k in range(4, 8):
        step(k)
    assert [p.data for p in mine] == [p.data for p in twins]


def test_a_constructor_call_refused_leaves_the_optimizer_as_it_was():
    p, q = Value(1.0), Value(5.0)
    opt = optim.SGD([p], lr=0.5)
    with pytest.raises(ValueError, match="invalid lr: "):
        opt.__init__([q], lr=NAN)  # the settings are checked before the C set is remade
    p.grad = q.grad = 1.0
    opt.step()
    assert (p.data, q.data, opt.lr) == (0.5, 5.0, 0.5)


@pytest.mark.parametrize(
    "kind, setting, bad",
    [
        ("SGD", "momentum", NAN),
        ("SGD", "momentum", -5.0),
        ("SGD", "weight_decay", NAN),
        ("Adam", "betas", (2.0, 5.0)),
    ],
)
def test_a_bad_setting_assigned_never_makes_the_parameters_nan(kind, setting, bad):
    start, grads = _start(3), _grads(3, STEPS)

    def assign(opt, k):
        if k == 0:
            with pytest.raises(ValueError, match=f"invalid {setting}: "):
                setattr(opt, setting, bad)

    got = _run(lambda ps: getattr(optim, kind)(ps, **GOOD[kind]), start, grads, assign)
    assert all(math.isfinite(x) for x in got)
    _close(got, _reference(kind, start, grads, **GOOD[kind]))


def test_betas_not_a_pair_leaves_lr_assignable():
    opt = optim.Adam([Value(1.0)], lr=0.01)
    with pytest.raises(TypeError, match="invalid betas: "):
        opt.betas = 0.5
    assert opt.betas == (0.9, 0.999)
    opt.lr = 0.02
    assert opt.lr == 0.02


@pytest.mark.parametrize(
    "kw", [dict(lr=INF), dict(lr=0.1, momentum=INF), dict(lr=0.1, dampening=NAN)], ids=str
)
def test_the_constructor_refuses_what_is_not_finite(kw):
    setting = list(kw)[-1]
    with pytest.raises(ValueError, match=f"invalid {setting}: "):
        optim.SGD([Value(1.0)], **kw)


@pytest.mark.parametrize("setting, bad", [("momentum", 0.0), ("dampening", 0.1)])
def test_an_assignment_breaking_nesterovs_rule_is_refused(setting, bad):
    start, grads = _start(3), _grads(3, 6)
    kw = dict(lr=0.1, momentum=0.9, nesterov=True)

    def assign(opt, k):
        if k == 1:
            before = dict(vars(opt))
            with pytest.raises(ValueError, match=f"invalid {setting}: .*[Nn]esterov"):
                setattr(opt, setting, bad)
            assert vars(opt) == before

    _close(_run(lambda ps: optim.SGD(ps, **kw), start, grads, assign), sgd_reference(start, grads, **kw))


def test_nesterov_switched_on_needs_momentum_first():
    start, grads = _start(3), _grads(3, 6)

    def switch(opt, k):
        if k == 1:
            with pytest.raises(ValueError, match="invalid nesterov: .*momentum"):
                opt.nesterov = True
            assert opt.nesterov is False and opt.momentum == 0.0
            opt.momentum = 0.9
            opt.nesterov = True

    got = _run(lambda ps: optim.SGD(ps, lr=0.1), start, grads, switch)
    x = sgd_reference(start, grads[:2], lr=0.1)
    _close(got, sgd_reference(x, grads[2:], lr=0.1, momentum=0.9, nesterov=True))


@pytest.mark.parametrize(
    "kw", [dict(nesterov=True), dict(momentum=0.9, dampening=0.1, nesterov=True)], ids=str
)
def test_nesterovs_rule_at_construction_names_nesterov(kw):
    with pytest.raises(ValueError, match="invalid nesterov: "):
        optim.SGD([Value(1.0)], lr=0.1, **kw)


def test_numbers_of_any_real_type_are_taken_as_floats():
    from fractions import Fraction

    import numpy as np

    opt = optim.SGD(
        [Value(1.0)],
        lr=np.float32(0.5),
        momentum=np.int64(1),
        dampening=Fraction(1, 4),
        weight_decay=0,
        nesterov=np.bool_(False),
    )
    assert (opt.lr, opt.momentum, opt.dampening, opt.weight_decay, opt.nesterov) == (
        0.5,
        1.0,
        0.25,
        0.0,
        False,
    )
    assert [type(x) for x in (opt.lr, opt.momentum, opt.dampening, opt.weight_decay)] == [float] * 4
    assert type(opt.nesterov) is bool
    opt.lr = np.float64(0.125)
    assert type(opt.lr) is float and opt.lr == 0.125
    adam = optim.Adam([Value(1.0)], betas=[np.float32(0.5), 0.75], eps=0)
    assert adam.betas == (0.5, 0.75) and type(adam.betas) is tuple and adam.eps == 0.0


# -----------------------------------------------------------------------------------------
# tied weights: each distinct parameter taken once, as torch's model.parameters() yields a
# tied weight once, so a list naming a Value twice updates it once a step


def test_a_parameter_listed_twice_is_updated_once():
    p = Value(1.0)
    p.grad = 1.0
    opt = optim.SGD([p, p], lr=0.1)
    opt.step()
    assert p.data == 0.9


def test_the_parameters_kept_are_the_distinct_ones_in_first_occurrence_order():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    opt = optim.Adam([b, a, b, c, a, c])
    assert [id(p) for p in opt.params] == [id(b), id(a), id(c)]


@pytest.mark.parametrize(
    "kind, kw",
    [("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)), ("Adam", dict(lr=0.05, betas=(0.8, 0.99)))],
    ids=["sgd", "adam"],
)
def test_a_plain_list_naming_parameters_twice(kind, kw):
    start, grads = _start(3), _grads(3, STEPS)
    params = [Value(x) for x in start]
    opt = getattr(optim, kind)([params[0], params[1], params[0], params[2], params[1]], **kw)
    for g in grads:
        for p, gi in zip(params, g):
            p.grad = gi
        opt.step()
    _close([p.data for p in params], _reference(kind, start, grads, **kw))


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
def test_a_model_with_a_neuron_reused_updates_it_once(kind):
    random.seed(3)
    model = MLP(2, [3, 1], activation="tanh")
    layer = model.layers[0]
    layer.neurons[1] = layer.neurons[0]  # the first neuron, used twice
    params = model.parameters()
    tied = layer.neurons[0].parameters()
    distinct = tied + layer.neurons[2].parameters() + model.layers[1].parameters()
    assert len(params) == len(distinct) + len(tied)
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
    opt = optim.SGD(params, lr=lr) if kind == "SGD" else optim.Adam(params, lr=lr)
    x = [Value(0.5), Value(-0.3)]
    # the formulas, one step at a time over the distinct parameters, carrying Adam's moments
    want, m, v = [p.data for p in distinct], [0.0] * len(distinct), [0.0] * len(distinct)
    for t in range(1, 6):
        out = model(x)
        opt.zero_grad()
        out.backward()
        grads = [p.grad for p in distinct]
        assert all(g != 0.0 for g in grads[: len(tied)])  # the tied weights do move
        for i, g in enumerate(grads):
            if kind == "SGD":
                want[i] = want[i] - lr * g
            else:
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                want[i] = want[i] - lr * (m[i] / (1 - b1**t)) / (math.sqrt(v[i] / (1 - b2**t)) + eps)
        opt.step()
        _close([p.data for p in distinct], want)


# -----------------------------------------------------------------------------------------
# schedules


def test_step_lr():
    opt = optim.SGD([Value(1.0)], lr=1.0)
    sched = optim.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(7):
        opt.step()
        sched.step()
        lrs.append(opt.lr)
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_cosine_annealing_lr():
    opt = optim.Adam([Value(1.0)], lr=0.1)
    sched = optim.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    for epoch in range(1, 11):
        sched.step()
        expected = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * epoch / 10)) / 2
        assert math.isclose(opt.lr, expected, rel_tol=1e-15)
    assert math.isclose(opt.lr, 0.001, rel_tol=1e-12)
    assert sched.get_last_lr() == [opt.lr]


GOOD_SCHEDULES = {"StepLR": dict(step_size=2, gamma=0.5), "CosineAnnealingLR": dict(T_max=6, eta_min=0.01)}


def _schedule_lr(kind, epoch, base_lr=0.3, step_size=2, gamma=0.5, T_max=6, eta_min=0.01):
    """The schedules' closed forms, from torch's documentation."""
    if kind == "StepLR":
        return base_lr * gamma ** (epoch // step_size)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2


NOT_COUNTS = [True, "3", None, A_VALUE]
BAD_SCHEDULE_SETTINGS = [
    *_cases("StepLR", "step_size", [0, -1, 2.5, NAN, INF], ValueError),
    *_cases("StepLR", "step_size", NOT_COUNTS, TypeError),
    *_cases("StepLR", "gamma", NOT_FINITE + [0.0, -0.5], ValueError),
    *_cases("StepLR", "gamma", NOT_NUMBERS, TypeError),
    *_cases("CosineAnnealingLR", "T_max", [0, -1, 2.5, NAN, -INF], ValueError),
    *_cases("CosineAnnealingLR", "T_max", NOT_COUNTS, TypeError),
    *_cases("CosineAnnealingLR", "eta_min", NOT_FINITE + [-0.1], ValueError),
    *_cases("CosineAnnealingLR", "eta_min", NOT_NUMBERS, TypeError),
]


@pytest.mark.parametrize("kind, setting, bad, error", BAD_SCHEDULE_SETTINGS)
def test_a_bad_schedule_setting_is_refused_at_construction(kind, setting, bad, error):
    opt = optim.SGD([Value(1.0)], lr=0.3)
    with pytest.raises(error, match=f"invalid {setting}: "):
        getattr(optim, kind)(opt, **dict(GOOD_SCHEDULES[kind], **{setting: _made(bad)}))
    assert opt.lr == 0.3


@pytest.mark.parametrize("kind, setting, bad, error", BAD_SCHEDULE_SETTINGS)
def test_a_bad_schedule_setting_assigned_is_refused_and_changes_nothing(kind, setting, bad, error):
    opt = optim.SGD([Value(1.0)], lr=0.3)
    sched = getattr(optim, kind)(opt, **GOOD_SCHEDULES[kind])
    sched.step()
    before, opt_before = dict(vars(sched)), dict(vars(opt))
    with pytest.raises(error, match=f"invalid {setting}: "):
        setattr(sched, setting, _made(bad))
    assert vars(sched) == before and vars(opt) == opt_before
    for epoch in range(2, 6):
        sched.step()
        assert math.isclose(opt.lr, _schedule_lr(kind, epoch), rel_tol=1e-15)
    later = dict(step_size=3, gamma=0.25, T_max=10, eta_min=0.0)  # a later assignment is taken
    setattr(sched, setting, later[setting])
    sched.step()
    assert math.isclose(opt.lr, _schedule_lr(kind, 6, **{setting: later[setting]}), rel_tol=1e-15)


def test_schedule_counts_of_other_number_types():
    import numpy as np

    opt = optim.SGD([Value(1.0)], lr=0.3)
    assert optim.StepLR(opt, step_size=np.int64(3), gamma=np.float32(0.5)).step_size == 3
    sched = optim.CosineAnnealingLR(opt, T_max=4.0)
    assert sched.T_max == 4 and type(sched.T_max) is int


def test_a_schedule_step_whose_lr_is_refused_changes_nothing():
    opt = optim.SGD([Value(1.0)], lr=1e10)
    sched = optim.StepLR(opt, step_size=1, gamma=1e300)  # 1e10 * 1e300 is inf
    with pytest.raises(ValueError, match="invalid lr: inf"):
        sched.step()
    assert sched.last_epoch == 0 and opt.lr == 1e10


def test_a_schedule_takes_an_optimizer():
    with pytest.raises(TypeError, match="invalid optimizer: "):
        optim.StepLR([Value(1.0)], step_size=2)


# -----------------------------------------------------------------------------------------
# in training: the demo's model learns with each


def _moons_loss(model):
    from micrograd_c.datasets import make_moons

    X, y = make_moons(n_samples=40, noise=0.1)
    y = y * 2 - 1

    def loss():
        scores = [model([Value(float(a)), Value(float(b))]) for a, b in X]
        losses = [(1 + -float(yi) * s).relu() for yi, s in zip(y, scores)]
        return sum(losses) * (1.0 / len(losses))

    return loss


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: optim.Adam(ps, lr=0.02),
        lambda ps: optim.AdamW(ps, lr=0.02),
    ],
    ids=["sgd", "adam", "adamw"],
)
def test_training_lowers_the_loss(make):
    import numpy as np

    np.random.seed(0)
    random.seed(0)
    model = MLP(2, [8, 8, 1])
    loss = _moons_loss(model)
    opt = make(model.parameters())
    first = loss().data
    for _ in range(15):
        total = loss()
        opt.zero_grad()
        total.backward()
        opt.step()
    assert loss().data < 0.8 * first


# -----------------------------------------------------------------------------------------
# against torch.optim itself


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _torch_run(torch, make, start, grads, each_step=None):
    params = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in start]
    opt = make(torch.optim, params)
    for k, g in enumerate(grads):
        for p, gi in zip(params, g):
            p.grad = torch.tensor(gi, dtype=torch.float64)
        opt.step()
        if each_step:
            each_step(opt, k)
    return [p.item() for p in params]


@pytest.mark.parametrize("kw", SGD_CASES, ids=str)
def test_sgd_matches_torch(torch, kw):
    start, grads = _start(7), _grads(7, STEPS)
    want = _torch_run(torch, lambda o, ps: o.SGD(ps, foreach=False, **kw), start, grads)
    _close(_run(lambda ps: optim.SGD(ps, **kw), start, grads), want)


@pytest.mark.parametrize("kw", ADAM_CASES, ids=str)
def test_adam_matches_torch(torch, kw):
    start, grads = _start(7), _grads(7, STEPS)
    want = _torch_run(torch, lambda o, ps: o.Adam(ps, foreach=False, **kw), start, grads)
    _close(_run(lambda ps: optim.Adam(ps, **kw), start, grads), want)


@pytest.mark.parametrize("kw", [dict(lr=1e-3), dict(lr=0.05, weight_decay=0.1)], ids=str)
def test_adamw_matches_torch(torch, kw):
    start, grads = _start(7), _grads(7, STEPS)
    want = _torch_run(torch, lambda o, ps: o.AdamW(ps, foreach=False, **kw), start, grads)
    _close(_run(lambda ps: optim.AdamW(ps, **kw), start, grads), want)


@pytest.mark.parametrize("schedule", ["step", "cosine"])
def test_schedules_match_torch(torch, schedule):
    start, grads = _start(3), _grads(3, 12)

    def ours(ps):
        opt = optim.SGD(ps, lr=0.3, momentum=0.5)
        opt.schedule = (
            optim.StepLR(opt, 4, gamma=0.3)
            if schedule == "step"
            else optim.CosineAnnealingLR(opt, T_max=12, eta_min=0.01)
        )
        return opt

    def theirs(o, ps):
        opt = o.SGD(ps, lr=0.3, momentum=0.5, foreach=False)
        opt.schedule = (
            o.lr_scheduler.StepLR(opt, 4, gamma=0.3)
            if schedule == "step"
            else o.lr_scheduler.CosineAnnealingLR(opt, T_max=12, eta_min=0.01)
        )
        return opt

    def tick(opt, k):
        opt.schedule.step()

    _close(_run(ours, start, grads, tick), _torch_run(torch, theirs, start, grads, tick))
