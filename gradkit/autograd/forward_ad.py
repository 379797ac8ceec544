"""Forward-mode automatic differentiation with dual tensors (PyTorch's ``torch.autograd.forward_ad``).

A *dual tensor* carries, besides its value (the primal), one tangent per open
*dual level*. Every primitive run on a dual tensor also computes the tangent of
its output from its JVP rule in the derivative table, so a single forward pass
gives the Jacobian-vector product ``J @ v``: real forward mode, not two reverse
passes.

Tangents are computed with gradkit operations, so they can themselves require
grad and be differentiated in reverse (reverse-over-forward), and a backward
pass with ``create_graph=True`` through dual tensors gives dual gradients
(forward-over-reverse: the Hessian-vector product is the tangent of a gradient).
As in PyTorch, with grad mode on a tangent requires grad when its tangents do or
when its formula reads a primal that does (``x * w``, ``x @ w``, ``relu(x)``,
``linear`` with dual weights), so ``jvp.sum().backward()`` works where PyTorch's
does; a primal the formula reads but the tangent does not depend on gets a zero gradient
there, as in PyTorch (inside transforms: none, see ``_attach``). A
tangent keeps the floating dtype its formula computes in, which may differ from its
primal's (a float64 tangent of a float32 primal stays float64 through ``exp``, ``sum``
or ``x * w``); an in-place operation writes into the old tangent's dtype; a complex
tangent of a real output keeps its real part.
Levels nest: a tangent of an inner level carries the tangents of the outer
levels, so ``unpack_dual(inner_tangent, level=outer)`` gives mixed second
derivatives.

Examples
--------
>>> import gradkit.autograd.forward_ad as fwAD
>>> x = gk.tensor([1.0, 2.0, 3.0])
>>> v = gk.tensor([1.0, 0.0, 0.0])
>>> with fwAD.dual_level():
...     y = (fwAD.make_dual(x, v) ** 2).sum()
...     fwAD.unpack_dual(y).tangent
tensor(2.)

A Hessian-vector product, forward-over-reverse:

>>> x = gk.tensor([1.0, 2.0], requires_grad=True)
>>> with fwAD.dual_level():
...     xd = fwAD.make_dual(x, gk.tensor([1.0, 0.0]))
...     (g,) = gk.autograd.grad((xd ** 3).sum(), xd, create_graph=True)
...     fwAD.unpack_dual(g).tangent
tensor([6., 0.], grad_fn=<WhereBackward0>)

Notes
-----
Rows of the table give their forward rule as ``jvp=``: ``ELEMENTWISE`` (the VJP
formulas with the tangent in place of ``g``), ``LINEAR`` (the op applied to the
tangents: jointly linear in its numeric inputs; boolean inputs such as masks are
kept) or one rule per input, ``jvp_i(t, ans, *inputs, **params)``. A row without
one uses the exact transpose of its VJP: ``J t = d/dg <vjp(g), t>``, a reverse
pass through the VJP rules (``fallback_rows()`` lists them).

While no level is open the operations pay one flag check; the flag is on only
between ``enter_dual_level`` and the matching ``exit_dual_level``. Levels belong to
the thread that opened them (PyTorch's are process-wide): two threads can each run
``jvp``/``jacfwd`` without seeing, closing or renumbering the other's levels, and a
thread without a level computes plain values while another has one open.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from typing import Any, NamedTuple, Sequence

import numpy as np

from gradkit._core.tensor import Tensor, _make
from ..ops import _registry as R
from ..ops._registry import ELEMENTWISE, LINEAR, ZERO, Primitive
from . import _thread_state as T
from gradkit._core.concrete import is_differentiating
from gradkit._core.grad_mode import _state
from gradkit.ops.shape import ALIAS
from gradkit.ops.shape import reshape_p

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor", "fallback_rows"]

#: this thread's open levels, innermost last: ``_Level`` entries
_levels: Any = T.PerThreadList()
_INF = 1 << 62
#: tangents are keyed by a process-wide level id, not by the level's number in its thread:
#: two threads' "level 0" are different levels, and a tensor one thread made dual carries
#: nothing into the other thread's level. Ids grow, so nested levels keep their order.
_ids = itertools.count()


class _Level:
    __slots__ = ("gid", "refs")

    def __init__(self, gid: int) -> None:
        self.gid = gid
        #: weak references to the tensors with a tangent at this level
        self.refs: list[Any] = []


class _Cap(threading.local):
    #: only levels below this are seen (a rule for level L computes with levels < L)
    cap = _INF
    #: the ids of this thread's open levels
    mine: frozenset[int] = frozenset()


_cap = _Cap()


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal and the tangent (None when there is none)."""

    primal: Tensor
    tangent: Tensor | None


