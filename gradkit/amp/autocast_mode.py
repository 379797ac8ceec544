"""``autocast``: PyTorch's context manager and decorator for mixed-precision regions.

gradkit has no lower-precision kernel lists to switch to, so an autocast region runs only where
PyTorch itself would run it unchanged: disabled (``enabled=False``), ``'cuda'`` without a usable
GPU, or a dtype the device does not support (both with PyTorch's warning). An enabled CPU
autocast raises ``NotImplementedError`` rather than silently computing in float32.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

import gradkit as gk

__all__ = ["autocast", "custom_fwd", "custom_bwd", "is_autocast_available", "is_autocast_enabled"]

_DEVICES = ("cpu", "cuda", "meta")


def is_autocast_available(device_type: str) -> bool:
    """Whether PyTorch offers autocast on ``device_type`` (``cpu`` and ``cuda`` here)."""
    return device_type in ("cpu", "cuda")


def _low_precision() -> list[Any]:
    return [gk.float16, gk.bfloat16] if _has_bfloat16() else [gk.float16]


def _has_bfloat16() -> bool:
    try:
        return gk.bfloat16 is not None
    except AttributeError:
        return False


class autocast:
    """``with autocast(device_type, dtype=None, enabled=True, cache_enabled=None):`` (also a
    decorator)."""

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if not is_autocast_available(device_type):
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else (
            gk.float16 if device_type == "cuda" else None)
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        if enabled:
            name = device_type.upper()
            if device_type == "cuda" and not gk.cuda.is_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                              stacklevel=2)
                enabled = False
            elif dtype is not None and dtype not in _low_precision():
                warnings.warn(
                    f"In {name} autocast, but the target dtype is not supported. Disabling "
                    f"autocast.\n{name} Autocast only supports dtypes of torch.bfloat16, "
                    "torch.float16 currently.", stacklevel=2)
                enabled = False
        if enabled:
            raise NotImplementedError(
                f"gradkit has no {device_type!r} autocast: it would run these ops in float32 "
                "where PyTorch runs them in lower precision. Cast the model and inputs with "
                ".to(dtype) yourself, or pass enabled=False.")
        self._enabled = False

    def __enter__(self) -> autocast:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def decorate_autocast(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Always ``False``: gradkit never runs an enabled autocast region."""
    return False


def custom_fwd(fwd: Callable[..., Any] | None = None, *, device_type: str,
               cast_inputs: Any = None) -> Any:
    """Decorator for a custom ``Function.forward``: outside autocast (always, in gradkit) it
    runs ``forward`` unchanged, as PyTorch's does."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args: Any, **kwargs: Any) -> Any:
        args[0]._fwd_used_autocast = False
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd: Callable[..., Any] | None = None, *, device_type: str) -> Any:
    """Decorator for a custom ``Function.backward``: runs it with forward's autocast state
    (off, in gradkit)."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
