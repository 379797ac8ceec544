"""A view made in no_grad mode and changed in place while grad mode records is PyTorch's error
(messages recorded from torch 2.13), not a silently recorded (or silently untracked) write."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

TAIL = ("was created in no_grad mode and is being modified inplace with grad mode enabled. Given that "
        "this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
        "moving both the view and the inplace either both inside the no_grad block (if you don't want "
        "the inplace to be tracked) or both outside (if you want the inplace to be tracked).")
PLAIN = "A view " + TAIL


def _nograd_view(requires_grad: bool = True, leaf: bool = False) -> tuple[gk.Tensor, gk.Tensor]:
    a = gk.ones(3, requires_grad=requires_grad)
    b = a if leaf or not requires_grad else a * 1
    with gk.no_grad():
        v = b[:2]
    return b, v


@pytest.mark.parametrize("op", ["mul_", "zero_", "add_", "index_put"])
def test_inplace_on_a_nograd_view_is_refused(op: str) -> None:
    b, v = _nograd_view()
    with pytest.raises(RuntimeError) as info:
        if op == "mul_":
            v.mul_(2)
        elif op == "zero_":
            v.zero_()
        elif op == "add_":
            v.add_(gk.ones(2))
        else:
            v[[0]] = 5.0
    assert str(info.value) == PLAIN
    np.testing.assert_array_equal(b.detach().numpy(), [1.0, 1.0, 1.0])   # nothing written


def test_leaf_base_gets_the_nograd_message() -> None:
    _, v = _nograd_view(leaf=True)
    with pytest.raises(RuntimeError) as info:
        v.mul_(2)
    assert str(info.value) == PLAIN


def test_a_view_of_a_nograd_view_names_its_op() -> None:
    _, v = _nograd_view()
    with pytest.raises(RuntimeError) as info:
        v[0] = 5.0
    assert str(info.value) == "Output 0 of Select is a view of a view which " + TAIL
    w = v[:1]
    with pytest.raises(RuntimeError) as info:
        w.mul_(2)
    assert str(info.value) == "Output 0 of Slice is a view of a view which " + TAIL
    with gk.no_grad():
        u = v[:1]
    with pytest.raises(RuntimeError) as info:
        u.mul_(2)
    assert str(info.value) == PLAIN


def test_base_without_grad_refuses_only_a_recorded_change() -> None:
    b, v = _nograd_view(requires_grad=False)
    v.mul_(2)                                   # nothing records: allowed (torch too)
    np.testing.assert_array_equal(b.numpy(), [2.0, 2.0, 1.0])
    with pytest.raises(RuntimeError) as info:
        v.add_(gk.ones(2, requires_grad=True))
    assert str(info.value) == PLAIN


def test_allowed_cases() -> None:
    b, v = _nograd_view()
    with gk.no_grad():
        v.mul_(3)                               # both inside no_grad
    np.testing.assert_array_equal(b.detach().numpy(), [3.0, 3.0, 1.0])
    with gk.no_grad():
        d = b.detach()[:2]
    d.mul_(2)                                   # a view of a detached tensor: no history
    np.testing.assert_array_equal(b.detach().numpy(), [6.0, 6.0, 1.0])
    a = gk.ones(3, requires_grad=True) * 1
    w = a[:2]
    w.mul_(2)                                   # a view made with grad enabled: recorded
    a.sum().backward()


def test_multi_output_view_made_in_no_grad() -> None:
    a = gk.ones(3, requires_grad=True) * 1
    with gk.no_grad():
        v = a.unbind(0)[0]
    with pytest.raises(RuntimeError) as info:
        v.mul_(2)
    assert str(info.value) == PLAIN


def test_matches_live_torch() -> None:
    torch = pytest.importorskip("torch")
    a = torch.ones(3, requires_grad=True) * 1
    with torch.no_grad():
        v = a[:2]
    with pytest.raises(RuntimeError) as info:
        v.mul_(2)
    assert str(info.value) == PLAIN
    with pytest.raises(RuntimeError) as info:
        v[0] = 5.0
    assert str(info.value) == "Output 0 of Select is a view of a view which " + TAIL
