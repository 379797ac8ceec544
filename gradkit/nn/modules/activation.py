"""Activation modules: thin wrappers of ``gradkit.nn.functional``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradkit import _api as A
from gradkit._core import grad_mode
from gradkit._core.tensor import Tensor, _make
from gradkit.nn import init
from gradkit.ops import nn as P

from .. import functional as F
from .linear import NonDynamicallyQuantizableLinear, _empty
from .module import Module

__all__ = [
    "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Softplus",
    "Softsign", "Hardtanh", "Hardsigmoid", "Hardswish", "Sigmoid", "Tanh", "LogSigmoid", "Softmax",
    "LogSoftmax", "Softmin", "GLU", "Threshold", "Tanhshrink", "Softshrink", "Hardshrink", "PReLU",
    "Softmax2d", "MultiheadAttention", "RReLU",
]


def _simple(name: str, fn: Any, doc: str) -> type:
    def forward(self: Module, input: Any) -> Any:
        return fn(input)
    return type(name, (Module,), {"forward": forward, "__doc__": doc, "__module__": __name__})


Sigmoid = _simple("Sigmoid", F.sigmoid, "Elementwise ``1 / (1 + exp(-x))``.")
Tanh = _simple("Tanh", F.tanh, "Elementwise hyperbolic tangent.")
LogSigmoid = _simple("LogSigmoid", F.logsigmoid, "Elementwise ``log(sigmoid(x))``, computed stably.")
Softsign = _simple("Softsign", F.softsign, "Elementwise ``x / (1 + |x|)``.")


class _Inplace(Module):
    _fn: Any = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """Elementwise ``max(0, x)``."""
    _fn = staticmethod(F.relu)


class ReLU6(_Inplace):
    _fn = staticmethod(F.relu6)


class SELU(_Inplace):
    _fn = staticmethod(F.selu)


class SiLU(_Inplace):
    _fn = staticmethod(F.silu)


class Mish(_Inplace):
    _fn = staticmethod(F.mish)


class Hardsigmoid(_Inplace):
    _fn = staticmethod(F.hardsigmoid)


class Hardswish(_Inplace):
    _fn = staticmethod(F.hardswish)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Any) -> Any:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class RReLU(Module):
    """Randomized leaky ReLU: negative slopes drawn from ``U(lower, upper)`` while training
    (from the shared generator), their mean ``(lower + upper) / 2`` in eval mode."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Any) -> Any:
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Any) -> Any:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    def forward(self, input: Any) -> Any:
        return F.celu(input, self.alpha, self.inplace)


class GELU(Module):
    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Any) -> Any:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Any) -> Any:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Any) -> Any:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class _DimModule(Module):
    _fn: Any = None

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Any) -> Any:
        return type(self)._fn(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_DimModule):
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    _fn = staticmethod(F.softmax)


class LogSoftmax(_DimModule):
    """``log(softmax(x))`` along ``dim``, computed stably."""
    _fn = staticmethod(F.log_softmax)


class Softmin(_DimModule):
    _fn = staticmethod(F.softmin)


class GLU(Module):
    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Any) -> Any:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _Fn(Module):
    """A module that calls ``F.<_name>(input, **self._kw)``."""

    _name = ""
    _keys: tuple[str, ...] = ()

    def forward(self, *inputs: Any) -> Any:
        return getattr(F, self._name)(*inputs, **{k: getattr(self, k) for k in self._keys})

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)}" for k in self._keys)


class Threshold(_Fn):
    _name, _keys = "threshold", ("threshold", "value", "inplace")

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace


class Tanhshrink(_Fn):
    _name = "tanhshrink"


class Softshrink(_Fn):
    _name, _keys = "softshrink", ("lambd",)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd


class Hardshrink(Softshrink):
    _name = "hardshrink"


class PReLU(Module):
    """``max(0, x) + weight * min(0, x)`` with ``num_parameters`` learnable slopes (``init`` each)."""

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = _empty(num_parameters, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Any) -> Any:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softmax2d(Module):
    """Softmax over the channel dim of ``(N, C, H, W)`` or ``(C, H, W)``."""

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead")
        return F.softmax(input, -3)


def _float_mask(mask: Any, like: Tensor) -> Tensor | None:
    """PyTorch's canonical mask: a bool mask (True = masked) as 0 / -inf, a float mask as is."""
    if mask is None:
        return None
    m = mask if isinstance(mask, Tensor) else _make(np.asarray(mask), False, None)
    data = np.asarray(m._data)
    if data.dtype == np.bool_:
        return F._const(np.where(data, -np.inf, 0.0), like)
    if data.dtype.kind not in "fV":
        raise AssertionError("only bool and floating types of masks are supported")
    return m


