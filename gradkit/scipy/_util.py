"""Helpers shared by ``gradkit.scipy``: the tensor-or-SciPy dispatch and argument conversion."""

from __future__ import annotations

from typing import Any

import numpy as np

import gradkit as gk
from gradkit import Tensor

__all__ = ["any_tensor", "as_tensors", "scipy_module", "axis_dims", "reduce_dims", "passthrough"]


def any_tensor(*xs: Any) -> bool:
    """Whether any argument (searched one sequence level deep) is a gradkit Tensor."""
    for x in xs:
        if isinstance(x, Tensor):
            return True
        if isinstance(x, (list, tuple)) and any(isinstance(y, Tensor) for y in x):
            return True
    return False


def _float_dtype(xs: Any) -> Any:
    dts = [x.dtype for x in xs if isinstance(x, Tensor) and x.is_floating_point()]
    if not dts:
        # NOTE: no tensor: the floating arrays' own dtype (NumPy's float64), else the default.
        arrs = [np.asarray(x).dtype for x in xs if x is not None and not isinstance(x, Tensor)]
        floats = [d for d in arrs if d.kind == "f"]
        if not floats:
            return gk.get_default_dtype()
        return gk.as_tensor(np.empty(0, np.result_type(*floats))).dtype
    dt = dts[0]
    for d in dts[1:]:
        dt = gk.promote_types(dt, d)
    return dt


def as_tensors(*xs: Any) -> list[Any]:
    """The arguments as Tensors of the tensors' floating dtype (None stays None).

    Numbers and arrays take the floating dtype of the Tensor arguments (float64 in, float64
    out), as a NumPy float64 would be weak next to a float32 tensor.
    """
    dt = _float_dtype(xs)
    # NOTE: constants go where the tensors live (a GPU array refuses host arrays in arithmetic)
    dev = next((x.device for x in xs if isinstance(x, Tensor)), None)
    out = []
    for x in xs:
        if x is None:
            out.append(x)
        elif isinstance(x, Tensor):
            # SciPy promotes (float32 with float64 is float64); the torch-style solvers refuse
            out.append(x.to(dt) if x.is_floating_point() and x.dtype is not dt else x)
        else:
            a = np.asarray(x)
            t = gk.as_tensor(a, dtype=dt) if a.dtype.kind in "biuf" else gk.as_tensor(a)
            out.append(t if dev is None or t.device == dev else t.to(dev))
    return out


def scipy_module(name: str) -> Any:
    """``scipy.<name>``, or an ImportError naming the extra that installs SciPy."""
    import importlib
    try:
        return importlib.import_module(f"scipy.{name}")
    except ImportError as e:  # pragma: no cover - SciPy is installed in the test environment
        raise ImportError(f"gradkit.scipy.{name} needs SciPy: pip install scipy "
                          "(or pip install gradkit[scipy])") from e


def detached(x: Any) -> Any:
    """A Tensor's values as an ndarray (anything else unchanged), for SciPy fallbacks."""
    if isinstance(x, Tensor):
        if x.requires_grad:
            raise TypeError("this SciPy function has no gradient in gradkit.scipy; pass "
                            "tensor.detach() if no gradient should flow through it")
        return x.numpy()
    if isinstance(x, (list, tuple)):
        return type(x)(detached(y) for y in x)
    return x


def axis_dims(axis: Any, ndim: int) -> Any:
    """NumPy's ``axis`` (None = every axis) as a tuple of dims."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(int(a) % ndim for a in axis)
    return (int(axis) % ndim,)


def reduce_dims(x: Tensor, axis: Any) -> tuple[int, ...]:
    return axis_dims(axis, x.ndim)


def passthrough(module: str, here: str) -> Any:
    """A module ``__getattr__`` answering SciPy's other public names from ``scipy.<module>``.

    Private and dunder names are not forwarded (``__path__`` would make the gradkit module look
    like SciPy's package to the import system).
    """
    def __getattr__(name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(f"module {here!r} has no attribute {name!r}")
        return getattr(scipy_module(module), name)
    return __getattr__
