"""Lazy modules: layers whose input size is read from the first batch (``nn.LazyLinear``, ...).

Their parameters start as :class:`UninitializedParameter` (buffers as
:class:`UninitializedBuffer`), which have no shape yet: any use raises instead of computing
with an empty array. The first call materializes them from the input, initializes them as the
eager layer would, and turns the module into that layer (``LazyLinear`` becomes ``Linear``),
as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._core.torch_function import _disabled_torch_function_impl
from gradkit._core import dtype as _dtype
from gradkit._core.grad_mode import no_grad
from gradkit._core.tensor import Tensor, _init, _make

from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .module import Parameter
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d,
                            InstanceNorm2d, InstanceNorm3d)

__all__ = [
    "UninitializedParameter", "UninitializedBuffer", "LazyModuleMixin", "LazyLinear",
    "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
    "LazyInstanceNorm2d", "LazyInstanceNorm3d",
]

_USE = ("Attempted to use an uninitialized parameter in {}. This error happens when you are "
        "using a `LazyModule` or explicitly manipulating `torch.nn.parameter."
        "UninitializedParameter` objects. When using LazyModules Call `forward` with a dummy "
        "batch to initialize the parameters before calling torch functions")
_SHAPE = ("Can't access the shape of an uninitialized parameter or buffer. This error usually "
          "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
          "initialized one. Call `forward` to initialize the parameters before accessing their "
          "attributes.")


class _NoData:
    """The data of an uninitialized tensor: it knows its dtype, every other use raises."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = np.dtype(dtype)

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> _NoData:
        return _NoData(dtype)       # ``module.double()`` before the first call: as PyTorch

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(_USE.format("a gradkit operation"))

    __array__ = __array_ufunc__ = __array_function__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _refuse
    __matmul__ = __rmatmul__ = __getitem__ = __setitem__ = __len__ = __iter__ = _refuse

    def __getattr__(self, name: str) -> Any:
        if name == "shape":
            raise RuntimeError(_SHAPE)
        raise ValueError(_USE.format(f"'{name}'"))


class _UninitializedMixin:
    """What uninitialized parameters and buffers share: a dtype, no data, ``materialize``."""

    cls_to_become: type = Tensor
    _data: Any

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Give the tensor ``shape`` (uninitialized values) and turn it into ``cls_to_become``."""
        dt = self._data.dtype if dtype is None else _dtype.as_dtype(dtype).np
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self._data = np.empty(shape, dtype=dt)
        self.__class__ = self.cls_to_become     # type: ignore[assignment]

    @property
    def shape(self) -> Any:
        raise RuntimeError(_SHAPE)

    @property
    def data(self) -> Any:
        """PyTorch's: an empty (shape ``(0,)``) tensor of the dtype, unconnected to the parameter,
        so ``lazy.weight.data.normal_()`` before the first call changes nothing (the first call
        initializes the parameter as the eager layer would)."""
        return _make(np.empty((0,), dtype=self._data.dtype), False, None)

    @data.setter
    def data(self, value: Any) -> None:
        Tensor.data.fset(self, value)           # type: ignore[attr-defined]

    @property
    def device(self) -> Any:
        from gradkit._core.backend import device
        return device("cpu")

    def detach(self) -> Any:
        return self                             # the state_dict of a lazy module holds it

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (type(self), (self.requires_grad, None, self.dtype))

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        new = type(self)(self.requires_grad, None, self.dtype)  # type: ignore[call-arg]
        memo[id(self)] = new
        return new


class UninitializedParameter(_UninitializedMixin, Parameter):
    """A parameter without a shape yet; ``materialize(shape)`` makes it a :class:`Parameter`."""

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        dt = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
        _init(self, _NoData(dt.np), False, None)    # type: ignore[arg-type]
        if requires_grad:
            self._rg = True


class UninitializedBuffer(_UninitializedMixin, Tensor):
    """A buffer without a shape yet; ``materialize(shape)`` makes it a plain tensor."""

    # NOTE: gradkit's own subclass: no __torch_function__ dispatch (operations return what they
    # returned before) and it prints as tensor(...)
    __torch_function__ = _disabled_torch_function_impl
    _repr_as_tensor = True

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> None:
        dt = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
        _init(self, _NoData(dt.np), bool(requires_grad), None)    # type: ignore[arg-type]


def is_lazy(t: Any) -> bool:
    return isinstance(t, _UninitializedMixin)


class LazyModuleMixin:
    """Infers parameter shapes on the first call (``initialize_parameters``), then becomes
    ``cls_to_become``. A ``load_state_dict`` before that call materializes from the state."""

    cls_to_become: type | None = None

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters,
                                                               with_kwargs=True)

    def has_uninitialized_params(self: Any) -> bool:
        """Whether a parameter or buffer of this module (not its children) has no shape yet."""
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self: Any, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def _infer_parameters(self: Any, module: Any, args: Any, kwargs: Any = None) -> None:
        kwargs = kwargs if kwargs else {}
        module.initialize_parameters(*args, **kwargs)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _lazy_load_hook(self: Any, state_dict: dict[str, Any], prefix: str) -> None:
        """Before ``load_state_dict`` copies: shape uninitialized tensors like the saved ones."""
        for table in (self._parameters, self._buffers):
            for name, t in table.items():
                key = prefix + name
                if is_lazy(t) and key in state_dict and not is_lazy(state_dict[key]):
                    with no_grad():
                        t.materialize(state_dict[key].shape)


# ----------------------------------------------------------------------------- layers
class LazyLinear(LazyModuleMixin, Linear):
    """:class:`Linear` whose ``in_features`` is the last dimension of the first input."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(0, 0, False, dtype=dtype)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    _transposed = False

    def _lazy_init(self: Any, out_channels: int, bias: bool, dtype: Any) -> None:
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self: Any) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()    # type: ignore[misc]

    def _get_in_channels(self: Any, input: Tensor) -> int:
        unbatched = self._nd + 1
        if input.dim() not in (unbatched, unbatched + 1):
            raise RuntimeError(f"Expected {unbatched}D (unbatched) or {unbatched + 1}D (batched) "
                               f"input to {type(self).__name__}, but got input of size: "
                               f"{input.shape}")
        return input.shape[1] if input.dim() == unbatched + 1 else input.shape[0]

    def initialize_parameters(self: Any, input: Tensor, *args: Any, **kwargs: Any) -> None:
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            with no_grad():
                if self._transposed:
                    shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
                else:
                    shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
                self.weight.materialize(shape)
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()


