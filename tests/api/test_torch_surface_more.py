"""More PyTorch names (issue #17): legacy linalg, the ``*_scatter`` and ``*_copy`` functions,
``empty_strided``, ``frombuffer`` and DLPack; checked against a live PyTorch (importorskip) and
against finite differences for gradients."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy()


# --- legacy linalg -------------------------------------------------------------------------
def test_legacy_factorizations_match_torch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 4, 4))
    spd = a @ a.transpose(0, 2, 1) + 4 * np.eye(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for some in (True, False):
            q, r = gk.qr(gk.tensor(a[0]), some)
            tq, tr = torch.qr(torch.tensor(a[0]), some)
            np.testing.assert_allclose(_np(q), tq.numpy(), atol=1e-12)
            np.testing.assert_allclose(_np(r), tr.numpy(), atol=1e-12)
        assert type(gk.qr(gk.tensor(a[0]))).__name__ == "qr"
        lu, piv = gk.lu(gk.tensor(a))
        tlu, tpiv = torch.lu(torch.tensor(a))
        np.testing.assert_allclose(_np(lu), tlu.numpy(), atol=1e-12)
        np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
        assert piv.dtype == gk.int32
        assert len(gk.lu(gk.tensor(a), get_infos=True)) == 3
        p, lo, up = gk.lu_unpack(lu, piv)
        tp, tlo, tup = torch.lu_unpack(tlu, tpiv)
        for mine, theirs in ((p, tp), (lo, tlo), (up, tup)):
            np.testing.assert_allclose(_np(mine), theirs.numpy(), atol=1e-12)
        np.testing.assert_allclose(_np(p @ lo @ up), a, atol=1e-12)
        b = rng.standard_normal((2, 4, 1))
        np.testing.assert_allclose(_np(gk.lu_solve(gk.tensor(b), lu, piv)),
                                   torch.lu_solve(torch.tensor(b), tlu, tpiv).numpy(), atol=1e-12)
        for upper in (False, True):
            c = gk.cholesky(gk.tensor(spd), upper)
            np.testing.assert_allclose(_np(c), torch.cholesky(torch.tensor(spd), upper).numpy(),
                                       atol=1e-12)
            np.testing.assert_allclose(_np(gk.cholesky_inverse(c, upper)), np.linalg.inv(spd),
                                       atol=1e-12)
        np.testing.assert_allclose(_np(gk.tensor(a[0]).lu()[0]), tlu.numpy()[0], atol=1e-12)
        np.testing.assert_allclose(_np(gk.tensor(spd[0]).cholesky()),
                                   np.linalg.cholesky(spd[0]), atol=1e-12)
    with pytest.warns(UserWarning, match="torch.qr is deprecated in favor of torch.linalg.qr"):
        gk.qr(gk.tensor(a[0]))


def test_lu_unpack_gradient_matches_finite_differences():
    a = np.random.default_rng(1).standard_normal((3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lu, piv = gk.lu(gk.tensor(a))
    x = gk.tensor(_np(lu), requires_grad=True)
    w = np.arange(9.0).reshape(3, 3)
    _, lo, up = gk.lu_unpack(x, piv)
    ((lo + up * 2) * gk.tensor(w)).sum().backward()
    # L takes the strict lower part (plus a constant I), U the upper part: d/dx is w below the
    # diagonal and 2w on and above it
    expect = np.where(np.tril(np.ones((3, 3)), -1) > 0, w, 2 * w)
    np.testing.assert_allclose(_np(x.grad), expect)


@pytest.mark.parametrize("name,args", [("eig", 1), ("symeig", 1), ("matrix_rank", 1),
                                       ("lstsq", 2), ("solve", 2)])
def test_removed_functions_raise_torchs_errors(name, args):
    a = np.eye(3)
    with pytest.raises(RuntimeError) as mine:
        getattr(gk, name)(*[gk.tensor(a)] * args)
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch, name)(*[torch.tensor(a)] * args)
    assert str(mine.value) == str(theirs.value)
    if name != "matrix_rank":
        with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now removed"):
            getattr(gk.tensor(a), name)(*[gk.tensor(a)] * (args - 1))


# --- scatters and copies -------------------------------------------------------------------
def test_scatters_values_and_gradients_match_torch():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 5))
    w = rng.standard_normal((4, 5))
    cases = [("select_scatter", (5,), (0, 1)), ("slice_scatter", (4, 2), (1, 1, None, 2)),
             ("diagonal_scatter", (4,), (1,)), ("slice_scatter", (2, 5), (0, 2))]
    for name, src_shape, args in cases:
        s = rng.standard_normal(src_shape)
        x, sx = gk.tensor(a, requires_grad=True), gk.tensor(s, requires_grad=True)
        tx, tsx = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
        y, ty = getattr(gk, name)(x, sx, *args), getattr(torch, name)(tx, tsx, *args)
        np.testing.assert_array_equal(_np(y), ty.detach().numpy())
        (y * gk.tensor(w)).sum().backward()
        (ty * torch.tensor(w)).sum().backward()
        np.testing.assert_array_equal(_np(x.grad), tx.grad.numpy())
        np.testing.assert_array_equal(_np(sx.grad), tsx.grad.numpy())
        np.testing.assert_array_equal(a, _np(x))                 # input unchanged
    with pytest.raises(RuntimeError) as mine:
        gk.select_scatter(gk.zeros(3, 4), gk.ones(3), 0, 1)
    with pytest.raises(RuntimeError) as theirs:
        torch.select_scatter(torch.zeros(3, 4), torch.ones(3), 0, 1)
    assert str(mine.value) == str(theirs.value)
    np.testing.assert_array_equal(_np(gk.zeros(3, 3).diagonal_scatter(gk.ones(3))), np.eye(3))


def test_copy_variants_are_copies_with_the_views_values():
    a = np.arange(24.0).reshape(2, 3, 4)
    x, tx = gk.tensor(a), torch.tensor(a)
    cases = [("view_copy", ((6, 4),)), ("permute_copy", ((2, 0, 1),)), ("expand_copy", ((3, 2, 3, 4),)),
             ("transpose_copy", (0, 2)), ("unsqueeze_copy", (1,)), ("squeeze_copy", ()),
             ("select_copy", (1, 2)), ("slice_copy", (2, 1, 3)), ("diagonal_copy", (0, 1, 2)),
             ("detach_copy", ()), ("alias_copy", ()), ("as_strided_copy", ((2, 2), (1, 2))),
             ("unfold_copy", (2, 2, 1))]
    for name, args in cases:
        y, ty = getattr(gk, name)(x, *args), getattr(torch, name)(tx, *args)
        np.testing.assert_array_equal(_np(y), ty.numpy(), err_msg=name)
        assert y.data_ptr() != x.data_ptr()
    for name, args in (("split_copy", (2, 2)), ("unbind_copy", (1,)),
                       ("split_with_sizes_copy", ([1, 3], 2))):
        ys, tys = getattr(gk, name)(x, *args), getattr(torch, name)(tx, *args)
        assert len(ys) == len(tys)
        for y, ty in zip(ys, tys):
            np.testing.assert_array_equal(_np(y), ty.numpy())
    np.testing.assert_array_equal(_np(gk.t_copy(gk.tensor(a[0]))), a[0].T)
    g = gk.tensor(a, requires_grad=True)
    gk.permute_copy(g, (2, 1, 0)).sum().backward()
    np.testing.assert_array_equal(_np(g.grad), np.ones_like(a))


# --- memory from outside -------------------------------------------------------------------
def test_empty_strided_frombuffer_dlpack():
    e, te = gk.empty_strided((2, 3), (1, 2)), torch.empty_strided((2, 3), (1, 2))
    assert e.stride() == te.stride() and e.shape == te.shape
    with pytest.raises(RuntimeError, match="must match dimensionality of strides"):
        gk.empty_strided((2, 3), (1,))
    buf = bytearray(np.arange(4, dtype=np.float32).tobytes())
    t = gk.frombuffer(buf, dtype=gk.float32)
    t[0] = 9.0
    np.testing.assert_array_equal(np.frombuffer(buf, dtype=np.float32), [9, 1, 2, 3])
    np.testing.assert_array_equal(_np(gk.frombuffer(buf, dtype=gk.float32, count=2, offset=4)),
                                  torch.frombuffer(buf, dtype=torch.float32, count=2, offset=4))
    for kw in (dict(count=5), dict(offset=20), dict(count=0)):
        with pytest.raises(ValueError) as mine:
            gk.frombuffer(buf, dtype=gk.float32, **kw)
        with pytest.raises(ValueError) as theirs:
            torch.frombuffer(buf, dtype=torch.float32, **kw)
        assert str(mine.value) == str(theirs.value)
    with pytest.warns(UserWarning, match="not writable"):
        ro = gk.frombuffer(bytes(8), dtype=gk.float32)
    assert ro.shape == (2,)
    x = gk.arange(6.0).reshape(2, 3)
    tt = torch.from_dlpack(x)
    np.testing.assert_array_equal(tt.numpy(), _np(x))
    tt[0, 0] = 7.0                                  # shared memory
    assert float(x[0, 0]) == 7.0
    back = gk.from_dlpack(torch.arange(3.0))
    np.testing.assert_array_equal(_np(back), [0, 1, 2])
    np.testing.assert_array_equal(_np(gk.from_dlpack(gk.to_dlpack(x))), _np(x))
    with pytest.raises(RuntimeError, match="Can't export tensors that require gradient"):
        gk.ones(2, requires_grad=True).__dlpack__()


# --- stft / istft --------------------------------------------------------------------------
_STFT_CASES = [dict(n_fft=8), dict(n_fft=16, hop_length=3, win_length=10, hann=True),
               dict(n_fft=8, center=False), dict(n_fft=8, pad_mode="constant", normalized=True),
               dict(n_fft=8, onesided=False, hann=True), dict(n_fft=9, hop_length=2, hann=True)]


@pytest.mark.filterwarnings("ignore:A window was not provided")
@pytest.mark.parametrize("shape", [(40,), (2, 37)])
@pytest.mark.parametrize("case", range(len(_STFT_CASES)))
def test_stft_istft_match_torch(shape, case):
    kw = dict(_STFT_CASES[case])
    hann = kw.pop("hann", False)
    n = kw.get("win_length", kw["n_fft"])
    gw = gk.hann_window(n, dtype=gk.float64) if hann else None
    tw = torch.hann_window(n, dtype=torch.float64) if hann else None
    x = np.random.default_rng(case).standard_normal(shape)
    if not hann:                         # PyTorch's advice when no window is given
        with pytest.warns(UserWarning, match="A window was not provided"):
            gk.stft(gk.tensor(x), window=None, return_complex=True, **kw)
    s = gk.stft(gk.tensor(x), window=gw, return_complex=True, **kw)
    ts = torch.stft(torch.tensor(x), window=tw, return_complex=True, **kw)
    assert tuple(s.shape) == tuple(ts.shape) and s.dtype == gk.complex128
    np.testing.assert_allclose(_np(s), ts.numpy(), atol=1e-12)
    real = gk.stft(gk.tensor(x), window=gw, return_complex=False, **kw)
    np.testing.assert_allclose(_np(real), torch.view_as_real(ts).numpy(), atol=1e-12)
    ikw = {k: v for k, v in kw.items() if k != "pad_mode"}
    y, ty = gk.istft(s, window=gw, **ikw), torch.istft(ts, window=tw, **ikw)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(_np(y), ty.numpy(), atol=1e-12)
    if kw.get("center", True):
        np.testing.assert_allclose(_np(y), x[..., :y.shape[-1]], atol=1e-12)   # round trip
    with warnings.catch_warnings(record=True) as mine:
        warnings.simplefilter("always")
        z = gk.istft(s, window=gw, length=x.shape[-1] + 3, **ikw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # PyTorch warns once per process (TORCH_WARN_ONCE)
        tz = torch.istft(ts, window=tw, length=x.shape[-1] + 3, **ikw)
    # the zero-padding warning exactly when the frames end before the requested length
    n_fft, hop = kw["n_fft"], kw.get("hop_length", kw["n_fft"] // 4)
    start = n_fft // 2 if kw.get("center", True) else 0
    padded = start + x.shape[-1] + 3 > n_fft + hop * (ts.shape[-1] - 1)
    assert [str(w.message)[:40] for w in mine if "window" not in str(w.message)] == \
        ["The length of signal is shorter than the"] * padded
    np.testing.assert_allclose(_np(z), tz.numpy(), atol=1e-12)


def test_stft_istft_gradients():
    rng = np.random.default_rng(5)
    w = gk.hann_window(8, dtype=gk.float64)
    x = gk.tensor(rng.standard_normal(30), requires_grad=True)
    assert gk.autograd.gradcheck(
        lambda t: gk.view_as_real(gk.stft(t, 8, window=w, return_complex=True)), (x,))
    s = gk.view_as_real(gk.stft(x.detach(), 8, window=w, return_complex=True)).contiguous()
    s.requires_grad_()
    assert gk.autograd.gradcheck(lambda v: gk.istft(gk.view_as_complex(v), 8, window=w), (s,))
    g = rng.standard_normal(30)
    ts = torch.tensor(_np(s), requires_grad=True)
    (torch.istft(torch.view_as_complex(ts), 8, window=torch.hann_window(8, dtype=torch.float64))
     * torch.tensor(g)).sum().backward()
    (gk.istft(gk.view_as_complex(s), 8, window=w) * gk.tensor(g)).sum().backward()
    np.testing.assert_allclose(_np(s.grad), ts.grad.numpy(), atol=1e-12)


@pytest.mark.filterwarnings("ignore:A window was not provided")
def test_stft_errors():
    x = gk.randn(20)
    with pytest.raises(RuntimeError, match="stft requires the return_complex parameter"):
        gk.stft(x, 8)
    with pytest.raises(RuntimeError, match="expected hop_length > 0, but got hop_length=0"):
        gk.stft(x, 8, hop_length=0, return_complex=True)
    with pytest.raises(RuntimeError, match="expected 0 < win_length <= n_fft, but got win_length=10"):
        gk.stft(x, 8, win_length=10, return_complex=True)
    with pytest.raises(RuntimeError, match="expected a 1D window tensor of size equal to win_length=8"):
        gk.stft(x, 8, window=gk.ones(5), return_complex=True)
    with pytest.raises(RuntimeError, match="expected 0 < n_fft < 20, but got n_fft=30"):
        gk.stft(x, 30, center=False, return_complex=True)
    with pytest.raises(RuntimeError, match="istft requires a complex-valued input tensor"):
        gk.istft(gk.stft(x, 8, return_complex=False), 8)
    with pytest.raises(RuntimeError, match="window overlap add min"):
        gk.istft(gk.stft(x, 8, return_complex=True), 8, window=gk.zeros(8))
    np.testing.assert_allclose(_np(x.stft(8, return_complex=True)),
                               torch.tensor(_np(x)).stft(8, return_complex=True).numpy(),
                               atol=1e-5)


# --- small helpers -------------------------------------------------------------------------
def test_small_helpers_match_torch():
    pairs = [("float32", "int32"), ("int32", "float32"), ("float64", "float32"), ("int64", "bool"),
             ("bool", "uint8"), ("complex64", "float64"), ("uint8", "int8"), ("float16", "int64")]
    for a, b in pairs:
        assert gk.can_cast(getattr(gk, a), getattr(gk, b)) is \
            torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)
    assert gk.get_device(gk.ones(2)) == torch.get_device(torch.ones(2)) == -1
    x = gk.ones(2, 3, 4)
    assert x.dim_order() == torch.ones(2, 3, 4).dim_order()
    assert x.permute(2, 0, 1).dim_order() == torch.ones(2, 3, 4).permute(2, 0, 1).dim_order()
    assert x.const_data_ptr() == x.data_ptr()
    assert gk.empty_permuted((2, 3, 4), (0, 2, 1)).stride() == \
        torch.empty_permuted((2, 3, 4), (0, 2, 1)).stride()
    assert gk.ones(2).new_empty_strided((2, 3), (1, 2)).stride() == (1, 2)
    np.testing.assert_array_equal(_np(gk.fill(gk.ones(2), 3.0)), torch.fill(torch.ones(2), 3.0))
    v = gk.tensor(2.0, requires_grad=True)
    gk.fill(gk.ones(3), v).sum().backward()
    assert float(v.grad) == 3.0
    a = np.arange(10.0)
    for name, arg in (("unsafe_chunk", 3), ("unsafe_split", 4)):
        mine, theirs = getattr(gk, name)(gk.tensor(a), arg), getattr(torch, name)(torch.tensor(a), arg)
        assert [list(_np(m)) for m in mine] == [list(t.numpy()) for t in theirs]
        assert [list(_np(m)) for m in getattr(gk.tensor(a), name)(arg)] == \
            [list(t.numpy()) for t in theirs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = np.random.default_rng(0).standard_normal((3, 4))
        np.testing.assert_allclose(_np(gk.frobenius_norm(gk.tensor(m), (0, 1))),
                                   torch.frobenius_norm(torch.tensor(m), (0, 1)).numpy(), rtol=1e-12)
        np.testing.assert_allclose(_np(gk.nuclear_norm(gk.tensor(m))),
                                   torch.nuclear_norm(torch.tensor(m)).numpy(), rtol=1e-12)
    assert gk.default_generator.initial_seed() == gk.initial_seed()


def test_functional_with_indices_lp_pool3d_and_distance_triplet():
    import torch.nn.functional as TF

    import gradkit.nn.functional as F
    rng = np.random.default_rng(3)
    for nd, shape in ((1, (2, 3, 8)), (2, (2, 3, 6, 6)), (3, (1, 2, 4, 4, 4))):
        x = rng.standard_normal(shape)
        v, i = getattr(F, f"max_pool{nd}d_with_indices")(gk.tensor(x), 2)
        tv, ti = getattr(TF, f"max_pool{nd}d_with_indices")(torch.tensor(x), 2)
        np.testing.assert_array_equal(_np(v), tv.numpy())
        np.testing.assert_array_equal(_np(i), ti.numpy())
        v, i = getattr(F, f"adaptive_max_pool{nd}d_with_indices")(gk.tensor(x), 2)
        tv, ti = getattr(TF, f"adaptive_max_pool{nd}d_with_indices")(torch.tensor(x), 2)
        np.testing.assert_array_equal(_np(v), tv.numpy())
        np.testing.assert_array_equal(_np(i), ti.numpy())
    x = np.abs(rng.standard_normal((1, 2, 4, 4, 4))) + 0.1
    g, t = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = F.lp_pool3d(g, 2.0, 2), TF.lp_pool3d(t, 2.0, 2)
    np.testing.assert_allclose(_np(y), ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(_np(g.grad), t.grad.numpy(), rtol=1e-10)
    a, p, n = (rng.standard_normal((4, 3)) for _ in range(3))
    for kw in (dict(), dict(swap=True, margin=0.5, reduction="sum"),
               dict(distance_function=lambda u, w: (u - w).abs().sum(-1), reduction="none")):
        tkw = dict(kw)
        if "distance_function" in kw:
            tkw["distance_function"] = lambda u, w: (u - w).abs().sum(-1)
        np.testing.assert_allclose(
            _np(F.triplet_margin_with_distance_loss(gk.tensor(a), gk.tensor(p), gk.tensor(n), **kw)),
            TF.triplet_margin_with_distance_loss(torch.tensor(a), torch.tensor(p), torch.tensor(n),
                                                 **tkw).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):   # torch 2.13
        F.triplet_margin_with_distance_loss(gk.tensor(a), gk.tensor(p), gk.tensor(n), margin=0)


def test_convert_conv_weight_memory_format():
    m = gk.nn.Sequential(gk.nn.Conv2d(3, 4, 3), gk.nn.ReLU(),
                         gk.nn.Sequential(gk.nn.ConvTranspose2d(4, 2, 3)))
    tm = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(),
                             torch.nn.Sequential(torch.nn.ConvTranspose2d(4, 2, 3)))
    w = m[0].weight
    before = _np(w).copy()
    assert gk.nn.utils.convert_conv2d_weight_memory_format(m, gk.channels_last) is m
    torch.nn.utils.convert_conv2d_weight_memory_format(tm, torch.channels_last)
    assert m[0].weight is w and w.requires_grad
    assert m[0].weight.stride() == tm[0].weight.stride()
    assert m[2][0].weight.stride() == tm[2][0].weight.stride()
    np.testing.assert_array_equal(_np(w), before)
    from gradkit.nn.utils.memory_format import convert_conv3d_weight_memory_format
    c3 = gk.nn.Conv3d(2, 3, 2)
    convert_conv3d_weight_memory_format(c3, gk.channels_last_3d)
    assert c3.weight.stride() == torch.nn.utils.convert_conv3d_weight_memory_format(
        torch.nn.Conv3d(2, 3, 2), torch.channels_last_3d).weight.stride()
