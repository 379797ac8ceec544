"""PyTorch's fake quantization for quantization-aware training: ``fake_quantize_per_tensor_affine``
and ``fake_quantize_per_channel_affine`` (values rounded to the grid of a quantized dtype and
back, in floating point; the gradient passes straight through inside the grid's range). Both
are the table's ``fake_quantize`` row; here the arguments are checked as PyTorch checks them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._api.base import _scalar_name, _t
from gradkit._core.tensor import Tensor
from gradkit.ops import nn as _nn
from gradkit.ops._registry import op as _op

__all__ = ["fake_quantize_per_tensor_affine", "fake_quantize_per_channel_affine"]

_per_tensor = _nn.fake_quantize_p
_per_channel = _op(_nn.fake_quantize_p.prim, 1)
_per_tensor_qparams = _op(_nn.fake_quantize_p.prim, 2)


def _check_input(x: Tensor, kernel: str) -> None:
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_scalar_name(x.dtype)}'")


def _not_differentiable(fn: str, **qparams: Any) -> None:
    for name, v in qparams.items():
        if isinstance(v, Tensor) and v.requires_grad:
            raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                               f"'{name}'. This input cannot have requires_grad True.")


def _check_range(quant_min: int, quant_max: int, zmin: float, zmax: float) -> None:
    if quant_min > quant_max:
        raise RuntimeError("`quant_min` should be less than or         equal to `quant_max`.")
    if zmin < quant_min or zmax > quant_max:
        raise RuntimeError("`zero_point` must be between `quant_min` and `quant_max`.")


def _number(v: Any) -> Any:
    if isinstance(v, Tensor):
        if v.numel() != 1:
            raise RuntimeError(f"a Tensor with {v.numel()} elements cannot be converted to Scalar")
        return v.item()
    return v


def fake_quantize_per_tensor_affine(input: Tensor, scale: Any, zero_point: Any, quant_min: int,
                                    quant_max: int) -> Tensor:
    """``(clamp(round(input / scale) + zero_point, quant_min, quant_max) - zero_point) * scale``
    (rounding half to even); the gradient is 1 where the unclamped level lies in
    ``[quant_min, quant_max]``, else 0."""
    x = _t(input)
    qparams = isinstance(scale, Tensor) and isinstance(zero_point, Tensor)
    fn = ("fake_quantize_per_tensor_affine_cachemask_tensor_qparams" if qparams
          else "fake_quantize_per_tensor_affine_cachemask")
    _not_differentiable(fn, scale=scale, zero_point=zero_point)
    s, z = float(_number(scale)), _number(zero_point)
    if isinstance(z, float) and not z.is_integer():
        raise TypeError("fake_quantize_per_tensor_affine(): argument 'zero_point' must be int, "
                        "not float")
    z = int(z)
    quant_min, quant_max = int(quant_min), int(quant_max)
    _check_range(quant_min, quant_max, z, z)
    _check_input(x, "fake_quantize_tensor_cachemask_kernel_type_handling")
    run = _per_tensor_qparams if qparams else _per_tensor
    return run(x, scale=np.float64(s), zero_point=np.int64(z), quant_min=quant_min,
               quant_max=quant_max, float_zp=False)


def fake_quantize_per_channel_affine(input: Tensor, scale: Tensor, zero_point: Tensor, axis: int,
                                     quant_min: int, quant_max: int) -> Tensor:
    """Per-channel ``fake_quantize_per_tensor_affine``: channel ``c`` along ``axis`` uses
    ``scale[c]`` and ``zero_point[c]`` (a floating zero point is added before rounding, as in
    PyTorch)."""
    x = _t(input)
    scale, zero_point = _t(scale, "scale"), _t(zero_point, "zero_point")
    _not_differentiable("fake_quantize_per_channel_affine_cachemask", scale=scale,
                        zero_point=zero_point)
    if scale.dtype.name not in ("float32", "bfloat16"):
        raise RuntimeError(f"Scale must be Float or BFloat16, found {_scalar_name(scale.dtype)}")
    if zero_point.dtype.name not in ("int32", "float32", "float16"):
        raise RuntimeError(f"Zero-point must be Int32, Float or Half, found "
                           f"{_scalar_name(zero_point.dtype)}")
    if scale.ndim != 1:
        raise RuntimeError("scale should be a 1-D tensor")
    if zero_point.ndim != 1:
        raise RuntimeError("zero point should be a 1-D tensor")
    if scale.numel() != zero_point.numel():
        raise RuntimeError("scale and zero-point need to have the same dimensions")
    axis = int(axis)
    if not -x.ndim <= axis < max(x.ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-x.ndim}, "
                         f"{x.ndim - 1}], but got {axis})")
    if scale.numel() != x.shape[axis]:
        raise RuntimeError("dimensions of scale and zero-point are not consistent with input "
                           "tensor")
    quant_min, quant_max = int(quant_min), int(quant_max)
    z = zero_point.detach().numpy()
    float_zp = zero_point.dtype.is_floating_point
    _check_range(quant_min, quant_max, *((quant_min, quant_max) if float_zp or not z.size
                                         else (int(z.min()), int(z.max()))))
    if axis < 0:
        raise RuntimeError("`axis` must be between 0 and number of dimensions of input")
    _check_input(x, "fake_quantize_channel_cachemask_kernel_type_handling")
    shape = (-1,) + (1,) * (x.ndim - 1 - axis)
    return _per_channel(x, scale=scale.detach().numpy().astype(np.float32).reshape(shape),
                        zero_point=z.reshape(shape), quant_min=quant_min, quant_max=quant_max,
                        float_zp=float_zp)
