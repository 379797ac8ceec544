"""PyTorch's parallelism settings: ``set_num_threads``/``get_num_threads`` and the inter-op pair.

gradkit's multi-threaded work is the BLAS that NumPy links (matrix products, solves,
decompositions) and, when the compile backend uses it, numexpr. ``set_num_threads(n)`` sets both,
as ``torch.set_num_threads`` sets PyTorch's intra-op pool. The BLAS is reached through
threadpoolctl when it is installed (it knows every BLAS NumPy may link), otherwise through the
OpenBLAS that NumPy's wheels bundle; where neither is found the call warns once and changes
nothing, so a program is never told a setting took effect when it did not.

Scripts call ``torch.set_num_threads(1)`` for repeatable timings, and on a small machine one
thread is often faster for the small products of a training loop (the pool's start-up and
hand-over cost more than the product).
"""
from __future__ import annotations

import ctypes
import glob
import os
import sys
import threading
import warnings
from gradkit._core.concrete import user_stacklevel
from typing import Any

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads",
           "get_num_interop_threads"]

_lock = threading.Lock()
_state: dict[str, Any] = {"controller": None, "openblas": None, "searched": False,
                          "interop": None, "warned": False, "asked": None}


def _check_count(n: Any, what: str) -> int:
    """PyTorch's checks and words: an integer (NumPy integers too, never bool), positive."""
    import operator
    if isinstance(n, bool):
        raise RuntimeError(f"{what} expects an int, but got bool")
    try:
        n = operator.index(n)
    except TypeError:
        raise RuntimeError(f"{what} expects an int, but got {type(n).__name__}") from None
    if n <= 0:
        raise RuntimeError(f"{what} expects a positive integer")
    return int(n)


def _bundled_openblas() -> Any:
    """The OpenBLAS shipped inside NumPy's wheel (``numpy.libs``), as (setter, getter) or None."""
    import numpy as np
    here = os.path.dirname(np.__file__)
    for libdir in (os.path.join(here, os.pardir, "numpy.libs"), os.path.join(here, ".libs")):
        for path in sorted(glob.glob(os.path.join(libdir, "*openblas*"))):
            try:
                lib = ctypes.CDLL(path)  # already loaded by NumPy: the same handle comes back
            except OSError:
                continue
            for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""),
                                   ("openblas_", "64_"), ("openblas_", "")):
                setter = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    setter.argtypes = [ctypes.c_int]
                    setter.restype = None
                    getter.argtypes = []
                    getter.restype = ctypes.c_int
                    return setter, getter
    return None


def _backends() -> tuple[Any, Any]:
    with _lock:
        if not _state["searched"]:
            _state["searched"] = True
            try:
                import threadpoolctl
                _state["controller"] = threadpoolctl.ThreadpoolController()
            except ImportError:
                _state["openblas"] = _bundled_openblas()
        return _state["controller"], _state["openblas"]


def set_num_threads(int: Any) -> None:  # noqa: A002 - PyTorch's parameter name
    """Set the number of threads the BLAS (and numexpr, when loaded) use, as PyTorch's."""
    n = _check_count(int, "set_num_threads")
    controller, openblas = _backends()
    done = False
    if controller is not None:
        blas = controller.select(user_api="blas")
        if blas.lib_controllers:
            blas.limit(limits=n)
            done = True
    elif openblas is not None:
        openblas[0](n)
        done = True
    numexpr = sys.modules.get("numexpr")
    if numexpr is not None:
        numexpr.set_num_threads(n)
        done = True
    _state["asked"] = n
    if not done and not _state["warned"]:
        _state["warned"] = True
        warnings.warn("gradkit.set_num_threads: no BLAS thread control was found for the BLAS "
                      "NumPy links, so the number of threads is unchanged; install threadpoolctl "
                      "(pip install threadpoolctl) to control it", RuntimeWarning,
                      stacklevel=user_stacklevel())


def get_num_threads() -> int:
    """The number of threads the BLAS uses (PyTorch's intra-op count)."""
    controller, openblas = _backends()
    if controller is not None:
        counts = [c.num_threads for c in controller.select(user_api="blas").lib_controllers]
        if counts:
            return max(counts)
    elif openblas is not None:
        return int(openblas[1]())
    if _state["asked"] is not None:
        return int(_state["asked"])
    return os.cpu_count() or 1


def set_num_interop_threads(int: Any) -> None:  # noqa: A002 - PyTorch's parameter name
    """Record the inter-op thread count (gradkit runs operations one at a time; PyTorch's rule:
    it can be set once, before any inter-op work, and a second call raises)."""
    n = _check_count(int, "set_num_interop_threads")
    with _lock:
        if _state["interop"] is not None:
            raise RuntimeError("Error: cannot set number of interop threads after parallel work "
                               "has started or set_num_interop_threads called")
        _state["interop"] = n


def get_num_interop_threads() -> int:
    """The inter-op thread count: the value set, else the number of CPUs (PyTorch's default)."""
    return _state["interop"] if _state["interop"] is not None else (os.cpu_count() or 1)
