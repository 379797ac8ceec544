"""Tensors over memory given from outside: ``empty_strided`` (a layout of the caller's choosing),
``frombuffer`` (a Python buffer, shared), and DLPack exchange (``from_dlpack``, ``to_dlpack``,
``Tensor.__dlpack__``), which NumPy implements for CPU arrays; a CuPy-backed tensor hands out
CuPy's capsule.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradkit._core.concrete import user_stacklevel
from gradkit._core import dtype as _dtype
from gradkit._core.backend import backend_of
from gradkit._core.creation import _shape, from_numpy
from gradkit._core.tensor import Tensor, _make

__all__ = ["empty_strided", "empty_permuted", "frombuffer", "from_file", "from_dlpack",
           "to_dlpack"]


def empty_strided(size: Any, stride: Any, *, dtype: Any = None, layout: Any = None,
                  device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of shape ``size`` whose elements lie ``stride`` elements apart (PyTorch leaves the
    values uninitialised; here they are zeros). Strides may overlap (0 broadcasts)."""
    shape = _shape((size,), None) if not isinstance(size, int) else (size,)
    strides = tuple(int(s) for s in stride)
    if len(strides) != len(shape):
        raise RuntimeError(f"dimensionality of sizes ({len(shape)}) must match dimensionality of "
                           f"strides ({len(strides)})")
    if any(s < 0 for s in strides):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(strides)}")
    dt = (_dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()).np
    if device is not None and str(device) not in ("cpu", "meta"):
        raise NotImplementedError("empty_strided: gradkit builds custom strides on the CPU only")
    if str(device) == "meta":
        from gradkit._core.creation import empty
        return empty(*shape, dtype=dtype, device="meta", requires_grad=requires_grad)
    extent = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if all(shape) else 0
    base = np.zeros(max(extent, 0), dtype=dt)
    arr = np.lib.stride_tricks.as_strided(base, shape, tuple(s * base.itemsize for s in strides))
    return _make(arr, bool(requires_grad), None)


def empty_permuted(size: Any, physical_layout: Any, *, dtype: Any = None, layout: Any = None,
                   device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of shape ``size`` laid out in memory in the dimension order ``physical_layout``
    (outermost first): ``empty_permuted((N, C, H, W), (0, 2, 3, 1))`` is channels-last
    (zeros here, where PyTorch leaves the memory uninitialised)."""
    shape = tuple(int(n) for n in size)
    order = tuple(int(d) for d in physical_layout)
    if sorted(order) != list(range(len(shape))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; or physical_layout is not a permutation: "
                           f"size={list(shape)}, physical_layout={list(order)}")
    dt = (_dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()).np
    arr = np.zeros(tuple(shape[d] for d in order), dtype=dt).transpose(
        tuple(int(i) for i in np.argsort(order)))
    return _make(arr, bool(requires_grad), None)


def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-D tensor over a Python buffer (``bytearray``, ``array.array``, ``memoryview``, ...),
    sharing its memory: writes to one show in the other. A read-only buffer (``bytes``) is
    copied instead, with a warning, since NumPy will not write into it."""
    dt = _dtype.as_dtype(dtype).np
    view = memoryview(buffer)
    length = view.nbytes
    count, offset = int(count), int(offset)
    if length == 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer "
                         f"length ({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % dt.itemsize:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) "
                             f"must be a multiple of element size ({dt.itemsize})")
        count = (length - offset) // dt.itemsize
    elif offset + count * dt.itemsize > length:
        raise ValueError(f"requested buffer length ({count} * {dt.itemsize} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({length} bytes)")
    arr = np.frombuffer(buffer, dtype=dt, count=count, offset=offset)
    if not arr.flags.writeable:
        warnings.warn("The given buffer is not writable; gradkit copies it (the tensor does not "
                      "share its memory).", UserWarning, stacklevel=user_stacklevel())
        arr = arr.copy()
    return _make(arr, bool(requires_grad), None)


