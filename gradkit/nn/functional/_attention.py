"""Attention functions of gradkit.nn.functional."""

from __future__ import annotations

import math

import numpy as np

from gradkit import _api as A
from gradkit._core.tensor import Tensor, _make
from gradkit.nn import functional as F
from gradkit.ops import nn as P
from ._base import _t
from gradkit._core.autocast import autocast_op

__all__ = ["scaled_dot_product_attention"]

#: the backends ``nn.attention.sdpa_kernel`` allows now (None: any); gradkit computes every
#: backend's result with the reference formula, and refuses only when neither PyTorch CPU
#: backend (MATH = 0, FLASH_ATTENTION = 1) is allowed, as PyTorch on CPU does
_ALLOWED: list[frozenset[int] | None] = [None]


# --- attention --------------------------------------------------------------------------
@autocast_op
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(q k^T * scale + mask) v`` over the last two dims (PyTorch's reference formula)."""
    allowed = _ALLOWED[0]
    if allowed is not None and not allowed & {0, 1}:
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This is likely "
                           "due to turning off both the math kernel and the fused kernels.")
    q, k, v = _t(query, "query"), _t(key, "key"), _t(value, "value")
    lq, lk = q.shape[-2], k.shape[-2]
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    if enable_gqa and q.ndim >= 3 and q.shape[-3] != k.shape[-3]:
        rep = q.shape[-3] // k.shape[-3]
        k = A.repeat_interleave(k, rep, -3)
        v = A.repeat_interleave(v, rep, -3)
    scores = A.matmul(q, A.transpose(k, -2, -1)) * s
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
        causal = np.tril(np.ones((lq, lk), bool))
        scores = A.masked_fill(scores, _make(~causal, False, None), float("-inf"))
    if attn_mask is not None:
        m = _t(attn_mask, "attn_mask")
        if m.dtype == "bool" or np.asarray(m._data).dtype == np.bool_:
            scores = A.masked_fill(scores, _make(~np.asarray(m._data), False, None), float("-inf"))
        else:
            scores = scores + m
    # PyTorch's math path: a query whose keys are all masked attends to nothing (0, not nan)
    attn = P.safe_softmax_p(scores, dim=scores.ndim - 1)
    if dropout_p > 0.0:
        attn = F.dropout(attn, dropout_p, True)
    return A.matmul(attn, v)