def _lazy_conv(eager: type, transposed: bool) -> type:
    """``LazyConv2d`` and kin: ``eager``'s arguments without ``in_channels``."""
    if transposed:
        def __init__(self: Any, out_channels: int, kernel_size: Any, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     bias: bool = True, dilation: Any = 1, padding_mode: str = "zeros",
                     device: Any = None, dtype: Any = None) -> None:
            LazyModuleMixin.__init__(self, 0, 0, kernel_size, stride, padding, output_padding,
                                     groups, False, dilation, padding_mode, dtype=dtype)
            self._lazy_init(out_channels, bias, dtype)
    else:
        def __init__(self: Any, out_channels: int, kernel_size: Any, stride: Any = 1,  # type: ignore[misc]
                     padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                     padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
            LazyModuleMixin.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups,
                                     False, padding_mode, dtype=dtype)
            self._lazy_init(out_channels, bias, dtype)
    name = "Lazy" + eager.__name__
    ns = {"__init__": __init__, "cls_to_become": eager, "_transposed": transposed,
          "__module__": __name__, "__qualname__": name,
          "__doc__": f":class:`{eager.__name__}` whose ``in_channels`` is read from the first "
                     "input."}
    return type(name, (_LazyConvMixin, eager), ns)


LazyConv1d = _lazy_conv(Conv1d, False)
LazyConv2d = _lazy_conv(Conv2d, False)
LazyConv3d = _lazy_conv(Conv3d, False)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, True)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, True)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, True)


class _LazyNormBase(LazyModuleMixin):
    """NOTE: as in PyTorch, the lazy instance norms default to ``affine=True`` and
    ``track_running_stats=True``, unlike ``InstanceNorm1d``."""

    def __init__(self: Any, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__(0, eps, momentum, False, False, dtype=dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
            self.num_batches_tracked = _make(np.array(0, np.int64), False, None)

    def reset_parameters(self: Any) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()    # type: ignore[misc]

    def initialize_parameters(self: Any, input: Tensor) -> None:
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            with no_grad():
                for name in ("weight", "bias", "running_mean", "running_var"):
                    t = getattr(self, name)
                    if is_lazy(t):
                        t.materialize((self.num_features,))
                self.reset_parameters()


def _lazy_norm(eager: type) -> type:
    name = "Lazy" + eager.__name__
    ns = {"cls_to_become": eager, "__module__": __name__, "__qualname__": name,
          "__doc__": f":class:`{eager.__name__}` whose ``num_features`` is read from the first "
                     "input."}
    return type(name, (_LazyNormBase, eager), ns)


LazyBatchNorm1d = _lazy_norm(BatchNorm1d)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d)

