"""RAdam, with PyTorch's update rule (single-tensor CPU path)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import (Optimizer, _check_adam_like, _grads, _moments, _step_value,
                        _touch)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""Rectified Adam, exactly as ``torch.optim.RAdam``.

    Notes
    -----
    With :math:`\rho_\infty = 2/(1-\beta_2) - 1` and
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`, the step is Adam's rectified by
    :math:`r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}`
    when :math:`\rho_t > 5`, and plain momentum SGD (bias-corrected) otherwise.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_adam_like(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    _moments(state, x)
                g = -g if group["maximize"] else g
                state["step"]._data += 1
                step = _step_value(state["step"])
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        x *= 1 - lr * wd
                    else:
                        g = g + wd * x
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                m += (g - m) * (1 - beta1)
                v *= beta2
                v += (1 - beta2) * g * g
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                corrected = m / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    num = (rho_t - 4) * (rho_t - 2) * rho_inf
                    rect = (num / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = (bias_correction2 ** 0.5) / (np.sqrt(v) + eps)
                    x -= corrected * lr * adaptive * rect
                else:
                    x -= corrected * lr
                _touch(p)
        return loss
