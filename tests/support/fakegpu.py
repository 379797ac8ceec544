"""A stand-in for CuPy on machines without a GPU, strict where CuPy is strict.

``FakeGPUArray`` wraps an ndarray and implements NumPy's dispatch protocols
the way CuPy does: ufuncs and array functions on it return ``FakeGPUArray``;
converting it to NumPy implicitly (``np.asarray``, ``__array__``, ``float()``
of a multi-element array) raises ``TypeError`` as CuPy does; mixing it with a
NumPy ndarray in one operation raises ``TypeError`` ("Unsupported type"), as
CuPy does; NumPy scalars and Python numbers are accepted. ``.get()`` copies to
the host, as in CuPy.

Registered as gradkit's ``cuda`` device, it lets the test suite run the CuPy
code path (device placement, transfers, mixed-device errors, and every
primitive's forward and rules on non-NumPy arrays) where no GPU exists. It
proves the code never slips a NumPy array into GPU work; it does not prove
CuPy implements each NumPy function gradkit calls: that needs the real thing
(``tests/test_backends.py`` runs the same checks on CuPy when a GPU is present).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import gradkit as gk
from gradkit._core import backend as _backend


class FakeGPUArray:
    __slots__ = ("a",)
    __array_priority__ = 100

    def __init__(self, a: np.ndarray) -> None:
        assert isinstance(a, np.ndarray), type(a)
        self.a = a

    # --- what CuPy refuses --------------------------------------------------------
    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use "
                        "`.get()` to construct a NumPy array explicitly.")

    def get(self) -> np.ndarray:
        return self.a.copy()

    # --- dispatch -------------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        args = [_unwrap(x) for x in inputs]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_unwrap(o) for o in out)
        if "where" in kwargs:
            kwargs["where"] = _unwrap(kwargs["where"])
        res = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(res)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func in (np.asarray, np.array) and isinstance(args[0], np.ndarray):
            return FakeGPUArray(np.array(args[0], dtype=kwargs.get("dtype")))   # host -> device
        res = func(*_unwrap_tree(args), **_unwrap_tree(kwargs))
        return _wrap(res)

    # --- attributes ------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.a.shape

    @property
    def dtype(self) -> np.dtype:
        return self.a.dtype

    @property
    def ndim(self) -> int:
        return self.a.ndim

    @property
    def size(self) -> int:
        return self.a.size

    @property
    def T(self) -> FakeGPUArray:
        return FakeGPUArray(self.a.T)

    @property
    def base(self) -> Any:
        return None if self.a.base is None else self

    @property
    def flags(self) -> Any:
        return self.a.flags

    @property
    def strides(self) -> tuple[int, ...]:
        return self.a.strides

    @property
    def itemsize(self) -> int:
        return self.a.itemsize

    @property
    def nbytes(self) -> int:
        return self.a.nbytes

    @property
    def device(self) -> Any:
        return _Device()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.a, name)
        if not callable(attr):
            return _wrap(attr)
        def method(*args: Any, **kwargs: Any) -> Any:
            return _wrap(attr(*_unwrap_tree(args), **_unwrap_tree(kwargs)))
        return method

    def item(self) -> Any:
        return self.a.item()

    def tolist(self) -> Any:
        return self.a.tolist()

    def __len__(self) -> int:
        return len(self.a)

    def __bool__(self) -> bool:
        return bool(self.a)

    def __float__(self) -> float:
        return float(self.a)

    def __int__(self) -> int:
        return int(self.a)

    def __index__(self) -> int:
        return self.a.__index__()

    # NOTE: CuPy accepts host (NumPy) index arrays and copies them over; so does the fake.
    def __getitem__(self, idx: Any) -> Any:
        return _wrap(self.a[_unwrap_index(idx)])

    def __setitem__(self, idx: Any, value: Any) -> None:
        self.a[_unwrap_index(idx)] = _unwrap(value)

    def __iter__(self) -> Any:
        return (_wrap(r) for r in self.a)

    def __repr__(self) -> str:
        return f"FakeGPUArray({self.a!r})"


def _device_ops() -> None:
    table = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
             "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power,
             "matmul": np.matmul, "and": np.bitwise_and, "or": np.bitwise_or,
             "xor": np.bitwise_xor, "lt": np.less, "le": np.less_equal, "gt": np.greater,
             "ge": np.greater_equal, "eq": np.equal, "ne": np.not_equal,
             "lshift": np.left_shift, "rshift": np.right_shift}
    for name, uf in table.items():
        def fwd(self: Any, other: Any, uf: Any = uf) -> Any:
            return uf(self, other)

        def rev(self: Any, other: Any, uf: Any = uf) -> Any:
            return uf(other, self)

        def inp(self: Any, other: Any, uf: Any = uf) -> Any:
            uf(self, other, out=(self,))
            return self
        setattr(FakeGPUArray, f"__{name}__", fwd)
        if name not in ("lt", "le", "gt", "ge", "eq", "ne"):
            setattr(FakeGPUArray, f"__r{name}__", rev)
            setattr(FakeGPUArray, f"__i{name}__", inp)
    for name, uf in {"neg": np.negative, "pos": np.positive, "abs": np.absolute,
                     "invert": np.invert}.items():
        setattr(FakeGPUArray, f"__{name}__", lambda self, uf=uf: uf(self))


_device_ops()
FakeGPUArray.__hash__ = None  # type: ignore[assignment]


class _Device:
    id = 0


def _unwrap(x: Any) -> Any:
    if isinstance(x, FakeGPUArray):
        return x.a
    if isinstance(x, np.ndarray):
        raise TypeError(f"Unsupported type {type(x)}")
    return x


def _unwrap_index(x: Any) -> Any:
    if isinstance(x, FakeGPUArray):
        return x.a
    if isinstance(x, tuple):
        return tuple(_unwrap_index(v) for v in x)
    return x


def _unwrap_tree(x: Any) -> Any:
    if isinstance(x, FakeGPUArray):
        return x.a
    if isinstance(x, np.ndarray):
        raise TypeError(f"Unsupported type {type(x)}")
    if isinstance(x, tuple):
        return tuple(_unwrap_tree(v) for v in x)
    if isinstance(x, list):
        return [_unwrap_tree(v) for v in x]
    if isinstance(x, dict):
        return {k: _unwrap_tree(v) for k, v in x.items()}
    return x


def _wrap(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return FakeGPUArray(x)
    if isinstance(x, np.generic):              # CuPy returns 0-d arrays, never NumPy scalars
        return FakeGPUArray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


class FakeGPUBackend(_backend.Backend):
    label = "FakeGPU"
    device_type = "cuda"

    def from_numpy(self, arr: np.ndarray, index: int | None) -> Any:
        return FakeGPUArray(np.array(arr, copy=True))

    def to_numpy(self, arr: Any) -> np.ndarray:
        return arr.get()

    def device_index(self, arr: Any) -> int | None:
        return 0


def install() -> None:
    """Make ``device='cuda'`` mean this fake (until ``uninstall``)."""
    _backend.register(FakeGPUArray, FakeGPUBackend(), device_type="cuda")


def uninstall() -> None:
    _backend.unregister(FakeGPUArray)


__all__ = ["FakeGPUArray", "install", "uninstall", "gk"]
