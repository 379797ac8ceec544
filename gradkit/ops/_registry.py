"""The derivative table's machinery: ``defop``, ``Primitive`` and how an op is applied.

A primitive is declared once with its forward (a NumPy function) and one
derivative rule per input, ``vjp(g, ans, *inputs, **params)``. Rules are
written with gradkit's own operations, which accept either ndarrays or
Tensors: during a plain ``backward()`` the engine hands them ndarrays (fast,
nothing is recorded); with ``create_graph=True`` it hands them Tensors, so the
gradient is itself on the graph and can be differentiated again.
"""

from __future__ import annotations

import functools
import sys
import warnings
import weakref
from typing import Any, Callable, Sequence

import numpy as np

from gradkit._core import backend as _backend
from gradkit._core import dtype as _dtype
from gradkit._core.tensor import (INFERENCE_EVER as _INF_EVER, SAVE_INFERENCE, Tensor,
                                  _INFERENCE_DETACHED, _INFERENCE_VC,
                                  _make)
from gradkit._core.graph import SAVED_HOOKS_ON, ConstRef, Meta
from gradkit._core.sites import Why, site
from gradkit._core.grad_mode import _state
from . import _saved

__all__ = ["defop", "Primitive", "REGISTRY", "ZERO", "ELEMENTWISE", "LINEAR", "apply", "op",
           "BATCH_KINDS", "BATCHED_VJP_KINDS"]

# NOTE: PyTorch returns inf/nan silently for log(0), sqrt(-1), 1/0, overflow, inf - inf;
# NumPy warns, and the warning would point at gradkit's own files. Forwards and rules run
# in gradkit.ops modules, so one filter on those modules silences them at no cost per op
# (``np.errstate`` around each forward costs about 1.6 us, more than the op itself).
# NumPy's own reductions (np.sum of inf - inf ...) warn from numpy's files and are not
# covered. A user's later ``warnings.simplefilter("error")`` still takes precedence.
# ``warnings.catch_warnings()`` swaps in a copy of the filter list and puts the old list back
# on exit, so a filter added inside such a block (pytest imports test modules, and runs
# each test, inside one) is lost: the apply paths compare the list they filtered with the
# current one (an identity check, ~20 ns) and put the filter back when it was swapped.
_FILTER_MODULE = r"gradkit\.ops\."
_filtered: list[Any] | None = None


def _refilter() -> None:
    """Install the RuntimeWarning filter on the current ``warnings.filters`` list."""
    global _filtered
    filters = warnings.filters
    for f in filters:
        mod = f[3]
        if f[0] == "ignore" and f[2] is RuntimeWarning and mod is not None and \
                getattr(mod, "pattern", None) == _FILTER_MODULE:
            break
    else:
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=_FILTER_MODULE)
        filters = warnings.filters
    _filtered = filters


_refilter()

#: True while a dual level is open; the one check the apply paths make for forward mode
_fw_on = False
#: forward_ad's ``apply_dual(prim, args, params, variant)``, installed when a level opens
_fw_hook: Any = None


class _Marker:
    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return self.label


#: the gradient is zero (piecewise-constant ops such as ``floor``)
ZERO = _Marker("ZERO")
#: forward mode reuses the VJP formulas with the tangent in place of ``g``
ELEMENTWISE = _Marker("ELEMENTWISE")
#: forward mode applies the operation itself to the tangent
LINEAR = _Marker("LINEAR")

#: name -> Primitive
REGISTRY: dict[str, Primitive] = {}

#: how ``vmap`` batches a row (``defop(..., batch=...)``); ``gradkit/func/_batching_rules.py``
#: holds one rule per kind. A row marked ``jvp=ELEMENTWISE`` is ``"elementwise"`` unless it says
#: otherwise; a row with no kind runs per example (vmap's loop).
BATCH_KINDS = frozenset({
    "elementwise",     # operands broadcast after the batch axis
    "reduction",       # a ``dim`` parameter of dims (or None: all of them)
    "arg_reduction",   # argmax/argmin: an int ``dim`` or None (flattened)
    "int_dim",         # one int ``dim`` parameter
    "reshape", "expand", "repeat",   # a shape/repeats parameter gains the batch size in front
    "dims",            # a ``dims`` parameter (permute, flip, roll)
    "trailing",        # acts on the trailing two dims only (tril, triu)
    "diagonal", "getitem", "einsum", "matmul",
    "cat",             # several operands joined along ``dim`` (cat, stack)
    "unbind",          # several outputs along ``dim`` (unbind, split)
    "addmm",           # the fused linear: its matmul and add
    "loss",            # an elementwise loss row: unreduced, then reduced per example
    "native_norm",     # layer norm with a shared weight and bias (batch/group norm: the loop)
    "convolution",     # the batch axis folds into N (shared weight and bias)
})
#: the batched VJP rules of ``gradkit/autograd/_batched.py`` (``defop(..., batched_vjp=...)``): one
#: backward walk for a batch of cotangents. ``"broadcast"``: the row's own rules broadcast over
#: the batch axis (as every ``jvp=ELEMENTWISE`` row's do). A row with none runs its rule per row.
BATCHED_VJP_KINDS = frozenset({"broadcast", "identity", "reshape", "permute", "sum", "mean",
                               "logsumexp", "matmul", "stack", "unbind"})

