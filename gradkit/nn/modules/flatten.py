"""``torch.nn.modules.flatten``'s path for ``Flatten`` and ``Unflatten`` (defined in ``linear.py``)."""

from .linear import Flatten, Unflatten

__all__ = ["Flatten", "Unflatten"]
