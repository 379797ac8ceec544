"""set_subgradient_convention: the gradient at kinks under 'torch', 'jax' and 'min_norm'.

Expected values: PyTorch 2.13 and JAX 0.10 (recorded in /work/shared/ANCHORS.md §a.2 and checked
live against JAX below when it is installed), and the minimum-norm element of the subdifferential.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Callable

import pytest

import gradkit as gk


def grad_at(f: Callable[[Any], Any], x0: list[float], convention: str) -> list[float]:
    x = gk.tensor(x0, dtype=gk.float64, requires_grad=True)
    with gk.autograd.set_subgradient_convention(convention):
        f(x).sum().backward()
    return x.grad.tolist()


CASES = {
    "abs at 0": (gk.abs, [0.0], {"torch": [0.0], "jax": [1.0], "min_norm": [0.0]}),
    "clamp at its bounds": (lambda x: gk.clamp(x, 0.0, 1.0), [0.0, 0.5, 1.0, 2.0],
                            {"torch": [1.0, 1.0, 1.0, 0.0], "jax": [0.5, 1.0, 0.5, 0.0],
                             "min_norm": [0.0, 1.0, 0.0, 0.0]}),
    "clamp with min only": (lambda x: gk.clamp(x, min=0.0), [0.0, 1.0],
                            {"torch": [1.0, 1.0], "jax": [0.5, 1.0], "min_norm": [0.0, 1.0]}),
    "maximum tie": (lambda x: gk.maximum(x, gk.tensor(1.0, dtype=gk.float64)), [1.0],
                    {"torch": [0.5], "jax": [0.5], "min_norm": [0.5]}),
    "relu at 0": (gk.relu, [0.0], {"torch": [0.0], "jax": [0.0], "min_norm": [0.0]}),
}


@pytest.mark.parametrize("convention", ["torch", "jax", "min_norm"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_at_kinks(case: str, convention: str) -> None:
    f, x0, expected = CASES[case]
    assert grad_at(f, x0, convention) == expected[convention]


def test_norm_of_zero_vector() -> None:
    assert grad_at(lambda x: x.norm(), [0.0, 0.0], "torch") == [0.0, 0.0]
    assert grad_at(lambda x: x.norm(), [0.0, 0.0], "min_norm") == [0.0, 0.0]
    assert all(math.isnan(v) for v in grad_at(lambda x: x.norm(), [0.0, 0.0], "jax"))
    # away from the kink every convention agrees
    assert grad_at(lambda x: x.norm(), [3.0, 4.0], "jax") == pytest.approx([0.6, 0.8])


def test_default_and_restore() -> None:
    assert gk.autograd.get_subgradient_convention() == "torch"
    with gk.autograd.set_subgradient_convention("jax"):
        assert gk.autograd.get_subgradient_convention() == "jax"
        with gk.autograd.set_subgradient_convention("min_norm"):
            assert gk.autograd.get_subgradient_convention() == "min_norm"
        assert gk.autograd.get_subgradient_convention() == "jax"
    assert gk.autograd.get_subgradient_convention() == "torch"
    gk.autograd.set_subgradient_convention("jax")          # a plain call switches
    try:
        assert gk.autograd.get_subgradient_convention() == "jax"
    finally:
        gk.autograd.set_subgradient_convention("torch")


def test_decorator_and_thread_locality() -> None:
    @gk.autograd.set_subgradient_convention("jax")
    def inside() -> str:
        return gk.autograd.get_subgradient_convention()

    assert inside() == "jax" and gk.autograd.get_subgradient_convention() == "torch"
    seen: list[str] = []
    with gk.autograd.set_subgradient_convention("min_norm"):
        t = threading.Thread(target=lambda: seen.append(gk.autograd.get_subgradient_convention()))
        t.start()
        t.join()
    assert seen == ["torch"]


def test_unknown_convention_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown subgradient convention 'tf'"):
        gk.autograd.set_subgradient_convention("tf")


def test_matches_live_jax() -> None:
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    assert grad_at(gk.abs, [0.0], "jax") == [float(jax.grad(jnp.abs)(0.0))]
    for x0 in (0.0, 1.0):
        theirs = float(jax.grad(lambda x: jnp.clip(x, 0.0, 1.0))(x0))
        assert grad_at(lambda x: gk.clamp(x, 0.0, 1.0), [x0], "jax") == [theirs]
