"""``gradkit.compile``: trace a function once per input signature, replay it without a graph.

>>> import gradkit as gk
>>> @gk.compile
... def f(x):
...     return (x.sin() * x).sum()
>>> f(gk.ones(3))                      # first call: traced (an eager run that records)
tensor(2.5244)
>>> f(gk.full((3,), 2.0))              # same shapes and dtypes: replayed
tensor(5.4558)

What is recorded, and when the trace cannot be trusted: ``gradkit/compile/_tracer.py``; the
optimizations and the generated code: ``_program.py``; the fused-kernel backends:
``_backends.py``; the walk over the state a function reaches: ``_walk.py``; what a trace patches
while it runs: ``_patching.py``. When and how much it helps: ``docs/performance.md``.
"""

from __future__ import annotations

import functools
import gc
import warnings
from typing import Any, Callable

import numpy as np

import gradkit as _gk
from gradkit._core import autocast as _autocast
from gradkit._core.epoch import EPOCH as _EPOCH
from gradkit._core.tensor import grad_np_dtype
from gradkit.autograd import _thread_state

from . import _backends, _program, _walk
from ._program import GuardFailed, Program, build
from ._patching import (_MATH, _in_trace, _math_guard, _patch, _patch_lock, _register,  # noqa: F401
                        _saved, _seen_hook, _TraceBackend, _tracing, _unpatch)
from ._tracer import PyScalar, Trace, Tracer
from ._walk import (_LIBS, _OPAQUE, _RNG_TYPES, _SCALARS, _STDLIB_HOLDERS,  # noqa: F401
                    WALK_BUDGET, _cell, _dict_key, _discover, _flatten, _hashable,
                    _held_by_user, _is_function, _leaf_key, _names, _ordered, _rng_state,
                    _same_obj, _Scan, _scalar_key, _shares_memory, _slot_names, _unflatten,
                    _untrace, _untrace_grad)

__all__ = ["compile", "CompiledFunction", "Program", "TraceWarning"]

_Tensor = _gk.Tensor


class TraceWarning(UserWarning):
    """``gradkit.compile`` runs a function eagerly (once per function and reason)."""


# --- the compiled function -----------------------------------------------------------------

class _Entry:
    """One traced program of a signature and how to write its results back."""

    __slots__ = ("prog", "in_tensors", "writes", "grads", "out_tree", "out_kinds", "watch",
                 "counts", "written", "n_out")

    def __init__(self) -> None:
        self.prog: Program | None = None


class _Sig(tuple):
    """A walk's signature (``_Scan.sig``) as part of a cache key, its hash computed once: a
    call whose walk equals the last call's (compared as lists) reuses that key, so the
    signature (hundreds of entries for a training step) is neither copied nor hashed again."""

    def __hash__(self) -> int:
        try:
            return self.__dict__["h"]
        except KeyError:
            h = self.__dict__["h"] = tuple.__hash__(self)
            return h


