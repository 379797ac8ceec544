"""Gradient checks against central finite differences (``gradcheck``, ``gradgradcheck``)."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from .._tensor import Tensor, _make

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "numerical_jacobian",
           "analytical_jacobian"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when the analytical and numerical Jacobians disagree."""


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func: Callable[..., Any], inputs: Sequence[Any]) -> tuple[Tensor, ...]:
    out = _as_tuple(func(*inputs))
    return tuple(o for o in out if isinstance(o, Tensor))


def numerical_jacobian(func: Callable[..., Any], inputs: Sequence[Any],
                       eps: float = 1e-6) -> list[list[np.ndarray]]:
    """``J[i][j]``: d output i / d input j by central differences, shape (out.numel, in.numel)."""
    # NOTE: not under no_grad: the function may itself differentiate (gradgradcheck).
    outs = _outputs(func, inputs)
    jac = [[np.zeros((o.numel(), x.numel() if isinstance(x, Tensor) else 0))
            for x in inputs] for o in outs]
    for j, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x._rg):
            continue
        flat = x._data.reshape(-1)
        if flat.size and not np.shares_memory(flat, x._data):
            raise ValueError("gradcheck needs contiguous inputs")
        for k in range(flat.size):
            orig = flat[k].copy()
            flat[k] = orig + eps
            plus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(func, inputs)]
            flat[k] = orig - eps
            minus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(func, inputs)]
            flat[k] = orig
            for i in range(len(outs)):
                jac[i][j][:, k] = (plus[i] - minus[i]) / (2 * eps)
    return jac


def analytical_jacobian(func: Callable[..., Any], inputs: Sequence[Any]) -> list[list[np.ndarray]]:
    """``J[i][j]`` from reverse mode, one backward pass per output element."""
    from . import grad as _grad
    outs = _outputs(func, inputs)
    diff = [j for j, x in enumerate(inputs) if isinstance(x, Tensor) and x._rg]
    jac = [[np.zeros((o.numel(), x.numel() if isinstance(x, Tensor) else 0))
            for x in inputs] for o in outs]
    for i, o in enumerate(outs):
        if not o._rg:
            continue
        for r in range(o.numel()):
            seed = np.zeros(o._data.size, dtype=o._data.dtype)
            seed[r] = 1
            gs = _grad([o], [inputs[j] for j in diff],
                       grad_outputs=[_make(seed.reshape(o._data.shape), False, None)],
                       retain_graph=True, allow_unused=True)
            for j, g in zip(diff, gs):
                if g is not None:
                    jac[i][j][r] = g._data.astype(np.float64).reshape(-1)
    return jac


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, fast_mode: bool = False,
              **unused: Any) -> bool:
    """Check reverse-mode gradients of ``func`` at ``inputs`` against central differences.

    Use float64 inputs: in float32 the difference quotient is dominated by
    rounding. On failure the error names the output, the input, the element
    and both values.

    Returns
    -------
    bool
        True when they agree (else raises ``GradcheckError``, or returns False
        with ``raise_exception=False``).
    """
    inputs = _as_tuple(inputs)
    for x in inputs:
        if isinstance(x, Tensor) and x._rg and x._data.dtype != np.float64:
            warnings.warn("Input #0 requires gradient and is not a double precision floating "
                          "point. gradcheck is only reliable in float64: pass x.double().",
                          UserWarning, stacklevel=2)
            break
    if not any(isinstance(x, Tensor) and x._rg for x in inputs):
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    num = numerical_jacobian(func, inputs, eps)
    ana = analytical_jacobian(func, inputs)
    for i, (nrow, arow) in enumerate(zip(num, ana)):
        for j, (n, a) in enumerate(zip(nrow, arow)):
            if not (isinstance(inputs[j], Tensor) and inputs[j]._rg):
                continue
            if n.shape == a.shape and np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=False):
                continue
            msg = _mismatch_message(i, j, n, a, inputs[j])
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def _mismatch_message(i: int, j: int, n: np.ndarray, a: np.ndarray, x: Tensor) -> str:
    diff = np.abs(n - a)
    diff = np.where(np.isnan(diff), np.inf, diff)
    r, k = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else (0, 0)
    elem = np.unravel_index(k, x._data.shape) if x._data.ndim else ()
    return (f"Jacobian mismatch for output {i} with respect to input {j},\n"
            f"numerical:{_fmt(n)}\nanalytical:{_fmt(a)}\n"
            f"largest difference at input {j} element {tuple(int(e) for e in elem)} "
            f"(output element {int(r)}): numerical {n[r, k]!r}, analytical {a[r, k]!r}")


def _fmt(m: np.ndarray) -> str:
    return repr(_make(m, False, None))


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  **unused: Any) -> bool:
    """Check second derivatives: ``gradcheck`` of the map (inputs, v) -> vJ built with
    ``create_graph=True``."""
    from . import grad as _grad
    inputs = _as_tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_make(rng.standard_normal(o._data.shape).astype(o._data.dtype),
                                   True, None) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff = [j for j, x in enumerate(inputs) if isinstance(x, Tensor) and x._rg]

    def first_derivative(*args: Any) -> tuple[Tensor, ...]:
        ins, gos = args[:n_in], args[n_in:]
        o = _outputs(func, ins)
        gs = _grad(list(o), [ins[j] for j in diff], grad_outputs=list(gos), create_graph=True,
                   allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
