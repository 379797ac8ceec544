"""Helpers shared by the distributions (``torch.distributions.utils``)."""

from __future__ import annotations

from functools import update_wrapper
from numbers import Number
from typing import Any

import numpy as np

import gradkit as gk
import gradkit.nn.functional as F

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "clamp_probs", "lazy_property",
           "tril_matrix_to_vec", "vec_to_tril_matrix", "euler_constant"]

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant


def broadcast_all(*values: Any) -> tuple[Any, ...]:
    """Broadcast tensors and numbers to one shape; numbers become tensors of the first tensor's
    dtype (or the default dtype)."""
    if not all(isinstance(v, (gk.Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, gk.Tensor) for v in values):
        dtype = gk.get_default_dtype()
        for v in values:
            if isinstance(v, gk.Tensor):
                dtype = v.dtype
                break
        values = tuple(v if isinstance(v, gk.Tensor) else gk.tensor(v, dtype=dtype) for v in values)
    return tuple(gk.broadcast_tensors(*values))


def _standard_normal(shape: Any, dtype: Any) -> Any:
    return gk.randn(*shape, dtype=dtype)


def _sum_rightmost(value: Any, dim: int) -> Any:
    """Sum out the ``dim`` rightmost dimensions of ``value``."""
    if dim == 0:
        return value
    required_shape = value.shape[:-dim] + (-1,)
    return value.reshape(required_shape).sum(-1)


def logits_to_probs(logits: Any, is_binary: bool = False) -> Any:
    """Logits to probabilities: sigmoid when ``is_binary``, else softmax over the last dim."""
    if is_binary:
        return gk.sigmoid(logits)
    return F.softmax(logits, dim=-1)


def clamp_probs(probs: Any) -> Any:
    """Clamp probabilities to [eps, 1 - eps] of their dtype."""
    eps = gk.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Any, is_binary: bool = False) -> Any:
    """Probabilities to logits (log-odds when ``is_binary``, else log-probabilities)."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return gk.log(ps_clamped) - gk.log1p(-ps_clamped)
    return gk.log(ps_clamped)


class lazy_property:
    """A property computed on first access and then stored on the instance (so parameters
    derived from others, ``probs`` from ``logits``, are computed once)."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        update_wrapper(self, wrapped)  # type: ignore[arg-type]

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with gk.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _BinaryParams:
    """``probs`` and ``logits`` (log-odds) of a binary event, each derived from the other on
    first use (Bernoulli, Binomial, Geometric, ...)."""

    @lazy_property
    def logits(self) -> Any:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Any:
        return logits_to_probs(self.logits, is_binary=True)


class _BinaryParamsShaped(_BinaryParams):
    """:class:`_BinaryParams` and ``param_shape``: the shape of the parameter given."""

    _param: Any

    @property
    def param_shape(self) -> gk.Size:
        return self._param.size()


class _lazy_property_and_property(lazy_property, property):
    """What ``Class.attr`` gives for a lazy property: both a ``lazy_property`` and a ``property``."""

    def __init__(self, wrapped: Any) -> None:
        property.__init__(self, wrapped)


def tril_matrix_to_vec(mat: Any, diag: int = 0) -> Any:
    """The lower triangle (from diagonal ``diag``) of the last two dims, row by row."""
    n = mat.shape[-1]
    if not isinstance(n, int) or diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = np.tril_indices(n, k=diag)
    return mat[..., gk.as_tensor(rows), gk.as_tensor(cols)]


def vec_to_tril_matrix(vec: Any, diag: int = 0) -> Any:
    """The inverse of :func:`tril_matrix_to_vec`."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1))
         ** 0.5) / 2
    eps = np.finfo(np.float32).eps
    if not round(n) - eps <= n <= round(n) + eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed "
                         "as the lower triangular part of a square D x D matrix.")
    n = int(round(n))
    rows, cols = np.tril_indices(n, k=diag)
    flat = gk.zeros(vec.shape[:-1] + (n * n,), dtype=vec.dtype)
    idx = gk.as_tensor(rows * n + cols)
    flat = flat.scatter(-1, idx.expand(vec.shape[:-1] + (idx.shape[0],)), vec)
    return flat.reshape(vec.shape[:-1] + (n, n))
