"""Batched reverse mode and the one switch between forward-mode AD and the double-VJP trick.

``batched_vjp`` walks a recorded graph once with a *batch* of cotangents (a leading
axis of size B), so a Jacobian costs one forward and one backward walk instead of one
per row. Rules of elementwise primitives broadcast over the extra axis as they are;
shape, reduction and product primitives get a batched rule here; any other node falls
back to running its rule once per row. It works on ndarrays (nothing is recorded), so
callers that need a differentiable result (``create_graph``) loop over rows instead.

``ForwardMode`` is the only place that decides how a JVP is computed: with
``gradkit.autograd.forward_ad`` (dual numbers) when that module exists, else exactly
with two reverse passes (``u -> J^T u`` is linear in ``u``; its VJP with ``v`` is ``J v``).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any, Callable, Sequence

import numpy as np

from gradkit._core import backend as _backend
from gradkit._core import dtype as _dtype
from gradkit._core.backend import as_data
from gradkit._core.tensor import Tensor, _make
from ..ops import shape as S
from ..ops._registry import ELEMENTWISE, ZERO, PrimNode
from .engine import _call_node, _discover, _needed
from .function import TwiceDifferentiatedError
from gradkit._core.grad_mode import _state

__all__ = ["batched_vjp", "ForwardMode", "forward_ad_module"]

#: None: use ``gradkit.autograd.forward_ad`` when it exists; False: always the double-VJP trick
USE_FORWARD_AD: bool | None = None


#: Checks that refuse tensors only vmap's batching rules understand; ``gradkit.func`` adds its
#: own when it loads (before that, no batched tensor exists).
PLAIN_CHECKS: list[Callable[..., None]] = []


def check_plain(*tensors: Any) -> None:
    """Refuse batched tensors where only plain ones work (batched reverse walks, forward mode)."""
    for check in PLAIN_CHECKS:
        check(*tensors)


def _stack(ts: Sequence[Tensor]) -> Tensor:
    """Stack one input's gradient columns (same shape) along a new leading dim."""
    dt = _dtype.result_type(*ts)
    return S.stack_p(*[t if t.dtype is dt else t.to(dt) for t in ts], dim=0)


def forward_ad_module() -> Any:
    """``gradkit.autograd.forward_ad`` if it exists (and is enabled), else None."""
    if USE_FORWARD_AD is False:
        return None
    if importlib.util.find_spec("gradkit.autograd.forward_ad") is None:
        return None
    return importlib.import_module("gradkit.autograd.forward_ad")


