"""gradkit.compile re-reads every input a function reaches: captured state at any depth.

A replay must never use an old value. State reaches a function through its arguments, closure
cells, the globals it names, attributes of Python modules it names, default arguments, bound
``self``, and inside those through containers, attributes and slots at any depth. The random
test builds such paths, mutates what is at their end between calls (a tensor replaced or
written in place, a Python number rebound, an array written in place or replaced) and compares
each compiled call with the eager call of the same function.
"""

from __future__ import annotations

import functools
import types
import warnings

import numpy as np
import pytest

import gradkit as gk


def _same(a, b):
    assert np.array_equal(np.asarray(a.numpy()), np.asarray(b.numpy()), equal_nan=True)


class _Obj:
    pass


class _Slotted:
    __slots__ = ("v",)


_MOD = types.ModuleType("gk_test_state_module")   # a user module named by the function
_GLOBAL_BOX: dict = {}


def _wrap(leaf, kinds):
    """``leaf`` inside containers of ``kinds`` (outermost first) and a getter of it."""
    holder = leaf
    steps = []
    for kind in reversed(kinds):
        if kind == "list":
            holder, step = [0.0, holder], ("item", 1)
        elif kind == "tuple":
            holder, step = (holder, 1.0), ("item", 0)
        elif kind == "dict":
            holder, step = {"k": holder}, ("item", "k")
        elif kind == "obj":
            o = _Obj()
            o.v = holder
            holder, step = o, ("attr", "v")
        else:
            o = _Slotted()
            o.v = holder
            holder, step = o, ("attr", "v")
        steps.append(step)
    steps.reverse()
    return holder, steps


def _get(holder, steps):
    for how, k in steps:
        holder = holder[k] if how == "item" else getattr(holder, k)
    return holder


def _parent(holder, steps):
    return _get(holder, steps[:-1]), steps[-1]


def _set(holder, steps, value):
    parent, (how, k) = _parent(holder, steps)
    if how == "item":
        if type(parent) is tuple:               # immutable: replace the tuple one level up
            new = list(parent)
            new[k] = value
            _set(holder, steps[:-1], tuple(new)) if len(steps) > 1 else None
            return len(steps) > 1
        parent[k] = value
    else:
        setattr(parent, k, value)
    return True


def _make(rng, where, holder, steps):
    """A function reading ``holder`` along ``steps`` from ``where``."""
    op = rng.integers(3)

    def use(v, x):
        v = v if isinstance(v, gk.Tensor) else gk.as_tensor(np.asarray(v, dtype=np.float64))
        return [x * v + 1.0, (x - v).sin(), x / (v * v + 1.0)][op]

    if where == "closure":
        box = [holder]

        def f(x):
            return use(_get(box[0], steps), x).sum() * 2.0
        return f, lambda: box[0]
    if where == "global":
        _GLOBAL_BOX["h"] = holder

        def f(x):
            return use(_get(_GLOBAL_BOX["h"], steps), x).sum() * 2.0
        return f, lambda: _GLOBAL_BOX["h"]
    if where == "module":
        _MOD.h = holder
        mod = _MOD

        def f(x):
            return use(_get(mod.h, steps), x).sum() * 2.0
        return f, lambda: _MOD.h
    if where == "default":
        def f(x, h=[holder]):                   # noqa: B006 (the state under test)
            return use(_get(h[0], steps), x).sum() * 2.0
        return f, lambda: f.__defaults__[0][0]
    o = _Obj()
    o.h = holder

    class M:
        def f(self, x):
            return use(_get(self.h, steps), x).sum() * 2.0
    m = M()
    m.h = holder
    return m.f, lambda: m.h


