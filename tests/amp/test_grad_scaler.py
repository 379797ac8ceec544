"""GradScaler and autocast (``torch.amp``) against live PyTorch: the same scaled losses,
unscaled gradients, skipped steps, scale backoff/growth and state dicts, and PyTorch's errors."""

import math
import warnings

import numpy as np
import pytest

import gradkit as gk


def _run(lib, grads_inf_at):
    """Four steps of SGD on a tiny model under an enabled CPU GradScaler; an inf gradient at the
    steps in ``grads_inf_at``. Returns what each step leaves: scale, tracker, weights."""
    w = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    x = lib.tensor([0.5, 1.5, -1.0])
    seen = []
    for it in range(5):
        loss = (w * x).square().sum()
        if it in grads_inf_at:
            loss = loss * lib.tensor(float("inf"))
        scaled = scaler.scale(loss)
        scaled.backward()
        g_scaled = w.grad.detach().clone().tolist()
        scaler.unscale_(opt)
        g = w.grad.detach().clone().tolist()
        ret = scaler.step(opt)
        scaler.update()
        opt.zero_grad()
        seen.append((float(scaled.detach()), g_scaled, g, ret, scaler.get_scale(),
                     scaler._get_growth_tracker(), w.detach().tolist()))
    return seen, scaler.state_dict()


def test_grad_scaler_steps_match_torch():
    torch = pytest.importorskip("torch")
    ours, our_sd = _run(gk, {2})
    theirs, their_sd = _run(torch, {2})
    assert our_sd == their_sd
    for a, b in zip(ours, theirs):
        for x, y in zip(a, b):
            np.testing.assert_allclose(np.asarray(x, dtype=float), np.asarray(y, dtype=float),
                                       rtol=1e-6)


def test_grad_scaler_recorded_values():
    # recorded from torch 2.13: 8 -> 16 after two clean steps, 8 after the inf step, 16 again
    seen, sd = _run(gk, {2})
    assert [s[4] for s in seen] == [8.0, 16.0, 8.0, 8.0, 16.0]
    assert [s[5] for s in seen] == [1, 0, 0, 1, 0]
    assert seen[0][1] == [4.0, -72.0, 8.0]        # 8 * d/dw sum((w x)^2) = 8 * 2 w x^2
    assert seen[0][2] == [0.5, -9.0, 1.0]          # unscaled
    assert math.isinf(seen[2][0]) and seen[2][6] == seen[1][6]   # the inf step is skipped
    assert sd == {"scale": 16.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                  "growth_interval": 2, "_growth_tracker": 0}


def test_grad_scaler_errors_and_disabled():
    w = gk.tensor([1.0], requires_grad=True)
    opt = gk.optim.SGD([w], lr=0.1)
    s = gk.amp.GradScaler("cpu")
    with pytest.raises(AssertionError, match="_scale is None"):
        s.unscale_(opt)
    s.scale((w * 2).sum()).backward()
    s.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        s.step(opt)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        s.step(opt, closure=lambda: None)
    with pytest.raises(AssertionError, match="growth factor must be > 1.0"):
        gk.amp.GradScaler("cpu", growth_factor=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        off = gk.cuda.amp.GradScaler()
    assert [str(c.message)[:36] for c in caught] == [
        "`torch.cuda.amp.GradScaler(args...)`", "torch.cuda.amp.GradScaler is enabled"]
    loss = (w * 3).sum()
    assert off.scale(loss) is loss and off.get_scale() == 1.0 and off.state_dict() == {}


def test_grad_scaler_fp16_grads_refused():
    w = gk.tensor([1.0], dtype=gk.float16, requires_grad=True)
    opt = gk.optim.SGD([w], lr=0.1)
    s = gk.amp.GradScaler("cpu")
    s.scale((w * 2).sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
        s.step(opt)


def test_autocast_disabled_paths():
    with pytest.warns(UserWarning, match="CUDA is not available or torch_xla is imported"):
        with gk.autocast("cuda"):
            assert not gk.is_autocast_enabled()
    with gk.amp.autocast("cpu", enabled=False):
        y = gk.tensor([1.0]) * 2
    assert y.dtype == gk.float32
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        gk.autocast("cpu", dtype=gk.float64)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        gk.autocast("tpu")
