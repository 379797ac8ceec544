"""PyTorch-style differences and integrals: ``diff``, ``gradient``, ``trapezoid``,
``cumulative_trapezoid``.

Built from gradkit's own differentiable functions, so gradients (and gradients of
gradients) come from their rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit import _api as A
from gradkit._core import dtype as _dtype
from gradkit._core.backend import to_numpy
from gradkit._api.base import _dim
from gradkit._api.base import as_tensor_arg as _t
from gradkit._core.tensor import Tensor, _make
from gradkit.ops import elementwise as E
from gradkit.ops._registry import apply
from gradkit._api.views import select as _select

__all__ = [
    "diff", "gradient", "trapezoid", "trapz", "cumulative_trapezoid",
]


# --- differences and integrals ---------------------------------------------------------
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None,
         append: Any = None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``logical_xor`` for bools)."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _dim(dim, x.ndim)
    parts = [x]
    if prepend is not None:
        p = _t(prepend)
        parts.insert(0, p if p.ndim else A.expand(p, tuple(x.shape[:d]) + (1,) + tuple(x.shape[d + 1:])))
    if append is not None:
        p = _t(append)
        parts.append(p if p.ndim else A.expand(p, tuple(x.shape[:d]) + (1,) + tuple(x.shape[d + 1:])))
    if len(parts) > 1:
        x = A.cat(parts, d)
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        hi, lo = A.narrow(x, d, 1, m - 1), A.narrow(x, d, 0, m - 1)
        x = A.logical_xor(hi, lo) if x.dtype is _dtype.bool else A.sub(hi, lo)
    return x


def _spacing_coords(spacing: Any, dims: list[int], x: Tensor) -> list[Any]:
    """Per dimension: a float step or a 1-D ndarray of coordinates."""
    if isinstance(spacing, (int, float)) or (isinstance(spacing, Tensor) and spacing.ndim == 0):
        s = spacing.item() if isinstance(spacing, Tensor) else spacing
        return [float(s)] * len(dims)
    sp = list(spacing)
    if len(sp) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's "
                           f"spacing and dim arguments to have the same length, but got a spacing "
                           f"argument of length {len(sp)} and a dim argument of length {len(dims)}.")
    out: list[Any] = []
    for s, d in zip(sp, dims):
        if isinstance(s, Tensor) and s.ndim == 1:
            c = to_numpy(s._data).astype(np.float64)
            if c.shape[0] != x.shape[d]:
                raise RuntimeError(f"torch.gradient expected each tensor to be on the same device,"
                                   f" and with size {x.shape[d]} along dimension {d}")
            out.append(c)
        else:
            out.append(float(s.item() if isinstance(s, Tensor) else s))
    return out


def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None,
             edge_order: int = 1) -> tuple[Tensor, ...]:
    """PyTorch's ``torch.gradient``: second-order central differences inside, one-sided at the
    edges (order ``edge_order``), along each of ``dim`` (all by default); a tuple of tensors.

    ``spacing`` is a number, a list of numbers (one per dim) or a list of 1-D coordinate tensors.
    """
    x = _t(input)
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = list(range(x.ndim))
    elif isinstance(dim, int):
        dims = [_dim(dim, x.ndim)]
    else:
        dims = [_dim(d, x.ndim) for d in dim]
    for d in dims:
        if x.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    if not x.is_floating_point() and not x.is_complex():
        x = x.to(_dtype.get_default_dtype())
    coords = _spacing_coords(spacing, dims, x)
    return tuple(_grad1(x, d, c, edge_order) for d, c in zip(dims, coords))


def _grad1(f: Tensor, d: int, c: Any, edge_order: int) -> Tensor:
    n = f.shape[d]
    shape = [1] * f.ndim
    dt = f._data.dtype

    def k(v: np.ndarray) -> Tensor:
        s = list(shape)
        s[d] = -1
        return _make(np.asarray(v, dtype=dt).reshape(s), False, None)

    def sl(a: int, b: int) -> Tensor:
        return A.narrow(f, d, a, b - a)

    h = np.diff(c) if isinstance(c, np.ndarray) else np.full(n - 1, c)
    dx1, dx2 = h[:-1], h[1:]
    a = -dx2 / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    cc = dx1 / (dx2 * (dx1 + dx2))
    parts = []
    if edge_order == 1:
        first = A.div(A.sub(sl(1, 2), sl(0, 1)), float(h[0]))
        last = A.div(A.sub(sl(n - 1, n), sl(n - 2, n - 1)), float(h[-1]))
    else:
        h0, h1 = float(h[0]), float(h[1])
        ca, cb, cc0 = -(2 * h0 + h1) / (h0 * (h0 + h1)), (h0 + h1) / (h0 * h1), -h0 / (h1 * (h0 + h1))
        first = A.add(A.add(A.mul(sl(0, 1), ca), A.mul(sl(1, 2), cb)), A.mul(sl(2, 3), cc0))
        h0, h1 = float(h[-2]), float(h[-1])
        la, lb, lc = h1 / (h0 * (h0 + h1)), -(h1 + h0) / (h0 * h1), (2 * h1 + h0) / (h1 * (h0 + h1))
        last = A.add(A.add(A.mul(sl(n - 3, n - 2), la), A.mul(sl(n - 2, n - 1), lb)),
                     A.mul(sl(n - 1, n), lc))
    parts.append(first)
    if n > 2 and not isinstance(c, np.ndarray):
        # NOTE: even spacing: PyTorch's (f[i+1] - f[i-1]) / 2h, which leaves f[i] out (the
        # three-point form below would carry a nan or inf at f[i] into its neighbours' slopes)
        parts.append(A.div(A.sub(sl(2, n), sl(0, n - 2)), 2 * float(c)))
    elif n > 2:
        mid = A.add(A.add(A.mul(sl(0, n - 2), k(a)), A.mul(sl(1, n - 1), k(b))),
                    A.mul(sl(2, n), k(cc)))
        parts.append(mid)
    parts.append(last)
    return A.cat(parts, d)


def _by_number(x: Tensor, name: str, s: Any) -> Tensor:
    """``x * s`` or ``x / s`` by a Python number: PyTorch's C++ Scalar overload (MulBackward1,
    DivBackward1: no next_functions slot for the number)."""
    prim = E.mul.prim if name == "mul" else E.div.prim
    return apply(prim, (x, s), None, 1)


def _pairs(y: Tensor, d: int) -> Tensor:
    n = y.shape[d]
    return A.add(A.narrow(y, d, 1, n - 1), A.narrow(y, d, 0, n - 1))


def _spacing(y: Tensor, x: Any, d: int, name: str = "trapezoid") -> Tensor:
    xs = _t(x)
    if xs.ndim == 1 and xs.shape[0] != y.shape[d]:
        # PyTorch's check (a 1-D x of another length broadcast its steps silently)
        raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
    dxs = diff(xs, dim=-1 if xs.ndim == 1 else d)
    if xs.ndim == 1:
        s = [1] * y.ndim
        s[d] = -1
        dxs = A.reshape(dxs, tuple(s))
    return dxs


def trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """Integral of ``y`` along ``dim`` by the trapezoidal rule (points ``x`` or spacing ``dx``)."""
    y = _t(y)
    d = _dim(dim, y.ndim)
    if y.shape[d] == 0:
        return A.sum(y, d)
    if x is not None and not isinstance(x, (int, float)):
        # PyTorch's composition (its nodes): sum((y[1:] + y[:-1]) * diff(x)) / 2
        return _by_number(A.sum(A.mul(_pairs(y, d), _spacing(y, x, d)), d), "div", 2.0)
    step = x if x is not None else (1 if dx is None else dx)
    # a constant step: (sum(y) - (y[0] + y[-1]) / 2) * dx, as PyTorch composes it
    ends = A.add(_select(y, d, 0), _select(y, d, -1))
    return _by_number(A.sub(A.sum(y, d), _by_number(ends, "mul", 0.5)), "mul", step)


def trapz(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """Running trapezoidal integral of ``y`` along ``dim`` (one element fewer)."""
    y = _t(y)
    d = _dim(dim, y.ndim)
    if y.shape[d] == 0:
        return y
    if x is not None and not isinstance(x, (int, float)):
        return _by_number(A.cumsum(A.mul(_pairs(y, d), _spacing(y, x, d, "cumulative_trapezoid")),
                                   d), "div", 2.0)
    step = x if x is not None else (1 if dx is None else dx)
    return A.cumsum(_by_number(_pairs(y, d), "mul", step / 2.0), d)
