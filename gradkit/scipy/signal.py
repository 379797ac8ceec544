"""``scipy.signal`` convolutions with gradients in both inputs.

``convolve``, ``correlate`` and ``fftconvolve`` take n-d inputs and SciPy's ``mode``
(``"full"``, ``"same"``, ``"valid"``) and ``method`` (``"direct"``, ``"fft"``, ``"auto"``);
``convolve2d``/``correlate2d`` add ``boundary`` (``"fill"`` with any ``fillvalue``, ``"wrap"``).
With a Tensor among the inputs the result is a Tensor on the graph, built from gradkit
operations (shifted products for ``direct``, ``gradkit.fft`` for ``fft``), so reverse and
forward mode work to any order; without one the call is SciPy's own.

``method="auto"`` picks ``direct`` when the smaller input has at most 64 elements (``direct``
costs one multiply-add of the larger input per element of the smaller), ``fft`` otherwise.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

import gradkit as gk
from gradkit import Tensor

from ._util import any_tensor, as_tensors, passthrough, scipy_module

__all__ = ["convolve", "correlate", "fftconvolve", "convolve2d", "correlate2d"]

_DIRECT_MAX = 64


def _signal() -> Any:
    return scipy_module("signal")


def _swap_needed(mode: str, s1: tuple[int, ...], s2: tuple[int, ...]) -> bool:
    if mode != "valid":
        return False
    ok1 = all(a >= b for a, b in zip(s1, s2))
    ok2 = all(b >= a for a, b in zip(s1, s2))
    if not (ok1 or ok2):
        raise ValueError("For 'valid' mode, one must be at least as large as the other in "
                         "every dimension")
    return not ok1


def _full_direct(a: Tensor, b: Tensor) -> Tensor:
    """The full convolution as a sum of shifted copies of ``a``, one per element of ``b``."""
    if b.numel() > a.numel():
        a, b = b, a
    out = None
    for idx in itertools.product(*(range(n) for n in b.shape)):
        pads: list[int] = []
        for d in reversed(range(a.ndim)):
            pads += [idx[d], b.shape[d] - 1 - idx[d]]
        term = gk.nn.functional.pad(a * b[idx], pads)
        out = term if out is None else out + term
    return out


def _full_fft(a: Tensor, b: Tensor) -> Tensor:
    shape = [n + m - 1 for n, m in zip(a.shape, b.shape)]
    dims = tuple(range(a.ndim))
    if a.is_complex() or b.is_complex():
        return gk.fft.ifftn(gk.fft.fftn(a, s=shape, dim=dims) * gk.fft.fftn(b, s=shape, dim=dims),
                            s=shape, dim=dims)
    return gk.fft.irfftn(gk.fft.rfftn(a, s=shape, dim=dims) * gk.fft.rfftn(b, s=shape, dim=dims),
                         s=shape, dim=dims)


def _centered(x: Tensor, shape: list[int]) -> Tensor:
    sl = tuple(slice((n - m) // 2, (n - m) // 2 + m) for n, m in zip(x.shape, shape))
    return x[sl]


def _convolve(a: Tensor, b: Tensor, mode: str, method: str) -> Tensor:
    if a.ndim != b.ndim:
        raise ValueError("in1 and in2 should have the same dimensionality")
    if mode not in ("full", "same", "valid"):
        raise ValueError("acceptable mode flags are 'valid', 'same', or 'full'")
    if a.ndim == 0:
        return a * b
    s1 = tuple(a.shape)
    if _swap_needed(mode, s1, tuple(b.shape)):
        a, b = b, a
    if method == "auto":
        method = "direct" if min(a.numel(), b.numel()) <= _DIRECT_MAX else "fft"
    if method == "direct":
        full = _full_direct(a, b)
    elif method == "fft":
        full = _full_fft(a, b)
    else:
        raise ValueError(f"Acceptable method flags are 'auto', 'direct', or 'fft', not {method!r}")
    if mode == "full":
        return full
    if mode == "same":
        return _centered(full, list(s1))
    return _centered(full, [n - m + 1 for n, m in zip(a.shape, b.shape)])


def _flip_conj(x: Tensor) -> Tensor:
    y = gk.flip(x, tuple(range(x.ndim))) if x.ndim else x
    return gk.conj(y) if y.is_complex() else y


def _convolve_axes(a: Tensor, b: Tensor, axes: Any, dot_axes: Any, mode: str) -> Tensor:
    """``autograd.scipy.signal.convolve``'s generalization: convolve along the paired ``axes``,
    contract the paired ``dot_axes``, take the outer product over the rest. The result's axes
    are a's other axes, then b's, then the convolved ones."""
    if mode not in ("full", "same", "valid"):
        raise ValueError("acceptable mode flags are 'valid', 'same', or 'full'")
    if axes is None:
        axes = (tuple(range(a.ndim)), tuple(range(a.ndim)))
    dot_axes = dot_axes if dot_axes is not None else ((), ())
    (ca, cb), (da, db) = ([list(x) for x in axes]), ([list(x) for x in dot_axes])
    if len(ca) != len(cb) or len(da) != len(db):
        raise ValueError("axes and dot_axes must pair as many axes of each input")
    ia = [i for i in range(a.ndim) if i not in ca and i not in da]
    ib = [i for i in range(b.ndim) if i not in cb and i not in db]
    for x, y in zip(ca, cb):
        if mode == "valid" and (a.shape[x] - b.shape[y]) * (a.shape[ca[0]] - b.shape[cb[0]]) < 0:
            raise ValueError("One array must be larger than the other along all convolved "
                             "dimensions")
    sa = [a.shape[i] for i in ia]
    sb = [b.shape[i] for i in ib]
    na = [a.shape[i] for i in ca]
    nb = [b.shape[i] for i in cb]
    dsize = int(np.prod([a.shape[i] for i in da])) if da else 1
    a3 = gk.permute(a, ia + da + ca).reshape(int(np.prod(sa)), dsize, *na)
    b3 = gk.permute(b, ib + db + cb).reshape(int(np.prod(sb)), dsize, *nb)
    nc = len(ca)
    full_shape = [p + q - 1 for p, q in zip(na, nb)]
    out = None
    for k in itertools.product(*(range(n) for n in nb)):
        term = gk.einsum("ad...,bd->ab...", a3, b3[(slice(None), slice(None)) + k])
        pads: list[int] = []
        for d in reversed(range(nc)):
            pads += [k[d], nb[d] - 1 - k[d]]
        term = gk.nn.functional.pad(term, pads) if nc else term
        out = term if out is None else out + term
    if mode == "same":
        keep = na
    elif mode == "valid":
        keep = [abs(p - q) + 1 for p, q in zip(na, nb)]
    else:
        keep = full_shape
    if keep != full_shape:
        out = out[(slice(None), slice(None)) + tuple(
            slice((f - m) // 2, (f - m) // 2 + m) for f, m in zip(full_shape, keep))]
    return out.reshape(*sa, *sb, *keep)


def convolve(in1: Any, in2: Any, mode: str = "full", method: str = "auto", *, axes: Any = None,
             dot_axes: Any = None) -> Any:
    """``scipy.signal.convolve``: n-d convolution, differentiable in both inputs.

    ``axes=([axes of in1], [axes of in2])`` and ``dot_axes`` (keywords only) are
    ``autograd.scipy.signal.convolve``'s generalization: convolve along ``axes``, contract
    ``dot_axes``, outer product over the other axes (in1's, then in2's, then the convolved).
    """
    if axes is not None or dot_axes is not None:
        tensors = any_tensor(in1, in2)
        a, b = as_tensors(in1, in2)
        out = _convolve_axes(a, b, axes, dot_axes, mode)
        return out if tensors else out.numpy()
    if not any_tensor(in1, in2):
        return _signal().convolve(in1, in2, mode=mode, method=method)
    a, b = as_tensors(in1, in2)
    return _convolve(a, b, mode, method)


def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """``scipy.signal.correlate``: n-d cross-correlation, differentiable in both inputs."""
    if not any_tensor(in1, in2):
        return _signal().correlate(in1, in2, mode=mode, method=method)
    a, b = as_tensors(in1, in2)
    if _swap_needed(mode, tuple(a.shape), tuple(b.shape)):
        # NOTE: as SciPy: correlate the swapped pair and reverse (and conjugate) the result.
        return _flip_conj(_convolve(b, _flip_conj(a), mode, method))
    return _convolve(a, _flip_conj(b), mode, method)


def fftconvolve(in1: Any, in2: Any, mode: str = "full", axes: Any = None) -> Any:
    """``scipy.signal.fftconvolve`` over every axis (``axes=None``)."""
    if not any_tensor(in1, in2):
        return _signal().fftconvolve(in1, in2, mode=mode, axes=axes)
    if axes is not None:
        raise NotImplementedError("gradkit.scipy.signal.fftconvolve: only axes=None")
    a, b = as_tensors(in1, in2)
    return _convolve(a, b, mode, "fft")


def _conv2d(a: Tensor, b: Tensor, mode: str, boundary: str, fillvalue: Any) -> Tensor:
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError("convolve2d inputs must both be 2-D arrays")
    if mode == "valid" or (boundary == "fill" and not isinstance(fillvalue, Tensor)
                           and fillvalue == 0):
        return _convolve(a, b, mode, "auto")
    s1 = list(a.shape)
    k0, k1 = b.shape[0] - 1, b.shape[1] - 1
    if boundary == "fill":
        fv = fillvalue
        pad = gk.nn.functional.pad(a - fv, [k1, k1, k0, k0]) + fv
    elif boundary in ("wrap", "circular"):
        n0, n1 = a.shape
        r0 = gk.as_tensor(np.arange(-k0, n0 + k0) % n0)
        r1 = gk.as_tensor(np.arange(-k1, n1 + k1) % n1)
        pad = gk.index_select(gk.index_select(a, 0, r0), 1, r1)
    else:
        raise NotImplementedError(f"gradkit.scipy.signal.convolve2d: boundary={boundary!r} "
                                  "(supported: 'fill', 'wrap')")
    full = _convolve(pad, b, "valid", "auto")
    return full if mode == "full" else _centered(full, s1)


def convolve2d(in1: Any, in2: Any, mode: str = "full", boundary: str = "fill",
               fillvalue: Any = 0) -> Any:
    """``scipy.signal.convolve2d`` (``boundary`` 'fill' or 'wrap'), differentiable in both."""
    if not any_tensor(in1, in2, fillvalue):
        return _signal().convolve2d(in1, in2, mode=mode, boundary=boundary, fillvalue=fillvalue)
    a, b = as_tensors(in1, in2)
    if _swap_needed(mode, tuple(a.shape), tuple(b.shape)):
        a, b = b, a
    return _conv2d(a, b, mode, boundary, fillvalue)


def correlate2d(in1: Any, in2: Any, mode: str = "full", boundary: str = "fill",
                fillvalue: Any = 0) -> Any:
    """``scipy.signal.correlate2d`` (``boundary`` 'fill' or 'wrap'), differentiable in both."""
    if not any_tensor(in1, in2, fillvalue):
        return _signal().correlate2d(in1, in2, mode=mode, boundary=boundary, fillvalue=fillvalue)
    a, b = as_tensors(in1, in2)
    if _swap_needed(mode, tuple(a.shape), tuple(b.shape)):
        return _flip_conj(_conv2d(b, _flip_conj(a), mode, boundary, fillvalue))
    if mode == "same":
        # NOTE: SciPy centres correlate2d's 'same' output at k // 2 of the full one (convolve2d
        # and the n-d correlate at (k - 1) // 2).
        full = _conv2d(a, _flip_conj(b), "full", boundary, fillvalue)
        return full[b.shape[0] // 2:b.shape[0] // 2 + a.shape[0],
                    b.shape[1] // 2:b.shape[1] // 2 + a.shape[1]]
    return _conv2d(a, _flip_conj(b), mode, boundary, fillvalue)


# NOTE: the rest of scipy.signal, as SciPy's own (no gradient).
__getattr__ = passthrough("signal", __name__)
