"""Optimizers over Values, with PyTorch's update rules: SGD, Adam, AdamW, and two schedules.

    opt = optim.Adam(model.parameters(), lr=0.01)
    for k in range(steps):
        loss = ...
        opt.zero_grad()
        loss.backward()
        opt.step()

step() and zero_grad() are each one C call over the parameters' nodes (csrc/optim_glue.c; the
formulas are in csrc/optim.h, as torch.optim documents them). The parameters are leaves: Values made as
Value(x), as an nn module's are. Each distinct parameter is taken once, in the order it first
comes: a list that names a Value twice (tied weights, a neuron used twice in a layer) updates
it once a step, as torch's model.parameters() yields a tied weight once; `opt.params` is that
list.

The settings (lr, momentum, betas, ..., and a schedule's step_size, gamma, T_max, eta_min) can
be set between steps, by hand or by a schedule. Each is checked by one rule, the same at
construction and on assignment: a value of the wrong type (a str, None, a Value; a bool
where a number goes) is a TypeError, one out of range (NaN and the infinities included) a
ValueError, both naming the setting. A value refused changes nothing: the optimizer keeps its
settings, and steps with them, as if it had never seen it.

Not here: torch's parameter groups, amsgrad, maximize, and state_dict for the optimizer.
"""

from __future__ import annotations

import itertools
import math
import numbers
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from micrograd_c._glue import ValueBase, core
from micrograd_c.engine import Value

__all__ = ["SGD", "Adam", "AdamW", "StepLR", "CosineAnnealingLR"]

# A setting's rule: (its name, a value given) -> the value as kept, or TypeError / ValueError
Rule = Callable[[str, object], Any]


def _real(name: str, x: object) -> float:
    """x as a float, if it is a real number (a NumPy one too). A bool is not taken: True as an
    lr or a momentum is a slip, a flag passed where a number goes, rather than 1.0."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"invalid {name}: {x!r} is a {type(x).__name__}, not a real number")
    try:
        return float(x)
    except OverflowError:  # an int or Fraction beyond the floats
        raise ValueError(f"invalid {name}: a {type(x).__name__} too large for a float") from None


def _finite(name: str, x: object, ok: Callable[[float], bool], rule: str) -> float:
    """x as a float, if it is a finite real number that passes ok."""
    v = _real(name, x)
    if not (math.isfinite(v) and ok(v)):
        raise ValueError(f"invalid {name}: {v} (it must be {rule})")
    return v


def _nonnegative(name: str, x: object) -> float:
    """lr, momentum, weight_decay, eps, eta_min: torch's range, >= 0, and finite."""
    return _finite(name, x, lambda v: v >= 0.0, "finite and 0 or more")


def _positive(name: str, x: object) -> float:
    """gamma: a factor of the lr, so more than 0 (0 would end the training at the first decay)."""
    return _finite(name, x, lambda v: v > 0.0, "finite and more than 0")


def _fraction(name: str, x: object) -> float:
    """dampening: the share of the gradient held back, in [0, 1]."""
    return _finite(name, x, lambda v: 0.0 <= v <= 1.0, "finite and in [0, 1]")


def _betas(name: str, x: object) -> tuple[float, float]:
    """betas: a pair of decay rates, each in [0, 1) as torch requires (1 would never forget)."""
    if isinstance(x, (str, bytes)) or not isinstance(x, Iterable):
        raise TypeError(f"invalid {name}: {x!r} is a {type(x).__name__}, not a pair of real numbers")
    pair = tuple(_real(name, b) for b in itertools.islice(x, 3))  # 3: enough to tell a pair
    if len(pair) != 2 or not all(0.0 <= b < 1.0 for b in pair):  # NaN fails the range too
        raise ValueError(
            f"invalid {name}: {pair} (it must be a pair (beta1, beta2), each finite and in [0, 1))"
        )
    return pair[0], pair[1]


def _flag(name: str, x: object) -> bool:
    """nesterov: True or False (a NumPy bool too), not any value that is truthy."""
    numpy = sys.modules.get("numpy")  # only NumPy makes its bools, so only if it is loaded
    if isinstance(x, bool) or (numpy is not None and isinstance(x, numpy.bool_)):
        return bool(x)
    raise TypeError(f"invalid {name}: {x!r} is a {type(x).__name__}, not True or False")


