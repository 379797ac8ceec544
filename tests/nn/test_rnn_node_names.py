"""Recurrent layers end in PyTorch's nodes (values and gradients unchanged). Names recorded from
PyTorch 2.13 on the CPU; a live comparison of values and gradients where torch is installed."""
import numpy as np
import pytest

import gradkit as gk

# (dtype, batch_first, num_layers, bidirectional) -> output's grad_fn name, from torch 2.13
RECORDED = {
    ("float32", False, 1, False): "MkldnnRnnLayerBackward0",
    ("float32", False, 2, False): "MkldnnRnnLayerBackward0",
    ("float32", False, 1, True): "CatBackward0",
    ("float32", False, 2, True): "CatBackward0",
    ("float32", True, 1, False): "TransposeBackward0",
    ("float32", True, 2, True): "TransposeBackward0",
    ("float64", False, 1, False): "StackBackward0",
    ("float64", False, 2, True): "CatBackward0",
}


@pytest.mark.parametrize("key", sorted(RECORDED), ids=str)
def test_lstm_output_node_name(key):
    dt, batch_first, layers, bi = key
    gk.manual_seed(0)
    m = gk.nn.LSTM(3, 4, num_layers=layers, batch_first=batch_first, bidirectional=bi)
    m = m.to(getattr(gk, dt))
    out, (h, c) = m(gk.randn(5, 2, 3, dtype=getattr(gk, dt)))
    assert out.grad_fn.name() == RECORDED[key]
    assert h.grad_fn.name() == "StackBackward0" and c.grad_fn.name() == "StackBackward0"


def test_gru_and_rnn_stay_stack():
    out, h = gk.nn.GRU(3, 4)(gk.randn(5, 2, 3))
    assert out.grad_fn.name() == "StackBackward0"
    out, h = gk.nn.RNN(3, 4)(gk.randn(5, 2, 3))
    assert out.grad_fn.name() == "StackBackward0"


@pytest.mark.parametrize("bi", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_values_and_gradients_match_torch(bi, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    tm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=bi).to(getattr(torch, dtype))
    gm = gk.nn.LSTM(3, 4, num_layers=2, bidirectional=bi).to(getattr(gk, dtype))
    gm.load_state_dict({k: gk.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = rng.standard_normal((6, 2, 3)).astype(dtype)
    w = rng.standard_normal((6, 2, 8 if bi else 4)).astype(dtype)
    tx, gx = torch.tensor(x, requires_grad=True), gk.tensor(x, requires_grad=True)
    to, _ = tm(tx)
    go, _ = gm(gx)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol)
    (to * torch.tensor(w)).sum().backward()
    (go * gk.tensor(w)).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=10 * tol, atol=10 * tol)
    for (name, tp), gp in zip(tm.named_parameters(), gm.parameters()):
        np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), rtol=10 * tol, atol=10 * tol,
                                   err_msg=name)
