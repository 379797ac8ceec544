"""x ** 2 on a graph (#17): PyTorch's derivative of x ** 2 is 2 * x ** 1, so the derivative of
that stays on x and a Hessian of ``(x ** 2).sum()`` with create_graph=True has a grad_fn
(MulBackward0 for hvp/vhp, ViewBackward0 for hessian), as recorded from PyTorch 2.13."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import functional as AF


def _f(x):
    return (x ** 2).sum()


@pytest.mark.parametrize("fn", [AF.hvp, AF.vhp])
def test_hvp_vhp_of_square_keep_a_graph(fn) -> None:
    x = gk.tensor([1.0, 2.0], dtype=gk.float64, requires_grad=True)
    out, h = fn(_f, x, gk.tensor([1.0, -3.0], dtype=gk.float64), create_graph=True)
    assert out.item() == 5.0
    np.testing.assert_array_equal(h.detach().numpy(), [2.0, -6.0])     # H = 2 I
    assert h.requires_grad and h.grad_fn.name() == "MulBackward0"
    # the graph is real: d/dx sum(H v) = 0 (a constant Hessian)
    (g,) = gk.autograd.grad(h.sum(), x, allow_unused=True)
    assert g is None or np.all(g.numpy() == 0.0)


@pytest.mark.parametrize("vectorize", [False, True])
def test_hessian_of_square_keeps_a_graph(vectorize: bool) -> None:
    x = gk.tensor([1.0, 2.0], dtype=gk.float64, requires_grad=True)
    h = AF.hessian(_f, x, create_graph=True, vectorize=vectorize)
    np.testing.assert_array_equal(h.detach().numpy(), 2.0 * np.eye(2))
    assert h.grad_fn is not None and h.grad_fn.name() == "ViewBackward0"


def test_functions_whose_hessian_has_no_graph_stay_so() -> None:
    # PyTorch: x * x, x.sum() give results without grad_fn (their rules do not read x again)
    x = gk.tensor([1.0, 2.0], dtype=gk.float64, requires_grad=True)
    v = gk.ones(2, dtype=gk.float64)
    for f in (lambda x: (x * x).sum(), lambda x: x.sum()):
        assert AF.hvp(f, x, v, create_graph=True)[1].grad_fn is None
        assert AF.hessian(f, x, create_graph=True).grad_fn is None


def test_square_gradients_unchanged() -> None:
    x = gk.tensor([1.5, -2.0], dtype=gk.float64, requires_grad=True)
    (g,) = gk.autograd.grad((x ** 2).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [3.0, -4.0])
    (gg,) = gk.autograd.grad(g.sum(), x, create_graph=True)
    np.testing.assert_array_equal(gg.detach().numpy(), [2.0, 2.0])
    (ggg,) = gk.autograd.grad(gg.sum(), x, allow_unused=True)
    assert ggg is None or np.all(ggg.numpy() == 0.0)
    assert gk.autograd.gradgradcheck(lambda t: t ** 2, (x,))


def test_matches_live_torch() -> None:
    torch = pytest.importorskip("torch")
    from torch.autograd import functional as TF
    xt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    vt = torch.tensor([1.0, -3.0], dtype=torch.float64)
    x = gk.tensor([1.0, 2.0], dtype=gk.float64, requires_grad=True)
    v = gk.tensor([1.0, -3.0], dtype=gk.float64)
    for tf, gf in ((TF.hvp, AF.hvp), (TF.vhp, AF.vhp)):
        ht, hg = tf(_f, xt, vt, create_graph=True)[1], gf(_f, x, v, create_graph=True)[1]
        assert hg.grad_fn.name() == ht.grad_fn.name()
        np.testing.assert_array_equal(hg.detach().numpy(), ht.detach().numpy())
