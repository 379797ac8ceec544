"""NumPy functions on gradkit tensors, by NumPy's families: sums and products, statistics,
products of arrays, sorting and taking, creation ``*_like``, ``np.linalg``, ``np.fft``, complex
parts. The array-manipulation routines are in ``numpy_shape``; registered with ``implements``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from gradkit import _api as A
from gradkit._api import complex as AC
from gradkit._api import special as AM
from gradkit._core.tensor import Tensor
from gradkit._core import dtype as _dtype
from gradkit._core import creation as _factories
from gradkit.ops import shape as S
from gradkit._api.numpy_protocol import (_axis_arg, _common_pair, _plain_numpy, _tensorize,
                                         _unsupported, _vecdot, _write_out, implements)


def _reduction(name: str) -> Callable[..., Any]:
    fn = {"sum": A.sum, "mean": A.mean, "amax": A.amax, "amin": A.amin,
          "prod": lambda x, axis, keep: _prod_axes(x, axis, keep)}[name]

    def handler(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
                keepdims: bool = False, **kw: Any) -> Any:
        x = _tensorize(a)
        if not isinstance(x, Tensor):
            x = A.as_tensor_arg(x)
        if kw.get("initial") is not None or kw.get("where") is not None:
            if x._rg:
                raise _unsupported(f"{name} with initial/where")
            return _plain_numpy(getattr(np, name), (x,), dict(axis=axis, dtype=dtype,
                                                               keepdims=keepdims, **kw))
        if dtype is not None:
            x = x.to(dtype)
        if name in ("sum", "prod") and x._data.dtype.kind in "biu" and dtype is None:
            x = x.to(np.int64) if x._data.dtype.kind != "u" or x._data.dtype == np.uint8 else x
        res = fn(x, _axis_arg(axis, x.ndim), keepdims)
        return _write_out(out, res) if out is not None else res
    return handler


def _prod_axes(x: Tensor, axis: Any, keepdims: bool) -> Tensor:
    if axis is None:
        return A.prod(x) if not keepdims else A.reshape(A.prod(x), (1,) * x.ndim)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for ax in sorted((a % x.ndim for a in axes), reverse=True):
        x = A.prod(x, ax, keepdims)
    return x


implements(np.sum)(_reduction("sum"))
implements(np.mean)(_reduction("mean"))
implements(np.prod)(_reduction("prod"))
implements(np.max, np.amax)(_reduction("amax"))
implements(np.min, np.amin)(_reduction("amin"))


@implements(np.argmax)
def _argmax(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    return A.argmax(_tensorize(a), axis, keepdims)


@implements(np.argmin)
def _argmin(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
    return A.argmin(_tensorize(a), axis, keepdims)


def _np_float(x: Any, dtype: Any = None) -> Any:
    """``x`` in ``dtype``, or as NumPy computes statistics of integers and booleans: float64."""
    if dtype is not None:
        return x.to(dtype)
    return x if x.is_floating_point() or x.is_complex() else x.to(_dtype.float64)


@implements(np.var)
def _var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
         keepdims: bool = False, **kw: Any) -> Any:
    x = _np_float(_tensorize(a), dtype)
    return A.var(x, _axis_arg(axis, x.ndim),
                 keepdim=keepdims, correction=ddof)


@implements(np.std)
def _std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
         keepdims: bool = False, **kw: Any) -> Any:
    x = _np_float(_tensorize(a), dtype)
    return A.std(x, _axis_arg(axis, x.ndim),
                 keepdim=keepdims, correction=ddof)


@implements(np.where)
def _where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return tuple(A.nonzero(_tensorize(condition), as_tuple=True))
    return A.where(_tensorize(condition), _tensorize(x), _tensorize(y))


@implements(np.clip)
def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **kw: Any) -> Any:
    a_min = kw.pop("min", a_min)
    a_max = kw.pop("max", a_max)
    res = A.clamp(_tensorize(a), _tensorize(a_min), _tensorize(a_max))
    return _write_out(out, res) if out is not None else res


@implements(np.dot)
def _dot(a: Any, b: Any, out: Any = None) -> Any:
    x, y = _tensorize(a), _tensorize(b)
    if not isinstance(x, Tensor) or not isinstance(y, Tensor) or x.ndim == 0 or y.ndim == 0:
        return A.mul(x, y) if isinstance(x, Tensor) else A.mul(y, x)
    x, y = _common_pair(x, y)
    if y.ndim <= 2:
        return A.matmul(x, y)
    _aligned(x, y, x.ndim - 1, y.ndim - 2)
    return A.tensordot(x, y, ([x.ndim - 1], [y.ndim - 2]))


def _aligned(x: Tensor, y: Tensor, ia: int, ib: int) -> None:
    """NumPy's refusal when the summed dims differ (PyTorch's tensordot would sum a size-1 dim
    against the other)."""
    if x.shape[ia] != y.shape[ib]:
        def shape(t: Tensor) -> str:              # NumPy's spelling: (2,1), (3,)
            return "(" + ",".join(map(str, t.shape)) + ("," if t.ndim == 1 else "") + ")"
        raise ValueError(f"shapes {shape(x)} and {shape(y)} not aligned: "
                         f"{x.shape[ia]} (dim {ia}) != {y.shape[ib]} (dim {ib})")


@implements(np.vdot)
def _vdot(a: Any, b: Any) -> Any:
    x, y = _common_pair(a, b)
    return A.vdot(A.reshape(x, (-1,)), A.reshape(y, (-1,)))


@implements(np.matmul)
def _matmul(a: Any, b: Any, out: Any = None, **kw: Any) -> Any:
    return A.matmul(*_common_pair(a, b))


@implements(np.inner)
def _inner(a: Any, b: Any) -> Any:
    x, y = _tensorize(a), _tensorize(b)
    if x.ndim == 0 or y.ndim == 0:
        return A.mul(x, y)
    x, y = _common_pair(x, y)
    _aligned(x, y, x.ndim - 1, y.ndim - 1)
    return A.tensordot(x, y, ([x.ndim - 1], [y.ndim - 1]))


@implements(np.outer)
def _outer(a: Any, b: Any, out: Any = None) -> Any:
    x, y = _common_pair(a, b)
    return A.outer(A.reshape(x, (-1,)), A.reshape(y, (-1,)))


@implements(np.einsum)
def _einsum(subscripts: str, *operands: Any, out: Any = None, dtype: Any = None, order: str = "K",
            casting: str = "safe", optimize: Any = False) -> Any:
    # NOTE: ``optimize`` only picks a contraction order (same values); ``order`` a memory layout.
    res = A.einsum(subscripts, *[_tensorize(o) for o in operands])
    if dtype is not None:
        res = res.to(dtype)
    return _write_out(out, res) if out is not None else res


@implements(np.tensordot)
def _tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    # NumPy's axes: an integer n is the last n of a with the first n of b (n <= 0: none, an
    # outer product); paired dims must have one size (no size-1 broadcasting, as PyTorch has)
    x, y = _common_pair(a, b)
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        da, db = list(range(-n, 0)) if n > 0 else [], list(range(n)) if n > 0 else []
    else:
        da, db = ([axes[0]] if isinstance(axes[0], (int, np.integer)) else list(axes[0]),
                  [axes[1]] if isinstance(axes[1], (int, np.integer)) else list(axes[1]))
    if len(da) != len(db) or any(x.shape[i] != y.shape[j] for i, j in zip(da, db)):
        raise ValueError("shape-mismatch for sum")
    return A.tensordot(x, y, (da, db))


@implements(np.trace)
def _trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
           out: Any = None) -> Any:
    return A.sum(A.diagonal(_tensorize(a), offset, axis1, axis2), -1)


@implements(np.diag)
def _diag(v: Any, k: int = 0) -> Any:
    return A.diag(_tensorize(v), k)


@implements(np.diagonal)
def _diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    return A.diagonal(_tensorize(a), offset, axis1, axis2)


@implements(np.tril)
def _tril(m: Any, k: int = 0) -> Any:
    return S.tril_p(_tensorize(m), diagonal=k)  # NumPy's: a vector becomes a matrix


@implements(np.triu)
def _triu(m: Any, k: int = 0) -> Any:
    return S.triu_p(_tensorize(m), diagonal=k)


@implements(np.sinc)
def _sinc(x: Any) -> Any:
    return AM.sinc(_tensorize(x))


@implements(np.nan_to_num)
def _nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None,
                neginf: Any = None) -> Any:
    return AM.nan_to_num(_tensorize(x), nan=nan, posinf=posinf, neginf=neginf)


@implements(np.count_nonzero)
def _count_nonzero(a: Any, axis: Any = None, *, keepdims: bool = False) -> Any:
    out = AM.count_nonzero(_tensorize(a), dim=axis)
    if keepdims:
        return _plain_numpy(np.count_nonzero, (_tensorize(a),), dict(axis=axis, keepdims=True))
    return out


@implements(np.nanmean)
def _nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False, **kw: Any) -> Any:
    x = _tensorize(a)
    if not isinstance(x, Tensor):
        x = A.as_tensor_arg(x)
    if not x.is_floating_point():
        x = x.to(np.float64)
    res = AM.nanmean(x, axis, keepdims, dtype=dtype)
    return res if out is None else _write_out(out, res)


@implements(np.cumsum)
def _cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    x = _tensorize(a)
    if axis is None:
        x, axis = A.reshape(x, (-1,)), 0
    return A.cumsum(x, axis, dtype=dtype)


@implements(np.cumprod)
def _cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    x = _tensorize(a)
    if axis is None:
        x, axis = A.reshape(x, (-1,)), 0
    return A.cumprod(x, axis, dtype=dtype)


@implements(np.diff)
def _diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    x = _tensorize(a)
    if prepend is not None or append is not None:
        pre = [] if prepend is None else [A.as_tensor_arg(_tensorize(prepend))]
        post = [] if append is None else [A.as_tensor_arg(_tensorize(append))]
        shape = list(x.shape)
        shape[axis] = 1
        pre = [A.expand(p, tuple(shape)) if p.ndim == 0 else p for p in pre]
        post = [A.expand(p, tuple(shape)) if p.ndim == 0 else p for p in post]
        x = A.cat(pre + [x] + post, axis)
    ax = axis % x.ndim
    for _ in range(n):
        hi = (slice(None),) * ax + (slice(1, None),)
        lo = (slice(None),) * ax + (slice(None, -1),)
        x = x[hi] - x[lo]
    return x


@implements(np.sort)
def _sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, **kw: Any) -> Any:
    x = _tensorize(a)
    if axis is None:
        x, axis = A.reshape(x, (-1,)), 0
    return A.sort(x, axis).values


@implements(np.take)
def _take(a: Any, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
    x = _tensorize(a)
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if axis is None:
        return A.reshape(x, (-1,))[idx]
    ax = axis % x.ndim
    return x[(slice(None),) * ax + (idx,)]


@implements(np.take_along_axis)
def _take_along_axis(arr: Any, indices: Any, axis: Any) -> Any:
    x = _tensorize(arr)
    if axis is None:
        x, axis = A.reshape(x, (-1,)), 0
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    ax = axis % max(x.ndim, 1)
    n = x.shape[ax] if x.ndim else 1
    # NOTE: NumPy's semantics here (gradkit's gather and take_along_dim follow PyTorch):
    # negative indices count from the end, and the other dims broadcast.
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].reshape(-1)[0]
        raise IndexError(f"index {bad} is out of bounds for axis {ax} with size {n}")
    return A.take_along_dim(x, np.where(idx < 0, idx + n, idx), ax)


@implements(np.zeros_like)
def _zeros_like(a: Any, dtype: Any = None, **kw: Any) -> Any:
    return _factories.zeros_like(_tensorize(a), dtype=dtype)


@implements(np.ones_like)
def _ones_like(a: Any, dtype: Any = None, **kw: Any) -> Any:
    return _factories.ones_like(_tensorize(a), dtype=dtype)


@implements(np.full_like)
def _full_like(a: Any, fill_value: Any, dtype: Any = None, **kw: Any) -> Any:
    return _factories.full_like(_tensorize(a), fill_value, dtype=dtype)


@implements(np.empty_like)
def _empty_like(a: Any, dtype: Any = None, **kw: Any) -> Any:
    return _factories.zeros_like(_tensorize(a), dtype=dtype)


@implements(np.shape)
def _shape(a: Any) -> tuple[int, ...]:
    return tuple(_tensorize(a).shape)


@implements(np.ndim)
def _ndim(a: Any) -> int:
    return _tensorize(a).ndim


@implements(np.size)
def _size(a: Any, axis: Any = None) -> int:
    x = _tensorize(a)
    return x.numel() if axis is None else x.shape[axis]


@implements(np.linalg.norm)
def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    t = _np_float(_tensorize(x))
    if ord in (None, 2, "fro") and (axis is None or isinstance(axis, int)) and \
            (t.ndim == 1 or axis is not None or ord in (None, "fro")):
        return A.norm(t, 2, axis, keepdims)
    if ord is not None and not isinstance(ord, str) and (t.ndim == 1 or isinstance(axis, int)):
        return A.norm(t, ord, axis, keepdims)
    try:
        from gradkit import linalg as L
    except ImportError:
        raise _unsupported("linalg.norm with a matrix ord") from None
    return L.norm(t, ord, axis, keepdims)


def _linalg_handlers() -> None:
    """np.linalg functions that map onto gradkit.linalg (NumPy's return conventions)."""
    from gradkit import linalg as L

    implements(np.linalg.inv)(lambda a: L.inv(_tensorize(a)))
    implements(np.linalg.det)(lambda a: L.det(_tensorize(a)))
    implements(np.linalg.slogdet)(lambda a: tuple(L.slogdet(_tensorize(a))))
    # NOTE: NumPy (LAPACK) reads one triangle of a, as for eigh: a one-triangle gradient
    implements(np.linalg.cholesky)(lambda a, upper=False: L.cholesky(
        L._numpy_hermitian(_tensorize(a), "U" if upper else "L"), upper=upper))
    implements(np.linalg.pinv)(lambda a, rcond=None, hermitian=False, **kw:
                               L.pinv(_tensorize(a), rtol=rcond, hermitian=hermitian))
    implements(np.linalg.eigvalsh)(lambda a, UPLO="L": L.eigvalsh(L._numpy_hermitian(_tensorize(a), UPLO),
                                                                 UPLO))
    implements(np.linalg.matrix_power)(lambda a, n: L.matrix_power(_tensorize(a), n))

    @implements(np.linalg.solve)
    def _solve(a: Any, b: Any) -> Any:
        A_, B_ = _tensorize(a), _tensorize(b)
        A_, B_ = _as_t(A_), _as_t(B_)
        dt = _dtype.result_type(A_, B_)            # NumPy promotes where PyTorch refuses
        return L.solve(A_.to(dt), B_.to(dt))

    @implements(np.linalg.qr)
    def _qr(a: Any, mode: str = "reduced") -> Any:
        return tuple(L.qr(_tensorize(a), mode)) if mode != "r" else L.qr(_tensorize(a), "r")[1]

    @implements(np.linalg.eigh)
    def _eigh(a: Any, UPLO: str = "L") -> Any:
        return tuple(L.eigh(L._numpy_hermitian(_tensorize(a), UPLO), UPLO))   # one triangle read

    @implements(np.linalg.eig)
    def _eig(a: Any) -> Any:
        return L._numpy_eig(_tensorize(a))

    @implements(np.linalg.eigvals)
    def _eigvals(a: Any) -> Any:
        return L._numpy_eig(_tensorize(a))[0]

    @implements(np.linalg.lstsq)
    def _lstsq(a: Any, b: Any, rcond: Any = None) -> Any:
        A_, B_ = _as_t(a), _as_t(b)
        if A_.ndim != 2 or B_.ndim not in (1, 2):
            raise np.linalg.LinAlgError(f"{A_.ndim}-dimensional array given. Array must be "
                                        "two-dimensional")
        m, n = A_.shape
        if B_.shape[0] != m:
            raise np.linalg.LinAlgError("Incompatible dimensions")
        dt = np.result_type(A_._data, B_._data, np.float64)
        A_, B_ = A_.to(dt), B_.to(dt)
        if rcond is None:
            rcond = np.finfo(dt).eps * max(m, n)
        s = L.svdvals(A_)
        sv = s._data
        rank = int(np.sum(sv > rcond * sv.max())) if sv.size else 0
        # NOTE: NumPy's answer is the minimum-norm least-squares solution, pinv(a) @ b (the same
        # cut-off rcond * largest singular value); its residuals only for full column rank, m > n
        x = A.matmul(L.pinv(A_, rtol=float(rcond)), B_)
        if rank == n and m > n:
            r = A.sub(A.matmul(A_, x), B_)
            res = A.sum(A.mul(AC.real(r), AC.real(r)) + A.mul(AC.imag(r), AC.imag(r))
                        if r.is_complex() else A.mul(r, r), 0)
            res = A.reshape(res, (1,)) if B_.ndim == 1 else res
        else:
            res = _factories.zeros((0,), dtype=np.finfo(dt).dtype)
        return x, res, np.int32(rank), s

    implements(np.linalg.multi_dot)(lambda arrays, *, out=None: L.multi_dot([_as_t(a) for a in arrays]))
    implements(np.linalg.cond)(lambda x, p=None: L.cond(_as_t(x), p))
    implements(np.linalg.tensorsolve)(lambda a, b, axes=None: L.tensorsolve(_as_t(a), _as_t(b), axes))
    implements(np.linalg.tensorinv)(lambda a, ind=2: L.tensorinv(_as_t(a), ind))
    implements(np.linalg.matrix_norm)(lambda x, /, *, keepdims=False, ord="fro":
                                      L.matrix_norm(_as_t(x), ord, keepdim=keepdims))
    implements(np.linalg.vector_norm)(lambda x, /, *, axis=None, keepdims=False, ord=2:
                                      L.vector_norm(_as_t(x), ord, axis, keepdims))
    implements(np.linalg.svdvals)(lambda x, /: L.svdvals(_as_t(x)))
    implements(np.linalg.diagonal)(lambda x, /, *, offset=0: L.diagonal(_as_t(x), offset=offset))
    implements(np.linalg.trace)(lambda x, /, *, offset=0, dtype=None:
                                _trace(x, offset, -2, -1, dtype))
    implements(np.linalg.cross)(lambda x1, x2, /, *, axis=-1: _linalg_cross(x1, x2, axis))
    implements(np.linalg.outer)(lambda x1, x2, /: _linalg_outer(x1, x2))
    implements(np.linalg.matmul)(lambda x1, x2, /: A.matmul(_as_t(x1), _as_t(x2)))
    implements(np.linalg.tensordot)(lambda x1, x2, /, *, axes=2:
                                    A.tensordot(_as_t(x1), _as_t(x2), axes))
    implements(np.linalg.vecdot)(lambda x1, x2, /, *, axis=-1: _vecdot(x1, x2, axis))
    implements(np.linalg.matrix_transpose, np.matrix_transpose)(lambda x, /: _matrix_transpose(x))

    def _linalg_cross(x1: Any, x2: Any, axis: int) -> Any:
        a, b = _as_t(x1), _as_t(x2)
        if a.shape[axis] != 3 or b.shape[axis] != 3:
            raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors, "
                             f"but they are {a.shape[axis]} and {b.shape[axis]} dimensional "
                             "instead.")
        return np.cross(a, b, axis=axis)

    def _linalg_outer(x1: Any, x2: Any) -> Any:
        a, b = _as_t(x1), _as_t(x2)
        if a.ndim != 1 or b.ndim != 1:
            raise ValueError(f"Input arrays must be one-dimensional, but they are "
                             f"x1.ndim={a.ndim} and x2.ndim={b.ndim}.")
        return A.outer(a, b)

    @implements(np.linalg.svd)
    def _svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
        if not compute_uv:
            return L.svdvals(_tensorize(a))
        return tuple(L.svd(_tensorize(a), full_matrices=full_matrices))


