"""``PyScalar``: a Python float computed from traced arrays, kept as a slot of the program
(``Tracer.py_float``), with Python arithmetic on it recorded and every other read a guard."""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ._tracer import Trace


class PyScalar(float):
    """A Python float computed from traced arrays, kept as a slot of the program.

    Arithmetic with Python numbers and other ``PyScalar`` is recorded as the same Python
    arithmetic (so a replay computes exactly what eager code does); NumPy calls meeting one
    record it as an input (``__array_ufunc__``). Anything that reads the value otherwise
    (``float()``, comparisons, ``bool``, ``int``, ``round``, ``hash``, printing) is a guard, as
    for arrays. C code reading the float directly (``math.sqrt``) would escape the trace:
    ``gradkit.compile`` stops the trace on ``math`` calls with one, and only code that promises
    plain arithmetic asks for one (``Tracer.py_float``).
    """

    __slots__ = ("v", "s", "tr")

    def __new__(cls, v: float, s: int, tr: Trace) -> PyScalar:
        self = super().__new__(cls, v)
        self.v = v
        self.s = s
        self.tr = tr
        return self

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if kwargs.get("out") is not None or method != "__call__":
            self.tr.fail(f"np.{ufunc.__name__} with out= or .{method} on a traced Python scalar")
            from ._tracer import _concrete
            return getattr(ufunc, method)(*_concrete(inputs), **_concrete(kwargs))
        return self.tr.record(ufunc, inputs, kwargs, "ufunc")

    def _guard(self, conv: Callable[[Any], Any]) -> Any:
        return self.tr.guard(self, conv)  # type: ignore[arg-type]

    def __float__(self) -> float:
        return self._guard(float)

    def __int__(self) -> int:
        return self._guard(int)

    def __bool__(self) -> bool:
        return self._guard(bool)

    def __hash__(self) -> int:
        return hash(self._guard(float))

    def __repr__(self) -> str:
        return repr(self._guard(float))

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(self._guard(float), spec)

    def __round__(self, n: Any = None) -> Any:
        return self._guard(lambda v: round(v, n))

    def __trunc__(self) -> int:
        return self._guard(int)

    def __floor__(self) -> int:
        return self._guard(_floor)

    def __ceil__(self) -> int:
        return self._guard(_ceil)

    def __reduce__(self) -> Any:
        return (float, (self._guard(float),))


def _floor(v: float) -> int:
    import math
    return math.floor(v)


def _ceil(v: float) -> int:
    import math
    return math.ceil(v)


_PY_NUMBERS = (int, float, bool, PyScalar)


def _py_arith(op: Callable[[Any, Any], Any], reflected: bool) -> Callable[..., Any]:
    if reflected:
        def f(self: PyScalar, other: Any) -> Any:
            if not isinstance(other, _PY_NUMBERS):
                return NotImplemented
            return self.tr.record_py(_flip(op), (self, other))
    else:
        def f(self: PyScalar, other: Any) -> Any:
            if not isinstance(other, _PY_NUMBERS):
                return NotImplemented
            return self.tr.record_py(op, (self, other))
    return f


@functools.cache
def _flip(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def g(a: Any, b: Any) -> Any:
        return op(b, a)
    g.__name__ = f"r{op.__name__}"
    return g


def _py_cmp(op: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    def f(self: PyScalar, other: Any) -> Any:
        if not isinstance(other, _PY_NUMBERS):
            return NotImplemented
        return self.tr.record_cmp(op, self, other)
    return f


for _name, _op in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("pow", operator.pow),
                   ("floordiv", operator.floordiv), ("mod", operator.mod)]:
    setattr(PyScalar, f"__{_name}__", _py_arith(_op, False))
    setattr(PyScalar, f"__r{_name}__", _py_arith(_op, True))
for _name, _op in [("lt", operator.lt), ("le", operator.le), ("gt", operator.gt),
                   ("ge", operator.ge), ("eq", operator.eq), ("ne", operator.ne)]:
    setattr(PyScalar, f"__{_name}__", _py_cmp(_op))
PyScalar.__neg__ = lambda self: self.tr.record_py(operator.neg, (self,))  # type: ignore
PyScalar.__pos__ = lambda self: self  # type: ignore
PyScalar.__abs__ = lambda self: self.tr.record_py(operator.abs, (self,))  # type: ignore
