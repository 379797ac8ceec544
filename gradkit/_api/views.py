"""PyTorch-style strided views: ``select``, ``narrow_copy``, ``unfold``, ``as_strided``.

The views write through to their base, as in PyTorch (recorded for autograd).
"""

from __future__ import annotations

from typing import Sequence


from gradkit import _api as A
from gradkit._api.base import _dim, _view_op
from gradkit._api.base import as_tensor_arg as _t
from gradkit._core.tensor import Tensor
from gradkit.ops import shape as S

__all__ = [
    "select", "narrow_copy", "unfold", "as_strided",
]


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim`` (a view, one dimension fewer)."""
    x = _t(input)
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, x.ndim)
    size = x.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(x.shape)} at dimension {d}")
    return x[(slice(None),) * d + (int(index),)]


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """A copy of ``narrow(input, dim, start, length)``."""
    return A.clone(A.narrow(_t(input), dim, start, length))


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """All windows of ``size`` elements ``step`` apart along ``dimension``, in a new last dimension.

    A view, as in PyTorch: an in-place write through it changes ``input`` (and is recorded
    for autograd). Overlapping windows (``step < size``) are refused for in-place writes.
    """
    x = _t(input)
    if x.ndim == 0:
        x = A.reshape(x, (1,))
        squeeze = True
    else:
        squeeze = False
    d = _dim(dimension, x.ndim)
    n = x.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    out = _view_op(x, S.unfold_p.prim, {"dim": d, "size": int(size), "step": int(step)})
    if squeeze:
        out = A.reshape(out, (size,))
    return out


def as_strided(input: Tensor, size: Sequence[int], stride: Sequence[int],
               storage_offset: int | None = None) -> Tensor:
    """The elements of ``input``'s storage at ``storage_offset + sum(i * stride)``.

    A view, as in PyTorch (read-only where elements repeat, so an in-place write through
    an overlapping view is refused). gradkit reads a tensor's own elements in row-major
    order from its first one, which is what PyTorch reads for a contiguous tensor (with
    ``storage_offset`` counted from the start of its storage). A non-contiguous tensor, or
    an explicit ``storage_offset`` on a view that does not start its storage, is refused
    (call ``.contiguous()`` first) rather than read differently.
    """
    x = _t(input)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if not x.is_contiguous() or (storage_offset is not None and x._base is not None
                                 and x.storage_offset() != 0):
        raise RuntimeError(
            "as_strided: gradkit reads a tensor's own elements in row-major order, which is "
            "PyTorch's storage only for a contiguous tensor (and a storage_offset counts from "
            "the start of the storage, not of this view); this tensor is a non-contiguous or "
            "offset view. Call .contiguous() first.")
    off = int(storage_offset or 0)
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    pos = S.strided_positions(size, stride, off)
    need = int(pos.max()) + 1 if pos.size else 0
    if need > x.numel() or off < 0:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                           f"{off}, and itemsize {x.element_size()} requiring a storage size of "
                           f"{need * x.element_size()} are out of bounds for storage of size "
                           f"{x.numel() * x.element_size()}")
    return _view_op(x, S.as_strided_p.prim, {"size": size, "stride": stride, "offset": off})
