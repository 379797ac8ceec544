"""``torch.overrides``: the ``__torch_function__`` protocol's public helpers.

The dispatch itself is in ``gradkit/_core/torch_function.py``; this module offers PyTorch's
names for it: :func:`has_torch_function`, :func:`handle_torch_function`, :class:`TorchFunctionMode`,
:func:`get_overridable_functions`, :func:`get_ignored_functions`, :func:`get_testing_overrides`,
:func:`is_tensor_like`, :func:`resolve_name`, ...

Examples
--------
>>> import gradkit as torch
>>> from gradkit.overrides import TorchFunctionMode
>>> class Log(TorchFunctionMode):
...     def __torch_function__(self, func, types, args=(), kwargs=None):
...         print(func.__name__)
...         return func(*args, **(kwargs or {}))
>>> x = torch.ones(2)
>>> with Log():
...     _ = torch.add(x, 1) * 2
add
mul
"""

from __future__ import annotations

import functools
import inspect
from types import FunctionType
from typing import Any, Callable, Iterable

from gradkit._core import torch_function as _tf
from gradkit._core.tensor import Tensor
from gradkit._core.torch_function import resolve_name

__all__ = ["BaseTorchFunctionMode", "TorchFunctionMode", "enable_reentrant_dispatch",
           "get_default_nowrap_functions", "get_ignored_functions", "get_overridable_functions",
           "get_testing_overrides", "handle_torch_function", "has_torch_function",
           "has_torch_function_unary", "has_torch_function_variadic", "is_tensor_like",
           "is_tensor_method_or_property", "redispatch_function", "resolve_name",
           "wrap_torch_function"]


def _has(args: Iterable[Any]) -> bool:
    st = _tf._tls
    if st.skip:                          # redispatch_function: this call is the skipped hop
        st.skip = False
        return False
    if st.all_off:
        return False
    if _tf._n_modes and st.stack:
        return True
    return not st.subclass_off and any(_tf._is_overloaded(a) for a in args)


def has_torch_function(relevant_args: Iterable[Any]) -> bool:
    """Whether one of ``relevant_args`` defines ``__torch_function__`` (a plain Tensor or a
    ``Parameter`` does not count) or a TorchFunctionMode is active: then the function should
    call :func:`handle_torch_function`."""
    return _has(relevant_args)


def has_torch_function_unary(arg: Any) -> bool:
    """:func:`has_torch_function` of one argument."""
    return _has((arg,))


def has_torch_function_variadic(*args: Any) -> bool:
    """:func:`has_torch_function` of the arguments."""
    return _has(args)


def handle_torch_function(public_api: Callable[..., Any], relevant_args: Iterable[Any],
                          *args: Any, **kwargs: Any) -> Any:
    """Call the active mode's and then ``relevant_args``' ``__torch_function__`` for
    ``public_api(*args, **kwargs)``; the first result that is not ``NotImplemented`` is
    returned, a ``TypeError`` if all are."""
    over: list[Any] = []
    if not _tf._tls.subclass_off:
        _tf._gather(relevant_args, over)
    return _tf._handle(public_api, over, args, kwargs or None)


def redispatch_function(func: Callable[..., Any], types: Any, args: Any, kwargs: Any) -> Any:
    """Call ``func`` with its own ``__torch_function__`` check skipped once; the calls inside
    it are dispatched as usual (the result is what ``func`` returns, not converted)."""
    return _tf.skip_one_hop(func, args, kwargs)


