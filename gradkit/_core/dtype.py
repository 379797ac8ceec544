"""Data types: PyTorch-style dtype objects over NumPy dtypes, and PyTorch's promotion rules."""

from __future__ import annotations

from typing import Any

import builtins as _b

import numpy as np

__all__ = [
    "dtype", "float16", "float32", "float64", "half", "float", "double",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "short", "int", "long",
    "bool",
    "complex64", "complex128", "cfloat", "cdouble",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type",
    "is_floating_point", "finfo", "iinfo",
]


class dtype:
    """A gradkit data type; prints as ``torch.float32`` and wraps a NumPy dtype.

    NOTE: it prints PyTorch's text (``torch.float32``) so that code written with
    ``import gradkit as torch`` prints what PyTorch prints.
    """

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize",
                 "_kind", "_legacy")

    def __init__(self, name: str, np_dtype: Any, kind: int, legacy: str) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = kind == 2
        self.is_complex = kind == 3
        self.is_signed = self.np.kind not in "ub"
        self.itemsize = self.np.itemsize
        self._kind = kind            # 0 bool, 1 integer, 2 floating, 3 complex
        self._legacy = legacy        # name used in PyTorch's legacy type strings

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dtype):
            return other is self
        try:
            return np.dtype(other) == self.np  # type: ignore[arg-type]
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self) -> str:
        return self.name

    def to_complex(self) -> dtype:
        return complex128 if self is float64 else complex64

    def to_real(self) -> dtype:
        return float64 if self is complex128 else float32 if self is complex64 else self


dtype.__module__ = "gradkit"     # type(gk.float32) prints <class 'gradkit.dtype'> (torch.dtype)

bool = dtype("bool", np.bool_, 0, "BoolTensor")  # noqa: A001 - PyTorch's name
uint8 = dtype("uint8", np.uint8, 1, "ByteTensor")
#: PyTorch's "limited support" unsigned types: kept, never widened; rows that PyTorch does not
#: run on them refuse (``UINT_OK``), and mixing them with another integer type is PyTorch's error
uint16 = dtype("uint16", np.uint16, 1, "UInt16Tensor")
uint32 = dtype("uint32", np.uint32, 1, "UInt32Tensor")
uint64 = dtype("uint64", np.uint64, 1, "UInt64Tensor")
int8 = dtype("int8", np.int8, 1, "CharTensor")
int16 = dtype("int16", np.int16, 1, "ShortTensor")
int32 = dtype("int32", np.int32, 1, "IntTensor")
int64 = dtype("int64", np.int64, 1, "LongTensor")
float16 = dtype("float16", np.float16, 2, "HalfTensor")
float32 = dtype("float32", np.float32, 2, "FloatTensor")
float64 = dtype("float64", np.float64, 2, "DoubleTensor")
complex64 = dtype("complex64", np.complex64, 3, "ComplexFloatTensor")
complex128 = dtype("complex128", np.complex128, 3, "ComplexDoubleTensor")
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128

_ALL = (bool, uint8, int8, int16, int32, int64, float16, float32, float64, complex64, complex128,
        uint16, uint32, uint64)
#: NumPy dtype -> gradkit dtype
FROM_NP: dict[np.dtype, dtype] = {d.np: d for d in _ALL}
#: the unsigned types with limited support, and whether a tensor of one was ever made (the
#: table's apply paths check rows against them only then)
WIDE_UNSIGNED = frozenset((np.dtype(np.uint16), np.dtype(np.uint32), np.dtype(np.uint64)))
UINT_ON = [False]
#: whether bfloat16 was made or a uint16/32/64 tensor seen: one check on the binary fast path
EXOTIC = [False]
#: PyTorch's ScalarType names, as its promotion error prints them
_SCALAR_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
                 "int64": "Long", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}


def note_unsigned(arr: Any) -> Any:
    """``arr`` unchanged; a uint16/uint32/uint64 array switches on the table's checks of rows
    that PyTorch does not run on those types (``UINT_ON``)."""
    if not UINT_ON[0] and getattr(arr, "dtype", None) in WIDE_UNSIGNED:
        UINT_ON[0] = EXOTIC[0] = True
    return arr


