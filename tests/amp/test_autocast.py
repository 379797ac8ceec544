"""CPU autocast (``torch.autocast('cpu')``) against live PyTorch 2.13: which dtype each listed op
returns, an MLP's and a CNN's forward and backward under bfloat16 autocast (values to bfloat16
tolerance, gradients' dtypes exact), the region's state (nesting, ``enabled=False``, decorator,
the cast cache) and the deprecated spellings."""

import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit._core import autocast as _ac
from gradkit._core import dtype as _dtype

pytest.importorskip("ml_dtypes")


def _ops(lib, low):
    F = lib.nn.functional
    rng = np.random.default_rng(0)
    a = lib.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    b = lib.tensor(rng.standard_normal((4, 5)).astype(np.float32))
    c3 = lib.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    d3 = lib.tensor(rng.standard_normal((2, 4, 3)).astype(np.float32))
    img = lib.tensor(rng.standard_normal((1, 2, 5, 5)).astype(np.float32))
    k = lib.tensor(rng.standard_normal((3, 2, 3, 3)).astype(np.float32))
    sq = lib.tensor((rng.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float32))
    t = lib.tensor([0, 2, 1])
    h = a.to(lib.float16)
    lo = getattr(lib, low)
    return {
        "matmul": lambda: a @ b, "mm": lambda: lib.mm(a, b), "bmm": lambda: lib.bmm(c3, d3),
        "matmul_method": lambda: a.matmul(b), "mm_half_in": lambda: lib.mm(h, b),
        "mm_double": lambda: lib.mm(a.double(), b.double()),
        "addmm": lambda: lib.addmm(lib.zeros(3, 5), a, b),
        "baddbmm": lambda: lib.baddbmm(lib.zeros(2, 3, 3), c3, d3),
        "linear": lambda: F.linear(a, b.T, lib.zeros(5)),
        "conv2d": lambda: F.conv2d(img, k, padding=1),
        "conv1d": lambda: F.conv1d(c3, lib.ones(2, 3, 2)),
        "conv_transpose2d": lambda: F.conv_transpose2d(img, k.transpose(0, 1)),
        "prelu": lambda: F.prelu(a, lib.tensor([0.25])),
        "sdpa": lambda: F.scaled_dot_product_attention(c3, c3, c3),
        "vecdot": lambda: lib.linalg.vecdot(a, a),
        "add_mixed": lambda: lib.mm(a, b) + b[0],
        "relu_of_mm": lambda: F.relu(lib.mm(a, b)),
        "softmax_bf16": lambda: lib.softmax(lib.mm(a, b), 1),
        "mse_loss": lambda: F.mse_loss(lib.mm(a, b), lib.zeros(3, 5)),
        "cross_entropy": lambda: F.cross_entropy(lib.mm(a, b)[:, :3], t),
        "nll_loss": lambda: F.nll_loss(lib.mm(a, b)[:, :3], t),
        "l1_loss": lambda: F.l1_loss(a.bfloat16(), a.bfloat16()),
        "bce_logits": lambda: F.binary_cross_entropy_with_logits(a.bfloat16(), a.sigmoid()),
        "prod": lambda: lib.prod(a.bfloat16()), "cdist": lambda: lib.cdist(a.bfloat16(), a),
        "inverse": lambda: lib.inverse(sq.bfloat16()),
        "linalg_inv": lambda: lib.linalg.inv(sq.bfloat16()),
        "linalg_solve": lambda: lib.linalg.solve(sq.bfloat16(), a[:, :1].bfloat16()),
        "svdvals": lambda: lib.linalg.svdvals(sq.bfloat16()),
        "fft_rfft": lambda: lib.fft.rfft(a.bfloat16()),
        "trace": lambda: lib.trace(sq.bfloat16()),
        "cat": lambda: lib.cat([a.to(lo), a]), "stack": lambda: lib.stack([a.to(lo), a]),
        "cat_low": lambda: lib.cat([a.to(lo), a.to(lo)]),
        "cat_double": lambda: lib.cat([a.to(lo), a.double()]),
        "sum_bf16": lambda: a.bfloat16().sum(), "exp": lambda: lib.exp(a),
        "layer_norm": lambda: F.layer_norm(lib.mm(a, b), (5,)),
    }


