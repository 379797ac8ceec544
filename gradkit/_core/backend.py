"""Which array library holds a tensor's data, and the few things that depend on it.

gradkit's forwards and derivative rules call NumPy's API. Arrays of other
libraries that implement NumPy's dispatch protocols (``__array_ufunc__``,
``__array_function__`` and NEP 35's ``like=``) run through that same code
unchanged: Dask arrays build lazy task graphs, CuPy arrays run on a GPU. This
module recognizes such arrays, keeps them from being converted to NumPy behind
the user's back, and answers what differs by library: the device, moving data
to and from NumPy, and computing several lazy results in one pass.

A library is known by its array type (``register``); Dask and CuPy are
recognized on first sight and neither is imported unless one of their arrays
shows up or is asked for.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Sequence

import numpy as np

__all__ = ["Backend", "backend_of", "register", "as_data", "device", "get_default_device",
           "set_default_device", "zeros", "ones",
           "copy", "is_lazy", "values_unknown", "backend_for_device"]

_ndarray = np.ndarray
_asarray = np.asarray


class Backend:
    """An array library other than NumPy whose arrays a tensor can hold."""

    #: short name used in messages ("Dask", "CuPy")
    label = "?"
    #: PyTorch's device type of its arrays
    device_type = "cpu"
    #: whether operations build a graph that runs only when computed
    lazy = False
    #: how to install it, for messages
    install = ""

    def from_numpy(self, arr: np.ndarray, index: int | None) -> Any:
        raise NotImplementedError

    def to_numpy(self, arr: Any) -> np.ndarray:
        raise NotImplementedError

    def from_numpy_like(self, arr: np.ndarray, ref: Any) -> Any:
        """``arr`` in this library, placed like array ``ref`` (same GPU, same chunks)."""
        return self.from_numpy(arr, self.device_index(ref))

    def device_index(self, arr: Any) -> int | None:
        return None

    def to_index(self, arr: Any, index: int) -> Any:
        """The same values on device ``index`` of this library."""
        return arr

    def compute(self, arrays: Sequence[Any], **kwargs: Any) -> list[np.ndarray]:
        return [self.to_numpy(a) for a in arrays]


class DaskBackend(Backend):
    label = "Dask"
    lazy = True
    install = 'pip install "gradkit[dask]"'

    def from_numpy(self, arr: np.ndarray, index: int | None) -> Any:
        import dask.array as da
        return da.from_array(arr, chunks="auto")

    def to_numpy(self, arr: Any) -> np.ndarray:
        return _asarray(arr.compute())

    def from_numpy_like(self, arr: np.ndarray, ref: Any) -> Any:
        import dask.array as da
        return da.from_array(arr, chunks=ref.chunks if arr.shape == ref.shape else "auto")

    def compute(self, arrays: Sequence[Any], **kwargs: Any) -> list[np.ndarray]:
        import dask
        return [_asarray(a) for a in dask.compute(*arrays, **kwargs)]


class CupyBackend(Backend):
    label = "CuPy"
    device_type = "cuda"
    install = "pip install cupy-cuda12x (with a CUDA GPU and driver)"

    def _cupy(self) -> Any:
        return importlib.import_module("cupy")

    def from_numpy(self, arr: np.ndarray, index: int | None) -> Any:
        cp = self._cupy()
        with cp.cuda.Device(index or 0):
            return cp.asarray(arr)

    def to_numpy(self, arr: Any) -> np.ndarray:
        return arr.get()

    def device_index(self, arr: Any) -> int | None:
        return int(arr.device.id)

    def to_index(self, arr: Any, index: int) -> Any:
        if self.device_index(arr) == index:
            return arr
        cp = self._cupy()
        with cp.cuda.Device(index):
            return cp.asarray(arr)


#: array type -> its backend (None for NumPy's own types)
_KIND: dict[type, Backend | None] = {_ndarray: None}
#: device type -> the backend that provides it when no array has been seen yet
_BY_DEVICE: dict[str, Backend] = {}
_DASK = DaskBackend()
_CUPY = CupyBackend()


def register(array_type: type, backend: Backend, device_type: str | None = None) -> None:
    """Let tensors hold arrays of ``array_type``, handled by ``backend``.

    Dask and CuPy are registered on first sight; this is for other libraries (and tests).
    With ``device_type`` the backend also serves ``device=`` in factories and ``.to()``.
    """
    _KIND[array_type] = backend
    if device_type is not None:
        _BY_DEVICE[device_type] = backend


def unregister(array_type: type) -> None:
    backend = _KIND.pop(array_type, None)
    for k, v in list(_BY_DEVICE.items()):
        if v is backend:
            del _BY_DEVICE[k]


def _classify(t: type) -> Backend | None:
    mod = getattr(t, "__module__", "") or ""
    if mod.startswith("dask.array") and t.__name__ == "Array":
        b: Backend | None = _DASK
    elif mod.startswith("cupy") and t.__name__ == "ndarray":
        b = _CUPY
    else:
        b = None
    if b is not None or issubclass(t, (_ndarray, np.generic)):
        _KIND[t] = b
    return b


def backend_of(x: Any) -> Backend | None:
    """The backend of array ``x``; None for NumPy arrays, NumPy scalars and Python objects."""
    t = type(x)
    try:
        return _KIND[t]
    except KeyError:
        return _classify(t)


def is_lazy(x: Any) -> bool:
    b = backend_of(x)
    return b is not None and b.lazy


def values_unknown(x: Any) -> bool:
    """Whether checking ``x``'s values (a range check, a fast path for nonzero values) must
    be skipped: a lazy array would be computed, a meta array has no values."""
    b = backend_of(x)
    return b is not None and (b.lazy or b.device_type == "meta")


def as_data(x: Any, dtype: Any = None) -> Any:
    """``x`` as an array of its own library: NumPy scalars and sequences become ndarrays,
    Dask and CuPy arrays stay what they are (never converted to NumPy here)."""
    t = type(x)
    if t is _ndarray:
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    b = _KIND[t] if t in _KIND else _classify(t)
    if b is None:
        return _asarray(x, dtype=dtype)
    return x if dtype is None or x.dtype == dtype else x.astype(dtype)


def zeros(shape: Any, dtype: Any, like: Any) -> Any:
    """``np.zeros`` in the library of array ``like``."""
    if type(like) is _ndarray or backend_of(like) is None:
        return np.zeros(shape, dtype=dtype)
    return np.zeros(shape, dtype=dtype, like=like)


def ones(shape: Any, dtype: Any, like: Any) -> Any:
    """``np.ones`` in the library of array ``like``."""
    if type(like) is _ndarray or backend_of(like) is None:
        return np.ones(shape, dtype=dtype)
    return np.ones(shape, dtype=dtype, like=like)


def copy(x: Any, dtype: Any = None) -> Any:
    """A copy of ``x`` (optionally cast) in its own library."""
    if type(x) is _ndarray or backend_of(x) is None:
        return np.array(x, dtype=dtype, copy=True)
    return x.astype(x.dtype if dtype is None else dtype, copy=True)


def to_numpy(x: Any) -> np.ndarray:
    """``x`` as an ndarray: computes a Dask array, copies a CuPy array to the host."""
    b = backend_of(x)
    return _asarray(x) if b is None else b.to_numpy(x)


# --------------------------------------------------------------------------- devices
class device:
    """Where a tensor's data lives, as PyTorch names it: ``device('cpu')``, ``device('cuda:0')``.

    Compares equal to its string form, so ``t.device == 'cpu'`` works.
    """

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        elif not isinstance(type, str):
            raise TypeError(f"device() expected a string like 'cpu' or 'cuda:0' (got "
                            f"{type.__class__.__name__})")
        elif ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in ("cpu", "cuda", "mps", "meta", "xla"):
            raise RuntimeError(f"Expected one of cpu, cuda, mps, meta, xla device type at start "
                               f"of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative (got {index})")
        self.type = type
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self) -> device:
        """``with gk.device('meta'):`` makes factories (and layers built inside) use this
        device when given none, as PyTorch's device context does."""
        stack = _default.__dict__.setdefault("stack", [])
        stack.append(_default.__dict__.get("dev"))
        _default.dev = _checked_default(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _default.dev = _default.stack.pop()


device.__module__ = "gradkit"    # <class 'gradkit.device'>, as torch.device
CPU = device("cpu")
META = device("meta")


#: the default device of this thread (None: the CPU), set by set_default_device or a
#: ``with device(...)`` block
_default = threading.local()


def get_default_device() -> device:
    """The device factories use when given none: ``device(type='cpu')`` (PyTorch's name)."""
    return getattr(_default, "dev", None) or CPU


def default_device(dev: Any) -> Any:
    """``dev``, or the default device when it is None (None again when that is the CPU)."""
    return dev if dev is not None else getattr(_default, "dev", None)


def _checked_default(dev: Any) -> device | None:
    d = device(dev)
    if d == CPU:
        return None
    if d.type == "meta":
        return META
    raise NotImplementedError(f"gradkit.set_default_device({str(d)!r}): only 'cpu' and 'meta' "
                              "are supported; pass device= to the factories (gradkit.zeros(3, "
                              "device='cuda')) or move tensors with .to(device)")


def set_default_device(dev: Any) -> None:
    """PyTorch's ``set_default_device``: factories given no ``device=`` then make tensors there.
    ``'cpu'`` (and ``None``) and ``'meta'`` are accepted; any other device is refused rather
    than silently ignored."""
    _default.dev = None if dev is None else _checked_default(dev)


def device_of(x: Any) -> device:
    """The device of array ``x`` (Dask arrays are on the CPU, as far as PyTorch's terms go)."""
    b = backend_of(x)
    if b is None or b.device_type == "cpu":
        return CPU
    if b.device_type == "meta":
        return META
    return device(b.device_type, b.device_index(x) or 0)


def backend_for_device(dev: Any) -> tuple[Backend | None, int | None]:
    """The backend that places arrays on ``dev`` (None for the CPU) and the device index."""
    d = dev if isinstance(dev, device) else device(dev)
    if d.type == "cpu":
        return None, None
    if d.type in _BY_DEVICE and d.type == "meta":
        return _BY_DEVICE["meta"], None     # NOTE: PyTorch puts 'meta:1' on device 'meta' too
    if d.type in _BY_DEVICE:
        return _BY_DEVICE[d.type], d.index
    if d.type == "cuda":
        if not cuda_available():
            raise RuntimeError(
                f"device '{d}' needs CuPy and a CUDA GPU, and none is usable here: "
                f"{_CUPY.install}. gradkit.cuda.is_available() tells whether one is.")
        return _CUPY, d.index
    raise RuntimeError(f"gradkit runs on the CPU (NumPy, Dask), on CUDA GPUs (CuPy) and on the "
                       f"meta device (shapes without data); "
                       f"device '{d}' is not supported")


def cuda_available() -> bool:
    """Whether CuPy is installed and sees at least one GPU (or a registered 'cuda' backend)."""
    if "cuda" in _BY_DEVICE:
        return True
    try:
        cp = importlib.import_module("cupy")
        return int(cp.cuda.runtime.getDeviceCount()) > 0
    except Exception:                              # noqa: BLE001 - any failure means "no GPU"
        return False


def c_contiguous(x: Any) -> bool:
    """Whether ``x`` is laid out in C order (arrays without strides, like Dask's, count as such)."""
    flags = getattr(x, "flags", None)
    return True if flags is None else bool(flags.c_contiguous)


def immutable(x: Any) -> bool:
    """Whether writes must replace ``x`` rather than fill it (Dask arrays are values)."""
    return type(x) is not _ndarray and is_lazy(x)


def data_of(x: Any) -> Any:
    """The array inside a Tensor (rules see Tensors under ``create_graph``), or ``x`` itself."""
    d = getattr(x, "_data", None)
    return x if d is None else d


def arange(n: int, like: Any) -> Any:
    """``np.arange(n)`` (int64) in the library of array ``like``."""
    if type(like) is _ndarray or backend_of(like) is None:
        return np.arange(n, dtype=np.int64)
    return np.arange(n, dtype=np.int64, like=like)


def eye(n: int, m: int, dtype: Any, like: Any) -> Any:
    """``np.eye(n, m)`` in the library of array ``like``."""
    if type(like) is _ndarray or backend_of(like) is None:
        return np.eye(n, m, dtype=dtype)
    return (arange(n, like)[:, None] == arange(m, like)).astype(dtype)


def max_or_ninf(x: Any, axis: Any) -> Any:
    """``amax(x, axis, keepdims=True)``, and -inf where the reduced axes are empty."""
    axes = range(x.ndim) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    if all(x.shape[a] for a in axes):
        return np.amax(x, axis=axis, keepdims=True)
    if type(x) is not _ndarray and backend_of(x) is not None:
        shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
        return np.full(shape, -np.inf, dtype=x.dtype, like=x)
    return np.amax(x, axis=axis, keepdims=True, initial=-np.inf)


def placement_of(x: Any) -> tuple[Backend | None, int | None]:
    """Where array ``x`` lives: its backend (None for NumPy) and device index."""
    b = backend_of(x)
    return (None, None) if b is None else (b, b.device_index(x))


def move(x: Any, placement: tuple[Backend | None, int | None]) -> Any:
    """``x`` moved to ``placement`` (from ``placement_of``): to NumPy (computing a Dask array,
    copying a GPU array to the host), to a GPU, or between GPUs."""
    target, index = placement
    current = backend_of(x)
    if target is None:
        return x if current is None else current.to_numpy(x)
    if target.lazy:
        return x                        # NOTE: a lazy graph takes NumPy arrays as they are
    if current is target:
        return x if index is None else target.to_index(x, index)
    if current is not None:
        x = current.to_numpy(x)
    return target.from_numpy(_asarray(x), index)


def index_like(index: Any, like: Any) -> Any:
    """An index (array, or tuple of arrays, slices, ints) with its host (NumPy) arrays copied
    to the library of ``like`` (as PyTorch accepts CPU index tensors for GPU data)."""
    if type(like) is _ndarray or backend_of(like) is None:
        return index
    if isinstance(index, tuple):
        return tuple(index_like(i, like) for i in index)
    if isinstance(index, _ndarray) and index.dtype != bool:
        return np.asarray(index, like=like)
    return index


def along_blocks(fn: Any, x: Any, index: Any, dim: int, dtype: Any, *more: Any) -> Any:
    """``fn(x_block, index_block, *more_blocks, dim=dim)`` over Dask blocks that hold whole rows
    along ``dim`` (gather and scatter-add along a dim, lazily: each block's rows are
    independent of the others'). The result has ``x``'s shape when ``more`` is given
    (scatter-add) and ``index``'s otherwise (gather)."""
    import dask.array as da
    x, index = da.asarray(x), da.asarray(index)
    others = [d for d in range(x.ndim) if d != dim]
    if any(index.shape[d] != x.shape[d] for d in others):
        raise NotImplementedError(
            "gather/scatter along a dim cannot run lazily on a Dask-backed tensor when the "
            "index is smaller than the input in the other dims. Compute the input first "
            "(tensor.compute()) and work on the NumPy-backed result.")
    x = x.rechunk({dim: -1})
    along = tuple(-1 if d == dim else c for d, c in enumerate(x.chunks))
    index = index.rechunk(along)
    blocks = [da.asarray(m).rechunk(along) for m in more]
    chunks = x.chunks if more else index.chunks
    return da.map_blocks(_checked_rows, x, index, *blocks, fn=fn, dim=dim, dtype=dtype, chunks=chunks,
                         meta=np.empty((0,) * x.ndim, dtype=dtype))


def _checked_rows(xb: Any, ib: Any, *more: Any, fn: Any, dim: int) -> Any:
    """One block of ``along_blocks``: the index is checked when the block is computed (NumPy
    would wrap a negative index; PyTorch refuses it, and so does the eager path)."""
    n = xb.shape[dim]
    if ib.size and (ib.min() < 0 or ib.max() >= n):
        flat = ib.reshape(-1)
        bad = int(flat[(flat < 0) | (flat >= n)][0])
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {n}")
    return fn(xb, ib, *more, dim=dim)


def contiguous(x: Any) -> Any:
    """``x`` in C order (``np.ascontiguousarray`` for NumPy, which would make 0-d arrays 1-d
    here, so the shape is kept); other libraries' arrays as they are."""
    if type(x) is _ndarray:
        return np.ascontiguousarray(x).reshape(x.shape)
    return x if backend_of(x) is not None else contiguous(_asarray(x))
