"""The Tensor's attributes and methods, and the factories, as PyTorch defines them.

Expected values and reprs were recorded from PyTorch 2.13.0 (``torch.`` replaced
by ``gradkit.``) or follow from the definitions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    yield
    gk.set_default_dtype(gk.float32)


# --- data and grad ------------------------------------------------------------------------
def test_data_get_shares_memory_and_is_detached() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d[0] = 5.0
    assert x.tolist() == [5.0, 2.0]
    assert x._version == 0          # .data has its own version counter


def test_data_set_replaces_values_and_may_change_shape() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    x.data = gk.tensor([5.0, 6.0])
    assert repr(x) == "tensor([5., 6.], requires_grad=True)"
    assert x.is_leaf and x.requires_grad
    x.data = gk.tensor([5.0, 6.0, 7.0])
    assert x.shape == (3,)
    (x * x).sum().backward()
    assert x.grad.tolist() == [10.0, 12.0, 14.0]


def test_grad_get_set_delete() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    assert x.grad is None
    x.grad = gk.tensor([0.5, 0.5])
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.5, 2.5]        # accumulates into the assigned grad
    del x.grad
    assert x.grad is None
    x.grad = None
    assert x.grad is None
    with pytest.raises(TypeError):
        x.grad = [1.0, 2.0]
    with pytest.raises(RuntimeError):
        x.grad = gk.tensor([1.0, 2.0], dtype=gk.float64)


def test_requires_grad_and_is_leaf() -> None:
    x = gk.tensor([1.0, 2.0])
    assert not x.requires_grad and x.is_leaf
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    x.requires_grad = True
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn.name() == "MulBackward0"
    assert gk.tensor([1, 2]).requires_grad_(False).requires_grad is False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert y.grad is None


# --- shape and type attributes ------------------------------------------------------------
def test_shape_ndim_dtype_device() -> None:
    x = gk.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and isinstance(x.shape, gk.Size)
    assert repr(x.shape) == "torch.Size([2, 3])"
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and x.nelement() == 6
    assert x.dtype is gk.float32 and repr(x.dtype) == "torch.float32"
    assert str(x.device) == "cpu"
    assert len(x) == 2 and list(x.shape) == [2, 3] and gk.Size([2, 3]).numel() == 6
    assert x.element_size() == 4 and gk.tensor([1]).element_size() == 8
    assert x.is_floating_point() and not gk.tensor([1]).is_floating_point()
    assert gk.is_tensor(x) and not gk.is_tensor(np.ones(2)) and gk.numel(x) == 6


def test_T_and_mT() -> None:
    x = gk.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.T.tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
    assert x.mT.tolist() == x.T.tolist()
    b = gk.arange(24.0).reshape(2, 3, 4)
    assert b.mT.shape == (2, 4, 3)
    assert b.mT[1, 3, 2].item() == b[1, 2, 3].item()
    v = gk.tensor([1.0, 2.0])
    assert v.T.tolist() == [1.0, 2.0]
    w = gk.tensor([[1.0, 2.0]], requires_grad=True)
    (w.T * gk.tensor([[3.0], [4.0]])).sum().backward()
    assert w.grad.tolist() == [[3.0, 4.0]]


def test_item_tolist_and_python_conversions() -> None:
    assert gk.tensor(3.5).item() == 3.5 and isinstance(gk.tensor(3).item(), int)
    assert isinstance(gk.tensor(3.0).item(), float) and gk.tensor(True).item() is True
    assert gk.tensor([[1, 2]]).tolist() == [[1, 2]]
    x = gk.tensor(3.5, requires_grad=True)
    assert float(x) == 3.5 and int(x) == 3 and f"{x:.2f}" == "3.50"
    assert gk.tensor([[2.0]]).item() == 2.0


def test_numpy_shares_memory() -> None:
    t = gk.tensor([1.0, 2.0])
    n = t.numpy()
    assert isinstance(n, np.ndarray) and n.dtype == np.float32
    n[0] = 9.0
    assert t.tolist() == [9.0, 2.0]
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    assert x.detach().numpy().tolist() == [1.0, 2.0]


# --- detach, clone, contiguous --------------------------------------------------------------
def test_detach_shares_memory_and_version() -> None:
    x = gk.tensor([1.5, -2.5, 3.7], requires_grad=True)
    y = x.detach()
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    y[0] = 100.0
    assert x[0].item() == 100.0 and x._version == 1 and y._version == 1


def test_detach_in_place() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    assert repr(y) == "tensor([2., 4.])"


def test_clone_copies_and_stays_on_the_graph() -> None:
    x = gk.tensor([1.5, -2.5, 3.7], requires_grad=True)
    c = x.clone()
    assert repr(c) == "tensor([ 1.5000, -2.5000,  3.7000], grad_fn=<CloneBackward0>)"
    assert not c.is_leaf
    with gk.no_grad():
        c[0] = 0.0
    assert x[0].item() == 1.5
    c.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_contiguous() -> None:
    x = gk.tensor([[1.0, 2.0], [3.0, 4.0]]).t()
    assert not x.is_contiguous()
    c = x.contiguous()
    assert c.is_contiguous() and c.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert c.contiguous() is c


# --- conversions -----------------------------------------------------------------------------
def test_dtype_conversions() -> None:
    x = gk.tensor([1.5, -2.5, 3.7])
    assert repr(x.long()) == "tensor([ 1, -2,  3])"
    assert repr(x.int()) == "tensor([ 1, -2,  3], dtype=torch.int32)"
    assert repr(x.bool()) == "tensor([True, True, True])"
    assert repr(x.double()) == "tensor([ 1.5000, -2.5000,  3.7000], dtype=torch.float64)"
    assert x.float() is x and x.to(gk.float32) is x
    assert x.half().dtype is gk.float16
    assert x.to(gk.float64).dtype is gk.float64 and x.to(dtype=gk.int32).dtype is gk.int32
    assert x.type_as(gk.tensor([1])).dtype is gk.int64
    assert x.to(gk.tensor([1.0], dtype=gk.float64)).dtype is gk.float64
    assert x.to("cpu") is x and x.cpu() is x
    assert x.type() == "torch.FloatTensor" and gk.tensor([1]).type() == "torch.LongTensor"
    assert x.type(gk.float64).dtype is gk.float64
    assert x.type("torch.DoubleTensor").dtype is gk.float64


def test_float_conversions_are_differentiable() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype is gk.float64 and y.grad_fn.name() == "ToCopyBackward0"
    (y * gk.tensor([3.0, 4.0], dtype=gk.float64)).sum().backward()
    assert x.grad.dtype is gk.float32 and x.grad.tolist() == [3.0, 4.0]
    assert not x.long().requires_grad


# --- in-place fills ---------------------------------------------------------------------------
def test_zero_fill_copy() -> None:
    x = gk.zeros(3)
    assert x.fill_(2.5) is x and x.tolist() == [2.5, 2.5, 2.5]
    assert x.zero_() is x and x.tolist() == [0.0, 0.0, 0.0]
    assert x.copy_(gk.tensor([1.0, 2.0, 3.0])).tolist() == [1.0, 2.0, 3.0]
    assert x.copy_(gk.tensor(7)).tolist() == [7.0, 7.0, 7.0]     # broadcast and cast
    assert x._version == 4 and x.dtype is gk.float32


def test_copy_is_differentiable() -> None:
    src = gk.tensor([1.0, 2.0], requires_grad=True)
    dst = gk.zeros(2, 2)
    dst.copy_(src)
    assert dst.requires_grad and dst.tolist() == [[1.0, 2.0], [1.0, 2.0]]
    (dst * gk.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert src.grad.tolist() == [4.0, 6.0]


def test_fill_on_a_non_leaf_cuts_the_gradient() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.fill_(5.0)
    (y * x).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


# --- factories ---------------------------------------------------------------------------------
def test_tensor_factory_dtype_inference() -> None:
    assert gk.tensor(1.5).dtype is gk.float32 and gk.tensor([1.0, 2]).dtype is gk.float32
    assert gk.tensor(1).dtype is gk.int64 and gk.tensor([True, False]).dtype is gk.bool
    assert gk.tensor([]).dtype is gk.float32 and gk.tensor([]).shape == (0,)
    assert gk.tensor([[]]).shape == (1, 0)
    assert gk.tensor(np.array([1.5])).dtype is gk.float64
    assert gk.tensor(np.array([1], dtype=np.int32)).dtype is gk.int32
    assert repr(gk.tensor([1, 2], dtype=gk.float64)) == "tensor([1., 2.], dtype=torch.float64)"
    assert repr(gk.tensor(2, dtype=gk.float32)) == "tensor(2.)"


def test_tensor_factory_with_float64_keeps_python_floats_exact() -> None:
    assert gk.tensor(0.7, dtype=gk.float64).item() == 0.7
    assert gk.tensor([0.1, 0.7], dtype=gk.float64).tolist() == [0.1, 0.7]
    assert gk.tensor([[0.1]], dtype="float64").item() == 0.1


def test_tensor_factory_copies() -> None:
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = gk.tensor(a)
    a[0] = 7.0
    assert t.tolist() == [1.0, 2.0]
    u = gk.tensor(t)
    t[1] = 5.0
    assert u.tolist() == [1.0, 2.0]


def test_from_numpy_and_as_tensor_share_memory() -> None:
    a = np.array([1.0, 2.0, 3.0])
    t = gk.from_numpy(a)
    assert t.dtype is gk.float64
    t[0] = 10.0
    a[1] = 20.0
    assert a.tolist() == [10.0, 20.0, 3.0] and t.tolist() == [10.0, 20.0, 3.0]
    b = np.array([1.0, 2.0], dtype=np.float32)
    s = gk.as_tensor(b)
    b[0] = 5.0
    assert s.tolist() == [5.0, 2.0]
    assert gk.as_tensor(s) is s
    assert gk.as_tensor([1, 2]).dtype is gk.int64
    with pytest.raises(TypeError):
        gk.from_numpy([1.0, 2.0])


def test_constant_factories() -> None:
    assert repr(gk.zeros(2, 3)) == "tensor([[0., 0., 0.],\n        [0., 0., 0.]])"
    assert gk.zeros((2, 3)).shape == (2, 3) and gk.ones([2]).tolist() == [1.0, 1.0]
    assert gk.ones(2, dtype=gk.int32).dtype is gk.int32
    assert gk.full((2, 2), 1.5).tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert gk.full((2,), 7).dtype is gk.int64 and gk.full((2,), 7.0).dtype is gk.float32
    assert gk.full((2,), True).dtype is gk.bool
    assert gk.empty(2, 3).shape == (2, 3) and gk.empty(2).dtype is gk.float32
    assert gk.zeros(2, 0).shape == (2, 0)
    assert gk.eye(3).tolist() == np.eye(3).tolist() and gk.eye(2, 3).shape == (2, 3)
    assert gk.zeros(2, requires_grad=True).requires_grad


def test_arange_dtype_inference_and_values() -> None:
    assert gk.arange(5).dtype is gk.int64 and gk.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert gk.arange(1, 4).tolist() == [1, 2, 3]
    assert gk.arange(5.0).dtype is gk.float32
    assert gk.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert gk.arange(0, 10, 3).tolist() == [0, 3, 6, 9]
    assert gk.arange(10, 0, -3).tolist() == [10, 7, 4, 1]
    assert gk.arange(1, 2, 0.5, dtype=gk.float64).dtype is gk.float64
    assert gk.arange(1, 2.5, 0.5).dtype is gk.float32
    assert gk.arange(3, dtype=gk.float64).tolist() == [0.0, 1.0, 2.0]


def test_linspace() -> None:
    assert gk.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert gk.linspace(0, 1, 5).dtype is gk.float32
    assert gk.linspace(-1, 1, 3, dtype=gk.float64).tolist() == [-1.0, 0.0, 1.0]
    assert gk.linspace(0, 1, 1).tolist() == [0.0]


def test_like_factories() -> None:
    x = gk.ones(2, 3, dtype=gk.int32)
    assert gk.zeros_like(x).dtype is gk.int32 and gk.zeros_like(x).tolist() == [[0] * 3] * 2
    assert gk.ones_like(x, dtype=gk.float64).dtype is gk.float64
    assert gk.full_like(x, 7).tolist() == [[7] * 3] * 2
    assert gk.empty_like(x).shape == (2, 3)
    f = gk.ones(4, dtype=gk.float64)
    assert gk.rand_like(f).dtype is gk.float64 and gk.randn_like(f).shape == (4,)
    r = gk.randint_like(f, 3, 6)
    assert r.shape == (4,) and ((r >= 3) & (r < 6)).all()
    assert gk.zeros_like(f, requires_grad=True).requires_grad
    z = gk.zeros_like(gk.ones(2, requires_grad=True))
    assert not z.requires_grad


def test_new_factories_follow_the_tensor_dtype() -> None:
    x = gk.tensor([1.0, 2.0], dtype=gk.float64)
    assert x.new_tensor([3, 4]).dtype is gk.float64
    assert x.new_zeros(2).dtype is gk.float64 and x.new_ones((1, 2)).shape == (1, 2)
    assert x.new_full((2,), 3.0).tolist() == [3.0, 3.0]


def test_random_factories_shapes_ranges_and_dtypes() -> None:
    gk.manual_seed(0)
    r = gk.rand(1000)
    assert r.dtype is gk.float32 and r.shape == (1000,)
    assert 0.0 <= r.min().item() and r.max().item() < 1.0 and abs(r.mean().item() - 0.5) < 0.05
    n = gk.randn(2000, dtype=gk.float64)
    assert n.dtype is gk.float64 and abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1
    i = gk.randint(3, 7, (500,))
    assert i.dtype is gk.int64 and i.min().item() >= 3 and i.max().item() <= 6
    assert gk.randint(5, (2, 2)).shape == (2, 2)
    p = gk.randperm(6)
    assert sorted(p.tolist()) == list(range(6)) and p.dtype is gk.int64
    assert gk.rand(2, 3, requires_grad=True).requires_grad


def test_manual_seed_reproducibility() -> None:
    gk.manual_seed(42)
    a, b, c = gk.rand(5), gk.randn(3, 2), gk.randint(0, 100, (4,))
    gk.manual_seed(42)
    assert gk.equal(gk.rand(5), a) and gk.equal(gk.randn(3, 2), b)
    assert gk.equal(gk.randint(0, 100, (4,)), c)
    gk.manual_seed(43)
    assert not gk.equal(gk.rand(5), a)
    g1, g2 = gk.Generator().manual_seed(7), gk.Generator().manual_seed(7)
    assert gk.equal(gk.rand(3, generator=g1), gk.rand(3, generator=g2))
    state = gk.get_rng_state()
    x = gk.rand(3)
    gk.set_rng_state(state)
    assert gk.equal(gk.rand(3), x)


def test_default_dtype_get_set() -> None:
    assert gk.get_default_dtype() is gk.float32
    gk.set_default_dtype(gk.float64)
    assert gk.get_default_dtype() is gk.float64
    assert gk.tensor(1.5).dtype is gk.float64 and gk.zeros(1).dtype is gk.float64
    assert gk.rand(1).dtype is gk.float64 and gk.arange(3.0).dtype is gk.float64
    assert gk.linspace(0, 1, 2).dtype is gk.float64
    assert gk.tensor([1]).dtype is gk.int64
    assert (gk.tensor([1, 2]) * 0.5).dtype is gk.float64
    assert repr(gk.tensor(1.5)) == "tensor(1.5000)"
    gk.set_default_dtype(gk.float32)
    assert gk.tensor(1.5).dtype is gk.float32
    with pytest.raises(TypeError):
        gk.set_default_dtype(gk.int64)


def test_python_float_is_float32_and_int_is_int64() -> None:
    assert gk.tensor(0.1).dtype is gk.float32
    assert gk.tensor(0.1).item() == float(np.float32(0.1))
    assert gk.tensor(2 ** 40).dtype is gk.int64 and gk.tensor(2 ** 40).item() == 2 ** 40
    assert (gk.ones(2) + 1).dtype is gk.float32
    assert (gk.tensor([1, 2]) + 1).dtype is gk.int64


def test_requires_grad_factories_make_leaves() -> None:
    for t in (gk.zeros(2, requires_grad=True), gk.ones(2, requires_grad=True),
              gk.tensor([1.0], requires_grad=True), gk.randn(2, requires_grad=True),
              gk.full((2,), 1.0, requires_grad=True), gk.linspace(0, 1, 3, requires_grad=True),
              gk.arange(3.0, requires_grad=True), gk.eye(2, requires_grad=True)):
        assert t.requires_grad and t.is_leaf and t.grad_fn is None
