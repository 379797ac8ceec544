"""``torch.nn.attention``: ``SDPBackend`` and the ``sdpa_kernel`` context manager, which limits
the backends ``scaled_dot_product_attention`` may use.

gradkit has one implementation (PyTorch's reference "math" formula), which stands for every
backend; choosing only backends PyTorch has no CPU kernel for (EFFICIENT_ATTENTION,
CUDNN_ATTENTION) raises PyTorch's error, as PyTorch on CPU does.
"""

from __future__ import annotations

import contextlib
import enum
from typing import Any, Iterator

from gradkit.nn.functional import _attention

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The kernels of ``scaled_dot_product_attention`` (PyTorch's values)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


@contextlib.contextmanager
def sdpa_kernel(backends: Any, set_priority: bool = False) -> Iterator[None]:
    """Within the block, ``scaled_dot_product_attention`` may use only ``backends`` (one
    ``SDPBackend`` or a list of them); ``set_priority`` (their order as a priority) is accepted
    and has nothing to order here."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances")
    chosen = [backends] if isinstance(backends, SDPBackend) else list(backends)
    if not all(isinstance(b, SDPBackend) for b in chosen):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances")
    previous = _attention._ALLOWED[0]
    _attention._ALLOWED[0] = frozenset(int(b) for b in chosen)
    try:
        yield
    finally:
        _attention._ALLOWED[0] = previous
