"""``PrimNode``: the graph node a table primitive makes, with its backward (the row's VJP
rules on the saved inputs) and the unpacking of what it saved. ``gradkit.ops._registry``
re-exports it; import it from there."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from gradkit._core import backend as _backend
from gradkit._core.graph import Meta, Node, freed_error, version_error
from gradkit._core.tensor import Tensor, _make

from gradkit._core.dtype import BF16_NP as _BF16

from . import _saved
from ._registry import ZERO


def _f32(a: Any) -> Any:
    if isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind == "V":
        return a.astype(np.float32)
    return a


def _rule_f32(rule: Any, g: Any, ans: Any, inputs: Sequence[Any], params: Any, i: Any) -> Any:
    """A VJP rule of a bfloat16 op run as PyTorch's CPU backward kernels do: in float32, each
    gradient rounded once to bfloat16 (``tanh``'s ``g * (1 - y**2)``, softmax's, layer_norm's).
    A gradient still to be summed to its input's shape (a broadcast input) stays float32: the
    engine sums it and rounds the sum (input ``i``, or all for a ``vjp_all`` rule)."""
    g = tuple(_f32(x) for x in g) if type(g) is tuple else _f32(g)
    ans = tuple(_f32(x) for x in ans) if type(ans) is tuple else _f32(ans)
    res = rule(g, ans, *[_f32(x) for x in inputs], **params) if params else \
        rule(g, ans, *[_f32(x) for x in inputs])
    bf = _BF16[0]

    def done(r: Any, x: Any) -> Any:
        if getattr(r, "dtype", None) != np.float32 or np.shape(r) != tuple(getattr(x, "shape", ())):
            return r
        return r.astype(bf)
    if i is None:
        return tuple(done(r, x) for r, x in zip(res, inputs))
    return done(res, inputs[i])


def _bf16_grad(g: Any) -> bool:
    if type(g) is tuple:
        return any(getattr(getattr(x, "dtype", None), "kind", None) == "V" for x in g)
    return getattr(getattr(g, "dtype", None), "kind", None) == "V"


class PrimNode(Node):
    """A node made by a table primitive."""

    # NOTE: ``consts`` (set only when an input is a constant: a number or a tensor that does not
    # require grad) outlives ``_release``, so ``autograd.explain`` can replay the forward after
    # backward; a tensor of more than ``_KEEP`` elements is held weakly (see ``_kept``). It is
    # a tuple by input position; ``const1`` is a binary op's second operand when it is not a
    # Tensor (a number), stored alone because that is the common, per-op-cost-sensitive case.
    __slots__ = ("prim", "params", "args", "vers", "ans", "site", "consts", "const1")
    ans_vc: list[int] | None = None
    ans_v = 0
    cast: Any = None
    #: the output's tangents (forward mode), so a double backward through a dual sees them
    ans_fw: Any = None

    def __getattr__(self, attr: str) -> Any:
        # only reached for names the node does not have: PyTorch's _saved_* and _raw_saved_*
        if attr.startswith("_saved_") or attr.startswith("_raw_saved_"):
            return _saved.saved_attr(self, attr)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(_saved.saved_names(self)))

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """As PyTorch shows them: an input the row gives no gradient (a ``where`` condition, a
        mask) has no slot, nor has a number in a node of a ``scalar_variants`` name (PyTorch's
        Scalar overloads: ``masked_fill(mask, 0.0)``, ``MulBackward1``); a NotImplemented node
        keeps only the inputs that require grad."""
        out = Node.next_functions.fget(self)  # type: ignore[attr-defined]
        prim = self.prim
        if type(self).__name__ == "NotImplemented":
            # PyTorch's node for a refused derivative (floor_divide) has edges only to the
            # inputs that require grad
            return tuple(slot for slot in out if slot[0] is not None)
        scalar = bool(prim.scalar_variants) and \
            prim.node_classes.index(type(self)) in prim.scalar_variants
        if prim.vjp_all is not None or (not scalar and None not in prim.vjp):
            return out
        keep = []
        for i, slot in enumerate(out):
            if i < len(prim.vjp) and prim.vjp[i] is None:
                continue
            if scalar and slot[0] is None and not self._tensor_input(i):
                continue
            keep.append(slot)
        return tuple(keep)

    def _tensor_input(self, i: int) -> bool:
        """Whether input ``i`` (one without an edge) was a Tensor rather than a number."""
        if self.args is not None:
            return isinstance(self.args[i], Tensor)
        consts = getattr(self, "consts", None)
        if consts is not None:
            c = consts[i]
            return not isinstance(c, (int, float, complex, bool, np.generic))
        return False

    def _register_saved_hooks(self, name: str, pack: Callable[..., Any],
                              unpack: Callable[..., Any]) -> None:
        _saved.register_saved_hooks(self, name, pack, unpack)

    def _backward(self, grads: list[Any], create_graph: bool) -> Sequence[Any]:
        prim = self.prim
        args = self.args
        if (prim.save_inputs and args is None) or (prim.save_ans and self.ans is None):
            raise freed_error(self)
        g = grads[0] if prim.n_out == 1 else tuple(grads)
        bf = _BF16[0] is not None and not create_graph and not prim.bf16_native and _bf16_grad(g)
        if args is None:
            inputs = self._shapes(create_graph, g) if prim.reads_inputs else \
                (None,) * len(self.next)
        elif create_graph or self.cast is not None:
            inputs = self._unpack_inputs(create_graph)
        elif len(args) == 1 and prim.vjp_all is None and not bf:
            return self._backward1(g, args[0])
        else:
            # NOTE: 0-d values are unpacked as NumPy scalars, whose arithmetic is ~10x cheaper
            # than 0-d arrays'.
            inputs = []
            for a, v in zip(args, self.vers):
                if isinstance(a, Tensor):
                    if a._vc[0] != v:
                        raise version_error(a, self, v, a._vc[0])
                    d = a._data
                    inputs.append(d[()] if d.ndim == 0 else d)
                else:
                    inputs.append(a)
        if not prim.save_ans:
            ans = None
        elif create_graph or self.ans_vc is not None and self.ans_vc[0] != self.ans_v:
            ans = self._unpack_ans(create_graph)
        else:
            ans = self.ans
            if prim.n_out == 1 and ans.ndim == 0:
                ans = ans[()]
        params = self.params
        if prim.vjp_all is not None:
            if bf:
                res = _rule_f32(prim.vjp_all if prim.bf16_vjp is None else prim.bf16_vjp, g, ans,
                                inputs, params, None)
            else:
                res = prim.vjp_all(g, ans, *inputs, **params) if params else \
                    prim.vjp_all(g, ans, *inputs)
            return [None if e is None else r for e, r in zip(self.next, res)]
        out = []
        rules = prim.vjp if not bf or prim.bf16_vjp is None else prim.bf16_vjp
        for i, (edge, rule, x) in enumerate(zip(self.next, rules, inputs)):
            if edge is None or rule is None:
                out.append(None)
            elif rule is ZERO:
                out.append(_zeros(x, create_graph, g))
            elif bf:
                out.append(_rule_f32(rule, g, ans, inputs, params, i))
            elif params:
                out.append(rule(g, ans, *inputs, **params))
            else:
                out.append(rule(g, ans, *inputs))
        return out

    def _backward1(self, g: Any, a: Any) -> Sequence[Any]:
        """The common case of ``_backward``: one saved input, plain (ndarray) mode."""
        edge = self.next[0]
        rule = self.prim.vjp[0]
        if edge is None or rule is None:
            return (None,)
        if not isinstance(a, Tensor):
            x = a
        else:
            v = self.vers[0]
            if a._vc[0] != v:
                raise version_error(a, self, v, a._vc[0])
            x = a._data
            if x.ndim == 0:
                x = x[()]
        if rule is ZERO:
            return (_zeros(x, False, g),)
        ans = None
        if self.prim.save_ans:
            if self.ans_vc[0] != self.ans_v:
                return self._backward_checked(g)
            ans = self.ans
            if ans.ndim == 0:
                ans = ans[()]
        params = self.params
        return (rule(g, ans, x, **params) if params else rule(g, ans, x),)

    def _backward_checked(self, g: Any) -> Sequence[Any]:
        self._unpack_ans(False)                   # raises the version error
        return (None,)

    def _shapes(self, create_graph: bool, g: Any) -> list[Any]:
        """Stand-ins with ``shape``/``dtype`` for inputs whose values the rule does not need."""
        meta = self.meta
        if meta is None:                   # every input is shaped like the output
            m = Meta(tuple(g.shape), g._data.dtype if create_graph else g.dtype)
            return [m] * len(self.next)
        return [Meta(s, d) if s is not None else None for s, d in meta]

    def _unpack_inputs(self, create_graph: bool) -> list[Any]:
        args = self.args
        vers = self.vers
        cast = self.cast
        out = []
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                if a._vc[0] != vers[i]:
                    raise version_error(a, self, vers[i], a._vc[0])
                if create_graph:
                    out.append(a if cast is None or a._data.dtype == cast else a.to(cast))
                else:
                    d = a._data
                    out.append(d if cast is None or d.dtype == cast else d.astype(cast))
            else:
                out.append(a)
        return out

    def _unpack_ans(self, create_graph: bool) -> Any:
        ans = self.ans
        if self.ans_vc is not None and self.ans_vc[0] != self.ans_v:
            t = _make(ans if self.prim.n_out == 1 else ans[0], True, self)
            t._vc = self.ans_vc
            raise version_error(t, self, self.ans_v, self.ans_vc[0])
        if not create_graph:
            return ans
        fw = self.ans_fw
        if self.prim.n_out == 1:
            t = _make(ans, True, self)
            if fw is not None:
                t._fw = fw
            return t
        outs = []
        for i, a in enumerate(ans):
            t = _make(a, a.dtype.kind in "fcV", self if a.dtype.kind in "fcV" else None)
            t._oi = i
            if fw is not None and fw[i] is not None:
                t._fw = fw[i]
            outs.append(t)
        return tuple(outs)

    def _release(self) -> None:
        self.args = None
        if self.prim.n_out == 1:
            self.ans = None


def _zeros(x: Any, create_graph: bool, g: Any) -> Any:
    shape = x.shape
    dtype = x._data.dtype if isinstance(x, Tensor) else x.dtype
    z = _backend.zeros(shape, dtype, g._data if isinstance(g, Tensor) else g)
    return _make(z, False, None) if create_graph else z
