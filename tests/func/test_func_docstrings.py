"""torch.func's docstring examples (issue #17, survey of PyTorch's own documentation):
functionalize, replace_all_batch_norm_modules_, functional_call writing a reassigned buffer
back into the dict it was given, and an input returned as ``has_aux`` coming back as itself.

Expected values are analytic or recorded from torch 2.13 (the behaviour is stated where it is
recorded); the live comparisons import torch with ``pytest.importorskip``.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.func as gf
import gradkit.nn as nn


def test_functionalize_keeps_the_function_and_its_input_mutations():
    def f(a):
        b = a + 1
        c = b.view(-1)
        c.add_(1)
        return b

    x = gk.tensor([0.5, -1.0])
    np.testing.assert_allclose(gf.functionalize(f)(x).numpy(), [2.5, 1.0])

    def g(a):
        a.view(-1).add_(1)
        return a

    out = gf.functionalize(g, remove="mutations_and_views")(x)
    np.testing.assert_allclose(x.numpy(), [1.5, 0.0])        # the input is mutated, as in torch
    np.testing.assert_allclose(out.numpy(), [1.5, 0.0])


def test_functionalize_refuses_an_unknown_remove():
    with pytest.raises(RuntimeError, match="received invalid argument for remove=views"):
        gf.functionalize(lambda a: a, remove="views")


def test_replace_all_batch_norm_modules_drops_running_stats_only_of_batch_norms():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.InstanceNorm1d(4, track_running_stats=True))
    assert gf.replace_all_batch_norm_modules_(net) is net
    bn, inorm = net[1], net[2]
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    assert bn.track_running_stats is False
    assert inorm.track_running_stats is True and inorm.running_mean is not None
    assert "1.running_mean" not in dict(net.named_buffers())
    # batch statistics are used, also in eval mode: output per column has mean 0
    net.eval()
    x = gk.tensor(np.random.default_rng(0).standard_normal((6, 4)))
    y = bn(x)
    np.testing.assert_allclose(y.detach().numpy().mean(0), np.zeros(4), atol=1e-6)


class _Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("foo", gk.zeros(()))

    def forward(self, x):
        self.foo = self.foo + 1
        return x


def test_functional_call_writes_a_reassigned_buffer_back_to_its_dict():
    # torch 2.13 (recorded): mod.foo stays tensor(0.), a['foo'] becomes tensor(1.)
    a = {"foo": gk.zeros(())}
    mod = _Counter()
    gf.functional_call(mod, a, gk.ones(()))
    assert float(mod.foo) == 0.0
    assert float(a["foo"]) == 1.0
    # several dicts are merged into a new one: theirs stay as given (torch the same)
    b = ({"foo": gk.zeros(())},)
    gf.functional_call(mod, b, gk.ones(()))
    assert float(b[0]["foo"]) == 0.0


def test_functional_call_write_back_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.func import functional_call

    class Counter(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("foo", torch.zeros(()))

        def forward(self, x):
            self.foo = self.foo + 1
            return x

    a = {"foo": torch.zeros(())}
    functional_call(Counter(), a, torch.ones(()))
    assert float(a["foo"]) == 1.0


def test_has_aux_returning_an_input_gives_that_input_back():
    def loss(y, y_pred):
        per = (0.5 * y_pred - y) ** 2
        return per.mean(), (y_pred, per)

    y = gk.tensor([0.1, 0.2])
    y_pred = gk.tensor([1.0, 3.0], requires_grad=True)
    (gy, gp), (aux_pred, per) = gf.grad(loss, argnums=(0, 1), has_aux=True)(y, y_pred)
    assert aux_pred is y_pred                      # torch: the caller's tensor, requires_grad=True
    np.testing.assert_allclose(per.detach().numpy(), [(0.5 - 0.1) ** 2, (1.5 - 0.2) ** 2], rtol=1e-6)
    np.testing.assert_allclose(gp.detach().numpy(), [0.5 * (0.5 - 0.1), 0.5 * (1.5 - 0.2)], rtol=1e-6)
    _, (val, aux) = gf.grad_and_value(loss, argnums=1, has_aux=True)(y, y_pred)
    assert aux[0] is y_pred
    # an input that is not differentiated is its own tensor as before
    jac, out = gf.jacrev(lambda x: (x.sin(), x), has_aux=True)(y)
    assert out is y
