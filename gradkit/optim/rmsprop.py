"""RMSprop."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import Optimizer, _buf, _check, _grads, _step_tensor, _touch

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, exactly as ``torch.optim.RMSprop``.

    Notes
    -----
    :math:`v \leftarrow \alpha v + (1-\alpha) g^2`; the step divides by
    :math:`\sqrt{v} + \epsilon` (``centered`` subtracts the squared running mean
    of :math:`g` under the root), with optional momentum buffer.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(alpha >= 0.0, f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _buf(np.zeros_like(x))
                    if mu > 0:
                        state["momentum_buffer"] = _buf(np.zeros_like(x))
                    if group["centered"]:
                        state["grad_avg"] = _buf(np.zeros_like(x))
                g = -g if group["maximize"] else g
                state["step"]._data += 1
                if group["weight_decay"] != 0:
                    g = g + group["weight_decay"] * x
                v = state["square_avg"]._data
                v *= alpha
                v += (1 - alpha) * g * g
                if group["centered"]:
                    ga = state["grad_avg"]._data
                    ga += (g - ga) * (1 - alpha)
                    avg = np.sqrt(v - ga * ga)
                else:
                    avg = np.sqrt(v)
                avg += eps
                if mu > 0:
                    buf = state["momentum_buffer"]._data
                    buf *= mu
                    buf += g / avg
                    x -= lr * buf
                else:
                    x += (-lr * g) / avg
                _touch(p)
        return loss


