"""demo.ipynb's training loop: the moons data, MLP(2, [16, 16, 1]), SVM loss with L2, full
batch SGD. Step 0 must print the notebook's numbers on both engines; the first 10 steps of
micrograd_c must follow micrograd's trajectory."""

import gc
import random

import numpy as np
import pytest
from _helpers import abs_grad_scale, grad_close, make_moons, train_steps

STEPS = 10
NOTEBOOK_STEP0_LOSS = 0.8958441028683222  # demo.ipynb's recorded output
NOTEBOOK_STEP0_ACCURACY = 0.5


def _run(eng):
    """The notebook from its seeding cell on: returns the run's history and step-0 grads."""
    np.random.seed(1337)
    random.seed(1337)
    X, y = make_moons(n_samples=100, noise=0.1)
    y = y * 2 - 1
    model = eng.nn.MLP(2, [16, 16, 1])
    initial = [p.data for p in model.parameters()]
    step0 = {}

    def inspect(k, total_loss):
        if k == 0:
            step0["params"] = list(model.parameters())
            step0["grads"] = [p.grad for p in model.parameters()]
            if eng.name == "micrograd":
                scale = abs_grad_scale(total_loss)
                step0["scales"] = [scale.get(p, 0.0) for p in model.parameters()]

    gc.disable()  # the numbers do not depend on it, and micrograd's cycles make it slow
    try:
        history = train_steps(eng, model, X, y, STEPS, inspect=inspect)
    finally:
        gc.enable()
    gc.collect()  # micrograd's graphs are reference cycles: free them before other tests run
    return dict(
        X=X, y=y, initial=initial, history=history, step0=step0, final=[p.data for p in model.parameters()]
    )


@pytest.fixture(scope="module")
def ref_run(ref):
    return _run(ref)


@pytest.fixture(scope="module")
def impl_run(impl):
    return _run(impl)


def test_moons_data(ref_run):
    X, y = ref_run["X"], ref_run["y"]
    assert X.shape == (100, 2) and X.dtype == np.float64
    assert sorted(set(y.tolist())) == [-1, 1] and (y == 1).sum() == 50


def test_reference_reproduces_the_notebook(ref_run):
    # checks the data helper: micrograd itself prints the notebook's first line
    loss, acc = ref_run["history"][0]
    assert loss == NOTEBOOK_STEP0_LOSS and acc == NOTEBOOK_STEP0_ACCURACY


def test_step0_matches_the_notebook(impl_run):
    loss, acc = impl_run["history"][0]
    assert loss == NOTEBOOK_STEP0_LOSS and acc == NOTEBOOK_STEP0_ACCURACY


def test_same_initial_weights(ref_run, impl_run):
    assert len(impl_run["initial"]) == 337
    assert impl_run["initial"] == ref_run["initial"]


def test_step0_grads_match(ref_run, impl_run):
    got, want = impl_run["step0"]["grads"], ref_run["step0"]["grads"]
    scales = ref_run["step0"]["scales"]
    assert len(got) == len(want) == 337
    bad = [i for i, (g, w, s) in enumerate(zip(got, want, scales)) if not grad_close(g, w, s)]
    assert not bad, [(i, got[i], want[i]) for i in bad[:5]]


def test_trajectory_matches_micrograd(ref_run, impl_run):
    got, want = impl_run["history"], ref_run["history"]
    assert len(got) == len(want) == STEPS
    for k, ((loss, acc), (ref_loss, ref_acc)) in enumerate(zip(got, want)):
        assert loss == pytest.approx(ref_loss, rel=1e-9), f"step {k}"
        assert acc == ref_acc, f"step {k}"
    assert impl_run["final"] == pytest.approx(ref_run["final"], rel=1e-9, abs=1e-12)


@pytest.mark.c_only
def test_adam_reaches_every_point_in_fewer_steps_than_sgd(impl):
    # python -m micrograd_c.demo --optimizer adam: the same model, loss and data as the notebook
    from micrograd_c import demo

    sgd = demo.train(impl.Value, impl.nn.MLP, 100)
    adam = demo.train(impl.Value, impl.nn.MLP, 100, optimizer="adam")
    first_sgd, first_adam = demo.first_perfect(sgd), demo.first_perfect(adam)
    assert first_sgd is not None and first_adam is not None
    assert first_adam < first_sgd
    assert all(acc == 1.0 for _, acc, _ in adam[first_adam:])  # and stays there
    assert adam[-1][0] < 0.02