@pytest.mark.parametrize("seed", range(40))
def test_captured_state_changed_between_calls_is_never_stale(seed):
    rng = np.random.default_rng(seed)
    kinds = [str(k) for k in rng.choice(["list", "tuple", "dict", "obj", "slots"],
                                        size=rng.integers(1, 4))]
    leaf_kind = ["tensor", "float", "array"][rng.integers(3)]

    def leaf():
        v = rng.normal(size=3)
        return {"tensor": gk.tensor(v), "float": float(v[0]), "array": v}[leaf_kind]

    holder, steps = _wrap(leaf(), kinds)
    where = ["closure", "global", "module", "default", "self"][rng.integers(5)]
    f, root = _make(rng, where, holder, steps)
    cf = gk.compile(gk.func.value_and_grad(f))
    eager = gk.func.value_and_grad(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gk.compile.TraceWarning)
        for _ in range(8):
            x = gk.tensor(rng.normal(size=3))
            got, want = cf(x), eager(x)
            _same(got[0], want[0])
            _same(got[1], want[1])
            # change the state before the next call
            cur = _get(root(), steps)
            how = rng.integers(4)
            if how == 0:
                _set(root(), steps, leaf())                        # replaced
            elif how == 1 and isinstance(cur, gk.Tensor):
                cur.mul_(1.5)                                      # written in place
            elif how == 1 and isinstance(cur, np.ndarray):
                cur *= 1.5
            elif how == 2 and len(steps) > 1:
                parent, _ = _parent(root(), steps)
                _set(root(), steps[:-1], _wrap(leaf(), [kinds[-1]])[0]) \
                    if type(parent) is not tuple else None         # a whole level replaced
    assert cf.stats["replays"] + cf.stats["traces"] + cf.stats["eager"] == 8


def test_global_and_closure_numbers_rebound_retrace():
    scale = [2.0]

    def f(x):
        return x * scale[0] * _MOD.__dict__.get("c", 1.0)
    cf = gk.compile(f)
    _same(cf(gk.ones(2)), gk.full((2,), 2.0))
    scale[0] = 3.0
    _same(cf(gk.ones(2)), gk.full((2,), 3.0))
    scale[0] = -0.0
    assert np.signbit(cf(gk.ones(2)).numpy()).all()          # -0.0 is not 0.0


def test_array_written_in_place_outside_is_read_again():
    a = np.array([1.0, 2.0])
    cf = gk.compile(lambda x: x * a)
    _same(cf(gk.ones(2)), gk.tensor([1.0, 2.0]))
    a[0] = 10.0
    _same(cf(gk.ones(2)), gk.tensor([10.0, 2.0]))


def test_python_side_effects_are_not_replayed_silently():
    log = []

    def f(x):
        log.append(1)                        # Python state the replay would not change
        return x * 2
    cf = gk.compile(f)
    with pytest.warns(gk.compile.TraceWarning, match="changes the Python state"):
        for _ in range(5):
            _same(cf(gk.ones(2)), gk.full((2,), 2.0))
    assert len(log) == 5 and cf.stats["replays"] == 0


def test_tensor_stored_on_an_object_each_call_is_not_lost():
    o = _Obj()
    o.h = gk.zeros(2)

    def step(x):
        o.h = o.h * 0.5 + x                 # an RNN-style state rebound on every call
        return o.h.sum()
    cf = gk.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gk.compile.TraceWarning)
        got = [float(cf(gk.ones(2))) for _ in range(5)]
    want, h = [], np.zeros(2)
    for _ in range(5):
        h = h * 0.5 + 1
        want.append(h.sum())
    assert got == want and np.array_equal(o.h.numpy(), h)


def test_numpy_random_draw_runs_eagerly():
    r = np.random.default_rng(0)
    cf = gk.compile(lambda x: x + gk.tensor(r.normal(size=2)))
    with pytest.warns(gk.compile.TraceWarning, match="random draw"):
        a = cf(gk.zeros(2))
    b = cf(gk.zeros(2))
    assert not np.array_equal(a.numpy(), b.numpy())


def test_a_tensor_found_nowhere_but_held_runs_eagerly():
    box = {"v": 1.0}

    @functools.cache
    def weights():                          # the tensor is held inside a C cache: not walked
        return gk.tensor([1.0, 2.0]) * box["v"]
    weights()
    cf = gk.compile(lambda x: x * weights())
    with pytest.warns(gk.compile.TraceWarning, match="cannot re-read"):
        _same(cf(gk.ones(2)), gk.tensor([1.0, 2.0]))
    box["v"] = 2.0
    weights.cache_clear()
    _same(cf(gk.ones(2)), gk.tensor([2.0, 4.0]))


