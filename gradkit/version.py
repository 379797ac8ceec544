"""``gradkit.version``: ``torch.version``'s fields (``torch.version.cuda`` is ``None``: no CUDA
build, as in PyTorch's CPU wheels)."""

from __future__ import annotations

from gradkit import __version__

__all__ = ["__version__", "cuda", "hip", "rocm", "xpu", "debug"]

cuda: str | None = None
hip: str | None = None
rocm: str | None = None
xpu: str | None = None
debug = False
