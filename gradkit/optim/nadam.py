"""NAdam, with PyTorch's update rule (single-tensor CPU path)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import (Optimizer, _buf, _check, _check_adam_like, _grads, _scalar,
                        _step_tensor, _step_value, _touch)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""Adam with Nesterov momentum, exactly as ``torch.optim.NAdam``.

    Notes
    -----
    With :math:`\mu_t = \beta_1 (1 - \tfrac12 0.96^{t\psi})` (:math:`\psi` = ``momentum_decay``):

    .. math::
        p \leftarrow p - \text{lr}\,\frac{(1-\mu_t)/(1-\prod_{i\le t}\mu_i)\, g
        + \mu_{t+1}/(1-\prod_{i\le t+1}\mu_i)\, m}{\sqrt{v / (1-\beta_2^t)} + \epsilon}
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_adam_like(lr, eps, betas, weight_decay)
        _check(0.0 <= momentum_decay, f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, wd, eps, psi = group["lr"], group["weight_decay"], group["eps"], group["momentum_decay"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["mu_product"] = _scalar(1.0)
                    state["exp_avg"] = _buf(np.zeros_like(x))
                    state["exp_avg_sq"] = _buf(np.zeros_like(x))
                g = -g if group["maximize"] else g
                state["step"]._data += 1
                step = _step_value(state["step"])
                bias_correction2 = 1 - beta2 ** step
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        x *= 1 - lr * wd
                    else:
                        g = g + wd * x
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))
                mp = state["mu_product"]
                # NOTE: ``mu_product * np.float32(mu)``, kept float32, written so that under
                # gradkit.compile the values stay traced (np.float32 of a traced Python float
                # would read it as a constant)
                new = np.zeros_like(mp._data, dtype=np.float32)
                np.multiply(mp._data, np.multiply(mu, 1.0, dtype=np.float32), out=new)
                mp._data = new
                mu_product = _step_value(mp)
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                m += (g - m) * (1 - beta1)
                v *= beta2
                v += (1 - beta2) * g * g
                denom = np.sqrt(v / bias_correction2) + eps
                x += (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
                x += ((-lr * mu_next) / (1.0 - mu_product * mu_next)) * m / denom
                _touch(p)
        return loss










