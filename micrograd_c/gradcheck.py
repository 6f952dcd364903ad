"""gradcheck: backward's gradients against central differences of the forward.

For a function of a few scalar Values, each input's grad from backward() must match
(f(x + eps) - f(x - eps)) / (2 eps), as torch.autograd.gradcheck checks a Jacobian. It reads
only `data`, `grad` and `backward()`, so micrograd's own Values can be checked the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import Any, Callable

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numeric one.

    An AssertionError, as a failed check in a test is: pytest reports it as a failure of the
    code under test, and `except AssertionError` catches it with the other failed checks.
    """


def gradcheck(
    f: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8
) -> bool:
    """Checks the gradients of f(*inputs) with respect to each of `inputs`.

    Sets the inputs' grads to 0, builds f(*inputs) and calls backward(): those grads are the
    analytic ones. Then for each input, by setting its `data` to x + eps and x - eps in turn,
    the numeric one (f(x + eps) - f(x - eps)) / (2 eps). Each pair must satisfy
    |analytic - numeric| <= atol + rtol * |numeric|. Returns True when every pair does, else
    raises GradcheckError naming the input furthest outside its tolerance.

    Afterwards each input's `data` is what it was (also when f raises) and its `grad` is the
    analytic gradient. f must not keep state between calls. At a kink (relu at 0) the two
    disagree by design: check away from one.

        >>> from micrograd_c import Value, gradcheck
        >>> x, y = Value(0.5), Value(-1.5)
        >>> gradcheck(lambda x, y: (x * y + x**2).tanh(), [x, y])
        True
    """
    inputs = _check_arguments(f, inputs, eps, rtol, atol)

    for x in inputs:
        x.grad = 0.0
    out = f(*inputs)
    _check_output(out)
    out.backward()
    analytic = [float(x.grad) for x in inputs]
    numeric = [_central_difference(f, inputs, i, eps) for i in range(len(inputs))]

    bad = [i for i in range(len(inputs)) if not _close(analytic[i], numeric[i], rtol, atol)]
    if bad:
        raise GradcheckError(_mismatch_message(inputs, analytic, numeric, bad, rtol, atol))
    return True


def _close(analytic: float, numeric: float, rtol: float, atol: float) -> bool:
    # False when either is nan
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def _central_difference(f: Callable[..., Any], inputs: list[Any], i: int, eps: float) -> float:
    x = inputs[i]
    data = x.data
    try:
        x.data = data + eps
        plus = float(_check_output(f(*inputs)).data)
        x.data = data - eps
        minus = float(_check_output(f(*inputs)).data)
    finally:
        x.data = data
    return (plus - minus) / (2 * eps)


def _mismatch_message(
    inputs: list[Any], analytic: list[float], numeric: list[float], bad: list[int], rtol: float, atol: float
) -> str:
    def excess(i: int) -> float:  # how many tolerances apart; nan counts as furthest
        ratio = abs(analytic[i] - numeric[i]) / (atol + rtol * abs(numeric[i]))
        return math.inf if math.isnan(ratio) else ratio

    i = max(bad, key=excess)
    label = getattr(inputs[i], "label", "")
    name = f"input {i}" + (f" ({label!r})" if label else "")
    tolerance = atol + rtol * abs(numeric[i])
    others = f"; {len(bad)} of {len(inputs)} inputs disagree (indices {bad})" if len(bad) > 1 else ""
    return (
        f"gradcheck: gradient mismatch for {name}: analytic {analytic[i]!r}, "
        f"numeric {numeric[i]!r}; |analytic - numeric| = {abs(analytic[i] - numeric[i])!r} "
        f"> atol + rtol * |numeric| = {tolerance!r} (atol={atol!r}, rtol={rtol!r}){others}"
    )


def _is_value(v: Any) -> bool:
    return hasattr(v, "data") and hasattr(v, "grad") and callable(getattr(v, "backward", None))


def _check_output(out: Any) -> Any:
    if not _is_value(out):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    return out


def _check_arguments(f: Any, inputs: Any, eps: Any, rtol: Any, atol: Any) -> list[Any]:
    if not callable(f):
        raise TypeError(f"gradcheck: f must be callable, got {type(f).__name__}")
    if _is_value(inputs) or not isinstance(inputs, (list, tuple)):
        raise TypeError(f"gradcheck: inputs must be a list of Values, got {type(inputs).__name__}")
    if not inputs:
        raise ValueError("gradcheck: inputs is empty; give the Values to check")
    seen: dict[int, int] = {}
    for i, x in enumerate(inputs):
        if not _is_value(x):
            raise TypeError(f"gradcheck: inputs[{i}] must be a Value, got {type(x).__name__}")
        if id(x) in seen:
            raise ValueError(
                f"gradcheck: inputs[{seen[id(x)]}] and inputs[{i}] are the same Value; give each input once"
            )
        seen[id(x)] = i
    for name, value in (("eps", eps), ("rtol", rtol), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"gradcheck: {name} must be a number, got {type(value).__name__}")
        if not math.isfinite(value) or value < 0 or (name == "eps" and value == 0):
            bound = "> 0" if name == "eps" else ">= 0"
            raise ValueError(f"gradcheck: {name} must be finite and {bound}, got {value!r}")
    return list(inputs)
