"""``Module`` and ``Parameter``: the containers of state that layers are built from (as ``torch.nn``)."""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Any, Callable, Iterator

import numpy as np

from gradkit._core import dtype as _dtype
from gradkit._core.tensor import Tensor, _INFERENCE_VC, _init
from gradkit._core import backend as _backend

from . import _hooks, _state_dict
from ._hooks import (ModuleHooks, register_module_backward_hook,
                     register_module_forward_hook, register_module_forward_pre_hook,
                     register_module_full_backward_hook, register_module_full_backward_pre_hook)

__all__ = ["Module", "Parameter", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_backward_hook", "register_module_full_backward_pre_hook",
           "register_module_full_backward_hook"]


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning it to a ``Module`` attribute registers it.

    Examples
    --------
    >>> import gradkit as gk
    >>> Parameter(gk.tensor([1.0, 2.0]))
    Parameter containing:
    tensor([1., 2.], requires_grad=True)
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            arr = np.zeros((0,), dtype=_dtype.get_default_dtype().np)
        else:
            arr = data._data if isinstance(data, Tensor) else np.asarray(data)
        _init(self, arr, False, None)
        if isinstance(data, Tensor):
            # NOTE: as in PyTorch, an alias of ``data``: an inference tensor's parameter is an
            # inference tensor (and refuses requires_grad outside inference mode), a normal
            # tensor's is normal even when made inside inference mode
            self._vc = _INFERENCE_VC if data.is_inference() else [0]
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (Parameter, (Tensor(self._data), self.requires_grad))


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns; prints ``<All keys matched successfully>`` when empty."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(s: str, n: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


