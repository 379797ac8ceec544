"""Utilities: activation checkpointing (``gradkit.utils.checkpoint``) and ``gradkit.utils.data``
(PyTorch's ``torch.utils.data`` path for :mod:`gradkit.data`)."""

from __future__ import annotations

from . import data
from .checkpoint import checkpoint, checkpoint_sequential

__all__ = ["checkpoint", "checkpoint_sequential", "data"]
