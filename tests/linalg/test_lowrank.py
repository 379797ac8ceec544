"""``torch.svd_lowrank`` / ``torch.pca_lowrank`` (``gk.svd_lowrank``, ``gk.pca_lowrank``; met in
PyTorch's reproducibility notes, issue #17).

Expected values are analytic or NumPy's: a matrix of rank ``r <= q`` is recovered exactly
(NumPy's singular values, ``U diag(S) V^T == A``), PCA's ``S**2/(m-1)`` are the covariance's
top eigenvalues, and a seeded call repeats itself.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def _rank_r(m, n, r, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, r)) @ rng.standard_normal((r, n))


@pytest.mark.parametrize("m,n", [(8, 5), (5, 8)])
def test_recovers_a_low_rank_matrix(m, n):
    a = _rank_r(m, n, 3)
    U, S, V = gk.svd_lowrank(gk.tensor(a), q=4)
    assert tuple(U.shape) == (m, 4) and tuple(S.shape) == (4,) and tuple(V.shape) == (n, 4)
    np.testing.assert_allclose(S.numpy()[:3], np.linalg.svd(a, compute_uv=False)[:3], rtol=1e-10)
    np.testing.assert_allclose((U @ gk.diag(S) @ V.T).numpy(), a, atol=1e-10)
    np.testing.assert_allclose((U.T @ U).numpy(), np.eye(4), atol=1e-10)


def test_mean_argument_and_batches():
    a = _rank_r(6, 4, 2, seed=1)
    mean = np.full((6, 4), 0.5)
    U, S, V = gk.svd_lowrank(gk.tensor(a + mean), q=3, M=gk.tensor(mean))
    np.testing.assert_allclose((U @ gk.diag(S) @ V.T).numpy(), a, atol=1e-10)
    batch = np.stack([_rank_r(5, 4, 2, seed=s) for s in range(3)])
    U, S, V = gk.svd_lowrank(gk.tensor(batch), q=2)
    np.testing.assert_allclose((U @ gk.diag_embed(S) @ V.mT).numpy(), batch, atol=1e-10)


def test_seeded_calls_repeat():
    a = gk.tensor(np.random.default_rng(2).standard_normal((7, 6)))
    gk.manual_seed(3)
    first = gk.svd_lowrank(a, q=3, niter=0)
    gk.manual_seed(3)
    second = gk.svd_lowrank(a, q=3, niter=0)
    for x, y in zip(first, second):
        assert gk.equal(x, y)


def test_pca_lowrank_matches_the_covariance():
    rng = np.random.default_rng(4)
    data = rng.standard_normal((50, 3)) @ np.diag([3.0, 1.0, 0.2]) + 7.0
    U, S, V = gk.pca_lowrank(gk.tensor(data), q=3)
    cov = np.cov(data, rowvar=False)
    np.testing.assert_allclose(S.numpy() ** 2 / 49, np.sort(np.linalg.eigvalsh(cov))[::-1], rtol=1e-8)
    with pytest.raises(ValueError, match=r"q\(=4\) must be non-negative integer and not greater than"):
        gk.pca_lowrank(gk.tensor(data), q=4)


def test_gradient_flows_through():
    a = gk.tensor(_rank_r(5, 4, 2), requires_grad=True)
    U, S, V = gk.svd_lowrank(a, q=2)
    S.sum().backward()
    # d(sum of singular values)/dA = U V^T for a matrix of exact rank q (analytic)
    np.testing.assert_allclose(a.grad.numpy(), (U @ V.T).detach().numpy(), atol=1e-8)
