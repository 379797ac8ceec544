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
from typing import Any, Callable, Sequence

import numpy as np

from gradkit.func._tree import (_as_output, _Call, _depth, _Scope, _split_aux, _vmapping, tree_flatten,
                                tree_unflatten, TransformTypeError, TransformValueError)
from gradkit._core.backend import is_lazy
from gradkit._core.tensor import Tensor, _make
from gradkit.autograd._batched import ForwardMode
from gradkit.func._jacobian import _describe, _flat_outputs, _grads, _no_vmap, _value_and_jac

__all__ = ["grad", "value_and_grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
           "hvp", "linearize", "value_and_jacrev", "value_and_jacfwd", "value_and_hessian", "vmap",
           "stop_gradient", "tree_flatten", "tree_unflatten", "functional_call",
           "stack_module_state", "functionalize", "replace_all_batch_norm_modules_"]


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
        with _Scope("gradkit.func.grad", call.flat):
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
    # NOTE: any one-element output, as HIPS autograd and PyTorch's implicit backward() accept;
    # JAX insists on shape () (checked live: jax.grad of a (1, 1) output raises), so this is a
    # deliberate superset of JAX: every JAX program runs the same, and autograd code ports.
    if y.ndim != 0 and y._data.size != 1:
        raise TransformTypeError(f"Gradient only defined for scalar-output functions. Output had "
                                 f"shape: {tuple(y.shape)}.")
    if y._data.dtype.kind == "b":
        # NOTE: JAX's words (checked live); a comparison or np.allclose has no derivative
        raise TypeError("grad requires real-valued outputs (output dtype that is a sub-dtype of "
                        "np.floating), but got bool. For differentiation of functions with "
                        "integer outputs, use vjp directly.")
    if y._data.dtype.kind not in "fiuV":           # V: bfloat16 (ml_dtypes)
        raise TypeError(f"grad requires real-valued outputs (output dtype that is a sub-dtype of "
                        f"np.floating), but got {y._data.dtype.name}. For differentiation of "
                        "functions with complex outputs, use vjp directly.")
    return y


def _computed(y: Any, gs: list[Any]) -> tuple[Any, list[Any]]:
    """The value and gradients with the lazy (Dask-backed) ones computed in one pass (their
    shared forward runs once), before they are handed back."""
    if not any(isinstance(t, Tensor) and is_lazy(t._data) for t in [y, *gs]):
        return y, gs
    from gradkit._api.lazy import compute
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


