"""``gradkit.xpu``: PyTorch's ``torch.xpu`` checks, answering that no Intel GPU is usable
(gradkit has no XPU backend), so code that tests ``torch.xpu.is_available()`` runs."""

from __future__ import annotations

__all__ = ["is_available", "device_count"]


def is_available() -> bool:
    """False: gradkit has no XPU backend."""
    return False


def device_count() -> int:
    """0: gradkit has no XPU backend."""
    return 0
