"""The backward engine: iterative, dependency-counted, freeing saved values as it goes.

Each gradient is reduced to its input's shape and dtype here, once, so no
derivative rule handles broadcasting. Without ``create_graph`` the engine
works on raw ndarrays with grad mode off; with it, on Tensors with grad mode
on, so the gradients are themselves differentiable.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Sequence

import numpy as np

from gradkit._core import backend as _backend
from gradkit._core.backend import as_data
from gradkit._core.tensor import Size, Tensor, _make, grad_np_dtype
from gradkit._core.grad_mode import _state
from gradkit._core.graph import AccumulateGrad, BackwardPass, GradientEdge
from gradkit._core.dtype import FROM_NP
from gradkit.ops.elementwise import where

__all__ = ["run_backward"]

#: held while a ``.grad`` is read, added to and written back (and while the tensor's
#: post-accumulate hooks run, as in PyTorch), so that backward passes in several threads
#: into one leaf never lose an update; reentrant, for a hook that runs a backward itself
_grad_lock = threading.RLock()


def _as_seq(x: Any) -> list[Any]:
    if x is None:
        return []
    if isinstance(x, (Tensor, GradientEdge)):
        return [x]
    return list(x)


def _root_grads(roots: list[Tensor], grads: list[Any], create: bool) -> list[Any]:
    out = []
    for i, (t, g) in enumerate(zip(roots, grads)):
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if t._data.dtype.kind == "c":
                # NOTE: PyTorch's check: a seed of 1 for a complex output is a choice of phase
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {t.dtype}")
            arr = _backend.ones(t._data.shape, t._data.dtype, t._data)
            out.append(_make(arr, False, None) if create else (arr[()] if arr.ndim == 0 else arr))
            continue
        if not isinstance(g, Tensor):
            g = _make(as_data(g, t._data.dtype), False, None)
        if g._data.shape != t._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{Size(g._data.shape)!r} and output[{i}] has a shape of "
                               f"{Size(t._data.shape)!r}.")
        if create:
            out.append(g if g._data.dtype == t._data.dtype else g.to(t.dtype))
        else:
            arr = g._data
            out.append(arr if arr.dtype == t._data.dtype else arr.astype(t._data.dtype))
    return out


def _discover(root_nodes: list[Any]) -> dict[Any, int]:
    """Count, for each node reachable from the roots, the edges that lead into it."""
    deps: dict[Any, int] = {}
    roots = set(root_nodes)
    stack = list(roots)
    push = stack.append
    while stack:
        for edge in stack.pop().next:
            if type(edge) is tuple:
                child = edge[0]
                n = deps.get(child)
                if n is None:
                    deps[child] = 1
                    if child not in roots:
                        push(child)
                else:
                    deps[child] = n + 1
    return deps


def _needed(root_nodes: list[Any], deps: dict[Any, int], leaf_ids: set[int],
            out_targets: set[tuple[Any, int]]) -> set[Any]:
    """Nodes from which a requested input can be reached (the rest need not run)."""
    order = []
    remaining = dict(deps)
    ready = [n for n in dict.fromkeys(root_nodes) if remaining.get(n, 0) == 0]
    while ready:
        node = ready.pop()
        order.append(node)
        for edge in node.next:
            if type(edge) is tuple:
                c = edge[0]
                remaining[c] -= 1
                if remaining[c] == 0:
                    ready.append(c)
    needed: set[Any] = set()
    for node in reversed(order):
        for edge in node.next:
            if edge is None:
                continue
            if type(edge) is tuple:
                if edge[0] in needed or edge in out_targets:
                    needed.add(node)
                    break
            elif id(edge) in leaf_ids:
                needed.add(node)
                break
    return needed


def _reduce(g: Any, meta: tuple[Any, Any], create: bool) -> Any:
    """Sum a gradient down to its input's shape and cast it to the input's dtype."""
    shape, dt = meta
    if shape is None:
        return g
    if g.shape != shape:
        from ..ops.reduction import sum_to
        g = sum_to(g, shape)
    if create:
        if g._data.dtype != dt:
            if g._data.dtype.kind == "c" and dt.kind != "c":
                from ..ops.elementwise import real
                g = real(g)             # a real input's gradient is the real part (PyTorch)
            if g._data.dtype != dt:
                g = g.to(dt)
    elif g.dtype != dt:
        g = _cast(g, dt)
    return g


def _cast(g: Any, dt: Any) -> Any:
    """``g`` in dtype ``dt``; a complex gradient of a real input keeps its real part (PyTorch)."""
    g = as_data(g)
    if g.dtype.kind == "c" and dt.kind != "c":
        g = g.real
    return g.astype(dt)


def _wrap(g: Any, create: bool) -> Tensor:
    return g if create else _make(as_data(g), False, None)


def _run_tensor_hooks(hooks: dict[int, Any], g: Any, create: bool) -> Any:
    for hook in list(hooks.values()):
        res = hook(_wrap(g, create))
        if res is not None:
            _check_hook_value(hook, res, g)
            g = res if create else res._data
    return g


def _hook_name(hook: Any) -> str:
    return getattr(hook, "__name__", type(hook).__name__)


def _type_string(dt: Any) -> str:
    """PyTorch's name of a tensor type in hook errors (``torch.FloatTensor``, ``CPUComplexFloatType``)."""
    d = FROM_NP.get(np.dtype(dt))
    if d is None:
        return str(dt)
    if d.is_complex:
        return f"CPU{d._legacy[:-len('Tensor')]}Type"
    return f"torch.{d._legacy}"


