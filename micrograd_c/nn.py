"""micrograd's nn: Module, Neuron, Layer and MLP, on micrograd_c's Value.

Same API, same initialisation (stdlib random.uniform(-1, 1) per weight, in order, bias 0) and
the same graph: a neuron's output is the left fold ((b + w0*x0) + w1*x1) + ..., so the forward
values are micrograd's to the bit.

The fast path: calling a Neuron, a Layer or an MLP builds all of its nodes in one C call
(mg_net_forward), from a plan of the parameters' node ids that the module keeps. Every change
to a module's attributes (Module.__setattr__) or to the lists it is built from (_Watched) bumps
one counter, _changes, so a plan is checked in O(1) per call and remade after any change. What
the plan cannot take (a subclass that overrides __call__, a list that is not watched, odd
inputs) goes down micrograd's own path, unchanged.
"""
import random

from micrograd_c import engine
from micrograd_c.engine import Value, ffi, lib

__all__ = ["Module", "Neuron", "Layer", "MLP"]

_changes = 0                    # bumped after every change to a module or a watched list


def _changed():
    global _changes
    _changes += 1


def _watching(name):
    method = getattr(list, name)

    def changing(self, *args, **kwargs):
        out = method(self, *args, **kwargs)
        _changed()
        return out
    changing.__name__ = name
    return changing


class _Watched(list):
    """A list that bumps _changes whenever it changes: a module's parameters and submodules."""
    __slots__ = ()
    for _name in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend",
                  "insert", "pop", "remove", "clear", "sort", "reverse"):
        locals()[_name] = _watching(_name)
    del _name


class Module:

    def zero_grad(self):
        for p in self.parameters():     # grad's setter is C (csrc/py_fields.c): no faster path
            p.grad = 0

    def parameters(self):
        return []

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        _changed()

    def __delattr__(self, name):
        object.__delattr__(self, name)
        _changed()

    def __getstate__(self):
        # copy, deepcopy and pickle leave out the C call plan; the copy makes its own
        return {k: v for k, v in self.__dict__.items() if k != "_plan"}


class Neuron(Module):

    def __init__(self, nin, nonlin=True):
        self.w = _Watched(Value(random.uniform(-1, 1)) for _ in range(nin))
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        out = _forward(self, x)
        if out is not None:
            return out
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
        self.neurons = _Watched(Neuron(nin, **kwargs) for _ in range(nout))

    def __call__(self, x):
        out = _forward(self, x)
        if out is not None:
            return out
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
        self.layers = _Watched(Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(nouts)))

    def __call__(self, x):
        out = _forward(self, x)
        if out is not None:
            return out
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


# --- the fast path -------------------------------------------------------------------------

_JUST_VALUE = {Value}


def _layers(module):
    """The module's neurons, layer by layer, as the plan sees them; None where its call is not
    Neuron's, Layer's or MLP's fold over lists that are watched."""
    if isinstance(module, Neuron):
        return [[module]]
    if isinstance(module, Layer):
        neurons = module.__dict__.get("neurons")
        return [neurons] if type(neurons) is _Watched else None
    layers = module.__dict__.get("layers")
    if type(layers) is not _Watched or not all(isinstance(layer, Layer) for layer in layers):
        return None
    found = [layer.__dict__.get("neurons") for layer in layers]
    return found if all(type(n) is _Watched for n in found) else None


class _Plan:
    """One module's call as one C call: its mg_net, made at _changes == stamp, and the classes
    whose __call__ it stands for (checked on every call: a class attribute is not watched)."""

    __slots__ = ("stamp", "calls", "net", "nout", "keep")

    def __init__(self, module):
        self.stamp = _changes
        self.calls = ()
        self.net = None
        layers = _layers(module)
        if not layers or not all(layers):
            return
        modules = [n for neurons in layers for n in neurons]
        if not isinstance(module, Neuron):
            modules += module.layers if isinstance(module, MLP) else [module]
        classes = {type(m) for m in modules}
        self.calls = [(c, c.__call__) for c in classes]
        if any(f is not _CALLS[base] for c, f in self.calls for base in _CALLS if issubclass(c, base)):
            return                      # a subclass calls its own way
        specs, keep = [], []
        for neurons in layers:
            ws = [n.__dict__.get("w") for n in neurons]
            bs = [n.__dict__.get("b") for n in neurons]
            if not all(type(w) is _Watched for w in ws):
                return
            nin = len(ws[0])
            params = [v for w in ws for v in w] + bs
            if not nin or any(len(w) != nin for w in ws) or set(map(type, params)) != _JUST_VALUE:
                return
            if specs and (specs[-1]["nout"] == 1 or specs[-1]["nout"] != nin):
                return                  # micrograd hands a bare Value or a cut list to the next layer
            arrays = (ffi.new("mg_id[]", [v._id for w in ws for v in w]),
                      ffi.new("mg_id[]", [v._id for v in bs]),
                      ffi.new("uint8_t[]", [bool(n.__dict__.get("nonlin")) for n in neurons]))
            specs.append(dict(zip(("w", "b", "nonlin"), arrays), nin=nin, nout=len(neurons)))
            keep += [arrays, params]    # the arrays, and the Values that keep their nodes alive
        array = ffi.new("mg_layer_spec[]", specs)
        net = ffi.new("mg_net *", {"nlayers": len(specs), "layers": array})
        engine._check(lib.mg_net_check(net))
        self.keep = (keep, array)
        self.nout = specs[-1]["nout"]
        self.net = net

    def current(self):
        if self.stamp != _changes:
            return False
        for c, f in self.calls:
            if c.__call__ is not f:
                return False
        return True


def _forward(module, x):
    """The module's output on x, built in C; None where micrograd's own path must run."""
    plan = module.__dict__.get("_plan")
    if plan is None or not plan.current():
        plan = module.__dict__["_plan"] = _Plan(module)
    if plan.net is None or (type(x) is not list and type(x) is not tuple) or not x:
        return None
    ids = []
    for v in x:                         # a loop: set(map(type, x)) costs more on a short x
        if type(v) is not Value:
            ids, nums = _with_numbers(x)
            if ids is None:
                return None             # micrograd's own path knows what to do with it, or raises
            break
        ids.append(v._id)
    else:
        nums = ffi.NULL
    if plan.nout > 1:
        out = ffi.new("mg_id[]", plan.nout)
        i = _net_forward(plan.net, ids, nums, len(x), out)
        if i >= engine._ERROR:
            raise engine._exception(i - engine._ERROR)
        return list(map(engine._wrap, out))
    i = _net_forward(plan.net, ids, nums, len(x), ffi.NULL)
    out = _new(Value)                   # engine._wrap(i), inline: one call per sample in the demo
    out._id = i
    try:
        out._blk = _owners[i]
    except IndexError:
        out._blk = engine._owner_slow(i)
    return out


def _with_numbers(x):
    """(ids, numbers) of inputs that are Values or numbers, as mg_net_forward takes them; or
    (None, None) if one is neither."""
    ids, nums = [], []
    for v in x:
        if type(v) is Value:
            ids.append(v._id)
            nums.append(0.0)
        else:
            k = engine._number(v)
            if k is None:
                return None, None
            ids.append(-1)
            nums.append(k)
    return ids, nums


_new = engine._new
_owners = engine._owners                # mutated in place only, never rebound
_net_forward = lib.mg_net_forward
_CALLS = {Neuron: Neuron.__call__, Layer: Layer.__call__, MLP: MLP.__call__}