def _as_t(x: Any) -> Tensor:
    t = _tensorize(x)
    return t if isinstance(t, Tensor) else A.as_tensor_arg(np.asarray(t))


def _matrix_transpose(x: Any) -> Any:
    t = _as_t(x)
    if t.ndim < 2:
        raise ValueError("Input array must be at least 2-dimensional, but it is "
                         f"{t.ndim}-dimensional")
    return A.transpose(t, -1, -2)


@implements(np.real)
def _real(val: Any) -> Any:
    x = _tensorize(val)
    return AC.real(x) if x.is_complex() else x


@implements(np.imag)
def _imag(val: Any) -> Any:
    x = _tensorize(val)
    return AC.imag(x) if x.is_complex() else A.mul(x, 0)


@implements(np.angle)
def _angle(z: Any, deg: bool = False) -> Any:
    a = AC.angle(_tensorize(z))
    return AM.rad2deg(a) if deg else a


def _fft_handlers() -> None:
    """np.fft functions: gradkit.fft's rows with NumPy's signatures (gradkit/fft/_numpy.py,
    imported on the first call so that ``import gradkit`` stays fast)."""
    import importlib

    def handler(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(importlib.import_module("gradkit.fft._numpy"), name)(*args, **kwargs)
        return call

    for name in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
                 "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "fftshift", "ifftshift"):
        implements(getattr(np.fft, name))(handler(name))


_linalg_handlers()
_fft_handlers()