def _check_hook_value(hook: Any, res: Any, g: Any) -> None:
    """A gradient returned by a hook has the shape and dtype of the one it was given (PyTorch)."""
    if not isinstance(res, Tensor):
        kind = type(res)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"expected Variable, but hook returned '{name}'")
    if g is None:
        return
    given = g._data if isinstance(g, Tensor) else g
    if tuple(res._data.shape) != tuple(np.shape(given)):
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")
    dt = getattr(given, "dtype", None)
    if dt is not None and res._data.dtype != dt:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was "
                           f"{_type_string(dt)} got {_type_string(res._data.dtype)})")


def _check_hook_values(hook: Any, res: Any, given: Sequence[Any]) -> None:
    """The gradients a node hook returns: as many as it was given, each of the same shape and dtype."""
    if not isinstance(res, (tuple, list)):
        raise TypeError(f"hook '{_hook_name(hook)}' returned {type(res).__name__}; a node hook "
                        "returns None or a tuple of gradients")
    if len(res) != len(given):
        raise RuntimeError(f"hook '{_hook_name(hook)}' has returned an incorrect number of values "
                           f"(got {len(res)}, but expected {len(given)})")
    for r, g in zip(res, given):
        if r is not None:
            _check_hook_value(hook, r, g)


def _check_nan(node: Any, grads: Sequence[Any]) -> None:
    for i, g in enumerate(grads):
        if g is None:
            continue
        arr = g._data if isinstance(g, Tensor) else as_data(g)
        if arr.dtype.kind in "fcV" and np.isnan(arr).any():
            msg = f"Function '{node.name()}' returned nan values in its {i}th output."
            if node.trace:
                msg += ("\nThe forward call that created this node (most recent call last):\n"
                        + "".join(node.trace[-6:]).rstrip())
            raise RuntimeError(msg)


#: Tests that recognise a gradient only ``vmap``'s batching rules can compute with (a batched
#: tensor); ``gradkit.func`` adds its own when it loads. Such a seed runs the backward on Tensors
#: (as ``create_graph`` does, recording nothing unless asked), so the rules see the batch.
BATCHED_SEEDS: list[Any] = []


def _any_batched(grads: list[Any]) -> bool:
    return any(check(g) for check in BATCHED_SEEDS for g in grads if isinstance(g, Tensor))


