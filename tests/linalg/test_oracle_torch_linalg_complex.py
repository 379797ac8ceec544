"""Complex gradients against PyTorch, run live: gradkit.linalg's svd/svdvals/eigh/eigvalsh and
norms on complex inputs, and the complex rows fixed with them (einsum, prod, cumprod, the
inverse trigonometric and hyperbolic functions). Skipped without torch.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")


def _c(*shape: int, seed: int = 0) -> np.ndarray:
    r = np.random.default_rng(seed)
    return r.standard_normal(shape) + 1j * r.standard_normal(shape)


def _both(loss: Callable[[Any, Any], Any], a: np.ndarray) -> None:
    """The loss's value and gradient under gradkit and under PyTorch."""
    ta = torch.tensor(a, requires_grad=True)
    want = loss(torch, ta)
    want.backward()
    ga = gk.tensor(a, requires_grad=True)
    got = loss(gk, ga)
    got.backward()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ga.grad.numpy(), ta.grad.numpy(), rtol=1e-8, atol=1e-10)


W = np.random.default_rng(3).standard_normal((6, 6))


def _svd_loss(m: Any, a: Any) -> Any:
    u, s, vh = m.linalg.svd(a, full_matrices=False)
    k = s.shape[-1]
    wu, wv = m.tensor(W[: u.shape[-2], :k]), m.tensor(W[:k, : vh.shape[-1]])
    pair = u[..., 0, :] * vh[..., :, 0]                   # u_0i conj(v_0i): free of the phases
    rec = (u * s[..., None, :]) @ vh
    return ((u.abs() ** 2 * wu).sum() + (vh.abs() ** 2 * wv).sum() + (pair * (0.5 - 1j)).real.sum()
            + (rec * rec.conj()).real.sum() + s[..., 0].sum())


def _eigh_loss(uplo: str) -> Callable[[Any, Any], Any]:
    def loss(m: Any, a: Any) -> Any:
        h = (a + a.mH) * 0.5
        w, v = m.linalg.eigh(h, UPLO=uplo)
        n = w.shape[-1]
        return (v.abs() ** 2 * m.tensor(W[:n, :n])).sum() + (w * m.arange(1.0, n + 1)).sum() \
            + (m.linalg.eigvalsh(h, UPLO=uplo) ** 3).sum()
    return loss


LINALG = {
    "svd": _svd_loss,
    "svdvals": lambda m, a: (m.linalg.svdvals(a) ** 2).sum() + m.linalg.svdvals(a)[..., -1].sum(),
    "eigh-L": _eigh_loss("L"),
    "eigh-U": _eigh_loss("U"),
    "norms": lambda m, a: (m.linalg.matrix_norm(a, "nuc") + m.linalg.matrix_norm(a, 2)
                           + m.linalg.matrix_norm(a, -2) + m.linalg.matrix_norm(a)
                           + m.linalg.matrix_norm(a, 1) + m.linalg.matrix_norm(a, -float("inf"))).sum()
    + m.linalg.vector_norm(a, 3) + m.linalg.vector_norm(a, float("inf")),
}


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize("name", sorted(LINALG))
def test_complex_linalg_matches_pytorch(name: str, shape: tuple[int, ...]) -> None:
    if name.startswith("eigh") and shape[-1] != shape[-2]:
        shape = shape[:-1] + (shape[-2],)
    _both(LINALG[name], _c(*shape, seed=sum(shape)))


ROWS = {
    "einsum": lambda m, a: m.einsum("ij,kj,kl->il", a, a * 1j, a.conj()),
    "einsum-trace": lambda m, a: m.einsum("ii->", a @ a.mT),
    "prod": lambda m, a: m.prod(a, 1),
    "prod-all": lambda m, a: m.prod(a),
    "cumprod": lambda m, a: m.cumprod(a, 0),
    "asin": lambda m, a: m.asin(a), "acos": lambda m, a: m.acos(a), "atan": lambda m, a: m.atan(a),
    "asinh": lambda m, a: m.asinh(a), "acosh": lambda m, a: m.acosh(a), "atanh": lambda m, a: m.atanh(a),
    "var": lambda m, a: m.var(a, 1), "std": lambda m, a: m.std(a, 0),
    "sinc": lambda m, a: m.sinc(a), "sgn": lambda m, a: m.sgn(a),
}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_complex_rows_match_pytorch(name: str) -> None:
    a = _c(3, 3, seed=21) * 0.7
    c = _c(3, 3, seed=22)

    def loss(m: Any, x: Any) -> Any:
        y = ROWS[name](m, x)
        cc = m.tensor(c.reshape(-1)[: y.numel()].reshape(tuple(y.shape)))
        return (y * cc).real.sum()

    _both(loss, a)


def test_phase_dependent_losses_raise_as_in_pytorch() -> None:
    a = _c(3, 3, seed=5)
    h = a + a.conj().T
    for m in (torch, gk):
        x = m.tensor(a, requires_grad=True)
        with pytest.raises(RuntimeError):
            (m.linalg.svd(x).U[0, 1] * (1 + 2j)).real.backward()
        y = m.tensor(h, requires_grad=True)
        with pytest.raises(RuntimeError):
            (m.linalg.eigh(y).eigenvectors[1, 0] * (1 + 2j)).real.backward()


def test_complex_jvps_match_pytorch_forward_mode() -> None:
    import torch.autograd.forward_ad as fwAD
    a, t = _c(3, 4, seed=31), _c(3, 4, seed=32)
    fns = [lambda m, x: m.linalg.svdvals(x), lambda m, x: m.linalg.matrix_norm(x, "nuc"),
           lambda m, x: m.einsum("ij,kj->ik", x, x), lambda m, x: m.var(x, 1), lambda m, x: m.prod(x, 0),
           lambda m, x: m.acosh(x), lambda m, x: m.asinh(x), lambda m, x: m.atanh(x * 0.3)]
    for f in fns:
        with fwAD.dual_level():
            want = fwAD.unpack_dual(f(torch, fwAD.make_dual(torch.tensor(a), torch.tensor(t)))).tangent
        _, got = gk.func.jvp(lambda x, f=f: f(gk, x), (gk.tensor(a),), (gk.tensor(t),))
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kind", ["real", "complex", "batch"])
def test_eig_matches_pytorch(kind: str) -> None:
    r = np.random.default_rng(41)
    shape = (3, 4, 4) if kind == "batch" else (5, 5)
    a = r.standard_normal(shape) + (1j * r.standard_normal(shape) if kind != "real" else 0)

    def loss(m: Any, x: Any) -> Any:
        w, v = m.linalg.eig(x)
        n = w.shape[-1]
        return ((w * m.tensor(np.arange(1.0, n + 1) * (1 + 2j))).real.sum() + (w * w).imag.sum()
                + (v.abs() ** 2 * m.tensor(W[:n, :n])).sum() + m.linalg.eigvals(x).abs().sum())

    _both(loss, a)
