"""Adafactor: Adam-like steps with a factored (row and column) second moment."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import Optimizer, _buf, _fma, _grads, _lerp, _step_tensor, _touch

__all__ = ["Adafactor"]


def _norm(a: np.ndarray, axis: Any = None) -> Any:
    return np.sqrt(np.sum(a * a, axis=axis, keepdims=axis is not None, dtype=a.dtype))


class Adafactor(Optimizer):
    r"""Adafactor, as ``torch.optim.Adafactor`` (PyTorch's variant of Shazeer and Stern, 2018).

    Notes
    -----
    At step :math:`t` with :math:`\beta_{2,t} = 1 - t^{c}` (``beta2_decay`` :math:`c`),
    :math:`\rho_t = \min(\text{lr}, 1/\sqrt t)` and
    :math:`\alpha_t = \max(\varepsilon_2, \mathrm{RMS}(p))\,\rho_t`: a matrix gradient :math:`G`
    updates the row and column means of :math:`G^2` (:math:`R \leftarrow \mathrm{lerp}(R,
    \overline{G^2}_{\text{row}}, 1 - \beta_{2,t})`, likewise :math:`C`), estimates
    :math:`V = R C / \max(\bar R, \varepsilon_1)`; a vector keeps :math:`V` itself. Then
    :math:`U = G / \sqrt{\max(V, \varepsilon_1^2)}` and
    :math:`p \leftarrow p - \alpha_t U / \max(1, \mathrm{RMS}(U)/d)` (after the decoupled weight
    decay :math:`p \leftarrow p (1 - \text{lr}\,\lambda)`). :math:`\varepsilon_1` defaults to the
    parameter dtype's machine epsilon.

    Examples
    --------
    >>> import gradkit as gk
    >>> w = gk.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    >>> opt = Adafactor([w], lr=0.1)
    >>> (w ** 2).sum().backward()
    >>> _ = opt.step()
    >>> sorted(opt.state[w])
    ['col_var', 'row_var', 'step']
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            eps1, eps2 = group["eps"]
            wd, d = group["weight_decay"], group["d"]
            for p, g in _grads(group):
                if p.is_complex():
                    raise RuntimeError("Adafactor does not support complex parameters")
                g = -g if group["maximize"] else g
                x = p._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    if g.ndim > 1:
                        state["row_var"] = _buf(np.zeros(g.shape[:-1] + (1,), g.dtype))
                        state["col_var"] = _buf(np.zeros(g.shape[:-2] + (1,) + g.shape[-1:],
                                                         g.dtype))
                    else:
                        state["variance"] = _buf(np.zeros_like(g))
                e1 = float(np.finfo(x.dtype).eps) if eps1 is None else eps1
                step_arr = state["step"]._data
                step_arr += 1
                t = float(step_arr)
                w = t ** group["beta2_decay"]                       # 1 - beta2_t
                rho = min(lr, 1 / t ** 0.5)
                alpha = max(eps2, float(_norm(x)) / x.size ** 0.5) * rho
                if wd != 0:
                    x *= x.dtype.type(1 - lr * wd)
                if g.ndim > 1:
                    row, col = state["row_var"]._data, state["col_var"]._data
                    n_row, n_col = g.shape[-1], g.shape[-2]
                    row_mean = np.square(_norm(g, -1)) / g.dtype.type(n_row)
                    row[...] = _lerp(row, row_mean, w)
                    col_mean = np.square(_norm(g, -2)) / g.dtype.type(n_col)
                    col[...] = _lerp(col, col_mean, w)
                    est = np.matmul(row, col)
                    est = est / np.maximum(np.mean(row, axis=-2, keepdims=True, dtype=row.dtype),
                                           row.dtype.type(e1))
                else:
                    var = state["variance"]._data
                    var[...] = _lerp(var, g * g, w)
                    est = var.copy()
                update = 1 / np.sqrt(np.maximum(est, est.dtype.type(e1 * e1)))
                update = update * g
                denom = max(1.0, float(_norm(update)) / (math.sqrt(update.size) * d))
                x[...] = _fma(x.dtype.type(-alpha / denom), update.astype(x.dtype, copy=False), x)
                _touch(p)
        return loss
