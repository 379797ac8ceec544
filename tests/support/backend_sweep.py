"""Run one OpSpec with its inputs held by another array library, and the same on NumPy.

Shared by ``test_backend_dask.py`` and ``test_backend_gpu.py``: the forward and the
first (optionally second) derivatives of every row in the table, with inputs converted
by ``convert``, must give arrays of that library (never NumPy behind the user's back)
and the same values as the NumPy-backed run.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import gradkit as gk
from gradkit._core.tensor import _make

from op_specs import OpSpec


def _tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def run(spec: OpSpec, convert: Callable[[np.ndarray], Any], convert_args: bool,
        second_order: bool = False) -> tuple[list[Any], list[Any]]:
    """Outputs and gradients (arrays of the library) of ``spec`` on converted inputs.

    The gradients are those of ``sum(outputs)`` with respect to the floating inputs; with
    ``second_order``, of ``sum(first gradients)`` instead (double backward).
    """
    arrays = spec.sample(np.random.default_rng(0))
    tensors = []
    for a in arrays:
        t = _make(convert(a), False, None)
        if a.dtype.kind == "f":
            t.requires_grad_(True)
        tensors.append(t)
    args = tuple(convert(a) if convert_args and isinstance(a, np.ndarray) else a for a in spec.args)
    return _outputs_and_grads(spec, tensors, args, second_order)


def run_numpy(spec: OpSpec, second_order: bool = False) -> tuple[list[Any], list[Any]]:
    arrays = spec.sample(np.random.default_rng(0))
    tensors = [gk.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    return _outputs_and_grads(spec, tensors, spec.args, second_order)


def _outputs_and_grads(spec: OpSpec, tensors: list[Any], args: Any,
                       second_order: bool) -> tuple[list[Any], list[Any]]:
    outs = _tuple(spec.fn(*tensors, *args))
    diff = [o for o in outs if o.is_floating_point() and o.requires_grad]
    wrt = [t for t in tensors if t.requires_grad]
    grads: list[Any] = []
    if spec.grad and not spec.refused and diff and wrt:
        gs = gk.autograd.grad([o.sum() for o in diff], wrt, allow_unused=True,
                              create_graph=second_order)
        if second_order:
            used = [g for g in gs if g is not None and g.requires_grad]
            gs = gk.autograd.grad([g.sum() for g in used], wrt, allow_unused=True) if used else []
        grads = [None if g is None else g._data for g in gs]
    return [o._data for o in outs], grads
