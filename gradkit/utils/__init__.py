"""Utilities: activation checkpointing (``gradkit.utils.checkpoint``) and ``gradkit.utils.data``
(PyTorch's ``torch.utils.data`` path for :mod:`gradkit.data`), ``gradkit.utils.hooks``."""

from __future__ import annotations

from . import data, hooks
from .checkpoint import checkpoint, checkpoint_sequential

__all__ = ["checkpoint", "checkpoint_sequential", "data", "hooks"]
