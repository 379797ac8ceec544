"""Tensor factories (``tensor``, ``zeros``, ``arange``, ...) and gradkit's random generator."""

from __future__ import annotations

import math
import threading
import warnings
from typing import Any, Sequence

import numpy as np

from gradkit._core.concrete import user_stacklevel
from gradkit._core import backend as _backend
from gradkit._core import dtype as _dtype
from gradkit._core import concrete as _cc
from gradkit._core import formats as _formats
from gradkit._core.meta import META as _META
from gradkit._core.meta import MetaArray as _MetaArray
from gradkit._core.tensor import Tensor, _make

__all__ = ["tensor", "as_tensor", "from_numpy", "asarray", "zeros", "ones", "full", "empty",
           "arange", "linspace", "logspace", "eye", "zeros_like", "ones_like", "full_like",
           "empty_like", "rand", "randn", "randint", "randperm", "rand_like", "randn_like",
           "randint_like", "normal", "manual_seed", "seed", "initial_seed", "Generator",
           "get_rng_state", "set_rng_state", "scalar_tensor"]


def _place(arr: Any, device: Any) -> Any:
    """``arr`` (any array library) moved to ``device``; unchanged when ``device`` is None."""
    if device is None:
        return arr
    if isinstance(device, _SameAs):
        ref = device.arr
        b = _backend.backend_of(ref)
        if type(arr) is _MetaArray and b is _META:
            return arr
        return b.from_numpy_like(_backend.to_numpy(arr), ref)
    target, index = _backend.backend_for_device(device)
    current = _backend.backend_of(arr)
    if target is None:
        return arr if current is None or current.lazy else current.to_numpy(arr)
    if current is target:
        return target.to_index(arr, index or 0) if index is not None else arr
    if current is not None:
        arr = current.to_numpy(arr)
    return target.from_numpy(arr, index)


def _on_meta(device: Any) -> bool:
    """Whether a factory's ``device`` is the meta device (its result gets no values, and
    random factories draw nothing, as in PyTorch)."""
    if device is None:
        return False
    if isinstance(device, _SameAs):
        return type(device.arr) is _MetaArray
    return (device.type if isinstance(device, _backend.device) else
            _backend.device(device).type) == "meta"


#: ``torch.use_deterministic_algorithms(True)`` ("deterministic", set by ``_api.flags``) with
#: ``torch.utils.deterministic.fill_uninitialized_memory`` ("fill"): ``empty``/``empty_like``
#: then fill what would be uninitialised memory, as PyTorch does (NaN for floating and complex
#: dtypes, the largest value for integers, True for bool)
UNINITIALIZED_FILL = {"deterministic": False, "fill": True}


def _uninitialized(shape: Any, dtype: Any) -> np.ndarray:
    arr = np.empty(shape, dtype=dtype)
    if UNINITIALIZED_FILL["deterministic"] and UNINITIALIZED_FILL["fill"]:
        kind = arr.dtype.kind
        arr.fill(np.nan if kind in "fc" else True if kind == "b" else np.iinfo(arr.dtype).max)
    return arr


def _blank(shape: Any, dtype: Any, device: Any, make: Any) -> Any:
    """``make()``, or a meta array of ``shape`` and ``dtype`` (no memory) on the meta device."""
    if _on_meta(device):
        return _MetaArray(shape, dtype)
    return make()


def _np_dtype(dtype: Any) -> Any:
    return None if dtype is None else _dtype.as_dtype(dtype).np


def _finish(arr: np.ndarray, requires_grad: bool, device: Any = None) -> Tensor:
    t = _make(_place(arr, device) if device is not None else arr, False, None)
    if requires_grad:
        if arr.dtype.kind not in "fcV":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t.requires_grad_(True)
    return t


