"""One ``OpSpec`` per use of each primitive in ``gradkit.ops.REGISTRY``.

``tests/ops/test_ops_generic.py`` runs every spec: the forward against a NumPy
reference, gradients against central differences (``gradcheck``), second
derivatives (``gradgradcheck``) and dtype preservation. Adding a primitive
without a spec here fails ``test_every_primitive_has_a_spec``.

A spec's ``fn`` takes gradkit Tensors followed by ``args`` (index arrays,
masks: anything that is not differentiated) and returns a Tensor or a tuple
of Tensors; ``ref`` takes the same inputs as NumPy arrays. Inputs are drawn
uniformly from ``[low, high]`` unless ``make`` draws them itself (to hold
zeros, or to stay clear of kinks, ties and poles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

import gradkit as gk
from gradkit.ops import linalg as L
from gradkit.ops import elementwise as _E
from gradkit.ops import shape as S

__all__ = ["OpSpec", "OP_SPECS"]

Shape = tuple[int, ...]
Maker = Callable[[np.random.Generator], list[np.ndarray]]


@dataclass(frozen=True)
class OpSpec:
    """How to call, sample and check one use of one primitive."""

    name: str                              # the REGISTRY key this spec covers
    fn: Callable[..., Any]                 # (*Tensors, *args) -> Tensor or tuple of Tensors
    ref: Callable[..., Any]                # (*ndarrays, *args) -> ndarray or tuple of ndarrays
    shapes: Sequence[Shape] = ((3, 4),)
    low: float = -2.0
    high: float = 2.0
    args: tuple[Any, ...] = ()             # non-Tensor arguments passed after the inputs
    label: str = ""                        # tells the variants of one primitive apart in test ids
    grad: bool = True                      # False: the op has no gradient (comparisons, argmax)
    second_order: bool = True              # check second derivatives too
    kinds: str = ""                        # one letter per input: f float (default), i int64, b bool
    make: Maker | None = None              # draws the inputs itself (float64 for float inputs)
    refused: str = ""                      # the row's derivative raises this (as PyTorch's does)

    def sample(self, rng: np.random.Generator, dtype: Any = np.float64) -> list[np.ndarray]:
        """Inputs as NumPy arrays; floating ones in ``dtype``."""
        if self.make is not None:
            arrays = self.make(rng)
        else:
            kinds = self.kinds or "f" * len(self.shapes)
            arrays = [_draw(rng, k, s, self.low, self.high) for k, s in zip(kinds, self.shapes)]
        return [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]

    def __str__(self) -> str:
        return f"{self.name}-{self.label}" if self.label else self.name


def _index_copy_ref(x: np.ndarray, dim: int, idx: np.ndarray, src: np.ndarray) -> np.ndarray:
    out = x.copy()
    for k, i in enumerate(idx):
        out[(slice(None),) * dim + (i,)] = src[(slice(None),) * dim + (k,)]
    return out


def _put_ref(x: np.ndarray, idx: np.ndarray, src: np.ndarray, accumulate: bool) -> np.ndarray:
    out = x.copy().ravel()
    for i, v in zip(idx.ravel(), src.ravel()):
        out[i] = out[i] + v if accumulate else v
    return out.reshape(x.shape)


def _masked_scatter_ref(x: np.ndarray, mask: np.ndarray, src: np.ndarray) -> np.ndarray:
    out, flat, k = x.copy(), src.ravel(), 0
    for pos in zip(*np.nonzero(mask)):
        out[pos] = flat[k]
        k += 1
    return out


def _scatter_reduce_ref(x: np.ndarray, s: np.ndarray, dim: int, idx: np.ndarray, reduce: str,
                        include_self: bool) -> np.ndarray:
    groups: dict[tuple[int, ...], list[float]] = {}
    for pos in np.ndindex(*idx.shape):
        tgt = list(pos)
        tgt[dim] = int(idx[pos])
        groups.setdefault(tuple(tgt), []).append(s[pos])
    out = x.copy()
    for tgt, vals in groups.items():
        vals = ([x[tgt]] if include_self else []) + vals
        out[tgt] = {"sum": sum, "mean": lambda v: sum(v) / len(v), "amax": max, "amin": min,
                    "prod": np.prod}[reduce](vals)
    return out


_MS_MASK = np.array([[True, False, True, False], [False, False, False, True], [True, True, False, True]])


def _index_add_ref(x: np.ndarray, dim: int, idx: np.ndarray, src: np.ndarray) -> np.ndarray:
    out = x.copy()
    for k, i in enumerate(idx):
        sel = [slice(None)] * x.ndim
        sel[dim] = i
        pick = [slice(None)] * x.ndim
        pick[dim] = k
        out[tuple(sel)] += src[tuple(pick)]
    return out


def _draw(rng: np.random.Generator, kind: str, shape: Shape, low: float, high: float) -> np.ndarray:
    if kind == "i":
        return rng.integers(-4, 5, shape).astype(np.int64)
    if kind == "b":
        return rng.random(shape) < 0.5
    return rng.uniform(low, high, shape)


# --- samplers that keep clear of kinks, ties and poles ----------------------------------
def signed(*shapes: Shape, lo: float = 0.3, hi: float = 2.0) -> Maker:
    """Magnitudes in ``[lo, hi]`` with random signs (clear of 0)."""
    return lambda rng: [rng.uniform(lo, hi, s) * rng.choice([-1.0, 1.0], s) for s in shapes]


def distinct(*shapes: Shape, gap: float = 0.25) -> Maker:
    """Values at least ``gap`` apart within each array (no ties for max, median, sort)."""
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        out = []
        for s in shapes:
            n = int(np.prod(s, dtype=np.int64))
            v = (rng.permutation(n) - n / 2.0) * gap + rng.uniform(0.0, gap / 4, n)
            out.append(v.reshape(s))
        return out
    return make


def distinct_abs(*shapes: Shape, gap: float = 0.25) -> Maker:
    """Magnitudes at least ``gap`` apart and clear of 0, with random signs (``norm(p=inf)``)."""
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        out = []
        for s in shapes:
            n = int(np.prod(s, dtype=np.int64))
            v = (rng.permutation(n) + 1.0) * gap + rng.uniform(0.0, gap / 4, n)
            out.append((v * rng.choice([-1.0, 1.0], n)).reshape(s))
        return out
    return make


def off_grid(*shapes: Shape, step: float = 1.0) -> Maker:
    """Values clear of the multiples of ``step`` and of their midpoints (floor, round)."""
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        out = []
        for s in shapes:
            frac = rng.choice([0.15, 0.35, 0.65, 0.85], s) + rng.uniform(-0.05, 0.05, s)
            out.append((rng.integers(-3, 3, s) + frac) * step)
        return out
    return make


def grid(*shapes: Shape) -> Maker:
    """Small integers as floats, so that comparisons meet ties."""
    return lambda rng: [rng.integers(-2, 3, s).astype(np.float64) for s in shapes]


def with_zeros(shape: Shape, zeros: Sequence[tuple[int, ...]], low: float = 0.5,
               high: float = 1.5) -> Maker:
    """Signed values in ``[low, high]`` except exact zeros at ``zeros``."""
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        x = rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)
        for z in zeros:
            x[z] = 0.0
        return [x]
    return make


def avoiding(shape: Shape, points: Sequence[float], low: float = -2.0, high: float = 2.0,
             gap: float = 0.1) -> Maker:
    """Uniform values pushed at least ``gap`` away from each of ``points`` (clamp bounds)."""
    def make(rng: np.random.Generator) -> list[np.ndarray]:
        x = rng.uniform(low, high, shape)
        for p in points:
            near = np.abs(x - p) < gap
            x = np.where(near, p + np.where(x >= p, gap, -gap), x)
        return [x]
    return make


def then(*makers: Maker) -> Maker:
    """Concatenate the inputs of several samplers."""
    return lambda rng: [a for m in makers for a in m(rng)]


def _no_ties_pair(rng: np.random.Generator) -> list[np.ndarray]:
    """Two (3, 4) arrays with no value shared within or between them (maximum, minimum)."""
    return list(distinct((2, 3, 4))(rng)[0])


def uniform(*shapes: Shape, low: float = -2.0, high: float = 2.0) -> Maker:
    """Uniform values in ``[low, high]``, one array per shape."""
    return lambda rng: [rng.uniform(low, high, s) for s in shapes]


def _perm_rows(rows: int, cols: int, seed: int = 1) -> np.ndarray:
    """Per-row permutations of ``range(cols)`` (an index without duplicates along dim 1)."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(cols) for _ in range(rows)]).astype(np.int64)


# --- NumPy references that need a few lines -----------------------------------------------
def _erfinv_ref(y: np.ndarray) -> np.ndarray:
    from statistics import NormalDist
    return np.vectorize(lambda v: NormalDist().inv_cdf((1.0 + v) / 2.0) / math.sqrt(2.0))(y)


def _polygamma_ref(n: int, x: np.ndarray) -> np.ndarray:
    """(-1)^(n+1) n! sum_k 1/(x+k)^(n+1), summed far enough for float64 (plus the tail integral)."""
    k = np.arange(200000.0)
    def one(v: float) -> float:
        end = v + k[-1] + 1.0
        tail = end ** (-n) / n + 0.5 * end ** (-n - 1.0)
        return (-1.0) ** (n + 1) * math.factorial(n) * (float(np.sum((v + k) ** -(n + 1.0))) + tail)
    return np.vectorize(one)(x)


def _trigamma_ref(x: np.ndarray) -> np.ndarray:
    return _polygamma_ref(1, x)


def _digamma_ref(x: np.ndarray) -> np.ndarray:
    """digamma(x) = digamma(x + 1000) - sum 1/(x + k), the former by its asymptotic series."""
    def one(v: float) -> float:
        y = v + 1000.0
        asym = math.log(y) - 0.5 / y - 1 / (12 * y ** 2) + 1 / (120 * y ** 4)
        return asym - sum(1.0 / (v + j) for j in range(1000))
    return np.vectorize(one)(x)


def _logit_ref(x: np.ndarray) -> np.ndarray:
    return np.log(x / (1.0 - x))


def _clamp_ref(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, lo), hi)


def _scatter_ref(x: np.ndarray, dim: int, index: np.ndarray, src: Any) -> np.ndarray:
    out = x.copy()
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    if np.ndim(src) == 0:
        out[tuple(grids)] = src
    else:
        out[tuple(grids)] = src[tuple(slice(0, s) for s in index.shape)]
    return out


