"""Views share memory and the version counter with their base; in-place writes through them
reach the base and backpropagate, or are refused with PyTorch's error (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

_MULTI = ("This view is the output of a function that returns multiple views. Such functions do "
          "not allow the output views to be modified inplace. You should replace the inplace "
          "operation by an out-of-place one.")


def _arange(*shape: int, rg: bool = False) -> gk.Tensor:
    n = int(np.prod(shape))
    return gk.tensor(np.arange(n, dtype=np.float64).reshape(shape), requires_grad=rg)


# --- multi-output views: split, chunk, unbind ---------------------------------------------
@pytest.mark.parametrize("pieces, node, index", [
    (lambda b: b.unbind(0), "Unbind", 0),
    (lambda b: b.unbind(1), "Unbind", 2),
    (lambda b: b.split(2), "Split", 1),
    (lambda b: b.chunk(3, 1), "Split", 0),
    (lambda b: b.split([1, 2]), "SplitWithSizes", 1),
    (lambda b: b.split_with_sizes([2, 1]), "SplitWithSizes", 0),
])
def test_multi_output_views_refuse_inplace_like_pytorch(pieces, node, index) -> None:
    x = _arange(3, 3, rg=True)
    b = x * 2
    out = pieces(b)[index]
    assert out._base is b
    with pytest.raises(RuntimeError) as exc:
        out.add_(1)
    assert str(exc.value) == f"Output {index} of {node} is a view and is being modified inplace. " \
        + _MULTI
    with pytest.raises(RuntimeError, match="Output 0 of Slice is a view"):
        out[0:1].mul_(2)                      # a view of such a view inherits the restriction
    assert b.tolist() == (x * 2).tolist()     # nothing was written


def test_unbind_of_a_leaf_names_the_view_not_the_leaf() -> None:
    a = _arange(3, 2, rg=True)
    with pytest.raises(RuntimeError, match="^Output 0 of Unbind is a view and is being"):
        a.unbind(0)[0].add_(1)


def test_multi_output_view_written_with_a_grad_requiring_value() -> None:
    c = _arange(3, 2)
    w = gk.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="^A view was created in no_grad mode and is being "
                                           "modified inplace with grad mode enabled. This view"):
        c.unbind(0)[0].add_(w)


def test_multi_output_views_share_the_version_counter() -> None:
    """The issue's case: the version bump through an unbind output is seen by backward."""
    a = _arange(3, 2, rg=True)
    b = a * 1
    y = (b * b).sum()
    with gk.no_grad():
        b.unbind(0)[0].add_(1)                # allowed (not recorded), but b changed
    assert b._version == 1
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation "
                                           "has been modified by an inplace operation"):
        y.backward()


@pytest.mark.parametrize("pieces", [lambda c: c.unbind(1), lambda c: c.split(1, 1),
                                    lambda c: c.chunk(2, 1), lambda c: c.tensor_split(2, 1)])
def test_pieces_write_through_to_the_base_without_grad(pieces) -> None:
    c = _arange(2, 2)
    parts = pieces(c)
    parts[-1].add_(10)
    assert c.tolist() == [[0.0, 11.0], [2.0, 13.0]]
    assert c._version == 1 and parts[0]._version == 1


# --- tensor_split / hsplit / vsplit / dsplit: plain slices ----------------------------------
def test_tensor_split_pieces_are_views_whose_inplace_backpropagates() -> None:
    x = _arange(2, 4, rg=True)
    b = x * 1
    piece = b.tensor_split(2, dim=1)[1]       # columns 2, 3
    assert piece.grad_fn.name() == "SliceBackward0"
    piece.mul_(3)
    assert b.tolist() == [[0.0, 1.0, 6.0, 9.0], [4.0, 5.0, 18.0, 21.0]]
    (b * b).sum().backward()
    # d/dx sum(b^2) = 2 b * db/dx, db/dx = 3 on the written columns
    assert x.grad.tolist() == [[0.0, 2.0, 36.0, 54.0], [8.0, 10.0, 108.0, 126.0]]


