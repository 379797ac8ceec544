"""``torch.utils.deterministic``: ``fill_uninitialized_memory`` (default True). While
``torch.use_deterministic_algorithms(True)`` is on, ``empty``/``empty_like`` then fill the memory
they would leave uninitialised (NaN for floating dtypes, the largest integer, True), as PyTorch."""

from __future__ import annotations

import sys
import types

from gradkit._core import creation as _creation

__all__ = ["fill_uninitialized_memory"]  # noqa: F822  (a property of the module class below)


class _Deterministic(types.ModuleType):
    @property
    def fill_uninitialized_memory(self) -> bool:
        """Whether uninitialised memory is filled under deterministic algorithms."""
        return bool(_creation.UNINITIALIZED_FILL["fill"])

    @fill_uninitialized_memory.setter
    def fill_uninitialized_memory(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise RuntimeError(f"expected a bool, but got {type(mode).__name__}")
        _creation.UNINITIALIZED_FILL["fill"] = mode


sys.modules[__name__].__class__ = _Deterministic
