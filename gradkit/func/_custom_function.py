"""``autograd.Function`` under ``gradkit.func.vmap``, as in PyTorch's ``torch.func``.

A Function with a ``vmap`` staticmethod gets the batch itself: ``vmap(info, in_dims, *args)``
with the batched values (batch dim first, ``in_dims[i]`` None for an unbatched argument)
returns ``(output, out_dims)``. Without one, a Function on batched inputs that nothing
differentiates runs its ``forward`` on the batch (its operations batch themselves); when an
input requires grad (``grad`` inside ``vmap``), the node must be recorded on each example,
so vmap runs the function once per example (``Unbatchable``) rather than lose the gradient.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from gradkit._core.grad_mode import _state
from gradkit._core.tensor import Tensor
from gradkit.autograd import function as F
from gradkit.func import _batching as B

__all__ = ["VmapInfo"]


class VmapInfo(NamedTuple):
    """What a Function's ``vmap`` staticmethod is told about the batch."""

    batch_size: int
    randomness: str


def _apply_batched(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    level = 0
    for a in args:
        if type(a) is B.BatchedTensor and a._level > level:
            level = a._level
    if not level:
        return NotImplemented
    if cls.vmap is F.Function.vmap:
        if _state.grad_enabled and any(isinstance(a, Tensor) and B.unwrap_all(a)[0]._rg
                                       for a in args):
            raise B.Unbatchable(f"vmap: {cls.__name__} has no vmap staticmethod and an input "
                                "requires grad (the loop runs instead)")
        return NotImplemented
    phys, in_dims = [], []
    for a in args:
        v, batched = B.physical(a, level)
        phys.append(v)
        in_dims.append(0 if batched else None)
    info = VmapInfo(B._levels[level - 1], "error")
    res = cls.vmap(info, tuple(in_dims), *phys, **kwargs)
    if not (isinstance(res, tuple) and len(res) == 2):
        raise RuntimeError(f"Expected the vmap staticmethod of {cls.__name__} to return a tuple "
                           f"(output, out_dims), got {type(res).__name__}")
    out, out_dims = res
    single = not isinstance(out, tuple)
    outs = (out,) if single else out
    dims = out_dims if isinstance(out_dims, tuple) else (out_dims,) * len(outs)
    if len(dims) != len(outs):
        raise ValueError(f"vmap staticmethod of {cls.__name__}: out_dims has {len(dims)} "
                         f"entries for {len(outs)} outputs")
    wrapped = []
    for o, d in zip(outs, dims):
        if not isinstance(o, Tensor):
            wrapped.append(o)
        elif d is None:
            wrapped.append(B.broadcast_to_level(o, level))
        else:
            wrapped.append(B._wrap(o.movedim(d, 0) if d != 0 else o, level))
    return wrapped[0] if single else tuple(wrapped)


F.BATCHED_APPLY[:] = [_apply_batched]