def test_tensor_split_at_indices_follows_slicing() -> None:
    x = _arange(2, 6)
    parts = x.tensor_split([3, 1], 1)
    assert [tuple(p.shape) for p in parts] == [(2, 3), (2, 0), (2, 5)]
    assert parts[2].tolist() == [[1.0, 2.0, 3.0, 4.0, 5.0], [7.0, 8.0, 9.0, 10.0, 11.0]]
    parts = x[0].tensor_split(gk.tensor([2, 3]))
    assert [p.tolist() for p in parts] == [[0.0, 1.0], [2.0], [3.0, 4.0, 5.0]]
    with pytest.raises(RuntimeError, match="number of sections must be larger than 0, got 0"):
        x.tensor_split(0)


def test_hsplit_vsplit_dsplit() -> None:
    x = _arange(2, 6)
    assert [p.tolist() for p in gk.hsplit(x, [1, 4])] == [
        [[0.0], [6.0]], [[1.0, 2.0, 3.0], [7.0, 8.0, 9.0]], [[4.0, 5.0], [10.0, 11.0]]]
    assert [p.tolist() for p in x.vsplit(2)] == [[[0.0, 1, 2, 3, 4, 5]], [[6.0, 7, 8, 9, 10, 11]]]
    assert [tuple(p.shape) for p in _arange(1, 2, 4).dsplit(2)] == [(1, 2, 2), (1, 2, 2)]
    with pytest.raises(RuntimeError, match=r"^torch.hsplit attempted to split along dimension 1, "
                                           r"but the size of the dimension 6 is not divisible by "
                                           r"the split_size 4!$"):
        gk.hsplit(x, 4)
    with pytest.raises(RuntimeError, match=r"^torch.vsplit requires a tensor with at least 2 "
                                           r"dimension, but got a tensor with 1 dimensions!$"):
        gk.vsplit(x[0], 2)
    with pytest.raises(RuntimeError, match=r"^torch.dsplit requires a tensor with at least 3 "
                                           r"dimension, but got a tensor with 2 dimensions!$"):
        x.dsplit(2)


# --- a view's history follows in-place changes of its base ---------------------------------
def test_view_taken_before_an_inplace_change_of_its_base_sees_the_new_history() -> None:
    """``v`` holds 2*b after ``b.mul_(2)``; its gradient must say so (PyTorch: [2, 2, 0])."""
    a = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    v = b[0:2]
    b.mul_(2)
    v.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0, 0.0]


def test_sibling_view_sees_a_write_through_another_view() -> None:
    a = gk.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = a * 1
    col = b.t()[0]                            # b[:, 0]
    b[0].mul_(5)                              # b[0, 0] *= 5, seen by col
    assert col.tolist() == [5.0, 3.0]
    col.sum().backward()
    assert a.grad.tolist() == [[5.0, 0.0], [1.0, 0.0]]


def test_view_of_a_tensor_without_grad_follows_a_recorded_inplace_change() -> None:
    c = gk.zeros(3)
    v = c[0:2]
    w = gk.ones(3, requires_grad=True)
    c.add_(w)
    assert v.requires_grad
    (v * gk.tensor([2.0, 3.0])).sum().backward()
    assert w.grad.tolist() == [2.0, 3.0, 0.0]


def test_unbind_output_after_its_base_changed_gives_the_right_gradient() -> None:
    """PyTorch refuses to use such an output; gradkit regenerates its history instead."""
    a = gk.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = a * 1
    rows = b.unbind(0)
    b.mul_(3)
    rows[1].sum().backward()
    assert a.grad.tolist() == [[0.0, 0.0], [3.0, 3.0]]


# --- views that used to be copies: unfold, as_strided, real/imag, view_as_real, diagonal -------
def test_unfold_is_a_view_and_inplace_through_it_backpropagates() -> None:
    c = _arange(6)
    w = c.unfold(0, 2, 2)                     # [[0, 1], [2, 3], [4, 5]]
    w[1].add_(10)
    assert c.tolist() == [0.0, 1.0, 12.0, 13.0, 4.0, 5.0]
    assert c._version == 1 and w._base is c
    x = _arange(6, rg=True)
    b = x * 1
    win = b.unfold(0, 3, 3)
    assert win.grad_fn.name() == "UnfoldBackward0"
    win[0].mul_(2)
    (b * b).sum().backward()
    assert x.grad.tolist() == [0.0, 8.0, 16.0, 6.0, 8.0, 10.0]


