"""Channels-last in, channels-last out: the layouts PyTorch 2.13's CPU kernels give.

Strides (in elements) recorded from PyTorch 2.13.0+cpu for a (2, 8, 6, 6) float32 input laid
out channels-last; checked again against a live torch where one is installed. The values do
not depend on the layout (compared with the contiguous input's results).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit as gk

RECORDED = {
    "conv2d": (64, 1, 16, 4),
    "conv2d_weight_cl": (64, 1, 16, 4),
    "conv2d_bias_padding": (144, 1, 24, 4),
    "conv2d_contiguous_input_cl_weight": (64, 1, 16, 4),
    "batch_norm": (288, 1, 48, 8),
    "relu": (288, 1, 48, 8),
    "add": (288, 1, 48, 8),
    "add_scalar": (288, 1, 48, 8),
    "max_pool2d": (72, 1, 24, 8),
    "avg_pool2d": (72, 1, 24, 8),
    "adaptive_avg_pool2d": (72, 1, 24, 8),
    "adaptive_max_pool2d": (72, 1, 24, 8),
    "upsample_nearest": (1152, 1, 96, 8),
    "upsample_bilinear": (1152, 1, 96, 8),
    "sigmoid": (288, 1, 48, 8),
}


def _cases(lib: Any, x: Any, w: Any, b: Any) -> dict[str, Any]:
    F = lib.nn.functional
    wcl = w.contiguous(memory_format=lib.channels_last)
    return {
        "conv2d": lambda: F.conv2d(x, w),
        "conv2d_weight_cl": lambda: F.conv2d(x, wcl),
        "conv2d_bias_padding": lambda: F.conv2d(x, wcl, b, padding=1),
        "conv2d_contiguous_input_cl_weight": lambda: F.conv2d(x.contiguous(), wcl),
        "batch_norm": lambda: F.batch_norm(x, None, None, training=True),
        "relu": lambda: F.relu(x),
        "add": lambda: x + x,
        "add_scalar": lambda: x + 1,
        "max_pool2d": lambda: F.max_pool2d(x, 2),
        "avg_pool2d": lambda: F.avg_pool2d(x, 2),
        "adaptive_avg_pool2d": lambda: F.adaptive_avg_pool2d(x, (3, 3)),
        "adaptive_max_pool2d": lambda: F.adaptive_max_pool2d(x, (3, 3)),
        "upsample_nearest": lambda: F.interpolate(x, scale_factor=2),
        "upsample_bilinear": lambda: F.interpolate(x, scale_factor=2, mode="bilinear"),
        "sigmoid": lambda: x.sigmoid(),
    }


def _inputs(lib: Any, channels_last: bool = True) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((2, 8, 6, 6)), dtype=lib.float32)
    if channels_last:
        x = x.contiguous(memory_format=lib.channels_last)
    w = lib.tensor(rng.standard_normal((4, 8, 3, 3)), dtype=lib.float32)
    b = lib.tensor(rng.standard_normal(4), dtype=lib.float32)
    return x, w, b


@pytest.mark.parametrize("label", sorted(RECORDED))
def test_channels_last_strides(label: str) -> None:
    out = _cases(gk, *_inputs(gk))[label]()
    assert tuple(out.stride()) == RECORDED[label]
    assert out.is_contiguous(memory_format=gk.channels_last)
    same = _cases(gk, *_inputs(gk, channels_last=False))[label]()
    np.testing.assert_allclose(out.detach().numpy(), same.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_conv2d_gradients_keep_the_layout() -> None:
    x, w, _ = _inputs(gk)
    x.requires_grad_()
    gk.nn.functional.conv2d(x, w.contiguous(memory_format=gk.channels_last)).sum().backward()
    assert tuple(x.grad.stride()) == (288, 1, 48, 8)


def test_grad_accumulated_with_create_graph_keeps_channels_last() -> None:
    # torch: (60, 1, 15, 3) after a second backward(create_graph=True), and after a first one
    p = gk.randn(2, 3, 4, 5).to(memory_format=gk.channels_last).requires_grad_()
    (p * 2).sum().backward()
    (p * 1).sum().backward(create_graph=True)
    assert tuple(p.grad.stride()) == (60, 1, 15, 3)
    np.testing.assert_array_equal(p.grad.detach().numpy(), np.full((2, 3, 4, 5), 3.0))
    q = gk.randn(2, 3, 4, 5).to(memory_format=gk.channels_last).requires_grad_()
    w = gk.tensor(2.0, requires_grad=True)
    (q * w).sum().backward(create_graph=True)
    assert tuple(q.grad.stride()) == (60, 1, 15, 3)
    g, = gk.autograd.grad(q.grad.sum(), w)                      # the layout kept the graph
    assert g.item() == 120.0


def test_recorded_strides_are_torchs() -> None:
    torch = pytest.importorskip("torch")
    cases = _cases(torch, *_inputs(torch))
    for label, stride in RECORDED.items():
        assert tuple(cases[label]().stride()) == stride, label
