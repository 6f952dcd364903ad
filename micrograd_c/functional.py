"""Functions over lists of Values, each one C call: the helpers a GPT on scalars writes.

Each function builds exactly the nodes of the plain Python written in its docstring, in the
same order, so values (to the bit), gradients, `_prev`, `_op` and `draw_dot` do not change;
only the time does. The Python under each is what runs where C does not take the input (a
subclass of Value, whose own operators must run; a Value with a Python `_backward` below it;
NumPy scalars and other number types): the nodes are the same either way.

Inputs are lists or tuples. Where the plain code multiplies or adds a Value and a number,
numbers are taken too (`dot([w0, w1], [0.5, x1])`); elsewhere items must be Values. Bad
input (an empty list, rows of different lengths, lengths that differ, an item that is not a
Value or a real number, a target out of range) raises TypeError or ValueError before any node
is made, where the plain code would build part of a graph, or stop at the shorter list.
"""

from __future__ import annotations

import builtins
import numbers
from collections.abc import Sequence
from typing import Any, Optional, Union

from micrograd_c._glue import OP, ValueBase, core
from micrograd_c.engine import Value

__all__ = [
    "cross_entropy",
    "dot",
    "exp",
    "linear",
    "log",
    "log_softmax",
    "relu",
    "rmsnorm",
    "softmax",
    "sum",
    "tanh",
]

Operand = Union[Value, float, int]


# ----------------------------------------------------------------------------
# what every function checks before it builds (in Python, where C did not take the input)


def _items(xs: Any, what: str, numbers_too: bool) -> list[Any]:
    if not isinstance(xs, (list, tuple)):
        raise TypeError(f"{what} must be a list or tuple, not {type(xs).__name__}")
    if not xs:
        raise ValueError(f"{what} is empty")
    for i, x in enumerate(xs):
        if isinstance(x, ValueBase) or (numbers_too and isinstance(x, numbers.Real)):
            continue
        kinds = "Values or real numbers" if numbers_too else "Values"
        raise TypeError(f"{what}[{i}] is {type(x).__name__}: {what} holds {kinds}")
    return list(xs)


def _same_length(a: Sequence[Any], b: Sequence[Any], what: str) -> None:
    if len(a) != len(b):
        raise ValueError(f"{what}: lengths differ ({len(a)} and {len(b)})")


# ----------------------------------------------------------------------------
# the functions


def dot(a: Sequence[Operand], b: Sequence[Operand]) -> Value:
    """`sum(ai * bi for ai, bi in zip(a, b))`: a product, then its sum, pair by pair (Python's
    sum starts from 0, so the first sum is `a0*b0 + 0`)."""
    out = core.fn_dot(a, b)
    if out is NotImplemented:
        a, b = _items(a, "a", True), _items(b, "b", True)
        _same_length(a, b, "dot")
        out = builtins.sum(ai * bi for ai, bi in zip(a, b))
    return out  # type: ignore[no-any-return]


def linear(
    x: Sequence[Operand], w: Sequence[Sequence[Operand]], bias: Optional[Sequence[Operand]] = None
) -> list[Value]:
    """`[sum(wi * xi for wi, xi in zip(wo, x)) for wo in w]`, w a list of rows; with a bias,
    `[sum((wi * xi for wi, xi in zip(wo, x)), bo) for wo, bo in zip(w, bias)]` (micrograd's
    Neuron without its activation)."""
    out = core.fn_linear(x, w, bias)
    if out is NotImplemented:
        x = _items(x, "x", True)
        if not isinstance(w, (list, tuple)):
            raise TypeError(f"w must be a list or tuple of rows, not {type(w).__name__}")
        if not w:
            raise ValueError("w is empty")
        rows = list(w)
        for o, row in enumerate(rows):
            _same_length(_items(row, f"w[{o}]", True), x, f"linear: w[{o}] and x")
        if bias is None:
            out = [builtins.sum(wi * xi for wi, xi in zip(wo, x)) for wo in rows]
        else:
            bias = _items(bias, "bias", True)
            _same_length(bias, rows, "linear: bias and w")
            out = [builtins.sum((wi * xi for wi, xi in zip(wo, x)), bo) for wo, bo in zip(rows, bias)]
    return out  # type: ignore[no-any-return]


