"""PyTorch names scripts reach for first (issue #17): process-wide switches, ``torch.backends``,
``torch.random``, memory formats, sampling, floating-point helpers, window functions, the
top-level spellings of nn functions, and Tensor predicates. Expected values come from a live
PyTorch (importorskip), from NumPy/SciPy, or from closed forms."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


# --- switches ------------------------------------------------------------------------------
def test_switches_round_trip_as_in_torch():
    assert gk.are_deterministic_algorithms_enabled() is False
    try:
        gk.use_deterministic_algorithms(True, warn_only=True)
        assert gk.are_deterministic_algorithms_enabled()
        assert gk.is_deterministic_algorithms_warn_only_enabled()
        assert gk.get_deterministic_debug_mode() == 1
        gk.set_deterministic_debug_mode("error")
        assert gk.get_deterministic_debug_mode() == 2
    finally:
        gk.use_deterministic_algorithms(False)
    assert gk.get_deterministic_debug_mode() == 0
    with pytest.raises(TypeError, match="must be bool, not int"):
        gk.use_deterministic_algorithms(1)
    with pytest.raises(RuntimeError, match="expected one of `default`, `warn`, `error`"):
        gk.set_deterministic_debug_mode("foo")
    assert gk.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"
    try:
        gk.set_float32_matmul_precision("high")
        assert gk.get_float32_matmul_precision() == "high"
        with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
            gk.set_float32_matmul_precision("fast")
        assert gk.get_float32_matmul_precision() == "high"
    finally:
        gk.set_float32_matmul_precision("highest")
    assert gk.is_anomaly_enabled() is False and gk.is_anomaly_check_nan_enabled() is True
    try:
        gk.set_anomaly_enabled(True)
        assert gk.autograd.is_anomaly_enabled()
    finally:
        gk.set_anomaly_enabled(False)
    assert gk.set_flush_denormal(True) is False      # NumPy cannot flush denormals: nothing set
    assert gk.is_warn_always_enabled() is False
    gk.set_warn_always(True)
    assert gk.is_warn_always_enabled()
    gk.set_warn_always(False)
    assert gk.is_storage(gk.ones(2)) is torch.is_storage(torch.ones(2)) is False


def test_typename_matches_torch():
    for dt in ("float32", "float64", "int64", "bool", "uint8"):
        assert gk.typename(gk.ones(2, dtype=getattr(gk, dt))) == \
            torch.typename(torch.ones(2, dtype=getattr(torch, dt)))
    assert gk.typename(3) == torch.typename(3) == "int"
    assert gk.typename(gk.nn.Linear(1, 1)) == "gradkit.nn.modules.linear.Linear"


def test_set_default_tensor_type():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            gk.set_default_tensor_type(gk.DoubleTensor)
            assert gk.ones(1).dtype == gk.float64
            gk.set_default_tensor_type("torch.FloatTensor")
            assert gk.ones(1).dtype == gk.float32
        finally:
            gk.set_default_dtype(gk.float32)
        with pytest.raises(TypeError, match="only floating-point types are supported"):
            gk.set_default_tensor_type(gk.LongTensor)
        with pytest.raises(TypeError, match="Torch not compiled with CUDA enabled"):
            gk.set_default_tensor_type("torch.cuda.FloatTensor")
    with pytest.warns(UserWarning, match="deprecated"):
        gk.set_default_tensor_type(gk.FloatTensor)


def test_backends_and_random_modules():
    assert gk.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert gk.backends.cudnn.is_available() is False
    for name in ("deterministic", "benchmark", "enabled"):
        assert getattr(gk.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
    old = gk.backends.cudnn.deterministic
    gk.backends.cudnn.deterministic = True
    assert gk.backends.cudnn.deterministic is True
    gk.backends.cudnn.deterministic = old
    assert gk.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32
    gk.backends.cuda.matmul.allow_tf32 = True
    assert gk.backends.cuda.matmul.allow_tf32 is True
    gk.backends.cuda.matmul.allow_tf32 = False
    with pytest.raises(AttributeError, match="Unknown attribute"):
        gk.backends.cuda.matmul.allow_tf33 = True
    assert isinstance(gk.backends.cpu.get_cpu_capability(), str)
    assert gk.accelerator.current_accelerator() is None or gk.cuda.is_available()
    gk.random.manual_seed(3)
    assert gk.random.initial_seed() == 3
    state = gk.random.get_rng_state()
    with gk.random.fork_rng():
        inside = gk.rand(4)
    after = gk.rand(4)
    np.testing.assert_array_equal(_np(inside), _np(after))     # the fork did not advance it
    gk.random.set_rng_state(state)
    np.testing.assert_array_equal(_np(gk.rand(4)), _np(after))


# --- memory formats ------------------------------------------------------------------------
def test_channels_last_strides_values_and_gradient_match_torch():
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    x, tx = gk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x.to(memory_format=gk.channels_last), tx.to(memory_format=torch.channels_last)
    assert y.stride() == ty.stride() == (60, 1, 15, 3)
    assert y.is_contiguous() is ty.is_contiguous() is False
    assert y.is_contiguous(memory_format=gk.channels_last)
    np.testing.assert_array_equal(_np(y), a)
    w = np.arange(120.0, dtype=np.float32).reshape(2, 3, 4, 5)
    (y * gk.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), tx.grad.numpy())
    assert y.contiguous(memory_format=gk.channels_last) is y
    assert y.contiguous().stride() == ty.contiguous().stride()
    assert gk.empty_like(y).stride() == torch.empty_like(ty).stride()
    assert gk.zeros_like(y, memory_format=gk.contiguous_format).stride() == \
        torch.zeros_like(ty, memory_format=torch.contiguous_format).stride()
    assert x.clone(memory_format=gk.channels_last).stride() == \
        tx.clone(memory_format=torch.channels_last).stride()
    assert x.detach().to(gk.float64, memory_format=gk.channels_last).stride() == (60, 1, 15, 3)
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        gk.ones(2, 3).contiguous(memory_format=gk.channels_last)
    with pytest.raises(RuntimeError, match="required rank 5 tensor to use channels_last_3d"):
        gk.ones(2, 3, 4, 5).to(memory_format=gk.channels_last_3d)
    with pytest.raises(TypeError, match="memory_format"):
        gk.ones(2).contiguous(memory_format=3)
    assert gk.ones(2, 3).is_contiguous(memory_format=gk.channels_last) is \
        torch.ones(2, 3).is_contiguous(memory_format=torch.channels_last)
    assert repr(gk.channels_last) == repr(torch.channels_last)
    assert gk.ones(2).layout is gk.strided and repr(gk.strided) == repr(torch.strided)


# --- sampling ------------------------------------------------------------------------------
def test_multinomial():
    p = gk.tensor([0.1, 0.0, 0.6, 0.3])
    g = gk.Generator().manual_seed(0)
    s = gk.multinomial(p, 3, generator=g)
    assert s.dtype == gk.int64 and s.shape == (3,)
    assert len(set(_np(s).tolist())) == 3 and 1 not in _np(s)
    r = p.multinomial(4000, replacement=True, generator=g)
    freq = np.bincount(_np(r), minlength=4) / 4000
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.03)
    rows = gk.multinomial(gk.tensor([[1.0, 0.0], [0.0, 2.0]]), 1)
    np.testing.assert_array_equal(_np(rows), [[0], [1]])
    g1, g2 = gk.Generator().manual_seed(5), gk.Generator().manual_seed(5)
    np.testing.assert_array_equal(_np(gk.multinomial(p, 2, generator=g1)),
                                  _np(gk.multinomial(p, 2, generator=g2)))
    for args, kw in (((p, 5), {}), ((gk.tensor([0.0, 0.0]), 1), {}), ((gk.tensor([-1.0, 2.0]), 1), {}),
                     ((gk.ones(2, 2, 2), 1), {}), ((p, 0), {})):
        with pytest.raises(RuntimeError) as mine:
            gk.multinomial(*args, **kw)
        with pytest.raises(RuntimeError) as theirs:
            torch.multinomial(torch.tensor(_np(args[0])), *args[1:], **kw)
        assert str(mine.value) == str(theirs.value)


def test_poisson_and_binomial():
    gk.manual_seed(0)
    rate = gk.full((20000,), 3.0)
    s = gk.poisson(rate)
    assert s.dtype == gk.float32 and abs(float(s.mean()) - 3.0) < 0.08
    assert np.all(_np(s) == np.floor(_np(s)))
    with pytest.raises(RuntimeError, match="invalid Poisson rate, expected rate to be non-negative"):
        gk.poisson(gk.tensor([-1.0]))
    b = gk.binomial(gk.full((20000,), 10.0), gk.full((20000,), 0.2))
    assert b.dtype == gk.float32 and abs(float(b.mean()) - 2.0) < 0.06
    assert _np(b).max() <= 10
    with pytest.raises(ValueError, match="floating-point dtypes for count, got: Long"):
        gk.binomial(gk.tensor([1, 2]), gk.tensor([0.5, 0.5]))
    with pytest.raises(RuntimeError, match="prob must be in"):
        gk.binomial(gk.tensor([1.0]), gk.tensor([1.5]))
    # an infinite count was cast to a negative int64 and NumPy said only "n < 0"
    with pytest.raises(RuntimeError, match="count must be a non-negative whole number"):
        gk.binomial(gk.tensor([float("inf")]), gk.tensor([0.5]))


# --- floating-point helpers and special functions ------------------------------------------
def test_frexp_ldexp_nextafter_against_torch():
    a = np.array([8.0, 0.3, -5.5, 0.0], dtype=np.float32)
    x, tx = gk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    m, e = gk.frexp(x)
    tm, te = torch.frexp(tx)
    np.testing.assert_array_equal(_np(m), tm.detach().numpy())
    np.testing.assert_array_equal(_np(e), te.numpy())
    assert e.dtype == gk.int32 and gk.frexp(x).mantissa.shape == (4,)
    m.sum().backward()
    tm.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), tx.grad.numpy())
    with pytest.raises(RuntimeError, match="only supports floating-point dtypes"):
        gk.frexp(gk.tensor([1, 2]))
    ex = np.array([2, -3, 0, 5])
    x.grad, tx.grad = None, None
    y, ty = gk.ldexp(x, gk.tensor(ex)), torch.ldexp(tx, torch.tensor(ex))
    np.testing.assert_allclose(_np(y), ty.detach().numpy())
    y.sum().backward()
    # NOTE: the analytic 2**e; PyTorch 2.13's backward gives 0 for a negative integer exponent
    np.testing.assert_allclose(_np(x.grad), 2.0 ** ex)
    assert gk.ldexp(gk.tensor([1, 2]), gk.tensor([2, 3])).dtype == gk.float32
    n = gk.nextafter(gk.tensor([1.0, 1.0], dtype=gk.float64), gk.tensor([2.0, 0.0], dtype=gk.float64))
    np.testing.assert_array_equal(_np(n), [np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0)])
    with pytest.raises(NotImplementedError, match="\"nextafter_cpu\" not implemented for 'Long'"):
        gk.nextafter(gk.tensor([1]), gk.tensor([2]))


def test_i0_igamma_mvlgamma_values_and_gradients():
    special = pytest.importorskip("scipy.special")
    v = np.array([0.5, 1.0, 2.5], dtype=np.float64)
    x = gk.tensor(v, requires_grad=True)
    y = gk.i0(x)
    np.testing.assert_allclose(_np(y), special.i0(v), rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), special.i1(v), rtol=1e-12)     # i0' = i1
    a = gk.tensor([1.0, 2.0, 3.0], dtype=gk.float64)
    x.grad = None
    p, q = gk.igamma(a, x), gk.igammac(a, x)
    np.testing.assert_allclose(_np(p), special.gammainc(_np(a), v), rtol=1e-12)
    np.testing.assert_allclose(_np(p + q), 1.0, rtol=1e-12)
    p.sum().backward()
    # d/dx P(a, x) = x**(a-1) e**-x / Gamma(a)
    expect = v ** (_np(a) - 1) * np.exp(-v) / special.gamma(_np(a))
    np.testing.assert_allclose(_np(x.grad), expect, rtol=1e-10)
    x.grad = None
    z = gk.mvlgamma(x + 2, 3)
    expect = 3 * 2 / 4 * math.log(math.pi) + sum(special.gammaln(v + 2 - i / 2) for i in range(3))
    np.testing.assert_allclose(_np(z), expect, rtol=1e-12)
    z.sum().backward()
    np.testing.assert_allclose(_np(x.grad), sum(special.digamma(v + 2 - i / 2) for i in range(3)),
                               rtol=1e-10)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        gk.mvlgamma(x, 0)
    t = gk.tensor([2.5], dtype=gk.float64)
    np.testing.assert_allclose(_np(t.mvlgamma(2)), torch.tensor([2.5], dtype=torch.float64)
                               .mvlgamma(2).numpy(), rtol=1e-12)
    t.i0_()
    np.testing.assert_allclose(_np(t), special.i0(2.5), rtol=1e-12)


@pytest.mark.parametrize("name", ["hann", "hamming", "blackman", "bartlett", "kaiser"])
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 16])
def test_window_functions_match_torch(name, periodic, n):
    mine = getattr(gk, f"{name}_window")(n, periodic, dtype=gk.float64)
    theirs = getattr(torch, f"{name}_window")(n, periodic, dtype=torch.float64)
    assert mine.dtype == gk.float64 and tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(_np(mine), theirs.numpy(), atol=1e-12)
    assert getattr(gk, f"{name}_window")(4).dtype == gk.float32


def test_window_errors():
    with pytest.raises(RuntimeError, match="hann_window expects floating point dtypes"):
        gk.hann_window(4, dtype=gk.int64)
    with pytest.raises(RuntimeError, match="requires non-negative window_length, got window_length=-1"):
        gk.hann_window(-1)


# --- nn functions at the top level ---------------------------------------------------------
def test_top_level_nn_spellings_match_torch():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    t = np.array([1.0, -1.0, 1.0])
    G, T = gk.tensor, torch.tensor
    for red in (0, 1, 2):
        np.testing.assert_allclose(_np(gk.cosine_embedding_loss(G(a), G(b), G(t), 0.1, red)),
                                   torch.cosine_embedding_loss(T(a), T(b), T(t), 0.1, red).numpy(),
                                   rtol=1e-10)
        np.testing.assert_allclose(
            _np(gk.margin_ranking_loss(G(a[:, 0]), G(b[:, 0]), G(t), 0.2, red)),
            torch.margin_ranking_loss(T(a[:, 0]), T(b[:, 0]), T(t), 0.2, red).numpy(), rtol=1e-10)
        np.testing.assert_allclose(_np(gk.hinge_embedding_loss(G(a[:, 0]), G(t), 1.0, red)),
                                   torch.hinge_embedding_loss(T(a[:, 0]), T(t), 1.0, red).numpy(),
                                   rtol=1e-10)
        np.testing.assert_allclose(
            _np(gk.triplet_margin_loss(G(a), G(b), G(a * 2), 1.0, 2, 1e-6, False, red)),
            torch.triplet_margin_loss(T(a), T(b), T(a * 2), 1.0, 2, 1e-6, False, red).numpy(),
            rtol=1e-10)
        np.testing.assert_allclose(
            _np(gk.poisson_nll_loss(G(a), G(np.abs(b)), True, False, 1e-8, red)),
            torch.poisson_nll_loss(T(a), T(np.abs(b)), True, False, 1e-8, red).numpy(), rtol=1e-10)
    lp = np.log(np.full((3, 4), 0.25))
    for red in ((), (0,), (1,), (2,)):        # the top-level default is 0 (none), as in torch
        np.testing.assert_allclose(_np(gk.kl_div(G(lp), G(np.abs(b) / 3), *red)),
                                   torch.kl_div(T(lp), T(np.abs(b) / 3), *red).numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(gk.cosine_embedding_loss(G(a), G(b), G(t))),
                               torch.cosine_embedding_loss(T(a), T(b), T(t)).numpy(), rtol=1e-10)
    with pytest.raises(TypeError, match="argument 'reduction' must be int, not str"):
        gk.kl_div(G(lp), G(lp), reduction="sum")
    np.testing.assert_allclose(_np(gk.pdist(G(a))), torch.pdist(T(a)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(gk.pairwise_distance(G(a), G(b))),
                               torch.pairwise_distance(T(a), T(b)).numpy(), rtol=1e-10)
    w, bias = rng.standard_normal(4), rng.standard_normal(4)
    np.testing.assert_allclose(_np(gk.layer_norm(G(a), [4], G(w), G(bias))),
                               torch.layer_norm(T(a), [4], T(w), T(bias)).numpy(), rtol=1e-9)
    x4 = rng.standard_normal((2, 4, 3, 3))
    rm, rv = rng.standard_normal(4), rng.random(4) + 0.5
    np.testing.assert_allclose(
        _np(gk.batch_norm(G(x4), G(w), G(bias), G(rm), G(rv), False, 0.1, 1e-5, False)),
        torch.batch_norm(T(x4), T(w), T(bias), T(rm), T(rv), False, 0.1, 1e-5, False).numpy(),
        rtol=1e-9)
    np.testing.assert_allclose(_np(gk.group_norm(G(x4), 2, G(w), G(bias))),
                               torch.group_norm(T(x4), 2, T(w), T(bias)).numpy(), rtol=1e-9)
    k = rng.standard_normal((5, 4, 2, 2))
    np.testing.assert_allclose(_np(gk.conv2d(G(x4), G(k), padding=1)),
                               torch.conv2d(T(x4), T(k), padding=1).numpy(), rtol=1e-9)
    np.testing.assert_allclose(_np(gk.max_pool2d(G(x4), 2, 1)),
                               torch.max_pool2d(T(x4), 2, 1).numpy())
    v, i = gk.adaptive_max_pool1d(G(a[None]), 2)
    tv, ti = torch.adaptive_max_pool1d(T(a[None]), 2)
    np.testing.assert_array_equal(_np(v), tv.numpy())
    np.testing.assert_array_equal(_np(i), ti.numpy())
    emb = rng.standard_normal((5, 3))
    idx = np.array([[0, 4], [2, 2]])
    np.testing.assert_array_equal(_np(gk.embedding(G(emb), G(idx))),
                                  torch.embedding(T(emb), T(idx)).numpy())
    np.testing.assert_array_equal(_np(gk.constant_pad_nd(G(a), [1, 2], 7.0)),
                                  torch.constant_pad_nd(T(a), [1, 2], 7.0).numpy())
    np.testing.assert_array_equal(_np(gk.dropout(G(a), 0.5, False)), a)
    assert gk.detach(G(a).requires_grad_()).requires_grad is False
    x = G(a, requires_grad=True)
    y = gk.feature_dropout(x * 1, 0.5, True)
    kept = _np(y)[:, :] != 0
    np.testing.assert_allclose(_np(y)[kept], 2 * a[kept])
    for name in ("selu", "celu", "threshold"):
        args = (0.1, 20.0) if name == "threshold" else ()
        np.testing.assert_allclose(_np(getattr(gk, name)(G(a), *args)),
                                   getattr(torch, name)(T(a), *args).numpy(), rtol=1e-12)


@pytest.mark.parametrize("name,args", [("relu_", ()), ("elu_", (0.7,)), ("leaky_relu_", (0.2,)),
                                       ("hardtanh_", (-0.5, 0.5)), ("selu_", ()), ("celu_", (1.3,)),
                                       ("threshold_", (0.1, -2.0)), ("rrelu_", (0.1, 0.3, False))])
def test_functional_inplace_forms_match_torch(name, args):
    import torch.nn.functional as TF

    import gradkit.nn.functional as F
    a = np.random.default_rng(2).standard_normal((3, 4))
    g = np.random.default_rng(3).standard_normal((3, 4))
    x, tx = gk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    h, th = x * 1, tx * 1
    out, tout = getattr(F, name)(h, *args), getattr(TF, name)(th, *args)
    assert out is h and tout is th
    assert h._version == th._version == 1
    np.testing.assert_allclose(_np(h), th.detach().numpy(), rtol=1e-12)
    (h * gk.tensor(g)).sum().backward()
    (th * torch.tensor(g)).sum().backward()
    # NOTE: rtol 1e-6: PyTorch's celu backward rounds alpha to float32 (gradkit's is exact)
    np.testing.assert_allclose(_np(x.grad), tx.grad.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        getattr(F, name)(x, *args)


def test_channel_shuffle_matches_torch():
    import torch.nn.functional as TF

    import gradkit.nn.functional as F
    a = np.arange(24.0).reshape(1, 6, 2, 2)
    np.testing.assert_array_equal(_np(F.channel_shuffle(gk.tensor(a), 3)),
                                  TF.channel_shuffle(torch.tensor(a), 3).numpy())
    with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups"):
        F.channel_shuffle(gk.ones(1, 4, 2), 3)


# --- Tensor predicates and helpers ---------------------------------------------------------
def test_tensor_methods_against_torch():
    a = np.array([[1.0, -np.inf], [np.inf, 0.0]])
    x, tx = gk.tensor(a), torch.tensor(a)
    for name in ("isneginf", "isposinf", "isreal"):
        np.testing.assert_array_equal(_np(getattr(x, name)()), getattr(tx, name)().numpy())
    assert gk.tensor(3.0).is_nonzero() is torch.tensor(3.0).is_nonzero() is True
    np.testing.assert_array_equal(_np(gk.tensor([1.0, 2.0]).diagflat(1)),
                                  torch.tensor([1.0, 2.0]).diagflat(1).numpy())
    b = np.random.default_rng(4).standard_normal((2, 3, 4))
    for size in [(1, 3, 1), (3, 4), (4,), (2, 1, 4)]:
        np.testing.assert_allclose(_np(gk.tensor(b).sum_to_size(*size)),
                                   torch.tensor(b).sum_to_size(*size).numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match=r"size \{\[2, 2\]\} is not expandable to size \{\[2, 3\]\}"):
        gk.ones(2, 3).sum_to_size(2, 2)
    y = gk.tensor(b, requires_grad=True)
    y.sum_to_size(3, 1).sum().backward()
    np.testing.assert_array_equal(_np(y.grad), np.ones_like(b))
    for src in (gk.ones(2), gk.ones(2, dtype=gk.int64)):
        t = src.new([1.5, 2.0])
        assert t.dtype == src.dtype
        assert src.new(2, 3).shape == (2, 3) and src.new(2, 3).dtype == src.dtype
    z = gk.ones(2)
    assert z.is_cpu and not z.is_sparse and not z.is_quantized and not z.is_nested
    assert z.is_pinned() is torch.ones(2).is_pinned() is False
    if not gk.accelerator.is_available():
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
            z.pin_memory()
