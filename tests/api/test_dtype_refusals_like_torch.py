"""Integer, bool and complex inputs: gradkit refuses what PyTorch refuses, in its words.

The sweep calls every function of ``torch``'s namespace that gradkit also has with one and two
int64, bool and complex64 tensors, in both libraries, and compares "raises" with "returns" and
the result's dtype. ``DIFFERS`` lists what still differs (most: gradkit computes where PyTorch
has no kernel); nothing else may. The recorded tests below hold PyTorch 2.13's messages without
a live torch.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import pytest

import gradkit as gk

VALUES = {"int64": [3, -2, 0, 5], "bool": [True, False, True, True],
          "complex64": [1 + 2j, -1j, 0.5, 2 - 1j]}

#: not elementwise functions of tensors (creation, state, settings)
SKIP = {
    "manual_seed", "set_default_dtype", "set_printoptions", "use_deterministic_algorithms", "load",
    "save", "compile", "empty", "zeros", "ones", "rand", "randn", "randint", "randperm", "arange",
    "linspace", "logspace", "full", "eye", "tensor", "as_tensor", "from_numpy", "set_grad_enabled",
    "no_grad", "enable_grad", "inference_mode", "set_default_device", "set_num_threads",
    "set_rng_state", "seed", "initial_seed", "get_rng_state", "is_grad_enabled",
    "is_inference_mode_enabled", "set_float32_matmul_precision", "get_default_dtype",
    "set_flush_denormal", "set_warn_always", "are_deterministic_algorithms_enabled", "is_tensor",
    "is_storage", "numel", "typename", "get_num_threads", "set_anomaly_enabled",
    "is_anomaly_enabled", "bernoulli", "normal", "rand_like", "randn_like", "broadcast_shapes",
}

#: (function, dtype, number of tensors) whose outcome still differs from PyTorch's (erf and erfc
#: of complex numbers are gradkit's own; kron of 1-D tensors is refused; the rest compute where
#: PyTorch has no kernel, or give another dtype)
DIFFERS: set[tuple[str, str, int]] = {
    ('binary_cross_entropy_with_logits', 'bool', 2),
    ('binary_cross_entropy_with_logits', 'complex64', 2),
    ('binary_cross_entropy_with_logits', 'int64', 2), ('bucketize', 'bool', 2),
    ('bucketize', 'complex64', 2), ('celu', 'bool', 1), ('celu', 'complex64', 1),
    ('celu', 'int64', 1), ('corrcoef', 'bool', 1), ('cov', 'bool', 1),
    ('cumulative_trapezoid', 'bool', 1), ('cumulative_trapezoid', 'bool', 2),
    ('dist', 'int64', 2), ('dot', 'bool', 2), ('erf', 'complex64', 1), ('erfc', 'complex64', 1),
    ('full_like', 'bool', 2), ('full_like', 'complex64', 2), ('full_like', 'int64', 2),
    ('gradient', 'bool', 1), ('hardshrink', 'bool', 1), ('hardshrink', 'complex64', 1),
    ('hardshrink', 'int64', 1), ('hinge_embedding_loss', 'int64', 2), ('hsplit', 'bool', 2),
    ('hsplit', 'int64', 2), ('inner', 'bool', 2), ('is_autocast_enabled', 'bool', 1),
    ('is_autocast_enabled', 'complex64', 1), ('is_autocast_enabled', 'int64', 1),
    ('isin', 'bool', 2), ('isin', 'complex64', 2), ('kl_div', 'int64', 2), ('kron', 'bool', 2),
    ('kron', 'complex64', 2), ('kron', 'int64', 2), ('logaddexp', 'complex64', 2),
    ('logit', 'int64', 2), ('matmul', 'bool', 2), ('nan_to_num', 'bool', 2),
    ('nan_to_num', 'int64', 2), ('positive', 'bool', 1),
    ('pow', 'bool', 2), ('prelu', 'bool', 2), ('prelu', 'complex64', 2), ('prelu', 'int64', 2),
    ('repeat_interleave', 'bool', 1), ('repeat_interleave', 'bool', 2),
    ('result_type', 'bool', 1), ('result_type', 'complex64', 1), ('result_type', 'int64', 1),
    ('roll', 'bool', 2), ('roll', 'complex64', 2), ('roll', 'int64', 2), ('rrelu', 'bool', 1),
    ('rrelu', 'bool', 2), ('rrelu', 'complex64', 1), ('rrelu', 'complex64', 2),
    ('rrelu', 'int64', 1), ('rrelu', 'int64', 2), ('searchsorted', 'bool', 2),
    ('searchsorted', 'complex64', 2), ('selu', 'bool', 1), ('selu', 'complex64', 1),
    ('selu', 'int64', 1), ('tensor_split', 'bool', 2), ('tile', 'bool', 1),
    ('tile', 'complex64', 1), ('tile', 'int64', 1), ('trapezoid', 'bool', 1),
    ('trapezoid', 'bool', 2), ('trapz', 'bool', 1), ('trapz', 'bool', 2), ('unique', 'bool', 2),
    ('unique', 'int64', 2), ('vdot', 'bool', 2),
}


def _outcome(fn: Any, args: list[Any]) -> tuple[str, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fn(*args)
    except Exception as e:                               # noqa: BLE001 - any refusal counts
        return "raise", type(e).__name__
    if isinstance(r, tuple):
        r = r[0]
    d = getattr(r, "dtype", None)
    return "ok", str(d).split(".")[-1] if d is not None else type(r).__name__


def _names(torch: Any) -> list[str]:
    return sorted(n for n in dir(torch) if not n.startswith("_") and not n.endswith("_")
                  and n not in SKIP and hasattr(gk, n) and callable(getattr(torch, n, None))
                  and not inspect.isclass(getattr(torch, n)))


def _mismatches(torch: Any, name: str) -> set[tuple[str, str, int]]:
    out = set()
    for dt, vals in VALUES.items():
        for arity in (1, 2):
            theirs = _outcome(getattr(torch, name),
                              [torch.tensor(vals, dtype=getattr(torch, dt)) for _ in range(arity)])
            ours = _outcome(getattr(gk, name),
                            [gk.tensor(vals, dtype=getattr(gk, dt)) for _ in range(arity)])
            if theirs == ours or theirs[0] == ours[0] == "raise":
                continue
            out.add((name, dt, arity))
    return out


def test_sweep_against_torch() -> None:
    torch = pytest.importorskip("torch")
    found: set[tuple[str, str, int]] = set()
    for name in _names(torch):
        found |= _mismatches(torch, name)
    assert found - DIFFERS == set()
    assert DIFFERS - found == set()                      # fixed ones leave the list


C = gk.tensor([1 + 2j, -1j, 0.5])
I = gk.tensor([1, 2, 3])          # noqa: E741


@pytest.mark.parametrize("call, exc, message", [
    (lambda: gk.max(C), NotImplementedError, "\"max_all\" not implemented for 'ComplexFloat'"),
    (lambda: C.max(0), RuntimeError, "max(): does not support complex input"),
    (lambda: gk.min(C, C), RuntimeError, "minimum not implemented for complex tensors."),
    (lambda: gk.maximum(C, C), RuntimeError, "maximum not implemented for complex tensors."),
    (lambda: C.sort(), RuntimeError, " Sort does not support complex dtypes on CPU"),
    (lambda: gk.argsort(C), RuntimeError, " Sort does not support complex dtypes on CPU"),
    (lambda: C.topk(2), RuntimeError, " topk does not support complex dtypes on CPU"),
    (lambda: C.clamp(0, 1), NotImplementedError, "clamp is not supported for complex types"),
    (lambda: C < C, NotImplementedError, "\"lt_cpu\" not implemented for 'ComplexFloat'"),
    (lambda: C >= 1, NotImplementedError, "\"ge_cpu\" not implemented for 'ComplexFloat'"),
    (lambda: C.argmax(), RuntimeError, "argmax(): does not support complex input"),
    (lambda: gk.frac(I), NotImplementedError, "\"frac_cpu\" not implemented for 'Long'"),
    (lambda: I.frac_(), NotImplementedError, "\"frac_cpu\" not implemented for 'Long'"),
    (lambda: gk.hypot(I, I), NotImplementedError, "\"hypot_cpu\" not implemented for 'Long'"),
    (lambda: gk.logaddexp(I, I), NotImplementedError,
     "\"logaddexp_cpu\" not implemented for 'Long'"),
    (lambda: gk.relu(I > 1), RuntimeError, "Boolean inputs not supported for relu"),
])
def test_pytorchs_refusals(call: Any, exc: type, message: str) -> None:
    with pytest.raises(exc) as info:
        call()
    assert str(info.value) == message


def test_what_still_runs() -> None:
    # a float operand makes hypot a float op; sort and max of real numbers are untouched
    assert gk.hypot(I, gk.tensor([1.0, 2.0, 3.0])).dtype == gk.float32
    assert gk.sort(gk.tensor([3, 1, 2])).values.tolist() == [1, 2, 3]
    assert gk.max(gk.tensor([3, 1, 2])).item() == 3
    assert (gk.tensor([1.0, 2.0]) < 2).tolist() == [True, False]
