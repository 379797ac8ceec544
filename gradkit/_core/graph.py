"""Graph nodes: what the forward pass records and the backward pass walks.

A node holds, for each input of the operation, an *edge* (the node that made
that input and its output index, the leaf tensor itself, or ``None``), the
input's shape and dtype (so the engine can reduce a gradient to it), and the
values the derivative rule needs. Saved tensors carry the version they had
when saved, so an in-place change is caught when backward unpacks them.
"""

from __future__ import annotations

import itertools
import re
import threading
import traceback
import weakref
from typing import Any, Callable, NamedTuple

import numpy as np

from gradkit._core.grad_mode import _state

__all__ = ["Node", "AccumulateGrad", "Meta", "ConstRef", "SavedTensor", "freed_error",
           "version_error", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "allow_mutation_on_saved_tensors", "increment_version", "GradientEdge",
           "get_gradient_edge",
           "BackwardPass", "current_pass", "register_multi_grad_hook"]

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
        # NOTE: PyTorch names the op without its "Backward<n>" (``Exp``; a custom Function's
        # ``InplaceBackward`` is ``Inplace``)
        base = re.sub(r"Backward\d*$", "", fn.name())
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
                out.append((AccumulateGrad.of(edge), 0))
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
    """The node that accumulates into a leaf's ``.grad`` (as ``next_functions`` shows it).

    One per leaf while it is referenced (``AccumulateGrad.of``): the leaf holds it weakly and
    it holds the leaf (``.variable``), as in PyTorch.
    """

    __slots__ = ("variable", "_metadata", "__weakref__")

    def __init__(self, variable: Any) -> None:
        self.variable = variable
        self._metadata: dict[str, Any] | None = None

    @classmethod
    def of(cls, leaf: Any) -> AccumulateGrad:
        """The leaf's node: the same object while anything holds it."""
        ref = leaf.__dict__.get("_acc_node")
        node = ref() if ref is not None else None
        if node is None or node.variable is not leaf:
            node = cls(leaf)
            leaf.__dict__["_acc_node"] = weakref.ref(node)
        return node

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    @property
    def next_functions(self) -> tuple[()]:
        return ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)


# --- saved tensors: hooks and the SavedTensor handle ----------------------------------------
#: how many ``saved_tensors_hooks`` are entered now, over all threads (the table's fast check;
#: the calling thread's own stack is ``_state.saved_hooks``)
SAVED_HOOKS_ON = [0]
_hooks_lock = threading.Lock()            # the count is changed by several threads

_NO_VALUE = object()


def current_saved_hooks() -> Any:
    """The calling thread's innermost ``(pack, unpack)`` pair, or None."""
    stack = _state.saved_hooks
    if not stack:
        return None
    if _state.saved_hooks_off is not None:
        raise RuntimeError(_state.saved_hooks_off)
    return stack[-1]


def run_pack(pack: Callable[[Any], Any], t: Any) -> Any:
    """``pack(t)``, refusing a hook that changes ``t`` in place (PyTorch's error)."""
    before = t._vc[0]
    packed = pack(t)
    if t._vc[0] != before:
        raise RuntimeError(
            "A saved tensor pack hook is modifying its input in place. Tensors provided as input "
            "to pack hook cannot be modified by in-place operations as this can lead to "
            "unexpected side-effects. Please open an issue if you need to perform in-place "
            "operations on the input to a pack hook.")
    return packed


def run_unpack(unpack: Callable[[Any], Any], packed: Any) -> Any:
    """``unpack(packed)``, which must give a Tensor (PyTorch's error otherwise)."""
    from gradkit._core.tensor import Tensor
    t = unpack(packed)
    if not isinstance(t, Tensor):
        raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                        f"result of type {type(t).__name__}")
    return t


