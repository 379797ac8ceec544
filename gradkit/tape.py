"""TensorFlow's ``GradientTape`` and ``Variable`` on gradkit's engine.

A tape records what its watched tensors take part in: while it is active, a watched
constant is marked as requiring grad, so the engine records the operations on it;
``gradient`` then calls ``gradkit.autograd.grad``. Trainable ``Variable``s always
require grad and count as watched (``watch_accessed_variables=True``). Tapes nest: a
gradient computed while another tape is active is recorded, so the outer tape can
differentiate it again.

Examples
--------
>>> from gradkit.tape import GradientTape, Variable
>>> x = Variable(3.0)
>>> with GradientTape() as tape:
...     y = x * x
>>> tape.gradient(y, x)
tensor(6.)
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from gradkit._core.torch_function import _disabled_torch_function_impl
from gradkit._core import backend as _backend
from gradkit._core.concrete import differentiating
from gradkit._core.tensor import Tensor, _init, _make
from .autograd import grad as _grad
from .autograd._batched import batched_vjp
from gradkit._core.grad_mode import _state
from .func import tree_flatten, tree_unflatten
from gradkit.autograd._explain import explain

__all__ = ["GradientTape", "Variable"]

_local = threading.local()
_NON_PERSISTENT = ("A non-persistent GradientTape can only be used to compute one set of "
                   "gradients (or jacobians)")


def _active() -> list[GradientTape]:
    if not hasattr(_local, "tapes"):
        _local.tapes = []
    return _local.tapes


class Variable(Tensor):
    """A mutable tensor (``assign``, ``assign_add``, ``assign_sub``) that tapes watch by itself.

    Parameters
    ----------
    value : array_like or Tensor
        Initial value (Python floats become float32, as in TensorFlow).
    trainable : bool
        Whether tapes watch it (it then requires grad).
    name : str, optional
    dtype : optional
    """

    # NOTE: gradkit's own subclass: no __torch_function__ dispatch (operations return what they
    # returned before) and it prints as tensor(...)
    __torch_function__ = _disabled_torch_function_impl
    _repr_as_tensor = True

    def __init__(self, value: Any, trainable: bool = True, name: str | None = None,
                 dtype: Any = None) -> None:
        arr = _to_array(value, dtype)
        _init(self, arr, bool(trainable) and arr.dtype.kind in "fcV", None)
        self.trainable = bool(trainable)
        self._name = name or "Variable"

    def assign(self, value: Any) -> Variable:
        """Replace the value in place (not recorded by tapes)."""
        arr = _backend.as_data(value._data if isinstance(value, Tensor) else value, self._data.dtype)
        arr = _backend.move(arr, _backend.placement_of(self._data))
        if arr.shape != self._data.shape:
            raise ValueError(f"Cannot assign value to variable ' {self._name}:0': Shape mismatch."
                             f"The variable shape {self._data.shape}, and the assigned value shape "
                             f"{arr.shape} are incompatible.")
        self._data = _backend.copy(arr)
        self._vc[0] += 1
        return self

    def assign_add(self, delta: Any) -> Variable:
        return self.assign(self._data + _backend.as_data(getattr(delta, "_data", delta)))

    def assign_sub(self, delta: Any) -> Variable:
        return self.assign(self._data - _backend.as_data(getattr(delta, "_data", delta)))

    def numpy(self, *, force: bool = True) -> np.ndarray:  # type: ignore[override]
        """A copy of the value as an ndarray (0-d values as NumPy scalars, as in TensorFlow)."""
        return _numpy_value(self._data)

    def read_value(self) -> Tensor:
        return self.detach()

    def value(self) -> Tensor:
        return self.detach()

    def __repr__(self) -> str:
        return (f"<gradkit.Variable '{self._name}:0' shape={tuple(self._data.shape)} "
                f"dtype={self._data.dtype.name}, numpy={np.array_repr(self._data)}>")

    __str__ = __repr__


def _to_array(value: Any, dtype: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        arr = _backend.copy(value._data)
    elif _backend.backend_of(value) is not None:
        arr = _backend.copy(value)
    else:
        arr = np.array(value)
        if arr.dtype == np.float64 and not isinstance(value, np.ndarray):
            arr = arr.astype(np.float32)          # NOTE: TensorFlow's default float is float32
    if dtype is not None:
        arr = arr.astype(getattr(dtype, "np", dtype))
    return arr


def _numpy_value(arr: np.ndarray) -> Any:
    arr = _backend.to_numpy(arr) if type(arr) is not np.ndarray else arr
    return arr[()] if arr.ndim == 0 else arr.copy()


class GradientTape:
    """Record operations on watched tensors for ``gradient`` and ``jacobian``.

    Parameters
    ----------
    persistent : bool
        Allow more than one ``gradient``/``jacobian`` call.
    watch_accessed_variables : bool
        Watch trainable ``Variable``s automatically; with False only ``watch``-ed ones count.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._watched: dict[int, Tensor] = {}
        self._flagged: dict[int, Tensor] = {}       # constants this tape made require grad
        self._recording = False
        self._used = False
        self._paused = 0

    # --- recording ---------------------------------------------------------------
    def __enter__(self) -> GradientTape:
        self._recording = True
        _active().append(self)
        for t in self._flagged.values():
            t._rg = True
        # NOTE: while recording, float(t)/t.item()/np.asarray(t) of a watched tensor raise
        # gradkit.ConcretizationError (the tape could not see what follows; see _concrete.py)
        self._mark = differentiating("GradientTape")
        self._mark.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._recording = False
        tapes = _active()
        if self in tapes:
            tapes.remove(self)
        self._unflag()
        self._mark.__exit__(*exc)

    def _unflag(self) -> None:
        still = {id(t) for tape in _active() for t in tape._flagged.values()}
        for k, t in self._flagged.items():
            if k not in still and t._fn is None:
                t._rg = False

    def watch(self, tensor: Any) -> None:
        """Record operations on ``tensor`` (a Tensor or a nested structure of them)."""
        leaves, _ = tree_flatten(tensor)
        for t in leaves:
            if not isinstance(t, Tensor):
                raise ValueError(f"Passed in object {t!r} of type {type(t).__name__!r}, not tf.Tensor "
                                 "or tf.Variable or ExtensionType.")
            if t._data.dtype.kind not in "fcV":
                continue                           # TensorFlow: integer tensors are not watched
            self._watched[id(t)] = t
            if not t._rg and t._fn is None:
                self._flagged[id(t)] = t
                if self._recording:
                    t._rg = True

    def watched_variables(self) -> tuple[Variable, ...]:
        return tuple(t for t in self._watched.values() if isinstance(t, Variable))

    def stop_recording(self) -> _StopRecording:
        """A context in which nothing is recorded (by any tape)."""
        return _StopRecording(self)

    def reset(self) -> None:
        """Forget everything watched so far (the tape can be used again)."""
        self._unflag()
        self._watched.clear()
        self._flagged.clear()
        self._used = False

    # --- results -----------------------------------------------------------------
    def _is_watched(self, t: Tensor) -> bool:
        if id(t) in self._watched:
            return True
        if t._fn is not None:
            return True                            # computed while recording: on the tape
        return isinstance(t, Variable) and t.trainable and self.watch_accessed_variables

    def _check_use(self) -> None:
        if self._used and not self.persistent:
            raise RuntimeError(_NON_PERSISTENT)
        self._used = True

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: str = "none") -> Any:
        """Gradients of ``target`` (summed over a structure of targets) w.r.t. ``sources``.

        The result has the structure of ``sources``; a source the target does not
        depend on gives None, or zeros with ``unconnected_gradients='zero'``.
        """
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"Unknown value for unconnected_gradients: '{unconnected_gradients}'")
        self._check_use()
        targets, _ = tree_flatten(target)
        srcs, spec = tree_flatten(sources)
        outs = tree_flatten(output_gradients)[0] if output_gradients is not None else None
        grads = self._grads(targets, srcs, outs)
        if unconnected_gradients == "zero":
            grads = [_make(np.zeros_like(s._data), False, None) if g is None else g
                     for g, s in zip(grads, srcs)]
        return tree_unflatten(spec, grads)

    def _grads(self, targets: list[Any], srcs: list[Any], outs: list[Any] | None) -> list[Any]:
        pairs = [(t, None if outs is None else outs[i]) for i, t in enumerate(targets)
                 if isinstance(t, Tensor) and t._rg]
        live = [k for k, s in enumerate(srcs) if isinstance(s, Tensor) and self._is_watched(s)]
        result: list[Any] = [None] * len(srcs)
        if not pairs or not live:
            return result
        cots = [_cotangent(t, g) for t, g in pairs]
        create = bool(_active()) and not any(tape._paused for tape in _active())
        restore = [srcs[k] for k in live if not srcs[k]._rg]
        for s in restore:
            s._rg = True
        try:
            gs = _grad([t for t, _ in pairs], [srcs[k] for k in live], cots, retain_graph=True,
                       create_graph=create, allow_unused=True)
        finally:
            for s in restore:
                s._rg = False
        for k, g in zip(live, gs):
            result[k] = g
        return result

    def explain(self, target: Tensor, source: Tensor) -> Any:
        """Why ``gradient(target, source)`` is None, zero or NaN (see ``gradkit.autograd.explain``)."""
        return explain(target, source, tape=self)

    def jacobian(self, target: Tensor, sources: Any, unconnected_gradients: str = "none",
                 parallel_iterations: Any = None, experimental_use_pfor: bool = True) -> Any:
        """``d target / d source`` shaped ``target.shape + source.shape`` for each source."""
        self._check_use()
        srcs, spec = tree_flatten(sources)
        res = []
        for s in srcs:
            j = self._jac(target, s)
            if j is None and unconnected_gradients == "zero":
                j = _make(np.zeros(target._data.shape + s._data.shape, s._data.dtype), False, None)
            res.append(j)
        return tree_unflatten(spec, res)

    def _jac(self, target: Tensor, s: Tensor) -> Any:
        if not (isinstance(target, Tensor) and target._rg and self._is_watched(s)):
            return None
        restore = not s._rg
        s._rg = True
        try:
            n = target._data.size
            seed = np.eye(n, dtype=target._data.dtype).reshape((n,) + target._data.shape)
            (g,) = batched_vjp([target], [seed], [s])
        finally:
            if restore:
                s._rg = False
        if g is None:
            return None
        return _make(np.ascontiguousarray(g).reshape(target._data.shape + s._data.shape), False, None)

    def batch_jacobian(self, target: Tensor, source: Tensor, unconnected_gradients: str = "none",
                       parallel_iterations: Any = None, experimental_use_pfor: bool = True) -> Any:
        """Per-example Jacobians: ``(b, *target.shape[1:], *source.shape[1:])``."""
        self._check_use()
        j = self._jac(target, source)
        b = target._data.shape[0]
        if j is None:
            if unconnected_gradients != "zero":
                return None
            return _make(np.zeros(target._data.shape + source._data.shape[1:], source._data.dtype),
                         False, None)
        arr = j._data.reshape((b, -1, b) + source._data.shape[1:])
        diag = arr[np.arange(b), :, np.arange(b)]
        return _make(np.ascontiguousarray(diag.reshape(target._data.shape + source._data.shape[1:])),
                     False, None)


def _cotangent(t: Tensor, g: Any) -> Any:
    if g is None:
        return _make(np.ones_like(t._data), False, None)
    return g if isinstance(g, Tensor) else _make(np.asarray(g, dtype=t._data.dtype), False, None)


class _StopRecording:
    def __init__(self, tape: GradientTape) -> None:
        self.tape = tape

    def __enter__(self) -> None:
        if not self.tape._recording:
            raise ValueError("Tape must be recording.")
        self.tape._paused += 1
        self.prev, _state.grad_enabled = _state.grad_enabled, False

    def __exit__(self, *exc: object) -> None:
        self.tape._paused -= 1
        _state.grad_enabled = self.prev
