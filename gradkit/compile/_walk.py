"""The state walk of ``gradkit.compile``: pytrees of arguments and results, and the one walk
over everything a function can reach (closure, globals, defaults, objects, at any depth) whose
signature says whether a traced program may replay; plus the small checks a call runs on the
state it found (tracers left behind, NumPy generators drawn, tensors held elsewhere)."""

from __future__ import annotations

import collections
import functools
import itertools
import operator
import sys
import types
from typing import Any

import numpy as np

import gradkit as _gk
from gradkit._core.epoch import EPOCH, VersionedDict as _VDict

from ._tracer import Tracer


def state_classes(kind: str = "both") -> tuple[type, ...]:
    """``nn.Module`` and ``optim.Optimizer`` ("module", "optimizer": one of them), as far as
    they are loaded: no object can be an instance of a class whose module was never imported,
    and a first call need not import ``gradkit.nn`` and ``gradkit.optim`` (tens of modules) to
    find that out."""
    out: tuple[type, ...] = ()
    if kind != "optimizer":
        m = sys.modules.get("gradkit.nn.modules.module")
        if m is not None:
            out += (m.Module,)
    if kind != "module":
        o = sys.modules.get("gradkit.optim.optimizer")
        if o is not None:
            out += (o.Optimizer,)
    return out

_Tensor = _gk.Tensor
#: ``gradkit.compile.CompiledFunction``, set once that class exists (it imports this module)
CompiledFunction: Any = None


def _flatten(x: Any, leaves: list[Any]) -> Any:
    t = type(x)
    if t is tuple or t is list:
        return (t, tuple(_flatten(e, leaves) for e in x))
    if t is dict:
        return (dict, tuple((k, _flatten(v, leaves)) for k, v in x.items()))
    leaves.append(x)
    return None


def _unflatten(tree: Any, leaves: Any) -> Any:
    if tree is None:
        return next(leaves)
    t, kids = tree
    if t is dict:
        return {k: _unflatten(v, leaves) for k, v in kids}
    return t(_unflatten(k, leaves) for k in kids)


_ODict = collections.OrderedDict


def _leaf_key(x: Any) -> Any:
    t = type(x)
    if isinstance(x, _Tensor):
        d = x._data
        g = x._grad
        # NOTE: strides too: eager picks a product's orientation by an operand's layout
        # (ops.linalg._transposed_layout), so another layout is another program
        return ("T", d.shape, d.dtype, getattr(d, "strides", None), x._rg, type(d),
                None if g is None else (g._data.shape, g._data.dtype), x._grad_dtype,
                bool(x._hooks or x._post_hooks))       # hooks: traced, then run eagerly
    if t is np.ndarray:
        return ("A", x.shape, x.dtype, x.strides)
    if t is float or t is complex:
        return ("S",) + _scalar_key(x)               # -0.0 is not 0.0
    try:
        hash(x)
    except TypeError:
        return ("O", id(x))
    return ("S", t, x)


# --- the state a function reaches ----------------------------------------------------------

#: Python values compared by value (part of the signature: a change retraces)
_SCALARS = frozenset({int, float, complex, bool, str, bytes, type(None), range})
_LIBS = ("gradkit", "numpy", "builtins", "scipy", "torch", "jax", "collections", "functools",
         "typing", "abc", "enum", "types")
#: objects of these libraries are compared by identity, not walked (but for tensors, modules
#: and optimizers, found before)
_OPAQUE = _LIBS
#: standard-library holders of user values: walked like the user's own objects
_STDLIB_HOLDERS = (types.SimpleNamespace, collections.ChainMap, collections.UserDict,
                   collections.UserList)
WALK_BUDGET = 5000         # objects visited per call; past it the function runs eagerly
_RNG_TYPES = (np.random.Generator, np.random.RandomState)


def _scalar_key(x: Any) -> Any:
    t = type(x)
    if t is float:
        return (float, x.hex())                   # -0.0 and 0.0, and NaN, told apart
    if t is complex:
        return (complex, x.real.hex(), x.imag.hex())
    return (t, x)


