"""Oracle tests against live PyTorch: more optimizers, functional ops and layers."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

import gradkit as gk  # noqa: E402
import gradkit.nn.functional as GF  # noqa: E402

RNG = np.random.default_rng(1234)


def _cmp(fn_t, fn_g, *arrs, tol=1e-8, grad=True):
    ts = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrs]
    gs = [gk.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrs]
    ot, og = fn_t(*ts), fn_g(*gs)
    assert tuple(ot.shape) == tuple(og.shape)
    assert str(ot.dtype).split(".")[-1] == str(og.dtype).split(".")[-1]
    np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), rtol=tol, atol=tol)
    if grad:
        c = RNG.standard_normal(tuple(ot.shape))
        tin = [t for t in ts if t.requires_grad]
        gin = [t for t in gs if t.requires_grad]
        gt = torch.autograd.grad((ot * torch.tensor(c)).sum(), tin, allow_unused=True)
        gg = gk.autograd.grad((og * gk.tensor(c)).sum(), gin, allow_unused=True)
        for a, b in zip(gt, gg):
            if a is not None:
                np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=tol, atol=tol)


# --- optimizers -------------------------------------------------------------------------
OPTIM_CASES = [
    ("NAdam", {}),
    ("NAdam", dict(weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", {}),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(betas=(0.5, 0.6), weight_decay=0.1, maximize=True)),
    ("Adamax", {}),
    ("Adamax", dict(weight_decay=0.1, maximize=True)),
    ("Adadelta", {}),
    ("Adadelta", dict(weight_decay=0.1, rho=0.5, maximize=True)),
    ("Rprop", {}),
    ("Rprop", dict(etas=(0.3, 1.5), step_sizes=(1e-3, 0.05), maximize=True)),
    ("ASGD", {}),
    ("ASGD", dict(t0=2, lambd=0.1, weight_decay=0.1, maximize=True)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", OPTIM_CASES)
def test_optimizer_matches_torch(name, kw, dtype):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4)).astype(dtype)
    tw, gw = torch.tensor(w0.copy(), requires_grad=True), gk.tensor(w0.copy(), requires_grad=True)
    to, go = getattr(torch.optim, name)([tw], **kw), getattr(gk.optim, name)([gw], **kw)
    assert {k: v for k, v in to.defaults.items()} == go.defaults
    for i in range(8):
        c = rng.standard_normal((3, 4)).astype(dtype)
        to.zero_grad()
        ((tw**3) * torch.tensor(c)).sum().backward()
        to.step()
        go.zero_grad()
        ((gw**3) * gk.tensor(c)).sum().backward()
        go.step()
        if i == 3:  # state_dict round trip mid-run
            sd = go.state_dict()
            go = getattr(gk.optim, name)([gw], **kw)
            go.load_state_dict(sd)
            assert set(sd["state"][0]) == set(to.state_dict()["state"][0])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(gw.detach().numpy(), tw.detach().numpy(), rtol=tol, atol=tol)
    for key, val in to.state_dict()["state"][0].items():
        np.testing.assert_allclose(
            np.asarray(go.state[gw][key].numpy(), dtype=np.float64),
            val.numpy().astype(np.float64),
            rtol=1e-5,
            atol=1e-6,
        )


@pytest.mark.parametrize(
    "name,kw",
    [
        ("NAdam", dict(lr=-1)),
        ("NAdam", dict(momentum_decay=-1)),
        ("RAdam", dict(betas=(1.0, 0.9))),
        ("Adamax", dict(eps=-1)),
        ("Adadelta", dict(rho=1.5)),
        ("Rprop", dict(etas=(1.2, 0.5))),
        ("ASGD", dict(weight_decay=-1)),
    ],
)
def test_optimizer_bad_args(name, kw):
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kw)
    with pytest.raises(ValueError):
        getattr(gk.optim, name)([gk.zeros(1, requires_grad=True)], **kw)


# --- functional -------------------------------------------------------------------------
def test_rms_norm():
    x = RNG.standard_normal((2, 3, 5, 7))
    _cmp(
        lambda a, w: TF.rms_norm(a, (7,), w), lambda a, w: GF.rms_norm(a, (7,), w), x, RNG.standard_normal(7)
    )
    _cmp(lambda a: TF.rms_norm(a, [5, 7], eps=1e-3), lambda a: GF.rms_norm(a, [5, 7], eps=1e-3), x)
    _cmp(lambda a: TF.rms_norm(a, [7]), lambda a: GF.rms_norm(a, [7]), x.astype(np.float32), tol=1e-5)
    m_t, m_g = torch.nn.RMSNorm([5, 7]), gk.nn.RMSNorm([5, 7])
    assert list(m_t.state_dict()) == list(m_g.state_dict())
    _cmp(lambda a: m_t(a), lambda a: m_g(a), x.astype(np.float32), tol=1e-5)
    with pytest.raises(RuntimeError):
        GF.rms_norm(gk.tensor(x), (4,))


def test_pixel_shuffle_unshuffle():
    _cmp(
        lambda a: TF.pixel_shuffle(a, 2), lambda a: GF.pixel_shuffle(a, 2), RNG.standard_normal((2, 8, 3, 4))
    )
    _cmp(
        lambda a: TF.pixel_unshuffle(a, 2),
        lambda a: GF.pixel_unshuffle(a, 2),
        RNG.standard_normal((2, 2, 4, 6)),
    )
    _cmp(
        lambda a: torch.nn.PixelShuffle(3)(a),
        lambda a: gk.nn.PixelShuffle(3)(a),
        RNG.standard_normal((9, 2, 2)),
    )
    _cmp(
        lambda a: torch.nn.PixelUnshuffle(2)(a),
        lambda a: gk.nn.PixelUnshuffle(2)(a),
        RNG.standard_normal((1, 2, 3, 4, 2)),
    )
    with pytest.raises(RuntimeError):
        GF.pixel_shuffle(gk.ones(1, 3, 2, 2), 2)
    with pytest.raises(RuntimeError):
        GF.pixel_unshuffle(gk.ones(1, 3, 3, 2), 2)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf"), 0.0])
def test_pdist(p):
    x = RNG.standard_normal((5, 4))
    x[3] = x[1]  # a zero distance: gradient 0 there, as torch
    _cmp(lambda a: TF.pdist(a, p), lambda a: GF.pdist(a, p), x)


INTERP = [
    (m, kw)
    for m in ["nearest", "nearest-exact", "bilinear", "bicubic"]
    for kw in [
        dict(size=(4, 11)),
        dict(scale_factor=1.7),
        dict(scale_factor=(0.6, 2.3)),
        dict(scale_factor=1.7, recompute_scale_factor=True),
    ]
    + (
        [
            dict(size=(9, 3), align_corners=True),
            dict(scale_factor=2.5, align_corners=True),
            dict(size=(9, 3), align_corners=False),
        ]
        if "ear" not in m
        else []
    )
]


@pytest.mark.parametrize("mode,kw", INTERP)
def test_interpolate_2d(mode, kw):
    x = RNG.standard_normal((2, 3, 5, 7))
    _cmp(
        lambda a: TF.interpolate(a, mode=mode, **kw),
        lambda a: GF.interpolate(a, mode=mode, **kw),
        x,
        tol=1e-7,
    )


def test_interpolate_1d_3d_and_modules():
    x3 = RNG.standard_normal((2, 3, 6))
    for kw in [dict(size=10), dict(scale_factor=0.5), dict(size=13, align_corners=True)]:
        _cmp(
            lambda a, kw=kw: TF.interpolate(a, mode="linear", **kw),
            lambda a, kw=kw: GF.interpolate(a, mode="linear", **kw),
            x3,
        )
    _cmp(lambda a: TF.interpolate(a, scale_factor=3), lambda a: GF.interpolate(a, scale_factor=3), x3)
    x5 = RNG.standard_normal((2, 2, 4, 5, 6))
    _cmp(
        lambda a: TF.interpolate(a, scale_factor=(1.5, 0.7, 2), mode="trilinear"),
        lambda a: GF.interpolate(a, scale_factor=(1.5, 0.7, 2), mode="trilinear"),
        x5,
    )
    _cmp(lambda a: TF.interpolate(a, size=(3, 7, 4)), lambda a: GF.interpolate(a, size=(3, 7, 4)), x5)
    x4 = RNG.standard_normal((1, 2, 3, 4)).astype(np.float32)
    _cmp(
        lambda a: torch.nn.Upsample(scale_factor=2, mode="bilinear")(a),
        lambda a: gk.nn.Upsample(scale_factor=2, mode="bilinear")(a),
        x4,
        tol=1e-5,
    )
    _cmp(
        lambda a: torch.nn.UpsamplingBilinear2d(size=(5, 5))(a),
        lambda a: gk.nn.UpsamplingBilinear2d(size=(5, 5))(a),
        x4,
        tol=1e-5,
    )
    _cmp(
        lambda a: torch.nn.UpsamplingNearest2d(scale_factor=2)(a),
        lambda a: gk.nn.UpsamplingNearest2d(scale_factor=2)(a),
        x4,
        tol=1e-6,
    )


def test_interpolate_double_backward():
    x = RNG.standard_normal((1, 1, 3, 4))
    t = torch.tensor(x, requires_grad=True)
    g = gk.tensor(x, requires_grad=True)
    (gt,) = torch.autograd.grad(
        (TF.interpolate(t, scale_factor=2, mode="bicubic") ** 2).sum(), t, create_graph=True
    )
    (gg,) = gk.autograd.grad(
        (GF.interpolate(g, scale_factor=2, mode="bicubic") ** 2).sum(), g, create_graph=True
    )
    (ht,) = torch.autograd.grad(gt.sum(), t)
    (hg,) = gk.autograd.grad(gg.sum(), g)
    np.testing.assert_allclose(hg.numpy(), ht.numpy(), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize(
    "call,exc",
    [
        (lambda F, x: F.interpolate(x, size=3, scale_factor=2), ValueError),
        (lambda F, x: F.interpolate(x), ValueError),
        (lambda F, x: F.interpolate(x, size=3, mode="nearest", align_corners=True), ValueError),
        (lambda F, x: F.interpolate(x, size=3, mode="linear"), NotImplementedError),
    ],
)
def test_interpolate_errors(call, exc):
    with pytest.raises(exc):
        call(TF, torch.ones(1, 1, 2, 2))
    with pytest.raises(exc):
        call(GF, gk.ones(1, 1, 2, 2))


@pytest.mark.parametrize(
    "kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2, padding=1, dilation=(1, 2))]
)
def test_unfold_fold(kw):
    x = RNG.standard_normal((2, 3, 5, 7))
    _cmp(lambda a: TF.unfold(a, **kw), lambda a: GF.unfold(a, **kw), x)
    _cmp(lambda a: torch.nn.Unfold(**kw)(a), lambda a: gk.nn.Unfold(**kw)(a), x[0])
    cols = RNG.standard_normal(tuple(TF.unfold(torch.tensor(x), **kw).shape))
    _cmp(lambda a: TF.fold(a, (5, 7), **kw), lambda a: GF.fold(a, (5, 7), **kw), cols)
    _cmp(lambda a: torch.nn.Fold((5, 7), **kw)(a), lambda a: gk.nn.Fold((5, 7), **kw)(a), cols[1])
    with pytest.raises(RuntimeError):
        GF.fold(gk.tensor(cols), (6, 9), **kw)


def test_scaled_dot_product_attention():
    q, k, v = (RNG.standard_normal(s) for s in [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)])
    sd_t, sd_g = TF.scaled_dot_product_attention, GF.scaled_dot_product_attention
    _cmp(sd_t, sd_g, q, k, v)
    bm = RNG.random((4, 6)) > 0.3
    bm[:, 0] = True
    _cmp(
        lambda a, b, c: sd_t(a, b, c, attn_mask=torch.tensor(bm)),
        lambda a, b, c: sd_g(a, b, c, attn_mask=gk.tensor(bm)),
        q,
        k,
        v,
    )
    _cmp(
        lambda a, b, c, m: sd_t(a, b, c, attn_mask=m, scale=0.3),
        lambda a, b, c, m: sd_g(a, b, c, attn_mask=m, scale=0.3),
        q,
        k,
        v,
        RNG.standard_normal((4, 6)),
    )
    _cmp(
        lambda a, b, c: sd_t(a, b, c, is_causal=True), lambda a, b, c: sd_g(a, b, c, is_causal=True), q, k, v
    )
    kk, vv = RNG.standard_normal((2, 1, 6, 5)), RNG.standard_normal((2, 1, 6, 7))
    _cmp(
        lambda a, b, c: sd_t(a, b, c, enable_gqa=True),
        lambda a, b, c: sd_g(a, b, c, enable_gqa=True),
        q,
        kk,
        vv,
    )


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(stride=(2, 1, 2), padding=1),
        dict(padding=(1, 0, 1), dilation=(2, 1, 1)),
        dict(padding="same"),
    ],
)
def test_conv3d(kw):
    x, w, b = (
        RNG.standard_normal((2, 2, 4, 5, 6)),
        RNG.standard_normal((4, 2, 2, 3, 2)),
        RNG.standard_normal(4),
    )
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _cmp(lambda a, c, d: TF.conv3d(a, c, d, **kw), lambda a, c, d: GF.conv3d(a, c, d, **kw), x, w, b)
    _cmp(
        lambda a, c: TF.conv3d(a, c, groups=2),
        lambda a, c: GF.conv3d(a, c, groups=2),
        x,
        RNG.standard_normal((4, 1, 2, 2, 2)),
    )


def test_conv3d_module_and_pools():
    torch.manual_seed(0)
    m_t = torch.nn.Conv3d(2, 3, (2, 3, 3), stride=(1, 2, 1), padding=1)
    m_g = gk.nn.Conv3d(2, 3, (2, 3, 3), stride=(1, 2, 1), padding=1)
    m_g.load_state_dict({k: gk.tensor(v.detach().numpy()) for k, v in m_t.state_dict().items()})
    x = RNG.standard_normal((2, 2, 4, 5, 6)).astype(np.float32)
    _cmp(lambda a: m_t(a), lambda a: m_g(a), x, tol=1e-5)
    for kw in [
        dict(kernel_size=2),
        dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=1),
        dict(kernel_size=3, stride=2, ceil_mode=True),
        dict(kernel_size=2, dilation=(2, 1, 1)),
    ]:
        _cmp(
            lambda a, kw=kw: TF.max_pool3d(a, **kw),
            lambda a, kw=kw: GF.max_pool3d(a, **kw),
            x.astype(np.float64),
        )
    for kw in [
        dict(kernel_size=2),
        dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=1),
        dict(kernel_size=3, padding=1, count_include_pad=False),
        dict(kernel_size=2, divisor_override=3),
    ]:
        _cmp(
            lambda a, kw=kw: TF.avg_pool3d(a, **kw),
            lambda a, kw=kw: GF.avg_pool3d(a, **kw),
            x.astype(np.float64),
        )
    _cmp(lambda a: torch.nn.MaxPool3d(2)(a), lambda a: gk.nn.MaxPool3d(2)(a), x[0])
    _cmp(lambda a: torch.nn.AvgPool3d(2, 1)(a), lambda a: gk.nn.AvgPool3d(2, 1)(a), x, tol=1e-6)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag(mode):
    w = RNG.standard_normal((10, 3))
    idx, off = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0]), np.array([0, 2, 2, 5])
    _cmp(
        lambda a: TF.embedding_bag(torch.tensor(idx), a, torch.tensor(off), mode=mode),
        lambda a: GF.embedding_bag(gk.tensor(idx), a, gk.tensor(off), mode=mode),
        w,
    )
    _cmp(
        lambda a: TF.embedding_bag(torch.tensor(idx.reshape(2, 5)), a, mode=mode, padding_idx=4),
        lambda a: GF.embedding_bag(gk.tensor(idx.reshape(2, 5)), a, mode=mode, padding_idx=4),
        w,
    )
    off2 = np.array([0, 2, 2, 5, 10])
    _cmp(
        lambda a: TF.embedding_bag(
            torch.tensor(idx), a, torch.tensor(off2), mode=mode, include_last_offset=True
        ),
        lambda a: GF.embedding_bag(gk.tensor(idx), a, gk.tensor(off2), mode=mode, include_last_offset=True),
        w,
    )


def test_embedding_bag_weights_and_module():
    w, psw = RNG.standard_normal((10, 3)), RNG.standard_normal(10)
    idx, off = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0]), np.array([0, 2, 2, 5])
    _cmp(
        lambda a, p: TF.embedding_bag(
            torch.tensor(idx), a, torch.tensor(off), mode="sum", per_sample_weights=p
        ),
        lambda a, p: GF.embedding_bag(gk.tensor(idx), a, gk.tensor(off), mode="sum", per_sample_weights=p),
        w,
        psw,
    )
    with pytest.raises(NotImplementedError):
        TF.embedding_bag(
            torch.tensor(idx), torch.tensor(w), torch.tensor(off), per_sample_weights=torch.tensor(psw)
        )
    with pytest.raises(NotImplementedError):
        GF.embedding_bag(gk.tensor(idx), gk.tensor(w), gk.tensor(off), per_sample_weights=gk.tensor(psw))
    with pytest.raises(ValueError):
        GF.embedding_bag(gk.tensor(idx), gk.tensor(w))
    m_t, m_g = torch.nn.EmbeddingBag(10, 3, mode="max"), gk.nn.EmbeddingBag(10, 3, mode="max")
    assert list(m_t.state_dict()) == list(m_g.state_dict())
    m_g.weight.data = gk.tensor(m_t.weight.detach().numpy())
    np.testing.assert_allclose(
        m_g(gk.tensor(idx), gk.tensor(off)).detach().numpy(),
        m_t(torch.tensor(idx), torch.tensor(off)).detach().numpy(),
        rtol=1e-6,
    )


# --- dropouts ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,shape",
    [
        ("dropout1d", (40, 30, 5)),
        ("dropout2d", (40, 30, 2, 3)),
        ("dropout3d", (40, 30, 2, 2, 2)),
        ("feature_alpha_dropout", (40, 30, 2, 3)),
        ("alpha_dropout", (40, 30, 6)),
    ],
)
def test_dropout_variants(name, shape):
    x = RNG.standard_normal(shape) + 1.0
    fg, ft = getattr(GF, name), getattr(TF, name)
    # eval: exact identity, as torch
    assert np.array_equal(
        fg(gk.tensor(x), 0.3, training=False).numpy(), ft(torch.tensor(x), 0.3, training=False).numpy()
    )
    gk.manual_seed(0)
    out = fg(gk.tensor(x), 0.3, training=True).numpy()
    ref = ft(torch.tensor(x), 0.3, training=True).numpy()
    alpha, q = 1.7580993408473766, 0.3
    const = -alpha * ((1 - q) * (1 + q * alpha**2)) ** -0.5 * (1 - q)  # where dropped
    if name == "alpha_dropout":
        dropped = np.isclose(out, const)
        ref_dropped = np.isclose(ref, const)
    else:
        # per-channel mask: each (sample, channel) slab entirely kept or entirely dropped
        slab = out.reshape(shape[0], shape[1], -1)
        if "alpha" in name:
            dropped = np.isclose(slab, const).all(-1)
            assert np.all(dropped | ~np.isclose(slab, const).any(-1))
            assert np.isclose(ref.reshape(slab.shape), const).all(-1).mean() > 0.15
        else:
            dropped = (slab == 0).all(-1)
            assert np.all(dropped | (slab != 0).all(-1))
            np.testing.assert_allclose(slab[~dropped], (x.reshape(slab.shape) / 0.7)[~dropped])
            assert ((ref.reshape(slab.shape) == 0).all(-1)).mean() > 0.15
        ref_dropped = None
    assert abs(dropped.mean() - 0.3) < 0.06
    if ref_dropped is not None:
        assert abs(ref_dropped.mean() - 0.3) < 0.06
        # alpha dropout keeps a standard normal input's mean and variance
        z = RNG.standard_normal((200, 200))
        gk.manual_seed(1)
        o = GF.alpha_dropout(gk.tensor(z), 0.3, True).numpy()
        assert abs(o.mean()) < 0.05 and abs(o.var() - 1) < 0.05
    with pytest.raises(ValueError):
        fg(gk.tensor(x), 1.5, training=True)
    with pytest.raises(ValueError):
        ft(torch.tensor(x), 1.5, training=True)


def test_dropout_modules_and_grad():
    x = RNG.standard_normal((8, 5, 4, 4))
    for cls in ["Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]:
        m_t, m_g = getattr(torch.nn, cls)(0.4), getattr(gk.nn, cls)(0.4)
        assert repr(m_t) == repr(m_g)
        m_t.eval()
        m_g.eval()
        inp = x if cls not in ("Dropout1d",) else x[:, :, 0]
        inp = inp if cls != "Dropout3d" else x[..., None]
        assert np.array_equal(m_g(gk.tensor(inp)).numpy(), m_t(torch.tensor(inp)).numpy())
    g = gk.tensor(x, requires_grad=True)
    gk.manual_seed(3)
    out = GF.dropout2d(g, 0.5)
    out.sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), out.detach().numpy() / x)


# --- layers -----------------------------------------------------------------------------
def _copy(m_t, m_g):
    m_g.load_state_dict({k: gk.tensor(v.detach().numpy()) for k, v in m_t.state_dict().items()})


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(batch_first=True),
        dict(kdim=3, vdim=5),
        dict(bias=False),
        dict(add_bias_kv=True),
        dict(add_zero_attn=True),
    ],
)
def test_multihead_attention(kw):
    torch.manual_seed(0)
    e, h = 8, 2
    m_t, m_g = (
        torch.nn.MultiheadAttention(e, h, **kw).double(),
        gk.nn.MultiheadAttention(e, h, **kw, dtype=gk.float64),
    )
    assert list(m_t.state_dict()) == list(m_g.state_dict())
    assert [n for n, _ in m_t.named_parameters()] == [n for n, _ in m_g.named_parameters()]
    _copy(m_t, m_g)
    bf = kw.get("batch_first", False)
    L, S, N = 4, 6, 3
    q = RNG.standard_normal((N, L, e) if bf else (L, N, e))
    k = RNG.standard_normal((N, S, kw.get("kdim", e)) if bf else (S, N, kw.get("kdim", e)))
    v = RNG.standard_normal((N, S, kw.get("vdim", e)) if bf else (S, N, kw.get("vdim", e)))
    kpm = RNG.random((N, S)) > 0.7
    kpm[:, 0] = False
    am = RNG.standard_normal((L, S))
    for extra in [
        dict(),
        dict(key_padding_mask=kpm),
        dict(attn_mask=am, average_attn_weights=False),
        dict(attn_mask=am > 1.0, key_padding_mask=kpm, need_weights=False),
    ]:

        def run(mod, lib, a, b, c, extra=extra):
            ex = {n: lib.tensor(val) for n, val in extra.items() if isinstance(val, np.ndarray)}
            ex.update({n: val for n, val in extra.items() if not isinstance(val, np.ndarray)})
            out, w = mod(a, b, c, **ex)
            return out if w is None else lib.cat([out.reshape(-1), w.reshape(-1)])

        _cmp(lambda a, b, c: run(m_t, torch, a, b, c), lambda a, b, c: run(m_g, gk, a, b, c), q, k, v)
    pt = dict(m_t.named_parameters())
    out_t, _ = m_t(*(torch.tensor(a) for a in (q, k, v)))
    out_g, _ = m_g(*(gk.tensor(a) for a in (q, k, v)))
    out_t.sum().backward()
    out_g.sum().backward()
    for n, p in m_g.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), pt[n].grad.numpy(), rtol=1e-8, atol=1e-8)


def test_multihead_attention_unbatched_and_errors():
    torch.manual_seed(0)
    m_t, m_g = torch.nn.MultiheadAttention(6, 3).double(), gk.nn.MultiheadAttention(6, 3, dtype=gk.float64)
    _copy(m_t, m_g)
    q = RNG.standard_normal((4, 6))
    _cmp(lambda a: m_t(a, a, a)[0], lambda a: m_g(a, a, a)[0], q)
    _cmp(lambda a: m_t(a, a, a)[1], lambda a: m_g(a, a, a)[1], q)
    with pytest.raises(AssertionError):
        torch.nn.MultiheadAttention(7, 2)
    with pytest.raises(AssertionError):
        gk.nn.MultiheadAttention(7, 2)


@pytest.mark.parametrize(
    "cls,kw",
    [
        ("RNNCell", {}),
        ("RNNCell", dict(nonlinearity="relu", bias=False)),
        ("LSTMCell", {}),
        ("GRUCell", {}),
        ("GRUCell", dict(bias=False)),
    ],
)
def test_rnn_cells(cls, kw):
    torch.manual_seed(0)
    m_t, m_g = getattr(torch.nn, cls)(3, 4, **kw).double(), getattr(gk.nn, cls)(3, 4, **kw, dtype=gk.float64)
    assert list(m_t.state_dict()) == list(m_g.state_dict())
    assert repr(m_t) == repr(m_g)
    _copy(m_t, m_g)
    x, h = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 4))
    if cls == "LSTMCell":
        c = RNG.standard_normal((5, 4))
        _cmp(lambda a, b, d: torch.cat(m_t(a, (b, d)), 1), lambda a, b, d: gk.cat(m_g(a, (b, d)), 1), x, h, c)
        _cmp(lambda a: torch.cat(m_t(a), 0), lambda a: gk.cat(m_g(a), 0), x[0])
    else:
        _cmp(lambda a, b: m_t(a, b), lambda a, b: m_g(a, b), x, h)
        _cmp(lambda a: m_t(a), lambda a: m_g(a), x[0])
    out_t = m_t(torch.tensor(x))
    out_g = m_g(gk.tensor(x))
    (out_t[0] if cls == "LSTMCell" else out_t).sum().backward()
    (out_g[0] if cls == "LSTMCell" else out_g).sum().backward()
    pt = dict(m_t.named_parameters())
    for n, p in m_g.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), pt[n].grad.numpy(), rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError):
        m_g(gk.ones(2, 2, 3))


def test_batchnorm3d_softmax2d_parameter_containers():
    torch.manual_seed(0)
    x = RNG.standard_normal((3, 2, 3, 4, 2)).astype(np.float32)
    b_t, b_g = torch.nn.BatchNorm3d(2), gk.nn.BatchNorm3d(2)
    assert list(b_t.state_dict()) == list(b_g.state_dict())
    _cmp(lambda a: b_t(a), lambda a: b_g(a), x, tol=1e-5)
    np.testing.assert_allclose(b_g.running_var.numpy(), b_t.running_var.numpy(), rtol=1e-5)
    b_t.eval()
    b_g.eval()
    _cmp(lambda a: b_t(a), lambda a: b_g(a), x, tol=1e-5)
    with pytest.raises(ValueError):
        b_g(gk.ones(2, 2, 2))
    _cmp(lambda a: torch.nn.Softmax2d()(a), lambda a: gk.nn.Softmax2d()(a), RNG.standard_normal((2, 3, 2, 2)))
    pl_t = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.zeros(3))])
    pl_g = gk.nn.ParameterList([gk.nn.Parameter(gk.ones(2)), gk.nn.Parameter(gk.zeros(3))])
    pl_t.append(torch.nn.Parameter(torch.ones(1)))
    pl_g.append(gk.nn.Parameter(gk.ones(1)))
    assert list(pl_t.state_dict()) == list(pl_g.state_dict()) and len(pl_g) == 3
    assert [tuple(p.shape) for p in pl_g] == [tuple(p.shape) for p in pl_t]
    pd_t = torch.nn.ParameterDict(
        {"b": torch.nn.Parameter(torch.ones(2)), "a": torch.nn.Parameter(torch.ones(1))}
    )
    pd_g = gk.nn.ParameterDict({"b": gk.nn.Parameter(gk.ones(2)), "a": gk.nn.Parameter(gk.ones(1))})
    assert list(pd_t.state_dict()) == list(pd_g.state_dict()) and list(pd_t.keys()) == list(pd_g.keys())
    seq_g = gk.nn.Sequential(gk.nn.Flatten(), gk.nn.Unflatten(1, (2, 3)), gk.nn.Identity())
    assert tuple(seq_g(gk.ones(4, 6)).shape) == (4, 2, 3)