def _scatter_add_ref(x: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    out = x.copy()
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    np.add.at(out, tuple(grids), src[tuple(slice(0, s) for s in index.shape)])
    return out


def _setitem_ref(index: Any) -> Callable[..., np.ndarray]:
    def ref(x: np.ndarray, value: Any = None) -> np.ndarray:
        out = x.copy()
        out[index] = value
        return out
    return ref


def _setitem(index: Any) -> Callable[..., Any]:
    """``y = x.clone(); y[index] = value``: the setitem path (``index_put``) on a non-leaf."""
    def fn(x: Any, value: Any) -> Any:
        y = x.clone()
        y[index] = value
        return y
    return fn


def _median_ref(x: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(x, axis=dim, kind="stable")
    idx = np.take(order, [(x.shape[dim] - 1) // 2], axis=dim)
    return np.take_along_axis(x, idx, dim).squeeze(dim), idx.squeeze(dim)


def _norm_ref(p: float, axis: Any = None, keepdims: bool = False) -> Callable[[np.ndarray], Any]:
    def ref(x: np.ndarray) -> np.ndarray:
        a = np.abs(x)
        if p == np.inf:
            return a.max(axis=axis, keepdims=keepdims)
        if p == -np.inf:
            return a.min(axis=axis, keepdims=keepdims)
        if p == 0:
            return (a != 0).sum(axis=axis, keepdims=keepdims).astype(x.dtype)
        return (a ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)
    return ref


def _split_ref(sizes: Sequence[int], axis: int) -> Callable[[np.ndarray], tuple[np.ndarray, ...]]:
    return lambda x: tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


def _index_backward_ref(shape: Shape, index: Any) -> Callable[[np.ndarray], np.ndarray]:
    def ref(g: np.ndarray) -> np.ndarray:
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, index, g)
        return out
    return ref


def _diagonal_backward_ref(shape: Shape, offset: int, dim1: int,
                           dim2: int) -> Callable[[np.ndarray], np.ndarray]:
    def ref(g: np.ndarray) -> np.ndarray:
        out = np.zeros(shape, dtype=g.dtype)
        view = np.diagonal(out, offset, dim1, dim2)
        view.setflags(write=True)
        view[...] = g
        return out
    return ref


def _unfold_ref(dim: int, size: int, step: int) -> Callable[[np.ndarray], np.ndarray]:
    def ref(x: np.ndarray) -> np.ndarray:
        starts = range(0, x.shape[dim] - size + 1, step)
        return np.stack([np.take(x, range(s, s + size), axis=dim) for s in starts], axis=dim)
    return lambda x: np.moveaxis(ref(x), dim + 1, -1)


def _unfold_backward_ref(shape: Shape, dim: int, size: int,
                         step: int) -> Callable[[np.ndarray], np.ndarray]:
    def ref(g: np.ndarray) -> np.ndarray:
        out = np.zeros(shape, dtype=g.dtype)
        moved = np.moveaxis(out, dim, 0)
        for w in range(g.shape[dim]):
            for k in range(size):
                moved[w * step + k] += np.moveaxis(np.take(g, w, axis=dim), -1, 0)[k]
        return out
    return ref


def _as_strided_ref(size: Shape, stride: Shape, offset: int) -> Callable[[np.ndarray], np.ndarray]:
    def ref(x: np.ndarray) -> np.ndarray:
        flat = x.reshape(-1)
        return np.array([flat[offset + sum(i * s for i, s in zip(idx, stride))]
                         for idx in np.ndindex(*size)]).reshape(size)
    return ref


def _as_strided_backward_ref(shape: Shape, size: Shape, stride: Shape,
                             offset: int) -> Callable[[np.ndarray], np.ndarray]:
    def ref(g: np.ndarray) -> np.ndarray:
        out = np.zeros(int(np.prod(shape)), dtype=g.dtype)
        for idx in np.ndindex(*size):
            out[offset + sum(i * s for i, s in zip(idx, stride))] += g[idx]
        return out.reshape(shape)
    return ref


def _einsum(equation: str, *shapes: Shape, label: str) -> OpSpec:
    # NOTE: the row itself (gk.einsum records PyTorch's permutes and products around it)
    return OpSpec("einsum", lambda *xs: L.einsum_p(*xs, equation=equation),
                  lambda *xs: np.einsum(equation, *xs),
                  shapes=shapes, label=label)


def _tensordot_ref(dims: Any) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    return lambda a, b: np.tensordot(a, b, dims)


# --- the table ------------------------------------------------------------------------------
_MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
_IDX = np.array([[0, 2, 2, 1], [1, 0, 0, 0]], dtype=np.int64)        # gather/scatter_add, dim 0
_IDX1 = np.array([[3, 0, 3], [1, 1, 2], [0, 2, 0]], dtype=np.int64)  # gather/scatter_add, dim 1
_PERM = _perm_rows(3, 4)                                             # scatter: no duplicates

ELEMENTWISE_SPECS = [
    # --- unary ---
    OpSpec("neg", lambda x: -x, np.negative),
    OpSpec("neg", gk.neg, np.negative, label="fn"),
    OpSpec("exp", gk.exp, np.exp),
    OpSpec("exp", gk.exp, np.exp, shapes=[()], label="0d"),
    OpSpec("exp", gk.exp, np.exp, shapes=[(0, 3)], label="empty"),
    OpSpec("exp2", gk.exp2, np.exp2),
    OpSpec("expm1", gk.expm1, np.expm1),
    OpSpec("log", gk.log, np.log, low=0.1, high=3.0),
    OpSpec("log2", gk.log2, np.log2, low=0.1, high=3.0),
    OpSpec("log10", gk.log10, np.log10, low=0.1, high=3.0),
    OpSpec("log1p", gk.log1p, np.log1p, low=-0.5, high=2.0),
    OpSpec("sqrt", gk.sqrt, np.sqrt, low=0.1, high=3.0),
    OpSpec("rsqrt", gk.rsqrt, lambda x: 1.0 / np.sqrt(x), low=0.1, high=3.0),
    OpSpec("sign", gk.sign, np.sign, make=signed((3, 4))),
    OpSpec("abs", gk.abs, np.abs, make=signed((3, 4))),
    OpSpec("sin", gk.sin, np.sin),
    OpSpec("cos", gk.cos, np.cos),
    OpSpec("tan", gk.tan, np.tan, low=-1.2, high=1.2),
    OpSpec("asin", gk.asin, np.arcsin, low=-0.8, high=0.8),
    OpSpec("acos", gk.acos, np.arccos, low=-0.8, high=0.8),
    OpSpec("atan", gk.atan, np.arctan),
    OpSpec("sinh", gk.sinh, np.sinh),
    OpSpec("cosh", gk.cosh, np.cosh),
    OpSpec("tanh", gk.tanh, np.tanh),
    OpSpec("asinh", gk.asinh, np.arcsinh),
    OpSpec("acosh", gk.acosh, np.arccosh, low=1.2, high=3.0),
    OpSpec("atanh", gk.atanh, np.arctanh, low=-0.8, high=0.8),
    OpSpec("sigmoid", gk.sigmoid, lambda x: 1.0 / (1.0 + np.exp(-x)), low=-4.0, high=4.0),
    OpSpec("logit", gk.logit, lambda x: _logit_ref(x), low=0.1, high=0.9),
    OpSpec("logit", lambda x: gk.logit(x, eps=0.2), lambda x: _logit_ref(np.clip(x, 0.2, 0.8)),
           make=avoiding((3, 4), [0.2, 0.8], low=0.02, high=0.98, gap=0.05), label="eps"),
    OpSpec("relu", gk.relu, lambda x: np.maximum(x, 0.0), make=signed((3, 4))),
    OpSpec("erf", gk.erf, np.vectorize(math.erf)),
    OpSpec("reciprocal", gk.reciprocal, np.reciprocal, make=signed((3, 4), lo=0.5)),
    OpSpec("floor", gk.floor, np.floor, make=off_grid((3, 4))),
    OpSpec("ceil", gk.ceil, np.ceil, make=off_grid((3, 4))),
    OpSpec("round", gk.round, np.round, make=off_grid((3, 4))),
    OpSpec("round", lambda x: gk.round(x, decimals=1), lambda x: np.round(x, 1),
           make=off_grid((3, 4), step=0.1), label="decimals"),
    OpSpec("trunc", gk.trunc, np.trunc, make=off_grid((3, 4))),
    OpSpec("frac", gk.frac, lambda x: x - np.trunc(x), make=off_grid((3, 4))),
    # --- binary, with broadcasting and Python numbers ---
    OpSpec("add", lambda x, y: x + y, np.add, shapes=[(3, 4), (4,)]),
    OpSpec("add", lambda x, y: gk.add(x, y), np.add, shapes=[(3, 1), (1, 4)], label="outer"),
    OpSpec("add", lambda x: x + 1.5, lambda x: x + 1.5, label="number"),
    OpSpec("add", lambda x: 1.5 + x, lambda x: 1.5 + x, label="radd"),
    OpSpec("sub", lambda x, y: x - y, np.subtract, shapes=[(2, 3, 4), (3, 1)]),
    OpSpec("sub", lambda x: x - 0.5, lambda x: x - 0.5, label="number"),
    OpSpec("rsub", lambda x: 2.0 - x, lambda x: 2.0 - x),
    OpSpec("rsub", lambda x: gk.sub(2.0, x), lambda x: 2.0 - x, label="fn"),
    OpSpec("mul", lambda x, y: x * y, np.multiply, shapes=[(3, 4), (3, 1)]),
    OpSpec("add_alpha", lambda x, y: gk.add(x, y, alpha=2.0), lambda x, y: x + 2.0 * y,
           shapes=[(3, 4), (4,)]),
    OpSpec("add_alpha", lambda x, y: gk.sub(x, y, alpha=0.5), lambda x, y: x - 0.5 * y,
           shapes=[(3, 1), (4,)], label="sub"),
    OpSpec("mul", lambda x: x * 3.0, lambda x: x * 3.0, label="number"),
    OpSpec("mul", lambda x, y: x * y, np.multiply, shapes=[(), (3,)], label="0d-broadcast"),
    OpSpec("mul", gk.outer, np.outer, shapes=[(3,), (4,)], label="outer"),
    OpSpec("mul", gk.kron, np.kron, shapes=[(2, 2), (2, 3)], label="kron"),
    OpSpec("div", lambda x, y: x / y, np.divide, make=then(uniform((3, 4)), signed((4,), lo=0.5))),
    OpSpec("div", lambda x, y: x / y, np.divide, make=then(uniform((3, 1)), signed((2, 1, 4), lo=0.5)),
           label="broadcast"),
    OpSpec("div", lambda x: x / 4.0, lambda x: x / 4.0, label="number"),
    OpSpec("reciprocal", lambda x: 2.0 / x, lambda x: 2.0 / x, make=signed((3, 4), lo=0.5),
           label="rdiv"),
    # PyTorch's NotImplemented node (integer inputs and div(rounding_mode="floor"), which
    # record no node: tests/ops/test_floor_divide_node.py)
    OpSpec("floor_divide", lambda x, y: x // y, np.floor_divide,
           make=then(uniform((3, 4), low=-4.0, high=4.0), signed((4,), lo=0.5)),
           refused="derivative for aten::floor_divide is not implemented"),
    OpSpec("remainder", lambda x, y: x % y, np.remainder,
           make=then(uniform((3, 4), low=-4.0, high=4.0), uniform((4,), low=0.7, high=1.9))),
    OpSpec("remainder", lambda x: gk.remainder(x, 1.3), lambda x: np.remainder(x, 1.3), label="number"),
    OpSpec("fmod", lambda x, y: gk.fmod(x, y), np.fmod,
           make=then(uniform((3, 4), low=-4.0, high=4.0), signed((3, 4), lo=0.7, hi=1.9))),
    OpSpec("fmod", lambda x: gk.fmod(x, -1.3), lambda x: np.fmod(x, -1.3), label="number"),
    OpSpec("pow_scalar", lambda x: x ** 2, lambda x: x ** 2, label="square"),
    OpSpec("pow_scalar", lambda x: gk.square(x), np.square, label="fn-square"),
    OpSpec("pow_scalar", lambda x: x ** 3, lambda x: x ** 3, label="cube"),
    OpSpec("pow_scalar", lambda x: x ** 1, lambda x: x ** 1, label="one"),
    OpSpec("pow_scalar", lambda x: x ** 0, lambda x: x ** 0, label="zero"),
    OpSpec("pow_scalar", lambda x: x ** 0.5, np.sqrt, low=0.2, high=3.0, label="half"),
    OpSpec("pow_scalar", lambda x: gk.pow(x, -1.5), lambda x: x ** -1.5, low=0.2, high=3.0,
           label="negative"),
    OpSpec("pow", lambda x, y: x ** y, np.power, shapes=[(3, 4), (4,)], low=0.3, high=2.0),
    OpSpec("pow", lambda x, y: gk.pow(x, y), np.power, shapes=[(3, 1), (1, 4)], low=0.3, high=2.0,
           label="fn-outer"),
    OpSpec("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x),
    OpSpec("rpow", lambda x: gk.pow(0.5, x), lambda x: 0.5 ** x, label="fn"),
    OpSpec("rpow", lambda x: gk.pow(0.0, x), lambda x: 0.0 ** x, low=0.3, label="zero-base"),
    OpSpec("atan2", gk.atan2, np.arctan2, make=signed((3, 4), (4,))),
    OpSpec("erfc", gk.erfc, np.vectorize(math.erfc)),
    OpSpec("erfinv", gk.erfinv, _erfinv_ref, low=-0.9, high=0.9),
    OpSpec("lgamma", gk.lgamma, np.vectorize(math.lgamma), make=avoiding((3, 4), [-2.0, -1.0, 0.0])),
    OpSpec("digamma", gk.digamma, _digamma_ref, low=0.3, high=4.0),
    OpSpec("polygamma", lambda x: gk.polygamma(1, x), _trigamma_ref, low=0.3, high=4.0),
    OpSpec("polygamma", lambda x: x.polygamma(2), lambda x: _polygamma_ref(2, x), low=0.3, high=4.0,
           label="n2"),
    OpSpec("sinc", gk.sinc, np.sinc),
    OpSpec("logaddexp2", gk.logaddexp2, np.logaddexp2, shapes=[(3, 4), (4,)]),
    OpSpec("fmax", gk.fmax, np.fmax, make=_no_ties_pair),
    OpSpec("fmin", gk.fmin, np.fmin, make=_no_ties_pair),
    OpSpec("xlogy", gk.xlogy, lambda x, y: x * np.log(y), make=then(uniform((3, 4)), uniform((4,), low=0.3))),
    OpSpec("xlogy", lambda x: gk.xlogy(x, 2.5), lambda x: x * np.log(2.5), label="number"),
    OpSpec("copysign", gk.copysign, np.copysign, make=signed((3, 4), (4,))),
    OpSpec("heaviside", lambda x, v: gk.heaviside(x, v), np.heaviside, make=grid((3, 4), (4,)), grad=False),
    OpSpec("maximum", gk.maximum, np.maximum, make=_no_ties_pair),
    OpSpec("maximum", lambda x, y: gk.max(x, other=y), np.maximum,
           make=_no_ties_pair, label="max-other"),
    OpSpec("minimum", gk.minimum, np.minimum, make=_no_ties_pair),
    OpSpec("minimum", lambda x, y: gk.min(x, other=y), np.minimum,
           make=_no_ties_pair, label="min-other"),
    OpSpec("logaddexp", gk.logaddexp, np.logaddexp, shapes=[(3, 4), (4,)]),
    OpSpec("hypot", gk.hypot, np.hypot, make=signed((3, 4), (3, 1))),
    # --- clamp and where ---
    OpSpec("clamp_scalar", lambda x: gk.clamp(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
           make=avoiding((3, 4), [-0.5, 0.7])),
    OpSpec("clamp_scalar", lambda x: gk.clamp(x, min=0.2), lambda x: np.maximum(x, 0.2),
           make=avoiding((3, 4), [0.2]), label="min"),
    OpSpec("clamp_scalar", lambda x: gk.clamp_max(x, -0.3), lambda x: np.minimum(x, -0.3),
           make=avoiding((3, 4), [-0.3]), label="max"),
    # --- fused pointwise rows (PyTorch's LerpBackward0/1, AddcmulBackward0, ...) ---
    OpSpec("lerp", gk.lerp, lambda x, y, w: x + w * (y - x), shapes=[(3, 4), (4,), (3, 1)],
           low=-1.0, high=1.0),
    OpSpec("lerp_scalar", lambda x, y: gk.lerp(x, y, 0.3), lambda x, y: x + 0.3 * (y - x),
           shapes=[(3, 4), (3, 4)]),
    OpSpec("lerp_scalar", lambda x, y: gk.lerp(x, y, 0.75), lambda x, y: x + 0.75 * (y - x),
           shapes=[(3, 4), (1, 4)], label="upper-half"),
    OpSpec("addcmul", lambda x, a, b: gk.addcmul(x, a, b, value=0.5), lambda x, a, b: x + 0.5 * a * b,
           shapes=[(3, 4), (3, 1), (4,)]),
    OpSpec("addcdiv", lambda x, a, b: gk.addcdiv(x, a, b, value=2.0), lambda x, a, b: x + 2.0 * a / b,
           make=then(uniform((3, 4), (4,)), signed((3, 4), lo=0.5))),
    OpSpec("deg2rad", gk.deg2rad, np.deg2rad),
    OpSpec("rad2deg", gk.rad2deg, np.rad2deg),
    OpSpec("nan_to_num", lambda x: gk.nan_to_num(x, nan=0.5), lambda x: np.nan_to_num(x, nan=0.5)),
    OpSpec("clamp_tensor", lambda x, lo, hi: gk.clamp(x, lo, hi), _clamp_ref,
           make=lambda rng: [rng.integers(-4, 4, (3, 4)) * 0.5 + 0.25, rng.integers(-3, 0, (4,)) * 0.5,
                             rng.integers(0, 3, (3, 1)) * 0.5]),
    OpSpec("clamp_tensor", lambda x, lo, hi: gk.clamp(x, lo, hi), _clamp_ref, label="inverted",
           make=lambda rng: [rng.integers(-4, 4, (3, 4)) * 0.5 + 0.25, rng.integers(1, 3, (3, 4)) * 0.5,
                             rng.integers(-3, 0, (3, 4)) * 0.5]),
    OpSpec("clamp_tensor", lambda x, lo: gk.clamp(x, min=lo), np.maximum, label="min",
           make=lambda rng: [rng.integers(-4, 4, (3, 4)) * 0.5 + 0.25, rng.integers(-3, 2, (3, 4)) * 0.5]),
    OpSpec("clamp_tensor", lambda x, hi: gk.clamp(x, max=hi), np.minimum, label="max",
           make=lambda rng: [rng.integers(-4, 4, (3, 4)) * 0.5 + 0.25, rng.integers(-3, 2, (4,)) * 0.5]),
    OpSpec("fill", lambda x, v: x.clone().copy_(v), lambda x, v: np.broadcast_to(v, x.shape).copy(),
           shapes=((3, 4), (4,)), label="copy_"),
    OpSpec("fill", lambda x, v: x.clone().fill_(v), lambda x, v: np.broadcast_to(v, x.shape).copy(),
           shapes=((3, 4), ()), label="fill_"),
    OpSpec("where", lambda x, y, c: gk.where(c, x, y), lambda x, y, c: np.where(c, x, y),
           shapes=[(3, 4), (4,)], args=(_MASK,)),
    OpSpec("where", lambda x, c: gk.where(c, x, 0.5), lambda x, c: np.where(c, x, 0.5),
           args=(_MASK,), label="number"),
    OpSpec("where", lambda x, y: gk.where(gk.tensor(True), x, y), lambda x, y: np.where(True, x, y),
           shapes=[(), (3,)], label="0d"),
    OpSpec("where", lambda x: gk.where(x > 0, x * x, -x), lambda x: np.where(x > 0, x * x, -x),
           make=signed((3, 4)), label="self-cond"),
    OpSpec("grad_link", lambda g, x: _E.grad_link(g, x), lambda g, x: g, shapes=[(3, 4), (3, 4)]),
]

_special = lambda rng: [np.array([[0.5, np.nan, np.inf], [-np.inf, -1.0, 0.0]])]  # noqa: E731
_BOOLS = {"kinds": "bb", "shapes": [(3, 4), (3, 4)]}
_INTS = {"kinds": "ii", "shapes": [(3, 4), (4,)]}

NO_GRAD_ELEMENTWISE_SPECS = [
    OpSpec("eq", lambda x, y: x == y, np.equal, grad=False, make=grid((3, 4), (4,))),
    OpSpec("eq", lambda x: gk.eq(x, 1.0), lambda x: x == 1.0, grad=False, make=grid((3, 4)), label="number"),
    OpSpec("ne", lambda x, y: x != y, np.not_equal, grad=False, make=grid((3, 4), (4,))),
    OpSpec("lt", lambda x, y: x < y, np.less, grad=False, make=grid((3, 4), (3, 1))),
    OpSpec("le", lambda x, y: x <= y, np.less_equal, grad=False, make=grid((3, 4), (3, 4))),
    OpSpec("gt", lambda x, y: x > y, np.greater, grad=False, make=grid((3, 4), (3, 4))),
    OpSpec("gt", lambda x: x > 0.5, lambda x: x > 0.5, grad=False, make=grid((3, 4)), label="number"),
    OpSpec("ge", lambda x, y: gk.ge(x, y), np.greater_equal, grad=False, make=grid((3, 4), (4,))),
    OpSpec("ge", lambda x, y: x >= y, np.greater_equal, grad=False, label="int", **_INTS),
    OpSpec("logical_and", gk.logical_and, np.logical_and, grad=False, **_BOOLS),
    OpSpec("logical_or", gk.logical_or, np.logical_or, grad=False, **_BOOLS),
    OpSpec("logical_xor", gk.logical_xor, np.logical_xor, grad=False, **_BOOLS),
    OpSpec("logical_not", gk.logical_not, np.logical_not, grad=False, make=grid((3, 4))),
    OpSpec("logical_not", lambda x: ~x, np.invert, grad=False, kinds="b", label="invert-bool"),
    OpSpec("bitwise_and", lambda x, y: x & y, np.bitwise_and, grad=False, **_INTS),
    OpSpec("bitwise_and", lambda x, y: x & y, np.bitwise_and, grad=False, label="bool", **_BOOLS),
    OpSpec("bitwise_or", lambda x, y: x | y, np.bitwise_or, grad=False, **_INTS),
    OpSpec("bitwise_xor", lambda x, y: x ^ y, np.bitwise_xor, grad=False, **_INTS),
    # NOTE: PyTorch's shifts: a negative count gives 0 (-1 for a right shift of a negative value)
    OpSpec("bitwise_left_shift", lambda x, y: x << y,
           lambda x, y: np.where(y < 0, 0, np.left_shift(x, np.maximum(y, 0))), grad=False, **_INTS),
    OpSpec("bitwise_right_shift", lambda x, y: x >> y,
           lambda x, y: np.where(y < 0, np.where(x < 0, -1, 0), np.right_shift(x, np.maximum(y, 0))),
           grad=False, **_INTS),
    OpSpec("gcd", lambda x, y: gk.gcd(x, y), np.gcd, grad=False, **_INTS),
    OpSpec("lcm", lambda x, y: gk.lcm(x, y), np.lcm, grad=False, **_INTS),
    OpSpec("bitwise_not", lambda x: ~x, np.invert, grad=False, kinds="i"),
    OpSpec("isnan", gk.isnan, np.isnan, grad=False, make=_special),
    OpSpec("isinf", gk.isinf, np.isinf, grad=False, make=_special),
    OpSpec("isfinite", gk.isfinite, np.isfinite, grad=False, make=_special),
    OpSpec("signbit", gk.signbit, np.signbit, grad=False, make=_special),
]

REDUCTION_SPECS = [
    OpSpec("sum", gk.sum, np.sum, label="full"),
    OpSpec("sum", lambda x: gk.sum(x, dim=1), lambda x: x.sum(1), label="dim"),
    OpSpec("sum", lambda x: gk.sum(x, dim=-1, keepdim=True), lambda x: x.sum(-1, keepdims=True),
           label="keepdim"),
    OpSpec("sum", lambda x: x.sum((0, 2)), lambda x: x.sum((0, 2)), shapes=[(2, 3, 2)], label="dims"),
    OpSpec("sum", lambda x: gk.sum(x, 0), lambda x: x.sum(), shapes=[()], label="0d-dim"),
    OpSpec("sum", lambda x: gk.sum(x, 0), lambda x: x.sum(0), shapes=[(0, 3)], label="empty"),
    OpSpec("nansum", gk.nansum, np.nansum),
    OpSpec("nansum", lambda x: gk.nansum(x, 1, keepdim=True), lambda x: np.nansum(x, 1, keepdims=True),
           label="dim"),
    OpSpec("mean", gk.mean, np.mean, label="full"),
    OpSpec("mean", lambda x: gk.mean(x, dim=0), lambda x: x.mean(0), label="dim"),
    OpSpec("mean", lambda x: gk.mean(x, dim=(0, 2), keepdim=True), lambda x: x.mean((0, 2), keepdims=True),
           shapes=[(2, 3, 2)], label="dims-keepdim"),
    OpSpec("prod", gk.prod, np.prod, low=0.5, high=1.5, label="full"),
    OpSpec("prod", lambda x: gk.prod(x, 1), lambda x: x.prod(1), low=-1.5, high=1.5, label="dim"),
    OpSpec("prod", lambda x: gk.prod(x, 0, keepdim=True), lambda x: x.prod(0, keepdims=True),
           low=-1.5, high=1.5, label="keepdim"),
    OpSpec("prod", gk.prod, np.prod, make=with_zeros((2, 3), [(0, 1)]), label="full-one-zero"),
    OpSpec("prod", lambda x: gk.prod(x, 0), np.prod, shapes=[()], label="0d-dim"),
    OpSpec("prod", gk.prod, np.prod, shapes=[(2, 0)], label="empty"),
    OpSpec("prod", gk.prod, np.prod, make=with_zeros((2, 3), [(0, 1), (1, 2)]), label="full-two-zeros"),
    OpSpec("prod", lambda x: gk.prod(x, dim=1), lambda x: x.prod(1),
           make=with_zeros((3, 4), [(0, 1), (1, 0), (1, 3)]), label="dim-zeros"),
    OpSpec("amax", lambda x: gk.amax(x), np.amax, make=distinct((3, 4)), label="full"),
    OpSpec("amax", lambda x: gk.max(x), np.amax, make=distinct((3, 4)), label="max-full"),
    OpSpec("amax", lambda x: gk.amax(x, dim=1), lambda x: x.max(1), make=distinct((3, 4)), label="dim"),
    OpSpec("amax", lambda x: gk.amax(x, 0), np.amax, shapes=[()], label="0d-dim"),
    OpSpec("amax", lambda x: gk.amax(x, dim=(0, 2), keepdim=True), lambda x: x.max((0, 2), keepdims=True),
           make=distinct((2, 3, 2)), label="dims-keepdim"),
    OpSpec("amin", lambda x: gk.amin(x), np.amin, make=distinct((3, 4)), label="full"),
    OpSpec("amin", lambda x: gk.min(x), np.amin, make=distinct((3, 4)), label="min-full"),
    OpSpec("amin", lambda x: gk.amin(x, dim=0, keepdim=True), lambda x: x.min(0, keepdims=True),
           make=distinct((3, 4)), label="dim-keepdim"),
    OpSpec("max_dim", lambda x: tuple(gk.max(x, dim=1)), lambda x: (x.max(1), x.argmax(1)),
           make=distinct((3, 4))),
    OpSpec("max_dim", lambda x: tuple(gk.max(x, dim=0, keepdim=True)),
           lambda x: (x.max(0, keepdims=True), x.argmax(0)[None]), make=distinct((3, 4)), label="keepdim"),
    OpSpec("max_dim", lambda x: tuple(x.max(-1)), lambda x: (x.max(-1), x.argmax(-1)),
           make=distinct((2, 3, 2)), label="3d"),
    OpSpec("max_dim", lambda x: tuple(gk.max(x, 0)), lambda x: (x, np.int64(0)), shapes=[()], label="0d"),
    OpSpec("min_dim", lambda x: tuple(gk.min(x, dim=1)), lambda x: (x.min(1), x.argmin(1)),
           make=distinct((3, 4))),
    OpSpec("min_dim", lambda x: tuple(gk.min(x, dim=0, keepdim=True)),
           lambda x: (x.min(0, keepdims=True), x.argmin(0)[None]), make=distinct((3, 4)), label="keepdim"),
    OpSpec("median_dim", lambda x: tuple(gk.median(x, dim=1)), lambda x: _median_ref(x, 1),
           make=distinct((3, 4))),
    OpSpec("median_dim", lambda x: tuple(gk.median(x, dim=0)), lambda x: _median_ref(x, 0),
           make=distinct((3, 4)), label="odd"),
    OpSpec("median_dim", gk.median, lambda x: _median_ref(x.reshape(-1), 0)[0], make=distinct((3, 4)),
           label="full"),
    OpSpec("logsumexp", lambda x: gk.logsumexp(x, dim=1), lambda x: np.log(np.exp(x).sum(1)), label="dim"),
    OpSpec("logsumexp", lambda x: gk.logsumexp(x, dim=(0, 1), keepdim=True),
           lambda x: np.log(np.exp(x).sum((0, 1), keepdims=True)), label="dims-keepdim"),
    OpSpec("logsumexp", lambda x: gk.logsumexp(x, 0), lambda x: x, shapes=[()], label="0d"),
    OpSpec("logsumexp", lambda x: gk.logsumexp(x, 1), lambda x: np.full(2, -np.inf), shapes=[(2, 0)],
           label="empty"),
    OpSpec("var", gk.var, lambda x: x.var(ddof=1), label="full"),
    OpSpec("var", lambda x: gk.var(x, 0, correction=0), lambda x: x.var(), shapes=[()], label="0d-c0"),
    OpSpec("std_mean", lambda x: gk.var_mean(x, 1), lambda x: (x.var(1, ddof=1), x.mean(1)),
           label="var_mean"),
    OpSpec("std_mean", gk.std_mean, lambda x: (x.std(ddof=1), x.mean()), label="std_mean-full"),
    OpSpec("std_mean", lambda x: gk.std_mean(x, (0, 2), keepdim=True, correction=0),
           lambda x: (x.std((0, 2), keepdims=True), x.mean((0, 2), keepdims=True)), shapes=[(2, 3, 2)],
           label="std_mean-dims-keepdim"),
    OpSpec("var", lambda x: gk.var(x, dim=1, correction=0), lambda x: x.var(1), label="dim-c0"),
    OpSpec("var", lambda x: gk.var(x, dim=0, keepdim=True), lambda x: x.var(0, ddof=1, keepdims=True),
           label="dim-c1-keepdim"),
    OpSpec("std", gk.std, lambda x: x.std(ddof=1), label="full"),
    OpSpec("std", lambda x: gk.std(x, dim=1, unbiased=False), lambda x: x.std(1), label="dim-c0"),
    OpSpec("std", lambda x: gk.std(x, dim=(0, 2), keepdim=True, correction=1),
           lambda x: x.std((0, 2), ddof=1, keepdims=True), shapes=[(2, 3, 2)], label="dims-c1-keepdim"),
    OpSpec("norm", gk.norm, _norm_ref(2), label="p2-full"),
    OpSpec("norm", lambda x: gk.norm(x, 2, dim=1, keepdim=True), _norm_ref(2, 1, True), label="p2-dim"),
    OpSpec("norm", lambda x: gk.norm(x, 1), _norm_ref(1), make=signed((3, 4)), label="p1-full"),
    OpSpec("norm", lambda x: gk.norm(x, 1, dim=0), _norm_ref(1, 0), make=signed((3, 4)), label="p1-dim"),
    OpSpec("norm", lambda x: gk.norm(x, 3), _norm_ref(3), make=signed((3, 4)), label="p3-full"),
    OpSpec("norm", lambda x: gk.norm(x, 3, dim=1), _norm_ref(3, 1), make=signed((3, 4)), label="p3-dim"),
    OpSpec("norm", lambda x: gk.norm(x, float("inf")), _norm_ref(np.inf), make=distinct_abs((3, 4)),
           label="inf-full"),
    OpSpec("norm", lambda x: gk.norm(x, float("inf"), dim=1), _norm_ref(np.inf, 1),
           make=distinct_abs((3, 4)), label="inf-dim"),
    OpSpec("norm", lambda x: gk.norm(x, -float("inf"), dim=0), _norm_ref(-np.inf, 0),
           make=distinct_abs((3, 4)), label="neginf-dim"),
    # NOTE: the 0-"norm" (a count) has no gradient in PyTorch: backward leaves x.grad None. The spec
    # adds the 2-norm, so the checks see that the count contributes nothing.
    OpSpec("norm", lambda x: gk.norm(x, 0) + gk.norm(x, 2), lambda x: _norm_ref(0)(x) + _norm_ref(2)(x),
           make=signed((3, 4)), label="p0"),
    OpSpec("norm", lambda x: gk.norm(x, dim=(0, 2)), _norm_ref(2, (0, 2)), shapes=[(2, 3, 2)],
           label="p2-dims"),
    OpSpec("norm", lambda x: gk.norm(x, 1.5, dim=0), _norm_ref(1.5, 0), make=signed((3, 4)), label="p1.5"),
    OpSpec("norm", lambda x: gk.norm(x, dim=0), np.abs, shapes=[()], label="0d-dim"),
    OpSpec("dist", lambda x, y: gk.dist(x, y), lambda x, y: _norm_ref(2)(x - y), shapes=[(3, 4), (4,)],
           label="p2-broadcast"),
    OpSpec("dist", lambda x, y: gk.dist(x, y, 3), lambda x, y: _norm_ref(3)(x - y),
           make=lambda rng: [rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (3, 4)) + 5.0], label="p3"),
    OpSpec("dist", lambda x, y: gk.dist(x, y, 1), lambda x, y: _norm_ref(1)(x - y),
           make=lambda rng: [rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (3, 4)) + 5.0], label="p1"),
    OpSpec("cdist", lambda a, b: gk.cdist(a, b), lambda a, b: np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1)),
           shapes=[(4, 3), (5, 3)], label="p2"),
    OpSpec("cdist", lambda a, b: gk.cdist(a, b, 3),
           lambda a, b: (np.abs(a[..., :, None, :] - b[..., None, :, :]) ** 3).sum(-1) ** (1 / 3),
           shapes=[(2, 4, 3), (5, 3)], label="p3-broadcast"),
    OpSpec("pdist", lambda x: gk.nn.functional.pdist(x), lambda x: np.sqrt(
        ((x[np.triu_indices(4, 1)[0]] - x[np.triu_indices(4, 1)[1]]) ** 2).sum(1)), shapes=[(4, 3)]),
    OpSpec("pdist", lambda x: gk.nn.functional.pdist(x, 1.5), lambda x: (np.abs(
        x[np.triu_indices(4, 1)[0]] - x[np.triu_indices(4, 1)[1]]) ** 1.5).sum(1) ** (1 / 1.5),
        shapes=[(4, 3)], label="p1.5"),
    OpSpec("renorm", lambda x: gk.renorm(x, 2, 0, 1.0), lambda x: x * np.where(
        np.sqrt((x * x).sum(1, keepdims=True)) > 1.0, 1.0 / (np.sqrt((x * x).sum(1, keepdims=True)) + 1e-7),
        1.0), make=lambda rng: [rng.uniform(-2, 2, (3, 4)) * np.array([[1.0], [0.1], [1.0]])]),
    OpSpec("aminmax", lambda x: gk.aminmax(x), lambda x: (x.min(), x.max()), make=distinct((3, 4)),
           label="full"),
    OpSpec("aminmax", lambda x: tuple(gk.aminmax(x, dim=1, keepdim=True)),
           lambda x: (x.min(1, keepdims=True), x.max(1, keepdims=True)), make=distinct((3, 4)),
           label="dim"),
    OpSpec("logcumsumexp", lambda x: gk.logcumsumexp(x, 0), lambda x: np.log(np.exp(x).cumsum(0)),
           label="dim0"),
    OpSpec("logcumsumexp", lambda x: x.logcumsumexp(-1), lambda x: np.log(np.exp(x).cumsum(-1)),
           shapes=[(2, 3, 2)], label="3d"),
    OpSpec("logcumsumexp", lambda x: gk.logcumsumexp(x, 0), np.copy, shapes=[()], label="0d"),
    OpSpec("cumsum", lambda x: gk.cumsum(x, 0), lambda x: x.cumsum(0), label="dim0"),
    OpSpec("cumsum", lambda x: gk.cumsum(x, dim=-1), lambda x: x.cumsum(-1), label="dim1"),
    OpSpec("cumsum", lambda x: gk.cumsum(x, 1), lambda x: x.cumsum(1), shapes=[(2, 3, 2)], label="3d"),
    OpSpec("cumsum", lambda x: gk.cumsum(x, 0), np.copy, shapes=[()], label="0d"),
    OpSpec("cumprod", lambda x: gk.cumprod(x, 1), lambda x: x.cumprod(1), low=0.5, high=1.5),
    OpSpec("cumprod", lambda x: gk.cumprod(x, 0), lambda x: x.cumprod(0), low=-1.5, high=1.5, label="dim0"),
    OpSpec("cumprod", lambda x: gk.cumprod(x, 1), lambda x: x.cumprod(1),
           make=with_zeros((3, 4), [(0, 1), (1, 0), (1, 2), (2, 3)]), label="zeros"),
    OpSpec("cumprod", lambda x: gk.cumprod(x, 1), lambda x: x.cumprod(1), low=0.5, high=1.5,
           shapes=[(2, 3, 2)], label="3d"),
    OpSpec("cumprod", lambda x: gk.cumprod(x, 1), lambda x: x.cumprod(1), shapes=[(2, 0)], label="empty"),
]

NO_GRAD_REDUCTION_SPECS = [
    OpSpec("argmax", gk.argmax, np.argmax, grad=False, make=distinct((3, 4)), label="full"),
    OpSpec("argmax", lambda x: gk.argmax(x, dim=1), lambda x: x.argmax(1), grad=False,
           make=distinct((3, 4)), label="dim"),
    OpSpec("argmax", lambda x: gk.argmax(x, dim=0, keepdim=True), lambda x: x.argmax(0)[None],
           grad=False, make=distinct((3, 4)), label="keepdim"),
    OpSpec("argmin", gk.argmin, np.argmin, grad=False, make=distinct((3, 4)), label="full"),
    OpSpec("argmax", lambda x: gk.argmax(x, 0), lambda x: np.int64(0), grad=False, shapes=[()],
           label="0d-dim"),
    OpSpec("argmin", lambda x: gk.argmin(x, dim=-1), lambda x: x.argmin(-1), grad=False,
           make=distinct((3, 4)), label="dim"),
    OpSpec("all", gk.all, np.all, grad=False, kinds="b", label="full"),
    OpSpec("all", lambda x: gk.all(x, dim=1), lambda x: x.all(1), grad=False,
           make=lambda rng: [rng.random((3, 4)) < 0.8], label="dim"),
    OpSpec("any", gk.any, np.any, grad=False, kinds="b", label="full"),
    OpSpec("any", lambda x: gk.any(x, dim=0, keepdim=True), lambda x: x.any(0, keepdims=True),
           grad=False, make=lambda rng: [rng.random((3, 4)) < 0.2], label="dim-keepdim"),
]


SHAPE_SPECS = [
    OpSpec("reshape", lambda x: gk.reshape(x, (4, 3)), lambda x: x.reshape(4, 3)),
    OpSpec("reshape", lambda x: x.view(-1), lambda x: x.reshape(-1), label="view"),
    OpSpec("reshape", lambda x: x.t().reshape(2, 6), lambda x: x.T.reshape(2, 6), label="noncontiguous"),
    OpSpec("reshape", lambda x: gk.flatten(x, 1), lambda x: x.reshape(2, 6), shapes=[(2, 3, 2)],
           label="flatten"),
    OpSpec("reshape", lambda x: gk.squeeze(x), lambda x: x.squeeze(), shapes=[(3, 1, 4)], label="squeeze"),
    OpSpec("reshape", lambda x: gk.squeeze(x, 1), lambda x: x.squeeze(1), shapes=[(3, 1, 1)],
           label="squeeze-dim"),
    OpSpec("reshape", lambda x: gk.unsqueeze(x, -1), lambda x: x[..., None], label="unsqueeze"),
    OpSpec("reshape", lambda x: gk.squeeze(x, (0, 2)), lambda x: x.squeeze((0, 2)), shapes=[(1, 3, 1)],
           label="squeeze-dims"),
    OpSpec("reshape", lambda x: gk.unflatten(x, 1, (2, 2)), lambda x: x.reshape(3, 2, 2), label="unflatten"),
    OpSpec("reshape", lambda x: x.reshape(1, 1), lambda x: x.reshape(1, 1), shapes=[()], label="0d"),
    OpSpec("expand", lambda x: gk.expand(x, 3, 4), lambda x: np.broadcast_to(x, (3, 4)), shapes=[(3, 1)]),
    OpSpec("expand", lambda x: x.expand(2, -1, 4), lambda x: np.broadcast_to(x, (2, 3, 4)),
           shapes=[(3, 1)], label="new-dim"),
    OpSpec("expand", lambda x: gk.broadcast_to(x, (3, 4)), lambda x: np.broadcast_to(x, (3, 4)),
           shapes=[(4,)], label="broadcast_to"),
    OpSpec("expand", lambda x: x.expand(2, 3), lambda x: np.broadcast_to(x, (2, 3)), shapes=[()], label="0d"),
    OpSpec("permute", lambda x: gk.permute(x, (2, 0, 1)), lambda x: x.transpose(2, 0, 1),
           shapes=[(2, 3, 4)]),
    OpSpec("permute", lambda x: gk.transpose(x, 0, -1), lambda x: x.swapaxes(0, -1), shapes=[(2, 3, 4)],
           label="transpose"),
    OpSpec("permute", gk.t, lambda x: x.T, label="t"),
    OpSpec("permute", lambda x: gk.movedim(x, 0, 2), lambda x: np.moveaxis(x, 0, 2), shapes=[(2, 3, 4)],
           label="movedim"),
    OpSpec("flip", lambda x: gk.flip(x, 0), lambda x: np.flip(x, 0)),
    OpSpec("flip", lambda x: gk.flip(x, (0, -1)), lambda x: np.flip(x, (0, 2)), shapes=[(2, 3, 2)],
           label="dims"),
    OpSpec("rot90", lambda x: gk.rot90(x), np.rot90, shapes=[(2, 3)]),
    OpSpec("rot90", lambda x: gk.rot90(x, -1, (2, 0)), lambda x: np.rot90(x, -1, (2, 0)),
           shapes=[(2, 3, 4)], label="k-1-dims"),
    OpSpec("pixel_shuffle", lambda x: gk.nn.functional.pixel_shuffle(x, 2),
           lambda x: x.reshape(2, 2, 2, 2, 3).transpose(0, 3, 1, 4, 2).reshape(2, 4, 6),
           shapes=[(8, 2, 3)]),
    OpSpec("pixel_unshuffle", lambda x: gk.nn.functional.pixel_unshuffle(x, 2),
           lambda x: x.reshape(1, 1, 2, 2, 2, 2).transpose(0, 1, 3, 5, 2, 4).reshape(1, 4, 2, 2),
           shapes=[(1, 1, 4, 4)]),
    OpSpec("roll", lambda x: gk.roll(x, 1, 0), lambda x: np.roll(x, 1, 0)),
    OpSpec("roll", lambda x: gk.roll(x, (1, -2), (0, 1)), lambda x: np.roll(x, (1, -2), (0, 1)),
           label="dims"),
    OpSpec("roll", lambda x: gk.roll(x, 5), lambda x: np.roll(x, 5), label="flat"),
    OpSpec("repeat", lambda x: x.repeat(2, 1), lambda x: np.tile(x, (2, 1)), shapes=[(2, 3)]),
    OpSpec("repeat", lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)), shapes=[(2, 2)],
           label="new-dim"),
    OpSpec("repeat", lambda x: gk.tile(x, (2,)), lambda x: np.tile(x, 2), shapes=[(2, 3)], label="tile"),
    OpSpec("tril", gk.tril, np.tril),
    OpSpec("tril", lambda x: gk.tril(x, -1), lambda x: np.tril(x, -1), label="offset"),
    OpSpec("triu", gk.triu, np.triu),
    OpSpec("triu", lambda x: gk.triu(x, 1), lambda x: np.triu(x, 1), label="offset"),
    OpSpec("clone", gk.clone, np.copy),
    OpSpec("to", lambda x: x.to(x.dtype, copy=True), np.copy),
    # a device copy between NumPy placements is the identity (tests/test_backends.py moves
    # data between real libraries)
    OpSpec("to_device", lambda x: S.to_device_p(x, target=(None, None), source=(None, None)),
           np.copy),
    OpSpec("cat", lambda x, y: gk.cat([x, y]), lambda x, y: np.concatenate([x, y]), shapes=[(2, 3), (1, 3)]),
    OpSpec("cat", lambda x, y, z: gk.cat([x, y, z], dim=-1), lambda x, y, z: np.concatenate([x, y, z], -1),
           shapes=[(2, 1), (2, 3), (2, 2)], label="three"),
    OpSpec("cat", lambda x, y: gk.hstack([x, y]), lambda x, y: np.hstack([x, y]), shapes=[(3,), (2,)],
           label="hstack"),
    OpSpec("stack", lambda x, y: gk.stack([x, y]), lambda x, y: np.stack([x, y]), shapes=[(2, 3), (2, 3)]),
    OpSpec("stack", lambda x, y, z: gk.stack([x, y, z], dim=-1), lambda x, y, z: np.stack([x, y, z], -1),
           shapes=[(2, 3)] * 3, label="last"),
    OpSpec("split", lambda x: gk.split(x, 3, dim=1), _split_ref([3, 1], 1), label="size"),
    OpSpec("split", lambda x: gk.split(x, [1, 2], dim=0), _split_ref([1, 2], 0), label="sections"),
    OpSpec("split", lambda x: gk.chunk(x, 2, dim=1), _split_ref([2, 2], 1), label="chunk"),
    OpSpec("getitem", lambda x: gk.tensor_split(x, 3, dim=1), _split_ref([2, 1, 1], 1), label="tensor_split"),
    OpSpec("unbind", lambda x: gk.unbind(x), lambda x: tuple(x)),
    OpSpec("unbind", lambda x: gk.unbind(x, dim=1), lambda x: tuple(x.T), label="dim1"),
    OpSpec("cat", lambda x, y: gk.cat([x, y]), lambda x, y: np.concatenate([x, y]), shapes=[(0, 3), (2, 3)],
           label="empty"),
    OpSpec("split", lambda x: gk.split(x, [0, 3]), _split_ref([0, 3], 0), label="empty-piece"),
    OpSpec("getitem", lambda x: x[1], lambda x: x[1], label="int"),
    OpSpec("getitem", lambda x: x[:, 1:3], lambda x: x[:, 1:3], label="slice"),
    OpSpec("getitem", lambda x: x[None, ..., ::2], lambda x: x[None, ..., ::2], label="none-ellipsis-step"),
    OpSpec("getitem", lambda x: x[-1, 2], lambda x: x[-1, 2], label="scalar"),
    OpSpec("getitem", lambda x: x[[0, 2, 0]], lambda x: x[[0, 2, 0]], label="list-repeat"),
    OpSpec("getitem", lambda x: x[[0, 1], [3, 3]], lambda x: x[[0, 1], [3, 3]], label="two-arrays"),
    OpSpec("getitem", lambda x: x[1:, [0, 2]], lambda x: x[1:, [0, 2]], label="mixed"),
    OpSpec("getitem", lambda x, m: x[m], lambda x, m: x[m], args=(_MASK,), label="bool"),
    OpSpec("getitem", lambda x, m: x[gk.tensor(m)], lambda x, m: x[m], args=(_MASK[:, 0],), label="bool-row"),
    OpSpec("getitem", lambda x: gk.narrow(x, 1, 1, 2), lambda x: x[:, 1:3], label="narrow"),
    OpSpec("getitem", lambda x, i: gk.index_select(x, 1, i), lambda x, i: x[:, i],
           args=(np.array([3, 0, 3]),), label="index_select"),
    OpSpec("getitem", lambda x, m: gk.masked_select(x, m), lambda x, m: x[m], args=(_MASK,),
           label="masked_select"),
    OpSpec("getitem", lambda x, m: gk.masked_select(x, m), lambda x, m: np.broadcast_to(x, (3, 4))[m],
           shapes=[(4,)], args=(_MASK,), label="masked_select-broadcast"),
    OpSpec("getitem", lambda x, i: gk.take(x, i), lambda x, i: x.reshape(-1)[i],
           args=(np.array([[0, 11], [5, 5]]),), label="take"),
    OpSpec("getitem", lambda x: gk.repeat_interleave(x, gk.tensor([2, 1]), 0),
           lambda x: np.repeat(x, [2, 1], 0), shapes=[(2, 3)], label="repeat_interleave"),
    OpSpec("expand", lambda x: gk.repeat_interleave(x, 2, 1), lambda x: np.repeat(x, 2, 1),
           shapes=[(2, 3)], label="repeat_interleave"),
    OpSpec("getitem", lambda x: x[None], lambda x: x[None], shapes=[()], label="0d"),
    OpSpec("getitem", lambda x: x[gk.tensor([2, 0])], lambda x: x[[2, 0]], label="tensor-index"),
    OpSpec("getitem", lambda x: x[1:1], lambda x: x[1:1], label="empty-slice"),
    OpSpec("refuse", lambda x: S.refuse_p(x, msg="no second derivative here"), lambda x: x,
           refused="no second derivative here"),
    OpSpec("index_backward", lambda g: S.index_backward_p(g, shape=(3, 4), index=(slice(None), 1)),
           _index_backward_ref((3, 4), (slice(None), 1)), shapes=[(3,)], label="basic"),
    OpSpec("index_backward", lambda g: S.index_backward_p(g, shape=(3, 4), index=np.array([0, 2, 0])),
           _index_backward_ref((3, 4), np.array([0, 2, 0])), shapes=[(3, 4)], label="advanced"),
    OpSpec("index_put", _setitem((slice(None), 1)), _setitem_ref((slice(None), 1)),
           shapes=[(3, 4), (3,)], label="slice"),
    OpSpec("index_put", _setitem((0, slice(1, 3))), _setitem_ref((0, slice(1, 3))),
           shapes=[(3, 4), (1,)], label="broadcast"),
    OpSpec("index_put", _setitem(([0, 2], [1, 3])), _setitem_ref(([0, 2], [1, 3])),
           shapes=[(3, 4), (2,)], label="advanced"),
    OpSpec("index_put", lambda x, m: _setitem(m)(x, 0.5), lambda x, m: _setitem_ref(m)(x, 0.5),
           args=(_MASK,), label="bool-number"),
    OpSpec("index_put", lambda x, v, m: _setitem(m)(x, v), lambda x, v, m: _setitem_ref(m)(x, v),
           shapes=[(3, 4), (int(_MASK.sum()),)], args=(_MASK,), label="bool-tensor"),
    OpSpec("index_put", lambda x, v, m: _setitem(m)(x, v), lambda x, v, m: _setitem_ref(m)(x, v),
           shapes=[(3, 4), ()], args=(_MASK,), label="bool-0d-tensor"),
    OpSpec("index_put", _setitem((Ellipsis, 0)), _setitem_ref((Ellipsis, 0)), shapes=[(2, 3), (2,)],
           label="ellipsis"),
    OpSpec("gather", lambda x, i: gk.gather(x, 0, i), lambda x, i: np.take_along_axis(x, i, 0),
           args=(_IDX,), label="dim0"),
    OpSpec("gather", lambda x, i: gk.gather(x, 1, i), lambda x, i: np.take_along_axis(x, i, 1),
           args=(_IDX1,), label="dim1"),
    OpSpec("gather", lambda x, i: gk.take_along_dim(x, i, 2), lambda x, i: np.take_along_axis(x, i, 2),
           shapes=[(2, 3, 2)], args=(np.zeros((2, 3, 1), np.int64),), label="take_along_dim-3d"),
    OpSpec("gather", lambda x: gk.sort(x, 1).values, lambda x: np.sort(x, 1), make=distinct((3, 4)),
           label="sort"),
    OpSpec("gather", lambda x: gk.sort(x, 0, descending=True).values, lambda x: -np.sort(-x, 0),
           make=distinct((3, 4)), label="sort-descending"),
    OpSpec("gather", lambda x: gk.topk(x, 2).values, lambda x: -np.sort(-x, 1)[:, :2], make=distinct((3, 4)),
           label="topk"),
    OpSpec("scatter", lambda x, s, i: gk.scatter(x, 1, i, s), lambda x, s, i: _scatter_ref(x, 1, i, s),
           shapes=[(3, 4), (3, 4)], args=(_PERM[:, :3],), label="src"),
    OpSpec("scatter", lambda x, s, i: gk.scatter(x, 1, i, s), lambda x, s, i: _scatter_ref(x, 1, i, s),
           shapes=[(3, 4), (3, 5)], args=(_PERM[:, :2],), label="src-larger"),
    OpSpec("scatter", lambda x, i: gk.scatter(x, 1, i, value=0.5),
           lambda x, i: _scatter_ref(x, 1, i, 0.5), args=(_PERM[:, :2],), label="value"),
    OpSpec("index_add", lambda x, s, i: gk.index_add(x, 0, i, s),
           lambda x, s, i: _index_add_ref(x, 0, i, s), shapes=[(3, 4), (4, 4)],
           args=(np.array([0, 2, 0, 1]),), label="dim0-repeats"),
    OpSpec("index_add", lambda x, s, i: x.index_add(1, i, s, alpha=-2.0),
           lambda x, s, i: _index_add_ref(x, 1, i, -2.0 * s), shapes=[(3, 4), (3, 2)],
           args=(np.array([3, 1]),), label="dim1-alpha"),
    OpSpec("index_copy", lambda x, s, i: gk.index_copy(x, 1, i, s),
           lambda x, s, i: _index_copy_ref(x, 1, i, s), shapes=[(3, 4), (3, 2)],
           args=(np.array([3, 0]),), label="dim1"),
    OpSpec("index_copy", lambda x, s, i: x.index_copy(0, i, s),
           lambda x, s, i: _index_copy_ref(x, 0, i, s), shapes=[(3, 4), (2, 4)],
           args=(np.array([1, 2]),), label="dim0"),
    OpSpec("put", lambda x, s, i: gk.put(x, gk.tensor(i), s), lambda x, s, i: _put_ref(x, i, s, False),
           shapes=[(3, 4), (2, 2)], args=(np.array([[0, 11], [5, 7]]),)),
    OpSpec("put", lambda x, s, i: gk.put(x, gk.tensor(i), s, accumulate=True),
           lambda x, s, i: _put_ref(x, i, s, True), shapes=[(3, 4), (4,)],
           args=(np.array([1, 1, 6, 1]),), label="accumulate-repeats"),
    OpSpec("masked_scatter", lambda x, s: gk.masked_scatter(x, gk.tensor(_MS_MASK), s),
           lambda x, s: _masked_scatter_ref(x, _MS_MASK, s), shapes=[(3, 4), (9,)]),
    OpSpec("scatter_add", lambda x, s, i: gk.scatter_add(x, 0, i, s),
           lambda x, s, i: _scatter_add_ref(x, s, 0, i), shapes=[(3, 4), (2, 4)], args=(_IDX,),
           label="dim0"),
    *[OpSpec("scatter_reduce",
             lambda x, s, i, r=r, inc=inc: gk.scatter_reduce(x, 1, i, s, r, include_self=inc),
             lambda x, s, i, r=r, inc=inc: _scatter_reduce_ref(x, s, 1, i, r, inc),
             make=distinct((3, 4), (3, 5)), args=(_IDX1,), label=f"{r}-{'self' if inc else 'noself'}")
      for r in ("sum", "mean", "amax", "amin", "prod") for inc in (True, False)],
    OpSpec("scatter_reduce", lambda x, s, i: x.scatter_reduce(0, i, s, "mean"),
           lambda x, s, i: _scatter_reduce_ref(x, s, 0, i, "mean", True), shapes=[(3, 4), (2, 4)],
           args=(_IDX,), label="dim0-mean"),
    OpSpec("scatter_add", lambda x, s, i: gk.scatter_add(x, 1, i, s),
           lambda x, s, i: _scatter_add_ref(x, s, 1, i), shapes=[(3, 4), (3, 5)], args=(_IDX1,),
           label="dim1-src-larger"),
    OpSpec("masked_fill", lambda x, m: gk.masked_fill(x, gk.tensor(m), 0.5), lambda x, m: np.where(m, 0.5, x),
           args=(_MASK,), label="number"),
    OpSpec("masked_fill", lambda x, v: x.index_fill(1, gk.tensor([3, 0, 3]), v),
           lambda x, v: np.where(np.arange(4) % 3 == 0, v, x), shapes=[(3, 4), ()],
           label="index_fill-tensor"),
    OpSpec("masked_fill", lambda x, v, m: x.masked_fill(gk.tensor(m), v), lambda x, v, m: np.where(m, v, x),
           shapes=[(3, 4), ()], args=(_MASK[0],), label="tensor-broadcast"),
    OpSpec("diagonal", gk.diagonal, np.diagonal),
    OpSpec("diagonal", lambda x: gk.diagonal(x, 1), lambda x: np.diagonal(x, 1), label="offset"),
    OpSpec("diagonal", lambda x: gk.diagonal(x, -1, 1, 2), lambda x: np.diagonal(x, -1, 1, 2),
           shapes=[(2, 3, 3)], label="3d"),
    OpSpec("diagonal", lambda x: gk.diag(x), np.diag, label="diag"),
    OpSpec("diagonal_backward",
           lambda g: S.diagonal_backward_p(g, shape=(3, 4), offset=1, dim1=0, dim2=1),
           _diagonal_backward_ref((3, 4), 1, 0, 1), shapes=[(3,)]),
    OpSpec("diagonal_backward",
           lambda g: S.diagonal_backward_p(g, shape=(2, 3, 3), offset=0, dim1=1, dim2=2),
           _diagonal_backward_ref((2, 3, 3), 0, 1, 2), shapes=[(2, 3)], label="3d"),
    OpSpec("unfold", lambda x: x.unfold(1, 3, 2), _unfold_ref(1, 3, 2), shapes=[(2, 7)]),
    OpSpec("unfold", lambda x: x.unfold(0, 2, 1), _unfold_ref(0, 2, 1), shapes=[(4, 3)],
           label="overlapping"),
    OpSpec("unfold_backward", lambda g: S.unfold_backward_p(g, shape=(4, 3), dim=0, size=2, step=1),
           _unfold_backward_ref((4, 3), 0, 2, 1), shapes=[(3, 3, 2)]),
    OpSpec("as_strided", lambda x: x.as_strided((3, 2), (1, 2), 1), _as_strided_ref((3, 2), (1, 2), 1),
           shapes=[(2, 4)]),
    OpSpec("as_strided_backward",
           lambda g: S.as_strided_backward_p(g, shape=(2, 4), size=(3, 2), stride=(1, 2), offset=1),
           _as_strided_backward_ref((2, 4), (3, 2), (1, 2), 1), shapes=[(3, 2)]),
    OpSpec("diag_embed", gk.diag, np.diag, shapes=[(3,)]),
    OpSpec("diag_embed", lambda x: gk.diag(x, 1), lambda x: np.diag(x, 1), shapes=[(3,)], label="offset"),
    OpSpec("diag_embed", lambda x: gk.diag_embed(x, -1), lambda x: np.diag(x, -1), shapes=[(2,)],
           label="diag_embed"),
    OpSpec("trace", gk.trace, np.trace),
    OpSpec("trace", gk.trace, np.trace, shapes=[(3, 3)], label="square"),
]