class SavedTensor:
    """One value a node saved for backward (``grad_fn._raw_saved_self``).

    ``register_hooks(pack, unpack)`` packs the value at once (the node then keeps only what
    ``pack`` returned) and unpacks it whenever backward or ``grad_fn._saved_self`` needs it.
    """

    __slots__ = ("_node", "_key")

    def __init__(self, node: Any, key: str) -> None:
        self._node = node
        self._key = key

    def register_hooks(self, pack_hook: Callable[[Any], Any],
                       unpack_hook: Callable[[Any], Any]) -> None:
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("register_hooks(): incompatible function arguments: pack_hook and "
                            "unpack_hook must be callables, got "
                            f"{type(pack_hook).__name__} and {type(unpack_hook).__name__}")
        self._node._register_saved_hooks(self._key, pack_hook, unpack_hook)

    def __repr__(self) -> str:
        return f"<SavedTensor object at {hex(id(self))}>"


def raw_hooks_freed_error() -> RuntimeError:
    return RuntimeError(
        "Calling register_hooks on a saved tensor after it has been freed. Saved intermediate "
        "values of the graph are freed when you call .backward() or autograd.grad(). Specify "
        "retain_graph=True if you need to backward through the graph a second time or if you "
        "need to access saved variables after calling backward.")


def raw_hooks_errors(state: str) -> RuntimeError:
    """PyTorch's refusals of ``SavedTensor.register_hooks``: ``state`` is "none" or "set"."""
    if state == "none":
        return RuntimeError("Calling register_hooks on a saved tensor with value None is forbidden")
    return RuntimeError("Calling register_hooks on a saved tensor whose hooks have already been "
                        "set. Hint: only one pair of hooks is allowed at a time.")


class saved_tensors_hooks:
    """Context manager: every tensor saved for backward inside it goes through ``pack_hook``
    when it is saved and ``unpack_hook`` when backward (or ``grad_fn._saved_*``) uses it.

    Parameters
    ----------
    pack_hook : callable
        ``pack_hook(tensor) -> Any``; must not modify ``tensor`` in place.
    unpack_hook : callable
        ``unpack_hook(packed) -> Tensor``, the value backward uses.

    Examples
    --------
    >>> store = {}
    >>> def pack(t):
    ...     store[len(store)] = t.clone()
    ...     return len(store) - 1
    >>> x = gk.tensor([0.0, 1.0], requires_grad=True)
    >>> with gk.autograd.graph.saved_tensors_hooks(pack, store.__getitem__):
    ...     y = x.exp()
    >>> y.sum().backward()
    >>> x.grad
    tensor([1.0000, 2.7183])
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        msg = _state.saved_hooks_off
        if msg is not None:
            raise RuntimeError(msg)
        _state.saved_hooks = _state.saved_hooks + ((self.pack_hook, self.unpack_hook),)
        with _hooks_lock:
            SAVED_HOOKS_ON[0] += 1

    def __exit__(self, *exc: object) -> None:
        _state.saved_hooks = _state.saved_hooks[:-1]
        with _hooks_lock:
            SAVED_HOOKS_ON[0] -= 1


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept in host (NumPy) memory and moved back to their device when
    backward uses them. ``pin_memory`` is accepted for PyTorch's signature (host memory is not
    pinned: there is no asynchronous copy to pin for)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        self.pin_memory = pin_memory

        def pack(t: Any) -> Any:
            return (t.device, t.cpu())

        def unpack(packed: Any) -> Any:
            device, t = packed
            return t.to(device)

        super().__init__(pack, unpack)


class GradientEdge(NamedTuple):
    """Where a gradient flows: output ``output_nr`` of ``node`` (``torch.autograd.graph``'s).
    ``autograd.grad`` and ``backward(inputs=...)`` accept one in place of a tensor."""

    node: Any
    output_nr: int


def get_gradient_edge(tensor: Any) -> GradientEdge:
    """The edge the gradient of ``tensor`` arrives through: its ``grad_fn`` and output index,
    or a leaf's ``AccumulateGrad`` node (output 0). Holding it keeps that part of the graph
    addressable after the tensor itself is gone."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not "
                           "require gradients")
    if tensor.grad_fn is None:
        return GradientEdge(AccumulateGrad.of(tensor), 0)
    return GradientEdge(tensor.grad_fn, tensor._oi)


