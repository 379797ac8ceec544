"""The ``meta`` device: tensors that have a shape and a dtype but no values.

PyTorch's meta tensors run a program's shapes without its arithmetic (``model.to('meta')``,
``torch.empty(..., device='meta')``), for example to build a module skeleton that
``functional_call`` then runs with real parameters. Here a meta tensor holds a ``MetaArray``:
a shape and a dtype, no storage. NumPy hands every function and ufunc called on one to
``MetaArray`` (``__array_function__``, ``__array_ufunc__``, NEP 35's ``like=``), which works
out the result's shape and dtype and returns a ``MetaArray`` again, so gradkit's forwards and
derivative rules run on meta tensors unchanged and autograd gives meta gradients.

Shapes are inferred by running NumPy on a stand-in: a zero-strided broadcast of one zero, which
takes one element of memory whatever the shape (elementwise ufuncs and ``matmul`` are worked
out without running anything). Nothing lets a value out: every conversion raises PyTorch's
error, and an operation whose result shape depends on values (``nonzero``, ``unique``, boolean
masks) raises ``NotImplementedError`` as PyTorch does, rather than guess.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradkit._core import backend as _backend

__all__ = ["MetaArray", "is_meta", "meta_empty"]

_ndarray = np.ndarray

#: PyTorch's messages
NO_DATA = "Cannot copy out of meta tensor; no data!"
NO_ITEM = "Tensor.item() cannot be called on meta tensors"
NO_NUMPY = ("can't convert meta device type tensor to numpy. Use Tensor.cpu() to copy the "
            "tensor to host memory first.")


def _stand_in(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A read-only array of ``shape`` and ``dtype`` that takes one element of memory."""
    return np.broadcast_to(np.zeros((), dtype=dtype), shape)


