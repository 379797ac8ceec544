"""Modules on the meta device: ``Module.to('meta')``, ``device='meta'`` layers, ``to_empty`` and
``load_state_dict``, and the model-ensembling pattern (a meta skeleton run by
``functional_call`` under ``vmap``). Expected values are computed with NumPy from the weights."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.func import functional_call, stack_module_state


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.fc2 = nn.Linear(3, 2)

    def forward(self, x: gk.Tensor) -> gk.Tensor:
        return self.fc2(gk.relu(self.fc1(x)))


def _numpy_forward(state: dict, x: np.ndarray) -> np.ndarray:
    h = np.maximum(x @ state["fc1.weight"].T + state["fc1.bias"], 0)
    return h @ state["fc2.weight"].T + state["fc2.bias"]


def _state(m: nn.Module) -> dict:
    return {k: v.detach().numpy().astype(np.float64) for k, v in m.state_dict().items()}


X = np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4)


def test_module_to_meta_moves_parameters_and_buffers() -> None:
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    assert m.to("meta") is m
    assert all(p.is_meta and isinstance(p, nn.Parameter) for p in m.parameters())
    assert all(b.is_meta for b in m.buffers())
    assert m[1].num_batches_tracked.dtype is gk.int64
    out = m(gk.empty(5, 3, device="meta"))
    assert out.is_meta and out.shape == (5, 4)
    out.sum().backward()
    assert m[0].weight.grad.is_meta and m[0].weight.grad.shape == (4, 3)
    assert repr(m[0]) == "Linear(in_features=3, out_features=4, bias=True)"


def test_layers_built_on_meta() -> None:
    lin = nn.Linear(30, 40, device="meta")
    assert lin.weight.is_meta and lin.weight.shape == (40, 30) and lin.bias.is_meta
    lstm = nn.LSTM(3, 4, device="meta")
    out, (h, c) = lstm(gk.empty(5, 2, 3, device="meta"))
    assert out.shape == (5, 2, 4) and h.is_meta and c.shape == (1, 2, 4)


def test_to_empty_then_load_state_dict_gives_the_source_model() -> None:
    src = TwoLayer()
    skeleton = TwoLayer().to("meta")
    assert skeleton.to_empty(device="cpu") is skeleton
    assert not any(p.is_meta for p in skeleton.parameters())
    assert str(skeleton.load_state_dict(src.state_dict())) == "<All keys matched successfully>"
    np.testing.assert_allclose(skeleton(gk.tensor(X)).detach().numpy(),
                               _numpy_forward(_state(src), X.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_to_empty_then_initialise() -> None:
    m = nn.Linear(2, 3, device="meta").to_empty(device="cpu")
    m.reset_parameters()
    w = m.weight.detach().numpy()
    assert w.shape == (3, 2) and np.all(np.abs(w) <= 1 / np.sqrt(2))
    assert len(np.unique(w)) == 6                          # drawn, not left as they were


def test_to_empty_on_meta_and_not_recursive() -> None:
    m = nn.Sequential(nn.Linear(2, 3))
    m.to_empty(device="meta")
    assert m[0].weight.is_meta
    outer = TwoLayer()
    outer.register_parameter("scale", nn.Parameter(gk.ones(2)))
    outer.to_empty(device="meta", recurse=False)
    assert outer.scale.is_meta and not outer.fc1.weight.is_meta


def test_load_state_dict_between_meta_and_real() -> None:
    meta_model = nn.Linear(2, 3, device="meta")
    with pytest.warns(UserWarning, match="copying from a non-meta parameter in the checkpoint to "
                                         "a meta parameter in the current model, which is a no-op"):
        meta_model.load_state_dict(nn.Linear(2, 3).state_dict())
    assert meta_model.weight.is_meta
    real = nn.Linear(2, 3)
    assigned = nn.Linear(2, 3, device="meta")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assigned.load_state_dict(real.state_dict(), assign=True)
    assert not assigned.weight.is_meta
    np.testing.assert_array_equal(assigned.weight.detach().numpy(), real.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="Cannot copy out of meta tensor; no data!"):
        nn.Linear(2, 3).load_state_dict(nn.Linear(2, 3, device="meta").state_dict())


def test_ensembling_with_a_meta_skeleton() -> None:
    # PyTorch's model-ensembling tutorial: a meta copy of one model runs every model's weights
    models = [TwoLayer() for _ in range(3)]
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")

    def fmodel(p: dict, b: dict, x: gk.Tensor) -> gk.Tensor:
        return functional_call(base, (p, b), (x,))

    x = gk.tensor(X)
    out = gk.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
    assert not out.is_meta and out.shape == (3, 5, 2)
    for k, m in enumerate(models):
        np.testing.assert_allclose(out[k].detach().numpy(),
                                   _numpy_forward(_state(m), X.astype(np.float64)), rtol=1e-5,
                                   atol=1e-6)
    batches = gk.tensor(np.stack([X, -X, 2 * X]))
    out2 = gk.vmap(fmodel)(params, buffers, batches)
    np.testing.assert_allclose(out2[2].detach().numpy(),
                               _numpy_forward(_state(models[2]), 2 * X.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)
    assert all(p.is_meta for p in base.parameters())       # the skeleton is left as it was


@pytest.mark.parametrize("make", [
    lambda: nn.BatchNorm1d(4), lambda: nn.Conv2d(3, 4, 3), lambda: nn.Embedding(10, 3),
    lambda: nn.LSTM(3, 4), lambda: nn.LayerNorm(4), lambda: nn.MultiheadAttention(8, 2),
    lambda: nn.GroupNorm(2, 4), lambda: nn.Bilinear(2, 3, 4),
])
def test_layers_built_under_a_meta_default_device(make: object) -> None:
    with gk.device("meta"):
        m = make()                                         # type: ignore[operator]
    tensors = list(m.parameters()) + list(m.buffers())
    assert tensors and all(t.is_meta for t in tensors)