def run_backward(roots: Any, grads: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None, capture: bool = False,
                 allow_unused: bool = False) -> list[Any] | None:
    """Backpropagate from ``roots``.

    With ``capture`` (``autograd.grad``) the gradients of ``inputs`` are
    returned instead of accumulated; otherwise they accumulate into ``.grad``
    of the leaves (or of ``inputs`` only, when given).
    """
    roots = _as_seq(roots)
    grads = _as_seq(grads) or [None] * len(roots)
    if len(grads) != len(roots):
        raise RuntimeError(f"got {len(grads)} tensors and {len(roots)} gradients")
    for i, t in enumerate(roots):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward expects Tensors, got {type(t).__name__}")
        if not t._rg:
            from ._causes import no_grad_fn_cause
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn" + no_grad_fn_cause(t))
    create = bool(create_graph)
    retain = create if retain_graph is None else bool(retain_graph)
    if _state.record_sites:
        _state.last_roots = [weakref.ref(t) for t in roots]
    if inputs is not None and not capture and not isinstance(inputs, Tensor) and len(inputs) == 0:
        # NOTE: PyTorch's check: an empty list is not "all leaves" (None is)
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    inputs = _as_seq(inputs)
    prev = _state.grad_enabled
    # NOTE: as in PyTorch, create_graph records nothing inside inference mode
    _state.grad_enabled = create and not _state.inference
    tensors = create or (bool(BATCHED_SEEDS) and _any_batched(grads))
    # the end-of-pass point: callbacks queued on the pass (register_multi_grad_hook's) run
    # after every gradient is computed and accumulated, before backward returns
    bpass = BackwardPass.begin()
    try:
        seeds = _root_grads(roots, grads, tensors)
        if _state.complex_conj:                 # JAX's convention: conj at both ends
            seeds = [_conj(g) for g in seeds]
        # NOTE: like PyTorch, backward does not warn about inf/nan it produces (sqrt'(0) = inf).
        with np.errstate(all="ignore"):
            result = _execute(roots, seeds, tensors, retain, inputs, capture, allow_unused, bpass)
        bpass.run_callbacks()
        return result
    finally:
        bpass.end()
        _state.grad_enabled = prev


def _execute(roots: list[Tensor], seeds: list[Any], create: bool, retain: bool,
             inputs: list[Tensor], capture: bool, allow_unused: bool,
             bpass: BackwardPass) -> list[Any] | None:
    buffers: dict[Any, list[Any]] = {}
    leaf_grads: dict[int, list[Any]] = {}         # id -> [tensor, grad]
    root_nodes = []
    for t, g in zip(roots, seeds):
        if t._fn is None:
            _add_leaf(leaf_grads, t, g, create)
            continue
        node = t._fn
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.n_out
            root_nodes.append(node)
        buf[t._oi] = g if buf[t._oi] is None else buf[t._oi] + g
    deps = _discover(root_nodes)

    leaf_ids: set[int] = set()
    out_targets: dict[tuple[Any, int], list[int]] = {}
    if inputs:
        for k, t in enumerate(inputs):
            if isinstance(t, GradientEdge):
                if isinstance(t.node, AccumulateGrad):      # a leaf's edge: the leaf itself
                    inputs[k] = t = t.node.variable
                else:                                       # output_nr of a node: caught there
                    out_targets.setdefault((t.node, t.output_nr), []).append(k)
                    continue
            if not isinstance(t, Tensor):
                raise TypeError(f"inputs must be Tensors, got {type(t).__name__}")
            if not t._rg:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            if t._fn is None:
                leaf_ids.add(id(t))
            else:
                out_targets.setdefault((t._fn, t._oi), []).append(k)
        needed = _needed(root_nodes, deps, leaf_ids, set(out_targets))
    else:
        needed = None
    bpass._graph = (deps, root_nodes, roots, leaf_ids if inputs else None)
    captured: dict[int, Any] = {}

    ready = [n for n in root_nodes if deps.get(n, 0) == 0]
    special = bool(out_targets) or (_state.anomaly and _state.anomaly_check_nan)
    pop_buffer = buffers.pop
    get_buffer = buffers.get
    pop_ready = ready.pop
    push_ready = ready.append
    while ready:
        node = pop_ready()
        buf = pop_buffer(node, None)
        grads_in = None
        if buf is not None:
            if special or node.special:
                buf = _before_node(node, buf, create, out_targets, captured)
            if buf is not None and (needed is None or node in needed):
                if special or node.special or node.n_out > 1:
                    grads_in = _call_node(node, buf, create)
                else:
                    grads_in = node._backward(buf, create)
        if not retain:
            node._release()
        if grads_in is None:
            for edge in node.next:
                if type(edge) is tuple:
                    child = edge[0]
                    left = deps[child] - 1
                    deps[child] = left
                    if left == 0:
                        push_ready(child)
            continue
        meta = node.meta
        # NOTE: without meta every input has the output's dtype; a rule that promoted
        # (a float64 constant, a bool mask) is cast back here.
        if meta is not None or buf[0] is None:
            gdt = None
        else:
            gdt = buf[0]._data.dtype if create else getattr(buf[0], "dtype", None)
        i = -1
        for edge, g in zip(node.next, grads_in):
            i += 1
            if edge is None:
                continue
            if g is not None:
                if meta is not None:
                    if type(edge) is not tuple and edge._grad_dtype is not False:
                        want = grad_np_dtype(edge)     # a leaf's grad_dtype, set by the user
                        g = _reduce(g, (meta[i][0], (g._data if create else as_data(g)).dtype
                                        if want is None else want), create)
                    else:
                        g = _reduce(g, meta[i], create)
                elif create:
                    if g._data.dtype is not gdt:
                        g = g.to(gdt)
                elif g.dtype is not gdt and gdt is not None:
                    g = _cast(g, gdt)
            if type(edge) is tuple:
                child = edge[0]
                if g is not None:
                    cbuf = get_buffer(child)
                    if cbuf is None:
                        cbuf = buffers[child] = [None] * child.n_out
                    oi = edge[1]
                    old = cbuf[oi]
                    cbuf[oi] = g if old is None else old + g
                left = deps[child] - 1
                deps[child] = left
                if left == 0:
                    push_ready(child)
            elif g is not None and (needed is None or id(edge) in leaf_ids):
                _add_leaf(leaf_grads, edge, g, create)
    return _finish(leaf_grads, inputs, captured, capture, create, allow_unused)


