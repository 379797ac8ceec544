"""Discrete Fourier transforms: three primitives, as PyTorch's ``FftC2C``/``FftR2C``/``FftC2R``.

Every transform of ``numpy.fft`` and ``torch.fft`` is one of these along a tuple of axes, with
a conjugate around it where the definition has one (``ihfft``, ``hfft``, ``ifft`` of real data):

* ``fft_c2c(x, s, axes, norm, inverse)``: ``fftn``/``ifftn`` of complex data.
* ``fft_r2c(x, s, axes, norm, onesided)``: ``rfftn`` of real data (``onesided=False``: the full
  spectrum, as ``fftn`` of real data).
* ``fft_c2r(x, s, axes, norm)``: ``irfftn``; ``s`` holds every output length.

``s`` crops or zero-pads the input along ``axes`` before the transform (NumPy's and PyTorch's
``n``/``s``). Each map is linear over the reals, so forward mode applies the op to the tangent
and every reverse rule is the adjoint (PyTorch's convention for complex gradients: the
gradient of a real loss ``L`` is ``dL/dRe z + i dL/dIm z``):

* the adjoint of a transform with norm ``m`` is the opposite transform with the dual norm
  (``"backward"`` <-> ``"forward"``, ``"ortho"`` is its own dual);
* the adjoint of cropping to ``s`` is zero-padding back, and of zero-padding, cropping back;
* ``r2c``: the real part of the adjoint of the full complex transform (a one-sided spectrum is
  first completed with zeros);
* ``c2r``: ``rfftn`` of the gradient, doubled at the frequencies whose mirror image the
  one-sided input stands for (all but 0 and, for even lengths, ``n/2``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._core.backend import is_lazy, move, placement_of
from ._registry import LINEAR, defop
from .elementwise import real
from .shape import getitem_p, index_backward_p

__all__ = ["fft_c2c", "fft_r2c", "fft_c2r", "dual_norm", "fit"]

_DUAL = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def dual_norm(norm: str | None) -> str:
    """The norm of the adjoint transform."""
    return _DUAL[norm]


def fit(x: Any, axes: tuple[int, ...], lengths: tuple[int, ...]) -> Any:
    """``x`` cropped or zero-padded (at the end) to ``lengths`` along ``axes``; differentiable."""
    crop = [slice(None)] * x.ndim
    grow = [min(n, m) for n, m in zip(x.shape, x.shape)]
    cropped = padded = False
    for a, n in zip(axes, lengths):
        grow[a] = n
        if x.shape[a] > n:
            crop[a] = slice(0, n)
            cropped = True
        elif x.shape[a] < n:
            padded = True
    if cropped:
        x = getitem_p(x, index=tuple(crop))
    if padded:
        place = tuple(slice(0, x.shape[d]) for d in range(x.ndim))
        x = index_backward_p(x, shape=tuple(grow), index=place)
    return x


def _whole(x: Any, axes: tuple[int, ...]) -> Any:
    """Dask transforms an axis only when it is one chunk: join the transformed axes' chunks."""
    if is_lazy(x):
        return x.rechunk({a % x.ndim: -1 for a in axes})
    return x


def _lengths(x: Any, axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x.shape[a] for a in axes)


# --- complex to complex -------------------------------------------------------------------
def _c2c_impl(x: np.ndarray, s: Any, axes: tuple[int, ...], norm: Any, inverse: bool) -> np.ndarray:
    x = _whole(x, axes)
    if len(axes) == 1:
        f = np.fft.ifft if inverse else np.fft.fft
        return f(x, None if s is None else s[0], axes[0], norm)
    f = np.fft.ifftn if inverse else np.fft.fftn
    return f(x, s, axes, norm)


def _c2c_vjp(g: Any, ans: Any, x: Any, s: Any, axes: tuple[int, ...], norm: Any,
             inverse: bool) -> Any:
    back = fft_c2c(g, s=None, axes=axes, norm=dual_norm(norm), inverse=not inverse)
    return fit(back, axes, _lengths(x, axes))


fft_c2c = defop("fft_c2c", _c2c_impl, vjp=_c2c_vjp, jvp=LINEAR, save_inputs=False,
                names="FftC2CBackward0")


# --- real to complex ----------------------------------------------------------------------
def _r2c_impl(x: np.ndarray, s: Any, axes: tuple[int, ...], norm: Any, onesided: bool) -> np.ndarray:
    x = _whole(x, axes)
    if onesided:
        if len(axes) == 1:
            return np.fft.rfft(x, None if s is None else s[0], axes[0], norm)
        return np.fft.rfftn(x, s, axes, norm)
    return _c2c_impl(x, s, axes, norm, False)


def _r2c_vjp(g: Any, ans: Any, x: Any, s: Any, axes: tuple[int, ...], norm: Any,
             onesided: bool) -> Any:
    full = _lengths(x, axes) if s is None else tuple(s)
    if onesided:                                # the negative frequencies were dropped: zeros
        g = fit(g, axes[-1:], full[-1:])
    back = fft_c2c(g, s=None, axes=axes, norm=dual_norm(norm), inverse=True)
    return fit(real(back), axes, _lengths(x, axes))


fft_r2c = defop("fft_r2c", _r2c_impl, vjp=_r2c_vjp, jvp=LINEAR, save_inputs=False,
                names="FftR2CBackward0")


# --- complex to real ----------------------------------------------------------------------
def _c2r_impl(x: np.ndarray, s: tuple[int, ...], axes: tuple[int, ...], norm: Any) -> np.ndarray:
    x = _whole(x, axes)
    if len(axes) == 1:
        return np.fft.irfft(x, s[0], axes[0], norm)
    return np.fft.irfftn(x, s, axes, norm)


def _c2r_vjp(g: Any, ans: Any, x: Any, s: tuple[int, ...], axes: tuple[int, ...], norm: Any) -> Any:
    n = s[-1]
    half = fft_r2c(g, s=None, axes=axes, norm=dual_norm(norm), onesided=True)
    # every one-sided entry stands for itself and its mirror image, except 0 and n/2 (n even)
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    a = axes[-1] % g.ndim
    data = getattr(half, "_data", half)
    w = move(w.reshape((-1,) + (1,) * (g.ndim - 1 - a)).astype(data.real.dtype), placement_of(data))
    return fit(half * w, axes, _lengths(x, axes))


fft_c2r = defop("fft_c2r", _c2r_impl, vjp=_c2r_vjp, jvp=LINEAR, save_inputs=False,
                names="FftC2RBackward0")