_ndarray = np.ndarray
_asarray = np.asarray
_KIND = _backend._KIND
_as_data = _backend.as_data


#: NumPy's scalar types: what a forward on 0-d inputs returns (made 0-d arrays at once)
_NP_SCALARS = frozenset(t for t in np.sctypeDict.values() if issubclass(t, np.generic))


def _as_out(out: Any) -> Any:
    """A forward's result as an array: NumPy scalars become 0-d ndarrays, Dask/CuPy stay."""
    b = _KIND.get(type(out), 0)
    if b is None:
        return _asarray(out)
    return out if b else _as_data(out)


# NOTE: the node class lives in _node.py (it reads ZERO above); re-exported here
from ._node import PrimNode, _zeros  # noqa: E402,F401


class Primitive:
    """One row of the derivative table."""

    def __init__(self, name: str, fwd: Callable[..., Any], vjp: Any, jvp: Any,
                 names: Sequence[str], save_inputs: bool, save_ans: bool, promote: str | None,
                 differentiable: bool, n_out: int, vjp_all: Any = None) -> None:
        self.name = name
        self.fwd = fwd
        self.vjp_all = vjp_all
        self.scalar_ok = False
        self.vjp = vjp if isinstance(vjp, tuple) else (vjp,)
        self.jvp = jvp
        self.save_inputs = save_inputs
        self.save_ans = save_ans or n_out != 1
        #: whether nodes keep values for backward; only those record a source location (a
        #: linear op saving nothing cannot be "modified in place" nor make a nan from finite g)
        self.saves = self.save_inputs or self.save_ans
        self.promote = promote
        self.differentiable = differentiable
        self.n_out = n_out
        self.node_classes = tuple(type(n, (PrimNode,), {"__slots__": ()}) for n in names)
        #: on lazy (Dask) inputs: True (forward and rules stay lazy), "forward" (only the
        #: forward does), False (neither), or a function of the params giving one of those
        self.lazy: Any = True
        self.lazy_why = ""
        #: vmap's batching kind (``BATCH_KINDS``) and the batched VJP kind (``BATCHED_VJP_KINDS``)
        self.batch: str | None = "elementwise" if jvp is ELEMENTWISE else None
        self.batched_vjp: str | None = None
        #: the name variants that are PyTorch's Scalar overloads: no ``next_functions`` slot
        #: for a number input
        self.scalar_variants: tuple[int, ...] = ()
        #: on bfloat16 inputs: False (the forward runs in float32 and rounds its floating
        #: results once to bfloat16, as PyTorch's CPU kernels do) or True (it runs on the
        #: bfloat16 arrays themselves: views, copies, dtype casts)
        self.bf16_native = False
        #: on bfloat16 inputs, a forward and VJP rules (on float32 arrays, like ``fwd``'s) that
        #: round where PyTorch's kernel does (``bf16_rules``); None: ``fwd`` and ``vjp``
        self.bf16_fwd: Any = None
        self.bf16_vjp: Any = None
        #: PyTorch rounds a Python number operand to bfloat16 first (add, sub: not mul, div)
        self.bf16_round_numbers = False
        #: on uint16/uint32/uint64 arrays (PyTorch's limited support): False (PyTorch's "not
        #: implemented" error), True (run), or "int64" (run on them as int64: sums, products)
        self.uint_ok: Any = False

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"

    @functools.cached_property
    def reads_inputs(self) -> bool:
        """Whether any rule reads its inputs (values or just shapes); if not, none are unpacked.

        Worked out from the rules' bytecode on first use, then cached on the instance.
        """
        rules = (self.vjp_all,) if self.vjp_all is not None else self.vjp
        return any(_reads_inputs(r) for r in rules if r is not None)

    @functools.cached_property
    def keeps(self) -> tuple[tuple[bool, bool], tuple[bool, bool]]:
        """For a binary row: which inputs (x, y) a node keeps when only x, or only y, takes a
        gradient, read from the rules' bytecode (both when it cannot be told).

        A node saves only what the rules of its differentiable inputs read, as PyTorch does:
        ``x * 2`` keeps no reference to ``x`` (its rule is ``g * 2``), so an in-place change of
        ``x`` afterwards is no error.
        """
        out = []
        for i in (0, 1):
            rule = self.vjp[i] if self.vjp_all is None and i < len(self.vjp) else None
            code = getattr(rule, "__code__", None)
            if self.vjp_all is None and i < len(self.vjp) and rule is None:
                out.append((False, False))           # no gradient for it: nothing to keep
            elif code is None or code.co_flags & 0x0C or code.co_argcount != 2 + len(self.vjp):
                out.append((True, True))
            else:
                used = _loaded(code)
                out.append(tuple(nm in used for nm in code.co_varnames[2:4]))
        return (out[0], out[1])


