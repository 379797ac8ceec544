"""``nn.utils.parametrizations.orthogonal`` (its docstring is in the survey of PyTorch's
documentation, issue #17).

Checked: the weight is orthogonal (``Q^T Q = I``, analytic), starts as the Q of the original
weight's QR with a non-negative R diagonal (NumPy's QR with its signs fixed), gradients reach
``original``, and PyTorch's errors; square and tall weights against torch live (importorskip).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.nn.utils.parametrizations import orthogonal


def _q_of(w):
    q, r = np.linalg.qr(w)
    return q * np.sign(np.diag(r))


@pytest.mark.parametrize("shape,kind", [((4, 4), None), ((4, 4), "cayley"), ((6, 3), None),
                                        ((6, 3), "matrix_exp"), ((6, 3), "cayley")])
def test_weight_is_the_q_of_the_original_and_stays_orthogonal(shape, kind):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(shape)
    lin = nn.Linear(shape[1], shape[0], bias=False, dtype=gk.float64)
    with gk.no_grad():
        lin.weight.copy_(gk.tensor(w))
    orthogonal(lin, orthogonal_map=kind)
    q = lin.weight.detach().numpy()
    np.testing.assert_allclose(q, _q_of(w), atol=1e-12)
    expect = "matrix_exp" if shape[0] == shape[1] else "householder"
    assert lin.parametrizations.weight[0].orthogonal_map.name == (kind or expect)
    opt = gk.optim.SGD(lin.parameters(), lr=0.1)
    for _ in range(3):                         # after steps on `original`: still orthogonal
        opt.zero_grad()
        lin(gk.tensor(rng.standard_normal((5, shape[1])))).pow(3).sum().backward()
        opt.step()
    q = lin.weight.detach().numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(shape[1]), atol=1e-12)
    assert np.abs(q - _q_of(w)).max() > 1e-3    # it moved


def test_wide_weight_and_householder():
    lin = orthogonal(nn.Linear(6, 3))
    q = lin.weight.detach().numpy()
    np.testing.assert_allclose(q @ q.T, np.eye(3), atol=1e-5)


def test_errors_are_pytorchs():
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dim"):
        orthogonal(nn.Linear(2, 2), name="bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", '
                                         '"householder". Got: qr'):
        orthogonal(nn.Linear(2, 2), orthogonal_map="qr")
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
        orthogonal(nn.Linear(2, 2), name="nope")
    lin = orthogonal(nn.Linear(3, 3), use_trivialization=False)   # registers (PyTorch the same)
    q = lin.weight.detach().numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-5)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        lin.weight = gk.eye(3)


@pytest.mark.parametrize("shape,kind", [((4, 4), None), ((4, 4), "cayley"), ((6, 3), None)])
def test_matches_torch_live(shape, kind):
    torch = pytest.importorskip("torch")
    from torch.nn.utils.parametrizations import orthogonal as torch_orthogonal
    rng = np.random.default_rng(1)
    w, x = rng.standard_normal(shape), rng.standard_normal((2, shape[1]))
    out = []
    for lib, orth in ((torch, torch_orthogonal), (gk, orthogonal)):
        lin = lib.nn.Linear(shape[1], shape[0], bias=False, dtype=lib.float64)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w))
        orth(lin, orthogonal_map=kind)
        lin(lib.tensor(x)).pow(2).sum().backward()
        out.append((lin.weight.detach().numpy(), lin.parametrizations.weight.original.grad.numpy()))
    np.testing.assert_allclose(out[1][0], out[0][0], atol=1e-12)
    np.testing.assert_allclose(out[1][1], out[0][1], atol=1e-12)
