"""``gradkit.testing.assert_close``: PyTorch's ``torch.testing.assert_close``, for gradkit tensors.

Same semantics and messages as PyTorch: ``|actual - expected| <= atol + rtol * |expected|``
elementwise, with default tolerances chosen by dtype (below; with ``check_dtype=False``
and two dtypes, the larger of each), shapes and (by default) dtypes compared first,
NaNs equal only with ``equal_nan=True``, Python scalars compared as scalars and
sequences and mappings item by item.

=====================  ========  ========
dtype                  rtol      atol
=====================  ========  ========
float16                1e-3      1e-5
float32, complex64     1.3e-6    1e-5
float64, complex128    1e-7      1e-7
integers, bool         0         0
=====================  ========  ========

Examples
--------
>>> import gradkit as gk
>>> assert_close(gk.tensor([1.0, 2.0]), gk.tensor([1.0, 2.0000001]))
>>> assert_close(gk.tensor([1.0, 2.0, 3.0]), gk.tensor([1.0, 2.5, 3.0]))
Traceback (most recent call last):
    ...
AssertionError: Tensor-likes are not close!
<BLANKLINE>
Mismatched elements: 1 / 3 (33.3%)
Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)
Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gradkit._core.tensor import Tensor

__all__ = ["assert_close", "assert_allclose", "make_tensor"]

_TOLERANCES = {  # numpy dtype -> (rtol, atol), as torch.testing._comparison.default_tolerances
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
    np.dtype(np.complex64): (1.3e-6, 1e-5),
    np.dtype(np.complex128): (1e-7, 1e-7),
}

Msg = Any  # str, a callable str -> str, or None


class _Fail(Exception):
    def __init__(self, kind: type, text: str) -> None:
        super().__init__(text)
        self.kind = kind
        self.text = text


def _tolerances(*dtypes: np.dtype) -> tuple[float, float]:
    pairs = [_TOLERANCES.get(np.dtype(d), (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _mismatch(default: str, msg: Msg, extra: str, abs_diff: Any, abs_idx: Any, rel_diff: Any, rel_idx: Any,
              rtol: float, atol: float) -> str:
    equality = rtol == 0 and atol == 0

    def diff(kind: str, value: Any, idx: Any, tol: float) -> str:
        line = f"{kind.title()} difference: {value}" if idx is None else \
            f"Greatest {kind} difference: {value} at index {idx}"
        return line + ("" if equality else f" (up to {tol} allowed)") + "\n"

    text = f"{default} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        text += extra.strip() + "\n"
    text += diff("absolute", abs_diff, abs_idx, atol) + diff("relative", rel_diff, rel_idx, rtol)
    return text.strip()


def _isclose(a: np.ndarray, b: np.ndarray, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    if a.dtype.kind in "biu" and b.dtype.kind in "biu" and rtol == 0 and atol == 0:
        return a == b
    with np.errstate(invalid="ignore", over="ignore"):
        close = a == b
        finite = np.isfinite(a) & np.isfinite(b)
        diff = np.abs(a - b) if a.dtype.kind not in "b" else (a != b).astype(np.int64)
        close |= finite & (diff <= atol + rtol * np.abs(b))
        if equal_nan:
            close |= np.isnan(a) & np.isnan(b)
    return close


def _as_array(x: Any) -> np.ndarray:
    if isinstance(x, Tensor):
        from gradkit._core import backend as _backend

        d = x._data
        return d if type(d) is np.ndarray else _backend.to_numpy(d)
    return np.asarray(x)


def _dtype_name(x: Any, arr: np.ndarray) -> str:
    if isinstance(x, Tensor):
        return repr(x.dtype)
    import gradkit

    return repr(gradkit.as_tensor(np.zeros((), arr.dtype)).dtype)


def _compare_tensors(actual: Any, expected: Any, rtol: float | None, atol: float | None,
                     equal_nan: bool, check_dtype: bool, msg: Msg) -> None:
    if _is_meta(actual) or _is_meta(expected):
        _compare_meta(actual, expected, check_dtype)
        return
    a, b = _as_array(actual), _as_array(expected)
    if a.shape != b.shape:
        import gradkit

        raise _Fail(AssertionError, f"The values for attribute 'shape' do not match: "
                                    f"{gradkit.Size(a.shape)!r} != {gradkit.Size(b.shape)!r}.")
    if a.dtype != b.dtype:
        if check_dtype:
            raise _Fail(AssertionError, f"The values for attribute 'dtype' do not match: "
                                        f"{_dtype_name(actual, a)} != {_dtype_name(expected, b)}.")
    if rtol is None:
        rtol, atol = _tolerances(a.dtype, b.dtype)
    if a.dtype != b.dtype:
        common = np.promote_types(a.dtype, b.dtype)
        a, b = a.astype(common), b.astype(common)
    matches = _isclose(a, b, rtol, atol, equal_nan)
    if matches.all():
        return
    if a.ndim == 0:
        raise _Fail(AssertionError, _scalar_message(a.item(), b.item(), rtol, atol, msg))
    n = matches.size
    bad = n - int(matches.sum())
    extra = f"Mismatched elements: {bad} / {n} ({bad / n:.1%})"
    af, bf, mf = a.ravel(), b.ravel(), matches.ravel()
    if af.dtype.kind in "biu":
        af, bf = af.astype(np.int64), bf.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(af - bf)
        if af.dtype.kind == "c":
            abs_diff = np.abs((af - bf).astype(np.complex128)).astype(abs_diff.dtype)
        abs_diff[mf] = 0
        if abs_diff.dtype.kind in "iu":  # PyTorch divides integers in its default float32
            rel_diff = abs_diff.astype(np.float32) / np.abs(bf).astype(np.float32)
        else:
            # NOTE: |complex64| via complex128, rounded once: NumPy's float32 hypot can be 1 ulp off
            mag = (np.abs(bf.astype(np.complex128)).astype(abs_diff.dtype) if bf.dtype.kind == "c"
                   else np.abs(bf))
            rel_diff = (abs_diff / mag).astype(abs_diff.dtype)
        rel_diff[mf] = 0
    ia, ir = _argmax(abs_diff), _argmax(rel_diff)
    raise _Fail(AssertionError, _mismatch(
        "Tensor-likes", msg, extra, abs_diff[ia].item(), _unravel(ia, matches.shape), rel_diff[ir].item(),
        _unravel(ir, matches.shape), rtol, atol))


def _is_meta(x: Any) -> bool:
    return isinstance(x, Tensor) and x.is_meta


def _compare_meta(actual: Any, expected: Any, check_dtype: bool) -> None:
    """Meta tensors have no values: as PyTorch, only shape, device and dtype are compared."""
    import gradkit

    sa, sb = gradkit.Size(np.shape(actual)), gradkit.Size(np.shape(expected))
    if sa != sb:
        raise _Fail(AssertionError, f"The values for attribute 'shape' do not match: {sa!r} != {sb!r}.")
    da = actual.device if isinstance(actual, Tensor) else "cpu"
    db = expected.device if isinstance(expected, Tensor) else "cpu"
    if da != db:
        raise _Fail(AssertionError, f"The values for attribute 'device' do not match: {da} != {db}.")
    if check_dtype and actual.dtype != expected.dtype:
        raise _Fail(AssertionError, f"The values for attribute 'dtype' do not match: "
                                    f"{actual.dtype!r} != {expected.dtype!r}.")


def _argmax(x: np.ndarray) -> int:
    nan = np.flatnonzero(np.isnan(x)) if x.dtype.kind == "f" else []
    return int(nan[0]) if len(nan) else int(np.argmax(x))


def _unravel(i: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(j) for j in np.unravel_index(i, shape))


def _scalar_message(actual: Any, expected: Any, rtol: float, atol: float, msg: Msg) -> str:
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch("Scalars", msg, f"Expected {expected} but got {actual}.", abs_diff, None, rel_diff, None,
                     rtol, atol)


def _compare_scalars(actual: Any, expected: Any, rtol: float | None, atol: float | None,
                     equal_nan: bool, check_dtype: bool, msg: Msg) -> None:
    if isinstance(actual, bool) and isinstance(expected, bool):
        if actual is not expected:
            raise _Fail(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
        return
    if check_dtype and type(actual) is not type(expected):
        raise _Fail(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.")
    dt = {int: np.dtype(np.int64), float: np.dtype(np.float64), complex: np.dtype(np.complex128)}
    if rtol is None:
        rtol, atol = _tolerances(dt[type(actual)], dt[type(expected)])
    close = actual == expected or (
        equal_nan and isinstance(actual, (float, complex)) and isinstance(expected, (float, complex))
        and _isnan(actual) and _isnan(expected)) or (
        _finite(actual) and _finite(expected) and abs(actual - expected) <= atol + rtol * abs(expected))
    if not close:
        raise _Fail(AssertionError, _scalar_message(actual, expected, rtol, atol, msg))


def _isnan(x: Any) -> bool:
    return math.isnan(x.real) or math.isnan(x.imag) if isinstance(x, complex) else math.isnan(x)


def _finite(x: Any) -> bool:
    return math.isfinite(x.real) and math.isfinite(x.imag) if isinstance(x, complex) else math.isfinite(x)


def _is_sequence(x: Any) -> bool:
    return isinstance(x, Sequence) and not isinstance(x, str)


def _compare(actual: Any, expected: Any, path: str, allow_subclasses: bool = True,
             **kw: Any) -> None:
    scalars = (bool, int, float, complex)
    try:
        if isinstance(actual, Tensor) and isinstance(expected, Tensor) or (
                isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray)):
            if allow_subclasses or type(actual) is type(expected):
                return _compare_tensors(actual, expected, **kw)
            raise _Fail(TypeError, f"No comparison pair was able to handle inputs of type "
                                   f"{type(actual)} and {type(expected)}.")
        if isinstance(actual, scalars) and isinstance(expected, scalars):
            return _compare_scalars(actual, expected, **kw)
    except _Fail as f:
        if path:
            f.text += f"\n\nThe failure occurred for item {path}"
        raise
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Fail(AssertionError,
                        f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (x, y) in enumerate(zip(actual, expected)):
            _compare(x, y, f"{path}[{i}]", allow_subclasses, **kw)
        return
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        ka, ke = list(actual), list(expected)
        if set(ka) != set(ke):
            missing = sorted(set(ke) - set(ka), key=repr)
            extra = sorted(set(ka) - set(ke), key=repr)
            raise _Fail(AssertionError, f"The keys of the mappings do not match:\n"
                                        f"Missing keys in the actual mapping: {missing}\n"
                                        f"Additional keys in the actual mapping: {extra}")
        for k in ka:
            _compare(actual[k], expected[k], f"{path}[{k!r}]", allow_subclasses, **kw)
        return
    raise _Fail(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} "
                           f"and {type(expected)}.")


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: Msg = None) -> None:
    """Assert that ``actual`` and ``expected`` are close, as ``torch.testing.assert_close``.

    Raises AssertionError with PyTorch's message (mismatched elements, greatest absolute
    and relative differences with their indices and the allowed tolerances), TypeError
    for inputs that cannot be compared (a tensor against a NumPy array, strings), and
    ValueError if only one of ``rtol``/``atol`` is given. ``msg`` replaces the message
    (a callable receives the default message and returns the one to raise). ``check_device``, ``check_layout``
    and ``check_stride`` are accepted for compatibility (gradkit tensors are strided
    CPU arrays; strides are not compared).
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    try:
        _compare(actual, expected, "", allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=check_dtype, msg=msg)
    except _Fail as f:
        text = f.text
        if f.kind is AssertionError and msg is not None:
            text = msg(text) if callable(msg) else msg
        raise f.kind(text) from None


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """Deprecated PyTorch alias: ``assert_close`` without dtype checks, NaNs equal."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False,
                 msg=msg or None)


def make_tensor(*shape: Any, dtype: Any, device: Any = None, low: float | None = None,
                high: float | None = None, requires_grad: bool = False, noncontiguous: bool = False,
                exclude_zero: bool = False, memory_format: Any = None) -> Tensor:
    """A tensor of ``shape`` and ``dtype`` with values drawn uniformly from ``[low, high)``, as
    ``torch.testing.make_tensor``: defaults ``[0, 2)`` for bool, ``[0, 10)`` unsigned and
    ``[-9, 10)`` signed integers, ``[-9, 9)`` floating and complex (each part); bounds outside
    the dtype's range are clamped. ``noncontiguous`` gives a strided view, ``exclude_zero``
    replaces zeros by 1 (integers) or the dtype's smallest normal number. Draws come from
    gradkit's generator (``manual_seed``), not PyTorch's, so the values differ from PyTorch's.
    """
    from gradkit._api.complex import view_as_real
    from gradkit._core import creation
    from gradkit._core.dtype import finfo, iinfo
    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = tuple(shape[0])
    shape = tuple(int(n) for n in shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, "
                         f"but got noncontiguous={noncontiguous!r} and memory_format={memory_format!r}")
    exact = dtype.is_floating_point or dtype.is_complex
    if requires_grad and not exact:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        shape = shape[:-1] + (2 * shape[-1],)

    def bounds(lowest: float, highest: float, default_low: float, default_high: float) -> tuple[Any, Any]:
        lo = default_low if low is None else low
        hi = default_high if high is None else high
        if any(isinstance(v, float) and math.isnan(v) for v in (lo, hi)):
            raise ValueError(f"`low` and `high` cannot be NaN, but got low={lo} and high={hi}")
        if lo >= hi and not (lo == hi and exact):
            raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
        if hi < lowest or lo >= highest:
            raise ValueError(f"The value interval specified by `low` and `high` is [{lo}, {hi}), "
                             f"but {dtype} only supports [{lowest}, {highest})")
        lo, hi = min(max(lo, lowest), highest), min(max(hi, lowest), highest)
        return (lo, hi) if exact else (math.ceil(lo), math.ceil(hi))

    if dtype.is_floating_point or dtype.is_complex:
        info = finfo(dtype)
        lo, hi = bounds(info.min, info.max, -9, 9)
        result = creation.empty(shape, dtype=dtype)
        target = view_as_real(result) if dtype.is_complex else result
        if hi - lo >= info.max:                  # the width itself would overflow: draw halves
            target.uniform_(lo / 2, hi / 2).mul_(2)
        else:
            target.uniform_(lo, hi)
    elif str(dtype) == "torch.bool":
        lo, hi = bounds(0, 2, 0, 2)
        result = creation.randint(lo, hi, shape, dtype=dtype)
    else:
        info = iinfo(dtype)
        # NOTE: as PyTorch, int64's top value is never drawn (randint's bound is exclusive)
        lo, hi = bounds(info.min, info.max + (1 if str(dtype) != "torch.int64" else 0), -9, 10)
        result = creation.randint(lo, hi, shape, dtype=dtype)
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = finfo(dtype).tiny if exact else 1
    if exact:
        result.requires_grad = requires_grad
    return result