def _loaded(code: Any) -> set[Any]:
    """The names a code object loads (arguments and globals alike)."""
    import dis
    return {ins.argval for ins in dis.get_instructions(code) if ins.opname.startswith("LOAD_")}


def _reads_inputs(rule: Any) -> bool:
    """Whether a rule's code refers to any of its input arguments (beyond ``g`` and ``ans``)."""
    code = getattr(rule, "__code__", None)
    if code is None:
        return True                            # ZERO and other markers need the shapes
    n = code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & 0x04)
    names = set(code.co_varnames[2:n]) - set(code.co_varnames[code.co_argcount:
                                                                code.co_argcount +
                                                                code.co_kwonlyargcount])
    if code.co_flags & 0x04:
        names.add(code.co_varnames[code.co_argcount + code.co_kwonlyargcount])
    return bool(names & _loaded(code))


def defop(name: str, fwd: Callable[..., Any], vjp: Any = None, jvp: Any = None, *,
          names: Sequence[str] | str | None = None, save_inputs: bool = True,
          save_ans: bool = False, promote: str | None = None, differentiable: bool = True,
          n_out: int = 1, vjp_all: Any = None, scalar_ok: bool = False, batch: str | None = None,
          batched_vjp: str | None = None,
          scalar_variants: tuple[int, ...] = ()) -> Callable[..., Any]:
    """Declare a primitive and return its function (works on Tensors and on ndarrays).

    Parameters
    ----------
    name : str
        Table key; also gives the default node name (``mul`` -> ``MulBackward0``).
    fwd : callable
        ``fwd(*arrays, **params) -> ndarray`` (or a tuple when ``n_out > 1``).
    vjp : callable, tuple, ZERO or None
        One rule per positional input, ``vjp(g, ans, *inputs, **params)``.
    names : str or sequence of str
        Node class names; ``apply(..., variant=i)`` picks one.
    save_inputs, save_ans : bool
        What the rules read; an input that is not saved reaches the rule as an
        object with only ``shape``, ``ndim`` and ``dtype``.
    promote : {"same", "float", None}
        PyTorch's type promotion over the inputs; "float" also turns integer
        results into the default floating dtype (``exp``, ``div``).
    differentiable : bool
        False for ops whose outputs never require grad (comparisons, argmax).
    vjp_all : callable, optional
        For ops with a variable number of inputs (``cat``): one rule returning
        the gradients of all inputs as a tuple.
    scalar_ok : bool
        The forward also accepts NumPy scalars; 0-d tensors then skip 0-d array
        overhead (about 10x on scalar arithmetic).
    batch : str, optional
        How ``vmap`` batches the row, one of ``BATCH_KINDS`` (default: ``"elementwise"`` for a
        ``jvp=ELEMENTWISE`` row, else none: vmap runs it per example).
    batched_vjp : str, optional
        The batched VJP rule for a batch of cotangents, one of ``BATCHED_VJP_KINDS`` (default:
        the row's rules broadcast when ``jvp=ELEMENTWISE``, else they run once per row).
    scalar_variants : tuple of int
        The ``names`` variants that are PyTorch's Scalar overloads: a number input has no
        ``next_functions`` slot there (``masked_fill(mask, 0.0)``, ``MulBackward1``).
    """
    if batch is not None and batch not in BATCH_KINDS:
        raise ValueError(f"defop({name!r}): unknown batch kind {batch!r}")
    if batched_vjp is not None and batched_vjp not in BATCHED_VJP_KINDS:
        raise ValueError(f"defop({name!r}): unknown batched_vjp kind {batched_vjp!r}")
    if names is None:
        names = ("".join(p.capitalize() for p in name.split("_")) + "Backward0",)
    elif isinstance(names, str):
        names = (names,)
    prim = Primitive(name, fwd, vjp, jvp, names, save_inputs, save_ans, promote,
                     differentiable and (vjp is not None or vjp_all is not None), n_out, vjp_all)
    prim.scalar_ok = scalar_ok
    if batch is not None:
        prim.batch = batch
    prim.batched_vjp = batched_vjp
    prim.scalar_variants = tuple(scalar_variants)
    REGISTRY[name] = prim
    return op(prim)


