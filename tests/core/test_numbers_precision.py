"""float64 in, float64 out, with no float32 constant mixed in: every table row (``OP_SPECS``)
and the nn.functional activations and losses, checked without PyTorch.

A float32 constant (``1/6`` rounded to float32, say) shows as a relative error near 3e-8. The
forward is already compared with NumPy at 1e-10 (test_ops_generic); here the gradient is
compared with a 4th-order central difference, accurate to about 1e-11 in float64 at a
step of 1e-3, so such a constant cannot hide behind gradcheck's looser tolerance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit as gk

from op_specs import OP_SPECS, OpSpec

F = gk.nn.functional
STEPS = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
RTOL = 2e-9


def _tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _scalar_fn(fn, cotangents):
    """``x -> sum_k <v_k, fn(x)_k>`` over the floating outputs, in float64 NumPy."""
    def f(*arrays):
        outs = [o for o in _tuple(fn(*[gk.tensor(a) for a in arrays])) if o.is_floating_point()]
        return sum(float(np.sum(v * o.detach().numpy())) for v, o in zip(cotangents, outs))
    return f


def _check_precision(fn, arrays: list[np.ndarray], seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    tensors = [gk.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    outs = [o for o in _tuple(fn(*tensors)) if o.is_floating_point()]
    for o in outs:
        assert o.dtype is gk.float64, f"float64 in, {o.dtype} out"
    vs = [rng.standard_normal(tuple(o.shape)) for o in outs]
    diff = [t for t in tensors if t.requires_grad]
    grads = gk.autograd.grad([o for o in outs if o.requires_grad],
                             diff, [gk.tensor(v) for v, o in zip(vs, outs) if o.requires_grad],
                             allow_unused=True)
    us = [rng.standard_normal(a.shape) for a in arrays]
    exact = 0.0
    k = 0
    for t, u in zip(tensors, us):
        if t.requires_grad:
            g = grads[k]
            k += 1
            if g is not None:
                assert g.dtype is gk.float64, f"float64 in, {g.dtype} gradient"
                exact += float(np.sum(g.numpy() * u))
    f = _scalar_fn(fn, vs)
    if not np.isfinite(f(*arrays)):
        return                              # an empty reduction's -inf: no difference to take

    def along(s):
        return f(*[a + s * u if a.dtype.kind == "f" else a for a, u in zip(arrays, us)])
    # steps from coarse to fine: a steep function needs a small step (truncation ~ h**4), a
    # large value a larger one (rounding ~ eps |f| / h); one of them must agree closely.
    fmag = abs(along(0.0)) + 1.0
    seen = []
    for h in STEPS:
        fd = (8 * (along(h) - along(-h)) - (along(2 * h) - along(-2 * h))) / (12 * h)
        tol = RTOL * max(abs(exact), abs(fd), 1.0) + 1e-15 * fmag / h
        if abs(exact - fd) <= tol:
            return
        seen.append(fd)
    raise AssertionError(f"gradient {exact!r} vs 4th-order differences {seen!r}")


PRECISION_SPECS = [s for s in OP_SPECS if s.grad and not s.refused]


@pytest.mark.parametrize("spec", PRECISION_SPECS, ids=str)
def test_table_row_gradient_keeps_float64_precision(spec: OpSpec) -> None:
    arrays = spec.sample(np.random.default_rng(0), np.float64)
    _check_precision(lambda *ts: spec.fn(*ts, *spec.args), arrays)


def _target(shape, rng, kind="real"):
    if kind == "prob":
        return gk.tensor(rng.uniform(0.1, 0.9, shape))
    if kind == "class":
        return gk.tensor(rng.integers(0, shape[1], shape[:1]))
    return gk.tensor(rng.standard_normal(shape))


_RNG = np.random.default_rng(7)
_T = _target((3, 4), _RNG)
_P = _target((3, 4), _RNG, "prob")
_C = _target((3, 4), _RNG, "class")
_V = gk.tensor(_RNG.uniform(0.5, 2.0, (3, 4)))

# nn.functional forwards built from the table (activations away from their kinks at +-1, +-3,
# 0 by the samples below); each must keep float64 through its constants.
FUNCTIONAL = {
    "hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish, "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu, "mish": F.mish,
    "softplus": F.softplus, "softplus_beta": lambda x: F.softplus(x, beta=2.0),
    "elu": F.elu, "selu": F.selu, "celu": lambda x: F.celu(x, alpha=0.7),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1), "logsigmoid": F.logsigmoid,
    "softsign": F.softsign, "tanhshrink": F.tanhshrink, "softshrink": F.softshrink,
    "hardshrink": F.hardshrink, "relu6": F.relu6, "hardtanh": F.hardtanh,
    "sigmoid": F.sigmoid, "tanh": F.tanh, "softmin": lambda x: F.softmin(x, 1),
    "log_softmax": lambda x: F.log_softmax(x, 1), "normalize": lambda x: F.normalize(x, dim=1),
    "layer_norm": lambda x: F.layer_norm(x, (4,)),
    "mse_loss": lambda x: F.mse_loss(x, _T), "l1_loss": lambda x: F.l1_loss(x, _T),
    "smooth_l1_loss": lambda x: F.smooth_l1_loss(x, _T, beta=0.5),
    "huber_loss": lambda x: F.huber_loss(x, _T, delta=0.5),
    "binary_cross_entropy": lambda x: F.binary_cross_entropy(F.sigmoid(x), _P),
    "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, _P),
    "cross_entropy": lambda x: F.cross_entropy(x, _C),
    "cross_entropy_smooth": lambda x: F.cross_entropy(x, _C, label_smoothing=0.1),
    "nll_loss": lambda x: F.nll_loss(F.log_softmax(x, 1), _C),
    "kl_div": lambda x: F.kl_div(F.log_softmax(x, 1), _P, reduction="batchmean"),
    "poisson_nll": lambda x: F.poisson_nll_loss(x, _V),
    "gaussian_nll": lambda x: F.gaussian_nll_loss(x, _T, _V),
    "soft_margin": lambda x: F.soft_margin_loss(x, _T.sign()),
    "cosine_similarity": lambda x: F.cosine_similarity(x, _T),
    "pairwise_distance": lambda x: F.pairwise_distance(x, _T),
}


def _away_from_kinks(shape, rng):
    """Values in [-3.9, 3.9] at least 0.15 from 0, +-0.5, +-1, +-3 and +-6 (the kinks)."""
    x = rng.uniform(-3.9, 3.9, shape)
    kinks = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0])
    near = np.min(np.abs(x[..., None] - kinks), axis=-1) < 0.15
    return np.where(near, x + 0.3, x)


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional_keeps_float64_precision(name):
    _check_precision(FUNCTIONAL[name], [_away_from_kinks((3, 4), np.random.default_rng(1))])


def test_hardsigmoid_slope_is_one_sixth_in_float64():
    # PyTorch 2.13's kernel uses a float32 1/6 here (0.1666666716337204, relative error 3e-8);
    # gradkit keeps the input's precision.
    x = gk.tensor([0.3, -1.0, 2.5], dtype=gk.float64, requires_grad=True)
    F.hardsigmoid(x).sum().backward()
    assert x.grad.tolist() == [1.0 / 6.0] * 3
    assert F.hardsigmoid(x).tolist() == [(0.3 + 3) / 6, (-1.0 + 3) / 6, (2.5 + 3) / 6]


class _Float32Sixth(gk.autograd.Function):
    """x / 6 whose rule uses a float32 1/6: what these checks must catch."""

    @staticmethod
    def forward(ctx, x):
        return x / 6.0

    @staticmethod
    def backward(ctx, g):
        return g * float(np.float32(1.0 / 6.0))


def test_the_check_catches_a_float32_constant_in_a_rule():
    x = [_away_from_kinks((3, 4), np.random.default_rng(1))]
    _check_precision(lambda t: t / 6.0, x)
    with pytest.raises(AssertionError, match="4th-order differences"):
        _check_precision(_Float32Sixth.apply, x)
