"""``gradkit.distributed``: gradkit has no process groups, so ``is_available()`` is ``False``
(PyTorch's answer on a build without distributed support), and code that asks first (``if
dist.is_available() and dist.is_initialized():``) takes its single-process path."""

from __future__ import annotations

__all__ = ["is_available", "is_initialized"]


def is_available() -> bool:
    """``False``: no ``torch.distributed`` backend in gradkit."""
    return False


def is_initialized() -> bool:
    """``False``: no process group is ever initialized."""
    return False
