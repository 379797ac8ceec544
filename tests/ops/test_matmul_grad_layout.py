"""The weight gradient of a product with a transposed operand (``linear``'s ``weight.T``) is
made in that operand's layout (``ops.linalg._transposed_layout``), so the weight's ``.grad`` is
C-contiguous, as PyTorch's. Checked for layout, and for values against float64 references
computed with NumPy from the definition (``x^H g``) and against a live PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def _data(rng, shape, dtype):
    a = rng.uniform(-1, 1, shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.uniform(-1, 1, shape)
    return a.astype(dtype)


CASES = [  # (batch, in, out): out*in at least / below the layout threshold
    (64, 96, 80), (33, 70, 65), (5, 3, 7), (64, 2, 4096)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("n,i,o", CASES)
@pytest.mark.parametrize("path", ["linear", "matmul", "addmm"])
def test_weight_gradient_layout_and_values(dtype, n, i, o, path):
    rng = np.random.default_rng(n * 1000 + i + o)
    x, w, b, g = (_data(rng, s, dtype) for s in ((n, i), (o, i), (o,), (n, o)))
    xt = gk.tensor(x, requires_grad=True)
    wt = gk.tensor(w, requires_grad=True)
    bt = gk.tensor(b, requires_grad=True)
    if path == "linear":
        out = gk.nn.functional.linear(xt, wt, bt)
    elif path == "matmul":
        out = gk.matmul(xt, wt.t())
    else:
        out = gk.addmm(bt, xt, wt.t())
    out.backward(gk.tensor(g))
    gw, gx = wt.grad.numpy(), xt.grad.numpy()
    # a large weight's gradient is made C-contiguous by the product's layout; a small one's is
    # copied to C order as it reaches .grad (PyTorch's layout contract: weight.grad.view(-1))
    assert gw.flags.c_contiguous
    # references: d<x w^T, g>/dw = g^T conj(x) ... written from the definition in float64
    x64, g64, w64 = (a.astype(np.complex128 if np.iscomplexobj(a) else np.float64)
                     for a in (x, g, w))
    want_w = (x64.conj().T @ g64).T
    want_x = g64 @ w64.conj()
    tol = dict(rtol=2e-5, atol=2e-5 * i) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, want_w, **tol)
    np.testing.assert_allclose(gx, want_x, **tol)


def test_plain_weight_keeps_its_layout():
    # a C-contiguous (in, out) weight used as it is: its gradient x^T g stays C-contiguous
    rng = np.random.default_rng(3)
    x = gk.tensor(rng.normal(size=(32, 128)).astype(np.float32))
    w = gk.tensor(rng.normal(size=(128, 64)).astype(np.float32), requires_grad=True)
    gk.matmul(x, w).sum().backward()
    assert w.grad.numpy().flags.c_contiguous
    np.testing.assert_allclose(w.grad.numpy(), np.repeat(x.numpy().astype(np.float64).sum(0)[:, None],
                                                         64, 1), rtol=1e-5, atol=1e-4)


def test_matches_torch_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x, w, b = (rng.normal(size=s).astype(np.float32) for s in ((64, 784), (512, 784), (512,)))
    xg, wg, bg = gk.tensor(x), gk.tensor(w, requires_grad=True), gk.tensor(b, requires_grad=True)
    (gk.nn.functional.linear(xg, wg, bg) ** 2).sum().backward()
    xt = torch.tensor(x)
    wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    (torch.nn.functional.linear(xt, wt, bt) ** 2).sum().backward()
    assert wg.grad.numpy().flags.c_contiguous and wt.grad.is_contiguous()
    ref = wt.grad.numpy()
    np.testing.assert_allclose(wg.grad.numpy(), ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())
    np.testing.assert_allclose(bg.grad.numpy(), bt.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_second_order_through_the_transposed_rule():
    # create_graph through the new orientation: the Hessian-vector product of
    # sum((x w^T)^2) in w is 2 x^T x-shaped; checked against the float64 formula
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 80))
    w = gk.tensor(rng.normal(size=(64, 80)), requires_grad=True)
    v = rng.normal(size=(64, 80))
    y = gk.nn.functional.linear(gk.tensor(x), w)
    (gw,) = gk.autograd.grad((y * y).sum(), w, create_graph=True)
    assert gw.detach().numpy().flags.c_contiguous
    (hv,) = gk.autograd.grad((gw * gk.tensor(v)).sum(), w)
    np.testing.assert_allclose(hv.numpy(), 2 * v @ x.T @ x, rtol=1e-10, atol=1e-10)
