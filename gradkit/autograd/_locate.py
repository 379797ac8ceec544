"""Find the operation whose derivative rule disagrees with finite differences.

Used by ``gradcheck`` when the whole function's Jacobian is wrong: the graph of one
forward pass is walked from the inputs outwards and each recorded primitive's
vector-Jacobian product is compared with a central difference of the same primitive's
forward, on the values that primitive actually saw (in float64).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from gradkit._core.tensor import Tensor
from gradkit._core.graph import Meta
from gradkit.ops._registry import PrimNode
from gradkit._core.sites import where_str

__all__ = ["first_disagreeing_op"]


def _nodes_inputs_first(out: Sequence[Tensor]) -> list[Any]:
    order: list[Any] = []
    seen: set[int] = set()
    stack = [(t._fn, False) for t in out if t._fn is not None]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for edge in node.next:
            if type(edge) is tuple and id(edge[0]) not in seen:
                stack.append((edge[0], False))
    return order


def _check_node(node: Any, rng: np.random.Generator) -> bool:
    """Whether the node's VJP agrees with finite differences of its forward (True if unsure)."""
    if not isinstance(node, PrimNode) or node.args is None or node.prim.n_out != 1:
        return True
    if any(type(a) is Meta for a in node.args):
        return True                    # an input the rules do not read was not kept
    prim, params = node.prim, node.params or {}
    arrays = [a._data.astype(np.float64) if isinstance(a, Tensor) and a._data.dtype.kind in "fV"
              else (a._data if isinstance(a, Tensor) else a) for a in node.args]
    base = np.asarray(prim.fwd(*arrays, **params), dtype=np.float64)
    g = rng.standard_normal(base.shape)
    with np.errstate(all="ignore"):
        grads = node._backward([g], False)
    for i, (a, gi) in enumerate(zip(node.args, grads)):
        if gi is None or not isinstance(a, Tensor) or a._data.dtype.kind not in "fV":
            continue
        gi = np.asarray(gi, dtype=np.float64)
        if gi.shape != a._data.shape:
            from ..ops.reduction import sum_to
            gi = np.asarray(sum_to(gi, a._data.shape))
        v = rng.standard_normal(a._data.shape)
        h = 1e-6 * max(1.0, float(np.max(np.abs(arrays[i]))) if np.size(arrays[i]) else 1.0)
        shifted = []
        for sgn in (1.0, -1.0):
            vals = list(arrays)
            vals[i] = arrays[i] + sgn * h * v
            shifted.append(np.asarray(prim.fwd(*vals, **params), dtype=np.float64))
        numerical = float(np.sum(g * (shifted[0] - shifted[1]))) / (2 * h)
        analytical = float(np.sum(gi * v))
        if not np.isfinite(numerical) or not np.isfinite(analytical):
            continue
        tol = 1e-5 * max(1.0, abs(numerical)) if a._data.dtype == np.float64 else \
            1e-2 * max(1.0, abs(numerical))
        if abs(numerical - analytical) > tol:
            return False
    return True


def first_disagreeing_op(func: Callable[..., Any], inputs: Sequence[Any]) -> str:
    """A sentence naming the first recorded op whose rule disagrees, or ``''``."""
    rng = np.random.default_rng(0)
    out = func(*inputs)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if isinstance(o, Tensor)]
    for node in _nodes_inputs_first(outs):
        if not _check_node(node, rng):
            place = where_str(getattr(node, "site", None))
            return (f"The first operation whose derivative disagrees with finite differences "
                    f"is `{node.name()}`" + (f" (created at {place})" if place else "") + ".")
    return ""