LINALG_SPECS = [
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(3,), (3,)], label="1d-1d"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(3,), (3, 2)], label="1d-2d"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(2, 3), (3,)], label="2d-1d"),
    OpSpec("matmul", lambda x, y: x @ y, np.matmul, shapes=[(2, 3), (3, 4)], label="2d-2d"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(2, 2, 3), (3, 2)], label="3d-2d"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(2, 3), (2, 3, 2)], label="2d-3d"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(3,), (2, 3, 2)], label="1d-3d"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(2, 2, 3), (3,)], label="3d-1d"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(2, 2, 3), (2, 3, 2)], label="3d-3d"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(2, 1, 2, 3), (3, 3, 2)], label="broadcast-batch"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(1, 2, 3), (2, 3, 2)], label="broadcast-one"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(3,), (2, 1, 3, 2)], label="1d-4d"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(2, 1, 2, 3), (3,)], label="4d-1d"),
    OpSpec("matmul", gk.matmul, np.matmul, shapes=[(2, 0), (0, 3)], label="empty-inner"),
    OpSpec("matmul", gk.mm, np.matmul, shapes=[(2, 3), (3, 2)], label="mm"),
    OpSpec("matmul", gk.bmm, np.matmul, shapes=[(2, 2, 3), (2, 3, 2)], label="bmm"),
    OpSpec("matmul", gk.mv, np.matmul, shapes=[(2, 3), (3,)], label="mv"),
    OpSpec("matmul", gk.dot, np.dot, shapes=[(4,), (4,)], label="dot"),
    OpSpec("matmul", lambda x, y: gk.tensordot(x, y, 1), _tensordot_ref(1), shapes=[(2, 3), (3, 2)],
           label="tensordot-1"),
    OpSpec("matmul", lambda x, y: gk.tensordot(x, y, 2), _tensordot_ref(2), shapes=[(2, 2, 3), (2, 3)],
           label="tensordot-2"),
    OpSpec("matmul", lambda x, y: gk.tensordot(x, y, ([0, 2], [1, 0])), _tensordot_ref(([0, 2], [1, 0])),
           shapes=[(2, 3, 2), (2, 2, 2)], label="tensordot-lists"),
    _einsum("ij,jk->ik", (2, 3), (3, 2), label="mm"),
    _einsum("ij,jk->ik", (2, 0), (0, 3), label="empty"),
    _einsum("bij,bjk->bik", (2, 2, 3), (2, 3, 2), label="bmm"),
    _einsum("ij->ji", (3, 4), label="transpose"),
    _einsum("ijk->kji", (2, 3, 2), label="permute"),
    _einsum("ij->", (3, 4), label="sum"),
    _einsum("ijk->j", (2, 3, 2), label="partial-sum"),
    _einsum("i,j->ij", (3,), (2,), label="outer"),
    _einsum("bi,bi->b", (3, 4), (3, 4), label="rowdot"),
    _einsum("ji,jk->ki", (3, 2), (3, 2), label="reordered"),
    _einsum("i,ij,j->", (2,), (2, 3), (3,), label="bilinear"),
    _einsum("ij,->ij", (2, 3), (), label="scalar"),
    _einsum("ij,jk", (2, 3), (3, 2), label="implicit"),
    _einsum("...ij,...jk->...ik", (2, 2, 3), (2, 3, 2), label="ellipsis"),
    _einsum("...ij,...jk->...ik", (1, 2, 3), (2, 3, 2), label="ellipsis-broadcast"),
    _einsum("...ij,jk->...ik", (2, 2, 3), (3, 2), label="ellipsis-one"),
    _einsum("i...->...", (2, 3, 2), label="ellipsis-sum"),
    _einsum("...j,j", (2, 3), (3,), label="ellipsis-implicit"),
    _einsum("ij,jk,kl->il", (2, 3), (3, 2), (2, 2), label="three"),
    _einsum("ii->", (3, 3), label="trace"),
    _einsum("ii->i", (3, 3), label="diagonal"),
    _einsum("bii->bi", (2, 3, 3), label="batch-diagonal"),
    _einsum("iji->j", (2, 3, 2), label="diagonal-outer-dims"),
    _einsum("ij,jj->i", (2, 3), (3, 3), label="diagonal-product"),
]

