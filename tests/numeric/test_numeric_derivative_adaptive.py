"""numeric.derivative's adaptive step control: few evaluations for smooth functions, honest errors."""

from __future__ import annotations

import numpy as np
import pytest

from gradkit import numeric


def test_smooth_function_takes_about_a_dozen_evaluations():
    r = numeric.derivative(np.exp, 1.0)
    assert r.nfev == 11          # SciPy's count: 9 nodes, then one refinement of 2 (the full ladder took 60)
    assert abs(r.value - np.e) <= r.error <= 1e-10 * np.e


def test_counts_every_evaluation():
    seen = []

    def f(t):
        seen.append(np.size(t))
        return np.sin(t)

    r = numeric.derivative(f, np.array([0.2, 1.0, 3.0]))
    assert r.nfev == sum(seen)
    assert np.all(np.abs(r.value - np.cos([0.2, 1.0, 3.0])) <= r.error)


def test_hard_points_walk_further_down_the_ladder():
    easy = numeric.derivative(np.exp, 1.0)
    hard = numeric.derivative(lambda t: np.sin(1e6 * t), 1e-6)
    assert hard.nfev > 2 * easy.nfev
    assert abs(hard.value - 1e6 * np.cos(1.0)) <= hard.error <= 1e-9 * 1e6


def test_tolerances():
    loose = numeric.derivative(np.exp, 1.0, tolerances={"rtol": 1e-6})
    tight = numeric.derivative(np.exp, 1.0, tolerances={"rtol": 0.0})
    assert loose.nfev < tight.nfev  # rtol=0 walks on until the estimate stops improving
    assert abs(loose.value - np.e) <= loose.error <= 1e-6 * np.e
    assert abs(tight.value - np.e) <= tight.error
    with pytest.raises(ValueError, match="atol"):
        numeric.derivative(np.exp, 1.0, tolerances={"xtol": 1.0})


@pytest.mark.parametrize("name,f,df,x", [
    ("exp", np.exp, np.exp, 1.0),
    ("sin", np.sin, np.cos, 1.0),
    ("oscillatory", lambda t: np.sin(50 * t), lambda t: 50 * np.cos(50 * t), 0.3),
])
def test_against_scipy_differentiate(name, f, df, x):
    sd = pytest.importorskip("scipy.differentiate")
    ref = sd.derivative(f, x)
    ours = numeric.derivative(f, x)
    exact = df(x)
    assert bool(ref.success)
    # within a few evaluations of SciPy's count, and as accurate as SciPy's own tolerance asks
    assert ours.nfev <= int(ref.nfev) + 2
    assert abs(ours.value - exact) <= max(ours.error, 0.0)
    assert abs(ours.value - exact) <= 1e-8 * abs(exact)


@pytest.mark.parametrize("name,f,df,x", [
    ("pole_near", lambda t: 1 / (t - 1), lambda t: -1 / (t - 1) ** 2, 1.001),   # h0 = 0.5 straddles it
    ("sqrt_near_0", np.sqrt, lambda t: 0.5 / np.sqrt(t), 1e-4),                  # h0 leaves the domain
    ("tiny_scale", lambda t: np.sin(1e6 * t), lambda t: 1e6 * np.cos(1e6 * t), 1e-6),
])
def test_default_scheme_walks_on_until_the_estimates_agree(name, f, df, x):
    r = numeric.derivative(f, x)
    exact = df(x)
    assert abs(r.value - exact) <= r.error <= 1e-9 * abs(exact)
    assert bool(r.success)


def test_explicit_order_keeps_richardson_ladder():
    r2 = numeric.derivative(np.exp, 1.0, order=2)
    r8 = numeric.derivative(np.exp, 1.0)
    assert r2.nfev != r8.nfev
    assert abs(r2.value - np.e) <= r2.error and abs(r8.value - np.e) <= r8.error
