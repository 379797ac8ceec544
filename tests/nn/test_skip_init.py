"""``nn.utils.skip_init``: PyTorch's checks and messages; the default generator is not advanced."""

from __future__ import annotations

import pytest

import gradkit as gk
from gradkit import nn


def test_skip_init_builds_the_module_and_leaves_the_random_stream_alone() -> None:
    gk.manual_seed(5)
    expected = gk.rand(3).tolist()
    gk.manual_seed(5)
    m = nn.utils.skip_init(nn.Linear, 5, 3, dtype=gk.float64)
    assert isinstance(m, nn.Linear)
    assert tuple(m.weight.shape) == (3, 5) and m.weight.dtype == gk.float64
    assert m.weight.requires_grad and m.bias.requires_grad
    assert gk.rand(3).tolist() == expected
    nn.init.orthogonal_(m.weight)              # the caller initializes, as in PyTorch's note
    rows = (m.weight @ m.weight.T).detach()
    assert gk.allclose(rows, gk.eye(3, dtype=gk.float64), atol=1e-12)


@pytest.mark.parametrize(("cls", "message"), [
    (nn.ReLU, "Module must support a 'device' arg to skip initialization"),
    (int, "Expected a Module; got <class 'int'>"),
])
def test_skip_init_refuses_what_pytorch_refuses(cls: type, message: str) -> None:
    with pytest.raises(RuntimeError) as exc:
        nn.utils.skip_init(cls)
    assert str(exc.value) == message
