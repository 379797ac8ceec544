"""gradkit.linalg: values against numpy.linalg, gradients against finite differences and
PyTorch, return types, and the errors for singular and degenerate inputs.

The primitives' generic checks (gradcheck, gradgradcheck, float32) run from
``tests/support/op_specs_linalg.py``; this file covers the public functions' options,
batching, the norms, cross-checks with PyTorch (skipped without it) and the
error paths.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk
import gradkit.linalg as LA
from gradkit.autograd import gradcheck, gradgradcheck

INF = float("inf")


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _square(*shape: int, seed: int = 0) -> np.ndarray:
    """Well-conditioned matrices: ``U(-1, 1)`` plus 3 on the diagonal."""
    return _rng(seed).uniform(-1.0, 1.0, shape) + 3.0 * np.eye(shape[-2], shape[-1])


def _spd(*shape: int, seed: int = 0) -> np.ndarray:
    x = _rng(seed).uniform(-1.0, 1.0, shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def _t(a: np.ndarray, grad: bool = True) -> gk.Tensor:
    return gk.tensor(a, requires_grad=grad)


def _close(got: Any, want: Any, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    got = got.detach().numpy() if isinstance(got, gk.Tensor) else np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# --- values against numpy.linalg -----------------------------------------------------------
def test_inverse_determinants_and_solve_match_numpy() -> None:
    a = _square(2, 3, 3)
    b = _rng(1).uniform(-1.0, 1.0, (2, 3, 2))
    _close(LA.inv(_t(a)), np.linalg.inv(a))
    _close(LA.det(_t(a)), np.linalg.det(a))
    sign, logabsdet = LA.slogdet(_t(a))
    _close(sign, np.linalg.slogdet(a)[0])
    _close(logabsdet, np.linalg.slogdet(a)[1])
    _close(LA.solve(_t(a), _t(b)), np.linalg.solve(a, b))
    v = b[..., 0]                                   # (2, 3): a batch of vectors
    _close(LA.solve(_t(a), _t(v)), np.linalg.solve(a, v[..., None])[..., 0])
    _close(LA.solve(_t(a), _t(b[0, :, 0])), np.linalg.solve(a, b[0, :, :1])[..., 0])  # 1-D B
    _close(LA.solve(_t(a), _t(np.swapaxes(b, -1, -2)), left=False), np.swapaxes(b, -1, -2) @ np.linalg.inv(a))


def test_decompositions_match_numpy() -> None:
    a = _rng(2).uniform(-1.0, 1.0, (2, 4, 3))
    s = _spd(2, 3, 3)
    _close(LA.cholesky(_t(s)), np.linalg.cholesky(s))
    _close(LA.cholesky(_t(s), upper=True), np.swapaxes(np.linalg.cholesky(s), -1, -2))
    for mode in ("reduced", "complete"):
        q, r = LA.qr(_t(a), mode)
        nq, nr = np.linalg.qr(a, mode)
        _close(q, nq)
        _close(r, nr)
    q, r = LA.qr(_t(a), mode="r")
    assert q.shape == (0,)
    _close(r, np.linalg.qr(a, mode="r"))
    w, v = LA.eigh(_t(s))
    _close(w, np.linalg.eigh(s)[0])
    _close((v * w.unsqueeze(-2)) @ v.mT, s, rtol=1e-9)
    _close(LA.eigh(_t(np.triu(s[0])), UPLO="U").eigenvalues, np.linalg.eigvalsh(s[0]))
    _close(LA.eigvalsh(_t(s)), np.linalg.eigvalsh(s))
    u, sv, vh = LA.svd(_t(a))
    assert u.shape == (2, 4, 4) and sv.shape == (2, 3) and vh.shape == (2, 3, 3)
    _close(sv, np.linalg.svd(a, compute_uv=False))
    u, sv, vh = LA.svd(_t(a), full_matrices=False)
    _close((u * sv.unsqueeze(-2)) @ vh, a, rtol=1e-9, atol=1e-12)
    _close(LA.svdvals(_t(a)), np.linalg.svd(a, compute_uv=False))


def test_pinv_rank_and_lstsq_match_numpy() -> None:
    a = _rng(3).uniform(-1.0, 1.0, (2, 4, 3))
    _close(LA.pinv(_t(a)), np.linalg.pinv(a))
    low = np.array([[1.0, 2.0], [2.0, 4.0]])
    _close(LA.pinv(_t(low)), np.linalg.pinv(low))
    _close(LA.pinv(_t(low), atol=100.0), np.zeros((2, 2)))
    s = _spd(3, 3)
    _close(LA.pinv(_t(s), hermitian=True), np.linalg.inv(s))
    assert LA.matrix_rank(_t(low)).item() == 1
    assert LA.matrix_rank(_t(a)).tolist() == [3, 3]
    assert LA.matrix_rank(_t(low), hermitian=True).item() == 1
    b = _rng(4).uniform(-1.0, 1.0, (2, 4, 2))
    res = LA.lstsq(_t(a), _t(b), driver="gelsd")
    want = [np.linalg.lstsq(a[i], b[i], rcond=None) for i in range(2)]
    _close(res.solution, np.stack([w[0] for w in want]), rtol=1e-9)
    _close(res.residuals, np.stack([w[1] for w in want]), rtol=1e-9)
    assert res.rank.tolist() == [3, 3] and res.rank.dtype is gk.int64
    _close(res.singular_values, np.linalg.svd(a, compute_uv=False))
    default = LA.lstsq(_t(a), _t(b))             # gelsy: no residuals, no singular values
    assert default.residuals.shape == (0,) and default.singular_values.shape == (0,)
    assert LA.lstsq(_t(a), _t(b), driver="gels").rank.shape == (0,)
    vec = LA.lstsq(_t(a[0]), _t(b[0, :, 0]), driver="gelss")
    assert vec.solution.shape == (3,) and vec.residuals.shape == (1,)
    wide = _rng(5).uniform(-1.0, 1.0, (2, 4))     # underdetermined: the minimum-norm solution
    _close(LA.lstsq(_t(wide), _t(b[0, :2])).solution, np.linalg.lstsq(wide, b[0, :2], rcond=None)[0],
           rtol=1e-9)


MATRIX_ORDS = ["fro", "nuc", 1, -1, 2, -2, INF, -INF]


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norms_match_numpy(ord: Any) -> None:
    a = _rng(6).uniform(-1.0, 1.0, (2, 3, 4))
    _close(LA.matrix_norm(_t(a), ord), np.linalg.norm(a, ord, axis=(-2, -1)), rtol=1e-9)
    _close(LA.norm(_t(a[0]), ord), np.linalg.norm(a[0], ord), rtol=1e-9)
    # other dims, kept
    want = np.linalg.norm(a, ord, axis=(2, 0), keepdims=True)
    _close(LA.matrix_norm(_t(a), ord, dim=(2, 0), keepdim=True), want, rtol=1e-9)
    _close(LA.norm(_t(a), ord, dim=(2, 0), keepdim=True), want, rtol=1e-9)


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, INF, -INF, 0, -1], ids=str)
def test_vector_norms_match_numpy(ord: float) -> None:
    x = _rng(7).uniform(0.2, 1.0, (3, 4)) * _rng(8).choice([-1.0, 1.0], (3, 4))
    _close(LA.vector_norm(_t(x), ord, dim=1), np.linalg.norm(x, ord, axis=1), rtol=1e-9)
    _close(LA.norm(_t(x), ord, dim=0, keepdim=True), np.linalg.norm(x, ord, axis=0, keepdims=True),
           rtol=1e-9)
    _close(LA.norm(_t(x[0]), ord), np.linalg.norm(x[0], ord), rtol=1e-9)
    flat = np.linalg.norm(x.ravel(), ord)
    _close(LA.vector_norm(_t(x), ord), flat, rtol=1e-9)
    assert LA.vector_norm(_t(x), ord, keepdim=True).shape == (1, 1)


def test_norm_defaults_flatten_and_dtype() -> None:
    x = _rng(9).uniform(-1.0, 1.0, (2, 3, 4))
    _close(LA.norm(_t(x)), np.linalg.norm(x.ravel()))
    out = LA.vector_norm(gk.tensor(x), dtype=gk.float32)
    assert out.dtype is gk.float32
    assert np.linalg.norm(gk.tensor(x[0]), "nuc").item() == pytest.approx(np.linalg.norm(x[0], "nuc"))


def test_matrix_power_cross_and_friends_match_numpy() -> None:
    a = _square(2, 3, 3)
    for n in (0, 1, 2, 5, -1, -3):
        _close(LA.matrix_power(_t(a), n), np.linalg.matrix_power(a, n), rtol=1e-9)
    x, y = _rng(10).uniform(-1.0, 1.0, (2, 4, 3)), _rng(11).uniform(-1.0, 1.0, (4, 3))
    _close(LA.cross(_t(x), _t(y[None])), np.cross(x, y))       # PyTorch: same ndim, then broadcast
    xt = np.swapaxes(x, 1, 2)
    _close(LA.cross(_t(xt), _t(y.T[None]), dim=1), np.cross(xt, y.T[None], axis=1))
    _close(LA.vecdot(_t(x), _t(y)), np.sum(x * y, -1))
    m = [_rng(i).uniform(-1.0, 1.0, s) for i, s in enumerate([(3,), (3, 4), (4, 2), (2,)])]
    _close(LA.multi_dot([_t(v) for v in m]), np.linalg.multi_dot(m))
    _close(LA.matmul(_t(a), _t(a)), a @ a)
    _close(LA.diagonal(_t(a)), np.diagonal(a, 0, -2, -1))


def test_float32_stays_float32() -> None:
    a = _square(3, 3).astype(np.float32)
    s = _spd(3, 3).astype(np.float32)
    outs = [LA.inv(_t(a)), LA.det(_t(a)), LA.solve(_t(a), _t(a)), LA.cholesky(_t(s)), LA.qr(_t(a)).R,
            LA.eigh(_t(s)).eigenvectors, LA.svd(_t(a)).U, LA.pinv(_t(a)), LA.matrix_norm(_t(a), "nuc"),
            LA.lstsq(_t(a), _t(a)).solution, LA.matrix_power(_t(a), 0)]
    for out in outs:
        assert out.dtype is gk.float32
        out.sum().backward()


# --- return types ----------------------------------------------------------------------------
def test_named_tuples_follow_pytorch() -> None:
    a = _t(_spd(3, 3))
    cases = {LA.slogdet(a): ("sign", "logabsdet"), LA.qr(a): ("Q", "R"),
             LA.eigh(a): ("eigenvalues", "eigenvectors"), LA.svd(a): ("U", "S", "Vh"),
             LA.lstsq(a, a): ("solution", "residuals", "rank", "singular_values")}
    for res, fields in cases.items():
        assert res._fields == fields
        assert repr(res).startswith(f"torch.return_types.{type(res).__name__}(\n{fields[0]}=")
    assert type(LA.svd(a)).__name__ == "linalg_svd"
    assert LA.inv(a).grad_fn.name() == "LinalgInvExBackward0"
    assert LA.eigvalsh(a).grad_fn.name() == "LinalgEighBackward0"


# --- gradients against finite differences ------------------------------------------------------
@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norm_gradients(ord: Any) -> None:
    # distinct entries (no ties in max/min sums), distinct singular values
    a = _t(np.array([[[0.9, -0.3, 0.2], [0.1, 1.7, -0.6]], [[-1.2, 0.4, 0.5], [0.3, -0.2, 2.1]]]))
    fn = (lambda x: LA.matrix_norm(x, ord))
    assert gradcheck(fn, (a,))
    assert gradgradcheck(fn, (a,))
    assert gradcheck(lambda x: LA.norm(x, ord, dim=(0, 2)), (a,))


def test_batched_gradients() -> None:
    a = _t(_square(2, 3, 3))
    b = _t(_rng(12).uniform(-1.0, 1.0, (3, 2)))
    assert gradcheck(lambda x, y: LA.solve(x, y, left=False), (a, _t(_rng(13).uniform(-1, 1, (2, 4, 3)))))
    assert gradcheck(lambda x, y: LA.solve(x, y), (a, b))
    assert gradcheck(lambda x: LA.matrix_power(x, -2), (a,))
    assert gradcheck(lambda x: LA.det(x) * LA.slogdet(x).logabsdet, (a,))
    s = _t(_spd(2, 3, 3))
    assert gradcheck(lambda x: LA.cholesky(x + x.mT, upper=True), (s,))
    assert gradgradcheck(lambda x: LA.cholesky(x + x.mT, upper=True), (s,))
    c = _t(_rng(14).uniform(-1.0, 1.0, (2, 2, 4, 3)))
    assert gradcheck(lambda x, y: LA.lstsq(x, y, driver="gelsd").residuals,
                     (c, _t(_rng(15).uniform(-1.0, 1.0, (4, 2)))))
    x, y = _t(_rng(16).uniform(-1.0, 1.0, (1, 2, 3))), _t(_rng(17).uniform(-1.0, 1.0, (4, 1, 3)))
    assert gradcheck(LA.cross, (x, y))
    assert gradgradcheck(LA.cross, (x, y))


def test_pinv_gradient_at_constant_rank() -> None:
    # A = X Y has rank 2 for every X, Y: finite differences stay on the constant-rank set
    x, y = _t(_rng(18).uniform(-1.0, 1.0, (3, 2))), _t(_rng(19).uniform(-1.0, 1.0, (2, 4)))
    assert gradcheck(lambda p, q: LA.pinv(p @ q), (x, y))
    assert gradgradcheck(lambda p, q: LA.pinv(p @ q), (x, y))


def test_det_gradient_at_singular_matrices() -> None:
    # NOTE: the cofactor matrix, the limit from nearby matrices (PyTorch 2.13 returns 0 here).
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])   # rank 2
    t = _t(a)
    LA.det(t).backward()
    cof = np.array([[np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) * (-1) ** (i + j)
                     for j in range(3)] for i in range(3)])
    _close(t.grad, cof, rtol=1e-9, atol=1e-12)
    assert gradgradcheck(LA.det, (t,))
    z = _t(np.zeros((2, 2)))                      # rank 0: the cofactor matrix is 0
    LA.det(z).backward()
    _close(z.grad, np.zeros((2, 2)))


def test_eigenvalue_gradients_at_repeated_eigenvalues() -> None:
    # eigvalsh and svdvals are differentiable where eigen/singular values repeat
    t = _t(np.eye(3))
    LA.eigvalsh(t).pow(2).sum().backward()
    _close(t.grad, 2.0 * np.eye(3))
    t = _t(2.0 * np.eye(3))
    LA.svdvals(t).sum().backward()
    _close(t.grad, np.eye(3))
    t = _t(np.diag([1.0, 1.0, 4.0]))
    w, v = LA.eigh(t)
    (v[:, 2] ** 2 * gk.tensor([1.0, 2.0, 3.0])).sum().backward()   # only a simple eigenvalue's vector
    assert np.all(np.isfinite(t.grad.numpy()))
    _close(t.grad, np.zeros((3, 3)), atol=1e-12)


# --- gradients against PyTorch ---------------------------------------------------------------
@pytest.fixture
def torch() -> Any:
    return pytest.importorskip("torch")


def _both(torch: Any, loss: Callable[..., Any], *arrays: np.ndarray, second: bool = False) -> None:
    """Gradients of ``loss(lib, *inputs)`` (and with ``second``, of a gradient) in both libraries."""
    results = []
    for lib, make in ((gk, gk.tensor), (torch, torch.tensor)):
        xs = [make(a, requires_grad=True) for a in arrays]
        out = loss(lib, *xs)
        grads = lib.autograd.grad(out, xs, create_graph=second)
        if second:
            w = [make(np.cos(np.arange(a.size)).reshape(a.shape)) for a in arrays]
            total = sum((g * wi).sum() for g, wi in zip(grads, w))
            grads = lib.autograd.grad(total, xs)
        results.append([g.detach().numpy() for g in grads] + [out.detach().numpy()])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


def _w(lib: Any, shape: tuple[int, ...], seed: int = 0) -> Any:
    """A fixed weight tensor."""
    return lib.tensor(_rng(100 + seed).uniform(-1.0, 1.0, shape))


TORCH_CASES = {
    "inv": (lambda lib, a: (lib.linalg.inv(a) * _w(lib, (2, 3, 3))).sum(), [_square(2, 3, 3)]),
    "det": (lambda lib, a: lib.linalg.det(a).sum(), [_square(2, 3, 3)]),
    "slogdet": (lambda lib, a: lib.linalg.slogdet(a).logabsdet.sum(), [_square(2, 3, 3) * -1]),
    "solve": (lambda lib, a, b: (lib.linalg.solve(a, b) * _w(lib, (2, 3, 2))).sum(),
              [_square(2, 3, 3), _square(3, 2)]),
    "solve-right": (lambda lib, a, b: (lib.linalg.solve(a, b, left=False) ** 2).sum(),
                    [_square(3, 3), _square(2, 3)]),
    "cholesky": (lambda lib, a: (lib.linalg.cholesky(a) * _w(lib, (3, 3))).sum(), [_spd(3, 3)]),
    "qr": (lambda lib, a: sum((m * _w(lib, tuple(m.shape), i)).sum()
                              for i, m in enumerate(lib.linalg.qr(a))), [_square(2, 4, 3)]),
    "qr-wide": (lambda lib, a: sum((m * _w(lib, tuple(m.shape), i)).sum()
                                   for i, m in enumerate(lib.linalg.qr(a))), [_square(3, 5)]),
    # eigenvector signs are arbitrary: losses invariant to them
    "eigh": (lambda lib, a: (lib.linalg.eigh(a).eigenvectors ** 2 * _w(lib, (3, 3))).sum()
             + (lib.linalg.eigh(a).eigenvalues * _w(lib, (3,), 1)).sum(), [_spd(3, 3)]),
    "eigh-projector": (lambda lib, a: _projector(lib, a), [_spd(2, 3, 3)]),
    "svd": (lambda lib, a: _svd_loss(lib, a, False), [_square(4, 3)]),
    "svd-full": (lambda lib, a: _svd_loss(lib, a, True), [_square(3, 3) * 0.5 + _square(3, 3, seed=1).T]),
    "svd-wide": (lambda lib, a: _svd_loss(lib, a, False), [_square(2, 4)]),
    "pinv": (lambda lib, a: (lib.linalg.pinv(a) * _w(lib, (3, 4))).sum(), [_square(4, 3)]),
    "pinv-rank-deficient": (lambda lib, x, y: (lib.linalg.pinv(x @ y) * _w(lib, (4, 3))).sum(),
                            [_square(3, 2) - 2.0, _square(2, 4)]),
    "lstsq": (lambda lib, a, b: (lib.linalg.lstsq(a, b).solution * _w(lib, (3, 2))).sum(),
              [_square(4, 3), _square(4, 2)]),
    "matrix_norm-nuc": (lambda lib, a: lib.linalg.matrix_norm(a, "nuc").sum(), [_square(2, 3, 4)]),
    "matrix_norm-2": (lambda lib, a: lib.linalg.matrix_norm(a, 2), [_square(3, 4)]),
    "norm-inf": (lambda lib, a: lib.linalg.norm(a, float("inf")), [_square(3, 4)]),
    "matrix_power": (lambda lib, a: (lib.linalg.matrix_power(a, -3) * _w(lib, (3, 3))).sum(),
                     [_square(3, 3)]),
    "cross": (lambda lib, a, b: (lib.linalg.cross(a, b) * _w(lib, (2, 3))).sum(),
              [_square(2, 3), _rng(5).uniform(-1.0, 1.0, (1, 3))]),
}


def _projector(lib: Any, a: Any) -> Any:
    w, v = lib.linalg.eigh(a)
    p = v[..., :, :1] @ v[..., :, :1].mT                  # projector on the first eigenvector
    return (p * _w(lib, (3, 3))).sum() + (w ** 3).sum()


def _svd_loss(lib: Any, a: Any, full: bool) -> Any:
    u, s, vh = lib.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    rank1 = u[..., :, :1] @ vh[..., :1, :]                # invariant to the joint sign flip
    return ((rank1 * _w(lib, tuple(rank1.shape))).sum() + (u[..., :k] ** 2).sum() * 0.5
            + (vh[..., :k, :] ** 2 * _w(lib, (k, vh.shape[-1]), 1)).sum() + (s * s).sum())


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_gradients_match_pytorch(torch: Any, name: str) -> None:
    loss, arrays = TORCH_CASES[name]
    _both(torch, loss, *arrays)


@pytest.mark.parametrize("name", ["inv", "det", "cholesky", "qr", "eigh-projector",
                                  "svd", "svd-wide", "pinv", "solve"])
def test_second_derivatives_match_pytorch(torch: Any, name: str) -> None:
    loss, arrays = TORCH_CASES[name]
    _both(torch, loss, *arrays, second=True)


def test_symmetric_gradient_conventions_match_pytorch(torch: Any) -> None:
    # cholesky and eigh read one triangle but, as in PyTorch, return symmetric gradients
    s = _spd(3, 3)
    for fn in (lambda lib, a: (lib.linalg.cholesky(a) * _w(lib, (3, 3))).sum(),
               lambda lib, a: (lib.linalg.eigvalsh(a) * _w(lib, (3,))).sum()):
        _both(torch, fn, s)
        a = gk.tensor(s, requires_grad=True)
        fn(gk, a).backward()
        _close(a.grad, a.grad.mT)


# --- errors ----------------------------------------------------------------------------------
def test_singular_matrices_raise_pytorch_messages() -> None:
    sing = gk.tensor([[1.0, 2.0], [2.0, 4.0]])
    msg = ("linalg.inv: The diagonal element 2 is zero, the inversion could not be completed "
           "because the input matrix is singular.")
    with pytest.raises(LA.LinAlgError) as info:
        LA.inv(sing)
    assert str(info.value) == msg
    assert isinstance(info.value, RuntimeError)
    batch = r"linalg.inv: \(Batch element 1\): The diagonal element 1 is zero"
    with pytest.raises(RuntimeError, match=batch):
        LA.inv(gk.tensor(np.stack([np.eye(2), np.zeros((2, 2))])))
    with pytest.raises(LA.LinAlgError, match="The solver failed because the input matrix is singular"):
        LA.solve(sing, gk.tensor([1.0, 1.0]))
    with pytest.raises(LA.LinAlgError, match=r"the leading minor of order 2 is not positive-definite"):
        LA.cholesky(gk.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(LA.LinAlgError, match="inversion could not be completed"):
        LA.matrix_power(sing, -1)
    a = gk.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    sign, logabsdet = LA.slogdet(a)
    assert sign.item() == 0.0 and logabsdet.item() == -INF
    with pytest.raises(LA.LinAlgError, match="logabsdet is not defined at a singular matrix"):
        logabsdet.backward()


def test_bad_arguments_raise_pytorch_messages() -> None:
    with pytest.raises(RuntimeError, match="A must be batches of square matrices, but they are 2 by 3"):
        LA.inv(gk.ones(2, 3))
    with pytest.raises(RuntimeError, match="The input tensor A must have at least 2 dimensions"):
        LA.det(gk.ones(3))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        LA.inv(gk.tensor([[1, 0], [0, 1]]))
    shapes = r"Incompatible shapes of A and B for the equation AX = B \(2x2 and 3x1\)"
    with pytest.raises(RuntimeError, match=shapes):
        LA.solve(gk.eye(2), gk.ones(3))
    with pytest.raises(RuntimeError, match="inputs dimension -1 must have length 3. Got 2 and 2"):
        LA.cross(gk.ones(2), gk.ones(2))
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        LA.matrix_norm(gk.ones(2, 2), 3)
    with pytest.raises(RuntimeError, match="input must be 1D or 2D"):
        LA.norm(gk.ones(2, 2, 2), "fro")
    with pytest.raises(TypeError, match=r"argument 'ord' \(position 2\) must be Number, not str"):
        LA.vector_norm(gk.ones(2), "fro")
    with pytest.raises(RuntimeError, match="driver"):
        LA.lstsq(gk.eye(2), gk.ones(2), driver="gesvd")
    with pytest.raises(RuntimeError, match="UPLO"):
        LA.eigh(gk.eye(2), UPLO="X")
    with pytest.raises(RuntimeError, match="unrecognized mode"):
        LA.qr(gk.eye(2), mode="full")


def test_repeated_eigenvalues_raise_for_eigenvector_gradients() -> None:
    for create_graph in (False, True):
        a = gk.tensor(np.diag([1.0, 1.0, 3.0]), requires_grad=True)
        w, v = LA.eigh(a)
        loss = (v * gk.tensor(_rng(0).uniform(size=(3, 3)))).sum()
        with pytest.raises(RuntimeError, match="eigenvalues are repeated.*eigenvalues 0 and 1"):
            gk.autograd.grad(loss, a, create_graph=create_graph)
    a = gk.tensor(np.eye(2), requires_grad=True)
    w, v = LA.eigh(a)
    w.sum().backward()                               # only the eigenvalues: fine
    _close(a.grad, np.eye(2))


def test_repeated_singular_values_raise_for_singular_vector_gradients() -> None:
    a = gk.tensor(np.diag([2.0, 2.0, 1.0]), requires_grad=True)
    u, s, vh = LA.svd(a)
    with pytest.raises(RuntimeError, match="singular values are repeated"):
        (u[:, 0] * gk.tensor([1.0, 2.0, 3.0])).sum().backward()
    tall = gk.tensor(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]), requires_grad=True)
    u, s, vh = LA.svd(tall, full_matrices=False)
    with pytest.raises(RuntimeError, match="zero singular value"):
        (u * gk.tensor(_rng(1).uniform(size=(3, 2)))).sum().backward()
    u, s, vh = LA.svd(tall, full_matrices=False)     # Vh and the simple U column: defined, no nan
    ((u[:, 0] ** 2).sum() + (vh ** 2 * gk.tensor([[1.0, 2.0], [3.0, 4.0]])).sum()).backward()
    assert np.all(np.isfinite(tall.grad.numpy()))
    a = gk.tensor(_square(4, 3), requires_grad=True)
    u, s, vh = LA.svd(a)                              # full_matrices=True: U is 4 x 4
    with pytest.raises(RuntimeError, match="full_matrices=False"):
        u[:, 3].sum().backward()


def test_complete_qr_of_tall_matrix_is_not_differentiable() -> None:
    a = gk.tensor(_square(4, 3), requires_grad=True)
    q, r = LA.qr(a, mode="complete")
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        (q.sum() + r.sum()).backward()
