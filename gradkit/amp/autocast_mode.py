"""``autocast``: PyTorch's context manager and decorator for mixed-precision regions.

An enabled CPU region (``bfloat16`` by default, or ``float16``) casts the arguments of the
functions on PyTorch's CPU autocast lists (``gradkit._core.autocast.CPU_POLICY``: matmuls,
convolutions, ``linear``, ... to the region's dtype; losses, linear algebra and FFTs to float32;
``cat``/``stack``/``index_copy`` to the widest input dtype) with differentiable casts, so
gradients come back in the parameters' dtype. ``'cuda'`` without a usable GPU, an unsupported
dtype and ``enabled=False`` are PyTorch's no-ops with its warnings. bfloat16 needs the optional
``ml_dtypes`` (``pip install gradkit[bfloat16]``): without it an enabled bfloat16 region raises
ImportError.
"""

from __future__ import annotations

import collections.abc
import functools
import warnings
from typing import Any, Callable

import numpy as np

import gradkit as gk
from gradkit._core import autocast as _ac

__all__ = ["autocast", "custom_fwd", "custom_bwd", "is_autocast_available", "is_autocast_enabled",
           "get_autocast_dtype", "set_autocast_dtype", "set_autocast_enabled",
           "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache",
           "autocast_increment_nesting", "autocast_decrement_nesting", "is_autocast_cpu_enabled",
           "set_autocast_cpu_enabled", "get_autocast_cpu_dtype", "set_autocast_cpu_dtype",
           "get_autocast_gpu_dtype", "set_autocast_gpu_dtype"]


def is_autocast_available(device_type: str) -> bool:
    """Whether PyTorch offers autocast on ``device_type`` (``cpu`` and ``cuda`` here)."""
    return device_type in ("cpu", "cuda")


def _device_type(device_type: Any) -> str:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    return device_type


def _supported(d: Any) -> bool:
    if d is gk.float16:
        return True
    return getattr(d, "name", None) == "bfloat16"


class autocast:
    """``with autocast(device_type, dtype=None, enabled=True, cache_enabled=None):`` (also a
    decorator). ``dtype`` defaults to ``get_autocast_dtype(device_type)`` (``bfloat16`` on the
    CPU, ``float16`` on CUDA)."""

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        _device_type(device_type)
        if not is_autocast_available(device_type):
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        # None: the CPU's bfloat16, made (and ml_dtypes imported) only if the region is enabled
        self.fast_dtype = dtype if dtype is not None else _ac._raw_dtype(device_type)
        self._cache_enabled = (_ac.is_cache_enabled() if cache_enabled is None
                               else cache_enabled)
        if enabled:
            name = device_type.upper()
            if device_type == "cuda" and not gk.cuda.is_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                              stacklevel=2)
                enabled = False
            elif self.fast_dtype is not None and not _supported(self.fast_dtype):
                warnings.warn(
                    f"In {name} autocast, but the target dtype is not supported. Disabling "
                    f"autocast.\n{name} Autocast only supports dtypes of torch.bfloat16, "
                    "torch.float16 currently.", stacklevel=2)
                enabled = False
            elif device_type == "cuda":
                raise NotImplementedError(
                    "gradkit has no 'cuda' autocast kernels: it would run these ops in float32 "
                    "where PyTorch runs them in lower precision. Use autocast('cpu'), cast the "
                    "model and inputs with .to(dtype) yourself, or pass enabled=False.")
            elif self.fast_dtype is None:
                self.fast_dtype = _ac.bfloat16()        # ImportError naming the extra
        self._enabled = bool(enabled)

    def __enter__(self) -> autocast:
        self.prev_cache_enabled = _ac.is_cache_enabled()
        self.prev = _ac.is_enabled(self.device)
        self.prev_fastdtype = _ac._raw_dtype(self.device)
        _ac.set_enabled(self.device, self._enabled)
        if self.fast_dtype is not None:
            _ac.set_dtype(self.device, self.fast_dtype)
        _ac.increment_nesting()
        _ac.set_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, *exc: Any) -> bool:
        if _ac.decrement_nesting() == 0:
            _ac.clear_cache()
        _ac.set_enabled(self.device, self.prev)
        _ac.set_dtype(self.device, self.prev_fastdtype)
        _ac.set_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def decorate_autocast(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether an enabled autocast region for ``device_type`` is open in this thread (no
    argument: ``'cuda'``, as in PyTorch)."""
    return _ac.is_enabled("cuda" if device_type is None else device_type)


def set_autocast_enabled(device_type: Any, enabled: Any = None) -> None:
    """``set_autocast_enabled(device_type, enabled)`` (``set_autocast_enabled(enabled)``: CUDA)."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _ac.set_enabled(device_type, bool(enabled))


def _device_arg(fname: str, device_type: Any) -> str:
    if not isinstance(device_type, str):
        raise TypeError(f"{fname}(): argument 'device_type' (position 1) must be str, not "
                        f"{type(device_type).__name__}")
    return device_type


def _dtype_arg(dtype: Any) -> Any:
    if not isinstance(dtype, gk.dtype):
        raise TypeError(f"dtype must be a torch.dtype (got {type(dtype).__name__})")
    return dtype


def get_autocast_dtype(device_type: str) -> Any:
    """The dtype autocast casts to on ``device_type`` (``bfloat16`` on the CPU by default)."""
    return _ac.get_dtype(_device_arg("get_autocast_dtype", device_type))


def set_autocast_dtype(device_type: str, dtype: Any) -> None:
    _device_arg("set_autocast_dtype", device_type)
    if not isinstance(dtype, gk.dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' (position 2) must be "
                        f"torch.dtype, not {type(dtype).__name__}")
    _ac.set_dtype(device_type, dtype)


def is_autocast_cache_enabled() -> bool:
    return _ac.is_cache_enabled()


def set_autocast_cache_enabled(enabled: bool) -> None:
    _ac.set_cache_enabled(enabled)


def clear_autocast_cache() -> None:
    _ac.clear_cache()


def autocast_increment_nesting() -> int:
    return _ac.increment_nesting()


def autocast_decrement_nesting() -> int:
    return _ac.decrement_nesting()


def _cast(value: Any, device_type: str, dtype: Any) -> Any:
    if isinstance(value, gk.Tensor):
        ok = (value.is_floating_point() and value.device.type == device_type
              and value.dtype is not gk.float64)
        return value.to(dtype) if ok else value
    if isinstance(value, (str, bytes, np.ndarray)):
        return value
    if isinstance(value, collections.abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype)
                for k, v in value.items()}
    if isinstance(value, collections.abc.Iterable):
        it = (_cast(v, device_type, dtype) for v in value)
        return type(value)(it) if isinstance(value, (list, tuple)) else it
    return value


