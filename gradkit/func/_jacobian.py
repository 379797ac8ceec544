"""Gradients and Jacobians of flattened outputs for :mod:`gradkit.func`'s transforms.

``_grads`` (one reverse pass, batched under ``vmap``) serves ``grad``, ``vjp`` and ``jacrev``;
``_value_and_jac`` builds ``jacrev``/``jacfwd``/``hessian``: reverse rows, forward columns, or
one vmapped pass over the basis when every op batches, transposed or per column otherwise.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from gradkit._core.backend import contiguous, eye, move, placement_of, zeros
from gradkit.func._tree import (_as_output, _Call, _Scope, _split_aux, _vmapping,
                                tree_flatten, tree_unflatten)
from gradkit._core.creation import ones_like, zeros_like
from gradkit._core.tensor import Tensor, _make
from gradkit.autograd import grad as _autograd_grad
from gradkit.autograd._batched import ForwardMode, batched_vjp

__all__: list[str] = []


def _grads(outs: Sequence[Tensor], inputs: Sequence[Tensor], cots: Any, create: bool) -> list[Any]:
    if cots is None and _vmapping() and _any_batched(*outs, *inputs):
        return _batched_grads(outs, inputs, create)
    live = [(o, c) for o, c in zip(outs, cots or [None] * len(outs)) if o.requires_grad]
    if not live:
        return [_make(np.zeros_like(t._data), False, None) for t in inputs]
    gs = _autograd_grad([o for o, _ in live], list(inputs), [c for _, c in live] if cots else None,
                        create_graph=create, retain_graph=True, allow_unused=True)
    return [_make(np.zeros_like(t._data), False, None) if g is None else g
            for g, t in zip(gs, inputs)]


def _any_batched(*ts: Any) -> bool:
    """Whether a vmap batches any of ``ts`` (plain tensors inside vmap: a dual pass's primals,
    whose tangents alone are batched, differentiate as outside it)."""
    from gradkit.func._batching import BatchedTensor
    return any(type(t) is BatchedTensor for t in ts)


def _no_vmap() -> None:
    """Jacobians and JVPs inside vmap: no batched form yet, so vmap loops instead."""
    if _vmapping():
        from gradkit.func._batching import Unbatchable
        raise Unbatchable("vmap: jacobians, vjp and jvp inside vmap run per example")


def _batched_grads(outs: Sequence[Tensor], inputs: Sequence[Tensor], create: bool) -> list[Any]:
    """Gradients of scalar examples: one backward of their sum on the physical graph."""
    from gradkit.func import _batching as V
    phys_in = [V.unwrap_all(t) for t in inputs]
    phys_out = [V.unwrap_all(o)[0] for o in outs]
    live = [o for o in phys_out if o.requires_grad]
    saved = V._levels[:]
    V._levels.clear()                     # NOTE: the backward runs on plain tensors only
    try:
        gs = _autograd_grad(live, [p for p, _ in phys_in], [ones_like(o) for o in live],
                            create_graph=create, retain_graph=True, allow_unused=True) if live \
            else [None] * len(inputs)
        gs = [zeros_like(p) if g is None else g for g, (p, _) in zip(gs, phys_in)]
    finally:
        V._levels[:] = saved
    return [V.rewrap(g, levels) for g, (_, levels) in zip(gs, phys_in)]


def _writable(a: Any) -> Any:
    """``a`` itself when it owns writable memory of its own layout (a transposed Jacobian stays a
    strided view, as torch.func's ``movedim`` gives), else a copy (a broadcast view is
    read-only, and a user may write into the result)."""
    if isinstance(a, np.ndarray) and a.flags.writeable:
        return a
    return contiguous(a)


def _vmapping_batched(o: Tensor, inputs: Sequence[Tensor]) -> bool:
    return _vmapping() and _any_batched(o, *inputs)


def _rows_on_graph(o: Tensor, inputs: Sequence[Tensor], bshape: tuple[int, ...]) -> list[Tensor]:
    """A differentiable reverse-mode Jacobian of the plain tensor ``o``: one backward pass with
    a batch of unit cotangents under ``vmap`` (``vmap(vjp)``, as torch.func's ``jacrev``),
    instead of one pass per row; vmap's loop does the rows one by one where a rule has no
    batched form. ``bshape``: leading batch dims that ``o`` and ``inputs`` share (an outer
    vmap's examples, which do not interact: every example gets the same unit cotangent).
    Each result is shaped ``bshape + o's own shape + the input's own shape``."""
    from gradkit._core.creation import zeros_like
    from gradkit.func._vmap import vmap
    depth = len(bshape)
    oshape = tuple(o.shape)[depth:]
    n = int(np.prod(oshape, dtype=np.int64))
    eye_n = eye(n, n, o._data.dtype, o._data).reshape((n,) + (1,) * depth + oshape)
    seed = _make(np.array(np.broadcast_to(eye_n, (n,) + bshape + oshape)), False, None)
    live = list(inputs)

    def row(u: Tensor) -> tuple[Tensor, ...]:
        gs = _autograd_grad([o], live, [u], create_graph=True, retain_graph=True, allow_unused=True)
        return tuple(zeros_like(t) if g is None else g for g, t in zip(gs, live))

    res = vmap(row)(seed)
    out = []
    for r, t in zip(res, inputs):
        ishape = tuple(t.shape)[depth:]
        if depth:
            r = r.permute(tuple(range(1, depth + 1)) + (0,) + tuple(range(depth + 1, r.ndim)))
        out.append(r.reshape(bshape + oshape + ishape))
    return out


def _describe(tree: Any) -> str:
    """A pytree's structure with shapes for leaves, for error messages."""
    leaves, spec = tree_flatten(tree)
    return repr(tree_unflatten(spec, [f"<{tuple(np.shape(v))}>" for v in leaves]))


def _flat_outputs(out: Any) -> tuple[list[Tensor], Any]:
    leaves, spec = tree_flatten(out)
    return [_as_output(v) for v in leaves], spec


def _jac_rev(outs: list[Tensor], inputs: list[Tensor], create: bool,
             chunk_size: int | None = None) -> list[list[Any]]:
    """``J[i][j]`` shaped ``outs[i].shape + inputs[j].shape``: one batched backward walk."""
    from gradkit._api import stack
    res: list[list[Any]] = []
    for o in outs:
        n = o._data.size
        if not o.requires_grad:
            res.append([_make(zeros(o._data.shape + t._data.shape, t._data.dtype, t._data), False,
                              None) for t in inputs])
            continue
        if create and n == 1:                     # a scalar: no indexing or stacking on the graph
            res.append([g.reshape(tuple(o.shape) + tuple(t.shape))
                        for g, t in zip(_grads([o], inputs, None, True), inputs)])
            continue
        if create and not _vmapping_batched(o, inputs):
            res.append(_rows_on_graph(o, inputs, ()))
            continue
        if create:
            flat = o.reshape(-1)
            rows = [_grads([flat[k]], inputs, None, True) for k in range(n)]
            res.append([stack([r[j] for r in rows]).reshape(tuple(o.shape) + tuple(t.shape))
                        if rows else _make(np.zeros(o._data.shape + t._data.shape), False, None)
                        for j, t in enumerate(inputs)])
            continue
        if chunk_size is None or chunk_size >= n:
            seed = eye(n, n, o._data.dtype, o._data).reshape((n,) + o._data.shape)
            gs = batched_vjp([o], [seed], inputs)
        else:                                     # at most chunk_size rows at a time (memory)
            parts = []
            for lo in range(0, n, chunk_size):
                hi = min(lo + chunk_size, n)
                seed = eye(n, n, o._data.dtype, o._data)[lo:hi].reshape((hi - lo,) + o._data.shape)
                parts.append(batched_vjp([o], [seed], inputs))
            gs = [None if all(p[j] is None for p in parts) else
                  np.concatenate([np.zeros((len(range(lo, min(lo + chunk_size, n))),) + t._data.shape,
                                           t._data.dtype) if p[j] is None else p[j]
                                  for lo, p in zip(range(0, n, chunk_size), parts)])
                  for j, t in enumerate(inputs)]
        res.append([_make(zeros(o._data.shape + t._data.shape, t._data.dtype, t._data) if g is None
                          else contiguous(g).reshape(o._data.shape + t._data.shape), False, None)
                    for g, t in zip(gs, inputs)])
    return res


def _jac_tree(call: _Call, jac: list[list[Any]], spec: Any) -> Any:
    """Outputs' structure outside, arguments' structure inside (as JAX)."""
    return tree_unflatten(spec, [call.per_arg(row) for row in jac])


def _value_and_jac(fun: Callable[..., Any], argnums: Any, has_aux: bool, mode: str,
                   chunk_size: int | None = None, randomness: str | None = None) -> Callable[..., Any]:
    if randomness is not None and randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")
    if randomness == "different" and mode == "fwd":
        mode = "fwd-dual"                         # one pass per column: each draws its own
    if chunk_size is not None and (not isinstance(chunk_size, int) or isinstance(chunk_size, bool)
                                   or chunk_size <= 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if randomness is None:
            return inner(*args, **kwargs)
        from gradkit.func._vmap import _random_scope
        with _random_scope(randomness) as replay:
            return inner(*args, **kwargs, **{_REPLAY: replay})

    @functools.wraps(fun)
    def inner(*args: Any, **kwargs: Any) -> Any:
        replay = kwargs.pop(_REPLAY, None)
        call = _Call(args, argnums, "jacrev" if mode == "rev" else "jacfwd")
        vmapped = _vmapping() and _any_batched(*call.flat)
        if vmapped and mode not in ("rev", "auto", "hessian"):
            _no_vmap()
        box: dict[str, Any] = {}

        def flat_fun(*flat: Tensor) -> list[Tensor]:
            a = list(call.args)
            i = 0
            for num, spec, grp in zip(call.nums, call.specs, call.leaves):
                a[num] = tree_unflatten(spec, flat[i:i + len(grp)])
                i += len(grp)
            if replay is not None:
                replay()
            out, box["aux"] = _split_aux(fun(*a, **kwargs), has_aux, "jacobian")
            outs, box["spec"] = _flat_outputs(out)
            box["out"] = out
            return outs

        with _Scope("gradkit.func." + ("jacfwd" if mode.startswith("fwd") else "jacrev"), call.flat):
            if vmapped:
                outs = flat_fun(*call.flat)
                jac = _jac_vmapped(outs, call, mode)
            elif mode == "rev":
                outs = flat_fun(*call.flat)
                jac = _jac_rev_or_transposed(flat_fun, outs, call, chunk_size)
            elif mode in ("auto", "hessian"):
                outs = flat_fun(*call.flat)
                # NOTE: "hessian" (the outer Jacobian of hessian's default) takes columns, as
                # torch.func.hessian's jacfwd does: the same numbers, and PyTorch's signs of
                # zeros (rows walked back give -0.0 where forward mode gives 0.0, and vice versa)
                if mode == "hessian" and call.create or mode == "auto" and \
                        sum(o._data.size for o in outs) <= sum(t._data.size for t in call.flat):
                    jac = _jac_rev(outs, call.flat, call.create)
                else:
                    jac, outs = _jac_fwd(_first_call_cached(flat_fun, call.flat, outs), call.flat,
                                         call.create)
            else:
                jac, outs = _jac_fwd(flat_fun, call.flat, call.create, dual=mode == "fwd-dual",
                                     randomness=randomness)
        value = call.out(box["out"])
        res = _jac_tree(call, jac, box["spec"])
        return ((value, call.out(box["aux"])), res) if has_aux else (value, res)
    return functools.wraps(fun)(wrapper) if randomness is not None else inner


_REPLAY = "_gradkit_random_replay"


def _jac_rev_or_transposed(flat_fun: Callable[..., Any], outs: list[Tensor], call: _Call,
                           chunk_size: int | None) -> list[list[Any]]:
    """A reverse-mode Jacobian; when the outputs outnumber the inputs many times over (the
    outer Jacobian of ``jacrev(jacrev(f))``), by columns instead: the double-VJP trick is
    reverse mode too (one differentiable backward, then one batched backward per input
    element instead of one per output element). Off the graph or on any error the rows
    are walked back as usual."""
    n_out = sum(o._data.size for o in outs)
    n_in = sum(t._data.size for t in call.flat)
    if call.create or chunk_size is not None or n_out <= 4 * n_in or n_out < 4096:
        return _jac_rev(outs, call.flat, call.create, chunk_size)
    try:
        jac, _ = _jac_fwd(_first_call_cached(flat_fun, call.flat, outs), call.flat, False,
                          transposed_only=True)
        return jac
    except _NotTransposable:
        return _jac_rev(outs, call.flat, call.create, chunk_size)


def _jac_vmapped(outs: list[Tensor], call: _Call, mode: str) -> list[list[Any]]:
    """Per-example Jacobians inside vmap, every example at once on the physical tensors.

    The examples do not interact, so the physical Jacobian is block diagonal: seeding the
    same unit cotangent (or tangent) in every example gives each example's row (column).
    ``Unbatchable`` (vmap then loops) where the layout is not the plain one.
    """
    from gradkit.func import _batching as V
    n_out = sum(o._data.size for o in outs)
    n_in = sum(t._data.size for t in call.flat)
    columns = mode == "auto" and n_out > n_in or mode == "rev" and n_out > 4 * n_in or \
        mode == "hessian" and not call.create
    if call.create and columns:
        raise V.Unbatchable("vmap: a differentiable forward-mode Jacobian runs per example")
    depth = len(V._levels)
    every = list(range(1, depth + 1))
    phys_in, phys_out = [], []
    for t in call.flat:
        p, levels = V.unwrap_all(t)
        phys_in.append(p)
        if levels != every:
            raise V.Unbatchable("vmap: a Jacobian of an argument not batched at every level")
    for o in outs:
        p, levels = V.unwrap_all(o)
        phys_out.append(p)
        if levels != every or not p.requires_grad:
            raise V.Unbatchable("vmap: a Jacobian of an output not batched at every level")
    bshape = tuple(V._levels)
    saved = V._levels[:]
    V._levels.clear()                     # NOTE: the walks run on plain tensors only
    try:
        if call.create:                   # rows of per-example gradients, on the graph
            return [[V.rewrap(r, every) for r in _rows_on_graph(po, phys_in, bshape)]
                    for po in phys_out]
        if columns:
            return _jac_vmapped_columns(phys_out, phys_in, bshape)
        res = []
        for o, po in zip(outs, phys_out):
            oshape = tuple(o.shape)
            n = o._data.size
            seed = np.broadcast_to(np.eye(n, dtype=po._data.dtype).reshape((n,) + (1,) * depth + oshape),
                                   (n,) + bshape + oshape)
            gs = batched_vjp([po], [move(np.array(seed), placement_of(po._data))], phys_in)
            row = []
            for g, t, p in zip(gs, call.flat, phys_in):
                shape = bshape + oshape + tuple(t.shape)
                g = zeros(shape, p._data.dtype, p._data) if g is None else \
                    _writable(np.moveaxis(g, 0, depth)).reshape(shape)
                row.append(V.rewrap(_make(g, False, None), every))
            res.append(row)
        return res
    finally:
        V._levels[:] = saved


def _jac_vmapped_columns(phys_out: list[Tensor], phys_in: list[Tensor],
                         bshape: tuple[int, ...]) -> list[list[Any]]:
    """``_jac_vmapped`` by columns: the double-VJP trick with one unit tangent per input
    element, the same in every example."""
    from gradkit.func import _batching as V
    depth = len(bshape)
    every = list(range(1, depth + 1))
    box = [phys_out]

    def once(*a: Any) -> Any:
        if box:
            return box.pop()
        raise V.Unbatchable("vmap: this Jacobian needs forward mode per example")

    fm = ForwardMode(once, phys_in, False)
    fm.set_outputs(phys_out)
    fm._dual = lambda *a: once()              # type: ignore[method-assign]
    sizes = [int(np.prod(p.shape[depth:], dtype=np.int64)) for p in phys_in]
    total = sum(sizes)
    tangents, start = [], 0
    for p, n in zip(phys_in, sizes):
        lshape = tuple(p.shape[depth:])
        seed = np.zeros((total, n), dtype=p._data.dtype)
        seed[np.arange(start, start + n), np.arange(n)] = 1
        seed = np.broadcast_to(seed.reshape((total,) + (1,) * depth + lshape), (total,) + bshape + lshape)
        tangents.append(move(np.array(seed), placement_of(p._data)))
        start += n
    cols = fm.apply(tangents)                 # each (total, *bshape, *out)
    offs = np.cumsum([0] + sizes)
    jac = []
    for col, o in zip(cols, phys_out):
        col = col._data if isinstance(col, Tensor) else col
        row = []
        for j, p in enumerate(phys_in):
            part = np.moveaxis(col[offs[j]:offs[j + 1]], 0, -1)
            shape = bshape + tuple(o.shape[depth:]) + tuple(p.shape[depth:])
            row.append(V.rewrap(_make(_writable(part).reshape(shape), False, None), every))
        jac.append(row)
    return jac


class _NotTransposable(Exception):
    """The double-VJP trick would need dual numbers (forward mode) here."""


def _first_call_cached(flat_fun: Callable[..., Any], primals: list[Tensor],
                       outs: list[Tensor]) -> Callable[..., Any]:
    """``flat_fun`` whose first call on ``primals`` themselves returns ``outs`` (already computed
    on them) instead of running again; any other call (dual numbers) runs it."""
    box = [outs]

    def fun(*args: Any) -> Any:
        if box and len(args) == len(primals) and all(a is p for a, p in zip(args, primals)):
            return box.pop()
        return flat_fun(*args)
    return fun


def _jac_fwd(flat_fun: Callable[..., Any], inputs: list[Tensor], create: bool,
             dual: bool = False, transposed_only: bool = False,
             randomness: str | None = None) -> tuple[Any, Any]:
    fm = ForwardMode(flat_fun, inputs, create, dual=dual)
    if fm.fwad is not None and not transposed_only:
        _vectorize_dual(fm, randomness)
    if transposed_only:
        def refuse(*a: Any) -> Any:
            raise _NotTransposable()
        fm._dual = refuse                         # type: ignore[method-assign]
    outs = fm.raw
    fm.set_outputs(outs)
    numels = [t._data.size for t in inputs]
    total = sum(numels)
    tangents = []
    start = 0
    for t, n in zip(inputs, numels):
        seed = np.zeros((total, n), dtype=t._data.dtype)
        seed[np.arange(start, start + n), np.arange(n)] = 1
        seed = move(seed, placement_of(t._data))     # on the input's device (a GPU)
        tangents.append(seed.reshape((total,) + t._data.shape))
        start += n
    cols = fm.apply(tangents)                 # each (total, *out.shape)
    # NOTE: the dual-number closure refers back to fm: a cycle that would keep the transposed
    # graph's tensors alive until a collection (compile takes them for tensors the user holds)
    fm.__dict__.pop("_dual", None)
    fm._transposed = None
    offs = np.cumsum([0] + numels)
    jac = []
    for col, o in zip(cols, outs):
        row = []
        for j, t in enumerate(inputs):
            part = col[offs[j]:offs[j + 1]]
            nd = part.ndim
            part = part.permute(tuple(range(1, nd)) + (0,)) if isinstance(part, Tensor) \
                else _make(_writable(np.moveaxis(part, 0, -1)), False, None)
            row.append(part.reshape(tuple(o.shape) + tuple(t.shape)))
        jac.append(row)
    return jac, outs


def _vectorize_dual(fm: ForwardMode, randomness: str | None) -> None:
    """Let ``fm`` push a batch of tangents through one dual-number pass under ``vmap``
    (PyTorch's ``jacfwd``: ``vmap(jvp)``) instead of one pass per tangent.

    The primals stay unbatched; each tangent is a batched tensor, so every JVP rule runs
    once on the whole batch through vmap's batching rules (and where one has none, vmap
    runs its loop: the same numbers, one pass per tangent).
    """
    per_tangent = fm._dual

    def dual(tangents: Sequence[Any], bsz: int) -> list[Any]:
        if bsz <= 1:
            return per_tangent(tangents, bsz)
        return _dual_vmapped(fm, tangents, randomness)
    fm._dual = dual                               # type: ignore[method-assign]


def _dual_vmapped(fm: ForwardMode, tangents: Sequence[Any], randomness: str | None) -> list[Any]:
    from gradkit.autograd._batched import _as_tangent, _zeros_of
    from gradkit.func._vmap import vmap
    fwad = fm.fwad
    n_out = len(fm.outputs)

    def one(*ts: Tensor) -> tuple[Tensor, ...]:
        with fwad.dual_level():
            duals = [fwad.make_dual(p, _as_tangent(t, p)) for p, t in zip(fm.primals, ts)]
            outs = fm._flat(fm.fn(*duals))
            res = []
            for k, o in enumerate(outs[:n_out]):
                tan = fwad.unpack_dual(o).tangent
                res.append(_zeros_of(fm.outputs[k]) if tan is None else tan)
        return tuple(res)

    seeds = [t if isinstance(t, Tensor) else _make(t, False, None) for t in tangents]
    # NOTE: each tangent's pass draws its own random numbers unless the Jacobian asked for the
    # same draws in every pass (vmap's "different" runs its loop when a draw comes)
    res = vmap(one, randomness="same" if randomness == "same" else "different")(*seeds)
    return list(res) if fm.create else [r._data for r in res]
