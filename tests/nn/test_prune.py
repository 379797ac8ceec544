"""nn.utils.prune: masks worked out by hand for fixed weights (smallest |w|, smallest channel
norms), the module's parameters/buffers/hooks as PyTorch arranges them, the gradient reaching
``weight_orig`` through the mask, and (where torch is installed) the same masks and errors as
torch.nn.utils.prune for the same weights."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.nn.utils import prune

W = np.array([[0.5, -0.1, 0.3], [-0.7, 0.05, 0.2], [0.4, -0.6, -0.25], [0.01, 0.9, -0.35]],
             dtype=np.float32)


def _linear(w: np.ndarray = W) -> nn.Linear:
    m = nn.Linear(w.shape[1], w.shape[0])
    with gk.no_grad():
        m.weight.copy_(gk.tensor(w))
        m.bias.copy_(gk.arange(w.shape[0], dtype=gk.float32))
    return m


def test_l1_unstructured_zeros_the_smallest_magnitudes() -> None:
    m = prune.l1_unstructured(_linear(), name="weight", amount=4)
    want = np.ones_like(W)
    for i, j in [(3, 0), (1, 1), (0, 1), (1, 2)]:     # |w| = 0.01, 0.05, 0.1, 0.2
        want[i, j] = 0
    np.testing.assert_array_equal(m.weight_mask.numpy(), want)
    np.testing.assert_allclose(m.weight.detach().numpy(), W * want)
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    assert [n for n, _ in m.named_buffers()] == ["weight_mask"]
    assert "weight" not in dict(m.named_parameters())
    assert prune.is_pruned(m)


def test_fraction_rounds_like_pytorch_and_gradient_goes_through_the_mask() -> None:
    m = prune.l1_unstructured(_linear(), name="weight", amount=0.3)   # round(3.6) = 4
    assert int((m.weight_mask == 0).sum()) == 4
    x = gk.tensor([[1.0, 2.0, 3.0]])
    m(x).sum().backward()
    # d(sum(x @ (mask*W).T + b))/dW_orig = mask * x (broadcast over rows)
    np.testing.assert_allclose(m.weight_orig.grad.numpy(),
                               m.weight_mask.numpy() * np.array([[1.0, 2.0, 3.0]]))


def test_ln_structured_after_l1_keeps_both_masks_and_remove_makes_it_permanent() -> None:
    m = prune.l1_unstructured(_linear(), name="weight", amount=2)
    prune.ln_structured(m, name="weight", amount=2, n=2, dim=0)
    # row norms of W: 0.592, 0.731, 0.762, 0.967 -> rows 0 and 1 go
    mask = m.weight_mask.numpy()
    assert (mask[:2] == 0).all()
    assert mask[3, 0] == 0 and mask[2].all() and mask[3, 1:].all()
    hook = next(iter(m._forward_pre_hooks.values()))
    assert isinstance(hook, prune.PruningContainer)
    assert [type(h).__name__ for h in hook] == ["L1Unstructured", "LnStructured"]
    prune.remove(m, "weight")
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight"]
    assert list(m.named_buffers()) == [] and not m._forward_pre_hooks
    np.testing.assert_allclose(m.weight.detach().numpy(), W * mask)
    assert not prune.is_pruned(m)


def test_global_unstructured_prunes_across_tensors() -> None:
    a, b = _linear(), _linear(W[:2] * 10)
    prune.global_unstructured([(a, "weight"), (b, "weight")],
                              pruning_method=prune.L1Unstructured, amount=5)
    # the 5 smallest of all 18 magnitudes are in a (0.01, 0.05, 0.1, 0.2, 0.25); b is kept
    assert int((a.weight_mask == 0).sum()) == 5 and bool(b.weight_mask.all())


def test_forward_pre_hook_recomputes_the_weight_and_custom_methods_work() -> None:
    class EveryOther(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    m = _linear()
    EveryOther.apply(m, "bias")
    assert m.bias_mask.tolist() == [0.0, 1.0, 0.0, 1.0]
    with gk.no_grad():
        m.bias_orig.fill_(5.0)
    assert m(gk.zeros(1, 3)).tolist() == [[0.0, 5.0, 0.0, 5.0]]


def test_errors() -> None:
    m = _linear()
    with pytest.raises(ValueError, match="amount=1.5 should either be a float in the range"):
        prune.l1_unstructured(m, "weight", amount=1.5)
    with pytest.raises(TypeError, match="Invalid type for amount"):
        prune.random_unstructured(m, "weight", amount="a")
    with pytest.raises(ValueError, match="should be smaller than the number of parameters"):
        prune.l1_unstructured(m, "weight", amount=13)
    # restored after failing, re-registered last (as PyTorch does)
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight"]
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")
    with pytest.raises(ValueError, match="Structured pruning can only be applied"):
        prune.ln_structured(m, "bias", amount=1, n=2, dim=0)


def test_masks_match_torch() -> None:
    torch = pytest.importorskip("torch")
    tp = pytest.importorskip("torch.nn.utils.prune")
    t = torch.nn.Linear(3, 4)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(W))
        t.bias.copy_(torch.arange(4, dtype=torch.float32))
    g = _linear()
    for mod, mp in ((t, tp), (g, prune)):
        mp.l1_unstructured(mod, "weight", amount=0.25)
        mp.ln_structured(mod, "weight", amount=1, n=1, dim=1)
        mp.l1_unstructured(mod, "bias", amount=1)
    np.testing.assert_array_equal(g.weight_mask.numpy(), t.weight_mask.numpy())
    np.testing.assert_array_equal(g.bias_mask.numpy(), t.bias_mask.numpy())
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in g.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert list(g.state_dict()) == list(t.state_dict())