def _dict_key(k: Any) -> Any:
    if type(k) in _SCALARS:
        return _scalar_key(k)
    if type(k) is tuple and all(type(e) in _SCALARS for e in k):
        return ("kt",) + tuple(_scalar_key(e) for e in k)
    return ("k", id(k))


class _Scan:
    """One walk over everything a function can reach: its closure, the globals it names, its
    defaults, bound ``self`` and partial arguments, the objects among its arguments, and,
    inside those, containers, attributes and slots of plain objects, at any depth (within
    ``WALK_BUDGET`` objects).

    ``sig`` describes what was found, in order: Python values by value, arrays by content,
    other objects by identity, tensors by their place in ``tensors`` (their data are program
    inputs, read again on every call). Two calls with the same ``sig`` reach the same state
    but for the tensors' values: a replay applies.
    """

    __slots__ = ("sig", "ids", "tensors", "objs", "names", "over", "rngs", "fns", "cf",
                 "state", "checks", "fast", "epoch")

    def __init__(self, cf: Any) -> None:
        self.sig: list[Any] = []
        self.ids: dict[int, int] = {}
        self.tensors: list[Any] = []
        self.objs: list[Any] = []        # modules and optimizers
        self.rngs: list[Any] = []        # NumPy generators (a draw stops a trace)
        self.fns: list[Any] = []         # functions met (their state is read too)
        self.names = cf._names
        self.over = False
        self.cf = cf
        # modules and optimizers as far as loaded now (nothing the walk does imports)
        self.state = state_classes()
        # what the next call checks instead of walking again (``unchanged``): each mutable
        # container met, with its type and the identities of its keys and values now; ``fast``
        # turns False at anything such a check cannot cover (see ``unchanged``)
        self.checks: list[Any] = []
        self.fast = True
        self.epoch = EPOCH[0]            # tensors' hook tables' writes so far

    def visit(self, o: Any, depth: int = 0) -> None:
        sig = self.sig
        t = type(o)
        if t in _SCALARS:
            sig.append(_scalar_key(o))
            return
        ids = self.ids
        i = ids.get(id(o))
        if i is not None:
            sig.append(("@", i))
            return
        ids[id(o)] = len(ids)
        if len(ids) > WALK_BUDGET or depth > 24:
            self.over = True
            return
        if t is dict or t is _ODict:
            # NOTE: first: most of what a training step reaches is a module's (mostly empty)
            # hook and parameter dicts (60 of the 132 objects of a 3-layer MLP with SGD)
            sig.append((t, len(o)))
            if o:
                if self.fast:                         # else: nothing to check
                    self.checks.append((_DICT, o, t, tuple(o), tuple(o.values())))
                self._items(o, depth + 1)
            else:
                self.checks.append((_EMPTY, o, t))
            return
        if isinstance(o, _Tensor):
            # NOTE: whether it has hooks (a replay would not call them: such a signature
            # traces, and the trace runs eagerly); adding or removing one moves EPOCH
            sig.append(("T", len(self.tensors), bool(o._hooks or o._post_hooks)))
            self.tensors.append(o)
            return
        if t is np.ndarray:
            # NOTE: by content: code may read a plain array in ways the trace cannot follow
            self.fast = False
            sig.append(("A", o.shape, o.dtype.str, o.tobytes() if o.dtype.kind != "O" else id(o)))
            return
        if isinstance(o, np.generic):
            sig.append(("g", o.dtype.str, o.tobytes()))
            return
        if t is tuple or t is list or t is set or t is frozenset or \
                isinstance(o, (list, tuple, set, frozenset, collections.deque)):
            # NOTE: containers and plain objects by content (and type): an equal new one is
            # the same state; shared references show as ("@", i)
            sig.append((t, len(o)))
            if isinstance(o, list):
                if self.fast:                         # else: nothing to check
                    self.checks.append((_LIST, o, t, tuple(o)))
            elif isinstance(o, (set, frozenset)):
                # ordered by repr: a check stands in for the walk where every element is a str
                if all(type(e) is str for e in o):
                    self.checks.append((_STRSET, o, t, frozenset(o)))
                else:
                    self.fast = False
            elif not isinstance(o, tuple):
                self.fast = False                     # a deque
            for e in (o if not isinstance(o, (set, frozenset)) else _ordered(o)):
                self.visit(e, depth + 1)
            return
        if isinstance(o, dict):
            sig.append((t, len(o)))
            if self.fast and t is not _VDict:         # a VersionedDict's writes move EPOCH
                self.checks.append((_DICT, o, t, tuple(o), tuple(o.values())))
            self._items(o, depth + 1)
            return
        if isinstance(o, _RNG_TYPES):
            self.rngs.append(o)
            sig.append(("rng", id(o)))
            return
        if isinstance(o, type(np)):                   # a Python module: the names code reads
            sig.append(("m", id(o)))
            if o.__name__.startswith(_LIBS):
                return
            self.fast = False
            d = o.__dict__
            for name in sorted(self.names):
                if name in d:
                    sig.append(name)
                    self.visit(d[name], depth + 1)
            return
        if _is_function(o, t):
            sig.append(("f", id(o)))
            self.fns.append(o)
            if t not in _PLAIN_FUNCTIONS:
                self.fast = False                     # a callable object with __wrapped__
            return
        mod = getattr(t, "__module__", "") or ""
        is_state = isinstance(o, self.state)
        if is_state:
            self.objs.append(o)
        elif isinstance(o, type):
            sig.append(("t", id(o)))
            if (o.__module__ or "").startswith(_LIBS):
                return
            cd = vars(o)
            if self.fast:                         # else: nothing to check
                self.checks.append((_CLASS, o, t, tuple(cd), tuple(cd.values())))
            for k, v in list(cd.items()):
                if not k.startswith("__") and not callable(v) and \
                        not isinstance(v, (property, staticmethod, classmethod)):
                    sig.append(k)
                    self.visit(v, depth + 1)
            return
        elif mod.startswith(_OPAQUE) and not (t is types.SimpleNamespace or
                                              isinstance(o, _STDLIB_HOLDERS)):
            sig.append(("o", id(o)))                  # a library object: by identity
            return
        sig.append(("o", t))
        self.cf._methods(t)
        d = getattr(o, "__dict__", None)
        if isinstance(o, _STDLIB_HOLDERS):
            self.fast = False                         # state held outside its __dict__
        if d is not None:
            if type(d) is not dict:
                self.fast = False
            elif is_state and "_step_count" in d:     # replayed as a count (_Entry.counts)
                if self.fast:
                    vals = list(d.values())
                    i = list(d).index("_step_count")
                    vals[i] = _ANY
                    self.checks.append((_STEPATTRS, o, t, tuple(d), tuple(vals), i))
                d = {k: v for k, v in d.items() if k != "_step_count"}
            else:
                if self.fast:                         # else: nothing to check
                    self.checks.append((_ATTRS, o, t, tuple(d), tuple(d.values())))
            self._attrs(d, depth + 1)
        else:
            self.checks.append((_TYPE, o, t))
        for k in _slot_names(t):
            self.fast = False                         # slots: not checked
            if hasattr(o, k):
                sig.append(k)
                self.visit(getattr(o, k), depth + 1)

    def _attrs(self, d: Any, depth: int) -> None:
        """An object's attributes, in order: each name, then its value as in ``_items``."""
        app = self.sig.append
        ids = self.ids
        for k, v in list(d.items()):
            app(k)
            tv = type(v)
            if tv in _SCALARS and tv is not float and tv is not complex:
                app((tv, v))
            elif (tv is _ODict or tv is dict) and not v:
                i = ids.get(id(v))
                if i is not None:
                    app(("@", i))
                    continue
                ids[id(v)] = len(ids)
                if len(ids) > WALK_BUDGET or depth > 24:
                    self.over = True
                else:
                    app((tv, 0))
                    self.checks.append((_EMPTY, v, tv))
            else:
                self.visit(v, depth)

    def _items(self, o: Any, depth: int) -> None:
        """A dict's items, in order: each key as ``_dict_key``, each value visited; the
        commonest values of a module's dicts are written here without a call to ``visit``
        (plain Python values, empty dicts: a 3-layer MLP's modules hold 60 hook and parameter
        dicts, nearly all empty, most of a training step's state)."""
        app = self.sig.append
        ids = self.ids
        for k, v in list(o.items()):
            tk = type(k)
            app((tk, k) if tk is str or tk is int else _dict_key(k))
            tv = type(v)
            if tv in _SCALARS and tv is not float and tv is not complex:
                app((tv, v))                          # _scalar_key's
            elif (tv is _ODict or tv is dict) and not v:
                i = ids.get(id(v))                    # visit's own steps for an empty dict
                if i is not None:
                    app(("@", i))
                    continue
                ids[id(v)] = len(ids)
                if len(ids) > WALK_BUDGET or depth > 24:
                    self.over = True
                else:
                    app((tv, 0))
                    self.checks.append((_EMPTY, v, tv))
            else:
                self.visit(v, depth)


