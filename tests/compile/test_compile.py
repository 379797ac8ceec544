"""gradkit.compile: replays equal eager runs; guards retrace; untraceable calls stay eager.

Expected values come from the same function run eagerly (uncompiled), and for a few rows from
closed forms; equality is exact (the replay runs the same NumPy calls in the same order).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk


def _np(x):
    if isinstance(x, gk.Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def _same(a, b):
    if isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
        return
    assert np.array_equal(_np(a), _np(b), equal_nan=True), (a, b)


def _check(fn, *calls, traces=None):
    cf = gk.compile(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gk.compile.TraceWarning)
        for args in calls:
            _same(cf(*[gk.tensor(a) if isinstance(a, list) else a for a in args]),
                  fn(*[gk.tensor(a) if isinstance(a, list) else a for a in args]))
    if traces is not None:
        assert cf.stats["traces"] == traces, cf.stats
    return cf


def test_callable_module_and_decorator():
    @gk.compile
    def f(x):
        return (x.sin() * x).sum()
    x = np.array([0.5, 1.5, -2.0])
    assert np.isclose(f(gk.tensor(x)).item(), np.sum(np.sin(x) * x))
    y = np.array([1.0, 2.0, 3.0])
    assert np.isclose(f(gk.tensor(y)).item(), np.sum(np.sin(y) * y))
    assert f.stats == {"traces": 1, "replays": 1, "guard_failures": 0, "eager": 0}
    assert gk.compile(backend="numpy")(lambda x: x + 1)(gk.ones(2)).tolist() == [2.0, 2.0]


def test_forward_replay_and_retrace_on_shape():
    cf = _check(lambda x, y: (x * y + x.exp()).mean(0), ([[1., 2.], [3., 4.]], [[0.5, 1.], [2., 3.]]),
                ([[5., 2.], [3., -4.]], [[1.5, 1.], [2., 0.]]), ([[1., 2., 3.]], [[1., 1., 1.]]),
                traces=2)
    assert cf.stats["replays"] == 1


def test_numpy_dispatch_and_array_inputs():
    def f(x, a):
        return np.sum(np.tanh(x) * a) + np.linalg.norm(x)
    a1, a2 = np.arange(3.0), np.ones(3)
    _check(f, ([1., 2., 3.], a1), ([-1., 0.5, 3.], a2), traces=1)
    cf = gk.compile(lambda a: np.cumsum(a * 2) - a)
    for v in (np.arange(4.0), np.ones(4)):
        _same(cf(v), np.cumsum(v * 2) - v)


def test_static_python_arguments_are_part_of_the_signature():
    cf = _check(lambda x, k: x * k, ([1., 2.], 2.0), ([1., 2.], 3.0), ([3., 2.], 3.0), traces=2)
    assert cf.stats["replays"] == 1


def test_pytree_inputs_and_outputs():
    def f(d, xs):
        return {"s": d["a"] * xs[0], "t": (xs[1].cos(), 3)}
    cf = gk.compile(f)
    for s in (1.0, 2.0):
        d = {"a": gk.tensor([s, 2.0])}
        xs = [gk.tensor([1.0, s]), gk.tensor(s)]
        _same(cf(d, xs), f(d, xs))
    assert cf.stats["replays"] == 1


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jacrev", "hessian"])
def test_transforms(transform):
    tf = getattr(gk.func, transform)

    def loss(x):
        return (x.sin() * x.cos()).sum() + (x ** 3).sum() + (x[0] * x[1]).exp()
    _check(tf(loss), ([1., 2.],), ([0.3, -0.2],), ([-1.5, 0.25],), traces=1)


def test_grad_matches_closed_form():
    g = gk.compile(gk.func.grad(lambda x: (x ** 3).sum()))
    for v in ([1.0, -2.0], [0.5, 4.0]):
        assert np.allclose(g(gk.tensor(v)).numpy(), 3 * np.array(v) ** 2)


def test_backward_sets_grad_of_inputs():
    def f(x, w):
        loss = ((x @ w).tanh() ** 2).sum()
        loss.backward()
        return loss
    cf = gk.compile(f)
    rng = np.random.default_rng(0)
    for _ in range(3):
        xv, wv = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
        x1, w1 = gk.tensor(xv), gk.tensor(wv, requires_grad=True)
        x2, w2 = gk.tensor(xv), gk.tensor(wv, requires_grad=True)
        _same(cf(x1, w1), f(x2, w2))
        _same(w1.grad, w2.grad)
        assert x1.grad is None
    assert cf.stats["replays"] == 2


def test_grad_accumulates_like_eager():
    def f(w):
        (w * w).sum().backward()
        return w.grad
    cf = gk.compile(f)
    w1, w2 = gk.tensor([1.0, 2.0], requires_grad=True), gk.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        _same(cf(w1), f(w2))
        _same(w1.grad, w2.grad)
    assert w1.grad.tolist() == [6.0, 12.0]


def test_value_dependent_branch_is_guarded():
    def f(x):
        if x.sum() > 0:
            return x * 2
        return x.exp()
    cf = _check(f, ([1., 2.],), ([-1., -2.],), ([3., 1.],), ([-5., 1.],))
    assert cf.stats["traces"] == 2 and cf.stats["guard_failures"] == 2


def test_float_and_item_are_guarded():
    def f(x):
        return x / float(x.max()) + x.min().item()
    cf = _check(f, ([1., 2.],), ([1., 4.],), ([1., 2.],), ([0.5, 4.],))
    assert cf.stats["traces"] == 3


def test_data_dependent_loop_count():
    def f(x):
        n = int((x > 0).sum())
        for _ in range(n):
            x = x.sin()
        return x
    _check(f, ([1., 2.],), ([-1., 2.],), ([3., 2.],), ([-1., -2.],), traces=3)


def test_boolean_mask_nonzero_unique_shapes_are_guarded():
    _check(lambda x: x[x > 0].sum() * 2, ([1., -2., 3.],), ([1., 2., 3.],), ([-1., 2., 4.],))
    _check(lambda x: gk.nonzero(x > 0).sum(), ([1., -2., 3.],), ([1., 2., 3.],), ([-1., 2., 4.],))
    _check(lambda x: np.unique(x) * 2, ([1., 1., 3.],), ([1., 2., 3.],), ([2., 2., 4.],))


def test_randomness_runs_eagerly_with_a_warning_naming_the_line():
    def f(x):
        return x + gk.randn(2)
    cf = gk.compile(f)
    with pytest.warns(gk.compile.TraceWarning, match=r"random draw.*test_compile\.py:\d+"):
        gk.manual_seed(0)
        a = cf(gk.ones(2))
    gk.manual_seed(0)
    _same(a, f(gk.ones(2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # one warning per function and reason
        for seed in (1, 2):
            gk.manual_seed(seed)
            a = cf(gk.ones(2))
            gk.manual_seed(seed)
            _same(a, f(gk.ones(2)))
    assert cf.stats["eager"] == 2


def test_dropout_module_is_random():
    m = gk.nn.Dropout(0.5)
    cf = gk.compile(lambda x: m(x))
    with pytest.warns(gk.compile.TraceWarning, match="random"):
        cf(gk.ones(8))
    gk.manual_seed(3)
    a = cf(gk.ones(8))
    gk.manual_seed(3)
    _same(a, m(gk.ones(8)))


def test_in_place_on_inputs_is_replayed():
    def f(x):
        x.mul_(2)
        x += 1
        x[0] = x[1] * 3
        return x.sum()
    cf = gk.compile(f)
    for v in ([1., 2.], [3., 4.], [-1., 0.5]):
        x1, x2 = gk.tensor(v), gk.tensor(v)
        _same(cf(x1), f(x2))
        _same(x1, x2)
    assert cf.stats["replays"] == 2


def test_writes_through_views_and_bases_are_replayed():
    def f(x):
        v = x[1:]
        x.mul_(2)                   # the view follows its base
        w = x[0]
        w.add_(v.sum())             # the base follows its view
        return v * 1.0, x * 1.0
    cf = gk.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gk.compile.TraceWarning)
        for vals in ([1., 2., 3.], [4., 5., 6.], [-1., 0.5, 2.]):
            x1, x2 = gk.tensor(vals), gk.tensor(vals)
            _same(cf(x1), f(x2))
            _same(x1, x2)
    assert cf.stats["replays"] == 2


def test_sibling_views_follow_each_other():
    def f(x):
        a, b = x[0:2], x[1:3]       # overlapping views of one base
        a.mul_(2)
        return b * 1.0, x * 1.0
    _check(f, ([1., 2., 3.],), ([4., 5., 6.],), ([0.5, -2., 1.],), traces=1)


def test_other_view_read_after_write_stays_eager():
    def f(x):
        t = x.t()                   # a transpose view: not followed
        x.mul_(2)
        return t * 1.0
    cf = gk.compile(f)
    with pytest.warns(gk.compile.TraceWarning, match="view"):
        _same(cf(gk.tensor([[1., 2.], [3., 4.]])), f(gk.tensor([[1., 2.], [3., 4.]])))
    _same(cf(gk.tensor([[4., 5.], [6., 7.]])), f(gk.tensor([[4., 5.], [6., 7.]])))


def test_hooks_stay_eager():
    seen = []

    def f(x):
        y = x * 2
        y.register_hook(lambda g: seen.append(1))
        y.sum().backward()
        return x.grad
    cf = gk.compile(f)
    with pytest.warns(gk.compile.TraceWarning, match="hook"):
        cf(gk.ones(2, requires_grad=True))
    cf(gk.ones(2, requires_grad=True))
    assert len(seen) == 2


def test_anomaly_mode_runs_eagerly():
    cf = gk.compile(lambda x: x.exp())
    with gk.autograd.detect_anomaly(), pytest.warns(gk.compile.TraceWarning, match="anomaly"):
        _same(cf(gk.ones(2)), gk.ones(2).exp())
    assert cf.stats["eager"] == 1


def test_guard_cache_is_bounded():
    cf = gk.compile(lambda x: x * float(x.sum()), cache_size=3)
    with pytest.warns(gk.compile.TraceWarning, match="more than 3"):
        for i in range(6):
            _same(cf(gk.tensor([float(i), 1.0])), gk.tensor([float(i), 1.0]) * (i + 1.0))


def test_closure_tensor_is_read_at_replay():
    w = gk.tensor([1.0, 2.0])
    cf = gk.compile(lambda x: x * w)
    _same(cf(gk.ones(2)), gk.tensor([1.0, 2.0]))
    w.mul_(3)
    _same(cf(gk.ones(2)), gk.tensor([3.0, 6.0]))


def test_program_is_optimized():
    def f(x):
        a = x.sin() * 2
        b = x.sin() * 2                 # CSE
        x.cos()                         # dead
        return a + b + gk.ones_like(x) * 3   # folded
    cf = _check(f, ([1., 2.],), ([3., 4.],))
    prog = next(iter(cf.cache.values()))[0].prog
    assert prog.n_ops < prog.n_traced
    assert prog.source.count("sin") == 1 and "cos" not in prog.source
    assert "ones_like" not in prog.source


def test_buffer_reuse_on_large_arrays_keeps_values():
    def f(x):
        return ((x * 2 + 1).exp() * x - x).sum()
    big1, big2 = np.linspace(-1, 1, 10000), np.linspace(0, 2, 10000)
    cf = gk.compile(f)
    for v in (big1, big2):
        _same(cf(gk.tensor(v)), f(gk.tensor(v)))
    assert "out=" in next(iter(cf.cache.values()))[0].prog.source


def _mlp_step_pair(opt_cls, **kw):
    nn = gk.nn
    pairs = []
    for _ in range(2):
        gk.manual_seed(0)
        m = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
        pairs.append((m, opt_cls(m.parameters(), **kw)))
    return pairs


@pytest.mark.parametrize("opt_cls,kw", [(gk.optim.SGD, {"lr": 0.1}),
                                        (gk.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
                                        (gk.optim.Adam, {"lr": 0.01})])
def test_training_step_matches_eager(opt_cls, kw):
    (m1, o1), (m2, o2) = _mlp_step_pair(opt_cls, **kw)

    def step(m, o):
        def run(x, y):
            o.zero_grad()
            loss = ((m(x) - y) ** 2).mean()
            loss.backward()
            o.step()
            return loss
        return run
    cs, eager = gk.compile(step(m1, o1)), step(m2, o2)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gk.compile.TraceWarning)
        for _ in range(6):
            x = gk.tensor(rng.normal(size=(5, 4)), dtype=gk.float32)
            y = gk.tensor(rng.normal(size=(5, 2)), dtype=gk.float32)
            _same(cs(x, y), eager(x, y))
            for p1, p2 in zip(m1.parameters(), m2.parameters()):
                _same(p1, p2)
                _same(p1.grad, p2.grad)
            for s1, s2 in zip(o1.state.values(), o2.state.values()):
                _same({k: _np(v) for k, v in s1.items()}, {k: _np(v) for k, v in s2.items()})
    assert cs.stats["replays"] >= 4


@pytest.mark.parametrize("opt_cls", [gk.optim.Adam, gk.optim.AdamW, gk.optim.Adamax,
                                     gk.optim.RAdam, gk.optim.Adagrad, gk.optim.NAdam,
                                     gk.optim.ASGD])
def test_step_counting_optimizers_compile_once_and_match_eager_exactly(opt_cls):
    # the step count and the bias corrections made of it are inputs of the program: one trace
    # (after the one that creates the state), then replays, bit for bit equal to eager
    (m1, o1), (m2, o2) = _mlp_step_pair(opt_cls, lr=0.01)

    def step(m, o):
        def run(x, y):
            o.zero_grad()
            loss = ((m(x) - y) ** 2).mean()
            loss.backward()
            o.step()
            return loss
        return run
    cs, eager = gk.compile(step(m1, o1)), step(m2, o2)
    rng = np.random.default_rng(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gk.compile.TraceWarning)
        for _ in range(12):
            x = gk.tensor(rng.normal(size=(5, 4)), dtype=gk.float32)
            y = gk.tensor(rng.normal(size=(5, 2)), dtype=gk.float32)
            assert np.array_equal(_np(cs(x, y)), _np(eager(x, y)))
    for p1, p2 in zip(m1.parameters(), m2.parameters(), strict=True):
        assert np.array_equal(_np(p1), _np(p2))
        assert np.array_equal(_np(p1.grad), _np(p2.grad))
    for s1, s2 in zip(o1.state.values(), o2.state.values(), strict=True):
        assert s1.keys() == s2.keys()
        for k in s1:
            assert np.array_equal(_np(s1[k]), _np(s2[k])), k
    assert o1._step_count == o2._step_count == 12
    # RAdam's rectification switches on at step 6 (a guard on a comparison): one more trace
    assert cs.stats["traces"] == (3 if opt_cls is gk.optim.RAdam else 2)
    assert cs.stats["replays"] == 12 - cs.stats["traces"]

def test_asgd_averaging_phase_compiles_and_matches_eager_exactly():
    # t0=3: the average switches on at step 5 and its weight changes every step after: the two
    # comparisons are guards (one retrace each), the weights themselves program inputs
    (m1, o1), (m2, o2) = _mlp_step_pair(gk.optim.ASGD, lr=0.05, t0=3)

    def step(m, o):
        def run(x, y):
            o.zero_grad()
            loss = ((m(x) - y) ** 2).mean()
            loss.backward()
            o.step()
            return loss
        return run
    cs, eager = gk.compile(step(m1, o1)), step(m2, o2)
    rng = np.random.default_rng(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gk.compile.TraceWarning)
        for _ in range(14):
            x = gk.tensor(rng.normal(size=(5, 4)), dtype=gk.float32)
            y = gk.tensor(rng.normal(size=(5, 2)), dtype=gk.float32)
            assert np.array_equal(_np(cs(x, y)), _np(eager(x, y)))
    for s1, s2 in zip(o1.state.values(), o2.state.values(), strict=True):
        for k in s1:
            assert np.array_equal(_np(s1[k]), _np(s2[k])), k
    assert float(_np(o1.state[next(iter(o1.state))]["mu"])) == pytest.approx(1 / (14 - 3))
    assert cs.stats["traces"] <= 4
    assert cs.stats["replays"] == 14 - cs.stats["traces"]


def test_backend_errors_name_what_to_install():
    with pytest.raises(ValueError, match="backend must be one of"):
        gk.compile(lambda x: x, backend="tpu")


class _Holder:
    """Not a tensor, module or optimizer: compile does not look inside it."""


def test_state_in_default_arguments_is_found():
    (m1, o1), (m2, o2) = _mlp_step_pair(gk.optim.SGD, lr=0.1)

    def step(x, m=m1, o=o1):
        o.zero_grad()
        loss = m(x).sum()
        loss.backward()
        o.step()
        return loss
    cs = gk.compile(step)
    for i in range(4):
        x = gk.full((3, 4), float(i))
        _same(cs(x), step(x, m2, o2))
        for p1, p2 in zip(m1.parameters(), m2.parameters()):
            _same(p1, p2)
    assert cs.stats["replays"] == 2


def test_state_in_a_plain_object_is_found_and_replayed():
    h = _Holder()
    h.w = gk.tensor([1.0, 2.0])

    def f(x):
        h.w.add_(x)                 # in place, on an attribute of a closure variable
        return h.w * 2
    cf = gk.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gk.compile.TraceWarning)
        for want in ([4.0, 6.0], [6.0, 8.0], [8.0, 10.0]):
            _same(cf(gk.ones(2)), gk.tensor(want))
        assert h.w.tolist() == [4.0, 5.0]
        h.w = gk.tensor([0.0, 0.0])                 # rebound: read again on the next call
        _same(cf(gk.ones(2)), gk.tensor([2.0, 2.0]))
    assert cf.stats["replays"] == 3


def test_state_two_plain_objects_deep_is_found_and_replayed():
    h = _Holder()
    h.inner = _Holder()
    h.inner.w = gk.tensor([1.0, 2.0])

    def f(x):
        h.inner.w.add_(x)           # two plain objects deep
        return h.inner.w * 2
    cf = gk.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gk.compile.TraceWarning)
        for want in ([4.0, 6.0], [6.0, 8.0], [8.0, 10.0]):
            _same(cf(gk.ones(2)), gk.tensor(want))
    assert h.inner.w.tolist() == [4.0, 5.0]
    assert cf.stats["replays"] == 2


def test_deep_constant_changed_in_place_outside_is_read_again():
    h = _Holder()
    h.inner = _Holder()
    h.inner.w = gk.tensor([1.0, 2.0])
    cf = gk.compile(lambda x: x * h.inner.w)
    _same(cf(gk.ones(2)), gk.tensor([1.0, 2.0]))
    _same(cf(gk.ones(2)), gk.tensor([1.0, 2.0]))
    h.inner.w.mul_(3)                               # in place, outside
    _same(cf(gk.ones(2)), gk.tensor([3.0, 6.0]))
    h.inner.w = gk.tensor([5.0, 7.0])               # replaced, outside
    _same(cf(gk.ones(2)), gk.tensor([5.0, 7.0]))
    assert cf.stats["traces"] == 1 and cf.stats["replays"] == 3


def test_inside_a_transform_runs_eagerly():
    cf = gk.compile(lambda x: x.sin())
    got = gk.func.vmap(cf)(gk.tensor([[1.0, 2.0], [3.0, 4.0]]))
    _same(got, gk.tensor([[1.0, 2.0], [3.0, 4.0]]).sin())


def test_numexpr_backend_fuses_large_elementwise_chains():
    pytest.importorskip("numexpr")

    def f(x):
        return ((x.sin() * (-(x * x)).exp()) + x.tanh()).sum()
    g = gk.func.grad(f)
    cg = gk.compile(g, backend="numexpr")
    for lo in (-3.0, -1.0):
        x = gk.tensor(np.linspace(lo, 3.0, 200_000))
        want = np.cos(x.numpy()) * np.exp(-x.numpy() ** 2) \
            - 2 * x.numpy() * np.sin(x.numpy()) * np.exp(-x.numpy() ** 2) + 1 - np.tanh(x.numpy()) ** 2
        got = cg(x).numpy()
        assert np.allclose(got, want, rtol=1e-12, atol=1e-14)
        assert np.allclose(got, g(x).numpy(), rtol=1e-13, atol=1e-15)
    src = next(iter(cg.cache.values()))[0].prog.source
    assert "numexpr" in src
    assert gk.compile(g, backend="numpy").backend == "numpy"
    assert gk.compile(g).backend == "numpy"             # auto: NumPy's loops are faster here


def test_module_and_optimizer_as_arguments():
    (m1, o1), (m2, o2) = _mlp_step_pair(gk.optim.SGD, lr=0.1)

    def step(m, o, x):
        o.zero_grad()
        loss = m(x).pow(2).mean()
        loss.backward()
        o.step()
        return loss
    cs = gk.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gk.compile.TraceWarning)
        for i in range(4):
            x = gk.full((3, 4), 0.5 * i)
            _same(cs(m1, o1, x), step(m2, o2, x))
            for p1, p2 in zip(m1.parameters(), m2.parameters()):
                _same(p1, p2)
    assert cs.stats["replays"] == 2


def test_dask_backed_tensors_run_eagerly_with_a_warning():
    da = pytest.importorskip("dask.array")
    x = gk.from_dask(da.from_array(np.arange(4.0), chunks=2))
    cf = gk.compile(lambda t: (t * 2).sum())
    with pytest.warns(gk.compile.TraceWarning, match="Array, not a NumPy array"):
        got = cf(x)
    assert float(got.compute()) == 12.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scalar_chains_use_operators_and_equal_eager_bit_for_bit(dtype):
    def f(x, y):
        z = x * 0.9 + y
        z = (z - 1.5) / y - z * z
        z = -z / (x - x)                    # 0/0 and x/0: NaN and inf as NumPy makes them
        return z + (x * 1e30) * (y * 1e30), (x.sin() * y + x / 3).exp()
    cf = gk.compile(f)
    with np.errstate(all="ignore"):
        for a, b in [(0.5, 2.0), (-3.0, 0.25), (0.0, -1.0), (1e-30, 7.0), (2.0, 0.0)]:
            x, y = gk.tensor(np.array(a, dtype)), gk.tensor(np.array(b, dtype))
            got, want = cf(x, y), f(x, y)
            for g, w in zip(got, want):
                assert g.dtype == w.dtype
                assert np.array_equal(g.numpy(), w.numpy(), equal_nan=True)
    src = next(iter(cf.cache.values()))[0].prog.source
    assert " * 0.9" in src and "multiply" not in src


def test_replay_keeps_the_dtype_a_rebinding_gives_state():
    # NAdam keeps mu_product float32; a state loaded for float64 parameters holds it as float64
    # until the next step rebinds it: the replay must leave the dtype eager leaves
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(3,))
    ws = [gk.tensor(w0.copy(), requires_grad=True) for _ in range(2)]
    opts = [gk.optim.NAdam([w], lr=0.1) for w in ws]
    for w, o in zip(ws, opts):
        (w ** 2).sum().backward()
        o.step()
        o.state[w]["mu_product"]._data = o.state[w]["mu_product"]._data.astype(np.float64)

    def step(w, o):
        def run():
            o.zero_grad()
            loss = (w ** 3).sum()
            loss.backward()
            o.step()
            return loss
        return run
    cs, eager = gk.compile(step(ws[0], opts[0])), step(ws[1], opts[1])
    for k in range(6):
        if k == 4:                                # loaded again as float64: a replay of call 1
            for w, o in zip(ws, opts):
                o.state[w]["mu_product"]._data = o.state[w]["mu_product"]._data.astype(np.float64)
        replays = cs.stats["replays"]
        cs()
        eager()
        if k == 4:
            assert cs.stats["replays"] == replays + 1
        s1, s2 = opts[0].state[ws[0]]["mu_product"], opts[1].state[ws[1]]["mu_product"]
        assert _np(s1).dtype == _np(s2).dtype == np.float32
        assert np.array_equal(_np(s1), _np(s2))
        assert np.array_equal(_np(ws[0]), _np(ws[1]))


def test_cse_tells_negative_zero_from_zero():
    # x * 0.0 and x * -0.0 differ in the sign of their zeros: not one subexpression
    cf = gk.compile(lambda x: (x * 0.0, x * -0.0))
    x = gk.tensor([-1.0, 1.0])
    for _ in range(2):
        a, b = cf(x)
        assert np.signbit(_np(a)).tolist() == [True, False]
        assert np.signbit(_np(b)).tolist() == [False, True]


def _rnn_loss(T, H=6, I=3):
    def loss(W, U, xs):
        h = gk.zeros(H, dtype=gk.float64)
        for t in range(T):
            h = (W @ h + U @ xs[t]).tanh()
        return h.sum()
    rng = np.random.default_rng(4)
    args = (rng.normal(size=(H, H)) * 0.4, rng.normal(size=(H, I)), rng.normal(size=(T, I)))
    return gk.func.value_and_grad(loss, argnums=(0, 1)), args


def test_rnn_program_uses_outer_products_and_no_per_step_overlap_guard():
    vg, (W0, U0, xs0) = _rnn_loss(12)
    cvg = gk.compile(vg)
    rng = np.random.default_rng(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gk.compile.TraceWarning)
        for k in range(3):
            args = [gk.tensor(a + 0.1 * k * rng.normal(size=a.shape)) for a in (W0, U0, xs0)]
            got, want = cvg(*args), vg(*args)
            assert np.array_equal(_np(got[0]), _np(want[0]))
            for g, w in zip(got[1], want[1], strict=True):
                assert np.array_equal(_np(g), _np(w))
    # the same numbers checked against finite differences (float64, central)
    W, U, xs = (gk.tensor(a) for a in (W0, U0, xs0))
    gW = _np(cvg(W, U, xs)[1][0])
    eps = 1e-6
    for (i, j) in [(0, 0), (2, 3), (5, 1)]:
        Wp, Wm = W0.copy(), W0.copy()
        Wp[i, j] += eps
        Wm[i, j] -= eps
        fd = (float(vg(gk.tensor(Wp), U, xs)[0]) - float(vg(gk.tensor(Wm), U, xs)[0])) / (2 * eps)
        assert gW[i, j] == pytest.approx(fd, rel=1e-6, abs=1e-8)
    assert cvg.stats["traces"] == 1
    src = next(iter(cvg.cache.values()))[0].prog.source
    assert "outer" in src and src.count("_transpose(") == 1        # W.T, once
    assert "may_share_memory" not in src
    # per step: 5 forward ops, 8 backward (no reshapes around the matrix-vector products)
    assert next(iter(cvg.cache.values()))[0].prog.n_ops <= 13 * 12 + 12


def test_long_loop_is_rolled_and_its_guards_still_checked():
    # 1200 steps, each with a Python branch on the data (a guard per step): the program is
    # rolled into a loop (the guards inside it); a flipped branch at one step retraces
    T = 1200

    def f(x, w):
        h = w * 0.0
        for t in range(T):
            if (x[t].sum() > 0).item():
                h = (h + x[t] * w).tanh()
            else:
                h = (h - x[t]).sin()
        return h.sum()
    cf = gk.compile(f)
    rng = np.random.default_rng(6)
    x0 = np.abs(rng.normal(size=(T, 3))) + 0.1
    w = gk.tensor(rng.normal(size=3))
    for x in (x0, x0 * 0.5):
        assert np.array_equal(_np(cf(gk.tensor(x), w)), _np(f(gk.tensor(x), w)))
    assert cf.stats == {**cf.stats, "traces": 1, "replays": 1}
    src = next(iter(cf.cache.values()))[0].prog.source
    assert "for m0" in src and len(src.splitlines()) < 100
    x2 = x0.copy()
    x2[700] = -x2[700]                      # the branch flips at step 700 only
    assert np.array_equal(_np(cf(gk.tensor(x2), w)), _np(f(gk.tensor(x2), w)))
    assert cf.stats["traces"] == 2


def test_long_rnn_gradient_rolled_matches_eager_exactly():
    # 700 steps: 5 ops a step after batching (3 forward, 2 backward): past REROLL_MIN lines
    vg, (W0, U0, xs0) = _rnn_loss(700)
    cvg = gk.compile(vg)
    rng = np.random.default_rng(7)
    for k in range(3):
        args = [gk.tensor(a + 0.05 * k * rng.normal(size=a.shape)) for a in (W0, U0, xs0)]
        got, want = cvg(*args), vg(*args)
        assert np.array_equal(_np(got[0]), _np(want[0]))
        for g, w in zip(got[1], want[1], strict=True):
            assert np.array_equal(_np(g), _np(w))
    assert cvg.stats["traces"] == 1
    assert "for m0" in next(iter(cvg.cache.values()))[0].prog.source


@pytest.mark.parametrize("steps", [1, 5])
def test_rewritten_outer_products_keep_eagers_signed_zeros(steps):
    # a feature that is always -0.0: its gradient column holds products -0.0; eager's matmul
    # adds them to a zeroed output (+0.0): the compiled program must give the same bits
    # (one step: the gradient of U is that outer product, -0.0 where the input is -0.0)
    # (more steps: their sum, the accumulation in the program)
    vg, (W0, U0, xs0) = _rnn_loss(steps)
    W0 = np.abs(W0)                   # positive weights: every step's gradient is positive,
    xs0 = xs0.copy()                  # so every product with the -0.0 input is -0.0
    xs0[:, 1] = -0.0
    cvg = gk.compile(vg)
    for k in range(2):
        args = [gk.tensor(a * (1 + k)) for a in (W0, U0, xs0)]
        got, want = cvg(*args), vg(*args)
        for g, w in zip(got[1], want[1], strict=True):
            assert np.array_equal(_np(g), _np(w))
            assert np.array_equal(np.signbit(_np(g)), np.signbit(_np(w)))
    assert cvg.stats["replays"] == 1