# --- complex parts: real in, real out through complex intermediates ----------------------
# gradcheck perturbs real inputs, so routing them through view_as_complex / complex and back
# checks the complex rules (and PyTorch's conj convention) end to end.
def _vc(x: Any) -> Any:
    return x[..., 0] + 1j * x[..., 1]


def _vr(z: Any) -> Any:
    return np.stack([np.real(z), np.imag(z)], axis=-1)


def _right_half_plane(rng: np.random.Generator) -> list[np.ndarray]:
    """(re, im) pairs with re > 0: clear of angle's branch cut and of the origin."""
    return [np.stack([rng.uniform(0.3, 2.0, (3, 4)), rng.uniform(-2.0, 2.0, (3, 4))], axis=-1)]


_Z = lambda x: gk.view_as_complex(x)  # noqa: E731

COMPLEX_SPECS = [
    OpSpec("complex", lambda x, y: gk.view_as_real(gk.complex(x, y) * gk.complex(y, x)),
           lambda x, y: _vr((x + 1j * y) * (y + 1j * x)), shapes=[(3, 4), (4,)]),
    OpSpec("view_as_complex", lambda x: gk.view_as_real(_Z(x) * _Z(x) / (_Z(x) + 3.0)),
           lambda x: _vr(_vc(x) * _vc(x) / (_vc(x) + 3.0)), shapes=[(3, 2)], low=0.2, high=1.5),
    OpSpec("view_as_real", lambda x: gk.view_as_real(gk.exp(_Z(x))) ** 2,
           lambda x: _vr(np.exp(_vc(x))) ** 2, shapes=[(4, 2)]),
    OpSpec("conj", lambda x: gk.view_as_real(gk.conj(_Z(x)) * gk.sin(_Z(x))),
           lambda x: _vr(np.conj(_vc(x)) * np.sin(_vc(x))), shapes=[(3, 2)]),
    OpSpec("conj", lambda x: gk.view_as_real(gk.conj_physical(_Z(x)) ** 3),
           lambda x: _vr(np.conj(_vc(x)) ** 3), shapes=[(3, 2)], label="physical"),
    OpSpec("real", lambda x: _E.real(_Z(x) * _Z(x)), lambda x: np.real(_vc(x) ** 2),
           shapes=[(3, 4, 2)]),
    OpSpec("imag", lambda x: _E.imag(gk.log(_Z(x)) * _Z(x)), lambda x: np.imag(np.log(_vc(x)) * _vc(x)),
           make=_right_half_plane),
    OpSpec("angle", lambda x: gk.angle(_Z(x)), lambda x: np.angle(_vc(x)), make=_right_half_plane),
    OpSpec("angle", gk.angle, np.angle, make=signed((3, 4)), label="real"),
    OpSpec("polar", lambda r, t: gk.view_as_real(gk.polar(r, t)),
           lambda r, t: _vr(r * np.exp(1j * t)),
           # NOTE: abs > 0: PyTorch's rule (copied) uses sgn(result), wrong in sign for abs < 0
           make=lambda rng: [rng.uniform(0.3, 2.0, (3, 4)), rng.uniform(-3.0, 3.0, (4,))]),
]

