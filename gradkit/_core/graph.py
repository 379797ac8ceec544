"""Graph nodes: what the forward pass records and the backward pass walks.

A node holds, for each input of the operation, an *edge* (the node that made
that input and its output index, the leaf tensor itself, or ``None``), the
input's shape and dtype (so the engine can reduce a gradient to it), and the
values the derivative rule needs. Saved tensors carry the version they had
when saved, so an in-place change is caught when backward unpacks them.
"""

from __future__ import annotations

import traceback
import weakref
from typing import Any, Callable

import numpy as np

from gradkit._core.grad_mode import _state

__all__ = ["Node", "AccumulateGrad", "Meta", "ConstRef", "freed_error", "version_error"]

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward.")


def op_name(node: Any) -> str:
    """``exp`` for an ``ExpBackward0`` node: the operation a user wrote."""
    prim = getattr(node, "prim", None)
    if prim is not None:
        return prim.name
    name = node.name()
    for suffix in ("Backward0", "Backward1", "Backward"):
        if name.endswith(suffix):
            return name[: -len(suffix)].lower()
    return name


def freed_error(node: Any = None) -> RuntimeError:
    """PyTorch's message, then what was freed and the two fixes that do not keep every graph."""
    msg = _FREED
    if node is not None:
        from gradkit._core.sites import at
        msg += (f"\n\nThe saved values of `{op_name(node)}` ({node.name()}"
                f"{at(getattr(node, 'site', None))}) were freed by an earlier backward through "
                "this graph.")
    msg += ("\nUsually retain_graph=True is not the fix you want; instead:\n"
            "  1. several losses over one graph: add them first and call backward once, "
            "(loss1 + loss2).backward();\n"
            "  2. a gradient needed in the middle (a penalty, a meta step): "
            "gradkit.autograd.grad(out, inputs, retain_graph=True) only for that call, then the "
            "final backward frees the graph;\n"
            "  3. a tensor carried over from the previous iteration (an RNN state, a running "
            "value): .detach() it before reusing it.")
    return RuntimeError(msg)


def version_error(t: Any, node: Any, saved_version: int, current: int) -> RuntimeError:
    """PyTorch's message for a saved tensor that was modified in place, then who saved and
    who modified it, and where."""
    from gradkit._core.dtype import FROM_NP
    arr = t._data if hasattr(t, "_data") else t
    legacy = FROM_NP[arr.dtype]._legacy
    shape = ", ".join(str(s) for s in arr.shape)
    producer = ""
    fn = getattr(t, "_fn", None)
    if fn is not None:
        base = fn.name()
        if base.endswith("Backward0") or base.endswith("Backward1"):
            base = base[: -len("Backward0")]
        producer = f", which is output {t._oi} of {base},"
    msg = ("one of the variables needed for gradient computation has been modified by an inplace "
           f"operation: [torch.{legacy} [{shape}]]{producer} is at version {current}; expected "
           f"version {saved_version} instead. Hint: enable anomaly detection to find the operation "
           "that failed to compute its gradient, with "
           "gradkit.autograd.set_detect_anomaly(True, check_nan=False).")
    return RuntimeError(msg + _version_detail(t, node))


def _version_detail(t: Any, node: Any) -> str:
    from gradkit._core.sites import at, last_bump
    if node is None:
        saved = "saved for backward by a custom Function"
    else:
        saved = f"saved by `{op_name(node)}`{at(getattr(node, 'site', None))}"
    vc = getattr(t, "_vc", None)
    bump = last_bump(vc) if vc is not None else None
    if bump is not None:
        modified = f"modified by `{bump[0]}`{at(bump[1])}"
    else:
        modified = "modified in place (where was not recorded)"
    return (f"\nThe tensor was {saved}, {modified}. Compute the in-place change out of place "
            "(y = y + 1 instead of y.add_(1)), or .clone() the tensor before changing it.")


