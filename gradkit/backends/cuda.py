"""``torch.backends.cuda``: the matmul flags scripts set (``matmul.allow_tf32``, ...). gradkit's
GPU path is CuPy (``gradkit.cuda``); these flags are recorded and change no result."""

from __future__ import annotations

from typing import Any


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: settable flags with PyTorch's defaults."""

    _NAMES = ("allow_tf32", "allow_fp16_reduced_precision_reduction",
              "allow_bf16_reduced_precision_reduction")

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._NAMES:
            raise AttributeError("Unknown attribute " + name)
        object.__setattr__(self, name, bool(value))


matmul = _MatmulFlags()


def is_built() -> bool:
    """Whether gradkit can use a CUDA GPU (through CuPy)."""
    from gradkit import cuda
    return bool(cuda.is_available())
