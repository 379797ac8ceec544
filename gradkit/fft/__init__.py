"""Discrete Fourier transforms, as ``torch.fft``; differentiable to any order.

Every function is one of the table's three transforms (``gradkit/ops/fft.py``: ``FftC2C``,
``FftR2C``, ``FftC2R``, named as PyTorch names them) along some dims, with a conjugate where
the definition has one. NumPy's ``np.fft.*`` on gradkit tensors runs the same rows with NumPy's
signatures (``axis``/``axes``, NumPy's dtype rules; see ``gradkit/fft/_numpy.py``).

>>> import gradkit as gk
>>> x = gk.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
>>> y = gk.fft.rfft(x)
>>> y
tensor([10.+0.j, -2.+2.j, -2.+0.j], grad_fn=<FftR2CBackward0>)
>>> (y.abs() ** 2).sum().backward()
>>> x.grad
tensor([12., 20., 20., 28.])
"""

from __future__ import annotations

from typing import Any, Sequence

from gradkit._core import dtype as _dtype
from gradkit._api.base import _t
from gradkit._api.complex import conj
from gradkit._api.shape import roll
from gradkit._core.tensor import Tensor
from ..ops.fft import fft_c2c, fft_c2r, fft_r2c
from gradkit._core.creation import tensor
from gradkit._core.autocast import autocast_op

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
           "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]

_NORMS = (None, "backward", "forward", "ortho")
_SWAP = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def _norm(norm: Any) -> Any:
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return None if norm == "backward" else norm


def _floating(x: Tensor) -> Tensor:
    """Integer and bool inputs are transformed as the default floating dtype, as in torch."""
    if x._data.dtype.kind in "biu":
        return x.to(_dtype.get_default_dtype())
    return x


def _dim(x: Tensor, d: int) -> int:
    n = x.ndim
    if n == 0:
        raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {d})")
    return d % n


def _points(n: Any) -> None:
    if n is not None and int(n) < 1:
        raise RuntimeError(f"Invalid number of data points ({int(n)}) specified")


def _dims_and_sizes(x: Tensor, s: Any, dim: Any, default_all: bool) -> tuple[tuple[int, ...], Any]:
    """PyTorch's rules for ``s``/``dim`` of the n-d transforms."""
    if isinstance(dim, int):
        dim = (dim,)
    if s is not None:
        s = tuple(int(v) for v in s)
        for v in s:
            if v != -1:
                _points(v)
        if dim is None:
            if len(s) > x.ndim:
                raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                                   f"{x.ndim} dimensions.")
            dim = tuple(range(x.ndim - len(s), x.ndim))
        elif len(s) != len(dim):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif dim is None:
        dim = tuple(range(x.ndim)) if default_all else (-2, -1)
    dims = tuple(_dim(x, int(d)) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    if s is not None:
        s = tuple(x.shape[d] if v == -1 else v for d, v in zip(dims, s))
    return dims, s


def _c2c(x: Tensor, s: Any, dims: tuple[int, ...], norm: Any, inverse: bool, nd: bool) -> Tensor:
    """Complex transform of any input, recorded as torch records it: real data go through
    ``FftR2C`` (``ifft``: and a conjugate) in one dim, and are made complex first in n dims."""
    x = _floating(x)
    if not x.is_complex() and (nd or not dims):
        x = x.to(_complex_of(x))
    if not dims:
        return x
    if x.is_complex():
        return fft_c2c(x, s=s, axes=dims, norm=norm, inverse=inverse)
    if inverse:                                  # ifft of real data is conj(fft) with the dual norm
        return conj(fft_r2c(x, s=s, axes=dims, norm=_SWAP[norm], onesided=False))
    return fft_r2c(x, s=s, axes=dims, norm=norm, onesided=False)


def _r2c(x: Tensor, s: Any, dims: tuple[int, ...], norm: Any, name: str) -> Tensor:
    x = _floating(x)
    if x.is_complex():
        raise RuntimeError(f"{name} expects a real input tensor, but got {_dtype_name(x)}")
    return fft_r2c(x, s=s, axes=dims, norm=norm, onesided=True)


def _c2r(x: Tensor, s: Any, dims: tuple[int, ...], norm: Any) -> Tensor:
    x = _floating(x)
    if not x.is_complex():
        x = x.to(_complex_of(x))
    last = dims[-1]
    if s is None:
        s = tuple(x.shape[d] for d in dims[:-1]) + (2 * (x.shape[last] - 1),)
    elif len(s) < len(dims):
        s = tuple(x.shape[d] for d in dims[:len(dims) - len(s)]) + tuple(s)
    if s[-1] < 1:
        raise RuntimeError(f"Invalid number of data points ({s[-1]}) specified")
    return fft_c2r(x, s=tuple(s), axes=dims, norm=norm)


def _complex_of(x: Tensor) -> Any:
    return _dtype.complex64 if x._data.dtype.itemsize <= 4 else _dtype.complex128


def _dtype_name(x: Tensor) -> str:
    return {"complex64": "ComplexFloat", "complex128": "ComplexDouble"}.get(
        x._data.dtype.name, x._data.dtype.name)


# --- one dimension -------------------------------------------------------------------------
@autocast_op
def fft(input: Any, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """One-dimensional discrete Fourier transform (``FftC2CBackward0``; real input: ``FftR2C``)."""
    x, norm = _t(input), _norm(norm)
    _points(n)
    d = _dim(x, dim)
    return _c2c(x, None if n is None else (int(n),), (d,), norm, False, False)


@autocast_op
def ifft(input: Any, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """Inverse of :func:`fft`."""
    x, norm = _t(input), _norm(norm)
    _points(n)
    d = _dim(x, dim)
    return _c2c(x, None if n is None else (int(n),), (d,), norm, True, False)


@autocast_op
def rfft(input: Any, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The non-negative frequencies of the transform of real data (``n // 2 + 1`` values)."""
    x, norm = _t(input), _norm(norm)
    _points(n)
    d = _dim(x, dim)
    return _r2c(x, None if n is None else (int(n),), (d,), norm, "rfft")


@autocast_op
def irfft(input: Any, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """Inverse of :func:`rfft`: real output of length ``n`` (default ``2 * (m - 1)``)."""
    x, norm = _t(input), _norm(norm)
    _points(n)
    d = _dim(x, dim)
    return _c2r(x, None if n is None else (int(n),), (d,), norm)


@autocast_op
def hfft(input: Any, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """Transform of a Hermitian-symmetric signal given by its first half: real output."""
    x, norm = _t(input), _norm(norm)
    _points(n)
    d = _dim(x, dim)
    return _c2r(conj(_floating(x)), None if n is None else (int(n),), (d,), _SWAP[norm])


@autocast_op
def ihfft(input: Any, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """Inverse of :func:`hfft`: the first half of the (Hermitian) inverse transform of real data."""
    x, norm = _t(input), _norm(norm)
    _points(n)
    d = _dim(x, dim)
    return conj(_r2c(x, None if n is None else (int(n),), (d,), _SWAP[norm], "ihfft"))


# --- two and n dimensions ------------------------------------------------------------------
@autocast_op
def fftn(input: Any, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """N-dimensional transform over ``dim`` (default: every dim, or the last ``len(s)``)."""
    x, norm = _t(input), _norm(norm)
    dims, s = _dims_and_sizes(x, s, dim, True)
    return _c2c(x, s, dims, norm, False, True)


@autocast_op
def ifftn(input: Any, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """Inverse of :func:`fftn`."""
    x, norm = _t(input), _norm(norm)
    dims, s = _dims_and_sizes(x, s, dim, True)
    return _c2c(x, s, dims, norm, True, True)


@autocast_op
def fft2(input: Any, s: Sequence[int] | None = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """Two-dimensional transform (the last two dims by default)."""
    return fftn(input, s, dim, norm)


@autocast_op
def ifft2(input: Any, s: Sequence[int] | None = None, dim: Any = (-2, -1),
          norm: str | None = None) -> Tensor:
    """Inverse of :func:`fft2`."""
    return ifftn(input, s, dim, norm)


@autocast_op
def rfftn(input: Any, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """N-dimensional transform of real data, one-sided along the last of ``dim``."""
    x, norm = _t(input), _norm(norm)
    dims, s = _dims_and_sizes(x, s, dim, True)
    return _r2c(x, s, dims, norm, "rfftn")


@autocast_op
def irfftn(input: Any, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """Inverse of :func:`rfftn` (real output)."""
    x, norm = _t(input), _norm(norm)
    dims, s = _dims_and_sizes(x, s, dim, True)
    return _c2r(x, s, dims, norm)


@autocast_op
def rfft2(input: Any, s: Sequence[int] | None = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """Two-dimensional :func:`rfftn`."""
    return rfftn(input, s, dim, norm)


@autocast_op
def irfft2(input: Any, s: Sequence[int] | None = None, dim: Any = (-2, -1),
           norm: str | None = None) -> Tensor:
    """Inverse of :func:`rfft2`."""
    return irfftn(input, s, dim, norm)


def hfftn(input: Any, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """N-dimensional :func:`hfft`: Hermitian along the last of ``dim``, real output."""
    x, norm = _t(input), _norm(norm)
    dims, s = _dims_and_sizes(x, s, dim, True)
    return _c2r(conj(_floating(x)), s, dims, _SWAP[norm])


def ihfftn(input: Any, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """Inverse of :func:`hfftn`."""
    x, norm = _t(input), _norm(norm)
    dims, s = _dims_and_sizes(x, s, dim, True)
    # conj(rfftn(x)) with the dual norm, computed as torch does: the last dim one-sided and
    # conjugated, then inverse transforms along the others
    last = conj(_r2c(x, None if s is None else s[-1:], dims[-1:], _SWAP[norm], "ihfftn"))
    if len(dims) == 1:
        return last
    return fft_c2c(last, s=None if s is None else s[:-1], axes=dims[:-1], norm=norm, inverse=True)


def hfft2(input: Any, s: Sequence[int] | None = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """Two-dimensional :func:`hfftn`."""
    return hfftn(input, s, dim, norm)


def ihfft2(input: Any, s: Sequence[int] | None = None, dim: Any = (-2, -1),
           norm: str | None = None) -> Tensor:
    """Two-dimensional :func:`ihfftn`."""
    return ihfftn(input, s, dim, norm)


# --- helpers --------------------------------------------------------------------------------
def fftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Sample frequencies ``[0, 1, ..., -1] / (d * n)`` of an ``n``-point transform."""
    import numpy as np

    dt = dtype if dtype is not None else _dtype.get_default_dtype()
    return tensor(np.fft.fftfreq(int(n), d), dtype=dt, device=device, requires_grad=requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """Sample frequencies of :func:`rfft` (``n // 2 + 1`` non-negative ones)."""
    import numpy as np

    dt = dtype if dtype is not None else _dtype.get_default_dtype()
    return tensor(np.fft.rfftfreq(int(n), d), dtype=dt, device=device, requires_grad=requires_grad)


def _shift(input: Any, dim: Any, sign: int) -> Tensor:
    x = _t(input)
    dims = tuple(range(x.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if not dims:
        return x
    dims = tuple(_dim(x, int(d)) for d in dims)
    shifts = tuple(sign * (x.shape[d] // 2) if sign > 0 else -(x.shape[d] // 2) for d in dims)
    return roll(x, shifts, dims)


def fftshift(input: Any, dim: Any = None) -> Tensor:
    """Move the zero frequency to the centre (a roll by ``n // 2`` along ``dim``)."""
    return _shift(input, dim, 1)


def ifftshift(input: Any, dim: Any = None) -> Tensor:
    """Inverse of :func:`fftshift`."""
    return _shift(input, dim, -1)

# the public functions dispatch through __torch_function__ (gradkit/_core/torch_function.py)
from gradkit._core import torch_function as _torch_function  # noqa: E402
_torch_function.wrap_namespace(globals(), __all__, "gradkit.fft", prefix="fft_")
