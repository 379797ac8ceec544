"""PyTorch-style products and comparisons of whole tensors (matmul, einsum, kron, isclose, ...).

Part of ``gradkit._api`` (see its docstring); none carries a derivative of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._core.tensor import Tensor, _c_name, _make
from gradkit.ops import linalg as L
from gradkit.ops import shape as S
from gradkit.ops._registry import apply
from gradkit._api.base import _accepts_out, _scalar_name, _t, _vmap_batched, _vmap_error
from gradkit._api.pointwise import mul
from gradkit._api.indexing import clone, diagonal
from gradkit._api.reduction import sum as _rsum
from gradkit._api.shape import movedim, unsqueeze
from gradkit._core.grad_mode import is_grad_enabled
from gradkit._api.shape import expand, permute, reshape, transpose
from gradkit._core.autocast import autocast_op

# --- products ---------------------------------------------------------------------------
def _same_dtype(x: Tensor, y: Tensor) -> None:
    """PyTorch's products do not promote: operands of two dtypes are its error, worded as the
    kernel a product of these ranks reaches (dot, addmv, addmm, bmm)."""
    if x._data.dtype == y._data.dtype:
        return
    if x.ndim == 1 and y.ndim == 1:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_scalar_name(x.dtype)} and {_scalar_name(y.dtype)}")
    if y.ndim == 1:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{_scalar_name(y.dtype)}, {_scalar_name(x.dtype)}, and {_scalar_name(y.dtype)}")
    if y.ndim == 2:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_c_name(x._data.dtype)} != {_c_name(y._data.dtype)}")
    raise RuntimeError(f"expected scalar type {_scalar_name(x.dtype)} but found {_scalar_name(y.dtype)}")


@autocast_op
@_accepts_out
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics for 1-D, 2-D and batched operands."""
    x, y = _t(input), _t(other)
    if x._data.dtype != y._data.dtype and x.ndim and y.ndim:
        if isinstance(input, Tensor) and isinstance(other, Tensor):
            _same_dtype(x, y)
        else:
            # NOTE: a NumPy array operand (``t @ ndarray``, which PyTorch does not take) is NumPy
            # code on a tensor: NumPy's promotion, as np.matmul's dispatch gives
            dt = np.result_type(x._data, y._data)
            x, y = (v if v._data.dtype == dt else v.to(dt) for v in (x, y))
    variant = L.matmul_variant(x.ndim, y.ndim)
    if variant in (L.VM, L.BATCHED) and (x._rg or y._rg) and \
            x.shape[-1] == y.shape[-2 if y.ndim > 1 else 0]:
        out = _matmul_as_pytorch(x, y)
        if out is not None:
            return out
    return apply(L.matmul_p.prim, (x, y), None, variant)


