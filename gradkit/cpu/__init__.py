"""``gradkit.cpu``: PyTorch's ``torch.cpu`` (the device every gradkit NumPy tensor is on)."""

from __future__ import annotations

from typing import Any

from . import amp

__all__ = ["amp", "current_device", "device_count", "is_available", "synchronize",
           "is_initialized"]


def is_available() -> bool:
    """Always ``True``."""
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    """``1``, as PyTorch's."""
    return 1


def current_device() -> str:
    """``'cpu'``."""
    return "cpu"


def synchronize(device: Any = None) -> None:
    """A no-op: CPU work is done when its call returns."""
    return None