def op(prim: Primitive, variant: int = 0) -> Callable[..., Any]:
    """The function form of a primitive: Tensors in, Tensor out; ndarrays in, ndarray out."""
    fwd = prim.fwd
    single = prim.n_out == 1
    bf16 = _BF16                      # a closure cell: one read fewer than the global per call

    def fn(*args: Any, **params: Any) -> Any:
        for a in args:
            if isinstance(a, Tensor):
                if single and isinstance(args[0], Tensor):
                    if len(args) == 1:
                        return apply1(prim, a, params or None, variant)
                    if len(args) == 2 and not params and not variant:
                        return apply2(prim, args[0], args[1])
                return apply(prim, args, params, variant)
        # NOTE: on raw arrays (rules during a plain backward) a 0-d result may stay a NumPy
        # scalar; the engine and the rules accept both.
        if bf16[0] is not None and not prim.bf16_native and _has_bf16(args):
            return _bf16_forward(prim, args, params)
        return fwd(*args, **params) if params else fwd(*args)

    fn.__name__ = fn.__qualname__ = prim.name
    fn.prim = prim  # type: ignore[attr-defined]
    return fn


def _edge(a: Tensor) -> Any:
    fn = a._fn
    if fn is not None:
        return (fn, a._oi)
    return a if a._rg else None


def apply1(prim: Primitive, x: Tensor, params: dict[str, Any] | None = None,
           variant: int = 0) -> Tensor:
    """Fast path of ``apply`` for a single-output op of one Tensor."""
    if warnings.filters is not _filtered:
        _refilter()
    if _fw_on:
        return _fw_hook(prim, (x,), params, variant)
    xd = x._data
    if prim.lazy is not True and type(xd) is not _ndarray:
        _check_lazy(prim, (xd,), x._rg, params)
    cast = None
    if xd.dtype.kind not in "fc":
        if xd.dtype.kind == "V":                 # bfloat16
            return apply(prim, (x,), params, variant)
        if prim.promote is not None and (prim.promote == "float" or (
                params and any(type(v) is float for v in params.values()))):
            cast = _dtype.get_default_dtype().np
            xd = xd.astype(cast)
        elif _UINT_ON[0] and xd.dtype in _WIDE_U:
            one = [xd]
            _uint_rows(prim, one)
            xd = one[0]
    xs = xd[()] if prim.scalar_ok and xd.ndim == 0 else xd
    try:
        out = prim.fwd(xs, **params) if params else prim.fwd(xs)
    except TypeError:
        _no_kernel(prim, [xd])
        raise
    if type(out) is not _ndarray:
        out = _asarray(out) if type(out) in _NP_SCALARS else _as_out(out)
    if not (x._rg and prim.differentiable and _state.grad_enabled):
        t = _make(out, False, None)
        if x._rg:
            _dropped(t, prim, (x,), params)
        else:
            w = x._why
            if w is not None:
                t._why = w
        return t
    # NOTE: the node's set-up is written out here and in apply2 rather than shared with
    # _node(): a helper call would cost about 5% of a recorded scalar op.
    node = prim.node_classes[variant]()
    if _state.anomaly:
        node._init_node()
    node.prim = prim
    node.params = params
    node.site = site(3) if _state.record_sites and prim.saves else None
    if cast is not None:
        node.cast = cast
    node.next = (_edge(x),)
    node.meta = None if xd.shape == out.shape and xd.dtype is out.dtype else \
        ((xd.shape, xd.dtype),)
    if prim.save_inputs:
        vc = x._vc
        if _INF_EVER[0] and (vc is _INFERENCE_VC or vc is _INFERENCE_DETACHED):
            raise RuntimeError(SAVE_INFERENCE)
        node.args = (x,)
        node.vers = (vc[0],)
    else:
        node.args = None
    return _output(prim, node, out)


#: what a node keeps in place of an input none of its needed rules reads
_UNSAVED = Meta((), None)

#: constant tensors up to this many elements are kept by the node (for explain after backward)
_KEEP = 1024
_wref = weakref.ref


def _kept(a: Any) -> Any:
    """A constant input as a node keeps it: numbers and small arrays themselves, larger
    tensors and ndarrays weakly."""
    if isinstance(a, Tensor):
        return a if a._data.size <= _KEEP else _wref(a)
    if isinstance(a, _ndarray) and a.size > _KEEP:
        return _wref(a)
    return a


def _dropped(t: Tensor, prim: Primitive, args: Sequence[Any], params: Any = None) -> None:
    """Mark an unrecorded result: why its inputs' gradient stops here, or the mark it inherits."""
    inherited = None
    for a in args:
        if isinstance(a, Tensor):
            if a._rg:
                if not _state.record_sites:
                    return
                if not _state.grad_enabled:
                    kind = "inference_mode" if _state.inference else "no_grad"
                    # NOTE: one location per input and mode: a no_grad loop over a parameter
                    # would otherwise pay a frame walk on every operation.
                    cached = a.__dict__.get("_why_off")
                    if cached is not None and cached.kind == kind:
                        t._why = cached
                        return
                    t._why = a._why_off = Why(kind, prim.name, site(4), a)
                    return
                t._why = w = Why("non_differentiable", prim.name, site(4), a)
                if prim.n_out == 1:           # how to recompute it (a mask) for explain
                    w.recipe = (prim, params, tuple(ConstRef(b) if isinstance(b, Tensor) else b
                                                    for b in args))
                return
            if inherited is None and a._why is not None:
                inherited = a._why
    if inherited is not None:
        t._why = inherited


