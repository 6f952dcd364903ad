"""The C core, loaded: micrograd_c._core (the cffi module) with its base type installed.

Every other module reaches C through this one: `lib` for the arena (cffi), `core` for the
calls of the type glue that deal in Python objects (csrc/value.c), `ValueBase` for Value's
storage and hot operators. `check` and `exception` turn a C status into a Python exception:
the one place that does.
"""

import importlib
import importlib.util
import math
import os
import sysconfig
from typing import NamedTuple, NoReturn

if sysconfig.get_config_var("Py_GIL_DISABLED"):
    raise ImportError(
        "micrograd_c needs the GIL: its C core holds it through every call and keeps no locks "
        "of its own, and this is a free-threaded Python (3.13t or later). Use a standard CPython "
        "build, such as python3.13 rather than python3.13t."
    )

_ONLY_MAIN = (
    "micrograd_c supports only the main interpreter: its C core's nodes, types and hooks belong "
    "to the whole process, so it cannot be imported in a subinterpreter; import it in the main one"
)


def _in_subinterpreter() -> bool:
    """Whether this code runs in an interpreter other than the main one (CPython's private
    modules tell; where none is there, the C core's own check, below, still holds)."""
    for name in ("_interpreters", "_xxsubinterpreters"):  # 3.13+; 3.9 to 3.12
        try:
            interpreters = importlib.import_module(name)
            return bool(interpreters.get_current() != interpreters.get_main())
        except Exception:  # noqa: BLE001 - private modules: any failure means they cannot tell
            continue
    return False


# before the core is loaded: CPython runs a module's init before an isolated interpreter
# refuses it, and 3.12 then hands what that init made to the main interpreter's import
if _in_subinterpreter():
    raise ImportError(_ONLY_MAIN)

try:
    from micrograd_c import _core as core
except ImportError as exc:
    if importlib.util.find_spec("micrograd_c._core") is None:  # a checkout never built
        raise ImportError(
            "micrograd_c's C core is not built here (%s). Install it with `pip install .` and run "
            "from another directory, or build it in place with `pip install -e .`" % exc
        ) from exc
    raise ImportError("micrograd_c's C core is there but could not be loaded: %s" % exc) from exc

ffi, lib = core.ffi, core.lib

if not lib.mg_glue_holds_gil():
    raise ImportError(
        "micrograd_c: this build of the cffi glue releases the GIL around calls into C, "
        "which the core relies on not happening; rebuild micrograd_c against a cffi it supports"
    )
_status = lib.mg_glue_install()  # a second time (importlib.reload) finds what the first made
if _status == lib.MG_GLUE_SUBINTERPRETER:
    raise ImportError(_ONLY_MAIN)
if _status != lib.MG_GLUE_OK:
    raise ImportError(
        "micrograd_c: the C glue could not make its types (ValueBase, ParamSet): "
        + ffi.string(lib.mg_glue_error()).decode(errors="replace")
    )

ValueBase = core.ValueBase


class Op(NamedTuple):
    """A row of the op table (csrc/ops.h, MG_OP_TABLE), as mg_op_describe gives it."""

    key: str  # enum mg_op's name after MG_: "ADD", "RELU"
    name: str  # micrograd's _op, "" where Python spells it out (leaf, pow, custom)
    method: str  # the Value method that makes it, or ""
    symbol: str  # a binary op's Python operator ("+"), or ""
    activation: str  # nn's name for it as a neuron's activation ("ReLU"), or ""
    arity: int  # operands: the children _prev shows
    value_first: bool  # `k op v` builds v op k, as micrograd's + and * (an op that commutes)


def _row(op: int) -> Op:
    d = lib.mg_op_describe(op)
    key, name, method, symbol, activation = (
        ffi.string(s).decode() for s in (d.key, d.name, d.method, d.symbol, d.activation)
    )
    return Op(key, name, method, symbol, activation, d.arity, bool(d.value_first))


OPS: tuple[Op, ...] = tuple(_row(op) for op in range(lib.mg_op_count()))  # by op number
OP: dict[str, int] = {row.key: op for op, row in enumerate(OPS)}  # OP["ADD"]

__all__ = ["OP", "OPS", "Op", "ValueBase", "check", "core", "exception", "ffi", "lib"]


def _log_domain_message() -> str:
    """math.log's ValueError message for a float <= 0, read from this Python (the wording
    differs across versions). Where it quotes the operand (3.14: '..., got -1.0'), which a
    status does not carry, the part before the operand."""
    messages: list[str] = []
    for x in (0.0, -1.0):
        try:
            math.log(x)
        except ValueError as exc:
            messages.append(str(exc))
    common = os.path.commonprefix(messages)
    return common if len(set(messages)) == 1 else common.rsplit(", got", 1)[0].rstrip(" ,:")


_LOG_DOMAIN_MESSAGE = _log_domain_message()


def exception(status: int) -> Exception:
    """The exception for a C status (enum mg_status in csrc/micrograd.h)."""
    if status == lib.MG_NOMEM:
        return MemoryError("micrograd_c: out of memory for graph nodes")
    if status == lib.MG_ZERODIV:
        return ZeroDivisionError("0.0 cannot be raised to a negative power")
    if status == lib.MG_OVERFLOW:
        return OverflowError("math range error")
    if status == lib.MG_DOMAIN:
        return ValueError("negative number cannot be raised to a fractional power")
    if status == lib.MG_LOG_DOMAIN:
        return ValueError(_LOG_DOMAIN_MESSAGE)
    if status == lib.MG_BUSY:
        return RuntimeError(
            "backward() cannot start while another backward() is stopped at a "
            "Python _backward (from inside one, or from another thread meanwhile)"
        )
    return ValueError("micrograd_c: not a live node (status %d)" % status)


def check(status: int) -> None:
    if status:
        raise exception(status)


def raise_status(status: int) -> NoReturn:
    """The glue's hook: raises the exception for status."""
    raise exception(status)
