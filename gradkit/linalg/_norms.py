"""gradkit.linalg: norms, powers, lstsq, cross and other compositions.

Part of ``gradkit.linalg`` (see its docstring).
"""

from __future__ import annotations

import operator
from typing import Any, Sequence

import numpy as np

from gradkit import _api as F
from gradkit._core.tensor import Tensor, _make
from gradkit.ops import linalg as L
from gradkit.ops import reduction as R
from gradkit.ops import shape as S
from gradkit.linalg._base import _INF, _float, _lstsq_ret, _matrix, _square
from gradkit.linalg._decomp import matrix_rank, svdvals
from gradkit.linalg._solve import _is_vector_rhs, inv
from gradkit._core.autocast import autocast_op

# --- norms ------------------------------------------------------------------------------------
def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """Vector norm over ``dim`` (all elements by default): ``sum(|x|^ord)^(1/ord)``.

    Parameters
    ----------
    x : Tensor
        Any shape.
    ord : float, optional
        Any real number; ``inf`` (max ``|x|``), ``-inf`` (min ``|x|``), ``0`` (number of
        nonzeros).
    dim : int or tuple of int, optional
        Dims to reduce; ``None`` reduces all.
    keepdim : bool, optional
        Keep the reduced dims with size 1.
    dtype : gradkit dtype, optional
        Cast ``x`` first.

    Notes
    -----
    The 2-norm of a zero vector has gradient 0 (PyTorch's convention); ties in the
    ``inf`` norms share the gradient equally.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.vector_norm(gk.tensor([3.0, -4.0]))
    tensor(5.)
    """
    t = x if isinstance(x, Tensor) else F.as_tensor_arg(x)
    if dtype is not None:
        t = t.to(dtype)
    t = _float(t, "vector_norm", complex_ok=True)
    if isinstance(ord, str) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, "
                        f"not {type(ord).__name__}")
    return R.norm_p(t, ord=float(ord), dim=S.norm_dims(dim, t.ndim), keepdim=keepdim)


def _drop(x: Tensor, dims: tuple[int, ...]) -> Tensor:
    """Remove the size-1 dims ``dims`` (as a reshape)."""
    return F.reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in dims))


def _insert(x: Tensor, dims: tuple[int, ...]) -> Tensor:
    """Insert size-1 dims at ``dims`` (ascending positions in the result)."""
    for d in sorted(dims):
        x = F.unsqueeze(x, d)
    return x