def _output(prim: Primitive, node: PrimNode, out: np.ndarray) -> Tensor:
    """The result tensor of a recorded single-output op (and the node's saved answer)."""
    t = _make(out, out.dtype.kind in "fcV", node)
    if prim.save_ans:
        node.ans = out
        node.ans_vc = t._vc
    else:
        node.ans = None
    if SAVED_HOOKS_ON[0] and prim.saves:
        _saved.pack_node(node, t)
    return t


def apply2(prim: Primitive, x: Tensor, y: Any) -> Tensor:
    """Fast path of ``apply`` for a binary op on a Tensor and a Tensor or Python number."""
    if warnings.filters is not _filtered:
        _refilter()
    if _fw_on:
        return _fw_hook(prim, (x, y), None, 0)
    xd = x._data
    if isinstance(y, Tensor):
        yd = y._data
        rg = x._rg or y._rg
        fast = xd.dtype is yd.dtype and (prim.promote != "float" or xd.dtype.kind in "fcV")
    else:
        yd = y
        rg = x._rg
        fast = prim.promote is None or xd.dtype.kind in "fcV" or (
            type(y) is int and prim.promote != "float")
    if not fast or (_EXOTIC[0] and xd.dtype.kind in "uV"):    # uint16/32/64, bfloat16
        return apply(prim, (x, y), None, 0)
    if prim.lazy is not True and (type(xd) is not _ndarray or
                                  (yd is not y and type(yd) is not _ndarray)):
        _check_lazy(prim, (xd, yd), rg, None)
    if prim.scalar_ok and xd.ndim == 0 and (yd is y or yd.ndim == 0):
        out = prim.fwd(xd[()], yd if yd is y else yd[()])
    else:
        try:
            out = prim.fwd(xd, yd)
        except ValueError:
            _check_broadcast((xd, yd))
            raise
        except TypeError:
            out = _across_devices(prim, [xd, yd], None)
    if type(out) is not _ndarray:
        out = _asarray(out) if type(out) in _NP_SCALARS else _as_out(out)
    if not (rg and prim.differentiable and _state.grad_enabled):
        t = _make(out, False, None)
        if rg:
            _dropped(t, prim, (x, y))
        else:
            w = x._why
            if w is not None or (yd is not y and y._why is not None):
                t._why = w if w is not None else y._why
        return t
    node = prim.node_classes[0]()
    if _state.anomaly:
        node._init_node()
    node.prim = prim
    node.params = None
    node.site = site(3) if _state.record_sites and prim.saves else None
    if yd is y:
        node.next = (_edge(x), None)
        node.const1 = y
        node.meta = None if xd.shape == out.shape and xd.dtype is out.dtype else \
            ((xd.shape, xd.dtype), (None, None))
    else:
        ex = _edge(x)
        ey = _edge(y)
        node.next = (ex, ey)
        if ey is None:
            node.consts = (None, y if yd.size <= _KEEP else _wref(y))
        elif ex is None:
            node.consts = (x if xd.size <= _KEEP else _wref(x), None)
        if (ey is None and y._why is not None) or (ex is None and x._why is not None):
            node.breaks = tuple(a._why for a in (x, y) if a._why is not None)
        node.meta = None if (xd.shape == out.shape and yd.shape == out.shape and
                             xd.dtype is out.dtype) else \
            ((xd.shape, xd.dtype), (yd.shape, yd.dtype))
    if prim.save_inputs:
        ex, ey = node.next
        if (ex is None or ey is None) and x is not y:
            # only one input takes a gradient: save what its rule reads, no more (a shared
            # stand-in for the others: the rules never look at it)
            keep = prim.keeps[0 if ey is None else 1]
            if not keep[0]:
                x = _UNSAVED
            if not keep[1] and yd is not y:
                y = _UNSAVED
        vx = x._vc if x is not _UNSAVED else None
        vy = y._vc if y is not _UNSAVED and yd is not y else None
        if _INF_EVER[0] and (vx is _INFERENCE_VC or vy is _INFERENCE_VC
                             or vx is _INFERENCE_DETACHED or vy is _INFERENCE_DETACHED):
            raise RuntimeError(SAVE_INFERENCE)
        node.args = (x, y)
        node.vers = (0 if vx is None else vx[0], 0 if vy is None else vy[0])
    else:
        node.args = None
    return _output(prim, node, out)


