"""gradkit.autograd.functional against PyTorch (shapes, values, strict errors) and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.autograd._batched as batched
import gradkit.autograd.functional as F

torch = pytest.importorskip("torch")
TF = torch.autograd.functional

RNG = np.random.default_rng(0)
A, B = RNG.standard_normal(3), RNG.standard_normal((2, 3))


def two_out(x, y):
    return (x.exp() * y).sum(-1), (x * y).sin()


def scalar(x, y):
    return (x.exp() * y).sum() ** 2 + (x * x).sum()


def gk_in():
    return gk.tensor(A), gk.tensor(B)


def t_in():
    return torch.tensor(A), torch.tensor(B)


def close(a, b, atol=1e-10):
    if isinstance(b, torch.Tensor):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(np.asarray(a.detach()._data), b.detach().numpy(), atol=atol)
    else:
        assert len(a) == len(b)
        for x, y in zip(a, b):
            close(x, y, atol)


@pytest.fixture(params=["auto", "double-vjp"])
def fwd_mode(request, monkeypatch):
    if request.param == "double-vjp":
        monkeypatch.setattr(batched, "USE_FORWARD_AD", False)
    return request.param


@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_matches_torch(vectorize):
    close(F.jacobian(two_out, gk_in(), vectorize=vectorize),
          TF.jacobian(two_out, t_in(), vectorize=vectorize))
    close(F.jacobian(lambda x: x.sin(), gk.tensor(A)), TF.jacobian(lambda x: x.sin(), torch.tensor(A)))
    close(F.jacobian(lambda x: (x, x * 2), gk.tensor(A)), TF.jacobian(lambda x: (x, x * 2), torch.tensor(A)))


def test_jacobian_forward_mode(fwd_mode):
    got = F.jacobian(two_out, gk_in(), strategy="forward-mode", vectorize=True)
    close(got, TF.jacobian(two_out, t_in(), strategy="forward-mode", vectorize=True))


def test_jacobian_create_graph_is_differentiable():
    x = gk.tensor(A, requires_grad=True)
    j = F.jacobian(lambda t: t ** 3, x, create_graph=True)
    j.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * A)


def test_jacobian_finite_differences():
    f = lambda x: np.tanh(x[::-1]) * x  # noqa: E731
    x = RNG.standard_normal(4)
    J = F.jacobian(lambda t: f(t), gk.tensor(x)).numpy()
    h = 1e-6
    fd = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(J, fd, atol=1e-7)


@pytest.mark.parametrize("vectorize", [False, True])
def test_hessian_matches_torch(vectorize):
    close(F.hessian(scalar, gk_in(), vectorize=vectorize), TF.hessian(scalar, t_in(), vectorize=vectorize))
    f = lambda x: (x.exp() * x).sum()  # noqa: E731
    close(F.hessian(f, gk.tensor(A)), TF.hessian(f, torch.tensor(A)))


def test_hessian_vs_finite_differences_of_gradient():
    Am = RNG.standard_normal((7, 5))

    def f(x):
        return gk.logsumexp(gk.tensor(Am) @ x, 0) + 0.5 * x @ x

    def g(x):
        z = Am @ x
        p = np.exp(z - z.max())
        return Am.T @ (p / p.sum()) + x

    x = RNG.standard_normal(5)
    H = F.hessian(f, gk.tensor(x)).numpy()
    fd = np.stack([(g(x + 1e-6 * e) - g(x - 1e-6 * e)) / 2e-6 for e in np.eye(5)], axis=1)
    np.testing.assert_allclose(H, fd, atol=1e-6)


def test_products_match_torch(fwd_mode):
    v = (gk.tensor(np.ones(3)), gk.tensor(np.linspace(0, 1, 6).reshape(2, 3)))
    vt = (torch.ones(3, dtype=torch.float64), torch.linspace(0, 1, 6, dtype=torch.float64).reshape(2, 3))
    u = (gk.tensor(np.ones(2)), gk.tensor(np.ones((2, 3))))
    ut = (torch.ones(2, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64))
    close(F.vjp(two_out, gk_in(), u), TF.vjp(two_out, t_in(), ut))
    close(F.jvp(two_out, gk_in(), v), TF.jvp(two_out, t_in(), vt))
    close(F.hvp(scalar, gk_in(), v), TF.hvp(scalar, t_in(), vt))
    close(F.vhp(scalar, gk_in(), v), TF.vhp(scalar, t_in(), vt))


def test_unused_input_gives_zeros_or_strict_error():
    f = lambda x, y: x * 2  # noqa: E731
    ins = (gk.tensor([1.0, 2.0]), gk.tensor(1.0))
    j = F.jacobian(f, ins)
    assert np.all(j[1].numpy() == 0) and tuple(j[1].shape) == (2,)
    msgs = []
    for mod, xs in ((F, ins), (TF, (torch.tensor([1.0, 2.0]), torch.tensor(1.0)))):
        with pytest.raises(RuntimeError) as e:
            mod.jacobian(f, xs, strict=True)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize("call", [
    lambda m, x: m.vjp(lambda t: t * 2, x),
    lambda m, x: m.jvp(lambda t: t * 2, x),
    lambda m, x: m.hessian(lambda t: t * 2, x),
    lambda m, x: m.jacobian(lambda t: t, x, strict=True, vectorize=True),
    lambda m, x: m.jacobian(lambda t: t, x, strategy="forward-mode"),
    lambda m, x: m.vjp(lambda t: t * 2, 3.0),
])
def test_error_messages_match_torch(call):
    errors = []
    for mod, x in ((F, gk.tensor([1.0, 2.0])), (TF, torch.tensor([1.0, 2.0]))):
        with pytest.raises((RuntimeError, TypeError, NotImplementedError)) as e:
            call(mod, x.detach() if mod is F else x)
        errors.append((type(e.value), str(e.value).replace("torch.", "").replace("gradkit.", "")))
    assert errors[0][0] is errors[1][0]
    assert errors[0][1] == errors[1][1] or "Size" in errors[0][1]


def test_strict_output_without_grad():
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require"):
        F.vjp(lambda t: gk.tensor(1.0), gk.tensor([1.0]), strict=True)
