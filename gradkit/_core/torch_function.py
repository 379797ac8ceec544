"""PyTorch's ``__torch_function__`` protocol: the dispatch behind public functions and methods.

A public function (``gk.add``, ``F.relu``, ...) is a thin wrapper (:func:`dispatchable`) around
its implementation. Its fast path looks at the exact types of its arguments: when each is a
plain type (``Tensor`` itself, numbers, ``None``, ``Parameter``, types seen before without a
``__torch_function__``) and no :class:`TorchFunctionMode` is active anywhere, it calls the
implementation at once. Otherwise :func:`_dispatch` gathers the arguments whose type defines
``__torch_function__`` (looking one level into lists and tuples, as PyTorch's tensor lists)
and hands the call to the active mode first, then to those arguments, subclasses before their
bases, otherwise left to right; the first answer that is not ``NotImplemented`` is the result.

Tensor methods and properties cost nothing on a plain ``Tensor``: a Tensor subclass whose
``__torch_function__`` is not the disabled one gets dispatching versions of the methods it
does not define itself when it is created (:func:`subclass_created`), and ``Tensor`` itself
gets them only while a mode is entered (:func:`_swap_methods`).

Nothing here imports ``tensor.py``: it registers ``Tensor`` with :func:`register_tensor`.
"""

from __future__ import annotations

import threading
import types as _types
import warnings
from typing import Any, Callable, Iterable

import numpy as _np

_Tensor: Any = None                   # gradkit.Tensor, registered by tensor.py

#: how many TorchFunctionMode contexts are entered, over all threads (the fast path's one test)
_n_modes = 0
_modes_lock = threading.Lock()


class _State(threading.local):
    stack: list[Any]
    subclass_off = False              # DisableTorchFunctionSubclass: arguments are not asked
    all_off = False                   # DisableTorchFunction: neither arguments nor modes
    skip = False                      # redispatch_function: the next dispatch is skipped

    def __init__(self) -> None:
        self.stack = []


_tls = _State()


