"""Tensor methods that are variants of ``torch.*`` functions outside the method table: index
fills, ``put``, ``unfold``/``as_strided`` and storage queries, ``new_*`` on the tensor's device,
``T``/``H``/``mT``/``mH``, the products with a bias and their in-place variants.

Attached at import time, after :mod:`gradkit._api.methods`, whose in-place machinery
(``_inplace``, ``_make_inplace``) gives version bumps, leaf checks and history.
"""


import warnings
from typing import Any, Callable

import numpy as np

from gradkit import _api as A
from gradkit._api import blas as _blas
from gradkit._api import differences as _differences
from gradkit._api import distances as _distances
from gradkit._api import histograms as _histograms
from gradkit._api import mutating as _mutating
from gradkit._api import views as _views
from gradkit._core import dtype as _dtype
from gradkit._core.backend import backend_of, to_numpy
from gradkit._api.inplace import _inplace, _make_inplace
from gradkit.autograd import forward_ad as _fw
from gradkit.ops import _registry as _R
from gradkit._core.tensor import Tensor, _make
from gradkit._core import creation as F



# --- index fills -------------------------------------------------------------------------
def _index_fill(self: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    return _mutating.index_fill(self, dim, index, value)


def _index_copy(self: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    return _mutating.index_copy(self, dim, index, source)


def _masked_scatter(self: Tensor, mask: Any, source: Tensor) -> Tensor:
    return _mutating.masked_scatter(self, mask, source)


def _masked_scatter_inplace(self: Tensor, mask: Any, source: Tensor) -> Tensor:
    if _R._fw_on and _fw._dual_call(self, (mask, source), {}):
        return _fw._inplace_dual(self, _masked_scatter_write, _masked_scatter, (mask, source), {})
    return _masked_scatter_write(self, mask, source)


def _masked_scatter_write(self: Tensor, mask: Any, source: Tensor) -> Tensor:
    m = A.as_tensor_arg(mask)
    try:
        shape = tuple(np.broadcast_shapes(tuple(self.shape), tuple(m.shape)))
    except ValueError:
        shape = None
    if shape != tuple(self.shape):
        raise RuntimeError(f"The size of tensor a ({m.shape[-1]}) must match the size of tensor b "
                           f"({self.shape[-1]}) at non-singleton dimension {self.ndim - 1}")
    return _inplace(self, _mutating.masked_scatter, mask, source, _name="masked_scatter_")


def _put(self: Tensor, index: Any, source: Tensor, accumulate: bool = False) -> Tensor:
    return _mutating.put(self, index, source, accumulate)


def _index_put(self: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    return _mutating.index_put(self, indices, values, accumulate)


def fill_diagonal_(self: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Fill the main diagonal (of a matrix, or all-equal sizes for ndim > 2) with ``fill_value``;
    ``wrap`` restarts it every ``ncols + 1`` rows in a tall matrix, as in NumPy."""
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(tuple(self.shape), dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    m = _make(mask, False, None)
    if backend_of(self._data) is not None:
        m = m.to(self.device)
    return _inplace(self, A.masked_fill, m, fill_value, _name="fill_diagonal_")


# --- views and storage -------------------------------------------------------------------
def _unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    return _views.unfold(self, dimension, size, step)


def _as_strided(self: Tensor, size: Any, stride: Any, storage_offset: Any = None) -> Tensor:
    return _views.as_strided(self, size, stride, storage_offset)


def _root(arr: Any) -> Any:
    while isinstance(getattr(arr, "base", None), np.ndarray):
        arr = arr.base
    return arr


def storage_offset(self: Tensor) -> int:
    """Offset, in elements, of the first element from the start of the underlying storage."""
    d = self._data
    if type(d) is not np.ndarray or d.size == 0:
        return 0
    root = _root(d)
    if root is d or not isinstance(root, np.ndarray):
        return 0
    return int((d.ctypes.data - root.ctypes.data) // d.itemsize)


def _storage_root(self: Tensor) -> np.ndarray:
    # a view's storage is its base's (some views, as_strided's, hold their own copy of the
    # elements and write through to the base)
    d = (self._base if self._base is not None else self)._data
    if type(d) is not np.ndarray:
        raise NotImplementedError(
            f"storage() / untyped_storage() are available for NumPy-backed (CPU) tensors; this "
            f"tensor's data is a {type(d).__module__}.{type(d).__name__}")
    root = _root(d)
    return root if isinstance(root, np.ndarray) else d


class UntypedStorage:
    """The bytes under a tensor (``Tensor.untyped_storage()``): its size and address, which a
    view shares with its base. Read-only facts; gradkit offers no storage-level writes.
    ``gk.UntypedStorage(n)`` makes a fresh one of ``n`` bytes (zeroed), ``gk.UntypedStorage(seq)``
    one holding the bytes of ``seq``."""

    def __init__(self, *args: Any, device: Any = None) -> None:
        if len(args) == 1 and isinstance(args[0], np.ndarray):
            self._root = args[0]        # the storage under a tensor (untyped_storage())
            return
        self._root = _new_storage(args, np.dtype(np.uint8), type(self).__name__)

    def nbytes(self) -> int:
        return int(self._root.nbytes)

    def size(self) -> int:
        return self.nbytes()

    def __len__(self) -> int:
        return self.nbytes()

    def data_ptr(self) -> int:
        return int(self._root.ctypes.data)

    def element_size(self) -> int:
        return 1

    @property
    def device(self) -> Any:
        from gradkit._core.backend import device
        return device("cpu")


class TypedStorage(UntypedStorage):
    """``Tensor.storage()`` (deprecated in PyTorch): the storage counted in elements of the
    tensor's dtype."""

    def __init__(self, *args: Any, dtype: Any = None, device: Any = None) -> None:
        if len(args) == 2 and isinstance(args[0], np.ndarray):
            self._root, self.dtype = args       # the storage under a tensor (storage())
            return
        _warn_typed_storage()
        self.dtype = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)
        self._root = _new_storage(args, _dtype.as_dtype(self.dtype).np, type(self).__name__)

    def size(self) -> int:
        return int(self._root.size)

    def __len__(self) -> int:
        return self.size()

    def element_size(self) -> int:
        return int(self._root.itemsize)

    def tolist(self) -> list[Any]:
        return self._root.reshape(-1).tolist()


def _new_storage(args: tuple[Any, ...], np_dtype: np.dtype, name: str) -> np.ndarray:
    """A fresh storage's elements: ``()`` none, ``(n,)`` n zeros, ``(sequence,)`` its values."""
    if not args:
        return np.zeros(0, dtype=np_dtype)
    if len(args) == 1 and isinstance(args[0], (int, np.integer)) and not isinstance(args[0], bool):
        if args[0] < 0:
            raise RuntimeError(f"{name}: size must be non-negative, got {int(args[0])}")
        return np.zeros(int(args[0]), dtype=np_dtype)
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return np.array(args[0], dtype=np_dtype).reshape(-1)
    raise TypeError(f"{name}(): takes a size (int) or a sequence of values, got "
                    f"{', '.join(type(a).__name__ for a in args)}")


def _warn_typed_storage() -> None:
    warnings.warn("TypedStorage is deprecated. It will be removed in the future and "
                  "UntypedStorage will be the only storage class. This should only matter to you "
                  "if you are using storages directly.  To access UntypedStorage directly, use "
                  "tensor.untyped_storage() instead of tensor.storage()", UserWarning, stacklevel=3)


def untyped_storage(self: Tensor) -> UntypedStorage:
    """The storage under this tensor, in bytes (shared by its views)."""
    return UntypedStorage(_storage_root(self))


def storage(self: Tensor) -> TypedStorage:
    """The storage under this tensor, in elements (PyTorch's deprecated TypedStorage)."""
    warnings.warn("TypedStorage is deprecated. It will be removed in the future and "
                  "UntypedStorage will be the only storage class. This should only matter to you "
                  "if you are using storages directly.  To access UntypedStorage directly, use "
                  "tensor.untyped_storage() instead of tensor.storage()", UserWarning, stacklevel=2)
    return TypedStorage(_storage_root(self), self.dtype)


def is_set_to(self: Tensor, tensor: Tensor) -> bool:
    """True if both tensors use the same storage, offset, sizes and strides."""
    a, b = self._data, tensor._data
    if a is b:
        return True
    if type(a) is not np.ndarray or type(b) is not np.ndarray:
        return False
    return (a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype
            and a.ctypes.data == b.ctypes.data and _root(a) is _root(b))


def apply_(self: Tensor, callable: Callable[[Any], Any]) -> Tensor:
    """Apply a Python function to each element in place (CPU tensors only; slow)."""
    if self._rg:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use "
                           "var.detach().apply_() instead.")
    if type(self._data) is not np.ndarray:
        raise TypeError("apply_ is only implemented on CPU tensors")
    flat = self._data.reshape(-1) if self._data.flags.c_contiguous else None
    vals = [callable(v) for v in self._data.reshape(-1).tolist()]
    new = np.asarray(vals).astype(self._data.dtype).reshape(self._data.shape)
    if flat is not None:
        flat[...] = new.reshape(-1)
    else:
        self._data[...] = new
    self._vc[0] += 1
    return self


def map_(self: Tensor, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:
    """``self[i] = callable(self[i], tensor[i])`` in place (``tensor`` broadcast; CPU only)."""
    if self._rg or tensor._rg:
        raise RuntimeError("Can't call map_() on Variable that requires grad. Use "
                           "var.detach().map_() instead.")
    if type(self._data) is not np.ndarray or type(tensor._data) is not np.ndarray:
        raise TypeError("map_ is only implemented on CPU tensors")
    other = np.broadcast_to(tensor._data, self._data.shape).reshape(-1).tolist()
    vals = [callable(a, b) for a, b in zip(self._data.reshape(-1).tolist(), other)]
    self._data[...] = np.asarray(vals).astype(self._data.dtype).reshape(self._data.shape)
    self._vc[0] += 1
    return self


# --- new_* on self's dtype and device ----------------------------------------------------
def _same_place(self: Tensor, device: Any) -> Any:
    if device is not None:
        return device
    if backend_of(self._data) is not None:
        from gradkit._core.creation import _SameAs
        return _SameAs(self._data)
    return None


def _new_factory(name: str) -> Callable[..., Tensor]:
    def method(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, layout: Any = None, pin_memory: bool = False,
               **kw: Any) -> Tensor:
        d = self.dtype if dtype is None else dtype
        if name == "full":
            if len(size) == 1 and "fill_value" in kw:
                size = (size[0], kw.pop("fill_value"))
            if "size" in kw:
                size = (kw.pop("size"),) + size
            shape, value = size[0], size[1]
            npd = _dtype.as_dtype(d).np
            arr = np.full(F._size((shape,)), F._fill_value(value, npd), dtype=npd)
        else:
            if not size and "size" in kw:
                size = (kw.pop("size"),)
            shape = F._size(size)
            npd = _dtype.as_dtype(d).np
            if name == "empty" and F.UNINITIALIZED_FILL["deterministic"] and F.UNINITIALIZED_FILL["fill"]:
                arr = F._uninitialized(shape, npd)        # filled, as PyTorch under determinism
            else:
                arr = (np.zeros if name != "ones" else np.ones)(shape, dtype=npd)
        return F._finish(arr, requires_grad, _same_place(self, device))
    method.__name__ = "new_" + name
    method.__doc__ = (f"A new tensor of ``{name}`` with this tensor's dtype and device unless "
                      "``dtype``/``device`` say otherwise.")
    return method


def new_tensor(self: Tensor, data: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, layout: Any = None, pin_memory: bool = False) -> Tensor:
    """A copy of ``data`` as a tensor with this tensor's dtype and device (unless given)."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    npd = (self.dtype if dtype is None else _dtype.as_dtype(dtype)).np
    arr = F._infer(data, exact=True, target=npd)
    if backend_of(arr) is not None:
        arr = to_numpy(arr)
    if npd.kind in "iu" and isinstance(data, (int, float, list, tuple)):
        _dtype.check_int_range(arr, npd)
    arr = arr.astype(npd, copy=False)
    return F._finish(arr, requires_grad, _same_place(self, device))


# --- transposes --------------------------------------------------------------------------
def _conj(x: Tensor) -> Tensor:
    from gradkit._api.complex import conj
    return conj(x)


def _T(self: Tensor) -> Tensor:
    if self.ndim != 2:
        if self.ndim == 0:
            warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity "
                          "in these cases.", UserWarning, stacklevel=2)
        else:
            warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their "
                          "shape is deprecated and it will throw an error in a future release. "
                          "Consider `x.mT` to transpose batches of matrices or `x.permute(*torch."
                          "arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
                          UserWarning, stacklevel=2)
    return A.permute(self, tuple(range(self.ndim - 1, -1, -1))) if self.ndim >= 2 else self


def _H(self: Tensor) -> Tensor:
    if self.ndim > 2 or self.ndim == 1:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.ndim}-D tensor."
                           + (" For batches of matrices, consider using tensor.mH"
                              if self.ndim > 2 else ""))
    out = A.transpose(self, 0, 1) if self.ndim == 2 else self
    return _conj(out)


def _mT(self: Tensor) -> Tensor:
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self.ndim}-D tensor.")
    return A.transpose(self, -2, -1)


def _mH(self: Tensor) -> Tensor:
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got "
                           f"{self.ndim}-D tensor.")
    return _conj(A.transpose(self, -2, -1))


def _adjoint(self: Tensor) -> Tensor:
    return _mH(self)


# --- methods built on _api_tensor ---------------------------------------------------------
def _bind(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        return fn(self, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = fn.__doc__
    return method


def _named_inplace(fn: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    def base(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return fn(self, *args, **kwargs)
    base.__name__ = name
    m = _make_inplace(base)
    return m


def _pinverse(self: Tensor, rcond: float = 1e-15) -> Tensor:
    from gradkit._api.aliases import pinverse
    return pinverse(self, rcond=rcond)


def _get_device(self: Tensor) -> int:
    d = self.device
    return -1 if d.type == "cpu" else (d.index or 0)


#: the torch.* functions that are bound as methods below, by name
_FUNCTIONS = {name: getattr(mod, name) for mod in (_blas, _differences, _distances, _histograms,
                                                   _mutating, _views)
              for name in mod.__all__}
_FUNCTIONS.update(msort=A.msort, ravel=A.ravel, is_same_size=A.is_same_size,
                  is_signed=A.is_signed)


def resize_(self: Tensor, *sizes: Any) -> Tensor:
    """Give ``self`` the shape ``sizes`` in place, keeping its elements in row-major order (new
    elements, when it grows, are zeros where PyTorch leaves memory uninitialised). Refused for
    a tensor that requires grad (PyTorch's error) and for a view (its base would not follow)."""
    shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
        else tuple(sizes)
    if any(not isinstance(n, (int, np.integer)) or n < 0 for n in shape):
        raise RuntimeError(f"resize_: sizes must be non-negative integers, got {list(shape)}")
    if self._rg:
        raise RuntimeError("cannot resize variables that require grad")
    if self._base is not None:
        raise RuntimeError("resize_ of a view is not supported: its base would not follow; "
                           "resize a clone() instead")
    if type(self._data) is not np.ndarray:
        raise TypeError("resize_ is only implemented on CPU tensors")
    n = int(np.prod(shape, dtype=np.int64))
    flat = self._data.reshape(-1)
    if n <= flat.size:
        new = flat[:n].copy()
    else:
        new = np.concatenate([flat, np.zeros(n - flat.size, flat.dtype)])
    self._data = new.reshape(shape)
    self._vc[0] += 1
    return self


def module_load(self: Tensor, other: Tensor, assign: bool = False) -> Tensor:
    """What ``load_state_dict`` makes of ``other`` before it replaces ``self`` (PyTorch's hook
    for ``torch.__future__.set_swap_module_params_on_conversion``): ``other.detach()`` when
    ``assign``, else ``self.copy_(other).detach()``."""
    if assign:
        return other.detach()
    return self.copy_(other).detach()


def _attach() -> None:
    T = Tensor
    methods: dict[str, Any] = {
        "index_fill": _index_fill, "index_copy": _index_copy, "masked_scatter": _masked_scatter,
        "put": _put, "index_put": _index_put, "fill_diagonal_": fill_diagonal_, "unfold": _unfold,
        "as_strided": _as_strided, "storage_offset": storage_offset, "is_set_to": is_set_to,
        "storage": storage, "untyped_storage": untyped_storage,
        "apply_": apply_, "map_": map_, "new_tensor": new_tensor, "adjoint": _adjoint,
        "pinverse": _pinverse, "get_device": _get_device,
        "masked_scatter_": _masked_scatter_inplace, "resize_": resize_,
        "module_load": module_load,
    }
    for name in ("zeros", "ones", "empty", "full"):
        methods["new_" + name] = _new_factory(name)
    for name in ("index_fill", "index_copy", "put", "index_put"):
        methods[name + "_"] = _named_inplace(methods[name], name)
    for name in ("diff", "cross", "renorm", "addmm", "addmv", "addr", "addbmm", "baddbmm",
                 "narrow_copy", "select", "scatter_reduce", "index_reduce", "histc", "bincount", "histogram",
                 "msort", "ravel", "is_same_size", "is_signed"):
        methods[name] = _bind(_FUNCTIONS[name], name)
    for name in ("renorm", "addmm", "addmv", "addr", "addbmm", "baddbmm", "scatter_reduce",
                 "index_reduce"):
        methods[name + "_"] = _named_inplace(_FUNCTIONS[name], name)
    for name in ("cumsum", "cumprod", "eq", "ne", "lt", "le", "gt", "ge", "not_equal", "less",
                 "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
                 "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
                 "bitwise_not", "negative", "absolute", "arccos", "arcsin", "arctan", "arccosh",
                 "arcsinh", "arctanh", "arctan2", "fix", "sgn", "float_power"):
        if not hasattr(T, name + "_") and hasattr(A, name):
            methods[name + "_"] = _named_inplace(getattr(A, name), name)
    for name, fn in methods.items():
        setattr(T, name, fn)
    T.T = property(_T)
    T.H = property(_H)
    T.mT = property(_mT)
    T.mH = property(_mH)


_attach()
