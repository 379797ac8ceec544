"""Container editing and printing as PyTorch 2.13 does it (outputs recorded from PyTorch):
``Sequential.insert/extend/pop/+/+=`` with the renumbering after a deletion, ``ModuleList.pop``
and ``+``, and the ``ParameterList``/``ParameterDict`` reprs (``ParameterDict`` printed empty)."""
from __future__ import annotations

import gradkit as gk
from gradkit import nn


def _keys(m):
    return list(m._modules)


def test_sequential_insert_extend_pop_renumber():
    s = nn.Sequential(nn.Linear(2, 2))
    s.insert(0, nn.Tanh())
    s.extend([nn.ReLU()])
    assert repr(s) == ("Sequential(\n  (0): Tanh()\n  (1): Linear(in_features=2, out_features=2, "
                       "bias=True)\n  (2): ReLU()\n)")
    assert repr(s.pop(1)) == "Linear(in_features=2, out_features=2, bias=True)"
    assert repr(s) == "Sequential(\n  (0): Tanh()\n  (1): ReLU()\n)"
    assert _keys(s) == ["0", "1"]
    t = s + nn.Sequential(nn.ELU())
    assert _keys(t) == ["0", "1", "2"] and repr(t[2]) == "ELU(alpha=1.0)"
    s += nn.Sequential(nn.GELU())
    assert repr(s[1:]) == "Sequential(\n  (1): ReLU()\n  (2): GELU(approximate='none')\n)"
    del s[0:2]
    assert repr(s) == "Sequential(\n  (0): GELU(approximate='none')\n)"


def test_modulelist_pop_and_add():
    ml = nn.ModuleList([nn.Linear(1, 1), nn.ReLU(), nn.Tanh()])
    ml.insert(1, nn.Sigmoid())
    assert repr(ml.pop(0)) == "Linear(in_features=1, out_features=1, bias=True)"
    assert repr(ml) == "ModuleList(\n  (0): Sigmoid()\n  (1): ReLU()\n  (2): Tanh()\n)"
    both = ml + nn.ModuleList([nn.ELU()])
    assert len(both) == 4 and repr(both[3]) == "ELU(alpha=1.0)" and len(ml) == 3


def test_parameter_containers_print_as_pytorch():
    pl = nn.ParameterList([nn.Parameter(gk.ones(2)), nn.Parameter(gk.ones(2, 3, dtype=gk.float64)),
                           gk.zeros(3)])
    assert repr(pl) == ("ParameterList(\n    (0): Parameter containing: [torch.float32 of size 2]\n"
                        "    (1): Parameter containing: [torch.float64 of size 2x3]\n"
                        "    (2): Parameter containing: [torch.float32 of size 3]\n)")
    d = nn.ParameterDict({"a": nn.Parameter(gk.ones(2)), "b": nn.Parameter(gk.ones(2, 3).double())})
    assert repr(d) == ("ParameterDict(\n    (a): Parameter containing: [torch.FloatTensor of size 2]\n"
                       "    (b): Parameter containing: [torch.DoubleTensor of size 2x3]\n)")

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.pl = nn.ParameterList([nn.Parameter(gk.ones(2))])
            self.pd = nn.ParameterDict({"w": nn.Parameter(gk.ones(1))})

    assert repr(M()) == (
        "M(\n  (pl): ParameterList(  (0): Parameter containing: [torch.float32 of size 2])\n"
        "  (pd): ParameterDict(  (w): Parameter containing: [torch.FloatTensor of size 1])\n)")
    assert repr(nn.ParameterList()) == "ParameterList()"
    assert repr(nn.ParameterDict()) == "ParameterDict()"
