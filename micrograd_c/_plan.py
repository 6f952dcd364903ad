"""nn's fast path: a whole Neuron, Layer or MLP call as one C call (csrc/nn.c).

The nn plan's protocol, between nn.py, this module, csrc/nn_glue.c and csrc/nn.c. It is
written here once; the other files point to these numbers.

 1. A plan stands for the fold. A module's plan, when it has a net, builds exactly the nodes
    micrograd's fold in nn.py builds for the same call, in the same order: so values, _prev
    and drawings cannot tell the two apart. Where that cannot be promised the plan has no net,
    and the module's own call (the fold) runs.
 2. When a net is made. The module and its submodules are Neurons, Layers and MLPs whose
    classes' __call__ is nn's own; the lists in `layers`, `neurons` and `w` are Watched; every
    weight and bias is exactly a Value (a subclass may have its own operators); each layer's
    neurons have one width, which the layer before gives (micrograd hands a bare Value, or a
    list cut by zip, to the next layer otherwise); and each neuron ends with no op or with a
    unary op of the table (csrc/ops.h) named by its `activation`.
 3. What a plan reads, and only that: the READ attributes of the modules it looks at, the
    Watched lists, and each class's __call__. Anything else a program changes leaves it alone.
 4. Readers. Each module and Watched list a plan read lists the plan among its readers; a plan
    without a net is a reader too, so that a change can give the module one. Module's
    __setattr__ and __delattr__ of a READ name (nn.py) and every changing list method of
    Watched drop all their readers: the next call makes a new plan.
 5. A class's __call__ tells nobody when it is replaced: the plan compares it on every call.
 6. Node ids. A net holds its parameters' node ids and the Values that keep those nodes live
    (nn_glue.c's net_box). A Value that takes another node (Value.__init__ again, data set on a
    Value without one) bumps mg_arena.epoch; a net reads its ids once the last Python that
    could run while it was made has run, and keeps the epoch of that read. A call at another
    epoch makes nothing and says stale (MG_STALE): forward() makes the plan again.
 7. Inputs. A net call takes a list or tuple of exact Values and floats, ints and bools, read
    with no Python running between the read and the nodes (the outputs' Values are allocated
    first). Anything else, and a Value with a Python _backward at or below it (design note 11
    in csrc/arena.c, where every node needs its Value), goes down the fold.
 8. Copies. copy, deepcopy and pickle take a module without its plan or readers
    (without_plans); the copy makes its own on its first call.
 9. Reload. nn's classes are this module's globals (calls_of); reloading either module
    registers them again.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional, TypeVar

from micrograd_c import _pypath
from micrograd_c._glue import core
from micrograd_c.engine import Value

__all__ = ["Watched", "calls_of", "changed", "forward", "without_plans"]

_T = TypeVar("_T")
READ = frozenset({"layers", "neurons", "w", "b", "nonlin", "activation", "__class__"})  # what plans read
_CALLS: dict[type, Callable[..., Any]] = {}  # Neuron, Layer, MLP -> their own __call__ (calls_of)
_net_call = core.net_call
Module_ = Neuron = Layer = MLP = None  # type: Any  # nn's classes, from calls_of (nn imports us)


def calls_of(module: type, neuron: type, layer: type, mlp: type) -> None:
    """nn's classes; Neuron's, Layer's and MLP's own __call__ is the fold a plan stands for."""
    global Module_, Neuron, Layer, MLP
    Module_, Neuron, Layer, MLP = module, neuron, layer, mlp
    for c in (neuron, layer, mlp):
        _CALLS[c] = c.__call__


_nn: Any = sys.modules.get("micrograd_c.nn")
if hasattr(_nn, "MLP"):  # importlib.reload(_plan), nn loaded: its classes again
    calls_of(_nn.Module, _nn.Neuron, _nn.Layer, _nn.MLP)


def _drop(readers: list[Plan]) -> None:
    for plan in readers:
        plan.valid = False
    readers.clear()


def changed(module: object) -> None:
    """Module.__setattr__ and __delattr__ tell of a change to an attribute in READ: the plans
    that read it go."""
    readers = module.__dict__.get("_readers")
    if readers:
        _drop(readers)


def without_plans(state: dict[str, Any]) -> dict[str, Any]:
    """A module's __dict__ for copy and pickle: no plan, no readers."""
    return {k: v for k, v in state.items() if k not in ("_plan", "_readers")}