def _promote(prim: Primitive, args: Sequence[Any], arrays: list[Any]) -> Any:
    """Cast ``arrays`` to PyTorch's result dtype; return the dtype cast to (or None)."""
    mode = prim.promote
    first = None
    same = True
    for a in args:
        if isinstance(a, Tensor):
            d = a._data.dtype
            if first is None:
                first = d
            elif d != first:
                same = False
        elif isinstance(a, float) and first is not None and first.kind not in "fcV":
            same = False
    if first is None:
        return None
    if same:
        for a in args:
            if isinstance(a, (float, complex)) and not isinstance(a, bool) and first.kind not in "fcV":
                same = False
    if same and (mode != "float" or first.kind in "fcV"):
        return None
    rt = _dtype.result_type(*args)
    if mode == "float" and not (rt.is_floating_point or rt.is_complex):
        rt = _dtype.get_default_dtype()
    target = rt.np
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and a._data.dtype != target:
            arrays[i] = arrays[i].astype(target)
    return target


def apply(prim: Primitive, args: Sequence[Any], params: dict[str, Any] | None = None,
          variant: int = 0, _primal: bool = False) -> Any:
    """Run ``prim`` on Tensors, recording a node when grad mode is on and an input requires grad.

    While a dual level is open the forward-mode hook runs instead; it calls back with
    ``_primal=True`` for the primal result, then adds the output tangents.
    """
    if warnings.filters is not _filtered:
        _refilter()
    if _fw_on and not _primal:
        return _fw_hook(prim, args, params, variant)
    arrays = []
    rg = False
    for a in args:
        if isinstance(a, Tensor):
            arrays.append(a._data)
            if a._rg:
                rg = True
        else:
            arrays.append(a)
    if prim.lazy is not True:
        _check_lazy(prim, arrays, rg, params)
    cast = _promote(prim, args, arrays) if prim.promote is not None else None
    if _UINT_ON[0]:
        _uint_rows(prim, arrays)
    try:
        if _BF16[0] is not None and not prim.bf16_native and _has_bf16(arrays):
            out = _bf16_forward(prim, arrays, params)
        else:
            out = prim.fwd(*arrays, **params) if params else prim.fwd(*arrays)
    except ValueError:
        if prim.promote is not None:
            _check_broadcast(arrays)
        raise
    except TypeError:
        out = _across_devices(prim, arrays, params)
    record = rg and prim.differentiable and _state.grad_enabled
    if prim.n_out == 1:
        if type(out) is not _ndarray:
            out = _asarray(out) if type(out) in _NP_SCALARS else _as_out(out)
        if not record:
            t = _make(out, False, None)
            _dropped(t, prim, args, params)
            return t
        node = _node(prim, args, params, variant, cast, out)
        t = _make(out, out.dtype.kind in "fcV", node)
        if prim.save_ans:
            node.ans = out
            node.ans_vc = t._vc
        else:
            node.ans = None
        if SAVED_HOOKS_ON[0] and prim.saves:
            _saved.pack_node(node, t)
        return t
    outs = tuple(o if type(o) is _ndarray else _as_out(o) for o in out)
    if not record:
        res = tuple(_make(o, False, None) for o in outs)
        for t in res:
            _dropped(t, prim, args)
        return res
    node = _node(prim, args, params, variant, cast, None)
    node.n_out = len(outs)
    node.ans = outs
    result = []
    for i, o in enumerate(outs):
        diff = o.dtype.kind in "fcV"
        t = _make(o, diff, node if diff else None)
        t._oi = i
        result.append(t)
    if SAVED_HOOKS_ON[0] and prim.saves:
        _saved.pack_node(node, result[0])
    return tuple(result)


#: ml_dtypes' bfloat16 NumPy dtype once gradkit's bfloat16 is made (``_dtype.load_bfloat16``)
_BF16 = _dtype.BF16_NP


def _has_bf16(arrays: Sequence[Any]) -> bool:
    for a in arrays:
        d = getattr(a, "dtype", None)
        if d is not None and getattr(d, "kind", None) == "V":
            return True
    return False


def _bf16_forward(prim: Primitive, arrays: Sequence[Any], params: Any) -> Any:
    """Run a row on bfloat16 arrays as PyTorch's CPU kernels do: in float32, each floating
    result rounded once (to nearest even) to bfloat16. A result whose dtype the call names
    (``sum(dtype=torch.float32)``) keeps it."""
    xs = [a.astype(np.float32) if getattr(getattr(a, "dtype", None), "kind", None) == "V" else a
          for a in arrays]
    if prim.bf16_round_numbers:
        xs = [round_bf16(a) if type(a) is float else a for a in xs]
        if params:
            params = {k: round_bf16(v) if type(v) is float else v for k, v in params.items()}
    fwd = prim.fwd if prim.bf16_fwd is None else prim.bf16_fwd
    out = fwd(*xs, **params) if params else fwd(*xs)
    if params and params.get("dtype") is not None:
        return out
    bf = _BF16[0]
    if prim.n_out != 1:
        return tuple(o.astype(bf) if getattr(o, "dtype", None) == np.float32 else o for o in out)
    if getattr(out, "dtype", None) == np.float32:
        return np.asarray(out).astype(bf)
    return out


