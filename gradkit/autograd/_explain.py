"""Why is this gradient None, zero or NaN? ``explain(output, input)`` walks the graph and says.

The walk uses what the forward pass left behind: each recorded node's source site,
the :class:`~gradkit._core.sites.Why` marks of tensors whose history was dropped
(``detach``, ``no_grad``, an integer cast, a comparison), the in-place op that made a
node. A private backward pass (nothing accumulates, nothing is freed) follows the
gradient node by node and finds the first node whose backward produced NaN/inf, or where
a non-zero gradient became zero.

After ``backward()`` has freed the saved values, that pass runs on values recomputed by
replaying the recorded forward from the leaves that are still alive: each table node
keeps its structure (op, parameters, edges, source site) and its constant inputs (numbers
strongly; tensors weakly, with their version and, for a mask such as ``x > 0``, how to
recompute it), so nothing big outlives the graph's saved values. A leaf or constant
modified in place since the forward is reported (cause ``'modified'``), never replayed
with its new values; what cannot be recomputed is reported as ``'freed'``, with the reason. The replay is
in :mod:`gradkit.autograd._replay`.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from gradkit._core.tensor import Tensor
from gradkit._core.sites import at
from gradkit._core.graph import ConstRef, op_name
from gradkit._core.grad_mode import _state
from gradkit.autograd._causes import (Explanation, _not_watched, _root_cause, _why_explanation,
                                      no_grad_fn_cause)
from gradkit.autograd._names import _loc, _name_of
from gradkit.autograd._replay import _consts, _modified, _released, _Replay, _Unrecoverable

__all__ = ["Explanation", "explain", "no_grad_fn_cause"]

#: ops whose derivative is zero almost everywhere
_PIECEWISE = {"floor", "ceil", "round", "trunc", "sign", "fix"}


# --- the graph ---------------------------------------------------------------------------
def _walk(root: Any) -> tuple[list[Any], dict[Any, Any]]:
    """Nodes reachable from ``root`` (breadth first) and, for each, the node that reached it."""
    parent: dict[Any, Any] = {root: None}
    order = [root]
    i = 0
    while i < len(order):
        node = order[i]
        i += 1
        for edge in node.next:
            if type(edge) is tuple and edge[0] not in parent:
                parent[edge[0]] = node
                order.append(edge[0])
    return order, parent


def _path(node: Any, parent: dict[Any, Any]) -> list[str]:
    out = []
    while node is not None:
        out.append(node.name())
        node = parent.get(node)
    return out[::-1]


def _target(x: Tensor) -> Any:
    return (x._fn, x._oi) if x._fn is not None else x


def _hits(edge: Any, target: Any) -> bool:
    """Whether a graph edge is the target (a leaf tensor, or a ``(node, index)`` pair)."""
    return edge is target or (type(edge) is tuple and type(target) is tuple and
                              edge[0] is target[0] and edge[1] == target[1])


def _needed(order: list[Any], target: Any) -> set[Any]:
    """Nodes from which ``target`` can be reached."""
    needed: set[Any] = set()
    changed = True
    while changed:
        changed = False
        for node in order:
            if node in needed:
                continue
            for edge in node.next:
                if _hits(edge, target) or (type(edge) is tuple and edge[0] in needed):
                    needed.add(node)
                    changed = True
                    break
    return needed


def _source_reaches(why: Any, x: Tensor) -> bool:
    src = why.source() if why.source is not None else None
    if src is None:
        return False
    if src is x:
        return True
    if src._fn is None:
        return False
    order, _ = _walk(src._fn)
    return bool(_needed(order, _target(x)))


def explain(output: Tensor, input: Tensor, *, tape: Any = None) -> Explanation:
    """Why ``input`` gets no gradient, a zero gradient or a NaN/inf gradient from ``output``.

    Parameters
    ----------
    output : Tensor
        What you differentiate (a loss). Before or after ``backward()``: values that
        backward freed are recomputed from the leaves (cause ``'modified'`` if a leaf
        changed in place since the forward).
    input : Tensor
        The tensor whose gradient looks wrong.
    tape : GradientTape, optional
        With a tape, an unwatched ``input`` is reported as such.

    Returns
    -------
    Explanation
        ``cause``, a plain-sentence ``message`` with the source location, ``location``,
        ``op`` and ``path``.

    Examples
    --------
    >>> x = gk.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x.detach() * 2
    >>> gk.autograd.explain(y.sum(), x).cause
    'detach'
    """
    out_name = _name_of(output, "the output")
    in_name = _name_of(input, "the input")
    if tape is not None and not tape._is_watched(input):
        return _not_watched(input)
    if not output._rg:
        e = _root_cause(output, out_name, input, tape)
        if e.cause == "not_requires_grad" and not input._rg:
            e.message = (f"{in_name} does not require grad, so nothing computed from it is "
                         f"recorded: create it with requires_grad=True. " + e.message)
        return e
    if not input._rg:
        return Explanation("not_requires_grad", f"{in_name} does not require grad: create it "
                           "with requires_grad=True (or call .requires_grad_()) before computing "
                           f"{out_name} from it.")
    if output._fn is None:
        if output is input:
            return Explanation("ok", f"{out_name} is {in_name} itself: its gradient is 1.")
        return Explanation("unused", f"{out_name} is a leaf: it does not depend on {in_name}.")
    order, parent = _walk(output._fn)
    target = _target(input)
    needed = _needed(order, target)
    if not needed:
        return _unconnected(order, parent, input, out_name, in_name)
    return _follow(output, order, parent, needed, target, in_name)


def _unconnected(order: list[Any], parent: dict[Any, Any], x: Tensor, out_name: str,
                 in_name: str) -> Explanation:
    found = []
    for node in order:
        for why in node.breaks:
            found.append((node, why))
        for a in getattr(node, "args", None) or ():
            if isinstance(a, Tensor) and a._why is not None and not a._rg:
                found.append((node, a._why))
        for c in _consts(node) or ():   # kept after backward freed ``args``
            if type(c) is weakref.ref:
                c = c()
            why = c.why if type(c) is ConstRef else getattr(c, "_why", None) \
                if isinstance(c, Tensor) else None
            if why is not None and why not in node.breaks:
                found.append((node, why))
    for node, why in found:
        if _source_reaches(why, x):
            return _why_explanation(why, f"the path from {in_name} to {out_name}",
                                    _path(node, parent))
    if found:
        node, why = found[0]
        e = _why_explanation(why, f"an input of `{op_name(node)}`{at(getattr(node, 'site', None))}",
                             _path(node, parent))
        e.message = f"{out_name} does not depend on {in_name} through the graph. Likely cause: " \
            + e.message
        return e
    return Explanation("unused", f"{out_name} does not depend on {in_name}: no recorded operation "
                       f"connects them (was {in_name} used at all, or replaced by a new tensor "
                       "with the same name?).")


# --- following the gradient ---------------------------------------------------------------
def _stats(g: Any) -> tuple[bool, bool]:
    """(has non-finite, all zero) of a gradient."""
    if g is None:
        return False, True
    a = np.asarray(g._data if isinstance(g, Tensor) else g)
    if a.dtype.kind not in "fcV":
        return False, not a.any()
    return bool(not np.isfinite(a).all()), not a.any()


def _follow(output: Tensor, order: list[Any], parent: dict[Any, Any], needed: set[Any],
            target: Any, in_name: str) -> Explanation:
    from . import engine
    seed = np.ones(output._data.shape, dtype=output._data.dtype)
    buffers: dict[Any, list[Any]] = {output._fn: [None] * output._fn.n_out}
    buffers[output._fn][output._oi] = seed[()] if seed.ndim == 0 else seed
    deps: dict[Any, int] = {}
    for node in order:
        for edge in node.next:
            if type(edge) is tuple:
                deps[edge[0]] = deps.get(edge[0], 0) + 1
    ready = [output._fn]
    first_bad = vanished = None
    total = None
    replay = _Replay(order) if any(_released(n) for n in needed) else None
    prev = _state.grad_enabled, _state.anomaly
    _state.grad_enabled = False
    _state.anomaly = False                    # explain reports a NaN, it does not raise on one
    try:
        with np.errstate(all="ignore"):
            while ready:
                node = ready.pop()
                buf = buffers.pop(node, None)
                grads_in: Any = None
                if buf is not None and node in needed and any(g is not None for g in buf):
                    try:
                        run = replay.ghost(node) if replay is not None else node
                        grads_in = engine._call_node(run, buf, False)
                    except _Unrecoverable as exc:
                        return _freed(exc.node or node, parent, in_name, exc)
                    except RuntimeError as exc:
                        if "second time" in str(exc):
                            return _freed(node, parent, in_name, None)
                        raise
                    bad_in = any(_stats(g)[0] for g in buf)
                    zero_in = all(_stats(g)[1] for g in buf)
                    outs = [g for e, g in zip(node.next, grads_in)
                            if e is not None and g is not None and (_hits(e, target) or (
                                type(e) is tuple and e[0] in needed))]
                    if first_bad is None and not bad_in and any(_stats(g)[0] for g in outs):
                        first_bad = (node, buf, grads_in)
                    if vanished is None and not zero_in and outs and all(_stats(g)[1] for g in outs):
                        vanished = node
                for i, edge in enumerate(node.next):
                    g = grads_in[i] if grads_in is not None else None
                    if g is not None and edge is not None and node.meta is not None:
                        g = engine._reduce(g, node.meta[i], False)
                    if _hits(edge, target):
                        if g is not None:
                            total = g if total is None else total + g
                    if type(edge) is tuple:
                        child = edge[0]
                        if g is not None:
                            cb = buffers.setdefault(child, [None] * child.n_out)
                            cb[edge[1]] = g if cb[edge[1]] is None else cb[edge[1]] + g
                        deps[child] -= 1
                        if deps[child] == 0:
                            ready.append(child)
    finally:
        _state.grad_enabled, _state.anomaly = prev
    bad, zero = _stats(total)
    if bad and first_bad is not None:
        e = _nan_explanation(first_bad, order, parent, in_name)
    elif zero:
        e = _zero_explanation(vanished, parent, in_name, total is None)
    else:
        n = len(needed)
        e = Explanation("ok", f"{in_name} gets a finite, non-zero gradient through {n} recorded "
                        f"operation{'s' if n != 1 else ''}.")
    if replay is not None:
        if type(target) is not tuple and target._grad is not None:
            return _check_against_grad(e, target, total, in_name, replay.unsure)
        if replay.unsure:
            t, what = replay.unsure[0]
            return _freed(output._fn, parent, in_name, _modified(t, what, unsure=True))
    return e


def _check_against_grad(e: Explanation, x: Tensor, total: Any, in_name: str,
                        unsure: list[tuple[Tensor, str]]) -> Explanation:
    """A replayed explanation whose gradient disagrees with ``x.grad`` is not trusted silently.

    ``.data`` changes no version counter, so a leaf changed through it since the forward is
    caught here (as is a ``.grad`` that holds more than this output's backward).
    """
    g = x._grad
    if g is None:
        return e
    got = np.asarray(g._data)
    mine = np.zeros_like(got) if total is None else np.broadcast_to(np.asarray(total), got.shape)
    tol = 1e-4 if got.dtype in (np.float16, np.float32, np.complex64) else 1e-9
    with np.errstate(all="ignore"):
        same = np.allclose(mine, got, rtol=tol, atol=tol, equal_nan=True)
    if same:
        return e
    if unsure:
        from gradkit._core.sites import last_bump
        t, what = unsure[0]
        bump = last_bump(t._vc)
        how = f"by `{bump[0]}`{at(bump[1])}" if bump is not None else "in place"
        return Explanation("modified", f"The gradient of {in_name} cannot be followed again: "
                           f"{what} was modified {how}, and the gradient recomputed with its "
                           f"current values differs from {in_name}.grad, so the forward saw other "
                           "values (backward() freed the ones the graph had saved). Call "
                           "gradkit.autograd.explain(loss, x) before changing the tensor (before "
                           "optimizer.step()), or recompute the loss.", e.location, e.op, e.path)
    name = in_name.strip("`")
    return Explanation("unverified", f"{in_name}.grad differs from the gradient recomputed from "
                       "the tensors' current values, so this explanation cannot be trusted: the "
                       "values the forward saw may have changed without a version bump (an "
                       f"assignment to or through `{name}.data`), or {in_name}.grad holds more than "
                       "this output's backward (several backward() calls, another output, a zeroed "
                       "or replaced .grad). Call gradkit.autograd.explain(loss, x) before "
                       "backward() for a certain answer. Recomputed, it would say: " + e.message,
                       e.location, e.op, e.path)


def _freed(node: Any, parent: dict[Any, Any], in_name: str, exc: Any) -> Explanation:
    s = getattr(node, "site", None)
    if exc is not None and exc.cause == "modified":
        return Explanation("modified", f"The gradient of {in_name} cannot be followed again: "
                           f"{exc.reason}. Call gradkit.autograd.explain(loss, x) before changing "
                           "the tensor (before optimizer.step()), or recompute the loss.",
                           _loc(s), op_name(node), _path(node, parent))
    why = f" ({exc.reason})" if exc is not None else ""
    return Explanation("freed", f"The graph's saved values were freed by backward() and cannot "
                       f"be recomputed{why}, so the gradient of {in_name} cannot be followed "
                       "again. Call gradkit.autograd.explain(loss, x) before backward(), or "
                       f"backward with retain_graph=True while debugging. First freed node: "
                       f"{node.name()}{at(s)}.", _loc(s), op_name(node), _path(node, parent))


def _nan_explanation(first: tuple[Any, Any, Any], order: list[Any], parent: dict[Any, Any],
                     in_name: str) -> Explanation:
    node, buf, grads_in = first
    s = getattr(node, "site", None)
    kind = "nan" if any(_has_nan(g) for g in grads_in) else "inf"
    zero_g = all(_zero_where_bad(g, grads_in) for g in buf if g is not None)
    msg = (f"The gradient of {in_name} contains {'NaN' if kind == 'nan' else 'inf'}. It first "
           f"appeared in the backward of `{op_name(node)}` ({node.name()}){at(s)}: the incoming "
           "gradient was finite there")
    masker = _masking_where(node, parent) if zero_g else None
    if masker is not None:
        ms = getattr(masker, "site", None)
        msg += (f", but zero, and 0 * {'NaN' if kind == 'nan' else 'inf'} is "
                f"{'NaN' if kind == 'nan' else 'NaN'}. The zero comes from the branch of "
                f"`where`{at(ms)} that was not selected: its forward value is not finite at "
                "those elements even though it is never used. Use "
                "gradkit.where(cond, a, b, safe=True), or make the unselected input safe before "
                "the op (the double-where trick: sqrt(where(x > 0, x, 1.0))).")
        return Explanation("where_branch", msg, _loc(s), op_name(node), _path(node, parent))
    msg += (f", and `{op_name(node)}`'s derivative is not finite at this input (sqrt/log/pow "
            "at 0, division by 0, overflow). Keep the input away from the singular point "
            "(add an epsilon, clamp) or mask it before the op.")
    return Explanation(kind, msg, _loc(s), op_name(node), _path(node, parent))


def _has_nan(g: Any) -> bool:
    if g is None:
        return False
    a = np.asarray(g._data if isinstance(g, Tensor) else g)
    return a.dtype.kind in "fcV" and bool(np.isnan(a).any())


def _zero_where_bad(g: Any, grads_in: Any) -> bool:
    """Whether the incoming gradient is zero at every element where an outgoing one is bad."""
    a = np.asarray(g)
    for out in grads_in:
        if out is None:
            continue
        o = np.asarray(out)
        if o.shape != a.shape:
            return bool(not a.any())
        bad = ~np.isfinite(o)
        if bad.any() and np.any(a[bad] != 0):
            return False
    return True


def _masking_where(node: Any, parent: dict[Any, Any]) -> Any:
    """The ``where`` node above ``node`` (through up to a few elementwise ops), if any."""
    p = parent.get(node)
    for _ in range(8):
        if p is None:
            return None
        if getattr(getattr(p, "prim", None), "name", None) == "where":
            return p
        p = parent.get(p)
    return None


def _zero_explanation(node: Any, parent: dict[Any, Any], in_name: str,
                      none: bool) -> Explanation:
    if node is None:
        return Explanation("zero", f"The gradient of {in_name} is zero: the gradient reaching the "
                           "output is already zero.")
    s = getattr(node, "site", None)
    name = op_name(node)
    path = _path(node, parent)
    op = _inplace_op(node, parent)
    if op is not None:
        return Explanation("replaced_in_place", f"The gradient of {in_name} is zero: its value "
                           f"was replaced in place by `{op}`{at(s)}, so the result no "
                           "longer depends on it. Write the new value to a new tensor instead.",
                           _loc(s), op, path)
    prim = getattr(node, "prim", None)
    if name in _PIECEWISE or (prim is not None and all(str(r) == "ZERO" for r in prim.vjp)):
        return Explanation("piecewise_constant", f"The gradient of {in_name} is zero: it went "
                           f"through `{name}`{at(s)}, which is piecewise constant (its derivative "
                           "is 0 almost everywhere). Use a smooth surrogate or a straight-through "
                           "estimator (x + (round(x) - x).detach()).", _loc(s), name, path)
    return Explanation("zero", f"The gradient of {in_name} is zero: it vanished in the backward "
                       f"of `{name}` ({node.name()}){at(s)} (a dead relu, a clamp or max that "
                       "passed no element, a multiplication by zero).", _loc(s), name, path)


def _inplace_op(node: Any, parent: dict[Any, Any]) -> str | None:
    """The in-place op (``fill_``) that made ``node``, or the node above it from the same call."""
    s = getattr(node, "site", None)
    p = node
    while p is not None and (p is node or (s is not None and getattr(p, "site", None) == s)):
        if p.inplace is not None:
            return p.inplace
        p = parent.get(p)
    return None


def grad_explain(t: Tensor) -> Explanation:
    """``Tensor.grad_explain()``: explain this tensor's gradient from the last ``backward()``."""
    roots = [r() for r in (_state.last_roots or ())]
    roots = [r for r in roots if r is not None]
    if not roots:
        return Explanation("unknown", "No backward() has run in this thread (or its output was "
                           "garbage-collected): call gradkit.autograd.explain(output, input).")
    e = explain(roots[0], t)
    if e.cause == "freed":
        g = t._grad
        if g is not None and not np.isfinite(g._data).all():
            e.cause = "nan" if np.isnan(g._data).any() else "inf"
            e.message = (f"The gradient contains {'NaN' if e.cause == 'nan' else 'inf'}. " +
                         e.message)
        elif g is not None and not g._data.any():
            e.cause = "zero"
            e.message = "The gradient is zero. " + e.message
    return e
