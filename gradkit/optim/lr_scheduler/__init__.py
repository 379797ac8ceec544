"""Learning-rate schedulers, ports of ``torch.optim.lr_scheduler``.

Each scheduler updates ``group["lr"]`` of its optimizer on ``step()`` with the
same recursive ("chainable") formulas as PyTorch, so the sequence of rates
matches PyTorch's to rounding; ``step(epoch)`` uses the closed form.
"""

from __future__ import annotations

from ._base import LRScheduler
from ._composite import ChainedScheduler, SequentialLR
from ._cyclic import CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from ._decay import (ConstantLR, ExponentialLR, LambdaLR, LinearLR, MultiplicativeLR, MultiStepLR,
                     PolynomialLR, StepLR)
from ._plateau import ReduceLROnPlateau

__all__ = [
    "LRScheduler",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LambdaLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "LinearLR",
    "ConstantLR",
    "MultiplicativeLR",
    "PolynomialLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "SequentialLR",
    "ChainedScheduler",
]

# NOTE: the classes keep the public path as their module (reprs, error messages, pickles), as
# they had when this package was one file.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name


class _LRScheduler(LRScheduler):
    """The base class's old name, which PyTorch keeps as a subclass for the schedulers that older
    code derives from it (``class Warmup(optim.lr_scheduler._LRScheduler)``)."""
