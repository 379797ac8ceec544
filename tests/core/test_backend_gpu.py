"""GPU tensors: device placement, transfers, mixed-device errors, every table row on device.

Runs on two backends for ``device='cuda'``: the strict CuPy stand-in of
``tests/support/fakegpu.py`` (everywhere: it proves no NumPy array slips into device
work and that values and gradients match the NumPy-backed run), and real CuPy
on a machine with a GPU (skipped where ``gradkit.cuda.is_available()`` is
false, with that reason).
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest

import gradkit as gk
from gradkit._core import backend as _backend

import fakegpu
from backend_sweep import run, run_numpy
from op_specs import OP_SPECS

# the one row whose spec moves data to NumPy on purpose (device moves are tested below)
DEVICE_SPECS = [s for s in OP_SPECS if s.name != "to_device"]
SECOND_ORDER = [s for s in DEVICE_SPECS if s.grad and s.second_order and not s.refused]


def _real_cuda() -> bool:
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    return _backend.cuda_available()


# NOTE: the CuPy runs exist only where a GPU does (test_real_gpu_present says when not)
@pytest.fixture(params=["fake"] + (["cupy"] if _real_cuda() else []))
def gpu(request: pytest.FixtureRequest) -> Iterator[Any]:
    """``device='cuda'`` served by the stand-in, or by CuPy where a GPU exists."""
    if request.param == "fake":
        fakegpu.install()
        try:
            yield _Lib(fakegpu.FakeGPUArray, lambda a: fakegpu.FakeGPUArray(a.copy()),
                       lambda d: d.get())
        finally:
            fakegpu.uninstall()
    else:
        import cupy
        yield _Lib(cupy.ndarray, cupy.asarray, cupy.asnumpy)


class _Lib:
    def __init__(self, array_type: type, to_device: Any, to_host: Any) -> None:
        self.array_type = array_type
        self.to_device = to_device
        self.to_host = to_host


def _check_same(lib: _Lib, got: list[Any], want: list[Any], what: str) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
            continue
        assert isinstance(g, lib.array_type), f"{what} is a {type(g).__name__}, not on the device"
        np.testing.assert_allclose(lib.to_host(g), np.asarray(w), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("spec", DEVICE_SPECS, ids=str)
def test_every_row_runs_on_the_device(gpu: _Lib, spec: Any) -> None:
    outs, grads = run(spec, gpu.to_device, convert_args=True)
    want_outs, want_grads = run_numpy(spec)
    _check_same(gpu, outs, want_outs, "an output")
    _check_same(gpu, grads, want_grads, "a gradient")


@pytest.mark.parametrize("spec", SECOND_ORDER, ids=str)
def test_second_derivatives_on_the_device(gpu: _Lib, spec: Any) -> None:
    _, grads = run(spec, gpu.to_device, convert_args=True, second_order=True)
    _, want = run_numpy(spec, second_order=True)
    _check_same(gpu, grads, want, "a second derivative")


# --- placement and transfers ---------------------------------------------------------------
def test_factories_and_moves(gpu: _Lib) -> None:
    w = gk.ones(2, 3, device="cuda", requires_grad=True)
    assert isinstance(w._data, gpu.array_type)
    assert w.device == gk.device("cuda", 0) and w.device == "cuda:0" and w.is_cuda
    assert repr(w.device) == "device(type='cuda', index=0)"
    assert isinstance(gk.zeros_like(w)._data, gpu.array_type)
    assert isinstance(gk.randn(3, device="cuda")._data, gpu.array_type)
    assert isinstance(gk.tensor([1.0, 2.0], device=gk.device("cuda"))._data, gpu.array_type)
    host = w.detach().cpu()
    assert host.device == "cpu" and not host.is_cuda and type(host._data) is np.ndarray
    assert w.cuda() is w and host.cpu() is host


def test_new_tensors_and_random_fills_stay_on_the_device(gpu: _Lib) -> None:
    x = gk.ones(3, device="cuda", dtype=gk.float64)
    for made in (x.new_ones(2), x.new_zeros(2), x.new_full((2,), 3.0), x.new_empty(2),
                 x.new_tensor([1.0, 2.0])):
        assert made.device == "cuda:0" and made.dtype is gk.float64
        assert isinstance(made._data, gpu.array_type)
    y = gk.zeros(1000, device="cuda")
    y.uniform_(-1.0, 1.0)
    assert isinstance(y._data, gpu.array_type)
    values = y.cpu().numpy()
    assert values.min() >= -1.0 and values.max() < 1.0 and abs(values.mean()) < 0.1
    y.normal_()
    assert isinstance(y._data, gpu.array_type)


def test_printing_shows_the_device(gpu: _Lib) -> None:
    x = gk.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    assert repr(x) == "tensor([1., 2.], device='cuda:0', requires_grad=True)"
    y = gk.tensor([1.0, 2.0], dtype=gk.float64).cuda()
    assert repr(y) == "tensor([1., 2.], device='cuda:0', dtype=torch.float64)"
    assert repr((x * 2).sum()) == "tensor(6., device='cuda:0', grad_fn=<SumBackward0>)"


def test_gradient_flows_back_across_a_transfer(gpu: _Lib) -> None:
    x = gk.tensor([1.0, -2.0, 3.0], dtype=gk.float64, requires_grad=True)
    y = x.to("cuda")
    assert y.grad_fn.name() == "ToCopyBackward0"
    loss = (y * y * y).sum().cpu()
    assert loss.device == "cpu"
    loss.backward()
    assert type(x.grad._data) is np.ndarray                 # the gradient is where x is
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([1.0, 4.0, 9.0]))


def test_device_leaf_accumulates_on_the_device(gpu: _Lib) -> None:
    w = gk.tensor([0.5, 1.5], device="cuda", requires_grad=True)
    for _ in range(2):
        (w * w).sum().backward()
    assert isinstance(w.grad._data, gpu.array_type)
    np.testing.assert_allclose(w.grad.cpu().numpy(), [2.0, 6.0])


def test_mixing_devices_raises_pytorchs_error(gpu: _Lib) -> None:
    a = gk.ones(3, device="cuda")
    b = gk.ones(3)
    msg = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"
    with pytest.raises(RuntimeError, match=msg.replace("!", "")):
        a + b
    with pytest.raises(RuntimeError, match="same device"):
        gk.matmul(gk.ones(2, 3, device="cuda"), gk.ones(3))
    # a 0-d CPU tensor acts as a number, as in PyTorch
    out = a * gk.tensor(2.0)
    assert out.device == "cuda:0"
    np.testing.assert_allclose(out.cpu().numpy(), [2.0, 2.0, 2.0])


def test_numpy_of_a_gpu_tensor_asks_for_cpu_first(gpu: _Lib) -> None:
    x = gk.ones(2, device="cuda")
    with pytest.raises(TypeError, match=r"can't convert cuda:0 device type tensor to numpy\. Use "
                                        r"Tensor\.cpu\(\) to copy the tensor to host memory first\."):
        x.numpy()
    assert x.sum().item() == 2.0                                 # explicit, like PyTorch
    assert x.tolist() == [1.0, 1.0]


def test_layers_built_on_the_device(gpu: _Lib) -> None:
    layers = [gk.nn.Linear(3, 2, device="cuda"), gk.nn.Conv2d(1, 2, 3, device="cuda"),
              gk.nn.LSTM(3, 4, device="cuda"), gk.nn.BatchNorm1d(3, device="cuda"),
              gk.nn.Embedding(5, 2, device="cuda")]
    for layer in layers:
        tensors = list(layer.parameters()) + list(layer.buffers())
        assert tensors and all(isinstance(t._data, gpu.array_type) for t in tensors), layer
    assert gk.nn.Linear(3, 2).weight.device == "cpu"
    out = layers[0](gk.ones(4, 3, device="cuda"))
    assert out.device == "cuda:0" and out.shape == (4, 2)


def test_training_step_on_the_device(gpu: _Lib) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(32, 4)), rng.normal(size=32)
    model = gk.nn.Sequential(gk.nn.Linear(4, 8), gk.nn.Tanh(), gk.nn.Linear(8, 1)).double()
    ref = gk.nn.Sequential(gk.nn.Linear(4, 8), gk.nn.Tanh(), gk.nn.Linear(8, 1)).double()
    ref.load_state_dict(model.state_dict())
    model.to("cuda")
    assert all(p.is_cuda for p in model.parameters())
    opt = gk.optim.Adam(model.parameters(), lr=0.01)
    ref_opt = gk.optim.Adam(ref.parameters(), lr=0.01)
    Xd, yd = gk.tensor(X, device="cuda"), gk.tensor(y, device="cuda")
    for _ in range(3):
        for m, o, a, b in ((model, opt, Xd, yd), (ref, ref_opt, gk.tensor(X), gk.tensor(y))):
            o.zero_grad()
            loss = gk.nn.functional.mse_loss(m(a).squeeze(-1), b)
            loss.backward()
            o.step()
    for p, q in zip(model.parameters(), ref.parameters()):
        assert isinstance(p._data, gpu.array_type)
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().numpy(), rtol=1e-10)


def test_saving_a_gpu_tensor_stores_its_values(gpu: _Lib, tmp_path: Any) -> None:
    w = gk.tensor([1.5, -2.0], device="cuda", requires_grad=True)
    gk.save({"w": w}, tmp_path / "w.gk")
    back = gk.load(tmp_path / "w.gk")["w"]
    assert back.device == "cpu" and back.requires_grad
    np.testing.assert_array_equal(back.detach().numpy(), [1.5, -2.0])


def test_gradient_tape_on_the_device(gpu: _Lib) -> None:
    w = gk.Variable(gk.tensor([1.0, -1.0, 2.0], dtype=gk.float64, device="cuda"))
    X = gk.tensor(np.arange(6.0).reshape(2, 3), device="cuda")
    with gk.GradientTape() as tape:
        loss = gk.sum((X @ w) ** 2)
    g = tape.gradient(loss, w)
    assert g.device == "cuda:0"
    Xn, wn = np.arange(6.0).reshape(2, 3), np.array([1.0, -1.0, 2.0])
    np.testing.assert_allclose(g.cpu().numpy(), 2 * Xn.T @ (Xn @ wn))
    w.assign_sub(g * 0.5)
    assert isinstance(w._data, gpu.array_type)
    np.testing.assert_allclose(w.numpy(), wn - Xn.T @ (Xn @ wn))


def test_transforms_on_the_device(gpu: _Lib) -> None:
    rng = np.random.default_rng(3)
    Xn = rng.normal(size=(6, 3))
    X, Xt = gk.tensor(Xn, device="cuda"), gk.tensor(Xn)
    w, wt = gk.tensor([0.2, -0.1, 0.4], dtype=gk.float64, device="cuda"), gk.tensor([0.2, -0.1, 0.4],
                                                                                 dtype=gk.float64)
    f = (lambda X: lambda w: gk.tanh(X @ w).pow(2).sum())
    for fn in (gk.autograd.functional.hessian, lambda g, v: gk.func.hessian(g)(v),
               lambda g, v: gk.func.jacrev(g)(v), lambda g, v: gk.func.jacfwd(g)(v)):
        got, want = fn(f(X), w), fn(f(Xt), wt)
        assert got.device == "cuda:0"
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-10, atol=1e-14)


def test_cuda_namespace(gpu: _Lib) -> None:
    assert gk.cuda.is_available()
    assert gk.cuda.device_count() >= 1
    assert gk.cuda.current_device() == 0
    gk.cuda.synchronize()


def test_real_gpu_present() -> None:
    if not _real_cuda():
        pytest.skip("no CUDA GPU with CuPy here: the device tests ran on the stand-in only")
    assert gk.cuda.device_count() >= 1


# --- without a GPU -------------------------------------------------------------------------
def test_without_a_gpu_the_error_says_what_to_install() -> None:
    if _real_cuda():
        pytest.skip("a GPU is present")
    assert not gk.cuda.is_available()
    with pytest.raises(RuntimeError, match=r"device 'cuda' needs CuPy and a CUDA GPU.*cupy"):
        gk.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="needs CuPy"):
        gk.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match="needs CuPy"):
        gk.ones(2).cuda()


def test_device_objects() -> None:
    assert gk.device("cpu") == "cpu" and str(gk.device("cuda:1")) == "cuda:1"
    assert gk.device("cuda", 1).index == 1 and gk.device(0) == "cuda:0"
    assert gk.ones(2).device == gk.device("cpu") and repr(gk.ones(2).device) == "device(type='cpu')"
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        gk.device("tpu")
    with pytest.raises(RuntimeError, match="Invalid device string"):
        gk.device("cuda:x")
    assert gk.ones(2).to("cpu") is not None
