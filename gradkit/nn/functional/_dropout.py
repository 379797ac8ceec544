"""Dropout functions of gradkit.nn.functional."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradkit._core.concrete import user_stacklevel
from gradkit._core.tensor import Tensor
from gradkit.nn import functional as F
from ._base import _const, _inplace, _t
from gradkit._core.creation import _gen

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The mask comes from gradkit's default generator (``gk.manual_seed``); with
    ``training=False`` the input is returned unchanged.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _t(input)
    if not training or p == 0.0:
        return x
    keep = _rng(x).random(tuple(x.shape)) >= p
    scale = np.where(keep, 1.0 / (1.0 - p), 0.0) if p < 1.0 else np.zeros(tuple(x.shape))
    return _inplace(x, lambda v: v * _const(scale, v), inplace)


_ALPHA = 1.7580993408473766      # -SELU_ALPHA * SELU_SCALE, negated


def _rng(x: Tensor) -> Any:
    """The default generator, or one that draws nothing for a meta tensor (as PyTorch's)."""
    return _gen(None, x)


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


# --- dropouts ---------------------------------------------------------------------------
def _feature_dropout(input: Any, p: float, training: bool, inplace: bool, nd: int, name: str) -> Tensor:
    _check_p(p)
    x = _t(input)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D input, but received a {x.ndim}D input. "
                           f"Note that {name} exists to provide channel-wise dropout on inputs with {nd} "
                           "spatial dimension(s), a channel dimension, and an optional batch dimension "
                           f"(i.e. {nd + 1}D or {nd + 2}D inputs).")
    if not training or p == 0.0:
        return x
    lead = x.ndim - nd
    shape = tuple(x.shape[:lead]) + (1,) * nd
    keep = _rng(x).random(shape) >= p
    scale = np.where(keep, 1.0 / (1.0 - p), 0.0) if p < 1.0 else np.zeros(shape)
    return F._inplace(x, lambda v: v * _const(scale, v), inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) with probability ``p``; scale the rest."""
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def _deprecated_dims(x: Tensor, nd: int, name: str) -> None:
    if x.ndim not in (nd + 1, nd + 2):
        warnings.warn(f"{name}: Received a {x.ndim}-D input to {name}, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence "
                      f"this warning, please use dropout instead. Note that {name} exists to provide "
                      f"channel-wise dropout on inputs with {nd} spatial dimensions, a channel "
                      "dimension, and an optional batch dimension (i.e. "
                      f"{nd + 1}D or {nd + 2}D inputs).", stacklevel=user_stacklevel())


def _channel_dropout(x: Tensor, p: float, training: bool, inplace: bool, lead: int) -> Tensor:
    """Zero whole slices ``x[i0, .., i(lead-1)]`` with probability ``p`` (PyTorch's feature
    dropout with the mask over the first ``lead`` dimensions); scale the rest."""
    if not training or p == 0.0:
        return x
    if x.ndim < 2 and lead == 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = tuple(x.shape[:lead]) + (1,) * (x.ndim - lead)
    keep = _rng(x).random(shape) >= p
    scale = np.where(keep, 1.0 / (1.0 - p), 0.0) if p < 1.0 else np.zeros(shape)
    return F._inplace(x, lambda v: v * _const(scale, v), inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` with probability ``p``; scale the rest.

    As in PyTorch 2.13, the mask is always over the first two dimensions: a 3-D input is read as
    ``(N, C, L)`` (not as an unbatched ``(C, H, W)``; use ``dropout1d`` to say so), with
    PyTorch's warning; inputs that are not 3-D or 4-D work the same way, with its deprecation
    warning, and fewer than 2 dimensions raise when training.
    """
    _check_p(p)
    x = _t(input)
    _deprecated_dims(x, 2, "dropout2d")
    if x.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", stacklevel=user_stacklevel())
    return _channel_dropout(x, p, training, inplace, 2)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) with probability ``p``.

    Inputs that are not 4-D or 5-D get PyTorch's deprecation warning and are read as unbatched
    (the channel is the first dimension), as PyTorch 2.13 does.
    """
    _check_p(p)
    x = _t(input)
    _deprecated_dims(x, 3, "dropout3d")
    if x.ndim == 0 and training and p != 0.0:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _channel_dropout(x, p, training, inplace, 2 if x.ndim == 5 else 1)


def _alpha(input: Any, p: float, training: bool, inplace: bool, feature: bool) -> Tensor:
    _check_p(p)
    x = _t(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return F._inplace(x, lambda v: v * 0.0, inplace)
    if feature and x.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = (tuple(x.shape[:2]) + (1,) * (x.ndim - 2)) if feature else tuple(x.shape)
    mask = (_rng(x).random(shape) >= p).astype(np.float64)
    a = ((1 - p) * (1 + p * _ALPHA ** 2)) ** -0.5
    b = (mask - 1) * (_ALPHA * a) + _ALPHA * a * p
    return F._inplace(x, lambda v: v * _const(mask * a, v) + _const(b, v), inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's zero mean and unit variance (dropped entries become ``-alpha'``)."""
    return _alpha(input, p, training, inplace, False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (dim 1)."""
    return _alpha(input, p, training, inplace, True)
