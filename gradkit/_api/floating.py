"""PyTorch functions on the floating-point representation and a few special functions
(``frexp``, ``ldexp``, ``nextafter``, ``i0``, ``igamma``/``igammac``, ``mvlgamma``), and the
window functions of ``torch.*_window`` (``hann_window``, ``kaiser_window``, ...).

Each differentiable one is a table row or a composite of rows: ``i0`` and ``igamma`` are the
rows of ``ops/special.py``, ``ldexp`` is ``input * 2**other``, ``frexp``'s mantissa is
``input * 2**-exponent`` with the exponent a constant, ``mvlgamma`` a sum of ``lgamma``.
``nextafter`` has no derivative (its result carries none).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradkit._api import _binary, _t, _unary
from gradkit._api.base import _scalar_name
from gradkit._api import pointwise as _pw
from gradkit._core import dtype as _dtype
from gradkit._core.backend import to_numpy
from gradkit._core.creation import tensor as _tensor
from gradkit._core.tensor import Tensor, _make
from gradkit.ops import elementwise as E
from gradkit.ops import special as SP

__all__ = ["frexp", "ldexp", "nextafter", "i0", "igamma", "igammac", "mvlgamma",
           "hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


class _frexp_ret(tuple):
    """``(mantissa, exponent)``, printed as ``torch.return_types.frexp(...)``."""

    __slots__ = ()

    def __new__(cls, mantissa: Any, exponent: Any) -> Any:
        return tuple.__new__(cls, (mantissa, exponent))

    @property
    def mantissa(self) -> Any:
        return self[0]

    @property
    def exponent(self) -> Any:
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.frexp(\nmantissa={self[0]!r},\nexponent={self[1]!r})"


_frexp_ret.__name__ = _frexp_ret.__qualname__ = "frexp"
_frexp_ret.__module__ = "gradkit.return_types"


def frexp(input: Tensor) -> Any:
    """``(mantissa, exponent)`` with ``input == mantissa * 2**exponent``, ``0.5 <= |mantissa| < 1``
    (exponent int32). The mantissa's gradient is ``2**-exponent``."""
    x = _t(input)
    if not x.is_floating_point():
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    _, e = np.frexp(to_numpy(x._data))
    exponent = _make(np.asarray(e, dtype=np.int32), False, None)
    # 2**-exponent in two factors: one would overflow for subnormal inputs (2**1074 in float64)
    half = -(np.asarray(e) // 2)
    one = np.ones((), x._data.dtype)
    first = _make(np.ldexp(one, half).astype(x._data.dtype), False, None)
    second = _make(np.ldexp(one, -np.asarray(e) - half).astype(x._data.dtype), False, None)
    return _frexp_ret(E.mul(E.mul(x, first), second), exponent)


def _exponent_range(dt: np.dtype) -> tuple[int, int]:
    """``(C, P)`` for a float dtype: ``x * 2**e`` for ``|e| > C`` is what it is at ``|e| = C``
    (every nonzero finite ``x`` has overflowed or rounded to 0), and ``2**k`` is finite for
    ``|k| <= P``."""
    try:
        fi = np.finfo(dt)
        maxexp, minexp, nmant = int(fi.maxexp), int(fi.minexp), int(fi.nmant)
    except (TypeError, ValueError):  # bfloat16 (ml_dtypes)
        maxexp, minexp, nmant = 128, -126, 7
    return maxexp - (minexp - nmant) + 2, maxexp - 2


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """``input * 2**other`` (integer inputs give the floating dtype of ``other``, else the
    default one)."""
    x, e = _t(input), _t(other, "other")
    if not x.is_floating_point() and not x.is_complex():
        # PyTorch's input * 2**other: a floating ``other`` gives its dtype (int with float16 is
        # float16), an integer one the default
        common = _dtype.result_type(x, e)
        x = x.to(common if common.is_floating_point or common.is_complex
                 else _dtype.get_default_dtype())
    # 2**other as n factors, each finite in x's dtype, with other clamped to the range beyond
    # which the result no longer changes: one factor 2**other overflows to inf (and 0 * inf is
    # NaN) where x * 2**other is finite or 0 (1e-310 * 2**2000, 0 * 2**2000)
    real = np.zeros((), x._data.dtype).real.dtype
    big, each = _exponent_range(real)
    n = -(-big // (each - 4))
    ed = to_numpy(e._data)
    if ed.dtype.kind not in "iuf":
        return _pw.mul(x, _pw.pow(2.0, e))
    finite = np.isfinite(ed)
    kd = np.where(finite, np.clip(ed, -big, big), 0)
    # split only where one factor would not do, so the usual exponents round once, as x * 2**e
    part = np.where(np.abs(kd) > each - 4, np.trunc(kd / n), 0)
    shift = np.where(finite, (n - 1) * part + (ed - kd), 0).astype(ed.dtype)
    out = x
    if part.any():
        for _ in range(n - 1):
            out = E.mul(out, _make(np.exp2(part).astype(real), False, None))
    last = E.sub(e, _make(shift, False, None)) if shift.any() else e
    if ed.dtype.kind not in "fV":
        # an integer exponent: 2**last in x's dtype (pow(2.0, int) would be the default dtype,
        # float32, whose 2**200 is inf for a float64 x)
        last = last.to(_dtype.as_dtype(real))
    return _pw.mul(out, _pw.pow(2.0, last))


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next floating-point value after ``input`` towards ``other`` (no derivative)."""
    x, o = _t(input), _t(other, "other")
    a, b = to_numpy(x._data), to_numpy(o._data)
    if a.dtype.kind not in "fV" or b.dtype.kind not in "fV":
        bad = x if a.dtype.kind not in "fV" else o
        raise NotImplementedError(f"\"nextafter_cpu\" not implemented for '{_scalar_name(bad.dtype)}'")
    dt = np.result_type(a.dtype, b.dtype)
    return _make(np.nextafter(a.astype(dt), b.astype(dt)), False, None)


i0 = _unary(SP.i0)
i0.__doc__ = "The modified Bessel function of the first kind of order 0; its derivative is i1."
igamma = _binary(SP.gammainc, "igamma")
igamma.__doc__ = ("The regularized lower incomplete gamma function P(input, other); "
                  "differentiable in ``other`` only (as PyTorch).")
igammac = _binary(SP.gammaincc, "igammac")
igammac.__doc__ = ("The regularized upper incomplete gamma function Q(input, other); "
                   "differentiable in ``other`` only (as PyTorch).")


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``:
    ``p(p-1)/4 log(pi) + sum_{i<p} lgamma(input - i/2)``."""
    x = _t(input)
    if int(p) != p or p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if not x.is_floating_point():
        x = x.to(_dtype.get_default_dtype())
    out = E.lgamma(x)
    for i in range(1, int(p)):
        out = E.add(out, E.lgamma(E.sub(x, i / 2)))
    return E.add(out, p * (p - 1) / 4 * math.log(math.pi))


# --- window functions -------------------------------------------------------------------------
def _window(name: str, window_length: int, periodic: bool, dtype: Any, device: Any,
            requires_grad: bool, symmetric: Any) -> Tensor:
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if dt.np.kind not in "fV":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    n = int(window_length)
    if n < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={n}")
    if n <= 1:
        values = np.ones(n)
    else:
        values = symmetric(n + 1)[:-1] if periodic else symmetric(n)
    return _tensor(np.asarray(values, dtype=dt.np), device=device, requires_grad=requires_grad)


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``0.5 - 0.5 cos(2 pi k / (N - 1))``; ``periodic`` drops the last point of N + 1."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   np.hanning)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype: Any = None, layout: Any = None,
                   device: Any = None, requires_grad: bool = False) -> Tensor:
    """``alpha - beta cos(2 pi k / (N - 1))``."""
    def sym(n: int) -> np.ndarray:
        return alpha - beta * np.cos(2 * np.pi * np.arange(n) / (n - 1))
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad, sym)


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``0.42 - 0.5 cos(2 pi k / (N - 1)) + 0.08 cos(4 pi k / (N - 1))``."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   np.blackman)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The triangular window ``1 - |2k / (N - 1) - 1|``."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   np.bartlett)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype: Any = None, layout: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    """``I0(beta sqrt(1 - (2k / (N - 1) - 1)**2)) / I0(beta)``."""
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n: np.kaiser(n, beta))


# --- PyTorch's refusals by dtype (its words) ------------------------------------------------
def _refusing() -> None:
    from gradkit._api.base import _no_kernel, _refuse_kinds
    g = globals()
    for name in ("igamma", "igammac"):
        g[name] = _refuse_kinds(g[name], {"i": _no_kernel(name + "_cpu"),
                                          "b": _no_kernel(name + "_cpu")}, binary=True)


_refusing()
