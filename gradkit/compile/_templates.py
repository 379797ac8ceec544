"""Operation templates of a compiled program: a trace's arguments with their slots substituted
(``_subst``), the slots they read (``_refs``), constants (``_Const``, ``_value``) and the key
that tells two calls of the same function on the same arguments apart (``_key``; ``_flat``
does all three in one pass for the common template)."""

from __future__ import annotations

from collections import Counter
from itertools import chain
from typing import Any

import numpy as np

from ._tracer import Op, Ref


def _refs(x: Any, acc: list[int]) -> None:
    t = type(x)
    if t is Ref:
        acc.append(x.s)
    elif t is tuple or t is list:
        for e in x:
            _refs(e, acc)
    elif t is dict:
        for e in x.values():
            _refs(e, acc)
    elif t is slice:
        _refs(x.start, acc)
        _refs(x.stop, acc)
        _refs(x.step, acc)


def _op_refs(op: Op) -> list[int]:
    if op.refs is None:
        acc: list[int] = []
        _refs((op.args, op.kwargs), acc)
        op.refs = acc
    return op.refs


def _uses(ops: list[Op]) -> Counter:
    """slot -> how many times the ops read it (counted in C: no Python loop per read)."""
    return Counter(chain.from_iterable([op.refs if op.refs is not None else _op_refs(op)
                                        for op in ops]))


def _subst(x: Any, env: dict[int, Any], const: dict[int, Any]) -> Any:
    """The template with slots renamed (CSE) and constant slots replaced by their values."""
    t = type(x)
    if t is Ref:
        s = env.get(x.s, x.s)
        return _Const(const[s]) if s in const else Ref(s)
    if t is tuple:
        return tuple([_subst(e, env, const) for e in x])
    if t is list:
        return [_subst(e, env, const) for e in x]
    if t is dict:
        return {k: _subst(v, env, const) for k, v in x.items()}
    if t is slice:
        return slice(_subst(x.start, env, const), _subst(x.stop, env, const),
                     _subst(x.step, env, const))
    return x


_FLAT_SCALARS = frozenset({int, float, bool, str, type(None)})


def _flat(args: Any, env: dict[int, int], const: dict[int, Any]) -> Any:
    """``_subst``, ``_refs`` and ``_key`` in one pass for the common template: a tuple of slots
    and Python scalars (None when ``args`` is anything else)."""
    if type(args) is not tuple:
        return None
    refs: list[int] = []
    key: list[Any] = ["tuple"]
    for a in args:
        t = type(a)
        if t is Ref:
            s = a.s
            if s in env or s in const:
                # NOTE: a slot renamed (CSE) or folded: the template is rebuilt (the rare
                # case; the common one hands back ``args`` itself, no new tuple)
                return _flat_subst(args, env, const)
            refs.append(s)
            key.append(s)             # NOTE: a bare int is a slot here (values are tuples)
        elif t in _FLAT_SCALARS:
            key.append(("v", t.__name__, a.hex() if t is float else a))
        elif t is tuple and tuple(map(type, a)).count(int) == len(a):   # a shape or axes
            key.append(("T", a))      # NOTE: exact ints only (no bool, no float): equal keys
        else:                         # are equal arguments
            return None
    return args, refs, tuple(key)


def _flat_subst(args: tuple, env: dict[int, int], const: dict[int, Any]) -> Any:
    """``_flat`` where some slot of ``args`` is renamed or folded."""
    new: list[Any] = []
    refs: list[int] = []
    key: list[Any] = ["tuple"]
    for a in args:
        t = type(a)
        if t is Ref:
            s = env.get(a.s, a.s)
            if s in const:
                c = _Const(const[s])
                new.append(c)
                key.append(("c", id(c.v)))
            else:
                new.append(a if s == a.s else Ref(s))
                refs.append(s)
                key.append(s)
        elif t in _FLAT_SCALARS:
            new.append(a)
            key.append(("v", t.__name__, a.hex() if t is float else a))
        elif t is tuple and tuple(map(type, a)).count(int) == len(a):
            new.append(a)
            key.append(("T", a))
        else:
            return None
    return tuple(new), refs, tuple(key)


class _Const:
    """A folded slot's value inside a template."""

    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v


def _value(x: Any) -> Any:
    t = type(x)
    if t is _Const:
        return x.v
    if t is tuple or t is list:
        return t(_value(e) for e in x)
    if t is dict:
        return {k: _value(v) for k, v in x.items()}
    if t is slice:
        return slice(_value(x.start), _value(x.stop), _value(x.step))
    return x


def _key(x: Any) -> Any:
    """A hashable key of a template for CSE (constants by identity when unhashable)."""
    t = type(x)
    if t is Ref:
        return ("r", x.s)
    if t is _Const:
        return ("c", id(x.v))
    if t is tuple or t is list:
        return (t.__name__,) + tuple([_key(e) for e in x])
    if t is dict:
        return ("d",) + tuple((k, _key(v)) for k, v in x.items())
    if t is slice:
        return ("s", _key(x.start), _key(x.stop), _key(x.step))
    if isinstance(x, (np.ndarray, np.generic)) and not (isinstance(x, np.generic)):
        return ("a", id(x))
    if t is float:
        return ("v", "float", x.hex())           # -0.0 is not 0.0
    try:
        hash(x)
    except TypeError:
        return ("o", id(x))
    return ("v", type(x).__name__, x)
