"""Complex tensors against live PyTorch: printing, real/imag/conj/angle/..., and gradients.

PyTorch's convention for a real loss ``L`` of ``z = x + iy`` is ``z.grad = dL/dx + i dL/dy``;
every gradient here is compared with torch's on the same computation.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gradkit as gk  # noqa: E402

RNG = np.random.default_rng(7)


def _c(shape, dtype=np.complex128):
    return (RNG.normal(size=shape) + 1j * RNG.normal(size=shape)).astype(dtype)


# --------------------------------------------------------------------------- #
# printing
# --------------------------------------------------------------------------- #
_PRINT_CASES = [
    np.array([1 + 2j, 3.5 - 1j], np.complex64),
    np.array([1 + 2j, 3 - 1j], np.complex64),
    np.array(1 + 2j, np.complex64),
    np.array(-0.5 - 0.25j, np.complex128),
    np.array([1 + 2j], np.complex128),
    np.array([1e-5 + 2j, 1e5 - 0j, complex(-0.0, -0.0), complex(np.nan, 1.0)], np.complex64),
    np.array([complex(np.inf, -np.inf), 1 + 1j, 0j], np.complex64),
    np.array([[1.25 + 1e3j, -2 + 0.5j], [3 - 7j, 1e-3 + 0j]], np.complex64),
    np.arange(24).reshape(2, 3, 4).astype(np.complex128) * (1 - 0.5j),
    (np.arange(2000) * (0.5 + 0.25j)).astype(np.complex64),
    (np.arange(2000).reshape(40, 50) * (1 - 2j)).astype(np.complex64),
    _c((3, 9), np.complex64),
    np.zeros(0, np.complex64),
    np.zeros((0, 2), np.complex128),
]


@pytest.mark.parametrize("i", range(len(_PRINT_CASES)))
def test_repr_matches_torch(i):
    a = _PRINT_CASES[i]
    assert repr(gk.tensor(a)) == repr(torch.tensor(a))


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_repr_suffixes_match_torch(dtype):
    a = _c((2, 3), dtype)
    z, t = gk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    assert repr(z) == repr(t)
    assert repr(z * 2) == repr(t * 2)
    assert repr(z.conj()) == repr(t.conj().resolve_conj()).replace(
        "CloneBackward0", "ConjBackward0")


def test_repr_default_float64_makes_complex128_default():
    a = np.array([1 + 2j, 0.5j])
    old_gk, old_t = gk.get_default_dtype(), torch.get_default_dtype()
    try:
        gk.set_default_dtype(gk.float64)
        torch.set_default_dtype(torch.float64)
        for arr in (a, a.astype(np.complex64)):
            assert repr(gk.tensor(arr)) == repr(torch.tensor(arr))
    finally:
        gk.set_default_dtype(old_gk)
        torch.set_default_dtype(old_t)


def test_repr_print_options_match_torch():
    a = _c((4, 6), np.complex64) * 100
    with gk.printoptions(precision=2, linewidth=40, sci_mode=True):
        ours = repr(gk.tensor(a))
    torch.set_printoptions(precision=2, linewidth=40, sci_mode=True)
    try:
        theirs = repr(torch.tensor(a))
    finally:
        torch.set_printoptions(profile="default")
    assert ours == theirs


# --------------------------------------------------------------------------- #
# forward values
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", ["real", "imag", "conj", "conj_physical", "resolve_conj", "angle",
                                  "view_as_real"])
def test_unary_forward_matches_torch(name, dtype):
    a = _c((3, 4), dtype)
    ours = getattr(gk, name)(gk.tensor(a))
    theirs = getattr(torch, name)(torch.tensor(a)).resolve_conj()
    assert ours.dtype.name == str(theirs.dtype).split(".")[1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    if name == "angle":
        # NOTE: atan2 comes from each library's own math library, which may differ in the last
        # bit (seen: 1 ulp in float32 on one CPU); the parts, conjugates and views are exact.
        eps = np.finfo(ours.numpy().dtype).eps
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=4 * eps, atol=4 * eps)
    else:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_methods_and_properties():
    a = _c((5,))
    z, t = gk.tensor(a), torch.tensor(a)
    np.testing.assert_array_equal(z.real.numpy(), t.real.numpy())
    np.testing.assert_array_equal(z.imag.numpy(), t.imag.numpy())
    np.testing.assert_array_equal(z.conj().numpy(), t.conj().resolve_conj().numpy())
    np.testing.assert_array_equal(z.angle().numpy(), t.angle().numpy())
    assert z.is_complex() and gk.is_complex(z) and not z.is_conj()
    assert z.conj().resolve_conj().is_complex()


def test_real_dtypes_follow_torch():
    x = gk.tensor([1.0, -2.0], requires_grad=True)
    assert x.real is x and x.conj() is x and x.conj_physical() is x and x.resolve_conj() is x
    np.testing.assert_array_equal(gk.angle(gk.tensor([1, -2])).numpy(),
                                  torch.angle(torch.tensor([1, -2])).numpy())
    np.testing.assert_array_equal(gk.angle(x).detach().numpy(),
                                  torch.angle(torch.tensor([1.0, -2.0])).numpy())
    assert gk.angle(gk.tensor([1, -2])).dtype is gk.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_complex_polar_view_as_complex_forward(dtype):
    re, im = RNG.normal(size=(2, 3)).astype(dtype), RNG.normal(size=(3,)).astype(dtype)
    for name in ("complex", "polar"):
        ours = getattr(gk, name)(gk.tensor(re), gk.tensor(im))
        theirs = getattr(torch, name)(torch.tensor(re), torch.tensor(im))
        assert ours.dtype.name == str(theirs.dtype).split(".")[1]
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)
    pair = RNG.normal(size=(4, 2)).astype(dtype)
    ours = gk.view_as_complex(gk.tensor(pair))
    theirs = torch.view_as_complex(torch.tensor(pair))
    assert ours.dtype.name == str(theirs.dtype).split(".")[1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


_ERRORS = [
    lambda m: m.tensor([1.0, 2.0]).imag,
    lambda m: m.view_as_real(m.tensor([1.0, 2.0])),
    lambda m: m.view_as_complex(m.ones(3, 3)),
    lambda m: m.view_as_complex(m.ones(3, 2, dtype=m.int64)),
    lambda m: m.complex(m.ones(2), m.ones(2, dtype=m.float64)),
    lambda m: m.complex(m.tensor([1]), m.tensor([1])),
    lambda m: m.polar(m.tensor([1]), m.tensor([1])),
]


@pytest.mark.parametrize("i", range(len(_ERRORS)))
def test_errors_match_torch(i):
    with pytest.raises(RuntimeError) as theirs:
        _ERRORS[i](torch)
    with pytest.raises(RuntimeError, match=None) as ours:
        _ERRORS[i](gk)
    assert str(ours.value) == str(theirs.value)


# --------------------------------------------------------------------------- #
# gradients
# --------------------------------------------------------------------------- #
def _both(m):
    return m


_GRAD_CASES = {
    "abs2": lambda m, z, w: (z.abs() ** 2).sum(),
    "abs": lambda m, z, w: z.abs().sum(),
    "real": lambda m, z, w: (z.real * w.real).sum(),
    "imag": lambda m, z, w: (z.imag * w.real).sum(),
    "conj": lambda m, z, w: (z.conj() * w).real.sum(),
    "conj_physical": lambda m, z, w: (m.conj_physical(z) * w).imag.sum(),
    "zzbar": lambda m, z, w: (z * z.conj()).real.sum(),
    "add_sub": lambda m, z, w: ((z + w) * (z - 2 * w)).abs().sum(),
    "mul": lambda m, z, w: (z * w).real.sum() + (z * w).imag.sum() * 0.5,
    "div": lambda m, z, w: (z / w).abs().sum() + (z / w).imag.sum(),
    "rdiv_scalar": lambda m, z, w: (1.0 / z).real.sum(),
    "exp": lambda m, z, w: (m.exp(z) * w).real.sum(),
    "log": lambda m, z, w: (m.log(z) * w).imag.sum(),
    "sqrt": lambda m, z, w: (m.sqrt(z) * w).real.sum(),
    "sin_cos": lambda m, z, w: (m.sin(z) + m.cos(w)).abs().sum(),
    "tanh": lambda m, z, w: (m.tanh(z) * w).real.sum(),
    "sigmoid": lambda m, z, w: (m.sigmoid(z) * w).real.sum(),
    "reciprocal": lambda m, z, w: (m.reciprocal(z) * w).real.sum(),
    "pow2": lambda m, z, w: (z ** 2 * w).real.sum(),
    "pow3": lambda m, z, w: (z ** 3).imag.sum(),
    "pow_half": lambda m, z, w: (z ** 0.5).real.sum(),
    "pow_neg": lambda m, z, w: (z ** -1.5 * w).imag.sum(),
    "sum_mean": lambda m, z, w: (z.sum(0) * w.mean(0)).real.sum(),
    "matmul": lambda m, z, w: (z @ w.T).abs().sum(),
    "matmul_vec": lambda m, z, w: (z @ w[0]).real.sum() + (z[0] @ w[1]).imag,
    "angle": lambda m, z, w: (z.angle() * w.real).sum(),
    "view_as_real": lambda m, z, w: (m.view_as_real(z) ** 3).sum(),
    "roundtrip": lambda m, z, w: (m.view_as_complex(m.view_as_real(z) * 2.0) * w).imag.sum(),
}


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(_GRAD_CASES))
def test_gradients_match_torch(name, dtype):
    f = _GRAD_CASES[name]
    a, b = _c((3, 4), dtype), _c((3, 4), dtype)
    z, w = gk.tensor(a, requires_grad=True), gk.tensor(b, requires_grad=True)
    tz, tw = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    loss = f(gk, z, w)
    tloss = f(torch, tz, tw)
    loss.backward()
    tloss.backward()
    tol = 1e-4 if dtype == np.complex64 else 1e-10
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=tol, atol=tol)
    for ours, theirs in ((z, tz), (w, tw)):
        if theirs.grad is None:
            assert ours.grad is None
            continue
        assert ours.grad.dtype.name == str(theirs.grad.dtype).split(".")[1]
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.resolve_conj().numpy(), rtol=tol, atol=tol)


_REAL_IN_CASES = {
    "complex": lambda m, x, y: (m.complex(x, y) ** 2).imag.sum() + m.complex(x, y).abs().sum(),
    "polar": lambda m, x, y: (m.polar(x, y) * (1 - 2j)).real.sum() + m.polar(x, y).imag.sum(),
    "view_as_complex": lambda m, x, y: (m.view_as_complex(m.stack([x, y], -1)) ** 2).real.sum(),
    "mixed_mul": lambda m, x, y: (x * m.complex(y, x)).imag.sum(),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(_REAL_IN_CASES))
def test_real_inputs_complex_graph_match_torch(name, dtype):
    f = _REAL_IN_CASES[name]
    a, b = RNG.normal(size=(5,)).astype(dtype), RNG.normal(size=(5,)).astype(dtype)
    x, y = gk.tensor(a, requires_grad=True), gk.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    f(gk, x, y).backward()
    f(torch, tx, ty).backward()
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for ours, theirs in ((x, tx), (y, ty)):
        assert ours.grad.dtype.name == str(theirs.grad.dtype).split(".")[1]
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.resolve_conj().numpy(), rtol=tol, atol=tol)


def test_brief_examples():
    z = gk.tensor([1 + 2j], requires_grad=True)
    (z.abs() ** 2).sum().backward()
    assert z.grad.numpy().tolist() == [2 + 4j]
    for attr, expected in (("real", 1 + 0j), ("imag", 1j)):
        z = gk.tensor([1 + 2j], requires_grad=True)
        getattr(z, attr).sum().backward()
        assert z.grad.numpy().tolist() == [expected]


def test_angle_at_origin_matches_torch():
    a = np.array([0j, 1 + 1j])
    z, t = gk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    z.angle().sum().backward()
    t.angle().sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), t.grad.resolve_conj().numpy())


def test_grad_fn_names_match_torch():
    a = _c((2, 2), np.complex64)
    z, t = gk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    pairs = [(z.conj(), t.conj()), (z.conj_physical(), t.conj_physical()), (z.angle(), t.angle()),
             (z.real, t.real), (z.imag, t.imag), (gk.view_as_real(z), torch.view_as_real(t))]
    x, tx = gk.ones(2, 2, requires_grad=True), torch.ones(2, 2, requires_grad=True)
    pairs += [(gk.complex(x, x), torch.complex(tx, tx)), (gk.polar(x, x), torch.polar(tx, tx)),
              (gk.view_as_complex(x), torch.view_as_complex(tx))]
    for ours, theirs in pairs:
        assert ours.grad_fn.name() == theirs.grad_fn.name()


def test_double_backward_matches_torch():
    a = _c((4,))
    z, t = gk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    outs = []
    for m, v in ((gk, z), (torch, t)):
        loss = (m.exp(v) * v.conj()).abs().sum()
        (g,) = m.autograd.grad(loss, v, create_graph=True)
        (g * g.conj()).real.sum().backward()
        outs.append(v.grad.detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-9, atol=1e-9)


def test_H_is_differentiable():
    a = _c((2, 3))
    z, t = gk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (z @ z.mH).real.sum().backward()
    (t @ t.mH).real.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), t.grad.resolve_conj().numpy(), rtol=1e-10, atol=1e-10)