class ConstRef:
    """What a node keeps of a constant tensor input for ``autograd.explain`` after backward.

    A small tensor (at most ``KEEP`` elements) without history is kept; a larger one, or
    an output of a recorded op (recomputed through ``edge``), is held weakly, so its memory
    is freed with the graph's saved values. Its shape, dtype and version at the time
    of the forward, its ``Why`` mark (which may say how to recompute it) and, for an output
    of a recorded op, a weak reference to that op's node and the output index are kept (a
    node outside the graph being explained is not kept alive by it).
    """

    __slots__ = ("ref", "keep", "why", "shape", "dtype", "version", "edge")
    KEEP = 1024

    def __init__(self, t: Any) -> None:
        self.ref = weakref.ref(t)
        self.why = t._why
        d = t._data
        self.shape = d.shape
        self.dtype = d.dtype
        self.version = t._vc[0]
        if t._fn is not None:
            self.edge = (weakref.ref(t._fn), t._oi)
            self.keep = None
        else:
            self.edge = None
            self.keep = t if d.size <= self.KEEP else None


class Meta:
    """Shape and dtype of an input whose value the rule does not need."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


class Node:
    """Base class of graph nodes (``grad_fn``); subclasses are named like ``MulBackward0``."""

    # Hot attributes are slots; the rarely set ones use these class defaults.
    __slots__ = ("next", "meta", "__dict__", "__weakref__")
    n_out = 1
    hooks: dict[int, Any] | None = None
    retains: dict[int, Any] | None = None
    trace: list[str] | None = None
    released = False
    pre_hooks: dict[int, Any] | None = None
    post_hooks: dict[int, Any] | None = None
    #: True once a hook, retain_grad or anomaly trace is attached (the engine's slow path)
    special = False
    #: under a ``where(..., safe=True)``: a zero incoming gradient gives zero gradients
    zero_safe = False
    #: diagnostics: ``Why`` marks of inputs that arrived without history; the in-place op
    #: (``add_``) that made this node, if one did
    breaks: tuple[Any, ...] = ()
    inplace: str | None = None

    def _init_node(self) -> None:
        if _state.anomaly:
            self.trace = traceback.format_stack()[:-3]
            self.special = True

    @property
    def metadata(self) -> dict[str, Any]:
        """A dict for user data, as ``grad_fn.metadata`` in PyTorch."""
        md = self.__dict__.get("_metadata")
        if md is None:
            md = self.__dict__["_metadata"] = {}
        return md

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The nodes this one sends gradients to, as ``(node, output_index)`` pairs."""
        out = []
        for edge in self.next:
            if edge is None:
                out.append((None, 0))
            elif isinstance(edge, tuple):
                out.append(edge)
            else:
                out.append((AccumulateGrad(edge), 0))
        return tuple(out)

    def _backward(self, grads: list[Any], create_graph: bool) -> tuple[Any, ...]:
        raise NotImplementedError

    def _release(self) -> None:
        self.released = True

    def _add_tensor_hook(self, oi: int, hook: Callable[..., Any]) -> Any:
        from gradkit._core.tensor import _HookHandle
        if self.hooks is None:
            self.hooks = {}
        self.special = True
        return _HookHandle(self.hooks.setdefault(oi, {}), hook)

    def _retain_output(self, oi: int, ref: Any) -> None:
        if self.retains is None:
            self.retains = {}
        self.special = True
        self.retains[oi] = ref

    def register_hook(self, fn: Callable[..., Any]) -> Any:
        """``fn(grad_inputs, grad_outputs)`` runs after this node; may return new grad_inputs."""
        from gradkit._core.tensor import _HookHandle
        if self.post_hooks is None:
            self.post_hooks = {}
        self.special = True
        return _HookHandle(self.post_hooks, fn)

    def register_prehook(self, fn: Callable[..., Any]) -> Any:
        """``fn(grad_outputs)`` runs before this node; may return new grad_outputs."""
        from gradkit._core.tensor import _HookHandle
        if self.pre_hooks is None:
            self.pre_hooks = {}
        self.special = True
        return _HookHandle(self.pre_hooks, fn)

    def __call__(self, *grads: Any) -> Any:
        """Apply the derivative rule to output gradients (no engine involved)."""
        from gradkit._core.tensor import Tensor, _make
        arrs = [g._data if isinstance(g, Tensor) else g for g in grads]
        out = self._backward(arrs, False)
        wrapped = tuple(None if g is None else _make(np.asarray(g), False, None) for g in out)
        return wrapped[0] if len(wrapped) == 1 else wrapped


class AccumulateGrad:
    """Stand-in for the node that accumulates into a leaf's ``.grad`` (for ``next_functions``)."""

    __slots__ = ("variable",)

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    @property
    def next_functions(self) -> tuple[()]:
        return ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)
