"""``torch.serialization``: ``save``/``load`` and the ``weights_only`` allowlist functions.

PyTorch's ``weights_only`` unpickler loads only allowlisted globals; ``gradkit.load`` never
unpickles anything (a file holds tensors and plain containers), so the allowlist has nothing to
allow: these functions keep PyTorch code running, record what it adds, and change no load.
"""

from __future__ import annotations

from typing import Any

from gradkit.io import load, save

__all__ = ["save", "load", "safe_globals", "add_safe_globals", "get_safe_globals",
           "clear_safe_globals", "get_unsafe_globals_in_checkpoint"]

_ADDED: list[Any] = []


def add_safe_globals(safe_globals: list[Any]) -> None:
    """Record ``safe_globals`` (classes/functions PyTorch's unpickler may then load)."""
    _ADDED.extend(safe_globals)


def get_safe_globals() -> list[Any]:
    """What :func:`add_safe_globals` recorded."""
    return list(_ADDED)


def clear_safe_globals() -> None:
    """Forget what :func:`add_safe_globals` recorded."""
    _ADDED.clear()


def get_unsafe_globals_in_checkpoint(f: Any) -> list[str]:
    """``[]``: a gradkit file names no globals (``gradkit.load`` checks the file by loading it)."""
    load(f)
    return []


class safe_globals:
    """``with safe_globals([...]):`` adds the globals for the block only."""

    def __init__(self, safe_globals: list[Any]) -> None:
        self.safe_globals = safe_globals

    def __enter__(self) -> None:
        self._before = list(_ADDED)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc: Any) -> None:
        _ADDED[:] = self._before
