"""``torch.nn.parameter``: the tensor kinds a ``Module`` registers when they are assigned to it.

``Parameter`` lives in :mod:`gradkit.nn.modules.module` and the uninitialized kinds in
:mod:`gradkit.nn.modules.lazy`; this module is their public home (their ``__module__``), as
``torch.nn.parameter`` is PyTorch's, so ``from torch.nn.parameter import Parameter`` works and
``type(p)`` names this module. ``Buffer`` is defined here.
"""

from __future__ import annotations

from typing import Any

from gradkit._core.creation import empty
from gradkit._core.tensor import Tensor

from .modules.lazy import UninitializedBuffer, UninitializedParameter, is_lazy
from .modules.lazy import _UninitializedMixin as UninitializedTensorMixin
from .modules.module import Parameter

__all__ = ["Parameter", "UninitializedParameter", "is_lazy", "Buffer", "UninitializedBuffer",
           "UninitializedTensorMixin"]


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` is true for any tensor made by ``Buffer(...)`` (it is marked)."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if cls is Buffer and isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False):
            return True
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """State of a ``Module`` that is not a parameter: assigning it to an attribute registers it.

    ``Buffer(t)`` returns ``t`` detached (keeping ``requires_grad``) and marked, a plain
    ``Tensor`` as in PyTorch; ``persistent=False`` keeps it out of ``state_dict``.

    Examples
    --------
    >>> import gradkit as gk
    >>> m = gk.nn.Module()
    >>> m.running = gk.nn.Buffer(gk.zeros(2))
    >>> list(m.state_dict())
    ['running']
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Any:
        if data is None:
            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


for _cls in (Parameter, UninitializedParameter, UninitializedBuffer):
    _cls.__module__ = __name__
del _cls
