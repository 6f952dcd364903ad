"""What is left of the regression tests: a fork while other threads build graphs (it moves to
test_lifetime next)."""

import os
import signal
import sys
import threading
import time
import traceback
import warnings

import pytest


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
