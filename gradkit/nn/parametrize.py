"""``nn.utils.parametrize``: a module's tensor computed from an ``original`` by modules.

After ``register_parametrization(m, "weight", P())``, ``m.weight`` is ``P()(original)``, computed
on each access (once per ``with cached():`` block), and assigning ``m.weight = t`` stores
``P().right_inverse(t)``. As in PyTorch, the module's class becomes ``Parametrized<Class>`` and
the original lives at ``m.parametrizations.weight.original``.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from gradkit._core.grad_mode import no_grad
from gradkit._core.tensor import Tensor

from .modules.container import ModuleDict, ModuleList
from .modules.module import Module, Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "ParametrizationList"]

_cache_depth = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Inside the block each parametrized tensor is computed once and reused."""
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _set_data(target: Tensor, value: Tensor) -> None:
    """``target.set_(value)`` under no_grad: same tensor object, new values (and shape)."""
    target._data = np.array(value.detach()._data, dtype=target._data.dtype)
    target._vc[0] += 1


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order to ``original``."""

    def __init__(self, modules: Any, original: Tensor, unsafe: bool = False) -> None:
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    # NOTE: as PyTorch, a right_inverse that raises NotImplementedError (orthogonal
                    # without trivialization) is the identity here: the tensor stays as it is
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new) if isinstance(new, (list, tuple)) else 0
        if not self.is_tensor:
            # NOTE: several originals (weight_norm's g and v): original0, original1, ...
            if not isinstance(new, (list, tuple)):
                raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                                 f"(list, tuple...). Got {type(new).__name__}")
            for i, part in enumerate(new):
                if not isinstance(part, Tensor):
                    raise ValueError("'right_inverse' must return a sequence of tensors. Got "
                                     f"{type(part).__name__}.")
                part = part.detach().clone()
                if isinstance(original, Parameter):
                    self.register_parameter(f"original{i}",
                                            Parameter(part, original.requires_grad))
                else:
                    self.register_buffer(f"original{i}", part)
            return
        if new is not original:
            if not unsafe and new.dtype != original.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change the "
                                 f"dtype.\noriginal.dtype: {original.dtype}\nright_inverse"
                                 f"(original).dtype: {new.dtype}")
            _set_data(original, new)
        if isinstance(original, Parameter):
            self.register_parameter("original", original)
        else:
            self.register_buffer("original", original)

    def right_inverse(self, value: Tensor) -> None:
        """Store ``value`` by running the ``right_inverse`` of each parametrization backwards."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                _set_data(self.original, value)
                return
            if not isinstance(value, (list, tuple)) or len(value) != self.ntensors:
                raise ValueError(f"'right_inverse' must return a sequence of {self.ntensors} "
                                 f"tensors. Got {type(value).__name__}.")
            for i, part in enumerate(value):
                _set_data(getattr(self, f"original{i}"), part)

    def forward(self) -> Tensor:
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _check(original: Tensor, value: Any, unsafe: bool) -> None:
    if unsafe:
        return
    if not isinstance(value, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(value).__name__}.")
    if value.dtype != original.dtype:
        raise ValueError("Registering a parametrization may not change the dtype of the tensor, "
                         "unless `unsafe` flag is enabled.\n"
                         f"unparametrized dtype: {original.dtype}\n"
                         f"parametrized dtype: {value.dtype}")
    if tuple(value.shape) != tuple(original.shape):
        raise ValueError("Registering a parametrization may not change the shape of the tensor, "
                         "unless `unsafe` flag is enabled.\n"
                         f"unparametrized shape: {original.shape}\n"
                         f"parametrized shape: {value.shape}")


def _inject_property(module: Module, tensor_name: str) -> None:
    def get(self: Module) -> Tensor:
        plist = self.parametrizations[tensor_name]
        if not _cache_depth:
            return plist()
        key = (id(self), tensor_name)
        if key not in _cache:
            _cache[key] = plist()
        return _cache[key]

    def set_(self: Module, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)
    setattr(type(module), tensor_name, property(get, set_))


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, when given)."""
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` on the original tensor.

    A second registration on the same name chains after the first. Unless ``unsafe``, the
    parametrization must keep the tensor's shape and dtype.
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            with no_grad():
                current = getattr(module, tensor_name)
                _check(plist.original if plist.is_tensor else current, parametrization(current),
                       False)
        plist.append(parametrization)
        plist.unsafe |= unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    if not unsafe:
        with no_grad():
            _check(original, plist(), False)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        cls = type(module)
        module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})
        module.parametrizations = ModuleDict()
    _inject_property(module, tensor_name)
    module.parametrizations[tensor_name] = plist
    return module


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo :func:`register_parametrization` on ``tensor_name``; the tensor keeps its current
    (parametrized) value when ``leave_parametrized``, else the original's."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if not plist.is_tensor:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        t = getattr(module, tensor_name)
        original = Parameter(t.detach(), t.requires_grad) if t.requires_grad else t.detach()
        return _restore(module, tensor_name, original)
    original = plist.original
    if leave_parametrized:
        with no_grad():
            value = getattr(module, tensor_name)
        if value.dtype != original.dtype:
            raise ValueError("The parametrization changed the dtype; cannot leave it "
                             "parametrized in the original tensor.")
        _set_data(original, value)
    return _restore(module, tensor_name, original)


def _restore(module: Any, tensor_name: str, original: Any) -> Any:
    """``original`` back in the module as a plain parameter or buffer; the parametrized class
    goes once nothing is parametrized."""
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        del module.parametrizations
        module.__class__ = type(module).__bases__[0]
    return module
