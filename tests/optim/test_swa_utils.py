"""gradkit.optim.swa_utils (``torch.optim.swa_utils``, from the Weight Averaging section of
PyTorch's optim docs; issue #17).

Expected values are analytic (an equal average of the weights a model took, an exponential
moving average written out, SWALR's annealing formula), or torch's own run on the same numbers
(``pytest.importorskip``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.optim import swa_utils
from gradkit.optim.swa_utils import (SWALR, AveragedModel, get_ema_avg_fn, get_ema_multi_avg_fn,
                                     get_swa_avg_fn, get_swa_multi_avg_fn, update_bn)


def _set(model, w):
    with gk.no_grad():
        model.weight.fill_(w)


def test_swa_is_the_equal_average_of_the_weights_seen():
    model = nn.Linear(1, 1, bias=False)
    swa = AveragedModel(model)
    seen = [1.0, 2.0, 6.0, -1.5]
    for w in seen:
        _set(model, w)
        swa.update_parameters(model)
    assert float(swa.module.weight.detach()) == pytest.approx(np.mean(seen))
    assert int(swa.n_averaged) == 4 and swa.n_averaged.dtype == gk.int64
    assert swa.module is not model and swa.module.weight is not model.weight


@pytest.mark.parametrize("make", [lambda d: dict(multi_avg_fn=get_ema_multi_avg_fn(d)),
                                  lambda d: dict(avg_fn=get_ema_avg_fn(d))])
def test_ema_starts_from_a_copy_then_decays(make):
    decay = 0.75
    model = nn.Linear(1, 1, bias=False)
    ema = AveragedModel(model, **make(decay))
    seen = [4.0, 0.0, 8.0]
    expect = None
    for w in seen:
        _set(model, w)
        ema.update_parameters(model)
        expect = w if expect is None else decay * expect + (1 - decay) * w
    assert float(ema.module.weight.detach()) == pytest.approx(expect)


def test_swa_multi_avg_fn_and_avg_fn_agree():
    a, b = nn.Linear(2, 1), nn.Linear(2, 1)
    s1 = AveragedModel(a, multi_avg_fn=get_swa_multi_avg_fn())
    s2 = AveragedModel(a, avg_fn=get_swa_avg_fn())
    for _ in range(3):
        with gk.no_grad():
            a.weight.add_(1.0)
        s1.update_parameters(a)
        s2.update_parameters(a)
    np.testing.assert_allclose(s1.module.weight.detach().numpy(), s2.module.weight.detach().numpy(),
                               rtol=1e-6)
    del b


def test_buffers_copied_unless_use_buffers():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    plain = AveragedModel(model)
    averaged = AveragedModel(model, use_buffers=True)
    for scale in (1.0, 3.0):
        with gk.no_grad():
            model[1].running_var.fill_(scale)
        plain.update_parameters(model)
        averaged.update_parameters(model)
    np.testing.assert_allclose(plain.module[1].running_var.numpy(), [3.0] * 3)     # copied
    np.testing.assert_allclose(averaged.module[1].running_var.numpy(), [2.0] * 3)  # averaged


def test_both_avg_fns_refused():
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        AveragedModel(nn.Linear(1, 1), avg_fn=get_swa_avg_fn(), multi_avg_fn=get_swa_multi_avg_fn())
    with pytest.raises(ValueError,
                       match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\] range."):
        get_ema_multi_avg_fn(1.5)


def _lr_sequence(strategy, epochs, lr0=0.5, swa_lr=0.05, steps=7):
    """SWALR written out: lr_t = swa_lr * a(t) + lr_0 * (1 - a(t)), t = min(1, step / epochs)."""
    anneal = (lambda t: t) if strategy == "linear" else (lambda t: (1 - math.cos(math.pi * t)) / 2)
    return [swa_lr * anneal(min(1, s / epochs)) + lr0 * (1 - anneal(min(1, s / epochs)))
            for s in range(1, steps + 1)]


@pytest.mark.parametrize("strategy", ["linear", "cos"])
def test_swalr_anneals_to_swa_lr(strategy):
    w = gk.zeros(1, requires_grad=True)
    opt = gk.optim.SGD([w], lr=0.5)
    sched = SWALR(opt, swa_lr=0.05, anneal_epochs=4, anneal_strategy=strategy)
    lrs = []
    for _ in range(7):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(lrs, _lr_sequence(strategy, 4), rtol=1e-12)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got x"):
        SWALR(opt, swa_lr=0.1, anneal_strategy="x")


def test_update_bn_recomputes_running_stats_as_a_plain_average():
    rng = np.random.default_rng(0)
    batches = [gk.tensor(rng.standard_normal((5, 2)).astype(np.float32) * 2 + 1) for _ in range(3)]
    model = nn.Sequential(nn.BatchNorm1d(2))
    model.eval()
    update_bn([(b, None) for b in batches], model)
    means = [b.numpy().mean(0) for b in batches]
    variances = [b.numpy().var(0, ddof=1) for b in batches]
    np.testing.assert_allclose(model[0].running_mean.numpy(), np.mean(means, 0), rtol=1e-5)
    np.testing.assert_allclose(model[0].running_var.numpy(), np.mean(variances, 0), rtol=1e-5)
    assert model[0].momentum == 0.1 and model.training is False
    assert int(model[0].num_batches_tracked) == 3


def test_torch_spelling_reaches_swa_utils():
    assert gk.optim.swa_utils is swa_utils


def test_matches_torch_live():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((2, 3)).astype(np.float32)
    steps = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(4)]
    results = []
    for lib in (torch, gk):
        from importlib import import_module
        su = import_module(lib.__name__ + ".optim.swa_utils")
        model = lib.nn.Linear(3, 2, bias=False)
        with lib.no_grad():
            model.weight.copy_(lib.tensor(w0))
        ema = su.AveragedModel(model, multi_avg_fn=su.get_ema_multi_avg_fn(0.9))
        swa = su.AveragedModel(model)
        for d in steps:
            with lib.no_grad():
                model.weight.add_(lib.tensor(d))
            ema.update_parameters(model)
            swa.update_parameters(model)
        results.append((ema.module.weight.detach().numpy(), swa.module.weight.detach().numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-6)
