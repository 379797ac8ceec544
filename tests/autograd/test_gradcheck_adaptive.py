"""gradcheck without eps on float32 code, and the node-by-node report of a wrong rule."""

from __future__ import annotations

import warnings

import pytest

import gradkit as gk
from gradkit.ops import elementwise as E


def f(t: gk.Tensor) -> gk.Tensor:
    return (gk.tanh(t) * gk.exp(t / 3) + t.norm()).sum()


def test_float32_code_passes_without_eps_and_without_warnings() -> None:
    x = gk.tensor([0.3, -1.2, 2.0], requires_grad=True)            # float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gk.autograd.gradcheck(f, (x,))


def test_fixed_eps_in_float32_gives_the_false_failure_the_adaptive_check_avoids() -> None:
    x = gk.tensor([0.3, -1.2, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="only reliable in float64"):
        assert not gk.autograd.gradcheck(f, (x,), eps=1e-6, raise_exception=False)


@pytest.mark.parametrize("dtype", [gk.float32, gk.float64])
def test_a_wrong_rule_is_named(dtype: gk.dtype, monkeypatch: pytest.MonkeyPatch) -> None:
    # sabotage sin's derivative: g * sin(x) instead of g * cos(x)
    monkeypatch.setattr(E.sin.prim, "vjp", (lambda g, ans, x: g * E.sin(x),))
    x = gk.tensor([0.3, 0.9], dtype=dtype, requires_grad=True)
    with pytest.raises(gk.autograd.GradcheckError) as info:
        gk.autograd.gradcheck(lambda t: (gk.exp(t) * gk.sin(t * 2.0)).sum(), (x,))
    message = str(info.value)
    assert message.startswith("Jacobian mismatch for output 0 with respect to input 0")
    assert "first operation whose derivative disagrees with finite differences is " \
           "`SinBackward0`" in message
    assert "test_gradcheck_adaptive.py" in message


def test_correct_rules_give_no_blame() -> None:
    from gradkit.autograd._locate import first_disagreeing_op
    x = gk.tensor([0.3, 0.9], dtype=gk.float64, requires_grad=True)
    assert first_disagreeing_op(lambda t: (gk.exp(t) * gk.sin(t * 2.0)).sum(), (x,)) == ""