def _disabled_torch_function_impl(func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
    """A ``__torch_function__`` that turns the protocol off for a Tensor subclass.

    ``class P(Tensor): __torch_function__ = _disabled_torch_function_impl`` makes ``P``
    behave as a plain Tensor in dispatch: operations on it return plain Tensors (as on
    ``nn.Parameter``)."""
    with DisableTorchFunctionSubclass():
        return func(*args, **(kwargs or {}))


#: exact types that never dispatch (Tensor itself; subclasses with the disabled impl and
#: types without ``__torch_function__`` join on first sight)
_PLAIN: set[type] = {int, float, bool, complex, str, type(None), slice, type(Ellipsis), bytes}


def _type_is_plain(t: type) -> bool:
    tf = getattr(t, "__torch_function__", None)
    if tf is None or tf is _disabled_torch_function_impl or t is _Tensor:
        _PLAIN.add(t)
        return True
    return False


def _is_overloaded(a: Any) -> bool:
    t = type(a)
    return t not in _PLAIN and not _type_is_plain(t)


def _gather(args: Iterable[Any], out: list[Any]) -> None:
    for a in args:
        t = type(a)
        if t in _PLAIN:
            continue
        if t is list or t is tuple:
            _gather(a, out)                  # a list of tensors (torch.cat([...]))
        elif not _type_is_plain(t):
            for i, old in enumerate(out):
                if type(old) is t:
                    break
                if issubclass(t, type(old)):  # subclasses before their bases
                    out.insert(i, a)
                    break
            else:
                out.append(a)


def _overloaded(args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> list[Any]:
    out: list[Any] = []
    _gather(args, out)
    if kwargs:
        _gather(kwargs.values(), out)
    return out


def _dispatch(public: Any, impl: Callable[..., Any], args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Any:
    """The slow path: an argument may have ``__torch_function__`` or a mode may be active."""
    st = _tls
    if st.skip:
        st.skip = False
        return impl(*args, **kwargs)
    if st.all_off:
        return impl(*args, **kwargs)
    over = [] if st.subclass_off else _overloaded(args, kwargs)
    if not over and not (_n_modes and st.stack):
        return impl(*args, **kwargs)
    return _handle(public, over, args, kwargs or None)


_PLAIN_METHOD = ("Defining your `__torch_function__` as a plain method is deprecated and will be "
                 "an error in future, please define it as a classmethod.")


_warned = [False]


def _handle(public: Any, over: list[Any], args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> Any:
    types = tuple(type(a) for a in over)
    stack = _tls.stack
    if _n_modes and stack and not _tls.all_off:
        mode = stack.pop()                   # the mode's own calls go to the modes under it
        try:
            ret = mode.__torch_function__(public, types, args, kwargs)
        finally:
            stack.append(mode)
        if ret is not NotImplemented:
            return ret
    for a in over:
        method = a.__torch_function__
        if getattr(method, "__self__", None) is a and not _warned[0]:
            _warned[0] = True                # once a process, as PyTorch's
            warnings.warn(_PLAIN_METHOD, UserWarning, stacklevel=4)
        ret = method(public, types, args, kwargs)
        if ret is not NotImplemented:
            return ret
    lines = "\n".join(f"  - tensor subclass {t}" for t in types)
    if not over:
        lines = "\n".join(f"  - mode object {m}" for m in stack[-1:])
    raise TypeError(f"Multiple dispatch failed for '{resolve_name(public)}'; all "
                    f"__torch_function__ handlers returned NotImplemented:\n\n{lines}\n")


def _copy_meta(wrapper: Any, impl: Any) -> None:
    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        try:
            setattr(wrapper, attr, getattr(impl, attr))
        except AttributeError:
            pass
    wrapper.__dict__.update(getattr(impl, "__dict__", {}))
    wrapper.__wrapped__ = impl


#: implementation -> its dispatching public function (one wrapper per function, so a function
#: exported under two names is one object in both, as ``HANDLED_FUNCTIONS`` keys need)
_WRAPPERS: dict[Any, Any] = {}
#: every dispatching public function -> the namespace that shows it (get_overridable_functions)
PUBLIC: dict[Any, str] = {}


def dispatchable(impl: Callable[..., Any], name: str | None = None) -> Callable[..., Any]:
    """``impl`` as a public function that honours ``__torch_function__`` and modes (``name``:
    a ``__name__`` of its own, as ``linalg_norm``, and a wrapper of its own)."""
    if name is None and impl in _WRAPPERS:
        return _WRAPPERS[impl]
    plain = _PLAIN

    def public(*args: Any, **kwargs: Any) -> Any:
        # NOTE: the fast path: no mode anywhere, every argument of a plain exact type
        if not _n_modes:
            for a in args:
                if type(a) not in plain:
                    break
            else:
                if not kwargs:
                    return impl(*args)
                for a in kwargs.values():
                    if type(a) not in plain:
                        break
                else:
                    return impl(*args, **kwargs)
        return _dispatch(public, impl, args, kwargs)

    _copy_meta(public, impl)
    if name is None:
        _WRAPPERS[impl] = public
    else:
        public.__name__ = name
    return public


#: functions that only the active mode sees (factories: no argument to dispatch on)
MODE_ONLY: set[Any] = set()


def mode_only(impl: Callable[..., Any]) -> Callable[..., Any]:
    """``impl`` as a public function that only a TorchFunctionMode intercepts (a factory
    such as ``ones``: PyTorch lists it among the ignored functions, yet modes see it)."""
    if impl in _WRAPPERS:
        return _WRAPPERS[impl]

    def public(*args: Any, **kwargs: Any) -> Any:
        if _n_modes:
            st = _tls
            if st.stack and not st.all_off:
                if st.skip:
                    st.skip = False
                else:
                    return _handle(public, [], args, kwargs or None)
        return impl(*args, **kwargs)

    _copy_meta(public, impl)
    _WRAPPERS[impl] = public
    MODE_ONLY.add(public)
    return public


def wrap_namespace(namespace: dict[str, Any], names: Iterable[str], where: str,
                   modes_only: bool = False, prefix: str = "") -> None:
    """Replace the functions ``names`` of a module's globals by their dispatching versions
    (``modes_only``: versions that only modes see; ``prefix``: their ``__name__`` starts with
    it, as PyTorch's ``torch.linalg.norm.__name__`` is ``linalg_norm``)."""
    for name in names:
        f = namespace.get(name)
        if isinstance(f, _types.FunctionType) and not name.startswith("_"):
            if f in PUBLIC:
                w = f
            elif modes_only:
                w = mode_only(f)
            else:
                w = dispatchable(f, prefix + name if prefix else None)
            namespace[name] = w
            PUBLIC.setdefault(w, f"{where}.{name}")


# --------------------------------------------------------------- Tensor methods and properties
#: Tensor attributes that are never dispatched (construction, the protocol itself, NumPy's
#: protocols, pickling, identity; ``as_subclass`` is one of PyTorch's ignored functions)
_NOT_METHODS = frozenset({
    "__init__", "__new__", "__init_subclass__", "__torch_function__", "__getattribute__",
    "__getattr__", "__setattr__", "__delattr__", "__class__", "__dict__", "__slots__",
    "__weakref__", "__hash__", "__array__", "__array_ufunc__", "__array_function__",
    "__array_priority__", "__array_wrap__", "__array_interface__", "__reduce_ex__", "__reduce__",
    "__deepcopy__", "__copy__", "__getstate__", "__setstate__", "__sizeof__", "__dir__",
    "__module__", "__doc__", "__annotations__", "__dlpack__", "__dlpack_device__",
    "__cuda_array_interface__", "as_subclass", "__class_getitem__", "__subclasshook__",
    "__iter__",          # as PyTorch's: not dispatched itself, its unbind() is (items keep the type)
})
#: properties whose value is returned as it is, never turned into the subclass (PyTorch's
#: ``get_default_nowrap_functions``)
NOWRAP = {"grad", "_base", "_grad"}


def _method_names() -> list[str]:
    names = []
    for name, value in vars(_Tensor).items():
        if name in _NOT_METHODS or (name.startswith("_") and not
                                    (name.startswith("__") and name.endswith("__"))):
            continue
        if isinstance(value, (_types.FunctionType, property)) or getattr(value, "_tf_raw", None):
            names.append(name)
    return names


#: operators that PyTorch hands to ``__torch_function__`` as the method they alias
#: (``x + 1`` is seen as ``Tensor.add``, ``x -= 1`` as ``Tensor.sub_``)
ALIASES = {"__add__": "add", "__radd__": "add", "__iadd__": "add_", "__mul__": "mul",
           "__rmul__": "mul", "__imul__": "mul_", "__sub__": "sub", "__isub__": "sub_",
           "__truediv__": "div", "__itruediv__": "div_", "__neg__": "neg", "__pos__": "positive",
           "__lt__": "lt", "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__ne__": "ne",
           "__matmul__": "matmul", "__abs__": "abs", "__mod__": "remainder",
           "__imod__": "remainder_", "__ifloordiv__": "floor_divide_", "__rand__": "bitwise_and",
           "__ror__": "bitwise_or", "__rxor__": "bitwise_xor", "__str__": "__repr__"}

#: the binary operators: what they decline without dispatch is what a plain Tensor's decline
_BINARY = frozenset(f"__{p}{op}__" for p in ("", "r", "i") for op in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
    "lshift", "rshift", "div")) | {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"}
_OPERANDS: tuple[type, ...] = (int, float, bool, complex, list, tuple, _np.ndarray, _np.generic)

#: name -> the original attribute of Tensor (a function or a property)
_RAW: dict[str, Any] = {}
#: name -> its dispatching version (installed on subclasses, and on Tensor while a mode is on)
_DISPATCHING: dict[str, Any] = {}


def _current_func(name: str) -> Any:
    """What ``Tensor.<name>`` (or ``Tensor.<name>.__get__``) is now: the ``func`` handlers see."""
    value = _Tensor.__dict__[name]
    return value.__get__ if isinstance(value, property) else value


def _dispatching_version(name: str) -> Any:
    if name in _DISPATCHING:
        return _DISPATCHING[name]
    raw = _Tensor.__dict__[name]
    if isinstance(raw, property):
        fget, fset = raw.fget, raw.fset

        def get(self: Any) -> Any:
            return _dispatch(_current_func_get(name), fget, (self,), {})

        def set_(self: Any, value: Any) -> Any:
            return _dispatch(_current_func_set(name), fset, (self, value), {})

        w: Any = property(get, set_ if fset is not None else None, raw.fdel, raw.__doc__)
    else:
        shown = ALIASES.get(name, name)
        if shown not in vars(_Tensor):
            shown = name

        if name in _BINARY:
            def method(*args: Any, **kwargs: Any) -> Any:
                # NOTE: an operand a plain Tensor's operator declines (None, a str, an object
                # with __radd__, ...) is declined the same way, before any dispatch: Python
                # then asks the other operand, as PyTorch's argument parsing does
                if len(args) == 2 and not kwargs:
                    other = args[1]
                    if other is None or not (isinstance(other, _OPERANDS) or
                                             _is_overloaded(other)):
                        return raw(*args)
                return _dispatch(_current_func(shown), raw, args, kwargs)
        else:
            def method(*args: Any, **kwargs: Any) -> Any:
                return _dispatch(_current_func(shown), raw, args, kwargs)

        _copy_meta(method, raw)
        method._tf_raw = raw                 # type: ignore[attr-defined]
        w = method
    _RAW[name] = raw
    _DISPATCHING[name] = w
    return w


def _current_func_get(name: str) -> Any:
    return _Tensor.__dict__[name].__get__


def _current_func_set(name: str) -> Any:
    return _Tensor.__dict__[name].__set__


def subclass_created(cls: type) -> None:
    """``Tensor.__init_subclass__``: a subclass that keeps the protocol gets dispatching
    versions of the Tensor methods and properties it does not define itself."""
    if getattr(cls, "__torch_function__", None) is _disabled_torch_function_impl:
        _PLAIN.add(cls)
        return
    _PLAIN.discard(cls)
    own = set()
    for klass in cls.__mro__:
        if klass is _Tensor:
            break
        own.update(n for n, v in vars(klass).items() if not getattr(v, "_tf_raw", None)
                   and not (isinstance(v, property) and v in _DISPATCHING.values()))
    for name in _method_names():
        if name not in own:
            setattr(cls, name, _dispatching_version(name))


def _swap_methods(on: bool) -> None:
    """Tensor's own methods dispatch while some mode is entered (plain tensors reach modes)."""
    if on:
        for name in _method_names():
            if name not in _RAW or _Tensor.__dict__[name] is _RAW[name]:
                w = _dispatching_version(name)
                setattr(_Tensor, name, w)
    else:
        for name, raw in _RAW.items():
            if _Tensor.__dict__.get(name) is _DISPATCHING[name]:
                setattr(_Tensor, name, raw)


#: PyTorch's ``__name__`` of the operators whose name is not their attribute's
_TORCH_NAMES = {"__pow__": "pow", "__rtruediv__": "__rdiv__"}


def name_tensor_methods() -> None:
    """Give the Tensor methods made by factories (``method``, ``<lambda>``, ``_pow_op``) the
    name they are reached by, as a ``__torch_function__`` handler prints ``func.__name__``."""
    seen: dict[int, int] = {}
    for value in vars(_Tensor).values():
        seen[id(value)] = seen.get(id(value), 0) + 1
    for name, value in vars(_Tensor).items():
        if not isinstance(value, _types.FunctionType) or seen[id(value)] != 1:
            continue
        own = value.__name__
        if name in _TORCH_NAMES:
            value.__name__ = _TORCH_NAMES[name]
        elif own != name and (own in ("method", "<lambda>") or "<locals>" in value.__qualname__
                            or (own.startswith("_") and not own.startswith("__"))):
            value.__name__ = name
            value.__qualname__ = f"Tensor.{name}"


def register_tensor(cls: type) -> None:
    global _Tensor, _OPERANDS
    _Tensor = cls
    _PLAIN.add(cls)
    _OPERANDS = (cls, *_OPERANDS)


# --------------------------------------------------------------- the default and the contexts
def _convert(ret: Any, cls: type) -> Any:
    if isinstance(ret, _Tensor) and not isinstance(ret, cls):
        return ret.as_subclass(cls)
    if isinstance(ret, (tuple, list)):
        # NOTE: a structseq (values, indices) and a plain tuple or list keep their own type
        items = [_convert(r, cls) for r in ret]
        if type(ret) is list:
            return items
        if type(ret) is tuple:
            return tuple(items)
        try:
            return type(ret)(items)
        except TypeError:
            return type(ret)(*items)
    return ret


def tensor_torch_function(cls: type, func: Any, types: Any, args: Any = (),
                          kwargs: Any = None) -> Any:
    """``Tensor.__torch_function__``: run ``func`` and return its tensors as ``cls``."""
    if kwargs is None:
        kwargs = {}
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        ret = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if name == "__get__" and _nowrap(func):
            return ret
        return _convert(ret, cls)


def _nowrap(func: Any) -> bool:
    for name in NOWRAP:
        prop = _Tensor.__dict__.get(name)
        if isinstance(prop, property) and getattr(func, "__self__", None) is prop:
            return True
        if name in _RAW and getattr(func, "__self__", None) is _RAW[name]:
            return True
    return False


class DisableTorchFunctionSubclass:
    """Inside it, arguments' ``__torch_function__`` is not called (modes still are)."""

    def __enter__(self) -> DisableTorchFunctionSubclass:
        self._prev = _tls.subclass_off
        _tls.subclass_off = True
        return self

    def __exit__(self, *exc: object) -> None:
        _tls.subclass_off = self._prev


class DisableTorchFunction:
    """Inside it, neither arguments' ``__torch_function__`` nor modes are called."""

    def __enter__(self) -> DisableTorchFunction:
        self._prev = (_tls.subclass_off, _tls.all_off)
        _tls.subclass_off = _tls.all_off = True
        return self

    def __exit__(self, *exc: object) -> None:
        _tls.subclass_off, _tls.all_off = self._prev


def push_mode(mode: Any) -> None:
    global _n_modes
    _tls.stack.append(mode)
    with _modes_lock:
        _n_modes += 1
        if _n_modes == 1:
            _swap_methods(True)


def pop_mode() -> Any:
    global _n_modes
    if not _tls.stack:
        raise RuntimeError("Trying to pop from an empty mode stack")
    mode = _tls.stack.pop()
    with _modes_lock:
        _n_modes -= 1
        if _n_modes == 0:
            _swap_methods(False)
    return mode


def mode_stack() -> list[Any]:
    return _tls.stack


def skip_one_hop(func: Any, args: Any, kwargs: Any) -> Any:
    """``redispatch_function``: call ``func`` with its own dispatch skipped once."""
    _tls.skip = True
    try:
        return func(*args, **(kwargs or {}))
    finally:
        _tls.skip = False


def is_enabled() -> bool:
    return not _tls.subclass_off


def resolve_name(f: Any) -> str | None:
    """The public name PyTorch prints for ``f`` (``torch.add``, ``torch.Tensor.add``,
    ``torch.Tensor.grad.__get__``), or None."""
    if f in PUBLIC:
        return PUBLIC[f].replace("gradkit", "torch", 1)
    if _Tensor is not None:
        owner = getattr(f, "__self__", None)
        if isinstance(owner, property):
            for name, value in list(vars(_Tensor).items()) + list(_RAW.items()):
                if value is owner:
                    return f"torch.Tensor.{name}.{f.__name__}"
            for name, value in _DISPATCHING.items():
                if value is owner:
                    return f"torch.Tensor.{name}.{f.__name__}"
        for table in (vars(_Tensor), _RAW, _DISPATCHING):
            names = [name for name, value in table.items() if value is f]
            if names:
                # one function under several names (``neg`` and ``__neg__``): its own name,
                # else a method name before an operator's
                own = getattr(f, "__name__", None)
                best = own if own in names else min(names, key=lambda n: n.startswith("__"))
                return f"torch.Tensor.{best}"
    module = getattr(f, "__module__", None)
    qual = getattr(f, "__qualname__", None)
    if module and qual:
        return f"{module}.{qual}"
    return None