def custom_fwd(fwd: Callable[..., Any] | None = None, *, device_type: str,
               cast_inputs: Any = None) -> Any:
    """Decorator for a custom ``Function.forward``: with ``cast_inputs``, inside an enabled
    region its floating-point tensor inputs are cast to ``cast_inputs`` and it runs with autocast
    off; otherwise it runs in the current autocast state (PyTorch's behaviour)."""
    _device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args: Any, **kwargs: Any) -> Any:
        args[0]._dtype = _ac._raw_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = _ac.is_enabled(device_type)
            return fwd(*args, **kwargs)
        args[0]._fwd_used_autocast = False
        if _ac.is_enabled(device_type):
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast(args, device_type, cast_inputs),
                           **_cast(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd: Callable[..., Any] | None = None, *, device_type: str) -> Any:
    """Decorator for a custom ``Function.backward``: runs it in forward's autocast state."""
    _device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args: Any, **kwargs: Any) -> Any:
        with autocast(device_type=device_type, enabled=getattr(args[0], "_fwd_used_autocast",
                                                               False),
                      dtype=getattr(args[0], "_dtype", None)):
            return bwd(*args, **kwargs)
    return decorate_bwd


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"torch.{old}() is deprecated. Please use torch.{new} instead.",
                  DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled() -> bool:
    _deprecated("is_autocast_cpu_enabled", "is_autocast_enabled('cpu')")
    return _ac.is_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    _deprecated("set_autocast_cpu_enabled", "set_autocast_enabled('cpu', enabled)")
    _ac.set_enabled("cpu", bool(enabled))


def get_autocast_cpu_dtype() -> Any:
    _deprecated("get_autocast_cpu_dtype", "get_autocast_dtype('cpu')")
    return _ac.get_dtype("cpu")


def set_autocast_cpu_dtype(dtype: Any) -> None:
    _deprecated("set_autocast_cpu_dtype", "set_autocast_dtype('cpu', dtype)")
    _ac.set_dtype("cpu", _dtype_arg(dtype))


def get_autocast_gpu_dtype() -> Any:
    _deprecated("get_autocast_gpu_dtype", "get_autocast_dtype('cuda')")
    return _ac.get_dtype("cuda")


def set_autocast_gpu_dtype(dtype: Any) -> None:
    _deprecated("set_autocast_gpu_dtype", "set_autocast_dtype('cuda', dtype)")
    _ac.set_dtype("cuda", _dtype_arg(dtype))
