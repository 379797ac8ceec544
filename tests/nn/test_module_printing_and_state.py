"""Container printing and load_state_dict's result and errors; text recorded from PyTorch 2.13."""

from __future__ import annotations

import pytest

import gradkit as gk
from gradkit import nn


def _lists(lib):
    n = lib.nn
    return [
        n.ModuleList([n.Linear(2, 2) for _ in range(3)] + [n.ReLU(), n.ReLU()]),
        n.ModuleList(),
        n.ModuleList([n.Sequential(n.Linear(1, 1), n.ReLU()) for _ in range(2)]),
        n.Sequential(*[n.Linear(2, 2) for _ in range(3)]),
        n.ModuleDict({"a": n.ReLU(), "b": n.ReLU()}),
    ]


RECORDED = [
    "ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
    "  (3-4): 2 x ReLU()\n)",
    "ModuleList()",
    "ModuleList(\n  (0-1): 2 x Sequential(\n    (0): Linear(in_features=1, out_features=1, "
    "bias=True)\n    (1): ReLU()\n  )\n)",
    # Sequential and ModuleDict do not collapse repeated children in PyTorch
    "Sequential(\n  (0): Linear(in_features=2, out_features=2, bias=True)\n"
    "  (1): Linear(in_features=2, out_features=2, bias=True)\n"
    "  (2): Linear(in_features=2, out_features=2, bias=True)\n)",
    "ModuleDict(\n  (a): ReLU()\n  (b): ReLU()\n)",
]


def test_container_repr_recorded():
    assert [repr(m) for m in _lists(gk)] == RECORDED


def test_container_repr_live_torch():
    torch = pytest.importorskip("torch")
    assert [repr(m) for m in _lists(gk)] == [repr(m) for m in _lists(torch)]


def test_incompatible_keys_print_and_fields():
    m = nn.Linear(2, 2)
    r = m.load_state_dict(m.state_dict())
    assert repr(r) == str(r) == "<All keys matched successfully>"
    assert type(r).__name__ == "_IncompatibleKeys" and r == ([], [])
    sd = dict(m.state_dict())
    del sd["bias"]
    sd["extra"] = gk.zeros(1)
    r = m.load_state_dict(sd, strict=False)
    assert repr(r) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['extra'])"
    assert r.missing_keys == ["bias"] and r.unexpected_keys == ["extra"]
    missing, unexpected = r
    assert (missing, unexpected) == (["bias"], ["extra"])


def test_strict_errors_have_pytorch_text():
    m = nn.Linear(2, 2)
    sd = {"weight": gk.zeros(2, 2), "extra": gk.zeros(1)}
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    assert str(e.value) == ('Error(s) in loading state_dict for Linear:\n\tMissing key(s) in '
                            'state_dict: "bias". \n\tUnexpected key(s) in state_dict: "extra". ')
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    sd = {"0.zz": gk.zeros(1), "yy": gk.zeros(1), "0.weight": gk.zeros(3, 3),
          "0.bias": gk.zeros(2)}
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(sd)
    # unexpected keys are listed module by module (the outer one first), as PyTorch does
    assert str(e.value) == (
        'Error(s) in loading state_dict for Sequential:\n\tUnexpected key(s) in state_dict: '
        '"yy", "0.zz". \n\tsize mismatch for 0.weight: copying a param with shape '
        'torch.Size([3, 3]) from checkpoint, the shape in current model is torch.Size([2, 2]).')
    sd2 = {"0.zz": gk.zeros(1), "yy": gk.zeros(1), "0.weight": gk.ones(2, 2)}
    r = net.load_state_dict(sd2, strict=False)
    assert repr(r) == "_IncompatibleKeys(missing_keys=['0.bias'], unexpected_keys=['yy', '0.zz'])"
    assert net[0].weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_assign_keeps_the_given_tensor():
    m = nn.Linear(2, 1)
    w = gk.full((1, 2), 3.0)
    m.load_state_dict({"weight": w, "bias": gk.zeros(1)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    w[0, 0] = 5.0                         # shares memory with the tensor it was given
    assert m.weight.tolist() == [[5.0, 3.0]]