def increment_version(tensor: Any) -> None:
    """Count an in-place change that autograd did not see (a write through ``.numpy()`` or
    ``.data``): bump the version counter of ``tensor`` (or of each tensor of an iterable), so a
    graph that saved it refuses to use the old value, as ``torch.autograd.graph.increment_version``."""
    from gradkit._core.tensor import Tensor
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        t._vc[0] += 1


class _MutationContext:
    """What ``allow_mutation_on_saved_tensors`` gives back: whether its block is still open."""

    def __init__(self) -> None:
        self.open = True


_mutation_allowed = threading.local()


class allow_mutation_on_saved_tensors:
    """Context manager: a tensor saved for backward inside it may be changed in place later;
    backward then uses the value it had when it was saved (``torch.autograd.graph``'s name).

    Each saved tensor is copied when it is saved (PyTorch copies it when it is first changed;
    the results are the same, the memory is not): backward uses the tensor itself, graph and
    all, while its version is unchanged, and the copy (values only, as in PyTorch) once it has
    been changed. Backward must run inside the block.
    """

    def __enter__(self) -> _MutationContext:
        if getattr(_mutation_allowed, "on", False):
            raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
        ctx = self.ctx = _MutationContext()

        def pack(t: Any) -> Any:
            return t, t._vc[0], t.detach().clone()

        def unpack(packed: Any) -> Any:
            if not ctx.open:
                # NOTE: PyTorch's words, its missing space ("contextin") kept
                raise AssertionError("Trying to backward outside of the 'allow_mutation_on_saved_tensors' "
                                     "contextin which the graph was originally recorded.")
            t, version, copy = packed
            return t if t._vc[0] == version else copy

        self.hooks = saved_tensors_hooks(pack, unpack)
        self.hooks.__enter__()
        _mutation_allowed.on = True
        return ctx

    def __exit__(self, *exc: object) -> None:
        self.ctx.open = False
        _mutation_allowed.on = False
        self.hooks.__exit__(*exc)


