"""Padding layers: constant, zero, reflection, replication and circular pads."""

from __future__ import annotations

from typing import Any

from gradkit.nn import functional as F

from .conv import _tuple
from .module import Module

__all__ = [
    "ConstantPad1d", "ConstantPad2d", "ZeroPad1d", "ZeroPad2d", "ReflectionPad1d",
    "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d",
    "ConstantPad3d", "ZeroPad3d", "ReflectionPad3d", "ReplicationPad3d", "CircularPad3d",
]


class _PadNd(Module):
    _nd, _mode = 0, "constant"

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        self.padding = _tuple(padding, 2 * self._nd)
        self.value = value

    def forward(self, input: Any) -> Any:
        if self._mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}" + (f", value={self.value}" if self._mode == "constant" else "")


def _pad(name: str, nd: int, mode: str) -> type:
    return type(name, (_PadNd,), {"_nd": nd, "_mode": mode, "__module__": __name__})


class ConstantPad1d(_PadNd):
    _nd = 1

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad2d(ConstantPad1d):
    _nd = 2


class ConstantPad3d(ConstantPad1d):
    _nd = 3


ZeroPad1d = _pad("ZeroPad1d", 1, "constant")


ZeroPad2d = _pad("ZeroPad2d", 2, "constant")


ReflectionPad1d = _pad("ReflectionPad1d", 1, "reflect")


ReflectionPad2d = _pad("ReflectionPad2d", 2, "reflect")


ReplicationPad1d = _pad("ReplicationPad1d", 1, "replicate")


ReplicationPad2d = _pad("ReplicationPad2d", 2, "replicate")


CircularPad1d = _pad("CircularPad1d", 1, "circular")


CircularPad2d = _pad("CircularPad2d", 2, "circular")


ZeroPad3d = _pad("ZeroPad3d", 3, "constant")


ReflectionPad3d = _pad("ReflectionPad3d", 3, "reflect")


ReplicationPad3d = _pad("ReplicationPad3d", 3, "replicate")


CircularPad3d = _pad("CircularPad3d", 3, "circular")
