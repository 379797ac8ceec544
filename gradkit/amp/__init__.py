"""``gradkit.amp``: PyTorch's automatic mixed precision surface (``torch.amp``).

``GradScaler`` is complete (loss scaling, unscaling with the inf/NaN check, skipped steps and
the scale's growth and backoff). ``autocast`` has no lower-precision kernels to switch to: where
PyTorch itself would disable it (``'cuda'`` without a GPU, an unsupported dtype, ``enabled=False``)
it is the same no-op with PyTorch's warning; an enabled CPU autocast raises instead of running in
float32 silently.
"""

from __future__ import annotations

from .autocast_mode import (autocast, custom_bwd, custom_fwd, is_autocast_available,
                            is_autocast_enabled)
from .grad_scaler import GradScaler, OptState

__all__ = ["GradScaler", "OptState", "autocast", "custom_bwd", "custom_fwd",
           "is_autocast_available", "is_autocast_enabled"]