# --- Fourier transforms: real views in and out of the three FFT rows ---------------------
FFT_SPECS = [
    OpSpec("fft_r2c", lambda x: gk.view_as_real(gk.fft.rfft(x)), lambda x: _vr(np.fft.rfft(x)),
           shapes=[(3, 6)], label="onesided"),
    OpSpec("fft_r2c", lambda x: gk.view_as_real(gk.fft.fft(x, n=5, norm="ortho")),
           lambda x: _vr(np.fft.fft(x, n=5, norm="ortho")), shapes=[(3, 6)], label="full-cropped"),
    OpSpec("fft_r2c", lambda x: gk.view_as_real(gk.fft.rfftn(x, s=(4, 7), dim=(0, 1))),
           lambda x: _vr(np.fft.rfftn(x, s=(4, 7), axes=(0, 1))), shapes=[(3, 6)], label="2d-padded"),
    OpSpec("fft_c2c", lambda x: gk.view_as_real(gk.fft.fft2(_Z(x), s=(2, 6))),
           lambda x: _vr(np.fft.fft2(_vc(x), s=(2, 6))), shapes=[(3, 5, 2)]),
    OpSpec("fft_c2c", lambda x: gk.view_as_real(gk.fft.ifft(_Z(x), n=7, norm="forward")),
           lambda x: _vr(np.fft.ifft(_vc(x), n=7, norm="forward")), shapes=[(3, 5, 2)], label="inverse"),
    OpSpec("fft_c2r", lambda x: gk.fft.irfft(_Z(x), n=7), lambda x: np.fft.irfft(_vc(x), n=7),
           shapes=[(3, 4, 2)]),
    OpSpec("fft_c2r", lambda x: gk.fft.irfftn(_Z(x), s=(3, 6), dim=(0, 1), norm="ortho"),
           lambda x: np.fft.irfftn(_vc(x), s=(3, 6), axes=(0, 1), norm="ortho"), shapes=[(4, 3, 2)],
           label="2d"),
]