def _infer(data: Any, exact: bool = False, target: Any = None) -> np.ndarray:
    """Convert nested Python data to an ndarray with PyTorch's dtype inference.

    With ``exact`` (a dtype was requested) Python floats stay float64 here, so
    ``tensor(0.7, dtype=float64)`` is not rounded through float32 first.
    """
    if isinstance(data, Tensor):
        _cc.check(data, "gradkit.tensor()")           # a copy off the graph: see _concrete
        return _backend.copy(data._data)
    if _backend.backend_of(data) is not None:
        if data.dtype not in _dtype.FROM_NP:
            raise TypeError(f"can't convert an array of type {data.dtype} to a tensor")
        return _dtype.note_unsigned(_backend.copy(data))
    if isinstance(data, np.ndarray):
        return _dtype.note_unsigned(np.array(data, copy=True))
    if isinstance(data, np.generic):
        return _dtype.note_unsigned(np.array(data))
    if isinstance(data, (list, tuple)):
        data = _unwrap(data)
    arr = np.array(data)
    if arr.dtype == np.uint64 or arr.dtype == object:
        arr = _big_ints(arr, target)
    elif arr.dtype == np.float64 and isinstance(data, list) and arr.size and \
            np.any((np.abs(arr) >= 2.0 ** 63) & np.isfinite(arr)):
        # NumPy made float64 of int64 and uint64 rows ([[1], [2**63]]): look for the big int
        big = _big_ints(np.array(_leaves(data), dtype=object), target)
        if big.dtype == np.uint64:                      # all of them fit torch.uint64
            arr = big.reshape(arr.shape)
    if arr.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(data).__name__}: expected numbers, "
                        "bools, nested lists of them, arrays or tensors")
    if arr.dtype.kind == "f" and arr.dtype != np.float32 and not exact and not _has_np_float(data):
        arr = arr.astype(_dtype.get_default_dtype().np)
    elif arr.dtype.kind == "c" and not isinstance(data, np.ndarray):
        arr = arr.astype(_dtype.get_default_dtype().to_complex().np)
    elif arr.dtype.kind in "iu" and arr.dtype != np.uint8 and not (
            arr.dtype == np.uint64 and target == np.uint64):
        arr = arr.astype(np.int64)
    elif arr.dtype.kind in "US":
        raise TypeError("new(): invalid data type 'str'")
    return arr


def _big_ints(arr: np.ndarray, target: Any) -> np.ndarray:
    """Python ints beyond int64 (NumPy made uint64 or object of them): floats when the data
    holds a float or a floating dtype was asked for; otherwise PyTorch's ValueError, never the
    wrapped value (``tensor(2**63)`` is not -2**63)."""
    flat = arr.reshape(-1).tolist()
    if not all(isinstance(v, (int, float)) for v in flat):
        return arr
    if any(isinstance(v, float) for v in flat) or (target is not None and target.kind in "fcV"):
        return np.array(flat, dtype=np.float64).reshape(arr.shape)
    if target == np.uint64 and all(isinstance(v, int) and 0 <= v < 2 ** 64 for v in flat):
        return np.array(flat, dtype=np.uint64).reshape(arr.shape)     # torch.uint64 holds them
    raise ValueError("Overflow when unpacking long long")


def _leaves(data: Any) -> list[Any]:
    """The numbers of nested lists, in order."""
    out: list[Any] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def _has_np_float(data: Any) -> bool:
    if isinstance(data, Tensor):
        return data._data.dtype == np.float64
    if isinstance(data, np.ndarray):
        return data.dtype == np.float64
    return False


