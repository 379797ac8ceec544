"""F.ctc_loss / nn.CTCLoss (issue #17): against live PyTorch, and gradcheck through log_softmax.

PyTorch's CTC gradient with respect to ``log_probs`` is the gradient with respect to the logits
of a ``log_softmax`` (Graves et al., eq. 16); the live comparisons check that gradkit returns the
same one, and finite differences of ``ctc_loss(log_softmax(x))`` check it independently.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.autograd import gradcheck

T, N, C = 7, 3, 5


def _case(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, C)).astype(dtype)
    targets = np.array([[1, 2, 2], [3, 3, 0], [4, 1, 2]])   # a repeat needs a blank between
    return x, targets, np.array([7, 5, 2]), np.array([3, 2, 3])


def _both(x, fn_t, fn_g, dtype, tol):
    torch = pytest.importorskip("torch")
    tx, gx = torch.tensor(x, requires_grad=True), gk.tensor(x, requires_grad=True)
    lt, lg = fn_t(torch, tx), fn_g(gx)
    assert tuple(lt.shape) == tuple(lg.shape)
    np.testing.assert_allclose(lg.detach().numpy(), lt.detach().numpy(), rtol=tol, atol=tol)
    c = np.random.default_rng(3).standard_normal(tuple(lt.shape)).astype(dtype)
    (lt * torch.tensor(c)).sum().backward()
    (lg * gk.tensor(c)).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    return lt, lg


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_matches_torch_padded_targets(dtype, tol, reduction, zero_infinity):
    x, tg, il, tl = _case(dtype)
    il = il.copy()
    il[2] = 7 if not zero_infinity else 2  # with zero_infinity, 2 frames for 3 labels: impossible
    kw = dict(reduction=reduction, zero_infinity=zero_infinity)
    lt, lg = _both(x, lambda torch, a: torch.nn.functional.ctc_loss(
        a.log_softmax(2), torch.tensor(tg), tuple(il), tuple(tl), **kw),
        lambda a: F.ctc_loss(F.log_softmax(a, 2), gk.tensor(tg), tuple(il), tuple(tl), **kw), dtype, tol)
    if reduction == "none":
        name = "WhereBackward0" if zero_infinity else "CtcLossBackward0"
        assert type(lg.grad_fn).__name__ == type(lt.grad_fn).__name__ == name


def test_ctc_raw_log_probs_gradient_is_pytorchs():
    """Unnormalized inputs: PyTorch's formula (with its exp(lp) term) and its inf / nan, exactly."""
    x, tg, il, tl = _case()
    _both(x, lambda torch, a: torch.nn.functional.ctc_loss(a, torch.tensor(tg), tuple(il), tuple(tl), blank=0,
                                                              reduction="none", zero_infinity=True),
          lambda a: F.ctc_loss(a, gk.tensor(tg), tuple(il), tuple(tl), reduction="none", zero_infinity=True),
          np.float64, 1e-10)
    torch = pytest.importorskip("torch")
    tx, gx = torch.tensor(x, requires_grad=True), gk.tensor(x, requires_grad=True)
    lt = torch.nn.functional.ctc_loss(tx, torch.tensor(tg), tuple(il), tuple(tl), reduction="none")
    lg = F.ctc_loss(gx, gk.tensor(tg), tuple(il), tuple(tl), reduction="none")
    assert np.isposinf(lg.detach().numpy()[2]) and np.isposinf(lt.detach().numpy()[2])
    lt.sum().backward()
    lg.sum().backward()
    np.testing.assert_array_equal(np.isnan(gx.grad.numpy()), np.isnan(tx.grad.numpy()))
    ok = ~np.isnan(tx.grad.numpy())
    np.testing.assert_allclose(gx.grad.numpy()[ok], tx.grad.numpy()[ok], atol=1e-10)


def test_ctc_concatenated_targets_tensor_lengths_blank_and_empty_targets():
    x, _, _, _ = _case(seed=1)
    flat = np.array([0, 1, 1, 3, 0, 2])
    il, tl = np.array([7, 6, 3]), np.array([3, 0, 3])
    _both(x, lambda torch, a: torch.nn.functional.ctc_loss(
        a.log_softmax(2), torch.tensor(flat), torch.tensor(il), torch.tensor(tl), blank=4),
        lambda a: F.ctc_loss(F.log_softmax(a, 2), gk.tensor(flat), gk.tensor(il), gk.tensor(tl), blank=4),
        np.float64, 1e-10)
    # zero input frames: an empty target has loss 0, any other is impossible
    _both(x, lambda torch, a: torch.nn.functional.ctc_loss(
        a.log_softmax(2), torch.tensor([[1, 2]] * 3), (0, 0, 4), (0, 1, 2), reduction="none"),
        lambda a: F.ctc_loss(F.log_softmax(a, 2), gk.tensor([[1, 2]] * 3), (0, 0, 4), (0, 1, 2),
                             reduction="none"), np.float64, 1e-10)


