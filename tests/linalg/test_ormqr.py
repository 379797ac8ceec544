"""``torch.ormqr`` / ``Tensor.ormqr`` / ``torch.orgqr`` with ``geqrf``: values against the explicit
``Q`` (NumPy), gradients by finite differences and against live PyTorch, PyTorch's argument
errors; and ``linalg.qr(mode='r')``, whose backward PyTorch refuses."""

import numpy as np
import pytest

import gradkit as gk

CASES = [  # (input shape, other shape, left)
    ((4, 3), (4, 2), True), ((3, 3), (3, 5), True), ((2, 4, 3), (2, 4, 4), True),
    ((4, 3), (2, 4), False), ((3, 3), (5, 3), False), ((2, 4, 3), (2, 5, 4), False),
]


def _factors(lib, a_np, k):
    a, tau = lib.geqrf(lib.tensor(a_np))
    return a.detach(), tau[..., :k].detach().clone()


@pytest.mark.parametrize("shape,cshape,left", CASES)
@pytest.mark.parametrize("transpose", [False, True])
def test_ormqr_is_op_q_times_other(shape, cshape, left, transpose):
    rng = np.random.default_rng(3)
    a_np, c_np = rng.standard_normal(shape), rng.standard_normal(cshape)
    k = min(cshape[-2] if left else cshape[-1], shape[-1])
    a, tau = _factors(gk, a_np, k)
    out = gk.ormqr(a, tau, gk.tensor(c_np), left=left, transpose=transpose)
    # the explicit Q from NumPy's complete QR spans the same reflectors: Q = H_1 ... H_k
    m = shape[-2]
    q = np.broadcast_to(np.eye(m), shape[:-2] + (m, m)).copy()
    an, tn = a.numpy(), tau.numpy()
    for i in range(k):
        v = np.zeros(shape[:-2] + (m,))
        v[..., i] = 1.0
        v[..., i + 1:] = an[..., i + 1:, i]
        h = np.eye(m) - tn[..., i, None, None] * v[..., :, None] * v[..., None, :]
        q = q @ h
    opq = np.swapaxes(q, -1, -2) if transpose else q
    want = opq @ c_np if left else c_np @ opq
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.ormqr(tau, gk.tensor(c_np), left, transpose).numpy(), want,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,cshape,left", CASES[:2] + CASES[3:5])
def test_ormqr_gradients_by_finite_differences(shape, cshape, left):
    rng = np.random.default_rng(4)
    k = min(cshape[-2] if left else cshape[-1], shape[-1])
    a, tau = _factors(gk, rng.standard_normal(shape), k)
    c = gk.tensor(rng.standard_normal(cshape), requires_grad=True)
    a.requires_grad_()
    tau.requires_grad_()
    assert gk.autograd.gradcheck(lambda x, t, y: gk.ormqr(x, t, y, left, True), (a, tau, c))


@pytest.mark.parametrize("shape,cshape,left", CASES)
@pytest.mark.parametrize("transpose", [False, True])
def test_ormqr_values_and_gradients_as_pytorch(shape, cshape, left, transpose):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a_np, c_np = rng.standard_normal(shape), rng.standard_normal(cshape)
    k = min(cshape[-2] if left else cshape[-1], shape[-1])
    res = []
    for lib in (gk, torch):
        a, tau = _factors(lib, a_np, k)
        a.requires_grad_()
        tau.requires_grad_()
        c = lib.tensor(c_np, requires_grad=True)
        out = lib.ormqr(a, tau, c, left=left, transpose=transpose)
        w = lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))
        (out * w).sum().backward()
        res.append([out.detach().numpy(), a.grad.numpy(), tau.grad.numpy(), c.grad.numpy()])
    for x, y in zip(*res):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_orgqr_is_householder_product():
    a, tau = _factors(gk, np.random.default_rng(6).standard_normal((4, 3)), 3)
    np.testing.assert_allclose(gk.orgqr(a, tau).numpy(),
                               gk.linalg.householder_product(a, tau).numpy())
    q = a.orgqr(tau).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-12)


def _t(lib, *s, dt=None):
    return lib.ones(*s, dtype=dt or lib.float64)


ERRORS = {
    "input_1d": lambda L: L.ormqr(_t(L, 3), _t(L, 1), _t(L, 3, 2)),
    "other_1d": lambda L: L.ormqr(_t(L, 3, 2), _t(L, 2), _t(L, 3)),
    "tau_long": lambda L: L.ormqr(_t(L, 3, 2), _t(L, 3), _t(L, 3, 2)),
    "tau_short": lambda L: L.ormqr(_t(L, 3, 2), _t(L, 1), _t(L, 3, 2)),
    "rows": lambda L: L.ormqr(_t(L, 3, 2), _t(L, 2), _t(L, 4, 2)),
    "right_cols": lambda L: L.ormqr(_t(L, 3, 2), _t(L, 2), _t(L, 4, 2), left=False),
    "right_tau": lambda L: L.ormqr(_t(L, 3, 2), _t(L, 3), _t(L, 2, 3), left=False),
    "tau_dtype": lambda L: L.ormqr(_t(L, 3, 2), _t(L, 2, dt=L.float32), _t(L, 3, 2)),
    "other_dtype": lambda L: L.ormqr(_t(L, 3, 2), _t(L, 2), _t(L, 3, 2, dt=L.float32)),
    "long": lambda L: L.ormqr(_t(L, 3, 2, dt=L.int64), _t(L, 2, dt=L.int64),
                              _t(L, 3, 2, dt=L.int64)),
    "batch_tau": lambda L: L.ormqr(_t(L, 2, 3, 2), _t(L, 3, 2), _t(L, 2, 3, 2)),
    "batch_other": lambda L: L.ormqr(_t(L, 2, 3, 2), _t(L, 2, 2), _t(L, 3, 3, 2)),
    "other_ndim": lambda L: L.ormqr(_t(L, 2, 3, 2), _t(L, 2, 2), _t(L, 3, 2)),
    "tau_ndim": lambda L: L.ormqr(_t(L, 2, 3, 2), _t(L, 2), _t(L, 2, 3, 2)),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_ormqr_errors_as_pytorch(case):
    torch = pytest.importorskip("torch")
    got = []
    for lib in (gk, torch):
        with pytest.raises(Exception) as e:
            ERRORS[case](lib)
        got.append((type(e.value).__name__, str(e.value).split("\n")[0]))
    assert got[0] == got[1]


def test_qr_mode_r_backward_refused_as_pytorch():
    torch = pytest.importorskip("torch")
    msgs = []
    a_np = np.random.default_rng(7).standard_normal((4, 3))
    for lib in (gk, torch):
        a = lib.tensor(a_np, requires_grad=True)
        q, r = lib.linalg.qr(a, mode="r")
        assert tuple(q.shape) == (0,)
        with pytest.raises(RuntimeError) as e:
            r.sum().backward()
        msgs.append(str(e.value))
        # the reduced mode still differentiates
        q2, r2 = lib.linalg.qr(a)
        (q2.sum() + r2.sum()).backward()
        assert a.grad is not None
    assert msgs[0] == msgs[1]
    assert "mode='r'" in msgs[0]
