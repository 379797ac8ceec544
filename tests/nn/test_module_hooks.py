"""Module hooks: forward (pre-)hooks, full backward (pre-)hooks, the deprecated non-full hook,
global hooks and RemovableHandle. Messages recorded from PyTorch 2.13; gradients analytic."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.nn.modules import module as module_mod
from gradkit.utils.hooks import RemovableHandle


def _linear(w, b=None):
    m = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
    with gk.no_grad():
        m.weight.copy_(gk.tensor(w))
        if b is not None:
            m.bias.copy_(gk.tensor(b))
    return m


W = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]], dtype=np.float32)


def test_forward_pre_hook_replaces_args_and_kwargs():
    m = _linear(W)
    seen = []
    h = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    m.register_forward_pre_hook(lambda mod, args: seen.append(("first", args[0].tolist())),
                                prepend=True)
    assert isinstance(h, RemovableHandle)
    out = m(gk.tensor([[1.0, 1.0]]))
    assert out.tolist() == [[6.0, 4.0, 1.0]] and seen == [("first", [[1.0, 1.0]])]
    h.remove()
    assert m(gk.tensor([[1.0, 1.0]])).tolist() == [[3.0, 2.0, 0.5]]

    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor
    s = Scale()
    s.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 10.0}),
                                with_kwargs=True)
    assert s(gk.tensor([1.0])).tolist() == [10.0]
    s.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"^forward pre-hook must return None or a tuple of "
                                           r"\(new_args, new_kwargs\), but got 5\.$"):
        s(gk.tensor([1.0]))


def test_forward_hook_order_kwargs_and_replacement():
    m = _linear(W)
    order = []
    m.register_forward_hook(lambda mod, args, out: order.append("a"))
    m.register_forward_hook(lambda mod, args, out: order.append("b"), prepend=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: out + 1, with_kwargs=True)
    assert m(gk.tensor([[0.0, 0.0]])).tolist() == [[1.0, 1.0, 1.0]]
    assert order == ["b", "a"]


def test_always_call_hook_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")
    m = Boom()
    calls = []
    m.register_forward_hook(lambda mod, args, out: calls.append(("always", out)), always_call=True)
    m.register_forward_hook(lambda mod, args, out: calls.append("plain"))
    with pytest.raises(ValueError, match="boom"):
        m(gk.tensor([1.0]))
    assert calls == [("always", None)]


def test_handle_removes_and_works_as_context_manager():
    m = nn.Identity()
    calls = []
    with m.register_forward_hook(lambda mod, a, o: calls.append(1), with_kwargs=False,
                                 always_call=True) as h:
        m(gk.tensor(1.0))
    m(gk.tensor(1.0))
    assert calls == [1] and h.id not in m._forward_hooks
    assert h.id not in m._forward_hooks_always_called
    h.remove()                                  # twice is fine, as in PyTorch


def test_full_backward_hook_sees_grad_input_and_output():
    m = _linear(W, np.zeros(3, np.float32))
    log = []
    m.register_full_backward_hook(lambda mod, gi, go: log.append((gi, go)))
    x = gk.tensor([[1.0, 2.0]], requires_grad=True)
    m(x).sum().backward()
    (gi, go), = log
    assert len(gi) == 1 and len(go) == 1
    assert go[0].tolist() == [[1.0, 1.0, 1.0]]
    assert gi[0].tolist() == W.sum(0, keepdims=True).tolist()    # ones @ W


def test_full_backward_hook_replaces_grad_input():
    m = _linear(W)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0 + 7,))
    x = gk.tensor([[1.0, 2.0]], requires_grad=True)
    m(x).sum().backward()
    assert x.grad.tolist() == [[7.0, 7.0]]
    # weight's gradient is untouched: d sum(x W^T)/dW = ones^T x
    assert m.weight.grad.tolist() == [[1.0, 2.0]] * 3


def test_full_backward_pre_hook_replaces_grad_output():
    m = _linear(W)
    m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
    x = gk.tensor([[1.0, 2.0]], requires_grad=True)
    m(x).sum().backward()
    assert x.grad.tolist() == (2 * W.sum(0, keepdims=True)).tolist()


def test_non_tensor_inputs_get_none_and_no_grad_inputs_warn():
    class Two(nn.Module):
        def forward(self, x, k, y):
            return x * k + y
    m = Two()
    log = []
    m.register_full_backward_hook(lambda mod, gi, go: log.append(gi))
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    m(x, 3.0, gk.tensor([1.0, 1.0])).sum().backward()
    gi, = log
    assert gi[0].tolist() == [3.0, 3.0] and gi[1] is None and gi[2] is None

    lin = _linear(W)
    log.clear()
    lin.register_full_backward_hook(lambda mod, gi, go: log.append(gi))
    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are "
                                         "computed with respect to module outputs since no "
                                         "inputs require gradients"):
        lin(gk.ones(1, 2)).sum().backward()
    assert log == [(None,)]


def test_backward_hook_errors_have_pytorch_words():
    m = _linear(W)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match=r"^Backward hook returned an invalid number of "
                                           r"grad_input, got 2, but expected 1$"):
        m(gk.ones(1, 2, requires_grad=True)).sum().backward()
    m = _linear(W)
    m.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match=r"^Backward pre hook returned an invalid number of "
                                           r"grad_output, got 2, but expected 1$"):
        m(gk.ones(1, 2, requires_grad=True)).sum().backward()
    m = _linear(W)
    m.register_full_backward_hook(lambda mod, gi, go: (gk.ones(1, 2),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="^Backward hook for Modules where no input "
                                               "requires gradient should always return None"):
            m(gk.ones(1, 2)).sum().backward()
    m = _linear(W)
    m.register_backward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match="^Cannot use both regular backward hooks and full "
                                           "backward hooks on a single Module"):
        m.register_full_backward_hook(lambda *a: None)


def test_inplace_on_hooked_input_is_refused():
    r = nn.ReLU(inplace=True)
    r.register_full_backward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match=r"^Output 0 of BackwardHookFunction is a view and is "
                                           r"being modified inplace\. .* You can fix this by "
                                           r"cloning the output of the custom Function\.$"):
        r(gk.ones(2, requires_grad=True) * 1)
    # without the hook the same call is fine
    assert nn.ReLU(inplace=True)(gk.ones(2, requires_grad=True) * 1).tolist() == [1.0, 1.0]


def test_deprecated_backward_hook_runs_with_a_warning():
    m = _linear(W)
    seen = []
    m.register_backward_hook(lambda mod, gi, go: seen.append(len(go)))
    with pytest.warns(UserWarning, match="Using a non-full backward hook when the forward "
                                         "contains multiple autograd Nodes is deprecated"):
        out = m(gk.ones(1, 2, requires_grad=True))
    out.sum().backward()
    assert seen == [1]


def test_global_hooks():
    calls = []
    h1 = module_mod.register_module_forward_pre_hook(lambda m, a: calls.append(("pre", type(m).__name__)))
    h2 = module_mod.register_module_forward_hook(lambda m, a, o: calls.append(("post", type(m).__name__)))
    h3 = module_mod.register_module_full_backward_hook(
        lambda m, gi, go: calls.append(("bw", type(m).__name__)))
    try:
        net = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
        net(gk.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        h1.remove(), h2.remove(), h3.remove()
    # recorded from PyTorch 2.13
    assert calls == [("pre", "Sequential"), ("pre", "Linear"), ("post", "Linear"), ("pre", "Tanh"),
                     ("post", "Tanh"), ("post", "Sequential"), ("bw", "Tanh"), ("bw", "Linear"),
                     ("bw", "Sequential")]
    nn.Linear(2, 2)(gk.ones(1, 2))             # removed: nothing more is recorded
    assert len(calls) == 9


def _hook_trace(lib):
    """What the hooks see on a two-layer net, as plain data."""
    nnl = lib.nn
    lib.manual_seed(0)
    net = nnl.Sequential(nnl.Linear(3, 2), nnl.ReLU(), nnl.Linear(2, 1))
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.linspace(-1, 1, p.numel()).reshape(p.shape))
    log = []

    def grads(gs):
        return [None if g is None else np.round(g.detach().numpy().astype(np.float64), 6).tolist()
                for g in gs]
    for i, layer in enumerate(net):
        layer.register_full_backward_pre_hook(lambda m, go, i=i: log.append(("pre", i, grads(go))))
        layer.register_full_backward_hook(lambda m, gi, go, i=i: log.append(("bw", i, grads(gi),
                                                                             grads(go))))
        layer.register_forward_hook(lambda m, a, o, i=i: log.append(("fw", i, grads([o]))))
    x = lib.tensor([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]], requires_grad=True)
    net(x).sum().backward()
    log.append(("x", grads([x.grad])))
    return log


def test_hook_trace_matches_live_torch():
    torch = pytest.importorskip("torch")
    assert _hook_trace(gk) == _hook_trace(torch)


def test_deepcopy_gives_handles_to_the_copy():
    import copy
    m = nn.Linear(2, 2)
    h = m.register_forward_hook(lambda *a: None)
    pair = copy.deepcopy((m, h))
    pair[1].remove()
    assert len(pair[0]._forward_hooks) == 0 and len(m._forward_hooks) == 1