#: every spec; the generic tests run each one
OP_SPECS: list[OpSpec] = (ELEMENTWISE_SPECS + NO_GRAD_ELEMENTWISE_SPECS + REDUCTION_SPECS
                          + NO_GRAD_REDUCTION_SPECS + SHAPE_SPECS + LINALG_SPECS + COMPLEX_SPECS
                          + FFT_SPECS)

# Families defined in their own files (they import OpSpec and the makers from here).
from op_specs_linalg import LINALG_EXTRA_SPECS  # noqa: E402
from op_specs_nn import NN_SPECS  # noqa: E402

OP_SPECS = OP_SPECS + LINALG_EXTRA_SPECS + NN_SPECS

# --- scipy.special rows (gradkit/ops/special.py), checked against SciPy itself ------------
import scipy.special as _sps  # noqa: E402

from gradkit.ops import special as _SP  # noqa: E402


def _mp_gammainc_da(a: Any, x: Any) -> np.ndarray:
    import mpmath
    with mpmath.workdps(30):
        return np.vectorize(lambda a, x: float(mpmath.diff(
            lambda t: mpmath.gammainc(t, 0, x, regularized=True), a)))(a, x)

SPECIAL_SPECS = [
    OpSpec("gamma", _SP.gamma, _sps.gamma, low=0.3, high=3.0),
    OpSpec("gamma", _SP.gamma, _sps.gamma, low=-0.8, high=-0.2, label="negative"),
    OpSpec("rgamma", _SP.rgamma, _sps.rgamma, low=0.3, high=3.0),
    OpSpec("gammasgn", _SP.gammasgn, _sps.gammasgn, make=avoiding((3, 4), [-2.0, -1.0, 0.0])),
    OpSpec("gammainc", lambda x, a: _SP.gammainc(a, x), lambda x, a: _sps.gammainc(a, x),
           args=(2.5,), low=0.3, high=4.0),
    OpSpec("gammaincc", lambda x, a: _SP.gammaincc(a, x), lambda x, a: _sps.gammaincc(a, x),
           args=(1.5,), low=0.3, high=4.0),
    OpSpec("betainc", lambda x, a, b: _SP.betainc(a, b, x), lambda x, a, b: _sps.betainc(a, b, x),
           args=(2.5, 1.5), low=0.1, high=0.9),
    OpSpec("zeta", lambda q, x: _SP.zeta(x, q), lambda q, x: _sps.zeta(x, q), args=(2.5,),
           low=0.5, high=3.0),
    OpSpec("erfcinv", _SP.erfcinv, _sps.erfcinv, low=0.1, high=1.9),
    OpSpec("ndtri", _SP.ndtri, _sps.ndtri, low=0.05, high=0.95),
    OpSpec("log_ndtr", _SP.log_ndtr, _sps.log_ndtr, low=-6.0, high=3.0),
    OpSpec("erfcx", _SP.erfcx, _sps.erfcx, low=-1.0, high=3.0),
    OpSpec("i0", _SP.i0, _sps.i0, low=-3.0, high=3.0),
    OpSpec("i1", _SP.i1, _sps.i1, low=-3.0, high=3.0),
    OpSpec("i0e", _SP.i0e, _sps.i0e, make=signed((3, 4), lo=0.2, hi=3.0)),
    OpSpec("i1e", _SP.i1e, _sps.i1e, make=signed((3, 4), lo=0.2, hi=3.0)),
    OpSpec("iv", lambda x, v: _SP.iv(v, x), lambda x, v: _sps.iv(v, x), args=(1.5,), low=0.3,
           high=4.0),
    OpSpec("iv", _SP.iv, _sps.iv, kinds="if", shapes=[(4,), (3, 4)], low=0.3, high=4.0,
           label="int-order"),
    OpSpec("ive", lambda x, v: _SP.ive(v, x), lambda x, v: _sps.ive(v, x), args=(1.0,),
           make=signed((3, 4), lo=0.2, hi=4.0)),
    OpSpec("jv", lambda x, v: _SP.jv(v, x), lambda x, v: _sps.jv(v, x), args=(2.0,), low=0.3,
           high=6.0),
    OpSpec("yv", lambda x, v: _SP.yv(v, x), lambda x, v: _sps.yv(v, x), args=(1.0,), low=0.5,
           high=6.0),
    OpSpec("entr", _SP.entr, _sps.entr, low=0.2, high=3.0),
    OpSpec("xlog1py", _SP.xlog1py, _sps.xlog1py, make=then(uniform((3, 4)), uniform((4,), low=-0.7))),
    OpSpec("kv", lambda x, v: _SP.kv(v, x), lambda x, v: _sps.kv(v, x), args=(1.5,), low=0.3,
           high=4.0),
    OpSpec("kve", lambda x, v: _SP.kve(v, x), lambda x, v: _sps.kve(v, x), args=(0.5,), low=0.3,
           high=4.0),
    OpSpec("exp1", _SP.exp1, _sps.exp1, low=0.2, high=3.0),
    OpSpec("expi", _SP.expi, _sps.expi, low=0.2, high=3.0),
    OpSpec("expn", lambda x, n: _SP.expn(n, x), lambda x, n: _sps.expn(n, x),
           args=(np.array([0, 1, 2, 5]),), low=0.3, high=3.0),
    OpSpec("dawsn", _SP.dawsn, _sps.dawsn),
    OpSpec("erfi", _SP.erfi, _sps.erfi, low=-1.5, high=1.5),
    OpSpec("spence", _SP.spence, _sps.spence, low=0.2, high=3.0),
    OpSpec("ellipk", _SP.ellipk, _sps.ellipk, low=0.05, high=0.9),
    OpSpec("ellipe", _SP.ellipe, _sps.ellipe, low=0.05, high=0.9),
    OpSpec("hyp1f1", lambda x, a, b: _SP.hyp1f1(a, b, x), lambda x, a, b: _sps.hyp1f1(a, b, x),
           args=(1.5, 2.5)),
    OpSpec("gammaincinv", lambda y, a: _SP.gammaincinv(a, y), lambda y, a: _sps.gammaincinv(a, y),
           args=(2.5,), low=0.1, high=0.9),
    OpSpec("gammainccinv", lambda y, a: _SP.gammainccinv(a, y),
           lambda y, a: _sps.gammainccinv(a, y), args=(1.5,), low=0.1, high=0.9),
    OpSpec("betaincinv", lambda y, a, b: _SP.betaincinv(a, b, y),
           lambda y, a, b: _sps.betaincinv(a, b, y), args=(2.0, 1.5), low=0.1, high=0.9),
    # d/da of the regularized incomplete gamma function, against mpmath's numerical derivative
    # at 30 digits (mpmath comes with SymPy, in the test extra)
    OpSpec("gammainc_da", lambda x, a: _SP.gammainc_da(a, x), lambda x, a: _mp_gammainc_da(a, x),
           args=(2.5,), low=0.2, high=4.0),
    # Gamma quantiles differentiable in the shape too (second order in the shape refused)
    OpSpec("gamma_reparam", _SP.gamma_reparam, _sps.gammaincinv, second_order=False,
           make=lambda rng: [rng.uniform(0.5, 3.0, (3, 4)), rng.uniform(0.1, 0.9, (3, 4))]),
    OpSpec("airy_ai", _SP.airy_ai, lambda x: _sps.airy(x)[0], grad=False, low=-4.0, high=3.0),
]


