"""``torch.nn.utils.memory_format``: lay the weights of a model's convolutions out in a memory
format (``gk.channels_last``): same values, PyTorch's strides."""

from __future__ import annotations

from typing import Any

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module: Any, memory_format: Any, kinds: tuple[type, ...]) -> Any:
    if isinstance(module, kinds):
        w = module.weight
        laid = w.detach().contiguous(memory_format=memory_format)
        if laid is not w.detach():
            # NOTE: the Parameter keeps its identity (optimizers hold it); only its memory moves
            w._data = laid._data
            w._vc[0] += 1
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module: Any, memory_format: Any) -> Any:
    """Every ``Conv2d``/``ConvTranspose2d`` weight in ``module`` laid out in ``memory_format``
    (recursively); returns ``module``."""
    from gradkit.nn.modules.conv import Conv2d, ConvTranspose2d
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module: Any, memory_format: Any) -> Any:
    """Every ``Conv3d``/``ConvTranspose3d`` weight in ``module`` laid out in ``memory_format``."""
    from gradkit.nn.modules.conv import Conv3d, ConvTranspose3d
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