def _count(name: str, x: object) -> int:
    """step_size, T_max: a whole number of steps, 1 or more; a float only if it is whole."""
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        n = int(x)
    else:
        v = _real(name, x)
        if not v.is_integer():  # NaN and the infinities too
            raise ValueError(f"invalid {name}: {v} (it must be a whole number, 1 or more)")
        n = int(v)
    if n < 1:
        raise ValueError(f"invalid {name}: {n} (it must be a whole number, 1 or more)")
    return n


def _checked(rules: Mapping[str, Rule], given: Mapping[str, object]) -> dict[str, Any]:
    """The settings given, each as its rule keeps it: the one check of a setting, whether it
    comes to a constructor or to an assignment."""
    return {name: rules[name](name, x) for name, x in given.items()}


class _Optimizer(core.ParamSet):
    """The parameters, checked and each taken once (a Value named twice is one parameter),
    as one C parameter set (csrc/optim_glue.c) with `buffers` state arrays; step() and
    zero_grad() are its C methods. The C set holds the settings too: _RULES names them, and
    the constructor's settings and every assignment to one go through _candidate, which checks
    them, and _commit, which configures the C set with them and then keeps them."""

    _RULES: ClassVar[Mapping[str, Rule]] = {"lr": _nonnegative}
    lr: float
    params: list[Value]

    def __init__(self, params: Iterable[Value], settings: Mapping[str, object], buffers: int) -> None:
        checked = self._candidate(settings)  # before the C set is made (or made again)
        params = list(params)
        if not params:
            raise ValueError("the optimizer got an empty parameter list")
        for i, p in enumerate(params):
            if not isinstance(p, ValueBase):  # a Value of engine.py as loaded before a reload too
                raise TypeError(f"parameter {i} is a {type(p).__name__}, not a Value")
            if p._op or p._prev:
                raise ValueError(
                    f"parameter {i} is the result of {p._op or 'an op'!r}, not a leaf: "
                    "an optimizer updates leaves, the Values made as Value(x)"
                )
        params = list({id(p): p for p in params}.values())  # each Value once, where it came first
        super().__init__(params, buffers)
        self.params = params
        self._commit(checked)

    def __setattr__(self, name: str, value: object) -> None:
        if name in self._RULES:
            self._commit(self._candidate({name: value}))
        else:
            object.__setattr__(self, name, value)

    def _candidate(self, given: Mapping[str, object]) -> dict[str, Any]:
        """The settings kept with the ones given in their place, if each given passes its rule
        and the whole the rules across settings: the one check of a constructor's settings
        and of an assignment."""
        settings = {name: self.__dict__[name] for name in self._RULES if name in self.__dict__}
        settings.update(_checked(self._RULES, given))
        self._agree(settings, given)
        return settings

    def _commit(self, settings: Mapping[str, Any]) -> None:
        """Configures the C set with settings, checked, and only then keeps them: a refusal,
        in the checks or in C, leaves the optimizer as it was."""
        self._configure(settings)
        self.__dict__.update(settings)

    def _agree(self, settings: Mapping[str, Any], given: Mapping[str, object]) -> None:
        """Raises ValueError, naming a setting given, where settings break a rule across them."""

    def _configure(self, settings: Mapping[str, Any]) -> None:
        """Sends settings to the C set, whose _sgd and _adam check their arguments before they
        change anything: one that raises leaves the set configured as it was."""
        raise NotImplementedError


