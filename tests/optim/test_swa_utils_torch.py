"""``optim.swa_utils`` and ``optim.swap_in_optimizer_params_and_state`` against a live PyTorch
2.13 (skipped only without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(11)
W = [RNG.standard_normal((3, 4)).astype(np.float32) for _ in range(4)]
B = [RNG.standard_normal(3).astype(np.float32) for _ in range(4)]


def _linear(L, i):
    m = L.nn.Linear(4, 3)
    with L.no_grad():
        m.weight.copy_(L.tensor(W[i]))
        m.bias.copy_(L.tensor(B[i]))
    return m


@pytest.mark.parametrize("kind", ["swa", "ema", "ema_multi", "swa_multi"])
def test_averaged_model_as_pytorch(kind):
    out = []
    for L in (torch, gk):
        su = L.optim.swa_utils
        kw = {"swa": {}, "ema": {"avg_fn": su.get_ema_avg_fn(0.9)},
              "ema_multi": {"multi_avg_fn": su.get_ema_multi_avg_fn(0.8)},
              "swa_multi": {"multi_avg_fn": su.get_swa_multi_avg_fn()}}[kind]
        avg = su.AveragedModel(_linear(L, 0), **kw)
        for i in range(4):
            avg.update_parameters(_linear(L, i))
        x = L.tensor(W[1][:, :4])
        out.append((avg.module.weight.detach().numpy().copy(), avg.module.bias.detach().numpy().copy(),
                    int(avg.n_averaged), avg(x).detach().numpy()))
    (tw, tb, tn, ty), (gw, gb, gn, gy) = out
    assert gn == tn == 4
    assert np.allclose(gw, tw, rtol=1e-6, atol=1e-7) and np.allclose(gb, tb, rtol=1e-6, atol=1e-7)
    assert np.allclose(gy, ty, rtol=1e-5, atol=1e-6)


def test_averaged_model_errors_and_buffers():
    su = gk.optim.swa_utils
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
        su.AveragedModel(gk.nn.Linear(2, 2), avg_fn=su.get_swa_avg_fn(),
                         multi_avg_fn=su.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a "
                                         r"value in \[0,1\] range."):
        su.get_ema_avg_fn(1.5)
    bn_g, bn_t = gk.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    avgs = [su.AveragedModel(bn_g, use_buffers=True),
            torch.optim.swa_utils.AveragedModel(bn_t, use_buffers=True)]
    X = RNG.standard_normal((8, 3)).astype(np.float32)
    for _ in range(3):
        bn_g(gk.tensor(X))
        bn_t(torch.tensor(X))
        avgs[0].update_parameters(bn_g)
        avgs[1].update_parameters(bn_t)
    for name in ("running_mean", "running_var"):
        assert np.allclose(getattr(avgs[0].module, name).numpy(),
                           getattr(avgs[1].module, name).numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("strategy, epochs", [("cos", 5), ("linear", 3), ("cos", 0)])
def test_swalr_as_pytorch(strategy, epochs):
    lrs = []
    for L in (torch, gk):
        p = L.zeros(2, requires_grad=True)
        opt = L.optim.SGD([p], lr=0.5)
        sched = L.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=epochs,
                                        anneal_strategy=strategy)
        seq = []
        for _ in range(8):
            opt.step()
            sched.step()
            seq.append(sched.get_last_lr()[0])
        lrs.append(seq)
    assert np.allclose(lrs[1], lrs[0], rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', "
                                         "instead got foo"):
        gk.optim.swa_utils.SWALR(gk.optim.SGD([gk.zeros(1, requires_grad=True)], lr=0.1), 0.01,
                                 anneal_strategy="foo")


def test_update_bn_as_pytorch():
    X = [RNG.standard_normal((5, 4)).astype(np.float32) * 3 + 1 for _ in range(3)]
    stats = []
    for L in (torch, gk):
        model = L.nn.Sequential(L.nn.Linear(4, 3), L.nn.BatchNorm1d(3))
        with L.no_grad():
            model[0].weight.copy_(L.tensor(W[0]))
            model[0].bias.copy_(L.tensor(B[0]))
        model.eval()
        L.optim.swa_utils.update_bn([(L.tensor(x), 0) for x in X], model)
        bn = model[1]
        stats.append((bn.running_mean.numpy().copy(), bn.running_var.numpy().copy(),
                      model.training, bn.momentum))
    (tm, tv, ttr, tmom), (gm, gv, gtr, gmom) = stats
    assert np.allclose(gm, tm, rtol=1e-5, atol=1e-6) and np.allclose(gv, tv, rtol=1e-5, atol=1e-6)
    assert gtr is ttr is False and gmom == tmom == 0.1


def test_swap_in_optimizer_params_and_state_as_pytorch():
    out = []
    for L in (torch, gk):
        p = L.tensor(W[0][0].copy(), requires_grad=True)
        opt = L.optim.Adam([p], lr=0.1)
        p.grad = L.tensor(W[2][0].copy())
        opt.step()                                      # initialized state
        q = L.tensor(W[1][0].copy(), requires_grad=True)
        sd = opt.state_dict()
        swap_state = {"state": {0: {k: (v.clone() if hasattr(v, "clone") else v)
                                    for k, v in sd["state"][0].items()}},
                      "param_groups": [dict(sd["param_groups"][0], lr=0.01)]}
        q.grad = L.tensor(W[3][0].copy())
        with L.optim.swap_in_optimizer_params_and_state(opt, {"q": q}, swap_state):
            assert opt.param_groups[0]["params"][0] is q and opt.param_groups[0]["lr"] == 0.01
            opt.step()
        assert opt.param_groups[0]["params"][0] is p and opt.param_groups[0]["lr"] == 0.1
        out.append((p.detach().numpy().copy(), q.detach().numpy().copy(),
                    swap_state["state"][0]["exp_avg"].numpy().copy()))
    for g, t in zip(out[1], out[0]):
        assert np.allclose(g, t, rtol=1e-6, atol=1e-7)
    opt = gk.optim.SGD([gk.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(RuntimeError, match="requires initialized optimizer state"):
        with gk.optim.swap_in_optimizer_params_and_state(opt, {}, {"state": {}, "param_groups": []}):
            pass
