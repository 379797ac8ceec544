"""PyTorch's legacy spellings still found in tutorials: the typed constructors
(``torch.FloatTensor([1, 2])``, ``torch.LongTensor(2, 3)``) and ``torch.autograd.Variable``.

``LongTensor([1, 2])`` is int64, as in PyTorch (these names were plain aliases of ``Tensor``
before, so it came out float32: a wrong dtype for ``nn.Embedding`` indices and class targets).
``isinstance(t, gk.FloatTensor)`` is True for a float32 tensor only, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._core import dtype as _dtype
from gradkit._core.creation import tensor as _tensor
from gradkit._core.creation import zeros as _zeros
from gradkit._core.tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
           "CharTensor", "ByteTensor", "BoolTensor", "Variable"]


class _TypedTensor(type):
    """The class of ``FloatTensor`` & co: calling it builds a tensor of its dtype; isinstance
    checks a tensor's dtype."""

    dtype: Any

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:  # type: ignore[override]
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype != cls.dtype:
                raise TypeError(f"expected {cls.__name__} (got {args[0].type()})")
            return args[0]
        if not args:
            return _zeros(0, dtype=cls.dtype, device=device)
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            # NOTE: sizes (PyTorch leaves the memory uninitialised; gradkit fills zeros)
            return _zeros(*(int(a) for a in args), dtype=cls.dtype, device=device)
        if len(args) == 1:
            return _tensor(args[0], dtype=cls.dtype, device=device)
        raise TypeError(f"new() received an invalid combination of arguments - got {len(args)} "
                        "arguments: pass sizes (ints) or one sequence of data")


def _typed(name: str, dt: Any) -> Any:
    return _TypedTensor(name, (), {"dtype": dt, "__module__": "gradkit",
                                   "__doc__": f"``gradkit.{name}(data or sizes)``: a {dt} tensor."})


FloatTensor = _typed("FloatTensor", _dtype.float32)
DoubleTensor = _typed("DoubleTensor", _dtype.float64)
HalfTensor = _typed("HalfTensor", _dtype.float16)
LongTensor = _typed("LongTensor", _dtype.int64)
IntTensor = _typed("IntTensor", _dtype.int32)
ShortTensor = _typed("ShortTensor", _dtype.int16)
CharTensor = _typed("CharTensor", _dtype.int8)
ByteTensor = _typed("ByteTensor", _dtype.uint8)
BoolTensor = _typed("BoolTensor", _dtype.bool)


class _VariableMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor)

    def __call__(cls, data: Any, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # type: ignore[override]
        t = data if isinstance(data, Tensor) else _tensor(data)
        if not requires_grad:
            return t
        return t.detach().requires_grad_(True)          # a new leaf sharing the data


class Variable(metaclass=_VariableMeta):
    """``torch.autograd.Variable(tensor, requires_grad=False)``: a Tensor (Variables and Tensors
    merged in PyTorch 0.4); with ``requires_grad=True`` a new leaf sharing the data."""
