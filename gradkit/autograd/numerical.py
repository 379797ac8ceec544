"""A finite-difference fallback: differentiate a black-box NumPy function.

``gradkit.autograd.numerical(fn)`` wraps a function that gradkit cannot see into
(compiled code, a NumPy function with no derivative rule, a simulator) as an
operation on tensors: the forward calls ``fn`` on plain arrays; the backward
computes the vector-Jacobian product from a Jacobian estimated by
:func:`gradkit.numeric.approx_jacobian` (Richardson extrapolation, with an error
estimate kept on the node). A warning says, once per function, that the gradient is
numerical.

Examples
--------
>>> import numpy as np
>>> def black_box(v):                      # pretend gradkit cannot differentiate this
...     return np.cumsum(np.sin(v))
>>> f = gk.autograd.numerical(black_box, warn=False)
>>> x = gk.tensor([0.1, 0.2], dtype=gk.float64, requires_grad=True)
>>> f(x).sum().backward()
>>> np.allclose(x.grad.numpy(), [2 * np.cos(0.1), np.cos(0.2)])
True
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

import numpy as np

from gradkit._core.tensor import Tensor, _make
from .function import Function
from gradkit._core.grad_mode import _state

__all__ = ["numerical", "numerical_fallback"]

_warned: set[int] = set()


def numerical(fn: Callable[..., Any], *, warn: bool = True) -> Callable[..., Tensor]:
    """Wrap ``fn`` (arrays in, one array out) as an op whose gradient is numerical.

    Tensor arguments that require grad get gradients from a finite-difference
    Jacobian (central differences with Richardson extrapolation); other arguments
    are passed through. The largest error estimate of the last backward is kept on
    the wrapper as ``last_error``.
    """
    @functools.wraps(fn)
    def wrapped(*args: Any) -> Tensor:
        if warn and id(fn) not in _warned:
            _warned.add(id(fn))
            warnings.warn(f"{getattr(fn, '__name__', 'function')}: gradients come from finite "
                          "differences (gradkit.autograd.numerical), accurate to about 1e-8 "
                          "relative, not to machine precision", UserWarning, stacklevel=2)
        return _Numerical.apply(fn, wrapped, *args)

    wrapped.last_error = None  # type: ignore[attr-defined]
    return wrapped


class _Numerical(Function):
    @staticmethod
    def forward(ctx: Any, fn: Callable[..., Any], wrapper: Any, *args: Any) -> Tensor:
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
        ctx.fn, ctx.wrapper, ctx.arrays = fn, wrapper, arrays
        out = np.asarray(fn(*arrays))
        if out.dtype.kind not in "fcV":
            out = out.astype(np.float64)
        return _make(out, False, None)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Any, ...]:
        from ._finite_diff import approx_jacobian
        grads: list[Any] = [None, None]
        worst = 0.0
        for i, needs in enumerate(ctx.needs_input_grad[2:]):
            if not needs:
                grads.append(None)
                continue
            x0 = np.asarray(ctx.arrays[i], dtype=np.float64)

            def f_flat(v: np.ndarray, i: int = i, shape: tuple[int, ...] = x0.shape) -> np.ndarray:
                vals = list(ctx.arrays)
                vals[i] = v.reshape(shape)
                return np.asarray(ctx.fn(*vals), dtype=np.float64).reshape(-1)

            res = approx_jacobian(f_flat, x0.reshape(-1))
            jac = np.asarray(res.value).reshape(-1, x0.size)
            err = np.asarray(getattr(res, "error", 0.0))
            worst = max(worst, float(np.max(err)) if err.size else 0.0)
            gi = (g._data.reshape(-1).astype(np.float64) @ jac).reshape(x0.shape)
            grads.append(_make(gi.astype(ctx.arrays[i].dtype), False, None))
        ctx.wrapper.last_error = worst
        return tuple(grads)


class numerical_fallback:
    """Opt in (per thread, as a context manager) to numerical gradients for NumPy functions.

    Inside the block, a NumPy function that gradkit has no derivative rule for, called on
    a tensor that requires grad, runs as :func:`numerical` would (finite-difference
    gradients, a warning once per function) instead of raising ``TypeError``.

    Examples
    --------
    >>> x = gk.tensor([0.5, 1.5], dtype=gk.float64, requires_grad=True)
    >>> with gk.autograd.numerical_fallback():
    ...     y = np.sinc(x)                   # no rule for sinc: finite differences
    >>> y.sum().backward()
    >>> bool(abs(x.grad[0].item() - (-1.2732395)) < 1e-6)
    True
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.prev = False

    def __enter__(self) -> None:
        self.prev = _state.numerical_fallback
        _state.numerical_fallback = self.enabled

    def __exit__(self, *exc: object) -> None:
        _state.numerical_fallback = self.prev


_fallback_warned: set[Any] = set()


def dispatch_fallback(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Run a NumPy function with no rule through :func:`numerical` (inside numerical_fallback)."""
    name = getattr(func, "__name__", "function")
    if func not in _fallback_warned:
        _fallback_warned.add(func)
        warnings.warn(f"numpy.{name} has no derivative rule in gradkit: its gradient comes from "
                      "finite differences (gradkit.autograd.numerical_fallback)", UserWarning,
                      stacklevel=4)
    return numerical(lambda *a: func(*a, **kwargs), warn=False)(*args)

