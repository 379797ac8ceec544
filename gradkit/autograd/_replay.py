"""Recomputing what backward freed, for ``explain``: replay the recorded forward from the leaves
that are still alive (see :mod:`gradkit.autograd._explain`). A leaf or constant modified in
place since the forward is reported (cause ``'modified'``); what cannot be recomputed raises
``_Unrecoverable`` with the reason.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from gradkit._core.tensor import Tensor
from gradkit._core.sites import at
from gradkit._core.graph import ConstRef, Meta, op_name
from gradkit._core.sites import last_bump
from gradkit._core.tensor import _make
from gradkit.autograd._names import _name_of


def _consts(node: Any) -> tuple[Any, ...] | None:
    """The node's constant inputs by position (``None`` where an input has an edge)."""
    c = getattr(node, "consts", None)
    if c is not None:
        return c
    c = getattr(node, "const1", _MISSING)  # a binary op's number (see ops._registry.apply2)
    return None if c is _MISSING else (None, c)


_MISSING = object()


class _Unrecoverable(Exception):
    """A value the explanation needs cannot be recomputed; ``cause`` and a sentence say why."""

    def __init__(self, cause: str, reason: str, node: Any = None) -> None:
        super().__init__(reason)
        self.cause = cause
        self.reason = reason
        self.node = node


def _released(node: Any) -> bool:
    """Whether backward freed values that this node's derivative rule needs."""
    prim = getattr(node, "prim", None)
    if prim is None:
        ctx = getattr(node, "ctx", None)           # a custom Function's node
        return bool(ctx._freed) if ctx is not None else bool(node.released)
    return (prim.save_inputs and node.args is None) or (prim.save_ans and node.ans is None)


def _modified(t: Tensor, what: str, unsure: bool = False) -> _Unrecoverable:
    bump = last_bump(t._vc)
    how = f"by `{bump[0]}`{at(bump[1])}" if bump is not None else "in place"
    if unsure:
        return _Unrecoverable("modified", f"{what} was modified {how}, and the graph did not "
                              "record its version, so whether the forward saw its current values "
                              "cannot be told (and the input has no .grad to check a replay "
                              "against); backward() freed the values the graph had saved")
    return _Unrecoverable("modified", f"{what} was modified {how} after the forward pass, and "
                          "backward() freed the values the graph had saved, so the forward cannot "
                          "be replayed with the values it saw")


