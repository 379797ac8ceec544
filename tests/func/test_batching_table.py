"""Every row of the derivative table states how vmap batches it (issue #15).

A row names its batching kind on the row (``defop(..., batch=...)``; ``jvp=ELEMENTWISE`` rows
default to ``"elementwise"``) or is listed in ``PER_EXAMPLE``, the rows vmap runs per example.
The batched VJP kinds (``defop(..., batched_vjp=...)``) likewise name a rule that exists.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.func as gf
from gradkit.autograd import _batched
from gradkit.func import _batching_rules
from gradkit.ops._registry import BATCH_KINDS, BATCHED_VJP_KINDS, ELEMENTWISE, REGISTRY, defop


def test_every_row_has_a_batching_rule_or_falls_back_by_name() -> None:
    without = {name for name, prim in REGISTRY.items() if prim.batch is None}
    assert without == set(_batching_rules.PER_EXAMPLE)


def test_every_batch_kind_has_a_rule() -> None:
    assert set(_batching_rules.KINDS) == set(BATCH_KINDS)
    for name, prim in REGISTRY.items():
        assert prim.batch is None or prim.batch in _batching_rules.KINDS, name


def test_every_batched_vjp_kind_has_a_rule() -> None:
    # "unbind" (several outputs, so several cotangents) is handled by _batched._node_batched
    assert set(_batched._BATCH_RULES) | {"broadcast", "unbind"} == set(BATCHED_VJP_KINDS)
    for name, prim in REGISTRY.items():
        assert prim.batched_vjp is None or prim.batched_vjp in BATCHED_VJP_KINDS, name


def test_elementwise_rows_default_to_the_elementwise_rule() -> None:
    for name, prim in REGISTRY.items():
        if prim.jvp is ELEMENTWISE:
            assert prim.batch == "elementwise", name


def test_an_unknown_kind_is_refused_when_the_row_is_declared() -> None:
    with pytest.raises(ValueError, match="unknown batch kind 'reductoin'"):
        defop("_test_typo_row", np.sum, batch="reductoin")
    with pytest.raises(ValueError, match="unknown batched_vjp kind 'summ'"):
        defop("_test_typo_row", np.sum, batched_vjp="summ")
    assert "_test_typo_row" not in REGISTRY


@pytest.mark.parametrize("fn, ref", [
    (lambda x: gk.sum(x, 0), lambda a: a.sum(0)),                                # reduction
    (lambda x: gk.cumsum(x, 1), lambda a: np.cumsum(a, 1)),                      # int_dim
    (lambda x: gk.argmax(x), lambda a: np.argmax(a)),                            # arg_reduction
    (lambda x: x.reshape(9), lambda a: a.reshape(9)),                            # reshape
    (lambda x: x.permute(1, 0), lambda a: a.T),                                  # dims
    (lambda x: gk.tril(x), lambda a: np.tril(a)),                                # trailing
    (lambda x: x @ x.T, lambda a: a @ a.T),                                      # matmul
    (lambda x: gk.exp(x) * 2.0 - x, lambda a: np.exp(a) * 2.0 - a),              # elementwise
    (lambda x: gk.trace(x), lambda a: np.trace(a)),                              # PER_EXAMPLE
])
def test_vmap_matches_numpy_per_example(fn, ref) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3, 3))
    out = gf.vmap(fn)(gk.tensor(a))
    want = np.stack([ref(row) for row in a])
    np.testing.assert_allclose(np.asarray(out.detach()), want, rtol=1e-12, atol=1e-12)
