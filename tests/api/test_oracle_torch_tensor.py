"""Live-PyTorch oracle for the torch.* functions and Tensor methods of gradkit/_api_tensor.py and
gradkit/_methods_more.py: values, dtypes, gradients, gradients of gradients, in-place semantics
and error messages. Random fills are checked by ranges, statistics and reproducibility."""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")


def _arr(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _close(a: Any, b: Any, tol: float = 1e-9) -> None:
    a, b = _arr(a), _arr(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a.astype(np.float64) if a.dtype != bool else a,
                               b.astype(np.float64) if b.dtype != bool else b, rtol=tol, atol=tol)


def _dt(t: Any) -> str:
    return str(t.dtype).split(".")[-1]


def compare(fn: Callable[..., Any], *arrays: np.ndarray, grad: bool = True, order2: bool = True,
            tol: float = 1e-9) -> None:
    """``fn(lib, *tensors)`` in both libraries: values, dtype, gradients and second gradients."""
    rng = np.random.default_rng(0)
    outs, grads, grads2 = [], [], []
    for lib in (torch, gk):
        ins = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        out = fn(lib, *ins)
        outs.append(out)
        if not grad:
            continue
        diff = [t for t in ins if t.requires_grad]
        cot = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
        gs = lib.autograd.grad((out * cot.to(out.dtype)).sum(), diff, create_graph=order2,
                               allow_unused=True)
        grads.append([g if g is not None else lib.zeros_like(t) for g, t in zip(gs, diff)])
        if order2:
            s = sum((g * g).sum() for g in gs if g is not None and g.requires_grad)
            if isinstance(s, int):
                grads2.append(None)
            else:
                g2 = lib.autograd.grad(s, diff, allow_unused=True)
                grads2.append([g if g is not None else lib.zeros_like(t) for g, t in zip(g2, diff)])
    del rng
    t_out, g_out = outs
    if isinstance(t_out, tuple):
        for a, b in zip(t_out, g_out):
            _close(a, b, tol)
            assert _dt(a) == _dt(b)
    else:
        _close(t_out, g_out, tol)
        assert _dt(t_out) == _dt(g_out)
    if grad:
        for a, b in zip(*grads):
            _close(a, b, tol)
        if order2 and grads2[0] is not None and grads2[1] is not None:
            for a, b in zip(*grads2):
                _close(a, b, 1e-7)


R = np.random.default_rng(42)
X34 = R.standard_normal((3, 4))
X5 = R.standard_normal(5)


def test_index_fill_copy_put_masked_scatter() -> None:
    idx = np.array([0, 2])
    compare(lambda L, x: L.index_fill(x, 1, L.tensor(idx), -1.5), X34)
    compare(lambda L, x: x.index_fill(0, L.tensor([1]), 2.0), X34)
    compare(lambda L, x, s: L.index_copy(x, 1, L.tensor(idx), s), X34, R.standard_normal((3, 2)))
    compare(lambda L, x, s: x.index_copy(0, L.tensor([2, 0]), s), X34, R.standard_normal((2, 4)))
    mask = X34 > 0
    compare(lambda L, x, s: L.masked_scatter(x, L.tensor(mask), s), X34, R.standard_normal(12))
    compare(lambda L, x, s: x.masked_scatter(L.tensor(mask[0]), s), X34, R.standard_normal(13))
    compare(lambda L, x, s: L.put(x, L.tensor([0, -1, 5]), s), X34, R.standard_normal(3))
    compare(lambda L, x, s: x.put(L.tensor([1, 1, 7]), s, accumulate=True), X34,
            R.standard_normal(3))


def test_inplace_index_ops_bump_version_and_guard_leaves() -> None:
    for name, args in (("index_fill_", (1, [0, 2], 3.0)), ("index_copy_", (0, [1], "src")),
                       ("put_", ([0, 3], "src2")), ("masked_scatter_", ("mask", "src12")),
                       ("fill_diagonal_", (7.0,))):
        res = []
        for lib in (torch, gk):
            def conv(a: Any, lib: Any = lib) -> Any:
                if a == "src":
                    return lib.ones(1, 4, dtype=lib.float64)
                if a == "src2":
                    return lib.ones(2, dtype=lib.float64)
                if a == "src12":
                    return lib.arange(12.0, dtype=lib.float64)
                if a == "mask":
                    return lib.tensor(X34 > 0)
                return lib.tensor(a) if isinstance(a, list) else a
            x = lib.tensor(X34.copy())
            v = x._version
            out = getattr(x, name)(*[conv(a) for a in args])
            assert out is x and x._version > v
            res.append(x)
            leaf = lib.tensor(X34.copy(), requires_grad=True)
            with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
                getattr(leaf, name)(*[conv(a) for a in args])
            # through a non-leaf: gradient flows
            leaf = lib.tensor(X34.copy(), requires_grad=True)
            y = leaf * 2
            getattr(y, name)(*[conv(a) for a in args])
            (y * lib.tensor(X34)).sum().backward()
            res.append(leaf.grad)
        _close(res[0], res[2])
        _close(res[1], res[3])


def test_fill_diagonal_wrap_and_nd() -> None:
    for shape, wrap in (((7, 3), True), ((7, 3), False), ((3, 5), True), ((3, 3, 3), False)):
        a = torch.zeros(shape).fill_diagonal_(2.0, wrap=wrap)
        b = gk.zeros(shape).fill_diagonal_(2.0, wrap=wrap)
        _close(a, b)
    with pytest.raises(RuntimeError, match="all dimensions of input must be of equal length"):
        gk.zeros(2, 3, 4).fill_diagonal_(1.0)


def test_random_fills_ranges_stats_and_reproducibility() -> None:
    n = 20000
    cases = [("uniform_", (2.0, 5.0), lambda a: a.min() >= 2 and a.max() < 5 and abs(a.mean() - 3.5) < .05),
             ("normal_", (1.0, 2.0), lambda a: abs(a.mean() - 1) < .1 and abs(a.std() - 2) < .1),
             ("exponential_", (2.0,), lambda a: a.min() >= 0 and abs(a.mean() - .5) < .03),
             ("log_normal_", (0.0, 0.5), lambda a: a.min() > 0 and abs(np.log(a).mean()) < .03),
             ("cauchy_", (1.0, 1.0), lambda a: abs(np.median(a) - 1) < .1),
             ("geometric_", (0.25,), lambda a: a.min() >= 1 and np.all(a == np.round(a))
              and abs(a.mean() - 4) < .2),
             ("bernoulli_", (0.3,), lambda a: set(np.unique(a)) <= {0, 1} and abs(a.mean() - .3) < .03),
             ("random_", (3, 9), lambda a: a.min() == 3 and a.max() == 8 and np.all(a == np.round(a))),
             ("random_", (4,), lambda a: a.min() == 0 and a.max() == 3)]
    for name, args, check in cases:
        for dt in ("float32", "float64"):
            for lib in (torch, gk):
                x = lib.zeros(n, dtype=getattr(lib, dt))
                v = x._version
                assert getattr(x, name)(*args) is x
                assert x._version > v and _dt(x) == dt
                assert check(x.numpy().astype(np.float64)), (lib.__name__, name, dt)
        gk.manual_seed(5)
        a = getattr(gk.zeros(50), name)(*args).numpy().copy()
        gk.manual_seed(5)
        b = getattr(gk.zeros(50), name)(*args).numpy()
        np.testing.assert_array_equal(a, b)
        g = gk.Generator().manual_seed(3)
        c = getattr(gk.zeros(50), name)(*args, generator=g).numpy().copy()
        g.manual_seed(3)
        np.testing.assert_array_equal(c, getattr(gk.zeros(50), name)(*args, generator=g).numpy())


def test_random_fills_int_dtypes_defaults_and_errors() -> None:
    for dt, hi in (("int64", 2 ** 63 - 1), ("uint8", 255), ("bool", 1), ("float32", 2 ** 24),
                   ("float64", 2 ** 53)):
        for lib in (torch, gk):
            x = lib.zeros(2000, dtype=getattr(lib, dt)).random_()
            a = x.numpy().astype(np.float64)
            assert a.min() >= 0 and a.max() <= hi and _dt(x) == dt
    x = gk.zeros(500, dtype=gk.int64).bernoulli_(0.5)
    assert set(np.unique(x.numpy())) == {0, 1}
    x = gk.zeros(500, dtype=gk.int64).geometric_(0.5)
    assert x.numpy().min() >= 1
    errs = [("uniform_", (), "int64"), ("normal_", (), "int64"), ("exponential_", (), "int64"),
            ("log_normal_", (), "int64"), ("exponential_", (-1,), "float32"),
            ("geometric_", (0,), "float32"), ("geometric_", (1.5,), "float32"),
            ("bernoulli_", (1.5,), "float32"), ("normal_", (0, -1), "float32"),
            ("uniform_", (2, 1), "float32"), ("cauchy_", (0, -1), "float32"),
            ("log_normal_", (0, -1), "float32"), ("random_", (5, 2), "float32")]
    for name, args, dt in errs:
        with pytest.raises(RuntimeError) as te:
            getattr(torch.zeros(3, dtype=getattr(torch, dt)), name)(*args)
        with pytest.raises(RuntimeError) as ge:
            getattr(gk.zeros(3, dtype=getattr(gk, dt)), name)(*args)
        assert str(te.value).split("\n")[0] == str(ge.value), name
    for lib in (torch, gk):
        leaf = lib.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            leaf.uniform_()
        with lib.no_grad():
            leaf.normal_()
        y = leaf * 1
        y.uniform_()
        assert y.grad_fn is not None
        y.sum().backward()
        _close(leaf.grad, np.zeros(3))


def test_bernoulli_tensor_probs() -> None:
    gk.manual_seed(0)
    p = gk.tensor([0.0, 1.0, 0.5]).expand(4000, 3)
    s = p.bernoulli().numpy()
    assert s[:, 0].max() == 0 and s[:, 1].min() == 1 and abs(s[:, 2].mean() - .5) < .05
    x = gk.zeros(4000, 3).bernoulli_(gk.tensor([0.0, 1.0, 0.2]))
    assert abs(x.numpy()[:, 2].mean() - .2) < .05


def test_new_factories_keep_dtype() -> None:
    for lib in (torch, gk):
        x = lib.zeros(2, dtype=lib.float64)
        for out in (x.new_ones(3), x.new_zeros((2, 2)), x.new_empty(4), x.new_full((2,), 7),
                    x.new_tensor([1, 2])):
            assert _dt(out) == "float64" and not out.requires_grad
        assert _dt(x.new_ones(2, dtype=lib.int32)) == "int32"
        assert x.new_full((2, 3), 1.5).shape == (2, 3)
        assert x.new_tensor([1.0], requires_grad=True).requires_grad
        i = lib.zeros(2, dtype=lib.int64)
        assert _dt(i.new_tensor([1.7])) == "int64"


def test_unfold_and_as_strided() -> None:
    x = R.standard_normal((3, 8))
    compare(lambda L, t: t.unfold(1, 3, 2), x)
    compare(lambda L, t: t.unfold(0, 2, 1), x)
    compare(lambda L, t: t.unfold(-1, 8, 1), x)
    compare(lambda L, t: t.as_strided((3, 3), (1, 2), 1), x)
    compare(lambda L, t: L.as_strided(t, (4, 2), (2, 1)), x)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 1 is 8 but size is 9"):
            lib.zeros(3, 8).unfold(1, 9, 1)
        with pytest.raises(RuntimeError, match="step is 0 but must be > 0"):
            lib.zeros(3, 8).unfold(1, 2, 0)


def test_transposes_H_mT_mH() -> None:
    x = R.standard_normal((2, 3, 4))
    compare(lambda L, t: t.mT, x)
    compare(lambda L, t: t.mH, x)
    compare(lambda L, t: t[0].H, x)
    compare(lambda L, t: t.adjoint(), x)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError,
                           match=r"tensor.H is only supported on matrices \(2-D tensors\). Got 3-D"):
            _ = lib.zeros(2, 3, 4).H
        with pytest.raises(RuntimeError, match="tensor.mT is only supported on matrices or batches"):
            _ = lib.zeros(3).mT
        with pytest.raises(RuntimeError, match="tensor.mH is only supported"):
            _ = lib.zeros(3).mH
        with pytest.warns(UserWarning, match="x.T"):
            assert lib.zeros(2, 3, 4).T.shape == (4, 3, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert lib.zeros(2, 3).T.shape == (3, 2)
    z = np.array([[1 + 2j, 3 - 1j]])
    _close(torch.tensor(z).H.resolve_conj(), gk.tensor(z).H)
    _close(torch.tensor(z).mH.resolve_conj(), gk.tensor(z).mH)


def test_storage_offset_is_set_to_apply_map() -> None:
    for lib in (torch, gk):
        x = lib.arange(12.0).reshape(3, 4)
        assert x.storage_offset() == 0
        assert x[1].storage_offset() == 4 and x[1:, 2:].storage_offset() == 6
        assert x.is_set_to(x) and not x.is_set_to(x.clone()) and not x.is_set_to(x[1:])
        y = lib.tensor([1.0, 2.0, 3.0])
        assert y.apply_(lambda e: e * 10 + 1) is y
        _close(y, [11, 21, 31])
        y.map_(lib.tensor([1.0, 1.0, 2.0]), lambda a, b: a - b)
        _close(y, [10, 20, 29])
        with pytest.raises(RuntimeError, match="Can't call apply_\\(\\) on Variable that requires grad"):
            lib.zeros(2, requires_grad=True).apply_(lambda e: e)


def test_diff_and_gradient() -> None:
    compare(lambda L, t: L.diff(t), X34)
    compare(lambda L, t: t.diff(n=2, dim=0), X34)
    compare(lambda L, t, p: L.diff(t, dim=1, prepend=p, append=p), X34, R.standard_normal((3, 2)))
    compare(lambda L, t: L.diff(t, n=3), X5)
    compare(lambda L, t: L.diff(L.tensor([True, False, False, True])), X5, grad=False)
    compare(lambda L, t: L.diff(L.tensor([1, 4, 9, 2])), X5, grad=False)
    f = R.standard_normal((5, 6))
    compare(lambda L, t: L.stack(L.gradient(t)), f)
    compare(lambda L, t: L.gradient(t, spacing=2.0, dim=1)[0], f)
    compare(lambda L, t: L.stack(L.gradient(t, spacing=[0.5, 2.0], edge_order=2)), f)
    coords = np.cumsum(R.uniform(0.2, 1.0, 6))
    compare(lambda L, t: L.gradient(t, spacing=[L.tensor(coords)], dim=1)[0], f)
    compare(lambda L, t: L.gradient(t, spacing=[L.tensor(coords)], dim=1, edge_order=2)[0], f)
    compare(lambda L, t: L.gradient(L.tensor([1, 4, 9, 16, 25]))[0], X5, grad=False)
    compare(lambda L, t: L.gradient(t, dim=[0])[0], f)
    for lib in (torch, gk):
        with pytest.raises(RuntimeError, match="at least edge_order\\+1"):
            lib.gradient(lib.zeros(2, 3), edge_order=2)


def test_integrals() -> None:
    y = R.standard_normal((3, 5))
    xs = np.cumsum(R.uniform(0.1, 1.0, 5))
    compare(lambda L, t: L.trapezoid(t), y)
    compare(lambda L, t: L.trapezoid(t, dx=0.5, dim=0), y)
    compare(lambda L, t, x: L.trapezoid(t, x), y, xs)
    compare(lambda L, t: L.trapz(t, dim=0), y)
    compare(lambda L, t: L.cumulative_trapezoid(t), y)
    compare(lambda L, t, x: L.cumulative_trapezoid(t, x, dim=-1), y, xs)


def test_cdist() -> None:
    a, b = R.standard_normal((4, 3)), R.standard_normal((5, 3))
    for p in (1.0, 2.0, 3.0, float("inf")):
        compare(lambda L, x, y, p=p: L.cdist(x, y, p=p), a, b, order2=False, tol=1e-7)
    compare(lambda L, x, y: L.cdist(x, y, p=0), a, b, grad=False)
    compare(lambda L, x, y: L.cdist(x, y), R.standard_normal((2, 4, 3)), R.standard_normal((2, 5, 3)),
            order2=False, tol=1e-7)
    # zero distance: zero gradient, not NaN
    compare(lambda L, x: L.cdist(x, x), a, order2=False, tol=1e-7)


def test_histc_bincount() -> None:
    x = R.standard_normal(200).astype(np.float32)
    for args in ((), (10,), (7, -1.0, 1.0), (5, 0.5, 0.5)):
        a, b = torch.histc(torch.tensor(x), *args), gk.histc(gk.tensor(x), *args)
        _close(a, b)
        assert _dt(a) == _dt(b)
    i = R.integers(0, 6, 50)
    w = R.standard_normal(50)
    for kw in ({}, {"minlength": 10}):
        a, b = torch.bincount(torch.tensor(i), **kw), gk.bincount(gk.tensor(i), **kw)
        _close(a, b)
        assert _dt(a) == _dt(b)
    for wd in (np.float32, np.float64):
        a = torch.bincount(torch.tensor(i), torch.tensor(w.astype(wd)))
        b = gk.bincount(gk.tensor(i), gk.tensor(w.astype(wd)))
        _close(a, b, 1e-5)
        assert _dt(a) == _dt(b)
    assert gk.tensor(i).bincount().shape == torch.tensor(i).bincount().shape


def test_products_with_bias() -> None:
    m, a, b = R.standard_normal((3, 5)), R.standard_normal((3, 4)), R.standard_normal((4, 5))
    compare(lambda L, i, x, y: L.addmm(i, x, y), m, a, b)
    compare(lambda L, i, x, y: L.addmm(i, x, y, beta=0.5, alpha=2.0), R.standard_normal(5), a, b)
    compare(lambda L, i, x, y: i.addmm(x, y, beta=0), m, a, b)
    compare(lambda L, i, x, y: L.addmv(i, x, y, alpha=3), R.standard_normal(3), a,
            R.standard_normal(4))
    compare(lambda L, i, x, y: L.addr(i, x, y, beta=2), R.standard_normal((3, 4)),
            R.standard_normal(3), R.standard_normal(4))
    b1, b2 = R.standard_normal((2, 3, 4)), R.standard_normal((2, 4, 5))
    compare(lambda L, i, x, y: L.addbmm(i, x, y), m, b1, b2)
    compare(lambda L, i, x, y: L.baddbmm(i, x, y, alpha=0.5), R.standard_normal((2, 3, 5)), b1, b2)
    compare(lambda L, i, x, y: (i * 1).addmm_(x, y), m, a, b)
    compare(lambda L, i, x, y: (i * 1).baddbmm_(x, y, beta=2), R.standard_normal((2, 3, 5)), b1, b2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(lambda L, x, y, z: L.chain_matmul(x, y, z), a, b, R.standard_normal((5, 2)))


def test_building_functions() -> None:
    compare(lambda L, x, y: L.cartesian_prod(x, y), R.standard_normal(3), R.standard_normal(2))
    compare(lambda L, x, y, z: L.cartesian_prod(x, y, z), R.standard_normal(2), R.standard_normal(2),
            R.standard_normal(3))
    compare(lambda L, x: L.combinations(x), X5)
    compare(lambda L, x: L.combinations(x, 3, with_replacement=True), R.standard_normal(3))
    compare(lambda L, x: L.combinations(x, 0), X5, grad=False)
    compare(lambda L, x: L.combinations(x[:2], 3), X5, grad=False)
    compare(lambda L, x, y: L.meshgrid(x, y, indexing="ij")[1], R.standard_normal(3), R.standard_normal(2))
    compare(lambda L, x, y: L.meshgrid(x, y, indexing="xy")[0], R.standard_normal(3), R.standard_normal(2))
    compare(lambda L, x, y, z: L.meshgrid(x, y, z, indexing="xy")[2], R.standard_normal(3),
            R.standard_normal(2), R.standard_normal(4))
    compare(lambda L, x, y, z: L.block_diag(x, y, z), R.standard_normal((2, 3)), R.standard_normal(2),
            R.standard_normal((3, 1)))
    compare(lambda L, x, y: L.cross(x, y, dim=1), R.standard_normal((4, 3)), R.standard_normal((4, 3)))
    compare(lambda L, x, y: x.cross(y, dim=0), R.standard_normal((3, 2)), R.standard_normal((3, 2)))
    for off in (-1, 0, 2):
        for f in ("tril_indices", "triu_indices"):
            a, b = getattr(torch, f)(4, 5, off), getattr(gk, f)(4, 5, off)
            _close(a, b)
            assert _dt(a) == _dt(b) == "int64"
    # NOTE: torch.vander's own backward raises (in-place on a saved tensor), so gradients are
    # compared with torch's powers x[:, None] ** k.
    compare(lambda L, x: L.vander(x), X5, grad=False)
    compare(lambda L, x: L.vander(x, N=3, increasing=True), X5, grad=False)
    compare(lambda L, x: L.vander(x, N=4, increasing=True) if L is gk else
            x[:, None] ** L.arange(4, dtype=L.float64), X5)
    compare(lambda L, x: L.vander(L.tensor([1, 2, 3])), X5, grad=False)
    x = np.array([0.0, 1.0, 2.0])
    compare(lambda L, t: L.vander(t, 4, increasing=True) if L is gk else
            L.stack([L.ones_like(t), t, t * t, t * t * t], 1), x)
    compare(lambda L, t: L.renorm(t, 2, 0, 1.0), R.standard_normal((3, 4)) * 2)
    compare(lambda L, t: t.renorm(1, 1, 2.0), R.standard_normal((3, 4)) * 2)
    compare(lambda L, t: (t * 1).renorm_(3, 0, 1.5), R.standard_normal((3, 4)) * 2)


def test_stacking_and_small_ones() -> None:
    a, b = R.standard_normal(3), R.standard_normal(3)
    compare(lambda L, x, y: L.dstack([x, y]), a, b)
    compare(lambda L, x, y: L.column_stack([x, y]), a, b)
    compare(lambda L, x, y: L.column_stack([x.reshape(3, 1), y]), a, b)
    compare(lambda L, x, y: L.row_stack([x, y]), a, b)
    compare(lambda L, x: L.atleast_3d(x), a)
    compare(lambda L, x: L.atleast_3d(x.reshape(1, 3)), a)
    compare(lambda L, x: L.narrow_copy(x, 1, 1, 2), X34)
    compare(lambda L, x: L.select(x, 1, -1), X34)
    compare(lambda L, x: x.select(0, 2), X34)
    compare(lambda L, x: L.msort(x), X34)
    compare(lambda L, x: L.ravel(x.t()), X34)
    for lib in (torch, gk):
        with pytest.raises(IndexError, match="select\\(\\): index 5 out of range for tensor of size "
                                             "\\[3, 4\\] at dimension 1"):
            lib.select(lib.zeros(3, 4), 1, 5)
        assert lib.zeros(2).is_same_size(lib.ones(2)) and lib.zeros(2).is_signed()
        assert not lib.zeros(2, dtype=lib.uint8).is_signed()


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce: str, include_self: bool) -> None:
    x = np.round(R.standard_normal((3, 5)), 1)
    src = np.round(R.standard_normal((4, 5)), 1)
    src[0, 0] = src[1, 0] = 0.7            # ties
    index = np.array([[0, 1, 0, 2, 1], [0, 0, 2, 2, 1], [1, 0, 0, 2, 2], [0, 1, 1, 1, 0]])
    compare(lambda L, t, s: L.scatter_reduce(t, 0, L.tensor(index), s, reduce,
                                             include_self=include_self), x, src,
            order2=reduce in ("sum", "mean", "prod"))
    compare(lambda L, t, s: (t * 1).scatter_reduce_(1, L.tensor(index[:3, :4] % 5), s, reduce,
                                                    include_self=include_self), x, src[:3, :4],
            order2=False)
    xi = np.array([[1, 2, 3], [4, 5, 6]])
    compare(lambda L, t: L.scatter_reduce(L.tensor(xi), 1, L.tensor([[0, 0], [2, 1]]),
                                          L.tensor([[7, 8], [9, 10]]), reduce,
                                          include_self=include_self), X5, grad=False)


def test_index_reduce() -> None:
    x, s = R.standard_normal((4, 3)), R.standard_normal((5, 3))
    for reduce in ("prod", "mean", "amax", "amin"):
        for inc in (True, False):
            compare(lambda L, t, u, r=reduce, i=inc: L.index_reduce(t, 0, L.tensor([0, 2, 0, 3, 2]), u, r,
                                                                     include_self=i), x, s, order2=False)
    compare(lambda L, t, u: (t * 1).index_reduce_(0, L.tensor([1, 1, 0, 0, 3]), u, "amax"), x, s,
            order2=False)


def test_more_inplace_methods() -> None:
    compare(lambda L, x: (x * 1).cumsum_(1), X34)
    compare(lambda L, x: (x * 1).cumprod_(0), X34)
    compare(lambda L, x: (x * 1).eq_(0.5), X34, grad=False)
    compare(lambda L, x: (x * 1).lt_(L.zeros(4, dtype=x.dtype)), X34, grad=False)
    compare(lambda L, x: x.pinverse(), X34, order2=False, tol=1e-7)


def test_error_messages_match() -> None:
    cases = [
        lambda L: L.zeros(3, 4).index_fill(1, L.tensor([4]), 1.0),
        lambda L: L.zeros(3, 4).index_copy(0, L.tensor([0, 1]), L.zeros(3, 4)),
        lambda L: L.zeros(3).put(L.tensor([5]), L.zeros(1)),
        lambda L: L.cdist(L.zeros(3), L.zeros(3, 3)),
        lambda L: L.cdist(L.zeros(2, 3), L.zeros(2, 4)),
        lambda L: L.diff(L.tensor(1.0)),
        lambda L: L.zeros(3).fill_diagonal_(1.0),
        lambda L: L.bincount(L.tensor([-1, 2])),
        lambda L: L.renorm(L.zeros(3), 2, 0, 1.0),
        lambda L: L.combinations(L.zeros(2, 2)),
    ]
    for fn in cases:
        with pytest.raises((RuntimeError, IndexError)) as te:
            fn(torch)
        with pytest.raises((RuntimeError, IndexError)) as ge:
            fn(gk)
        assert type(te.value) is type(ge.value)
        assert str(ge.value) in str(te.value), (str(te.value), str(ge.value))
