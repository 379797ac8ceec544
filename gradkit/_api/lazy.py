"""Computing and persisting lazy (Dask-backed) tensors: ``gradkit.compute``, ``gradkit.persist``.

Forward and backward on Dask-backed tensors only build task graphs. These
functions run them: several results in one pass, so work they share (the
forward pass behind a loss and its gradients) is done once.
"""

from __future__ import annotations

from typing import Any

from gradkit._core import backend as _backend
from gradkit._core.pytree import tree_flatten, tree_unflatten
from gradkit._core.tensor import Tensor
from gradkit.ops._registry import apply
from gradkit.ops.shape import to_device_p
from gradkit._core.creation import _finish
from gradkit._core import dtype as _dtype

__all__ = ["compute", "persist", "from_dask"]


def _lazy_leaves(args: Any) -> tuple[list[Any], Any, list[int]]:
    leaves, spec = tree_flatten(list(args))
    lazy = [i for i, v in enumerate(leaves)
            if _backend.is_lazy(v._data if isinstance(v, Tensor) else v)]
    return leaves, spec, lazy


def _run(args: Any, kwargs: Any, persist: bool) -> tuple[Any, ...]:
    leaves, spec, lazy = _lazy_leaves(args)
    if lazy:
        import dask
        arrays = [leaves[i]._data if isinstance(leaves[i], Tensor) else leaves[i] for i in lazy]
        results = (dask.persist if persist else dask.compute)(*arrays, **kwargs)
        for i, value in zip(lazy, results):
            leaf = leaves[i]
            if not persist:
                value = _backend.as_data(value)
            if not isinstance(leaf, Tensor):
                leaves[i] = value
                continue
            dask_place = _backend.placement_of(leaf._data)
            target = dask_place if persist else (None, None)
            params = {"target": target, "source": dask_place, "value": value}
            leaves[i] = apply(to_device_p.prim, (leaf,), params)
    return tuple(tree_unflatten(spec, leaves))


def compute(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """Compute the Dask-backed tensors in ``args`` (tensors, or lists/tuples/dicts of them) in
    one pass; return them as NumPy-backed tensors, in the same structure, as a tuple.

    Work the results share is done once: ``loss, *grads = gradkit.compute(loss, *grads)``
    runs the forward pass behind the loss and its gradients a single time. Keyword
    arguments go to ``dask.compute`` (``scheduler=``, ...); with a ``dask.distributed``
    client active, the cluster does the work. Results stay on the graph (like
    ``tensor.cpu()``); tensors that are not lazy are returned as they are.
    """
    return _run(args, kwargs, persist=False)


def persist(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """Like ``compute``, but the results stay Dask-backed, held in the cluster's memory
    (``dask.persist``): a dataset used on every step is read and prepared once."""
    return _run(args, kwargs, persist=True)


def _compute_method(self: Tensor, **kwargs: Any) -> Tensor:
    """The values of a Dask-backed tensor, computed, as a NumPy-backed tensor.

    Differentiable, like a device copy; ``gradkit.compute(a, b, ...)`` computes several
    in one pass with shared work. Other tensors are returned as they are.
    """
    return compute(self, **kwargs)[0]


def _persist_method(self: Tensor, **kwargs: Any) -> Tensor:
    """Keep a Dask-backed tensor's values in the cluster's memory (``dask.persist``)."""
    return persist(self, **kwargs)[0]


_compute_method.__name__ = _compute_method.__qualname__ = "compute"
_persist_method.__name__ = _persist_method.__qualname__ = "persist"
# NOTE: these methods run the table (a device copy), so they live above floor 0.
Tensor.compute = _compute_method  # type: ignore[attr-defined]
Tensor.persist = _persist_method  # type: ignore[attr-defined]


def from_dask(array: Any, requires_grad: bool = False) -> Tensor:
    """A tensor holding a Dask array, without computing it.

    Same as ``gradkit.tensor(array)``, but insists on a Dask array (it names the problem
    when given something else).
    """
    if not _backend.is_lazy(array):
        raise TypeError(f"from_dask expects a dask.array.Array, got {type(array).__name__}; "
                        "use gradkit.tensor() for other data")
    if array.dtype not in _dtype.FROM_NP:
        raise TypeError(f"can't convert a Dask array of type {array.dtype} to a tensor")
    return _finish(array, requires_grad)


