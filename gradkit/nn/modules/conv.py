"""Convolution layers (the pooling layers are in ``pooling.py``)."""

from __future__ import annotations

import math
from typing import Any

from gradkit._core.tensor import Tensor

from .. import functional as F
from .. import init
from .linear import _empty
from .module import Module
# NOTE: gradkit.nn.modules.conv.MaxPool2d (and the other pools) stay importable from here.
from .pooling import (AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d,  # noqa: F401
                      MaxPool2d)

__all__ = [
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d",
    "ConvTranspose1d", "ConvTranspose2d", "Conv3d", "ConvTranspose3d",
]


def _tuple(v: Any, n: int) -> tuple[Any, ...]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class _ConvNd(Module):
    _nd = 0

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        valid_modes = {"zeros", "reflect", "replicate", "circular"}
        if padding_mode not in valid_modes:
            raise ValueError(f"padding_mode must be one of {valid_modes}, but got "
                             f"padding_mode='{padding_mode}'")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{{'same', 'valid'}}")
            if padding == "same" and any(s != 1 for s in _tuple(stride, self._nd)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        n = self._nd
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _tuple(kernel_size, n), _tuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, n)
        self.dilation, self.groups, self.padding_mode = _tuple(dilation, n), groups, padding_mode
        # F.pad amounts for a non-zeros padding_mode, last dim first (as PyTorch)
        if isinstance(self.padding, str):
            pads: list[int] = [0, 0] * n
            if self.padding == "same":
                for d, k, i in zip(self.dilation, self.kernel_size, range(n - 1, -1, -1)):
                    total = d * (k - 1)
                    pads[2 * i], pads[2 * i + 1] = total // 2, total - total // 2
        else:
            pads = [q for p in reversed(self.padding) for q in (p, p)]
        self._reversed_padding_repeated_twice = pads
        self.weight = _empty(out_channels, in_channels // groups, *self.kernel_size, dtype=dtype)
        if bias:
            self.bias = _empty(out_channels, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _conv_forward(self, conv: Any, input: Any) -> Any:
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)`` inputs."""

    _nd = 1

    def forward(self, input: Any) -> Any:
        return self._conv_forward(F.conv1d, input)


class Conv2d(_ConvNd):
    """2-D convolution over ``(N, C_in, H, W)`` inputs (weights ``(C_out, C_in / groups, kH, kW)``)."""

    _nd = 2

    def forward(self, input: Any) -> Any:
        return self._conv_forward(F.conv2d, input)


class _ConvTransposeNd(Module):
    _nd = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        n = self._nd
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.padding = (
            _tuple(kernel_size, n),
            _tuple(stride, n),
            _tuple(padding, n),
        )
        self.output_padding, self.dilation = _tuple(output_padding, n), _tuple(dilation, n)
        self.padding_mode = padding_mode
        self.weight = _empty(in_channels, out_channels // groups, *self.kernel_size, dtype=dtype)
        if bias:
            self.bias = _empty(out_channels, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    # NOTE: PyTorch initialises transposed convolutions as the others
    reset_parameters = _ConvNd.reset_parameters

    def _output_padding(self, input: Any, output_size: Any) -> tuple[int, ...]:
        if output_size is None:
            return self.output_padding
        n = self._nd
        size = list(output_size)[-n:]
        out = []
        for d in range(n):
            dim = input.shape[input.ndim - n + d]
            least = (
                (dim - 1) * self.stride[d]
                - 2 * self.padding[d]
                + self.dilation[d] * (self.kernel_size[d] - 1)
                + 1
            )
            if not least <= size[d] < least + self.stride[d]:
                raise ValueError(
                    f"requested an output size of {size}, but valid sizes range from {least} "
                    f"to {least + self.stride[d] - 1} (for an input of {list(input.shape[2:])})"
                )
            out.append(size[d] - least)
        return tuple(out)

    def extra_repr(self) -> str:
        # PyTorch's order: padding, dilation, output_padding, groups, bias (each when not default)
        n = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s

    def _transposed(self, conv: Any, input: Any, output_size: Any) -> Any:
        return conv(input, self.weight, self.bias, self.stride, self.padding,
                    self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    _nd = 1

    def forward(self, input: Any, output_size: Any = None) -> Any:
        return self._transposed(F.conv_transpose1d, input, output_size)


class ConvTranspose2d(_ConvTransposeNd):
    _nd = 2

    def forward(self, input: Any, output_size: Any = None) -> Any:
        return self._transposed(F.conv_transpose2d, input, output_size)


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution (weights ``(C_in, C_out / groups, kD, kH, kW)``)."""

    _nd = 3

    def forward(self, input: Any, output_size: Any = None) -> Any:
        return self._transposed(F.conv_transpose3d, input, output_size)


class Conv3d(_ConvNd):
    """3-D convolution over ``(N, C_in, D, H, W)`` inputs (weights ``(C_out, C_in / groups, kD, kH, kW)``)."""

    _nd = 3

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(F.conv3d, input)
