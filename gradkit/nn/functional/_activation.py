"""Activation functions of gradkit.nn.functional (``torch.nn.functional``'s non-linear activations)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


from gradkit import _api as A
from gradkit._core.concrete import user_stacklevel
from gradkit._core.tensor import Tensor
from gradkit.nn import functional as F
from gradkit.ops import nn as P
from gradkit.ops._registry import apply
from gradkit.ops import reduction as R
from gradkit.ops import shape as S
from ._base import _SELU_ALPHA, _SELU_SCALE, _const, _inplace, _t
from gradkit._core.creation import default_generator
from gradkit._core.autocast import autocast_op

__all__ = [
    "relu", "hardtanh", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "softplus",
    "mish", "softsign", "hardsigmoid", "hardswish", "sigmoid", "tanh", "logsigmoid", "softmax",
    "log_softmax", "softmin", "glu", "normalize", "threshold", "tanhshrink", "softshrink",
    "hardshrink", "prelu", "rrelu", "gumbel_softmax", "relu_", "elu_", "leaky_relu_", "hardtanh_",
    "selu_", "celu_", "rrelu_", "threshold_",
]


# --- activations ------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``; the gradient at 0 is 0 (PyTorch)."""
    return _inplace(_t(input), A.relu, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Clamp to ``[min_val, max_val]``.

    Notes
    -----
    Unlike ``clamp``, the gradient is 0 at the bounds themselves, as in PyTorch.
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _inplace(_t(input), lambda x: P.hardtanh_p(x, min_val=float(min_val), max_val=float(max_val)),
                    inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``hardtanh(input, 0, 6)``: the gradient is 0 at 0 and at 6 (PyTorch)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, ``negative_slope * input`` elsewhere (slope at 0, as PyTorch)."""
    return _inplace(_t(input), lambda x: P.leaky_relu_p(x, negative_slope=float(negative_slope)),
                    inplace)


def _elu(x: Tensor, alpha: float, scale: float, input_scale: float, variant: int = 0) -> Tensor:
    """One EluBackward0 node (CeluBackward0 for ``variant=1``); see the row's notes."""
    return apply(P.elu_p.prim, (x,), {"alpha": float(alpha), "scale": float(scale),
                                      "input_scale": float(input_scale)}, variant)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, ``alpha * (exp(input) - 1)`` elsewhere."""
    return _inplace(_t(input), lambda x: _elu(x, alpha, 1.0, 1.0), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(input, alpha)`` with the self-normalizing constants."""
    return _inplace(_t(input), lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE, 1.0), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return _inplace(_t(input), lambda x: _elu(x, alpha, 1.0, 1.0 / alpha, 1), inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)``, exactly through ``erf`` or, with ``approximate='tanh'``, by tanh."""
    x = _t(input)
    if approximate in ("none", "tanh"):
        return P.gelu_p(x, approximate=approximate)       # one GeluBackward0 node
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)``."""
    return _inplace(_t(input), P.silu_p, inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``.

    Notes
    -----
    The exponential only sees ``min(beta * x, threshold)``, so logits of 1e4 give
    finite values and gradients.
    """
    return P.softplus_p(_t(input), beta=float(beta), threshold=float(threshold))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * tanh(softplus(input))``."""
    return _inplace(_t(input), P.mish_p, inplace)


def softsign(input: Tensor) -> Tensor:
    """``input / (1 + |input|)``."""
    x = _t(input)
    return x / (A.abs(x) + 1.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``; the gradient is 0 at -3 and 3 (PyTorch)."""
    return _inplace(_t(input), P.hardsigmoid_p, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6`` (a fused primitive); the derivative is 0 at -3 and 1 at 3 (PyTorch)."""
    return _inplace(_t(input), P.hardswish_p, inplace)


def sigmoid(input: Tensor) -> Tensor:
    return A.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return A.tanh(input)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(input))``, computed without overflow."""
    return P.logsigmoid_p(_t(input))


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    # NOTE: ``_stacklevel`` counts from F.softmax as in PyTorch; its __torch_function__ wrapper
    # (gradkit/_core/torch_function.py) is one frame more
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=stacklevel + 1)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(input: Any, dim: Any, dtype: Any, name: str, stacklevel: int) -> tuple[Tensor, int]:
    x = _t(input)
    if dtype is not None:
        x = x.to(dtype)
    if dim is None:
        dim = _softmax_dim(name, x.ndim, stacklevel + 1)
    d = S.norm_dim(dim, x.ndim)
    if not (x.is_floating_point() or x.is_complex()):
        kernel = ("log_softmax" if name == "log_softmax" else "softmax") + \
            ("_lastdim" if d == x.ndim - 1 or x.ndim == 0 else "") + "_kernel_impl"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{A._scalar_name(x.dtype)}\'')
    return x, d


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``, a fused primitive (the max is subtracted first).

    Examples
    --------
    >>> F.softmax(gk.tensor([1.0, 2.0, 3.0]), dim=0)
    tensor([0.0900, 0.2447, 0.6652])
    """
    x, d = _softmax_input(input, dim, dtype, "softmax", _stacklevel)
    return P.softmax_p(x, dim=d)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """``x - logsumexp(x, dim)``, a fused primitive: stable for logits of any size."""
    x, d = _softmax_input(input, dim, dtype, "log_softmax", _stacklevel)
    return P.log_softmax_p(x, dim=d)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``softmax(-input, dim)``."""
    x, d = _softmax_input(input, dim, dtype, "softmin", _stacklevel)
    return P.softmax_p(-x, dim=d)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second half."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = S.norm_dim(dim, x.ndim)
    if x.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {x.shape[d]}")
    return P.glu_p(x, dim=d)                          # one GluBackward0 node


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Any = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``."""
    x = A.reduction._vector_norm_input(input)
    d = S.norm_dim(dim, x.ndim)
    # PyTorch's graph: norm, clamp_min, expand_as, div
    denom = A.clamp_min(R.norm_p(x, ord=float(p), dim=(d,), keepdim=True), eps)
    return x / A.expand(denom, tuple(x.shape))


# --- activations ------------------------------------------------------------------------
def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``input`` where ``input > threshold``, else ``value``."""
    # NOTE: a nan passes through with gradient 1 (PyTorch replaces only x <= threshold)
    return F._inplace(_t(input), lambda x: P.threshold_p(x, threshold=float(threshold),
                                                       value=float(value)), inplace)


def tanhshrink(input: Tensor) -> Tensor:
    """``input - tanh(input)``."""
    x = _t(input)
    return x - A.tanh(x)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between (gradient 0 at the kinks)."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    # NOTE: a nan stays nan with gradient 1, as in PyTorch's scalar kernel (its vectorized
    # kernel gives 0 there); gradient 0 at the kinks. One SoftshrinkBackward0 node.
    return P.softshrink_p(_t(input), lambd=float(lambd))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    # NOTE: a nan stays nan with gradient 1, as in PyTorch's scalar kernel (HardshrinkBackward0)
    return P.hardshrink_p(_t(input), lambd=float(lambd))


@autocast_op
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has 1 or ``C`` (dim 1) entries."""
    x, w = _t(input), _t(weight, "weight")
    if w.ndim > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {w.ndim}")
    n = w.numel()
    if n != 1:
        if x.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        c = x.shape[1] if x.ndim >= 2 else x.shape[0]
        if c != n:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {n} and channel size = {c}.")
        if x.ndim >= 2:
            w = A.reshape(w, (1, n) + (1,) * (x.ndim - 2))
    elif x.ndim >= 2:
        w = A.reshape(w, (1,) * x.ndim)          # PyTorch's view of the slope
    if x._data.dtype.kind in "fcV" and x._data.dtype == w._data.dtype:
        return P.prelu_p(x, w)                   # one PreluKernelBackward0 node
    return A.where(x > 0, x, w * x)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU whose negative slope is drawn from ``U(lower, upper)`` (their mean in eval)."""
    x = _t(input)
    if not training and not inplace:
        # PyTorch's node (RreluWithNoiseBackward0): leaky_relu with the mean slope
        return apply(P.leaky_relu_p.prim, (x,), {"negative_slope": (lower + upper) / 2}, 1)
    if not training:
        return F.leaky_relu(x, (lower + upper) / 2, inplace)
    slope = default_generator._rng.uniform(lower, upper, tuple(x.shape))
    return F._inplace(x, lambda v: A.where(v >= 0, v, v * _const(slope, v)), inplace)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """Samples from the Gumbel-softmax distribution: ``softmax((logits + g) / tau)`` with
    ``g = -log(Exp(1))`` noise from the shared generator; with ``hard`` the one-hot of the
    arg-max whose gradient is the soft sample's (straight-through)."""
    x = _t(logits)
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", UserWarning,
                      stacklevel=user_stacklevel())
    noise = -np.log(default_generator._rng.exponential(1.0, tuple(x.shape)))
    y_soft = F.softmax((x + _const(noise, x)) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.detach().argmax(dim, keepdim=True)
    y_hard = _const(np.zeros(tuple(x.shape)), x).scatter(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


# --- in-place spellings (``F.relu_(x)`` is ``F.relu(x, inplace=True)``) --------------------
def relu_(input: Tensor) -> Tensor:
    """``relu`` written into ``input`` (recorded as an in-place change, as ``x.relu_()``)."""
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``elu`` written into ``input``."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``leaky_relu`` written into ``input``."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``hardtanh`` written into ``input``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """``selu`` written into ``input``."""
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``celu`` written into ``input``."""
    return celu(input, alpha, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """``rrelu`` written into ``input``."""
    return rrelu(input, lower, upper, training, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """``threshold`` written into ``input``."""
    return globals()["threshold"](input, threshold, value, inplace=True)
