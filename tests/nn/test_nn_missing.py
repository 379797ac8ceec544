"""nn.RReLU, F.gumbel_softmax, max_unpool*d / MaxUnpool*d, the 3-D padding layers (issue #17).

Expected values are recorded from PyTorch 2.13 (CPU) or derived by hand; live comparisons with
torch skip only when torch is absent. Gradients are checked by finite differences in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn as nn
import gradkit.nn.functional as F
from gradkit.autograd import gradcheck

X = [[-2.0, 1.0, -0.5], [3.0, -1.0, 0.0]]


def test_rrelu_eval_uses_mean_slope() -> None:
    m = nn.RReLU(0.1, 0.3)
    m.eval()
    # recorded: torch.nn.functional.rrelu(x, 0.1, 0.3, training=False)
    np.testing.assert_allclose(m(gk.tensor(X)).numpy(),
                               [[-0.4, 1.0, -0.1], [3.0, -0.2, 0.0]], rtol=1e-6)
    assert repr(m) == "RReLU(lower=0.1, upper=0.3)"
    assert repr(nn.RReLU(inplace=True)) == \
        "RReLU(lower=0.125, upper=0.3333333333333333, inplace=True)"


def test_rrelu_training_slopes_are_random_in_range_and_seeded() -> None:
    m = nn.RReLU(0.1, 0.3)
    x = gk.tensor(-np.linspace(1.0, 2.0, 200), dtype=gk.float64, requires_grad=True)
    gk.manual_seed(5)
    y = m(x)
    slopes = (y / x).detach().numpy()
    assert (slopes >= 0.1).all() and (slopes <= 0.3).all()
    assert slopes.std() > 0.03  # drawn, not fixed
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-12)
    gk.manual_seed(5)
    np.testing.assert_array_equal(m(x).detach().numpy(), y.detach().numpy())
    pos = gk.tensor([0.5, 2.0])
    np.testing.assert_array_equal(m(pos).numpy(), [0.5, 2.0])


def test_gumbel_softmax_soft_rows_and_hard_one_hot() -> None:
    logits = gk.tensor(np.random.default_rng(0).normal(size=(6, 5)), requires_grad=True)
    gk.manual_seed(1)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), np.ones(6), rtol=1e-12)
    gk.manual_seed(1)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) <= {0.0, 1.0} and (h.sum(-1) == 1).all()
    np.testing.assert_array_equal(h.argmax(-1), soft.detach().numpy().argmax(-1))
    # straight-through: the hard sample's gradient is the soft sample's (same noise)
    w = gk.tensor(np.arange(30.0).reshape(6, 5))
    g_hard = gk.autograd.grad((hard * w).sum(), logits)[0]
    g_soft = gk.autograd.grad((soft * w).sum(), logits)[0]
    np.testing.assert_allclose(g_hard.numpy(), g_soft.numpy(), rtol=1e-12)
    gk.manual_seed(1)
    cols = F.gumbel_softmax(logits.detach().T, tau=0.5, hard=True, dim=0).numpy()
    np.testing.assert_array_equal(cols.sum(0), np.ones(6))


def test_gumbel_max_frequencies_follow_softmax() -> None:
    # the Gumbel-max trick: argmax(logits + g) is distributed as softmax(logits)
    p = np.array([0.5, 0.3, 0.15, 0.05])
    logits = gk.tensor(np.tile(np.log(p), (40000, 1)))
    gk.manual_seed(0)
    hard = F.gumbel_softmax(logits, tau=1.0, hard=True).numpy()
    np.testing.assert_allclose(hard.mean(0), p, atol=0.01)


def test_gumbel_softmax_gradcheck_with_fixed_seed() -> None:
    logits = gk.tensor(np.random.default_rng(2).normal(size=(3, 4)), requires_grad=True)

    def f(z: gk.Tensor) -> gk.Tensor:
        gk.manual_seed(3)
        return F.gumbel_softmax(z, tau=0.7)
    assert gradcheck(f, (logits,))


def test_gumbel_softmax_eps_is_deprecated() -> None:
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F.gumbel_softmax(gk.zeros(2, 3), eps=1e-5)


def test_max_unpool2d_recorded() -> None:
    x = gk.arange(16.0).reshape(1, 1, 4, 4)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    got = nn.MaxUnpool2d(2, stride=2)(out, idx)
    expect = np.zeros((1, 1, 4, 4))
    expect[0, 0, 1, 1], expect[0, 0, 1, 3], expect[0, 0, 3, 1], expect[0, 0, 3, 3] = 5, 7, 13, 15
    np.testing.assert_array_equal(got.numpy(), expect)
    assert F.max_unpool2d(out, idx, 2, output_size=(5, 5)).shape == (1, 1, 5, 5)
    assert F.max_unpool2d(out, idx, 2, output_size=(1, 1, 5, 5)).shape == (1, 1, 5, 5)
    assert repr(nn.MaxUnpool2d(2, stride=2)) == \
        "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert repr(nn.MaxUnpool3d((2, 2, 2), padding=1)) == \
        "MaxUnpool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=(1, 1, 1))"


def test_max_unpool1d_recorded() -> None:
    out, idx = F.max_pool1d(gk.arange(8.0).reshape(1, 1, 8), 2, return_indices=True)
    assert F.max_unpool1d(out, idx, 2).tolist() == [[[0.0, 1.0, 0.0, 3.0, 0.0, 5.0, 0.0, 7.0]]]
    assert nn.MaxUnpool1d(2)(out[0], idx[0]).shape == (1, 8)


def test_max_unpool_errors() -> None:
    out, idx = F.max_pool2d(gk.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(ValueError, match=r'invalid output_size "\(9, 9\)" \(dim 0 must be '
                                         r"between 2 and 6\)"):
        F.max_unpool2d(out, idx, 2, output_size=(9, 9))
    with pytest.raises(RuntimeError, match=r"Found an invalid max index: \d+ \(output volumes "
                                           "are of size 3x3"):
        F.max_unpool2d(out, idx, 2, output_size=(3, 3))
    with pytest.raises(RuntimeError, match="elements in indices should be type int64 but got: "
                                           "Float"):
        F.max_unpool2d(out, idx.float(), 2)
    with pytest.raises(RuntimeError, match="Expected shape of indices to be same as that of the "
                                           r"input tensor \(\[1, 1, 2, 2\]\)"):
        F.max_unpool2d(out, idx[..., :1], 2)
    with pytest.raises(RuntimeError, match="Input to max_unpooling2d should be a 3d or 4d "
                                           "Tensor, but got a tensor with 2 dimensions."):
        F.max_unpool2d(out[0, 0], idx[0, 0], 2)


def test_max_unpool_gradcheck() -> None:
    x = gk.tensor(np.random.default_rng(4).normal(size=(2, 3, 4, 6)))
    _, idx = F.max_pool2d(x, 2, return_indices=True)
    v = gk.tensor(np.random.default_rng(5).normal(size=tuple(idx.shape)), requires_grad=True)
    assert gradcheck(lambda a: F.max_unpool2d(a, idx, 2, output_size=(5, 7)), (v,))
    flat = gk.tensor(np.array([[[[0, 7], [3, 20]]]]))
    w = gk.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    assert gradcheck(lambda a: F.max_unpool3d(a.unsqueeze(0), flat.unsqueeze(0), 2), (w,))


def test_max_unpool_against_torch() -> None:
    torch = pytest.importorskip("torch")
    rs = np.random.default_rng(6)
    for nd, shape in ((1, (2, 3, 9)), (2, (2, 3, 6, 5)), (3, (1, 2, 4, 6, 4))):
        x = rs.normal(size=shape)
        tp = getattr(torch.nn.functional, f"max_pool{nd}d")
        tu = getattr(torch.nn.functional, f"max_unpool{nd}d")
        o, i = tp(torch.tensor(x), 2, return_indices=True)
        t_in = o.clone().requires_grad_(True)
        ref = tu(t_in, i, 2, output_size=shape[-nd:])
        g_in = gk.tensor(o.detach().numpy(), requires_grad=True)
        got = getattr(F, f"max_unpool{nd}d")(g_in, gk.tensor(i.numpy()), 2,
                                                output_size=shape[-nd:])
        np.testing.assert_array_equal(got.detach().numpy(), ref.detach().numpy())
        w = rs.normal(size=tuple(ref.shape))
        (ref * torch.tensor(w)).sum().backward()
        (got * gk.tensor(w)).sum().backward()
        np.testing.assert_allclose(g_in.grad.numpy(), t_in.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name, mode, args", [
    ("ConstantPad3d", "constant", ((1, 2, 0, 1, 2, 1), 3.5)),
    ("ZeroPad3d", "constant", ((1, 2, 0, 1, 2, 1),)),
    ("ReflectionPad3d", "reflect", ((1, 2, 0, 1, 2, 1),)),
    ("ReplicationPad3d", "replicate", ((1, 2, 0, 1, 2, 1),)),
    ("CircularPad3d", "circular", ((1, 2, 0, 1, 2, 1),)),
])
def test_pad3d_modules(name: str, mode: str, args: tuple) -> None:
    x = np.random.default_rng(7).normal(size=(2, 3, 3, 4, 5))
    m = getattr(nn, name)(*args)
    got = m(gk.tensor(x)).numpy()
    pads = [(0, 0), (0, 0), (2, 1), (0, 1), (1, 2)]
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    expect = np.pad(x, pads, mode=np_mode) if np_mode else \
        np.pad(x, pads, constant_values=args[1] if len(args) > 1 else 0.0)
    np.testing.assert_array_equal(got, expect)
    assert getattr(nn, name)(1).padding == (1, 1, 1, 1, 1, 1) if name != "ConstantPad3d" else \
        nn.ConstantPad3d(1, 0.0).padding == (1, 1, 1, 1, 1, 1)


def test_max_pool3d_indices_against_torch() -> None:
    torch = pytest.importorskip("torch")
    rs = np.random.default_rng(8)
    cases = [((2, 3, 5, 6, 7), {"kernel_size": 2}),
             ((1, 2, 7, 6, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
             ((1, 1, 6, 6, 6), {"kernel_size": 2, "stride": 1, "dilation": 2}),
             ((1, 1, 5, 6, 7), {"kernel_size": 2, "ceil_mode": True}),
             ((3, 5, 6, 7), {"kernel_size": (1, 2, 3)})]
    for shape, kw in cases:
        x = np.round(rs.normal(size=shape))  # ties: the first maximum wins
        a, ai = torch.nn.functional.max_pool3d(torch.tensor(x), return_indices=True, **kw)
        b, bi = F.max_pool3d(gk.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(b.numpy(), a.numpy())
        np.testing.assert_array_equal(bi.numpy(), ai.numpy())
        assert bi.dtype == gk.int64
    pool = nn.MaxPool3d(2, return_indices=True)
    out, idx = pool(gk.tensor(rs.normal(size=(1, 1, 4, 4, 4))))
    assert nn.MaxUnpool3d(2)(out, idx).shape == (1, 1, 4, 4, 4)


def test_adaptive_pool3d_against_torch() -> None:
    torch = pytest.importorskip("torch")
    rs = np.random.default_rng(9)
    for shape, size in (((2, 3, 5, 6, 7), (2, 3, 4)), ((3, 5, 7, 6), (None, 2, 5)),
                        ((1, 1, 4, 4, 4), 1)):
        x = rs.normal(size=shape)
        for name in ("AdaptiveAvgPool3d", "AdaptiveMaxPool3d"):
            t_in = torch.tensor(x, requires_grad=True)
            g_in = gk.tensor(x, requires_grad=True)
            ref = getattr(torch.nn, name)(size)(t_in)
            got = getattr(nn, name)(size)(g_in)
            np.testing.assert_allclose(got.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
            w = rs.normal(size=tuple(ref.shape))
            (ref * torch.tensor(w)).sum().backward()
            (got * gk.tensor(w)).sum().backward()
            np.testing.assert_allclose(g_in.grad.numpy(), t_in.grad.numpy(), rtol=1e-12)
        _, ti = torch.nn.functional.adaptive_max_pool3d(torch.tensor(x), size, return_indices=True)
        _, gi = F.adaptive_max_pool3d(gk.tensor(x), size, return_indices=True)
        np.testing.assert_array_equal(gi.numpy(), ti.numpy())


def test_adaptive_avg_pool3d_gradcheck_and_errors() -> None:
    x = gk.tensor(np.random.default_rng(10).normal(size=(1, 2, 3, 4, 5)), requires_grad=True)
    assert gradcheck(lambda a: F.adaptive_avg_pool3d(a, (2, 3, 2)), (x,))
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool3d\(\): Expected 4D or 5D tensor"):
        F.adaptive_avg_pool3d(gk.ones(2, 3, 4), 2)


def test_weight_norm_against_torch() -> None:
    torch = pytest.importorskip("torch")
    rs = np.random.default_rng(11)
    w = rs.normal(size=(4, 2, 3))
    b = rs.normal(size=4)
    x = rs.normal(size=(5, 2, 7))
    for dim in (0, 1, None):
        tm = torch.nn.Conv1d(2, 4, 3).double()
        gm = nn.Conv1d(2, 4, 3).double()
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(w))
            tm.bias.copy_(torch.tensor(b))
        gm.weight.data = gk.tensor(w)
        gm.bias.data = gk.tensor(b)
        with pytest.warns(FutureWarning, match="weight_norm` is deprecated"):
            nn.utils.weight_norm(gm, dim=dim)
        with pytest.warns(FutureWarning):
            torch.nn.utils.weight_norm(tm, dim=dim)
        assert sorted(gm.state_dict()) == sorted(tm.state_dict())
        np.testing.assert_allclose(gm.weight_g.detach().numpy(), tm.weight_g.detach().numpy(),
                                   rtol=1e-12)
        with gk.no_grad():
            gm.weight_g.mul_(1.5)
        with torch.no_grad():
            tm.weight_g.mul_(1.5)
        ty = tm(torch.tensor(x))
        gy = gm(gk.tensor(x))
        np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-10)
        (ty ** 2).sum().backward()
        (gy ** 2).sum().backward()
        for n in ("weight_g", "weight_v"):
            np.testing.assert_allclose(getattr(gm, n).grad.numpy(), getattr(tm, n).grad.numpy(),
                                       rtol=1e-10, atol=1e-12)
        nn.utils.remove_weight_norm(gm)
        torch.nn.utils.remove_weight_norm(tm)
        np.testing.assert_allclose(gm.weight.detach().numpy(), tm.weight.detach().numpy(),
                                   rtol=1e-12)
        assert sorted(gm.state_dict()) == ["bias", "weight"]


def test_weight_norm_errors_and_gradcheck() -> None:
    m = nn.Linear(3, 2).double()
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(m)
    with pytest.warns(FutureWarning), pytest.raises(
            RuntimeError, match="Cannot register two weight_norm hooks on the same parameter "
                                "weight"):
        nn.utils.weight_norm(m)
    # the weight the hook recomputes, differentiated by finite differences in float64
    hook = next(h for h in m._forward_pre_hooks.values() if type(h).__name__ == "_WeightNorm")
    g0 = gk.tensor(m.weight_g.detach().numpy(), requires_grad=True)
    v0 = gk.tensor(m.weight_v.detach().numpy(), requires_grad=True)

    class Holder:
        weight_g: gk.Tensor
        weight_v: gk.Tensor

    def f(g: gk.Tensor, v: gk.Tensor) -> gk.Tensor:
        h = Holder()
        h.weight_g, h.weight_v = g, v
        return hook.compute_weight(h)
    assert gradcheck(f, (g0, v0))
    np.testing.assert_allclose(
        np.linalg.norm(f(g0, v0).detach().numpy(), axis=1, keepdims=True), g0.detach().numpy(),
        rtol=1e-12)
    nn.utils.remove_weight_norm(m)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in Linear"):
        nn.utils.remove_weight_norm(m)


@pytest.mark.parametrize("xs, ws, kw", [
    ((2, 4, 3, 4, 5), (4, 3, 2, 3, 2), {}),
    ((1, 4, 3, 4, 5), (4, 2, 3, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1,
                                        "groups": 2}),
    ((4, 2, 3, 3), (4, 3, 2, 2, 2), {"stride": (3, 1, 2), "dilation": (2, 1, 1),
                                     "padding": (1, 0, 1)}),
    ((1, 2, 2, 3, 3), (2, 2, 3, 3, 3), {"stride": 2, "dilation": 2, "output_padding": 1}),
])
def test_conv_transpose3d_against_torch(xs: tuple, ws: tuple, kw: dict) -> None:
    torch = pytest.importorskip("torch")
    rs = np.random.default_rng(13)
    x, w, b = rs.normal(size=xs), rs.normal(size=ws), rs.normal(size=ws[1] * kw.get("groups", 1))
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    gx, gw, gb = (gk.tensor(v, requires_grad=True) for v in (x, w, b))
    ty = torch.nn.functional.conv_transpose3d(tx, tw, tb, **kw)
    gy = F.conv_transpose3d(gx, gw, gb, **kw)
    assert tuple(gy.shape) == tuple(ty.shape)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    u = rs.normal(size=tuple(ty.shape))
    (ty * torch.tensor(u)).sum().backward()
    (gy * gk.tensor(u)).sum().backward()
    for a, c in ((tx, gx), (tw, gw), (tb, gb)):
        np.testing.assert_allclose(c.grad.numpy(), a.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv_transpose3d_gradcheck_and_module() -> None:
    rs = np.random.default_rng(14)
    x = gk.tensor(rs.normal(size=(1, 2, 2, 2, 3)), requires_grad=True)
    w = gk.tensor(rs.normal(size=(2, 1, 2, 1, 2)), requires_grad=True)
    assert gradcheck(lambda a, k: F.conv_transpose3d(a, k, stride=(2, 1, 1), padding=(1, 0, 0)),
                     (x, w))
    # a 1x1x1 kernel of ones with stride 2 places the input every other voxel
    one = F.conv_transpose3d(gk.ones(1, 1, 2, 2, 2), gk.ones(1, 1, 1, 1, 1), stride=2)
    expect = np.zeros((1, 1, 3, 3, 3))
    expect[0, 0, ::2, ::2, ::2] = 1.0
    np.testing.assert_array_equal(one.numpy(), expect)
    m = nn.ConvTranspose3d(4, 6, 3, stride=2, groups=2)
    assert tuple(m.weight.shape) == (4, 3, 3, 3, 3)
    assert m(gk.ones(1, 4, 2, 3, 3), output_size=(6, 8, 8)).shape == (1, 6, 6, 8, 8)
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride "
                                           "or dilation"):
        F.conv_transpose3d(gk.ones(1, 1, 2, 2, 2), gk.ones(1, 1, 1, 1, 1), output_padding=1)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_parametrizations_weight_norm_against_torch(dim: int | None) -> None:
    torch = pytest.importorskip("torch")
    from gradkit.nn.utils.parametrizations import weight_norm
    rs = np.random.default_rng(15)
    w, b, x = rs.normal(size=(4, 3)), rs.normal(size=4), rs.normal(size=(5, 3))
    g, t = nn.Linear(3, 4).double(), torch.nn.Linear(3, 4).double()
    g.weight.data, g.bias.data = gk.tensor(w), gk.tensor(b)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w))
        t.bias.copy_(torch.tensor(b))
    weight_norm(g, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    assert sorted(g.state_dict()) == sorted(t.state_dict())
    assert type(g).__name__ == "ParametrizedLinear"
    gp, tp = g.parametrizations.weight, t.parametrizations.weight
    with gk.no_grad():
        gp.original0.mul_(2.0)
    with torch.no_grad():
        tp.original0.mul_(2.0)
    gy, ty = g(gk.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    (gy ** 2).sum().backward()
    (ty ** 2).sum().backward()
    for n in ("original0", "original1"):
        np.testing.assert_allclose(getattr(gp, n).grad.numpy(), getattr(tp, n).grad.numpy(),
                                   rtol=1e-10)
    g.weight = gk.tensor(3 * w)
    with torch.no_grad():
        t.weight = torch.tensor(3 * w)
    np.testing.assert_allclose(g.weight.detach().numpy(), 3 * w, rtol=1e-12)
    np.testing.assert_allclose(gp.original1.detach().numpy(), tp.original1.detach().numpy())
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        nn.utils.parametrize.remove_parametrizations(g, "weight", leave_parametrized=False)
    nn.utils.parametrize.remove_parametrizations(g, "weight")
    assert type(g).__name__ == "Linear" and sorted(g.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(g.weight.detach().numpy(), 3 * w, rtol=1e-12)


def test_parametrizations_weight_norm_gradcheck() -> None:
    from gradkit.nn.utils.parametrizations import weight_norm
    m = weight_norm(nn.Linear(3, 2).double())
    fn = m.parametrizations.weight[0]
    g0 = gk.tensor(m.parametrizations.weight.original0.detach().numpy(), requires_grad=True)
    v0 = gk.tensor(m.parametrizations.weight.original1.detach().numpy(), requires_grad=True)
    assert gradcheck(fn, (g0, v0))


def test_parametrizations_spectral_norm_converges_to_unit_spectral_norm() -> None:
    from gradkit.nn.utils.parametrizations import spectral_norm
    rs = np.random.default_rng(16)
    w = rs.normal(size=(4, 6))
    w[0] *= 4.0  # a clear gap between the top two singular values
    m = nn.Linear(6, 4).double()
    m.weight.data = gk.tensor(w)
    spectral_norm(m)
    assert sorted(m.state_dict()) == ["bias", "parametrizations.weight.0._u",
                                      "parametrizations.weight.0._v",
                                      "parametrizations.weight.original"]
    for _ in range(20):
        m(gk.ones(1, 6, dtype=gk.float64))
    np.testing.assert_allclose(np.linalg.norm(m.weight.detach().numpy(), 2), 1.0, rtol=1e-10)
    np.testing.assert_allclose(m.weight.detach().numpy(), w / np.linalg.svd(w)[1][0], rtol=1e-9)
    assert spectral_norm(nn.ConvTranspose2d(3, 5, 2)).parametrizations.weight[0].dim == 1
    assert spectral_norm(nn.Conv2d(3, 5, 2)).parametrizations.weight[0]._u.shape == (5,)


def test_parametrizations_spectral_norm_gradient_with_fixed_vectors() -> None:
    from gradkit.nn.utils.parametrizations import spectral_norm
    rs = np.random.default_rng(17)
    w = rs.normal(size=(3, 5))
    m = nn.Linear(5, 3, bias=False).double()
    m.weight.data = gk.tensor(w)
    spectral_norm(m)
    m.eval()  # u and v stay put: weight / (u^T W v) with constant u, v
    p = m.parametrizations.weight
    u, v = p[0]._u.numpy(), p[0]._v.numpy()
    x = rs.normal(size=(4, 5))
    ((m(gk.tensor(x))) ** 2).sum().backward()
    s = u @ w @ v
    gw = (2 * x @ (w / s).T).T @ x
    analytic = gw / s - (gw * w).sum() / s ** 2 * np.outer(u, v)
    np.testing.assert_allclose(p.original.grad.numpy(), analytic, rtol=1e-10, atol=1e-12)
    assert gradcheck(p[0], (gk.tensor(w, requires_grad=True),))


def test_parametrizations_spectral_norm_state_dict_like_torch() -> None:
    torch = pytest.importorskip("torch")
    from gradkit.nn.utils.parametrizations import spectral_norm
    g = spectral_norm(nn.Conv1d(2, 3, 2))
    t = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Conv1d(2, 3, 2))
    assert sorted(g.state_dict()) == sorted(t.state_dict())
    for k, val in t.state_dict().items():
        assert tuple(g.state_dict()[k].shape) == tuple(val.shape)
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'kernel'"):
        spectral_norm(nn.Linear(2, 2), name="kernel")
