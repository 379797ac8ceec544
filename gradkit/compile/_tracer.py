"""Recording a call at the array level: ``Tracer``, a concrete array that writes down what it meets.

While a compiled function is traced, the arrays inside the tensors it reads (its arguments and
the state it reaches: module parameters, their ``.grad``, optimizer state) are replaced by
``Tracer`` boxes. A tracer holds its concrete value (the trace *is* an eager run) and a slot
number; every NumPy operation that meets one, through ``__array_ufunc__`` and
``__array_function__`` (gradkit registers the type as an array backend, as it does CuPy), is
computed on the concrete values and appended to the trace as ``(function, arguments) -> slot``.
So the program holds the table primitives' forwards, the backward rules the engine runs in
ndarray mode, the engine's own accumulations and the optimizer's updates alike, and the table
needs no hook: eager code does not change at all.

Never a stale answer: a value read by Python (``bool``, ``float``, ``int``, ``.item()``,
``.tolist()``, a data-dependent shape) becomes a guard, re-checked on replay; an escape the
trace cannot follow (``np.asarray`` on a tracer from code that does not dispatch, randomness,
an in-place write through an aliased view, a hook) stops the recording (``Trace.fail``): the
run goes on eagerly on the concrete values, and the caller keeps the function eager.

Python floats computed from tracers: ``_pyscalar.py``.
"""

from __future__ import annotations

import functools
import operator
import sys
import threading
from typing import Any, Callable

import numpy as np

from ._pyscalar import PyScalar

__all__ = ["Tracer", "Trace", "Ref", "Op", "PyScalar", "user_site"]

_local = threading.local()


def user_site() -> str:
    """``file:line`` of the innermost frame outside gradkit (the user's line)."""
    f = sys._getframe(1)
    pkg = __file__.rsplit("gradkit", 1)[0] + "gradkit"
    while f is not None:
        fn = f.f_code.co_filename
        if not fn.startswith(pkg) and "importlib" not in fn:
            return f"{fn}:{f.f_lineno}"
        f = f.f_back
    return "<unknown>"


class Ref:
    """A slot of the program inside an op's argument template."""

    __slots__ = ("s",)

    def __init__(self, s: int) -> None:
        self.s = s

    def __repr__(self) -> str:
        return f"v{self.s}"


class Op:
    __slots__ = ("fn", "args", "kwargs", "out", "kind", "shape", "refs")

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict, out: Any,
                 kind: str = "call") -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.out = out          # slot, or tuple of slots (several outputs)
        self.kind = kind        # "call"; "ufunc" (a fresh result: may take out=)
        self.shape = None       # a data-dependent output shape to guard
        self.refs: list[int] | None = None    # the slots it reads (set by the optimizer)


