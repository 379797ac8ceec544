"""quantile/nanquantile, nanmedian and mode: values, errors and gradients recorded from
PyTorch 2.13 CPU (the live comparison runs where torch is installed)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

NAN = float("nan")
Q = [0.125, 0.375, 0.5, 0.625, 0.9]
# torch.quantile(tensor([0, 1, 2, 3, 10.]), tensor(Q), interpolation=m)
RECORDED = {
    "linear": [0.5, 1.5, 2.0, 2.5, 7.2],
    "lower": [0.0, 1.0, 2.0, 2.0, 3.0],
    "higher": [1.0, 2.0, 2.0, 3.0, 10.0],
    "midpoint": [0.5, 1.5, 2.0, 2.5, 6.5],
    "nearest": [0.0, 2.0, 2.0, 2.0, 10.0],       # ranks 1.5 and 2.5 round half to even
}


@pytest.mark.parametrize("mode", sorted(RECORDED))
def test_quantile_interpolations(mode: str) -> None:
    out = gk.quantile(gk.tensor([0.0, 1.0, 2.0, 3.0, 10.0]), gk.tensor(Q), interpolation=mode)
    np.testing.assert_allclose(out.numpy(), RECORDED[mode], rtol=1e-6)
    # the same as NumPy's method of that name (an independent implementation)
    np.testing.assert_allclose(out.numpy(), np.quantile([0.0, 1.0, 2.0, 3.0, 10.0], Q, method=mode),
                               rtol=1e-6)


def test_quantile_shapes_nan_and_keepdim() -> None:
    x = gk.tensor([[1.0, 5.0, 2.0, 8.0], [3.0, NAN, 0.0, 4.0]])
    np.testing.assert_allclose(gk.quantile(x, 0.4, dim=1).numpy(), [2.6, NAN], rtol=1e-6)
    np.testing.assert_allclose(gk.nanquantile(x, gk.tensor([0.25, 0.5]), dim=1).numpy(),
                               [[1.75, 1.5], [3.5, 3.0]], rtol=1e-6)
    assert gk.quantile(x, gk.tensor([0.25, 0.5]), dim=1, keepdim=True).shape == (2, 2, 1)
    assert gk.quantile(x, gk.tensor([0.25, 0.5]), keepdim=True).shape == (2, 1, 1)
    assert gk.quantile(x, 0.5, keepdim=True).shape == (1, 1)
    assert gk.quantile(x, gk.tensor(0.5), dim=1).shape == (2,)
    assert np.isnan(gk.quantile(x, 0.5).item())
    assert np.isnan(gk.nanquantile(gk.tensor([NAN, NAN]), 0.5).item())
    np.testing.assert_allclose(x.quantile(0.3, dim=-1).numpy(), [1.9, NAN], rtol=1e-6)


def test_quantile_gradient_goes_to_the_neighbours() -> None:
    x = gk.tensor([[1.0, 5.0, 2.0, 8.0], [3.0, 6.0, 0.0, 4.0]], dtype=gk.float64, requires_grad=True)
    gk.quantile(x, gk.tensor([0.3, 0.5], dtype=gk.float64), dim=1).sum().backward()
    # rank 0.9 -> 0.1 * x[0] + 0.9 * x[2nd]; rank 1.5 -> halves of the 2nd and 3rd (torch 2.13)
    np.testing.assert_allclose(x.grad.numpy(), [[0.1, 0.5, 1.4, 0.0], [1.4, 0.0, 0.1, 0.5]], rtol=1e-12)


@pytest.mark.parametrize("call, msg", [
    (lambda x: gk.quantile(gk.tensor([1, 2]), 0.5),
     "quantile() input tensor must be either float or double dtype"),
    (lambda x: gk.quantile(x, 1.5), "quantile() q must be in the range [0, 1] but got 1.5"),
    (lambda x: gk.nanquantile(x, -0.1), "quantile() q must be in the range [0, 1] but got -0.1"),
    (lambda x: gk.quantile(x, gk.tensor([0.5], dtype=gk.float64)),
     "quantile() q tensor must be same dtype as the input tensor"),
    (lambda x: gk.quantile(x, gk.tensor([[0.5]])), "quantile() q must be a scalar or 1D tensor"),
    (lambda x: gk.quantile(x, 0.5, interpolation="foo"),
     "quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, but got foo"),
    (lambda x: gk.quantile(gk.tensor([]), 0.5), "quantile() input tensor must be non-empty"),
])
def test_quantile_errors(call, msg: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError) as info:
        call(gk.tensor([[1.0, 5.0], [2.0, 8.0]]))
    assert str(info.value) == msg


def test_nanmedian() -> None:
    x = gk.tensor([[1.0, 5.0, 2.0, 8.0], [3.0, NAN, 0.0, 4.0]])
    assert gk.nanmedian(x).item() == 3.0
    v, i = gk.nanmedian(x, dim=1)
    assert v.tolist() == [2.0, 3.0] and i.tolist() == [2, 0]
    v, i = gk.nanmedian(gk.tensor([[NAN], [1.0]]), dim=1)
    assert np.isnan(v[0].item()) and v[1].item() == 1.0 and i.tolist() == [0, 0]
    v, i = x.nanmedian(0, True)
    assert v.tolist() == [[1.0, 5.0, 0.0, 4.0]] and i.tolist() == [[0, 0, 1, 1]]
    g = gk.tensor([[1.0, 5.0, 2.0, 2.0], [3.0, NAN, 0.0, 4.0]], requires_grad=True)
    gk.nanmedian(g).backward()          # split over the elements equal to it, as median's
    np.testing.assert_array_equal(g.grad.numpy(), [[0, 0, 0.5, 0.5], [0, 0, 0, 0]])


def test_mode() -> None:
    v, i = gk.mode(gk.tensor([[1, 2, 2, 3, 3], [5, 5, 1, 1, 0]]))
    assert v.tolist() == [2, 1] and i.tolist() == [2, 3]          # smallest tie, last index
    v, i = gk.mode(gk.tensor([2, 1, 2, 1, 3, 2]))
    assert v.item() == 2 and i.item() == 5
    v, i = gk.mode(gk.tensor([[1, 2], [1, 3], [2, 3]]), 0)
    assert v.tolist() == [1, 3] and i.tolist() == [1, 2]
    v, i = gk.tensor([[1, 1, 2]]).mode(0, True)
    assert v.tolist() == [[1, 1, 2]] and i.tolist() == [[0, 0, 0]]
    x = gk.tensor([[1.0, 5.0, 2.0, 2.0], [3.0, 4.0, 0.0, 4.0]], requires_grad=True)
    gk.mode(x, 1)[0].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0, 1], [0, 0, 0, 1]])


def test_matches_live_torch() -> None:
    torch = pytest.importorskip("torch")
    x = [[1.0, 5.0, 2.0, 8.0], [3.0, NAN, 0.0, 4.0]]
    for mode in RECORDED:
        a = torch.nanquantile(torch.tensor(x), torch.tensor([0.1, 0.5, 0.9]), dim=1, interpolation=mode)
        b = gk.nanquantile(gk.tensor(x), gk.tensor([0.1, 0.5, 0.9]), dim=1, interpolation=mode)
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6)
    tv, ti = torch.mode(torch.tensor([[1, 2, 2, 3, 3], [5, 5, 1, 1, 0]]))
    gv, gi = gk.mode(gk.tensor([[1, 2, 2, 3, 3], [5, 5, 1, 1, 0]]))
    assert gv.tolist() == tv.tolist() and gi.tolist() == ti.tolist()
    tv, ti = torch.nanmedian(torch.tensor(x), dim=1)
    gv, gi = gk.nanmedian(gk.tensor(x), dim=1)
    assert gv.tolist() == tv.tolist() and gi.tolist() == ti.tolist()
