"""``gradkit.utils.swap_tensors``: results and refusals recorded from PyTorch 2.13's
``torch.utils.swap_tensors`` on the same snippets (``test_same_as_live_torch`` reruns them
when torch is installed)."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import gradkit as gk

POISONED = ("Trying to execute AccumulateGrad node that was poisoned by swap_tensors this can "
            "happen when you try to run backward on a tensor that was swapped. For a module m "
            "with `torch.__future__.set_swap_module_params_on_conversion(True)` you should not "
            "change the device or dtype of the module (e.g. `m.cpu()` or `m.half()`) between "
            "running forward and backward. To resolve this, please only change the device/dtype "
            "before running forward (or after both forward and backward).")


def use_count(name, n):
    return (f"Expected use_count of {name} to be 1 or 2 with an AccumulateGrad node but got {n} "
            f"make sure you are not holding references to the tensor in other places.")


def test_contents_dtype_and_attributes_swap():
    t1, t2 = gk.arange(2), gk.arange(3.0)
    t1.foo = 1
    gk.utils.swap_tensors(t1, t2)
    np.testing.assert_array_equal(t1.numpy(), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(t2.numpy(), [0, 1])
    assert t1.dtype == gk.float32 and t2.dtype == gk.int64
    assert t2.foo == 1 and not hasattr(t1, "foo")


def test_class_and_requires_grad_swap():
    p, t = gk.nn.Parameter(gk.ones(2)), gk.zeros(3)
    gk.utils.swap_tensors(p, t)
    assert type(p) is gk.Tensor and type(t) is gk.nn.Parameter
    assert not p.requires_grad and t.requires_grad
    np.testing.assert_array_equal(t.detach().numpy(), [1.0, 1.0])


def test_grad_goes_with_the_contents():
    a, b = gk.ones(2, requires_grad=True), gk.zeros(3)
    a.grad = gk.full((2,), 5.0)
    gk.utils.swap_tensors(a, b)
    assert a.grad is None and not a.requires_grad
    np.testing.assert_array_equal(b.grad.numpy(), [5.0, 5.0])


def test_module_parameter_seen_by_the_optimizer():
    mod = gk.nn.Linear(1, 2, bias=False)
    opt = gk.optim.SGD(mod.parameters())
    w = mod.weight
    new = gk.nn.Parameter(2 * mod.weight.detach())
    expected = 2 * w.detach().numpy()
    gk.utils.swap_tensors(mod.weight, new)
    assert opt.param_groups[0]["params"][0] is mod.weight and mod.weight is w
    np.testing.assert_array_equal(mod.weight.detach().numpy(), expected)


@pytest.mark.parametrize("which", ["t1", "t2"])
def test_weakref_refused(which):
    a, b = gk.ones(2), gk.zeros(2)
    r = weakref.ref(a if which == "t1" else b)  # noqa: F841
    with pytest.raises(RuntimeError) as info:
        gk.utils.swap_tensors(a, b)
    assert str(info.value) == f"Cannot swap {which} because it has weakref associated with it"


def test_saved_for_backward_refused():
    a, b = gk.ones(2, requires_grad=True), gk.zeros(2)
    y = (a * a).sum()  # noqa: F841
    with pytest.raises(RuntimeError) as info:
        gk.utils.swap_tensors(a, b)
    assert str(info.value) == use_count("t1", 4)         # PyTorch: saved twice + AccumulateGrad
    np.testing.assert_array_equal(a.detach().numpy(), [1.0, 1.0])
    x = gk.ones(2, requires_grad=True)
    c = x * 2
    y = (c * c).sum()  # noqa: F841
    with pytest.raises(RuntimeError) as info:
        gk.utils.swap_tensors(c, b)
    assert str(info.value) == use_count("t1", 3)


def test_leaf_input_of_a_graph_is_swapped_and_its_backward_poisoned():
    a, b = gk.ones(2, requires_grad=True), gk.zeros(2)
    y = (a * 2).sum()
    gk.utils.swap_tensors(a, b)
    np.testing.assert_array_equal(a.numpy(), [0.0, 0.0])
    assert b.requires_grad and not a.requires_grad
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert str(info.value) == POISONED
    assert a.grad is None and b.grad is None


def test_after_backward_and_unsaved_non_leaf():
    a, b = gk.ones(2, requires_grad=True), gk.zeros(2)
    (a * 2).sum().backward()
    gk.utils.swap_tensors(a, b)
    assert a.grad is None
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 2.0])
    x = gk.ones(2, requires_grad=True)
    c, d = x * 2, gk.zeros(2)
    y = c.sum()
    gk.utils.swap_tensors(c, d)
    assert d.grad_fn.name() == "MulBackward0" and c.grad_fn is None
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_views():
    base = gk.ones(4)
    a, b = base[:2], gk.zeros(2)
    gk.utils.swap_tensors(a, b)
    b.add_(1)                                   # b is the view now: it writes into base
    np.testing.assert_array_equal(base.numpy(), [2.0, 2.0, 1.0, 1.0])
    np.testing.assert_array_equal(a.numpy(), [0.0, 0.0])
    base = gk.ones(4)
    v = base[:2]  # noqa: F841
    with pytest.raises(RuntimeError) as info:
        gk.utils.swap_tensors(base, gk.zeros(2))
    assert str(info.value) == ("It is not possible to get the gradient edge for a Tensor that "
                               "does not require gradients")


def test_not_a_tensor():
    with pytest.raises(AttributeError, match="'int' object has no attribute '_use_count'"):
        gk.utils.swap_tensors(gk.ones(2), 3)


def test_same_as_live_torch():
    torch = pytest.importorskip("torch")
    a, b = torch.ones(2, requires_grad=True), torch.zeros(2)
    y = (a * a).sum()  # noqa: F841
    with pytest.raises(RuntimeError) as info:
        torch.utils.swap_tensors(a, b)
    assert str(info.value) == use_count("t1", 4)
    a = torch.ones(2, requires_grad=True)
    y = (a * 2).sum()
    torch.utils.swap_tensors(a, b)
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert str(info.value) == POISONED
