"""The trace's patches of the outside world while a ``gradkit.compile`` trace runs: the backend
table's entry for a tracer, the table's per-thread hook that notes untraced state, and the
guards on random draws, tensor hooks and ``math`` functions of traced Python scalars."""

from __future__ import annotations

import math
import threading
import weakref
from typing import Any

import numpy as np

import gradkit as _gk

from ._tracer import PyScalar, Trace, Tracer

_Tensor = _gk.Tensor


class _TraceBackend:
    """What gradkit's backend table needs to know of a tracer: a NumPy-like, eager array."""

    label = "gradkit.compile tracer"
    lazy = False
    device_type = "cpu"
    install = ""

    def device_index(self, arr: Any) -> None:
        return None

    def from_numpy(self, arr: np.ndarray, index: Any) -> np.ndarray:
        return arr                                  # a constant of the trace

    def to_numpy(self, arr: Any) -> Any:
        # NOTE: the host value of a tracer is the tracer: what Python then reads from it
        # (``.item()``, ``bool()``) becomes a guard.
        return arr if arr.tr.live else np.asarray(arr.v)


_registered = False
_patch_lock = threading.RLock()
_tracing = threading.local()
_patch_depth = 0
_saved: dict[str, Any] = {}


def _register() -> None:
    global _registered
    if not _registered:
        # NOTE: the one private import of this package: the backend table (gradkit/_core/backend.py)
        from gradkit._core import backend as _backend
        cls = type("TraceBackend", (_TraceBackend, _backend.Backend), {})
        _backend.register(Tracer, cls())
        _registered = True


def _in_trace() -> Trace | None:
    return getattr(_tracing, "trace", None)


def _seen_hook(prim: Any, args: Any, params: Any, variant: int) -> Any:
    """The table's per-thread hook while a trace runs: note every tensor holding a plain
    NumPy array (state the trace did not find), then apply the primitive as usual."""
    tr = _tracing.trace
    if tr is not None:
        seen = tr.seen
        for a in args:
            if isinstance(a, _Tensor) and type(a._data) is np.ndarray and id(a) not in seen:
                seen[id(a)] = (weakref.ref(a), a._data, a._vc[0], a._grad)
    apply = _APPLY[0]
    if apply is None:
        from gradkit.ops import _registry
        apply = _APPLY[0] = _registry.apply
    return apply(prim, args, params, variant, True)


_APPLY: list[Any] = [None]      # the table's ``apply``, imported on the first use


def _patch() -> None:
    """While a trace runs (in any thread): random draws and hook registration stop it."""
    global _patch_depth
    with _patch_lock:
        _patch_depth += 1
        if _patch_depth > 1:
            return
        gen_rng = _gk.Generator.__dict__["_rng"]
        _saved["_rng"] = gen_rng

        def rng(self: Any) -> Any:
            tr = _in_trace()
            if tr is not None:
                tr.fail("a random draw (gradkit's generator): a replay would repeat the same "
                        "numbers")
            return gen_rng.fget(self)
        _gk.Generator._rng = property(rng, gen_rng.fset)  # type: ignore[assignment]
        reg = _Tensor.register_hook
        _saved["register_hook"] = reg

        def register_hook(self: Any, hook: Any) -> Any:
            tr = _in_trace()
            if tr is not None:
                tr.fail("a tensor hook (Tensor.register_hook): a replay would not call it")
            return reg(self, hook)
        _Tensor.register_hook = register_hook  # type: ignore[method-assign]
        for name in _MATH:
            orig = getattr(math, name)
            _saved["math." + name] = orig
            setattr(math, name, _math_guard(name, orig))


_MATH = ("sqrt", "exp", "log", "log1p", "log2", "log10", "expm1", "pow", "sin", "cos", "tan",
         "tanh", "atan", "atan2", "fabs", "copysign", "fsum", "prod", "isfinite", "isnan",
         "isinf", "hypot", "erf", "gamma", "lgamma")


def _math_guard(name: str, orig: Any) -> Any:
    def f(*args: Any) -> Any:
        tr = _in_trace()
        if tr is not None and any(type(a) is PyScalar for a in args):
            tr.fail(f"math.{name} on a traced Python scalar (C code reads it: use NumPy or "
                    "Python arithmetic)")
        return orig(*args)
    f.__name__ = name
    return f


def _unpatch() -> None:
    global _patch_depth
    with _patch_lock:
        _patch_depth -= 1
        if _patch_depth == 0:
            _gk.Generator._rng = _saved.pop("_rng")  # type: ignore[assignment]
            _Tensor.register_hook = _saved.pop("register_hook")  # type: ignore[method-assign]
            for name in _MATH:
                setattr(math, name, _saved.pop("math." + name))


# --- pytrees -----------------------------------------------------------------------------
