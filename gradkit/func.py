"""JAX-style function transforms on gradkit's engine: grad, jacrev, jacfwd, hessian, vmap, ...

Arguments may be Tensors, NumPy arrays, Python numbers or pytrees of them (nested
tuples, lists and dicts); results keep the structure. When no differentiated argument
is a Tensor the results come back as NumPy (ndarrays; Python floats for 0-d), so a
NumPy objective function gets exact derivatives for SciPy unchanged. Transforms nest:
``grad(grad(f))``, ``jacfwd(jacrev(f))``.

Examples
--------
>>> import numpy as np
>>> import gradkit.func as gf
>>> gf.grad(lambda x: np.sum(np.sin(x)))(np.array([0.0, np.pi]))
array([ 1., -1.])
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Sequence

import numpy as np

from ._backend import as_data, contiguous, eye, move, placement_of, to_numpy, zeros
from ._tensor import Tensor, _make
from .autograd import grad as _autograd_grad
from .autograd._batched import ForwardMode, batched_vjp
from .autograd.grad_mode import _state

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "hvp",
           "linearize", "value_and_jacrev", "value_and_jacfwd", "value_and_hessian", "vmap",
           "stop_gradient", "tree_flatten", "tree_unflatten"]

_local = threading.local()


# --- pytrees -------------------------------------------------------------------------
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
        keys = sorted(tree)                       # NOTE: JAX orders dict leaves by sorted key
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
        return dict(zip(spec[1], tree_unflatten(spec[2], leaves)))
    out, i = [], 0
    for n, sp in spec[1]:
        out.append(tree_unflatten(sp, leaves[i:i + n]))
        i += n
    return tuple(out) if spec[0] is tuple else out


# --- leaves in and out ---------------------------------------------------------------------
def _depth() -> int:
    return getattr(_local, "depth", 0)


class _Scope:
    """Entered while a transform runs the user function; nested transforms keep graphs."""

    def __enter__(self) -> bool:
        outer = _depth() > 0
        _local.depth = _depth() + 1
        self.prev, _state.grad_enabled = _state.grad_enabled, True
        return outer

    def __exit__(self, *exc: object) -> None:
        _local.depth -= 1
        _state.grad_enabled = self.prev


def _int_input(name: str, dtype: np.dtype) -> TypeError:
    return TypeError(f"{name} requires real- or complex-valued inputs (input dtype that is a "
                     f"sub-dtype of np.inexact), but got {dtype.name}. If you want to use Boolean- or "
                     "integer-valued inputs, convert them to floats first.")


def _to_primal(x: Any, name: str = "grad") -> tuple[Tensor, bool]:
    """A tensor to differentiate at ``x`` and whether the result must stay on the graph."""
    from . import _vmap as V
    if V._levels:
        return _batched_primal(x, name)
    if isinstance(x, Tensor):
        if x._data.dtype.kind not in "fc":
            raise _int_input(name, x._data.dtype)
        if x.requires_grad:
            return x.view_as(x), True             # a node of its own, still on the outer graph
        return _make(x._data, True, None), False
    arr = as_data(x)
    if arr.dtype.kind not in "fc":
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            arr = arr.astype(np.float64)           # NOTE: Python ints are taken as floats
        else:
            raise _int_input(name, arr.dtype)
    return _make(np.array(arr), True, None), False


def _batched_primal(x: Any, name: str = "grad") -> tuple[Tensor, bool]:
    """Inside vmap: a primal batched at every running level (per-example gradients).

    An unmapped argument (parameters) is broadcast along each batch, so that its
    gradient comes out per example, as JAX's ``vmap(grad(f), in_axes=(None, 0))``.
    """
    from . import _vmap as V
    phys, levels = V.unwrap_all(x) if isinstance(x, Tensor) else (x, [])
    p, on_graph = _to_primal_plain(phys, name)
    shape = tuple(p.shape)
    lead = len(levels)
    missing = [k for k in range(1, len(V._levels) + 1) if k not in levels]
    if missing:
        sizes = V.level_sizes()
        target = tuple(sizes[k - 1] for k in range(1, len(sizes) + 1))
        have = dict(zip(levels, shape[:lead]))
        inter = tuple(have.get(k, 1) for k in range(1, len(sizes) + 1)) + shape[lead:]
        p = p.reshape(inter).expand(target + shape[lead:])
    return V.rewrap(p, range(1, len(V._levels) + 1)), on_graph


def _to_primal_plain(x: Any, name: str = "grad") -> tuple[Tensor, bool]:
    from . import _vmap as V
    saved = V._levels[:]
    V._levels.clear()                     # plain checks and a plain leaf, hook or not
    try:
        return _to_primal(x, name)
    finally:
        V._levels[:] = saved


def _argnums(argnums: int | Sequence[int], n: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not -n <= a < n:
            raise TypeError(f"differentiating with respect to argnums={argnums} requires at least "
                            f"{(a if a >= 0 else -a - 1) + 1} positional arguments to be passed by "
                            f"the caller, but got only {n} positional arguments.")
    return tuple(a % n for a in nums)


class _Call:
    """One call of a transformed function: differentiated leaves swapped for tensors."""

    def __init__(self, args: tuple[Any, ...], argnums: int | Sequence[int], name: str = "grad") -> None:
        self.single = isinstance(argnums, int)
        self.nums = _argnums(argnums, len(args))
        self.args = list(args)
        self.specs, self.leaves, self.originals = [], [], []
        self.create = _depth() > 0
        self.numpy_out = not _vmapping()
        for a in self.nums:
            leaves, spec = tree_flatten(args[a])
            prim = []
            for leaf in leaves:
                t, on_graph = _to_primal(leaf, name)
                self.create |= on_graph
                self.numpy_out &= not isinstance(leaf, Tensor)
                prim.append(t)
            self.specs.append(spec)
            self.leaves.append(prim)
            self.originals.append(leaves)
            self.args[a] = tree_unflatten(spec, prim)
        self.flat = [t for group in self.leaves for t in group]

    def per_arg(self, flat: Sequence[Any], convert: bool = True) -> Any:
        """Split per-leaf results back into the argument structure(s)."""
        out, i = [], 0
        for spec, orig in zip(self.specs, self.originals):
            vals = [self._leaf_out(v, o) if convert else v for v, o in zip(flat[i:i + len(orig)], orig)]
            out.append(tree_unflatten(spec, vals))
            i += len(orig)
        return out[0] if self.single else tuple(out)

    def _leaf_out(self, v: Any, like: Any) -> Any:
        if isinstance(v, Tensor) and not self.create:
            v = v.detach()
        if isinstance(like, Tensor) or self.create or _vmapping():
            return v if isinstance(v, Tensor) else _make(np.asarray(v), False, None)
        return _to_numpy(v, like)

    def out(self, tree: Any) -> Any:
        """Convert a result pytree: detached when outermost, NumPy for NumPy callers."""
        leaves, spec = tree_flatten(tree)
        res = []
        for v in leaves:
            if isinstance(v, Tensor) and not self.create:
                v = v.detach()
            if self.numpy_out and not self.create and isinstance(v, Tensor):
                v = _to_numpy(v, None)
            res.append(v)
        return tree_unflatten(spec, res)


def _to_numpy(v: Any, like: Any) -> Any:
    arr = to_numpy(v._data if isinstance(v, Tensor) else v)
    if arr.ndim == 0 and (like is None or isinstance(like, (int, float, np.generic))):
        return arr.item()
    return arr


def _split_aux(out: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"{name} with has_aux=True requires the function to return a pair "
                        f"(output, aux), but it returned {type(out).__name__}")
    return out[0], out[1]


def _as_output(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else _make(as_data(x), False, None)


# --- reverse mode ------------------------------------------------------------------------
def value_and_grad(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
                   has_aux: bool = False) -> Callable[..., Any]:
    """A function returning ``(fun(*args), gradient)`` (``((value, aux), gradient)`` with aux).

    An int ``argnums`` gives one gradient shaped like that argument (same pytree), a
    sequence gives a tuple of them. ``fun`` must return a scalar.
    """
    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _Call(args, argnums)
        with _Scope():
            out, aux = _split_aux(fun(*call.args, **kwargs), has_aux, "value_and_grad")
            y = _scalar_output(out)
            gs = _grads([y], call.flat, None, call.create)
        if not call.create:
            y, gs = _computed(y, gs)
        value = call.out(y)
        res = call.per_arg(gs)
        return ((value, call.out(aux)), res) if has_aux else (value, res)
    return wrapper


def _scalar_output(out: Any) -> Tensor:
    """The output of a function given to ``grad``: a real scalar (JAX's errors otherwise)."""
    if isinstance(out, (tuple, list, dict)) or out is None:
        raise TypeError(f"Gradient only defined for scalar-output functions. Output was {out!r}.")
    if not isinstance(out, (Tensor, np.ndarray, np.generic, int, float, complex)):
        raise TypeError(f"grad requires the function to return a scalar array, but it returned "
                        f"{type(out).__name__}: {out!r}")
    y = _as_output(out)
    if y.ndim != 0:
        raise TypeError(f"Gradient only defined for scalar-output functions. Output had "
                        f"shape: {tuple(y.shape)}.")
    if y._data.dtype.kind not in "fiub":
        raise TypeError(f"grad requires real-valued outputs (output dtype that is a sub-dtype of "
                        f"np.floating), but got {y._data.dtype.name}. For differentiation of "
                        "functions with complex outputs, use vjp directly.")
    return y


def _computed(y: Any, gs: list[Any]) -> tuple[Any, list[Any]]:
    """The value and gradients with the lazy (Dask-backed) ones computed in one pass (their
    shared forward runs once), before they are handed back."""
    from ._backend import is_lazy
    if not any(isinstance(t, Tensor) and is_lazy(t._data) for t in [y, *gs]):
        return y, gs
    from ._lazy import compute
    y, *rest = compute(y, *gs)
    return y, list(rest)


def grad(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
         has_aux: bool = False) -> Callable[..., Any]:
    """The gradient of a scalar function, shaped like argument ``argnums`` (a tuple for a sequence).

    With ``has_aux`` the function returns ``(output, aux)`` and the result is ``(grad, aux)``.
    """
    vg = value_and_grad(fun, argnums, has_aux=has_aux)

    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        (value, g) = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def _grads(outs: Sequence[Tensor], inputs: Sequence[Tensor], cots: Any, create: bool) -> list[Any]:
    if _vmapping() and cots is None:
        return _batched_grads(outs, inputs, create)
    live = [(o, c) for o, c in zip(outs, cots or [None] * len(outs)) if o.requires_grad]
    if not live:
        return [_make(np.zeros_like(t._data), False, None) for t in inputs]
    gs = _autograd_grad([o for o, _ in live], list(inputs), [c for _, c in live] if cots else None,
                        create_graph=create, retain_graph=True, allow_unused=True)
    return [_make(np.zeros_like(t._data), False, None) if g is None else g
            for g, t in zip(gs, inputs)]


def _no_vmap() -> None:
    """Jacobians and JVPs inside vmap: no batched form yet, so vmap loops instead."""
    if _vmapping():
        from ._vmap import Unbatchable
        raise Unbatchable("vmap: jacobians, vjp and jvp inside vmap run per example")


def _vmapping() -> bool:
    from . import _vmap as V
    return bool(V._levels)


def _batched_grads(outs: Sequence[Tensor], inputs: Sequence[Tensor], create: bool) -> list[Any]:
    """Gradients of scalar examples: one backward of their sum on the physical graph."""
    from . import _vmap as V
    from ._factories import ones_like, zeros_like
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


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(fun(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns a tuple, one entry per primal."""
    _no_vmap()
    call = _Call(primals, tuple(range(len(primals))), "vjp")
    with _Scope():
        out, aux = _split_aux(fun(*call.args), has_aux, "vjp")
    leaves, spec = tree_flatten(out)
    outs = [_as_output(v) for v in leaves]

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        cl, cspec = tree_flatten(cotangent)
        if cspec != spec:
            raise ValueError("unexpected tree structure of argument to vjp function: the cotangent "
                             "must match the pytree structure of the differentiated function's "
                             f"output {_describe(out)}, but got {_describe(cotangent)}")
        for c, o in zip(cl, outs):
            if tuple(np.shape(c)) != tuple(o.shape):
                raise ValueError(f"unexpected shape for argument to vjp function: got {tuple(np.shape(c))}, "
                                 f"but expected {tuple(o.shape)} because the corresponding output of "
                                 "the function had that shape")
        cots = [_make(np.asarray(c._data if isinstance(c, Tensor) else c, dtype=o._data.dtype),
                      False, None) if not isinstance(c, Tensor) else c for c, o in zip(cl, outs)]
        with _Scope():
            gs = _grads(outs, call.flat, cots, call.create or _depth() > 1)
        return call.per_arg(gs)

    res = call.out(out)
    return (res, vjp_fn, call.out(aux)) if has_aux else (res, vjp_fn)


def _describe(tree: Any) -> str:
    """A pytree's structure with shapes for leaves, for error messages."""
    leaves, spec = tree_flatten(tree)
    return repr(tree_unflatten(spec, [f"<{tuple(np.shape(v))}>" for v in leaves]))


def _flat_outputs(out: Any) -> tuple[list[Tensor], Any]:
    leaves, spec = tree_flatten(out)
    return [_as_output(v) for v in leaves], spec


def _jac_rev(outs: list[Tensor], inputs: list[Tensor], create: bool) -> list[list[Any]]:
    """``J[i][j]`` shaped ``outs[i].shape + inputs[j].shape``: one batched backward walk."""
    from ._api import stack
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
        if create:
            flat = o.reshape(-1)
            rows = [_grads([flat[k]], inputs, None, True) for k in range(n)]
            res.append([stack([r[j] for r in rows]).reshape(tuple(o.shape) + tuple(t.shape))
                        if rows else _make(np.zeros(o._data.shape + t._data.shape), False, None)
                        for j, t in enumerate(inputs)])
            continue
        seed = eye(n, n, o._data.dtype, o._data).reshape((n,) + o._data.shape)
        gs = batched_vjp([o], [seed], inputs)
        res.append([_make(zeros(o._data.shape + t._data.shape, t._data.dtype, t._data) if g is None
                          else contiguous(g).reshape(o._data.shape + t._data.shape), False, None)
                    for g, t in zip(gs, inputs)])
    return res


def _jac_tree(call: _Call, jac: list[list[Any]], spec: Any) -> Any:
    """Outputs' structure outside, arguments' structure inside (as JAX)."""
    return tree_unflatten(spec, [call.per_arg(row) for row in jac])


def _value_and_jac(fun: Callable[..., Any], argnums: Any, has_aux: bool, mode: str) -> Callable[..., Any]:
    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _no_vmap()
        call = _Call(args, argnums, "jacrev" if mode == "rev" else "jacfwd")
        box: dict[str, Any] = {}

        def flat_fun(*flat: Tensor) -> list[Tensor]:
            a = list(call.args)
            i = 0
            for num, spec, grp in zip(call.nums, call.specs, call.leaves):
                a[num] = tree_unflatten(spec, flat[i:i + len(grp)])
                i += len(grp)
            out, box["aux"] = _split_aux(fun(*a, **kwargs), has_aux, "jacobian")
            outs, box["spec"] = _flat_outputs(out)
            box["out"] = out
            return outs

        with _Scope():
            if mode == "rev":
                outs = flat_fun(*call.flat)
                jac = _jac_rev(outs, call.flat, call.create)
            else:
                jac, outs = _jac_fwd(flat_fun, call.flat, call.create, dual=mode == "fwd-dual")
        value = call.out(box["out"])
        res = _jac_tree(call, jac, box["spec"])
        return ((value, call.out(box["aux"])), res) if has_aux else (value, res)
    return wrapper


def _jac_fwd(flat_fun: Callable[..., Any], inputs: list[Tensor], create: bool,
             dual: bool = False) -> tuple[Any, Any]:
    fm = ForwardMode(flat_fun, inputs, create, dual=dual)
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
    offs = np.cumsum([0] + numels)
    jac = []
    for col, o in zip(cols, outs):
        row = []
        for j, t in enumerate(inputs):
            part = col[offs[j]:offs[j + 1]]
            nd = part.ndim
            part = part.permute(tuple(range(1, nd)) + (0,)) if isinstance(part, Tensor) \
                else _make(contiguous(np.moveaxis(part, 0, -1)), False, None)
            row.append(part.reshape(tuple(o.shape) + tuple(t.shape)))
        jac.append(row)
    return jac, outs


def value_and_jacrev(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
                     has_aux: bool = False) -> Callable[..., Any]:
    """``(fun(*args), jacrev(fun)(*args))`` from one forward pass."""
    return _value_and_jac(fun, argnums, has_aux, "rev")


def value_and_jacfwd(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
                     has_aux: bool = False) -> Callable[..., Any]:
    """``(fun(*args), jacfwd(fun)(*args))`` from one forward pass."""
    return _value_and_jac(fun, argnums, has_aux, "fwd")


def _drop_value(vf: Callable[..., Any], fun: Callable[..., Any], has_aux: bool) -> Callable[..., Any]:
    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        value, jac = vf(*args, **kwargs)
        return (jac, value[1]) if has_aux else jac
    return wrapper


def jacrev(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
           has_aux: bool = False) -> Callable[..., Any]:
    """Jacobian by reverse mode: output dims then input dims; one forward, one batched backward."""
    return _drop_value(value_and_jacrev(fun, argnums, has_aux=has_aux), fun, has_aux)


def jacfwd(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
           has_aux: bool = False) -> Callable[..., Any]:
    """Jacobian by forward mode: output dims then input dims (one forward pass)."""
    return _drop_value(value_and_jacfwd(fun, argnums, has_aux=has_aux), fun, has_aux)


def hessian(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
            has_aux: bool = False, mode: str = "rev-over-rev") -> Callable[..., Any]:
    """The Hessian of a scalar function: ``H[i][j]`` shaped ``arg_i.shape + arg_j.shape``.

    Parameters
    ----------
    mode : {"rev-over-rev", "fwd-over-rev"}
        ``"fwd-over-rev"`` is ``jacfwd(jacrev(fun))`` with real forward mode
        (``gradkit.autograd.forward_ad``): one dual-number pass of the gradient per input
        element. ``"rev-over-rev"`` (the default, faster here) is ``jacrev(jacrev(fun))``.

    Notes
    -----
    A Hessian of a twice continuously differentiable function is symmetric, so the
    outer Jacobian may be taken in reverse mode over the gradient's graph: one forward,
    one differentiable backward and one batched backward walk give the same matrix as
    forward over reverse, without a pass per column (``benchmarks/bench_hessian.py``
    times both). Without ``forward_ad``, ``"fwd-over-rev"`` uses the double-VJP trick.
    """
    if mode == "rev-over-rev":
        return jacrev(jacrev(fun, argnums, has_aux=has_aux), argnums, has_aux=has_aux)
    if mode != "fwd-over-rev":
        raise ValueError(f"hessian mode must be 'rev-over-rev' or 'fwd-over-rev', got {mode!r}")
    inner = jacrev(fun, argnums, has_aux=has_aux)
    return _drop_value(_value_and_jac(inner, argnums, has_aux, "fwd-dual"), fun, has_aux)


def value_and_hessian(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
                      has_aux: bool = False) -> Callable[..., Any]:
    """``(fun(*args), hessian(fun)(*args))``; the value comes from the same forward pass."""
    def jac_and_value(*args: Any, **kwargs: Any) -> Any:
        value, jac = value_and_jacrev(fun, argnums, has_aux=has_aux)(*args, **kwargs)
        return jac, value

    inner = jacrev(jac_and_value, argnums, has_aux=True)      # see hessian's Notes

    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        hess, value = inner(*args, **kwargs)
        return value, hess
    return wrapper


# --- forward mode ----------------------------------------------------------------------
def _tangent_leaves(call: _Call, tangents: Sequence[Any]) -> list[Any]:
    if not isinstance(tangents, (tuple, list)):
        raise TypeError(f"tangent values must be a tuple or list, got {type(tangents).__name__}")
    if len(tangents) != len(call.leaves) or any(tree_flatten(t)[1] != spec
                                                 for t, spec in zip(tangents, call.specs)):
        primals = tuple(tree_unflatten(spec, grp) for spec, grp in zip(call.specs, call.originals))
        raise TypeError("primal and tangent arguments to jvp must have the same tree structure; "
                        f"primals have structure {_describe(primals)} whereas tangents have "
                        f"structure {_describe(tuple(tangents))}.")
    flat = []
    for spec_t, grp in zip(tangents, call.leaves):
        lv, _ = tree_flatten(spec_t)
        for v, p in zip(lv, grp):
            arr = v if isinstance(v, Tensor) else _make(np.asarray(v, dtype=p._data.dtype), False, None)
            if tuple(arr.shape) != tuple(p.shape):
                raise ValueError(f"jvp called with different primal and tangent shapes; got primal "
                                 f"shape {tuple(p.shape)} and tangent shape {tuple(arr.shape)}")
            flat.append(arr.reshape((1,) + tuple(arr.shape)))
    return flat


def _linear(fun: Callable[..., Any], primals: Sequence[Any], has_aux: bool) -> tuple[Any, ...]:
    _no_vmap()
    if not isinstance(primals, (tuple, list)):
        raise TypeError(f"primal values must be a tuple or list, got {type(primals).__name__}")
    call = _Call(tuple(primals), tuple(range(len(primals))), "jvp")
    box: dict[str, Any] = {}

    def flat_fun(*flat: Tensor) -> list[Tensor]:
        a, i = [], 0
        for spec, grp in zip(call.specs, call.leaves):
            a.append(tree_unflatten(spec, flat[i:i + len(grp)]))
            i += len(grp)
        out, box["aux"] = _split_aux(fun(*a), has_aux, "jvp")
        outs, box["spec"] = _flat_outputs(out)
        box["out"] = out
        return outs

    with _Scope():
        fm = ForwardMode(flat_fun, call.flat, call.create)
        fm.set_outputs(fm.raw)
    return call, fm, box


def jvp(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *,
        has_aux: bool = False) -> tuple[Any, ...]:
    """``(fun(*primals), J tangents)`` by forward mode."""
    call, fm, box = _linear(fun, primals, has_aux)
    with _Scope():
        cols = fm.apply(_tangent_leaves(call, tangents))
    tan = tree_unflatten(box["spec"], [c[0] for c in cols])
    res = (call.out(box["out"]), _out_like(call, tan, box["out"]))
    return res + (call.out(box["aux"]),) if has_aux else res


def _out_like(call: _Call, tree: Any, ref: Any) -> Any:
    leaves, spec = tree_flatten(tree)
    vals = [v if isinstance(v, Tensor) else _make(_contiguous(v), False, None) for v in leaves]
    return call.out(tree_unflatten(spec, vals))


def _contiguous(v: Any) -> np.ndarray:
    """A C-contiguous array of ``v``'s shape (``np.ascontiguousarray`` makes 0-d arrays 1-d)."""
    arr = np.asarray(v)
    return np.ascontiguousarray(arr).reshape(arr.shape)


def linearize(fun: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(fun(*primals), f_jvp)`` where ``f_jvp(*tangents)`` is the JVP at ``primals``.

    ``fun`` runs once; every ``f_jvp`` call reuses its graph (or, with forward-mode AD,
    re-runs it with dual numbers).
    """
    call, fm, box = _linear(fun, primals, False)

    def f_jvp(*tangents: Any) -> Any:
        with _Scope():
            cols = fm.apply(_tangent_leaves(call, tangents))
        return _out_like(call, tree_unflatten(box["spec"], [c[0] for c in cols]), box["out"])

    return call.out(box["out"]), f_jvp


def hvp(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """Hessian-vector product ``H v`` of a scalar function: forward over reverse."""
    return jvp(grad(fun, tuple(range(len(primals)))), tuple(primals), tuple(tangents))[1] \
        if len(primals) > 1 else jvp(grad(fun), tuple(primals), tuple(tangents))[1]


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
    ``fun`` runs once, on batched tensors (``gradkit._vmap``): each shows one example's
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
    from . import _vmap as V
    from .ops.shape import permute_p
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
    from ._api import stack
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
