"""The meta device: tensors with a shape and a dtype and no values (PyTorch's ``device='meta'``).

Shapes and dtypes are checked against NumPy run on real arrays of the same shapes, and against a
live PyTorch where one is installed (importorskip); the messages are PyTorch 2.13's, recorded
from it.
"""

from __future__ import annotations

import copy
import tracemalloc

import numpy as np
import pytest

import gradkit as gk
from gradkit._core.meta import MetaArray

NO_ITEM = "^Tensor.item\\(\\) cannot be called on meta tensors$"
NO_DATA = "^Cannot copy out of meta tensor; no data!$"
NO_NUMPY = ("^can't convert meta device type tensor to numpy. Use Tensor.cpu\\(\\) to copy the "
            "tensor to host memory first.$")


def meta(*shape: int, **kw: object) -> gk.Tensor:
    return gk.empty(*shape, device="meta", **kw)


# --------------------------------------------------------------------------- what it is
def test_device_repr_and_flags() -> None:
    t = meta(3, 4)
    assert repr(t.device) == "device(type='meta')" and str(t.device) == "meta"
    assert t.is_meta and not gk.ones(2).is_meta
    assert t.shape == (3, 4) and t.dtype is gk.float32
    assert t.numel() == 12 and t.nbytes == 48 and t.stride() == (4, 1)
    assert t.data_ptr() == 0                              # PyTorch's for a meta tensor
    assert gk.device("meta") == t.device
    assert t.type() == "torch.meta.FloatTensor"
    assert isinstance(t._data, MetaArray)


@pytest.mark.parametrize("make, text", [
    (lambda: meta(3, 4), "tensor(..., device='meta', size=(3, 4))"),
    (lambda: meta(3, 4, dtype=gk.int64), "tensor(..., device='meta', size=(3, 4), dtype=torch.int64)"),
    (lambda: meta(2, dtype=gk.bool), "tensor(..., device='meta', size=(2,), dtype=torch.bool)"),
    (lambda: meta(), "tensor(..., device='meta', size=())"),
    (lambda: meta(0), "tensor(..., device='meta', size=(0,))"),
    (lambda: meta(3, 4, dtype=gk.float64, requires_grad=True),
     "tensor(..., device='meta', size=(3, 4), dtype=torch.float64,\n       requires_grad=True)"),
    (lambda: (meta(3, requires_grad=True) * 2).sum(),
     "tensor(..., device='meta', size=(), grad_fn=<SumBackward0>)"),
    (lambda: gk.nn.Parameter(meta(2)),
     "Parameter containing:\ntensor(..., device='meta', size=(2,), requires_grad=True)"),
])
def test_repr_is_pytorchs(make: object, text: str) -> None:
    t = make()                                            # type: ignore[operator]
    assert repr(t) == text and str(t) == text and f"{t}" == text


# --------------------------------------------------------------------------- no values out
@pytest.mark.parametrize("get, exc, msg", [
    (lambda t: t[0, 0].item(), RuntimeError, NO_ITEM),
    (lambda t: float(t[0, 0]), RuntimeError, NO_ITEM),
    (lambda t: int(t[0, 0]), RuntimeError, NO_ITEM),
    (lambda t: bool(t[0, 0]), RuntimeError, NO_ITEM),
    (lambda t: t[0, 0] in t, RuntimeError, NO_ITEM),
    (lambda t: t.tolist(), NotImplementedError, NO_DATA),
    (lambda t: t.cpu(), NotImplementedError, NO_DATA),
    (lambda t: t.to("cpu"), NotImplementedError, NO_DATA),
    (lambda t: gk.ones(3, 4).copy_(t), NotImplementedError, NO_DATA),
    (lambda t: t.numpy(), TypeError, NO_NUMPY),
    (lambda t: np.asarray(t), TypeError, NO_NUMPY),
    (lambda t: f"{t[0, 0]:.2f}", TypeError, "^unsupported format string passed to Tensor.__format__$"),
    (lambda t: gk.nonzero(t), NotImplementedError, "nonzero"),
    (lambda t: gk.unique(t), NotImplementedError, "unique"),
    (lambda t: t[t > 0], NotImplementedError, "nonzero"),
    (lambda t: gk.allclose(t, t), RuntimeError, NO_ITEM),
])
def test_values_never_come_out(get: object, exc: type, msg: str) -> None:
    with pytest.raises(exc, match=msg):
        get(meta(3, 4))                                   # type: ignore[operator]