def from_file(filename: Any, shared: Any = None, size: int = 0, *, dtype: Any = None,
              layout: Any = None, device: Any = None, pin_memory: bool = False,
              requires_grad: bool = False) -> Tensor:
    """A 1-D tensor of ``size`` elements over a memory-mapped file. ``shared=True`` maps it
    shared (writes reach the file, which is created or enlarged as needed); otherwise the map is
    private (copy-on-write: the file is never changed, and must hold ``size`` elements)."""
    import os

    np_dt = (_dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype)).np
    size = int(size)
    if size < 0:
        raise RuntimeError(f"from_file: size must be non-negative, got {size}")
    name = os.fspath(filename)
    need = size * np_dt.itemsize
    if not shared:
        try:
            have = os.path.getsize(name)
        except OSError as exc:
            raise RuntimeError(f"unable to open file <{name}> in read-only mode: "
                               f"{exc.strerror} ({exc.errno})") from None
        if have < need:
            raise RuntimeError(f"file <{name}> size <{have}> is smaller than the required "
                               f"mapping size <{need}>")
    if size == 0:
        arr = np.empty(0, dtype=np_dt)
    else:
        if shared and not os.path.exists(name):
            open(name, "wb").close()
        # "r+" enlarges a short file; "c" is a private, copy-on-write map
        arr = np.memmap(name, dtype=np_dt, mode="r+" if shared else "c", shape=(size,))
        arr = arr.view(np.ndarray)          # a plain array whose base keeps the map open
    return _make(arr, bool(requires_grad), None)


class _Capsule:
    """A DLPack capsule held for ``np.from_dlpack``, which takes objects with ``__dlpack__``."""

    def __init__(self, capsule: Any) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)                       # kDLCPU: the only device a bare capsule is read from


class _WritableView:
    """The memory of a NumPy array read from a bare (unversioned) DLPack capsule, offered as
    writable: such a capsule carries no read-only flag, so NumPy marks its array read-only, while
    PyTorch's ``from_dlpack(capsule)`` writes through to the producer's memory. The array (which
    owns the capsule and calls its deleter) stays alive as this object's attribute, the base of
    the returned view."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr
        face = dict(arr.__array_interface__)
        face["data"] = (face["data"][0], False)
        self.__array_interface__ = face


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing memory with ``ext_tensor`` (anything with ``__dlpack__``: a PyTorch or
    JAX CPU tensor, a NumPy array; or a DLPack capsule). GPU tensors come in through CuPy."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    src = ext_tensor if hasattr(ext_tensor, "__dlpack__") else _Capsule(ext_tensor)
    device = src.__dlpack_device__() if hasattr(src, "__dlpack_device__") else (1, 0)
    if device[0] != 1:
        try:
            import cupy
        except ImportError:
            raise RuntimeError(f"from_dlpack: a tensor on DLPack device type {device[0]} needs "
                               "CuPy (gradkit reads CPU memory with NumPy)") from None
        return _make(cupy.from_dlpack(src), False, None)
    arr = np.from_dlpack(src)
    if isinstance(src, _Capsule) and not arr.flags.writeable and arr.size:
        arr = np.asarray(_WritableView(arr))
    if arr.dtype in _dtype.FROM_NP:
        return from_numpy(arr)
    raise TypeError(f"from_dlpack: gradkit has no dtype for {arr.dtype}")


def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule of ``tensor``'s memory (for ``from_dlpack`` in another library)."""
    return tensor.detach()._data.__dlpack__()


def _dlpack(self: Tensor, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
            copy: Any = None) -> Any:
    if self.requires_grad:
        raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
    kwargs = {} if max_version is None else {"max_version": max_version}
    return self._data.__dlpack__(**kwargs)


def _dlpack_device(self: Tensor) -> Any:
    if backend_of(self._data) is not None:
        return self._data.__dlpack_device__()
    return (1, 0)


def _new_empty_strided(self: Tensor, size: Any, stride: Any, *, dtype: Any = None,
                       device: Any = None, requires_grad: bool = False, layout: Any = None,
                       pin_memory: bool = False) -> Tensor:
    return empty_strided(size, stride, dtype=self.dtype if dtype is None else dtype,
                         device=device, requires_grad=requires_grad)


_new_empty_strided.__name__ = "new_empty_strided"
Tensor.new_empty_strided = _new_empty_strided
Tensor.__dlpack__ = _dlpack
Tensor.__dlpack_device__ = _dlpack_device