# the kinds of ``_Scan.checks``: (kind, object, its type, what was read ...)
_EMPTY, _DICT, _LIST, _STRSET, _ATTRS, _STEPATTRS, _TYPE, _CLASS = range(8)
_ANY = object()          # an optimizer's ``_step_count`` (replayed as a count, not walked)
_PLAIN_FUNCTIONS = frozenset({types.FunctionType, types.MethodType, functools.partial})
_is = operator.is_


def gather(checks: list[Any]) -> tuple[Any, ...]:
    """``checks`` (``_Scan.checks``) arranged for ``unchanged``: the containers whose keys (or
    items) and values are compared, in one stream each, and the few others."""
    dicts, owners, classes, lists, steps, strsets, typed = [], [], [], [], [], [], []
    types_, lens, keys, vals = [], [], [], []
    for c in checks:
        kind = c[0]
        if kind == _EMPTY or kind == _DICT:
            dicts.append(c)
        elif kind == _ATTRS:
            owners.append(c)
        elif kind == _CLASS:
            classes.append(c)
        elif kind == _LIST:
            lists.append(c)
        elif kind == _STEPATTRS:
            steps.append((c[1], c[2], c[3], c[4], c[5]))
        elif kind == _STRSET:
            strsets.append((c[1], c[2], c[3]))
        else:
            typed.append(c)
    for group in (dicts, owners, classes):
        for c in group:
            k = c[3] if len(c) > 3 else ()
            types_.append(c[2] if group is dicts else dict if group is owners else
                          types.MappingProxyType)
            lens.append(len(k))
            keys.extend(k)
            vals.extend(c[4] if len(c) > 4 else ())
    for c in lists:
        types_.append(c[2])
        lens.append(len(c[3]))
        keys.extend(c[3])
    n_maps = len(dicts) + len(owners) + len(classes)
    return ([c[1] for c in dicts], [c[1] for c in owners], [c[1] for c in classes],
            [c[1] for c in lists], types_, lens, tuple(keys), tuple(vals), n_maps,
            [c[1] for c in checks], [c[2] for c in checks], steps, strsets)