def _cheb_v(n: Any, x: Any) -> Any:
    """Chebyshev polynomials of the third and fourth kind from the second kind (SciPy has
    only T and U): ``V_n = U_n - U_{n-1}``, ``W_n = U_n + U_{n-1}`` (SciPy's ``U_{-1}`` is 0)."""
    return _sps.eval_chebyu(n, x) - _sps.eval_chebyu(n - 1, x)


def _cheb_w(n: Any, x: Any) -> Any:
    return _sps.eval_chebyu(n, x) + _sps.eval_chebyu(n - 1, x)


# (row, reference f(n, x)); each at a few degrees, x in [-1.5, 1.5] (also outside [-1, 1])
_POLY_REFS = [
    ("chebyshev_polynomial_t", _sps.eval_chebyt),
    ("chebyshev_polynomial_u", _sps.eval_chebyu),
    ("chebyshev_polynomial_v", _cheb_v),
    ("chebyshev_polynomial_w", _cheb_w),
    ("shifted_chebyshev_polynomial_t", _sps.eval_sh_chebyt),
    ("shifted_chebyshev_polynomial_u", _sps.eval_sh_chebyu),
    ("shifted_chebyshev_polynomial_v", lambda n, x: _cheb_v(n, 2 * x - 1)),
    ("shifted_chebyshev_polynomial_w", lambda n, x: _cheb_w(n, 2 * x - 1)),
    ("hermite_polynomial_h", _sps.eval_hermite),
    ("hermite_polynomial_he", _sps.eval_hermitenorm),
    ("laguerre_polynomial_l", _sps.eval_laguerre),
    ("legendre_polynomial_p", _sps.eval_legendre),
]
for _name, _ref in _POLY_REFS:
    for _n in (0, 1, 4, 9):
        SPECIAL_SPECS.append(OpSpec(
            _name, lambda x, n, _row=getattr(_SP, _name): _row(x, n),
            lambda x, n, _f=_ref: _f(n, x), args=(_n,), grad=False, low=-1.5, high=1.5,
            label=f"n{_n}"))

OP_SPECS = OP_SPECS + SPECIAL_SPECS
