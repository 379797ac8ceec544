"""PyTorch's out-of-place forms of views: the ``*_scatter`` functions (a copy of ``input`` with
one view of it replaced by ``src``: ``select_scatter``, ``slice_scatter``, ``diagonal_scatter``)
and the ``*_copy`` functions (the view's values in new memory: ``view_copy``, ``permute_copy``, ...).

Both are compositions: a scatter is ``clone``, then ``copy_`` into the view (recorded like any
in-place write through a view, so ``input`` gets the gradient outside the view and ``src`` the
gradient inside it); a copy is the view, then ``clone``.
"""

from __future__ import annotations

from typing import Any

from gradkit import _api as A
from gradkit._api import complex as _cx
from gradkit._api import views as _views
from gradkit._api.base import _t
from gradkit._core.creation import full_like as _full_like
from gradkit._core.tensor import Tensor

__all__ = ["select_scatter", "slice_scatter", "diagonal_scatter", "as_strided_scatter",
           "view_copy", "permute_copy", "expand_copy", "t_copy", "transpose_copy",
           "unsqueeze_copy", "squeeze_copy",
           "select_copy", "slice_copy", "diagonal_copy", "detach_copy", "alias_copy",
           "as_strided_copy", "split_copy", "split_with_sizes_copy", "unbind_copy", "unfold_copy",
           "view_as_real_copy", "view_as_complex_copy", "unsafe_chunk", "unsafe_split",
           "unsafe_split_with_sizes", "fill"]


def _scatter_into(input: Tensor, src: Tensor, view: Any) -> Tensor:
    x, s = _t(input), _t(src, "src")
    target = view(x)
    if tuple(s.shape) != tuple(target.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(s.shape)}, slice size = {list(target.shape)}")
    out = A.clone(x)
    view(out).copy_(s)
    return out


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """``input`` with ``input.select(dim, index)`` replaced by ``src``."""
    return _scatter_into(input, src, lambda t: _views.select(t, dim, index))


def _slice(t: Tensor, dim: int, start: Any, end: Any, step: int) -> Tensor:
    d = dim + t.ndim if dim < 0 else dim
    if not 0 <= d < t.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-t.ndim}, "
                         f"{t.ndim - 1}], but got {dim})")
    if int(step) <= 0:
        raise RuntimeError("slice step must be positive")
    return t[(slice(None),) * d + (slice(start, end, int(step)),)]


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: Any = None, end: Any = None,
                  step: int = 1) -> Tensor:
    """``input`` with ``input[..., start:end:step, ...]`` (along ``dim``) replaced by ``src``."""
    return _scatter_into(input, src, lambda t: _slice(t, dim, start, end, step))


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``."""
    return _scatter_into(input, src, lambda t: A.diagonal(t, offset, dim1, dim2))


def as_strided_scatter(input: Tensor, src: Tensor, size: Any, stride: Any,
                       storage_offset: Any = None) -> Tensor:
    """``input`` with ``input.as_strided(size, stride, storage_offset)`` replaced by ``src``
    (``as_strided``'s terms: ``input`` contiguous, the view's elements not repeating)."""
    return _scatter_into(input, src, lambda t: _views.as_strided(t, size, stride, storage_offset))


def _copy_of(view: Any, name: str) -> Any:
    def fn(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        out = view(_t(input), *args, **kwargs)
        if isinstance(out, (tuple, list)):
            return tuple(A.clone(o) for o in out)
        return A.clone(out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``{view.__name__}``'s values in new memory (a copy, not a view)."
    return fn


view_copy = _copy_of(lambda x, size: x.view(size), "view_copy")
permute_copy = _copy_of(A.permute, "permute_copy")
expand_copy = _copy_of(lambda x, size, *, implicit=False: A.expand(x, size), "expand_copy")
t_copy = _copy_of(A.t, "t_copy")
transpose_copy = _copy_of(A.transpose, "transpose_copy")
unsqueeze_copy = _copy_of(A.unsqueeze, "unsqueeze_copy")
squeeze_copy = _copy_of(A.squeeze, "squeeze_copy")
select_copy = _copy_of(_views.select, "select_copy")
slice_copy = _copy_of(lambda x, dim=0, start=None, end=None, step=1: _slice(x, dim, start, end, step),
                      "slice_copy")
diagonal_copy = _copy_of(A.diagonal, "diagonal_copy")
detach_copy = _copy_of(lambda x: x.detach(), "detach_copy")
alias_copy = _copy_of(lambda x: x, "alias_copy")
as_strided_copy = _copy_of(_views.as_strided, "as_strided_copy")
split_copy = _copy_of(A.split, "split_copy")
split_with_sizes_copy = _copy_of(A.split_with_sizes, "split_with_sizes_copy")
unbind_copy = _copy_of(A.unbind, "unbind_copy")
unfold_copy = _copy_of(lambda x, dimension, size, step: _views.unfold(x, dimension, size, step),
                       "unfold_copy")
view_as_real_copy = _copy_of(_cx.view_as_real, "view_as_real_copy")
view_as_complex_copy = _copy_of(_cx.view_as_complex, "view_as_complex_copy")


# NOTE: PyTorch's "unsafe" splits skip the views' version checks; gradkit's splits are the same
# values with the checks kept (an in-place change to a piece is still caught)
unsafe_chunk = _copy_of(A.chunk, "unsafe_chunk")
unsafe_split = _copy_of(A.split, "unsafe_split")
unsafe_split_with_sizes = _copy_of(A.split_with_sizes, "unsafe_split_with_sizes")
for _f, _v in ((unsafe_chunk, "chunk"), (unsafe_split, "split"),
               (unsafe_split_with_sizes, "split_with_sizes")):
    _f.__doc__ = f"``{_v}``'s pieces (PyTorch's spelling without view checks; here copies)."


def fill(input: Tensor, value: Any) -> Tensor:
    """A tensor like ``input`` filled with ``value`` (out of place; ``value`` a number or a
    0-d tensor, whose gradient is the sum of the result's)."""
    x = _t(input)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        return A.add(A.mul(x.detach(), 0), value.to(x.dtype))
    return _full_like(x, value)
