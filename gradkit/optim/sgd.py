"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any, Callable, Iterable


from gradkit._core import backend as _backend
from .optimizer import Optimizer, _buf, _check, _grads, _touch

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, exactly as ``torch.optim.SGD``.

    Notes
    -----
    With gradient :math:`g` (negated when ``maximize``), weight decay :math:`\lambda`,
    momentum :math:`\mu` and dampening :math:`\tau`:

    .. math::
        g \leftarrow g + \lambda p, \quad
        b \leftarrow \mu b + (1 - \tau) g \ (b = g \text{ on the first step}), \quad
        p \leftarrow p - \text{lr} \, (g + \mu b \text{ if nesterov else } b).

    Examples
    --------
    >>> import gradkit as gk
    >>> w = gk.tensor(5.0, requires_grad=True)
    >>> opt = SGD([w], lr=0.4)
    >>> (w ** 2).backward()
    >>> _ = opt.step()
    >>> w
    tensor(1., requires_grad=True)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(not nesterov or (momentum > 0 and dampening == 0),
               "Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p, g in _grads(group):
                x = p._data
                g = -g if group["maximize"] else g
                if wd != 0:
                    g = g + wd * x
                if mu != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        state["momentum_buffer"] = buf = _buf(_backend.copy(g))
                    else:
                        b = buf._data
                        b *= mu
                        b += (1 - group["dampening"]) * g
                    g = g + mu * buf._data if group["nesterov"] else buf._data
                x -= lr * g
                _touch(p)
        return loss
