"""A finite-difference jac marks a black-box objective: gradkit does not differentiate its
Hessian either, so methods that want one behave as SciPy's do."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradkit import optimize


def f(x):
    return math.sin(x[0]) + (x[1] - 1) ** 2 + x[0] ** 2      # math.sin: no graph through it


def test_trust_constr_with_2_point_jac_matches_scipy():
    so = pytest.importorskip("scipy.optimize")
    ours = optimize.minimize(f, np.array([1.0, 0.0]), method="trust-constr", jac="2-point")
    ref = so.minimize(f, np.array([1.0, 0.0]), method="trust-constr", jac="2-point")
    # the minimum of sin(a) + a^2 is at cos(a) + 2a = 0, a = -0.450184 (b = 1)
    np.testing.assert_allclose(ours.x, [-0.4501836, 1.0], atol=1e-5)
    np.testing.assert_allclose(ours.x, ref.x, atol=1e-7)
    assert ours.nfev == ref.nfev


def test_without_jac_the_dropped_graph_is_still_an_error():
    from gradkit import ConcretizationError
    with pytest.raises(ConcretizationError, match="math.sin"):
        optimize.minimize(f, np.array([1.0, 0.0]), method="trust-constr")