def test_ctc_unbatched_and_module():
    torch = pytest.importorskip("torch")
    x, tg, il, tl = _case(seed=2)
    _both(x[:, 0], lambda torch, a: torch.nn.functional.ctc_loss(
        a.log_softmax(1), torch.tensor(tg[0]), torch.tensor(5), torch.tensor(3), reduction="none"),
        lambda a: F.ctc_loss(F.log_softmax(a, 1), gk.tensor(tg[0]), gk.tensor(5), gk.tensor(3),
                             reduction="none"), np.float64, 1e-10)
    m_t, m_g = torch.nn.CTCLoss(blank=1, zero_infinity=True), gk.nn.CTCLoss(blank=1, zero_infinity=True)
    assert repr(m_g) == repr(m_t) == "CTCLoss()"
    tg2 = np.array([[2, 3, 0], [4, 4, 0], [2, 2, 3]])
    _both(x, lambda torch, a: m_t(a.log_softmax(2), torch.tensor(tg2), torch.tensor(il), torch.tensor(tl)),
          lambda a: m_g(F.log_softmax(a, 2), gk.tensor(tg2), gk.tensor(il), gk.tensor(tl)), np.float64, 1e-10)


def test_ctc_known_value():
    # one frame, one label: the loss is -log p(label)
    lp = gk.tensor(np.log([[[0.2, 0.5, 0.3]]]))
    got = F.ctc_loss(lp, gk.tensor([[1]]), (1,), (1,), reduction="sum")
    np.testing.assert_allclose(got.item(), -np.log(0.5), rtol=1e-12)
    # two frames, label "1": paths 1-1, b-1, 1-b
    p = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    want = -np.log(p[0, 1] * p[1, 1] + p[0, 0] * p[1, 1] + p[0, 1] * p[1, 0])
    got = F.ctc_loss(gk.tensor(np.log(p)[:, None]), gk.tensor([[1]]), (2,), (1,), reduction="sum")
    np.testing.assert_allclose(got.item(), want, rtol=1e-12)


def test_ctc_gradcheck_through_log_softmax():
    x, tg, _, tl = _case(seed=4)
    il = np.array([7, 5, 6])

    def f(a):
        return F.ctc_loss(F.log_softmax(a, 2), gk.tensor(tg), tuple(il), tuple(tl), reduction="mean")

    assert gradcheck(f, (gk.tensor(x, requires_grad=True),))


def test_ctc_errors():
    lp = F.log_softmax(gk.randn(5, 2, 4, requires_grad=True), 2)
    tg = gk.tensor([[1, 2], [3, 3]])
    with pytest.raises(RuntimeError, match="Expected input_lengths to have value at most 5, but got value 6"):
        F.ctc_loss(lp, tg, (5, 6), (2, 2))
    with pytest.raises(RuntimeError, match="Expected tensor to have size at least 3 at dimension 1"):
        F.ctc_loss(lp, tg, (5, 5), (2, 3))
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp, tg, (5, 5), (2, 2), blank=4)
    with pytest.raises(RuntimeError, match="input_lengths must be of size batch_size"):
        F.ctc_loss(lp, tg, (5, 5, 5), (2, 2))
    with pytest.raises(RuntimeError, match="target_lengths must be of size batch_size"):
        F.ctc_loss(lp, tg, (5, 5), (2, 2, 1))
    with pytest.raises(RuntimeError, match="Expected tensor to have size 4 at dimension 0, but got size 3"):
        F.ctc_loss(lp, gk.tensor([1, 2, 3]), (5, 5), (2, 2))
    with pytest.raises(RuntimeError, match="Expected target_lengths to have value at least 0"):
        F.ctc_loss(lp, tg, (5, 5), (-1, 2))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.ctc_loss(lp, tg, (5, 5), (2, 2), reduction="bad")
    with pytest.raises(IndexError, match="target index out of range"):
        F.ctc_loss(lp, gk.tensor([[1, 7], [3, 3]]), (5, 5), (2, 2))
    g, = gk.autograd.grad(F.ctc_loss(lp, tg, (5, 5), (2, 2)), lp, create_graph=True)
    with pytest.raises(RuntimeError, match="derivative for aten::_ctc_loss_backward is not implemented"):
        g.sum().backward()