class disable_saved_tensors_hooks:
    """Context manager: entering ``saved_tensors_hooks`` (or using one already entered) inside
    it raises ``RuntimeError(error_message)``."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        self.prev = _state.saved_hooks_off
        _state.saved_hooks_off = self.error_message

    def __exit__(self, *exc: object) -> None:
        _state.saved_hooks_off = self.prev


# --- backward passes: the engine's end-of-pass point and multi-tensor hooks ------------------
class _Passes(threading.local):
    stack: list[Any]

    def __init__(self) -> None:
        self.stack = []


#: each thread's open backward passes, innermost last
_passes = _Passes()


class BackwardPass:
    """One run of the backward engine (PyTorch's graph task), on the thread that started it.

    The engine opens one per ``backward()``/``autograd.grad()`` call (``begin``), runs the
    callbacks queued on it once every gradient of the pass is computed and accumulated, and
    closes it (``end``). Each thread keeps its own stack of open passes (a hook may start a
    backward of its own), so passes running at once in several threads never share state.
    """

    _ids = itertools.count(1)
    __slots__ = ("id", "callbacks", "state", "_graph", "_leaves")

    def __init__(self) -> None:
        # NOTE: one per backward call: kept small (the lists are made when first used)
        self.id = next(BackwardPass._ids)
        #: run in order at the end of the pass (one queued by a callback runs too)
        self.callbacks: list[Callable[[], None]] | None = None
        #: per-pass state of hooks that span several tensors (keyed by the hook's own object)
        self.state: dict[Any, Any] = {}
        #: set by the engine: (reachable nodes -> count, root nodes, root tensors, the ids of
        #: the leaves an ``inputs=`` pass fills or None)
        self._graph: Any = None
        self._leaves: set[int] | None = None

    def queue_callback(self, fn: Callable[[], None]) -> None:
        """Run ``fn()`` at the end of this pass (PyTorch's ``queue_callback``)."""
        if self.callbacks is None:
            self.callbacks = []
        self.callbacks.append(fn)

    def will_execute(self, t: Any) -> bool:
        """Whether this pass may compute a gradient for tensor ``t`` (a generous answer: a hook
        waiting for it is released at the end of the pass if it does not arrive)."""
        deps, root_nodes, roots, leaf_ids = self._graph
        fn = t._fn
        if fn is not None:
            return fn in deps or fn in root_nodes
        if leaf_ids is not None:
            return id(t) in leaf_ids
        if self._leaves is None:
            self._leaves = {id(e) for node in (*deps, *root_nodes) for e in node.next
                            if e is not None and type(e) is not tuple}
            self._leaves.update(id(r) for r in roots if r._fn is None)
        return id(t) in self._leaves

    @staticmethod
    def begin() -> BackwardPass:
        p = BackwardPass()
        _passes.stack.append(p)
        return p

    def run_callbacks(self) -> None:
        while self.callbacks:
            self.callbacks.pop(0)()

    def end(self) -> None:
        stack = _passes.stack
        if stack and stack[-1] is self:
            stack.pop()


def current_pass() -> BackwardPass | None:
    """The calling thread's innermost running backward pass, or None outside backward."""
    stack = _passes.stack
    return stack[-1] if stack else None


class _MultiHandle:
    """The handle of ``register_multi_grad_hook``: ``remove()`` removes its tensor hooks."""

    def __init__(self, handles: tuple[Any, ...]) -> None:
        self.handles = handles

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def __enter__(self) -> _MultiHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_multi_grad_hook(tensors: Any, fn: Callable[[Any], None], *,
                             mode: str = "all") -> _MultiHandle:
    """Call ``fn`` once per backward pass over the gradients of several tensors.

    ``mode="all"``: after the gradient of every tensor of ``tensors`` that the pass computes,
    ``fn(grads)`` with the list of gradients (``None`` for a tensor outside the pass, or not
    needed for its ``inputs=``). ``mode="any"``: ``fn(grad)`` with the first gradient the pass
    computes of any of them. Returns a handle with ``remove()``. Each pass keeps its own count,
    so backward passes in several threads at once do not mix their gradients.
    """
    supported = ("all", "any")
    if mode not in supported:
        raise ValueError(f"Expects mode to be one of {supported} but got {mode}")
    tensors = tuple(tensors)
    for t in tensors:
        if not getattr(t, "requires_grad", False):
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    key = object()                          # this hook's slot in each pass's state
    n = len(tensors)

    def pass_now() -> BackwardPass:
        p = current_pass()
        if p is None:
            raise RuntimeError("expected this hook to be called inside a backward call")
        return p

    if mode == "any":
        def any_hook(grad: Any) -> None:
            p = pass_now()
            if key in p.state:
                return
            p.state[key] = True
            fn(grad)

        return _MultiHandle(tuple(t.register_hook(any_hook) for t in tensors))

    def flush(p: BackwardPass) -> None:
        entry = p.state.get(key)
        if entry is not None and not entry[2]:
            entry[2] = True
            fn(entry[0])

    def inner(idx: int) -> Callable[[Any], None]:
        def hook(grad: Any) -> None:
            p = pass_now()
            entry = p.state.get(key)
            if entry is None:
                expected = sum(1 for t in tensors if p.will_execute(t))
                # [grads, hooks still awaited, fired]
                entry = p.state[key] = [[None] * n, expected, False]
                p.queue_callback(lambda: flush(p))
            if entry[2]:
                return
            entry[0][idx] = grad
            entry[1] -= 1
            if entry[1] <= 0:
                flush(p)
        return hook

    return _MultiHandle(tuple(t.register_hook(inner(i)) for i, t in enumerate(tensors)))
