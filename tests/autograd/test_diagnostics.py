"""Gradients that explain themselves: one deliberately broken program per cause.

Each case checks that the report names the right cause and the right source line
(marked with a ``# <-`` comment).
"""

from __future__ import annotations

import inspect

import pytest

import gradkit as gk
from gradkit.autograd import explain
from gradkit.tape import GradientTape


def _line(fn, marker: str) -> str:
    """``test_diagnostics.py:N`` of the line of ``fn`` carrying ``# <- marker``."""
    src, start = inspect.getsourcelines(fn)
    for i, text in enumerate(src):
        if f"# <- {marker}" in text:
            return f"test_diagnostics.py:{start + i}"
    raise AssertionError(marker)


def test_detached() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()  # <- here
    loss = (d * 2 + 0 * x).sum()
    e = explain(loss, x)
    assert e.cause == "zero" and e.op == "mul"      # connected, but only through 0 * x
    loss = (d * 2).sum()
    e = explain(loss, x)
    assert e.cause == "detach" and e.location == _line(test_detached, "here")
    assert _line(test_detached, "here") in e.message


def test_no_grad_in_backward_error() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with gk.no_grad():
        loss = (x * 3).sum()  # <- here
    with pytest.raises(RuntimeError) as info:
        loss.backward()
    msg = str(info.value)
    assert msg.startswith("element 0 of tensors does not require grad and does not have a grad_fn\n")
    assert "`loss` was computed under gradkit.no_grad()" in msg
    assert _line(test_no_grad_in_backward_error, "here") in msg
    assert explain(loss, x).cause == "no_grad"


def test_never_required_grad() -> None:
    x = gk.tensor([1.0, 2.0])
    loss = (x * 3).sum()
    e = explain(loss, x)
    assert e.cause == "not_requires_grad" and "requires_grad=True" in e.message


def test_integer_cast() -> None:
    x = gk.tensor([1.5, 2.5], requires_grad=True)
    n = x.long()  # <- here
    e = explain(n.float().sum(), x)
    assert e.cause == "cast" and e.location == _line(test_integer_cast, "here")


def test_comparison_is_not_differentiable() -> None:
    x = gk.tensor([1.5, -2.5], requires_grad=True)
    w = gk.tensor([1.0, 1.0], requires_grad=True)
    m = (x > 0)  # <- here
    e = explain((m.float() * w).sum(), x)
    assert e.cause == "non_differentiable" and e.op == "gt"
    assert e.location == _line(test_comparison_is_not_differentiable, "here")


def test_piecewise_constant_gives_zero() -> None:
    x = gk.tensor([0.3, 1.7], requires_grad=True)
    y = gk.floor(x * 2)  # <- here
    e = explain(y.sum(), x)
    assert e.cause == "piecewise_constant" and e.op == "floor"
    assert e.location == _line(test_piecewise_constant_gives_zero, "here")


def test_replaced_in_place() -> None:
    x = gk.tensor([0.3, 1.7], requires_grad=True)
    h = x * 2
    h.fill_(1.0)  # <- here
    e = explain((h * 3).sum(), x)
    assert e.cause == "replaced_in_place" and e.op == "fill_"
    assert e.location == _line(test_replaced_in_place, "here")


def test_not_watched_by_tape() -> None:
    x = gk.tensor([1.0, 2.0])
    with GradientTape() as tape:
        y = (x * x).sum()
    assert tape.gradient(y, x) is None
    e = tape.explain(y, x)
    assert e.cause == "not_watched" and "tape.watch(x)" in e.message


def test_nan_from_unselected_where_branch() -> None:
    x = gk.tensor([4.0, -1.0], requires_grad=True)
    r = gk.sqrt(x)  # <- sqrt
    y = gk.where(x > 0, r, x)  # <- where
    e = explain(y.sum(), x)
    assert e.cause == "where_branch" and e.op == "sqrt"
    assert e.location == _line(test_nan_from_unselected_where_branch, "sqrt")
    assert _line(test_nan_from_unselected_where_branch, "where") in e.message


def test_inf_from_sqrt_at_zero() -> None:
    x = gk.tensor([0.0, 1.0], requires_grad=True)
    y = gk.sqrt(x)  # <- here
    e = explain(y.sum(), x)
    assert e.cause == "inf" and e.location == _line(test_inf_from_sqrt_at_zero, "here")


def test_healthy_gradient_and_grad_explain_after_backward() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    assert explain(loss, x).cause == "ok"
    loss.backward(retain_graph=True)
    assert x.grad_explain().cause == "ok"
    y = gk.tensor([0.5], requires_grad=True)
    loss2 = gk.floor(y).sum()
    loss2.backward(retain_graph=True)
    assert y.grad_explain().cause == "piecewise_constant"


def test_unused_input() -> None:
    x = gk.tensor([1.0], requires_grad=True)
    z = gk.tensor([1.0], requires_grad=True)
    assert explain((z * 2).sum(), x).cause == "unused"


def test_in_place_error_names_both_lines() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # <- saved
    y.add_(1)  # <- modified
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    msg = str(info.value)
    assert msg.startswith("one of the variables needed for gradient computation has been modified")
    saved = _line(test_in_place_error_names_both_lines, "saved")
    modified = _line(test_in_place_error_names_both_lines, "modified")
    assert f"saved by `exp` at {saved}, modified by `add_` at {modified}" in msg


def test_in_place_error_on_saved_input() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    y = a * a  # <- saved
    a[0] = 5.0  # <- modified
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    msg = str(info.value)
    saved = _line(test_in_place_error_on_saved_input, "saved")
    modified = _line(test_in_place_error_on_saved_input, "modified")
    assert f"saved by `mul` at {saved}, modified by `__setitem__` at {modified}" in msg


def test_second_backward_names_the_freed_node_and_the_fixes() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    loss = x.exp().sum()  # <- here
    loss.backward()
    with pytest.raises(RuntimeError) as info:
        loss.backward()
    msg = str(info.value)
    assert msg.startswith("Trying to backward through the graph a second time")
    assert f"ExpBackward0 at {_line(test_second_backward_names_the_freed_node_and_the_fixes, 'here')}" \
        in msg
    assert "(loss1 + loss2).backward()" in msg and "autograd.grad" in msg


def test_record_locations_can_be_switched_off() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with gk.autograd.set_record_locations(False):
        assert not gk.autograd.is_record_locations_enabled()
        y = x.exp()
        y.add_(1)
    assert gk.autograd.is_record_locations_enabled()
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    assert "where was not recorded" in str(info.value)
