"""``gradkit.amp``: PyTorch's automatic mixed precision surface (``torch.amp``).

``GradScaler`` is complete (loss scaling, unscaling with the inf/NaN check, skipped steps and
the scale's growth and backoff). ``autocast('cpu')`` runs PyTorch's CPU cast policies (bfloat16 by
default, float16 on request); ``'cuda'`` without a GPU is PyTorch's no-op with its warning.
"""

from __future__ import annotations

from .autocast_mode import (autocast, custom_bwd, custom_fwd, is_autocast_available,
                            is_autocast_enabled)
from .grad_scaler import GradScaler, OptState

__all__ = ["GradScaler", "OptState", "autocast", "custom_bwd", "custom_fwd",
           "is_autocast_available", "is_autocast_enabled"]
