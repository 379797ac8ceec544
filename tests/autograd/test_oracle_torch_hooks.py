"""Hooks (and custom Function backwards) that change a gradient's size, type or count: the same
error type and message as a live PyTorch (``torch.`` read as ``gradkit.``). Skipped when PyTorch
is not installed."""

from __future__ import annotations

import warnings
from typing import Any, Callable

import pytest

import gradkit

torch = pytest.importorskip("torch")


def _leaf(t: Any, hook: Callable[[Any], Any], dtype: str = "float32") -> None:
    x = t.ones(3, dtype=getattr(t, dtype), requires_grad=True)
    x.register_hook(hook)
    (x * 2.0).sum().backward()


def _nonleaf(t: Any, hook: Callable[[Any], Any], dtype: str = "float32") -> None:
    x = t.ones(2, 3, dtype=getattr(t, dtype), requires_grad=True)
    y = x * 2.0
    y.register_hook(hook)
    (y * 3.0).sum().backward()


def _grad_api(t: Any, hook: Callable[[Any], Any], dtype: str = "float64") -> None:
    x = t.ones(3, dtype=getattr(t, dtype), requires_grad=True)
    x.register_hook(hook)
    t.autograd.grad((x * 2.0).sum(), x)


def _prehook(t: Any, hook: Callable[[Any], Any], dtype: str = "float32") -> None:
    y = t.ones(3, dtype=getattr(t, dtype), requires_grad=True) * 2.0
    y.grad_fn.register_prehook(hook)
    y.sum().backward()


def _posthook(t: Any, hook: Callable[[Any, Any], Any], dtype: str = "float32") -> None:
    a = t.ones(3, dtype=getattr(t, dtype), requires_grad=True)
    b = t.ones(3, dtype=getattr(t, dtype), requires_grad=True)
    z = a * b
    z.grad_fn.register_hook(hook)
    z.sum().backward()


def _custom(t: Any, backward: Callable[[Any], Any]) -> None:
    class Twice(t.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 2.0

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return backward(g)

    x = t.ones(3, requires_grad=True)
    Twice.apply(x).sum().backward()


CASES = {
    "leaf_sum": lambda t: _leaf(t, lambda g: g.sum()),
    "leaf_bigger": lambda t: _leaf(t, lambda g: t.ones(2, 3)),
    "leaf_float": lambda t: _leaf(t, lambda g: g.float(), "float64"),
    "leaf_double": lambda t: _leaf(t, lambda g: g.double()),
    "leaf_long": lambda t: _leaf(t, lambda g: g.long()),
    "leaf_complex": lambda t: _leaf(t, lambda g: g.to(t.complex128)),
    "leaf_int": lambda t: _leaf(t, lambda g: 5),
    "leaf_ndarray": lambda t: _leaf(t, lambda g: g.numpy()),
    "leaf_ok": lambda t: _leaf(t, lambda g: g * 3.0),
    "nonleaf_row": lambda t: _nonleaf(t, lambda g: g[0:1]),
    "nonleaf_float": lambda t: _nonleaf(t, lambda g: g.float(), "float64"),
    "nonleaf_ok": lambda t: _nonleaf(t, lambda g: g + 1.0),
    "grad_api_sum": lambda t: _grad_api(t, lambda g: g.sum()),
    "prehook_sum": lambda t: _prehook(t, lambda go: (go[0].sum(),)),
    "prehook_count": lambda t: _prehook(t, lambda go: (go[0], go[0])),
    "prehook_double": lambda t: _prehook(t, lambda go: (go[0].double(),)),
    "posthook_sum": lambda t: _posthook(t, lambda gi, go: (gi[0].sum(), gi[1])),
    "posthook_double": lambda t: _posthook(t, lambda gi, go: (gi[0].double(), gi[1])),
    "custom_sum": lambda t: _custom(t, lambda g: g.sum()),
    "custom_slice": lambda t: _custom(t, lambda g: g[:2]),
    "custom_count": lambda t: _custom(t, lambda g: (g, g)),
    "custom_extra_none": lambda t: _custom(t, lambda g: (g, None)),
    "custom_broadcast": lambda t: _custom(t, lambda g: g.expand(2, 3)),
}


def _outcome(t: Any, case: Callable[[Any], None]) -> tuple[str, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            case(t)
    except Exception as exc:                  # compared below, type and message
        return type(exc).__name__, str(exc).replace("torch.", "gradkit.")
    return "ok", ""


@pytest.mark.parametrize("name", list(CASES))
def test_hook_errors_match_pytorch(name: str) -> None:
    assert _outcome(gradkit, CASES[name]) == _outcome(torch, CASES[name])
