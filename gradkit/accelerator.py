"""``gradkit.accelerator``: PyTorch's device-agnostic questions about the current accelerator.

gradkit's only accelerator is CUDA through CuPy (see :mod:`gradkit.cuda`); without it,
``is_available()`` is False and ``current_accelerator()`` is None, as PyTorch on a CPU machine.
"""

from __future__ import annotations

from typing import Any

from gradkit import cuda as _cuda
from gradkit._core.backend import device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "synchronize"]

_NONE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    """Whether an accelerator (a CUDA GPU through CuPy) is usable."""
    return _cuda.is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    """``device(type='cuda')`` when a GPU is usable, otherwise None."""
    return device("cuda") if _cuda.is_available() else None


def device_count() -> int:
    """How many accelerator devices there are (0 without one)."""
    return _cuda.device_count() if _cuda.is_available() else 0


def current_device_index() -> int:
    if not _cuda.is_available():
        raise RuntimeError(_NONE)
    return _cuda.current_device()


def set_device_index(device: Any) -> None:
    if not _cuda.is_available():
        raise RuntimeError(_NONE)
    import importlib
    idx = device if isinstance(device, int) else (device.index or 0)
    importlib.import_module("cupy").cuda.Device(idx).use()


def synchronize(device: Any = None) -> None:
    """Wait for the accelerator's queued work (for timing)."""
    if not _cuda.is_available():
        raise RuntimeError(_NONE)
    _cuda.synchronize(None if device is None or isinstance(device, str) else
                      getattr(device, "index", device))
