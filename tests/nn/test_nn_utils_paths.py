"""``torch.nn.utils``'s module paths and helpers (issue #17): clip_grad, convert_parameters,
stateless.functional_call, fusion; values against a live PyTorch or closed forms."""

from __future__ import annotations

import copy
import importlib

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn as nn

torch = pytest.importorskip("torch")


def test_module_paths_import():
    for name in ("clip_grad", "convert_parameters", "stateless", "fusion"):
        mod = importlib.import_module(f"gradkit.nn.utils.{name}")
        assert getattr(gk.nn.utils, name) is mod
    from gradkit.nn.utils.clip_grad import clip_grad_norm_
    from gradkit.nn.utils.convert_parameters import parameters_to_vector
    assert clip_grad_norm_ is gk.nn.utils.clip_grad_norm_
    assert parameters_to_vector is gk.nn.utils.parameters_to_vector


def test_clip_grads_with_norm_matches_torch():
    grads = [np.array([3.0, 4.0]), np.array([[12.0]])]
    ps = [gk.zeros(*g.shape, dtype=gk.float64, requires_grad=True) for g in grads]
    tps = [torch.zeros(*g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, tp, g in zip(ps, tps, grads):
        p.grad, tp.grad = gk.tensor(g), torch.tensor(g)
    total = gk.nn.utils.get_total_norm([p.grad for p in ps])
    assert float(total) == 13.0
    gk.nn.utils.clip_grads_with_norm_(ps, 6.5, total)
    torch.nn.utils.clip_grads_with_norm_(tps, 6.5, torch.tensor(13.0, dtype=torch.float64))
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ps[0].grad.numpy(), [1.5, 2.0], rtol=1e-6)
    before = ps[0].grad.numpy().copy()
    gk.nn.utils.clip_grads_with_norm_(ps, 100.0, 2.5)         # factor capped at 1
    np.testing.assert_array_equal(ps[0].grad.numpy(), before)
    w = gk.tensor([3.0, 4.0], requires_grad=True)
    w.grad = gk.tensor([3.0, 4.0])
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        n = gk.nn.utils.clip_grad_norm(w, 1.0)
    assert float(n) == 5.0
    np.testing.assert_allclose(w.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_stateless_functional_call_warns_and_calls():
    lin = nn.Linear(2, 1)
    w, b = gk.tensor([[1.0, 2.0]]), gk.tensor([0.5])
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        out = gk.nn.utils.stateless.functional_call(lin, {"weight": w, "bias": b},
                                                    (gk.tensor([[3.0, 4.0]]),))
    assert float(out) == 11.5


def _bn_eval(bn, rng, tbn):
    n = bn.num_features
    vals = {"running_mean": rng.standard_normal(n), "running_var": rng.random(n) + 0.5,
            "weight": rng.standard_normal(n), "bias": rng.standard_normal(n)}
    with gk.no_grad(), torch.no_grad():
        for k, v in vals.items():
            getattr(bn, k).copy_(gk.tensor(v, dtype=gk.float32))
            getattr(tbn, k).copy_(torch.tensor(v, dtype=torch.float32))
    bn.eval()
    tbn.eval()


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval_computes_the_same_function(bias, transpose):
    rng = np.random.default_rng(0)
    Conv, TConv = (nn.ConvTranspose2d, torch.nn.ConvTranspose2d) if transpose else \
        (nn.Conv2d, torch.nn.Conv2d)
    conv, tconv = Conv(3, 4, 3, bias=bias), TConv(3, 4, 3, bias=bias)
    with gk.no_grad(), torch.no_grad():
        w = rng.standard_normal(tuple(conv.weight.shape)).astype(np.float32)
        conv.weight.copy_(gk.tensor(w))
        tconv.weight.copy_(torch.tensor(w))
        if bias:
            b = rng.standard_normal(4).astype(np.float32)
            conv.bias.copy_(gk.tensor(b))
            tconv.bias.copy_(torch.tensor(b))
    bn, tbn = nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    _bn_eval(bn, rng, tbn)
    conv.eval()
    tconv.eval()
    fused = gk.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
    tfused = torch.nn.utils.fuse_conv_bn_eval(tconv, tbn, transpose=transpose)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    ref = bn(conv(gk.tensor(x))).detach().numpy()
    np.testing.assert_allclose(fused(gk.tensor(x)).detach().numpy(), ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fused.weight.detach().numpy(), tfused.weight.detach().numpy(),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fused.bias.detach().numpy(), tfused.bias.detach().numpy(),
                               rtol=1e-6, atol=1e-7)
    assert fused.bias.requires_grad is tfused.bias.requires_grad
    assert isinstance(fused.weight, nn.Parameter) and fused is not conv
    assert conv.weight.detach().numpy().tolist() == w.tolist()       # the original is kept


def test_fuse_linear_bn_eval_and_eval_check():
    rng = np.random.default_rng(1)
    lin, tlin = nn.Linear(3, 4), torch.nn.Linear(3, 4)
    with gk.no_grad(), torch.no_grad():
        w, b = rng.standard_normal((4, 3)), rng.standard_normal(4)
        lin.weight.copy_(gk.tensor(w, dtype=gk.float32))
        lin.bias.copy_(gk.tensor(b, dtype=gk.float32))
        tlin.weight.copy_(torch.tensor(w, dtype=torch.float32))
        tlin.bias.copy_(torch.tensor(b, dtype=torch.float32))
    bn, tbn = nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        gk.nn.utils.fuse_linear_bn_eval(lin, bn)
    _bn_eval(bn, rng, tbn)
    lin.eval()
    tlin.eval()
    fused = gk.nn.utils.fuse_linear_bn_eval(lin, bn)
    tfused = torch.nn.utils.fuse_linear_bn_eval(tlin, tbn)
    np.testing.assert_allclose(fused.weight.detach().numpy(), tfused.weight.detach().numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(fused.bias.detach().numpy(), tfused.bias.detach().numpy(),
                               rtol=1e-6, atol=1e-7)
    x = gk.tensor(rng.standard_normal((5, 3)), dtype=gk.float32)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(lin(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError, match="linear.out_features must equal bn.num_features"):
        gk.nn.utils.fuse_linear_bn_eval(copy.deepcopy(lin).eval(), nn.BatchNorm1d(3).eval())
