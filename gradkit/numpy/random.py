"""``gradkit.numpy.random``: NumPy's ``numpy.random`` itself, name for name (random draws are
not differentiated; a draw shaped like a tensor takes ``t.shape``)."""

from __future__ import annotations

from typing import Any

import numpy.random as _src

__all__ = [n for n in vars(_src) if not n.startswith("_")]
globals().update({n: getattr(_src, n) for n in __all__})


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(_src, name)
    except AttributeError:
        raise AttributeError(f"module 'gradkit.numpy.random' has no attribute {name!r}") from None
