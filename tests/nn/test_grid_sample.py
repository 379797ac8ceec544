"""F.grid_sample and F.affine_grid (issue #17): against live PyTorch, and gradcheck in float64.

Values, the input gradient and the grid gradient are compared with PyTorch 2.13 for every mode,
padding mode and ``align_corners``; finite differences check the gradients independently.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import gradkit as gk
import gradkit.nn.functional as F
from gradkit.autograd import gradcheck

CASES = [(nd, mode, pad, ac) for nd in (2, 3) for mode in ("bilinear", "nearest", "bicubic")
         for pad in ("zeros", "border", "reflection") for ac in (False, True)
         if not (nd == 3 and mode == "bicubic")]


def _data(nd, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3) + (4, 5, 6)[:nd][::-1]).astype(dtype)
    g = rng.uniform(-1.4, 1.4, (2,) + (3, 4, 2)[:nd] + (nd,)).astype(dtype)
    return x, g


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 2e-5)])
@pytest.mark.parametrize("nd,mode,pad,ac", CASES)
def test_grid_sample_matches_torch(nd, mode, pad, ac, dtype, tol):
    torch = pytest.importorskip("torch")
    x, g = _data(nd, dtype)
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
    gx, gg = gk.tensor(x, requires_grad=True), gk.tensor(g, requires_grad=True)
    ot = torch.nn.functional.grid_sample(tx, tg, mode, pad, ac)
    og = F.grid_sample(gx, gg, mode, pad, ac)
    assert tuple(og.shape) == tuple(ot.shape) and og.dtype == getattr(gk, np.dtype(dtype).name)
    np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), rtol=tol, atol=tol)
    c = np.random.default_rng(1).standard_normal(tuple(ot.shape)).astype(dtype)
    (ot * torch.tensor(c)).sum().backward()
    (og * gk.tensor(c)).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(gg.grad.numpy(), tg.grad.numpy(), rtol=10 * tol, atol=10 * tol)


def test_grid_sample_coordinates_on_borders_and_pixel_centres():
    """Grid points exactly on pixel centres and borders: PyTorch counts borders as outside for the slope."""
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    g = np.array([[[[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0], [-1.5, 0.5]],
                   [[1.25, -1.0], [1.0, -0.2], [2.7, 3.3], [-3.1, 0.9]]]])
    for mode in ("bilinear", "nearest", "bicubic"):
        for pad in ("zeros", "border", "reflection"):
            for ac in (False, True):
                tg, gg = torch.tensor(g, requires_grad=True), gk.tensor(g, requires_grad=True)
                ot = torch.nn.functional.grid_sample(torch.tensor(x), tg, mode, pad, ac)
                og = F.grid_sample(gk.tensor(x), gg, mode, pad, ac)
                np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), atol=1e-12)
                ot.sum().backward()
                og.sum().backward()
                np.testing.assert_allclose(gg.grad.numpy(), tg.grad.numpy(), atol=1e-12,
                                           err_msg=f"{mode} {pad} {ac}")


def test_grid_sample_known_values():
    # bilinear at the centre of a 2x2 image is the mean; align_corners=True puts -1/1 on pixel centres
    x = gk.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    g = gk.tensor([[[[0.0, 0.0], [-1.0, -1.0], [1.0, 1.0]]]])
    np.testing.assert_allclose(F.grid_sample(x, g, align_corners=True).numpy(), [[[[2.5, 1.0, 4.0]]]])
    # align_corners=False: -1 is the image edge, half a pixel out, so zeros padding halves twice
    np.testing.assert_allclose(F.grid_sample(x, g, align_corners=False).numpy(), [[[[2.5, 0.25, 1.0]]]])
    np.testing.assert_allclose(F.grid_sample(x, g, padding_mode="border", align_corners=False).numpy(),
                               [[[[2.5, 1.0, 4.0]]]])


@pytest.mark.parametrize("mode,pad,ac", [("bilinear", "zeros", False), ("bilinear", "reflection", True),
                                         ("bicubic", "border", False), ("bicubic", "reflection", True)])
def test_grid_sample_gradcheck(mode, pad, ac):
    x, g = _data(2, np.float64, seed=3)
    x, g = x[:1, :2, :3, :4], g[:1, :2, :2]
    assert gradcheck(lambda a, b: F.grid_sample(a, b, mode, pad, ac),
                     (gk.tensor(x, requires_grad=True), gk.tensor(g, requires_grad=True)))


def test_grid_sample_5d_gradcheck_and_nearest_grid_grad_is_zero():
    x, g = _data(3, np.float64, seed=4)
    x, g = x[:1, :1], g[:1, :2, :2, :1]
    assert gradcheck(lambda a, b: F.grid_sample(a, b, "bilinear", "border", False),
                     (gk.tensor(x, requires_grad=True), gk.tensor(g, requires_grad=True)))
    gg = gk.tensor(g, requires_grad=True)
    F.grid_sample(gk.tensor(x), gg, "nearest", align_corners=False).sum().backward()
    np.testing.assert_array_equal(gg.grad.numpy(), np.zeros_like(g))


def test_grid_sample_errors():
    x, g = gk.randn(1, 2, 3, 4), gk.rand(1, 2, 2, 2)
    with pytest.raises(ValueError, match="'nearest' or 'bicubic', but got: 'x'"):
        F.grid_sample(x, g, mode="x", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or 'reflection'"):
        F.grid_sample(x, g, padding_mode="x", align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid and input to have same batch size"):
        F.grid_sample(x, gk.rand(2, 2, 2, 2), align_corners=False)
    with pytest.raises(RuntimeError, match="expected grid to have size 2 in last dimension"):
        F.grid_sample(x, gk.rand(1, 2, 2, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        F.grid_sample(gk.randn(1, 2, 3, 4, 5), gk.rand(1, 2, 2, 2, 3), mode="bicubic", align_corners=False)
    with pytest.raises(RuntimeError, match="expected 4D or 5D input and grid with same number of dimensions"):
        F.grid_sample(gk.randn(1, 2, 3), gk.rand(1, 2, 1), align_corners=False)
    with pytest.raises(RuntimeError, match="with dimension 2 being empty"):
        F.grid_sample(gk.randn(1, 2, 0, 3), g, align_corners=False)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, g)


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 3, 4, 2), (1, 1, 1, 3)])
@pytest.mark.parametrize("ac", [False, True])
def test_affine_grid_matches_torch(size, ac):
    torch = pytest.importorskip("torch")
    nd = len(size) - 2
    theta = np.random.default_rng(5).standard_normal((size[0], nd, nd + 1))
    tt, gt = torch.tensor(theta, requires_grad=True), gk.tensor(theta, requires_grad=True)
    with pytest.warns(UserWarning) if ac and min(size[2:]) == 1 else contextlib.nullcontext():
        og = F.affine_grid(gt, size, align_corners=ac)
    ot = torch.nn.functional.affine_grid(tt, size, align_corners=ac)
    assert tuple(og.shape) == tuple(ot.shape)
    np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), rtol=1e-12, atol=1e-12)
    c = np.random.default_rng(6).standard_normal(tuple(ot.shape))
    (ot * torch.tensor(c)).sum().backward()
    (og * gk.tensor(c)).sum().backward()
    np.testing.assert_allclose(gt.grad.numpy(), tt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_affine_grid_identity_and_errors():
    eye = gk.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    grid = F.affine_grid(eye, (1, 1, 2, 3), align_corners=True)
    np.testing.assert_allclose(grid.numpy()[0, :, :, 0], [[-1, 0, 1], [-1, 0, 1]])
    np.testing.assert_allclose(grid.numpy()[0, :, :, 1], [[-1, -1, -1], [1, 1, 1]])
    x = gk.randn(1, 2, 2, 3)
    np.testing.assert_allclose(F.grid_sample(x, grid, align_corners=True).numpy(), x.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape Nx2x3"):
        F.affine_grid(gk.rand(1, 3, 3), (1, 2, 3, 3), align_corners=False)
    with pytest.raises(ValueError, match="Expected a batch of 3D affine matrices of shape Nx3x4"):
        F.affine_grid(gk.rand(1, 2, 3), (1, 2, 3, 3, 3), align_corners=False)
    with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D sizes"):
        F.affine_grid(gk.rand(1, 2, 3), (1, 2, 3), align_corners=False)
    with pytest.raises(ValueError, match="Expected theta to have floating point type"):
        F.affine_grid(gk.zeros(1, 2, 3, dtype=gk.int64), (1, 2, 3, 3), align_corners=False)
    with pytest.raises(ValueError, match="Expected non-zero, positive output size"):
        F.affine_grid(gk.rand(1, 2, 3), (1, 2, 0, 3), align_corners=False)


def test_spatial_transformer_gradient_reaches_theta():
    """The spatial transformer tutorial's pipeline: theta -> affine_grid -> grid_sample -> loss."""
    rng = np.random.default_rng(8)
    x = gk.tensor(rng.standard_normal((2, 1, 5, 5)))
    theta0 = np.array([[[0.9, 0.1, 0.05], [-0.1, 0.8, 0.0]]] * 2) + rng.normal(0, 0.01, (2, 2, 3))

    def f(th):
        return F.grid_sample(x, F.affine_grid(th, (2, 1, 4, 4), align_corners=False), align_corners=False)

    assert gradcheck(f, (gk.tensor(theta0, requires_grad=True),))


_EMPTY = [((0, 3, 5, 6), (0, 4, 7, 2)), ((2, 0, 5, 6), (2, 4, 7, 2)), ((2, 3, 5, 6), (2, 0, 7, 2)),
          ((0, 2, 3, 4, 5), (0, 1, 2, 3, 3)), ((2, 0, 3, 4, 5), (2, 1, 2, 3, 3))]


@pytest.mark.parametrize("mode,shapes", [(m, s) for m in ("bilinear", "nearest", "bicubic")
                                         for s in _EMPTY if not (m == "bicubic" and len(s[0]) == 5)])
def test_empty_batch_channels_or_grid(mode: str, shapes: tuple) -> None:
    # an empty batch, channel or output dimension gives an empty result of the right shape (a
    # reshape to -1 could not be resolved there); its gradient is an empty tensor too
    xs, gs = shapes
    x = gk.zeros(*xs, dtype=gk.float64, requires_grad=True)
    out = F.grid_sample(x, gk.zeros(*gs, dtype=gk.float64), mode=mode, align_corners=False)
    assert tuple(out.shape) == (xs[0], xs[1], *gs[1:-1])
    out.sum().backward()
    assert tuple(x.grad.shape) == xs