# --- levels ------------------------------------------------------------------------------
def enter_dual_level() -> int:
    """Open a new (inner) dual level and return its number.

    Prefer the ``dual_level()`` context manager, which also closes it.
    """
    lv = _Level(next(_ids))
    _levels.append(lv)
    _cap.mine = _cap.mine | {lv.gid}
    if T.current_hook() is None:
        T.set_hook(apply_dual)
    return len(_levels) - 1


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the innermost level: every tangent of that level is dropped."""
    if not _levels:
        raise RuntimeError("Trying to exit a forward AD level but no level is currently active. "
                           "Use enter_dual_level() or dual_level() first.")
    if level is not None and level != len(_levels) - 1:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    lv = _levels.pop()
    _cap.mine = _cap.mine - {lv.gid}
    try:
        for ref in lv.refs:
            t = ref()
            if t is not None and t._fw:
                t._fw.pop(lv.gid, None)
    finally:
        if not _levels and T.current_hook() is apply_dual:
            T.set_hook(None)


class dual_level:
    """Context manager for a dual level; ``as`` gives the level number.

    Examples
    --------
    >>> import gradkit.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level() as level:
    ...     d = fwAD.make_dual(gk.tensor(2.0), gk.tensor(1.0), level=level)
    ...     fwAD.unpack_dual(gk.exp(d), level=level).tangent
    tensor(7.3891)
    """

    def __enter__(self) -> int:
        self.level = enter_dual_level()
        return self.level

    def __exit__(self, *exc: object) -> None:
        exit_dual_level(level=self.level)


def _current(level: int | None, what: str) -> int:
    if level is None:
        if not _levels:
            raise RuntimeError(f"Trying to {what} for forward AD but no level exists, make sure "
                               "to enter_dual_level() first.")
        return _levels[-1].gid
    if not 0 <= level < len(_levels):
        raise RuntimeError(f"Trying to {what} at level {level}, which is not an active dual "
                           f"level (active levels: {list(range(len(_levels)))}).")
    return _levels[level].gid


# --- dual tensors --------------------------------------------------------------------------
def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` that carries ``tangent`` at ``level`` (default: the innermost).

    The result shares memory and autograd history with ``tensor`` (gradients flow
    back to it), and keeps the tangents ``tensor`` has at other levels.

    Parameters
    ----------
    tensor : Tensor
        The primal, floating point.
    tangent : Tensor
        Same shape as ``tensor``, floating point or complex (its dtype may differ from the
        primal's, as in PyTorch); stored as is (it may require grad).
    level : int, optional
        An open dual level.

    Returns
    -------
    Tensor
        The dual tensor.
    """
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual expects Tensors for both the primal and the tangent, got "
                        f"{type(tensor).__name__} and {type(tangent).__name__}")
    lvl = _current(level, "create a dual Tensor")
    if tensor._data.dtype.kind not in "fcV":
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than that "
                           "of the original Tensor, this is not supported. Tensor is of size "
                           f"{list(tensor._data.shape)} while the given forward gradient is of size "
                           f"{list(tangent._data.shape)}.")
    if tangent._data.dtype.kind not in "fcV":
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    # NOTE: a tangent of another floating dtype is kept as it is (PyTorch does the same): the
    # tangents computed from it have the dtype the rules' arithmetic promotes to.
    with _capped(lvl + 1):                  # keep the other levels' tangents, not this one's
        dual = R.apply(reshape_p.prim, (tensor,), {"shape": tensor._data.shape}, ALIAS)
    dual._vc = tensor._vc
    if tangent._fw and any(k >= lvl for k in tangent._fw):
        with _capped(lvl):                 # NOTE: eps**2 = 0: a tangent has no tangent of its level
            tangent = R.apply(reshape_p.prim, (tangent,), {"shape": tangent._data.shape}, ALIAS)
    _set(dual, lvl, tangent)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """Split a dual tensor into ``(primal, tangent)`` at ``level`` (default: the innermost).

    ``primal`` is a view of ``tensor`` without that level's tangent (gradients flow
    through it); ``tangent`` is None when ``tensor`` has none there. Outside any
    level, ``(tensor, None)``.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual expects a Tensor, got {type(tensor).__name__}")
    if level is None and not _levels:
        return UnpackedDualTensor(tensor, None)
    lvl = _current(level, "unpack a dual Tensor")
    fw = tensor._fw
    if not fw or lvl not in fw:
        return UnpackedDualTensor(tensor, None)
    with _capped(0):
        primal = R.apply(reshape_p.prim, (tensor,), {"shape": tensor._data.shape}, ALIAS)
    primal._vc = tensor._vc
    for k, t in fw.items():
        if k != lvl:
            _set(primal, k, t)
    return UnpackedDualTensor(primal, fw[lvl])


def fallback_rows() -> list[str]:
    """Names of the differentiable rows whose JVP is the transpose of their VJP (no ``jvp=``)."""
    return sorted(name for name, p in R.REGISTRY.items() if p.differentiable and p.jvp is None)


# --- the hook every primitive runs while a level is open -------------------------------------
class _capped:
    __slots__ = ("cap", "prev")

    def __init__(self, cap: int) -> None:
        self.cap = cap

    def __enter__(self) -> None:
        self.prev = _cap.cap
        _cap.cap = min(self.cap, self.prev)

    def __exit__(self, *exc: object) -> None:
        _cap.cap = self.prev


def _set(t: Tensor, level: int, tangent: Tensor) -> None:
    fw = t._fw
    if fw is None:
        fw = t._fw = {}
    if level not in fw:
        for lv in _levels.items:
            if lv.gid == level:
                lv.refs.append(weakref.ref(t))
                break
        else:
            raise T.foreign_level_error("forward AD")
    fw[level] = tangent


def _dual_levels(args: Sequence[Any]) -> list[int]:
    cap = _cap.cap
    mine = _cap.mine
    found: set[int] = set()
    for a in args:
        if isinstance(a, Tensor):
            fw = a._fw
            if fw:
                for k in fw:
                    if k not in mine:
                        # NOTE: another thread's level (ids are process-wide, so it cannot
                        # pass for one of this thread's): refuse rather than drop or mix it
                        raise T.foreign_level_error("forward AD")
                    if k < cap:
                        found.add(k)
    return sorted(found)


def apply_dual(prim: Primitive, args: Sequence[Any], params: dict[str, Any] | None,
               variant: int) -> Any:
    """Run ``prim`` and give its outputs the tangents of every level its inputs carry."""
    out = R.apply(prim, args, params, variant, True)
    if not prim.differentiable:
        return out
    levels = _dual_levels(args)
    if not levels:
        return out
    return _give_tangents(prim, args, params, variant, out, levels)


def apply_dual_over(prim: Primitive, args: Sequence[Any], params: dict[str, Any] | None,
                    variant: int, base: Any, lowest: int) -> Any:
    """``apply_dual`` for the levels from ``lowest`` on, with ``base(prim, args, params,
    variant)`` computing the primal output (seeing only the levels below ``lowest``).

    ``gradkit.func`` runs it for dual levels opened inside a vmap (``vmap(jvp)``): ``base``
    is the batching rule, and the tangents' rules run on batched tensors through vmap.
    """
    with _capped(lowest):
        out = base(prim, args, params, variant)
    if not prim.differentiable:
        return out
    levels = [lv for lv in _dual_levels(args) if lv >= lowest]
    if not levels:
        return out
    return _give_tangents(prim, args, params, variant, out, levels)


def _give_tangents(prim: Primitive, args: Sequence[Any], params: dict[str, Any] | None,
                   variant: int, out: Any, levels: list[int]) -> Any:
    outs = (out,) if prim.n_out == 1 else out
    params = params or {}
    for lvl in levels:                      # ascending: ``ans`` then carries the lower levels
        tangents = [a._fw.get(lvl) if isinstance(a, Tensor) and a._fw else None for a in args]
        with _capped(lvl):
            tans = _out_tangents(prim, args, params, variant, out, outs, tangents)
            deps = _grad_deps(prim, args, tangents, not is_differentiating()) \
                if _state.grad_enabled else ()
            if deps:
                tans = [None if t is None else _attach(t, deps) for t in tans]
        for o, tan in zip(outs, tans):
            if tan is not None and o._data.dtype.kind in "fcV":
                _set(o, lvl, _fit(tan, o))
    if prim.save_ans:
        _link_ans(prim, outs)
    return out


#: per rule function: the argument positions its code reads (1: ``ans``, 2 on: the inputs),
#: or None when that cannot be told (a marker, ``*args``)
_rule_reads_cache: dict[Any, frozenset[int] | None] = {}


def _rule_reads(rule: Any) -> frozenset[int] | None:
    try:
        return _rule_reads_cache[rule]
    except (KeyError, TypeError):
        pass
    code = getattr(rule, "__code__", None)
    if code is None or code.co_flags & 0x0C:
        res = None
    else:
        import dis
        names = code.co_varnames[:code.co_argcount]
        used = {ins.argval for ins in dis.get_instructions(code) if ins.opname.startswith("LOAD_")}
        res = frozenset(i for i, nm in enumerate(names) if i and nm in used)
    try:
        _rule_reads_cache[rule] = res
    except TypeError:
        pass
    return res


def _grad_deps(prim: Primitive, args: Sequence[Any], tangents: list[Any],
               numbers: bool = True) -> list[Tensor]:
    """The inputs requiring grad whose values the output's tangent is a function of.

    PyTorch evaluates a JVP formula on the primals (a missing tangent counts as zeros), so
    with grad mode on, the tangent of ``x * w``, ``x @ w``, ``relu(x)`` or ``linear`` requires
    grad when a primal the formula reads does, even where it does not depend on its value
    (``jvp.sum().backward()`` works, not an error; see ``_attach``). A rule that only moves
    tangents around (``LINEAR``: sum, index, cat, ...) or reads only masks (``where``) does
    not make it so.
    """
    rule = prim.jvp
    if rule is LINEAR:
        return []
    rg = [a._rg and a._data.dtype.kind in "fcV" if isinstance(a, Tensor) else False for a in args]
    if not any(rg):
        return []
    if rule is None:
        read: set[int] | None = None
    else:
        rules = prim.vjp if rule is ELEMENTWISE else rule if isinstance(rule, tuple) else (rule,)
        read = set()
        for rule_i, a in zip(rules, args):
            # NOTE: a float input without a tangent counts too: its zero tangent meets the
            # other primals in PyTorch's formula (``x_t * w + w_t * x``)
            # (a Python number too, outside transforms: PyTorch wraps it, so ``x * 2`` reads
            # ``x`` for the number's zero tangent, and ``x.grad`` gets zeros)
            if rule_i is None or rule_i is ZERO or (
                    a._data.dtype.kind not in "fcV" if isinstance(a, Tensor)
                    else not numbers or isinstance(a, bool) or not isinstance(a, (int, float))):
                continue
            r = _rule_reads(rule_i)
            if r is None or 1 in r:           # unknown, or the answer: a function of all inputs
                read = None
                break
            read.update(i - 2 for i in r)
    return [a for i, a in enumerate(args) if rg[i] and (read is None or i in read)]


def _attach(tan: Any, deps: Sequence[Tensor]) -> Any:
    """``tan`` unchanged, requiring grad as PyTorch's tangent does when its formula reads
    primals that require grad (``deps``), though it does not depend on their values.

    As in PyTorch, a backward through it gives such primals a zero gradient (``x.grad`` is
    zeros, not None): ``where(False, z, tan)`` with ``z`` a 0-d zero summed from an empty
    slice of each dependency (no arithmetic on the tangent's values: an inf stays an inf).
    A tangent that already requires grad gets the links to the primals its graph does not
    reach within a few nodes (``x * w``: ``x``; ``sin``: none, its rule reads ``cos(x)``).
    """
    if not isinstance(tan, Tensor) or not deps:
        return tan
    inside = is_differentiating()
    if tan._rg:
        if inside:
            return tan
        deps = _unreached(tan, deps)
        if not deps:
            return tan
    from ..ops.elementwise import where
    if inside:
        # NOTE: inside transforms (gradkit.func's jacfwd(jacfwd(f)), hessian; autograd.functional,
        # whose PyTorch counterpart is the double-backward trick) the zero
        # gradients would be dense arrays walked by every outer pass, for nothing: a fresh
        # anchor leaf instead, never seen by the user, where the gradient stops
        anchor = _make(np.zeros((), dtype=tan._data.dtype), True, None)
        return where(_FALSE, anchor, tan)
    from ..ops.reduction import sum_p
    z = None
    for d in deps:
        zd = sum_p(reshape_p(d, shape=(-1,))[:0])
        z = zd if z is None else z + zd
    if z._data.dtype != tan._data.dtype:
        from ..ops.shape import to_p
        z = to_p(z, dtype=tan._data.dtype)
    return where(_FALSE, z, tan)


_FALSE = _make(np.asarray(False), False, None)


def _unreached(tan: Tensor, deps: Sequence[Tensor], hops: int = 4) -> list[Tensor]:
    """The ``deps`` that ``tan``'s graph does not reach within ``hops`` nodes (a rule's own
    arithmetic is a few nodes deep; one found further is linked again, which adds zeros)."""
    want = {(id(d) if d._fn is None else (id(d._fn), d._oi)): d for d in deps}
    frontier = [tan._fn]
    seen: set[int] = set()
    for _ in range(hops):
        nxt = []
        for node in frontier:
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            for edge in getattr(node, "next", ()):
                if edge is None:
                    continue
                if type(edge) is tuple:
                    want.pop((id(edge[0]), edge[1]), None)
                    nxt.append(edge[0])
                else:
                    want.pop(id(edge), None)
            if not want:
                return []
        frontier = nxt
    return list(want.values())


def _link_ans(prim: Primitive, outs: Sequence[Tensor]) -> None:
    """Let the node's saved answer carry the tangents (for a double backward through duals)."""
    node = next((o._fn for o in outs if o._fn is not None), None)
    if node is None or getattr(node, "prim", None) is not prim:
        return
    node.ans_fw = outs[0]._fw if prim.n_out == 1 else tuple(o._fw for o in outs)


def _out_tangents(prim: Primitive, args: Sequence[Any], params: dict[str, Any], variant: int,
                  out: Any, outs: Sequence[Tensor], tangents: list[Any]) -> Sequence[Any]:
    rule = prim.jvp
    if rule is LINEAR:
        targs = [_linear_arg(a, t, prim.name) for a, t in zip(args, tangents)]
        res = R.apply(prim, targs, params, variant)
        return (res,) if prim.n_out == 1 else res
    if rule is None:
        return _transpose_jvp(prim, args, params, out, outs, tangents)
    rargs = _rule_inputs(prim, args, outs[0])
    flip = False
    if rule is ELEMENTWISE:
        rules: Sequence[Any] = prim.vjp
        # NOTE: VJP rules give g * conj(f'(z)) (PyTorch's convention for complex inputs); the
        # JVP t * f'(z) is then conj(vjp(conj(t))). Real dtypes skip this.
        flip = any(_is_complex(v) for v in (*outs, *tangents))
    elif isinstance(rule, tuple):
        rules = rule
    else:
        rules = (rule,)
    total: list[Any] = [None] * len(outs)
    for rule_i, t in zip(rules, tangents):
        if t is None or rule_i is None or rule_i is ZERO:
            continue
        if flip:
            from ..ops.elementwise import _cj
            r = _cj(rule_i(_cj(t), out, *rargs, **params))
        else:
            r = rule_i(t, out, *rargs, **params)
        for k, rk in enumerate((r,) if prim.n_out == 1 else r):
            if rk is not None:
                rk = _fit(rk, outs[k])
                total[k] = rk if total[k] is None else total[k] + rk
    return [_zeros(o) if tot is None else tot for o, tot in zip(outs, total)]


