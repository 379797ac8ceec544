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

IDS = [c.name for c in CASES]


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
        _close(got, want, rtol=rtol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob(case: Case) -> None:
    got, want = _both(case, lambda d, lib: d.log_prob(lib.tensor(case.values, dtype=lib.float64)))
    _close(got, want, rtol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cdf_icdf(case: Case) -> None:
    got, want = _both(case, lambda d, lib: d.cdf(lib.tensor(case.values, dtype=lib.float64)))
    if want is not None:
        _close(got, want, rtol=1e-9)
    if case.probs is not None:
        got, want = _both(case, lambda d, lib: d.icdf(lib.tensor(case.probs, dtype=lib.float64)))
        _close(got, want, rtol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob_gradient(case: Case) -> None:
    td, tp = _build(case, torch, grad=True)
    gd, gp = _build(case, gk, grad=True)
    td.log_prob(torch.tensor(case.values, dtype=torch.float64)).sum().backward()
    gd.log_prob(gk.tensor(case.values, dtype=gk.float64)).sum().backward()
    for name in case.grad_params:
        np.testing.assert_allclose(_np(gp[name].grad), _np(tp[name].grad), rtol=1e-8, atol=1e-10,
                                   err_msg=name)


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
        np.testing.assert_allclose(_np(gp[name].grad), _np(tp[name].grad), rtol=1e-8, atol=1e-10,
                                   err_msg=name)


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
           te.log_prob(torch.tensor(v, dtype=torch.float64)), rtol=1e-9)