class Trace:
    """One recording: ops, guards, constants; the concrete values are in the tracers."""

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.n = 0
        self.guards: list[tuple[int, Any]] = []   # (slot, value seen)
        self.meta: dict[int, tuple] = {}           # slot -> (shape, dtype) of array slots
        #: slot -> the group of slots sharing its memory (views); a write makes the others stale
        self.alias: dict[int, set[int]] = {}
        self.stale: set[int] = set()
        #: view slot -> (base box, base slot, basic index, view box) of ``base[index]`` views
        self.views: dict[int, tuple[Any, int, Any, Any]] = {}
        self.views_of: dict[int, list[int]] = {}    # base slot -> its view slots

        self.live = True
        self.py: dict[int, tuple[Any, int]] = {}   # id(python value) -> (value, slot)
        #: id(tensor) -> (weakref, array, version, grad) of tensors holding plain arrays that
        #: primitives read (constants of the trace; see ``gradkit.compile._seen_hook``)
        self.seen: dict[int, tuple[Any, Any, int, Any]] = {}
        self.why: str | None = None                # why the trace stopped (None: it did not)
        self.where = ""

    def fail(self, why: str) -> None:
        """Stop recording (the run goes on eagerly, on the concrete values) and say why."""
        if self.live:
            self.live = False
            self.why = why
            self.where = user_site()

    def add_view(self, s: int, v: tuple[Any, int, Any, Any]) -> None:
        self.views[s] = v
        self.views_of.setdefault(v[1], []).append(s)

    def slot(self) -> int:
        self.n += 1
        return self.n - 1

    def wrap(self, value: Any) -> Any:
        """A new tracer of a fresh slot for an array result; other results as they are."""
        s = self.slot()
        if isinstance(value, (np.ndarray, np.generic)):
            if not isinstance(value, np.ndarray):
                value = np.asarray(value)      # 0-d arrays, as tensors hold (they may be written)
            self.meta[s] = (np.shape(value), value.dtype)
            return Tracer(value, s, self)
        return value, s

    def record(self, fn: Callable[..., Any], args: tuple, kwargs: dict, kind: str = "call") -> Any:
        if not self.live:
            return fn(*_concrete(args), **_concrete(kwargs))
        # NOTE: the common case inline: a tuple of tracers and plain values, no keywords;
        # the concrete arguments and the template in one loop (no comprehension frames)
        if type(args) is tuple:
            cargs = []
            targs = []
            for a in args:
                t = type(a)
                if t is Tracer:
                    cargs.append(a.v)
                    targs.append(Ref(a.s))
                elif t in _PLAIN:
                    cargs.append(a)
                    targs.append(a)
                else:
                    cargs.append(_concrete(a))
                    targs.append(_template(a))
            targs = tuple(targs)
        else:
            cargs = _concrete(args)
            targs = _template(args)
        if kwargs:
            out = fn(*cargs, **_concrete(kwargs))
        else:
            out = fn(*cargs)
        if self.stale:
            for a in _tracers((args, kwargs)):
                if a.s in self.stale:
                    self.fail("a view is read after an in-place write to the array it shares "
                              "memory with")
                    return out
        tkw = _template(kwargs) if kwargs else {}
        if type(out) is np.ndarray:
            # NOTE: the common case (one array) inline: ``wrap`` without its checks
            s = self.n
            self.n = s + 1
            self.meta[s] = (out.shape, out.dtype)
            t = Tracer(out, s, self)
            self.ops.append(Op(fn, targs, tkw, s, kind))
        elif isinstance(out, tuple) and out and all(isinstance(o, (np.ndarray, np.generic))
                                                    for o in out):
            res = tuple(self.wrap(o) for o in out)
            self.ops.append(Op(fn, targs, tkw, tuple(r.s for r in res), kind))
            return res
        elif isinstance(out, (np.ndarray, np.generic)):
            t = self.wrap(out)
            self.ops.append(Op(fn, targs, tkw, t.s, kind))
        else:
            t = None
        if t is not None:
            if kind != "ufunc" and isinstance(out, np.ndarray) and out.base is not None:
                # a view of an input: a write to either shows in the other in eager code
                # NOTE: one shared set per group, grown in place (a loop taking 2000 views of
                # one array must not rebuild the group each time)
                alias = self.alias
                group = None
                for a in _tracers(args):
                    g = alias.get(a.s)
                    if g is None:
                        g = alias[a.s] = {a.s}
                    if group is None:
                        group = g
                    elif g is not group:
                        if len(g) > len(group):
                            group, g = g, group
                        group |= g
                        for s in g:
                            alias[s] = group
                if group is None:
                    group = set()
                group.add(t.s)
                alias[t.s] = group
            return t
        if out is NotImplemented:
            return out
        # a Python value (shape tuple, bool, int) computed from traced arrays: guard it
        s = self.slot()
        self.ops.append(Op(fn, targs, tkw, s, kind))
        self.guards.append((s, out))
        return out

    def record_py(self, fn: Callable[..., Any], args: tuple) -> Any:
        """Python arithmetic on a ``PyScalar``: recorded, its result a ``PyScalar`` of a new slot
        (the replay does the same Python float arithmetic: exact)."""
        out = fn(*_concrete(args))
        if not self.live or type(out) is not float:
            return out
        s = self.slot()
        self.ops.append(Op(fn, self.template(args), {}, s))
        return PyScalar(out, s, self)

    def record_cmp(self, op: Callable[[Any, Any], Any], a: Any, b: Any) -> bool:
        """A comparison of a ``PyScalar``: a guard on its outcome."""
        out = op(*_concrete((a, b)))
        if self.live:
            s = self.slot()
            self.ops.append(Op(op, self.template((a, b)), {}, s))
            self.guards.append((s, out))
        return out

    def template(self, x: Any) -> Any:
        """``x`` with tracers as ``Ref`` and constant arrays copied."""
        return _template(x)

    def write(self, fn: Callable[..., Any], target: Any, args: tuple, kwargs: dict,
              functional: Callable[..., Any]) -> None:
        """An in-place ``fn(target, *args, **kwargs)``: done on the concrete values, recorded
        as ``functional(target, *args, **kwargs)`` (a new array) that ``target`` now holds."""
        if self.live and type(target) is not Tracer and _tracers((args, kwargs)):
            # NOTE: a plain array that now holds traced values could be read by NumPy code
            # that never dispatches to the trace (``plain * 2``): its result would be a stale
            # constant. Such a write stops the trace.
            self.fail("traced values are written into an array the trace does not follow "
                      "(created from constants only)")
        if not self.live:
            fn(_concrete(target), *_concrete(args), **_concrete(kwargs))
            return
        if self.stale and any(a.s in self.stale for a in _tracers((target, args, kwargs))):
            self.fail("a view is read after an in-place write to the array it shares memory "
                      "with")
            fn(_concrete(target), *_concrete(args), **_concrete(kwargs))
            return
        tt = self.template((target,) + tuple(args))    # before the write: the old value
        tkw = self.template(kwargs)
        fn(_concrete(target), *_concrete(args), **_concrete(kwargs))
        if not self.live:
            return
        s = self.slot()
        new = _concrete(target)
        self.meta[s] = (np.shape(new), new.dtype)
        self.ops.append(Op(functional, tt, tkw, s))
        _rebind(target, Tracer(new, s, self))

    def guard(self, t: Tracer, conv: Callable[[Any], Any]) -> Any:
        """Python reads a value: record it, and re-check it on every replay."""
        if not self.live:
            return conv(t.v)
        value = conv(t.v)
        s = self.slot()
        self.ops.append(Op(conv, (Ref(t.s),), {}, s))
        self.guards.append((s, value))
        if type(value) is float:
            self.py[id(value)] = (value, s)
        return value


