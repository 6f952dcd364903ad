"""micrograd's nn: Module, Neuron, Layer and MLP, on micrograd_c's Value.

Same API, same initialisation (stdlib random.uniform(-1, 1) per weight, in order, bias 0) and
the same graph: a neuron's output is the left fold ((b + w0*x0) + w1*x1) + ..., so the forward
values are micrograd's to the bit.
"""
import operator
import random

from micrograd_c.engine import Value, _layer, ffi

__all__ = ["Module", "Neuron", "Layer", "MLP"]


class Module:

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0

    def parameters(self):
        return []

    def __getstate__(self):
        # copy, deepcopy and pickle leave out the C call plan; the copy makes its own
        return {k: v for k, v in self.__dict__.items() if k != "_plan"}


_w_of = operator.attrgetter("w")
_b_of = operator.attrgetter("b")
_nonlin_of = operator.attrgetter("nonlin")


class _Plan:
    """What one C call needs to build a list of neurons (micrograd_c.engine._layer), and what
    it was made from, so that a changed weight list, bias or nonlin makes a new one."""

    __slots__ = ("neurons", "ws", "bs", "nonlins", "nin", "nout", "w", "b", "nonlin")

    def __init__(self, neurons):
        self.neurons = list(neurons)
        self.ws = [list(n.w) for n in neurons]
        self.bs = list(map(_b_of, neurons))
        self.nonlins = list(map(_nonlin_of, neurons))
        self.nout = len(neurons)
        self.nin = len(self.ws[0]) if neurons else 0
        self.w = self.b = self.nonlin = None
        values = [v for w in self.ws for v in w] + self.bs
        takes = (self.nin
                 and all(type(n).__call__ is Neuron.__call__ for n in neurons)  # none overridden
                 and all(len(w) == self.nin for w in self.ws)
                 and all(isinstance(v, Value) for v in values))
        if takes:
            self.w = ffi.new("int64_t[]", [v._id for w in self.ws for v in w])
            self.b = ffi.new("int64_t[]", [v._id for v in self.bs])
            self.nonlin = ffi.new("uint8_t[]", [bool(f) for f in self.nonlins])

    def fits(self, neurons):
        # list equality of Values is identity, element by element, at C speed
        return (neurons == self.neurons
                and list(map(_w_of, neurons)) == self.ws
                and list(map(_b_of, neurons)) == self.bs
                and list(map(_nonlin_of, neurons)) == self.nonlins)

    def w_prefix(self, m):
        """The weights of the first m inputs of every neuron (zip stops at the shorter)."""
        return ffi.new("int64_t[]", [v._id for w in self.ws for v in w[:m]])


def _fast(module, neurons, x):
    """The neurons' outputs on x, built in C; None where micrograd's own path must run."""
    plan = module.__dict__.get("_plan")
    if plan is None or not plan.fits(neurons):
        plan = module.__dict__["_plan"] = _Plan(neurons)
    return None if plan.w is None else _layer(plan, x)


class Neuron(Module):

    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        out = _fast(self, [self], x)
        if out is not None:
            return out[0]
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):

    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = _fast(self, self.neurons, x) if type(self.neurons) is list else None
        if out is None:
            out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):

    def __init__(self, nin, nouts):
        sizes = [nin] + nouts
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
