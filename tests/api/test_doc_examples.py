"""What the sweep of PyTorch's docstring examples (tools/docexamples.py) found and gradkit now
does as PyTorch does. Expected values were recorded from PyTorch 2.13 (CPU) or are worked out
by hand; each test names the docstring whose example showed the difference."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gradkit as gk


def test_constants() -> None:  # torch.aminmax, torch.equal, torch.nanmean use torch.nan
    assert math.isnan(gk.nan) and gk.inf == math.inf and gk.pi == math.pi and gk.e == math.e
    assert gk.newaxis is None
    t = gk.tensor([[gk.nan, 1, 2], [1, 2, 3]])
    assert gk.nanmean(t).item() == pytest.approx(1.8)


def test_vdot_conjugates_its_first_argument() -> None:  # torch.vdot
    a = gk.tensor((1 + 2j, 3 - 1j))
    b = gk.tensor((2 + 1j, 4 - 0j))
    assert gk.vdot(a, b).item() == 16 + 1j          # recorded from PyTorch
    assert gk.vdot(b, a).item() == 16 - 1j
    assert gk.vdot(gk.tensor([2, 3]), gk.tensor([2, 1])).item() == 7
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 2D tensors"):
        gk.vdot(gk.ones(2, 2), gk.ones(2, 2))


def test_vdot_gradient() -> None:
    # d/dx sum(conj(x) * y) for real x: y; d/dy: conj(x)
    x = gk.tensor([1.0, -2.0], requires_grad=True)
    y = gk.tensor([3.0, 0.5], requires_grad=True)
    gk.vdot(x, y).backward()
    assert x.grad.tolist() == [3.0, 0.5] and y.grad.tolist() == [1.0, -2.0]


def test_inner_over_last_dimensions() -> None:  # torch.inner
    a = gk.arange(6.0).reshape(2, 3)
    b = gk.arange(24.0).reshape(2, 4, 3)
    r = gk.inner(a, b)
    assert r.shape == (2, 2, 4)
    assert r[1, 1].tolist() == [158.0, 194.0, 230.0, 266.0]     # recorded from PyTorch
    assert gk.inner(gk.tensor(2.0), a)[1].tolist() == [6.0, 8.0, 10.0]
    assert gk.inner(gk.tensor([1.0, 2.0]), gk.tensor([3.0, 4.0])).item() == 11.0
    with pytest.raises(RuntimeError, match="last dimension must match"):
        gk.inner(gk.ones(2, 3), gk.ones(3, 2))


def test_float_power_is_double() -> None:  # torch.float_power
    r = gk.float_power(gk.tensor([4, -3]), 2)
    assert r.dtype is gk.float64 and r.tolist() == [16.0, 9.0]
    assert gk.float_power(gk.tensor([2.0]), gk.tensor([3])).dtype is gk.float64
    assert gk.float_power(gk.tensor([1j]), 2).dtype is gk.complex128
    assert gk.float_power(2, gk.tensor([1, 2])).tolist() == [2.0, 4.0]
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    gk.float_power(x, 3).sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]                      # 3 x**2


def test_atleast_nd_take_several_tensors() -> None:  # torch.atleast_1d, torch.atleast_2d
    x, y = gk.tensor(0.5), gk.tensor(1.0)
    r = gk.atleast_1d((x, y))
    assert isinstance(r, tuple) and [t.shape for t in r] == [(1,), (1,)]
    r = gk.atleast_2d(x, y)
    assert isinstance(r, tuple) and [t.shape for t in r] == [(1, 1), (1, 1)]
    assert gk.atleast_2d(gk.ones(3)).shape == (1, 3)


def test_size_slices_and_joins_are_sizes() -> None:  # torch.linalg.tensorsolve
    s = gk.Size([2, 3, 4])
    assert repr(s[1:]) == "torch.Size([3, 4])" and s[0] == 2 and type(s[0]) is int
    assert repr(s + (5,)) == "torch.Size([2, 3, 4, 5])"
    assert repr((5,) + s) == "torch.Size([5, 2, 3, 4])"
    assert repr(s * 2) == "torch.Size([2, 3, 4, 2, 3, 4])"
    assert repr(gk.ones(6, 4).shape[1:]) == "torch.Size([4])"


def test_bool_of_empty_tensor() -> None:  # torch.is_nonzero
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        gk.is_nonzero(gk.tensor([]))
    with pytest.raises(RuntimeError, match="with more than one value is ambiguous"):
        bool(gk.tensor([1, 2]))


def test_nonzero_of_0d_tensor() -> None:  # torch.nonzero
    assert gk.nonzero(gk.tensor(5)).shape == (1, 0)
    assert gk.nonzero(gk.tensor(0)).shape == (0, 0)
    (i,) = gk.nonzero(gk.tensor(5), as_tuple=True)
    assert i.tolist() == [0] and i.dtype is gk.int64
    (i,) = gk.nonzero(gk.tensor(0), as_tuple=True)
    assert i.tolist() == []


def test_out_keyword_of_pointwise_functions() -> None:  # torch.logical_and, ...
    a = gk.tensor([True, False, True])
    b = gk.tensor([True, False, False])
    out = gk.empty(3, dtype=gk.bool)
    r = gk.logical_and(a, b, out=out)
    assert r is out and out.tolist() == [True, False, False]
    out = gk.empty(3, dtype=gk.int16)
    gk.logical_not(gk.tensor([0.0, 1.0, -10.0], dtype=gk.double), out=out)
    assert out.dtype is gk.int16 and out.tolist() == [1, 0, 0]
    out = gk.empty(3, dtype=gk.float64)
    gk.mul(gk.ones(3), 2, out=out)
    assert out.tolist() == [2.0, 2.0, 2.0] and out.dtype is gk.float64
    # PyTorch's messages
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output "
                                           "type Long"):
        gk.sin(gk.ones(3), out=gk.empty(3, dtype=gk.long))
    with pytest.raises(RuntimeError, match=r"sin\(\): functions with out=... arguments don't "
                                           "support automatic differentiation"):
        gk.sin(gk.ones(3, requires_grad=True), out=gk.empty(3))
    # an empty out is resized silently; a non-empty one of another shape with a warning
    out = gk.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gk.sin(gk.zeros(2), out=out)
    assert out.tolist() == [0.0, 0.0]
    out = gk.empty(1)
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        gk.cos(gk.zeros(2), out=out)
    assert out.tolist() == [1.0, 1.0]


def test_asarray_copy_and_requires_grad() -> None:  # torch.asarray
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    assert gk.asarray(a) is a
    b = gk.asarray(a, copy=True)
    assert b is not a and b.grad_fn.name() == "CloneBackward0"   # a copy keeps the graph
    n = np.ones(2)
    shared, copied = gk.asarray(n), gk.asarray(n, copy=True)
    n[0] = 5.0
    assert shared.tolist() == [5.0, 1.0] and copied.tolist() == [1.0, 1.0]
    assert gk.asarray([1, 2], requires_grad=False).dtype is gk.int64
    assert gk.asarray([1.0], requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="can't alias arbitrary sequence into a tensor."):
        gk.asarray([1, 2], copy=False)
    with pytest.raises(ValueError, match="can't alias tensor with dtype 'Double' into dtype 'Float'."):
        gk.asarray(np.ones(2), dtype=gk.float32, copy=False)


def test_repeat_interleave_output_size() -> None:  # torch.repeat_interleave
    y = gk.tensor([[1, 2], [3, 4]])
    r = gk.repeat_interleave(y, gk.tensor([1, 2]), dim=0, output_size=3)
    assert r.tolist() == [[1, 2], [3, 4], [3, 4]]
    with pytest.raises(RuntimeError, match="allocated size does not match required size"):
        gk.repeat_interleave(y, gk.tensor([1, 2]), dim=0, output_size=4)


def test_complex_casts_and_negative_bit() -> None:  # torch.linalg.eigh, torch.resolve_neg
    c = gk.tensor([1.0, 2.0]).cdouble()
    assert c.dtype is gk.complex128 and c.tolist() == [1 + 0j, 2 + 0j]
    assert gk.tensor([1]).cfloat().dtype is gk.complex64
    assert gk.ones(1).is_neg() is False and gk.is_neg(gk.ones(1)) is False


def test_scatter_with_reduce() -> None:  # torch.Tensor.scatter_
    index = gk.tensor([[2], [3]])
    r = gk.full((2, 4), 2.0).scatter_(1, index, 1.23, reduce="multiply")
    np.testing.assert_allclose(r.numpy(), [[2, 2, 2.46, 2], [2, 2, 2, 2.46]], rtol=1e-6)
    r = gk.full((2, 4), 2.0).scatter(1, index, gk.tensor([[5.0, 6.0], [7.0, 8.0]]), reduce="add")
    assert r.tolist() == [[2, 2, 7, 2], [2, 2, 2, 9]]       # recorded from PyTorch
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply."):
        gk.full((2, 4), 2.0).scatter_(1, index, 1.23, reduce="max")
    x = gk.ones(2, 4, requires_grad=True)
    x.scatter(1, index, 3.0, reduce="multiply").sum().backward()
    assert x.grad.tolist() == [[1, 1, 3, 1], [1, 1, 1, 3]]   # d(3x)/dx where scattered


def test_einsum_sublist_format() -> None:  # torch.einsum
    rng = np.random.default_rng(1)
    a, b = rng.random((2, 3, 4)), rng.random((2, 4, 5))
    r = gk.einsum(gk.tensor(a), [..., 0, 1], gk.tensor(b), [..., 1, 2], [..., 0, 2])
    np.testing.assert_allclose(r.numpy(), a @ b, rtol=1e-12)
    assert gk.einsum(gk.tensor([[1.0, 2.0], [3.0, 4.0]]), [0, 0]).item() == 5.0     # the trace
    with pytest.raises(ValueError, match="within the range"):
        gk.einsum(gk.ones(2), [60])


def test_asarray_requires_grad_keeps_or_detaches() -> None:  # torch.asarray
    a = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a + 2
    assert gk.asarray(b) is b and gk.asarray(b, requires_grad=True) is b
    c = gk.asarray(b, requires_grad=False)
    assert c.grad_fn is None and not c.requires_grad and c.tolist() == [3.0, 4.0, 5.0]


def test_repeat_interleave_of_repeats_alone() -> None:  # torch.repeat_interleave
    assert gk.repeat_interleave(gk.tensor([1, 2, 3])).tolist() == [0, 1, 1, 2, 2, 2]
    assert gk.repeat_interleave(gk.tensor([0, 2, 1])).tolist() == [1, 1, 2]
    with pytest.raises(RuntimeError, match="only accept 1D vector as repeat"):
        gk.repeat_interleave(gk.tensor([[1, 2]]))


def test_resize_() -> None:  # torch.kthvalue
    x = gk.arange(1.0, 7.0)
    assert x.resize_(2, 3) is x and x.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert gk.arange(4.0).resize_(2).tolist() == [0.0, 1.0]
    assert gk.ones(2).resize_(gk.Size([1, 2])).shape == (1, 2)
    assert gk.ones(2).resize_(3).shape == (3,)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        gk.ones(2, requires_grad=True).resize_(3)


# --- functions PyTorch documents with examples that gradkit lacked (python -m tools.docexamples
# --missing); values recorded from PyTorch 2.13 or computed independently with NumPy

def test_quantile_against_numpy() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 5))
    for interp in ("linear", "lower", "higher", "midpoint", "nearest"):
        got = gk.quantile(gk.tensor(a), gk.tensor([0.0, 0.25, 0.5, 1.0], dtype=gk.float64),
                          dim=1, interpolation=interp)
        np.testing.assert_allclose(got.numpy(), np.quantile(a, [0.0, 0.25, 0.5, 1.0], axis=1,
                                                            method=interp), rtol=1e-12)
    assert gk.quantile(gk.tensor(a), 0.3).shape == ()
    assert gk.quantile(gk.tensor(a), 0.3, dim=0, keepdim=True).shape == (1, 5)
    assert gk.quantile(gk.tensor(a), gk.tensor([0.2, 0.4], dtype=gk.float64), dim=0,
                       keepdim=True).shape == (2, 1, 5)
    b = a.copy()
    b[1, 2] = np.nan
    r = gk.quantile(gk.tensor(b), 0.5, dim=1).numpy()
    assert np.isnan(r[1]) and not np.isnan(r[[0, 2]]).any()
    assert gk.quantile(gk.tensor([0.0, 1, 2, 3]), 0.5, interpolation="nearest").item() == 2.0
    with pytest.raises(RuntimeError, match="input tensor must be either float or double dtype"):
        gk.quantile(gk.tensor([1, 2]), 0.5)
    # PyTorch 2.13's words: a number q and a tensor q are checked by different messages
    with pytest.raises(RuntimeError, match=r"q must be in the range \[0, 1\] but got 1.5"):
        gk.quantile(gk.tensor([1.0, 2.0]), 1.5)
    with pytest.raises(RuntimeError, match=r"q values must be in the range \[0, 1\]"):
        gk.quantile(gk.tensor([1.0, 2.0]), gk.tensor([0.5, 1.5]))


def test_quantile_gradient() -> None:
    # linear interpolation between order statistics: at q=0.3 of 5 values, pos 1.2 -> 0.8 to the
    # second smallest, 0.2 to the third
    x = gk.tensor([5.0, 1.0, 4.0, 2.0, 3.0], requires_grad=True)
    gk.quantile(x, 0.3).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0, 0, 0.8, 0.2], atol=1e-7)


def test_isposinf_isneginf_isreal_isin() -> None:
    inf = float("inf")
    assert gk.isposinf(gk.tensor([-inf, inf, 1.2])).tolist() == [False, True, False]
    assert gk.isneginf(gk.tensor([-inf, inf, 1.2])).tolist() == [True, False, False]
    assert gk.isneginf(gk.tensor([1, 2])).tolist() == [False, False]
    assert gk.isreal(gk.tensor([1, 1 + 1j, 2 + 0j])).tolist() == [True, False, True]
    assert gk.isreal(gk.tensor([1.0, 2.0])).tolist() == [True, True]
    r = gk.isin(gk.tensor([[1, 2], [3, 4]]), gk.tensor([2, 3]))
    assert r.tolist() == [[False, True], [True, False]]
    assert gk.isin(gk.tensor([1, 2]), 2, invert=True).tolist() == [True, False]
    assert gk.isin(3, gk.tensor([1, 3])).item() is True


def test_diagflat_unravel_index_adjoint() -> None:
    d = gk.diagflat(gk.tensor([[1.0, 2.0], [3.0, 4.0]]), 1)
    np.testing.assert_array_equal(d.numpy(), np.diagflat([1.0, 2.0, 3.0, 4.0], 1))
    r, c = gk.unravel_index(gk.tensor([4, 1]), (2, 3))
    assert r.tolist() == [1, 0] and c.tolist() == [1, 1]
    assert [t.item() for t in gk.unravel_index(gk.tensor(4), (2, 3))] == [1, 1]
    assert [t.tolist() for t in gk.unravel_index(gk.tensor([-1]), (2, 3))] == [[1], [2]]
    with pytest.raises(TypeError, match="expected 'indices' to be integer dtype"):
        gk.unravel_index(gk.tensor([1.5]), (2, 3))
    z = gk.tensor([[1 + 1j, 2], [3, 4 - 2j]])
    np.testing.assert_array_equal(gk.adjoint(z).numpy(), z.numpy().conj().T)
    assert gk.cosine_similarity(gk.ones(2, 3), gk.ones(2, 3)).tolist() == pytest.approx([1.0, 1.0])


def test_mode_and_nanmedian_name_their_return_types() -> None:  # torch.mode, torch.nanmedian
    # recorded from PyTorch: torch.return_types.mode( / torch.return_types.nanmedian(
    r = gk.mode(gk.tensor([[1, 2, 2], [3, 3, 1]]), 1)
    assert repr(r).splitlines()[0] == "torch.return_types.mode("
    assert r.values.tolist() == [2, 3] and r.indices.tolist() == [2, 1]
    r = gk.tensor([[2.0, 3.0, 1.0], [gk.nan, 1.0, 1.0]]).nanmedian(0)
    assert repr(r).splitlines()[0] == "torch.return_types.nanmedian("
    assert r.values.tolist() == [2.0, 1.0, 1.0] and r.indices.tolist() == [0, 1, 0]
    r = gk.nanmedian(gk.tensor([[4, 1, 2]]), 1)          # integer input
    assert type(r).__name__ == "nanmedian" and r.values.tolist() == [2]
    assert type(gk.median(gk.tensor([[4.0, 1.0]]), 1)).__name__ == "median"


def test_geqrf_and_complex_householder_product() -> None:  # torch.linalg.householder_product
    a = np.array([[3.0, 1.0], [4.0, 2.0], [0.0, 5.0]])
    h, tau = gk.geqrf(gk.tensor(a))
    # recorded from PyTorch 2.13: torch.geqrf(torch.tensor(a, dtype=torch.float64))
    np.testing.assert_allclose(h.numpy(), [[-5.0, -2.2], [0.5, -5.015974481593782],
                                           [0.0, 0.923194896318756]], atol=1e-12)
    np.testing.assert_allclose(tau.numpy(), [1.6, 1.07974522228289], atol=1e-12)
    q = gk.linalg.householder_product(h, tau)
    np.testing.assert_allclose((q @ gk.triu(h[:2])).numpy(), a, atol=1e-12)
    x = gk.tensor(a, requires_grad=True)
    with pytest.raises(NotImplementedError, match="the derivative for 'geqrf' is not implemented"):
        gk.geqrf(x).a.sum().backward()
    with pytest.raises(RuntimeError, match="input must have at least 2 dimensions"):
        gk.geqrf(gk.ones(3))
    # complex: H_i = I - tau_i v_i v_i^H (recorded from PyTorch 2.13)
    hc = gk.tensor([[1 + 1j, 2.0], [0.5 - 1j, 1j]])
    tc = gk.tensor([0.5 + 0.5j, 0.25j])
    np.testing.assert_allclose(gk.linalg.householder_product(hc, tc).numpy(),
                               [[0.5 - 0.5j, 0.0625 - 0.8125j], [-0.75 + 0.25j, 0.21875 - 0.71875j]],
                               atol=1e-6)
    with pytest.raises(RuntimeError, match="tau dtype Float does not match input dtype ComplexFloat"):
        gk.linalg.householder_product(hc, gk.tensor([0.5, 0.25]))


def test_complex_householder_product_gradient_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    h = rng.standard_normal((2, 3, 2)) + 1j * rng.standard_normal((2, 3, 2))
    tau = rng.standard_normal((2, 2)) + 1j * rng.standard_normal((2, 2))
    w = rng.standard_normal((2, 3, 2)) + 1j * rng.standard_normal((2, 3, 2))
    ht, tt = torch.tensor(h, requires_grad=True), torch.tensor(tau, requires_grad=True)
    (torch.linalg.householder_product(ht, tt) * torch.tensor(w)).sum().abs().backward()
    hg, tg = gk.tensor(h, requires_grad=True), gk.tensor(tau, requires_grad=True)
    (gk.linalg.householder_product(hg, tg) * gk.tensor(w)).sum().abs().backward()
    np.testing.assert_allclose(hg.grad.numpy(), ht.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(tg.grad.numpy(), tt.grad.numpy(), atol=1e-12)


def test_complex_cholesky_solve_and_inverse() -> None:  # torch.cholesky_solve, cholesky_inverse
    lo = gk.tensor([[2 + 0j, 0], [1 - 1j, 3 + 0j]], dtype=gk.complex128)
    b = gk.tensor([[1 + 2j], [3 - 1j]], dtype=gk.complex128)
    x = [[0.08333333333333334 + 0.5j], [0.16666666666666666 - 0.16666666666666666j]]
    # recorded from PyTorch 2.13
    np.testing.assert_allclose(gk.cholesky_solve(b, lo).numpy(), x, atol=1e-14)
    np.testing.assert_allclose(gk.cholesky_solve(b, lo.mH, upper=True).numpy(), x, atol=1e-14)
    np.testing.assert_allclose(gk.cholesky_inverse(lo).numpy(),
                               [[0.3055555555555556, -0.05555555555555555 - 0.05555555555555555j],
                                [-0.05555555555555555 + 0.05555555555555555j, 0.1111111111111111]],
                               atol=1e-14)
    with pytest.raises(RuntimeError, match="Expected b and A to have the same dtype, but found b "
                                           "of type Double and A of type ComplexDouble instead."):
        gk.cholesky_solve(b.real.clone(), lo)


def test_complex_cholesky_solve_gradient_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    lo = np.tril(rng.standard_normal((2, 3, 3)) + 1j * rng.standard_normal((2, 3, 3))) + 3 * np.eye(3)
    b = rng.standard_normal((2, 3, 2)) + 1j * rng.standard_normal((2, 3, 2))
    w = rng.standard_normal((2, 3, 2)) + 1j * rng.standard_normal((2, 3, 2))
    lt, bt = torch.tensor(lo, requires_grad=True), torch.tensor(b, requires_grad=True)
    (torch.cholesky_solve(bt, lt) * torch.tensor(w)).sum().abs().backward()
    lg, bg = gk.tensor(lo, requires_grad=True), gk.tensor(b, requires_grad=True)
    (gk.cholesky_solve(bg, lg) * gk.tensor(w)).sum().abs().backward()
    np.testing.assert_allclose(bg.grad.numpy(), bt.grad.numpy(), atol=1e-12)
    # the lower triangle (the part read); above it PyTorch's formula gives numbers that gradkit's
    # real and complex paths leave at zero
    np.testing.assert_allclose(np.tril(lg.grad.numpy()), np.tril(lt.grad.numpy()), atol=1e-12)


def test_utils_dlpack_module() -> None:  # torch.from_dlpack: `import torch.utils.dlpack`
    import gradkit.utils.dlpack as dl
    t = gk.arange(4)
    t3 = gk.from_dlpack(dl.to_dlpack(t))
    t[0] = -9                                            # the memory is shared, as in PyTorch
    assert t3.tolist() == [-9, 1, 2, 3] and dl.from_dlpack is gk.from_dlpack


def test_deprecated_range_includes_its_end() -> None:  # torch.range
    # recorded from PyTorch 2.13 (each call warns)
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        r = gk.range(1, 4)
    assert r.dtype == gk.float32 and r.tolist() == [1.0, 2.0, 3.0, 4.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gk.range(1, 4, 0.5).tolist() == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
        assert gk.range(1, 4, dtype=gk.int64).tolist() == [1, 2, 3, 4]
        assert gk.range(0.5, 3.7, dtype=gk.long).tolist() == [0, 1, 2, 3]
        assert gk.range(0, 1, 0.1).shape == (11,)
        assert gk.range(0, 2, 0.7, dtype=gk.float64).tolist() == [0.0, 0.7, 1.4]
        assert gk.range(4, 1, -1).tolist() == [4.0, 3.0, 2.0, 1.0]
        with pytest.raises(RuntimeError, match="step must be nonzero"):
            gk.range(1, 4, 0)
        with pytest.raises(RuntimeError, match="upper bound and lower bound inconsistent with step sign"):
            gk.range(4, 1)
    assert "range" not in gk.__all__            # `from gradkit import *` keeps Python's range


def test_is_tensor_like() -> None:  # torch.autograd.is_tensor_like (answers from its docstring)
    class SubTensor(gk.Tensor):
        pass

    class NotATensor:
        pass

    class TensorLike:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            return -1

    assert gk.autograd.is_tensor_like(gk.tensor([0]))
    assert gk.autograd.is_tensor_like(SubTensor([0]))
    assert not gk.autograd.is_tensor_like(6) and not gk.autograd.is_tensor_like(None)
    assert not gk.autograd.is_tensor_like(NotATensor())
    assert gk.autograd.is_tensor_like(TensorLike())


def test_nonzero_static() -> None:  # torch.nonzero_static (values recorded from PyTorch 2.13)
    x = gk.tensor([[1, 0], [3, 2]])
    assert gk.nonzero_static(x, size=4).tolist() == [[0, 0], [1, 0], [1, 1], [-1, -1]]
    assert gk.nonzero_static(x, size=4, fill_value=7).tolist()[-1] == [7, 7]
    assert gk.nonzero_static(x, size=2).tolist() == [[0, 0], [1, 0]]
    assert gk.nonzero_static(gk.tensor([10]), size=0).shape == (0, 1)
    assert gk.nonzero_static(gk.tensor(10), size=2).shape == (2, 0)
    assert gk.tensor([1, 0]).nonzero_static(size=3).tolist() == [[0], [-1], [-1]]
    with pytest.raises(RuntimeError, match="'size' must be an non-negative integer"):
        gk.nonzero_static(x, size=-1)