#: argument types that are their own concrete value and template
_PLAIN = frozenset({int, float, bool, str, type(None)})


def _concrete(x: Any) -> Any:
    t = type(x)
    if t is Tracer or t is PyScalar:
        return x.v
    if t is tuple:
        return tuple([_concrete(e) for e in x])
    if t is list:
        return [_concrete(e) for e in x]
    if t is dict:
        return {k: _concrete(v) for k, v in x.items()}
    if t is slice:
        return slice(_concrete(x.start), _concrete(x.stop), _concrete(x.step))
    return x


def _template(x: Any) -> Any:
    t = type(x)
    if t is Tracer or t is PyScalar:
        return Ref(x.s)
    if t is tuple:
        return tuple([_template(e) for e in x])
    if t is list:
        return [_template(e) for e in x]
    if t is dict:
        return {k: _template(v) for k, v in x.items()}
    if t is slice:
        return slice(_template(x.start), _template(x.stop), _template(x.step))
    if t is np.ndarray and x.flags.writeable:
        # NOTE: a constant array is kept as it is now (a copy): a later write to it must not
        # change the recorded program.
        return x.copy()
    return x


def _tracers(x: Any) -> list[Tracer]:
    t = type(x)
    if t is Tracer:
        return [x]
    if t is tuple or t is list:
        out = []
        for e in x:
            te = type(e)
            if te is Tracer:
                out.append(e)
            elif te is tuple or te is list or te is dict:
                out.extend(_tracers(e))
        return out
    if t is dict:
        return [a for e in x.values() for a in _tracers(e)]
    return []


@functools.cache
def _method(name: str) -> Callable[..., Any]:
    def m(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, name)(*args, **kwargs)
    m.__name__ = m.__qualname__ = f"ndarray.{name}"
    return m


@functools.cache
def _attr(name: str) -> Callable[..., Any]:
    def a(self: Any) -> Any:
        return getattr(self, name)
    a.__name__ = a.__qualname__ = f"ndarray.{name}"
    return a


def _copyto(dst: Any, src: Any, **kwargs: Any) -> Any:
    r = np.array(dst, copy=True)
    np.copyto(r, src, **kwargs)
    return r


def _setitem(a: Any, idx: Any, value: Any) -> Any:
    r = np.array(a, copy=True)
    r[idx] = value
    return r


