"""Dask arrays: the same stencils, chunk by chunk, through ``dask.array.map_overlap``.

Each chunk is extended by ``accuracy // 2`` samples from its neighbours (or, for
``boundary='periodic'``, from the other end of the array), the NumPy plan runs on the
extended block, and the overlap is trimmed. Edge formulas only matter at the global
edges (no overlap there, so the block's own edge is the array's edge); elsewhere the
garbage they leave falls inside the trimmed overlap. The chunks therefore give the
same numbers as the NumPy path, operation for operation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit.autograd._stencil import Coords, make_plan, min_points

__all__ = ["derivative_along_dask"]


def _dask_array() -> Any:
    try:
        import dask.array as da
    except ImportError as e:  # pragma: no cover - exercised only without dask
        raise ImportError("Dask arrays need the optional dependency dask: "
                          "pip install gradkit[dask]") from e
    return da


def derivative_along_dask(f: Any, axis: int, h: Any, d: int = 1, *, accuracy: int = 2,
                          edge_order: int = 1, periodic: bool = False, period: Any = None) -> Any:
    """The ``d``-th derivative of a Dask array along ``axis``, lazily (``map_overlap``)."""
    from ._sampled import _eval_numpy

    _dask_array()
    if periodic and isinstance(h, Coords) and period is None:
        raise ValueError("boundary='periodic' with non-uniform coordinates needs the period: pass "
                         "period=L (the distance from the first sample to its next periodic copy)")
    depth = max(accuracy // 2, 1)
    need = max(min_points(d, accuracy, edge_order, periodic), depth)
    if min(f.chunks[axis]) < need:
        # Merge into balanced chunks of at least `need` samples (the edge stencils need them).
        n, k = f.shape[axis], max(1, f.shape[axis] // max(need, max(f.chunks[axis])))
        f = f.rechunk({axis: tuple(n // k + (1 if j < n % k else 0) for j in range(k))})
    starts = np.concatenate([[0], np.cumsum(f.chunks[axis])])
    x_ext = None
    if isinstance(h, Coords) and periodic:
        x = h.x
        x_ext = np.concatenate([x[len(x) - depth:] - period, x, x[:depth] + period])
    otype = f.dtype

    def block_fn(block: np.ndarray, block_info: Any = None) -> np.ndarray:
        i = block_info[0]["chunk-location"][axis]
        n = block.shape[axis]
        hb = h
        if isinstance(h, Coords):
            if periodic:
                xb = x_ext[starts[i]:starts[i] + n]
            else:
                g0 = starts[i] - (depth if i > 0 else 0)
                xb = h.x[g0:g0 + n]
            hb = Coords(xb, np.diff(xb))
        plan = make_plan(n, hb, d, accuracy, edge_order, periodic, period)
        return _eval_numpy(block, axis, plan, otype)

    return f.map_overlap(block_fn, depth={axis: depth},
                         boundary="periodic" if periodic else "none", dtype=otype,
                         meta=np.empty((0,) * f.ndim, dtype=otype))