def _add_leaf(leaf_grads: dict[int, list[Any]], t: Tensor, g: Any, create: bool) -> None:
    entry = leaf_grads.get(id(t))
    if entry is None:
        leaf_grads[id(t)] = [t, g]
    else:
        entry[1] = entry[1] + g


def _before_node(node: Any, buf: list[Any], create: bool, out_targets: dict[Any, list[int]],
                 captured: dict[int, Any]) -> list[Any] | None:
    """Run tensor hooks, retain_grad and capture on the gradients arriving at ``node``."""
    if node.hooks:
        for oi, hooks in list(node.hooks.items()):
            if buf[oi] is not None and hooks:
                buf[oi] = _run_tensor_hooks(hooks, buf[oi], create)
    if node.retains:
        for oi, ref in node.retains.items():
            t = ref()
            if t is not None and buf[oi] is not None:
                _accumulate(t, buf[oi], create)
    if out_targets:
        for oi in range(node.n_out):
            ks = out_targets.get((node, oi))
            if ks is not None:
                for k in ks:
                    captured[k] = buf[oi]
    if node.pre_hooks:
        for hook in list(node.pre_hooks.values()):
            res = hook(tuple(None if g is None else _wrap(g, create) for g in buf))
            if res is not None:
                _check_hook_values(hook, res, buf)
                buf = [None if g is None else (g if create else g._data) for g in res]
    if all(g is None for g in buf):
        return None
    return buf


def _call_node(node: Any, buf: list[Any], create: bool) -> Sequence[Any]:
    if node.n_out > 1 and node.ans is not None and any(g is None for g in buf):
        outs = node.ans
        buf = [np.zeros_like(outs[i]) if g is None else g for i, g in enumerate(buf)]
        if create:
            buf = [g if isinstance(g, Tensor) else _make(g, False, None) for g in buf]
    grads_in = node._backward(buf, create)
    if node.zero_safe:
        grads_in = _zero_where_g_is_zero(grads_in, buf[0], create)
    if node.post_hooks:
        for hook in list(node.post_hooks.values()):
            res = hook(tuple(None if g is None else _wrap(g, create) for g in grads_in),
                       tuple(None if g is None else _wrap(g, create) for g in buf))
            if res is not None:
                _check_hook_values(hook, res, grads_in)
                grads_in = tuple(None if g is None else (g if create else g._data) for g in res)
    if _state.anomaly and _state.anomaly_check_nan:
        _check_nan(node, grads_in)
    return grads_in


def _zero_where_g_is_zero(grads_in: Sequence[Any], g: Any, create: bool) -> list[Any]:
    """For nodes under a ``where(..., safe=True)``: a zero cotangent contributes exactly zero,
    even where the local derivative is inf or nan (so 0 * inf does not become nan)."""
    if g is None:
        return list(grads_in)
    zero = g == 0
    out = []
    for gi in grads_in:
        if gi is None or np.shape(gi) != np.shape(g):
            out.append(gi)
        else:
            out.append(where(zero, 0.0, gi))
    return out


def _accumulate(t: Tensor, g: Any, create: bool) -> None:
    """Add ``g`` to ``t.grad`` (in place when it is safe, as PyTorch does), under ``_grad_lock``."""
    with _grad_lock:
        _add_to_grad(t, g, create)