def round_bf16(a: Any) -> Any:
    """``a`` (float32 values, or a Python float) rounded to bfloat16, back in float32: where a
    PyTorch kernel stores an intermediate in bfloat16 (``bf16_rules``)."""
    if type(a) is float:
        return float(np.float32(a).astype(_BF16[0]))
    return np.asarray(a, np.float32).astype(_BF16[0]).astype(np.float32)


def bf16_rules(fn: Any, fwd: Any = None, vjp: Any = None, round_numbers: bool = False) -> None:
    """State on a row how PyTorch's CPU kernels round on bfloat16: a forward ``fwd`` and rules
    ``vjp`` (a tuple, one per input; or one for ``vjp_all``) run on float32 arrays and call
    ``round_bf16`` where the kernel keeps a bfloat16 intermediate; ``round_numbers``: a Python
    number operand is rounded to bfloat16 first."""
    prim = fn.prim
    prim.bf16_fwd = fwd
    prim.bf16_vjp = vjp
    prim.bf16_round_numbers = round_numbers


_UINT_ON = _dtype.UINT_ON
_EXOTIC = _dtype.EXOTIC
_WIDE_U = _dtype.WIDE_UNSIGNED
#: PyTorch's kernel names in its error for a row it does not run on uint16/32/64 (others:
#: "<row>_cpu")
_UINT_KERNELS = {"add": "add_stub", "sub": "add_stub", "rsub": "add_stub", "add_alpha": "add_stub",
                 "neg": "neg_cpu", "abs": "abs_cpu", "sign": "sign_cpu", "pow": "pow",
                 "pow_scalar": "pow", "rpow": "pow", "floor_divide": "div_floor_cpu",
                 "remainder": "remainder_cpu", "bitwise_left_shift": "lshift_cpu",
                 "bitwise_right_shift": "rshift_cpu", "amax": "max_all", "amin": "min_all",
                 "max_dim": "max_cpu", "min_dim": "min_cpu", "clamp_scalar": "clamp_scalar_cpu",
                 "clamp_tensor": "clamp_cpu", "gather": "scatter_gather_tensor_cpu",
                 "masked_fill": "masked_fill", "matmul": "dot", "fill": "fill_cpu"}


def _uint_rows(prim: Primitive, arrays: list[Any]) -> None:
    """PyTorch's NotImplementedError for a row it does not run on uint16/uint32/uint64 arrays;
    a sum or product of them runs in int64 (``arrays`` cast in place), as PyTorch's."""
    for i, a in enumerate(arrays):
        d = getattr(a, "dtype", None)
        if d is None or d not in _WIDE_U:
            continue
        ok = prim.uint_ok
        if ok == "int64":
            arrays[i] = a.astype(np.int64)
        elif not ok:
            name = _UINT_KERNELS.get(prim.name, prim.name + "_cpu")
            raise NotImplementedError(f'"{name}" not implemented for '
                                      f"'{_dtype._SCALAR_NAMES[d.name]}'")


def uint_rows(*fns: Any, how: Any = True) -> None:
    """Mark rows PyTorch runs on uint16/uint32/uint64 (``how="int64"``: on them as int64)."""
    for fn in fns:
        fn.prim.uint_ok = how


def bf16_native(*fns: Any) -> None:
    """Mark rows that run on bfloat16 arrays as they are (views, copies, dtype casts)."""
    for fn in fns:
        fn.prim.bf16_native = True