_default = [float32]


def get_default_dtype() -> dtype:
    """The floating dtype given to Python floats and to ``rand``/``zeros`` (float32 unless set)."""
    return _default[0]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype; only ``float32`` and ``float64`` (and float16) are allowed."""
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


def is_floating_point(t: Any) -> builtins_bool:
    return t.dtype.is_floating_point


builtins_bool = _b.bool


#: why ``bfloat16`` (``gk.bfloat16``, ``dtype="bfloat16"``, ``torch.bfloat16``) is unavailable when
#: ml_dtypes is not installed: it is never faked as another dtype
BFLOAT16 = ("bfloat16 needs the ml_dtypes package (NumPy, the array library behind gradkit, has no "
            "bfloat16 dtype of its own): pip install ml_dtypes (or pip install gradkit[bfloat16]); "
            "gradkit does not stand another dtype in for it. Without it use gradkit.float32, or "
            "gradkit.float16 for half precision")

#: ml_dtypes' NumPy bfloat16 once gradkit's ``bfloat16`` is made (``load_bfloat16``), else None.
#: NOTE: its NumPy kind is "V" (not "f"): code that sorts arrays by kind treats it with this.
BF16_NP: list[Any] = [None]


def load_bfloat16() -> dtype:
    """gradkit's ``bfloat16`` (one object), backed by ml_dtypes' NumPy dtype, imported now.

    Raises TypeError naming ``pip install ml_dtypes`` when ml_dtypes is not installed.
    """
    found = globals().get("bfloat16")
    if found is not None:
        return found
    try:
        import ml_dtypes
    except ImportError:
        raise TypeError(BFLOAT16) from None
    d = dtype("bfloat16", ml_dtypes.bfloat16, 2, "BFloat16Tensor")
    d.is_signed = True
    globals()["bfloat16"] = d
    FROM_NP[d.np] = d
    BF16_NP[0] = d.np
    EXOTIC[0] = True
    return d


def astype(arr: Any, np_dtype: Any) -> Any:
    """``arr.astype(np_dtype)``, to or from bfloat16 through float32 as PyTorch converts:
    float64 1 + 2**-8 + 2**-30 becomes float32 1 + 2**-8, then bfloat16 1.0 (ml_dtypes would
    round the float64 straight to 1.0078125); bfloat16 to an integer type is float32's cast."""
    bf = BF16_NP[0]
    if bf is not None and arr.dtype != np_dtype and (arr.dtype == bf or np_dtype == bf) and \
            arr.dtype != np.float32 and arr.dtype.kind != "c" and np.dtype(np_dtype).kind != "c":
        return arr.astype(np.float32).astype(np_dtype)
    return arr.astype(np_dtype)


def __getattr__(name: str) -> Any:
    if name == "bfloat16":
        try:
            return load_bfloat16()
        except TypeError as e:
            raise AttributeError(f"module 'gradkit' has no attribute 'bfloat16': {e}") from None
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def from_np(np_dtype: Any) -> dtype | None:
    """The gradkit dtype of a NumPy dtype, or None; a bfloat16 array (ml_dtypes imported by the
    user) makes gradkit's ``bfloat16``."""
    d = FROM_NP.get(np_dtype)
    if d is None and BF16_NP[0] is None and getattr(np_dtype, "name", None) == "bfloat16":
        d = load_bfloat16()
        if d.np != np_dtype:
            return None
    return d


def as_dtype(d: Any) -> dtype:
    """Turn a gradkit dtype, NumPy dtype, Python type or name into a gradkit dtype."""
    if isinstance(d, dtype):
        if d.np in WIDE_UNSIGNED:
            UINT_ON[0] = EXOTIC[0] = True
        return d
    if d is builtins_float_type:
        return _default[0]
    if d is builtins_int_type:
        return int64
    if d is builtins_bool:
        return bool
    if isinstance(d, str):
        name = d.replace("torch.", "").replace("gradkit.", "")
        found = globals().get(name)
        if isinstance(found, dtype):
            if found.np in WIDE_UNSIGNED:
                UINT_ON[0] = EXOTIC[0] = True
            return found
    if "bfloat16" in str(d):
        return load_bfloat16()
    try:
        found = FROM_NP[np.dtype(d)]
    except (TypeError, KeyError):
        raise TypeError(f"unsupported dtype: {d!r}; use one of gradkit.float32, gradkit.float64, "
                        "gradkit.int64, gradkit.bool, ...") from None
    if found.np in WIDE_UNSIGNED:
        UINT_ON[0] = EXOTIC[0] = True
    return found


