"""Custom differentiable operations: subclass ``Function`` with ``forward`` and ``backward``.

Examples
--------
>>> class Cube(gk.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, g):
...         (x,) = ctx.saved_tensors
...         return 3 * x ** 2 * g
>>> x = gk.tensor(2.0, requires_grad=True)
>>> Cube.apply(x).backward()
>>> x.grad
tensor(12.)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradkit._core.tensor import SAVE_INFERENCE, Tensor, _make
from gradkit._core.graph import (ConstRef, Node, current_saved_hooks, freed_error, run_pack,
                                 run_unpack, version_error)
from gradkit._core.grad_mode import _state
from gradkit.ops import _registry as _R

__all__ = ["Function", "FunctionCtx", "once_differentiable", "BATCHED_APPLY"]

#: ``Function.apply`` on vmap's batched tensors: ``gradkit.func`` registers its handler here when
#: it loads (it returns NotImplemented when no argument is batched).
BATCHED_APPLY: list[Any] = []

#: ``Function.apply`` with forward-mode tangents: ``forward_ad`` registers its handler here when it
#: loads (no dual level can open before); it returns NotImplemented when no argument is dual.
_FORWARD_APPLY: list[Any] = []


class FunctionCtx:
    """The ``ctx`` object handed to ``forward``/``setup_context`` and ``backward``."""

    def __init__(self) -> None:
        self._saved: tuple[Any, ...] | None = ()
        self._saved_versions: tuple[int, ...] = ()
        self._non_diff: set[int] = set()
        self._dirty: tuple[Any, ...] = ()
        self.needs_input_grad: tuple[bool, ...] = ()
        self.materialize_grads = True
        self._freed = False
        #: what ``saved_tensors_hooks`` packed: ``(packed, unpack)`` per saved tensor (None: not
        #: packed)
        self._packed: list[Any] | None = None
        self._saved_fw: tuple[Any, ...] | None = None
        self._in_backward = False

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors for ``backward``; they are checked for in-place changes when unpacked."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{len(self._saved or ())} is of type {type(t).__name__}")
        self._saved = tensors
        self._saved_versions = tuple(t._vc[0] if isinstance(t, Tensor) else 0 for t in tensors)

    def save_for_forward(self, *tensors: Any) -> None:
        """Keep tensors for ``jvp`` (forward mode); ``ctx.saved_tensors`` gives them there."""
        if not all(t is None or isinstance(t, Tensor) for t in tensors):
            raise AssertionError("save_for_forward expects all arguments to be tensors; you "
                                 "should save non-tensors as attributes on ctx.")
        self._saved_fw = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        if self._saved_fw is not None and not self._in_backward:
            return self._saved_fw
        if self._freed:
            raise freed_error()
        if self._packed is not None:
            # NOTE: as in PyTorch, a value that went through hooks is not version-checked
            return tuple(t if p is None else run_unpack(p[1], p[0])
                         for t, p in zip(self._saved or (), self._packed))
        for t, v in zip(self._saved or (), self._saved_versions):
            if isinstance(t, Tensor) and t._vc[0] != v:
                raise version_error(t, None, v, t._vc[0])
        return tuple(self._saved or ())

    def _pack_saved(self) -> None:
        """Pack the saved tensors with the thread's ``saved_tensors_hooks`` (when the node is
        recorded, as in PyTorch); the ctx then keeps only what the hook returned."""
        hooks = current_saved_hooks()
        if hooks is None or not self._saved:
            return
        pack, unpack = hooks
        packed = [None if not isinstance(t, Tensor) else (run_pack(pack, t), unpack)
                  for t in self._saved]
        self._packed = packed
        self._saved = tuple(t if p is None else None for t, p in zip(self._saved, packed))

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Outputs that never need a gradient (indices, masks)."""
        self._non_diff.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Inputs that ``forward`` changed in place (and returns): they become outputs of
        this node, and their version counter is bumped."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, ``backward`` receives None (not zeros) for outputs without a gradient."""
        self.materialize_grads = value