class MultiheadAttention(Module):
    """Multi-head attention, PyTorch's parameters (``in_proj_weight``, ``out_proj``, ...) and math path."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        assert self.head_dim * num_heads == self.embed_dim, "embed_dim must be divisible by num_heads"
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = _empty(embed_dim, embed_dim, dtype=dtype)
            self.k_proj_weight = _empty(embed_dim, self.kdim, dtype=dtype)
            self.v_proj_weight = _empty(embed_dim, self.vdim, dtype=dtype)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = _empty(3 * embed_dim, embed_dim, dtype=dtype)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = _empty(3 * embed_dim, dtype=dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = _empty(1, 1, embed_dim, dtype=dtype)
            self.bias_v = _empty(1, 1, embed_dim, dtype=dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _fast_path(self, query: Tensor, key: Tensor, value: Tensor, attn_mask: Any, key_padding_mask: Any,
                   batched: bool) -> bool:
        """Whether PyTorch 2.13 would run its fused kernel here (``why_not_fast_path`` empty): its
        values are the math path's except that a query whose keys are all masked gets nan."""
        if _is_float_mask(attn_mask) or _is_float_mask(key_padding_mask):
            return False
        if not batched or query is not key or key is not value or self.training or self.num_heads % 2:
            return False
        if not self.batch_first or self.bias_k is not None or self.bias_v is not None:
            return False
        if self.add_zero_attn or not self._qkv_same_embed_dim or self.in_proj_bias is None:
            return False
        if query.dtype != self.in_proj_weight.dtype or query.dtype != self.in_proj_bias.dtype:
            return False
        args = (query, self.in_proj_weight, self.in_proj_bias, self.out_proj.weight, self.out_proj.bias)
        return not (grad_mode.is_grad_enabled() and any(a is not None and a.requires_grad for a in args))

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        batched = query.dim() == 3
        if query.dim() not in (2, 3):
            raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                                 f"{query.dim()}-D query tensor")
        fast = not need_weights and self._fast_path(query, key, value, attn_mask, key_padding_mask, batched)
        if self.batch_first and batched:
            query, key, value = (A.transpose(t, 0, 1) for t in (query, key, value))
        if not batched:
            query, key, value = (A.unsqueeze(t, 1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = A.unsqueeze(_mask_tensor(key_padding_mask), 0)
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                               "module method `generate_square_subsequent_mask` to create this mask.")
        tgt_len, bsz, e = query.shape
        h, hd = self.num_heads, self.head_dim
        if e != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but got {e}")
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        if self._qkv_same_embed_dim:
            wq, wk, wv = self.in_proj_weight[:e], self.in_proj_weight[e:2 * e], self.in_proj_weight[2 * e:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        q, k, v = F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)
        mask = _float_mask(attn_mask, q)
        if mask is not None and mask.ndim == 2:
            if tuple(mask.shape) != (tgt_len, key.shape[0]):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(mask.shape)}, but should be "
                                   f"{(tgt_len, key.shape[0])}.")
            mask = A.unsqueeze(mask, 0)
        kpm = _float_mask(key_padding_mask, q)
        if self.bias_k is not None:
            k = A.cat([k, A.expand(self.bias_k, (1, bsz, e))], 0)
            v = A.cat([v, A.expand(self.bias_v, (1, bsz, e))], 0)
            mask = None if mask is None else F.pad(mask, (0, 1))
            kpm = None if kpm is None else F.pad(kpm, (0, 1))
        q = A.transpose(A.reshape(q, (tgt_len, bsz * h, hd)), 0, 1)
        k = A.transpose(A.reshape(k, (k.shape[0], bsz * h, hd)), 0, 1)
        v = A.transpose(A.reshape(v, (v.shape[0], bsz * h, hd)), 0, 1)
        if self.add_zero_attn:
            k = A.cat([k, F._const(np.zeros((bsz * h, 1, hd)), k)], 1)
            v = A.cat([v, F._const(np.zeros((bsz * h, 1, hd)), v)], 1)
            mask = None if mask is None else F.pad(mask, (0, 1))
            kpm = None if kpm is None else F.pad(kpm, (0, 1))
        src_len = k.shape[1]
        if kpm is not None:
            kpm = A.reshape(A.expand(A.reshape(kpm, (bsz, 1, 1, src_len)), (bsz, h, 1, src_len)),
                            (bsz * h, 1, src_len))
            mask = kpm if mask is None else mask + kpm
        scores = A.matmul(q * (1.0 / math.sqrt(hd)), A.transpose(k, 1, 2))
        if mask is not None:
            scores = scores + mask
        if need_weights or fast:
            attn = F.softmax(scores, -1)
        else:
            # PyTorch's slow path without weights runs scaled_dot_product_attention, whose
            # softmax gives 0 (not nan) to a query whose keys are all masked
            attn = P.safe_softmax_p(scores, dim=2)
        if self.dropout > 0.0 and self.training:
            attn = F.dropout(attn, self.dropout, True)
        out = A.matmul(attn, v)
        out = A.reshape(A.transpose(out, 0, 1), (tgt_len * bsz, e))
        out = A.reshape(F.linear(out, self.out_proj.weight, self.out_proj.bias), (tgt_len, bsz, e))
        if self.batch_first and batched:
            out = A.transpose(out, 0, 1)
        weights = None
        if need_weights:
            weights = A.reshape(attn, (bsz, h, tgt_len, src_len))
            if average_attn_weights:
                weights = A.mean(weights, 1)
        if not batched:
            out = A.squeeze(out, 1)
            weights = None if weights is None else A.squeeze(weights, 0)
        return out, weights


def _is_float_mask(mask: Any) -> bool:
    return mask is not None and np.dtype(_mask_tensor(mask)._data.dtype).kind == "f"


def _mask_tensor(mask: Any) -> Tensor:
    return mask if isinstance(mask, Tensor) else _make(np.asarray(mask), False, None)
