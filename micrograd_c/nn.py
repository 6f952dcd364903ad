"""micrograd's nn: Module, Neuron, Layer and MLP, on micrograd_c's Value.

Same API, same initialisation (stdlib random.uniform(-1, 1) per weight, in order, bias 0) and
the same graph: a neuron's output is the left fold ((b + w0*x0) + w1*x1) + ..., so the forward
values are micrograd's to the bit. A call runs as one C call where it can (micrograd_c._plan);
the fold below is what it stands for, and what runs where it cannot.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from micrograd_c import _plan, _pypath
from micrograd_c._glue import OPS
from micrograd_c._pypath import Real
from micrograd_c.engine import Value

__all__ = ["Module", "Neuron", "Layer", "MLP"]

_READ = _plan.READ  # the attributes a plan reads: setting another costs it nothing
# activation= (an addition to micrograd's API): the Value method a nonlinear neuron ends with,
# and the name its repr gives, for each op the table (csrc/ops.h) gives an ACT; None for none
_ACTIVATIONS: dict[str | None, str] = {row.method: row.activation for row in OPS if row.activation}
_ACTIVATIONS[None] = "Linear"


class Module:
    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0

    def parameters(self) -> list[Value]:
        return []

    def state_dict(self) -> dict[str, float]:
        """The parameters' data as plain floats, in parameters() order, each under its name
        ("layers.0.neurons.3.w.1": layer 0's neuron 3's second weight; "...b", its bias)."""
        return {name: p.data for name, p in self._named()}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Sets the parameters' data from a state_dict() of a module of the same shape; a
        ValueError names what differs, and then nothing is set."""
        named = self._named()
        if list(state) != [name for name, _ in named]:
            mine = {name for name, _ in named}
            missing = [k for k, _ in named if k not in state]
            unexpected = [k for k in state if k not in mine]
            raise ValueError(
                f"load_state_dict: the state has {len(state)} values for {len(named)} parameters"
                + (
                    f"; missing: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"
                    if missing
                    else ""
                )
                + (
                    f"; unexpected: {', '.join(map(str, unexpected[:5]))}"
                    f"{' ...' if len(unexpected) > 5 else ''}"
                    if unexpected
                    else ""
                )
                + ("" if missing or unexpected else "; the same names in another order")
            )
        data = [_pypath.real(x) for x in state.values()]  # TypeError before anything is set
        for (_, p), x in zip(named, data):
            p.data = x

    def _named(self) -> list[tuple[str, Value]]:
        """(name, parameter) in parameters() order; names by position where a subclass
        gives its parameters its own way."""
        params = self.parameters()
        named = list(self._names())
        if len(named) != len(params) or any(p is not q for (_, p), q in zip(named, params)):
            named = [(str(i), p) for i, p in enumerate(params)]
        return named

    def _names(self) -> Iterable[tuple[str, Value]]:
        return ((str(i), p) for i, p in enumerate(self.parameters()))

    def __setattr__(self, name: str, value: Any) -> None:
        # invariant 4 of the nn plan (micrograd_c/_plan.py): a change to what plans read drops them
        object.__setattr__(self, name, value)
        if name in _READ:
            _plan.changed(self)

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        if name in _READ:
            _plan.changed(self)

    def __getstate__(self) -> dict[str, Any]:
        # copy, deepcopy and pickle leave out the C call plan; the copy makes its own (invariant 8)
        return _plan.without_plans(self.__dict__)


class Neuron(Module):
    def __init__(self, nin: int, nonlin: bool = True, activation: str | None = "relu") -> None:
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(map(repr, _ACTIVATIONS))}, not {activation!r}"
            )
        self.w = _plan.Watched(Value(random.uniform(-1, 1)) for _ in range(nin))
        self.b = Value(0)
        self.nonlin = nonlin
        self.activation = activation

    def __call__(self, x: Iterable[Value | Real]) -> Value:
        out: Value | None = _plan.forward(self, x)
        if out is not None:
            return out
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        return getattr(act, self.activation)() if self.nonlin and self.activation else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def _names(self) -> Iterable[tuple[str, Value]]:
        yield from ((f"w.{i}", w) for i, w in enumerate(self.w))
        yield "b", self.b

    def __repr__(self) -> str:
        return f"{_ACTIVATIONS[self.activation] if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        self.neurons = _plan.Watched(Neuron(nin, **kwargs) for _ in range(nout))

    def __call__(self, x: Iterable[Value | Real]) -> Any:  # a Value, or a list of Values
        out = _plan.forward(self, x)
        if out is not None:
            return out
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def _names(self) -> Iterable[tuple[str, Value]]:
        for j, n in enumerate(self.neurons):
            yield from ((f"neurons.{j}.{name}", p) for name, p in n._named())

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    def __init__(self, nin: int, nouts: list[int], activation: str | None = "relu") -> None:
        sizes = [nin] + nouts
        last = len(nouts) - 1
        self.layers = _plan.Watched(
            Layer(sizes[i], sizes[i + 1], nonlin=i != last, activation=activation) for i in range(len(nouts))
        )

    def __call__(self, x: Iterable[Value | Real]) -> Any:  # a Value, or a list of Values
        out = _plan.forward(self, x)
        if out is not None:
            return out
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def _names(self) -> Iterable[tuple[str, Value]]:
        for i, layer in enumerate(self.layers):
            yield from ((f"layers.{i}.{name}", p) for name, p in layer._named())

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


_plan.calls_of(Module, Neuron, Layer, MLP)
