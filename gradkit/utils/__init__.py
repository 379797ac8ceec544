"""Utilities: activation checkpointing (``gradkit.utils.checkpoint``) and ``gradkit.utils.data``
(PyTorch's ``torch.utils.data`` path for :mod:`gradkit.data`), ``gradkit.utils.hooks``,
``gradkit.utils.benchmark`` (``Timer``), ``gradkit.utils.dlpack``, ``gradkit.utils.deterministic``,
``swap_tensors``."""

from __future__ import annotations

from . import benchmark, data, deterministic, dlpack, hooks
from ._swap import swap_tensors
from .checkpoint import checkpoint, checkpoint_sequential

__all__ = ["benchmark", "checkpoint", "checkpoint_sequential", "data", "deterministic", "dlpack", "hooks",
           "swap_tensors"]