def test_unfold_gradient_with_overlapping_windows() -> None:
    x = _arange(5, rg=True)
    (x.unfold(0, 3, 1) * gk.tensor([1.0, 10.0, 100.0])).sum().backward()
    # windows [0:3], [1:4], [2:5]: element i collects the weights of its positions
    assert x.grad.tolist() == [1.0, 11.0, 111.0, 110.0, 100.0]


@pytest.mark.parametrize("make", [lambda c: c.unfold(0, 3, 1),
                                  lambda c: c.as_strided((2, 3), (1, 1)),
                                  lambda c: c.expand(2, 6)])
def test_inplace_through_overlapping_views_is_refused(make) -> None:
    for rg in (False, True):
        c = _arange(6, rg=rg)
        base = c * 1 if rg else c
        v = make(base)
        with pytest.raises(RuntimeError, match="^unsupported operation: more than one element of "
                                               "the written-to tensor refers to a single memory "
                                               "location. Please clone"):
            v.add_(1)
        assert base.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_as_strided_is_a_view_and_inplace_through_it_backpropagates() -> None:
    c = _arange(2, 4)
    v = c.as_strided((2, 2), (4, 1), 1)       # [[1, 2], [5, 6]]
    assert v.tolist() == [[1.0, 2.0], [5.0, 6.0]]
    v.mul_(-1)
    assert c.tolist() == [[0.0, -1.0, -2.0, 3.0], [4.0, -5.0, -6.0, 7.0]]
    x = _arange(2, 4, rg=True)
    b = x * 1
    v = b.as_strided((2, 2), (4, 1), 1)
    assert v.grad_fn.name() == "AsStridedBackward0"
    v.mul_(3)
    b.sum().backward()
    assert x.grad.tolist() == [[1.0, 3.0, 3.0, 1.0], [1.0, 3.0, 3.0, 1.0]]


def test_as_strided_refuses_a_storage_it_does_not_model() -> None:
    c = _arange(3, 4)
    with pytest.raises(RuntimeError, match=r"Call \.contiguous\(\) first"):
        c.t().as_strided((2,), (1,))
    with pytest.raises(RuntimeError, match=r"Call \.contiguous\(\) first"):
        c[1:].as_strided((2,), (1,), 0)       # PyTorch would read from c's storage start
    assert c[1:].as_strided((2,), (1,)).tolist() == [4.0, 5.0]   # offset: the view's own
    assert c.t().contiguous().as_strided((2,), (1,)).tolist() == [0.0, 4.0]


def test_real_imag_and_view_as_real_are_views() -> None:
    z = gk.tensor([1 + 2j, 3 + 4j])
    z.real.add_(10)
    z.imag.mul_(-1)
    assert z.tolist() == [11 - 2j, 13 - 4j]
    gk.view_as_real(z)[1, 1].fill_(0.5)
    assert z.tolist() == [11 - 2j, 13 + 0.5j]
    assert z._version == 3


def test_inplace_through_real_and_imag_backpropagates() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = gk.tensor([3.0, 4.0], requires_grad=True)
    z = gk.complex(x * 1, y * 1)
    z.real.mul_(2)                            # z = 2x + iy
    z.imag.add_(x)                            # z = 2x + i(y + x)
    loss = (z.real * gk.tensor([1.0, 10.0])).sum() + (z.imag ** 2).sum()
    loss.backward()
    # d/dx = 2 * [1, 10] + 2 (y + x), d/dy = 2 (y + x)
    assert x.grad.tolist() == [2.0 + 8.0, 20.0 + 12.0]
    assert y.grad.tolist() == [8.0, 12.0]


def test_diagonal_can_be_written_in_place() -> None:
    c = _arange(3, 3)
    c.diagonal().add_(100)
    assert c.diagonal().tolist() == [100.0, 104.0, 108.0]
    x = _arange(2, 2, rg=True)
    b = x * 1
    b.diagonal().mul_(5)
    b.sum().backward()
    assert x.grad.tolist() == [[5.0, 1.0], [1.0, 5.0]]


