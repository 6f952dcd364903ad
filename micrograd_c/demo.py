"""demo.ipynb's moons classifier, trained with micrograd_c, then timed against micrograd.

    python -m micrograd_c.demo [--steps N] [--optimizer sgd|adam] [--no-compare] [--quiet]

The training code below is the notebook's, written once as functions of an engine's
Value and MLP: the same lines train micrograd_c and micrograd, so the two timings
measure the same work and their losses can be compared step by step.
Needs NumPy (and micrograd for the comparison): pip install "micrograd_c[demo]".
"""

import argparse
import gc
import importlib
import os
import random
import statistics
import sys
import time

from .datasets import make_moons

ENGINES = ("micrograd_c", "micrograd")
AGREEMENT = 1e-9  # relative: micrograd's grads vary in the last bits from run to run


def load_engine(name):
    """(Value, MLP) from the engine package `name`, imported as a user would."""
    Value = importlib.import_module(name + ".engine").Value
    MLP = importlib.import_module(name + ".nn").MLP
    return Value, MLP


# -----------------------------------------------------------------------------
# the notebook, as users write it


def setup(Value, MLP, seed=1337):
    """Seed both generators, make the data and the model: returns (model, loss).

    loss() builds the whole graph for the 100 samples and returns
    (total_loss, accuracy): the SVM max-margin loss plus L2 regularization.
    """
    import numpy as np

    np.random.seed(seed)
    random.seed(seed)
    X, y = make_moons(n_samples=100, noise=0.1)
    y = y * 2 - 1  # labels -1 and 1
    model = MLP(2, [16, 16, 1])  # 2 inputs, two hidden layers of 16, one output

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    return model, loss


def train_step(model, loss, k, total=100):
    """Step k of `total`: forward, zero_grad, backward, SGD update with a decaying rate."""
    total_loss, acc = loss()
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / total
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss, acc


# -----------------------------------------------------------------------------
# beyond the notebook: the same model and loss with micrograd_c.optim's Adam

ADAM_LR = 0.06


def adam_steps(model, loss):
    """A step function like train_step's, with Adam(lr=ADAM_LR): forward, zero_grad,
    backward, opt.step()."""
    from micrograd_c import optim

    opt = optim.Adam(model.parameters(), lr=ADAM_LR)

    def step(model, loss, k, total):
        total_loss, acc = loss()
        opt.zero_grad()
        total_loss.backward()
        opt.step()
        return total_loss, acc

    return step


def train(Value, MLP, steps, total=None, gc_enabled=True, report=None, optimizer="sgd"):
    """Train a fresh model for the first `steps` steps of a `total`-step run (the learning
    rate decays over `total`; default: steps). Returns [(loss, accuracy, seconds)] per step.

    optimizer 'sgd' is the notebook's loop, 'adam' micrograd_c.optim.Adam. The garbage of
    earlier runs is collected first; with gc_enabled=False the cyclic collector is then off
    during the steps. report(k, row) is called after each step.
    """
    model, loss = setup(Value, MLP)
    step = adam_steps(model, loss) if optimizer == "adam" else train_step
    total = total or steps
    rows = []
    gc.collect()
    if not gc_enabled:
        gc.disable()
    try:
        for k in range(steps):
            t0 = time.perf_counter()
            total_loss, acc = step(model, loss, k, total)
            rows.append((total_loss.data, acc, time.perf_counter() - t0))
            if report:
                report(k, rows[-1])
    finally:
        gc.enable()
    return rows


# -----------------------------------------------------------------------------
# the command line


def print_step(k, row):
    total_loss, acc, seconds = row
    print(f"step {k} loss {total_loss}, accuracy {acc * 100}%   [{seconds * 1e3:.2f} ms]", flush=True)


def median_ms(rows):
    return statistics.median(seconds for _, _, seconds in rows) * 1e3


def print_time(label, rows, versus=None):
    """One row of the timing table; versus: micrograd_c's rows, to print the speedup."""
    line = f"  {label:<34}{median_ms(rows):9.2f} ms  ({len(rows)} step{'s' * (len(rows) > 1)})"
    if versus:
        line += f"   micrograd_c is {median_ms(rows) / median_ms(versus):.1f}x faster"
    print(line)


def first_perfect(rows):
    """The first step at 100% training accuracy, or None."""
    return next((k for k, (_, acc, _) in enumerate(rows) if acc == 1.0), None)


def worst_disagreement(rows, reference):
    """Largest relative difference between the losses of two runs over their common steps."""
    return max(abs(a - b) / max(abs(b), 1e-300) for (a, _, _), (b, _, _) in zip(rows, reference))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m micrograd_c.demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=int, default=100, help="training steps (default 100, as the notebook)"
    )
    parser.add_argument("--engine", choices=ENGINES, default="micrograd_c", help="engine to train with")
    parser.add_argument(
        "--optimizer",
        choices=("sgd", "adam"),
        default="sgd",
        help="sgd: the notebook's loop (default); adam: micrograd_c.optim.Adam",
    )
    parser.add_argument("--no-compare", action="store_true", help="do not time micrograd")
    parser.add_argument(
        "--compare-steps",
        type=int,
        default=3,
        metavar="N",
        help="micrograd steps to time with the collector on, then off (default 3)",
    )
    parser.add_argument("--quiet", action="store_true", help="print the last step and the timings only")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.compare_steps < 1:
        parser.error("--steps and --compare-steps must be at least 1")
    if args.optimizer == "adam" and args.engine == "micrograd":
        parser.error("--optimizer adam is micrograd_c's: micrograd has no optimizers")

    # NumPy's BLAS threads would spin beside the training on a small machine; it needs none
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        import numpy  # noqa: F401 (make_moons needs it)
    except ImportError:
        parser.exit(1, 'the demo needs NumPy: pip install "micrograd_c[demo]"\n')

    Value, MLP = load_engine(args.engine)
    rows = train(Value, MLP, args.steps, report=None if args.quiet else print_step, optimizer=args.optimizer)
    if args.quiet:
        print_step(args.steps - 1, rows[-1])
    perfect = first_perfect(rows)
    print(
        f"\n{args.optimizer}: "
        + (
            f"100% training accuracy first at step {perfect}"
            if perfect is not None
            else "never at 100% training accuracy"
        )
    )
    print("\ntime per training step (median)")
    print_time(args.engine, rows)

    if args.no_compare or args.engine == "micrograd":
        return 0
    if args.optimizer != "sgd":
        print("(micrograd has no Adam: its comparison runs with --optimizer sgd)")
        return 0
    try:
        reference = load_engine("micrograd")
    except ImportError:
        print("micrograd is not installed: no comparison (pip install micrograd==0.1.0)")
        return 0

    n = min(args.compare_steps, args.steps)
    status = 0
    for label, gc_enabled in (("gc on (as users run it)", True), ("gc.disable()", False)):
        theirs = train(*reference, n, args.steps, gc_enabled=gc_enabled)
        print_time(f"micrograd, {label}", theirs, versus=rows)
        diff = worst_disagreement(rows, theirs)
        if diff > AGREEMENT:
            print(f"  the losses differ from micrograd's by {diff:.3g} (relative): more than {AGREEMENT:g}")
            status = 1
    if status == 0:
        print(
            f"\nthe losses of the first {n} step{'s' * (n > 1)} match micrograd's (to {AGREEMENT:g} relative)"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
