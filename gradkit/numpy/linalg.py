"""``gradkit.numpy.linalg``: ``numpy.linalg``'s names; calls holding no tensor are NumPy's own, and
tensors reach gradkit through NumPy's dispatch (lists of tensors are stacked first)."""

from __future__ import annotations

from typing import Any

import numpy as _np
import numpy.linalg as _src

from ._generate import populate as _populate

__all__ = _populate(globals(), _src)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(_src, name)
    except AttributeError:
        raise AttributeError(f"module 'gradkit.numpy.linalg' has no attribute {name!r}") from None


del _np