def _matmul_as_pytorch(x: Tensor, y: Tensor) -> Tensor | None:
    """PyTorch's graph of a matmul with a vector or a batch: views around one mm/mv/bmm
    (``SqueezeBackward4`` over ``MmBackward0``, ``UnsafeViewBackward0`` over ``MmBackward0``,
    ``MvBackward0`` or ``BmmBackward0``); None where PyTorch's graph is another one."""
    if x.ndim == 1 and y.ndim == 2:
        row = S.reshape_as(x, (1, x.shape[0]), S.UNSQUEEZE)
        out = apply(L.matmul_p.prim, (row, y), None, L.MM)
        return S.reshape_as(out, (y.shape[1],), S.SQUEEZE4)
    if x.ndim >= 3 and y.ndim <= 2:
        # the batch folds into the rows of one mm (mv for a vector)
        flat = S.reshape_as(x, (int(np.prod(x.shape[:-1])), x.shape[-1]))
        out = apply(L.matmul_p.prim, (flat, y), None, L.MM if y.ndim == 2 else L.MV)
        return S.reshape_as(out, tuple(x.shape[:-1]) + tuple(y.shape[1:]), S.UNSAFE_VIEW)
    if x.ndim == 2 and y.ndim >= 3:
        # PyTorch folds the transposed product (y^T x^T)^T and makes it contiguous: CloneBackward0
        # over TransposeBackward0 over the folded mm
        folded = _matmul_as_pytorch(transpose(y, -1, -2), transpose(x, 0, 1))
        return None if folded is None else clone(transpose(folded, -1, -2))
    if x.ndim >= 3 and y.ndim >= 3:
        try:
            batch = tuple(np.broadcast_shapes(tuple(x.shape[:-2]), tuple(y.shape[:-2])))
        except ValueError:
            return None
        xs = batch + tuple(x.shape[-2:])
        ys = batch + tuple(y.shape[-2:])
        if tuple(x.shape) != xs:
            x = expand(x, xs)
        if tuple(y.shape) != ys:
            y = expand(y, ys)
        x3 = x if x.ndim == 3 else S.reshape_as(x, (int(np.prod(batch)),) + tuple(x.shape[-2:]))
        y3 = y if y.ndim == 3 else S.reshape_as(y, (int(np.prod(batch)),) + tuple(y.shape[-2:]))
        out = apply(L.matmul_p.prim, (x3, y3), None, L.BMM)
        return S.reshape_as(out, batch + (x.shape[-2], y.shape[-1]), S.UNSAFE_VIEW)
    return None


@autocast_op
@_accepts_out
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    x, y = _t(input), _t(mat2)
    if x.ndim != 2 or y.ndim != 2:
        raise RuntimeError(f"{'self' if x.ndim != 2 else 'mat2'} must be a matrix")
    _same_dtype(x, y)
    return apply(L.matmul_p.prim, (x, y), None, L.MM)


@autocast_op
@_accepts_out
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    x, y = _t(input), _t(mat2)
    if x.ndim != 3 or y.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if x.ndim != 3 else
                           "batch2 must be a 3D tensor")
    if y.shape[:2] != (x.shape[0], x.shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{x.shape[0]}, {x.shape[2]}] but got: [{y.shape[0]}, {y.shape[1]}].")
    _same_dtype(x, y)
    return apply(L.matmul_p.prim, (x, y), None, L.BMM)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    x, y = _t(input), _t(vec)
    if x.ndim != 2 or y.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {y.ndim}, {x.ndim}, {y.ndim}")
    if x.shape[1] != y.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({x.shape[0]}), mat ({x.shape[0]}x{x.shape[1]}), "
                           f"vec ({y.shape[0]})")
    _same_dtype(x, y)
    return apply(L.matmul_p.prim, (x, y), None, L.MV)


def dot(input: Tensor, other: Tensor) -> Tensor:
    x, y = _t(input), _t(other)
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    _same_dtype(x, y)
    return apply(L.matmul_p.prim, (x, y), None, L.DOT)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum over the last dims of ``input`` and ``other`` (a product of two scalars for 0-d)."""
    x, y = _t(input), _t(other)
    if x.ndim == 0 or y.ndim == 0:
        return mul(x, y)
    if x.ndim == 1 and y.ndim == 1:
        return dot(x, y)
    if x.shape[-1] != y.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(x.shape)} and {list(y.shape)}")
    return tensordot(x, y, ([x.ndim - 1], [y.ndim - 1]))


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """``sum(conj(input) * other)`` of two 1-D tensors (one node, PyTorch's VdotBackward0)."""
    x, y = _t(input), _t(other)
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    if x.dtype is not y.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_scalar_name(x.dtype)} and {_scalar_name(y.dtype)}")
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src "
                           f"[{y.shape[0]}] to have the same number of elements, but got "
                           f"{x.shape[0]} and {y.shape[0]} elements respectively")
    return L.vdot_p(x, y)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    x, y = _t(input), _t(vec2)
    for t, name in ((x, "self"), (y, "vec2")):     # others were flattened silently
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return mul(reshape(x, (-1, 1)), y)