def wrap_torch_function(dispatcher: Callable[..., Iterable[Any]]) -> Callable[..., Any]:
    """Make a function dispatchable: ``dispatcher`` (same signature) returns its tensor-likes."""
    def inner(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            relevant = dispatcher(*args, **kwargs)
            if has_torch_function(relevant):
                return handle_torch_function(wrapped, relevant, *args, **kwargs)
            return func(*args, **kwargs)
        return wrapped
    return inner


def is_tensor_like(inp: Any) -> bool:
    """Whether ``inp`` is a Tensor or its type defines ``__torch_function__``."""
    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


def _tensor_methods() -> set[Any]:
    _tf._method_names()
    out = set()
    for name in _tf._method_names():
        value = Tensor.__dict__[name]
        out.add(value.__get__ if isinstance(value, property) else value)
        if name in _tf._RAW:
            raw = _tf._RAW[name]
            out.add(raw.__get__ if isinstance(raw, property) else raw)
    return out


def is_tensor_method_or_property(func: Callable[..., Any]) -> bool:
    """Whether ``func`` is a method or a property getter of ``Tensor``."""
    try:
        if func in _tensor_methods():
            return True
    except TypeError:
        return False
    return getattr(func, "__name__", None) == "__get__"


def get_default_nowrap_functions() -> set[Callable[..., Any]]:
    """What ``Tensor.__torch_function__`` returns as it is (``grad`` stays a plain Tensor)."""
    return {Tensor.__dict__[n].__get__ for n in _tf.NOWRAP
            if isinstance(Tensor.__dict__.get(n), property)}


def _namespaces() -> list[Any]:
    import gradkit
    import gradkit.fft
    import gradkit.linalg
    import gradkit.nn.functional
    import gradkit.special
    return [gradkit, gradkit.nn.functional, gradkit.linalg, gradkit.fft, gradkit.special]


def get_overridable_functions() -> dict[Any, list[Callable[..., Any]]]:
    """Namespace (``torch``, ``torch.nn.functional``, ..., ``torch.Tensor``) -> the functions
    in it that dispatch through ``__torch_function__``, by name."""
    out: dict[Any, list[Callable[..., Any]]] = {}
    for module in _namespaces():
        funcs = [(name, f) for name, f in vars(module).items()
                 if isinstance(f, FunctionType) and f in _tf.PUBLIC and f not in _tf.MODE_ONLY
                 and not name.startswith("_")]
        out[module] = [f for _, f in sorted(funcs, key=lambda item: item[0])]
    methods = []
    for name in sorted(_tf._method_names()):
        value = Tensor.__dict__[name]
        methods.append(value.__get__ if isinstance(value, property) else value)
    out[Tensor] = methods
    return out


def get_ignored_functions() -> set[Callable[..., Any]]:
    """The public functions that never dispatch (factories, seeds, global settings, ...)."""
    import gradkit
    out = {getattr(gradkit, n) for n in gradkit._NOT_DISPATCHED if callable(getattr(gradkit, n, None))}
    out.add(Tensor.as_subclass)         # type: ignore[attr-defined]
    out.add(Tensor.__torch_function__)
    return out


def _dummy(func: Callable[..., Any]) -> Callable[..., Any]:
    target = getattr(func, "__wrapped__", func)
    if isinstance(target, property):
        target = target.fget
    try:
        sig = inspect.signature(target)
        sig = sig.replace(parameters=[p.replace(annotation=inspect.Parameter.empty)
                                      for p in sig.parameters.values()],
                          return_annotation=inspect.Signature.empty)
    except (TypeError, ValueError):
        sig = None

    def dummy(*args: Any, **kwargs: Any) -> Any:
        return -1

    if sig is not None:
        dummy.__signature__ = sig        # type: ignore[attr-defined]
    return dummy


def get_testing_overrides() -> dict[Callable[..., Any], Callable[..., Any]]:
    """Every overridable function -> a dummy with its signature that returns -1 (for checking
    that a ``__torch_function__`` implementation covers the API)."""
    out = {}
    for funcs in get_overridable_functions().values():
        for f in funcs:
            if getattr(f, "__name__", None) == "__get__":
                out[f] = _dummy(f.__self__)
            else:
                out[f] = _dummy(f)
    return out


class TorchFunctionMode:
    """A context manager whose ``__torch_function__(func, types, args, kwargs)`` sees every
    dispatchable call made inside it, plain tensors included. While its handler runs the mode
    is off (its calls go to the modes under it); ``with self:`` inside turns it on again."""

    def __init__(self) -> None:
        pass

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        raise NotImplementedError

    def __enter__(self) -> TorchFunctionMode:
        _tf.push_mode(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _tf.pop_mode()

    @classmethod
    def push(cls, *args: Any, **kwargs: Any) -> TorchFunctionMode:
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    """A mode that runs each function as it is (a base for modes that change a few)."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        return func(*args, **(kwargs or {}))


def _get_current_function_mode() -> Any:
    stack = _tf.mode_stack()
    return stack[-1] if stack else None


def _get_current_function_mode_stack() -> list[Any]:
    return list(_tf.mode_stack())


class enable_reentrant_dispatch:
    """Accepted for PyTorch code; gradkit has no separate dispatcher to re-enter."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
