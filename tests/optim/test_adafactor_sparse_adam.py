"""``optim.Adafactor`` against a live ``torch.optim.Adafactor``, ``optim.SparseAdam``'s refusal
of dense gradients, and every optimizer and scheduler PyTorch 2.13 exports present in gradkit
(PyTorch 2.13 live; skipped only without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def _run(L, shape, kw, steps=5, seed=0):
    rng = np.random.default_rng(seed)
    w = L.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    opt = L.optim.Adafactor([w], **kw)
    for _ in range(steps):
        w.grad = L.tensor(rng.standard_normal(shape).astype(np.float32))
        opt.step()
    return w.detach().numpy().copy(), {k: v.numpy().copy() for k, v in opt.state[w].items()}


_KWS = [dict(), dict(lr=0.05, weight_decay=0.1),
        dict(eps=(1e-6, 1e-2), d=1.5, maximize=True, beta2_decay=-0.5)]


@pytest.mark.parametrize("shape", [(8, 16), (5,), (3, 4, 6), (1, 1)])
@pytest.mark.parametrize("kw", _KWS, ids=range(len(_KWS)))
def test_adafactor_matches_pytorch(shape, kw):
    torch = pytest.importorskip("torch")
    t, t_state = _run(torch, shape, kw)
    g, g_state = _run(gk, shape, kw)
    assert sorted(g_state) == sorted(t_state)
    for k in t_state:                  # float32 norms summed in another order: ulps apart
        assert g_state[k].shape == t_state[k].shape
        assert np.allclose(g_state[k], t_state[k], rtol=1e-6, atol=0), k
    assert np.allclose(g, t, rtol=1e-6, atol=0)


def test_adafactor_errors_as_pytorch():
    w = gk.zeros(2, requires_grad=True)
    for kw, msg in ((dict(lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
                    (dict(beta2_decay=0.5), "beta2_decay should be <= 0 but is: 0.5"),
                    (dict(eps=(-1.0, 1e-3)), "epsilon1 should be >= 0 but is: -1.0"),
                    (dict(eps=(None, -1.0)), "epsilon2 should be >= 0 but is: -1.0"),
                    (dict(d=0.5), "Clipping threshold d should be >= 1 but is: 0.5"),
                    (dict(weight_decay=-1.0), "weight_decay should be >= 0 but is: -1.0")):
        with pytest.raises(ValueError, match=msg):
            gk.optim.Adafactor([w], **kw)


def test_sparse_adam_refuses_dense_gradients_as_pytorch():
    w = gk.zeros(3, 2, requires_grad=True)
    opt = gk.optim.SparseAdam([w])
    gk.nn.functional.embedding(gk.tensor([0, 2]), w, sparse=True).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients, please "
                                           "consider Adam instead"):
        opt.step()
    assert not w.detach().numpy().any()              # nothing was changed
    with pytest.raises(ValueError, match="Invalid learning rate: 0.0"):
        gk.optim.SparseAdam([w], lr=0.0)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        gk.optim.SparseAdam([w], betas=(0.9, 1.0))


def test_every_optimizer_and_scheduler_pytorch_exports_is_there():
    optim = pytest.importorskip("torch.optim")
    sched = pytest.importorskip("torch.optim.lr_scheduler")
    missing = [n for n in optim.__all__ if not hasattr(gk.optim, n)]
    assert missing == []
    missing = [n for n in sched.__all__ if not hasattr(gk.optim.lr_scheduler, n)]
    assert missing == []
