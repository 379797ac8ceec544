"""The hook-based ``nn.utils.spectral_norm`` / ``remove_spectral_norm``: against a live PyTorch
with the same ``weight_orig``, ``u`` and ``v`` copied over (skipped without PyTorch), and
against NumPy's SVD for what power iteration converges to."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")


def _pair(kind: str, n_iter: int, **kw: Any) -> tuple[Any, Any]:
    """The same layer in both libraries, spectral-normed, with PyTorch's state copied over."""
    make = {"linear": lambda nn: nn.Linear(5, 3),
            "conv": lambda nn: nn.Conv2d(2, 4, 3),
            "convT": lambda nn: nn.ConvTranspose2d(3, 2, 3)}[kind]
    torch.manual_seed(0)
    tm = torch.nn.utils.spectral_norm(make(torch.nn).double(), n_power_iterations=n_iter, **kw)
    gm = gk.nn.utils.spectral_norm(make(gk.nn).double(), n_power_iterations=n_iter, **kw)
    assert list(gm.state_dict()) == list(tm.state_dict())
    gm.load_state_dict({k: gk.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


_INPUTS = {"linear": (4, 5), "conv": (2, 2, 6, 6), "convT": (2, 3, 4, 4)}


@pytest.mark.parametrize("kind", ["linear", "conv", "convT"])
@pytest.mark.parametrize("n_iter", [1, 3])
def test_forward_buffers_and_gradients_match_torch(kind: str, n_iter: int) -> None:
    tm, gm = _pair(kind, n_iter)
    x = np.random.default_rng(1).standard_normal(_INPUTS[kind])
    for mode in ("train", "train", "eval", "train"):
        getattr(tm, mode)()
        getattr(gm, mode)()
        for m in (tm, gm):
            m.zero_grad()
        yt = tm(torch.tensor(x))
        yg = gm(gk.tensor(x))
        np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-13)
        for b in ("weight_u", "weight_v"):
            np.testing.assert_allclose(getattr(gm, b).numpy(), getattr(tm, b).numpy(),
                                       rtol=1e-12, atol=1e-14)
        (yt ** 2).sum().backward()
        (yg ** 2).sum().backward()
        np.testing.assert_allclose(gm.weight_orig.grad.numpy(), tm.weight_orig.grad.numpy(),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gm.weight.detach().numpy(), tm.weight.detach().numpy(),
                                   rtol=1e-12, atol=1e-14)


def test_layout_and_first_weight() -> None:
    tm, gm = _pair("convT", 1)
    # ConvTranspose: dim 1 by default (u has out_channels entries, v the rest)
    assert tuple(gm.weight_u.shape) == tuple(tm.weight_u.shape) == (2,)
    assert tuple(gm.weight_v.shape) == tuple(tm.weight_v.shape) == (27,)
    assert isinstance(gm.weight_orig, gk.nn.Parameter)
    assert "weight" not in dict(gm.named_parameters())
    # a fresh module: before the first forward, weight is weight_orig's value (PyTorch's .data)
    m = gk.nn.utils.spectral_norm(gk.nn.Linear(3, 2))
    np.testing.assert_array_equal(m.weight.numpy(), m.weight_orig.detach().numpy())
    assert not m.weight.requires_grad
    np.testing.assert_allclose(np.linalg.norm(m.weight_u.numpy()), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(m.weight_v.numpy()), 1.0, rtol=1e-6)


def test_power_iteration_converges_to_largest_singular_value() -> None:
    m = gk.nn.utils.spectral_norm(gk.nn.Linear(6, 4).double(), n_power_iterations=50)
    m(gk.ones(1, 6, dtype=gk.float64))
    w = m.weight_orig.detach().numpy()
    np.testing.assert_allclose(m.weight.detach().numpy(), w / np.linalg.svd(w)[1][0], rtol=1e-8)


def test_eval_leaves_buffers_alone() -> None:
    m = gk.nn.utils.spectral_norm(gk.nn.Linear(3, 3))
    m.eval()
    u, v = m.weight_u.numpy().copy(), m.weight_v.numpy().copy()
    m(gk.ones(2, 3))
    np.testing.assert_array_equal(m.weight_u.numpy(), u)
    np.testing.assert_array_equal(m.weight_v.numpy(), v)
    w = m.weight_orig.detach().numpy()
    np.testing.assert_allclose(m.weight.detach().numpy(), w / (u @ w @ v), rtol=1e-6)


def test_remove_matches_torch() -> None:
    tm, gm = _pair("linear", 2)
    x = np.ones((1, 5))
    tm(torch.tensor(x))
    gm(gk.tensor(x))
    torch.nn.utils.remove_spectral_norm(tm)
    gk.nn.utils.remove_spectral_norm(gm)
    assert list(gm.state_dict()) == list(tm.state_dict()) == ["bias", "weight"]
    assert isinstance(gm.weight, gk.nn.Parameter)
    np.testing.assert_allclose(gm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-12)
    assert not gm._forward_pre_hooks
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in Linear"):
        gk.nn.utils.remove_spectral_norm(gm)


def test_errors() -> None:
    m = gk.nn.utils.spectral_norm(gk.nn.Linear(3, 3))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks on the same "
                       "parameter weight"):
        gk.nn.utils.spectral_norm(m)
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive, but got "
                       "n_power_iterations=0"):
        gk.nn.utils.spectral_norm(gk.nn.Linear(3, 3), n_power_iterations=0)
    with pytest.raises(ValueError, match="can't have uninitialized parameters"):
        gk.nn.utils.spectral_norm(gk.nn.LazyLinear(3))
