"""torch.cov, corrcoef, unique_consecutive, histogram, histogramdd (issue #17).

Expected values were recorded from PyTorch 2.13 (CPU); the live comparisons skip only when torch
is absent. Gradients of cov/corrcoef are checked by finite differences in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import gradcheck

X = [[1.0, 2.0, 4.0], [3.0, 1.0, 0.0]]


def test_cov_recorded_values() -> None:
    np.testing.assert_allclose(gk.cov(gk.tensor([[1, 2, 4], [3, 1, 0]])).numpy(),
                               [[2.3333333, -2.1666667], [-2.1666667, 2.3333333]], rtol=1e-6)
    np.testing.assert_allclose(gk.cov(gk.tensor([1.0, 2, 4]), correction=0).item(), 1.5555556,
                               rtol=1e-6)
    got = gk.cov(gk.tensor(X), fweights=gk.tensor([1, 2, 3]),
                 aweights=gk.tensor([0.5, 1.0, 2.0]), correction=2)
    np.testing.assert_allclose(got.numpy(), [[1.7371, -1.2114], [-1.2114, 0.9829]], atol=1e-4)


def test_cov_matches_numpy_weights() -> None:
    rs = np.random.default_rng(0)
    x = rs.normal(size=(3, 7))
    fw = rs.integers(0, 4, size=7)
    aw = rs.random(7)
    for ddof in (0, 1, 2):
        got = gk.cov(gk.tensor(x), correction=ddof, fweights=gk.tensor(fw), aweights=gk.tensor(aw))
        np.testing.assert_allclose(got.numpy(), np.cov(x, ddof=ddof, fweights=fw, aweights=aw),
                                   rtol=1e-12)


def test_corrcoef_recorded_values() -> None:
    np.testing.assert_allclose(gk.corrcoef(gk.tensor(X)).numpy(),
                               [[1.0, -0.9285714], [-0.9285714, 1.0]], rtol=1e-6)
    assert gk.corrcoef(gk.tensor([1.0, 2, 3])).item() == 1.0
    got = gk.corrcoef(gk.tensor([[1.0, 1, 1], [1, 2, 3]])).numpy()
    assert np.isnan(got[0]).all() and np.isnan(got[1, 0]) and got[1, 1] == 1.0


@pytest.mark.parametrize("kw, msg", [
    ({"fweights": [1.0, 2, 3]}, "expected fweights to have integral dtype but got fweights with "
                                "Float dtype"),
    ({"fweights": [[1, 2, 3]]}, "expected fweights to have one or fewer dimensions"),
    ({"fweights": [1, 2]}, "observations in the input but got 2 != 3"),
    ({"fweights": [-1, 2, 3]}, "fweights cannot be negative"),
    ({"aweights": [1, 2, 3]}, "expected aweights to have floating point dtype but got aweights "
                              "with Long dtype"),
    ({"aweights": [-1.0, 2, 3]}, "aweights cannot be negative"),
])
def test_cov_errors(kw: dict, msg: str) -> None:
    kw = {k: gk.tensor(v) for k, v in kw.items()}
    with pytest.raises(RuntimeError, match=msg):
        gk.cov(gk.tensor(X), **kw)
    with pytest.raises(RuntimeError, match="expected input to have two or fewer dimensions but "
                                           "got an input with 3 dimensions"):
        gk.cov(gk.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match="corrcoef"):
        gk.corrcoef(gk.ones(2, 2, 2))


def test_cov_one_observation_warns_and_is_nan() -> None:
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        assert np.isnan(gk.cov(gk.tensor([1.0])).item())


def test_cov_corrcoef_gradcheck() -> None:
    rs = np.random.default_rng(1)
    x = gk.tensor(rs.normal(size=(3, 5)), requires_grad=True)
    aw = gk.tensor(rs.random(5) + 0.5, requires_grad=True)
    fw = gk.tensor([1, 2, 1, 3, 1])
    assert gradcheck(lambda a, w: gk.cov(a, fweights=fw, aweights=w), (x, aw))
    assert gradcheck(gk.corrcoef, (x,))
    assert gradcheck(lambda a: gk.cov(a, correction=0), (x,))


def test_cov_corrcoef_against_torch() -> None:
    torch = pytest.importorskip("torch")
    rs = np.random.default_rng(2)
    x = rs.normal(size=(4, 6))
    aw = rs.random(6)
    for fn in ("cov", "corrcoef"):
        t = torch.tensor(x, requires_grad=True)
        g = gk.tensor(x, requires_grad=True)
        kw_t = {"aweights": torch.tensor(aw)} if fn == "cov" else {}
        kw_g = {"aweights": gk.tensor(aw)} if fn == "cov" else {}
        tv = getattr(torch, fn)(t, **kw_t)
        gv = getattr(gk, fn)(g, **kw_g)
        np.testing.assert_allclose(gv.detach().numpy(), tv.detach().numpy(), rtol=1e-12)
        w = rs.normal(size=tv.shape)
        (tv * torch.tensor(w)).sum().backward()
        (gv * gk.tensor(w)).sum().backward()
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_unique_consecutive_recorded() -> None:
    x = gk.tensor([1, 1, 2, 2, 3, 1, 1, 2])
    assert gk.unique_consecutive(x).tolist() == [1, 2, 3, 1, 2]
    out, inv = gk.unique_consecutive(x, return_inverse=True)
    assert inv.tolist() == [0, 0, 1, 1, 2, 3, 3, 4]
    out, counts = x.unique_consecutive(return_counts=True)
    assert counts.tolist() == [2, 2, 1, 2, 1]
    m = gk.tensor([[1, 1, 2], [1, 1, 2], [3, 3, 1]])
    out, inv, counts = gk.unique_consecutive(m, return_inverse=True, return_counts=True)
    assert out.tolist() == [1, 2, 1, 2, 3, 1]
    assert inv.tolist() == [[0, 0, 1], [2, 2, 3], [4, 4, 5]]
    assert counts.tolist() == [2, 1, 2, 1, 2, 1]
    out, inv, counts = gk.unique_consecutive(m, return_inverse=True, return_counts=True, dim=0)
    assert out.tolist() == [[1, 1, 2], [3, 3, 1]] and inv.tolist() == [0, 0, 1]
    assert counts.tolist() == [2, 1]
    out, inv, counts = gk.unique_consecutive(m, return_inverse=True, return_counts=True, dim=1)
    assert out.tolist() == [[1, 2], [1, 2], [3, 1]] and inv.tolist() == [0, 0, 1]
    assert counts.tolist() == [2, 1]
    out, counts = gk.unique_consecutive(gk.tensor([1.0, float("nan"), float("nan")]),
                                        return_counts=True)
    assert counts.tolist() == [1, 1, 1]
    out, inv, counts = gk.unique_consecutive(gk.tensor([]), return_inverse=True,
                                             return_counts=True)
    assert out.numel() == inv.numel() == counts.numel() == 0


def test_histogram_recorded() -> None:
    h = gk.histogram(gk.tensor([1.0, 2, 1]), bins=4, range=(0.0, 3.0),
                     weight=gk.tensor([1.0, 2.0, 4.0]))
    assert h.hist.tolist() == [0.0, 5.0, 2.0, 0.0]
    assert h.bin_edges.tolist() == [0.0, 0.75, 1.5, 2.25, 3.0]
    h = gk.histogram(gk.tensor([1.0, 2, 1]), bins=4, range=(0.0, 3.0),
                     weight=gk.tensor([1.0, 2.0, 4.0]), density=True)
    np.testing.assert_allclose(h.hist.numpy(), [0.0, 0.9524, 0.3810, 0.0], atol=1e-4)
    h = gk.tensor([[1.0, 2, 1], [5, 0.3, 2.9]]).histogram(gk.tensor([0.0, 1.0, 2.5, 5.0]))
    assert h.hist.tolist() == [1.0, 3.0, 2.0]
    h = gk.histogram(gk.tensor([1.0, 1.0]), bins=3)
    assert h.hist.tolist() == [0.0, 2.0, 0.0]
    np.testing.assert_allclose(h.bin_edges.numpy(), [0.5, 0.8333333, 1.1666666, 1.5], rtol=1e-6)


def test_histogram_errors() -> None:
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        gk.histogram(gk.tensor([1, 2]), 3)
    with pytest.raises(RuntimeError, match="bins must be > 0, but got 0 for dimension 0"):
        gk.histogram(gk.tensor([1.0, 2]), 0)
    with pytest.raises(RuntimeError, match="min should not exceed max"):
        gk.histogram(gk.tensor([1.0, 2]), 3, range=(2.0, 1.0))
    with pytest.raises(RuntimeError, match="bins tensor should have one dimension"):
        gk.histogram(gk.tensor([1.0]), gk.tensor([[1.0]]))
    with pytest.raises(RuntimeError, match="same shape as the input tensor"):
        gk.histogram(gk.tensor([1.0, 2]), 3, weight=gk.tensor([1.0]))


def test_histogram_against_torch_random() -> None:
    torch = pytest.importorskip("torch")
    rs = np.random.default_rng(0)
    for trial in range(200):
        x = rs.normal(size=int(rs.integers(1, 50))).astype(np.float32)
        if trial % 3 == 0:
            x = np.round(x * 4) / 4
        bins = int(rs.integers(1, 12))
        kw: dict = {"density": bool(trial % 2)}
        if trial % 4 == 1:
            kw["range"] = (-1.0, 1.5)
        w = rs.random(x.size).astype(np.float32) if trial % 5 == 2 else None
        a = torch.histogram(torch.tensor(x), bins, weight=None if w is None else torch.tensor(w),
                            **kw)
        b = gk.histogram(gk.tensor(x), bins, weight=None if w is None else gk.tensor(w), **kw)
        np.testing.assert_array_equal(b.bin_edges.numpy(), a.bin_edges.numpy())
        np.testing.assert_allclose(b.hist.numpy(), a.hist.numpy(), rtol=1e-6)


def test_histogramdd_against_torch() -> None:
    torch = pytest.importorskip("torch")
    rs = np.random.default_rng(3)
    x = rs.normal(size=(40, 2)).astype(np.float32)
    w = rs.random(40).astype(np.float32)
    cases = [([3, 4], {}), (5, {"density": True}),
             ([2, 3], {"range": [-1.0, 1.0, -2.0, 2.0], "weight": w})]
    for bins, kw in cases:
        a = torch.histogramdd(torch.tensor(x), bins,
                              **{k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()})
        b = gk.histogramdd(gk.tensor(x), bins,
                           **{k: gk.tensor(v) if k == "weight" else v for k, v in kw.items()})
        np.testing.assert_allclose(b.hist.numpy(), a.hist.numpy(), rtol=1e-5)
        for p, q in zip(b.bin_edges, a.bin_edges):
            np.testing.assert_array_equal(p.numpy(), q.numpy())
    edges = [torch.tensor([-1.0, 0.0, 2.0]), torch.tensor([-3.0, 0.5, 3.0])]
    a = torch.histogramdd(torch.tensor(x), edges)
    b = gk.histogramdd(gk.tensor(x), [gk.tensor(e.numpy()) for e in edges])
    np.testing.assert_array_equal(b.hist.numpy(), a.hist.numpy())
    assert isinstance(b.bin_edges, tuple)