# --- hostile targets (#17) ------------------------------------------------------------------
_LP = np.random.default_rng(0).standard_normal((6, 2, 4))


def _ctc(lib, x, targets, il, tl, blank, **kw):
    return lib.nn.functional.ctc_loss(lib.nn.functional.log_softmax(x, 2), lib.tensor(targets),
                                      lib.tensor(il), lib.tensor(tl), blank=blank, **kw)


@pytest.mark.parametrize("targets,tl,blank", [([[1, 0, 2], [0, 0, 3]], [3, 3], 0),
                                              ([[1, 2, 2], [3, 1, 0]], [3, 2], 2)])
def test_ctc_blank_among_targets_is_pytorchs(targets, tl, blank):
    # PyTorch allows the step from s - 2 to s whenever the two labels differ, so a blank inside
    # the targets may be reached from the label before it; values recorded from PyTorch 2.13
    want = {0: [5.059432, 8.105777], 2: [6.033824, 3.820389]}[blank]
    x = gk.tensor(_LP, requires_grad=True)
    loss = _ctc(gk, x, targets, [6, 6], tl, blank, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), want, atol=1e-6)
    # the gradient is that loss's derivative (finite differences)
    assert gradcheck(lambda a: _ctc(gk, a, targets, [6, 6], tl, blank, reduction="none"), (x,))


def test_ctc_blank_among_targets_gradient_against_pytorch():
    # Same gradients as PyTorch 2.13 except at the last frame of a sample whose last target is
    # the blank: PyTorch's kernel overwrites the blank's term there instead of adding the two
    # ("we know they are different"), so its gradient is not its loss's derivative (finite
    # differences of PyTorch's own loss give gradkit's [0.026157, 0.418683, -0.646082, 0.201241])
    torch = pytest.importorskip("torch")
    targets, tl = [[1, 2, 2], [3, 1, 0]], [3, 2]
    grads = []
    for lib in (torch, gk):
        x = lib.tensor(_LP, dtype=lib.float64, requires_grad=True)
        _ctc(lib, x, targets, [6, 6], tl, 2, reduction="sum").backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1][:5], grads[0][:5], atol=1e-10)
    np.testing.assert_allclose(grads[1][:, 1], grads[0][:, 1], atol=1e-10)
    np.testing.assert_allclose(grads[1][5, 0], [0.026157, 0.418683, -0.646082, 0.201241], atol=1e-6)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_impossible_samples_and_zero_infinity(reduction, zero_infinity):
    # sample 0: 2 frames for 3 labels; sample 1: [1, 1, 1] needs 5 frames, has 4 (both
    # impossible: inf, nan gradient; zero_infinity makes them 0 with a 0 gradient); values and
    # gradient sums recorded from PyTorch 2.13
    x = gk.tensor(np.random.default_rng(0).standard_normal((6, 3, 4)), requires_grad=True)
    loss = _ctc(gk, x, [[1, 2, 3], [1, 1, 1], [2, 0, 3]], [2, 4, 6], [3, 3, 3], 0,
                reduction=reduction, zero_infinity=zero_infinity)
    loss.sum().backward()
    g = x.grad.numpy()
    want = {"none": [0.0, 0.0, 5.04462], "mean": 0.56051, "sum": 5.04462}[reduction]
    if zero_infinity:
        np.testing.assert_allclose(loss.detach().numpy(), want, atol=1e-5)
        np.testing.assert_array_equal(g[:, :2], np.zeros((6, 2, 4)))
    else:
        assert np.isinf(loss.detach().numpy()).any()
        # nan within each impossible sample's frames, 0 past them (as every sample's)
        assert np.isnan(g[:2, 0]).all() and np.isnan(g[:4, 1]).all()
        np.testing.assert_array_equal(g[2:, 0], np.zeros((4, 4)))
        np.testing.assert_array_equal(g[4:, 1], np.zeros((2, 4)))
    np.testing.assert_allclose(np.abs(g[:, 2]).sum(), 0.63127 if reduction == "mean" else 5.68145,
                               atol=1e-5)


def test_ctc_target_out_of_range_is_refused():
    # PyTorch 2.13 reads past the classes (a number from another sample's memory); gradkit refuses
    x = gk.tensor(_LP, requires_grad=True)
    for bad in ([[1, 5, 1], [2, 3, 2]], [[1, -1, 1], [2, 3, 2]]):
        with pytest.raises(IndexError, match="target index out of range"):
            _ctc(gk, x, bad, [6, 3], [3, 2], 0)
