"""A kinked op's gradient made with create_graph=True is part of a graph, as in PyTorch.

PyTorch's backward of relu, hardtanh, leaky_relu, threshold, the shrinks, hardsigmoid and
prelu is a node that takes the input (``threshold_backward(grad, self, ...)``): the gradient
requires grad even when the seed is a constant, and its derivative with respect to the input
is zeros. Ops whose gradient does not depend on the input (clamp, floor, x * 2) give no graph.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

F = gk.nn.functional

# name -> (op, whether PyTorch 2.13 gives the create_graph gradient a grad_fn)
CASES = {
    "relu": (lambda x: gk.relu(x), True),
    "relu6": (lambda x: F.relu6(x), True),
    "hardtanh": (lambda x: F.hardtanh(x), True),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), True),
    "threshold": (lambda x: F.threshold(x, 0.1, 20.0), True),
    "hardshrink": (lambda x: F.hardshrink(x), True),
    "softshrink": (lambda x: F.softshrink(x), True),
    "hardsigmoid": (lambda x: F.hardsigmoid(x), True),
    "prelu": (lambda x: F.prelu(x, gk.tensor([0.2])), True),
    "rrelu_eval": (lambda x: F.rrelu(x, training=False), True),
    "abs": (lambda x: gk.abs(x), True),
    "clamp": (lambda x: gk.clamp(x, -1, 1), False),
    "floor": (lambda x: gk.floor(x), False),
    "times_two": (lambda x: x * 2, False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_create_graph_gradient_requires_grad_as_pytorch(name: str) -> None:
    fn, expected = CASES[name]
    x = gk.tensor([-1.5, 0.5, 2.0], requires_grad=True)
    g, = gk.autograd.grad(fn(x).sum(), x, create_graph=True)
    assert g.requires_grad is expected
    assert (g.grad_fn is not None) is expected


@pytest.mark.parametrize("name", ["relu", "hardtanh", "leaky_relu", "threshold", "softshrink",
                                  "hardsigmoid", "prelu"])
def test_second_derivative_of_a_kink_is_zeros(name: str) -> None:
    fn, _ = CASES[name]
    x = gk.tensor([-1.5, 0.5, 2.0], requires_grad=True)
    g, = gk.autograd.grad(fn(x).sum(), x, create_graph=True)
    gg, = gk.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(gg.numpy(), np.zeros(3))


def test_gradient_values_unchanged_and_linear_in_the_seed() -> None:
    # relu's derivative: 0 for x <= 0, 1 above; the gradient stays linear in its seed.
    x = gk.tensor([-1.5, 0.0, 2.0], requires_grad=True)
    seed = gk.tensor([3.0, 4.0, 5.0], requires_grad=True)
    g, = gk.autograd.grad(gk.relu(x), x, seed, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [0.0, 0.0, 5.0])
    ds, = gk.autograd.grad(g.sum(), seed)
    np.testing.assert_array_equal(ds.numpy(), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_live_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    live = {
        "relu": torch.relu, "relu6": tf.relu6, "hardtanh": tf.hardtanh,
        "leaky_relu": lambda x: tf.leaky_relu(x, 0.1), "threshold": lambda x: tf.threshold(x, 0.1, 20.0),
        "hardshrink": tf.hardshrink, "softshrink": tf.softshrink, "hardsigmoid": tf.hardsigmoid,
        "prelu": lambda x: tf.prelu(x, torch.tensor([0.2])),
        "rrelu_eval": lambda x: tf.rrelu(x, training=False), "abs": torch.abs,
        "clamp": lambda x: torch.clamp(x, -1, 1), "floor": torch.floor, "times_two": lambda x: x * 2,
    }[name]
    x = torch.tensor([-1.5, 0.5, 2.0], requires_grad=True)
    g, = torch.autograd.grad(live(x).sum(), x, create_graph=True)
    assert g.requires_grad is CASES[name][1]