class MetaArray:
    """A shape and a dtype in place of an array (the data of a tensor on the meta device)."""

    __slots__ = ("shape", "dtype")
    __array_priority__ = 2000

    def __init__(self, shape: Any, dtype: Any) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)

    # ------------------------------------------------------------------ what it is
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def strides(self) -> tuple[int, ...]:
        # NOTE: reported as a contiguous layout (views do not keep their own strides here)
        out, step = [], self.dtype.itemsize
        for s in reversed(self.shape):
            out.append(step)
            step *= max(s, 1)
        return tuple(reversed(out))

    @property
    def flags(self) -> Any:
        return _Flags()

    @property
    def T(self) -> MetaArray:
        return MetaArray(self.shape[::-1], self.dtype)

    @property
    def mT(self) -> MetaArray:
        return MetaArray(self.shape[:-2] + self.shape[-1:] + self.shape[-2:-1], self.dtype)

    @property
    def real(self) -> MetaArray:
        return _wrap(_stand_in(self.shape, self.dtype).real)

    @property
    def imag(self) -> MetaArray:
        return _wrap(_stand_in(self.shape, self.dtype).imag)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"MetaArray(shape={self.shape}, dtype={self.dtype})"

    # ------------------------------------------------------------------ no values
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(NO_NUMPY)

    def __bool__(self) -> bool:
        raise RuntimeError(NO_ITEM)

    def __float__(self) -> float:
        raise RuntimeError(NO_ITEM)

    def __int__(self) -> int:
        raise RuntimeError(NO_ITEM)

    def __complex__(self) -> complex:
        raise RuntimeError(NO_ITEM)

    def __index__(self) -> int:
        raise RuntimeError(NO_ITEM)

    def item(self, *args: Any) -> Any:
        raise RuntimeError(NO_ITEM)

    def tolist(self) -> Any:
        raise RuntimeError(NO_ITEM)

    def __iter__(self) -> Any:
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __reduce__(self) -> Any:
        return (MetaArray, (self.shape, self.dtype.str))

    # ------------------------------------------------------------------ array methods
    def copy(self, order: str = "C") -> MetaArray:
        return MetaArray(self.shape, self.dtype)

    def astype(self, dtype: Any, order: str = "K", casting: str = "unsafe", subok: bool = True,
               copy: bool = True) -> MetaArray:
        dtype = np.dtype(dtype)
        if not copy and dtype == self.dtype:
            return self
        return MetaArray(self.shape, dtype)

    def fill(self, value: Any) -> None:
        """Stores nothing (NumPy's in-place fill)."""

    def view(self, *args: Any, **kwargs: Any) -> MetaArray:
        return _wrap(_stand_in(self.shape, self.dtype).view(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        # NOTE: every other ndarray method (reshape, transpose, sum, max, ...) runs on the
        # stand-in and its result is wrapped again
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(_stand_in(self.shape, self.dtype), name)
        if not callable(attr):
            return _wrap(attr)

        def method(*args: Any, **kwargs: Any) -> Any:
            if name in _NO_META:
                _refuse(name)
            fn = attr
            if name in _REDUCTIONS:
                axis = kwargs.get("axis", args[0] if args else None)
                fn = getattr(_reduced_stand_in(self, axis), name)
            with np.errstate(all="ignore"):
                out = fn(*_unwrap(args, None), **_unwrap(kwargs, None))
            return _wrap(out)
        return method

    def __getitem__(self, key: Any) -> MetaArray:
        return _wrap(_stand_in(self.shape, self.dtype)[_index(key)])

    def __setitem__(self, key: Any, value: Any) -> None:
        # NOTE: writes store nothing; what they would write must still fit where it goes
        if isinstance(key, MetaArray) and key.dtype == bool and np.size(value) == 1:
            # a mask as large as the array, filled with one value: the shape is known
            np.broadcast_shapes(key.shape, self.shape)
            return
        target = _stand_in(self.shape, self.dtype)[_index(key)]
        vshape = np.shape(value) if not isinstance(value, MetaArray) else value.shape
        np.broadcast_shapes(vshape, np.shape(target))

    # ------------------------------------------------------------------ NumPy's protocols
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        _same_device(inputs, elementwise=ufunc.signature is None)
        out = kwargs.pop("out", None)
        if method == "at":
            a, index = inputs[0], inputs[1]
            if isinstance(index, tuple):
                index = tuple(_index(i) for i in index)
            else:
                index = _index(index)
            target = _stand_in(np.shape(a), np.result_type(a))[index]
            if len(inputs) > 2:
                np.broadcast_shapes(_shape_of(inputs[2]), target.shape)
            return None
        if method == "reduce" and isinstance(inputs[0], MetaArray):
            axis = kwargs.get("axis", inputs[1] if len(inputs) > 1 else 0)
            small = _reduced_stand_in(inputs[0], axis)
            with np.errstate(all="ignore"):
                result = _wrap(ufunc.reduce(small, *_unwrap(inputs[1:], None),
                                            **_unwrap(kwargs, None)))
        elif method == "__call__" and ufunc.signature is None:
            result = _elementwise(ufunc, inputs, kwargs)
        elif method == "__call__" and ufunc is np.matmul:
            result = _matmul(inputs, kwargs)
        else:
            with np.errstate(all="ignore"):
                result = _wrap(getattr(ufunc, method)(*_unwrap(inputs, None), **_unwrap(kwargs, None)))
        if out is not None:
            outs = out if isinstance(out, tuple) else (out,)
            results = result if isinstance(result, tuple) else (result,)
            for o, r in zip(outs, results):
                if not isinstance(o, MetaArray):
                    raise RuntimeError(f"Tensor on device meta is not on the expected device "
                                       f"{_backend.device_of(o)}!")
                np.broadcast_shapes(r.shape, o.shape)
            return out if isinstance(out, tuple) and len(out) > 1 else outs[0]
        return result

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        name = getattr(func, "__name__", "")
        if func in _CREATE:
            return _CREATE[func](*args, **kwargs)
        if name in _NO_META or (func is np.where and len(args) + len(kwargs) == 1):
            _refuse("nonzero" if func is np.where else name)
        if func in _QUERIES:
            return func(*_unwrap(args, func), **_unwrap(kwargs, func))
        if func is np.copyto:
            return _copyto(*args, **kwargs)
        _same_device(args, elementwise=func in _STRICT)
        if func is np.matmul:
            return _matmul(args, kwargs)
        if func is np.einsum and args and isinstance(args[0], str) and "out" not in kwargs:
            result = _einsum(args[0], args[1:])
            if result is not None:
                return result.astype(kwargs["dtype"]) if kwargs.get("dtype") else result
        if name in _REDUCTIONS and args and isinstance(args[0], MetaArray) and \
                getattr(func, "__module__", "").startswith("numpy") and \
                not getattr(func, "__module__", "").startswith("numpy.linalg"):
            axis = kwargs.get("axis", args[1] if len(args) > 1 else None)
            args = (_reduced_stand_in(args[0], axis),) + tuple(args[1:])
        with np.errstate(all="ignore"):
            out = func(*_unwrap(args, func), **_unwrap(kwargs, func))
        return _wrap(out, scalars=True)

    # ------------------------------------------------------------------ operators
    def _binary(ufunc: Any, reflected: bool = False) -> Any:      # type: ignore[misc]
        if reflected:
            return lambda self, other: ufunc(other, self)
        return lambda self, other: ufunc(self, other)

    __add__, __radd__ = _binary(np.add), _binary(np.add, True)
    __sub__, __rsub__ = _binary(np.subtract), _binary(np.subtract, True)
    __mul__, __rmul__ = _binary(np.multiply), _binary(np.multiply, True)
    __truediv__, __rtruediv__ = _binary(np.true_divide), _binary(np.true_divide, True)
    __floordiv__, __rfloordiv__ = _binary(np.floor_divide), _binary(np.floor_divide, True)
    __mod__, __rmod__ = _binary(np.remainder), _binary(np.remainder, True)
    __pow__, __rpow__ = _binary(np.power), _binary(np.power, True)
    __matmul__, __rmatmul__ = _binary(np.matmul), _binary(np.matmul, True)
    __and__, __rand__ = _binary(np.bitwise_and), _binary(np.bitwise_and, True)
    __or__, __ror__ = _binary(np.bitwise_or), _binary(np.bitwise_or, True)
    __xor__, __rxor__ = _binary(np.bitwise_xor), _binary(np.bitwise_xor, True)
    __lshift__, __rlshift__ = _binary(np.left_shift), _binary(np.left_shift, True)
    __rshift__, __rrshift__ = _binary(np.right_shift), _binary(np.right_shift, True)
    __lt__, __le__ = _binary(np.less), _binary(np.less_equal)
    __gt__, __ge__ = _binary(np.greater), _binary(np.greater_equal)
    __eq__, __ne__ = _binary(np.equal), _binary(np.not_equal)            # type: ignore[assignment]
    __hash__ = None                                                       # type: ignore[assignment]
    del _binary

    def __iadd__(self, other: Any) -> MetaArray:
        return np.add(self, other, out=self)

    def __isub__(self, other: Any) -> MetaArray:
        return np.subtract(self, other, out=self)

    def __imul__(self, other: Any) -> MetaArray:
        return np.multiply(self, other, out=self)

    def __itruediv__(self, other: Any) -> MetaArray:
        return np.true_divide(self, other, out=self)

    def __neg__(self) -> MetaArray:
        return np.negative(self)

    def __pos__(self) -> MetaArray:
        return np.positive(self)

    def __abs__(self) -> MetaArray:
        return np.absolute(self)

    def __invert__(self) -> MetaArray:
        return np.invert(self)


class _Flags:
    c_contiguous = True
    f_contiguous = False
    writeable = True
    owndata = True


def is_meta(x: Any) -> bool:
    """Whether array ``x`` is the data of a meta tensor."""
    return type(x) is MetaArray


def meta_empty(shape: Any, dtype: Any = float) -> MetaArray:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    return MetaArray(tuple(shape), dtype if dtype is not None else np.float64)


# --------------------------------------------------------------------------- helpers
def _refuse(name: str) -> None:
    raise NotImplementedError(
        f"aten::{name}: the shape of its result depends on the values, and a meta tensor has "
        "none (PyTorch refuses it on meta tensors too). Run it on a tensor with data.")


def _shape_of(x: Any) -> tuple[int, ...]:
    return x.shape if isinstance(x, MetaArray) else np.shape(x)


def _index(key: Any) -> Any:
    """An index with meta arrays in it replaced by stand-ins (integer arrays only: a boolean
    mask's result has as many rows as it has True values, which a meta mask does not know)."""
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    if isinstance(key, MetaArray):
        if key.dtype == bool:
            _refuse("nonzero")
        return _stand_in(key.shape, key.dtype)
    if isinstance(key, list):
        return [_index(k) for k in key]
    return key


def _unwrap(x: Any, func: Any) -> Any:
    """``x`` (arguments of a NumPy call) with meta arrays replaced by stand-ins."""
    if isinstance(x, MetaArray):
        if (func is not None and getattr(func, "__module__", "").startswith("numpy.linalg")
                and x.ndim >= 2 and x.shape[-1] == x.shape[-2]):
            # NOTE: identity matrices, so inv/solve/cholesky find nothing singular
            return np.broadcast_to(np.eye(x.shape[-1], dtype=x.dtype), x.shape)
        return _stand_in(x.shape, x.dtype)
    if isinstance(x, tuple):
        return tuple(_unwrap(v, func) for v in x)
    if isinstance(x, list):
        return [_unwrap(v, func) for v in x]
    if isinstance(x, dict):
        return {k: _unwrap(v, func) for k, v in x.items()}
    return x


def _wrap(x: Any, scalars: bool = False) -> Any:
    """A NumPy result with its arrays (and NumPy scalars: values of a meta computation)
    replaced by meta arrays of their shape and dtype."""
    if isinstance(x, (_ndarray, np.generic)):
        return MetaArray(np.shape(x), x.dtype)
    if isinstance(x, tuple):
        return type(x)(*(_wrap(v, scalars) for v in x)) if hasattr(x, "_fields") else \
            tuple(_wrap(v, scalars) for v in x)
    if isinstance(x, list):
        return [_wrap(v, scalars) for v in x]
    if scalars and isinstance(x, (bool, int, float, complex)):
        return MetaArray((), np.result_type(x))    # a value computed from a meta array
    return x


def _devices(args: Any) -> list[str]:
    """The device of each array among ``args`` (in order, nested sequences included)."""
    out: list[str] = []
    for a in args:
        if isinstance(a, MetaArray):
            out.append("meta")
        elif isinstance(a, (list, tuple)):
            out.extend(_devices(a))
        elif hasattr(a, "shape") and not isinstance(a, np.generic) and np.ndim(a) > 0:
            out.append(str(_backend.device_of(a)))
    return out


def _same_device(args: Any, elementwise: bool) -> None:
    """PyTorch's rule for operands on different devices: a 0-d CPU array acts as a number;
    any other CPU array beside a meta one is refused (an elementwise op names the first
    operand's device as the expected one). Where PyTorch lets a CPU array in after a meta one
    (``meta @ cpu``, ``meta[cpu_index]``) the result is meta; a CPU array first with a meta
    one after it is refused (PyTorch returns uninitialised memory there)."""
    devices = _devices(args)
    if len(set(devices)) < 2:
        return
    first = devices[0]
    if elementwise or first != "meta":
        other = next(d for d in devices if d != first)
        raise RuntimeError(f"Tensor on device {other} is not on the expected device {first}!")


def _copyto(dst: Any, src: Any, casting: str = "same_kind", where: Any = True) -> None:
    """``np.copyto`` into a meta array stores nothing (from any device, as PyTorch's
    ``meta.copy_(cpu)``); out of a meta array into one with values there is nothing to copy."""
    if not isinstance(dst, MetaArray):
        raise NotImplementedError(NO_DATA)
    np.broadcast_shapes(_shape_of(src), dst.shape)


def _reduced_stand_in(x: MetaArray, axis: Any) -> np.ndarray:
    """A stand-in for reducing ``x`` over ``axis``: the reduced axes cut to one element (none
    when empty), so a reduction runs in the time of its result, not of ``x``."""
    if axis is None:
        axes = set(range(x.ndim))
    else:
        try:
            axes = {a % max(x.ndim, 1) for a in (axis if isinstance(axis, tuple) else (axis,))}
        except TypeError:                       # not an axis: let NumPy say what is wrong
            return _stand_in(x.shape, x.dtype)
    return _stand_in(tuple(min(s, 1) if i in axes else s for i, s in enumerate(x.shape)),
                     x.dtype)


def _einsum(subscripts: str, operands: Any) -> MetaArray | None:
    """``einsum``'s result worked out from its subscripts (None when they are not understood
    here: NumPy then runs on stand-ins and says what is wrong)."""
    spec = subscripts.replace(" ", "")
    terms, arrow, out = spec.partition("->")
    inputs = terms.split(",")
    if len(inputs) != len(operands):
        return None
    if not arrow:
        letters = [c for c in terms if c.isalpha()]
        out = ("..." if "..." in terms else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    sizes: dict[str, int] = {}
    ellipses = []
    for term, op in zip(inputs, operands):
        shape = _shape_of(op)
        head, ell, tail = term.partition("...")
        n_ell = len(shape) - len(head) - len(tail)
        if (not ell and n_ell) or n_ell < 0 or not (head + tail).isalpha():
            return None
        if ell:
            ellipses.append(shape[len(head):len(head) + n_ell])
        for lab, n in zip(head + tail, shape[:len(head)] + shape[len(shape) - len(tail):]):
            have = sizes.get(lab, 1)
            if have != n and 1 not in (have, n):
                raise ValueError(f"einsum(): operands do not broadcast with remapped shapes: "
                                 f"label {lab!r} has sizes {have} and {n}")
            sizes[lab] = max(have, n) if have != 1 else n
    head, ell, tail = out.partition("...")
    if any(c not in sizes for c in head + tail):
        return None
    shape = tuple(sizes[c] for c in head) + (np.broadcast_shapes(*ellipses) if ell else ()) + \
        tuple(sizes[c] for c in tail)
    return MetaArray(shape, np.result_type(*[np.zeros((), np.result_type(o)) for o in operands]))


def _elementwise(ufunc: np.ufunc, inputs: Any, kwargs: Any) -> Any:
    shape = np.broadcast_shapes(*(_shape_of(a) for a in inputs))
    small = [np.zeros((), a.dtype) if isinstance(a, MetaArray) else
             (np.zeros((), np.asarray(a).dtype) if np.ndim(a) else a) for a in inputs]
    with np.errstate(all="ignore"):
        res = ufunc(*small, **kwargs)
    if isinstance(res, tuple):
        return tuple(MetaArray(shape, np.result_type(r)) for r in res)
    return MetaArray(shape, np.result_type(res))


def _matmul(args: Any, kwargs: Any) -> MetaArray:
    a, b = args[0], args[1]
    sa, sb = _shape_of(a), _shape_of(b)
    if not sa or not sb:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    ea = (1,) + sa if len(sa) == 1 else sa
    eb = sb + (1,) if len(sb) == 1 else sb
    if ea[-1] != eb[-2]:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, with "
                         f"gufunc signature (n?,k),(k,m?)->(n?,m?) (size {eb[-2]} is different "
                         f"from {ea[-1]})")
    batch = np.broadcast_shapes(ea[:-2], eb[:-2])
    shape = batch + ((ea[-2],) if len(sa) > 1 else ()) + ((eb[-1],) if len(sb) > 1 else ())
    dtype = np.result_type(np.zeros((), np.result_type(a)), np.zeros((), np.result_type(b)))
    if "dtype" in kwargs and kwargs["dtype"] is not None:
        dtype = np.dtype(kwargs["dtype"])
    return MetaArray(shape, dtype)


def _like(shape: Any, dtype: Any = float, **kwargs: Any) -> MetaArray:
    return meta_empty(shape, np.dtype(dtype) if dtype is not None else np.float64)


def _like_of(a: Any, dtype: Any = None, order: Any = "K", subok: Any = True, shape: Any = None,
             **kwargs: Any) -> MetaArray:
    return MetaArray(_shape_of(a) if shape is None else
                     ((shape,) if isinstance(shape, int) else shape),
                     np.result_type(a) if dtype is None else dtype)


def _full(shape: Any, fill_value: Any, dtype: Any = None, **kwargs: Any) -> MetaArray:
    return meta_empty(shape, np.result_type(fill_value) if dtype is None else dtype)


def _full_like(a: Any, fill_value: Any, dtype: Any = None, **kwargs: Any) -> MetaArray:
    return _like_of(a, dtype=dtype, shape=kwargs.get("shape"))


def _asarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
    if isinstance(a, MetaArray):
        return a if dtype is None else a.astype(dtype, copy=False)
    return MetaArray(np.shape(a), np.asarray(a, dtype=dtype).dtype)


#: NumPy's creation functions, answered without allocating (``np.zeros(..., like=meta)``)
_CREATE: dict[Any, Any] = {
    np.zeros: _like, np.ones: _like, np.empty: _like, np.full: _full,
    np.zeros_like: _like_of, np.ones_like: _like_of, np.empty_like: _like_of,
    np.full_like: _full_like, np.asarray: _asarray, np.asanyarray: _asarray,
    np.ascontiguousarray: _asarray,
}
#: functions that answer about shapes and dtypes (their results are no values)
_QUERIES = {np.shape, np.ndim, np.size, np.result_type, np.can_cast, np.iscomplexobj,
            np.isrealobj, np.may_share_memory, np.shares_memory, np.broadcast_shapes,
            np.min_scalar_type}
#: functions whose result's shape depends on the values
_NO_META = {"nonzero", "argwhere", "flatnonzero", "unique", "unique_values", "unique_counts",
            "unique_inverse", "unique_all", "compress", "extract", "trim_zeros", "bincount",
            "array_equal", "array_equiv", "setdiff1d", "intersect1d", "union1d", "setxor1d"}
#: reductions over ``axis`` (their first argument's other axes survive): run on a stand-in
#: with the reduced axes cut to one element
_REDUCTIONS = {"sum", "prod", "mean", "std", "var", "max", "min", "amax", "amin", "argmax",
               "argmin", "any", "all", "nansum", "nanprod", "nanmean", "nanstd", "nanvar",
               "nanmax", "nanmin", "nanargmax", "nanargmin", "ptp", "median", "nanmedian",
               "average", "count_nonzero", "logsumexp"}
#: functions whose operands must all be on one device, as PyTorch's ``cat``, ``where``
_STRICT = {np.concatenate, np.stack, np.hstack, np.vstack, np.dstack, np.column_stack,
           np.where, np.clip, np.block, np.choose, np.select}


class MetaBackend(_backend.Backend):
    label = "meta"
    device_type = "meta"
    install = ""

    def from_numpy(self, arr: Any, index: int | None) -> MetaArray:
        return MetaArray(np.shape(arr), arr.dtype)

    def from_numpy_like(self, arr: Any, ref: Any) -> MetaArray:
        return MetaArray(np.shape(arr), arr.dtype)

    def to_numpy(self, arr: Any) -> np.ndarray:
        raise NotImplementedError(NO_DATA)

    def device_index(self, arr: Any) -> int | None:
        return None

    def compute(self, arrays: Any, **kwargs: Any) -> list[np.ndarray]:
        raise NotImplementedError(NO_DATA)


META = MetaBackend()
_backend.register(MetaArray, META, device_type="meta")
