"""THE derivative table: every primitive's forward and derivative rules, by family.

Importing this package registers every row in ``REGISTRY``.
"""

from __future__ import annotations

from . import elementwise, fft, linalg, nn, reduction, shape, special
from ._registry import ELEMENTWISE, LINEAR, REGISTRY, ZERO, Primitive, defop

__all__ = ["REGISTRY", "Primitive", "defop", "ZERO", "ELEMENTWISE", "LINEAR", "elementwise",
           "reduction", "shape", "linalg", "nn", "fft", "special"]