def _is_matrix_ord(ord: Any) -> bool:
    if isinstance(ord, str):
        return ord in ("fro", "nuc")
    return isinstance(ord, (int, float, np.number)) and not isinstance(ord, bool) and \
        ord in (1, -1, 2, -2, _INF, -_INF)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1), keepdim: bool = False,
                *, dtype: Any = None) -> Tensor:
    """Matrix norm over the two dims ``dim``.

    Parameters
    ----------
    A : Tensor
        Shape ``(*, m, n)`` (with the matrix dims where ``dim`` says).
    ord : {"fro", "nuc", 1, -1, 2, -2, inf, -inf}, optional
        Frobenius; nuclear (sum of singular values); max / min column sum of ``|A|``;
        largest / smallest singular value; max / min row sum of ``|A|``.
    dim : pair of int, optional
        The row and column dims.
    keepdim : bool, optional
        Keep both dims with size 1.
    dtype : gradkit dtype, optional
        Cast ``A`` first.

    Notes
    -----
    ``"nuc"`` and ``+-2`` go through :func:`svdvals`; ``+-1`` and ``+-inf`` through
    ``amax``/``amin`` of absolute sums (ties share the gradient).

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[1.0, -2.0], [3.0, 4.0]])
    >>> gk.linalg.matrix_norm(A, 1), gk.linalg.matrix_norm(A, float("inf"))
    (tensor(6.), tensor(7.))
    """
    a = A if isinstance(A, Tensor) else F.as_tensor_arg(A)
    if dtype is not None:
        a = a.to(dtype)
    a = _matrix(a, "matrix_norm", complex_ok=True)
    if not _is_matrix_ord(ord):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {tuple(dim)}")
    d0, d1 = (S.norm_dim(int(d), a.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    pair = tuple(sorted((d0, d1)))
    if ord in ("nuc", 2, -2) and a._data.dtype == np.float16:
        raise RuntimeError("linalg.matrix_norm: Low precision dtypes not supported. Got Half")
    if ord == "fro":
        return R.norm_p(a, ord=2.0, dim=pair, keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(F.movedim(a, (d0, d1), (-2, -1)))
        # NOTE: no singular values: the norm is 0 (a sum), as PyTorch's; ord=-2 raises in amin
        top = F.amax if s.shape[-1] else F.sum
        out = F.sum(s, -1) if ord == "nuc" else (top if ord == 2 else F.amin)(s, -1)
        return _insert(out, pair) if keepdim else out
    inner, outer = (d0, d1) if abs(ord) == 1 else (d1, d0)      # sum over rows, max over columns
    # PyTorch's composition (its nodes): amax/amin of the 1-norms of the columns (rows)
    sums = R.norm_p(a, ord=1.0, dim=(inner,), keepdim=keepdim)
    if not keepdim and inner < outer:
        outer -= 1
    # NOTE: no columns (rows): the norm is 0 (a sum), as PyTorch's; a negative ord raises in amin
    top = F.amax if sums.shape[outer] else F.sum
    return (top if ord > 0 else F.amin)(sums, outer, keepdim=keepdim)


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """Vector or matrix norm, chosen as PyTorch does.

    With ``dim`` an int or 1-tuple: :func:`vector_norm`; a 2-tuple: :func:`matrix_norm`.
    Without ``dim``: the 2-norm of all elements when ``ord`` is None, else a vector
    norm of a 1-D input or a matrix norm of a 2-D input.

    Parameters
    ----------
    A : Tensor
    ord : float or str, optional
        As in :func:`vector_norm` or :func:`matrix_norm`.
    dim : int or tuple of int, optional
    keepdim : bool, optional
    dtype : gradkit dtype, optional

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[3.0, 0.0], [0.0, 4.0]])
    >>> gk.linalg.norm(A), gk.linalg.norm(A, 2), gk.linalg.norm(A, "nuc")
    (tensor(5.), tensor(4.), tensor(7.))
    """
    a = A if isinstance(A, Tensor) else F.as_tensor_arg(A)
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(a, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(a, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if ord is None:
        return vector_norm(a, 2, None, keepdim, dtype=dtype)
    if a.ndim == 1 and not isinstance(ord, str):
        return vector_norm(a, ord, None, keepdim, dtype=dtype)
    if a.ndim == 2:
        return matrix_norm(a, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D "
                       f"(a matrix ord such as {ord!r} needs 2D). Got {a.ndim}D.")


# --- compositions -------------------------------------------------------------------------------
def matrix_power(A: Tensor, n: int) -> Tensor:
    """``A`` multiplied by itself ``n`` times; ``n = 0`` gives the identity, ``n < 0``
    powers of ``inv(A)``. Uses repeated squaring.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.matrix_power(gk.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    a = _square(A, "matrix_power", True)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, not {type(n).__name__}")
    n = operator.index(n)
    if n == 0 and not a._data.size:                 # no matrices, or 0x0 ones
        return F.clone(a)
    if n == 0:
        # NOTE: the identity, still on the graph (gradient 0, as in PyTorch), even where A holds
        # nan: PyTorch's clone overwritten by copy_ (CopyBackwards over CloneBackward0)
        eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a._data.dtype), a.shape)
        return F.clone(a).copy_(_make(np.ascontiguousarray(eye), False, None))
    # PyTorch's products (its nodes): a clone for 1, inv(a) for -1, (a a) a for 3, else binary
    # powers multiplied into the result from the lowest bit up
    if n == 1:
        return F.clone(a)
    if n < 0:
        a, n = inv(a), -n
    if n == 3:
        return F.matmul(F.matmul(a, a), a)
    result = None
    while True:
        if n & 1:
            result = a if result is None else F.matmul(result, a)
        n >>= 1
        if not n:
            return result
        a = F.matmul(a, a)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


@autocast_op
def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> Any:
    """Least-squares solution of ``A X = B`` (the minimum-norm one when ``A`` is rank deficient).

    Parameters
    ----------
    A : Tensor
        Shape ``(*, m, n)``.
    B : Tensor
        Shape ``(*, m, k)`` or ``(*, m)``; batch dims broadcast.
    rcond : float, optional
        Singular values below ``rcond * s_max`` count as zero (default ``eps * max(m, n)``).
    driver : {"gelsy", "gels", "gelsd", "gelss"}, optional
        Which outputs are filled, as in PyTorch on the CPU (default ``"gelsy"``).

    Returns
    -------
    (solution, residuals, rank, singular_values) : named tuple of Tensors
        ``solution`` of shape ``(*, n, k)`` (or ``(*, n)``); ``residuals``, the squared
        residual norms of each column, only when ``m > n``, ``A`` has full rank and the
        driver is not ``"gelsy"`` (else empty); ``rank`` (int64) unless the driver is
        ``"gels"``; ``singular_values`` for ``"gelsd"``/``"gelss"`` only.

    Notes
    -----
    Computed as ``pinv(A) @ B``: ``solution`` and ``residuals`` are differentiable in
    ``A`` and ``B`` while the rank does not change.

    Examples
    --------
    >>> import gradkit as gk
    >>> A = gk.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    >>> gk.linalg.lstsq(A, gk.tensor([1.0, 2.0, 3.0])).solution
    tensor([1., 2.])
    """
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of "
                           "(gels, gelsy, gelsd, gelss)")
    t = A if isinstance(A, Tensor) else F.as_tensor_arg(A)
    if t.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    a = _matrix(t, "lstsq", True)
    b = b_in = _float(B, "lstsq", "B", complex_ok=True)
    if isinstance(B, Tensor) and a.dtype is not b.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, "
                           f"but got input's dtype {a.dtype._legacy[:-6]} and other's dtype "
                           f"{b.dtype._legacy[:-6]}")
    vector = _is_vector_rhs(a, b)
    if vector:
        b = F.unsqueeze(b, -1)
    m, n = a.shape[-2], a.shape[-1]
    if b.ndim < 2 or b.shape[-2] != m:
        raise RuntimeError(f"linalg.lstsq: input.size(-2) should match other.size(-2) (got {m} and "
                           f"{b.shape[-2] if b.ndim > 1 else b.shape[-1]})")
    rtol = float(np.finfo(a._data.dtype).eps * max(m, n)) if rcond is None or rcond < 0 else rcond
    # one node, PyTorch's LinalgLstsqBackward0 (pinv(A) @ B and their rules)
    sol = L.lstsq_p(a, b_in if vector else b, rtol=rtol)
    x = F.unsqueeze(sol, -1) if vector else sol
    rank = matrix_rank(a, rtol=rtol)
    real = np.empty((0,), dtype=a._data.dtype).real.dtype        # complex inputs: real residuals
    empty = _make(np.empty((0,), dtype=real), False, None)
    residuals = empty
    if driver != "gelsy" and m > n and bool(np.all(rank._data == n)):
        r = F.matmul(a, x) - b
        residuals = F.sum((r.conj() * r).real if r.is_complex() else r * r, -2)
    if driver == "gels":
        rank = _make(np.empty((0,), dtype=np.int64), False, None)
    svals = svdvals(a).detach() if driver in ("gelsd", "gelss") else empty
    return _lstsq_ret(sol, residuals, rank, svals)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim``; the other dims broadcast.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.cross(gk.tensor([1.0, 0.0, 0.0]), gk.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    x = input if isinstance(input, Tensor) else F.as_tensor_arg(input)
    y = other if isinstance(other, Tensor) else F.as_tensor_arg(other)
    if x.ndim != y.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    F.broadcast_shapes(tuple(x.shape), tuple(y.shape))       # PyTorch's broadcast error
    d = S.norm_dim(dim, x.ndim)
    if x.shape[d] != 3 or y.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{x.shape[d]} and {y.shape[d]}")
    return L.linalg_cross_p(x, y, dim=d)          # one node, PyTorch's LinalgCrossBackward0


@autocast_op
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Dot product of vectors along ``dim`` (the other dims broadcast).

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.vecdot(gk.tensor([1.0, 2.0]), gk.tensor([3.0, 4.0]))
    tensor(11.)
    """
    xt = x if isinstance(x, Tensor) else F.as_tensor_arg(x)
    return F.sum(F.mul(xt.conj() if xt.is_complex() else xt, y), dim)


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """Chain of matrix products; the first and last may be 1-D (a row and a column vector).

    The products are taken in the order of fewest multiplications, as PyTorch takes them.

    Examples
    --------
    >>> import gradkit as gk
    >>> gk.linalg.multi_dot([gk.tensor([1.0, 2.0]), gk.eye(2), gk.tensor([3.0, 4.0])])
    tensor(11.)
    """
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    _check_multi_dot(ts)
    from gradkit._api.blas import chain_product
    return chain_product(ts)


def _check_multi_dot(ts: list[Any]) -> None:
    """PyTorch's checks: 1-D or 2-D ends, 2-D middles, and chained inner sizes."""
    n = len(ts)
    for i, t in enumerate(ts):
        nd = t.ndim
        if i == 0 and nd not in (1, 2):
            raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {nd}D")
        if i == n - 1 and nd not in (1, 2):
            raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {nd}D")
        if 0 < i < n - 1 and nd != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {nd}D")
    for i in range(n - 1):
        a, b = ts[i], ts[i + 1]
        if a.shape[-1] != b.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(a.shape)} and "
                               f"{list(b.shape)} cannot be multiplied")


@autocast_op
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Alias of :func:`gradkit.matmul`."""
    return F.matmul(input, other)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Diagonals of the matrices over the last two dims (alias of :func:`gradkit.diagonal`)."""
    return F.diagonal(A, offset, dim1, dim2)
