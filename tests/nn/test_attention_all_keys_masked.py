"""Attention where every key of a query is masked (#17), against live PyTorch 2.13.

PyTorch's answer depends on the path: its math path without weights (``scaled_dot_product_attention``,
``_safe_softmax``) gives those queries 0, the explicit softmax (``need_weights=True``) and the fused
eval "fast path" (no gradient, batch_first self-attention, ...) give nan. gradkit takes the same
path decisions, so outputs (nan included) and gradients are compared exactly in float64.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

import numpy as np
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")

_X = np.random.default_rng(0).standard_normal((2, 3, 4))
_MEM = np.random.default_rng(1).standard_normal((2, 5, 4))
_KPM = np.array([[True, True, True], [False, True, False]])        # sample 0: every key padded
_MEM_KPM = np.array([[True] * 5, [False, True, False, False, True]])


def _twins(make: Any) -> tuple[Any, Any]:
    torch.manual_seed(0)
    tm = make(torch).double()
    gm = make(gk).double()
    gm.load_state_dict({k: gk.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    return tm, gm


def _run(lib: Any, module: Any, call: Any, train: bool, grad: bool) -> tuple[np.ndarray, Any, Any]:
    module.train(train)
    x = lib.tensor(_X, dtype=lib.float64, requires_grad=grad)
    ctx = contextlib.nullcontext() if grad else lib.no_grad()
    with ctx, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, weights = call(lib, module, x)
    gx = None
    if grad:
        finite = lib.tensor(np.isfinite(out.detach().numpy()))
        lib.where(finite, out, 0.0).sum().backward()
        gx = x.grad.numpy()
    return out.detach().numpy(), None if weights is None else weights.detach().numpy(), gx


def _mha(batch_first: bool, self_attn: bool, need_weights: bool) -> tuple[Any, Any]:
    def make(L: Any) -> Any:
        return L.nn.MultiheadAttention(4, 2, batch_first=batch_first)

    def call(L: Any, m: Any, x: Any) -> Any:
        q = x if batch_first else x.transpose(0, 1)
        kv = q if self_attn else q * 1.0
        return m(q, kv, kv, key_padding_mask=L.tensor(_KPM), need_weights=need_weights)
    return make, call


def _encoder_layer(norm_first: bool) -> tuple[Any, Any]:
    def make(L: Any) -> Any:
        return L.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0, batch_first=True,
                                            norm_first=norm_first)

    def call(L: Any, m: Any, x: Any) -> Any:
        return m(x, src_key_padding_mask=L.tensor(_KPM)), None
    return make, call


def _encoder() -> tuple[Any, Any]:
    def make(L: Any) -> Any:
        layer = L.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0, batch_first=True)
        return L.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def call(L: Any, m: Any, x: Any) -> Any:
        return m(x, src_key_padding_mask=L.tensor(_KPM)), None
    return make, call


def _transformer() -> tuple[Any, Any]:
    def make(L: Any) -> Any:
        return L.nn.Transformer(4, 2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8,
                                dropout=0.0, batch_first=True)

    def call(L: Any, m: Any, x: Any) -> Any:
        src = L.tensor(_MEM, dtype=L.float64)
        return m(src, x, src_key_padding_mask=L.tensor(_MEM_KPM),
                 memory_key_padding_mask=L.tensor(_MEM_KPM)), None
    return make, call


_CASES = {
    **{f"mha_bf{bf}_self{s}_w{w}": _mha(bf, s, w) for bf in (True, False) for s in (True, False)
       for w in (True, False)},
    "encoder_layer": _encoder_layer(False),
    "encoder_layer_norm_first": _encoder_layer(True),
    "encoder": _encoder(),
    "transformer": _transformer(),
}


@pytest.mark.parametrize("train,grad", [(True, True), (False, True), (False, False)])
@pytest.mark.parametrize("label", sorted(_CASES))
def test_all_keys_masked_matches_pytorch(label: str, train: bool, grad: bool) -> None:
    make, call = _CASES[label]
    tm, gm = _twins(make)
    want = _run(torch, tm, call, train, grad)
    got = _run(gk, gm, call, train, grad)
    for a, b in zip(got, want):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)     # nan where PyTorch's is


def test_sdpa_all_masked_query_attends_to_nothing() -> None:
    # PyTorch 2.13 (math and fused CPU kernels alike): 0 for the query, no nan in any gradient
    q = gk.tensor(np.random.default_rng(2).standard_normal((1, 2, 3, 4)), requires_grad=True)
    mask = gk.tensor([[False, False, False], [True, False, True], [True, True, True]])
    out = gk.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=mask)
    np.testing.assert_array_equal(out.detach().numpy()[:, :, 0], np.zeros((1, 2, 4)))
    out.sum().backward()
    assert np.isfinite(q.grad.numpy()).all()
    assert gk.autograd.gradcheck(lambda a: gk.nn.functional.scaled_dot_product_attention(
        a, a, a, attn_mask=mask), (q,))