class CompiledFunction:
    """``fn`` traced per input signature and replayed; see :func:`compile`."""

    def __init__(self, fn: Callable[..., Any], backend: str, cache_size: int,
                 optimize: bool) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.backend = _backends.resolve(backend)
        self.cache_size = cache_size
        self.optimize = optimize
        self.cache: dict[Any, list[_Entry]] = {}
        self.eager_reason: str | None = None
        self.stats = {"traces": 0, "replays": 0, "guard_failures": 0, "eager": 0}
        self._getters: list[Any] | None = None
        self._known: set[int] = set()            # functions and types whose state is known
        self._names: set[str] = set()            # the attribute names their code reads
        self._objs: list[Any] = []
        self._scan: _Scan | None = None
        self._uncached = 0                       # traces in a row that changed Python state
        self.quiet = False                       # no TraceWarning (the caller reports why)
        self._warned: set[str] = set()
        self._last_sig: tuple[list[Any], _Sig] | None = None     # the last walk and its key
        # the last walk that can be checked instead of repeated (``_unwalked``): its roots (the
        # objects among the arguments, the getters' values), its containers' checks, the walk
        self._fast: tuple[Any, ...] | None = None

    def __repr__(self) -> str:
        return f"<compiled {getattr(self.fn, '__qualname__', self.fn)!r} backend={self.backend!r}>"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return functools.partial(self.__call__, obj)

    def _scan_state(self, leaves: list[Any], record: bool = False) -> _Scan:
        """Walk everything the function reaches now (see ``_Scan``); ``record``: keep what the
        next call checks instead (``_unwalked``), where the walk allows it."""
        if self._getters is None:
            self._getters = _discover(self.fn, seen=self._known, names=self._names)
        sc = _Scan(self)
        roots = []
        for x in leaves:
            if type(x) not in _SCALARS and type(x) is not np.ndarray and \
                    not isinstance(x, _Tensor):
                roots.append(x)
                sc.visit(x)
        getters = self._getters
        got = []
        i = 0
        while i < len(getters) and not sc.over:
            v = getters[i]()
            got.append(v)
            sc.visit(v)
            i += 1
            while sc.fns:
                f = sc.fns.pop()
                if id(f) not in self._known:
                    getters.extend(_discover(f, seen=self._known, names=self._names))
        if record:
            self._fast = (tuple(roots), got, _walk.gather(sc.checks), sc) \
                if sc.fast and not sc.over else None
        return sc

    def _unwalked(self, leaves: list[Any]) -> _Scan | None:
        """The last walk, if a new one would give the same: the same objects at its roots (the
        objects among the arguments; each getter's closure cell, global, default, ``self``) and
        every container it met holding the same objects as then (``_walk.unchanged``)."""
        fast = self._fast
        if fast is None:
            return None
        roots, got, checks, sc = fast
        if sc.epoch != _EPOCH[0]:
            return None                       # a tensor's hooks came or went
        k = 0
        for x in leaves:
            if type(x) not in _SCALARS and type(x) is not np.ndarray and \
                    not isinstance(x, _Tensor):
                if k >= len(roots) or roots[k] is not x:
                    return None
                k += 1
        getters = self._getters
        if k != len(roots) or getters is None or len(getters) != len(got):
            return None
        for g, v in zip(getters, got):
            if g() is not v:
                return None
        return sc if _walk.unchanged(checks) else None

    def _methods(self, t: type) -> None:
        """The state reached by the methods of a user's class (its objects call them)."""
        if id(t) in self._known:
            return
        self._known.add(id(t))
        for c in t.__mro__:
            if (c.__module__ or "").startswith(_LIBS):
                continue
            for v in list(vars(c).values()):
                f = getattr(v, "__func__", v)
                if isinstance(f, property):
                    for acc in (f.fget, f.fset):
                        if acc is not None:
                            self._getters.extend(_discover(acc, seen=self._known,
                                                           names=self._names))
                elif hasattr(f, "__code__"):
                    self._getters.extend(_discover(f, seen=self._known, names=self._names))

    def _warn(self, why: str, where: str) -> None:
        key = why + where
        if key not in self._warned and not self.quiet:
            self._warned.add(key)
            warnings.warn(f"gradkit.compile: {getattr(self.fn, '__qualname__', self.fn)} runs "
                          f"eagerly: {why} (at {where})", TraceWarning, stacklevel=3)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        autocast_on = _autocast.OPEN[0] and _autocast.is_enabled("cpu")
        if self.eager_reason is not None or _gk.autograd.is_anomaly_enabled() or autocast_on or \
                _in_trace() is not None or _thread_state.current_hook() is not None:
            if _gk.autograd.is_anomaly_enabled():
                self._warn("anomaly mode is on (it checks every op of the graph, which a "
                           "replay does not build)", "this call")
            if autocast_on:
                self._warn("an autocast region is open (its casts are made where the listed "
                           "functions are entered, which a replay does not pass)", "this call")
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)
        leaves: list[Any] = []
        tree = _flatten((args, kwargs), leaves)
        sc = self._unwalked(leaves)
        if sc is None:
            sc = self._scan_state(leaves, record=True)
        if sc.over:
            self.eager_reason = (f"it reaches more than {_walk.WALK_BUDGET} objects of state (compile "
                                 "re-reads all of them on every call): pass what it uses as "
                                 "arguments")
            self._warn(self.eager_reason, "the function's state")
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)
        self._objs = sc.objs
        self._scan = sc
        state = sc.tensors
        static = sc.sig
        arg_tensors = [x for x in leaves if isinstance(x, _Tensor)]
        last = self._last_sig
        if last is not None and last[0] == static:
            sig = last[1]                 # the same walk as the last call's: its key, hashed
        else:
            sig = _Sig(static)
            self._last_sig = (static, sig)
        key = (tree, tuple(_leaf_key(x) for x in leaves), sig,
               tuple((t._data.shape, t._data.dtype, getattr(t._data, "strides", None), t._rg,
                      t._grad is None, None if t._grad is None else t._grad._data.shape,
                      t._grad_dtype)
                     for t in state),
               _gk.is_grad_enabled())
        try:
            entries = self.cache.get(key)
        except TypeError:                            # an unhashable static argument
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)
        if entries:
            for i, e in enumerate(list(entries)):
                try:
                    res = self._replay(e, leaves, state)
                except GuardFailed as exc:
                    self.stats["guard_failures"] += 1
                    if exc.args == (-1,):             # a constant changed: this one is dead
                        entries.remove(e)
                    continue
                self.stats["replays"] += 1
                if i and entries[0] is not e:         # the variant that applies now goes first
                    entries.remove(e)
                    entries.insert(0, e)
                return res
            if len(entries) >= self.cache_size:
                self._warn(f"more than {self.cache_size} guarded variants of one signature "
                           "(a value read in Python changes on every call)", "this call")
                self.stats["eager"] += 1
                return self.fn(*args, **kwargs)
        # NOTE: no cyclic garbage collection while tracing: a trace allocates an object or
        # more per recorded op and keeps them all, so the collector's full passes over that
        # growing heap took 40-45% of a 46000-op trace (the 2000-step RNN of
        # benchmarks/bench_compile.py); reference counting still frees what it can, and the
        # collector runs again as usual once the trace returns
        gc_on = gc.isenabled()
        if gc_on:
            gc.disable()
        try:
            return self._trace(key, args, kwargs, leaves, tree, arg_tensors, state)
        finally:
            if gc_on:
                gc.enable()

    # --- tracing ---
    def _trace(self, key: Any, args: Any, kwargs: Any, leaves: list[Any], tree: Any,
               arg_tensors: list[Any], state: list[Any]) -> Any:
        t_start = _program._clock()
        _register()
        tr = Trace()
        self.stats["traces"] += 1
        if self.stats["traces"] == 32 and self.stats["replays"] < 32:
            if not self.quiet:
                warnings.warn(f"gradkit.compile: {getattr(self.fn, '__qualname__', self.fn)} "
                              "was traced 32 times: its signature keeps changing (new shapes, "
                              "static arguments, or Python values or arrays in the state it "
                              "reaches change between calls); each such call is an eager run "
                              "plus a trace", TraceWarning, stacklevel=3)
        tensors: list[Any] = []
        ids: set[int] = set()
        for t in arg_tensors + state:
            if id(t) not in ids:
                ids.add(id(t))
                tensors.append(t)
                g = t._grad
                if g is not None and id(g) not in ids:
                    ids.add(id(g))
                    tensors.append(g)
        hooked = [t for t in tensors if t._hooks or getattr(t, "_post_hooks", None)]
        mods = [o for o in (self._objs or []) if isinstance(o, _walk.state_classes("module"))
                and any(m._forward_hooks or getattr(m, "_forward_pre_hooks", None)
                        for m in o.modules())]
        if hooked or mods:
            self.eager_reason = "hooks on its tensors or modules (a replay would not call them)"
            self._warn(self.eager_reason, "the function's state")
            return self.fn(*args, **kwargs)
        for t in tensors:
            d = t._data
            if type(d) is not np.ndarray:
                self.eager_reason = f"a tensor holds a {type(d).__name__}, not a NumPy array"
                self._warn(self.eager_reason, "the arguments or the state it reaches")
                return self.fn(*args, **kwargs)
        shared = len(tensors) > 1 and _shares_memory([t._data for t in tensors])
        before = []
        in_slots = []
        for t in tensors:
            d = t._data
            if type(d) is not np.ndarray:
                self.eager_reason = f"a tensor holds a {type(d).__name__}, not a NumPy array"
                self._warn(self.eager_reason, "the arguments")
                return self.fn(*args, **kwargs)
            s = tr.slot()
            tr.meta[s] = (d.shape, d.dtype)
            box = Tracer(d, s, tr)
            before.append((t, d, box, t._vc[0], t._grad, t._rg))
            in_slots.append(s)
            t._data = box
        if shared:
            group = set(in_slots)
            for s in in_slots:
                tr.alias[s] = group
        arr_leaves = {}
        new_leaves = []
        for x in leaves:
            if type(x) is np.ndarray:
                s = tr.slot()
                tr.meta[s] = (x.shape, x.dtype)
                box = Tracer(x, s, tr)
                arr_leaves[id(x)] = (x, box)
                in_slots.append(s)
                new_leaves.append(box)
            else:
                new_leaves.append(x)
        targs, tkwargs = _unflatten(tree, iter(new_leaves))
        sc = self._scan
        rngs = [(r, _rng_state(r)) for r in sc.rngs] + [(None, _rng_state(None))]
        counts = [(i, o.__dict__.get("_step_count", 0)) for i, o in enumerate(sc.objs)
                  if isinstance(o, _walk.state_classes("optimizer"))]
        _patch()
        _tracing.trace = tr
        prev_hook = _thread_state.set_hook(_seen_hook)
        ok = False
        error: BaseException | None = None
        try:
            out = self.fn(*targs, **tkwargs)
            ok = True
        except Exception as exc:        # noqa: BLE001  (decided below: eager's error or a retry)
            error = exc
        finally:
            _thread_state.set_hook(prev_hook)
            _tracing.trace = None
            _unpatch()
            tr_live = tr.live
            tr.live = False
            finals = []
            for b in before:
                t = b[0]
                fin = t._data
                finals.append(fin)
                t._data = _untrace(fin)
            for t in tensors:
                _untrace_grad(t)
            if ok:
                # what the function reaches now (new tensors it stored hold traced arrays)
                after = self._scan_state(leaves)
                for v in after.tensors:
                    v._data = _untrace(v._data)
                    _untrace_grad(v)
        if error is not None:
            untouched = all(t._data is d and t._vc[0] == vc and t._grad is g
                            for t, d, _b, vc, g, _r in before)
            if not untouched:
                raise error
            # NOTE: gradkit checks a few layouts only on NumPy arrays (view's contiguity): run
            # eagerly; eager raises its own error if the function fails anyway.
            res = self.fn(*args, **kwargs)
            self.eager_reason = f"the traced run raised {type(error).__name__}: {error}"
            self._warn(self.eager_reason, tr.where or "the function")
            return res
        out_leaves: list[Any] = []
        out_tree = _flatten(out, out_leaves)
        out_slots: list[Any] = []
        kinds: list[Any] = []
        result_leaves = []
        known = {id(t): i for i, t in enumerate(tensors)}
        for x in out_leaves:
            if isinstance(x, _Tensor):
                d = x._data
                if id(x) in known:
                    kinds.append(("same", known[id(x)]))
                    result_leaves.append(x)
                    continue
                if type(d) is Tracer:
                    x._data = d.v if isinstance(d.v, np.ndarray) else np.asarray(d.v)
                    out_slots.append(d.s)
                    kinds.append(("tensor", x._data.dtype))
                else:
                    kinds.append(("const", x))
                result_leaves.append(x)
            elif type(x) is Tracer:
                out_slots.append(x.s)
                kinds.append(("array",))
                result_leaves.append(x.v)
            elif type(x) is PyScalar and x.tr is tr:
                out_slots.append(x.s)
                kinds.append(("py",))
                result_leaves.append(float(x.v))
            elif type(x) is float and id(x) in tr.py:
                out_slots.append(tr.py[id(x)][1])
                kinds.append(("py",))
                result_leaves.append(x)
            else:
                kinds.append(("const", x))
                result_leaves.append(x)
        result = _unflatten(out_tree, iter(result_leaves))
        if tr_live and any(_rng_state(r) != st for r, st in rngs):
            tr_live = False
            tr.why = "a random draw from a NumPy generator: a replay would repeat the same numbers"
            tr.where = "the function's state"
        if tr_live and (after.sig != sc.sig or after.over or
                        [id(t) for t in after.tensors] != [id(t) for t in sc.tensors]):
            # NOTE: it rebound, added or removed Python state (a tensor stored on an object, a
            # counter, an optimizer's new state): a replay would not. This call's result is
            # right (the trace is an eager run); the next call traces again.
            self._uncached += 1
            if self._uncached >= 3:
                self.eager_reason = ("it changes the Python state it reaches (rebinds, adds or "
                                     "changes values that are not tensor data) on every call: "
                                     "a replay would not")
                self._warn(self.eager_reason, "the function's state")
            return result
        watch = []
        if tr_live:
            gone = [id(o) for o in sc.objs]
            outs = {id(x) for x in out_leaves}
            hidden = [r() for r, *_ in tr.seen.values()]
            hidden = [t for t in hidden if t is not None and id(t) not in known and
                      id(t) not in outs and id(t) not in gone]
            del gone
            if hidden and _held_by_user(hidden):
                tr_live = False
                tr.why = ("it reads a tensor held where compile cannot re-read it on every call "
                          "(not in its arguments, closure, globals, defaults or the objects "
                          "they hold): pass it as an argument")
                tr.where = "the function's state"
            del hidden
        if tr_live:
            for ref, arr, vc, g in tr.seen.values():
                t = ref()
                if t is None:
                    continue
                if t._data is not arr or t._vc[0] != vc or t._grad is not g:
                    tr_live = False
                    tr.why = ("it changes a tensor it reaches in a way compile cannot see (not "
                              "an argument, nor in its closure, globals or defaults): pass the "
                              "tensor, module or optimizer as an argument")
                    tr.where = "the function's state"
                    break
                watch.append((ref, arr, vc))
        if tr_live and any(type(f) is Tracer and f.s in tr.stale for f in finals) or \
                any(s in tr.stale for s in out_slots):
            tr_live = False
            tr.why = "a result is a view read after an in-place write to the array it shares"
            tr.where = "the function's results"
        if not tr_live:
            self.eager_reason = tr.why
            self._warn(tr.why or "", tr.where)
            return result
        # what the replay writes back: tensors whose array or gradient changed
        writes = []
        grads = []
        for i, ((t, _d, box, vc, g, _rg), fin) in enumerate(zip(before, finals)):
            s0 = in_slots[i]
            if type(fin) is Tracer and fin.tr is tr:
                if fin is box and fin.s != s0:
                    writes.append((i, "into", fin.s, t._vc[0] - vc, None))
                elif fin is not box:
                    # NOTE: the dtype the eager run left (a rebinding may change it)
                    writes.append((i, "rebind", fin.s, t._vc[0] - vc, np.asarray(fin.v).dtype))
            elif fin is not box:
                self.eager_reason = "a tensor's data was replaced by an array the trace does not follow"
                self._warn(self.eager_reason, "the function's state")
                return result
            gn = t._grad
            if gn is not g:
                gd = gn.__dict__.pop("_gk_slot", None) if gn is not None else None
                if gn is None:
                    grads.append((i, None, None))
                elif gd is not None:
                    grads.append((i, "new", gd))
                elif id(gn) in known:
                    grads.append((i, "obj", known[id(gn)]))
                else:
                    self.eager_reason = "a gradient the trace does not follow"
                    self._warn(self.eager_reason, "the function's state")
                    return result
        for t in tensors:
            t.__dict__.pop("_gk_slot", None)
        try:
            extra = [w[2] for w in writes] + [gr[2] for gr in grads if gr[1] == "new"]
            t_trace = _program._clock() - t_start
            # an in-place update the replay copies into the tensor's own array: the program
            # may write it there itself (when that array is writeable and shares no memory
            # with another input)
            into = {len(out_slots) + k: in_slots[w[0]] for k, w in enumerate(writes)
                    if w[1] == "into" and not shared and before[w[0]][1].flags.writeable and
                    before[w[0]][1].shape == np.shape(finals[w[0]].v)}
            prog = build(tr, in_slots, out_slots + extra, self.optimize,
                         fuse=_backends.fuser(self.backend), into=into)
        except Exception as exc:                       # pragma: no cover - a bug: stay correct
            self.eager_reason = f"the trace could not be compiled ({exc!r})"
            self._warn(self.eager_reason, "gradkit.compile")
            return result
        prog.phases = {"trace": t_trace, **prog.phases}
        e = _Entry()
        e.prog = prog
        e.in_tensors = tensors
        e.writes = writes
        e.grads = grads
        e.out_tree = out_tree
        e.out_kinds = kinds
        e.watch = watch
        e.counts = [(i, after.objs[i].__dict__.get("_step_count", 0) - c) for i, c in counts]
        e.written = [k for k, s in enumerate(in_slots) if s in prog.written]
        e.n_out = len(out_slots)      # the program returns these, then the writes' and grads'
        self._uncached = 0
        if key not in self.cache and len(self.cache) >= 16 * self.cache_size:
            self.cache.pop(next(iter(self.cache)))          # the oldest signature
        self.cache.setdefault(key, []).append(e)
        return result

    # --- replay ---
    def _replay(self, e: _Entry, leaves: list[Any], state: list[Any]) -> Any:
        for ref, arr, vc in e.watch:
            # a tensor the trace read as a constant: changed since (by code outside)? retrace
            t = ref()
            if t is not None and (t._data is not arr or t._vc[0] != vc):
                raise GuardFailed(-1)
        tensors = self._tensors_now(e, leaves, state)
        inputs = [t._data for t in tensors] + [x for x in leaves if type(x) is np.ndarray]
        for k in e.written:
            if not inputs[k].flags.writeable:       # traced writeable: trace this one again
                raise GuardFailed(-1)
        res = e.prog.fn(*inputs)                     # raises GuardFailed before any write
        if e.counts:
            objs = self._scan.objs
            for i, d in e.counts:                  # optimizers' step counts (schedulers read)
                objs[i]._step_count = objs[i].__dict__.get("_step_count", 0) + d
        k = e.n_out
        for i, mode, _s, dvc, dt in e.writes:
            t = tensors[i]
            v = res[k]
            k += 1
            d = t._data
            if v is d:
                pass                               # the program wrote it in place
            elif mode == "into" and d.shape == np.shape(v) and d.flags.writeable:
                d[...] = v
            else:
                dt = d.dtype if dt is None else dt
                t._data = v if type(v) is np.ndarray and v.dtype == dt else \
                    np.asarray(v, dtype=dt)
            t._vc[0] += dvc
        for i, mode, s in e.grads:
            t = tensors[i]
            if mode is None:
                t._grad = None
            elif mode == "obj":
                t._grad = tensors[s]
            else:
                v = res[k]
                k += 1
                if type(v) is np.ndarray and not v.flags.c_contiguous and \
                        type(t._data) is np.ndarray and t._data.flags.c_contiguous:
                    # eager's layout contract: a row-major leaf gets a row-major .grad (a
                    # weight's gradient arrives as a transposed view)
                    v = np.ascontiguousarray(v)
                old = t._grad
                if old is not None and type(v) is np.ndarray and v.dtype == t._data.dtype and \
                        old._data.shape == v.shape and old._base is None:
                    # NOTE: eager made a new gradient tensor holding a fresh array; the old
                    # tensor object is kept (the state walk knows it) and takes the array,
                    # with no further copy
                    old._data = v
                    old._vc[0] += 1
                elif old is not None and old._data.shape == np.shape(v) and \
                        old._data.flags.writeable:
                    old._data[...] = v
                    old._vc[0] += 1
                else:
                    want = grad_np_dtype(t)            # eager's cast: engine._add_to_grad
                    t._grad = _gk.from_numpy(np.array(v, dtype=want, copy=True))
        out = []
        j = 0
        for kind in e.out_kinds:
            if kind[0] == "tensor":
                v = res[j]
                j += 1
                out.append(_gk.from_numpy(v if type(v) is np.ndarray and v.dtype == kind[1]
                                          else np.asarray(v, dtype=kind[1])))
            elif kind[0] == "array" or kind[0] == "py":
                out.append(res[j])
                j += 1
            elif kind[0] == "same":
                out.append(tensors[kind[1]])
            elif isinstance(kind[1], _Tensor):         # a constant tensor: a fresh copy
                out.append(_gk.from_numpy(np.array(kind[1]._data, copy=True)))
            else:
                out.append(kind[1])
        return _unflatten(e.out_tree, iter(out))

    def _tensors_now(self, e: _Entry, leaves: list[Any], state: list[Any]) -> list[Any]:
        tensors: list[Any] = []
        ids: set[int] = set()
        for t in [x for x in leaves if isinstance(x, _Tensor)] + state:
            if id(t) not in ids:
                ids.add(id(t))
                tensors.append(t)
                g = t._grad
                if g is not None and id(g) not in ids:
                    ids.add(id(g))
                    tensors.append(g)
        return tensors


