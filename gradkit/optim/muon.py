"""Muon: momentum, then the update orthogonalized by a Newton-Schulz iteration (2-D parameters)."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np

from gradkit._core import dtype as _dtype
from .optimizer import Optimizer, _buf, _fma, _grads, _lerp, _touch

__all__ = ["Muon"]

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _rounder() -> Callable[[np.ndarray], np.ndarray]:
    """Rounding to bfloat16 (values kept in float32), or none without ml_dtypes."""
    try:
        bf = _dtype.load_bfloat16().np
    except TypeError:
        return lambda a: a

    def rb(a: np.ndarray) -> np.ndarray:
        return np.asarray(a, np.float32).astype(bf).astype(np.float32)
    return rb


def _zeropower_via_newtonschulz(grad: np.ndarray, ns_coefficients: tuple[float, float, float],
                                ns_steps: int, eps: float) -> np.ndarray:
    """The quintic Newton-Schulz iteration of ``torch.optim.Muon``, in bfloat16 as PyTorch runs
    it (each matrix product and ``addmm`` computed in float32 and rounded once to bfloat16).

    NOTE: without ml_dtypes the iteration runs in float32: the update then differs from
    PyTorch's by bfloat16 rounding (about 0.4% of an entry), which it does not try to copy.
    """
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (np.float32(v) for v in ns_coefficients)
    rb = _rounder()
    x = rb(grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = rb(np.sqrt(np.sum(x * x, dtype=np.float32)))
    x = rb(x / rb(np.maximum(norm, np.float32(eps))))
    for _ in range(ns_steps):
        gram = rb(x @ x.T)
        update = rb(c * (gram @ gram) + b * gram)
        x = rb(update @ x + a * x)
    return x.T if tall else x


def _adjust_lr(lr: float, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    """The learning rate scaled for a ``shape[0]`` x ``shape[1]`` matrix (PyTorch's rule)."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    r"""Muon (MomentUm Orthogonalized by Newton-Schulz), as ``torch.optim.Muon``: for the 2-D
    parameters of hidden layers (optimize biases and embeddings with AdamW).

    Notes
    -----
    With gradient :math:`g`, momentum :math:`\mu`, weight decay :math:`\lambda`:

    .. math::
        B \leftarrow \mu B + (1 - \mu) g, \quad
        \tilde B = (1 - \mu) g + \mu B \text{ (nesterov) or } B, \quad
        O = \mathrm{NS}_k^{(a,b,c)}(\tilde B), \quad
        p \leftarrow p (1 - \text{lr}\,\lambda) - \text{lr}' O

    where :math:`\mathrm{NS}` is ``ns_steps`` quintic Newton-Schulz steps on
    :math:`\tilde B / \max(\lVert\tilde B\rVert, \varepsilon)`, run in bfloat16 as PyTorch does
    (with ml_dtypes installed; in float32 without it), and :math:`\text{lr}'` is ``lr`` times
    :math:`\sqrt{\max(1, A/B)}` (``adjust_lr_fn="original"``, the default) or
    :math:`0.2\sqrt{\max(A, B)}` (``"match_rms_adamw"``) for an :math:`A \times B` parameter.

    Examples
    --------
    >>> import gradkit as gk
    >>> w = gk.tensor([[3.0, 0.0], [0.0, -2.0]], requires_grad=True)
    >>> opt = Muon([w], lr=0.1, weight_decay=0.0)
    >>> (w ** 2).sum().backward()
    >>> _ = opt.step()
    >>> w.shape
    torch.Size([2, 2])
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
                 eps: float = EPS, ns_steps: int = DEFAULT_NS_STEPS,
                 adjust_lr_fn: str | None = None) -> None:
        if not hasattr(lr, "numel") and not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            mu, wd = group["momentum"], group["weight_decay"]
            for p, g in _grads(group):
                if p.is_complex():
                    raise RuntimeError("Muon does not support complex parameters")
                if g.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    state["momentum_buffer"] = buf = _buf(np.zeros_like(g))
                b = buf._data
                b[...] = _lerp(b, g, 1 - mu)
                update = _lerp(g, b, mu) if group["nesterov"] else b
                ortho = _zeropower_via_newtonschulz(update, tuple(group["ns_coefficients"]),
                                                    group["ns_steps"], group["eps"])
                x = p._data
                x *= np.asarray(1 - lr * wd, dtype=x.dtype)
                alpha = x.dtype.type(-_adjust_lr(lr, group["adjust_lr_fn"], tuple(x.shape)))
                x[...] = _fma(alpha, ortho.astype(x.dtype, copy=False), x)
                _touch(p)
        return loss
