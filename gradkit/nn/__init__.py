"""Neural-network building blocks, PyTorch style: ``gradkit.nn.functional`` (``F``).

Modules, parameters and layers (``gradkit.nn.Module``, ``Linear``, ...) live
beside it; the functional form is the foundation they are built on.
"""

from __future__ import annotations

from . import functional

__all__ = ["functional"]