class _FunctionNode(Node):
    """The node of a custom Function (``<MyFnBackward>``); it shows its ctx's attributes
    (``saved_tensors``, ``needs_input_grad``, what ``forward`` stored), as in PyTorch."""

    __slots__ = ("ctx", "fn_cls", "n_out", "out_meta", "ans")

    def name(self) -> str:  # type: ignore[override]
        return self.fn_cls.__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<gradkit.autograd.function.{self.name()} object at {hex(id(self))}>"

    def __getattr__(self, attr: str) -> Any:
        # only reached for names the node does not have
        if attr != "ctx" and not attr.startswith("__"):
            try:
                ctx = object.__getattribute__(self, "ctx")
            except AttributeError:
                ctx = None
            if ctx is not None:
                return getattr(ctx, attr)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")

    def _backward(self, grads: list[Any], create_graph: bool) -> tuple[Any, ...]:
        ctx = self.ctx
        if ctx._freed:
            raise freed_error(self)
        ctx._in_backward = True
        try:
            return self._run_backward(ctx, grads, create_graph)
        finally:
            ctx._in_backward = False

    def _run_backward(self, ctx: FunctionCtx, grads: list[Any],
                      create_graph: bool) -> tuple[Any, ...]:
        gs = []
        for g, (shape, dt) in zip(grads, self.out_meta):
            if g is None and ctx.materialize_grads:
                g = np.zeros(shape, dtype=dt)
            if g is not None and not isinstance(g, Tensor):
                g = _make(np.asarray(g), False, None)
            gs.append(g)
        result = _user_backward(self.fn_cls)(ctx, *gs)
        if not isinstance(result, tuple):
            result = (result,)
        n_in = len(self.next)
        if len(result) < n_in or any(r is not None for r in result[n_in:]):
            raise RuntimeError(f"function {self.fn_cls.__name__}Backward returned an incorrect "
                               f"number of gradients (expected {n_in}, got {len(result)})")
        out = []
        for i, (edge, r) in enumerate(zip(self.next, result[:n_in])):
            if edge is None or r is None:
                out.append(None)
                continue
            _check_grad_shape(self.fn_cls.__name__, i, np.shape(r._data if isinstance(r, Tensor)
                                                                else r), self.meta[i][0])
            if not isinstance(r, Tensor):
                arr = np.asarray(r)
                out.append(_make(arr, False, None) if create_graph else arr)
            else:
                out.append(r if create_graph else r._data)
        return tuple(out)

    def _release(self) -> None:
        self.released = True
        self.ctx._freed = bool(self.ctx._saved)
        self.ctx._saved = None
        self.ctx._packed = None


def _check_grad_shape(name: str, i: int, got: tuple[int, ...], shape: Any) -> None:
    """A gradient from ``backward`` has its input's shape or one the input broadcasts to (then
    the engine sums it down, as PyTorch does); anything else is PyTorch's error, not a guess."""
    if shape is None or tuple(got) == tuple(shape):
        return
    if len(shape) <= len(got) and all(s == 1 or s == g for s, g in zip(shape[::-1], got[::-1])):
        return
    raise RuntimeError(f"Function {name}Backward returned an invalid gradient at index {i} - got "
                       f"{list(got)} but expected shape compatible with {list(shape)}")


class _FunctionMeta(type):
    def __init__(cls, name: str, bases: Any, ns: dict[str, Any]) -> None:
        super().__init__(name, bases, ns)
        cls._node_cls = type(name + "Backward", (_FunctionNode,), {"__slots__": ()})


def _user_backward(cls: Any) -> Any:
    """The Function's backward rule: ``backward``, or ``vjp`` (PyTorch's other name for it)."""
    backward, vjp = cls.backward, cls.vjp
    if backward is not Function.backward and vjp is not Function.vjp:
        if getattr(backward, "__func__", backward) is not getattr(vjp, "__func__", vjp):
            raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not "
                               "allowed. You should only implement one of them.")
    return vjp if vjp is not Function.vjp else backward


class Function(metaclass=_FunctionMeta):
    """Base class for custom operations with a hand-written derivative.

    Define ``forward(ctx, *args)`` (or ``forward(*args)`` plus
    ``setup_context(ctx, inputs, output)``) and ``backward(ctx, *grads)``,
    which returns one gradient per input of ``forward`` (None for inputs
    without one). Call it with ``MyFunction.apply(*args)``.
    """

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        raise NotImplementedError("setup_context is not implemented.")

    #: under ``gradkit.func.vmap``: True runs ``forward`` on the batch as it is (its operations
    #: batch themselves); otherwise a ``vmap`` staticmethod is used, and without one vmap runs
    #: the Function once per example
    generate_vmap_rule = False

    @staticmethod
    def vmap(info: Any, in_dims: Any, *args: Any) -> Any:
        """``vmap(info, in_dims, *args) -> (output, out_dims)``: the Function on a batch.

        ``info.batch_size`` is the batch size; ``in_dims[i]`` is the batch dim of ``args[i]``
        (None: not batched). Call ``apply`` on the batched values and say where their batch
        dims are in the output.
        """
        raise NotImplementedError("To use autograd.Function with vmap, you must either override "
                                  "the vmap staticmethod or set generate_vmap_rule=True.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(f"{self.__class__} should not be instantiated. Methods on autograd functions "
                      "are all static, so you should invoke them on the class itself. Instantiating "
                      "an autograd function will raise an error in a future version of PyTorch.",
                      DeprecationWarning, stacklevel=2)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # NOTE: the pre-1.3 style ``MyFunction()(x)`` (non-static forward), refused as PyTorch does
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. "
                           "Please use new-style autograd function with static forward method. "
                           "(Example: https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        if _R._fw_on and _FORWARD_APPLY:         # a dual level is open: tangents through jvp
            out = _FORWARD_APPLY[0](cls, args, kwargs)
            if out is not NotImplemented:
                return out
        if BATCHED_APPLY:
            out = BATCHED_APPLY[0](cls, args, kwargs)
            if out is not NotImplemented:
                return out
        ctx, output, prev = _run_forward(cls, args, kwargs)
        record = prev and any(ctx.needs_input_grad)
        return _wrap_outputs(cls, ctx, args, output, record, kwargs)