def _is_complex(v: Any) -> bool:
    d = v._data if isinstance(v, Tensor) else v
    return getattr(getattr(d, "dtype", None), "kind", "") == "c"


def _linear_arg(a: Any, t: Any, name: str = "") -> Any:
    """An input of a LINEAR op in its tangent computation: numbers become 0, masks stay.

    A boolean operand of a sum (``x + (x == 0)``) is a number, not a mask: it becomes False.
    """
    if t is not None:
        return t
    if isinstance(a, Tensor):
        if a._data.dtype.kind == "b" and name in ("add", "sub"):
            return _make(np.zeros(a._data.shape, dtype=bool), False, None)
        return a if a._data.dtype.kind == "b" else _zeros(a)
    if isinstance(a, bool) or a is None:
        return a
    if isinstance(a, (int, float, complex)):
        return type(a)(0)
    if isinstance(a, np.ndarray) and a.dtype.kind in "iufc":
        return np.zeros_like(a)
    return a


def _rule_inputs(prim: Primitive, args: Sequence[Any], out: Tensor) -> list[Any]:
    """The inputs as the rules see them: promoted to the output's dtype, as in a double backward."""
    if prim.promote is None:
        return list(args)
    dt = out._data.dtype
    # NOTE: a complex input of a real-valued op (angle, abs) keeps its dtype
    return [a.to(dt) if isinstance(a, Tensor) and a._data.dtype != dt and dt.kind in "fcV"
            and not (a._data.dtype.kind == "c" and dt.kind != "c") else a for a in args]


