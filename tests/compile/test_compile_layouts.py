"""gradkit.compile's rewrites for BLAS-bound training steps and long chains of small arrays.

Each rewrite claims eager's bits, so each is checked with ``tobytes()`` equality against the
same function run eagerly: the linear layers' products in the other orientation
(``_SwappedMatmul``: used only where a probe of the very shapes, dtype and layouts found both
orientations equal, eager's expression otherwise), optimizer updates written into the
parameter's own array (``_inplace_updates``), NumPy scalar constants as 0-d arrays
(``_array_constants``) and locals reused once read for the last time (``_registers``).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.compile import _patterns
from gradkit.compile._patterns import _SwappedMatmul, _swap_exact


def _np(x):
    return x.detach().numpy() if isinstance(x, gk.Tensor) else np.asarray(x)


def _bits_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _programs(cf):
    return [e.prog for es in cf.cache.values() for e in es]


def _train(compiled, dtype=np.float32, sizes=(96, 80, 64, 3), steps=4, opt=None):
    gk.manual_seed(0)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [gk.nn.Linear(a, b, dtype=gk.float32 if dtype == np.float32 else gk.float64),
                   gk.nn.Tanh()]
    m = gk.nn.Sequential(*layers[:-1])
    o = (opt or (lambda p: gk.optim.SGD(p, lr=0.05)))(m.parameters())
    rng = np.random.default_rng(5)
    X = gk.tensor(rng.normal(size=(64, sizes[0])).astype(dtype))
    Y = gk.tensor(rng.normal(size=(64, sizes[-1])).astype(dtype))

    def step():
        o.zero_grad()
        loss = ((m(X) - Y) ** 2).mean()
        loss.backward()
        o.step()
        return loss
    f = gk.compile(step) if compiled else step
    losses = [_np(f()).copy() for _ in range(steps)]
    return m, losses, f


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_step_with_swapped_products_equals_eager(dtype):
    me, le, _ = _train(False, dtype)
    mc, lc, f = _train(True, dtype)
    assert f.stats["replays"] >= 2
    for a, b in zip(le, lc, strict=True):
        assert _bits_equal(a, b)
    for pe, pc in zip(me.parameters(), mc.parameters(), strict=True):
        assert _bits_equal(_np(pe), _np(pc))
        assert _bits_equal(_np(pe.grad), _np(pc.grad))
    src = _programs(f)[-1].source
    # eager makes the 80x96 and 64x80 weight gradients (>= 4096 elements; not the 3x64 one)
    # in their C layout itself (``g.T @ x``, ops.linalg._transposed_layout), so no "tn" swap
    # is left to the compiler; the 64x80 and 64x64 forward products are swapped
    assert src.count("matmul_tn(") == 0 and src.count("matmul_nt(") == 2, src
    swapped = {id(v): v for v in _programs(f)[-1].fn.__globals__.values()
               if isinstance(v, _SwappedMatmul)}
    assert len(swapped) == 2 and all(len(s.verdicts) == 1 for s in swapped.values())
    for p in (me[0].weight, me[2].weight, mc[0].weight, mc[2].weight):
        assert _np(p.grad).flags.c_contiguous                 # as PyTorch's
    # the 3x64 one arrives as a transposed view, and .grad takes a row-major copy of it
    # (PyTorch's gradient layout contract), eager and compiled alike
    assert _np(me[4].weight.grad).flags.c_contiguous and _np(mc[4].weight.grad).flags.c_contiguous


def test_probe_refusal_gives_eagers_expression_and_layout(monkeypatch):
    monkeypatch.setattr(_patterns, "_swap_exact", lambda p, q, kind="tn": False)
    me, le, _ = _train(False)
    mc, lc, f = _train(True)
    for a, b in zip(le, lc, strict=True):
        assert _bits_equal(a, b)
    for pe, pc in zip(me.parameters(), mc.parameters(), strict=True):
        assert _bits_equal(_np(pe), _np(pc))
        ge, gc = _np(pe.grad), _np(pc.grad)
        assert _bits_equal(ge, gc) and ge.strides == gc.strides


def test_probe_sees_an_orientation_that_sums_in_another_order(monkeypatch):
    # a stand-in BLAS whose kernel for results taller than wide adds the products in the
    # reverse order (so the two orientations differ): the probe must refuse the swap, and
    # accept it for a kernel that sums in one order either way
    def product(reverse_tall):
        def mm(a, b, out=None):
            r = np.zeros((a.shape[0], b.shape[1]), np.result_type(a, b))
            ks = range(a.shape[1])
            if reverse_tall and a.shape[0] > b.shape[1]:
                ks = reversed(ks)
            for k in ks:
                r += a[:, k:k + 1] * b[k:k + 1, :]
            return r
        return mm
    y = np.zeros((9, 5), np.float32)
    a = np.zeros((9, 6), np.float32)
    with monkeypatch.context() as mp:
        mp.setattr(np, "matmul", product(True))
        assert not _swap_exact(y, a)
        assert not _swap_exact(a.T.copy(), y.T.copy(), "nt")
        mp.setattr(np, "matmul", product(False))
        assert _swap_exact(y, a) and _swap_exact(a.T.copy(), y.T.copy(), "nt")
    # neither C- nor F-contiguous operands, or two dtypes: never swapped
    assert not _swap_exact(np.zeros((9, 10), np.float32)[:, ::2], a)
    assert not _swap_exact(y, a.astype(np.float64))


def test_swapped_product_uses_eagers_expression_for_other_layouts():
    rng = np.random.default_rng(1)
    g = _SwappedMatmul()
    y = rng.normal(size=(12, 10))
    a = rng.normal(size=(12, 8))
    for yy, aa in ((y, a), (np.asfortranarray(y), a), (y, np.asfortranarray(a)),
                   (np.repeat(y, 2, axis=1)[:, ::2], a)):
        got = g(yy, aa)
        assert _bits_equal(got, np.matmul(aa.T, yy).T)
    assert len(g.verdicts) == 4
    assert got.strides == np.matmul(aa.T, yy).T.strides     # not swapped: eager's layout
    f = _SwappedMatmul("nt")
    x = rng.normal(size=(8, 12))
    w = rng.normal(size=(10, 12))
    for xx, ww in ((x, w), (np.asfortranarray(x), w), (x, np.asfortranarray(w)),
                   (np.repeat(x, 2, axis=1)[:, ::2], w)):
        got = f(xx, ww)
        assert _bits_equal(got, np.matmul(xx, ww.T)) and got.flags.c_contiguous


def test_update_is_written_into_the_parameters_array():
    mc, _, f = _train(True, steps=2)
    held = [p.detach().numpy() for p in mc.parameters()]
    f()
    f()
    # the same arrays, updated in place (eager's optimizer writes them in place too)
    assert all(h is p.detach().numpy() for h, p in zip(held, mc.parameters(), strict=True))
    prog = _programs(f)[-1]
    assert len(prog.written) == len(held)
    me, _, _ = _train(False, steps=4)
    for pe, pc in zip(me.parameters(), mc.parameters(), strict=True):
        assert _bits_equal(_np(pe), _np(pc))


def test_read_only_parameter_is_traced_again_not_written():
    mc, _, f = _train(True, steps=3, sizes=(8, 6, 2))
    w = mc[0].weight
    ro = w.detach().numpy().copy()
    ro.flags.writeable = False
    w.data = gk.from_numpy(ro)
    me, _, fe = _train(False, steps=3, sizes=(8, 6, 2))
    ro2 = me[0].weight.detach().numpy().copy()
    ro2.flags.writeable = False
    me[0].weight.data = gk.from_numpy(ro2)
    try:
        want = _np(fe())
        ok = True
    except Exception as exc:                      # eager's own error, if any, is the answer
        want, ok = exc, False
    if ok:
        got = _np(f())
        assert _bits_equal(got, want)
        assert _bits_equal(_np(w), _np(me[0].weight))
        assert not ro.flags.writeable and np.array_equal(ro, w.detach().numpy()) or \
            w.detach().numpy() is not ro
    else:
        with pytest.raises(type(want)):
            f()


def test_no_inplace_write_before_a_later_guard():
    # a guard after the update: a replay whose guard fails must leave the inputs untouched,
    # so the update is not written in place there
    def f(w, x):
        with gk.no_grad():
            w.sub_(x * 0.5)
        return w.sum() * 2 if float(w.sum()) > 0 else w.sum()
    cf = gk.compile(f)
    w0 = np.linspace(1, 2, 5000)
    w, x = gk.tensor(w0.copy()), gk.tensor(np.full(5000, 0.1))
    cf(w, x)
    cf(w, x)
    assert all(not p.written for p in _programs(cf))
    we = gk.tensor(w0.copy())
    f(we, x)
    f(we, x)
    assert _bits_equal(_np(w), _np(we))


@pytest.mark.parametrize("const", [np.float64(0.3), np.float32(0.3), np.int64(3),
                                   np.float16(1.5)])
def test_numpy_scalar_constants_as_zero_d_arrays(const):
    def f(x):
        return (x * const + const) / const - x
    cf = gk.compile(f)
    x = gk.tensor(np.linspace(-2, 2, 50).astype(np.float32))
    for k in range(2):
        xx = gk.tensor(_np(x) * (1 + k))
        got, want = cf(xx), f(xx)
        assert got.dtype == want.dtype and _bits_equal(_np(got), _np(want))
    consts = [v for k, v in _programs(cf)[-1].fn.__globals__.items() if k.startswith("c")]
    assert consts and all(type(v) is np.ndarray and v.ndim == 0 and not v.flags.writeable
                          for v in consts if isinstance(v, (np.ndarray, np.generic)))


def test_long_chain_reuses_few_locals_and_equals_eager():
    def chain(x):
        z = x
        for _ in range(60):
            z = (z * 0.9 + x).sin() * x
            z = z.tanh().exp() - 0.5
        return z.sum()
    vg = gk.func.value_and_grad(chain)
    cvg = gk.compile(vg)
    x0 = np.linspace(-0.9, 0.9, 100, dtype=np.float32)
    for k in range(2):
        t = gk.tensor(x0 * (1 + 0.25 * k))
        got, want = cvg(t), vg(t)
        for g, w in zip(got, want, strict=True):
            assert _bits_equal(_np(g), _np(w))
    src = _programs(cvg)[-1].source
    names = {tok for tok in src.replace("(", " ").replace(",", " ").split()
             if tok[0] == "r" and tok[1:].isdigit()}
    n_lines = len(src.splitlines())
    # one value per line without the reuse; the forward values the backward reads (about a
    # quarter of the lines) stay alive until then
    assert n_lines > 300 and len(names) < n_lines // 2, (n_lines, len(names))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1,), (7,), (64, 10), (1000,), (33, 17, 3), (100_003,)])
def test_mean_of_all_elements_is_numpys_mean(dtype, shape):
    from gradkit.compile._patterns import _mean_all
    rng = np.random.default_rng(len(shape) * 7 + shape[0])
    # magnitudes over many decades: a sum in another order, or a division in another
    # precision, would round differently
    x = (rng.normal(size=shape) * np.exp(rng.normal(size=shape) * 4)).astype(dtype)
    want = np.mean(x)
    got = _mean_all(x, np.intp(x.size))
    assert type(got) is type(want) and got.tobytes() == want.tobytes()

    def f(t):
        return (t * t).mean()
    cf = gk.compile(f)
    for k in range(2):
        tk = gk.tensor(x * (1 + k))
        assert _bits_equal(_np(cf(tk)), _np(f(tk)))
    assert "mean_all(" in _programs(cf)[-1].source


def test_weight_layout_change_traces_again_and_equals_eager():
    # eager picks the weight gradient's orientation by the operand's layout, so a parameter
    # whose array changes layout between calls must not replay the other layout's program
    def run(compiled):
        gk.manual_seed(0)
        lin = gk.nn.Linear(96, 80)
        x = gk.tensor(np.random.default_rng(2).normal(size=(16, 96)).astype(np.float32))

        def f():
            lin.zero_grad()
            (lin(x) ** 2).sum().backward()
            return lin.weight.grad.detach().clone()
        g = gk.compile(f) if compiled else f
        out = [_np(g()), _np(g())]
        with gk.no_grad():
            # the same values, stored as the transpose of a C-ordered (96, 80) array
            lin.weight.data = gk.tensor(np.ascontiguousarray(_np(lin.weight).T)).t()
        assert not _np(lin.weight).flags.c_contiguous
        out += [_np(g()), _np(g())]
        return out, g
    eager, _ = run(False)
    comp, g = run(True)
    for a, b in zip(eager, comp, strict=True):
        assert _bits_equal(a, b)
    # traced at calls 1, 2 (.grad exists now) and 3 (the new layout); call 4 replays
    assert (g.stats["traces"], g.stats["replays"]) == (3, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_where_gives_wheres_bits(dtype):
    from gradkit.compile._patterns import _zero_where
    rng = np.random.default_rng(7)
    g = rng.normal(size=(33, 70)).astype(dtype)
    g.flat[:6] = [np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0]
    g.view(np.int32 if dtype == np.float32 else np.int64).flat[6] |= 1   # a subnormal-ish bit
    for mask in (rng.random(g.shape) < 0.5, np.zeros(g.shape, bool), np.ones(g.shape, bool)):
        mask.flat[:6] = [False, True, False, True, False, True]
        want = np.where(mask, 0.0, g)
        got = _zero_where(mask, g)
        assert got.dtype == want.dtype and got.flags.c_contiguous and _bits_equal(got, want)
        # other layouts and broadcasting: np.where itself, same bits and layout
        for m2, g2 in ((mask.T, g.T), (mask[:, ::2], g[:, ::2]), (mask[:1], g)):
            w2, r2 = np.where(m2, 0.0, g2), _zero_where(m2, g2)
            assert _bits_equal(r2, w2) and r2.strides == w2.strides


def test_relu_training_step_uses_zero_where_and_equals_eager():
    def run(compiled):
        gk.manual_seed(0)
        m = gk.nn.Sequential(gk.nn.Linear(96, 80), gk.nn.ReLU(), gk.nn.Linear(80, 64),
                             gk.nn.ReLU(), gk.nn.Linear(64, 3))
        o = gk.optim.SGD(m.parameters(), lr=0.05)
        rng = np.random.default_rng(5)
        X = gk.tensor(rng.normal(size=(64, 96)).astype(np.float32))
        Y = gk.tensor(rng.integers(0, 3, 64))

        def step():
            o.zero_grad()
            loss = gk.nn.functional.cross_entropy(m(X), Y)
            loss.backward()
            o.step()
            return loss
        f = gk.compile(step) if compiled else step
        return m, [_np(f()).copy() for _ in range(4)], f
    me, le, _ = run(False)
    mc, lc, f = run(True)
    assert f.stats["replays"] >= 2
    assert _programs(f)[-1].source.count("zero_where(") == 2
    for a, b in zip(le, lc, strict=True):
        assert _bits_equal(a, b)
    for pe, pc in zip(me.parameters(), mc.parameters(), strict=True):
        assert _bits_equal(_np(pe), _np(pc)) and _bits_equal(_np(pe.grad), _np(pc.grad))
