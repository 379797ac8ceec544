"""Every family's values against PyTorch's (recorded live: importorskip torch), in float64:
log_prob, cdf, icdf, entropy, mean, mode, variance, stddev, shapes, and the gradient of
log_prob in each parameter (PyTorch's autograd as the oracle)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit as gk
from dist_cases import CASES, Case

torch = pytest.importorskip("torch")

import gradkit.distributions as GD  # noqa: E402

TD = torch.distributions

#: PyTorch 2.13's GeneralizedPareto fails on float64 parameters (it compares them with a float32
#: ``torch.tensor(0.0)`` in ``isclose``): checked in float32 below, and against SciPy in float64
#: (test_dist_scipy)
TORCH_CASES = [c for c in CASES if c.name != "GeneralizedPareto"]
CASES = TORCH_CASES
IDS = [c.name for c in CASES]


def _rtol(case: Case, rtol: float) -> float:
    """PyTorch's VonMises takes log I0 from a polynomial approximation (about 1e-7 relative;
    gradkit's is SciPy's i0e, checked to 1e-12 in test_dist_scipy): compared to 1e-5 there."""
    return max(rtol, 1e-5) if case.name == "VonMises" else rtol


def _build(case: Case, lib: Any, grad: bool = False) -> tuple[Any, dict[str, Any]]:
    params = {k: lib.tensor(v, dtype=lib.float64, requires_grad=grad) for k, v in case.params.items()}
    D = GD if lib is gk else TD
    return case.make(D, **params), params


def _np(x: Any) -> np.ndarray:
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x, dtype=np.float64)


def _both(case: Case, fn: Any) -> tuple[Any, Any]:
    """``fn`` applied to both libraries' distributions; ``None, None`` where PyTorch raises
    NotImplementedError (then gradkit must too)."""
    td, _ = _build(case, torch)
    gd, _ = _build(case, gk)
    try:
        want = fn(td, torch)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            fn(gd, gk)
        return None, None
    return fn(gd, gk), want


def _close(got: Any, want: Any, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(_np(got), _np(want), rtol=rtol, atol=atol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shapes_and_support(case: Case) -> None:
    td, _ = _build(case, torch)
    gd, _ = _build(case, gk)
    assert tuple(gd.batch_shape) == tuple(td.batch_shape)
    assert tuple(gd.event_shape) == tuple(td.event_shape)
    assert gd.has_rsample == td.has_rsample
    assert repr(gd.support) == repr(td.support)
    s = gd.sample((4, 2))
    assert tuple(s.shape) == tuple(td.sample((4, 2)).shape)
    assert not s.requires_grad
    assert bool(gd.support.check(s).all())


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("what", ["mean", "mode", "variance", "stddev", "entropy"])
def test_moments_and_entropy(case: Case, what: str) -> None:
    def fn(d: Any, lib: Any) -> Any:
        return d.entropy() if what == "entropy" else getattr(d, what)
    got, want = _both(case, fn)
    if want is not None:
        # PyTorch's Multinomial entropy takes lgamma(total_count + 1) of an int64 tensor, in
        # float32 (test_dist_scipy checks gradkit's to 1e-12 against SciPy's)
        rtol = 1e-7 if (case.name, what) == ("Multinomial", "entropy") else 1e-9
        if (case.name, what) == ("Kumaraswamy", "mode"):
            # PyTorch 2.13's mode is nan for every parameter (test_kumaraswamy_mode below)
            assert bool(want.isnan().all())
            return
        _close(got, want, rtol=_rtol(case, rtol))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob(case: Case) -> None:
    got, want = _both(case, lambda d, lib: d.log_prob(lib.tensor(case.values, dtype=lib.float64)))
    _close(got, want, rtol=_rtol(case, 1e-9))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cdf_icdf(case: Case) -> None:
    got, want = _both(case, lambda d, lib: d.cdf(lib.tensor(case.values, dtype=lib.float64)))
    keep = slice(None)
    if case.name.startswith("ContinuousBernoulli"):
        # probs[1] = 0.4995 (logits[1] = 0.001) is inside lims, where PyTorch returns the
        # uniform law's cdf and icdf (x and u); gradkit's are exact there
        # (test_dist_more_families, by quadrature)
        keep = [0, 2]
        assert np.array_equal(_np(want)[:, 1], case.values[:, 1])
    if want is not None:
        _close(got[..., keep], want[..., keep], rtol=1e-9)
    if case.probs is not None:
        got, want = _both(case, lambda d, lib: d.icdf(lib.tensor(case.probs, dtype=lib.float64)))
        _close(got[..., keep], want[..., keep], rtol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob_gradient(case: Case) -> None:
    td, tp = _build(case, torch, grad=True)
    gd, gp = _build(case, gk, grad=True)
    td.log_prob(torch.tensor(case.values, dtype=torch.float64)).sum().backward()
    gd.log_prob(gk.tensor(case.values, dtype=gk.float64)).sum().backward()
    for name in case.grad_params:
        got, want = _np(gp[name].grad), _np(tp[name].grad)
        if name == "L":
            # a scale_tril is read from its lower triangle only; PyTorch's cholesky_solve gives
            # the unread upper triangle a gradient too (finite differences give 0 there:
            # test_dist_gradients), so the lower triangles are compared
            got, want = np.tril(got), np.tril(want)
        np.testing.assert_allclose(got, want, rtol=_rtol(case, 1e-8), atol=1e-10, err_msg=name)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_entropy_gradient(case: Case) -> None:
    td, tp = _build(case, torch, grad=True)
    gd, gp = _build(case, gk, grad=True)
    try:
        td.entropy().sum().backward()
    except NotImplementedError:
        return
    gd.entropy().sum().backward()
    for name in case.grad_params:
        if tp[name].grad is None:
            continue
        np.testing.assert_allclose(_np(gp[name].grad), _np(tp[name].grad),
                                   rtol=_rtol(case, 1e-8), atol=1e-10, err_msg=name)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_expand(case: Case) -> None:
    td, _ = _build(case, torch)
    gd, _ = _build(case, gk)
    shape = (2,) + tuple(td.batch_shape)
    te, ge = td.expand(shape), gd.expand(shape)
    assert type(ge).__name__ == type(te).__name__
    assert tuple(ge.batch_shape) == tuple(te.batch_shape)
    assert tuple(ge.sample().shape) == tuple(te.sample().shape)
    v = case.values.reshape(case.values.shape[:1] + (1,) + case.values.shape[1:])
    _close(ge.log_prob(gk.tensor(v, dtype=gk.float64)),
           te.log_prob(torch.tensor(v, dtype=torch.float64)), rtol=_rtol(case, 1e-9))


def test_kumaraswamy_mode() -> None:
    """The mode against the maximum of SciPy-free closed-form densities on a fine grid."""
    a = np.array([2.0, 5.0, 1.0, 3.0, 0.5, 1.0])
    b = np.array([2.0, 1.5, 3.0, 1.0, 2.0, 1.0])
    got = _np(GD.Kumaraswamy(gk.tensor(a), gk.tensor(b)).mode)
    x = np.linspace(0.0, 1.0, 200001)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        pdf = a * b * x ** (a - 1) * (1 - x ** a) ** (b - 1)
    want = x[np.nanargmax(pdf, axis=0), 0]
    np.testing.assert_allclose(got[:4], want[:4], atol=1e-5)
    # a < 1 (unbounded density at 0) and a = b = 1 (uniform): no mode, nan as PyTorch
    assert np.isnan(got[4:]).all()


def test_generalized_pareto_float32() -> None:
    """PyTorch runs GeneralizedPareto in float32 only: values and gradients there."""
    loc, scale, c = [0.0, 1.0, -1.0, 0.5], [1.0, 0.5, 2.0, 1.5], [0.3, 0.0, -0.25, 1.2]
    value = [[0.4, 1.2, 5.0, 3.0], [2.0, 3.0, 0.0, 0.6]]
    u = [0.1, 0.5, 0.93, 0.3]
    tp = [torch.tensor(v, requires_grad=True) for v in (loc, scale, c)]
    gp = [gk.tensor(v, dtype=gk.float32, requires_grad=True) for v in (loc, scale, c)]
    td, gd = TD.GeneralizedPareto(*tp), GD.GeneralizedPareto(*gp)
    for what in ("log_prob", "cdf", "icdf", "entropy", "mean", "variance", "mode"):
        def fn(d: Any, lib: Any, what: str = what) -> Any:
            if what in ("log_prob", "cdf"):
                return getattr(d, what)(lib.tensor(value))
            if what == "icdf":
                return d.icdf(lib.tensor(u))
            return d.entropy() if what == "entropy" else getattr(d, what)
        got, want = fn(gd, gk), fn(td, torch)
        assert got.dtype == gk.float32
        _close(got, want, rtol=1e-5, atol=1e-6)
    td.log_prob(torch.tensor(value)).sum().backward()
    gd.log_prob(gk.tensor(value)).sum().backward()
    for g, t in zip(gp[:2], tp[:2]):
        np.testing.assert_allclose(_np(g.grad), _np(t.grad), rtol=1e-5, atol=1e-6)
    # in the concentration, PyTorch's derivative is 0 where it is exactly 0 (element 1), a
    # wrong value: gradkit's is the limit, checked against finite differences in
    # test_dist_gradients and below against the analytic limit z^2/2 - z summed over values
    keep = [0, 2, 3]
    np.testing.assert_allclose(_np(gp[2].grad)[keep], _np(tp[2].grad)[keep], rtol=1e-5, atol=1e-6)
    z = (np.array(value)[:, 1] - 1.0) / 0.5
    np.testing.assert_allclose(_np(gp[2].grad)[1], (z * z / 2 - z).sum(), rtol=1e-5)
