"""Module hooks as ``torch.nn.Module`` has them: forward pre-hooks and hooks (``with_kwargs``,
``always_call``, ``prepend``), full backward pre-hooks and hooks, the deprecated non-full
backward hook, the global ``register_module_*`` hooks, and the handle they all return.

A full backward hook sees the gradients of the module's tensor inputs and outputs. As in
PyTorch, the inputs are passed through an identity ``BackwardHookFunction`` before ``forward``
and the outputs after it: the node of the outputs records ``grad_output`` (and runs the
backward pre-hooks), the node of the inputs then calls the hooks with ``grad_input``.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Any, Callable

from gradkit._core import grad_mode as _grad_mode
from gradkit._core.tensor import Tensor
from gradkit.autograd.function import Function
from gradkit.utils.hooks import RemovableHandle

__all__ = [
    "RemovableHandle", "register_module_forward_pre_hook", "register_module_forward_hook",
    "register_module_backward_hook", "register_module_full_backward_pre_hook",
    "register_module_full_backward_hook",
]

_global_forward_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_forward_hooks_with_kwargs: OrderedDict[int, bool] = OrderedDict()
_global_forward_hooks_always_called: OrderedDict[int, bool] = OrderedDict()
_global_backward_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_backward_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_is_full_backward_hook: bool | None = None

_MIXED = ("Cannot use both regular backward hooks and full backward hooks on a single Module. "
          "Please use only one of them.")
_MIXED_GLOBAL = ("Cannot use both regular backward hooks and full backward hooks as a global "
                 "Module hook. Please use only one of them.")
_VIEW_INPLACE = ("Output {} of BackwardHookFunction is a view and is being modified inplace. This "
                 "view was created inside a custom Function (or because an input was returned "
                 "as-is) and the autograd logic to handle view+inplace would override the custom "
                 "backward associated with the custom Function, leading to incorrect gradients. "
                 "This behavior is forbidden. You can fix this by cloning the output of the "
                 "custom Function.")


def _add(table: OrderedDict[int, Any], hook: Any, prepend: bool = False,
         flags: tuple[tuple[OrderedDict[int, bool], bool], ...] = ()) -> RemovableHandle:
    handle = RemovableHandle(table, extra_dict=[t for t, _ in flags])
    table[handle.id] = hook
    for flag_table, on in flags:
        if on:
            flag_table[handle.id] = True
    if prepend:
        table.move_to_end(handle.id, last=False)
    return handle


# ----------------------------------------------------------------------------- global hooks
def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Run ``hook(module, args)`` before the ``forward`` of every module (global)."""
    return _add(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook: Callable[..., Any], *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """Run ``hook(module, args, output)`` after the ``forward`` of every module (global)."""
    return _add(_global_forward_hooks, hook, flags=(
        (_global_forward_hooks_with_kwargs, with_kwargs),
        (_global_forward_hooks_always_called, always_call)))


def register_module_full_backward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Run ``hook(module, grad_output)`` for every module before its input gradients (global)."""
    return _add(_global_backward_pre_hooks, hook)


def _set_global_kind(full: bool) -> None:
    global _global_is_full_backward_hook
    if _global_is_full_backward_hook is (not full):
        raise RuntimeError(_MIXED_GLOBAL)
    _global_is_full_backward_hook = full


def register_module_full_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Run ``hook(module, grad_input, grad_output)`` for every module (global)."""
    _set_global_kind(True)
    return _add(_global_backward_hooks, hook)


def register_module_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Deprecated global non-full backward hook; use ``register_module_full_backward_hook``."""
    _set_global_kind(False)
    return _add(_global_backward_hooks, hook)


# ----------------------------------------------------------------------------- the mixin
class ModuleHooks:
    """The hook registration methods of ``Module``."""

    __dict__: dict[str, Any]

    def _hook_table(self, name: str) -> OrderedDict[int, Any]:
        table = self.__dict__.get(name)
        if table is None:                 # a module built before these tables existed
            table = self.__dict__[name] = OrderedDict()
        return table

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before ``forward``; a non-None result replaces ``args``
        (a non-tuple is wrapped in one). With ``with_kwargs``, ``hook(module, args, kwargs)``
        returns ``None`` or a new ``(args, kwargs)``. ``prepend`` runs it before the others."""
        return _add(self._hook_table("_forward_pre_hooks"), hook, prepend,
                    ((self._hook_table("_forward_pre_hooks_with_kwargs"), with_kwargs),))

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
        ``with_kwargs``) after ``forward``; a non-None result replaces the output.
        ``always_call`` runs it even when ``forward`` raised."""
        return _add(self._hook_table("_forward_hooks"), hook, prepend,
                    ((self._hook_table("_forward_hooks_with_kwargs"), with_kwargs),
                     (self._hook_table("_forward_hooks_always_called"), always_call)))

    def register_full_backward_pre_hook(self, hook: Callable[..., Any],
                                        prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients of the outputs are known; a
        non-None result (a tuple as long as ``grad_output``) replaces them."""
        return _add(self._hook_table("_backward_pre_hooks"), hook, prepend)

    def register_full_backward_hook(self, hook: Callable[..., Any],
                                    prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients of the tensor inputs
        are known (``None`` for an input that needs none); a non-None result (a tuple as long as
        ``grad_input``) replaces them. The inputs may not be modified in place in ``forward``."""
        if self.__dict__.get("_is_full_backward_hook") is False:
            raise RuntimeError(_MIXED)
        self.__dict__["_is_full_backward_hook"] = True
        return _add(self._hook_table("_backward_hooks"), hook, prepend)

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Deprecated: ``hook(module, grad_input, grad_output)`` on the last autograd node of
        ``forward`` only, so ``grad_input`` are that node's input gradients. Use
        :meth:`register_full_backward_hook`."""
        if self.__dict__.get("_is_full_backward_hook") is True:
            raise RuntimeError(_MIXED)
        self.__dict__["_is_full_backward_hook"] = False
        return _add(self._hook_table("_backward_hooks"), hook)


# ----------------------------------------------------------------------------- calling
def _backward_hooks(module: Any) -> tuple[list[Any], list[Any]]:
    full: list[Any] = []
    non_full: list[Any] = []
    if _global_backward_hooks:
        (full if _global_is_full_backward_hook else non_full).extend(
            _global_backward_hooks.values())
    own = module.__dict__.get("_backward_hooks")
    if own:
        (full if module.__dict__.get("_is_full_backward_hook") else non_full).extend(own.values())
    return full, non_full


def call(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``module(*args, **kwargs)`` with its hooks and the global ones (``Module._call_impl``)."""
    d = module.__dict__
    own_pre = d.get("_forward_pre_hooks") or {}
    own_post = d.get("_forward_hooks") or {}
    pre_kw = d.get("_forward_pre_hooks_with_kwargs") or {}
    post_kw = d.get("_forward_hooks_with_kwargs") or {}
    always = d.get("_forward_hooks_always_called") or {}
    full, non_full = _backward_hooks(module)
    pre_bw = [*_global_backward_pre_hooks.values(), *(d.get("_backward_pre_hooks") or {}).values()]
    result = None
    called: set[int] = set()
    try:
        for hid, hook in (*_global_forward_pre_hooks.items(), *own_pre.items()):
            if hid in pre_kw:
                res = hook(module, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {res}.")
                    args, kwargs = res
            else:
                res = hook(module, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        bw_hook = None
        if full or pre_bw:
            bw_hook = _BackwardHook(module, full, pre_bw)
            args = bw_hook.setup_input_hook(args)
        result = module.forward(*args, **kwargs)
        for hid, hook in (*_global_forward_hooks.items(), *own_post.items()):
            if hid in always or hid in _global_forward_hooks_always_called:
                called.add(hid)
            if hid in post_kw or hid in _global_forward_hooks_with_kwargs:
                res = hook(module, args, kwargs, result)
            else:
                res = hook(module, args, result)
            if res is not None:
                result = res
        if bw_hook is not None:
            if not isinstance(result, (Tensor, tuple)):
                warnings.warn("For backward hooks to be called, module output should be a Tensor "
                              f"or a tuple of Tensors but received {type(result)}", stacklevel=3)
            result = bw_hook.setup_output_hook(result)
        if non_full:
            _attach_non_full(module, non_full, args, result)
        return result
    except Exception:
        _run_always_called(module, args, kwargs, result, called, own_post, post_kw, always)
        raise


def _run_always_called(module: Any, args: Any, kwargs: Any, result: Any, called: set[int],
                       own_post: Any, post_kw: Any, always: Any) -> None:
    """After ``forward`` (or a hook) raised: the ``always_call`` hooks that did not run yet."""
    for hid, hook in _global_forward_hooks.items():
        if hid in _global_forward_hooks_always_called and hid not in called:
            try:
                res = hook(module, args, result)
                result = result if res is None else res
            except Exception as e:  # noqa: BLE001 - PyTorch silences it with a warning
                warnings.warn("global module forward hook with ``always_call=True`` raised an "
                              "exception that was silenced as another error was raised in "
                              f"forward: {e}", stacklevel=4)
    for hid, hook in own_post.items():
        if hid in always and hid not in called:
            try:
                res = (hook(module, args, kwargs, result) if hid in post_kw
                       else hook(module, args, result))
                result = result if res is None else res
            except Exception as e:  # noqa: BLE001 - PyTorch silences it with a warning
                warnings.warn("module forward hook with ``always_call=True`` raised an exception "
                              f"that was silenced as another error was raised in forward: {e}",
                              stacklevel=4)


# ----------------------------------------------------------------------------- full backward hooks
class BackwardHookFunction(Function):
    """Identity on the module's tensors; its graph node carries the module's backward hooks."""

    @staticmethod
    def forward(ctx: Any, *args: Any) -> Any:
        ctx.mark_non_differentiable(*[a for a in args if not a.requires_grad])
        return args

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        return grads


def _pack_with_none(indices: list[int], values: Any, size: int) -> tuple[Any, ...]:
    res: list[Any] = [None] * size
    for i, v in zip(indices, values):
        res[i] = v
    return tuple(res)


class _BackwardHook:
    """One call's full backward hooks (PyTorch's ``torch.utils.hooks.BackwardHook``)."""

    def __init__(self, module: Any, user_hooks: list[Any], user_pre_hooks: list[Any]) -> None:
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs: tuple[Any, ...] | None = None
        self.n_inputs = self.n_outputs = -1
        self.input_index: list[int] | None = None
        self.output_index: list[int] | None = None

    @staticmethod
    def _apply_on_tensors(fn: Callable[[Any], None],
                          args: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[int] | None]:
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in index]
        if not (any(t.requires_grad for t in tensors) and _grad_mode.is_grad_enabled()):
            return args, None
        new = BackwardHookFunction.apply(*tensors)
        nodes = [t.grad_fn for t in new if t.grad_fn is not None]
        fn(nodes[0])
        for k, t in enumerate(new):
            if t.grad_fn is not None:      # a view made in a custom Function: no in-place
                t.__dict__["_inplace_refused"] = _VIEW_INPLACE.format(k)
        out = list(args)
        for i, t in zip(index, new):
            out[i] = t
        return tuple(out), index

    def setup_input_hook(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        res, self.input_index = self._apply_on_tensors(self._set_user_hook, args)
        self.n_inputs = len(args)
        return res

    def _set_user_hook(self, node: Any) -> None:
        def hook(grad_input: tuple[Any, ...], _: Any) -> Any:
            if self.grad_outputs is None:
                # the gradient reached the inputs without passing the outputs (double backward)
                return None
            assert self.input_index is not None
            res = _pack_with_none(self.input_index, grad_input, self.n_inputs)
            for user_hook in self.user_hooks:
                out = user_hook(self.module, res, self.grad_outputs)
                if out is None:
                    continue
                if len(out) != len(res):
                    raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                       f"got {len(out)}, but expected {len(res)}")
                res = out
            self.grad_outputs = None
            return tuple(res[i] for i in self.input_index)
        node.register_hook(hook)

    def setup_output_hook(self, result: Any) -> Any:
        single = not isinstance(result, tuple)
        args = (result,) if single else result
        res, self.output_index = self._apply_on_tensors(self._set_output_pre_hook, args)
        self.n_outputs = len(args)
        return res[0] if single else res

    def _set_output_pre_hook(self, node: Any) -> None:
        def hook(grad_output: tuple[Any, ...]) -> Any:
            assert self.output_index is not None
            self.grad_outputs = _pack_with_none(self.output_index, grad_output, self.n_outputs)
            for user_pre_hook in self.user_pre_hooks:
                new = user_pre_hook(self.module, self.grad_outputs)
                if new is None:
                    continue
                if len(new) != len(self.grad_outputs):
                    raise RuntimeError("Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(new)}, but expected "
                                       f"{len(self.grad_outputs)}")
                self.grad_outputs = tuple(new)
            local = self.grad_outputs
            if self.input_index is None:
                # no input needs a gradient: the hooks run here, with grad_input all None
                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect to "
                    "module outputs since no inputs require gradients. See "
                    "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                    "#torch.nn.Module.register_full_backward_hook for more details.",
                    stacklevel=2)
                grad_inputs = _pack_with_none([], [], self.n_inputs)
                for user_hook in self.user_hooks:
                    res = user_hook(self.module, grad_inputs, self.grad_outputs)
                    if res is not None and not (isinstance(res, tuple)
                                                and all(r is None for r in res)):
                        raise RuntimeError("Backward hook for Modules where no input requires "
                                           "gradient should always return None or None for all "
                                           "gradients.")
                self.grad_outputs = None
            return tuple(local[i] for i in self.output_index)
        node.register_prehook(hook)


# ----------------------------------------------------------------------------- non-full hooks
def _attach_non_full(module: Any, hooks: list[Any], args: tuple[Any, ...], result: Any) -> None:
    var = result
    while not isinstance(var, Tensor):
        var = next(v for v in var.values() if isinstance(v, Tensor)) if isinstance(var, dict) \
            else var[0]
    node = var.grad_fn
    if node is None:
        return
    for hook in hooks:
        node.register_hook(lambda gi, go, hook=hook: hook(module, gi, go))
    _warn_non_full(args, result, node)


def _warn_non_full(inputs: Any, result: Any, node: Any) -> None:
    """PyTorch's warnings for the cases where a non-full hook misses gradients."""
    tail = " Please use register_full_backward_hook to get the documented behavior."
    if not isinstance(result, Tensor):
        if not (isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result)):
            warnings.warn("Using non-full backward hooks on a Module that does not return a "
                          "single Tensor or a tuple of Tensors is deprecated and will be removed "
                          "in future versions. This hook will be missing some of the grad_output."
                          + tail, stacklevel=4)
            return
    else:
        result = (result,)
    if not isinstance(inputs, Tensor):
        if not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
            warnings.warn("Using non-full backward hooks on a Module that does not take as input "
                          "a single Tensor or a tuple of Tensors is deprecated and will be "
                          "removed in future versions. This hook will be missing some of the "
                          "grad_input." + tail, stacklevel=4)
            return
    else:
        inputs = (inputs,)
    out_nodes = {r.grad_fn for r in result if r.grad_fn is not None}
    if not out_nodes or (len(out_nodes) == 1 and node not in out_nodes):
        warnings.warn("Using a non-full backward hook when outputs are nested in python data "
                      "structure is deprecated and will be removed in future versions. This hook "
                      "will be missing some grad_output.", stacklevel=4)
    elif len(out_nodes) > 1:
        warnings.warn("Using a non-full backward hook when outputs are generated by different "
                      "autograd Nodes is deprecated and will be removed in future versions. This "
                      "hook will be missing some grad_output." + tail, stacklevel=4)
    else:
        in_nodes = {i.grad_fn for i in inputs if i.grad_fn is not None}
        if in_nodes != {n for n, _ in node.next_functions}:
            warnings.warn("Using a non-full backward hook when the forward contains multiple "
                          "autograd Nodes is deprecated and will be removed in future versions. "
                          "This hook will be missing some grad_input." + tail, stacklevel=4)
