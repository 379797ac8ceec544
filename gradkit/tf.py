"""A small TensorFlow-like namespace: ``import gradkit.tf as tf`` runs simple tape snippets.

Tensors made here (and the results of ``GradientTape.gradient``) print as TensorFlow
does: ``tf.Tensor(6.0, shape=(), dtype=float32)``; ``.numpy()`` gives NumPy values.
Python floats become float32, TensorFlow's default.

Examples
--------
>>> import gradkit.tf as tf
>>> x = tf.Variable(3.0)
>>> with tf.GradientTape() as tape:
...     y = x ** 2
>>> print(tape.gradient(y, x))
tf.Tensor(6.0, shape=(), dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _api
from gradkit._core.torch_function import _disabled_torch_function_impl
from gradkit._core.tensor import Tensor, _make
from .func import tree_flatten, tree_unflatten
from .tape import GradientTape as _Tape
from .tape import Variable as _Variable
from .tape import _numpy_value, _to_array
from gradkit._core.dtype import FROM_NP

__all__ = ["Tensor", "Variable", "constant", "convert_to_tensor", "GradientTape", "float32",
           "float64", "int32", "int64", "reduce_sum", "reduce_mean", "reduce_max", "reduce_min",
           "square", "sqrt", "exp", "log", "sin", "cos", "tanh", "sigmoid", "matmul", "add",
           "multiply", "subtract", "divide", "ones", "zeros", "ones_like", "zeros_like",
           "reshape", "transpose", "stop_gradient", "cast", "math", "nn"]

float32, float64, int32, int64 = np.float32, np.float64, np.int32, np.int64


def _text(arr: np.ndarray) -> str:
    text = str(_numpy_value(arr))
    return "\n" + text if "\n" in text else text


class EagerTensor(Tensor):
    """A gradkit Tensor that prints like ``tf.Tensor``; arithmetic keeps the type."""

    # NOTE: gradkit's own subclass: no __torch_function__ dispatch (operations return what they
    # returned before) and it prints as tensor(...)
    __torch_function__ = _disabled_torch_function_impl
    _repr_as_tensor = True

    def numpy(self, *, force: bool = True) -> Any:  # type: ignore[override]
        return _numpy_value(self._data)

    def __str__(self) -> str:
        return f"tf.Tensor({_text(self._data)}, shape={tuple(self._data.shape)}, " \
               f"dtype={self._data.dtype.name})"

    def __repr__(self) -> str:
        return f"<tf.Tensor: shape={tuple(self._data.shape)}, dtype={self._data.dtype.name}, " \
               f"numpy={np.array_repr(np.asarray(self._data)) if self._data.ndim else self._data[()]}>"


def _wrap(t: Any) -> Any:
    """The same tensor (data, graph position, version counter) seen as an ``EagerTensor``."""
    if not isinstance(t, Tensor) or isinstance(t, (EagerTensor, _Variable)):
        return t
    if t._fn is None and t._rg:
        return t                                   # a leaf's identity matters to autograd
    e = EagerTensor.__new__(EagerTensor)
    e._data, e._rg, e._fn, e._vc = t._data, t._rg, t._fn, t._vc
    if t._oi:
        e._oi = t._oi
    return e


def _wrap_method(name: str) -> Any:
    base = getattr(Tensor, name)

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _wrap(base(self, *args, **kwargs))
    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
              "__getitem__", "__abs__"):
    if hasattr(Tensor, _name):
        setattr(EagerTensor, _name, _wrap_method(_name))


class Variable(_Variable):
    """``tf.Variable``: prints as ``<tf.Variable 'Variable:0' shape=() dtype=float32, numpy=3.0>``."""

    def __repr__(self) -> str:
        value = np.array_repr(self._data) if self._data.ndim else repr(self._data[()].item())
        return (f"<tf.Variable '{self._name}:0' shape={tuple(self._data.shape)} "
                f"dtype={self._data.dtype.name}, numpy={value}>")

    __str__ = __repr__


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
              "__getitem__", "__abs__"):
    if hasattr(Tensor, _name):
        setattr(Variable, _name, _wrap_method(_name))


class GradientTape(_Tape):
    """``tf.GradientTape``; results are ``EagerTensor``s."""

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: str = "none") -> Any:
        return _map(super().gradient(target, sources, output_gradients, unconnected_gradients))

    def jacobian(self, target: Any, sources: Any, *args: Any, **kwargs: Any) -> Any:
        return _map(super().jacobian(target, sources, *args, **kwargs))

    def batch_jacobian(self, target: Any, source: Any, *args: Any, **kwargs: Any) -> Any:
        return _wrap(super().batch_jacobian(target, source, *args, **kwargs))


def _map(tree: Any) -> Any:
    leaves, spec = tree_flatten(tree)
    return tree_unflatten(spec, [_wrap(v) for v in leaves])


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str | None = None) -> EagerTensor:
    """An immutable tensor (float32 for Python floats)."""
    arr = _to_array(value, dtype)
    if shape is not None:
        arr = np.broadcast_to(arr, tuple(shape)).copy()
    return _wrap(_make(arr, False, None))


convert_to_tensor = constant


def _fn(f: Any) -> Any:
    def g(*args: Any, **kwargs: Any) -> Any:
        args = tuple(constant(a) if not isinstance(a, Tensor) and not isinstance(a, (int, float))
                     else a for a in args)
        return _wrap(f(*args, **kwargs))
    g.__name__ = getattr(f, "__name__", "op")
    return g


def _axis_kw(f: Any) -> Any:
    def g(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Any:
        x = input_tensor if isinstance(input_tensor, Tensor) else constant(input_tensor)
        dim = tuple(axis) if isinstance(axis, (list, tuple)) else axis
        return _wrap(f(x, dim, keepdims) if dim is not None else f(x, None, keepdims))
    return g


def _amax(x: Tensor, dim: Any, keep: bool) -> Tensor:
    return _api.amax(x, dim=() if dim is None else dim, keepdim=keep)


def _amin(x: Tensor, dim: Any, keep: bool) -> Tensor:
    return _api.amin(x, dim=() if dim is None else dim, keepdim=keep)


reduce_sum = _axis_kw(lambda x, d, k: _api.sum(x, d, k))
reduce_mean = _axis_kw(lambda x, d, k: _api.mean(x, d, k))
reduce_max = _axis_kw(_amax)
reduce_min = _axis_kw(_amin)
square = _fn(_api.square)
sqrt = _fn(_api.sqrt)
exp = _fn(_api.exp)
log = _fn(_api.log)
sin = _fn(_api.sin)
cos = _fn(_api.cos)
tanh = _fn(_api.tanh)
sigmoid = _fn(_api.sigmoid)
matmul = _fn(_api.matmul)
add = _fn(_api.add)
multiply = _fn(_api.mul)
subtract = _fn(_api.sub)
divide = _fn(_api.div)
reshape = _fn(lambda x, shape: _api.reshape(x, tuple(shape)))
transpose = _fn(lambda x, perm=None: _api.permute(x, tuple(perm) if perm is not None
                                                    else tuple(range(x.ndim - 1, -1, -1))))
ones_like = _fn(lambda x: _api.ones_like(x) if hasattr(_api, "ones_like") else x * 0 + 1)
zeros_like = _fn(lambda x: x * 0)


def ones(shape: Any, dtype: Any = np.float32) -> EagerTensor:
    return constant(np.ones(shape, dtype=dtype))


def zeros(shape: Any, dtype: Any = np.float32) -> EagerTensor:
    return constant(np.zeros(shape, dtype=dtype))


def cast(x: Any, dtype: Any) -> EagerTensor:
    t = x if isinstance(x, Tensor) else constant(x)
    return _wrap(t.to(FROM_NP[np.dtype(dtype)]))


def stop_gradient(x: Any) -> EagerTensor:
    return _wrap(x.detach() if isinstance(x, Tensor) else constant(x))


class _Namespace:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


math = _Namespace(reduce_sum=reduce_sum, reduce_mean=reduce_mean, reduce_max=reduce_max,
                  reduce_min=reduce_min, square=square, sqrt=sqrt, exp=exp, log=log, sin=sin,
                  cos=cos, tanh=tanh, sigmoid=sigmoid, add=add, multiply=multiply,
                  subtract=subtract, divide=divide)
nn = _Namespace(sigmoid=sigmoid, tanh=tanh, relu=_fn(_api.relu))
