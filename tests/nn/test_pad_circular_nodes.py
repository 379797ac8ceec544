"""F.pad(mode="circular") written as PyTorch writes it: the input copied into the middle of a
new tensor, then the wrapped edges copied across (nodes: CopySlices), #17. Values by hand and
from NumPy's np.pad(mode="wrap"); derivatives against finite differences; PyTorch 2.13's nodes,
values and gradients where torch is installed."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import gradcheck, gradgradcheck

F = gk.nn.functional

#: (input shape, pad); all pads non-negative: NumPy's wrap mode gives the expected values
CASES = [((1, 2, 4), (1, 1)), ((1, 2, 4), (0, 3)), ((2, 3, 4, 5), (1, 2, 3, 0)),
         ((1, 2, 3, 4, 5), (1, 1, 2, 2, 1, 0)), ((3, 3), (3, 3))]
#: pads with a crop (checked against PyTorch)
CROPS = [((1, 2, 4), (2, -1)), ((1, 2, 4), (-1, -1)), ((2, 4, 5), (3, -2)), ((1, 2, 4), (0, 0))]


def _np_wrap(a: np.ndarray, pad: tuple[int, ...]) -> np.ndarray:
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(a, widths, mode="wrap")


def test_known_values():
    x = gk.tensor([[[1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="circular").numpy(),
                                  [[[2.0, 3.0, 1.0, 2.0, 3.0, 1.0]]])
    np.testing.assert_array_equal(F.pad(x, (1, -1), mode="circular").numpy(), [[[2.0, 1.0, 2.0]]])


@pytest.mark.parametrize("shape,pad", CASES)
def test_values_and_derivatives(shape, pad):
    a = np.random.default_rng(3).standard_normal(shape)
    x = gk.tensor(a, requires_grad=True)
    out = F.pad(x, pad, mode="circular")
    np.testing.assert_array_equal(out.detach().numpy(), _np_wrap(a, pad))
    assert type(out.grad_fn).__name__ == "CopySlices"
    assert gradcheck(lambda t: F.pad(t, pad, mode="circular"), (x,))
    assert gradgradcheck(lambda t: F.pad(t, pad, mode="circular"), (x,))


def test_vmap_and_forward_mode():
    a = np.random.default_rng(4).standard_normal((3, 2, 4))
    f = lambda t: F.pad(t, (1, 2), mode="circular")  # noqa: E731
    v = gk.func.vmap(f)(gk.tensor(a))
    np.testing.assert_array_equal(v.numpy(), _np_wrap(a, (1, 2)))
    _, tangent = gk.func.jvp(f, (gk.tensor(a),), (gk.tensor(2 * a),))
    np.testing.assert_array_equal(tangent.numpy(), 2 * _np_wrap(a, (1, 2)))


def test_pad_wider_than_the_cropped_dim_raises():
    # PyTorch 2.13 accepts this and returns memory it never wrote
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(gk.ones(1, 2, 5), (4, -2), mode="circular")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(gk.ones(1, 2, 3), (4, 0), mode="circular")


def _names(out):
    fn = out.grad_fn
    return type(fn).__name__, [None if n is None else type(n).__name__ for n, _ in fn.next_functions]


@pytest.mark.parametrize("shape,pad", CASES + CROPS)
def test_matches_pytorch(shape, pad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a = rng.standard_normal(shape)
    xt, xg = torch.tensor(a, requires_grad=True), gk.tensor(a, requires_grad=True)
    ot = torch.nn.functional.pad(xt, pad, mode="circular")
    og = F.pad(xg, pad, mode="circular")
    assert _names(og) == _names(ot)
    np.testing.assert_array_equal(og.detach().numpy(), ot.detach().numpy())
    c = rng.standard_normal(tuple(ot.shape))
    (ot * torch.tensor(c)).sum().backward()
    (og * gk.tensor(c)).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