def _add_to_grad(t: Tensor, g: Any, create: bool) -> None:
    old = t._grad
    want = grad_np_dtype(t)
    if old is None:
        if create:
            laid = _laid_like(t._data, g._data) if isinstance(g, Tensor) else None
            if laid is not None:              # the same graph output, in the leaf's layout
                g2 = _make(laid, g._rg, g._fn)
                g2._oi = g._oi
                g = g2
            t._grad = g
        else:
            d = t._data
            laid = None
            if type(g) is np.ndarray and type(d) is np.ndarray and (
                    d.flags.c_contiguous or not _dense(d)):
                # NOTE: any leaf but a dense one of another layout gets a row-major .grad (one
                # copy), whatever the layout of the gradient that arrived (Linear's weight
                # gradient is a transposed product), as PyTorch's gradient layout contract:
                # weight.grad.view(-1) works
                arr = np.array(g, dtype=want, order="C")
            else:
                arr = _backend.copy(g, want)
                laid = _laid_like(d, arr)        # a channels-last leaf: its own strides
            t._grad = _make(arr if laid is None else laid, False, None)
    elif create or old._rg:
        new = old + _wrap(g, create)
        laid = _laid_like(t._data, new._data)
        if laid is not None:                  # a fresh sum: its memory may be laid out anew
            new._data = laid
        t._grad = new
    elif (type(old._data) is np.ndarray and old._data.flags.writeable and
          old._data.shape == np.shape(g) and _backend.backend_of(g) is None):
        np.add(old._data, g, out=old._data, casting="unsafe")
        old._vc[0] += 1
    else:
        t._grad = _make(as_data(old._data + g, want), False, None)


def _laid_like(d: Any, arr: Any) -> Any:
    """``arr``'s values laid out as the leaf's data ``d``, or None where nothing is to change.

    PyTorch's default gradient layout: a non-overlapping, dense leaf (a channels-last weight)
    gets a ``.grad`` with its own strides, however the gradient was computed (with
    ``create_graph`` too)."""
    if type(d) is not np.ndarray or type(arr) is not np.ndarray or d.flags.c_contiguous or \
            arr.strides == d.strides and arr.dtype == d.dtype or not _dense(d):
        return None
    laid = np.empty_like(d, dtype=arr.dtype)
    laid[...] = arr
    return laid


def _dense(a: np.ndarray) -> bool:
    """Whether ``a``'s elements fill a block of memory without gaps or overlaps (any order)."""
    dims = sorted((abs(st), n) for st, n in zip(a.strides, a.shape) if n != 1)
    expected = a.itemsize
    for st, n in dims:
        if st != expected:
            return False
        expected *= n
    return True


def _conj(g: Any) -> Any:
    """``g`` conjugated when complex (JAX's convention at the engine's ends)."""
    if g is None:
        return g
    if isinstance(g, Tensor):
        if g._data.dtype.kind != "c":
            return g
        from ..ops.elementwise import conj
        return conj(g)
    return np.conjugate(g) if getattr(g, "dtype", np.dtype(float)).kind == "c" else g


def _finish(leaf_grads: dict[int, list[Any]], inputs: list[Tensor], captured: dict[int, Any],
            capture: bool, create: bool, allow_unused: bool) -> list[Any] | None:
    if _state.complex_conj:
        for v in leaf_grads.values():
            v[1] = _conj(v[1])
        for k, g in captured.items():
            captured[k] = _conj(g)
    if capture:
        for t, g in leaf_grads.values():
            if t._hooks:
                g = _run_tensor_hooks(t._hooks, g, create)
            for k, inp in enumerate(inputs):
                if inp is t:
                    captured[k] = g
    else:
        # NOTE: one acquisition per backward, not per leaf (the lock is reentrant, so a hook
        # may run a backward of its own; hooks of one backward run one thread at a time)
        with _grad_lock:
            for t, g in leaf_grads.values():
                if t._hooks:
                    g = _run_tensor_hooks(t._hooks, g, create)
                _add_to_grad(t, g, create)
                if t._post_hooks:
                    for hook in list(t._post_hooks.values()):
                        if hook(t) is not None:
                            raise RuntimeError("Tensor post accumulate grad hooks should return "
                                               "None.")
    if not capture:
        for k, t in enumerate(inputs):       # backward(inputs=[non-leaf]) fills its .grad
            if isinstance(t, Tensor) and t._fn is not None and k in captured and captured[k] is not None:
                _accumulate(t, captured[k], create)
        return None
    result = []
    for k in range(len(inputs)):
        g = captured.get(k)
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {k} appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            result.append(None)
        else:
            result.append(_wrap(g, create))
    return result
