"""gradkit.linalg against live PyTorch: values, gradients, output names, info tensors, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gradkit as gk  # noqa: E402
import gradkit.linalg as LA  # noqa: E402

RNG = np.random.default_rng(7)
SQ = RNG.standard_normal((2, 3, 4, 4)) + 3 * np.eye(4)
B = RNG.standard_normal((2, 3, 4, 2))
SPD = SQ @ np.swapaxes(SQ, -1, -2) + np.eye(4)
SINGULAR = np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), 2 * np.eye(2), -np.eye(2)])


def _run(gfn, tfn, arrays, grad=True):
    gi = [gk.tensor(a, requires_grad=grad) for a in arrays]
    ti = [torch.tensor(a, requires_grad=grad) for a in arrays]
    go, to = gfn(*gi), tfn(*ti)
    if hasattr(type(to), "n_fields"):                  # a torch.return_types structseq
        assert tuple(go._fields) == tuple(type(to).__match_args__)
    gl = go if isinstance(go, tuple) else (go,)
    tl = to if isinstance(to, tuple) else (to,)
    for g, t in zip(gl, tl):
        assert tuple(g.shape) == tuple(t.shape)
        assert str(g.detach().numpy().dtype) == str(t.detach().numpy().dtype)
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-7, atol=1e-9)
    if not grad:
        return
    ws = [np.random.default_rng(1).standard_normal(tuple(t.shape)) for t in tl]
    pairs = [(g, t, w) for g, t, w in zip(gl, tl, ws) if t.requires_grad]
    gg = gk.autograd.grad(sum((g * gk.tensor(w)).sum() for g, _, w in pairs), gi)
    tg = torch.autograd.grad(sum((t * torch.tensor(w)).sum() for _, t, w in pairs), ti)
    for g, t in zip(gg, tg):
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular(upper, left, unit):
    b = B if left else np.swapaxes(B, -1, -2)
    kw = dict(upper=upper, left=left, unitriangular=unit)
    _run(lambda a, b: LA.solve_triangular(a, b, **kw), lambda a, b: torch.linalg.solve_triangular(a, b, **kw),
         [SQ, b])


def test_solve_triangular_zero_diagonal_gives_inf_like_torch():
    a = np.array([[0.0, 1.0], [0.0, 1.0]])
    _run(lambda a, b: LA.solve_triangular(a, b, upper=True),
         lambda a, b: torch.linalg.solve_triangular(a, b, upper=True), [a, np.ones((2, 1))], grad=False)


@pytest.mark.parametrize("scale", [0.3, 1.0, 6.0])
def test_matrix_exp(scale):
    _run(LA.matrix_exp, torch.linalg.matrix_exp, [scale * RNG.standard_normal((2, 4, 4))])


def test_matrix_exp_second_order():
    a = RNG.standard_normal((3, 3))
    ga, ta = gk.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g1,) = gk.autograd.grad(LA.matrix_exp(ga).sin().sum(), ga, create_graph=True)
    (t1,) = torch.autograd.grad(torch.linalg.matrix_exp(ta).sin().sum(), ta, create_graph=True)
    (g2,) = gk.autograd.grad((g1 * g1).sum(), ga)
    (t2,) = torch.autograd.grad((t1 * t1).sum(), ta)
    np.testing.assert_allclose(g2.numpy(), t2.numpy(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape", [(2, 4, 4), (5, 3), (3, 5), (2, 2, 4, 3)])
def test_lu_family(shape):
    a = RNG.standard_normal(shape)
    _run(LA.lu, torch.linalg.lu, [a])
    _run(LA.lu_factor, torch.linalg.lu_factor, [a])
    _run(LA.lu_factor_ex, torch.linalg.lu_factor_ex, [a])


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve(left, adjoint):
    b = B if left else np.swapaxes(B, -1, -2)
    _run(lambda a, b: LA.lu_solve(*LA.lu_factor(a), b, left=left, adjoint=adjoint),
         lambda a, b: torch.linalg.lu_solve(*torch.linalg.lu_factor(a), b, left=left, adjoint=adjoint),
         [SQ, b])


def test_ex_variants_info_and_good_elements():
    for gf, tf in [(LA.cholesky_ex, torch.linalg.cholesky_ex), (LA.inv_ex, torch.linalg.inv_ex)]:
        go, to = gf(gk.tensor(SINGULAR)), tf(torch.tensor(SINGULAR))
        assert tuple(go._fields) == tuple(type(to).__match_args__)
        np.testing.assert_array_equal(go.info.numpy(), to.info.numpy())
        assert go.info.dtype == gk.int32
        np.testing.assert_allclose(go[0].numpy()[1], to[0].numpy()[1])
    go = LA.solve_ex(gk.tensor(SINGULAR), gk.ones(3, 2, 1, dtype=gk.float64))
    to = torch.linalg.solve_ex(torch.tensor(SINGULAR), torch.ones(3, 2, 1, dtype=torch.float64))
    np.testing.assert_array_equal(go.info.numpy(), to.info.numpy())
    np.testing.assert_allclose(go.result.numpy()[1:], to.result.numpy()[1:])
    _run(LA.inv_ex, torch.linalg.inv_ex, [SQ])
    _run(LA.cholesky_ex, torch.linalg.cholesky_ex, [SPD])
    _run(LA.solve_ex, torch.linalg.solve_ex, [SQ, B])


@pytest.mark.parametrize("name,fn", [("cholesky_ex", lambda m: m.linalg.cholesky_ex),
                                     ("inv_ex", lambda m: m.linalg.inv_ex)])
def test_ex_check_errors_messages(name, fn):
    with pytest.raises(RuntimeError) as theirs:
        fn(torch)(torch.tensor(SINGULAR), check_errors=True)
    with pytest.raises(RuntimeError) as ours:
        fn(gk)(gk.tensor(SINGULAR), check_errors=True)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, float("inf"), -float("inf")])
def test_cond(p):
    _run(lambda a: LA.cond(a, p), lambda a: torch.linalg.cond(a, p), [SQ[0]], grad=p in (None, 2, -2))


def test_cond_singular_is_inf():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    for p in ("fro", 1, float("inf")):
        assert float(LA.cond(gk.tensor(a), p)) == float(torch.linalg.cond(torch.tensor(a), p))


def test_vander_householder_tensor_functions():
    _run(LA.vander, torch.linalg.vander, [np.array([0.0, 2.0, -1.5])])
    _run(lambda x: LA.vander(x, N=5), lambda x: torch.linalg.vander(x, N=5), [RNG.standard_normal((2, 3))])
    _run(LA.householder_product, torch.linalg.householder_product,
         [RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 2))])
    _run(LA.tensorinv, torch.linalg.tensorinv, [RNG.standard_normal((2, 3, 6))])
    _run(LA.tensorsolve, torch.linalg.tensorsolve,
         [RNG.standard_normal((2, 3, 6)), RNG.standard_normal((2, 3))])
    _run(lambda a, b: LA.tensorsolve(a, b, dims=(0,)), lambda a, b: torch.linalg.tensorsolve(a, b, dims=(0,)),
         [RNG.standard_normal((6, 2, 3)), RNG.standard_normal((2, 3))])


def test_cholesky_solve_and_triangular_solve():
    low = np.linalg.cholesky(SPD)
    _run(lambda b, l: LA.cholesky_solve(b, l), lambda b, l: torch.cholesky_solve(b, l), [B, low], grad=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _run(LA.triangular_solve, torch.triangular_solve, [B, SQ])
    # gradient with respect to B (torch's L gradient is not masked to the triangle that is read)
    gb, tb = gk.tensor(B, requires_grad=True), torch.tensor(B, requires_grad=True)
    (g,) = gk.autograd.grad(LA.cholesky_solve(gb, gk.tensor(low)).sum(), gb)
    (t,) = torch.autograd.grad(torch.cholesky_solve(tb, torch.tensor(low)).sum(), tb)
    np.testing.assert_allclose(g.numpy(), t.numpy())


@pytest.mark.parametrize("fn,arrays", [
    (lambda m: m.linalg.matrix_exp, [np.ones((2, 3))]),
    (lambda m: m.linalg.lu_factor, [np.ones(3)]),
    (lambda m: m.linalg.lu, [np.ones(3)]),
    (lambda m: (lambda a: m.linalg.solve_triangular(a, m.ones(3, 1, dtype=m.float64), upper=True)),
     [np.ones((2, 2))]),
    (lambda m: (lambda a: m.linalg.cond(a, "fro")), [np.ones((2, 3))]),
    (lambda m: m.linalg.vander, [np.ones(())]),
    (lambda m: m.linalg.tensorinv, [np.ones((2, 3, 4))]),
    (lambda m: m.linalg.householder_product, [np.ones((2, 3)), np.ones(3)]),
])
def test_error_messages(fn, arrays):
    with pytest.raises(RuntimeError) as theirs:
        fn(torch)(*[torch.tensor(a) for a in arrays])
    with pytest.raises(RuntimeError) as ours:
        fn(gk)(*[gk.tensor(a) for a in arrays])
    assert str(ours.value) == str(theirs.value)


def test_existing_functions_sweep():
    _run(LA.inv, torch.linalg.inv, [SQ])
    _run(LA.det, torch.linalg.det, [SQ])
    _run(LA.slogdet, torch.linalg.slogdet, [SQ])
    _run(LA.solve, torch.linalg.solve, [SQ, B])
    _run(LA.cholesky, torch.linalg.cholesky, [SPD])
    _run(LA.eigvalsh, torch.linalg.eigvalsh, [SPD])
    _run(LA.svdvals, torch.linalg.svdvals, [RNG.standard_normal((2, 5, 3))])
    _run(LA.pinv, torch.linalg.pinv, [RNG.standard_normal((2, 5, 3))])
    for o in ("fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")):
        _run(lambda a, o=o: LA.norm(a, o, dim=(0, 2)), lambda a, o=o: torch.linalg.norm(a, o, dim=(0, 2)),
             [SQ])
    for n in (0, 1, 3, -2):
        _run(lambda a, n=n: LA.matrix_power(a, n), lambda a, n=n: torch.linalg.matrix_power(a, n), [SQ])


def test_top_level_names_match_torch() -> None:
    rng = np.random.default_rng(7)
    M = rng.normal(size=(3, 3))
    A = M @ M.T + 3 * np.eye(3)
    B = rng.normal(size=(3, 2))
    Lc = np.linalg.cholesky(A)
    got = gk.cholesky_solve(gk.tensor(B), gk.tensor(Lc)).numpy()
    np.testing.assert_allclose(got, torch.cholesky_solve(torch.tensor(B), torch.tensor(Lc)).numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(gk.matrix_exp(gk.tensor(M)).numpy(),
                               torch.matrix_exp(torch.tensor(M)).numpy(), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # torch warns that it is deprecated
        want = torch.triangular_solve(torch.tensor(B), torch.tensor(Lc), upper=False)
    got = gk.triangular_solve(gk.tensor(B), gk.tensor(Lc), upper=False)
    np.testing.assert_allclose(got[0].numpy(), want[0].numpy(), rtol=1e-12)