def _zeros(like: Any) -> Tensor:
    return _make(np.zeros(like._data.shape, dtype=like._data.dtype), False, None)


def _fit(r: Any, o: Tensor) -> Tensor:
    """A rule's result as a Tensor with the output's shape, and a floating dtype.

    As in PyTorch, a tangent keeps the dtype its formula computes in, which may differ from
    the primal's (a float64 tangent of a float32 primal stays float64 through ``exp``, ``sum``
    or ``x * w``; a float16 tangent of ``x + 1`` stays float16). A complex tangent of a real
    output becomes real (PyTorch keeps the real part); a real tangent of a complex output, or
    an integer or boolean result, takes the output's dtype.
    """
    od = o._data.dtype
    if not isinstance(r, Tensor):
        r = _make(np.asarray(r, dtype=od), False, None)
    if r._data.shape != o._data.shape:
        from ..ops.shape import expand_p
        r = expand_p(r, shape=o._data.shape)
    rd = r._data.dtype
    if rd != od and not (rd.kind == od.kind and rd.kind in "fcV"):
        from ..ops.shape import to_p
        if rd.kind == "c" and od.kind in "fV":
            r = r.real
            if r._data.dtype.kind in "fV":
                return r
        r = to_p(r, dtype=od)
    return r


def _transpose_jvp(prim: Primitive, args: Sequence[Any], params: dict[str, Any], out: Any,
                   outs: Sequence[Tensor], tangents: list[Any]) -> list[Any]:
    """``J t = d/dg <vjp(g), t>``: exact, through a reverse pass over the VJP rules."""
    from .engine import run_backward
    prev, prev_conj = _state.grad_enabled, _state.complex_conj
    _state.grad_enabled = True
    _state.complex_conj = False         # an internal backward: the rules' own (PyTorch's) convention
    try:
        # NOTE: a tangent of a wider dtype than the primals' widens the seeds: J t is then
        # computed (and kept) in that dtype, as an explicit rule's arithmetic would
        tds = [t._data.dtype for t in tangents if isinstance(t, Tensor) and t._data.dtype.kind in "fV"]
        seeds = [_make(np.zeros(o._data.shape, dtype=np.result_type(o._data.dtype, *tds)
                                if o._data.dtype.kind in "fV" else o._data.dtype),
                       o._data.dtype.kind in "fcV", None) for o in outs]
        g = seeds[0] if prim.n_out == 1 else tuple(seeds)
        rargs = _rule_inputs(prim, args, outs[0])
        if prim.vjp_all is not None:
            us = prim.vjp_all(g, out, *rargs, **params)
        else:
            us = [None if t is None or rule is None or rule is ZERO else rule(g, out, *rargs, **params)
                  for rule, t in zip(prim.vjp, tangents)]
        s = None
        for u, t in zip(us, tangents):
            if u is not None and t is not None and isinstance(u, Tensor) and u._rg:
                # NOTE: the VJP is the adjoint for Re<a, b> = Re sum(conj(a) b) (PyTorch's
                # convention), so J t is the gradient in g of Re<vjp(g), t>.
                term = ((u.conj() * t).real if _is_complex(u) or _is_complex(t) else u * t).sum()
                s = term if s is None else s + term
        need = [sd for sd in seeds if sd._rg]
        grads = [None] * len(need)
        if s is not None and need:
            grads = run_backward(s, None, True, True, inputs=need, capture=True, allow_unused=True)
    finally:
        _state.grad_enabled, _state.complex_conj = prev, prev_conj
    it = iter(grads)
    res = []
    for o, sd in zip(outs, seeds):
        gk = next(it) if sd._rg else None
        if gk is None:
            res.append(_zeros(o) if sd._rg else None)
        elif not prev:
            res.append(_detached(gk))
        else:
            res.append(gk)
    return res


def _detached(t: Tensor) -> Tensor:
    d = t.detach()
    if t._fw:
        for k, v in t._fw.items():
            _set(d, k, v)
    return d


# --- in-place operations and custom Functions: _forward_inplace.py ------------------------
from ._forward_inplace import (SURFACE, _adopt, _adopt_through_view, _dual_call,  # noqa: E402,F401
                               _function_apply, _function_apply_if_dual, _inplace_dual,
                               _link_inplace_ans, _retangent_views, _setitem_dual, _with_fw)


# NOTE: registered, not imported by function.py, so function.py does not import this module
from . import function as _function  # noqa: E402

_function._FORWARD_APPLY[:] = [_function_apply_if_dual]
