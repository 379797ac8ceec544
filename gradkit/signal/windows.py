"""``torch.signal.windows``: the window functions of signal processing, with PyTorch's
signatures, conventions (``sym=False`` gives the periodic window, one sample of the symmetric
window of length ``M + 1`` dropped) and errors.

Values are computed in float64 with NumPy and returned in ``dtype`` (float32 or float64).

Examples
--------
>>> from gradkit.signal import windows
>>> windows.hann(5, dtype=gk.float64)
tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000], dtype=torch.float64)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from gradkit._core import dtype as _dtype
from gradkit._core.creation import tensor as _tensor
from gradkit._core.tensor import Tensor

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _checks(name: str, M: int, dtype: Any, layout: Any) -> Any:
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and str(layout) != "torch.strided":
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dt not in (_dtype.float32, _dtype.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dt}")
    return dt


def _out(values: np.ndarray, dt: Any, requires_grad: bool, device: Any = None) -> Tensor:
    return _tensor(np.asarray(values, dtype=dt.np), device=device, requires_grad=bool(requires_grad))


def _steps(start: float, step: float, M: int) -> np.ndarray:
    """``linspace(start, start + (M - 1) * step, M)``."""
    return np.linspace(start, start + (M - 1) * step, M)


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True,
                dtype: Any = None, layout: Any = None, device: Any = None,
                requires_grad: bool = False) -> Tensor:
    """``exp(-|n - center| / tau)``."""
    dt = _checks("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return _out(np.empty(0), dt, requires_grad, device)
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    k = _steps(-center / tau, 1 / tau, M)
    return _out(np.exp(-np.abs(k)), dt, requires_grad, device)


def cosine(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """``sin(pi (n + 1/2) / M)`` (the sine window)."""
    dt = _checks("cosine", M, dtype, layout)
    if M == 0:
        return _out(np.empty(0), dt, requires_grad, device)
    c = math.pi / (M + 1 if not sym and M > 1 else M)
    return _out(np.sin(_steps(0.5 * c, c, M)), dt, requires_grad, device)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``exp(-(n - (M - 1)/2)**2 / (2 std**2))``."""
    dt = _checks("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return _out(np.empty(0), dt, requires_grad, device)
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    c = 1 / (std * math.sqrt(2))
    return _out(np.exp(-_steps(start * c, c, M) ** 2), dt, requires_grad, device)


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype: Any = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """``I0(beta sqrt(1 - (2n/(M-1) - 1)**2)) / I0(beta)``."""
    dt = _checks("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M == 0:
        return _out(np.empty(0), dt, requires_grad, device)
    if M == 1:
        return _out(np.ones(1), dt, requires_grad, device)
    step = 2.0 * beta / (M if not sym else M - 1)
    end = min(beta, -beta + (M - 1) * step)
    k = np.linspace(-beta, end, M)
    w = np.i0(np.sqrt(np.maximum(beta * beta - k ** 2, 0.0))) / np.i0(beta)
    return _out(w, dt, requires_grad, device)


def general_cosine(M: int, *, a: Iterable[float], sym: bool = True, dtype: Any = None,
                   layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``sum_i (-1)**i a_i cos(2 pi i n / (M - 1))``."""
    dt = _checks("general_cosine", M, dtype, layout)
    if M == 0:
        return _out(np.empty(0), dt, requires_grad, device)
    if M == 1:
        return _out(np.ones(1), dt, requires_grad, device)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    a = list(a)
    if not a:
        raise ValueError("Coefficients cannot be empty")
    k = _steps(0.0, 2 * math.pi / (M if not sym else M - 1), M)
    w = sum((-1) ** i * c * np.cos(i * k) for i, c in enumerate(a))
    return _out(w, dt, requires_grad, device)


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype: Any = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``alpha - (1 - alpha) cos(2 pi n / (M - 1))``."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def hamming(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """The Hamming window (``general_hamming`` with ``alpha=0.54``)."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """The Hann window (``general_hamming`` with ``alpha=0.5``)."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout,
                           device=device, requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """The Blackman window (``general_cosine`` with ``a = [0.42, 0.5, 0.08]``)."""
    _checks("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def bartlett(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """The triangular window ``1 - |2n/(M - 1) - 1|``."""
    dt = _checks("bartlett", M, dtype, layout)
    if M == 0:
        return _out(np.empty(0), dt, requires_grad, device)
    if M == 1:
        return _out(np.ones(1), dt, requires_grad, device)
    k = _steps(-1.0, 2 / (M if not sym else M - 1), M)
    return _out(1 - np.abs(k), dt, requires_grad, device)


def nuttall(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """The minimum 4-term Blackman-Harris window of Nuttall."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype,
                          layout=layout, device=device, requires_grad=requires_grad)