def test_step_scalars_are_program_inputs_and_math_on_them_stops_the_trace():
    import math

    from gradkit.optim.optimizer import _step_value
    t = gk.tensor(4.0)
    cf = gk.compile(lambda x: x * (1 - 0.9 ** _step_value(t)) ** 0.5)
    for v in (4.0, 5.0, 9.0):
        t.fill_(v)
        got = cf(gk.ones(2, dtype=gk.float64)).numpy()
        assert np.array_equal(got, np.full(2, (1 - 0.9 ** v) ** 0.5))
    assert cf.stats["traces"] == 1 and cf.stats["replays"] == 2
    cm = gk.compile(lambda x: x * math.sqrt(_step_value(t)))
    with pytest.warns(gk.compile.TraceWarning, match="math.sqrt"):
        cm(gk.ones(2, dtype=gk.float64))
    t.fill_(16.0)
    assert np.array_equal(cm(gk.ones(2, dtype=gk.float64)).numpy(), np.full(2, 4.0))
    cb = gk.compile(lambda x: x * 2 if _step_value(t) > 10 else x)      # a guard
    assert np.array_equal(cb(gk.ones(2, dtype=gk.float64)).numpy(), np.full(2, 2.0))
    t.fill_(1.0)
    assert np.array_equal(cb(gk.ones(2, dtype=gk.float64)).numpy(), np.ones(2))


def test_float_arguments_keep_their_sign_and_tuple_state_by_content():
    cf = gk.compile(lambda x, c: x / c)
    assert cf(gk.ones(1), 0.0).item() == np.inf
    assert cf(gk.ones(1), -0.0).item() == -np.inf
    o = _Obj()
    o.shape = (2, 3)
    o.table = {(0, 1): 2.0}
    cs = gk.compile(lambda x: x * o.table[(0, 1)] + o.shape[1])
    for _ in range(3):
        o.shape = (2, 3)                    # an equal new tuple: the same state
        o.table = {(0, 1): 2.0}
        _same(cs(gk.ones(2)), gk.full((2,), 5.0))
    o.table[(0, 1)] = 4.0
    _same(cs(gk.ones(2)), gk.full((2,), 7.0))
    assert cs.stats["traces"] == 2


def test_a_signature_that_changes_on_every_call_warns_once():
    cf = gk.compile(lambda x, n: x * n)
    with pytest.warns(gk.compile.TraceWarning, match="traced 32 times"):
        for n in range(40):
            _same(cf(gk.ones(2), n), gk.full((2,), float(n)))


@pytest.mark.parametrize("holder", ["deque", "namespace", "chainmap", "userlist"])
def test_standard_library_holders_are_walked(holder):
    import collections
    w = gk.tensor([1.0, 2.0])
    box = {"deque": lambda: collections.deque([w]),
           "namespace": lambda: types.SimpleNamespace(w=w),
           "chainmap": lambda: collections.ChainMap({"w": w}),
           "userlist": lambda: collections.UserList([w])}[holder]()

    def get():
        return box.w if holder == "namespace" else box["w"] if holder == "chainmap" else box[0]

    def put(v):
        if holder == "namespace":
            box.w = v
        elif holder == "chainmap":
            box["w"] = v
        else:
            box[0] = v
    cf = gk.compile(lambda x: x * get())
    with warnings.catch_warnings():
        warnings.simplefilter("error", gk.compile.TraceWarning)    # walked, not eager
        _same(cf(gk.ones(2)), gk.tensor([1.0, 2.0]))
        put(gk.tensor([5.0, 6.0]))
        _same(cf(gk.ones(2)), gk.tensor([5.0, 6.0]))
        put(3.0)
        _same(cf(gk.ones(2)), gk.tensor([3.0, 3.0]))
    assert cf.stats["replays"] == 1 and cf.stats["traces"] == 2


def test_modules_wrapping_a_function_are_told_apart_as_getattr_tells():
    """The walk reads a module's ``__wrapped__`` without its ``__getattr__`` (a raised
    AttributeError per module per call); what it finds is what Python's ``getattr`` finds:
    on the instance, on the class, or in the module's parameter/submodule tables."""
    from gradkit.compile import _walk

    plain = gk.nn.Linear(2, 2)
    wrapped = functools.update_wrapper(gk.nn.Linear(2, 2), lambda x: x)   # in __dict__
    tabled = gk.nn.Module()
    tabled.add_module("__wrapped__", gk.nn.Tanh())                       # in _modules

    class Marked(gk.nn.Module):
        __wrapped__ = staticmethod(lambda x: x)                          # on the class

    class Looked(gk.nn.Module):
        def __getattr__(self, name):                                     # its own lookup
            if name == "__wrapped__":
                return print
            return super().__getattr__(name)

    cases = [plain, wrapped, tabled, Marked(), Looked(), gk.nn.Tanh()]
    expect = [False, True, True, True, True, False]        # getattr(m, "__wrapped__", None)
    assert [getattr(m, "__wrapped__", None) is not None for m in cases] == expect
    assert [_walk._is_function(m) for m in cases] == expect

