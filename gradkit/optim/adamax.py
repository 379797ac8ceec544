"""Adamax, with PyTorch's update rule (single-tensor CPU path)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import (Optimizer, _buf, _check_adam_like, _grads, _step_tensor,
                        _step_value, _touch)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adam over the infinity norm, exactly as ``torch.optim.Adamax``.

    Notes
    -----
    :math:`u \leftarrow \max(\beta_2 u, |g| + \epsilon)`,
    :math:`p \leftarrow p - \frac{\text{lr}}{1-\beta_1^t}\frac{m}{u}`.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        _check_adam_like(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
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
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _buf(np.zeros_like(x))
                    state["exp_inf"] = _buf(np.zeros_like(x))
                g = -g if group["maximize"] else g
                state["step"]._data += 1
                if wd != 0:
                    g = g + wd * x
                m, u = state["exp_avg"]._data, state["exp_inf"]._data
                m += (g - m) * (1 - beta1)
                u *= beta2
                np.maximum(u, np.abs(g) + eps, out=u)
                clr = lr / (1 - beta1 ** _step_value(state["step"]))
                x += -clr * m / u
                _touch(p)
        return loss
