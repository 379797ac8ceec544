"""The Tensor: an ndarray plus the autograd state (grad, requires_grad, grad_fn, version).

Operations are attached in ``gradkit/_methods.py`` once the derivative table
(``gradkit/ops``) is loaded; this module only holds the data model.
"""

from __future__ import annotations

import itertools
import threading
import warnings
import weakref
from typing import Any, Callable

import numpy as np

from gradkit._core import backend as _backend
from gradkit._core import dtype as _dtype
from gradkit._core import concrete as _cc
from gradkit._core import grad_mode as _grad_mode
from gradkit._core import meta as _meta
from gradkit._core import torch_function as _tf
from gradkit._core._inference import (_INFERENCE_DETACHED, _INFERENCE_VC,  # noqa: F401
                                      _INPLACE_INFERENCE, SAVE_INFERENCE, _InferenceVersion,
                                      check_inplace_inference)

_gm_state = _grad_mode._state

__all__ = ["Tensor", "Size"]

_ndarray = np.ndarray


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``torch.Size([2, 3])``, PyTorch's text."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    # NOTE: as PyTorch's, a slice of a Size, a Size joined with a tuple and a repeated Size are Sizes
    def __getitem__(self, index: Any) -> Any:
        out = tuple.__getitem__(self, index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other: Any) -> Any:
        out = tuple.__add__(self, other)
        return Size(out) if out is not NotImplemented else out

    def __radd__(self, other: Any) -> Any:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n: Any) -> Any:
        out = tuple.__mul__(self, n)
        return Size(out) if out is not NotImplemented else out

    __rmul__ = __mul__


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Create tensors with :func:`gradkit.tensor` and the other factories. The
    attributes follow PyTorch: ``data``, ``grad``, ``requires_grad``,
    ``grad_fn``, ``is_leaf``; ``backward()`` fills ``grad`` of the leaves.
    """

    # Hot attributes live in slots; rarely set ones fall back to these class defaults.
    __slots__ = ("_data", "_rg", "_fn", "_vc", "__dict__", "__weakref__")
    __array_priority__ = 1000
    _grad: Tensor | None = None
    #: ``grad_dtype`` when set (a dtype, or None for any); unset follows the tensor's dtype
    _grad_dtype: Any = False
    _oi = 0
    _hooks: dict[int, Any] | None = None
    _retain = False
    _base: Tensor | None = None
    #: an output of a multi-output view function (split, unbind) or a view of one
    _multi = False
    #: made by ``conj()`` of a complex tensor: a copy where PyTorch returns a view
    _conj_copy = False
    _post_hooks: dict[int, Any] | None = None
    _name: str | None = None
    #: why this tensor has no history although it came from one that had (diagnostics)
    _why: Any = None
    #: forward mode's tangents, ``{level: tangent}`` (see gradkit.autograd.forward_ad)
    _fw: dict[int, Any] | None = None

    #: a subclass that prints as ``tensor(...)`` (gradkit's own: Parameter, tape.Variable, ...);
    #: any other subclass prints its class name, as PyTorch's ``MyTensor([1., 2.])``
    _repr_as_tensor = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _tf.subclass_created(cls)

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        """PyTorch's default: run ``func`` (subclass dispatch off) and return its tensors as
        ``cls``, so a subclass survives operations (``MyTensor(...) + 1`` is a ``MyTensor``)."""
        return _tf.tensor_torch_function(cls, func, types, args, kwargs)

    def __init__(self, *data: Any, requires_grad: bool = False) -> None:
        # NOTE: like ``torch.Tensor(...)``: sizes give an uninitialised tensor, data is converted
        # to the default floating dtype.
        default = _dtype.get_default_dtype().np
        if not data:
            arr = np.zeros((0,), dtype=default)
        elif all(type(d) is int for d in data):
            arr = np.zeros(data, dtype=default)
        elif len(data) == 1 and isinstance(data[0], Tensor):
            arr = data[0]._data
        elif len(data) == 1:
            arr = np.array(data[0], dtype=default)
        else:
            raise TypeError("Tensor() takes sizes or one sequence of data")
        _init(self, arr, False, None)
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- data model
    @property
    def data(self) -> Tensor:
        """The same values, detached from the graph (sharing memory).

        Unlike ``detach()`` the result has its own version counter, so in-place
        changes through ``.data`` are invisible to autograd (as in PyTorch).
        """
        t = _make(self._data, False, None)
        # PyTorch: ``.data`` of an inference tensor is one (writable in place), of a normal
        # tensor a normal one (inside inference mode too)
        t._vc = _INFERENCE_DETACHED if self._vc.__class__ is _InferenceVersion else [0]
        if self._rg:
            from gradkit._core.sites import mark
            mark(t, "detach", ".data", self)
        return t

    @data.setter
    def data(self, value: Any) -> None:
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = arr
        # NOTE: like PyTorch, replacing ``.data`` is invisible to autograd and does not
        # bump the version counter.

    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._set_requires_grad(value, "only Tensors of floating point and complex dtype can "
                                       "require gradients")

    def _set_requires_grad(self, value: bool, int_message: str) -> None:
        if self._fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return
        if value and self._data.dtype.kind not in "fcV":
            raise RuntimeError(int_message)
        if value and self._vc.__class__ is _InferenceVersion and not _gm_state.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        self._rg = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return ``self``."""
        self._set_requires_grad(requires_grad, "only Tensors of floating point dtype can require "
                                               "gradients")
        return self

    @property
    def grad(self) -> Tensor | None:
        if self._fn is not None and not self._retain and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you indeed "
                "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                "on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
                "you access the leaf Tensor instead.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' "
                                   f"to a tensor of size '{list(self.shape)}'. Please ensure that "
                                   "the gradient and the tensor are the same size")
            want = grad_np_dtype(self)
            if want is not None and value._data.dtype != want:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_c_name(value._data.dtype)}' to "
                    f"a tensor with grad_dtype '{_scalar_name(np.dtype(want))}'. The "
                    "gradient must match the tensor's grad_dtype (defaults to the tensor's "
                    "dtype). You can set the tensor's grad_dtype attribute with a specific dtype, "
                    "or None to allow any dtype. Set grad_dtype with caution. Diverging the dtypes "
                    "of a tensor and its gradient may break downstream systems that assume they "
                    "match.")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def grad_dtype(self) -> Any:
        """The dtype gradients are cast to when they accumulate into ``.grad`` (a leaf's own
        dtype unless set; ``None``: any dtype is kept)."""
        if self._fn is not None:
            raise RuntimeError("grad_dtype can only be accessed on leaf tensors.")
        want = self._grad_dtype
        return self.dtype if want is False else want

    @grad_dtype.setter
    def grad_dtype(self, value: Any) -> None:
        from . import dtype as _dt
        if self._fn is not None:
            raise RuntimeError("grad_dtype can only be set on leaf tensors.")
        if value is not None and not isinstance(value, _dt.dtype):
            raise RuntimeError(f"grad_dtype must be a torch.dtype or None, but got "
                               f"{type(value).__name__}")
        old = self._grad
        if old is not None and value is not None and old._data.dtype != value.np:
            raise RuntimeError(
                f"Cannot set grad_dtype to '{_scalar_name(value.np)}' because there is already a "
                f"gradient with dtype '{_c_name(old._data.dtype)}'. Please clear the gradient "
                "(.grad = None) before changing grad_dtype, or ensure the new grad_dtype matches "
                "the existing gradient's dtype.")
        self._grad_dtype = value

    @property
    def grad_fn(self) -> Any:
        """The node that created this tensor (``None`` for leaves)."""
        return self._fn

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self._fn is None

    @property
    def retains_grad(self) -> bool:
        return self._retain

    @property
    def output_nr(self) -> int:
        return self._oi

    @property
    def _version(self) -> int:
        if self._vc is _INFERENCE_VC:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._vc[0]

    def is_inference(self) -> bool:
        """True for an inference tensor: made inside ``inference_mode()``, or a view,
        ``detach()`` or ``.data`` of one."""
        return self._vc.__class__ is _InferenceVersion

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.FROM_NP[self._data.dtype]

    @property
    def device(self) -> Any:
        """Where the data lives: ``device(type='cpu')`` (NumPy, Dask) or ``device(type='cuda', index=0)``."""
        return _backend.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_meta(self) -> bool:
        """True for a tensor on the meta device (a shape and a dtype, no values)."""
        return type(self._data) is _meta.MetaArray

    @property
    def layout(self) -> Any:
        """``gk.strided``: every gradkit tensor is a dense strided array."""
        from gradkit._core.formats import strided
        return strided

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def name(self) -> str | None:
        return self._name

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the length of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if _cc._local.depth:
            _cc.check(self, "item()")
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        d = self._data
        if type(d) is not _ndarray:
            d = _host(d, "item()")
        return d.reshape(()).item()

    def _item(self) -> Any:
        """``item()`` without the transform check (for formatting and the conversions)."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        d = self._data
        if type(d) is not _ndarray:
            d = _host(d, "item()")
        return d.reshape(()).item()

    def tolist(self) -> Any:
        if _cc._local.depth:
            _cc.check(self, "tolist()")
        d = self._data
        if type(d) is _meta.MetaArray:
            raise NotImplementedError(_meta.NO_DATA)
        return (d if type(d) is _ndarray else _host(d, "tolist()")).tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The values as an ndarray sharing memory (for a tensor that requires grad only where
        grad mode is off, as in PyTorch: ``no_grad()``, an ``autograd.Function``'s forward).

        A Dask-backed tensor is computed; a GPU tensor must be copied with ``cpu()`` first,
        as in PyTorch.
        """
        if self._rg and not force and _cc._grad_enabled():
            if _cc._local.depth:
                _cc.check(self, "numpy()")       # inside a transform, detach() would drop it
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        d = self._data
        if type(d) is not _ndarray and _backend.backend_of(d) is not None:
            dev = _backend.device_of(d)
            if dev.type != "cpu" and not force:
                raise TypeError(f"can't convert {dev} device type tensor to numpy. Use "
                                "Tensor.cpu() to copy the tensor to host memory first.")
            return _backend.to_numpy(d)
        return d.copy() if force and self._rg else d

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind in "fV"       # V: bfloat16 (ml_dtypes)

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def _is_view(self) -> bool:
        """Whether this tensor is a view of another (PyTorch's private ``Tensor._is_view``)."""
        return self._base is not None

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the elements lie in memory in C order, or in the order a channels-last
        ``memory_format`` names (NHWC for ``gk.channels_last``)."""
        from gradkit._core import formats
        if formats.check(memory_format) in formats.CHANNELS_LAST:
            rank, order = formats.CHANNELS_LAST[memory_format]
            return self._data.ndim == rank and formats.is_laid_out(self._data, order)
        from gradkit._core.backend import c_contiguous
        return c_contiguous(self._data)

    def data_ptr(self) -> int:
        d = self._data
        if type(d) is _ndarray:
            return int(d.__array_interface__["data"][0])
        if type(d) is _meta.MetaArray:
            return 0                    # NOTE: PyTorch's for a meta tensor (there is no storage)
        ptr = getattr(getattr(d, "data", None), "ptr", None)        # CuPy's device pointer
        if ptr is None:
            raise RuntimeError(f"a {_backend.backend_of(d).label}-backed tensor has no data "
                               "pointer (its values are not in memory until computed)")
        return int(ptr)

    def stride(self, dim: int | None = None) -> Any:
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def cpu(self) -> Tensor:
        """This tensor on the CPU: a GPU tensor is copied to NumPy (differentiably); others
        are returned as they are (a Dask-backed tensor stays lazy: see ``compute()``)."""
        return self.to("cpu")  # type: ignore[attr-defined]

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """This tensor on a CUDA GPU (CuPy), copied differentiably."""
        if device is None:
            dev = "cuda"
        elif isinstance(device, int):
            dev = f"cuda:{device}"
        else:
            dev = device
        return self.to(dev)  # type: ignore[attr-defined]

    # ----------------------------------------------------------------- autograd state
    def detach(self) -> Tensor:
        """A new tensor sharing memory and version counter, outside the graph."""
        t = _make(self._data, False, None)
        t._vc = _INFERENCE_DETACHED if self._vc is _INFERENCE_VC else self._vc
        if self._rg:
            from gradkit._core.sites import mark
            mark(t, "detach", "detach", self)
        return t

    def detach_(self) -> Tensor:
        """Detach this tensor from the graph in place, making it a leaf (not for a view)."""
        if self._base is not None:
            # NOTE: PyTorch refuses: a view keeps following its base (an in-place change of
            # the base gives it the base's history again), so it cannot become a leaf alone
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        if self._rg:
            from gradkit._core.sites import mark
            mark(self, "detach", "detach_")
        self._fn = None
        self.__dict__.pop("_oi", None)
        self._rg = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after ``backward()``."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._fn is None:
            return
        if not self._retain:
            self._retain = True
            self._fn._retain_output(self._oi, weakref.ref(self))

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Call ``hook(grad)`` when the gradient for this tensor is computed.

        The hook may return a tensor to use in place of ``grad``. Returns a
        handle with ``remove()``.
        """
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._fn is not None:
            return self._fn._add_tensor_hook(self._oi, hook)
        with _hook_lock:
            if self._hooks is None:
                # NOTE: its writes move the state epoch (gradkit.compile's check that no hook
                # came or went since its last walk; a replay would not call them)
                from gradkit._core.epoch import VersionedDict
                self._hooks = VersionedDict()
            return _HookHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """Call ``hook(tensor)`` after a gradient is accumulated into this leaf's ``.grad``."""
        if self._fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        with _hook_lock:
            if self._post_hooks is None:
                from gradkit._core.epoch import VersionedDict
                self._post_hooks = VersionedDict()
            return _HookHandle(self._post_hooks, hook)

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with "
                               f"{'no values' if self._data.size == 0 else 'more than one value'} "
                               "is ambiguous")
        d = self._data
        return bool((d if type(d) is _ndarray else _host(d, "bool()")).reshape(()))

    # NOTE: these conversions drop the graph: inside a transform they raise for a tensor being
    # differentiated, and float()/complex() warn once in eager code as PyTorch does
    # (see gradkit/_concrete.py).
    def __float__(self) -> float:
        if (self._rg and not _cc._warned[0]) or _cc._local.depth:
            _cc.check_scalar(self, "float()")
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self._item())

    def __int__(self) -> int:
        if _cc._local.depth:
            _cc.check(self, "int()")
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self._item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    def __complex__(self) -> complex:
        if (self._rg and not _cc._warned[0]) or _cc._local.depth:
            _cc.check_scalar(self, "complex()")
        return complex(self._item())

    def __iter__(self) -> Any:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        from gradkit._core.printing import format_tensor
        suffixes = []
        if self._fn is not None:
            suffixes.append(f"grad_fn=<{self._fn.name()}>")
        elif self._rg:
            suffixes.append("requires_grad=True")
        d = self.dtype
        default = d is _dtype.get_default_dtype() or d is _dtype.int64 or d is _dtype.bool
        data = self._data
        device = None
        if type(data) is not _ndarray:
            b = _backend.backend_of(data)
            if b is _meta.META:
                from gradkit._core.printing import format_meta
                return format_meta(data.shape, suffixes, dtype_is_default=d is
                                   _dtype.get_default_dtype(), dtype_name=d.name)
            if b is not None and b.lazy:
                # NOTE: printing never computes a lazy tensor; it shows the Dask array instead.
                items = [repr(data)]
                if not default:
                    items.append(f"dtype=torch.{d.name}")
                return "tensor(" + ", ".join(items + suffixes) + ")"
            if b is not None:
                device = str(_backend.device_of(data))
                data = b.to_numpy(data)
        cls = type(self)
        prefix = "tensor(" if cls is Tensor or cls._repr_as_tensor else cls.__name__ + "("
        return format_tensor(data, suffixes, dtype_is_default=default, dtype_name=d.name,
                             device=device, prefix=prefix)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if type(self._data) is _meta.MetaArray:
            if spec:                            # NOTE: PyTorch formats a meta tensor as an object
                raise TypeError("unsupported format string passed to Tensor.__format__")
            return repr(self)
        if self._data.ndim == 0:
            return self._item().__format__(spec)       # text, not a value that flows on
        return repr(self)

    def __contains__(self, element: Any) -> bool:
        if isinstance(element, Tensor):
            element = element._data
        return bool(np.any(self._data == element).item())

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        if self._fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment.")
        new = Tensor.__new__(type(self))
        _init(new, _backend.copy(self._data), False, None)
        new._rg = self._rg
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        if type(self) is not Tensor and self.__dict__:
            import copy
            for k, v in self.__dict__.items():
                if k not in ("_grad", "_vc", "_hooks", "_post_hooks", "_views"):
                    new.__dict__[k] = copy.deepcopy(v, memo)
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol: Any) -> Any:
        # NOTE: the array pickles itself (a Dask graph stays a graph, CuPy copies to the host)
        return (_rebuild, (self._data, self._rg))


