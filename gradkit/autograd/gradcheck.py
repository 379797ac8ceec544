"""Gradient checks against central finite differences (``gradcheck``, ``gradgradcheck``)."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from gradkit._core.tensor import Tensor, _make

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


def forward_jacobian(func: Callable[..., Any], inputs: Sequence[Any]) -> list[list[np.ndarray]]:
    """``J[i][j]`` from forward mode, one dual pass per input element (a unit tangent)."""
    from . import forward_ad as fwad
    outs = _outputs(func, inputs)
    jac = [[np.zeros((o.numel(), x.numel() if isinstance(x, Tensor) else 0))
            for x in inputs] for o in outs]
    for j, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x._rg):
            continue
        for k in range(x.numel()):
            unit = np.zeros(x._data.size, dtype=x._data.dtype)
            unit[k] = 1
            with fwad.dual_level():
                args = list(inputs)
                args[j] = fwad.make_dual(x, _make(unit.reshape(x._data.shape), False, None))
                for i, o in enumerate(_outputs(func, args)):
                    t = fwad.unpack_dual(o).tangent
                    if t is not None:
                        jac[i][j][:, k] = t._data.astype(np.float64).reshape(-1)
    return jac


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float | None = None, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, fast_mode: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              **unused: Any) -> bool:
    """Check reverse-mode gradients of ``func`` at ``inputs`` against central differences.

    With float64 inputs the numerical Jacobian uses central differences with
    ``eps`` (1e-6 when not given, as PyTorch). With lower-precision inputs and no
    ``eps`` it is estimated adaptively instead: the function is evaluated on float64
    copies with Richardson extrapolation (:func:`gradkit.numeric.approx_jacobian`),
    and the tolerance grows with the estimate's own error and the inputs' precision,
    so float32 code can be checked without false failures. On failure the error
    names the output, the input, the element, both values, and the first operation
    in the graph whose derivative rule disagrees.

    Returns
    -------
    bool
        True when they agree (else raises ``GradcheckError``, or returns False
        with ``raise_exception=False``).

    ``check_forward_ad=True`` also checks forward mode (a custom ``Function``'s ``jvp``),
    ``check_backward_ad=False`` skips reverse mode, as in PyTorch.
    """
    inputs = _as_tuple(inputs)
    if not check_backward_ad:
        if not check_forward_ad:
            return True
        return _check(func, inputs, eps, atol, rtol, raise_exception, forward_jacobian)
    if check_forward_ad and not _check(func, inputs, eps, atol, rtol, raise_exception,
                                       forward_jacobian):
        return False
    return _check(func, inputs, eps, atol, rtol, raise_exception, analytical_jacobian)


def _check(func: Callable[..., Any], inputs: tuple[Any, ...], eps: float | None, atol: float,
           rtol: float, raise_exception: bool,
           jacobian: Callable[..., list[list[np.ndarray]]]) -> bool:
    """Compare ``jacobian`` (reverse or forward mode) with the numerical Jacobian."""
    low = [x for x in inputs if isinstance(x, Tensor) and x._rg and x._data.dtype != np.float64]
    if eps is None and low:
        return _adaptive_check(func, inputs, atol, rtol, raise_exception, jacobian)
    eps = 1e-6 if eps is None else eps
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
    ana = jacobian(func, inputs)
    for i, (nrow, arow) in enumerate(zip(num, ana)):
        for j, (n, a) in enumerate(zip(nrow, arow)):
            if not (isinstance(inputs[j], Tensor) and inputs[j]._rg):
                continue
            if n.shape == a.shape and np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=False):
                continue
            msg = _mismatch_message(i, j, n, a, inputs[j])
            try:
                from ._locate import first_disagreeing_op
                hint = first_disagreeing_op(func, inputs)
            except Exception:  # noqa: BLE001 - the hint is best effort; the mismatch stands
                hint = ""
            if hint:
                msg += "\n" + hint
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def _adaptive_check(func: Callable[..., Any], inputs: tuple[Any, ...], atol: float, rtol: float,
                    raise_exception: bool,
                    jacobian: Callable[..., list[list[np.ndarray]]] = analytical_jacobian) -> bool:
    """gradcheck for float32/float16 inputs: a Richardson numerical Jacobian in float64."""
    from ._finite_diff import approx_jacobian
    ana = jacobian(func, inputs)
    for j, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x._rg):
            continue
        tiny = float(np.finfo(x._data.dtype).eps)

        def flat(v: np.ndarray, j: int = j, x: Tensor = x) -> np.ndarray:
            args = list(inputs)
            args[j] = _make(v.reshape(x._data.shape), False, None)
            outs = _outputs(func, tuple(a.detach() if isinstance(a, Tensor) else a for a in args[:j])
                            + (args[j],) + tuple(a.detach() if isinstance(a, Tensor) else a
                                                 for a in args[j + 1:]))
            return np.concatenate([o._data.astype(np.float64).reshape(-1) for o in outs])

        res = approx_jacobian(flat, x._data.astype(np.float64).reshape(-1))
        num = np.asarray(res.value, dtype=np.float64).reshape(-1, x._data.size)
        err = np.asarray(res.error, dtype=np.float64).reshape(num.shape)
        a = np.concatenate([row[j] for row in ana], axis=0) if ana else num * 0
        scale = np.abs(num) + np.abs(a)
        tol = atol + rtol * np.abs(num) + 10 * err + 100 * tiny * np.maximum(scale, 1.0)
        if a.shape == num.shape and np.all(np.abs(a - num) <= tol):
            continue
        msg = _mismatch_message(0, j, num, a, x)
        from ._locate import first_disagreeing_op
        hint = first_disagreeing_op(func, inputs)
        if hint:
            msg += "\n" + hint
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
