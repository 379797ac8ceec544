"""Pytrees: nested tuples, lists and dicts of leaves, flattened and rebuilt.

Used by ``gradkit.func`` (its transforms take and return pytrees) and by ``gradkit.compute``.
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["tree_flatten", "tree_unflatten"]


class _Keys(list):
    """A dict's keys, sorted (the leaves' order, as JAX's), with ``order``: the dict's own
    insertion order, in which ``tree_unflatten`` rebuilds it (as ``torch.func`` returns a
    gradient dict). Two structures compare equal whatever the insertion order, as in JAX."""

    order: list[Any]


def tree_flatten(tree: Any) -> tuple[list[Any], Any]:
    """Leaves (anything but tuple/list/dict/None) and a structure for ``tree_unflatten``."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for t in tree:
            lv, sp = tree_flatten(t)
            leaves += lv
            specs.append((len(lv), sp))
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        keys = _Keys(sorted(tree))                # NOTE: JAX orders dict leaves by sorted key
        keys.order = list(tree)
        leaves, specs = tree_flatten([tree[k] for k in keys])
        return leaves, (dict, keys, specs)
    if tree is None:
        return [], None
    return [tree], "*"


def tree_unflatten(spec: Any, leaves: Sequence[Any]) -> Any:
    """Rebuild the structure ``spec`` (from ``tree_flatten``) with new ``leaves``."""
    if spec == "*":
        return leaves[0]
    if spec is None:
        return None
    if spec[0] is dict:
        d = dict(zip(spec[1], tree_unflatten(spec[2], leaves)))
        return {k: d[k] for k in getattr(spec[1], "order", spec[1])}
    out, i = [], 0
    for n, sp in spec[1]:
        out.append(tree_unflatten(sp, leaves[i:i + n]))
        i += n
    return tuple(out) if spec[0] is tuple else out