def compile(fn: Callable[..., Any] | None = None, *, backend: str = "auto",
            cache_size: int = 8, optimize: bool = True) -> Any:
    """Trace ``fn`` once per input signature and replay the recorded program afterwards.

    Parameters
    ----------
    fn : callable
        A function of tensors, ndarrays and Python values (static: part of the signature),
        possibly a transform (``gradkit.func.grad(f)``) or a training step that runs a
        module, ``backward()`` and an optimizer step it reaches through its closure or
        globals (their tensors are inputs and outputs of the program).
    backend : {"auto", "numpy", "numexpr"}
        How the replay runs: plain NumPy calls, or large float64 elementwise chains fused into
        numexpr kernels (``pip install "gradkit[jit]"``). ``"auto"`` is NumPy: numexpr's
        transcendental functions measured slower than NumPy 2's (``docs/performance.md``).
    cache_size : int
        Programs kept per signature (one per outcome of the guards); past it, eager.
    optimize : bool
        Run constant folding, CSE, dead-code elimination and buffer reuse.

    Notes
    -----
    Never a stale answer: a value Python reads (``if t.sum() > 0``, ``float(t)``,
    ``.item()``, a data-dependent shape) is guarded: the replay re-checks it and retraces
    when it differs. Random draws, hooks, anomaly mode and NumPy code that the trace cannot
    follow make the function run eagerly, with a one-time ``TraceWarning`` naming the line.
    Outputs carry no graph (as from ``jax.jit``): differentiate inside the function.
    """
    if fn is None:
        return lambda f: CompiledFunction(f, backend, cache_size, optimize)
    return CompiledFunction(fn, backend, cache_size, optimize)


_walk.CompiledFunction = CompiledFunction   # the walk tells compiled functions apart


class _CallableModule(type(functools)):            # type: ignore[misc]
    """``gradkit.compile`` is this package and the function at once: the import system binds
    the package to ``gradkit.compile``, and calling it calls :func:`compile`."""

    def __call__(self, fn: Any = None, **kwargs: Any) -> Any:
        return compile(fn, **kwargs)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _CallableModule