class SGD(_Optimizer):
    """torch.optim.SGD: g = grad + weight_decay * p; with momentum, buf = g at the first step,
    then momentum * buf + (1 - dampening) * g, and g = buf (or g + momentum * buf, nesterov);
    p -= lr * g, once a step for each distinct parameter (a Value named twice is updated once)."""

    _RULES = {
        "lr": _nonnegative,
        "momentum": _nonnegative,
        "dampening": _fraction,
        "weight_decay": _nonnegative,
        "nesterov": _flag,
    }
    momentum: float
    dampening: float
    weight_decay: float
    nesterov: bool

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(
            params,
            dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov),
            buffers=1,
        )

    def _agree(self, settings: Mapping[str, Any], given: Mapping[str, object]) -> None:
        """Nesterov momentum needs a momentum and no dampening (torch's rule); the message
        names nesterov, momentum or dampening, the first of them given."""
        momentum, dampening = settings["momentum"], settings["dampening"]
        if settings["nesterov"] and (momentum <= 0.0 or dampening != 0.0):
            name = next((n for n in ("nesterov", "momentum", "dampening") if n in given), "nesterov")
            raise ValueError(
                f"invalid {name}: {settings[name]} (with nesterov, momentum must be more "
                f"than 0 and dampening 0: here momentum={momentum}, dampening={dampening})"
            )

    def _configure(self, settings: Mapping[str, Any]) -> None:
        s = settings
        self._sgd(s["lr"], s["momentum"], s["dampening"], s["weight_decay"], s["nesterov"])


class Adam(_Optimizer):
    """torch.optim.Adam: g = grad + weight_decay * p; m += (1 - beta1) * (g - m);
    v = beta2 * v + (1 - beta2) * g * g; p -= lr / (1 - beta1**t) * m / (sqrt(v) /
    sqrt(1 - beta2**t) + eps), at step t = 1, 2, ..., once for each distinct parameter (a Value
    named twice has one m and one v, and is updated once)."""

    _decoupled = False
    _RULES = {"lr": _nonnegative, "betas": _betas, "eps": _nonnegative, "weight_decay": _nonnegative}
    betas: tuple[float, float]
    eps: float
    weight_decay: float

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay), buffers=2)

    def _configure(self, settings: Mapping[str, Any]) -> None:
        s = settings
        beta1, beta2 = s["betas"]
        self._adam(s["lr"], beta1, beta2, s["eps"], s["weight_decay"], self._decoupled)


class AdamW(Adam):
    """torch.optim.AdamW: Adam with the weight decay decoupled, p *= 1 - lr * weight_decay
    before the update, and none in the gradient; a Value named twice is decayed and updated
    once, as in Adam."""

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


class _Schedule:
    """Sets the optimizer's lr from the steps of the schedule taken (torch's closed forms).
    Its settings, named in _RULES, are checked as an optimizer's are, by _update at
    construction and on assignment."""

    _RULES: ClassVar[Mapping[str, Rule]] = {"base_lr": _nonnegative}
    base_lr: float

    def __init__(self, optimizer: _Optimizer, settings: Mapping[str, object]) -> None:
        if not isinstance(optimizer, _Optimizer):
            raise TypeError(
                f"invalid optimizer: {optimizer!r} is a {type(optimizer).__name__}, "
                "not an optimizer of micrograd_c.optim"
            )
        self._update(dict(settings, base_lr=optimizer.lr))
        self.optimizer = optimizer
        self.last_epoch = 0

    def __setattr__(self, name: str, value: object) -> None:
        if name in self._RULES:
            self._update({name: value})
        else:
            object.__setattr__(self, name, value)

    def _update(self, given: Mapping[str, object]) -> None:
        """Takes the settings given if each passes its rule, else none of them."""
        self.__dict__.update(_checked(self._RULES, given))

    def step(self) -> None:
        """One step of the schedule (call it after optimizer.step()). The epoch is counted
        once the optimizer has taken its lr: one it refuses (an overflow to inf) changes
        nothing."""
        self.optimizer.lr = self.lr_at(self.last_epoch + 1)
        self.last_epoch += 1

    def get_last_lr(self) -> list[float]:
        return [self.optimizer.lr]

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError


class StepLR(_Schedule):
    """lr = base_lr * gamma ** (epoch // step_size), as torch.optim.lr_scheduler.StepLR."""

    _RULES = {"base_lr": _nonnegative, "step_size": _count, "gamma": _positive}
    step_size: int
    gamma: float

    def __init__(self, optimizer: _Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer, dict(step_size=step_size, gamma=gamma))

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(_Schedule):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, as
    torch.optim.lr_scheduler.CosineAnnealingLR's closed form."""

    _RULES = {"base_lr": _nonnegative, "T_max": _count, "eta_min": _nonnegative}
    T_max: int
    eta_min: float

    def __init__(self, optimizer: _Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer, dict(T_max=T_max, eta_min=eta_min))

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
