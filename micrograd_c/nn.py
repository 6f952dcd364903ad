"""micrograd's nn: Module, Neuron, Layer and MLP, on micrograd_c's Value.

Same API, same initialisation (stdlib random.uniform(-1, 1) per weight, in order, bias 0) and
the same graph: a neuron's output is the left fold ((b + w0*x0) + w1*x1) + ..., so the forward
values are micrograd's to the bit. A call runs as one C call where it can (micrograd_c._plan);
the fold below is what it stands for, and what runs where it cannot.
"""
from __future__ import annotations

import random
from typing import Any, Iterable

from micrograd_c import _plan
from micrograd_c._pypath import Real
from micrograd_c.engine import Value

__all__ = ["Module", "Neuron", "Layer", "MLP"]

_READ = _plan.READ              # the attributes a plan reads: setting another costs it nothing


class Module:

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0

    def parameters(self) -> list[Value]:
        return []

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in _READ:
            _plan.changed(self)

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        if name in _READ:
            _plan.changed(self)

    def __getstate__(self) -> dict[str, Any]:
        # copy, deepcopy and pickle leave out the C call plan; the copy makes its own
        return _plan.without_plans(self.__dict__)


class Neuron(Module):

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = _plan.Watched(Value(random.uniform(-1, 1)) for _ in range(nin))
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: Iterable[Value | Real]) -> Value:
        out: Value | None = _plan.forward(self, x)
        if out is not None:
            return out
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):

    def __init__(self, nin: int, nout: int, **kwargs: bool) -> None:
        self.neurons = _plan.Watched(Neuron(nin, **kwargs) for _ in range(nout))

    def __call__(self, x: Iterable[Value | Real]) -> Any:  # a Value, or a list of Values
        out = _plan.forward(self, x)
        if out is not None:
            return out
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):

    def __init__(self, nin: int, nouts: list[int]) -> None:
        sizes = [nin] + nouts
        last = len(nouts) - 1
        self.layers = _plan.Watched(Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(nouts)))

    def __call__(self, x: Iterable[Value | Real]) -> Any:  # a Value, or a list of Values
        out = _plan.forward(self, x)
        if out is not None:
            return out
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


_plan.calls_of(Module, Neuron, Layer, MLP)
