"""Rprop, with PyTorch's update rule (single-tensor CPU path)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import (Optimizer, _buf, _check, _grads, _step_tensor, _touch)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Resilient backpropagation, exactly as ``torch.optim.Rprop``.

    Notes
    -----
    Each entry's step size is multiplied by ``etas[1]`` when the gradient keeps its sign,
    by ``etas[0]`` when it flips (and that entry then skips the step), clamped to
    ``step_sizes``; the parameter moves by ``-sign(g) * step_size``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check(0.0 < etas[0] < 1.0 < etas[1], f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            lo, hi = group["step_sizes"]
            for p, g in _grads(group):
                x = p._data
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["prev"] = _buf(np.zeros_like(x))
                    state["step_size"] = _buf(np.full_like(g, group["lr"]))
                state["step"]._data += 1
                g = -g if group["maximize"] else g
                prev, size = state["prev"]._data, state["step_size"]._data
                sign = np.sign(g * prev)
                factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0)).astype(size.dtype)
                size *= factor
                np.clip(size, lo, hi, out=size)
                g = np.where(sign < 0, 0, g).astype(g.dtype)
                x -= np.sign(g) * size
                prev[...] = g
                _touch(p)
        return loss
