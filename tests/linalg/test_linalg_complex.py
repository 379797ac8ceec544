"""Complex inputs: gradkit.linalg's decompositions and norms, NumPy's one-triangle eigh, and
complex forward/reverse mode of the rows fixed with them.

Expected values come from NumPy (values) and central finite differences in float64 (real and
imaginary parts perturbed separately), never from gradkit. Gradients follow PyTorch's
convention: for a real loss L, ``grad = dL/dRe + i dL/dIm``; a JVP of a holomorphic ``f``
along a complex tangent ``t`` is ``f'(z) t``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk

H = 1e-6


def _c(*shape: int, seed: int = 0) -> np.ndarray:
    r = np.random.default_rng(seed)
    return r.standard_normal(shape) + 1j * r.standard_normal(shape)


def _herm(n: int, seed: int = 0) -> np.ndarray:
    a = _c(n, n, seed=seed)
    return a + a.conj().T


def _fd_grad(f: Callable[[np.ndarray], float], a: np.ndarray) -> np.ndarray:
    """``dL/dRe + i dL/dIm`` by central differences (``i dL/dIm`` only for complex ``a``)."""
    g = np.zeros(a.shape, dtype=a.dtype)
    for idx in np.ndindex(*a.shape):
        e = np.zeros(a.shape, dtype=a.dtype)
        e[idx] = H
        g[idx] = (f(a + e) - f(a - e)) / (2 * H)
        if a.dtype.kind == "c":
            e[idx] = 1j * H
            g[idx] += 1j * (f(a + e) - f(a - e)) / (2 * H)
    return g


def _grad(loss: Callable[[gk.Tensor], gk.Tensor], a: np.ndarray) -> np.ndarray:
    t = gk.tensor(a, requires_grad=True)
    loss(t).backward()
    return t.grad.numpy()


def _fd_jvp(f: Callable[[np.ndarray], np.ndarray], z: np.ndarray, t: np.ndarray) -> np.ndarray:
    return (f(z + H * t) - f(z - H * t)) / (2 * H)


# --- losses: (gradkit, NumPy) pairs that do not depend on the free phases ----------------
W4 = np.random.default_rng(9).standard_normal((5, 5))


def _svd_vectors(lib: Any, a: Any, full: bool = False) -> Any:
    """|U|^2 and |Vh|^2 weighted, and u_0i conj(v_0i) (phase-free), plus the singular values."""
    if lib is np:
        u, s, vh = np.linalg.svd(a, full_matrices=full)
        absf = np.abs
    else:
        u, s, vh = gk.linalg.svd(a, full_matrices=full)
        absf = gk.abs
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]
    m, n = u.shape[-2], vh.shape[-1]
    w_u, w_v = W4[:m, :k], W4[:k, :n]
    pair = u[..., 0, :] * vh[..., :, 0]
    total = (absf(u) ** 2 * w_u).sum() + (absf(vh) ** 2 * w_v).sum() + (s * np.arange(1.0, k + 1)).sum()
    return total + (pair * (0.3 - 0.7j)).real.sum()


def _ramp(a: Any) -> np.ndarray:
    """1, 2, ..., min(m, n): weights that single out each singular value."""
    return np.arange(1.0, min(a.shape[-2:]) + 1)


CASES = {
    "svdvals": (lambda a: (gk.linalg.svdvals(a) * gk.tensor(_ramp(a))).sum(),
                lambda a: (np.linalg.svd(a, compute_uv=False) * _ramp(a)).sum()),
    "svd": (lambda a: _svd_vectors(gk, a), lambda a: _svd_vectors(np, a)),
    "svd-full": (lambda a: (gk.linalg.svd(a, full_matrices=True).S ** 2).sum()
                 + (gk.linalg.svd(a, full_matrices=True).U[..., : min(a.shape[-2:])].abs() ** 3).sum(),
                 lambda a: (np.linalg.svd(a)[1] ** 2).sum()
                 + (np.abs(np.linalg.svd(a)[0][..., : min(a.shape[-2:])]) ** 3).sum()),
    "nuc": (lambda a: gk.linalg.matrix_norm(a, "nuc").sum(),
            lambda a: np.linalg.norm(a, "nuc", axis=(-2, -1)).sum()),
    "two": (lambda a: gk.linalg.matrix_norm(a, 2).sum(), lambda a: np.linalg.norm(a, 2, axis=(-2, -1)).sum()),
    "fro": (lambda a: gk.linalg.matrix_norm(a).sum(),
            lambda a: np.linalg.norm(a, "fro", axis=(-2, -1)).sum()),
    "one": (lambda a: gk.linalg.matrix_norm(a, 1).sum(), lambda a: np.linalg.norm(a, 1, axis=(-2, -1)).sum()),
    "inf": (lambda a: gk.linalg.matrix_norm(a, float("inf")).sum(),
            lambda a: np.linalg.norm(a, np.inf, axis=(-2, -1)).sum()),
    "vector3": (lambda a: gk.linalg.vector_norm(a, 3).sum(), lambda a: (np.abs(a) ** 3).sum() ** (1 / 3)),
}


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 3, 3)])
@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_gradients_match_finite_differences(name: str, shape: tuple[int, ...]) -> None:
    ours, ref = CASES[name]
    a = _c(*shape, seed=len(shape) * 10 + shape[-1])
    np.testing.assert_allclose(_grad(ours, a), _fd_grad(ref, a), atol=1e-6)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_complex_eigh_gradients_match_finite_differences_on_hermitian_perturbations(uplo: str) -> None:
    # gradkit.linalg.eigh returns PyTorch's Hermitian gradient, which is the derivative along
    # Hermitian perturbations: compare through A -> (A + A^H) / 2.
    a = _herm(4, seed=3)
    w = np.random.default_rng(1).standard_normal((4, 4))

    def ours(x: gk.Tensor) -> gk.Tensor:
        val, vec = gk.linalg.eigh((x + x.mH) * 0.5, UPLO=uplo)
        return (vec.abs() ** 2 * gk.tensor(w)).sum() + (val * gk.arange(1.0, 5.0)).sum() \
            + (gk.linalg.eigvalsh((x + x.mH) * 0.5, UPLO=uplo) ** 2).sum()

    def ref(x: np.ndarray) -> float:
        val, vec = np.linalg.eigh((x + x.conj().T) / 2, UPLO=uplo)
        return (np.abs(vec) ** 2 * w).sum() + (val * np.arange(1.0, 5.0)).sum() + (val ** 2).sum()

    np.testing.assert_allclose(_grad(ours, a), _fd_grad(ref, a), atol=1e-6)


def test_complex_values_are_numpys() -> None:
    a = _c(2, 5, 3, seed=4)
    u, s, vh = gk.linalg.svd(gk.tensor(a), full_matrices=False)
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose((u * s[..., None, :] @ vh).numpy(), a, atol=1e-12)
    h = _herm(4, seed=5)
    np.testing.assert_allclose(gk.linalg.eigvalsh(gk.tensor(h)).numpy(), np.linalg.eigvalsh(h), rtol=1e-12)
    assert gk.linalg.eigvalsh(gk.tensor(h)).dtype == gk.float64
    assert gk.linalg.svdvals(gk.tensor(a)).dtype == gk.float64
    np.testing.assert_allclose(gk.linalg.matrix_norm(gk.tensor(a), "nuc").numpy(),
                               np.linalg.norm(a, "nuc", axis=(-2, -1)), rtol=1e-12)


def test_phase_dependent_losses_raise() -> None:
    # Re(c U[0, 0]) changes under u_0 -> u_0 e^{i phi}: its gradient is not defined.
    a = gk.tensor(_c(3, 3, seed=6), requires_grad=True)
    with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}"):
        (gk.linalg.svd(a).U[0, 0] * (1 + 2j)).real.backward()
    h = gk.tensor(_herm(3, seed=6), requires_grad=True)
    with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}"):
        (gk.linalg.eigh(h).eigenvectors[0, 0] * (1 + 2j)).real.backward()


def test_repeated_singular_values_of_complex_inputs_raise_for_vectors() -> None:
    a = gk.tensor(np.diag([2.0, 2.0, 1.0]) * (1 + 1j) / np.sqrt(2), requires_grad=True)
    gk.linalg.svdvals(a).sum().backward()                  # defined at repeated values
    np.testing.assert_allclose(a.grad.numpy(), np.diag([1.0, 1.0, 1.0]) * (1 + 1j) / np.sqrt(2),
                               atol=1e-12)
    with pytest.raises(RuntimeError, match="repeated"):
        (gk.linalg.svd(a).U.abs() ** 2 * gk.tensor(W4[:3, :3])).sum().backward()


# --- NumPy's eigh reads one triangle --------------------------------------------------------
@pytest.mark.parametrize("dtype", ["real", "complex"])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_numpy_eigh_on_nonsymmetric_input_has_one_triangle_gradient(uplo: str, dtype: str) -> None:
    r = np.random.default_rng(7)
    a = r.standard_normal((4, 4)) + (1j * r.standard_normal((4, 4)) if dtype == "complex" else 0)
    w, wv = r.standard_normal(4), r.standard_normal((4, 4))

    def loss(x: Any) -> Any:
        return (np.linalg.eigvalsh(x, uplo) * w).sum() + (np.abs(np.linalg.eigh(x, uplo)[1]) ** 2 * wv).sum()

    t = gk.tensor(a, requires_grad=True)
    out = loss(t)
    np.testing.assert_allclose(float(out.detach()), loss(a), rtol=1e-12)
    out.backward()
    g = t.grad.numpy()
    np.testing.assert_allclose(g, _fd_grad(loss, a), atol=1e-6)
    other = np.triu(g, 1) if uplo == "L" else np.tril(g, -1)
    assert not other.any()


def test_gradkit_linalg_eigh_keeps_pytorchs_hermitian_gradient() -> None:
    a = np.random.default_rng(8).standard_normal((3, 3))
    t = gk.tensor(a, requires_grad=True)
    (gk.linalg.eigvalsh(t) * gk.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), t.grad.numpy().T, atol=1e-14)
    assert np.triu(t.grad.numpy(), 1).any()


# --- complex forward mode --------------------------------------------------------------------
JVPS = {
    "arccosh": (gk.acosh, np.arccosh),
    "arcsinh": (gk.asinh, np.arcsinh),
    "arctanh": (gk.atanh, np.arctanh),
    "arcsin": (gk.asin, np.arcsin),
    "arccos": (gk.acos, np.arccos),
    "arctan": (gk.atan, np.arctan),
    "sinc": (gk.sinc, np.sinc),
    "prod": (lambda x: gk.prod(x, 1), lambda x: np.prod(x, 1)),
    "cumprod": (lambda x: gk.cumprod(x, 1), lambda x: np.cumprod(x, 1)),
    "var": (lambda x: gk.var(x, 1), lambda x: np.var(x, 1, ddof=1)),
    "std": (lambda x: gk.std(x, 0), lambda x: np.std(x, 0, ddof=1)),
    "einsum": (lambda x: gk.einsum("ij,kj->ik", x, x), lambda x: np.einsum("ij,kj->ik", x, x)),
    "svdvals": (gk.linalg.svdvals, lambda x: np.linalg.svd(x, compute_uv=False)),
    "eigvalsh": (lambda x: gk.linalg.eigvalsh(x[:3, :3] + x[:3, :3].mH),
                 lambda x: np.linalg.eigvalsh(x[:3, :3] + x[:3, :3].conj().T)),
    "fro": (gk.linalg.matrix_norm, lambda x: np.linalg.norm(x)),
    "nuc": (lambda x: gk.linalg.matrix_norm(x, "nuc"), lambda x: np.linalg.norm(x, "nuc")),
    "vector_norm": (lambda x: gk.linalg.vector_norm(x, dim=1), lambda x: np.linalg.norm(x, axis=1)),
}


@pytest.mark.parametrize("convention", ["torch", "jax"])
@pytest.mark.parametrize("name", sorted(JVPS))
def test_complex_jvp_matches_finite_differences(name: str, convention: str) -> None:
    ours, ref = JVPS[name]
    # includes points with negative real parts (arccosh's other branch of sqrt(z^2 - 1))
    z, t = _c(3, 4, seed=11) * 0.6 + 0.1, _c(3, 4, seed=12)
    with gk.autograd.set_complex_convention(convention):
        _, jt = gk.func.jvp(ours, (gk.tensor(z),), (gk.tensor(t),))
    np.testing.assert_allclose(np.asarray(jt), _fd_jvp(ref, z, t), atol=1e-7)


HOLO = {
    "arccosh": (gk.acosh, np.arccosh),
    "arcsinh": (gk.asinh, np.arcsinh),
    "arctanh": (gk.atanh, np.arctanh),
    "arcsin": (gk.asin, np.arcsin),
    "arccos": (gk.acos, np.arccos),
    "arctan": (gk.atan, np.arctan),
    "sinc": (gk.sinc, np.sinc),
    "prod": (lambda x: gk.prod(x, 1), lambda x: np.prod(x, 1)),
    "prod-zero": (lambda x: gk.prod(x * gk.tensor([[1.0, 0.0, 1.0, 1.0]]), 1),
                  lambda x: np.prod(x * np.array([[1.0, 0.0, 1.0, 1.0]]), 1)),
    "cumprod": (lambda x: gk.cumprod(x, 1), lambda x: np.cumprod(x, 1)),
    "cumprod-zero": (lambda x: gk.cumprod(x * gk.tensor([[1.0, 0.0, 1.0, 1.0]]), 1),
                     lambda x: np.cumprod(x * np.array([[1.0, 0.0, 1.0, 1.0]]), 1)),
    "einsum": (lambda x: gk.einsum("ij,kj->ik", x, x * 2j), lambda x: np.einsum("ij,kj->ik", x, x * 2j)),
    "einsum-3": (lambda x: gk.einsum("ij,jk,kl->il", x, x.mT, x),
                 lambda x: np.einsum("ij,jk,kl->il", x, x.T, x)),
}


@pytest.mark.parametrize("name", sorted(HOLO))
def test_complex_reverse_mode_of_holomorphic_rows(name: str) -> None:
    ours, ref = HOLO[name]
    z = _c(3, 4, seed=13) * 0.6 + 0.1
    c = _c(*ref(z).shape, seed=14)
    got = _grad(lambda x: (ours(x) * gk.tensor(c)).real.sum(), z)
    np.testing.assert_allclose(got, _fd_grad(lambda x: (ref(x) * c).real.sum(), z), atol=1e-6)


def test_complex_second_order_of_svdvals_and_prod() -> None:
    # d/dA of the gradient's projection <grad(A), V> equals the finite difference of the gradient
    a, v = _c(3, 3, seed=15), _c(3, 3, seed=16)

    def gradient(x: np.ndarray, f: Callable[[gk.Tensor], gk.Tensor]) -> np.ndarray:
        return _grad(f, x)

    w = gk.tensor(W4[:3, :3])

    def svd_vectors(x: gk.Tensor) -> gk.Tensor:
        u, _, vh = gk.linalg.svd(x)
        return (u.abs() ** 2 * w).sum() + (u[0, :] * vh[:, 0] * (1 + 2j)).real.sum()

    def eigh_vectors(x: gk.Tensor) -> gk.Tensor:
        return (gk.linalg.eigh((x + x.mH) * 0.5).eigenvectors.abs() ** 2 * w).sum()

    def eig_both(x: gk.Tensor) -> gk.Tensor:
        val, vec = gk.linalg.eig(x)
        return (vec.abs() ** 2 * w).sum() + (val * val).real.sum()

    for f in (lambda x: gk.linalg.svdvals(x).sum(), lambda x: gk.prod(x, 0).abs().sum(),
              svd_vectors, eigh_vectors, eig_both):
        t = gk.tensor(a, requires_grad=True)
        (g,) = gk.autograd.grad(f(t), t, create_graph=True)
        (g * gk.tensor(v.conj())).real.sum().backward()
        expect = _fd_grad(lambda x, f=f: (gradient(x, f) * v.conj()).real.sum(), a)
        np.testing.assert_allclose(t.grad.numpy(), expect, atol=1e-5)


# --- general eigendecomposition ------------------------------------------------------------
def _eig_loss(lib: Any, a: Any) -> Any:
    """Weighted eigenvalues and |V|^2: free of the eigenvectors' phases (values sorted by NumPy's
    order, which finite steps this small do not change)."""
    w, v = (np.linalg.eig(a) if lib is np else gk.linalg.eig(a))
    n = w.shape[-1]
    c = np.arange(1.0, n + 1) * (1 - 0.5j)
    absf = np.abs if lib is np else gk.abs
    return (w * c).real.sum() + (absf(v) ** 2 * W4[:n, :n]).sum() + (w * w).imag.sum()


@pytest.mark.parametrize("kind", ["real", "complex", "batch"])
def test_eig_gradient_matches_finite_differences(kind: str) -> None:
    r = np.random.default_rng(17)
    shape = (2, 4, 4) if kind == "batch" else (5, 5)
    a = r.standard_normal(shape) + (1j * r.standard_normal(shape) if kind != "real" else 0)
    got = _grad(lambda x: _eig_loss(gk, x), a)
    assert got.dtype == a.dtype
    np.testing.assert_allclose(got, _fd_grad(lambda x: _eig_loss(np, x), a), atol=1e-6)


def test_eig_values_and_numpy_dtypes() -> None:
    a = _c(4, 4, seed=18)
    w, v = gk.linalg.eig(gk.tensor(a))
    np.testing.assert_allclose((gk.tensor(a) @ v).numpy(), (v * w[None, :]).numpy(), atol=1e-12)
    np.testing.assert_allclose(w.numpy(), np.linalg.eigvals(a), rtol=1e-12)
    real_spectrum = np.array([[2.0, 1.0], [0.0, 3.0]])
    assert gk.linalg.eig(gk.tensor(real_spectrum)).eigenvalues.dtype == gk.complex128   # PyTorch's
    w2, v2 = np.linalg.eig(gk.tensor(real_spectrum))                                  # NumPy's
    assert w2.dtype == gk.float64 and v2.dtype == gk.float64
    np.testing.assert_allclose(w2.numpy(), np.linalg.eig(real_spectrum)[0])
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])
    assert np.linalg.eigvals(gk.tensor(rot)).dtype == gk.complex128
    np.testing.assert_allclose(np.linalg.eigvals(gk.tensor(rot)).numpy(), np.linalg.eigvals(rot))


def test_eig_phase_dependent_loss_raises() -> None:
    a = gk.tensor(_c(3, 3, seed=19), requires_grad=True)
    with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}"):
        (gk.linalg.eig(a).eigenvectors[0, 0] * (1 + 2j)).real.backward()


def test_eigvals_jvp_matches_finite_differences() -> None:
    z, t = _c(4, 4, seed=20), _c(4, 4, seed=21)
    _, jt = gk.func.jvp(gk.linalg.eigvals, (gk.tensor(z),), (gk.tensor(t),))
    np.testing.assert_allclose(np.asarray(jt), _fd_jvp(np.linalg.eigvals, z, t), atol=1e-7)


def test_sgn_of_complex_inputs_is_differentiated() -> None:
    # sgn(z) = z / |z| is not holomorphic; its derivative is not zero (0 at z = 0, as PyTorch's)
    z, c, t = _c(3, 4, seed=23), _c(3, 4, seed=24), _c(3, 4, seed=25)
    z[0, 0] = 0.0

    def ref(x: np.ndarray) -> np.ndarray:
        a = np.abs(x)
        return np.where(a == 0, 0.0, x / np.where(a == 0, 1.0, a))

    got = _grad(lambda x: (gk.sgn(x) * gk.tensor(c)).real.sum(), z)
    expect = _fd_grad(lambda x: (ref(x) * c).real.sum(), z)
    expect[0, 0] = 0.0                                     # PyTorch's value at the kink
    np.testing.assert_allclose(got, expect, atol=1e-6)
    z[0, 0] = 1.0 + 1.0j
    _, jt = gk.func.jvp(gk.sgn, (gk.tensor(z),), (gk.tensor(t),))
    np.testing.assert_allclose(np.asarray(jt), _fd_jvp(ref, z, t), atol=1e-7)
    np.testing.assert_allclose(gk.sgn(gk.tensor(z)).numpy(), ref(z), rtol=1e-15)
    # np.sign of a complex tensor is NumPy's z / |z|, with the same gradient
    x = gk.tensor(z, requires_grad=True)
    (np.sign(x) * gk.tensor(c)).real.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), _fd_grad(lambda v: (ref(v) * c).real.sum(), z), atol=1e-6)


@pytest.mark.parametrize("name", ["svd", "svdvals", "pinv"])
def test_svd_of_infinite_input_is_nan_and_of_nan_input_raises(name: str) -> None:
    """LAPACK's SVD never returned on this matrix (NumPy 2.4), so it is not given to LAPACK: its
    results are NaN (PyTorch 2.13's singular values are NaN there too). A matrix holding NaN
    raises PyTorch's error, naming its batch element."""
    bad = [[-np.inf, 1e300, -0.5], [2.0, 1.0, -1e-300], [0.5, 700.0, 0.0]]
    a = gk.tensor([np.eye(3), bad], dtype=gk.float64)
    outs = getattr(gk.linalg, name)(a)
    for out in outs if isinstance(outs, tuple) else (outs,):
        assert np.isnan(out[1].numpy()).all()
        assert np.isfinite(out[0].numpy()).all()
    # recorded from PyTorch 2.13: torch.linalg.svdvals(torch.tensor(bad)) is [nan, nan, nan]
    a[0, 1, 1] = float("nan")
    with pytest.raises(RuntimeError, match=r"linalg.svd: \(Batch element 0\): The algorithm failed to "
                                           "converge because the input matrix contained non-finite values"):
        getattr(gk.linalg, name)(a)


def test_logsumexp_of_complex_input() -> None:
    """Complex logsumexp keeps the imaginary part (it used to be cast to real): values equal
    log(sum(exp(z))) computed directly, and the gradient matches finite differences."""
    z0 = np.array([[1 + 1j, 2 + 0j, -0.5 + 2j], [0.3 - 1j, 1 + 0.5j, 2 - 2j]])
    w = np.array([0.7 - 0.2j, -1.1 + 0.4j])
    z = gk.tensor(z0, requires_grad=True)
    y = gk.logsumexp(z, 1)
    np.testing.assert_allclose(y.detach().numpy(), np.log(np.exp(z0).sum(1)), rtol=1e-12)
    (y * gk.tensor(w)).real.sum().backward()

    def loss(v):
        return (np.log(np.exp(v).sum(1)) * w).real.sum()

    h, fd = 1e-6, np.zeros_like(z0)
    for i in np.ndindex(z0.shape):
        e = np.zeros_like(z0)
        e[i] = h
        re = (loss(z0 + e) - loss(z0 - e)) / (2 * h)
        fd[i] = re + 1j * (loss(z0 + 1j * e) - loss(z0 - 1j * e)) / (2 * h)
    np.testing.assert_allclose(z.grad.numpy(), fd, rtol=1e-6, atol=1e-8)
