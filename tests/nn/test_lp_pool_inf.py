"""lp_pool1d / lp_pool2d with norm_type = +-inf are max pooling of |x| (as PyTorch switches to it).

Hand-derived values (no torch needed) and, where torch is installed, PyTorch's values, gradients
and node names in float64."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F

INF = float("inf")


def test_lp_pool1d_inf_known_values():
    x = gk.tensor([[[1.0, -4.0, 2.0, -0.5, 3.0, 0.25]]], requires_grad=True)
    out = F.lp_pool1d(x, INF, 2)
    np.testing.assert_allclose(out.detach().numpy(), [[[4.0, 2.0, 3.0]]])
    out.sum().backward()
    # d|x|/dx at each window's largest |x|: sign(x) there
    np.testing.assert_allclose(x.grad.numpy(), [[[0, -1.0, 1.0, 0, 1.0, 0]]])
    low = F.lp_pool1d(x.detach(), -INF, 3)
    np.testing.assert_allclose(low.numpy(), [[[1.0, 0.25]]])


def test_lp_pool2d_inf_known_values():
    x = gk.tensor([[[[1.0, -5.0], [2.0, 0.5]], [[-0.1, 0.2], [0.3, -0.4]]]])
    np.testing.assert_allclose(F.lp_pool2d(x, INF, 2).numpy().ravel(), [5.0, 0.4])
    np.testing.assert_allclose(F.lp_pool2d(x, -INF, 2).numpy().ravel(), [0.5, 0.1])


@pytest.mark.parametrize("p", [INF, -INF])
@pytest.mark.parametrize("dims,kernel,stride", [(1, 3, 2), (1, 2, None), (2, (2, 3), (1, 2)),
                                                  (2, 2, None)])
def test_lp_pool_inf_matches_torch(p, dims, kernel, stride):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.uniform(-2.0, 2.0, (2, 3) + (7,) * dims)
    name = f"lp_pool{dims}d"
    xt = torch.tensor(x, requires_grad=True)
    xg = gk.tensor(x, requires_grad=True)
    ot = getattr(torch.nn.functional, name)(xt, p, kernel, stride)
    og = getattr(F, name)(xg, p, kernel, stride)
    np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), rtol=1e-12, atol=0)
    assert type(og.grad_fn).__name__ == type(ot.grad_fn).__name__
    c = rng.standard_normal(tuple(ot.shape))
    (ot * torch.tensor(c)).sum().backward()
    (og * gk.tensor(c)).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    m_t = getattr(torch.nn, f"LPPool{dims}d")(p, kernel, stride)
    m_g = getattr(gk.nn, f"LPPool{dims}d")(p, kernel, stride)
    np.testing.assert_allclose(m_g(xg).detach().numpy(), m_t(xt).detach().numpy(), rtol=1e-12)