_dict_of = operator.attrgetter("__dict__")
_values = operator.methodcaller("values")
_chain = itertools.chain.from_iterable


def unchanged(g: tuple[Any, ...]) -> bool:
    """Whether every container a walk met (``gather(_Scan.checks)``) still holds the very
    objects it held then: keys (a list's items) and values compared by identity, in order, and
    the types of the containers and of their owners; an object's and a class's ``__dict__``
    are read again. With the roots of the walk the same objects, a new walk would read the
    same state and give the same signature. Anything such a check cannot cover (arrays read
    by content, Python modules, slots, sets of other than strings, deques) kept the walk from
    offering its checks (``_Scan.fast``). A few C-level passes over all containers at once:
    the check runs on every call, right after the previous call's matrix products emptied
    the caches."""
    dicts, owners, classes, lists, types_, lens, keys, vals, n_maps, objs, otypes, steps, strsets = g
    if list(map(type, objs)) != otypes:
        return False
    cur = dicts + list(map(_dict_of, owners)) + list(map(vars, classes)) + lists
    if list(map(type, cur)) != types_ or list(map(len, cur)) != lens or \
            not all(map(_is, _chain(cur), keys)) or \
            not all(map(_is, _chain(map(_values, cur[:n_maps])), vals)):
        return False
    for o, _t, keys1, vals1, i in steps:      # an optimizer's dict but its _step_count
        d = o.__dict__
        if type(d) is not dict or len(d) != len(keys1) or not all(map(_is, d, keys1)):
            return False
        v = list(d.values())
        v[i] = _ANY
        if not all(map(_is, v, vals1)):
            return False
    for o, _t, snap in strsets:
        if o != snap:
            return False
    return True


