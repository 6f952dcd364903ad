"""User code as micrograd's README and demo notebook write it, for mypy: it checks this file
against the installed package's annotations (py.typed, micrograd_c/_core.pyi).

    python -m mypy --strict --warn-unused-ignores tests/typing/usage.py

assert_type pins the types users see. The lines under TYPE_CHECKING must be type errors: each
carries the ignore for its error, so that if the types went loose (Any), mypy would report the
ignore as unused and fail. pytest does not collect this file; `python tests/typing/usage.py`
runs it (NumPy needed), the error lines aside.
"""

import random
import sys
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from micrograd_c import Value as Value_
from micrograd_c import gradcheck, optim
from micrograd_c.engine import Value, arena_bytes, collect, live_nodes
from micrograd_c.nn import MLP, Layer, Module, Neuron

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type

assert_type(Value_(1.0), Value)

# -----------------------------------------------------------------------------
# the README

a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
assert f"{g.data:.4f}" == "24.7041"  # the outcome of this forward pass
g.backward()
assert f"{a.grad:.4f}" == "138.8338"  # dg/da
assert f"{b.grad:.4f}" == "645.5773"  # dg/db

assert_type(c, Value)
assert_type(d, Value)
assert_type(g, Value)
assert_type(a - 1, Value)
assert_type(1 - a, Value)
assert_type(1 / a, Value)
assert_type(b**0.5, Value)
assert_type(a.tanh(), Value)
assert_type(a.exp(), Value)
assert_type(g.data, float)
assert_type(a.grad, float)
assert_type(g.backward(), None)
assert_type(c._prev, set[Value])
assert_type(c._op, str)
assert_type(a.label, str)

# the lecture: a graph by hand, with labels, and one node's local backward
x1 = Value(2.0, label="x1")
w1 = Value(-3.0, label="w1")
n = x1 * w1
n.label = "n"
o = n.tanh()
o.grad = 1
o._backward()
assert_type(o._backward, Callable[[], None])
root = Value(n.data + 1, (n,), "+1")
assert_type(root, Value)

# NumPy numbers as operands and data
s = Value(np.float64(0.5)) * np.int64(3)
assert_type(s, Value)
assert_type(np.float64(2.0) * s, Value)
assert_type(s + np.float32(1.0), Value)
s.data = np.int64(3)
assert_type(s.data, float)

# -----------------------------------------------------------------------------
# the demo notebook: an MLP on two moons, the SVM max-margin loss, SGD

np.random.seed(1337)
random.seed(1337)
X = np.random.randn(100, 2)
y = np.where(X[:, 0] * X[:, 1] > 0, 1, -1)

model = MLP(2, [16, 16, 1])
print(model)
print("number of parameters", len(model.parameters()))
assert_type(model.parameters(), list[Value])


def loss(batch_size: Optional[int] = None) -> tuple[Value, float]:
    if batch_size is None:
        Xb, yb = X, y
    else:
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
    inputs = [list(map(Value, xrow)) for xrow in Xb]

    # forward the model to get scores
    scores = list(map(model, inputs))

    # svm "max-margin" loss
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss

    # also get accuracy
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


for k in range(3):
    # forward
    total_loss, acc = loss()

    # backward
    model.zero_grad()
    total_loss.backward()

    # update (sgd)
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad

    print(f"step {k} loss {total_loss.data}, accuracy {acc * 100}%")

# one neuron, one layer, and the module API
neuron = Neuron(3, nonlin=False)
assert_type(neuron([1.0, 2.0, Value(3.0)]), Value)
layer = Layer(3, 2, nonlin=False)
out = layer([1.0, 2.0, 3.0])  # a list of two Values (typed Any, as MLP's call)
assert isinstance(out, list)
assert_type(layer.parameters(), list[Value])
modules: list[Module] = [neuron, layer, model]
for m in modules:
    m.zero_grad()
assert_type(live_nodes(), int)
assert_type(arena_bytes(spares=True), int)
collect()

# -----------------------------------------------------------------------------
# beyond micrograd: more ops, activation=, optimizers, gradcheck, state_dict

assert_type(Value(0.5).sigmoid(), Value)
assert_type(Value(2.0).log(), Value)
tanh_model = MLP(2, [4, 1], activation="tanh")
opt = optim.Adam(tanh_model.parameters(), lr=0.01)
schedule = optim.CosineAnnealingLR(opt, T_max=10)
for _ in range(2):
    out = tanh_model([Value(0.1), Value(0.2)])
    opt.zero_grad()
    out.backward()
    opt.step()
    schedule.step()
assert_type(opt.lr, float)
assert_type(optim.SGD(tanh_model.parameters(), lr=0.1, momentum=0.9).steps, int)
assert_type(gradcheck(lambda x: x.sigmoid() * x, [Value(0.3)]), bool)
state = tanh_model.state_dict()
assert_type(state, dict[str, float])
tanh_model.load_state_dict(state)

# -----------------------------------------------------------------------------
# type errors

if TYPE_CHECKING:
    Value(1.0) + "a"  # type: ignore[operator]
    "a" - Value(1.0)  # type: ignore[operator]
    Value(1.0) * None  # type: ignore[operator]
    Value(1.0) ** Value(2.0)  # type: ignore[operator]
    2 ** Value(1.0)  # type: ignore[operator]
    Value(1.0).relu(3)  # type: ignore[call-arg]
    Value("1.0")  # type: ignore[arg-type]
    Value(1.0).data = "1.0"  # type: ignore[assignment]
    Value(1.0).grad.backward()  # type: ignore[attr-defined]
    Value(1.0).softmax()  # type: ignore[attr-defined]
    optim.SGD(model.parameters())  # type: ignore[call-arg]
    model.load_state_dict([1.0, 2.0])  # type: ignore[arg-type]
    Value(1.0)._prev = set()  # type: ignore[misc]
    label: int = Value(1.0).label  # type: ignore[assignment]
    data: str = Value(1.0).data  # type: ignore[assignment]
    MLP(2, 16)  # type: ignore[arg-type]
    Neuron(2)("ab")  # type: ignore[arg-type]
    model.parameters()[0].tanh().backward(1)  # type: ignore[call-arg]
    live_nodes() + "a"  # type: ignore[operator]