class Module(ModuleHooks):
    """Base class of all layers and models.

    Attributes that are :class:`Parameter`, ``Module`` or registered buffers are
    tracked, so ``parameters()``, ``state_dict()``, ``train()``/``eval()`` see them.

    Examples
    --------
    >>> import gradkit as gk
    >>> from gradkit import nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = nn.Linear(2, 1)
    ...     def forward(self, x):
    ...         return self.fc(x)
    >>> net = Net()
    >>> [name for name, _ in net.named_parameters()]
    ['fc.weight', 'fc.bias']
    >>> net
    Net(
      (fc): Linear(in_features=2, out_features=1, bias=True)
    )
    """

    training: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # NOTE: layers take PyTorch's ``device=`` argument; rather than threading it through
        # every constructor, the outermost ``__init__`` moves what it built to that device.
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or "device" not in init.__code__.co_varnames[:init.__code__.co_argcount +
                                                                     init.__code__.co_kwonlyargcount]:
            return
        import functools
        import inspect
        sig = inspect.signature(init)

        @functools.wraps(init)
        def __init__(self: Module, *args: Any, **kw: Any) -> None:
            outer = not self.__dict__.get("_building")
            self.__dict__["_building"] = True
            device = sig.bind(self, *args, **kw).arguments.get("device") if outer else None
            try:
                if device is not None and _backend.device(device).type == "meta":
                    # NOTE: built on the meta device (no storage, no random draws), as PyTorch
                    with _backend.device("meta"):
                        init(self, *args, **kw)
                else:
                    init(self, *args, **kw)
            finally:
                if outer:
                    self.__dict__.pop("_building", None)
            if device is not None:
                self.to(device)
        cls.__init__ = __init__  # type: ignore[method-assign]

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        for table in ("_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
                      "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_backward_hooks",
                      "_backward_pre_hooks"):
            d[table] = OrderedDict()
        d["_is_full_backward_hook"] = None

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        d = self.__dict__
        try:
            # NOTE: written out (no helper call): this test runs on every layer call
            if not (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]
                    or d["_backward_pre_hooks"] or _hooks._global_forward_pre_hooks
                    or _hooks._global_forward_hooks or _hooks._global_backward_hooks
                    or _hooks._global_backward_pre_hooks):
                return self.forward(*args, **kwargs)
        except KeyError:                     # a module restored without these tables
            pass
        return _hooks.call(self, args, kwargs)

    # ------------------------------------------------------------------ registration
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(self, name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to "
                f"parameter '{name}' (torch.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must "
                "be created explicitly."
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add state that is not a parameter (``running_mean``); ``persistent`` buffers are saved."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(self, name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                "(torch Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name or name == "":
            raise KeyError(
                f'module name can\'t contain ".", got: {name}'
                if name
                else 'module name can\'t be empty string ""'
            )
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(self, name, "_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as "
                    f"parameter '{name}' (torch.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Tensor) and getattr(value, "_is_buffer", False):  # nn.Buffer
            if "_buffers" not in d:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            _remove_from(self, name, "_buffers")
            self.register_buffer(name, value, getattr(value, "persistent", True))
        elif isinstance(value, Module):
            if "_modules" not in d:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _remove_from(self, name, "_modules")
            d["_modules"][name] = value
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as "
                    f"child module '{name}' (torch.nn.Module or None expected)"
                )
            d["_modules"][name] = None
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as buffer '{name}' "
                    "(torch.Tensor or None expected)"
                )
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(table, {}):
                del self.__dict__[table][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = list(super().__dir__()) + list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(k for k in keys if not k[0].isdigit()))

    # ------------------------------------------------------------------ traversal
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        if memo is None:
            memo = set()
        if remove_duplicate and id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(
        self, table: str, prefix: str, recurse: bool, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        mods = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for mod_prefix, mod in mods:
            for name, v in getattr(mod, table).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mod_prefix + ("." if mod_prefix else "") + name, v

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` (``"seq.0"``); ``""`` is ``self``."""
        mod: Any = self
        for item in target.split(".") if target else []:
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put ``module`` at dotted path ``target``, replacing what is there."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if strict and not hasattr(parent, name):
            raise AttributeError(parent._get_name() + " has no attribute `" + name + "`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError("`" + name + "` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (``"seq.0.bias"``)."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target`` (``"bn.running_mean"``)."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        if name not in mod._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return mod._buffers[name]

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p._grad is not None:
                if set_to_none:
                    p._grad = None
                else:
                    p._grad = p._grad.detach()
                    p._grad._data[...] = 0

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first), then on ``self``."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _apply(self, fn: Callable[[np.ndarray], np.ndarray]) -> Module:
        for m in self.children():
            m._apply(fn)
        for table in (self._parameters, self._buffers):
            for t in table.values():
                if t is not None:
                    t._data = fn(t._data)
                    if t._grad is not None:
                        t._grad._data = fn(t._grad._data)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move parameters and buffers to a device and/or cast the floating ones to a dtype
        (``to('cuda')``, ``to(gk.float64)``, ``to('cpu', gk.float32)``), in place."""
        dtype = kwargs.get("dtype")
        device = kwargs.get("device")
        for a in args:
            if isinstance(a, _dtype.dtype):
                dtype = a
            elif isinstance(a, (str, _backend.device)):
                device = a
            elif hasattr(a, "_data"):                   # to(tensor): its dtype and device
                dtype, device = a.dtype, a.device
        if device is not None:
            from gradkit._core.creation import _place
            self._apply(lambda arr: _place(arr, device))
        if kwargs.get("memory_format") is not None:
            self._apply(_relayout(kwargs["memory_format"]))
        if dtype is None:
            return self
        dtype = _dtype.as_dtype(dtype)
        if not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but got "
                            f"desired dtype={dtype}")
        # NOTE: integer buffers (num_batches_tracked) keep their dtype; complex tensors are
        # cast only to a complex dtype, so no imaginary part is dropped
        kinds = "fc" if dtype.is_complex else "f"
        return self._apply(lambda a: a.astype(dtype.np) if a.dtype.kind in kinds else a)

    def to_empty(self, *, device: Any, recurse: bool = True) -> Module:
        """Move parameters and buffers to ``device`` with new storage whose values are
        unspecified (PyTorch's; here zeros, or none on the meta device): values are not copied,
        so a module built on ``'meta'`` can be given storage and then initialised
        (``reset_parameters()``, ``nn.init``) or loaded (``load_state_dict``).
        With ``recurse=False`` only this module's own parameters and buffers move."""
        from gradkit._core.creation import _blank, _place

        def fresh(a: Any) -> Any:
            return _place(_blank(a.shape, a.dtype, device, lambda: np.zeros(a.shape, a.dtype)),
                          device)
        if recurse:
            return self._apply(fresh)
        for table in (self._parameters, self._buffers):
            for t in table.values():
                if t is not None:
                    t._data = fresh(t._data)
                    if t._grad is not None:
                        t._grad._data = fresh(t._grad._data)
        return self

    def half(self) -> Module:
        return self.to(_dtype.float16)

    def share_memory(self) -> Module:
        """NumPy arrays are in process memory already; returns ``self`` as PyTorch does."""
        return self

    def float(self) -> Module:
        return self.to(_dtype.float32)

    def double(self) -> Module:
        return self.to(_dtype.float64)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Module:
        return self.to("cuda" if device is None else
                       (f"cuda:{device}" if isinstance(device, int) else device))

    def type(self, dst_type: Any) -> Module:
        return self.to(dst_type)

    # ------------------------------------------------------------------ state
    def state_dict(
        self, *args: Any, destination: dict[str, Any] | None = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Any]:
        """Parameters and persistent buffers by dotted name (detached unless ``keep_vars``)."""
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True, assign: bool = False) -> Any:
        """Copy values from ``state_dict`` into the parameters and persistent buffers.

        Returns PyTorch's ``_IncompatibleKeys(missing_keys, unexpected_keys)``, which prints
        ``<All keys matched successfully>`` when both are empty. With ``strict`` (the default)
        missing or unexpected keys are errors; a shape mismatch always is. ``assign`` keeps the
        given tensors instead of copying into the existing ones.
        """
        missing, unexpected = _state_dict.load(self, state_dict, strict, assign, Parameter)
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for key, module in self._modules.items():
            lines.append("(" + key + "): " + _addindent(repr(module), 2))
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _typename(obj: Any) -> str:
    """How PyTorch names a value in its errors (``torch.typename``): ``torch.FloatTensor``,
    ``int``, ``collections.OrderedDict``."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ in ("", "builtins") else \
        f"{cls.__module__}.{cls.__qualname__}"


def _check_name(module: Module, name: str, kind: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    d = module.__dict__
    table = "_parameters" if kind == "parameter" else "_buffers"
    if (
        name in d
        or (hasattr(type(module), name))
        or (name in d.get("_modules", {}))
        or (name in d.get("_buffers" if kind == "parameter" else "_parameters", {}))
    ):
        if name not in d[table]:
            raise KeyError(f"attribute '{name}' already exists")


def _remove_from(module: Module, name: str, keep: str | None = None) -> None:
    # the table ``keep`` keeps its entry, so a reassigned parameter, buffer or submodule stays
    # in its place in named_parameters(), state_dict(), print(module)... (PyTorch's order)
    d = module.__dict__
    d.pop(name, None)
    for table in ("_parameters", "_buffers", "_modules"):
        d[table].pop(name, None) if table in d and table != keep else None
    d["_non_persistent_buffers_set"].discard(name)


def _relayout(fmt: Any) -> Callable[[Any], Any]:
    """``Module.to(memory_format=...)``: its 4-D and 5-D parameters and buffers laid out in
    ``fmt`` (PyTorch converts only those; a channels-last format of the wrong rank is its error)."""
    from gradkit._core import formats
    formats.check(fmt)

    def relayout(a: Any) -> Any:
        if type(a) is not np.ndarray or a.ndim not in (4, 5):
            return a
        order = formats.order_of(fmt, a.ndim)
        if order is None:
            return np.ascontiguousarray(a)
        return np.ascontiguousarray(a.transpose(order)).transpose(tuple(int(i) for i in np.argsort(order)))
    return relayout