def _ordered(s: Any) -> list[Any]:
    try:
        return sorted(s, key=repr)
    except Exception:                                 # noqa: BLE001
        return list(s)


@functools.lru_cache(maxsize=512)
def _slot_names(t: type) -> tuple[str, ...]:
    names: list[str] = []
    for c in t.__mro__:
        s = c.__dict__.get("__slots__", ())
        names.extend([s] if isinstance(s, str) else
                     [n for n in s if n not in ("__dict__", "__weakref__")])
    return tuple(names)


def _discover(fn: Any, depth: int = 0, seen: set[int] | None = None,
              names: set[str] | None = None) -> list[Any]:
    """Where ``fn`` finds its state: getters of its closure cells, the globals it names, its
    defaults, bound ``self`` and partial arguments (and those of the functions it reaches).

    They are read again on every call, so a global or closure variable rebound to another
    tensor, module or optimizer is seen (Dynamo guards those paths the same way).
    """
    seen = set() if seen is None else seen
    getters: list[Any] = []
    if id(fn) in seen or depth > 12 or _dispatch_wrapper(fn):
        return getters
    seen.add(id(fn))
    fixed: list[Any] = []
    inner = getattr(fn, "__wrapped__", None)
    if inner is not None:
        fixed.append(inner)
    func = getattr(fn, "__func__", fn)            # bound methods
    if getattr(fn, "__self__", None) is not None:
        fixed.append(fn.__self__)
    if isinstance(fn, functools.partial):
        fixed.extend([fn.func, *fn.args, *fn.keywords.values()])
    if isinstance(fn, CompiledFunction):
        fixed.append(fn.fn)
    code = getattr(func, "__code__", None)
    if code is not None:
        fixed.extend(getattr(func, "__defaults__", None) or ())
        fixed.extend((getattr(func, "__kwdefaults__", None) or {}).values())
        for cell in func.__closure__ or ():
            getters.append(functools.partial(_cell, cell))
        g = getattr(func, "__globals__", {})
        if (getattr(func, "__module__", "") or "").startswith(_LIBS):
            g = {}                                   # a library's function: its closure only
        cn = _names(code)
        if names is not None:
            names |= cn
        for name in sorted(cn):
            if name in g:
                getters.append(functools.partial(g.get, name))
    elif not isinstance(fn, functools.partial) and inner is None and \
            getattr(fn, "__self__", None) is None and not isinstance(fn, CompiledFunction):
        fixed.append(fn)                             # a callable object: its attributes
    getters.extend(functools.partial(_same_obj, o) for o in fixed)
    for get in list(getters):
        o = get()
        if _is_function(o) and o is not fn:
            getters.extend(_discover(o, depth + 1, seen, names))
    return getters


