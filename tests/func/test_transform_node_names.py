"""Node names of what the transforms return: the gradients ``func.grad`` takes with a graph.

The names were recorded from PyTorch 2.13.0+cpu (``torch.func``) and are checked against a live
torch where one is installed. PyTorch differentiates ``w.t()`` with ``grad.t()``
(``TBackward0``), ``transpose`` with ``transpose`` and ``permute``/``.T`` with ``permute``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit

#: (label, function of a 3x4 ``w``) -> names of the grad_fn of grad(f)(w), jacrev(f)(w) and
#: vmap(grad(f)) over a batch of two
FUNCS = [
    ("t", lambda w: (w.t() @ w.t().t()).sum()),
    ("T", lambda w: w.T.sin().sum()),
    ("transpose", lambda w: w.transpose(0, 1).exp().sum()),
    ("permute", lambda w: w.permute(1, 0).exp().sum()),
    ("mT", lambda w: w.mT.exp().sum()),
]
RECORDED = {
    "t": ("AddBackward0", "ViewBackward0", "AddBackward0"),
    "T": ("PermuteBackward0", "ViewBackward0", "PermuteBackward0"),
    "transpose": ("TransposeBackward0", "ViewBackward0", "TransposeBackward0"),
    "permute": ("PermuteBackward0", "ViewBackward0", "PermuteBackward0"),
    "mT": ("TransposeBackward0", "ViewBackward0", "TransposeBackward0"),
}


def _names(lib: Any, fn: Any) -> tuple[str, ...]:
    a = np.random.default_rng(0).uniform(-1, 1, (3, 4))
    w = lib.tensor(a, requires_grad=True)
    wb = lib.tensor(np.stack([a, a + 1]), requires_grad=True)
    outs = (lib.func.grad(fn)(w), lib.func.jacrev(fn)(w), lib.func.vmap(lib.func.grad(fn))(wb))
    return tuple(type(o.grad_fn).__name__ for o in outs)


def _linear_grad_names(lib: Any) -> dict[str, str]:
    lin = lib.nn.Linear(3, 2)
    x = lib.tensor(np.random.default_rng(1).uniform(-1, 1, (4, 3)), dtype=lib.float32)
    params = dict(lin.named_parameters())
    grads = lib.func.grad(
        lambda p, x: lib.func.functional_call(lin, p, (x,)).pow(2).sum())(params, x)
    return {k: type(v.grad_fn).__name__ for k, v in grads.items()}


@pytest.mark.parametrize("label", [k for k, _ in FUNCS])
def test_transposition_gradient_names(label: str) -> None:
    assert _names(gradkit, dict(FUNCS)[label]) == RECORDED[label]


def test_linear_weight_gradient_is_tbackward() -> None:
    # torch.func docs ("migrating from functorch"): {'weight': ...grad_fn=<TBackward0>, ...}
    assert _linear_grad_names(gradkit) == {"weight": "TBackward0", "bias": "ViewBackward0"}


def test_transposition_gradient_values() -> None:
    # the renamed node still differentiates: d/dw sum(exp(w^T)) = exp(w), and again
    a = np.random.default_rng(2).uniform(-1, 1, (3, 4))
    w = gradkit.tensor(a, requires_grad=True)
    for f in (lambda w: w.t(), lambda w: w.transpose(0, 1), lambda w: w.T, lambda w: w.mT):
        g, = gradkit.autograd.grad(f(w).exp().sum(), w, create_graph=True)
        np.testing.assert_allclose(g.detach().numpy(), np.exp(a), rtol=1e-14)
        h, = gradkit.autograd.grad(f(g).sum(), w)
        np.testing.assert_allclose(h.numpy(), np.exp(a), rtol=1e-14)


def test_names_are_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    for label, fn in FUNCS:
        assert _names(torch, fn) == RECORDED[label]
    assert _linear_grad_names(torch) == {"weight": "TBackward0", "bias": "ViewBackward0"}