def _dtype_name(d):
    return str(d).replace("torch.", "")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_op_dtypes_as_pytorch(dtype):
    torch = pytest.importorskip("torch")
    want, got = {}, {}
    with torch.autocast("cpu", dtype=getattr(torch, dtype)):
        for name, f in _ops(torch, dtype).items():
            want[name] = _dtype_name(f().dtype)
    with gk.autocast("cpu", dtype=getattr(gk, dtype)):
        for name, f in _ops(gk, dtype).items():
            got[name] = _dtype_name(f().dtype)
    assert got == want
    # outside the region nothing is cast
    assert _dtype_name(_ops(gk, "bfloat16")["matmul"]().dtype) == "float32"


class _MLP:
    @staticmethod
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.ReLU(), lib.nn.Linear(8, 3))


def _cnn(lib):
    return lib.nn.Sequential(lib.nn.Conv2d(2, 4, 3, padding=1), lib.nn.ReLU(),
                             lib.nn.Flatten(), lib.nn.Linear(4 * 5 * 5, 3))


def _copy_params(src, dst, torch):
    with torch.no_grad():
        for p, q in zip(src.parameters(), dst.parameters()):
            q.copy_(torch.tensor(p.detach().numpy()))


@pytest.mark.parametrize("make,shape", [(_MLP.build, (4, 6)), (_cnn, (4, 2, 5, 5))])
def test_model_forward_backward_under_bf16_autocast(make, shape):
    torch = pytest.importorskip("torch")
    gk.manual_seed(0)
    g_model = make(gk)
    t_model = make(torch)
    _copy_params(g_model, t_model, torch)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    target = np.array([0, 2, 1, 1])
    outs = []
    for lib, model in ((gk, g_model), (torch, t_model)):
        with lib.autocast(device_type="cpu", dtype=lib.bfloat16):
            logits = model(lib.tensor(x))
            loss = lib.nn.functional.cross_entropy(logits, lib.tensor(target))
        loss.backward()
        outs.append((logits, loss, [p.grad for p in model.parameters()]))
    (gl, gloss, gg), (tl, tloss, tg) = outs
    assert _dtype_name(gl.dtype) == _dtype_name(tl.dtype) == "bfloat16"
    assert _dtype_name(gloss.dtype) == _dtype_name(tloss.dtype) == "float32"
    np.testing.assert_allclose(gl.detach().float().numpy(), tl.detach().float().numpy(),
                               rtol=2e-2, atol=2e-2)
    np.testing.assert_allclose(gloss.item(), tloss.item(), rtol=1e-2)
    for a, b in zip(gg, tg):
        assert _dtype_name(a.dtype) == _dtype_name(b.dtype) == "float32"
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-2, atol=1e-3)


def test_promote_of_two_lower_dtypes_is_pytorchs_error():
    torch = pytest.importorskip("torch")
    for lib in (gk, torch):
        a = lib.ones(2)
        with lib.autocast("cpu"):
            with pytest.raises(RuntimeError, match="Unexpected floating ScalarType in "
                                                   "at::autocast::prioritize"):
                lib.cat([a.bfloat16(), a.half()])


def test_region_state_nesting_and_decorator():
    assert not gk.is_autocast_enabled("cpu")
    assert gk.get_autocast_dtype("cpu") is gk.bfloat16
    assert gk.get_autocast_dtype("cuda") is gk.float16
    x = gk.ones(2, 2)
    with gk.autocast("cpu"):
        assert gk.is_autocast_enabled("cpu") and not gk.is_autocast_enabled()
        with gk.autocast("cpu", enabled=False):
            assert not gk.is_autocast_enabled("cpu")
            assert (x @ x).dtype is gk.float32
        with gk.amp.autocast("cpu", dtype=gk.float16):
            assert gk.get_autocast_dtype("cpu") is gk.float16
            assert (x @ x).dtype is gk.float16
        assert gk.get_autocast_dtype("cpu") is gk.bfloat16
        assert (x @ x).dtype is gk.bfloat16
    assert not gk.is_autocast_enabled("cpu")

    @gk.autocast("cpu")
    def f(a):
        assert gk.is_autocast_enabled("cpu")
        return a @ a

    assert f(x).dtype is gk.bfloat16
    assert not gk.is_autocast_enabled("cpu")
    # an exception leaves the state as it was
    with pytest.raises(ValueError):
        with gk.autocast("cpu"):
            raise ValueError
    assert not gk.is_autocast_enabled("cpu") and _ac._state.nesting == 0


