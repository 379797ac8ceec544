"""Automatic differentiation: ``backward``, ``grad``, grad modes, custom functions, checks.

Examples
--------
>>> x = gk.tensor(1.0, requires_grad=True)
>>> y = x ** 2 + 2 * x + 3
>>> gk.autograd.grad(y, x)
(tensor(4.),)
"""

from __future__ import annotations

from typing import Any

from gradkit._core.tensor import Tensor
from ._explain import Explanation, explain
from gradkit._core.sites import is_record_locations_enabled, set_record_locations
from .engine import run_backward
from .function import Function, FunctionCtx, once_differentiable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from gradkit._core.grad_mode import (detect_anomaly, enable_grad, get_subgradient_convention,
                                     inference_mode, is_anomaly_check_nan_enabled,
                                     is_anomaly_enabled, is_grad_enabled, no_grad,
                                     set_detect_anomaly, set_grad_enabled,
                                     set_subgradient_convention, set_complex_convention,
                                     get_complex_convention, is_multithreading_enabled,
                                     set_multithreading_enabled)
from gradkit._core import graph as _graph
from gradkit._core.graph import Node

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "gradcheck",
           "gradgradcheck", "GradcheckError", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "is_grad_enabled", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "Node", "graph",
           "forward_ad", "functional", "explain", "Explanation", "set_record_locations",
           "is_record_locations_enabled", "set_subgradient_convention",
           "get_subgradient_convention", "set_complex_convention", "get_complex_convention",
           "numerical", "numerical_fallback", "is_tensor_like", "set_multithreading_enabled",
           "is_multithreading_enabled"]


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """Accumulate into ``.grad`` the gradients of ``tensors`` (weighted by ``grad_tensors``)."""
    run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=inputs)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple[Any, ...]:
    """Return the gradients of ``outputs`` with respect to ``inputs`` (nothing accumulates).

    Parameters
    ----------
    outputs, inputs : Tensor or sequence of Tensors
    grad_outputs : Tensor or sequence, optional
        The vector of the vector-Jacobian product; required for non-scalar outputs.
    retain_graph : bool, optional
        Keep the graph's saved values (defaults to ``create_graph``).
    create_graph : bool
        Record the gradient computation, so the result can be differentiated again.
    allow_unused : bool
        Return None for an input the outputs do not depend on (instead of raising).
    materialize_grads : bool
        Return zeros instead of None for unused inputs (implies ``allow_unused``).
    """
    if is_grads_batched:
        return _grads_batched(outputs, inputs, grad_outputs, retain_graph, create_graph,
                              allow_unused, materialize_grads)
    single = isinstance(inputs, (Tensor, _graph.GradientEdge))
    ins = [inputs] if single else list(inputs)
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True")
    result = run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=ins,
                          capture=True, allow_unused=allow_unused or materialize_grads)
    assert result is not None
    if materialize_grads:
        from gradkit._core.creation import zeros_like
        result = [zeros_like(t) if g is None else g for g, t in zip(result, ins)]
    return tuple(result)



def _grads_batched(outputs: Any, inputs: Any, grad_outputs: Any, retain_graph: bool | None,
                   create_graph: bool, allow_unused: bool | None,
                   materialize_grads: bool) -> tuple[Any, ...]:
    """``grad(..., is_grads_batched=True)``: the first dim of every grad_output is a batch;
    one backward per row (the graph kept between them), the results stacked along a new first
    dim, as PyTorch's vmap over the backward gives them."""
    from gradkit._core.creation import zeros
    from gradkit.ops.shape import stack_p
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True")
    gos = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs or [])
    if not gos or any(g is None for g in gos):
        raise RuntimeError("is_grads_batched=True needs a batched grad_output for every output")
    sizes = {int(g.shape[0]) if g.ndim else -1 for g in gos}
    if -1 in sizes or len(sizes) != 1:
        raise RuntimeError("is_grads_batched=True: every grad_output needs the same batch size "
                           "in its first dim")
    n = sizes.pop()
    single = isinstance(inputs, (Tensor, _graph.GradientEdge))
    ins = [inputs] if single else list(inputs)
    keep = create_graph if retain_graph is None else retain_graph
    rows = [grad(outputs, ins, [g[b] for g in gos], retain_graph=True if b < n - 1 else keep,
                 create_graph=create_graph, allow_unused=allow_unused or materialize_grads)
            for b in range(n)]
    out: list[Any] = []
    for i, t in enumerate(ins):
        col = [r[i] for r in rows]
        if n == 0:
            out.append(zeros((0,) + tuple(t.shape), dtype=t.dtype))
        elif all(c is None for c in col):       # unbatched zeros when materialized (PyTorch)
            out.append(zeros(tuple(t.shape), dtype=t.dtype) if materialize_grads else None)
        else:
            out.append(stack_p(*[c if c is not None else zeros(tuple(t.shape), dtype=t.dtype)
                                 for c in col], dim=0))
    return tuple(out)


from . import forward_ad  # noqa: E402  (after grad: these modules use it)
from . import functional  # noqa: E402
from . import profiler  # noqa: E402,F401  (torch.autograd.profiler)
from .numerical import numerical, numerical_fallback  # noqa: E402

# NOTE: the grad modes and the graph node live on floor 0 (gradkit._core), under the table;
# their public module paths stay ``gradkit.autograd.grad_mode`` and ``gradkit.autograd.graph``.
import sys as _sys  # noqa: E402
from gradkit._core import grad_mode  # noqa: E402
from gradkit._core import graph as _graph_module  # noqa: E402

_sys.modules[f"{__name__}.grad_mode"] = grad_mode
_sys.modules[f"{__name__}.graph"] = _graph_module
#: ``gradkit.autograd.graph``: ``Node``, ``saved_tensors_hooks``, ``save_on_cpu``, ...
graph = _graph_module
del _sys, _graph_module


def is_tensor_like(inp: Any) -> bool:
    """``True`` for a Tensor (or subclass) and for objects whose class defines
    ``__torch_function__``, PyTorch's test (``torch.overrides.is_tensor_like``)."""
    return isinstance(inp, Tensor) or hasattr(inp, "__torch_function__")


# as in PyTorch, grad and backward dispatch through __torch_function__ (a Tensor subclass gets
# its gradients back as the subclass from autograd.grad)
from gradkit._core import torch_function as _torch_function  # noqa: E402
_torch_function.wrap_namespace(globals(), ("grad", "backward"), "gradkit.autograd")