@functools.cache
def _at(ufunc: Any) -> Callable[..., Any]:
    def at(a: Any, *args: Any, **kwargs: Any) -> Any:
        r = np.array(a, copy=True)
        ufunc.at(r, *args, **kwargs)
        return r
    at.__name__ = f"{ufunc.__name__}_at"
    return at


def _ufunc_out(ufunc: Any, method: str, dtype: Any, masked: bool) -> Callable[..., Any]:
    """The functional form of ``ufunc(*args, out=old)``: a new array of ``old``'s dtype."""
    f = ufunc if method == "__call__" else getattr(ufunc, method)
    if masked:                                   # where=: the old values stay where it is False
        def h(old: Any, *args: Any, **kwargs: Any) -> Any:
            r = np.array(old, copy=True)
            f(*args, out=r, **kwargs)
            return r
        h.__name__ = f"{getattr(ufunc, '__name__', 'ufunc')}_into"
        return h

    def g(_old: Any, *args: Any, **kwargs: Any) -> Any:
        return np.asarray(f(*args, **kwargs)).astype(dtype, copy=False)
    g.__name__ = f"{getattr(ufunc, '__name__', 'ufunc')}_cast"
    g.ufunc = ufunc if method == "__call__" else None  # type: ignore[attr-defined]
    return g


_OVERLAP = {np.may_share_memory, np.shares_memory}


def _is_view_of(tr: Trace, a: Any, b: Any) -> bool:
    """Whether tracer ``a`` is, as recorded, a non-empty basic-index view of tracer ``b``."""
    if type(a) is not Tracer or type(b) is not Tracer or np.size(a.v) == 0:
        return False
    v = tr.views.get(a.s)
    return v is not None and v[1] == b.s and v[0] is b and v[3] is a


#: NumPy functions whose output shape depends on the input values
_DATA_SHAPED = {np.nonzero, np.flatnonzero, np.argwhere, np.unique, np.compress, np.extract}
_MUTATING = {"fill", "sort", "put", "resize", "itemset", "setflags", "partition", "byteswap"}
_VALUE_ATTRS = {"real", "imag", "T", "mT"}


