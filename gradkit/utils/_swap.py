"""``gradkit.utils.swap_tensors``: two Tensor objects trade their contents (PyTorch 2.13's
``torch.utils.swap_tensors``), so that every reference to one (a module's parameter dict, an
optimizer's param list) sees the other's values, class, attributes and autograd state.

PyTorch refuses a swap that a recorded graph would notice, by the use count of the C++ tensor:
1 for the Python object, one more for each saved reference (``a * a`` saves ``a`` twice), one
for each view of it, one for a leaf's AccumulateGrad node. gradkit's graph holds the Python
objects themselves, so the count is taken from what refers to each tensor (``gc``): saved
inputs and outputs of graph nodes, edges to a leaf, views. A leaf whose only other use is its
accumulation edge is swapped and that edge poisoned (a backward through it raises PyTorch's
error), as PyTorch does; any other use raises PyTorch's error. A reference gradkit cannot
classify from a graph object counts as a use (refused rather than swapped wrongly).
"""

from __future__ import annotations

import copyreg
import gc
import weakref
from typing import Any

from gradkit._core.graph import AccumulateGrad, ConstRef, Node, SavedTensor
from gradkit._core.tensor import Tensor, _make

__all__ = ["swap_tensors"]

_POISONED = ("Trying to execute AccumulateGrad node that was poisoned by swap_tensors this can "
             "happen when you try to run backward on a tensor that was swapped. For a module m "
             "with `torch.__future__.set_swap_module_params_on_conversion(True)` you should not "
             "change the device or dtype of the module (e.g. `m.cpu()` or `m.half()`) between "
             "running forward and backward. To resolve this, please only change the device/dtype "
             "before running forward (or after both forward and backward).")

_GRAPH_TYPES = (Node, AccumulateGrad, ConstRef, SavedTensor)


def _is_graph(obj: Any) -> bool:
    return isinstance(obj, _GRAPH_TYPES)


def _graph_uses(t: Tensor) -> tuple[int, list[Node]]:
    """``(saved, edge_nodes)``: how many times graph objects hold ``t`` other than as a leaf's
    edge, and the nodes whose ``next`` edges hold it (its AccumulateGrad)."""
    saved = 0
    edge_nodes: list[Node] = []
    for ref in gc.get_referrers(t):
        if _is_graph(ref):
            saved += 1                          # a slot of a node (a saved output, a ConstRef)
            continue
        if not isinstance(ref, (tuple, list, dict)):
            continue
        holders = [h for h in gc.get_referrers(ref) if _is_graph(h)]
        if not holders:
            continue
        n = sum(1 for v in (ref.values() if isinstance(ref, dict) else ref) if v is t)
        for h in holders:
            if isinstance(h, Node) and h.next is ref:
                edge_nodes.append(h)
            else:
                saved += n
    return saved, edge_nodes


def _live_views(t: Tensor) -> int:
    views = t.__dict__.get("_views") or ()
    return sum(1 for r in views if r() is not None and r().__dict__.get("_base") is t)


def _own_weakrefs(t: Tensor) -> list[Any]:
    """Weak references to ``t`` other than gradkit's own view bookkeeping (its base's list)."""
    base = t.__dict__.get("_base")
    internal = {id(r) for r in (base.__dict__.get("_views") or ())} if base is not None else set()
    return [r for r in weakref.getweakrefs(t) if id(r) not in internal]


def _poison(t: Tensor, nodes: list[Node]) -> None:
    """Point the edges of ``nodes`` to ``t`` at a stand-in leaf whose gradient hook raises."""
    stand_in = _make(t._data, True, None)

    def refuse(grad: Any) -> Any:
        raise RuntimeError(_POISONED)
    stand_in.register_hook(refuse)
    for node in nodes:
        edges = node.next
        node.next = type(edges)(stand_in if e is t else e for e in edges)


def _check_use_count(t: Tensor, name: str) -> list[Node]:
    saved, edge_nodes = _graph_uses(t)
    views = _live_views(t)
    use_count = 1 + saved + views + (1 if edge_nodes else 0)
    if use_count <= 1:
        return []
    if use_count == 2 and t._fn is None:        # a leaf: PyTorch looks for its AccumulateGrad
        if not t._rg:
            raise RuntimeError("It is not possible to get the gradient edge for a Tensor that "
                               "does not require gradients")
        if edge_nodes:
            return edge_nodes
    raise RuntimeError(f"Expected use_count of {name} to be 1 or 2 with an AccumulateGrad node "
                       f"but got {use_count} make sure you are not holding references to the "
                       f"tensor in other places.")


def _repoint_views(t1: Tensor, t2: Tensor) -> None:
    """A view's base lists it by a weak reference: after the swap it is the other object."""
    bases = {id(b): b for b in (t1.__dict__.get("_base"), t2.__dict__.get("_base"))
             if b is not None}
    for base in bases.values():
        views = base.__dict__.get("_views")
        if views:
            views[:] = [weakref.ref(t2) if r() is t1 else weakref.ref(t1) if r() is t2 else r
                        for r in views]


def swap_tensors(t1: Any, t2: Any) -> None:
    """Swap the contents of the Tensor objects ``t1`` and ``t2`` (values, dtype, shape, class,
    ``__dict__``, autograd state), keeping each object's identity.

    As PyTorch's: refused when either has a weak reference, when their classes have different
    slots, or when a recorded graph still uses either (saved for backward, viewed); a leaf used
    only as a graph's input is swapped, and a backward through that graph raises.

    Examples
    --------
    >>> import gradkit as gk
    >>> t1, t2 = gk.arange(2), gk.arange(3)
    >>> gk.utils.swap_tensors(t1, t2)
    >>> t1, t2
    (tensor([0, 1, 2]), tensor([0, 1]))
    """
    for t in (t1, t2):
        if not isinstance(t, Tensor):
            raise AttributeError(f"'{type(t).__name__}' object has no attribute '_use_count'")
    if _own_weakrefs(t1):
        raise RuntimeError("Cannot swap t1 because it has weakref associated with it")
    if _own_weakrefs(t2):
        raise RuntimeError("Cannot swap t2 because it has weakref associated with it")
    slots1 = set(copyreg._slotnames(type(t1)))  # type: ignore[attr-defined]
    slots2 = set(copyreg._slotnames(type(t2)))  # type: ignore[attr-defined]
    if slots1 != slots2:
        raise RuntimeError("Cannot swap t1 and t2 if they have different slots")
    poison1 = _check_use_count(t1, "t1")
    poison2 = _check_use_count(t2, "t2")
    if poison1:
        _poison(t1, poison1)
    if poison2:
        _poison(t2, poison2)
    c1, c2 = type(t1), type(t2)
    if c1 is not c2:
        t1.__class__, t2.__class__ = c2, c1
    t1.__dict__, t2.__dict__ = t2.__dict__, t1.__dict__
    missing = object()
    for slot in slots1:
        if slot in ("__dict__", "__weakref__"):
            continue
        v1, v2 = getattr(t1, slot, missing), getattr(t2, slot, missing)
        for t, v in ((t1, v2), (t2, v1)):
            if v is missing:
                if hasattr(t, slot):
                    delattr(t, slot)
            else:
                setattr(t, slot, v)
    _repoint_views(t1, t2)
