"""ASGD, with PyTorch's update rule (single-tensor CPU path)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import (Optimizer, _buf, _check, _grads, _scalar,
                        _step_tensor, _step_value, _touch)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged stochastic gradient descent, exactly as ``torch.optim.ASGD``.

    Notes
    -----
    :math:`p \leftarrow p (1 - \lambda\eta) - \eta g`; the average ``ax`` follows ``p`` with weight
    :math:`\mu = 1/\max(1, t - t_0)`; :math:`\eta = \text{lr}/(1 + \lambda\,\text{lr}\,t)^\alpha`.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["eta"] = _scalar(lr)
                    state["mu"] = _scalar(1.0)
                    state["ax"] = _buf(np.zeros_like(x))
                state["step"]._data += 1
                g = -g if group["maximize"] else g
                if group["weight_decay"] != 0:
                    g = g + group["weight_decay"] * x
                eta = _step_value(state["eta"])
                x *= 1 - lambd * eta
                x -= eta * g
                ax, mu = state["ax"]._data, state["mu"]._data
                if _step_value(state["mu"]) != 1:
                    ax += (x - ax) * mu.astype(x.dtype)
                else:
                    ax[...] = x
                step = _step_value(state["step"])
                # NOTE: new float32 0-d arrays, as ``np.array(value, dtype=np.float32)``, written so
                # that under gradkit.compile the values stay traced (np.array of a traced Python
                # float would read it as a constant)
                for key, value in (("eta", lr / ((1 + lambd * lr * step) ** alpha)),
                                   ("mu", 1 / max(1, step - t0))):
                    new = np.zeros_like(state[key]._data, dtype=np.float32)
                    np.copyto(new, value)
                    state[key]._data = new
                _touch(p)
        return loss