def grad_and_value(func: Callable[..., Any], argnums: int | Sequence[int] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """``torch.func.grad_and_value``: ``(gradient, value)`` (``(gradient, (value, aux))`` with
    ``has_aux``), the reverse of JAX's ``value_and_grad`` order."""
    vg = value_and_grad(func, argnums, has_aux=has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        value, g = vg(*args, **kwargs)
        return g, value
    return wrapper


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(fun(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns a tuple, one entry per primal."""
    _no_vmap()
    call = _Call(primals, tuple(range(len(primals))), "vjp")
    with _Scope("gradkit.func.vjp", call.flat):
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
        # NOTE: vjp_fn is linear in the cotangent and differentiable in it: called inside another
        # transform (or on a cotangent that requires grad) it records its backward on the graph
        # and hands back tensors on it (autograd's make_ggnvp transposes a vjp_fn this way)
        nested = call.create or _depth() > 0 or any(isinstance(c, Tensor) and c.requires_grad
                                                    for c in cots)
        with _Scope("gradkit.func.vjp", call.flat):
            gs = _grads(outs, call.flat, cots, nested)
        return call.per_arg(gs, convert=not nested)

    res = call.out(out)
    return (res, vjp_fn, call.out(aux)) if has_aux else (res, vjp_fn)


def value_and_jacrev(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
                     has_aux: bool = False, chunk_size: int | None = None) -> Callable[..., Any]:
    """``(fun(*args), jacrev(fun)(*args))`` from one forward pass."""
    return _value_and_jac(fun, argnums, has_aux, "rev", chunk_size)


def value_and_jacfwd(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False,
                     *, randomness: str = "error") -> Callable[..., Any]:
    """``(fun(*args), jacfwd(fun)(*args))`` from one forward pass."""
    return _value_and_jac(fun, argnums, has_aux, "fwd", randomness=randomness)


def _drop_value(vf: Callable[..., Any], fun: Callable[..., Any], has_aux: bool) -> Callable[..., Any]:
    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        value, jac = vf(*args, **kwargs)
        return (jac, value[1]) if has_aux else jac
    return wrapper


def jacrev(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
           has_aux: bool = False, chunk_size: int | None = None) -> Callable[..., Any]:
    """Jacobian by reverse mode: output dims then input dims; one forward, one batched backward.

    ``chunk_size`` (as ``torch.func.jacrev``) walks back at most that many rows at a time,
    for less memory.
    """
    return _drop_value(value_and_jacrev(fun, argnums, has_aux=has_aux, chunk_size=chunk_size),
                       fun, has_aux)


def jacfwd(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable[..., Any]:
    """Jacobian by forward mode: output dims then input dims (one forward pass).

    ``randomness`` as ``torch.func.jacfwd``: ``"error"`` raises PyTorch's error when ``fun``
    draws random numbers, ``"same"`` uses one draw for every column, ``"different"`` draws
    anew for each column (one forward pass per column).
    """
    return _drop_value(value_and_jacfwd(fun, argnums, has_aux=has_aux, randomness=randomness),
                       fun, has_aux)


def hessian(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
            has_aux: bool = False, mode: str = "auto") -> Callable[..., Any]:
    """The Hessian of a function: ``H[i][j]`` shaped ``out.shape + arg_i.shape + arg_j.shape``.

    Parameters
    ----------
    mode : {"auto", "rev-over-rev", "fwd-over-rev"}
        ``"auto"`` (the default) is ``torch.func.hessian``'s ``jacfwd(jacrev(fun))``: the outer
        Jacobian by columns, each a Jacobian-vector product of the gradient, all of them in one
        batched walk (the vectorized double-VJP trick), so the zeros carry PyTorch's signs.
        ``"fwd-over-rev"`` pushes the columns through real forward mode
        (``gradkit.autograd.forward_ad``, vmapped dual numbers: the gradient runs again on
        them). ``"rev-over-rev"`` is ``jacrev(jacrev(fun))``: rows, walked back.

    Notes
    -----
    The three give the same numbers up to rounding; signs of zero differ (a row walked back multiplies
    ``-sin(x_j) * 0`` where a column multiplies ``-sin(x_i) * 0``). On small problems
    ``"rev-over-rev"`` is the fastest (one forward, one differentiable backward and one
    batched backward, where ``"auto"`` walks the backward's own backward once more);
    ``benchmarks/bench_hessian_modes.py`` times the three against ``torch.func.hessian``.
    Under ``create_graph`` (a transform of the Hessian) ``"auto"`` takes rows
    (``"rev-over-rev"``'s signs).
    """
    if mode == "auto":
        inner = jacrev(fun, argnums, has_aux=has_aux)
        return _drop_value(_value_and_jac(inner, argnums, has_aux, "hessian", randomness="error"),
                           fun, has_aux)
    if mode == "rev-over-rev":
        return jacrev(jacrev(fun, argnums, has_aux=has_aux), argnums, has_aux=has_aux)
    if mode != "fwd-over-rev":
        raise ValueError(f"hessian mode must be 'auto', 'rev-over-rev' or 'fwd-over-rev', got {mode!r}")
    inner = jacrev(fun, argnums, has_aux=has_aux)
    return _drop_value(_value_and_jac(inner, argnums, has_aux, "fwd-dual"), fun, has_aux)


def value_and_hessian(fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *,
                      has_aux: bool = False) -> Callable[..., Any]:
    """``(fun(*args), hessian(fun)(*args))``; the value comes from the same forward pass."""
    def jac_and_value(*args: Any, **kwargs: Any) -> Any:
        value, jac = value_and_jacrev(fun, argnums, has_aux=has_aux)(*args, **kwargs)
        return jac, value

    # the outer Jacobian as hessian's default takes it (see its Notes)
    inner = _drop_value(_value_and_jac(jac_and_value, argnums, True, "hessian", randomness="error"),
                        jac_and_value, True)

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
                raise TransformValueError(f"jvp called with different primal and tangent shapes; "
                                          f"got primal shape {tuple(p.shape)} and tangent shape "
                                          f"{tuple(arr.shape)}")
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

    with _Scope("gradkit.func.jvp", call.flat):
        fm = ForwardMode(flat_fun, call.flat, call.create)
        fm.set_outputs(fm.raw)
    return call, fm, box


def jvp(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *,
        has_aux: bool = False) -> tuple[Any, ...]:
    """``(fun(*primals), J tangents)`` by forward mode."""
    if _vmapping() and isinstance(primals, (tuple, list)):
        res = _jvp_in_vmap(fun, primals, tangents, has_aux)
        if res is not None:
            return res
    call, fm, box = _linear(fun, primals, has_aux)
    with _Scope("gradkit.func.jvp", call.flat):
        cols = fm.apply(_tangent_leaves(call, tangents))
    tan = tree_unflatten(box["spec"], [c[0] for c in cols])
    res = (call.out(box["out"]), _out_like(call, tan, box["out"]))
    return res + (call.out(box["aux"]),) if has_aux else res


def _jvp_in_vmap(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any],
                 has_aux: bool) -> tuple[Any, ...] | None:
    """``jvp`` inside ``vmap`` with batched primals: one dual pass on the batched tensors
    (PyTorch's ``vmap(jvp)``), every JVP rule run once on the batch by vmap's rules (and,
    where one has none, ``Unbatchable``: vmap's loop runs instead). None when no primal
    is batched (the plain path does it)."""
    from gradkit.autograd._batched import _as_tangent, forward_ad_module
    from gradkit.func import _batching as V
    from gradkit._core.creation import zeros_like as _zeros_like
    from gradkit.func._jacobian import _any_batched
    fwad = forward_ad_module()
    leaves = [v for p in primals for v in tree_flatten(p)[0]]
    if fwad is None or not _any_batched(*leaves):
        return None
    call = _Call(tuple(primals), tuple(range(len(primals))), "jvp")
    flat_t = _tangent_leaves(call, tangents)
    with _Scope("gradkit.func.jvp", call.flat), fwad.dual_level():
        gid = fwad._levels[-1].gid
        V._inner_duals.append((gid, len(V._levels)))
        try:
            duals = [fwad.make_dual(p, _as_tangent(t[0], p)) for p, t in zip(call.flat, flat_t)]
            a, i = [], 0
            for spec, grp in zip(call.specs, call.leaves):
                a.append(tree_unflatten(spec, duals[i:i + len(grp)]))
                i += len(grp)
            out, aux = _split_aux(fun(*a), has_aux, "jvp")
            outs, spec = _flat_outputs(out)
            prim_outs, tan_outs = [], []
            for o in outs:
                p, t = fwad.unpack_dual(o)
                prim_outs.append(p)
                tan_outs.append(_zeros_like(p) if t is None else t)
        finally:
            V._inner_duals.pop()
    res = (call.out(tree_unflatten(spec, prim_outs)), call.out(tree_unflatten(spec, tan_outs)))
    return res + (call.out(aux),) if has_aux else res


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
        with _Scope("gradkit.func.linearize", call.flat):
            cols = fm.apply(_tangent_leaves(call, tangents))
        return _out_like(call, tree_unflatten(box["spec"], [c[0] for c in cols]), box["out"])

    return call.out(box["out"]), f_jvp


def functionalize(func: Callable[..., Any], *, remove: str = "mutations") -> Callable[..., Any]:
    """``func`` itself, as ``torch.func.functionalize`` promises it: same results, and the inputs
    ``func`` mutates are mutated. gradkit has no graph capture that mutations or views would
    hinder (``torch.fx``'s ``make_fx``), so there is nothing to rewrite; ``remove`` is checked."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}. "
            "Valid options are:\n     remove='mutations': all inplace and out= operators will be "
            "removed from the program, and replaced with their out-of-place equivalents.\n     "
            "remove='mutations_and_views': In addition to the above, all aliasing operators "
            "{view} will be replaced with their non-aliasing counterparts, {view}_copy.\n")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)
    return wrapper


def hvp(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """Hessian-vector product ``H v`` of a scalar function: forward over reverse."""
    return jvp(grad(fun, tuple(range(len(primals)))), tuple(primals), tuple(tangents))[1] \
        if len(primals) > 1 else jvp(grad(fun), tuple(primals), tuple(tangents))[1]


from gradkit.func._vmap import (_vmap_stats, stop_gradient, vmap)  # noqa: E402,F401  (builds on the above)
from gradkit.func._module import (functional_call, replace_all_batch_norm_modules_,  # noqa: E402
                                  stack_module_state)