def _dispatch_wrapper(fn: Any) -> bool:
    """Whether ``fn`` is one of gradkit's ``__torch_function__`` wrappers of a public function
    (``gk.sin``): library code over a library function, no state of the user's to read."""
    tf = sys.modules.get("gradkit._core.torch_function")
    if tf is None or type(fn) is not types.FunctionType:
        return False
    inner = fn.__dict__.get("__wrapped__")
    return inner is not None and tf._WRAPPERS.get(inner) is fn


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:
        return None


def _same_obj(o: Any) -> Any:
    return o


def _is_function(o: Any, t: Any = None) -> bool:
    """A function whose closure and globals hold state (not a callable object: its
    attributes are walked as an object's)."""
    if isinstance(o, (types.FunctionType, types.MethodType, functools.partial,
                      CompiledFunction)):
        return True
    if isinstance(o, type) or not callable(o):
        return False
    return _wrapped_attr(o, type(o) if t is None else t) is not None


_MODULE_TABLES = ("_parameters", "_buffers", "_modules")


def _wrapped_attr(o: Any, t: type) -> Any:
    """``getattr(o, "__wrapped__", None)``. On an ``nn.Module`` that lookup ends in the
    module's ``__getattr__``, which raises AttributeError (4-5 us each, several per call of a
    compiled training step); where the type keeps Python's attribute lookup and
    ``Module.__getattr__`` and defines no ``__wrapped__``, the same answer is read from the
    instance's dict and then, as ``Module.__getattr__`` does, from its parameter, buffer and
    submodule tables."""
    m = sys.modules.get("gradkit.nn.modules.module")
    if m is not None and getattr(t, "__getattr__", None) is m.Module.__getattr__ and \
            t.__getattribute__ is object.__getattribute__ and not hasattr(t, "__wrapped__"):
        d = o.__dict__
        if "__wrapped__" in d:
            return d["__wrapped__"]
        for table in _MODULE_TABLES:
            if table in d and "__wrapped__" in d[table]:
                return d[table]["__wrapped__"]
        return None
    return getattr(o, "__wrapped__", None)


def _names(code: Any) -> set[str]:
    names = set(code.co_names)
    for c in code.co_consts:
        if hasattr(c, "co_names"):
            names |= _names(c)
    return names


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def _untrace(d: Any) -> Any:
    if type(d) is Tracer:
        v = d.v
        return v if type(v) is np.ndarray else np.asarray(v)
    return d


def _untrace_grad(t: Any) -> None:
    g = t._grad
    if g is not None and type(g._data) is Tracer:
        g.__dict__["_gk_slot"] = g._data.s
        g._data = _untrace(g._data)


def _rng_state(r: Any) -> Any:
    """A NumPy generator's state (``None``: NumPy's global one), to see whether a call drew."""
    if r is None:
        st = np.random.get_state()
        return (st[2], st[1].tobytes())
    bg = r.bit_generator if isinstance(r, np.random.Generator) else r._bit_generator
    return repr(bg.state)


def _held_by_user(ts: list[Any]) -> bool:
    """Whether any of ``ts`` is held by something other than gradkit's own objects (a graph's
    saved tensors) or running frames: state the walk did not find."""
    import gc
    frames = types.FrameType

    def internal(o: Any) -> bool:
        return isinstance(o, frames) or (type(o).__module__ or "").startswith("gradkit")
    refs = gc.get_referrers(*ts)
    for r in refs:
        if internal(r):
            continue
        if type(r) in (tuple, list, dict):
            outer = [x for x in gc.get_referrers(r) if x is not refs]
            if outer and all(internal(x) for x in outer):
                continue
        return True
    return False


def _shares_memory(arrays: list[np.ndarray]) -> bool:
    bases = {}
    for a in arrays:
        b = a.base if a.base is not None else a
        if id(b) in bases:
            return True
        bases[id(b)] = a
    return False
