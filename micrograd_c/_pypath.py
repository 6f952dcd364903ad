"""What Value's C base type leaves to Python: which objects are real numbers, operands other
than a Value, float, int or bool (NumPy scalars and arrays, other Reals), exponents a float
cannot carry exactly, and the names of hand-built and odd pow ops.

The glue (csrc/value.c) calls real, binary, power and tag as hooks; each rule
is written here once, for C and Python alike.
"""

from __future__ import annotations

import numbers
import operator
import sys
from typing import Any, Callable, Optional, Protocol

from micrograd_c._glue import OP, OPS, ValueBase, core, lib

__all__ = [
    "METHOD_OP",
    "Real",
    "array_op",
    "as_operand",
    "binary",
    "divide",
    "is_array",
    "number",
    "op_name",
    "power",
    "real",
    "subtract",
    "tag",
]


class Real(Protocol):
    """A real number as the type checker sees one (int, float, bool, a NumPy scalar, a
    Fraction): what Value takes as data and as an operand. number() is the rule at run time."""

    def __float__(self) -> float: ...
    def __neg__(self) -> Real: ...


_REAL: set[type] = {float, int, bool}  # types seen to hold real numbers: an ABC's check is slow


def number(x: Any) -> Optional[float]:
    """x as a float if it is a real number (int, float, bool, a NumPy scalar), else None."""
    t = type(x)
    if t in _REAL:
        return float(x)
    if isinstance(x, numbers.Real) or (t.__module__ == "numpy" and t.__name__ in ("bool", "bool_")):
        _REAL.add(t)
        return float(x)
    return None


def real(x: Any) -> float:
    """float(x) for a real number x; TypeError otherwise. The rule of Value(x), data and grad."""
    k = number(x)
    if k is None:
        raise TypeError("Value data must be a real number, not %s" % type(x).__name__)
    return k


def is_array(x: Any) -> bool:
    """Whether x is a NumPy array: one defers its operators to Value (see __array_priority__)."""
    if type(x) in _REAL:
        return False
    np = sys.modules.get("numpy")
    return np is not None and isinstance(x, np.ndarray)


def array_op(ufunc: str, array: Any, value: ValueBase) -> Any:
    """array <op> value as micrograd gets it from NumPy: an object array, elementwise."""
    return getattr(sys.modules["numpy"], ufunc)(array, value)


def as_operand(x: Any) -> ValueBase | float:
    """x as `/` takes it: a number as a float (so that k**-1 is Python's float pow, which
    NumPy ints refuse), anything else as it is."""
    k = None if type(x) is float else number(x)
    return x if k is None else k


# Python's operators as a binary op's SYMBOL (csrc/ops.h) names them: the operator, and the
# NumPy ufunc an array operand goes through
OPERATORS: dict[str, tuple[Callable[[Any, Any], Any], str]] = {
    "+": (operator.add, "add"),
    "-": (operator.sub, "subtract"),
    "*": (operator.mul, "multiply"),
    "/": (operator.truediv, "true_divide"),
}
# each op's rule for an operand C leaves to Python: (operator, NumPy ufunc, value_first, the
# METHOD of a binary op that has no operator), from the table
_BINARY: list[tuple[Callable[[Any, Any], Any], str, bool, str]] = []
for _row in OPS:
    if _row.symbol and _row.symbol not in OPERATORS:
        raise ImportError(f"op table row {_row.key}: no Python operator {_row.symbol!r} in _pypath.OPERATORS")
    _fn, _ufunc = OPERATORS.get(_row.symbol, (operator.add, ""))
    _BINARY.append((_fn, _ufunc, _row.value_first, "" if _row.symbol else _row.method))


def binary(op: int, value: ValueBase, other: Any, reflected: bool) -> Any:
    """value <op> other, or other <op> value when reflected, for an operand C does not take: a
    real number as a float, a NumPy array elementwise. As in C, an op that commutes builds
    value <op> number whichever side the number is on (micrograd's __radd__); any other keeps
    the order. A binary op with a METHOD and no SYMBOL is value.method(other)."""
    fn, ufunc, value_first, method = _BINARY[op]
    k = number(other)
    if method:
        if k is None:
            raise TypeError(f"{method}() takes a Value or a real number, not {type(other).__name__}")
        return getattr(value, method)(k)
    if k is not None:
        return fn(k, value) if reflected and not value_first else fn(value, k)
    if is_array(other):
        return array_op(ufunc, other, value) if value_first or reflected else array_op(ufunc, value, other)
    return NotImplemented


def subtract(left: Any, right: Any) -> Any:
    """left - right as micrograd composes it, left + (-right), for what C leaves to Python (a
    subclass of Value, whose own + and * must run; a Value with a Python _backward below it;
    operands other than Values and plain numbers). A NumPy array goes elementwise."""
    if not isinstance(left, ValueBase) and is_array(left):
        return array_op("subtract", left, right)
    return left + (-right)


def divide(left: Any, right: Any) -> Any:
    """left / right as micrograd composes it, left * right**-1, for what C leaves to Python;
    a number divisor as a float (as_operand), so that k**-1 is Python's float pow."""
    if isinstance(left, ValueBase):
        return left * as_operand(right) ** -1
    if is_array(left):
        return array_op("true_divide", left, right)
    return left * right**-1


def power(value: ValueBase, k: Any) -> ValueBase:
    """value ** k for a k that is not a float or an int a float holds: micrograd's assertion,
    and its _op name f'**{k}', with k - 1 taken on k itself as Python does."""
    if not isinstance(k, (int, float)):
        raise AssertionError("only supporting int/float powers for now")
    return core.pow_named(value, float(k), float(k - 1), tag(f"**{k}"))


_tags: list[str] = []  # op names of hand-built nodes and named pows, by their tag
_tag_of: dict[str, int] = {}


def tag(op: str = "") -> float:
    """The tag (a float, as C keeps it) that names op."""
    t = _tag_of.get(op)
    if t is None:
        t = _tag_of[op] = len(_tags)
        _tags.append(op)
    return float(t)


# the unary op each Value method makes (relu, tanh, ...)
METHOD_OP: dict[str, int] = {row.method: op for op, row in enumerate(OPS) if row.method and row.arity == 1}


def op_name(i: int) -> str:
    """micrograd's _op for node i."""
    op: int = lib.mg_op(i)
    if op == OP["POW_INT"]:
        return "**%d" % lib.mg_aux(i)
    if op == OP["POW_FLOAT"]:
        return "**%r" % lib.mg_aux(i)
    if op == OP["POW_NAMED"]:
        return _tags[int(lib.mg_aux(lib.mg_child(i, 1)))]
    if op == OP["CUSTOM"]:
        return _tags[int(lib.mg_aux(i))]
    return OPS[op].name