# --- contiguous, clone, strides --------------------------------------------------------------
@pytest.mark.parametrize("rg", [False, True])
def test_contiguous_of_a_transposed_tensor_is_contiguous(rg) -> None:
    """The issue's case: ``x.transpose(1, 2).contiguous().view(2, -1)``."""
    x = gk.randn(2, 3, 4, requires_grad=rg)
    c = x.transpose(1, 2).contiguous()
    assert c.is_contiguous() and c.stride() == (12, 3, 1)
    assert tuple(c.view(2, -1).shape) == (2, 12)
    if rg:
        assert c.grad_fn.name() == "CloneBackward0"
        c.view(2, -1).sum().backward()
        assert x.grad.tolist() == np.ones((2, 3, 4)).tolist()


def test_strides_after_permute_and_clone_follow_pytorch() -> None:
    x = gk.randn(2, 3, 4, requires_grad=True)
    p = x.permute(2, 0, 1)
    assert p.stride() == (1, 12, 4) and not p.is_contiguous()
    assert p.clone().stride() == (1, 12, 4)   # clone keeps the layout (preserve_format)
    assert p.contiguous().stride() == (6, 3, 1)
    assert x[:, :, ::2].clone().stride() == (6, 2, 1)
    assert x.contiguous() is x


# --- view(dtype) reinterprets the bytes, as PyTorch ------------------------------------------
def test_view_dtype_reinterprets_bits_instead_of_converting() -> None:
    x = gk.tensor([1.0, 2.0], dtype=gk.float64)
    v = x.view(gk.int64)
    assert v.tolist() == [4607182418800017408, 4611686018427387904]   # IEEE 754 bits
    assert x.view(gk.float32).tolist() == [0.0, 1.875, 0.0, 2.0]
    assert tuple(x.view(gk.uint8).shape) == (16,)
    v.add_(1)                                 # shares memory and the version counter
    assert x._version == 1 and x.tolist()[0] == 1.0000000000000002
    with pytest.raises(RuntimeError, match=r"^self.size\(-1\) must be divisible by 4 to view "
                                           r"Float as ComplexDouble \(different element sizes\), "
                                           r"but got 3$"):
        gk.zeros(3, dtype=gk.float32).view(gk.complex128)


def test_view_dtype_is_not_differentiable_and_its_writes_are_seen_by_backward() -> None:
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    y = (b * b).sum()
    v = b.view(gk.int64)
    assert not v.requires_grad
    v.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


# --- conj() is a copy where PyTorch has a view: writes to it are refused, not lost -----------
@pytest.mark.parametrize("write", [lambda c: c.add_(1), lambda c: c.zero_(),
                                   lambda c: c.__setitem__(0, 7.0), lambda c: c.real.mul_(2),
                                   lambda c: c.copy_(gk.zeros(2, dtype=gk.complex128))])
def test_inplace_write_to_conj_is_refused(write) -> None:
    z = gk.tensor([1 + 2j, 3 + 4j])
    c = z.conj()
    assert c.is_conj()
    with pytest.raises(RuntimeError, match=r"would not reach its input: PyTorch's conj\(\) is a "
                                           r"view of the input, gradkit's is a copy"):
        write(c)
    assert z.tolist() == [1 + 2j, 3 + 4j] and c.tolist() == [1 - 2j, 3 - 4j]


def test_conj_transposes_refuse_writes_and_resolve_conj_gives_a_writable_copy() -> None:
    z = gk.tensor([[1 + 2j, 3 + 4j]])
    with pytest.raises(RuntimeError, match="would not reach its input"):
        z.mH.mul_(2)
    r = z.conj().resolve_conj()
    assert not r.is_conj()
    r.add_(5)
    assert r.tolist() == [[6 - 2j, 8 - 4j]] and z.tolist() == [[1 + 2j, 3 + 4j]]
    x = gk.tensor([1.0, 2.0])
    x.conj().add_(1)                          # a real tensor's conj is the tensor itself
    assert x.tolist() == [2.0, 3.0]


def test_view_as_complex_is_a_view_and_inplace_through_it_backpropagates() -> None:
    a = gk.arange(4.0, dtype=gk.float64)
    gk.view_as_complex(a.view(2, 2)).mul_(1j)          # (0+1j)*1j = -1, (2+3j)*1j = -3+2j
    assert a.tolist() == [-1.0, 0.0, -3.0, 2.0] and a._version == 1
    x = gk.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    b = x * 1
    c = gk.view_as_complex(b.view(2, 2))
    c.mul_(gk.tensor([1j, 2.0]))                        # b = [-2, 1, 6, 8]
    (b * gk.arange(4.0, dtype=gk.float64)).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 4.0, 6.0]      # PyTorch's values
    with pytest.raises(RuntimeError, match="^Tensor must have a last dimension with stride 1$"):
        gk.view_as_complex(gk.zeros(2, 4).t())


