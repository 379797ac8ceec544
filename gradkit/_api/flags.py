"""PyTorch's process-wide switches that scripts set at the top (``torch.use_deterministic_algorithms``,
``torch.set_float32_matmul_precision``, ...), and small helpers (``typename``, ``is_storage``).

gradkit runs on NumPy on the CPU: its results are the same from run to run, its float32 matmuls
are float32 (never TF32), and it has no storage classes. So these switches are remembered and
reported back as PyTorch does, and none of them changes a number; where a switch asks for
something gradkit cannot do (``set_flush_denormal``), the answer says so, as PyTorch's does on a
CPU without that feature.
"""

from __future__ import annotations

import warnings
from typing import Any

from gradkit._core.concrete import user_stacklevel
from gradkit._core import creation as _creation
from gradkit._core import dtype as _dtype
from gradkit._core.grad_mode import (is_anomaly_check_nan_enabled, is_anomaly_enabled,
                                     set_detect_anomaly)
from gradkit._core.tensor import Tensor

__all__ = ["use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "get_deterministic_debug_mode", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "set_anomaly_enabled", "set_flush_denormal", "set_warn_always", "is_warn_always_enabled",
           "typename", "is_storage", "set_default_tensor_type", "can_cast", "get_device"]

_flags: dict[str, Any] = {"deterministic": False, "warn_only": False, "precision": "highest",
                          "warn_always": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms. gradkit's are always deterministic (NumPy on the CPU),
    so this records the setting that ``are_deterministic_algorithms_enabled`` reports, and makes
    ``empty`` fill its memory while ``torch.utils.deterministic.fill_uninitialized_memory`` is
    True (PyTorch's behaviour)."""
    if not isinstance(mode, bool):
        raise TypeError("_set_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        f"bool, not {type(mode).__name__}")
    _flags["deterministic"], _flags["warn_only"] = mode, bool(warn_only)
    _creation.UNINITIALIZED_FILL["deterministic"] = mode


def are_deterministic_algorithms_enabled() -> bool:
    return bool(_flags["deterministic"])


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return bool(_flags["warn_only"])


_DEBUG_MODES = ("default", "warn", "error")


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """PyTorch's other spelling: 0/"default" off, 1/"warn" on with warn_only, 2/"error" on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES.index(debug_mode)
    elif not isinstance(debug_mode, int) or isinstance(debug_mode, bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError("invalid value of debug_mode, expected 0, 1, or 2, "
                           f"but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _flags["deterministic"]:
        return 0
    return 1 if _flags["warn_only"] else 2


def set_float32_matmul_precision(precision: str) -> None:
    """Record the float32 matmul precision ("highest", "high", "medium"). gradkit's float32
    matmuls are NumPy's full float32 under every setting ("high"/"medium" only allow less)."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning,
                      stacklevel=user_stacklevel())
        return
    _flags["precision"] = precision


def get_float32_matmul_precision() -> str:
    return str(_flags["precision"])


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """``gk.autograd.set_detect_anomaly(enabled, check_nan)`` as a plain call."""
    set_detect_anomaly(bool(enabled), bool(check_nan))


def set_flush_denormal(mode: bool) -> bool:
    """Returns False: NumPy offers no way to flush denormal floats to zero, so nothing is set
    (PyTorch also returns False, and sets nothing, on a CPU without that feature)."""
    return False


def set_warn_always(b: bool) -> None:
    """Record PyTorch's "warn every time, not once" switch (``is_warn_always_enabled``)."""
    _flags["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return bool(_flags["warn_always"])


def typename(obj: Any) -> str:
    """A tensor's type name (``'torch.FloatTensor'``), else the object's dotted name."""
    if isinstance(obj, Tensor):
        return str(obj.type())
    module = getattr(obj, "__module__", "") or ""
    qualname = ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def is_storage(obj: Any) -> bool:
    """True for a storage object (``t.untyped_storage()``, ``t.storage()``,
    ``gk.UntypedStorage(n)``, ``gk.TypedStorage(n)``)."""
    from gradkit._api.method_variants import UntypedStorage
    return isinstance(obj, UntypedStorage)


_TENSOR_TYPES = {"torch.FloatTensor": _dtype.float32, "torch.DoubleTensor": _dtype.float64,
                 "torch.HalfTensor": _dtype.float16}


def set_default_tensor_type(t: Any) -> None:
    """``gk.set_default_tensor_type(gk.DoubleTensor)`` (or ``"torch.DoubleTensor"``): the default
    floating dtype. Deprecated in PyTorch: use ``set_default_dtype``."""
    from gradkit._api.legacy import _TypedTensor
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=user_stacklevel())
    if not isinstance(t, (str, _TypedTensor)):
        raise TypeError("invalid type object: only floating-point types are supported as the "
                        "default type")
    name = t if isinstance(t, str) else f"torch.{t.__name__}"
    if name.startswith("torch.cuda."):
        raise TypeError(f"type {name} not available. Torch not compiled with CUDA enabled.")
    if name not in _TENSOR_TYPES:
        known = name.removeprefix("torch.") in ("LongTensor", "IntTensor", "ShortTensor",
                                                "CharTensor", "ByteTensor", "BoolTensor")
        if known:
            raise TypeError("only floating-point types are supported as the default type")
        raise TypeError(f"invalid type: '{name}'")
    _dtype.set_default_dtype(_TENSOR_TYPES[name])



_KIND_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def can_cast(from_: Any, to: Any) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` to ``to`` in type promotion: never to a
    lower kind (complex > floating > integral > bool); within a kind any size goes."""
    a, b = _dtype.as_dtype(from_).np, _dtype.as_dtype(to).np
    return _KIND_ORDER[a.kind] <= _KIND_ORDER[b.kind]


def get_device(input: Tensor) -> int:
    """``input.get_device()``: the GPU index, -1 on the CPU."""
    return int(input.get_device())