# --- batched reverse mode ---------------------------------------------------------------
def _reduce_b(g: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Sum a batched gradient ``(B, *s)`` down to ``(B, *shape)`` (broadcasting undone)."""
    g = as_data(g)
    if g.shape[1:] != shape:
        lead = g.ndim - 1 - len(shape)
        if lead > 0:
            g = g.sum(axis=tuple(range(1, 1 + lead)))
        axes = tuple(i + 1 for i, s in enumerate(shape) if s == 1 and g.shape[i + 1] != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
        if g.shape[1:] != shape:
            g = np.broadcast_to(g, g.shape[:1] + shape)
    if dtype is not None and g.dtype != dtype:
        if g.dtype.kind == "c" and np.dtype(dtype).kind != "c":
            g = g.real                  # a real input's gradient is the real part (PyTorch)
        g = g.astype(dtype)
    return g


def _unreduce_b(g: np.ndarray, shape: tuple[int, ...], dim: Any, keepdim: bool) -> np.ndarray:
    if not keepdim:
        keep = tuple(1 if dim is None or i in dim else s for i, s in enumerate(shape))
        g = g.reshape(g.shape[:1] + keep)
    return np.broadcast_to(g, g.shape[:1] + tuple(shape))


def _rule_reshape(g: Any, ans: Any, xs: Any, p: dict[str, Any]) -> list[Any]:
    return [g.reshape(g.shape[:1] + tuple(xs[0].shape))]


def _rule_identity(g: Any, ans: Any, xs: Any, p: dict[str, Any]) -> list[Any]:
    return [g]                       # expand, clone, to: the reduction and cast do the rest


def _rule_permute(g: Any, ans: Any, xs: Any, p: dict[str, Any]) -> list[Any]:
    inv = np.argsort(p["dims"])
    return [g.transpose((0,) + tuple(int(i) + 1 for i in inv))]


def _rule_sum(g: Any, ans: Any, xs: Any, p: dict[str, Any]) -> list[Any]:
    return [_unreduce_b(g, tuple(xs[0].shape), p.get("dim"), p.get("keepdim", False))]


def _rule_mean(g: Any, ans: Any, xs: Any, p: dict[str, Any]) -> list[Any]:
    shape, dim = tuple(xs[0].shape), p.get("dim")
    n = int(np.prod(shape if dim is None or not shape else [shape[d] for d in dim], dtype=np.int64))
    return [_unreduce_b(g, shape, dim, p.get("keepdim", False)) / n]


def _rule_logsumexp(g: Any, ans: Any, xs: Any, p: dict[str, Any]) -> list[Any]:
    x = xs[0]
    dim, keep = p.get("dim"), p.get("keepdim", False)
    a = _unreduce_b(as_data(ans)[None], x.shape, dim, keep)[0]
    return [_unreduce_b(g, x.shape, dim, keep) * np.exp(x - a)]


def _rule_matmul(g: Any, ans: Any, xs: Any, p: dict[str, Any], need: Any = (True, True)) -> list[Any]:
    x, y = as_data(xs[0]), as_data(xs[1])
    bsz = g.shape[0]
    gx = gy = None
    if x.ndim <= 2 and y.ndim <= 2:
        # Fold the batch into one GEMM: (B*m, n) @ (n, k), not B small products.
        x2 = x[None, :] if x.ndim == 1 else x            # (m, k)
        y2 = y[:, None] if y.ndim == 1 else y            # (k, n)
        m, k, n = x2.shape[0], x2.shape[1], y2.shape[1]
        g3 = g.reshape(bsz, m, n)
        if n == 1:                                       # matrix-vector: plain GEMMs
            g2 = g3.reshape(bsz, m)
            if need[0]:
                gx = (g2[:, :, None] * y2[:, 0]).reshape((bsz,) + x.shape)
            if need[1]:
                gy = (g2 @ x2).reshape((bsz,) + y.shape)
            return [gx, gy]
        if need[0]:
            gx = (g3.reshape(bsz * m, n) @ y2.T).reshape((bsz,) + x.shape)
        if need[1]:
            gt = g3.transpose(1, 0, 2).reshape(m, bsz * n)
            gy = (x2.T @ gt).reshape(k, bsz, n).transpose(1, 0, 2).reshape((bsz,) + y.shape)
        return [gx, gy]
    x2 = x[None, :] if x.ndim == 1 else x
    y2 = y[:, None] if y.ndim == 1 else y
    g2 = g
    if x.ndim == 1:
        g2 = g2[..., None, :]
    if y.ndim == 1:
        g2 = g2[..., None]
    if need[0]:
        gx = _reduce_b(np.matmul(g2, np.swapaxes(y2, -1, -2)), x2.shape, None)
        gx = gx.reshape((bsz,) + x.shape)
    if need[1]:
        gy = _reduce_b(np.matmul(np.swapaxes(x2, -1, -2), g2), y2.shape, None)
        gy = gy.reshape((bsz,) + y.shape)
    return [gx, gy]


def _rule_stack(g: Any, ans: Any, xs: Any, p: dict[str, Any]) -> list[Any]:
    g = as_data(g)
    dim = p.get("dim", 0) % (g.ndim - 1) + 1                  # the batch axis in front
    return [g[(slice(None),) * dim + (i,)] for i in range(len(xs))]


#: the batched rule of each kind; a row names its kind (``defop(..., batched_vjp=...)``, see
#: ``gradkit.ops._registry.BATCHED_VJP_KINDS``; ``"broadcast"`` runs the row's own rules)
_BATCH_RULES: dict[str, Callable[..., list[Any]]] = {
    "reshape": _rule_reshape, "identity": _rule_identity, "permute": _rule_permute,
    "sum": _rule_sum, "mean": _rule_mean, "logsumexp": _rule_logsumexp, "matmul": _rule_matmul,
    "stack": _rule_stack,
}


def _prim_batched(node: PrimNode, g: np.ndarray,
                  live: tuple[bool, ...] | None = None) -> list[Any] | None:
    """The batched rule of a table primitive, or None when it has none (loop instead).

    ``live[i]``: whether input ``i`` leads to a wanted gradient (None: every input with an
    edge); the others get None rather than a batch of gradients nobody reads."""
    prim = node.prim
    kind = prim.batched_vjp
    rule = _BATCH_RULES.get(kind) if kind is not None else None
    if prim.n_out != 1 or node.cast is not None or (prim.vjp_all is not None and rule is None):
        return None
    if (prim.save_inputs and node.args is None) or (prim.save_ans and node.ans is None):
        return None                                  # freed: the per-row path raises
    elementwise = prim.jvp is ELEMENTWISE or kind == "broadcast"
    if rule is None and not elementwise:
        return None
    if node.args is not None:
        inputs = node._unpack_inputs(False)
    else:
        inputs = node._shapes(False, g[0]) if prim.reads_inputs else [None] * len(node.next)
    ans = node._unpack_ans(False) if prim.save_ans else None
    params = node.params or {}
    if live is None:
        live = tuple(e is not None for e in node.next)
    if kind == "matmul":
        return rule(g, ans, inputs, params, live)
    if rule is not None:
        return rule(g, ans, inputs, params)
    out: list[Any] = []
    for want, r, x in zip(live, prim.vjp, inputs):
        if not want or r is None:
            out.append(None)
        elif r is ZERO:
            out.append(_backend.zeros(g.shape[:1] + tuple(x.shape), g.dtype, g))
        else:
            res = as_data(r(g, ans, *inputs, **params))
            if res.ndim != g.ndim or res.shape[0] != g.shape[0]:
                return None
            out.append(res)
    return out


def _rule_unbind(node: Any, buf: list[Any]) -> list[Any] | None:
    """unbind's VJP (a stack of the outputs' gradients, zeros where none came) on a batch."""
    ref = next((b for b in buf if b is not None), None)
    if ref is None or node.params is None:
        return None
    ref = as_data(ref)
    dim = node.params.get("dim", 0) % (ref.ndim) + 1
    return [np.stack([np.zeros_like(ref) if b is None else as_data(b) for b in buf], axis=dim)]


def _node_batched(node: Any, buf: list[Any], bsz: int,
                  live: tuple[bool, ...] | None = None) -> Sequence[Any]:
    if isinstance(node, PrimNode) and not node.special and node.prim.batched_vjp == "unbind" \
            and node.cast is None:
        res = _rule_unbind(node, buf)
        if res is not None:
            return res
    if isinstance(node, PrimNode) and not node.special and buf[0] is not None:
        res = _prim_batched(node, buf[0], live)
        if res is not None:
            return res
    rows = [_call_node(node, [None if b is None else b[k] for b in buf], False) for k in range(bsz)]
    out: list[Any] = []
    for i in range(len(node.next)):
        vals = [r[i] for r in rows]
        ref = next((v for v in vals if v is not None), None)
        if ref is None:
            out.append(None)
            continue
        ref = as_data(ref)
        out.append(np.stack([np.zeros_like(ref) if v is None else as_data(v) for v in vals]))
    return out


def batched_vjp(roots: Sequence[Tensor], seeds: Sequence[np.ndarray],
                inputs: Sequence[Tensor]) -> list[np.ndarray | None]:
    """VJPs of ``roots`` for a batch of cotangents, w.r.t. ``inputs`` (None where unused).

    ``seeds[i]`` has shape ``(B, *roots[i].shape)``; each result ``(B, *inputs[k].shape)``.
    The graph is kept (as with ``retain_graph=True``). JAX's complex convention
    (``set_complex_convention``) conjugates the seeds going in and the results coming out.
    """
    if not _state.complex_conj:
        return _batched_vjp(roots, seeds, inputs)
    res = _batched_vjp(roots, [np.conjugate(s) if s.dtype.kind == "c" else s for s in seeds], inputs)
    return [np.conjugate(g) if g is not None and g.dtype.kind == "c" else g for g in res]


def _batched_vjp(roots: Sequence[Tensor], seeds: Sequence[np.ndarray],
                 inputs: Sequence[Tensor]) -> list[np.ndarray | None]:
    check_plain(*roots, *inputs)
    bsz = int(seeds[0].shape[0])
    buffers: dict[Any, list[Any]] = {}
    leaf_grads: dict[int, Any] = {}
    leaf_ids = {id(t) for t in inputs if t._fn is None}
    out_targets: dict[tuple[Any, int], list[int]] = {}
    for k, t in enumerate(inputs):
        if t._fn is not None:
            out_targets.setdefault((t._fn, t._oi), []).append(k)
    root_nodes: list[Any] = []
    for t, s in zip(roots, seeds):
        s = as_data(s, t._data.dtype)
        if t._fn is None:
            if id(t) in leaf_ids:
                leaf_grads[id(t)] = s if id(t) not in leaf_grads else leaf_grads[id(t)] + s
            continue
        buf = buffers.get(t._fn)
        if buf is None:
            buf = buffers[t._fn] = [None] * t._fn.n_out
            root_nodes.append(t._fn)
        buf[t._oi] = s if buf[t._oi] is None else buf[t._oi] + s
    deps = _discover(root_nodes)
    needed = _needed(root_nodes, deps, leaf_ids, set(out_targets))
    captured: dict[int, Any] = {}
    ready = [n for n in root_nodes if deps.get(n, 0) == 0]
    prev = _state.grad_enabled
    _state.grad_enabled = False
    try:
        with np.errstate(all="ignore"):
            while ready:
                node = ready.pop()
                buf = buffers.pop(node, None)
                grads_in: Sequence[Any] | None = None
                if buf is not None:
                    for oi in range(node.n_out):
                        for k in out_targets.get((node, oi), ()):
                            captured[k] = buf[oi]
                    if node in needed and any(b is not None for b in buf):
                        # NOTE: an edge to a part of the graph that reaches no wanted input
                        # (the first backward's graph under the double-VJP trick) gets nothing
                        live = tuple(e is not None and (e[0] in needed or e in out_targets
                                                        if type(e) is tuple else id(e) in leaf_ids)
                                     for e in node.next)
                        grads_in = _node_batched(node, buf, bsz, live)
                _propagate(node, buf, grads_in, buffers, deps, ready, leaf_grads, leaf_ids)
    finally:
        _state.grad_enabled = prev
    for k, t in enumerate(inputs):
        if t._fn is None and id(t) in leaf_grads:
            captured[k] = leaf_grads[id(t)]
    return [captured.get(k) for k in range(len(inputs))]


def _propagate(node: Any, buf: Any, grads_in: Any, buffers: dict[Any, list[Any]],
               deps: dict[Any, int], ready: list[Any], leaf_grads: dict[int, Any],
               leaf_ids: set[int]) -> None:
    meta = node.meta
    for i, edge in enumerate(node.next):
        if edge is None:
            continue
        g = None if grads_in is None else grads_in[i]
        if g is not None:
            if meta is not None:
                shape, dt = meta[i]
                g = _reduce_b(g, tuple(shape), dt) if shape is not None else g
            else:
                g = _reduce_b(g, buf[0].shape[1:], buf[0].dtype)
        if type(edge) is tuple:
            child, oi = edge
            if g is not None:
                cbuf = buffers.get(child)
                if cbuf is None:
                    cbuf = buffers[child] = [None] * child.n_out
                cbuf[oi] = g if cbuf[oi] is None else cbuf[oi] + g
            deps[child] -= 1
            if deps[child] == 0:
                ready.append(child)
        elif g is not None and id(edge) in leaf_ids:
            old = leaf_grads.get(id(edge))
            leaf_grads[id(edge)] = g if old is None else old + g


# --- forward mode: the one switch -------------------------------------------------------
class ForwardMode:
    """Outputs of ``fn(*primals)`` and Jacobian-vector products at ``primals``.

    ``apply(tangents)`` takes one tangent per primal, each with a leading batch axis of
    size B, and returns one ``(B, *out.shape)`` tangent per output. With
    ``gradkit.autograd.forward_ad`` available, single tangents, differentiable
    (``create``) products and, with ``dual=True``, every batch use dual numbers (``fn``
    runs again per tangent); batches otherwise use the vectorized double-VJP trick,
    which needs the single forward already done. ``create=True`` keeps every result on the graph.
    """

    def __init__(self, fn: Callable[..., Any], primals: Sequence[Tensor], create: bool,
                 dual: bool = False) -> None:
        self.fn = fn
        self.primals = list(primals)
        self.create = create
        self.dual = dual                 # dual numbers for batches too (one pass per tangent)
        check_plain(*self.primals)
        self.fwad = forward_ad_module()
        prev = (_state.grad_enabled, _state.inference)
        _state.grad_enabled, _state.inference = True, False     # normal mode (see func._Scope)
        try:
            self.raw = fn(*self.primals)
        finally:
            _state.grad_enabled, _state.inference = prev
        self.outputs: list[Tensor] = []
        self._transposed: tuple[list[Tensor], list[Any]] | None = None

    def set_outputs(self, outputs: Sequence[Tensor]) -> None:
        """The flat tensor outputs of ``fn`` (callers unpack ``self.raw`` their own way)."""
        self.outputs = list(outputs)

    def apply(self, tangents: Sequence[Any]) -> list[Any]:
        bsz = int(np.shape(tangents[0])[0])
        if self.fwad is not None and (bsz == 1 or self.create or self.dual):
            return self._dual(tangents, bsz)
        try:
            res = self._double_vjp(tangents, bsz)
        except TwiceDifferentiatedError:
            # NOTE: a @once_differentiable backward cannot be transposed; dual numbers do real
            # forward mode, or say why they cannot (a Function without jvp)
            if self.fwad is None:
                raise
            return self._dual(tangents, bsz)
        if self.fwad is not None and any(isinstance(r, np.ndarray) and r.dtype.kind in "fcV"
                                         and not np.isfinite(r).all() for r in res):
            # NOTE: the transpose trick turns 0 * inf at a kink (a masked nan, the norm of a
            # zero vector) into nan for every column; dual numbers give each column its own.
            return self._dual(tangents, bsz)
        return res

    def _dual(self, tangents: Sequence[Any], bsz: int) -> list[Any]:
        fwad = self.fwad
        cols: list[list[Any]] = [[] for _ in self.outputs]
        for b in range(bsz):
            with fwad.dual_level():
                duals = [fwad.make_dual(p, _as_tangent(t[b], p)) for p, t in zip(self.primals, tangents)]
                outs = self._flat(self.fn(*duals))
                for k, o in enumerate(outs):
                    _, tan = fwad.unpack_dual(o)
                    cols[k].append(_zeros_of(self.outputs[k]) if tan is None else tan)
        res = [_stack(c) for c in cols]
        return res if self.create else [r._data for r in res]

    def _flat(self, raw: Any) -> list[Tensor]:
        flatten = getattr(self, "flatten", None)
        return flatten(raw) if flatten is not None else ([raw] if isinstance(raw, Tensor) else list(raw))

    def _transpose(self) -> tuple[list[Tensor], list[Any]]:
        """``u -> J^T u`` recorded once, with ``u`` a zero cotangent per output."""
        if self._transposed is None:
            from gradkit._core.creation import zeros_like
            from . import grad as autograd_grad
            us = [zeros_like(o).requires_grad_(True) for o in self.outputs]
            live = [(o, u) for o, u in zip(self.outputs, us) if o.requires_grad]
            prev = (_state.grad_enabled, _state.inference)
            _state.grad_enabled, _state.inference = True, False
            try:
                gs = list(autograd_grad([o for o, _ in live], self.primals, [u for _, u in live],
                                        create_graph=True, allow_unused=True)) if live \
                    else [None] * len(self.primals)
            finally:
                _state.grad_enabled, _state.inference = prev
            self._transposed = (us, gs)
        return self._transposed

    def _double_vjp(self, tangents: Sequence[Any], bsz: int) -> list[Any]:
        us, gs = self._transpose()
        if self.fwad is not None and any(g is not None and not g.requires_grad for g in gs):
            # NOTE: a VJP off the graph (a backward that is not differentiable: once_differentiable,
            # a numerical gradient) would make this trick give zeros silently; dual numbers do
            # real forward mode, or say why they cannot (a Function without jvp)
            return self._dual(tangents, bsz)
        pairs = [(g, t) for g, t in zip(gs, tangents) if g is not None and g.requires_grad]
        if not pairs:
            return [_zeros_batch(o, bsz, self.create) for o in self.outputs]
        if self.create:
            return self._double_vjp_rows(us, pairs, bsz)
        seeds = [as_data(t._data if isinstance(t, Tensor) else t) for _, t in pairs]
        res = batched_vjp([g for g, _ in pairs], seeds, us)
        return [_backend.zeros((bsz,) + o._data.shape, o._data.dtype, o._data) if r is None else r
                for r, o in zip(res, self.outputs)]

    def back_trick(self, tangents: Sequence[Tensor]) -> list[Tensor] | None:
        """One differentiable ``J v`` by the double-VJP trick, as ``torch.autograd.functional.jvp``
        computes it (so its nodes are the derivative of the backward, PyTorch's names), or None
        where a backward is not differentiable (dual numbers then do real forward mode)."""
        from . import grad as autograd_grad
        us, gs = self._transpose()
        if any(g is not None and not g.requires_grad for g in gs):
            return None
        pairs = [(g, t) for g, t in zip(gs, tangents) if g is not None]
        if not pairs:
            return [_zeros_of(o) for o in self.outputs]
        prev = (_state.grad_enabled, _state.inference)
        _state.grad_enabled, _state.inference = True, False
        try:
            res = autograd_grad([g for g, _ in pairs], us, [_as_tensor(t, g) for g, t in pairs],
                                retain_graph=True, create_graph=True, allow_unused=True)
        finally:
            _state.grad_enabled, _state.inference = prev
        return [_zeros_of(o) if r is None else r for r, o in zip(res, self.outputs)]

    def _double_vjp_rows(self, us: list[Tensor], pairs: list[Any], bsz: int) -> list[Any]:
        from . import grad as autograd_grad
        cols: list[list[Any]] = [[] for _ in us]
        for b in range(bsz):
            res = autograd_grad([g for g, _ in pairs], us, [_as_tensor(t[b], g) for g, t in pairs],
                                retain_graph=True, create_graph=True, allow_unused=True)
            for k, r in enumerate(res):
                cols[k].append(_zeros_of(self.outputs[k]) if r is None else r)
        return [_stack(c) for c in cols]


def _as_tensor(v: Any, like: Tensor) -> Tensor:
    if isinstance(v, Tensor):
        return v if v._data.dtype == like._data.dtype else v.to(like.dtype)
    return _make(as_data(v, like._data.dtype), False, None)


def _as_tangent(v: Any, like: Tensor) -> Tensor:
    """A tangent for the primal ``like``: a Tensor keeps its dtype, as in ``torch.func.jvp``
    (a float64 tangent of a float32 primal gives a float64 JVP; ``make_dual`` refuses an
    integer one with PyTorch's words)."""
    if isinstance(v, Tensor) and like._data.dtype.kind in "fcV":
        return v
    return _as_tensor(v, like)


def _zeros_of(t: Tensor) -> Tensor:
    return _make(np.zeros_like(t._data), False, None)


def _zeros_batch(t: Tensor, bsz: int, create: bool) -> Any:
    z = _backend.zeros((bsz,) + t._data.shape, t._data.dtype, t._data)
    return _make(z, False, None) if create else z