class Tracer:
    """A concrete array (``.v``) that records the operations applied to it in slot ``.s``."""

    __slots__ = ("v", "s", "tr", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, v: Any, s: int, tr: Trace) -> None:
        self.v = v
        self.s = s
        self.tr = tr

    # --- metadata (static for a signature) ---
    # NOTE: ``.v`` is always an ndarray (``Trace.wrap`` makes NumPy scalars 0-d arrays), so
    # these read its attributes through C getters (no Python frame): eager code asks them
    # several times per op, 200000 times in a 36000-op trace
    shape = property(operator.attrgetter("v.shape"), doc="The array's shape.")
    dtype = property(operator.attrgetter("v.dtype"), doc="The array's dtype.")
    ndim = property(operator.attrgetter("v.ndim"), doc="The array's number of dimensions.")

    @property
    def size(self) -> int:
        v = self.v
        return v.size if type(v) is np.ndarray else int(np.size(v))

    @property
    def itemsize(self) -> int:
        return self.v.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.v.dtype.itemsize

    @property
    def flags(self) -> Any:
        return np.asarray(self.v).flags

    def __len__(self) -> int:
        return len(self.v)

    def __repr__(self) -> str:
        return f"Tracer(v{self.s}, shape={self.shape}, dtype={self.dtype})"

    # --- NumPy protocols ---
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        tr = self.tr
        out = kwargs.pop("out", None)
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        if method == "at":
            tr.write(fn, inputs[0], inputs[1:], kwargs, _at(ufunc))
            return None
        if out is None:
            return tr.record(fn, inputs, kwargs, "ufunc" if method == "__call__" else "call")
        outs = out if isinstance(out, tuple) else (out,)
        if len(outs) != 1 or type(outs[0]) is not np.ndarray and type(outs[0]) is not Tracer:
            tr.fail(f"np.{ufunc.__name__}(..., out=) writes into several or foreign arrays")
            return fn(*_concrete(inputs), out=_concrete(out), **_concrete(kwargs))
        target = outs[0]
        tr.write(lambda o, *a, **k: fn(*a, out=o, **k), target, inputs, kwargs,
                 _ufunc_out(ufunc, method, _concrete(target).dtype, "where" in kwargs))
        return target

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if "out" in kwargs and kwargs["out"] is not None:
            self.tr.fail(f"np.{func.__name__}(..., out=) on a traced value")
        if func is np.copyto:
            self.tr.write(np.copyto, args[0], tuple(args[1:]), kwargs, _copyto)
            return None
        if func in _OVERLAP and self.tr.live and len(args) == 2 and not kwargs and \
                _is_view_of(self.tr, args[0], args[1]):
            # NOTE: a non-empty basic-index view always overlaps its base (NumPy's basic
            # indexing never copies; shapes are part of the signature): no guard to re-check
            # (gradkit's view bookkeeping asks this on every ``x[i]``)
            return func(_concrete(args[0]), _concrete(args[1]))
        r = self.tr.record(func, args, kwargs)
        if func in _DATA_SHAPED and self.tr.live:
            _guard_shapes(self.tr, r)
        return r

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        self.tr.fail("a traced array was converted with np.asarray/np.array by code that does "
                     "not dispatch to NumPy's protocols")
        return np.asarray(self.v, dtype=dtype)

    # --- Python reads a value: guards ---
    def __bool__(self) -> bool:
        return self.tr.guard(self, bool)

    def __float__(self) -> float:
        return self.tr.guard(self, float)

    def __int__(self) -> int:
        return self.tr.guard(self, int)

    def __index__(self) -> int:
        return self.tr.guard(self, operator.index)

    def __complex__(self) -> complex:
        return self.tr.guard(self, complex)

    def item(self, *args: Any) -> Any:
        if args:
            return self.tr.guard(self, lambda v: v.item(*args))
        return self.tr.guard(self, _item)

    def tolist(self) -> Any:
        return self.tr.guard(self, _tolist)

    def py_float(self) -> Any:
        """The value as a Python float that stays an input of the program (a ``PyScalar``):
        for code that only does arithmetic with it (optimizers' step counts)."""
        tr = self.tr
        if not tr.live:
            return float(self.v)
        s = tr.slot()
        tr.ops.append(Op(float, (Ref(self.s),), {}, s))
        return PyScalar(float(self.v), s, tr)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self.v)))

    def __hash__(self) -> int:
        return id(self)

    # --- indexing ---
    def __getitem__(self, idx: Any) -> Any:
        r = self.tr.record(operator.getitem, (self, idx), {})
        tr = self.tr
        if tr.live and type(r) is Tracer and _basic(idx) and r.s in tr.alias:
            # a basic-index view: writes through it (or its base) are replayed on the other
            tr.add_view(r.s, (self, self.s, idx, r))
        if self.tr.live and any(getattr(i, "dtype", None) == np.bool_
                                for i in (idx if isinstance(idx, tuple) else (idx,))):
            _guard_shapes(self.tr, r)
        return r

    def __setitem__(self, idx: Any, value: Any) -> None:
        self.tr.write(operator.setitem, self, (idx, value), {}, _setitem)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        target = getattr(self.v, name)
        if name in _MUTATING:
            self.tr.fail(f"ndarray.{name} on a traced value (an in-place method)")
            return target
        if callable(target):
            return lambda *a, **k: self.tr.record(_method(name), (self,) + a, k)
        if name in _VALUE_ATTRS:
            return self.tr.record(_attr(name), (self,), {})
        return target

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> Any:
        return self.tr.record(_method("astype"), (self, dtype) + args, kwargs)


def _item(v: Any) -> Any:
    return v.item()


def _tolist(v: Any) -> Any:
    return np.asarray(v).tolist()


