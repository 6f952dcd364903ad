"""micrograd's Value, with its nodes in C.

A Value is a node of the C arena (csrc/arena.c): data, grad, op and children live there, and
backward() is one C call. Its storage and hottest operators come from a C base type
(csrc/value.c); what micrograd writes on top of them, this class writes the same way.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from micrograd_c import _pypath
from micrograd_c._glue import ValueBase, check, core, lib, raise_status
from micrograd_c.lifetime import arena_bytes, collect, collections, live_nodes

__all__ = ["Value", "arena_bytes", "collect", "collections", "live_nodes"]


class Value(ValueBase):
    """A scalar and its gradient, as micrograd's Value; the node itself lives in C.

    From the C base: Value(data, _children=(), _op='', label=''); `data` and `grad` (always
    floats); `_prev`, a set of the children's Values (the user's own objects where they
    exist, the same objects on every access while anything holds them; a new set each time);
    `a + b`, `a - b`, `a * b` and `a / b` with a Value or a number on either side, and `-a`;
    `a ** k` for a number k; and a method for each op of the table that has one (csrc/ops.h:
    relu(), tanh(), ...). Operands
    C leaves to Python (NumPy arrays, other number types, a pow's odd exponents) go through
    micrograd_c._pypath. Their types: micrograd_c/_core.pyi.
    """

    # no __slots__: the attribute dict (label, a user's own) is CPython's own, for this class
    label = ""
    __array_priority__ = 1000.0  # NumPy scalars and arrays leave `np.float64(2) * v` to Value

    # micrograd's compositions, built in C as it writes them (csrc/compose.c), with the same
    # nodes: -self is self * -1; self - other is self + (-other); other - self is other +
    # (-self); self / other is self * other**-1; other / self is other * self**-1. What C
    # leaves to Python runs them here: micrograd_c._pypath.subtract and divide.

    def backward(self) -> None:
        """Sets this node's grad to 1 and adds d(self)/d(node) into every node it reaches, in
        micrograd's order: a node's rule runs after every node that uses it. One C sweep; a
        node given a Python _backward has it called at its turn."""
        _sweep(self)

    @property
    def _backward(self) -> Callable[[], None]:
        """This node's local chain rule alone, to call by hand as in the lecture: the callable
        given to it, or its op's rule in C."""
        fn: Optional[Callable[[], None]] = core.get_backward(self)
        return self._local_backward if fn is None else fn

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:
        # the lecture's way to add an op: backward() calls fn at this node's turn, in place
        # of the op's rule (csrc/arena.c, design note 11)
        core.set_backward(self, fn)

    def _local_backward(self) -> None:
        check(lib.mg_backward_node(self._id))

    @property
    def _op(self) -> str:
        return _pypath.op_name(self._id)

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def __reduce__(self) -> tuple[Any, ...]:
        # copy, deepcopy and pickle give a new leaf of the same class, data, grad and attributes
        return (_restore, (type(self), self.data, self.grad, dict(self.__dict__)))


def _restore(cls: type[Value], data: float, grad: float, state: dict[str, Any]) -> Value:
    v = cls.__new__(cls)
    v.data = data  # a Value without a node gets a leaf
    v.grad = grad
    v.__dict__.update(state)
    return v


_sweep = core.backward

core.install(
    Value,
    _pypath.real,
    _pypath.binary,
    _pypath.power,
    raise_status,
    _pypath.tag,
    _pypath.subtract,
    _pypath.divide,
)
