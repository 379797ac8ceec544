"""Reassigning a submodule, parameter or buffer keeps its place (PyTorch's order, recorded from
torch 2.13): word_language_model's TransformerModel replaces nn.Transformer's ``decoder`` with a
Linear, and its parameters must stay where PyTorch lists them (optimizer and clipping order)."""

import gradkit as gk


class _M(gk.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = gk.nn.Linear(1, 1)
        self.b = gk.nn.Linear(1, 1)
        self.p = gk.nn.Parameter(gk.ones(1))
        self.q = gk.nn.Parameter(gk.ones(1))
        self.register_buffer("x", gk.ones(1))
        self.register_buffer("y", gk.ones(1), persistent=False)


def test_reassignment_keeps_order():
    m = _M()
    m.a = gk.nn.ReLU()
    m.p = gk.nn.Parameter(gk.zeros(1))
    m.x = gk.zeros(2)
    assert (list(m._modules), list(m._parameters), list(m._buffers)) == (
        ["a", "b"], ["p", "q"], ["x", "y"])
    assert list(m.state_dict()) == ["p", "q", "x", "b.weight", "b.bias"]
    m.y = gk.nn.Buffer(gk.ones(3))           # now persistent, still second
    assert list(m.state_dict()) == ["p", "q", "x", "y", "b.weight", "b.bias"]
    m.a = None
    m.a = gk.nn.Tanh()
    assert list(m._modules) == ["a", "b"]


def test_transformer_subclass_replacing_decoder():
    class T(gk.nn.Transformer):
        def __init__(self):
            super().__init__(d_model=8, nhead=2, dim_feedforward=8, num_encoder_layers=1)
            self.input_emb = gk.nn.Embedding(5, 8)
            self.decoder = gk.nn.Linear(8, 5)

    names = [n for n, _ in T().named_parameters()]
    assert names[-3:] == ["decoder.weight", "decoder.bias", "input_emb.weight"]
