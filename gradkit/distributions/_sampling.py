"""Draws from gradkit's default generator (``gk.manual_seed`` seeds them), as tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

import gradkit as gk
from gradkit._core.creation import _gen


def rng() -> np.random.Generator:
    """The NumPy generator behind gradkit's default generator."""
    return _gen(None)


def as_dtype(arr: Any, dtype: Any) -> Any:
    return gk.as_tensor(np.asarray(arr), dtype=dtype)


def np_of(t: Any) -> np.ndarray:
    """A tensor's values as a float64 NumPy array (for samplers that need them)."""
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def uniform_open(shape: Any, dtype: Any) -> Any:
    """Uniform draws on the open interval (0, 1) of ``dtype`` (never exactly 0 or 1)."""
    tiny = gk.finfo(dtype).tiny
    eps = gk.finfo(dtype).eps
    return gk.rand(*shape, dtype=dtype).clamp(min=tiny, max=1.0 - eps)