# --- NumPy dispatch: np.split and friends give NumPy's pieces as views ----------------------
def test_numpy_splits_are_writable_views_with_numpy_semantics() -> None:
    a = np.arange(10.0).reshape(2, 5)
    t = gk.tensor(a, requires_grad=True)
    for split in (lambda m: np.array_split(m, 3, axis=1), lambda m: np.hsplit(m, [1, 3]),
                  lambda m: np.vsplit(m, 2), lambda m: np.split(m, [2, 4], axis=1)):
        assert [p.tolist() for p in split(t)] == [p.tolist() for p in split(a)]
    with pytest.raises(ValueError, match="array split does not result in an equal division"):
        np.split(t, 2, axis=1)
    b = t * 1
    np.hsplit(b, [3])[1].mul_(4)              # NumPy pieces may be written in place
    b.sum().backward()
    assert t.grad.tolist() == [[1.0, 1.0, 1.0, 4.0, 4.0]] * 2


def test_deepcopy_of_a_parameter_does_not_carry_its_views() -> None:
    import copy
    p = gk.nn.Parameter(gk.randn(3, 2))
    v = p.t()
    q = copy.deepcopy(p)
    assert "_views" not in q.__dict__ and v._base is p


def test_view_of_a_non_contiguous_tensor_where_the_strides_allow_it() -> None:
    x = _arange(2, 3, 4, rg=True)
    v = x.transpose(0, 1).view(3, 2, 4)       # only contiguous dims merged or split: a view
    assert v.stride() == (4, 12, 1) and v._base is x
    assert x[:, :, ::2].view(6, 2).stride() == (4, 2)
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's "
                                           "size and stride"):
        x.transpose(1, 2).view(2, 12)
    b = x * 1
    b[:, 1:].view(2, 8).mul_(2)
    b.sum().backward()
    assert x.grad[:, 0].tolist() == [[1.0] * 4] * 2 and x.grad[:, 1:].tolist() == [[[2.0] * 4] * 2] * 2


# --- forward mode follows in-place changes through views and of bases -------------------------
def _program(x: gk.Tensor) -> gk.Tensor:
    b = x * 1
    v = b[1:3]                                # taken before b changes: must follow it
    b.mul_(b.exp() * 0.5)
    v.add_(v.exp())                           # through a view
    z = gk.complex(b, b.exp())
    z.real.mul_(3.0)                          # through a real view of a complex tensor
    b.unfold(0, 2, 2).mul_(2.0)               # through a strided view
    return (v * v).sum() + (b * b).sum() + (z.real * z.imag).sum()


def _central(f, x0: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    return np.array([(f(x0 + eps * e) - f(x0 - eps * e)) / (2 * eps) for e in np.eye(x0.size)])


def test_gradients_of_inplace_through_views_match_finite_differences() -> None:
    from gradkit import func
    x0 = np.array([0.3, -0.2, 0.5, 0.1])
    fd = _central(lambda x: _program(gk.tensor(x)).item(), x0)
    np.testing.assert_allclose(func.grad(_program)(gk.tensor(x0)).numpy(), fd, rtol=1e-7, atol=1e-8)
    for k in range(4):
        _, t = func.jvp(_program, (gk.tensor(x0),), (gk.tensor(np.eye(4)[k]),))
        assert abs(t.item() - fd[k]) < 1e-7
    hess = func.hessian(_program)(gk.tensor(x0)).numpy()
    hfd = _central(lambda x: func.grad(_program)(gk.tensor(x)).numpy(), x0)
    np.testing.assert_allclose(hess, hfd, rtol=1e-6, atol=1e-6)


def test_retain_grad_of_a_view_survives_an_inplace_change_of_its_base() -> None:
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 1
    v = a[0:2]
    v.retain_grad()
    a.mul_(2)
    (v * v).sum().backward()
    assert v.grad.tolist() == [4.0, 8.0]      # PyTorch's values
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = (x * 1)[0:2]
    v.retain_grad()
    v.mul_(3)
    (v * v).sum().backward()
    assert v.grad.tolist() == [6.0, 12.0]
