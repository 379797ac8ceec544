"""``vmap`` and ``stop_gradient`` of gradkit.func.

Part of ``gradkit.func`` (see its docstring).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from gradkit.func._tree import tree_flatten, tree_unflatten
from gradkit._core.tensor import Tensor, _make
from gradkit.ops.shape import permute_p


# --- batching and gradient stopping -----------------------------------------------------
def vmap(fun: Callable[..., Any], in_axes: Any = 0, out_axes: Any = 0, *,
         axis_size: int | None = None) -> Callable[..., Any]:
    """Map ``fun`` over an axis of its arguments: ``vmap(f)(xs)[i] == f(xs[i])``.

    Parameters
    ----------
    fun : callable
        A function of one example; positional arguments are pytrees of Tensors, arrays
        or numbers.
    in_axes : int, None or pytree
        The mapped axis of each argument (``None``: not mapped, passed whole); a tuple
        has one entry per positional argument, each an int, None or a pytree prefix of
        that argument.
    out_axes : int, None or pytree
        Where the batch axis goes in each output (``None``: an output that does not
        depend on the batch, returned once).
    axis_size : int, optional
        The batch size, needed only when no argument is mapped (``in_axes`` all None).
        Keyword arguments of the batched function are always mapped over axis 0, as in JAX.

    Returns
    -------
    callable
        The batched function; NumPy in (nothing a Tensor), NumPy out.

    Notes
    -----
    ``fun`` runs once, on batched tensors (``gradkit.func._batching``): each shows one example's
    shape while its primitives run on the whole batch. Elementwise, reduction, shape and
    product (matmul, einsum) primitives have batching rules; ``grad`` inside ``vmap``
    differentiates every example at once (per-example gradients, with unmapped arguments
    such as parameters broadcast along the batch). On anything else (an op with no rule,
    reading values with ``item()``/``bool()``/NumPy, in-place writes, forward mode) the
    whole call runs ``fun`` once per example and stacks the results instead; so does any
    error, which the loop then raises as it is. vmaps nest; ``grad(vmap(f))`` works.

    Examples
    --------
    >>> import numpy as np
    >>> import gradkit.func as gf
    >>> gf.vmap(gf.grad(lambda x: np.sum(x ** 3)))(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[ 3., 12.],
           [27., 48.]])
    """
    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not isinstance(in_axes, (tuple, list, int)) and in_axes is not None:
            raise ValueError(f"vmap in_axes must be an int, None, or a tuple of entries corresponding "
                             f"to the positional arguments passed to the function, but got {in_axes}")
        axes = list(in_axes) if isinstance(in_axes, (tuple, list)) else [in_axes] * len(args)
        if len(axes) != len(args):
            raise ValueError(f"vmap in_axes must be an int, None, or a tuple of entries "
                             f"corresponding to the positional arguments passed to the function, "
                             f"but got len(in_axes)={len(axes)}, len(args)={len(args)}")
        if not args and not kwargs and axis_size is None:
            raise ValueError("vmap wrapped function must be passed at least one argument containing "
                             "an array or axis_size must be specified, got empty *args=() and "
                             "**kwargs={}")
        if isinstance(fun, np.ufunc) and not kwargs and axis_size is None \
                and all(a == 0 for a in axes) and out_axes == 0:
            return fun(*args)
        names = list(kwargs)                       # keyword arguments are mapped over axis 0 (JAX)
        everything = list(args) + [kwargs[k] for k in names]
        leaves, spec = tree_flatten(everything)
        leaf_axes = _axes_for(axes + [0] * len(names), everything)
        for v, ax in zip(leaves, leaf_axes):
            if ax is not None and not -np.ndim(v) <= ax < np.ndim(v):
                raise ValueError(f"vmap was requested to map its argument along axis {ax}, which "
                                 f"implies that its rank should be at least {ax + 1 if ax >= 0 else -ax}, "
                                 f"but is only {np.ndim(v)} (its shape is {tuple(np.shape(v))})")
        sizes = {np.shape(v)[ax] for v, ax in zip(leaves, leaf_axes) if ax is not None}
        if axis_size is not None:
            sizes.add(int(axis_size))
        if len(sizes) != 1:
            raise ValueError("vmap got inconsistent sizes for array axes to be mapped: "
                             f"{sorted(sizes)}" if sizes else
                             "vmap must have at least one non-None value in in_axes or axis_size "
                             "must be specified")
        (n,) = sizes
        npos = len(args)

        def call(*a: Any) -> Any:
            return fun(*a[:npos], **dict(zip(names, a[npos:])))

        numpy_out = not any(isinstance(v, Tensor) for v in leaves)
        try:
            res = _vmap_batched(call, leaves, leaf_axes, spec, n, out_axes)
            _vmap_stats["batched"] += 1
        except _OutAxesError:
            raise
        except Exception as exc:                   # NOTE: the loop raises real errors as they are
            _vmap_stats["why"] = exc
            res = _vmap_loop(call, leaves, leaf_axes, spec, n, out_axes)
            _vmap_stats["loop"] += 1
        if numpy_out:
            res = _numpy_tree(res)
        return res
    return wrapper


class _OutAxesError(ValueError):
    """An ``out_axes`` that does not fit the output (raised as is, not retried by the loop)."""


def _out_axis(ax: int, ndim: int) -> int:
    """``ax`` for an output of ``ndim`` dims (the batch axis included), checked as JAX does."""
    if not -ndim <= ax < ndim:
        raise _OutAxesError(f"axis {ax} is out of bounds for array of dimension {ndim} (vmap "
                            f"out_axes of an output with {ndim - 1} dims)")
    return ax % ndim


#: how many vmap calls ran batched and how many fell back to the loop (for tests, benchmarks)
_vmap_stats: dict[str, Any] = {"batched": 0, "loop": 0, "why": None}


def _axes_for(ax: Any, tree: Any) -> list[Any]:
    """One axis per leaf of ``tree``, from ``ax`` (an int, None or a pytree prefix of ``tree``)."""
    if ax is None or isinstance(ax, int):
        return [ax] * len(tree_flatten(tree)[0])
    if isinstance(tree, dict) and isinstance(ax, dict):
        return [a for k in sorted(tree) for a in _axes_for(ax[k], tree[k])]
    if isinstance(tree, (tuple, list)) and isinstance(ax, (tuple, list)) and len(ax) == len(tree):
        return [a for sub_ax, sub in zip(ax, tree) for a in _axes_for(sub_ax, sub)]
    raise ValueError(f"vmap in_axes/out_axes entry {ax!r} does not match the structure of the "
                     f"value {type(tree).__name__}; give an int, None or a matching pytree")


def _vmap_batched(fun: Callable[..., Any], leaves: list[Any], leaf_axes: list[Any], spec: Any,
                  n: int, out_axes: Any) -> Any:
    from gradkit.func import _batching as V
    level = V.enter(n)
    try:
        wrapped = []
        for v, ax in zip(leaves, leaf_axes):
            if ax is None:
                wrapped.append(v)
                continue
            t = V.as_tensor(v)
            ax %= t.ndim
            if ax:
                t = permute_p(t, dims=(ax,) + tuple(i for i in range(t.ndim) if i != ax))
            wrapped.append(V._wrap(t, level))
        out = fun(*tree_unflatten(spec, wrapped))
        out_leaves, out_spec = tree_flatten(out)
        res = []
        for v, ax in zip(out_leaves, _axes_for(out_axes, out)):
            p, batched = V.physical(v, level)
            if ax is None:
                if batched:
                    raise _OutAxesError("at vmap out_axes, got axis spec None but output was "
                                        "batched on axis 0")
                res.append(p)
                continue
            if not batched:
                p = V.broadcast_to_level(v, level)._value
            ax = _out_axis(ax, p.ndim)
            if ax:
                p = permute_p(p, dims=tuple(range(1, ax + 1)) + (0,) + tuple(range(ax + 1, p.ndim)))
            res.append(p)
        return tree_unflatten(out_spec, res)
    finally:
        V.exit_level()


def _vmap_loop(fun: Callable[..., Any], leaves: list[Any], leaf_axes: list[Any], spec: Any,
               n: int, out_axes: Any) -> Any:
    results = []
    for i in range(n):
        ex = [v if ax is None else _take(v, ax, i) for v, ax in zip(leaves, leaf_axes)]
        results.append(fun(*tree_unflatten(spec, ex)))
    return _stack_tree(results, out_axes)


def _take(v: Any, axis: int, i: int) -> Any:
    idx = (slice(None),) * (axis % np.ndim(v)) + (i,)
    return v[idx] if isinstance(v, Tensor) else np.asarray(v)[idx]


def _stack_tree(results: list[Any], out_axes: Any) -> Any:
    from gradkit._api import stack
    flats = [tree_flatten(r) for r in results]
    spec = flats[0][1]
    axes = _axes_for(out_axes, results[0])
    out = []
    for k, ax in enumerate(axes):
        col = [f[0][k] for f in flats]
        if ax is None:
            vals = [np.asarray(c._data if isinstance(c, Tensor) else c) for c in col]
            if any(not np.array_equal(v, vals[0], equal_nan=v.dtype.kind in "fc") for v in vals[1:]):
                raise _OutAxesError("at vmap out_axes, got axis spec None but output was batched "
                                    "on axis 0")
            out.append(col[0])
            continue
        ax = _out_axis(ax, np.ndim(col[0]) + 1)
        if any(isinstance(c, Tensor) for c in col):
            col = [c if isinstance(c, Tensor) else _make(np.asarray(c), False, None) for c in col]
            out.append(stack(col, dim=ax))
        else:
            out.append(np.stack([np.asarray(c) for c in col], axis=ax))
    return tree_unflatten(spec, out)


def _numpy_tree(tree: Any) -> Any:
    leaves, spec = tree_flatten(tree)
    return tree_unflatten(spec, [np.asarray(v._data) if isinstance(v, Tensor) and not v.requires_grad
                                 and isinstance(v._data, np.ndarray) else v for v in leaves])


def stop_gradient(x: Any) -> Any:
    """``x`` with no gradient flowing through it (any pytree; NumPy leaves pass as they are)."""
    leaves, spec = tree_flatten(x)
    return tree_unflatten(spec, [v.detach() if isinstance(v, Tensor) else v for v in leaves])
