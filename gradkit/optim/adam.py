"""Adam, with AMSGrad."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import Optimizer, _buf, _check_adam_like, _grads, _moments, _step_value, _touch

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam, exactly as ``torch.optim.Adam`` (single-tensor CPU path).

    Notes
    -----
    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
        p \leftarrow p - \frac{\text{lr}}{1-\beta_1^t}
        \frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}

    ``weight_decay`` adds :math:`\lambda p` to the gradient (L2); with
    ``decoupled_weight_decay=True`` (``AdamW``) the parameter is instead
    multiplied by :math:`1 - \text{lr}\,\lambda` first. ``amsgrad`` uses the
    running maximum of :math:`v`.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check_adam_like(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
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
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = _buf(np.zeros_like(x))
                g = -g if group["maximize"] else g
                state["step"]._data += 1
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        x *= 1 - lr * wd
                    else:
                        g = g + wd * x
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                m += (g - m) * (1 - beta1)            # lerp, as PyTorch
                v *= beta2
                v += (1 - beta2) * g * g
                step = _step_value(state["step"])
                bias_correction1 = 1 - beta1 ** step
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                if group["amsgrad"]:
                    vmax = state["max_exp_avg_sq"]._data
                    np.maximum(vmax, v, out=vmax)
                    v = vmax
                denom = np.sqrt(v) / bias_correction2_sqrt + eps
                x += (-(lr / bias_correction1) * m) / denom
                _touch(p)
        return loss


