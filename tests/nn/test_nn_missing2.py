"""LPPool3d, ChannelShuffle, TripletMarginWithDistanceLoss, FractionalMaxPool, AdaptiveLogSoftmax... (#17).

Values and gradients against live PyTorch (float64); hand-derived values where cheap.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RNG = np.random.default_rng(21)


def _cmp(fn_t, fn_g, *arrays, tol=1e-10):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    gs = [gk.tensor(a, requires_grad=True) for a in arrays]
    ot, og = fn_t(*ts), fn_g(*gs)
    assert tuple(ot.shape) == tuple(og.shape)
    np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), rtol=tol, atol=tol)
    c = RNG.standard_normal(tuple(ot.shape))
    (ot * torch.tensor(c)).sum().backward()
    (og * gk.tensor(c)).sum().backward()
    for a, b in zip(ts, gs):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("p", [2.0, 1.5, float("inf")])
@pytest.mark.parametrize("kernel,stride", [(2, None), ((2, 1, 3), (1, 2, 1))])
def test_lp_pool3d(p, kernel, stride):
    x = RNG.uniform(0.2, 2.0, (2, 3, 4, 5, 6))
    _cmp(lambda a: TF.lp_pool3d(a, p, kernel, stride), lambda a: F.lp_pool3d(a, p, kernel, stride), x)
    m_t, m_g = torch.nn.LPPool3d(p, kernel, stride), gk.nn.LPPool3d(p, kernel, stride)
    assert repr(m_t) == repr(m_g)
    _cmp(m_t, m_g, x)


def test_lp_pool3d_known_value():
    x = gk.tensor(np.full((1, 1, 2, 2, 2), 3.0))
    np.testing.assert_allclose(F.lp_pool3d(x, 2, 2).numpy().ravel(), [np.sqrt(8 * 9.0)])


def test_channel_shuffle():
    x = RNG.standard_normal((2, 6, 3, 2))
    _cmp(lambda a: TF.channel_shuffle(a, 3), lambda a: F.channel_shuffle(a, 3), x)
    # PyTorch's native_channel_shuffle has no derivative: values only
    np.testing.assert_array_equal(F.native_channel_shuffle(gk.tensor(x), 2).numpy(),
                                  TF.native_channel_shuffle(torch.tensor(x), 2).numpy())
    assert repr(gk.nn.ChannelShuffle(3)) == repr(torch.nn.ChannelShuffle(3)) == "ChannelShuffle(groups=3)"
    # channels [0..5] in 3 groups of 2 -> [0, 2, 4, 1, 3, 5]
    y = gk.nn.ChannelShuffle(3)(gk.arange(6.0).reshape(1, 6, 1))
    np.testing.assert_array_equal(y.numpy().ravel(), [0, 2, 4, 1, 3, 5])
    with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups. Got 6 channels"):
        F.channel_shuffle(gk.tensor(x), 4)
    with pytest.raises(RuntimeError, match="channel_shuffle expects input with > 2 dims"):
        F.channel_shuffle(gk.tensor(x[0, 0]), 2)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_margin_with_distance_loss(swap, reduction):
    a, p, n = (RNG.standard_normal((5, 4)) for _ in range(3))
    kw = dict(swap=swap, reduction=reduction)
    _cmp(lambda x, y, z: TF.triplet_margin_with_distance_loss(x, y, z, **kw),
         lambda x, y, z: F.triplet_margin_with_distance_loss(x, y, z, **kw), a, p, n)

    def cos_t(u, v):
        return 1.0 - TF.cosine_similarity(u, v)

    def cos_g(u, v):
        return 1.0 - F.cosine_similarity(u, v)

    m_t = torch.nn.TripletMarginWithDistanceLoss(distance_function=cos_t, margin=0.7, swap=swap,
                                                 reduction=reduction)
    m_g = gk.nn.TripletMarginWithDistanceLoss(distance_function=cos_g, margin=0.7, swap=swap,
                                              reduction=reduction)
    _cmp(m_t, m_g, a, p, n)
    assert repr(gk.nn.TripletMarginWithDistanceLoss()) == repr(torch.nn.TripletMarginWithDistanceLoss())
    _cmp(torch.nn.TripletMarginWithDistanceLoss(distance_function=torch.nn.PairwiseDistance(1.0)),
         gk.nn.TripletMarginWithDistanceLoss(distance_function=gk.nn.PairwiseDistance(1.0)), a, p, n)


def test_triplet_margin_with_distance_errors():
    a = gk.randn(3, 4)
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got 0 instead"):
        gk.nn.TripletMarginWithDistanceLoss(margin=0)
    with pytest.raises(ValueError, match="margin must be greater than 0, got -1"):
        F.triplet_margin_with_distance_loss(a, a, a, margin=-1)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D inputs"):
        F.triplet_margin_with_distance_loss(a, a, a[0])
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.triplet_margin_with_distance_loss(a, a, a, reduction="bad")


@pytest.mark.parametrize("name,shape,args", [
    ("max_pool1d_with_indices", (2, 3, 7), (3, 2)),
    ("max_pool2d_with_indices", (2, 3, 6, 5), (2,)),
    ("max_pool3d_with_indices", (1, 2, 4, 4, 4), (2,)),
    ("adaptive_max_pool1d_with_indices", (2, 3, 7), (3,)),
    ("adaptive_max_pool2d_with_indices", (2, 3, 6, 5), ((2, 3),)),
    ("adaptive_max_pool3d_with_indices", (1, 2, 4, 5, 3), ((2, 2, 2),)),
])
def test_with_indices_forms_return_pairs(name, shape, args):
    x = RNG.standard_normal(shape)
    vt, it = getattr(TF, name)(torch.tensor(x), *args)
    vg, ig = getattr(F, name)(gk.tensor(x), *args)
    np.testing.assert_allclose(vg.numpy(), vt.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(ig.numpy(), it.numpy())
    _cmp(lambda a: getattr(TF, name)(a, *args)[0], lambda a: getattr(F, name)(a, *args)[0], x)


@pytest.mark.parametrize("nd,shape,kernel,kw", [
    (2, (2, 3, 9, 8), (2, 3), dict(output_size=(4, 5))),
    (2, (3, 9, 8), 2, dict(output_ratio=(0.5, 0.5))),
    (3, (2, 2, 6, 7, 6), (2, 3, 2), dict(output_size=(4, 4, 4))),
    (3, (2, 6, 7, 6), 2, dict(output_ratio=(0.5, 0.5, 0.5))),
])
def test_fractional_max_pool_with_fixed_samples(nd, shape, kernel, kw):
    x = RNG.standard_normal(shape)
    u = RNG.random((shape[0] if len(shape) == nd + 2 else 1, shape[-nd - 1], nd))
    name = f"fractional_max_pool{nd}d"
    vt, it = getattr(TF, name)(torch.tensor(x), kernel, return_indices=True,
                               _random_samples=torch.tensor(u), **kw)
    vg, ig = getattr(F, name)(gk.tensor(x), kernel, return_indices=True, _random_samples=gk.tensor(u), **kw)
    np.testing.assert_array_equal(vg.numpy(), vt.numpy())
    np.testing.assert_array_equal(ig.numpy(), it.numpy())
    _cmp(lambda a: getattr(TF, name)(a, kernel, _random_samples=torch.tensor(u), **kw),
         lambda a: getattr(F, name)(a, kernel, _random_samples=gk.tensor(u), **kw), x)
    cls = f"FractionalMaxPool{nd}d"
    m_t = getattr(torch.nn, cls)(kernel, _random_samples=torch.tensor(u), **kw)
    m_g = getattr(gk.nn, cls)(kernel, _random_samples=gk.tensor(u), **kw)
    assert repr(m_t) == repr(m_g) and list(m_t.state_dict()) == list(m_g.state_dict())
    _cmp(m_t, m_g, x)


def test_fractional_max_pool_random_windows_and_errors():
    x = gk.randn(2, 3, 10, 10)
    out, idx = F.fractional_max_pool2d(x, 3, output_size=4, return_indices=True)
    assert tuple(out.shape) == (2, 3, 4, 4)
    # every output is the input at its index, and the max of a 3x3 window starting at or before it
    flat = x.numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), 2).ravel(),
                                  out.numpy().ravel())
    with pytest.raises(ValueError, match="requires specifying either an output size, or a pooling ratio"):
        gk.nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match=r"output_ratio must be between 0 and 1 \(got 1.5\)"):
        gk.nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio may be specified"):
        gk.nn.FractionalMaxPool2d(2, output_size=2, output_ratio=0.5)
    with pytest.raises(RuntimeError, match=r"fractional_max_pool2d\(\): pool height 2 too large"):
        F.fractional_max_pool2d(gk.randn(1, 2, 3, 3), 2, output_size=3)


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_with_loss(head_bias):
    torch.manual_seed(0)
    m_t = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 9, 15], div_value=2.0, head_bias=head_bias).double()
    m_g = gk.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 9, 15], div_value=2.0, head_bias=head_bias,
                                           dtype=gk.float64)
    assert list(m_t.state_dict()) == list(m_g.state_dict())
    assert repr(m_t) == repr(m_g)
    m_g.load_state_dict({k: gk.tensor(v.detach().numpy()) for k, v in m_t.state_dict().items()})
    x = RNG.standard_normal((7, 16))
    target = np.array([0, 19, 5, 3, 12, 9, 15])
    _cmp(lambda a: m_t(a, torch.tensor(target)).output, lambda a: m_g(a, gk.tensor(target)).output, x)
    _cmp(lambda a: m_t(a, torch.tensor(target)).loss, lambda a: m_g(a, gk.tensor(target)).loss, x)
    pt = dict(m_t.named_parameters())
    for n, p in m_g.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), pt[n].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=n)
    _cmp(m_t.log_prob, m_g.log_prob, x)
    lp = m_g.log_prob(gk.tensor(x)).detach().numpy()
    np.testing.assert_allclose(np.exp(lp).sum(1), np.ones(7), rtol=1e-12)     # a distribution per row
    np.testing.assert_array_equal(m_g.predict(gk.tensor(x)).numpy(), m_t.predict(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(m_g.predict(gk.tensor(x)).numpy(), lp.argmax(1))
    out = m_g(gk.tensor(x[0]), gk.tensor(12))
    np.testing.assert_allclose(out.output.item(), lp[0, 12], rtol=1e-12)
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 19\], but values in range"):
        m_g(gk.tensor(x[:2]), gk.tensor([1, 20]))
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique, positive integers"):
        gk.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 4])


def test_adaptive_log_softmax_empty_batch():
    # an empty batch gives an empty output and the mean of no losses, NaN (as PyTorch); it
    # raised NumPy's "need at least one array to concatenate"
    m = gk.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 12]).double()
    x = gk.zeros(0, 8, dtype=gk.float64, requires_grad=True)
    out = m(x, gk.zeros(0, dtype=gk.int64))
    assert tuple(out.output.shape) == (0,) and out.output.dtype == gk.float64
    assert np.isnan(out.loss.item())
    out.loss.backward()
    assert tuple(x.grad.shape) == (0, 8)