class _Replay:
    """Forward values of a graph whose saved values were freed, recomputed from its leaves.

    Outputs are memoised per node; a node whose values are still saved is read directly.
    """

    def __init__(self, order: list[Any]) -> None:
        self.memo: dict[Any, tuple[Any, ...]] = {}
        self.ghosts: dict[Any, Any] = {}
        self.ctxs: dict[Any, Any] = {}
        #: id(tensor) -> the version a node recorded for it in the forward (saving nodes do)
        self.seen: dict[int, int] = {}
        #: (tensor, description) of inputs modified at some time, version at forward unknown
        self.unsure: list[tuple[Tensor, str]] = []
        for node in order:
            vers = getattr(node, "vers", None)
            if vers is None:
                continue
            consts = _consts(node)
            for i, (edge, v) in enumerate(zip(node.next, vers)):
                if edge is None and consts is not None:
                    edge = consts[i]
                if isinstance(edge, Tensor):
                    self.seen.setdefault(id(edge), v)

    def _check(self, t: Tensor, version: int | None, what: str) -> Any:
        """``t``'s values, if they are the ones the forward saw as far as versions tell."""
        if version is None:
            version = self.seen.get(id(t))
        cur = t._vc[0]
        if version is None:
            if cur != 0:
                self.unsure.append((t, what))    # checked against input.grad in the end
        elif cur != version:
            raise _modified(t, what)
        return t._data

    def _leaf(self, t: Tensor, version: int | None) -> Any:
        return self._check(t, version, _name_of(t, "a leaf tensor of the graph"))

    def _const(self, c: Any, node: Any, i: int = -1) -> Any:
        what = f"a constant input of `{op_name(node)}`"
        if isinstance(c, Tensor):
            vers = getattr(node, "vers", None)
            return self._check(c, vers[i] if vers is not None and i >= 0 else None,
                               _name_of(c, what))
        if type(c) is weakref.ref:
            t = c()
            if t is not None and not isinstance(t, Tensor):
                return t                          # a large ndarray argument
            if t is not None:
                vers = getattr(node, "vers", None)
                return self._check(t, vers[i] if vers is not None else None, _name_of(t, what))
            out = self._from_breaks(node, i)
            if out is not None:
                return out
        elif type(c) is ConstRef:
            t = c.keep if c.keep is not None else c.ref()
            if t is not None:
                if t._vc[0] != c.version:
                    raise _modified(t, _name_of(t, what))
                return t._data
            fn = c.edge[0]() if c.edge is not None else None
            if fn is not None:
                return self.outputs(fn)[c.edge[1]]
            out = self._recipe(c.why, (c.shape, c.dtype), node)
            if out is not None:
                return out
        else:
            return c
        raise _Unrecoverable("freed", f"{what}{at(getattr(node, 'site', None))} (a tensor that "
                             "does not require grad) has been garbage-collected and cannot be "
                             "recomputed", node)

    def _recipe(self, why: Any, expected: tuple[Any, Any], node: Any) -> Any:
        recipe = why.recipe if why is not None else None
        if recipe is None:
            return None
        prim, params, inputs = recipe
        vals = [self._const(a, node) for a in inputs]
        with np.errstate(all="ignore"):
            out = np.asarray(prim.fwd(*vals, **params) if params else prim.fwd(*vals))
        return out if (out.shape, out.dtype) == expected else None

    def _from_breaks(self, node: Any, i: int) -> Any:
        """A garbage-collected constant recomputed from a ``Why`` recipe (a mask ``x > 0``)."""
        if node.meta is not None:
            expected = node.meta[i]
        else:                                     # every input is shaped like the output
            e = next(e for e in node.next if e is not None)
            v = self.outputs(e[0])[e[1]] if type(e) is tuple else e._data
            expected = (np.shape(v), np.asarray(v).dtype)
        for why in node.breaks:
            out = self._recipe(why, expected, node)
            if out is not None:
                return out
        return None

    def inputs(self, node: Any) -> list[Any]:
        """The values the node's forward saw, in argument order."""
        prim = getattr(node, "prim", None)
        if prim is None and getattr(node, "fn_cls", None) is None:
            raise _Unrecoverable("freed", f"`{node.name()}` is neither a table primitive nor a "
                                 "custom Function, so its forward cannot be replayed", node)
        args = node.args if prim is not None else None
        if args is not None and not any(type(a) is Meta for a in args):
            vals = []
            for a, v in zip(args, node.vers):
                if isinstance(a, Tensor):
                    if a._vc[0] != v:
                        raise _modified(a, _name_of(a, f"an input of `{op_name(node)}`"))
                    vals.append(a._data)
                else:
                    vals.append(a)
            return vals
        consts = _consts(node)
        vers = getattr(node, "vers", None)
        vals = []
        for i, edge in enumerate(node.next):
            if type(edge) is tuple:
                vals.append(self.outputs(edge[0])[edge[1]])
            elif edge is not None:
                vals.append(self._leaf(edge, vers[i] if vers is not None else None))
            elif consts is not None:
                vals.append(self._const(consts[i], node, i))
            else:
                raise _Unrecoverable("freed", f"an input of `{op_name(node)}`"
                                     f"{at(getattr(node, 'site', None))} that does not require "
                                     "grad was not recorded", node)
        return vals

    def outputs(self, node: Any) -> tuple[Any, ...]:
        """The node's forward outputs (recomputed once)."""
        out = self.memo.get(node)
        if out is not None:
            return out
        prim = getattr(node, "prim", None)
        if prim is None:
            return self._function_outputs(node)
        if not _released(node) and prim.save_ans and \
                (node.ans_vc is None or node.ans_vc[0] == node.ans_v):
            res = node.ans if prim.n_out != 1 else (node.ans,)
        else:
            vals = self.inputs(node)
            cast = getattr(node, "cast", None)
            if cast is not None:
                vals = [v.astype(cast) if isinstance(v, np.ndarray) and v.dtype != cast else v
                        for v in vals]
            params = node.params
            with np.errstate(all="ignore"):
                res = prim.fwd(*vals, **params) if params else prim.fwd(*vals)
            res = tuple(np.asarray(r) for r in res) if prim.n_out != 1 else (np.asarray(res),)
        self.memo[node] = res
        return res

    def _function_outputs(self, node: Any) -> tuple[Any, ...]:
        """Run a custom Function's forward again (a fresh ctx) on recomputed inputs."""
        from .function import _run_forward
        args = _as_args(node, self.inputs(node))
        ctx, out, _ = _run_forward(node.fn_cls, tuple(args), getattr(node, "kwargs", None) or {})
        outs = out if isinstance(out, tuple) else (out,)
        res = tuple(np.asarray(o._data if isinstance(o, Tensor) else o) for o in outs)
        self.memo[node] = res
        self.ctxs[node] = ctx
        return res

    def ghost(self, node: Any) -> Any:
        """``node`` itself if its values are saved, else a copy holding recomputed values."""
        if not _released(node):
            return node
        g = self.ghosts.get(node)
        if g is not None:
            return g
        prim = getattr(node, "prim", None)
        g = type(node)()
        if prim is None:                          # a custom Function: a fresh ctx
            self.outputs(node)
            g.ctx = self.ctxs[node]
            g.fn_cls = node.fn_cls
            g.n_out = node.n_out
            g.out_meta = node.out_meta
            g.ans = None
            g.next = node.next
            g.meta = node.meta
            self.ghosts[node] = g
            return g
        g.prim = prim
        g.params = node.params
        g.site = node.site
        g.next = node.next
        g.meta = node.meta
        for attr in ("cast", "zero_safe", "post_hooks", "n_out"):
            if attr in node.__dict__:
                setattr(g, attr, node.__dict__[attr])
        if node.cast is not None:
            g.cast = node.cast
        if prim.save_inputs:
            g.args = tuple(_as_args(node, self.inputs(node)))
            g.vers = (0,) * len(g.args)
        else:
            g.args = None
        outs = self.outputs(node)
        g.ans = outs[0] if prim.n_out == 1 else outs
        g.ans_vc = [0]
        self.ghosts[node] = g
        return g


_TENSORISH = (Tensor, ConstRef, weakref.ref)


def _as_args(node: Any, vals: list[Any]) -> list[Any]:
    """Recomputed input values as the node's forward got them: tensors where it got tensors."""
    consts = _consts(node)
    out = []
    for i, (edge, v) in enumerate(zip(node.next, vals)):
        c = consts[i] if consts is not None else None
        if type(c) is weakref.ref:
            c = c()
            c = c if c is not None else consts[i]        # gone: recomputed from a mask recipe
        if edge is not None or isinstance(c, _TENSORISH):
            out.append(_make(np.asarray(v), edge is not None, None))
        else:
            out.append(v)
    return out
