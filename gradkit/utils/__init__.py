"""Utilities: activation checkpointing (``gradkit.utils.checkpoint``)."""

from __future__ import annotations

from .checkpoint import checkpoint, checkpoint_sequential

__all__ = ["checkpoint", "checkpoint_sequential"]
