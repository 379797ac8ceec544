"""``gradkit.special`` against a live PyTorch's ``torch.special``: the same names, values,
dtypes and (where PyTorch has them) gradients. Skipped when PyTorch is not installed; the
gradients PyTorch does not have are checked against float64 finite differences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit as gk
import gradkit.special as gs

torch = pytest.importorskip("torch")

#: names of torch.special that are not functions (its imports and docstring pieces)
_NOT_FUNCTIONS = {"Tensor", "torch", "common_args", "multi_dim_common"}

# (name, sampler of the input in float64): a domain where the function is finite
_UNARY = {
    "airy_ai": (-4.0, 3.0), "bessel_j0": (-6.0, 6.0), "bessel_j1": (-6.0, 6.0),
    "bessel_y0": (0.2, 6.0), "bessel_y1": (0.2, 6.0), "digamma": (0.2, 4.0), "entr": (0.05, 3.0),
    "erf": (-2.0, 2.0), "erfc": (-2.0, 2.0), "erfcx": (-1.0, 3.0), "erfinv": (-0.9, 0.9),
    "exp2": (-2.0, 2.0), "expit": (-3.0, 3.0), "expm1": (-2.0, 2.0), "gammaln": (0.2, 4.0),
    "i0": (-3.0, 3.0), "i0e": (-3.0, 3.0), "i1": (-3.0, 3.0), "i1e": (-3.0, 3.0),
    "log1p": (-0.5, 2.0), "log_ndtr": (-5.0, 3.0), "logit": (0.05, 0.95),
    "modified_bessel_i0": (-3.0, 3.0), "modified_bessel_i1": (-3.0, 3.0),
    "modified_bessel_k0": (0.2, 4.0), "modified_bessel_k1": (0.2, 4.0), "ndtr": (-3.0, 3.0),
    "ndtri": (0.05, 0.95), "psi": (0.2, 4.0), "round": (-3.0, 3.0),
    "scaled_modified_bessel_k0": (0.2, 4.0), "scaled_modified_bessel_k1": (0.2, 4.0),
    "sinc": (-2.0, 2.0), "spherical_bessel_j0": (-8.0, 8.0),
}
_BINARY = {"xlogy": ((-2.0, 2.0), (0.1, 3.0)), "xlog1py": ((-2.0, 2.0), (-0.5, 3.0)),
           "gammainc": ((0.5, 3.0), (0.1, 4.0)), "gammaincc": ((0.5, 3.0), (0.1, 4.0)),
           "zeta": ((1.5, 4.0), (0.5, 3.0))}
_POLYNOMIALS = [n for n in dir(torch.special) if "polynomial" in n]
#: differentiable in PyTorch (the rest have no gradient there)
_TORCH_GRAD = {"digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
               "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "logit", "ndtr",
               "ndtri", "psi", "round", "sinc"}
_NO_GRAD_ANYWHERE = {"airy_ai"}
_TORCH_LESS_ACCURATE = {"airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1"}


def _x(lo: float, hi: float, shape: tuple[int, ...] = (7,), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def test_every_torch_special_function_is_here() -> None:
    names = {n for n in dir(torch.special) if not n.startswith("_")} - _NOT_FUNCTIONS
    assert names == set(gs.__all__)
    assert all(callable(getattr(gs, n)) for n in names)
    assert gk.special is gs


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(_UNARY))
def test_unary_values(name: str, dtype: str) -> None:
    x = _x(*_UNARY[name]).astype(dtype)
    got = getattr(gs, name)(gk.tensor(x))
    want = getattr(torch.special, name)(torch.tensor(x))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    tol = 1e-12 if dtype == "float64" else 2e-6
    if name in _TORCH_LESS_ACCURATE:
        tol = 1e-4      # PyTorch's value is off by up to ~4e-5 (see the mpmath test)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(_TORCH_LESS_ACCURATE))
def test_against_mpmath(name: str) -> None:
    # PyTorch 2.13's airy_ai and bessel_j0/j1/y0/y1 differ from the exact values by up to
    # ~4e-5 relative in float64 (e.g. bessel_j0(-5.5): -0.0068440327 against -0.0068438694)
    mpmath = pytest.importorskip("mpmath")
    lo, hi = _UNARY[name]
    x = np.linspace(lo, hi, 19)
    exact = {"airy_ai": mpmath.airyai, "bessel_j0": lambda v: mpmath.besselj(0, v),
             "bessel_j1": lambda v: mpmath.besselj(1, v),
             "bessel_y0": lambda v: mpmath.bessely(0, v),
             "bessel_y1": lambda v: mpmath.bessely(1, v)}[name]
    want = np.array([float(exact(v)) for v in x])
    np.testing.assert_allclose(getattr(gs, name)(gk.tensor(x)).numpy(), want, rtol=1e-11,
                               atol=1e-14)


@pytest.mark.parametrize("name", ["erf", "expit", "gammaln", "i0", "bessel_j0", "airy_ai",
                                  "spherical_bessel_j0", "ndtr", "modified_bessel_k0"])
def test_integer_input_gives_default_float(name: str) -> None:
    x = np.array([1, 2, 3])
    got = getattr(gs, name)(gk.tensor(x))
    want = getattr(torch.special, name)(torch.tensor(x))
    assert str(got.dtype) == str(want.dtype).replace("torch", "torch")
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-6)


@pytest.mark.parametrize("name", sorted(_BINARY))
def test_binary_values_and_scalars(name: str) -> None:
    (a0, a1), (b0, b1) = _BINARY[name]
    a, b = _x(a0, a1, (3, 4), 1), _x(b0, b1, (4,), 2)
    got = getattr(gs, name)(gk.tensor(a), gk.tensor(b))
    want = getattr(torch.special, name)(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
    if name.startswith("gammainc"):
        return          # PyTorch takes no number here
    s = float(a0 + a1) / 2
    got = getattr(gs, name)(s, gk.tensor(b))
    want = getattr(torch.special, name)(s, torch.tensor(b))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", _POLYNOMIALS)
def test_polynomials(name: str) -> None:
    x = np.linspace(-1.7, 1.7, 13)
    n = np.array([-1, 0, 1, 2, 3, 5, 8, 11, 2.7, 6, 0, 4, 9])
    for deg in (gk.tensor(n), 3, 7):
        tdeg = torch.tensor(n) if isinstance(deg, gk.Tensor) else deg
        got = getattr(gs, name)(gk.tensor(x), deg)
        want = getattr(torch.special, name)(torch.tensor(x), tdeg)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-10)
    # a scalar input with a degree tensor: PyTorch's default dtype
    got = getattr(gs, name)(0.5, gk.tensor([2, 3]))
    want = getattr(torch.special, name)(0.5, torch.tensor([2, 3]))
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    # no gradient, as in PyTorch: the output does not require grad
    assert not getattr(gs, name)(gk.tensor(x, requires_grad=True), 3).requires_grad


@pytest.mark.parametrize("name", sorted(_TORCH_GRAD))
def test_gradients_match_torch(name: str) -> None:
    x = _x(*_UNARY[name], seed=3)
    gx = gk.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    (g,) = gk.autograd.grad(getattr(gs, name)(gx).sum(), gx)
    (t,) = torch.autograd.grad(getattr(torch.special, name)(tx).sum(), tx)
    # NOTE: PyTorch's trigamma (digamma's derivative) is off by ~1e-10 relative (0.3:
    # 12.2453645449 against mpmath's 12.2453645461); gradkit's matches mpmath to 1e-16
    rtol = 1e-8 if name in ("digamma", "psi") else 1e-10
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("name", sorted(set(_UNARY) - _TORCH_GRAD - _NO_GRAD_ANYWHERE))
def test_gradients_torch_lacks_match_finite_differences(name: str) -> None:
    # PyTorch gives these no gradient; gradkit's are exact: central differences in float64
    x = _x(*_UNARY[name], seed=4)
    gx = gk.tensor(x, requires_grad=True)
    (g,) = gk.autograd.grad(getattr(gs, name)(gx).sum(), gx)
    f = getattr(gs, name)
    h = 1e-6
    fd = (f(gk.tensor(x + h)) - f(gk.tensor(x - h))).numpy() / (2 * h)
    np.testing.assert_allclose(g.numpy(), fd, rtol=1e-6, atol=1e-8)


def test_airy_has_no_gradient_like_torch() -> None:
    x = gk.tensor([0.5], requires_grad=True)
    assert not gs.airy_ai(x).requires_grad
    assert not torch.special.airy_ai(torch.tensor([0.5], requires_grad=True)).requires_grad


def test_spherical_bessel_j0_near_zero() -> None:
    # j0(x) = sin(x)/x = 1 - x^2/6 + x^4/120 - ...: j0(0) = 1, j0'(0) = 0, j0''(0) = -1/3
    x = gk.tensor([0.0, 1e-5, -2e-4], dtype=gk.float64, requires_grad=True)
    y = gs.spherical_bessel_j0(x)
    np.testing.assert_allclose(y.detach().numpy(), np.sin([1e-300, 1e-5, -2e-4]) /
                               np.array([1e-300, 1e-5, -2e-4]), rtol=1e-15)
    (g,) = gk.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy()[0], 0.0)
    (h,) = gk.autograd.grad(g[0], x)
    np.testing.assert_allclose(h.numpy()[0], -1.0 / 3.0, rtol=1e-12)


def test_functions_with_parameters() -> None:
    x = np.array([[0.2, 1.5, -0.7], [2.0, -1.0, 0.3]])
    g, t = gk.tensor(x), torch.tensor(x)
    pairs: list[tuple[Any, Any]] = [
        (gs.logsumexp(g, 1), torch.special.logsumexp(t, 1)),
        (gs.logsumexp(g, (0, 1), keepdim=True), torch.special.logsumexp(t, (0, 1), keepdim=True)),
        (gs.softmax(g, 0), torch.special.softmax(t, 0)),
        (gs.log_softmax(g, 1, dtype=gk.float32), torch.special.log_softmax(t, 1, dtype=torch.float32)),
        (gs.logit(gk.tensor([0.0, 0.3, 1.0]), eps=1e-3),
         torch.special.logit(torch.tensor([0.0, 0.3, 1.0]), eps=1e-3)),
        (gs.polygamma(2, g.abs() + 0.5), torch.special.polygamma(2, t.abs() + 0.5)),
        (gs.multigammaln(g.abs() + 2, 3), torch.special.multigammaln(t.abs() + 2, 3)),
        (gs.round(g * 10, decimals=-1), torch.special.round(t * 10, decimals=-1)),
        (gs.round(g, decimals=1), torch.special.round(t, decimals=1)),
    ]
    for a, b in pairs:
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-12)


def test_multigammaln_gradient_and_p_check() -> None:
    x = np.array([2.5, 3.0, 4.2])
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = gk.autograd.grad(gs.multigammaln(gx, 4).sum(), gx)
    (t,) = torch.autograd.grad(torch.special.multigammaln(tx, 4).sum(), tx)
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        gs.multigammaln(gx, 0)


def test_out_and_type_errors() -> None:
    out = gk.empty(3)
    res = gs.expit(gk.tensor([0.0, 1.0, -1.0]), out=out)
    assert res is out
    np.testing.assert_allclose(out.numpy(), torch.special.expit(torch.tensor([0.0, 1.0, -1.0])).numpy(),
                               rtol=1e-6)
    with pytest.raises(TypeError, match=r"special_erf\(\): argument 'input' \(position 1\) must be "
                       "Tensor, not float"):
        gs.erf(1.0)
    with pytest.raises(TypeError, match="special_xlogy"):
        gs.xlogy(1.0, 2.0)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic "
                       "differentiation"):
        gs.erf(gk.ones(3, requires_grad=True), out=gk.empty(3))


def test_tutorial_names() -> None:
    # the names tutorials use, as `import gradkit as torch` code writes them
    x = gk.tensor([0.25, 0.5])
    np.testing.assert_allclose(gk.special.expit(gk.special.logit(x)).numpy(), x.numpy(), rtol=1e-6)
    t = torch.tensor([0.25, 0.5])
    np.testing.assert_allclose(gk.special.xlogy(x, x).numpy(), torch.special.xlogy(t, t).numpy())


def test_limits_at_infinity() -> None:
    # exp(x) K_v(x) ~ sqrt(pi / 2x) -> 0 and sin(x)/x -> 0 at infinity (PyTorch's values too);
    # SciPy's kve and sin(inf)/inf give NaN there, which these functions must not pass on
    x = np.array([-np.inf, np.inf, np.nan])
    for f in (gs.scaled_modified_bessel_k0, gs.scaled_modified_bessel_k1):
        np.testing.assert_array_equal(f(gk.tensor(x[1:])).numpy(), [0.0, np.nan])
    np.testing.assert_array_equal(gs.spherical_bessel_j0(gk.tensor(x)).numpy(), [0.0, 0.0, np.nan])
    for f, t in ((gs.scaled_modified_bessel_k0, torch.special.scaled_modified_bessel_k0),
                 (gs.scaled_modified_bessel_k1, torch.special.scaled_modified_bessel_k1),
                 (gs.spherical_bessel_j0, torch.special.spherical_bessel_j0)):
        np.testing.assert_array_equal(f(gk.tensor(x)).numpy(), t(torch.tensor(x)).numpy())
    # the gradient of sin(x)/x, (x cos x - sin x) / x**2, tends to 0 as well (no NaN leaking
    # from the small-x polynomial's branch)
    gx = gk.tensor(np.array([-np.inf, 2.0, np.inf]), requires_grad=True)
    gs.spherical_bessel_j0(gx).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), [0.0, np.cos(2.0) / 2.0 - np.sin(2.0) / 4.0, 0.0],
                               rtol=1e-12)