def _run_forward(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                 scope: Any = None) -> tuple[FunctionCtx, Any, bool]:
    """Run ``cls.forward`` without recording (inside ``scope`` if given).

    Returns the ctx, the raw output and whether grad mode was on before.
    """
    import contextlib
    ctx = FunctionCtx()
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
    separate = cls.setup_context is not Function.setup_context
    prev = _state.grad_enabled
    _state.grad_enabled = False
    try:
        with scope if scope is not None else contextlib.nullcontext():
            if separate:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
    finally:
        _state.grad_enabled = prev
    return ctx, output, prev


def _wrap_outputs(cls: Any, ctx: FunctionCtx, args: tuple[Any, ...], output: Any,
                  record: bool, kwargs: Any = None) -> Any:
    single = not isinstance(output, tuple)
    outs = (output,) if single else output
    tensors = []
    for o in outs:
        if isinstance(o, Tensor):
            tensors.append(o)
        elif isinstance(o, np.ndarray):
            tensors.append(_make(o, False, None))
        else:
            tensors.append(o)
    if not record:
        return tensors[0] if single else tuple(tensors)
    node = cls._node_cls()
    node._init_node()
    node.ctx = ctx
    node.fn_cls = cls
    node.n_out = len(tensors)
    node.ans = None
    node.out_meta = tuple((t._data.shape, t._data.dtype) if isinstance(t, Tensor) else ((), None)
                          for t in tensors)
    edges, meta = [], []
    for a in args:
        if isinstance(a, Tensor):
            meta.append((a._data.shape, a._data.dtype))
            edges.append((a._fn, a._oi) if a._fn is not None else (a if a._rg else None))
        else:
            meta.append((None, None))
            edges.append(None)
    node.next = tuple(edges)
    node.meta = tuple(meta)
    # what autograd.explain needs to replay the forward after backward freed ctx's tensors
    node.consts = tuple(None if e is not None else ConstRef(a) if isinstance(a, Tensor) else a
                        for a, e in zip(args, edges))
    node.kwargs = kwargs or None
    node.vers = tuple(a._vc[0] if isinstance(a, Tensor) else 0 for a in args)
    dirty = {id(d) for d in ctx._dirty}
    for d in ctx._dirty:
        if isinstance(d, Tensor):
            if d._fn is None and d._rg:
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   "in-place operation.")
            d._vc[0] += 1
    # NOTE: as in PyTorch, saved tensors take their versions when forward has returned (an
    # in-place change inside forward, after save_for_backward, is not an error)
    for t in ctx._saved or ():
        if isinstance(t, Tensor) and t.is_inference():
            raise RuntimeError(SAVE_INFERENCE)
    ctx._saved_versions = tuple(t._vc[0] if isinstance(t, Tensor) else 0 for t in ctx._saved or ())
    result = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            result.append(t)
            continue
        if any(t is a for a in args) and id(t) not in dirty:
            t = _make(t._data, False, None)          # an input returned as is: a view of it
        if id(t) in ctx._non_diff or t._data.dtype.kind not in "fcV":
            out = t if t._fn is None and not t._rg else _make(t._data, False, None)
        else:
            out = t
            out._fn, out._oi, out._rg = node, i, True
        result.append(out)
    ctx._pack_saved()
    return result[0] if single else tuple(result)


class TwiceDifferentiatedError(RuntimeError):
    """Raised when backward reaches the gradient of a ``@once_differentiable`` backward."""


class _OnceError(Node):
    """The node of a gradient computed by a ``@once_differentiable`` backward under
    ``create_graph``: differentiating through it is PyTorch's error."""

    __slots__ = ()

    @classmethod
    def name(cls) -> str:
        return "Error"

    def _backward(self, grads: list[Any], create_graph: bool) -> tuple[Any, ...]:
        raise TwiceDifferentiatedError("trying to differentiate twice a function that was "
                                       "marked with @once_differentiable")


def once_differentiable(fn: Any) -> Any:
    """Decorator for ``backward``: runs it without recording (no double backward through it).

    When the incoming gradients require grad (``create_graph=True``), the gradients it returns
    require grad too, and differentiating them raises PyTorch's error.
    """
    import functools

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        prev = _state.grad_enabled
        _state.grad_enabled = False
        try:
            out = fn(ctx, *args)
        finally:
            _state.grad_enabled = prev
        if not prev:
            return out
        edges = [(a._fn, a._oi) if a._fn is not None else a for a in args
                 if isinstance(a, Tensor) and a._rg]
        if not edges:
            return out
        single = not isinstance(out, tuple)
        wrapped = []
        for o in ((out,) if single else out):
            if isinstance(o, Tensor) and o._data.dtype.kind in "fcV":
                node = _OnceError()
                node._init_node()
                node.next = tuple(edges)
                node.meta = tuple((None, None) for _ in edges)
                o = _make(o._data, True, node)
            wrapped.append(o)
        return wrapped[0] if single else tuple(wrapped)
    return wrapper