ger = outer


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Whether each of ``elements`` is in ``test_elements`` (a bool tensor of ``elements``'s
    shape; no gradient). Either may be a number; nan is in nothing."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments - got (Number, Number), "
                        "but expected one of: (Tensor elements, Tensor test_elements), "
                        "(Scalar element, Tensor test_elements), (Tensor elements, Scalar test_element)")
    e = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    out = np.isin(e, t, assume_unique=assume_unique, invert=invert)
    return _make(np.asarray(out, dtype=bool), False, None)


def _sublist_equation(args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """``einsum(op1, [0, 1], op2, [1, 2], [0, 2])`` (PyTorch's and NumPy's sublist format) as
    an equation over letters (0-25 are ``a``-``z``, 26-51 ``A``-``Z``) and the operands."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def term(sub: Any) -> str:
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, (int, np.integer)) and 0 <= s < len(letters):
                out.append(letters[s])
            else:
                raise ValueError(f"einsum(): expected subscript to be within the range [0, 52) or "
                                 f"Ellipsis, but got {s!r}")
        return "".join(out)
    ops, subs = list(args[0::2]), list(args[1::2])
    tail = None
    if len(ops) > len(subs):               # an odd count: the last item is the output sublist
        tail = ops.pop()
    equation = ",".join(term(sub) for sub in subs)
    if tail is not None:
        equation += "->" + term(tail)
    return equation, tuple(ops)


def einsum(equation: Any, *operands: Any) -> Tensor:
    """Einstein summation (NumPy's notation, ``...`` included; or the sublist format)."""
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ops = [_t(o) for o in operands]
    if not (is_grad_enabled() and any(o.requires_grad for o in ops)):
        return L.einsum_p(*ops, equation=equation)
    # NOTE: recorded with PyTorch's last nodes: one operand is diagonals, a permute and a sum
    # of what the output lacks; products without a contraction multiply the aligned operands;
    # a contraction is the einsum row seen through a permute and a view (PyTorch's bmm path ends so)
    subs, rhs = L._parse_einsum(equation, [tuple(o.shape) for o in ops])
    if len(ops) == 1:
        x, labels = _einsum_diagonals(ops[0], subs[0])
        summed = [c for c in labels if c not in rhs]
        x = permute(x, [labels.index(c) for c in rhs] + [labels.index(c) for c in summed])
        return _rsum(x, tuple(range(len(rhs), len(labels)))) if summed else x
    if set("".join(subs)) <= set(rhs):
        out = None
        for o, sub in zip(ops, subs):
            x, labels = _einsum_diagonals(o, sub)
            for c in rhs:
                if c not in labels:
                    x, labels = unsqueeze(x, -1), labels + [c]
            x = permute(x, [labels.index(c) for c in rhs])
            out = x if out is None else mul(out, x)
        return out
    res = L.einsum_p(*ops, equation=equation)
    return reshape(permute(res, list(range(res.ndim))), tuple(res.shape))


def _einsum_diagonals(x: Tensor, sub: str) -> tuple[Tensor, list[str]]:
    """``x`` with each repeated label's diagonal taken (kept where the label first stood)."""
    labels = list(sub)
    for c in sub:
        while labels.count(c) > 1:
            p = labels.index(c)
            q = labels.index(c, p + 1)
            x = movedim(diagonal(x, 0, p, q), -1, p)
            labels = [lab for k, lab in enumerate(labels) if k != q]
    return x, labels


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Contract ``dims`` trailing dims of ``a`` with leading dims of ``b`` (or given dim lists),
    with PyTorch's checks: paired dims of one size (a size-1 dim pairs with any size: the
    other side is summed over it), lists of one length without repeats, ``0 <= dims <= ndim``."""
    x, y = _t(a), _t(b)
    if isinstance(dims, Tensor):                   # PyTorch takes dims as a tensor too
        dims = int(dims.item()) if dims.ndim == 0 else dims.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        n = int(dims)
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={n}")
        if n > x.ndim or n > y.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={n}")
        given_a, given_b = list(range(-n, 0)), list(range(n))
    else:
        given_a, given_b = ([dims[0]] if isinstance(dims[0], int) else list(dims[0]),
                            [dims[1]] if isinstance(dims[1], int) else list(dims[1]))
        if len(given_a) != len(given_b):
            raise RuntimeError("both dimension lists should have same length")
    da = [S.norm_dim(i, x.ndim) for i in given_a]
    db = [S.norm_dim(i, y.ndim) for i in given_b]
    for lst in (da, db):
        for j, d in enumerate(lst):
            if d in lst[:j]:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    for i, (ia, ib) in enumerate(zip(da, db)):
        sa, sb = x.shape[ia], y.shape[ib]
        if sb == 1 and sa != 1:                    # PyTorch sums the other side over the dim
            x = _rsum(x, ia, keepdim=True)
        elif sa == 1 and sb != 1:
            y = _rsum(y, ib, keepdim=True)
        elif sa != sb:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa} in "
                               f"dim {given_a[i]} and second has size {sb} in dim {given_b[i]}")
    fa = [i for i in range(x.ndim) if i not in da]
    fb = [i for i in range(y.ndim) if i not in db]
    k = int(np.prod([x.shape[i] for i in da], dtype=np.int64))
    xa = reshape(permute(x, fa + da), (-1, k))
    yb = reshape(permute(y, db + fb), (k, -1))
    out = matmul(xa, yb)
    return reshape(out, tuple(x.shape[i] for i in fa) + tuple(y.shape[i] for i in fb))


def kron(input: Tensor, other: Tensor) -> Tensor:
    x, y = _t(input), _t(other)
    if x.ndim != 2 or y.ndim != 2:
        raise NotImplementedError("kron is supported for matrices only")
    out = reshape(x, (x.shape[0], 1, x.shape[1], 1)) * reshape(y, (1, y.shape[0], 1, y.shape[1]))
    # NOTE: PyTorch's last node is an _unsafe_view (UnsafeViewBackward0)
    return apply(S.reshape_p.prim, (out,), {"shape": (x.shape[0] * y.shape[0], x.shape[1] * y.shape[1])},
                 S.UNSAFE_VIEW)


def _close_args(input: Any, other: Any, rtol: float, atol: float) -> tuple[Any, Any]:
    """The two arrays ``isclose``/``allclose`` compare, after PyTorch's checks: one dtype,
    shapes that broadcast, tolerances not negative (PyTorch's messages)."""
    x, y = _t(input), _t(other)
    if x.dtype != y.dtype:
        raise RuntimeError(f"{_scalar_name(x.dtype)} did not match {_scalar_name(y.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {float(rtol):g}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {float(atol):g}")
    S.broadcast_shapes(tuple(x.shape), tuple(y.shape))
    return x._data, y._data


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    a, b = _close_args(input, other, rtol, atol)
    return _make(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan), False, None)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    if _vmap_batched(input) or _vmap_batched(other):
        raise _vmap_error("vmap over torch.allclose isn't supported yet. Please file an issue at "
                          "https://github.com/pytorch/pytorch/issues if you need this feature.")
    a, b = _close_args(input, other, rtol, atol)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    if _vmap_batched(input) or _vmap_batched(other):
        raise _vmap_error("Batching rule not implemented for aten::equal. We could not generate "
                          "a fallback.")
    a, b = _t(input)._data, _t(other)._data
    return a.shape == b.shape and bool(np.array_equal(a, b))


def numel(input: Tensor) -> int:
    return _t(input).numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def is_inference(input: Tensor) -> bool:
    """True for an inference tensor (see ``gradkit.inference_mode``)."""
    return _t(input).is_inference()


def is_floating_point(input: Tensor) -> bool:
    return _t(input).is_floating_point()


def is_same_size(input: Tensor, other: Tensor) -> bool:
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input: Tensor) -> bool:
    return input._data.dtype.kind not in "ub"


def is_nonzero(input: Tensor) -> bool:
    return bool(_t(input))
