"""``nn.DataParallel`` where there is one device: it calls the wrapped module (as PyTorch does
without CUDA). Expected text recorded from torch 2.13.0+cpu."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.nn.parallel import DataParallel


def test_wraps_the_module_as_pytorch_prints_and_saves_it() -> None:
    net = gk.nn.DataParallel(gk.nn.Linear(2, 1))
    assert gk.nn.DataParallel is DataParallel
    assert repr(net) == "DataParallel(\n  (module): Linear(in_features=2, out_features=1, bias=True)\n)"
    assert list(net.state_dict()) == ["module.weight", "module.bias"]
    assert net.device_ids == []


def test_forward_and_backward_are_the_module_s() -> None:
    inner = gk.nn.Linear(3, 2)
    with gk.no_grad():
        inner.weight.copy_(gk.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]]))
        inner.bias.copy_(gk.tensor([0.5, -0.5]))
    x = gk.tensor([[1.0, 1.0, 1.0], [2.0, 0.0, -2.0]])
    out = DataParallel(inner)(x)
    np.testing.assert_allclose(out.detach().numpy(), [[6.5, -1.0], [-3.5, -1.5]])
    out.sum().backward()
    np.testing.assert_allclose(inner.weight.grad.numpy(), [[3.0, 1.0, -1.0]] * 2)


def test_several_devices_are_refused_rather_than_run_on_one() -> None:
    with pytest.raises(NotImplementedError, match="one device"):
        DataParallel(gk.nn.Linear(2, 1), device_ids=[0, 1])
