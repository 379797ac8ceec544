"""Pytrees and the conversion of arguments and results for gradkit.func's transforms.

Part of ``gradkit.func`` (see its docstring).
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np

from gradkit._core.backend import as_data, to_numpy
from gradkit._core.concrete import differentiating
from gradkit._core.tensor import Tensor, _make
from gradkit._core.grad_mode import _state
from gradkit._core.pytree import tree_flatten, tree_unflatten  # noqa: F401  (re-exported)

_local = threading.local()


# --- leaves in and out ---------------------------------------------------------------------
def _depth() -> int:
    return getattr(_local, "depth", 0)


class _Scope:
    """Entered while a transform runs the user function; nested transforms keep graphs.

    It also marks the user's code as differentiated by ``name``, so that converting a
    differentiated tensor to a Python/NumPy value raises (``gradkit._core.concrete``).
    """

    def __init__(self, name: str = "gradkit.func", primals: Sequence[Tensor] | None = None) -> None:
        self.mark = differentiating(name, primals)

    def __enter__(self) -> bool:
        outer = _depth() > 0
        _local.depth = _depth() + 1
        # NOTE: a transform records its own graph in normal mode, inside inference_mode too
        # (as torch.func's do): its tensors are normal tensors, so they can be saved
        self.prev = (_state.grad_enabled, _state.inference)
        _state.grad_enabled, _state.inference = True, False
        self.mark.__enter__()
        return outer

    def __exit__(self, *exc: Any) -> None:
        _local.depth -= 1
        _state.grad_enabled, _state.inference = self.prev
        self.mark.__exit__(*exc)


class TransformTypeError(TypeError, RuntimeError):
    """A transform refused its function's input or output: JAX raises TypeError (its words are
    kept), torch.func RuntimeError; ``gradkit.func`` is both, so either ``except`` works."""


class TransformValueError(ValueError, RuntimeError):
    """As :class:`TransformTypeError`, where JAX raises ValueError."""


def _int_input(name: str, dtype: np.dtype) -> TypeError:
    return TransformTypeError(
        f"{name} requires real- or complex-valued inputs (input dtype that is a sub-dtype of "
        f"np.inexact), but got {dtype.name}. If you want to use Boolean- or integer-valued inputs, "
        "convert them to floats first.")


def _to_primal(x: Any, name: str = "grad") -> tuple[Tensor, bool]:
    """A tensor to differentiate at ``x`` and whether the result must stay on the graph."""
    from gradkit.func import _batching as V
    if V._levels and not _batched_tangents_only(x):
        return _batched_primal(x, name)
    if isinstance(x, Tensor):
        if x._data.dtype.kind not in "fcV":
            raise _int_input(name, x._data.dtype)
        if x.requires_grad:
            return x.view_as(x), True             # a node of its own, still on the outer graph
        return _primal(x._data), False
    arr = as_data(x)
    if arr.dtype.kind not in "fcV":
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            arr = arr.astype(np.float64)           # NOTE: Python ints are taken as floats
        else:
            raise _int_input(name, arr.dtype)
    return _primal(np.array(arr)), False


def _batched_tangents_only(x: Any) -> bool:
    """A plain tensor whose forward-mode tangents vmap batches (a primal of ``jacfwd``'s
    one dual pass for all its tangents): differentiated as it is, not per example."""
    from gradkit.func import _batching as V
    if type(x) is V.BatchedTensor or not isinstance(x, Tensor) or not x._fw:
        return False
    return any(type(t) is V.BatchedTensor for t in x._fw.values())


def _primal(data: Any) -> Tensor:
    """A fresh leaf to differentiate at: a normal tensor, inside ``inference_mode`` too."""
    t = _make(data, True, None)
    t._vc = [0]
    return t


def _batched_primal(x: Any, name: str = "grad") -> tuple[Tensor, bool]:
    """Inside vmap: a primal batched at every running level (per-example gradients).

    An unmapped argument (parameters) is broadcast along each batch, so that its
    gradient comes out per example, as JAX's ``vmap(grad(f), in_axes=(None, 0))``.
    """
    from gradkit.func import _batching as V
    phys, levels = V.unwrap_all(x) if isinstance(x, Tensor) else (x, [])
    p, on_graph = _to_primal_plain(phys, name)
    shape = tuple(p.shape)
    lead = len(levels)
    missing = [k for k in range(1, len(V._levels) + 1) if k not in levels]
    if missing:
        sizes = V.level_sizes()
        target = tuple(sizes[k - 1] for k in range(1, len(sizes) + 1))
        have = dict(zip(levels, shape[:lead]))
        inter = tuple(have.get(k, 1) for k in range(1, len(sizes) + 1)) + shape[lead:]
        p = p.reshape(inter).expand(target + shape[lead:])
    return V.rewrap(p, range(1, len(V._levels) + 1)), on_graph


def _to_primal_plain(x: Any, name: str = "grad") -> tuple[Tensor, bool]:
    from gradkit.func import _batching as V
    saved = V._levels[:]
    V._levels.clear()                     # plain checks and a plain leaf, hook or not
    try:
        return _to_primal(x, name)
    finally:
        V._levels[:] = saved


def _argnums(argnums: int | Sequence[int], n: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not -n <= a < n:
            raise TypeError(f"differentiating with respect to argnums={argnums} requires at least "
                            f"{(a if a >= 0 else -a - 1) + 1} positional arguments to be passed by "
                            f"the caller, but got only {n} positional arguments.")
    return tuple(a % n for a in nums)


class _Call:
    """One call of a transformed function: differentiated leaves swapped for tensors."""

    def __init__(self, args: tuple[Any, ...], argnums: int | Sequence[int], name: str = "grad") -> None:
        self.single = isinstance(argnums, int)
        self.nums = _argnums(argnums, len(args))
        self.args = list(args)
        self.specs, self.leaves, self.originals = [], [], []
        self.create = _depth() > 0
        self.numpy_out = not _vmapping()
        for a in self.nums:
            leaves, spec = tree_flatten(args[a])
            prim = []
            for leaf in leaves:
                t, on_graph = _to_primal(leaf, name)
                self.create |= on_graph
                self.numpy_out &= not isinstance(leaf, Tensor)
                prim.append(t)
            self.specs.append(spec)
            self.leaves.append(prim)
            self.originals.append(leaves)
            self.args[a] = tree_unflatten(spec, prim)
        self.flat = [t for group in self.leaves for t in group]

    def per_arg(self, flat: Sequence[Any], convert: bool = True) -> Any:
        """Split per-leaf results back into the argument structure(s)."""
        out, i = [], 0
        for spec, orig in zip(self.specs, self.originals):
            vals = [self._leaf_out(v, o) if convert else v for v, o in zip(flat[i:i + len(orig)], orig)]
            out.append(tree_unflatten(spec, vals))
            i += len(orig)
        return out[0] if self.single else tuple(out)

    def _leaf_out(self, v: Any, like: Any) -> Any:
        if isinstance(v, Tensor) and not self.create:
            v = v.detach()
        if isinstance(like, Tensor) or self.create or _vmapping():
            return v if isinstance(v, Tensor) else _make(np.asarray(v), False, None)
        return _to_numpy(v, like)

    def out(self, tree: Any) -> Any:
        """Convert a result pytree: detached when outermost, NumPy for NumPy callers."""
        leaves, spec = tree_flatten(tree)
        res = []
        given = {id(t): o for t, o in zip(self.flat, (o for g in self.originals for o in g))
                 if isinstance(o, Tensor)}
        for v in leaves:
            if id(v) in given:
                # NOTE: an argument returned as it was (``has_aux`` giving back an input) is the
                # caller's own tensor, as PyTorch unwraps it (checked live: ``requires_grad=True``)
                res.append(given[id(v)])
                continue
            if isinstance(v, Tensor) and not self.create:
                v = v.detach()
            if self.numpy_out and not self.create and isinstance(v, Tensor):
                v = _to_numpy(v, None)
            res.append(v)
        return tree_unflatten(spec, res)


def _to_numpy(v: Any, like: Any) -> Any:
    arr = to_numpy(v._data if isinstance(v, Tensor) else v)
    if arr.ndim == 0 and (like is None or isinstance(like, (int, float, np.generic))):
        return arr.item()
    return arr


def _split_aux(out: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"{name} with has_aux=True requires the function to return a pair "
                        f"(output, aux), but it returned {type(out).__name__}")
    return out[0], out[1]


def _as_output(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else _make(as_data(x), False, None)


def _vmapping() -> bool:
    from gradkit.func import _batching as V
    return bool(V._levels)
