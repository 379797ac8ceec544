"""The functions added after the core set, checked value and gradient against live PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gradkit as gk  # noqa: E402

NAN, INF = math.nan, math.inf


def _both(fn_t, fn_g, *vals, rtol=1e-10):
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in vals]
    gs = [gk.tensor(v, dtype=gk.float64, requires_grad=True) for v in vals]
    ot, og = fn_t(*ts), fn_g(*gs)
    np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), rtol=rtol, atol=1e-12)
    want = torch.autograd.grad(ot.sum(), ts, allow_unused=True)
    got = gk.autograd.grad(og.sum(), gs, allow_unused=True)
    for w, g in zip(want, got):
        w = np.zeros(1) if w is None else w.numpy()
        g = np.zeros(1) if g is None else g.numpy()
        np.testing.assert_allclose(g, w, rtol=max(rtol, 1e-9), atol=1e-12)


CASES = [
    ("xlogy", [[0., 0., 0., 1., 0., 2.], [0., -1., 2., 0., NAN, 3.]]),
    ("copysign", [[0., -0., 1., -2.], [-1., 1., -0., 0.]]),
    ("fmax", [[1., 1., NAN, 2., NAN], [1., NAN, 1., 3., NAN]]),
    ("fmin", [[1., 1., NAN, 2.], [1., NAN, 1., 3.]]),
    ("logaddexp2", [[1., -INF, 3.], [2., -INF, -1.]]),
    ("sinc", [[0., 0.5, 1., -2.3]]),
    ("erfc", [[0., 10., -1.5]]),
    ("erfinv", [[0., 0.5, 1., -1., -0.3]]),
    ("lgamma", [[0., -1., 0.5, -2.5, 3.]]),
    ("digamma", [[0., 0.5, 2.5, -0.5]]),
    ("nan_to_num", [[NAN, INF, -INF, 1.]]),
    ("deg2rad", [[180., -30.]]),
    ("rad2deg", [[1., -0.5]]),
]


@pytest.mark.parametrize("name,vals", CASES, ids=[c[0] for c in CASES])
def test_elementwise(name, vals):
    _both(getattr(torch, name), getattr(gk, name), *vals)


def test_polygamma():
    # NOTE: PyTorch's polygamma is good to about 1e-9 (pi**2 / 2 = 4.934802200544679 at 0.5).
    _both(lambda x: torch.polygamma(1, x), lambda x: gk.polygamma(1, x), [0.5, 2., 3.5], rtol=1e-8)
    _both(lambda x: torch.polygamma(2, x), lambda x: x.polygamma(2), [0.5, 2.], rtol=1e-8)


@pytest.mark.parametrize("w", [0.3, 0.7, -0.2, 1.5])
def test_lerp_scalar(w):
    _both(lambda a, b: torch.lerp(a, b, w), lambda a, b: gk.lerp(a, b, w), [1., 2., -3.], [3., 5., 4.])


def test_lerp_tensor_weight():
    _both(torch.lerp, gk.lerp, [1., 2., -3.], [3., 5., 4.], [0.3, 0.7, 0.5])


def test_addcmul_addcdiv():
    _both(lambda a, b, c: torch.addcmul(a, b, c, value=0.5), lambda a, b, c: gk.addcmul(a, b, c, value=0.5),
          [1., 2.], [3., 4.], [5., -6.])
    _both(lambda a, b, c: torch.addcdiv(a, b, c, value=2), lambda a, b, c: gk.addcdiv(a, b, c, value=2),
          [1., 2.], [3., 4.], [5., -6.])


def test_logcumsumexp():
    _both(lambda x: torch.logcumsumexp(x, 0), lambda x: gk.logcumsumexp(x, 0), [-1000., 0., -INF, 2.])
    _both(lambda x: torch.logcumsumexp(x, 0), lambda x: gk.logcumsumexp(x, 0), [0.3, -1.2, 2.5, 0.1])


def test_nanmean_and_reductions():
    _both(lambda x: torch.nanmean(x), lambda x: gk.nanmean(x), [1., NAN, 3.])
    _both(lambda x: torch.nanmean(x.reshape(2, 2), 1), lambda x: gk.nanmean(x.reshape(2, 2), 1),
          [1., NAN, 3., 4.])
    _both(lambda x: torch.aminmax(x).min + 2 * torch.aminmax(x).max,
          lambda x: gk.aminmax(x).min + 2 * gk.aminmax(x).max, [1., 1., 3., 3.])
    a = [[0, 1, 2], [3, 0, 0]]
    for dim in (None, 0, 1, (0, 1)):
        assert gk.count_nonzero(gk.tensor(a), dim=dim).tolist() == \
            torch.count_nonzero(torch.tensor(a), dim=dim).tolist()
    mm_t = torch.aminmax(torch.tensor([[1., 5], [3, 2]]), dim=0, keepdim=True)
    mm_g = gk.aminmax(gk.tensor([[1., 5], [3, 2]]), dim=0, keepdim=True)
    assert mm_g.min.tolist() == mm_t.min.tolist() and mm_g.max.tolist() == mm_t.max.tolist()


def test_index_add():
    xt = torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)
    st = torch.arange(4.0, dtype=torch.float64).reshape(2, 2).requires_grad_()
    xg = gk.zeros(3, 2, dtype=gk.float64, requires_grad=True)
    sg = gk.arange(4.0, dtype=gk.float64).reshape(2, 2).requires_grad_()
    w = torch.tensor([[1., 2.], [3., 4.], [5., 6.]], dtype=torch.float64)
    ot = xt.index_add(0, torch.tensor([0, 0]), st, alpha=2.)
    og = xg.index_add(0, gk.tensor([0, 0]), sg, alpha=2.)
    assert og.tolist() == ot.tolist()
    (ot * w).sum().backward()
    (og * gk.tensor(w.numpy())).sum().backward()
    assert xg.grad.tolist() == xt.grad.tolist() and sg.grad.tolist() == st.grad.tolist()
    a, b = torch.ones(2, 3), gk.ones(2, 3)
    a.index_add_(1, torch.tensor([2]), torch.full((2, 1), 5.))
    b.index_add_(1, gk.tensor([2]), gk.full((2, 1), 5.))
    assert a.tolist() == b.tolist()


def test_flip_varargs():
    assert gk.arange(6).reshape(2, 3).flip(0, 1).tolist() == torch.arange(6).reshape(2, 3).flip(0, 1).tolist()
    assert gk.arange(6).reshape(2, 3).flip((1,)).tolist() == torch.arange(6).reshape(2, 3).flip((1,)).tolist()


def test_dtypes_and_heaviside():
    got, want = gk.xlogy(gk.tensor([2.]), 3), torch.xlogy(torch.tensor([2.]), 3)
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    assert gk.heaviside(gk.tensor([1, 0]), gk.tensor([7])).tolist() == \
        torch.heaviside(torch.tensor([1, 0]), torch.tensor([7])).tolist()
    assert gk.heaviside(gk.tensor([-1., 0, 2]), gk.tensor(0.5)).tolist() == \
        torch.heaviside(torch.tensor([-1., 0, 2]), torch.tensor(0.5)).tolist()
    assert gk.deg2rad(gk.tensor([180])).dtype == gk.float32


def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    return None


def test_strictness_matches_torch():
    pairs = [
        (lambda t: t.tensor([True, False]) - 1),
        (lambda t: 1 - t.tensor([True, False])),
        (lambda t: t.tensor([True, False]) - t.tensor([True, True])),
        (lambda t: t.sub(t.ones(2), t.tensor([True, False]))),
        (lambda t: t.tensor([3, 4]) // 0),
        (lambda t: t.tensor([3, 4]) % 0),
        (lambda t: t.tensor([3, 4]) // t.tensor([0, 1])),
        (lambda t: t.where(t.tensor([1., 0.]), t.ones(2), t.zeros(2))),
        (lambda t: float(t.ones(2))),
        (lambda t: int(t.ones(2))),
        (lambda t: t.lerp(t.tensor([1, 2]), t.tensor([3, 4]), 0.5)),
        (lambda t: t.nanmean(t.tensor([1, 2]))),
    ]
    for f in pairs:
        want = _err(lambda f=f: f(torch))
        assert want is not None
        assert _err(lambda f=f: f(gk)) == want


def test_integer_wraparound_and_bool_promotion():
    for f in (lambda t: t.tensor([1, 200], dtype=t.uint8) + -3,
              lambda t: t.tensor([1, 200], dtype=t.uint8) < -3,
              lambda t: t.tensor([1, 200], dtype=t.uint8) - 300,
              lambda t: t.tensor([1, -5], dtype=t.int8) + 300,
              lambda t: t.tensor([1, -5], dtype=t.int8) == 257,
              lambda t: t.square(t.tensor([True, False])),
              lambda t: 2 ** t.tensor([True, False])):
        a, b = f(torch), f(gk)
        assert b.tolist() == a.tolist()
        assert str(b.dtype).split(".")[1] == str(a.dtype).split(".")[1]


def test_logit_gradient_outside_unit_interval():
    _both(torch.logit, gk.logit, [-0.5, 0.3, 1.5])
    _both(lambda x: torch.logit(x, eps=0.1), lambda x: gk.logit(x, eps=0.1), [-0.5, 0.3, 1.5])