def _unwrap(data: Any) -> Any:
    if isinstance(data, Tensor):
        # NOTE: PyTorch converts each element with float(): its one-time warning, and the error
        # inside a transform
        _cc.check_scalar(data, "gradkit.tensor([...]) of tensors (use gradkit.stack)")
        return data._data
    if isinstance(data, (list, tuple)):
        return [_unwrap(d) for d in data]
    return data


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """Build a tensor by copying ``data`` (a number, nested lists, an ndarray or a tensor).

    Python floats become the default dtype (float32), ints int64, bools bool;
    an ndarray keeps its dtype.

    Examples
    --------
    >>> gk.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    device = _backend.default_device(device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than gradkit.tensor(sourceTensor).",
                      UserWarning, stacklevel=user_stacklevel())
    npd = _np_dtype(dtype)
    arr = _infer(data, exact=dtype is not None, target=npd)
    if npd is not None:
        if npd.kind in "iu" and isinstance(data, (int, float, list, tuple)):
            _dtype.check_int_range(arr, npd)
        arr = arr.astype(npd, copy=False) if npd.kind != "V" else _dtype.astype(arr, npd)
    return _finish(arr, requires_grad, device)


def scalar_tensor(s: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    if dtype is not None and isinstance(s, (int, float)):
        _fill_value(s, _np_dtype(dtype))      # a scalar's overflow message (uint8_t), as torch
    return tensor(float(s), dtype=dtype, device=device, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with an ndarray (or returns a tensor) when it can."""
    device = _backend.default_device(device)
    if isinstance(data, Tensor):
        if device is not None and data.device != _backend.device(device):
            data = data.to(device)              # NOTE: device= used to be ignored here
        return data if dtype is None or data.dtype == _dtype.as_dtype(dtype) else data.to(dtype)
    if (isinstance(data, np.ndarray) or _backend.backend_of(data) is not None) and \
            data.dtype in _dtype.FROM_NP:
        arr = data if dtype is None else data.astype(_np_dtype(dtype), copy=False)
        return _make(_place(_dtype.note_unsigned(arr), device), False, None)
    return tensor(data, dtype=dtype, device=device)


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool | None = None) -> Tensor:
    """``obj`` as a tensor, as ``torch.asarray``: memory is shared with a tensor or an array
    when it can be (``copy=None``), always (``copy=False``: an error when it cannot) or never
    (``copy=True``: a copy, which keeps a tensor's graph). A tensor keeps its graph unless
    ``requires_grad=False`` (then it is detached)."""
    def name(d: Any) -> str:
        return _dtype.as_dtype(d)._legacy[: -len("Tensor")]
    array_like = isinstance(obj, (Tensor, np.ndarray)) or _backend.backend_of(obj) is not None
    if copy is False:
        if not array_like:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        have = obj.dtype if isinstance(obj, Tensor) else _dtype.FROM_NP.get(obj.dtype)
        if dtype is not None and have is not None and _dtype.as_dtype(dtype) != have:
            raise ValueError(f"can't alias tensor with dtype '{name(have)}' into dtype "
                             f"'{name(dtype)}'.")
    out = as_tensor(obj, dtype=dtype, device=device)
    if copy and array_like and (out is obj or not isinstance(obj, Tensor)):
        out = out.clone()
    if requires_grad is False and out._rg:
        out = out.detach()
    elif requires_grad and not out._rg:
        out.requires_grad_(True)
    return out


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray`` (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype not in _dtype.FROM_NP:
        raise TypeError(f"can't convert np.ndarray of type numpy.{ndarray.dtype.type.__name__}. "
                        "The only supported types are: float64, float32, float16, complex64, "
                        "complex128, int64, int32, int16, int8, uint64, uint32, uint16, uint8, "
                        "and bool.")
    return _make(_dtype.note_unsigned(ndarray), False, None)


def _size(size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = tuple(int(s) for s in size)
    for s in out:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(out)}")
    return out


def _float_dtype(dtype: Any) -> Any:
    return _dtype.get_default_dtype().np if dtype is None else _np_dtype(dtype)


def _float_draws(npd: Any, kernel: str) -> None:
    """PyTorch's refusal of uniform/normal draws of an integer or bool dtype (they came back as
    zeros, truncated normals, or all True)."""
    if np.dtype(npd).kind in "iub":
        name = _dtype._SCALAR_NAMES[np.dtype(npd).name]
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def _uniform01(rng: Any, shape: tuple, npd: Any) -> Any:
    """U[0, 1) draws of ``npd``; a complex dtype draws its real and imaginary parts each
    (PyTorch's complex ``rand``)."""
    _float_draws(npd, "check_uniform_bounds")
    if np.dtype(npd).kind == "c":
        pair = rng.random(shape + (2,))
        return (pair[..., 0] + 1j * pair[..., 1]).astype(npd)
    return rng.random(shape).astype(npd)


def _std_normal(rng: Any, shape: tuple, npd: Any) -> Any:
    """Standard normal draws of ``npd``; a complex dtype is complex normal, E|z|^2 = 1: real and
    imaginary parts each N(0, 1/2) (PyTorch's complex ``randn``)."""
    _float_draws(npd, "normal_kernel_cpu")
    if np.dtype(npd).kind == "c":
        pair = rng.standard_normal(shape + (2,)) * np.sqrt(0.5)
        return (pair[..., 0] + 1j * pair[..., 1]).astype(npd)
    return rng.standard_normal(shape).astype(npd)


def zeros(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, out: Any = None) -> Tensor:
    device = _backend.default_device(device)
    shape, npd = _shape(sizes, size), _float_dtype(dtype)
    res = _finish(_blank(shape, npd, device, lambda: np.zeros(shape, dtype=npd)), requires_grad, device)
    return res if out is None else _into(out, res)


def ones(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, out: Any = None) -> Tensor:
    device = _backend.default_device(device)
    shape, npd = _shape(sizes, size), _float_dtype(dtype)
    res = _finish(_blank(shape, npd, device, lambda: np.ones(shape, dtype=npd)), requires_grad, device)
    return res if out is None else _into(out, res)


def empty(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    device = _backend.default_device(device)
    shape, npd = _shape(sizes, size), _float_dtype(dtype)
    order = _formats.order_of(_formats.check(memory_format), len(shape))

    def make() -> np.ndarray:
        if order is None:
            return _uninitialized(shape, npd)
        # NOTE: a channels-last format: allocated in that order, seen as NCHW (PyTorch's strides)
        arr = _uninitialized(tuple(shape[i] for i in order), npd)
        return arr.transpose(tuple(int(i) for i in np.argsort(order)))
    return _finish(_blank(shape, npd, device, make), requires_grad, device)


def _shape(sizes: tuple[Any, ...], size: Any) -> tuple[int, ...]:
    """Sizes given positionally (``zeros(2, 3)``, ``zeros((2, 3))``) or as ``size=`` (PyTorch)."""
    if size is not None:
        if sizes:
            raise TypeError("pass the sizes either positionally or as size=, not both")
        return _size((size,) if isinstance(size, (tuple, list)) else (size,))
    return _size(sizes)


def _into(out: Any, res: Tensor) -> Tensor:
    """``out=``: the result written into ``out`` (it used to be ignored)."""
    if not isinstance(out, Tensor):
        raise TypeError(f"out must be a Tensor, not {type(out).__name__}")
    if tuple(out.shape) != tuple(res.shape):
        raise RuntimeError(f"out= has shape {list(out.shape)}, the result {list(res.shape)}: gradkit "
                           "does not resize out= tensors; pass one of the result's shape")
    out.copy_(res)
    return out


def full(size: Sequence[int], fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    device = _backend.default_device(device)
    if dtype is None:
        dtype = _dtype.result_type(fill_value)
    npd = _np_dtype(dtype)
    shape, fill = _size((size,)), _fill_value(fill_value, npd)
    return _finish(_blank(shape, npd, device, lambda: np.full(shape, fill, dtype=npd)),
                   requires_grad, device)


def _fill_value(value: Any, npd: Any) -> Any:
    """A Python number as a fill of integer dtype ``npd``: PyTorch's overflow error where it does
    not fit, and a negative int wrapped for an unsigned dtype (``-1`` is 255 in uint8, as in
    PyTorch) where NumPy would refuse it."""
    if npd.kind in "iu" and isinstance(value, (int, float)) and not isinstance(value, bool):
        _dtype.check_int_range(value, npd, scalar=True)
        return np.array(value).astype(npd)
    if npd == np.float32 and isinstance(value, float) and math.isfinite(value) and \
            abs(value) > _F32_MAX:
        # NOTE: PyTorch refuses a finite fill that float32 would turn into inf (tensor() does not)
        raise RuntimeError("value cannot be converted to type float without overflow")
    return value


_F32_MAX = float(np.finfo(np.float32).max)


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end``; int64 if all arguments are ints."""
    device = _backend.default_device(device)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, int) for v in vals) else None
    if step == 0:
        raise RuntimeError("step must be nonzero")
    for v in vals:
        if isinstance(v, int) and not isinstance(v, bool):
            _dtype.check_int_range(v, np.int64, scalar=True)
    npd = _float_dtype(dtype)
    if npd in _dtype.WIDE_UNSIGNED:
        raise NotImplementedError(f'"arange_cpu" not implemented for '
                                  f"'{_dtype._SCALAR_NAMES[npd.name]}'")
    if npd.kind in "iub":
        # NOTE: PyTorch casts start, end and step to the integer type first (C truncation):
        # arange(0, 4.5, dtype=long) is [0, 1, 2, 3], arange(0, 1, 0.3, dtype=long) has step 0
        vals = [int(v) if isinstance(v, float) and math.isfinite(v) else v for v in vals]
        if vals[2] == 0:
            raise ValueError("step must be nonzero")
    if not all(math.isfinite(v) for v in vals[:2]):
        raise RuntimeError(f"unsupported range: {vals[0]} -> {vals[1]}")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    arr = np.arange(vals[0], vals[1], vals[2], dtype=np.float64 if npd.kind == "f" else None)
    return _finish(arr.astype(npd), requires_grad, device)


def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    device = _backend.default_device(device)
    npd = _float_dtype(dtype)
    for v in (start, end):
        if isinstance(v, (int, float)):
            _fill_value(v, npd)             # PyTorch refuses an end its dtype cannot hold
    if int(steps) < 0:
        raise RuntimeError("number of steps must be non-negative")
    calc = np.float32 if npd == np.float32 else np.float64
    arr = _linspace(calc(start), calc(end), int(steps), calc)
    return _finish(arr.astype(npd), requires_grad, device)


def _linspace(start: Any, end: Any, steps: int, calc: Any) -> np.ndarray:
    """PyTorch's linspace: the first half counts up from ``start``, the second down from ``end``."""
    if steps == 1:
        return np.array([start], dtype=calc)
    step = (end - start) / calc(steps - 1)
    i = np.arange(steps, dtype=calc)
    half = steps // 2
    return np.where(i < half, start + step * i, end - step * (calc(steps - 1) - i))


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    device = _backend.default_device(device)
    arr = np.logspace(float(start), float(end), int(steps), base=base)
    return _finish(arr.astype(_float_dtype(dtype)), requires_grad, device)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    device = _backend.default_device(device)
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"{'n' if n < 0 else 'm'} must be greater or equal to 0, got "
                           f"{n if n < 0 else m}")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def _like(input: Any, dtype: Any) -> tuple[tuple[int, ...], Any]:
    arr = input._data if isinstance(input, Tensor) else _backend.as_data(input)
    return arr.shape, (arr.dtype if dtype is None else _np_dtype(dtype))


def _laid_out_like(input: Any, memory_format: Any, res: Tensor) -> Tensor:
    """``res`` (a fresh C-ordered ``*_like`` result) with PyTorch's memory layout: a channels-last
    ``memory_format``, or for ``preserve_format`` (the default) the input's own order of
    dimensions in memory; the values are unchanged."""
    from gradkit._core import formats
    arr = input._data if isinstance(input, Tensor) else input
    if type(arr) is not np.ndarray or type(res._data) is not np.ndarray:
        return res
    fmt = formats.check(memory_format)
    if fmt is None or fmt is formats.preserve_format:
        if arr.ndim < 2 or arr.flags.c_contiguous:
            return res
        # NOTE: NumPy's order "K" is PyTorch's preserve_format: the strides' order is kept
        data = np.empty_like(arr, dtype=res._data.dtype, order="K")
    else:
        order = formats.order_of(fmt, arr.ndim)
        if order is None:
            return res
        data = np.empty(tuple(arr.shape[d] for d in order), res._data.dtype).transpose(
            tuple(int(i) for i in np.argsort(order)))
    if data.flags.c_contiguous:
        return res
    data[...] = res._data
    res._data = data
    return res


def _like_device(input: Any, device: Any) -> Any:
    """Where a ``*_like`` result goes: ``device`` if given, else the input's device/library."""
    if device is not None:
        return device
    arr = input._data if isinstance(input, Tensor) else input
    return _SameAs(arr) if _backend.backend_of(arr) is not None else None


class _SameAs:
    """A ``device`` argument meaning "the library (and GPU) of this array"."""

    def __init__(self, arr: Any) -> None:
        self.arr = arr


def _vmap_like(input: Any, name: str, dtype: Any, device: Any, requires_grad: bool,
               *fill: Any) -> Tensor | None:
    """``*_like`` of a tensor that stands for every example of a running vmap (a batched one,
    or an example of its per-example loop): as PyTorch's, one result per example (the
    tensor's ``new_zeros``/... there), so writing the example into it stays per example.
    None for any other input (one class-attribute read)."""
    if not (getattr(type(getattr(input, "_data", None)), "_vmap_refuse", False)
            or getattr(type(input), "_vmap_example", False)) or device is not None or requires_grad:
        return None
    return getattr(input, "new_" + name)(tuple(input.shape), *fill, dtype=dtype)


def zeros_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    res = _vmap_like(input, "zeros", dtype, device, requires_grad)
    if res is not None:
        return res
    shape, dt = _like(input, dtype)
    where = _like_device(input, device)
    res = _finish(_blank(shape, dt, where, lambda: np.zeros(shape, dtype=dt)), requires_grad, where)
    return _laid_out_like(input, memory_format, res)


def ones_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    res = _vmap_like(input, "ones", dtype, device, requires_grad)
    if res is not None:
        return res
    shape, dt = _like(input, dtype)
    where = _like_device(input, device)
    res = _finish(_blank(shape, dt, where, lambda: np.ones(shape, dtype=dt)), requires_grad, where)
    return _laid_out_like(input, memory_format, res)


def empty_like(input: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    res = _vmap_like(input, "empty", dtype, device, requires_grad)
    if res is not None:
        return res
    shape, dt = _like(input, dtype)
    where = _like_device(input, device)
    res = _finish(_blank(shape, dt, where, lambda: _uninitialized(shape, dt)), requires_grad, where)
    return _laid_out_like(input, memory_format, res)


def full_like(input: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    res = _vmap_like(input, "full", dtype, device, requires_grad, fill_value)
    if res is not None:
        return res
    shape, dt = _like(input, dtype)
    fill, where = _fill_value(fill_value, np.dtype(dt)), _like_device(input, device)
    res = _finish(_blank(shape, dt, where, lambda: np.full(shape, fill, dtype=dt)), requires_grad,
                  where)
    return _laid_out_like(input, memory_format, res)


# --- random ---------------------------------------------------------------------------
#: per thread: ``fn(generator)`` called before every draw from a generator (set by vmap)
_draw_hook = threading.local()


class Generator:
    """gradkit's random number generator (NumPy's PCG64 underneath).

    The streams differ from PyTorch's: the same seed gives reproducible but
    different numbers.
    """

    def __init__(self, device: Any = "cpu") -> None:
        self.device = _backend.device(device)  # as torch.Generator(device).device
        self._seed = 67280421310721
        self._state: np.random.Generator | None = None

    def clone_state(self) -> Generator:
        """A new generator in the same state (``torch.Generator.clone_state``)."""
        g = Generator(self.device)
        g._seed = self._seed
        g.set_state(self.get_state())
        return g

    @property
    def _rng(self) -> np.random.Generator:
        # NOTE: created on first use, so that `import gradkit` does not pay for numpy.random.
        hook = getattr(_draw_hook, "fn", None)
        if hook is not None:
            hook(self)                       # vmap's randomness= mode (gradkit.func._vmap)
        if self._state is None:
            self._state = np.random.default_rng(self._seed)
        return self._state

    def _raw_rng(self) -> np.random.Generator:
        """The NumPy generator, for its state (no draw: vmap's randomness hook not called)."""
        if self._state is None:
            self._state = np.random.default_rng(self._seed)
        return self._state

    @_rng.setter
    def _rng(self, value: np.random.Generator) -> None:
        self._state = value

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy) % (2 ** 63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        import json
        state = json.dumps(self._raw_rng().bit_generator.state).encode()
        return _make(np.frombuffer(state, dtype=np.uint8).copy(), False, None)

    def set_state(self, state: Tensor) -> Generator:
        """Restore a state from :meth:`get_state` (a uint8 tensor); anything else is refused."""
        import json
        data = state._data if isinstance(state, Tensor) else None
        if data is None or not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 1:
            raise TypeError("expected a 1-D uint8 (ByteTensor) state from get_state(), got "
                            f"{type(state).__name__}"
                            + (f" of dtype {data.dtype} and shape {tuple(data.shape)}"
                               if isinstance(data, np.ndarray) else ""))
        if data.size > _MAX_STATE_BYTES:
            raise RuntimeError(f"Invalid generator state: {data.size} bytes, more than any "
                               f"get_state() gives ({_MAX_STATE_BYTES})")
        try:
            parsed = json.loads(bytes(data).decode("ascii"))
        except (ValueError, RecursionError, UnicodeDecodeError):
            raise RuntimeError("Invalid generator state: not a state from get_state()") from None
        bitgen = self._raw_rng().bit_generator
        if not (isinstance(parsed, dict) and set(parsed) == set(bitgen.state)
                and parsed.get("bit_generator") == bitgen.state["bit_generator"]):
            raise RuntimeError("Invalid generator state: expected a "
                               f"{bitgen.state['bit_generator']} state from get_state()")
        try:
            bitgen.state = parsed
        except (ValueError, TypeError, KeyError, OverflowError) as e:
            raise RuntimeError(f"Invalid generator state: {e}") from None
        return self


# NOTE: its public home (PyTorch's is torch._C.Generator, not a public path)
Generator.__module__ = "gradkit"


#: a PCG64 state is about 200 bytes of JSON; nothing valid comes near this
_MAX_STATE_BYTES = 4096

default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed gradkit's default generator (``rand``, ``randn``, ``randint``, ...)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(state: Tensor) -> None:
    default_generator.set_state(state)


def _gen(generator: Generator | None, fills: Any = None) -> Any:
    """The NumPy generator behind ``generator`` (or the default one); a stand-in that draws
    nothing when the tensor it ``fills`` is on the meta device (PyTorch's generator does not
    advance for meta tensors either)."""
    if fills is not None and type(getattr(fills, "_data", None)) is _MetaArray:
        return _NO_DRAWS
    return (generator or default_generator)._rng


class _NoDraws:
    """Answers a NumPy generator's sampling methods with zeros of the requested size."""

    def __getattr__(self, name: str) -> Any:
        def draw(*args: Any, size: Any = None, dtype: Any = None, **kwargs: Any) -> np.ndarray:
            if name == "permutation":
                return np.arange(args[0] if isinstance(args[0], int) else len(args[0]))
            if size is None:
                size = args[-1] if args else ()
            return np.zeros(size, dtype=dtype or np.float64)
        return draw


_NO_DRAWS = _NoDraws()


def rand(*sizes: Any, size: Any = None, generator: Generator | None = None, dtype: Any = None,
         device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    device = _backend.default_device(device)
    shape, npd = _shape(sizes, size), _float_dtype(dtype)
    arr = _blank(shape, npd, device, lambda: _uniform01(_gen(generator), shape, npd))
    return _finish(arr, requires_grad, device)


def randn(*sizes: Any, size: Any = None, generator: Generator | None = None, dtype: Any = None,
          device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    device = _backend.default_device(device)
    shape, npd = _shape(sizes, size), _float_dtype(dtype)
    arr = _blank(shape, npd, device, lambda: _std_normal(_gen(generator), shape, npd))
    return _finish(arr, requires_grad, device)


def randint(low: int = 0, high: Any = None, size: Any = None, *, generator: Generator | None = None,
            dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high) (int64 unless ``dtype`` says otherwise)."""
    device = _backend.default_device(device)
    if size is None:
        low, high, size = 0, low, high
    elif high is None or isinstance(high, (tuple, list)):
        low, high, size = 0, low, high if size is None else size
    if size is None:
        raise TypeError("randint() received an invalid combination of arguments: it needs a "
                        "size, as randint(high, size) or randint(low, high, size)")
    npd = np.dtype(np.int64) if dtype is None else _np_dtype(dtype)
    _check_random_range(low, high, npd)
    _check_from_to(low, high)
    shape = _size((size,))
    arr = _blank(shape, npd, device, lambda: _gen(generator).integers(low, high, size=shape))
    return _finish(arr.astype(npd), requires_grad, device)


# PyTorch's C type names in random_'s range errors
_C_NAMES = {"uint8": "unsigned char", "int8": "signed char", "int16": "short", "int32": "int",
            "int64": "long"}


def _check_random_range(low: Any, high: Any, npd: Any) -> None:
    """PyTorch's error when [low, high) does not fit an integer dtype (NumPy would wrap the
    drawn numbers: randint(0, 300, dtype=uint8) gave values mod 256)."""
    if npd.kind not in "iu":
        return
    info = np.iinfo(npd)
    name = _C_NAMES.get(npd.name, npd.name)
    if not info.min <= low <= info.max:
        raise RuntimeError(f"from is out of bounds for {name}")
    if not info.min <= high - 1 <= info.max:
        raise RuntimeError(f"to - 1 is out of bounds for {name}")


def _check_from_to(low: Any, high: Any) -> None:
    if not low < high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")


def _check_std(s: Any) -> None:
    """PyTorch's refusal of a negative (or nan) standard deviation; NumPy's words were
    ``scale < 0``, and a nan std gave nan draws."""
    if isinstance(s, (int, float)):
        if not s >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {s:g}")
        return
    a = np.asarray(s)
    if a.size and not bool(np.all(a >= 0)):
        raise RuntimeError("normal expects all elements of std >= 0.0")


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None,
             device: Any = None) -> Tensor:
    device = _backend.default_device(device)
    npd = np.dtype(np.int64) if dtype is None else _np_dtype(dtype)
    if int(n) < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {int(n)}: [{int(n)}]")
    arr = _blank((n,), npd, device, lambda: _gen(generator).permutation(n))
    return _finish(arr.astype(npd), False, device)


def rand_like(input: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    where = _like_device(input, None)
    return _finish(_blank(shape, dt, where, lambda: _uniform01(_gen(None), shape, dt)),
                   requires_grad, where)


def randn_like(input: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    where = _like_device(input, None)
    return _finish(_blank(shape, dt, where, lambda: _std_normal(_gen(None), shape, dt)),
                   requires_grad, where)


def randint_like(input: Tensor, low: int, high: int | None = None, *, dtype: Any = None) -> Tensor:
    shape, dt = _like(input, dtype)
    if high is None:
        low, high = 0, low
    _check_random_range(low, high, np.dtype(dt))
    _check_from_to(low, high)
    where = _like_device(input, None)
    return _finish(_blank(shape, dt, where, lambda: _gen(None).integers(low, high, size=shape)
                          ).astype(dt), False, where)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *,
           generator: Generator | None = None) -> Tensor:
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    dt = mean._data.dtype if isinstance(mean, Tensor) else _dtype.get_default_dtype().np
    if type(m) is _MetaArray or type(s) is _MetaArray:
        # NOTE: on the meta device: the shape only, and no draws (as PyTorch)
        shape = _size((size,)) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
        return _make(_MetaArray(shape, dt), False, None)
    _check_std(s)
    shape = _size((size,)) if size is not None else np.broadcast(np.asarray(m), np.asarray(s)).shape
    arr = _gen(generator).normal(m, s, size=shape)
    return _make(np.asarray(arr, dtype=dt), False, None)


def bernoulli(input: Tensor, *, generator: Generator | None = None) -> Tensor:
    p = input._data
    if type(p) is _MetaArray:
        return _make(_MetaArray(p.shape, p.dtype), False, None)      # no draws, as PyTorch
    pn = p if type(p) is np.ndarray else np.zeros(0)      # a lazy array is not computed here
    if pn.size and not bool(np.all((pn >= 0) & (pn <= 1))):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    return _make((_gen(generator).random(p.shape) < p).astype(p.dtype), False, None)