def _rebind(target: Tracer, res: Any) -> None:
    """An in-place write: ``target`` now holds slot ``res.s``.

    A basic-index view and its base follow each other (the write is replayed on the other as
    ``base[idx] = view`` or ``view = base[idx]``); any other array sharing memory with the
    target keeps its old slot, which may not be read again (checked in ``record``).
    """
    tr = target.tr
    if not tr.live:
        return
    old = target.s
    group = tr.alias.get(old)
    target.s = res.s
    if group is None:
        return
    follow: list[tuple[Tracer, int]] = []          # (box, new slot) of arrays kept in step
    v = tr.views.get(old)
    if v is not None and v[3] is target and v[0].s == v[1]:
        base, _bs, idx, _ = v
        s = tr.slot()
        tr.meta[s] = tr.meta.get(v[1], (np.shape(base.v), base.v.dtype))
        tr.ops.append(Op(_setitem, (Ref(v[1]), _template(idx), Ref(res.s)), {}, s))
        follow.append((base, s))
        tr.add_view(res.s, (base, s, idx, target))
    # the views of the written array (or, written through a view, of its base) read anew
    moved = [(target, old, res.s)] + [(b, v[1], s) for b, s in follow]
    for owner, o_old, o_new in moved:
        for vs in list(tr.views_of.get(o_old, ())):
            base, bs, idx, box = tr.views[vs]
            if base is owner and bs == o_old and box.s == vs and box is not target:
                s = tr.slot()
                tr.meta[s] = tr.meta.get(vs, (np.shape(box.v), box.v.dtype))
                tr.ops.append(Op(operator.getitem, (Ref(o_new), _template(idx)), {}, s))
                follow.append((box, s))
                tr.add_view(s, (owner, o_new, idx, box))
    tr.stale |= group - {old}
    new_group = {res.s}
    for box, s in follow:
        tr.stale.discard(box.s)
        box.s = s
        new_group.add(s)
    for s in new_group:
        tr.alias[s] = new_group


def _basic(idx: Any) -> bool:
    """Whether ``idx`` is a basic index (ints, slices of ints, None, Ellipsis): a view."""
    for i in (idx if type(idx) is tuple else (idx,)):
        t = type(i)
        if t is slice:
            if not all(e is None or type(e) is int for e in (i.start, i.stop, i.step)):
                return False
        elif not (t is int or i is None or i is Ellipsis):
            return False
    return True


def _guard_shapes(tr: Trace, r: Any) -> None:
    for t in (r if isinstance(r, tuple) else (r,)):
        if type(t) is Tracer:
            s = tr.slot()
            tr.ops.append(Op(np.shape, (Ref(t.s),), {}, s))
            tr.guards.append((s, np.shape(t.v)))


#: operand types a tracer's operator records directly: what NumPy's dispatch would hand to
#: ``Tracer.__array_ufunc__`` unchanged (it goes through the dispatch for anything else)
_DIRECT = frozenset({Tracer, np.ndarray, float, int, bool})


def _arith(ufunc: Any, reflected: bool = False) -> Callable[..., Any]:
    # NOTE: ``t + u`` records ``add(t, u)`` as ``ufunc(t, u)`` would through NumPy's dispatch
    # and ``__array_ufunc__`` (method "__call__", no out=), without them: a microsecond less
    # per operator in a trace
    if reflected:
        def f(self: Tracer, other: Any) -> Any:
            if type(other) in _DIRECT:
                return self.tr.record(ufunc, (other, self), {}, "ufunc")
            return ufunc(other, self)
    else:
        def f(self: Tracer, other: Any) -> Any:
            if type(other) in _DIRECT:
                return self.tr.record(ufunc, (self, other), {}, "ufunc")
            return ufunc(self, other)
    return f


def _iarith(ufunc: Any) -> Callable[..., Any]:
    def f(self: Tracer, other: Any) -> Any:
        return ufunc(self, other, out=self)
    return f


for _name, _uf in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                   ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                   ("mod", np.remainder), ("pow", np.power), ("matmul", np.matmul),
                   ("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor),
                   ("lshift", np.left_shift), ("rshift", np.right_shift)]:
    setattr(Tracer, f"__{_name}__", _arith(_uf))
    setattr(Tracer, f"__r{_name}__", _arith(_uf, True))
    setattr(Tracer, f"__i{_name}__", _iarith(_uf))
for _name, _uf in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                   ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(Tracer, f"__{_name}__", _arith(_uf))
Tracer.__hash__ = lambda self: id(self)  # type: ignore[method-assign]
Tracer.__neg__ = lambda self: np.negative(self)  # type: ignore[attr-defined]
Tracer.__pos__ = lambda self: np.positive(self)  # type: ignore[attr-defined]
Tracer.__abs__ = lambda self: np.absolute(self)  # type: ignore[attr-defined]
Tracer.__invert__ = lambda self: np.invert(self)  # type: ignore[attr-defined]
Tracer.__divmod__ = lambda self, o: np.divmod(self, o)  # type: ignore[attr-defined]