def test_cast_cache_as_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (gk, torch):
        w = lib.ones(3, 3, requires_grad=True)
        assert lib.is_autocast_cache_enabled()
        with lib.autocast("cpu"):
            y = lib.mm(w, w)
            n = y.grad_fn.next_functions
            assert n[0][0] is n[1][0], lib       # one cast of w, used twice
            with lib.autocast("cpu", cache_enabled=False):
                assert not lib.is_autocast_cache_enabled()
                z = lib.mm(w, w)
                m = z.grad_fn.next_functions
                assert m[0][0] is not m[1][0], lib
            assert lib.is_autocast_cache_enabled()
        y.sum().backward()
        assert w.grad.dtype == lib.float32
        np.testing.assert_allclose(w.grad.numpy(), np.full((3, 3), 6.0))


def test_deprecated_spellings_warn_as_pytorch():
    with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.autocast\(args...\)` is deprecated"):
        ctx = gk.cpu.amp.autocast()
    with ctx:
        assert gk.is_autocast_enabled("cpu")
        with pytest.warns(DeprecationWarning, match="is_autocast_cpu_enabled"):
            assert gk.is_autocast_cpu_enabled()
        with pytest.warns(DeprecationWarning, match="get_autocast_cpu_dtype"):
            assert gk.get_autocast_cpu_dtype() is gk.bfloat16
    with pytest.warns(FutureWarning, match="torch.cpu.amp.GradScaler"):
        gk.cpu.amp.GradScaler()
    assert gk.cpu.is_available() and gk.cpu.device_count() == 1


def test_unsupported_dtype_disables_with_pytorchs_warning():
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported"):
        with gk.autocast("cpu", dtype=gk.float32):
            assert not gk.is_autocast_enabled("cpu")


def test_custom_fwd_cast_inputs():
    class Sq(gk.autograd.Function):
        @staticmethod
        @gk.amp.custom_fwd(device_type="cpu", cast_inputs=gk.float32)
        def forward(ctx, x):
            ctx.dtype_seen = x.dtype
            ctx.inner_enabled = gk.is_autocast_enabled("cpu")
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @gk.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = gk.tensor([1.0, 2.0], dtype=gk.bfloat16, requires_grad=True)
    with gk.autocast("cpu"):
        y = Sq.apply(x)
    assert y.dtype is gk.float32
    y.sum().backward()
    np.testing.assert_allclose(x.grad.float().numpy(), [2.0, 4.0])


def test_bfloat16_autocast_without_ml_dtypes_names_the_extra(monkeypatch):
    def missing():
        raise TypeError(_dtype.BFLOAT16)

    monkeypatch.setattr(_dtype, "load_bfloat16", missing)
    with pytest.raises(ImportError, match=r"gradkit\[bfloat16\]"):
        gk.autocast("cpu")
    with gk.autocast("cpu", enabled=False):          # a disabled region needs no bfloat16
        assert not gk.is_autocast_enabled("cpu")
    with gk.autocast("cpu", dtype=gk.float16):       # nor a float16 one
        assert (gk.ones(2, 2) @ gk.ones(2, 2)).dtype is gk.float16


def test_no_autocast_state_leaks_into_other_threads():
    import threading
    seen = []
    with gk.autocast("cpu"):
        th = threading.Thread(target=lambda: seen.append(
            (gk.is_autocast_enabled("cpu"), (gk.ones(2, 2) @ gk.ones(2, 2)).dtype)))
        th.start()
        th.join()
    assert seen == [(False, gk.float32)]


def test_warnings_free_when_off():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = gk.ones(2, 2, requires_grad=True)
        (a @ a).sum().backward()
    assert a.grad.dtype is gk.float32


def test_compiled_function_runs_eagerly_inside_autocast():
    w = gk.randn(3, 3, requires_grad=True)
    f = gk.compile(lambda x: (x @ w).sum())
    x = gk.randn(2, 3)
    assert f(x).dtype is gk.float32            # traced outside the region
    f(x)
    with gk.autocast("cpu"):
        with pytest.warns(gk.compile.TraceWarning, match="an autocast region is open"):
            out = f(x)
    assert out.dtype is (x.bfloat16() @ w.bfloat16()).sum().dtype
    assert f.stats["eager"] >= 1
    assert f(x).dtype is gk.float32
