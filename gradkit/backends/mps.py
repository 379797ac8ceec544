"""``torch.backends.mps``: Apple's Metal backend, which gradkit does not have."""

from __future__ import annotations


def is_available() -> bool:
    """False: gradkit has no MPS device."""
    return False


def is_built() -> bool:
    """False: gradkit has no MPS support."""
    return False

