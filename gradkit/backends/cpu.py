"""``torch.backends.cpu``."""

from __future__ import annotations


def get_cpu_capability() -> str:
    """``"DEFAULT"``: gradkit picks no vectorised kernels itself (NumPy does, underneath)."""
    return "DEFAULT"