def _changing(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    def changing(self: Watched[Any], *args: Any, **kwargs: Any) -> Any:
        out = method(self, *args, **kwargs)
        readers = self.readers
        if readers:
            _drop(readers)
        return out

    changing.__name__ = name
    return changing


class Watched(list[_T]):
    """A list that drops the plans that read it whenever it changes: a module's parameters and
    submodules."""

    __slots__ = ("readers",)

    def __init__(self, *args: Iterable[_T]) -> None:
        super().__init__(*args)
        self.readers: list[Plan] = []

    for _name in (
        "__setitem__",
        "__delitem__",
        "__iadd__",
        "__imul__",
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "sort",
        "reverse",
    ):
        locals()[_name] = _changing(_name)
    del _name

    def __reduce__(self) -> tuple[Any, ...]:
        return (Watched, (list(self),))


def _end_op(neuron: dict[str, Any]) -> Optional[int]:
    """The op a neuron ends with, from its __dict__ (0 for none), as the C forward takes it;
    None where the neuron's own call must run (an attribute gone, or an activation unknown)."""
    if "nonlin" not in neuron or "activation" not in neuron:
        return None
    activation = neuron["activation"]
    if not neuron["nonlin"] or activation is None:
        return 0
    return _pypath.METHOD_OP.get(activation) if isinstance(activation, str) else None


def _read_by(plan: Plan, readers: list[Plan]) -> None:
    readers[:] = [p for p in readers if p.valid]
    readers.append(plan)


def _module_readers(module: object) -> list[Plan]:
    readers: Optional[list[Plan]] = module.__dict__.get("_readers")
    if readers is None:
        readers = module.__dict__["_readers"] = []
    return readers


def _layers(module: object, read: list[Any]) -> Optional[list[Any]]:
    """The module's neurons, layer by layer; None where its call is not Neuron's, Layer's or
    MLP's fold over Watched lists. Every module and list it looks at goes into read."""
    if isinstance(module, Neuron):
        return [[module]]
    if isinstance(module, Layer):
        neurons = module.__dict__.get("neurons")
        read.append(neurons)
        return [neurons] if type(neurons) is Watched else None
    if not isinstance(module, MLP):
        return None
    layers = module.__dict__.get("layers")
    read.append(layers)
    if type(layers) is not Watched or not all(isinstance(layer, Layer) for layer in layers):
        return None
    read += layers
    found = [layer.__dict__.get("neurons") for layer in layers]
    read += found
    return found if all(type(n) is Watched for n in found) else None


class Plan:
    """One module's call as one C call: its net (None where micrograd's fold must run), the
    classes whose __call__ it stands for, and whether what it read is unchanged. A plan that
    falls back is a reader too, so that a change can give the module a net."""

    __slots__ = ("net", "calls", "valid")
    net: object  # core.net_new's, or None
    calls: Sequence[tuple[type, Any]]  # each class and its __call__
    valid: bool

    def __init__(self, module: object) -> None:
        self.valid, self.calls = True, ()
        read = [module]
        self.net = self._net(module, read)
        for r in {id(r): r for r in read if isinstance(r, (Watched, Module_))}.values():
            _read_by(self, r.readers if type(r) is Watched else _module_readers(r))

    def _net(self, module: object, read: list[Any]) -> object:
        """The plan's net, or None; what it looks at goes into read."""
        layers = _layers(module, read)
        if not layers or not all(layers):
            return None
        neurons = [n for layer in layers for n in layer]
        read += neurons
        classes = {type(m) for m in read if not isinstance(m, list)}
        self.calls = [(c, c.__call__) for c in classes]
        for c, f in self.calls:
            if any(f is not call for base, call in _CALLS.items() if issubclass(c, base)):
                return None  # a subclass calls its own way
        specs: list[tuple[list[Value], list[Value], list[Any]]] = []
        for layer in layers:
            ws = [n.__dict__.get("w") for n in layer]
            read += ws
            bs = [n.__dict__.get("b") for n in layer]
            if not all(type(w) is Watched for w in ws):
                return None
            nin = len(ws[0])
            weights = [v for w in ws for v in w]
            if not nin or any(len(w) != nin for w in ws) or any(type(v) is not Value for v in weights + bs):
                return None
            if specs and (len(specs[-1][1]) == 1 or len(specs[-1][1]) != nin):
                return None  # micrograd hands a bare Value or a cut list to the next layer
            ends = [_end_op(n.__dict__) for n in layer]
            if None in ends:
                return None
            specs.append((weights, bs, ends))
        as_list = not isinstance(module, Neuron) and len(specs[-1][1]) > 1
        return core.net_new(specs, as_list)

    def current(self) -> bool:
        if not self.valid:
            return False
        for c, f in self.calls:
            if c.__call__ is not f:
                return False
        return True


def forward(module: object, x: Any) -> Any:
    """The module's output on x, built in C; None where micrograd's own path must run."""
    plan = module.__dict__.get("_plan")
    if plan is None or not plan.current():
        plan = module.__dict__["_plan"] = Plan(module)
    if plan.net is None:
        return None
    out = _net_call(plan.net, x)
    if out is None:  # a parameter's Value changed node: read the ids again
        plan = module.__dict__["_plan"] = Plan(module)
        out = _net_call(plan.net, x) if plan.net is not None else NotImplemented
    return None if out is NotImplemented or out is None else out
