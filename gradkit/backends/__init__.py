"""``gradkit.backends``: PyTorch's ``torch.backends`` switches, as a CPU-only NumPy library has them.

Scripts set ``torch.backends.cudnn.deterministic = True`` or ask
``torch.backends.mps.is_available()`` before any tensor work. gradkit has no cuDNN, MPS, MKL-DNN or
TF32 kernels, so every ``is_available()`` here is False and the flags are plain attributes that
can be set and read back; none of them changes a result.
"""

from __future__ import annotations

from . import cpu, cuda, cudnn, mps

__all__ = ["cpu", "cuda", "cudnn", "mps"]