def test_values_going_in_are_checked_for_shape_only() -> None:
    t = meta(3, 4)
    assert t.copy_(gk.ones(3, 4)) is t and t.is_meta      # PyTorch allows copying into meta
    t[0] = 1.0
    t[t > 0] = 2.0                                        # a mask filled with one value
    with pytest.raises(ValueError):
        t[0] = gk.ones(5).to("meta")


# --------------------------------------------------------------------------- shapes
OPS = [
    ("add", lambda a, b: a + b, [(3, 1), (1, 4)]),
    ("mul_scalar", lambda a: a * 2.5, [(3,)]),
    ("matmul", lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    ("matmul_vec", lambda a, b: a @ b, [(4,), (4, 5)]),
    ("sum_dim", lambda a: a.sum(1), [(3, 4, 5)]),
    ("mean_keep", lambda a: a.mean((0, 2), keepdim=True), [(3, 4, 5)]),
    ("max_dim", lambda a: a.max(1)[1], [(3, 4)]),
    ("argmax", lambda a: a.argmax(), [(3, 4)]),
    ("std", lambda a: a.std(0), [(3, 4)]),
    ("view_t", lambda a: a.view(4, 3).t(), [(3, 4)]),
    ("getitem", lambda a: a[1:, None, ::2], [(3, 4)]),
    ("int_index", lambda a: a[gk.tensor([0, 2, 2])], [(3, 4)]),
    ("cat", lambda a, b: gk.cat([a, b], 1), [(3, 4), (3, 2)]),
    ("stack", lambda a, b: gk.stack([a, b]), [(3, 4), (3, 4)]),
    ("softmax", lambda a: gk.softmax(a, -1), [(3, 4)]),
    ("linear", lambda a, w, b: gk.nn.functional.linear(a, w, b), [(5, 4), (3, 4), (3,)]),
    ("conv2d", lambda a, w: gk.nn.functional.conv2d(a, w, stride=2, padding=1),
     [(2, 3, 9, 9), (4, 3, 3, 3)]),
    ("einsum", lambda a, b: gk.einsum("bij,jk->bik", a, b), [(2, 3, 4), (4, 5)]),
    ("cumsum", lambda a: a.cumsum(0), [(3, 4)]),
    ("topk", lambda a: a.topk(2).indices, [(3, 4)]),
    ("where", lambda a, b: gk.where(a > 0, a, b), [(3, 4), (3, 4)]),
    ("inv", lambda a: gk.linalg.inv(a), [(2, 3, 3)]),
]


def _real(shape: tuple[int, ...]) -> gk.Tensor:
    return gk.tensor(np.linspace(0.5, 2.0, int(np.prod(shape))).reshape(shape)
                     + np.eye(*shape[-2:]).reshape((1,) * (len(shape) - 2) + shape[-2:]) * 3
                     if len(shape) >= 2 and shape[-1] == shape[-2] else
                     np.linspace(0.5, 2.0, int(np.prod(shape))).reshape(shape), dtype=gk.float32)


@pytest.mark.parametrize("name, fn, shapes", OPS, ids=[o[0] for o in OPS])
def test_shape_and_dtype_match_a_real_run(name: str, fn: object, shapes: list) -> None:
    # the expected shape and dtype: the same op on real CPU data
    want = fn(*[_real(s) for s in shapes])                 # type: ignore[operator]
    got = fn(*[meta(*s) for s in shapes])                  # type: ignore[operator]
    assert got.is_meta
    assert got.shape == want.shape and got.dtype == want.dtype


def test_dtype_promotion_follows_pytorch() -> None:
    assert (meta(3, dtype=gk.int64) / 2).dtype is gk.float32
    assert (meta(3, dtype=gk.int64) * 2.5).dtype is gk.float32
    assert (meta(3, dtype=gk.float16) * meta(3, dtype=gk.float64)).dtype is gk.float64
    assert meta(3, dtype=gk.int32).sum().dtype is gk.int64
    assert (meta(3) > 0).dtype is gk.bool


def test_autograd_gives_meta_gradients() -> None:
    x = meta(2, 3, 8, 8, requires_grad=True)
    w = meta(4, 3, 3, 3, requires_grad=True)
    y = gk.nn.functional.conv2d(x, w, padding=1).relu().mean()
    y.backward()
    assert x.grad.is_meta and x.grad.shape == x.shape
    assert w.grad.is_meta and w.grad.shape == w.shape
    a = meta(3, 4, requires_grad=True)
    (a * 2).sum().backward()
    (a * 3).sum().backward()                              # accumulation stays meta
    assert a.grad.is_meta and a.grad.shape == (3, 4)
    g, = gk.autograd.grad((a.sin() * a).sum(), a)
    assert g.is_meta and g.shape == (3, 4)


def test_transforms_run_on_meta() -> None:
    assert gk.vmap(lambda r: r.sum())(meta(4, 3)).shape == (4,)
    assert gk.func.jacrev(lambda r: r.sin())(meta(3)).shape == (3, 3)


# --------------------------------------------------------------------------- devices mixed
def test_mixing_with_cpu_tensors() -> None:
    m, c = meta(3, 4), gk.ones(3, 4)
    with pytest.raises(RuntimeError, match="^Tensor on device cpu is not on the expected device meta!$"):
        m + c
    with pytest.raises(RuntimeError, match="^Tensor on device meta is not on the expected device cpu!$"):
        c + m
    with pytest.raises(RuntimeError, match="^Tensor on device cpu is not on the expected device meta!$"):
        gk.cat([m, c])
    # a 0-d CPU tensor acts as a number; a CPU operand after a meta one is taken as PyTorch does
    assert (m + gk.tensor(2.0)).is_meta and (gk.tensor(2.0) + m).is_meta
    assert (m @ gk.ones(4, 2)).shape == (3, 2)
    assert m[gk.tensor([0, 1])].is_meta and m.index_select(0, gk.tensor([2])).is_meta
    # where PyTorch returns uninitialised CPU memory, gradkit raises
    with pytest.raises(RuntimeError):
        gk.ones(2, 3) @ m
    with pytest.raises((RuntimeError, TypeError)):
        c[gk.tensor([0, 1]).to("meta")]


# --------------------------------------------------------------------------- creation
@pytest.mark.parametrize("make", [
    lambda: gk.empty(2, 3, device="meta"), lambda: gk.zeros(2, 3, device="meta"),
    lambda: gk.ones((2, 3), device="meta"), lambda: gk.randn(2, 3, device="meta"),
    lambda: gk.rand(2, 3, device="meta"), lambda: gk.full((2, 3), 1.5, device="meta"),
    lambda: gk.zeros_like(gk.ones(2, 3), device="meta"), lambda: gk.empty_like(meta(2, 3)),
    lambda: gk.randn_like(meta(2, 3)), lambda: gk.ones(2, 3).to("meta"),
    lambda: gk.ones(2, 3).to(device="meta"), lambda: gk.ones(2, 3).to(gk.device("meta")),
    lambda: gk.tensor(np.ones((2, 3), np.float32), device="meta"),
    lambda: gk.as_tensor(gk.ones(2, 3), device="meta"),
])
def test_factories(make: object) -> None:
    t = make()                                            # type: ignore[operator]
    assert t.is_meta and t.shape == (2, 3) and t.dtype is gk.float32


def test_integer_factories() -> None:
    assert gk.arange(5, device="meta").shape == (5,)
    assert gk.arange(5, device="meta").dtype is gk.int64
    assert gk.randint(10, (4,), device="meta").dtype is gk.int64
    assert gk.randperm(4, device="meta").is_meta
    assert gk.full((2,), 3, device="meta").dtype is gk.int64


def test_meta_tensors_take_no_memory() -> None:
    tracemalloc.start()
    try:
        x = gk.empty(10 ** 5, 10 ** 5, device="meta", requires_grad=True)   # 40 GB if real
        y = (x.sin() * gk.randn(10 ** 5, 10 ** 5, device="meta")).sum(1).mean()
        y.backward()
        z = gk.einsum("ij,jk->ik", x.detach(), x.detach()) @ x.detach()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert x.grad.shape == x.shape and z.shape == x.shape
    assert peak < 50 * 2 ** 20


def test_random_draws_skip_meta_tensors() -> None:
    # PyTorch's generator does not advance for meta tensors: what follows is unchanged
    gk.manual_seed(3)
    expected = gk.rand(4).numpy().copy()
    gk.manual_seed(3)
    gk.randn(100, device="meta")
    gk.randint(0, 5, (100,), device="meta")
    meta(100).uniform_()
    meta(10).normal_()
    gk.nn.init.kaiming_uniform_(meta(10, 10))
    gk.nn.init.orthogonal_(meta(4, 6))
    gk.nn.Linear(30, 40, device="meta")
    gk.nn.functional.dropout(meta(50), 0.5)
    gk.nn.functional.dropout2d(meta(2, 3, 4, 4), 0.5)
    np.testing.assert_array_equal(gk.rand(4).numpy(), expected)


def test_default_device() -> None:
    assert gk.get_default_device() == "cpu"
    with gk.device("meta"):
        assert gk.get_default_device() == "meta"
        assert gk.zeros(2).is_meta and gk.tensor([1.0]).is_meta and gk.arange(3).is_meta
        assert not gk.ones(2, device="cpu").is_meta
        assert not gk.zeros_like(gk.ones(2, device="cpu")).is_meta     # like its input
        assert gk.nn.Linear(2, 3).weight.is_meta
    assert not gk.zeros(2).is_meta
    gk.set_default_device("meta")
    try:
        assert gk.ones(1).is_meta
    finally:
        gk.set_default_device(None)
    assert gk.get_default_device() == "cpu" and not gk.ones(1).is_meta


def test_deepcopy_and_detach_stay_meta() -> None:
    t = meta(2, requires_grad=True)
    c = copy.deepcopy(t)
    assert c.is_meta and c.requires_grad and c is not t
    assert t.detach().is_meta and t.clone().is_meta and t.to("meta") is t


# --------------------------------------------------------------------------- against PyTorch
TORCH_CASES = [
    "torch.empty(3, 4, device='meta')",
    "torch.empty(2, 3, 4, 5, 6, device='meta', dtype=torch.complex128, requires_grad=True)",
    "torch.ones(3, device='meta', requires_grad=True).sin() * 2",
    "torch.ones(3).to('meta').to(device='meta', dtype=torch.float64)",
    "torch.empty(3, 4, device='meta').max(1)",
    "torch.empty(3, 4, device='meta').sort(1)",
    "torch.empty(5, 3, device='meta').topk(2)",
    "torch.empty(3, 4, device='meta') @ torch.empty(4, device='meta')",
    "torch.nn.functional.cross_entropy(torch.empty(3, 5, device='meta'), "
    "torch.empty(3, dtype=torch.int64, device='meta'))",
    "torch.nn.functional.embedding(torch.empty(4, dtype=torch.int64, device='meta'), "
    "torch.empty(10, 3, device='meta'))",
    "torch.nn.functional.one_hot(torch.empty(3, dtype=torch.int64, device='meta'), 5)",
    "torch.nn.functional.max_pool2d(torch.empty(1, 2, 6, 6, device='meta'), 2)",
    "torch.linalg.svd(torch.empty(3, 4, device='meta'))",
    "torch.nn.LSTM(3, 4, device='meta')(torch.empty(5, 2, 3, device='meta'))[0]",
    "torch.empty(3, 4, device='meta') + torch.tensor(2.0)",
    "torch.empty(3, 4, device='meta') + torch.ones(3, 4)",
    "torch.ones(3, 4) + torch.empty(3, 4, device='meta')",
    "torch.empty(3, 4, device='meta').item()",
    "torch.empty(3, device='meta').cpu()",
    "torch.empty(3, device='meta').numpy()",
    "torch.empty(3, device='meta').tolist()",
    "torch.nn.Linear(2, 3, device='meta').state_dict()",
    "torch.nn.Linear(2, 3).to_empty(device='meta').weight",
]


def _outcome(expr: str, lib: object) -> str:
    try:
        return repr(eval(expr, {"torch": lib}))
    except Exception as e:                                    # noqa: BLE001 - compared below
        return f"{type(e).__name__}: {e}"


@pytest.mark.parametrize("expr", TORCH_CASES)
def test_same_as_pytorch(expr: str) -> None:
    torch = pytest.importorskip("torch")
    assert _outcome(expr, gk) == _outcome(expr, torch)


def test_sampling_from_meta_parameters_draws_nothing() -> None:
    gk.manual_seed(5)
    expected = gk.rand(3).numpy().copy()
    gk.manual_seed(5)
    assert gk.normal(meta(4), 1.0).shape == (4,) and gk.normal(meta(4), 1.0).is_meta
    assert gk.bernoulli(meta(2, 3)).is_meta
    np.testing.assert_array_equal(gk.rand(3).numpy(), expected)


def test_assert_close_compares_meta_tensors_by_shape_device_dtype() -> None:
    gk.testing.assert_close(meta(3), meta(3))
    with pytest.raises(AssertionError, match="^The values for attribute 'device' do not match: "
                                             "meta != cpu.$"):
        gk.testing.assert_close(meta(3), gk.ones(3))
    with pytest.raises(AssertionError, match="^The values for attribute 'dtype' do not match: "
                                             "torch.float32 != torch.float64.$"):
        gk.testing.assert_close(meta(3), meta(3, dtype=gk.float64))
    with pytest.raises(AssertionError, match="'shape' do not match"):
        gk.testing.assert_close(meta(3), meta(4))
