"""``func.hessian``'s default takes the outer Jacobian by columns, as ``torch.func.hessian``
(``jacfwd(jacrev(f))``) does, so its zeros carry PyTorch's signs; rows walked back
(``mode="rev-over-rev"``) give the same numbers with other signs of zero.

Recorded values are from PyTorch 2.13.0+cpu; the live comparisons skip without torch.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import gradkit

X = [0.3, -1.2, 2.0]


def test_sin_sum_signs_are_torchs() -> None:
    # torch.func.hessian(lambda x: x.sin().sum())(torch.tensor([0.3, -1.2, 2.0])): row i is
    # -sin(x_i) times the unit tangent, so its zeros take the sign of -sin(x_i)
    h = gradkit.func.hessian(lambda x: x.sin().sum())(gradkit.tensor(X)).numpy()
    np.testing.assert_array_equal(np.signbit(h).astype(int), [[1, 1, 1], [0, 0, 0], [1, 1, 1]])
    np.testing.assert_allclose(np.diag(h), -np.sin(np.float32(X)), rtol=1e-6)
    assert (h[~np.eye(3, dtype=bool)] == 0).all()
    # jacrev(jacrev(f)) (PyTorch's too) has the signs by columns
    rr = gradkit.func.hessian(lambda x: x.sin().sum(), mode="rev-over-rev")(gradkit.tensor(X))
    np.testing.assert_array_equal(np.signbit(rr.numpy()).astype(int),
                                  [[1, 0, 1], [1, 0, 1], [1, 0, 1]])


def test_value_and_hessian_agrees_with_hessian() -> None:
    f = lambda x: (x.sin() * x.cos()).sum()                # noqa: E731
    x = gradkit.tensor(X, dtype=gradkit.float64)
    value, h = gradkit.func.value_and_hessian(f)(x)
    np.testing.assert_array_equal(np.signbit(h.numpy()), np.signbit(gradkit.func.hessian(f)(x).numpy()))
    xs = np.array(X)
    assert value.item() == pytest.approx(np.sum(np.sin(xs) * np.cos(xs)), rel=1e-14)
    np.testing.assert_allclose(np.diag(h.numpy()), -2 * np.sin(2 * xs), rtol=1e-13)


def _mlp(lib: Any) -> Callable[..., Any]:
    w = lib.tensor(np.random.default_rng(3).standard_normal((6, 4)))
    return lambda x: (w @ x).tanh().sum()


def _lse(lib: Any) -> Callable[..., Any]:
    a = lib.tensor(np.random.default_rng(4).standard_normal((7, 4)))
    return lambda x: lib.logsumexp(a @ x, 0) + 0.5 * (x @ x)


CASES: dict[str, Callable[[Any], Callable[..., Any]]] = {
    "sin_sum": lambda L: lambda x: x.sin().sum(),
    "relu_sq": lambda L: lambda x: (L.relu(x) ** 2).sum(),
    "prod": lambda L: lambda x: x.prod(),
    "mixed": lambda L: lambda x: (x * x.cos()).sum() + x[0] * x[2] ** 3,
    "abs_exp": lambda L: lambda x: (x.abs() * x.exp()).sum(),
    "vector_tanh": lambda L: lambda x: (x[:, None] * x[None, :]).tanh().sum(0),
    "mlp": _mlp,
    "logsumexp": _lse,
}


#: same numbers, other signs of zero: PyTorch's prod backward with a zero input is its own
#: formula (``prod_backward``), whose forward-mode derivative places its zeros otherwise
SIGNS_DIFFER = {"prod"}


@pytest.mark.parametrize("label", sorted(CASES))
def test_signs_and_values_are_torch_func_hessians(label: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.array([0.3, -1.2, 0.0, 2.0])
    ours = gradkit.func.hessian(CASES[label](gradkit))(gradkit.tensor(x)).numpy()
    theirs = torch.func.hessian(CASES[label](torch))(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    if label not in SIGNS_DIFFER:
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


def test_vmapped_hessian_signs_are_torchs() -> None:
    torch = pytest.importorskip("torch")
    xs = np.array([[0.3, -1.2, 2.0], [-0.5, 1.0, 0.0]])
    f = CASES["sin_sum"]
    ours = gradkit.func.vmap(gradkit.func.hessian(f(gradkit)))(gradkit.tensor(xs)).numpy()
    theirs = torch.func.vmap(torch.func.hessian(f(torch)))(torch.tensor(xs)).numpy()
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
