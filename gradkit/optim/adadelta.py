"""Adadelta, with PyTorch's update rule (single-tensor CPU path)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import (Optimizer, _buf, _check, _grads, _step_tensor, _touch)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta, exactly as ``torch.optim.Adadelta``.

    Notes
    -----
    :math:`v \leftarrow \rho v + (1-\rho) g^2`,
    :math:`\Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}} g`,
    :math:`u \leftarrow \rho u + (1-\rho)\Delta^2`, :math:`p \leftarrow p - \text{lr}\,\Delta`.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _buf(np.zeros_like(x))
                    state["acc_delta"] = _buf(np.zeros_like(x))
                state["step"]._data += 1
                g = -g if group["maximize"] else g
                if wd != 0:
                    g = g + wd * x
                v, u = state["square_avg"]._data, state["acc_delta"]._data
                v *= rho
                v += (1 - rho) * g * g
                delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
                u *= rho
                u += (1 - rho) * delta * delta
                x -= lr * delta
                _touch(p)
        return loss
