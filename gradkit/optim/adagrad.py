"""Adagrad."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import Optimizer, _buf, _check, _grads, _step_tensor, _step_value, _touch

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, exactly as ``torch.optim.Adagrad``.

    Notes
    -----
    :math:`s \leftarrow s + g^2`, :math:`p \leftarrow p - \frac{\text{lr}}{1 + (t-1)\,\text{lr\_decay}}
    \frac{g}{\sqrt{s} + \epsilon}`.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(lr_decay >= 0.0, f"Invalid lr_decay value: {lr_decay}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(initial_accumulator_value >= 0.0,
               f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _step_tensor()
                state["sum"] = _buf(np.full_like(p._data, group["initial_accumulator_value"]))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                state["step"]._data += 1
                step = _step_value(state["step"])
                g = -g if group["maximize"] else g
                if group["weight_decay"] != 0:
                    g = g + group["weight_decay"] * x
                clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
                s = state["sum"]._data
                s += g * g
                x += (-clr * g) / (np.sqrt(s) + group["eps"])
                _touch(p)
        return loss