def sum(values: Sequence[Operand], start: Operand = 0) -> Value:
    """`sum(values, start)`: `start + values[0] + values[1] + ...`, one node each."""
    out = core.fn_sum(values, start)
    if out is NotImplemented:
        values = _items(values, "values", True)
        _items([start], "start", True)
        out = builtins.sum(values, start)
    return out  # type: ignore[no-any-return]


def softmax(logits: Sequence[Value]) -> list[Value]:
    """With the largest value taken off first, so that exp() cannot overflow:

    max_val = max(v.data for v in logits)
    exps = [(v - max_val).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]
    """
    out = core.fn_softmax(logits)
    if out is NotImplemented:
        logits = _items(logits, "logits", False)
        max_val = max(v.data for v in logits)
        exps = [(v - max_val).exp() for v in logits]
        total = builtins.sum(exps)
        out = [e / total for e in exps]
    return out  # type: ignore[no-any-return]


def log_softmax(logits: Sequence[Value]) -> list[Value]:
    """log(softmax(logits)), without taking the log of a probability:

    max_val = max(v.data for v in logits)
    shifted = [v - max_val for v in logits]
    log_total = sum(s.exp() for s in shifted).log()
    return [s - log_total for s in shifted]
    """
    out = core.fn_log_softmax(logits)
    if out is NotImplemented:
        logits = _items(logits, "logits", False)
        max_val = max(v.data for v in logits)
        shifted = [v - max_val for v in logits]
        log_total = builtins.sum(s.exp() for s in shifted).log()
        out = [s - log_total for s in shifted]
    return out  # type: ignore[no-any-return]


def rmsnorm(x: Sequence[Value], eps: float = 1e-5) -> list[Value]:
    """Scaled to a root mean square of 1:

    ms = sum(xi * xi for xi in x) / len(x)
    scale = (ms + eps) ** -0.5
    return [xi * scale for xi in x]
    """
    out = core.fn_rmsnorm(x, eps)
    if out is NotImplemented:
        x = _items(x, "x", False)
        if not isinstance(eps, numbers.Real):
            raise TypeError(f"eps must be a real number, not {type(eps).__name__}")
        ms = builtins.sum(xi * xi for xi in x) / len(x)
        scale = (ms + eps) ** -0.5
        out = [xi * scale for xi in x]
    return out  # type: ignore[no-any-return]


def cross_entropy(logits: Sequence[Value], target: int) -> Value:
    """The loss of the class `target` (an index into logits): `-softmax(logits)[target].log()`,
    with every node of the softmax."""
    out = core.fn_cross_entropy(logits, target)
    if out is NotImplemented:
        logits = _items(logits, "logits", False)
        if not isinstance(target, int) or isinstance(target, bool):
            raise TypeError(f"target must be an int, not {type(target).__name__}")
        if not 0 <= target < len(logits):
            raise ValueError(f"target {target} is out of range for {len(logits)} logits")
        out = -softmax(logits)[target].log()
    return out  # type: ignore[no-any-return]


def _each(method: str, xs: Sequence[Value]) -> list[Value]:
    out = core.fn_map(OP[method.upper()], xs)
    if out is NotImplemented:
        out = [getattr(x, method)() for x in _items(xs, "xs", False)]
    return out  # type: ignore[no-any-return]


def relu(xs: Sequence[Value]) -> list[Value]:
    """`[x.relu() for x in xs]`"""
    return _each("relu", xs)


def tanh(xs: Sequence[Value]) -> list[Value]:
    """`[x.tanh() for x in xs]`"""
    return _each("tanh", xs)


def exp(xs: Sequence[Value]) -> list[Value]:
    """`[x.exp() for x in xs]`"""
    return _each("exp", xs)


def log(xs: Sequence[Value]) -> list[Value]:
    """`[x.log() for x in xs]`"""
    return _each("log", xs)
