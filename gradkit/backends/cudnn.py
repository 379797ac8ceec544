"""``torch.backends.cudnn``: gradkit has no cuDNN; the flags are kept so scripts can set them."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

#: settable, as in PyTorch; they change nothing in gradkit (it has no cuDNN kernels)
enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: gradkit does not use cuDNN."""
    return False


def version() -> None:
    """None, as PyTorch built without cuDNN."""
    return None


def is_acceptable(tensor: Any) -> bool:
    """False: no tensor is run through cuDNN."""
    return False


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10,
          deterministic: bool = False, allow_tf32: bool = True) -> Iterator[None]:
    """Set the flags inside a ``with`` block and restore them after it."""
    g = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    saved = {n: g[n] for n in names}
    g.update(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
             deterministic=deterministic, allow_tf32=allow_tf32)
    try:
        yield
    finally:
        g.update(saved)
