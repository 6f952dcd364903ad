"""Optimizers over Values, with PyTorch's update rules: SGD, Adam, AdamW, and two schedules.

    opt = optim.Adam(model.parameters(), lr=0.01)
    for k in range(steps):
        loss = ...
        opt.zero_grad()
        loss.backward()
        opt.step()

step() and zero_grad() are each one C call over the parameters' nodes (csrc/optim.c, where
the formulas are, as torch.optim documents them). The parameters are leaves: Values made as
Value(x), as an nn module's are. `lr` can be set between steps, by hand or by a schedule.
Not here: torch's parameter groups, amsgrad, maximize, and state_dict for the optimizer.
"""
from __future__ import annotations

import math
from typing import Iterable

from micrograd_c._glue import core
from micrograd_c.engine import Value

__all__ = ["SGD", "Adam", "AdamW", "StepLR", "CosineAnnealingLR"]


def _at_least(name: str, x: float, low: float = 0.0) -> float:
    x = float(x)
    if not x >= low:                # NaN too
        raise ValueError(f"invalid {name}: {x} (it must be {low} or more)")
    return x


class _Optimizer(core.ParamSet):
    """The parameters, checked, as one C parameter set (csrc/optim_glue.c) with `buffers`
    state arrays; step() and zero_grad() are its C methods. The C set holds the settings
    too, sent again whenever one of _SETTINGS changes."""

    _SETTINGS: frozenset[str] = frozenset()

    def __init__(self, params: Iterable[Value], lr: float, buffers: int) -> None:
        params = list(params)
        if not params:
            raise ValueError("the optimizer got an empty parameter list")
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"parameter {i} is a {type(p).__name__}, not a Value")
            if p._op or p._prev:
                raise ValueError(f"parameter {i} is the result of {p._op or 'an op'!r}, not a leaf: "
                                 "an optimizer updates leaves, the Values made as Value(x)")
        super().__init__(params, buffers)
        self.params = params
        self.lr = lr

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if name in self._SETTINGS and "lr" in self.__dict__:
            self._configure()

    @property
    def lr(self) -> float:
        return float(self.__dict__["lr"])

    @lr.setter
    def lr(self, lr: float) -> None:
        self.__dict__["lr"] = _at_least("learning rate", lr)
        self._configure()

    def _configure(self) -> None:
        raise NotImplementedError


class SGD(_Optimizer):
    """torch.optim.SGD: g = grad + weight_decay * p; with momentum, buf = g at the first step,
    then momentum * buf + (1 - dampening) * g, and g = buf (or g + momentum * buf, nesterov);
    p -= lr * g."""

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> None:
        self.momentum = _at_least("momentum", momentum)
        self.dampening = float(dampening)
        self.weight_decay = _at_least("weight_decay", weight_decay)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum needs a momentum and zero dampening")
        super().__init__(params, lr, buffers=1)

    _SETTINGS = frozenset({"momentum", "dampening", "weight_decay", "nesterov"})

    def _configure(self) -> None:
        self._sgd(self.lr, self.momentum, self.dampening, self.weight_decay, self.nesterov)


class Adam(_Optimizer):
    """torch.optim.Adam: g = grad + weight_decay * p; m += (1 - beta1) * (g - m);
    v = beta2 * v + (1 - beta2) * g * g; p -= lr / (1 - beta1**t) * m / (sqrt(v) /
    sqrt(1 - beta2**t) + eps), at step t = 1, 2, ..."""

    _decoupled = False

    def __init__(self, params: Iterable[Value], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        beta1, beta2 = betas
        self.betas = (float(beta1), float(beta2))
        if not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"invalid betas: {betas} (each must be in [0, 1))")
        self.eps = _at_least("eps", eps)
        self.weight_decay = _at_least("weight_decay", weight_decay)
        super().__init__(params, lr, buffers=2)

    _SETTINGS = frozenset({"betas", "eps", "weight_decay"})

    def _configure(self) -> None:
        beta1, beta2 = self.betas
        self._adam(self.lr, beta1, beta2, self.eps, self.weight_decay, self._decoupled)


class AdamW(Adam):
    """torch.optim.AdamW: Adam with the weight decay decoupled, p *= 1 - lr * weight_decay
    before the update, and none in the gradient."""

    _decoupled = True

    def __init__(self, params: Iterable[Value], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


class _Schedule:
    """Sets the optimizer's lr from the steps of the schedule taken (torch's closed forms)."""

    def __init__(self, optimizer: _Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def step(self) -> None:
        """One step of the schedule (call it after optimizer.step())."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        return [self.optimizer.lr]

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError


class StepLR(_Schedule):
    """lr = base_lr * gamma ** (epoch // step_size), as torch.optim.lr_scheduler.StepLR."""

    def __init__(self, optimizer: _Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if int(step_size) < 1:
            raise ValueError(f"invalid step_size: {step_size} (it must be 1 or more)")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(_Schedule):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, as
    torch.optim.lr_scheduler.CosineAnnealingLR's closed form."""

    def __init__(self, optimizer: _Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        if int(T_max) < 1:
            raise ValueError(f"invalid T_max: {T_max} (it must be 1 or more)")
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
