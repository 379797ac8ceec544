"""linalg.ldl_factor, ldl_factor_ex and ldl_solve: values recorded from PyTorch 2.13, the
factorization rebuilt into ``A`` from LAPACK's documented layout (independent of the code under
test), solutions against ``numpy.linalg.solve``, PyTorch's messages, and a live comparison with
PyTorch (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def _rebuild(ld: np.ndarray, piv: np.ndarray, hermitian: bool = False) -> np.ndarray:
    """``P1 L1 ... Pk Lk D Lk^T Pk^T ... L1^T P1^T`` from LAPACK ?sytrf's lower storage: a
    positive ``piv[k]`` is a 1x1 block with rows k and piv[k]-1 swapped; a negative pair at k,
    k+1 is a 2x2 block with rows k+1 and -piv[k]-1 swapped."""
    n = ld.shape[-1]
    t = (lambda m: m.conj().T) if hermitian else (lambda m: m.T)
    blocks, k = [], 0
    d = np.zeros_like(ld)
    while k < n:
        if piv[k] > 0:
            d[k, k] = ld[k, k]
            blocks.append((k, 1, piv[k] - 1))
            k += 1
        else:
            d[k, k], d[k + 1, k + 1], d[k + 1, k] = ld[k, k], ld[k + 1, k + 1], ld[k + 1, k]
            d[k, k + 1] = np.conj(ld[k + 1, k]) if hermitian else ld[k + 1, k]
            blocks.append((k, 2, -piv[k] - 1))
            k += 2
    m = d
    for k, size, p in reversed(blocks):
        low = np.eye(n, dtype=ld.dtype)
        low[k + size:, k:k + size] = ld[k + size:, k:k + size]
        perm = np.eye(n, dtype=ld.dtype)
        s = k + size - 1
        perm[[s, p]] = perm[[p, s]]
        m = perm @ low @ m @ t(low) @ perm.T
    return m


_A = np.array([[4.0, 1.0, 2.0], [1.0, -3.0, 0.5], [2.0, 0.5, -1.0]])
_S = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])


def test_values_recorded_from_pytorch() -> None:
    # recorded from PyTorch 2.13: torch.linalg.ldl_factor(torch.tensor(_A))
    ld, piv = gk.linalg.ldl_factor(gk.tensor(_A))
    np.testing.assert_allclose(ld.numpy(), [[4.0, 0, 0], [0.25, -3.25, 0], [0.5, 0.0, -2.0]],
                               rtol=1e-14, atol=1e-15)
    assert piv.dtype is gk.int32 and piv.tolist() == [1, 2, 3]
    # a zero diagonal: one 2x2 block with a swap (pivots [-3, -3, 3])
    ld, piv = gk.linalg.ldl_factor(gk.tensor(_S))
    np.testing.assert_allclose(ld.numpy(), [[0.0, 0, 0], [2.0, 0, 0], [1.5, 0.5, -3.0]], atol=1e-15)
    assert piv.tolist() == [-3, -3, 3]
    # complex: symmetric (?sytrf) and Hermitian (?hetrf)
    c = np.array([[2, 1 + 1j], [1 - 1j, 3]])
    ld, piv = gk.linalg.ldl_factor(gk.tensor(c))
    np.testing.assert_allclose(ld.numpy(), [[2, 0], [0.5 - 0.5j, 3 + 1j]], atol=1e-15)
    ld, piv = gk.linalg.ldl_factor(gk.tensor(c), hermitian=True)
    np.testing.assert_allclose(ld.numpy(), [[2, 0], [0.5 - 0.5j, 2]], atol=1e-15)
    assert piv.tolist() == [1, 2]
    b = gk.ones(2, 1, dtype=gk.complex128)
    np.testing.assert_allclose(gk.linalg.ldl_solve(ld, piv, b, hermitian=True).numpy(),
                               [[0.5 - 0.25j], [0.25 + 0.25j]], atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.complex64])
@pytest.mark.parametrize("hermitian", [False, True])
def test_factors_rebuild_the_matrix_and_solve(dtype: type, hermitian: bool) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 7, 7))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal((3, 7, 7))
    a = a.astype(dtype)
    t = np.swapaxes(a, -1, -2)
    full = a + (t.conj() if hermitian else t)
    a_in = np.tril(full) + 100 * np.triu(np.ones_like(full), 1)     # the upper triangle is not read
    r = gk.linalg.ldl_factor_ex(gk.tensor(a_in), hermitian=hermitian)
    tol = 1e-10 if np.dtype(dtype).itemsize * (1 + (np.dtype(dtype).kind != "c")) >= 16 else 2e-4
    assert r.info.tolist() == [0, 0, 0]
    ld = r.LD.numpy()
    assert ld.dtype == dtype and not np.triu(ld, 1).any()
    herm = hermitian and np.dtype(dtype).kind == "c"
    for i in range(3):
        np.testing.assert_allclose(_rebuild(ld[i], r.pivots.numpy()[i], herm), full[i],
                                   rtol=tol, atol=tol)
    b = rng.standard_normal((3, 7, 2)).astype(dtype)
    x = gk.linalg.ldl_solve(r.LD, r.pivots, gk.tensor(b), hermitian=hermitian)
    assert x.dtype == r.LD.dtype
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(full, b), rtol=tol * 10, atol=tol * 10)


def test_solve_broadcasts_batches() -> None:
    ld, piv = gk.linalg.ldl_factor(gk.tensor(_A))
    b = np.random.default_rng(1).standard_normal((4, 3, 2))
    x = gk.linalg.ldl_solve(ld, piv, gk.tensor(b))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(_A, b), rtol=1e-12)
    assert tuple(gk.linalg.ldl_solve(ld, piv, gk.zeros(3, 0, dtype=gk.float64)).shape) == (3, 0)


def test_singular_info_and_errors() -> None:
    r = gk.linalg.ldl_factor_ex(gk.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=gk.float64))
    assert r.info.tolist() == 2 and r.pivots.tolist() == [1, 2]
    np.testing.assert_array_equal(r.LD.numpy(), [[1.0, 0.0], [1.0, 0.0]])
    z = gk.zeros(2, 3, 3, dtype=gk.float64)
    z[0] = gk.tensor(_A)
    assert gk.linalg.ldl_factor_ex(z).info.tolist() == [0, 1]
    # PyTorch 2.13 raises an internal assert here ("Unknown error code: 1"); gradkit says why
    with pytest.raises(gk.linalg.LinAlgError, match=r"ldl_factor: \(Batch element 1\): The input is "
                       r"singular: D\[1, 1\]"):
        gk.linalg.ldl_factor(z)
    with pytest.raises(RuntimeError, match=r"ldl_factor_ex: The input is singular: D\[1, 1\]"):
        gk.linalg.ldl_factor_ex(gk.zeros(3, 3), check_errors=True)


def test_empty() -> None:
    ld, piv = gk.linalg.ldl_factor(gk.zeros(2, 0, 0))
    assert tuple(ld.shape) == (2, 0, 0) and tuple(piv.shape) == (2, 0) and piv.dtype is gk.int32
    x = gk.linalg.ldl_solve(gk.zeros(0, 0), gk.zeros(0, dtype=gk.int32), gk.zeros(0, 2))
    assert tuple(x.shape) == (0, 2)


def test_pytorch_messages() -> None:
    name = "torch.linalg.ldl_factor_ex"
    with pytest.raises(RuntimeError, match=f"{name}: A must be batches of square matrices, but they "
                       "are 2 by 3 matrices"):
        gk.linalg.ldl_factor(gk.zeros(2, 3))
    with pytest.raises(RuntimeError, match=f"{name}: The input tensor A must have at least 2 dimensions."):
        gk.linalg.ldl_factor(gk.zeros(3))
    with pytest.raises(RuntimeError, match=f"{name}: Expected a floating point or complex tensor as "
                       "input. Got Long"):
        gk.linalg.ldl_factor(gk.zeros(3, 3, dtype=gk.int64))
    with pytest.raises(NotImplementedError, match="\"ldl_factor_kernel_cpu\" not implemented for 'Half'"):
        gk.linalg.ldl_factor(gk.zeros(3, 3, dtype=gk.float16))
    ld, piv = gk.linalg.ldl_factor(gk.tensor(_A))
    b = gk.ones(3, 2, dtype=gk.float64)
    s = "torch.linalg.ldl_solve"
    cases = [
        ((ld, piv, gk.ones(2, 2, dtype=gk.float64)), RuntimeError, "Incompatible matrix sizes for "
         f"{s}: each A matrix is 3 by 3 but each b matrix is 2 by 2"),
        ((ld, piv, gk.ones(3, dtype=gk.float64)), IndexError, r"Dimension out of range \(expected to "
         r"be in range of \[-1, 0\], but got -2\)"),
        ((ld, piv, b.float()), RuntimeError, "Expected b and A to have the same dtype, but found b of "
         "type Float and A of type Double instead."),
        ((ld, piv[:2], b), RuntimeError, rf"{s}: Expected LD.shape\[:-1\] and pivots.shape to be the "
         r"same, but got pivots with shape \[2\] instead"),
        ((ld[:2], piv, b), RuntimeError, f"{s}: A must be batches of square matrices, but they are 2 "
         "by 3 matrices"),
        ((ld[0], piv, b), RuntimeError, f"{s}: The input tensor A must have at least 2 dimensions."),
        ((ld, piv.float(), b), RuntimeError, f"{s}: Expected pivots to be integers. Got Float"),
        ((ld, gk.tensor([0, 2, 3], dtype=gk.int32), b), RuntimeError, r"\|pivot\| >= 1"),
        ((ld, gk.tensor([9, 2, 3], dtype=gk.int32), b), RuntimeError, r"\|pivot\| <= LD.size\(-2\)"),
    ]
    for args, kind, msg in cases:
        with pytest.raises(kind, match=msg):
            gk.linalg.ldl_solve(*args)
    # int64 pivots are taken, as PyTorch takes them
    x = gk.linalg.ldl_solve(ld, piv.long(), b)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(_A, np.ones((3, 2))), rtol=1e-12)


def test_no_derivative_as_in_pytorch() -> None:
    a = gk.tensor(_A, requires_grad=True)
    ld, piv = gk.linalg.ldl_factor(a)
    assert ld.requires_grad and not piv.requires_grad
    assert type(ld.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not implemented"):
        ld.sum().backward()
    b = gk.ones(3, 1, dtype=gk.float64, requires_grad=True)
    x = gk.linalg.ldl_solve(ld.detach(), piv, b)
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve is not implemented"):
        x.sum().backward()


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
def test_against_pytorch_live(dtype: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for n in (1, 2, 5, 9, 70):
        a = rng.standard_normal((2, n, n))
        if dtype.startswith("complex"):
            a = a + 1j * rng.standard_normal((2, n, n))
        a = a.astype(dtype)
        for hermitian in (False, True):
            m = a + (np.conj if hermitian else np.asarray)(np.swapaxes(a, -1, -2))
            want = torch.linalg.ldl_factor_ex(torch.tensor(m), hermitian=hermitian)
            got = gk.linalg.ldl_factor_ex(gk.tensor(m), hermitian=hermitian)
            np.testing.assert_array_equal(got.pivots.numpy(), want.pivots.numpy())
            np.testing.assert_array_equal(got.info.numpy(), want.info.numpy())
            tol = 1e-3 if dtype == "float32" else 1e-10
            np.testing.assert_allclose(got.LD.numpy(), want.LD.numpy(), rtol=tol, atol=tol)
            b = rng.standard_normal((2, n, 3)).astype(dtype)
            xt = torch.linalg.ldl_solve(want.LD, want.pivots, torch.tensor(b), hermitian=hermitian)
            xg = gk.linalg.ldl_solve(got.LD, got.pivots, gk.tensor(b), hermitian=hermitian)
            np.testing.assert_allclose(xg.numpy(), xt.numpy(), rtol=tol * 10, atol=tol * 10)