builtins_float_type = _b.float
builtins_int_type = _b.int


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` can be cast to, as ``torch.promote_types``."""
    a, b = as_dtype(a), as_dtype(b)
    if a is b:
        return a
    if (a is bool or b is bool) and a.np not in WIDE_UNSIGNED and b.np not in WIDE_UNSIGNED:
        return b if a is bool else a
    if {a, b} == {uint8, int8}:
        return int16
    if (a.np in WIDE_UNSIGNED or b.np in WIDE_UNSIGNED) and a._kind <= 1 and b._kind <= 1:
        raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, attempted "
                           f"to promote {_SCALAR_NAMES[a.name]} and {_SCALAR_NAMES[b.name]}")
    # NOTE: unlike NumPy, an integer with a floating type gives that floating type
    # (int64 + float32 -> float32), as in PyTorch.
    if a._kind != b._kind:
        hi, lo = (a, b) if a._kind > b._kind else (b, a)
        if hi._kind == 3 and lo._kind == 2:
            return complex128 if lo is float64 or hi is complex128 else complex64
        return hi
    return FROM_NP[np.promote_types(a.np, b.np)]


def _category(d: dtype) -> builtins_int_type:
    return d._kind


def result_type(*operands: Any) -> dtype:
    """PyTorch's result dtype for an operation on tensors and Python numbers.

    Dimensioned tensors take priority over zero-dimensional tensors, which take
    priority over Python numbers; a lower-priority operand only changes the
    result when it is of a higher category (bool < integer < floating < complex),
    and a Python float then gives the default dtype.
    """
    groups: list[dtype | None] = [None, None, None]   # dimensioned, zero-dim, scalar
    for op in operands:
        if op is None:                  # an absent optional operand (clamp's missing bound)
            continue
        d = getattr(op, "dtype", None)
        if d is not None and not isinstance(d, dtype):
            d = FROM_NP.get(np.dtype(d))
        if d is not None:
            i = 0 if getattr(op, "ndim", 0) else 1
        else:
            i = 2
            if isinstance(op, builtins_bool):
                d = bool
            elif isinstance(op, builtins_int_type):
                d = int64
            elif isinstance(op, complex):
                d = complex128 if _default[0] is float64 else complex64
            else:
                d = _default[0]
        groups[i] = d if groups[i] is None else promote_types(groups[i], d)
    result = None
    for d in groups:
        if d is None:
            continue
        if result is None:
            result = d
        elif _category(d) > _category(result):
            result = d if d._kind != 3 or result._kind != 2 else promote_types(result, d)
    return result if result is not None else _default[0]


def _limits_arg(d: Any, who: str) -> dtype:
    if d is None and who == "finfo":
        return _default[0]
    if not isinstance(d, dtype):
        raise TypeError(f"{who}(): argument 'type' (position 1) must be torch.dtype, not "
                        f"{type(d).__name__}")
    return d


def _g(v: Any) -> str:
    return format(v, "g")


class finfo:
    """Machine limits of a floating dtype, as PyTorch's ``torch.finfo``: Python floats, and
    a complex dtype's real part (``finfo(complex64).dtype == 'float32'``)."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type: dtype | None = None) -> None:
        d = _limits_arg(type, "finfo")
        if d._kind < 2:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo "
                            "to handle 'torch.finfo'")
        real = d.np if d.np.kind != "c" else np.empty(0, d.np).real.dtype
        if real is BF16_NP[0]:
            import ml_dtypes
            info: Any = ml_dtypes.finfo(real)
        else:
            info = np.finfo(real)
        self.bits = builtins_int_type(real.itemsize * 8)
        self.eps = builtins_float_type(info.eps)
        self.max = builtins_float_type(info.max)
        self.min = builtins_float_type(info.min)
        self.tiny = self.smallest_normal = builtins_float_type(info.smallest_normal)
        self.resolution = 10.0 ** -builtins_int_type(info.precision)
        self.dtype = FROM_NP[real].name

    def __eq__(self, other: object) -> builtins_bool:
        return isinstance(other, finfo) and other.dtype == self.dtype

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"finfo(resolution={_g(self.resolution)}, min={_g(self.min)}, max={_g(self.max)}, "
                f"eps={_g(self.eps)}, smallest_normal={_g(self.smallest_normal)}, "
                f"tiny={_g(self.tiny)}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype, as PyTorch's ``torch.iinfo`` (Python ints)."""

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type: dtype) -> None:
        d = _limits_arg(type, "iinfo")
        if d.np.kind == "b":
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.np.kind not in "iu":
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits = builtins_int_type(info.bits)
        self.max = builtins_int_type(info.max)
        self.min = builtins_int_type(info.min)
        self.dtype = d.name

    def __eq__(self, other: object) -> builtins_bool:
        return isinstance(other, iinfo) and other.dtype == self.dtype

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"iinfo(min={_g(self.min)}, max={_g(self.max)}, dtype={self.dtype})"


# --- integer range checks: PyTorch refuses a Python number that an integer dtype cannot hold ---
# (NumPy would wrap 300 to 44 in uint8). Names as PyTorch prints them: the element type of
# torch.tensor(...) and the C type of a scalar fill (full, fill_, masked_fill).
_INT_NAMES = {np.dtype(np.int8): ("int8", "int8_t"), np.dtype(np.int16): ("int16", "int16_t"),
              np.dtype(np.int32): ("int32", "int"), np.dtype(np.int64): ("int64", "int64_t"),
              np.dtype(np.uint8): ("uint8", "uint8_t"), np.dtype(np.uint16): ("uint16", "uint16_t"),
              np.dtype(np.uint32): ("uint32", "uint32_t"), np.dtype(np.uint64): ("uint64", "uint64_t")}


def _overflow(np_dtype: Any, scalar: builtins_bool) -> RuntimeError:
    name = _INT_NAMES[np.dtype(np_dtype)][1 if scalar else 0]
    return RuntimeError(f"value cannot be converted to type {name} without overflow")


def check_int_range(values: Any, np_dtype: Any, scalar: builtins_bool = False) -> None:
    """Raise PyTorch's RuntimeError when Python numbers (``values``: an ndarray built from them,
    or one number) do not fit the integer ``np_dtype``; do nothing for other dtypes.

    NOTE: PyTorch's rule (c10 ``overflows``): an int fits an unsigned type when ``|v| <= max``
    (negative ints wrap as two's complement, so ``-1`` is 255 in uint8); a float fits when it is
    finite and ``lowest <= v <= max`` (then truncates); bools always fit.
    """
    np_dtype = np.dtype(np_dtype)
    if np_dtype not in _INT_NAMES:
        return
    if isinstance(values, _b.int) and not isinstance(values, _b.bool):
        if not -2 ** 63 <= values < 2 ** 64:
            raise OverflowError("int too big to convert")
    arr = np.asarray(values)
    if arr.size == 0 or arr.dtype.kind == "b":
        return
    info = np.iinfo(np_dtype)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr < info.min) | (arr > info.max)
    elif arr.dtype.kind in "iu":
        if np_dtype == np.uint64 and (arr < 0).any():
            raise OverflowError("can't convert negative int to unsigned")
        if info.min == 0:
            bad = (arr > info.max) | ((arr < 0) & (arr < -_b.int(info.max)))
        else:
            bad = (arr < info.min) | (arr > info.max)
    elif arr.dtype == object:
        bad = np.array([not -2 ** 63 <= _b.int(v) <= 2 ** 63 - 1 for v in arr.reshape(-1)])
    else:
        return
    if bad.any():
        raise _overflow(np_dtype, scalar)