def _host(d: Any, what: str) -> np.ndarray:
    """The values of a non-NumPy array on the host, for an explicit request like ``item()``
    (a Dask array is computed, a GPU array copied; a meta tensor has none: PyTorch's error)."""
    if type(d) is _meta.MetaArray:
        raise RuntimeError(_meta.NO_ITEM)
    return _backend.to_numpy(d)


def grad_np_dtype(t: Tensor) -> Any:
    """The NumPy dtype ``t``'s gradients accumulate in: its own unless ``grad_dtype`` was set
    (``None`` when set to None: any dtype is kept)."""
    want = t._grad_dtype
    return t._data.dtype if want is False else None if want is None else want.np


def _scalar_name(dt: np.dtype) -> str:
    """PyTorch's scalar type name (``Float``, ``Half``, ``Long``) of a NumPy dtype."""
    from . import dtype as _dt
    kind = _dt.FROM_NP.get(dt)
    return kind._legacy[: -len("Tensor")] if kind is not None else dt.name


def _c_name(dt: np.dtype) -> str:
    """The C type name PyTorch uses in some messages (``double``, ``float``, ``long int``)."""
    return {"float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}.get(dt.name, dt.name)


def _rebuild(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = _make(data, False, None)
    t._rg = bool(requires_grad)
    return t


# NOTE: printed where users find them, as PyTorch prints ``<class 'torch.Tensor'>``; pickle
# finds them there too (``gradkit.Tensor``, ``gradkit.Size``)
Tensor.__module__ = Size.__module__ = "gradkit"
_tf.register_tensor(Tensor)

#: registrations from several threads at once: one table per tensor, one id per hook
_hook_lock = threading.Lock()
_hook_ids = itertools.count(1)


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, table: dict[int, Any], hook: Any) -> None:
        self.id = next(_hook_ids)               # atomic: no two hooks share an id
        self._table = table
        table[self.id] = hook

    def remove(self) -> None:
        self._table.pop(self.id, None)

    def __enter__(self) -> _HookHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


#: some thread is inside inference_mode(): only then is the thread's own flag read
_inference_on = False


#: whether inference tensors may exist (set once the first inference_mode() opens): the
#: saving paths check a tensor's version counter against the inference ones only then
INFERENCE_EVER = [False]


def _watch_inference(on: bool) -> None:
    global _inference_on
    _inference_on = on
    if on:
        INFERENCE_EVER[0] = True


_grad_mode._inference_watchers.append(_watch_inference)


def _init(t: Tensor, data: np.ndarray, rg: bool, fn: Any) -> None:
    t._data = data
    t._rg = rg
    t._fn = fn
    t._vc = _INFERENCE_VC if _inference_on and _gm_state.inference else [0]


_new = object.__new__


def _make(data: np.ndarray, rg: bool, fn: Any) -> Tensor:
    """Wrap an ndarray without copying (the hot path of every operation)."""
    t = _new(Tensor)
    t._data = data
    t._rg = rg
    t._fn = fn
    # NOTE: one module flag on the hot path; the thread's state only while some thread is
    # inside inference_mode()
    t._vc = _INFERENCE_VC if _inference_on and _gm_state.inference else [0]
    return t


def _wrap_dim(dim: int, ndim: int) -> int:
    """Turn a possibly negative dimension into a positive one, with PyTorch's error."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim
