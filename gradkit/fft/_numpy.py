"""``numpy.fft`` on gradkit tensors: the table's transforms (``gradkit/ops/fft.py``) with
NumPy's signatures and rules.

``Tensor.__array_function__`` routes ``np.fft.<name>(t, ...)`` here (registered in
``gradkit/_numpy.py``). Differences from ``gradkit.fft`` (PyTorch's spelling) are NumPy's:
``axis``/``axes`` for ``dim``, integer input is transformed as float64, errors are NumPy's.
"""

from __future__ import annotations

import warnings
from typing import Any

from numpy.lib.array_utils import normalize_axis_index

from gradkit._core import dtype as _dtype
from gradkit._api.base import _t
from gradkit._core.tensor import Tensor
from . import _SWAP, _c2c, _c2r, _r2c, _shift
from gradkit._api.complex import conj

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
           "rfftn", "irfftn", "hfft", "ihfft", "fftshift", "ifftshift"]


def _norm(norm: Any) -> Any:
    if norm not in (None, "backward", "ortho", "forward"):
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or "forward".')
    return None if norm == "backward" else norm


def _points(n: Any) -> Any:
    if n is None:
        return None
    n = int(n)
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    return (n,)


def _input(a: Any) -> Tensor:
    x = a if isinstance(a, Tensor) else _t(a)
    if x._data.dtype.kind in "biu":                 # NumPy transforms integers as float64
        x = x.to(_dtype.float64)
    return x


def _out(out: Any, result: Tensor) -> Any:
    if out is None:
        return result
    from gradkit._api.numpy_protocol import _write_out
    return _write_out(out, result)


def _axes(x: Tensor, s: Any, axes: Any) -> tuple[tuple[int, ...], Any]:
    """NumPy's ``_cook_nd_args``: ``s`` without ``axes`` names the last ``len(s)`` axes."""
    if s is not None:
        s = tuple(int(v) for v in s)
        if axes is None:
            warnings.warn("`axes` should not be `None` if `s` is not `None` (Deprecated in NumPy "
                          "2.0). In a future version of NumPy, this will raise an error and `s[i]` "
                          "will correspond to the size along the transformed axis specified by "
                          "`axes[i]`. To retain current behaviour, pass a sequence [0, ..., k-1] "
                          "to `axes` for an array of dimension k.", DeprecationWarning, stacklevel=4)
            axes = tuple(range(-len(s), 0))
        elif len(s) != len(axes):
            raise ValueError("Shape and axes have different lengths.")
        for v in s:
            if v < 1:
                raise ValueError(f"Invalid number of FFT data points ({v}) specified.")
    elif axes is None:
        axes = tuple(range(x.ndim))
    dims = tuple(normalize_axis_index(int(a), x.ndim) for a in axes)
    if s is not None:
        s = tuple(x.shape[d] if v == -1 else v for d, v in zip(dims, s))
    return dims, s


def fft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    x, norm = _input(a), _norm(norm)
    d = normalize_axis_index(int(axis), x.ndim)
    return _out(out, _c2c(x, _points(n), (d,), norm, False, False))


def ifft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    x, norm = _input(a), _norm(norm)
    d = normalize_axis_index(int(axis), x.ndim)
    return _out(out, _c2c(x, _points(n), (d,), norm, True, False))


def rfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    x, norm = _input(a), _norm(norm)
    d = normalize_axis_index(int(axis), x.ndim)
    return _out(out, _r2c(x, _points(n), (d,), norm, "rfft"))


def irfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    x, norm = _input(a), _norm(norm)
    d = normalize_axis_index(int(axis), x.ndim)
    return _out(out, _c2r(x, _points(n), (d,), norm))


def hfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    x, norm = _input(a), _norm(norm)
    d = normalize_axis_index(int(axis), x.ndim)
    return _out(out, _c2r(conj(x), _points(n), (d,), _SWAP[norm]))


def ihfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    x, norm = _input(a), _norm(norm)
    d = normalize_axis_index(int(axis), x.ndim)
    return _out(out, conj(_r2c(x, _points(n), (d,), _SWAP[norm], "ihfft")))


def fftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    x, norm = _input(a), _norm(norm)
    dims, s = _axes(x, s, axes)
    return _out(out, _c2c(x, s, dims, norm, False, True))


def ifftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    x, norm = _input(a), _norm(norm)
    dims, s = _axes(x, s, axes)
    return _out(out, _c2c(x, s, dims, norm, True, True))


def fft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    return fftn(a, s, axes, norm, out)


def ifft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    return ifftn(a, s, axes, norm, out)


def rfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    x, norm = _input(a), _norm(norm)
    dims, s = _axes(x, s, axes)
    return _out(out, _r2c(x, s, dims, norm, "rfftn"))


def irfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    x, norm = _input(a), _norm(norm)
    dims, s = _axes(x, s, axes)
    return _out(out, _c2r(x, s, dims, norm))


def rfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    return rfftn(a, s, axes, norm, out)


def irfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    return irfftn(a, s, axes, norm, out)


def fftshift(x: Any, axes: Any = None) -> Any:
    return _shift(_input_any(x), axes, 1)


def ifftshift(x: Any, axes: Any = None) -> Any:
    return _shift(_input_any(x), axes, -1)


def _input_any(a: Any) -> Tensor:
    return a if isinstance(a, Tensor) else _t(a)

