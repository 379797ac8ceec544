"""``optim.Muon`` against a live ``torch.optim.Muon`` (PyTorch 2.13; skipped only without torch),
and its argument errors (PyTorch's messages)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def _run(L, shape, kw, steps=4, seed=0):
    """``steps`` Muon steps on one parameter with the same gradients in either library."""
    rng = np.random.default_rng(seed)
    w = L.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    opt = L.optim.Muon([w], **kw)
    for _ in range(steps):
        w.grad = L.tensor(rng.standard_normal(shape).astype(np.float32))
        opt.step()
    return w.detach().numpy().copy(), opt.state[w]["momentum_buffer"].numpy().copy()


_KWS = [dict(lr=0.02), dict(lr=0.05, nesterov=False, weight_decay=0.0),
        dict(lr=0.01, adjust_lr_fn="match_rms_adamw", momentum=0.9),
        dict(lr=0.03, ns_steps=3, ns_coefficients=(3.0, -3.2, 1.2), eps=1e-5)]


@pytest.mark.parametrize("shape", [(8, 16), (16, 8), (32, 32), (5, 3), (1, 4)])
@pytest.mark.parametrize("kw", _KWS, ids=range(len(_KWS)))
def test_matches_pytorch_bit_for_bit(shape, kw):
    torch = pytest.importorskip("torch")
    pytest.importorskip("ml_dtypes")             # the Newton-Schulz iteration in bfloat16
    t, t_buf = _run(torch, shape, kw)
    g, g_buf = _run(gk, shape, kw)
    assert np.array_equal(g_buf, t_buf)
    assert np.array_equal(g, t)


def test_larger_matrices_stay_within_bfloat16_steps_of_pytorch():
    # NOTE: PyTorch's bfloat16 matrix products (oneDNN) add the float32 products in another order
    # than NumPy's BLAS; for 64 x 48 a product then rounds one bfloat16 step apart now and then,
    # and the iteration carries it on. Each step moves a parameter by lr' * O with |O| about 1,
    # so the two stay within a few bfloat16 steps (2**-7) of lr' per step.
    torch = pytest.importorskip("torch")
    pytest.importorskip("ml_dtypes")
    for shape in ((64, 48), (48, 64)):
        t, t_buf = _run(torch, shape, dict(lr=0.02))
        g, g_buf = _run(gk, shape, dict(lr=0.02))
        assert np.array_equal(g_buf, t_buf)      # the momentum does not depend on the update
        lr_adj = 0.02 * max(1.0, shape[0] / shape[1]) ** 0.5
        assert np.max(np.abs(g - t)) <= 4 * lr_adj * 2.0 ** -5


def test_trains_a_small_model_as_pytorch():
    torch = pytest.importorskip("torch")
    pytest.importorskip("ml_dtypes")
    rng = np.random.default_rng(3)
    W0 = rng.standard_normal((6, 4)).astype(np.float32)
    X = rng.standard_normal((10, 4)).astype(np.float32)
    Y = rng.standard_normal((10, 6)).astype(np.float32)
    out = []
    for L in (torch, gk):
        w = L.tensor(W0, requires_grad=True)
        opt = L.optim.Muon([w], lr=0.05)
        for _ in range(5):
            opt.zero_grad()
            ((L.tensor(X) @ w.T - L.tensor(Y)) ** 2).mean().backward()
            opt.step()
        out.append(w.detach().numpy())
    # the gradients agree to float32 rounding; the update rounds them to bfloat16
    assert np.allclose(out[1], out[0], rtol=1e-6, atol=1e-6)


def test_errors_as_pytorch():
    w = gk.zeros(3, 2, requires_grad=True)
    with pytest.raises(ValueError, match=r"Muon only supports 2D parameters whereas we found a "
                                         r"parameter with size: torch.Size\(\[3\]\)"):
        gk.optim.Muon([gk.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match="Learning rate should be >= 0 but is: -1"):
        gk.optim.Muon([w], lr=-1)
    with pytest.raises(ValueError, match="momentum should be >= 0 but is: -0.5"):
        gk.optim.Muon([w], momentum=-0.5)
    with pytest.raises(ValueError, match="weight decay should be >= 0 but is: -0.1"):
        gk.optim.Muon([w], weight_decay=-0.1)
    with pytest.raises(ValueError, match="Adjust learning rate function foo is not supported"):
        gk.optim.Muon([w], adjust_lr_fn="foo")
    opt = gk.optim.Muon([w], ns_steps=100)
    w.grad = gk.ones(3, 2)
    with pytest.raises(ValueError, match="Number of steps must be less than 100"):
        opt.step()