def half_in_float32(impl: Any) -> Any:
    """A forward that runs a float16 input in float32 and rounds its result once to float16.

    PyTorch computes half ops in float32 ("opmath"): a float16 sum of squares overflows at
    65504, a composite forward (sigmoid's 1 / (1 + e)) rounds at each step, SciPy's loops give
    float64 for float16, and sinc's guard 1e-20 is 0 in float16 (sinc(0) was nan).
    """
    def run(x: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(x, "dtype", None) != np.float16:
            return impl(x, *args, **kwargs)
        return impl(x.astype(np.float32), *args, **kwargs).astype(np.float16)
    run.__name__ = impl.__name__
    run.__qualname__ = impl.__qualname__
    run.__doc__ = impl.__doc__
    return run


def not_lazy(fn: Any, mode: Any, why: str) -> None:
    """Mark a row that cannot stay lazy on Dask arrays (see ``Primitive.lazy``), and why."""
    fn.prim.lazy = mode
    fn.prim.lazy_why = why


def _check_lazy(prim: Primitive, arrays: Sequence[Any], rg: bool, params: Any) -> None:
    """Refuse, naming the op, to run a row on Dask arrays when it would compute them."""
    mode = prim.lazy
    if callable(mode):
        mode = mode(params or {})
    if mode is True or (mode == "forward" and not (rg and _state.grad_enabled)):
        return
    for a in arrays:
        b = _KIND.get(type(a), 0)
        if b == 0:
            b = _backend.backend_of(a)
        if b is not None and b.lazy:
            part = "its gradient" if mode == "forward" else "it"
            raise NotImplementedError(
                f"{prim.name} cannot run lazily on a {b.label}-backed tensor: {part} "
                f"{prim.lazy_why}. Compute the input first (tensor.compute(), or "
                f"gradkit.compute(...) for several) and work on the NumPy-backed result.")


def _across_devices(prim: Primitive, arrays: list[Any], params: Any) -> Any:
    """After a TypeError: PyTorch's error if the operands live on different devices.

    As in PyTorch, a 0-d CPU tensor may meet a GPU tensor (it acts as a number); the op is
    retried with it as a NumPy scalar. Any other TypeError is re-raised as it was.
    """
    devices = {_backend.device_of(a) for a in arrays if hasattr(a, "shape")
               and not isinstance(a, np.generic)}
    if len(devices) < 2:
        _no_kernel(prim, arrays)
        raise
    if any(d.type != "cpu" for d in devices):
        scalars = [a[()] if type(a) is _ndarray and a.ndim == 0 else a for a in arrays]
        if len({_backend.device_of(a) for a in scalars if hasattr(a, "shape")
                and not isinstance(a, np.generic)}) < 2:
            return prim.fwd(*scalars, **params) if params else prim.fwd(*scalars)
    names = sorted((str(d) for d in devices), key=lambda n: (n == "cpu", n))
    raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                       f"devices, {names[0]} and {names[1]}!") from None


class KernelDtypeError(NotImplementedError, TypeError):
    """An op has no kernel for its operands' dtype (``bitwise_and`` of floats, ``ceil`` of
    complex numbers). PyTorch raises NotImplementedError (``"bitwise_and_cpu" not implemented
    for 'Float'``); NumPy's ufuncs raise TypeError. This is both, so either ``except`` works."""


def _no_kernel(prim: Primitive, arrays: Sequence[Any]) -> None:
    """After a TypeError: PyTorch's error if it was NumPy's ufunc finding no loop for the dtypes."""
    exc = sys.exc_info()[1]
    if not (isinstance(exc, TypeError) and "not supported for the input types" in str(exc)):
        return
    try:
        kind = _dtype.FROM_NP.get(np.result_type(*arrays))
    except (TypeError, ValueError):
        return
    if kind is None:
        return
    name = kind._legacy[: -len("Tensor")]
    raise KernelDtypeError(f'"{prim.name}_cpu" not implemented for \'{name}\'') from exc


def _check_broadcast(arrays: Sequence[Any]) -> None:
    """Raise PyTorch's broadcasting error if the operands' shapes are incompatible."""
    from .shape import broadcast_shapes
    broadcast_shapes(*(np.shape(a) for a in arrays))


def _version_saved(t: Tensor) -> int:
    """The version of ``t`` as a node saves it; inference tensors cannot be saved."""
    vc = t._vc
    if _INF_EVER[0] and (vc is _INFERENCE_VC or vc is _INFERENCE_DETACHED):
        raise RuntimeError(SAVE_INFERENCE)
    return vc[0]


def _node(prim: Primitive, args: Sequence[Any], params: Any, variant: int, cast: Any,
          out: Any) -> PrimNode:
    node = prim.node_classes[variant]()
    if _state.anomaly:
        node._init_node()
    node.prim = prim
    node.params = params
    node.site = site(4) if _state.record_sites and prim.saves else None
    if cast is not None:
        node.cast = cast
    edges = []
    meta = []
    plain = out is not None
    const = False
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            meta.append((d.shape, d.dtype))
            if plain and (d.shape != out.shape or d.dtype is not out.dtype):
                plain = False
            e = _edge(a)
            edges.append(e)
            if e is None:
                const = True
        else:
            meta.append((None, None))
            edges.append(None)
            const = True
    node.next = tuple(edges)
    if const:
        node.consts = tuple(None if e is not None else _kept(a) for a, e in zip(args, edges))
    for a, e in zip(args, edges):
        if e is None and isinstance(a, Tensor) and a._why is not None:
            node.breaks = tuple(b._why for b in args if isinstance(b, Tensor) and b._why is not None)
            break
    node.meta = None if plain else tuple(meta)
    if prim.save_inputs:
        node.args = tuple(args)
        node.vers = tuple(_version_saved(a) if isinstance(a, Tensor) else 0 for a in args)
    else:
        node.args = None
    return node
