"""Random differentiable programs for ``test_random_programs.py``.

A program is a list of op records (:class:`Op`: an op name, the indices of the values it
reads, and plain parameters: ints, tuples, NumPy constants, index arrays, masks). One
interpreter, :func:`run`, executes a program against a library namespace: gradkit, or PyTorch
when it is installed, so the same generated program runs through both. Ops named ``np_*`` call
NumPy functions on gradkit tensors (NumPy dispatch); under PyTorch they run the equivalent
torch call.

:func:`generate` builds a program from a seed, deterministically: it draws float64 inputs,
then op by op draws an op whose arguments fit the shapes built so far, runs it on gradkit
(without grad) and keeps it only if every value stays finite, moderate in size, and at least
``MARGIN`` away from a kink of a piecewise op (``abs``/``relu`` at 0, ties of
``max``/``amax``/``maximum``/``clamp``, ``norm``/``std`` at 0). Finite differences with a step
of ``1e-6`` are then valid for the gradient and for the Hessian-vector product.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

MARGIN = 1e-3       # smallest allowed distance of a value from a kink of a piecewise op
MAX_ABS = 1e3       # largest allowed |value| of any intermediate
MAX_NUMEL = 64      # largest allowed intermediate

# Patterns that expose bugs not fixed yet. ``generate(..., avoid=KNOWN_BUGS)`` (what CI runs)
# leaves them out; GRADKIT_RANDOM_KNOWN_BUGS=1 generates them. Delete an entry with its fix.
KNOWN_BUGS: set[str] = set()
# Fixed since the test found them (the patterns are generated again): "gather_smaller_index",
# "forward_ad_inplace_view", "forward_over_reverse_inplace" (in-place snapshots lost their
# tangents, so func.hvp through exp_/sin_/y[i] *= t was wrong), "contiguous_requires_grad",
# "take_along_dim_broadcast_grad", "scatter_add_index_smaller_than_self".
# ops whose double backward PyTorch does not implement: no Hessian comparison with torch
TORCH_NO_DOUBLE_BACKWARD = {"hardsigmoid"}
# ops where PyTorch (2.13, CPU) is off in float64, so gradients are compared with it to 1e-7
# only: hardsigmoid's backward multiplies by a float32 1/6 (0.1666666716337204; gradkit and
# central differences give 1/6 exactly).
TORCH_FLOAT32_CONSTANTS = {"hardsigmoid"}
IN_PLACE_VIEW_METHODS = {"select_add_", "transpose_mul_"}


def skips_forward_over_reverse(prog: Program, avoid: frozenset[str] | set[str]) -> bool:
    """Whether ``prog`` hits a forward-mode bug of KNOWN_BUGS that ``avoid`` leaves out."""
    names = {o.name for o in prog.ops}
    if "forward_ad_inplace_view" in avoid and names & IN_PLACE_VIEW_METHODS:
        return True
    return "forward_over_reverse_inplace" in avoid and any(
        o.name == "exp_" or o.name == "inplace_slice" and o.params["how"] == "mul" for o in prog.ops)

_avoid: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Op:
    name: str
    args: tuple[int, ...]
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        ps = ", ".join(f"{k}={_show(v)}" for k, v in self.params.items())
        return f"{self.name}({', '.join(f'v{i}' for i in self.args)}{', ' if ps else ''}{ps})"


def _show(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return f"np.array({v.tolist()!r}, dtype={v.dtype.name!r})"
    return repr(v)


@dataclass
class Program:
    seed: int
    inputs: list[np.ndarray]
    ops: list[Op]
    outputs: list[int]                 # values whose weighted sums make the scalar loss
    weights: list[np.ndarray]

    def __str__(self) -> str:
        lines = [f"program(seed={self.seed})"]
        lines += [f"  v{i} = input{tuple(x.shape)}" for i, x in enumerate(self.inputs)]
        n = len(self.inputs)
        lines += [f"  v{n + k} = {op}" for k, op in enumerate(self.ops)]
        lines.append("  loss = " + " + ".join(f"(v{o} * w{j}).sum()" for j, o in enumerate(self.outputs)))
        return "\n".join(lines)


class Lib:
    """What the interpreter calls: ``mod`` is gradkit or torch; ``numpy`` enables NumPy dispatch."""

    def __init__(self, mod: Any, numpy_dispatch: bool) -> None:
        self.mod = mod
        self.F = mod.nn.functional
        self.numpy = numpy_dispatch
        self.margins: list[float] | None = None

    def const(self, arr: np.ndarray) -> Any:
        return self.mod.tensor(arr)

    def kink(self, dist: Callable[[], Any]) -> None:
        """Record the distance ``dist()`` of a value from a kink (only while generating)."""
        if self.margins is not None:
            d = dist()
            d = np.asarray(d.detach().numpy() if hasattr(d, "detach") else d, dtype=float)
            self.margins.append(float(d.min()) if d.size else math.inf)


def _np(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def _gap(a: Any, dims: tuple[int, ...]) -> float:
    """Smallest distance between the largest and the second largest (and the smallest and the
    second smallest) entries over ``dims`` of ``a``: ties there make max/amax non-smooth."""
    arr = _np(a)
    dims = tuple(d % arr.ndim for d in dims) if arr.ndim else ()
    rest = [d for d in range(arr.ndim) if d not in dims]
    flat = np.transpose(arr, rest + list(dims)).reshape(
        int(np.prod([arr.shape[d] for d in rest])), -1)
    if flat.shape[1] < 2:
        return math.inf
    s = np.sort(flat, axis=1)
    return float(min((s[:, -1] - s[:, -2]).min(), (s[:, 1] - s[:, 0]).min()))


# --------------------------------------------------------------------------------------------
# The ops: name -> (make, apply). ``make(rng, shapes, i)`` draws the arguments (starting from
# value ``i``) and parameters, or returns None when the op does not fit; ``apply(L, xs, p)``
# builds the op with the library ``L``.
# --------------------------------------------------------------------------------------------
Make = Callable[[np.random.Generator, list, int], "tuple[tuple[int, ...], dict] | None"]
OPS: dict[str, tuple[Make, Callable[..., Any]]] = {}
WEIGHTS: dict[str, float] = {}


def op(name: str, make: Make, weight: float = 1.0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(apply: Callable[..., Any]) -> Callable[..., Any]:
        OPS[name] = (make, apply)
        WEIGHTS[name] = weight
        return apply
    return register


def unary(rng: np.random.Generator, shapes: list, i: int) -> tuple[tuple[int, ...], dict]:
    return (i,), {}


def _dim_make(need_ndim: int = 1, tuple_ok: bool = True, none_ok: bool = False,
              min_size: int = 1) -> Make:
    """An argument and ``dim``/``keepdim``: one dim, a tuple of dims, or None (everything)."""
    def make(rng: np.random.Generator, shapes: list, i: int) -> Any:
        s = shapes[i]
        if len(s) < need_ndim:
            return None
        if none_ok and (len(s) == 0 or rng.random() < 0.2):
            return (i,), {"dim": None, "keepdim": False}
        if len(s) == 0:
            return None
        k = int(rng.integers(1, len(s) + 1)) if tuple_ok else 1
        dims = tuple(int(d) for d in rng.choice(len(s), size=k, replace=False))
        if int(np.prod([s[d] for d in dims])) < min_size:
            return None
        dims = tuple(d - len(s) if rng.random() < 0.3 else d for d in dims)   # negative dims too
        return (i,), {"dim": dims[0] if len(dims) == 1 else dims, "keepdim": bool(rng.random() < 0.5)}
    return make


def _as_tuple(dim: Any) -> tuple[int, ...]:
    return (dim,) if isinstance(dim, int) else tuple(dim)


def _partner(rng: np.random.Generator, shapes: list, i: int,
             pred: Callable[[tuple, tuple], bool]) -> int | None:
    cands = [j for j in range(len(shapes)) if pred(shapes[i], shapes[j])]
    if not cands:
        return None
    recent = [j for j in cands if j >= len(shapes) - 4]
    pool = recent if recent and rng.random() < 0.7 else cands
    return int(rng.choice(pool))


def _broadcasts_to(a: tuple, out: tuple) -> bool:
    return _broadcastable(a, out) and np.broadcast_shapes(a, out) == out


def _broadcastable(a: tuple, b: tuple) -> bool:
    try:
        out = np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return int(np.prod(out)) <= MAX_NUMEL and len(out) <= 4


def binary(rng: np.random.Generator, shapes: list, i: int) -> Any:
    j = _partner(rng, shapes, i, _broadcastable)
    return None if j is None else ((i, j) if rng.random() < 0.5 else (j, i)), {}


def _sub_shape(rng: np.random.Generator, s: tuple) -> tuple[int, ...]:
    """A shape that broadcasts to ``s``: a suffix of ``s``, some of its sizes replaced by 1."""
    k = int(rng.integers(0, len(s) + 1))
    return tuple(1 if rng.random() < 0.3 else int(n) for n in s[len(s) - k:])


def with_const(rng: np.random.Generator, shapes: list, i: int) -> Any:
    c = rng.uniform(0.5, 1.5, _sub_shape(rng, shapes[i])) * rng.choice([-1.0, 1.0])
    return (i,), {"c": c}


# --- elementwise unary ----------------------------------------------------------------------
op("sin", unary)(lambda L, x, p: L.mod.sin(x[0]))
op("np_sin", unary, 0.5)(lambda L, x, p: np.sin(x[0]) if L.numpy else L.mod.sin(x[0]))
op("cos", unary)(lambda L, x, p: x[0].cos())
op("tanh", unary)(lambda L, x, p: L.mod.tanh(x[0]))
op("sigmoid", unary)(lambda L, x, p: L.mod.sigmoid(x[0]))
op("atan", unary)(lambda L, x, p: L.mod.atan(x[0]))
op("exp", unary)(lambda L, x, p: L.mod.exp(x[0]))
op("expm1", unary, 0.5)(lambda L, x, p: L.mod.expm1(x[0]))
op("erf", unary, 0.5)(lambda L, x, p: L.mod.erf(x[0]))
op("log_softplus", unary)(lambda L, x, p: L.mod.log(L.F.softplus(x[0]) + 0.1))
op("sqrt", unary)(lambda L, x, p: L.mod.sqrt(x[0] * x[0] + 0.25))
op("log1p", unary, 0.5)(lambda L, x, p: L.mod.log1p(x[0].square()))
op("reciprocal", unary, 0.5)(lambda L, x, p: L.mod.reciprocal(x[0] * x[0] + 1.0))
op("pow_int", lambda r, s, i: ((i,), {"k": int(r.integers(2, 4))}))(lambda L, x, p: x[0] ** p["k"])
op("rsub_scale", lambda r, s, i: ((i,), {"c": float(r.uniform(-2, 2))}))(lambda L, x, p: 1.5 - x[0] * p["c"])
op("gelu", unary, 0.5)(lambda L, x, p: L.F.gelu(x[0]))
op("silu", unary, 0.5)(lambda L, x, p: L.F.silu(x[0]))
op("softplus", unary, 0.5)(lambda L, x, p: L.F.softplus(x[0]))


@op("abs", unary)
def _abs(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: L.mod.abs(x[0]))
    return L.mod.abs(x[0])


@op("relu", unary)
def _relu(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: L.mod.abs(x[0]))
    return L.F.relu(x[0])


@op("elu", unary, 0.5)
def _elu(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: L.mod.abs(x[0]))      # its second derivative jumps at 0
    return L.F.elu(x[0])


@op("clamp", lambda r, s, i: ((i,), {"lo": float(r.uniform(-1.5, 0)), "hi": float(r.uniform(0, 1.5))}))
def _clamp(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: L.mod.minimum(L.mod.abs(x[0] - p["lo"]), L.mod.abs(x[0] - p["hi"])))
    return L.mod.clamp(x[0], p["lo"], p["hi"])


def _dim1(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    return None if not s else ((i,), {"dim": int(rng.integers(-len(s), len(s)))})


op("softmax", _dim1)(lambda L, x, p: L.F.softmax(x[0], dim=p["dim"]))
op("log_softmax", _dim1)(lambda L, x, p: L.F.log_softmax(x[0], dim=p["dim"]))
op("cumsum", _dim1, 0.5)(lambda L, x, p: x[0].cumsum(p["dim"]))
op("cumprod", _dim1, 0.3)(lambda L, x, p: x[0].cumprod(p["dim"]))

# --- elementwise binary, with broadcasting --------------------------------------------------
op("add", binary, 1.5)(lambda L, x, p: x[0] + x[1])
op("sub", binary)(lambda L, x, p: x[0] - x[1])
op("mul", binary, 1.5)(lambda L, x, p: x[0] * x[1])
op("div", binary)(lambda L, x, p: x[0] / (x[1] * x[1] + 0.5))
op("pow", binary)(lambda L, x, p: (x[0] * x[0] + 0.5) ** L.mod.tanh(x[1]))
op("mul_const", with_const)(lambda L, x, p: x[0] * L.const(p["c"]))
op("add_const", with_const, 0.5)(lambda L, x, p: L.const(p["c"]) + x[0])


@op("maximum", binary)
def _maximum(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: L.mod.abs(x[0] - x[1]))
    return L.mod.maximum(x[0], x[1])


@op("minimum", binary, 0.5)
def _minimum(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: L.mod.abs(x[0] - x[1]))
    return L.mod.minimum(x[0], x[1])


@op("atan2", binary, 0.5)
def _atan2(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: L.mod.abs(x[0]) + (x[1] > 0) * 1.0)    # the branch cut: y = 0, x < 0
    return L.mod.atan2(x[0], x[1])


def _where_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    r = binary(rng, shapes, i)
    if r is None:
        return None
    out = np.broadcast_shapes(shapes[r[0][0]], shapes[r[0][1]])
    return r[0], {"mask": rng.random(_sub_shape(rng, out)) < 0.5}


op("where", _where_make)(lambda L, x, p: L.mod.where(L.const(p["mask"]), x[0], x[1]))

# --- reductions -----------------------------------------------------------------------------
op("sum", _dim_make(none_ok=True), 1.5)(
    lambda L, x, p: x[0].sum() if p["dim"] is None else x[0].sum(dim=p["dim"], keepdim=p["keepdim"]))
op("mean", _dim_make(none_ok=True))(
    lambda L, x, p: x[0].mean() if p["dim"] is None else x[0].mean(dim=p["dim"], keepdim=p["keepdim"]))
op("prod", _dim_make(tuple_ok=False), 0.5)(lambda L, x, p: x[0].prod(dim=p["dim"], keepdim=p["keepdim"]))
op("logsumexp", _dim_make())(lambda L, x, p: L.mod.logsumexp(x[0], dim=p["dim"], keepdim=p["keepdim"]))


@op("amax", _dim_make())
def _amax(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: _gap(x[0], _as_tuple(p["dim"])))
    return x[0].amax(dim=p["dim"], keepdim=p["keepdim"])


@op("amin", _dim_make(), 0.5)
def _amin(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: _gap(x[0], _as_tuple(p["dim"])))
    return x[0].amin(dim=p["dim"], keepdim=p["keepdim"])


@op("max_dim", _dim_make(tuple_ok=False))
def _max_dim(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: _gap(x[0], (p["dim"],)))
    return x[0].max(dim=p["dim"], keepdim=p["keepdim"])[0]


@op("max_all", lambda r, s, i: ((i,), {}), 0.5)
def _max_all(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: _gap(x[0], tuple(range(x[0].dim()))))
    return x[0].max()


def _var_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    r = _dim_make(min_size=2)(rng, shapes, i)
    if r is not None:
        r[1]["correction"] = int(rng.integers(0, 2))
    return r


@op("var", _var_make)
def _var(L: Lib, x: Any, p: dict) -> Any:
    return x[0].var(dim=p["dim"], keepdim=p["keepdim"], correction=p["correction"])


@op("std", _var_make)
def _std(L: Lib, x: Any, p: dict) -> Any:
    out = x[0].std(dim=p["dim"], keepdim=p["keepdim"], correction=p["correction"])
    L.kink(lambda: out)
    return out


@op("norm", _dim_make())
def _norm(L: Lib, x: Any, p: dict) -> Any:
    out = L.mod.linalg.vector_norm(x[0], ord=2, dim=p["dim"], keepdim=p["keepdim"])
    L.kink(lambda: out)
    return out


# --- shape ops ------------------------------------------------------------------------------
def _reshape_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    n = int(np.prod(shapes[i]))
    dims: list[int] = []
    rest = n
    for _ in range(int(rng.integers(1, 4))):
        divs = [d for d in range(1, rest + 1) if rest % d == 0]
        d = int(rng.choice(divs))
        dims.append(d)
        rest //= d
    dims.append(rest)
    rng.shuffle(dims)
    if rng.random() < 0.3:
        dims[int(rng.integers(len(dims)))] = -1
    return (i,), {"shape": tuple(dims)}


op("reshape", _reshape_make)(lambda L, x, p: x[0].reshape(p["shape"]))
op("contiguous_view", _reshape_make, 0.7)(lambda L, x, p: x[0].contiguous().view(p["shape"]))


def _perm_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    if len(shapes[i]) < 2:
        return None
    return (i,), {"perm": tuple(int(d) for d in rng.permutation(len(shapes[i])))}


op("permute", _perm_make)(lambda L, x, p: x[0].permute(p["perm"]))
op("np_transpose", _perm_make, 0.5)(
    lambda L, x, p: np.transpose(x[0], p["perm"]) if L.numpy else x[0].permute(p["perm"]))


def _two_dims(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if len(s) < 2:
        return None
    d0, d1 = (int(d) for d in rng.choice(len(s), size=2, replace=False))
    return (i,), {"d0": d0, "d1": d1 - len(s) if rng.random() < 0.5 else d1}


op("transpose", _two_dims)(lambda L, x, p: x[0].transpose(p["d0"], p["d1"]))
op("mT", lambda r, s, i: None if len(s[i]) < 2 else ((i,), {}), 0.5)(lambda L, x, p: x[0].mT)


def _expand_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    new = [int(rng.integers(2, 4)) if n == 1 and rng.random() < 0.7 else n for n in s]
    if len(s) < 3 and rng.random() < 0.5:
        new = [int(rng.integers(2, 4))] + new
    if int(np.prod(new)) > MAX_NUMEL or tuple(new) == tuple(s):
        return None
    spec = [-1 if k >= len(new) - len(s) and rng.random() < 0.3 else n for k, n in enumerate(new)]
    return (i,), {"shape": tuple(spec)}


op("expand", _expand_make)(lambda L, x, p: x[0].expand(*p["shape"]))


def _squeeze_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    ones = [d for d, n in enumerate(shapes[i]) if n == 1]
    return None if not ones else ((i,), {"dim": int(rng.choice(ones))})


op("squeeze", _squeeze_make)(lambda L, x, p: x[0].squeeze(p["dim"]))


def _unsqueeze_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    n = len(shapes[i])
    return None if n > 3 else ((i,), {"dim": int(rng.integers(-n - 1, n + 1))})


op("unsqueeze", _unsqueeze_make)(lambda L, x, p: x[0].unsqueeze(p["dim"]))


def _cat_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    d = int(rng.integers(len(s)))
    def fits(a: tuple, b: tuple) -> bool:
        return (len(a) == len(b) and all(x == y for k, (x, y) in enumerate(zip(a, b)) if k != d)
                and (a[d] + b[d]) * int(np.prod(a)) // max(a[d], 1) <= MAX_NUMEL)
    j = _partner(rng, shapes, i, fits)
    return None if j is None else ((i, j), {"dim": d})


op("cat", _cat_make)(lambda L, x, p: L.mod.cat([x[0], x[1]], dim=p["dim"]))
op("np_concatenate", _cat_make, 0.5)(
    lambda L, x, p: np.concatenate([x[0], x[1]], axis=p["dim"]) if L.numpy
    else L.mod.cat([x[0], x[1]], dim=p["dim"]))


def _stack_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if len(s) > 3 or 2 * int(np.prod(s)) > MAX_NUMEL:
        return None
    j = _partner(rng, shapes, i, lambda a, b: a == b)
    return (i, j), {"dim": int(rng.integers(-len(s) - 1, len(s) + 1))}


op("stack", _stack_make)(lambda L, x, p: L.mod.stack([x[0], x[1]], dim=p["dim"]))


def _flip_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    k = int(rng.integers(1, len(s) + 1))
    return (i,), {"dims": tuple(int(d) for d in rng.choice(len(s), size=k, replace=False))}


op("flip", _flip_make)(lambda L, x, p: x[0].flip(p["dims"]))


def _roll_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    r = _flip_make(rng, shapes, i)
    if r is not None:
        r[1]["shifts"] = tuple(int(rng.integers(-3, 4)) for _ in r[1]["dims"])
    return r


op("roll", _roll_make)(lambda L, x, p: x[0].roll(p["shifts"], p["dims"]))

# --- indexing -------------------------------------------------------------------------------


def _slices(rng: np.random.Generator, s: tuple) -> tuple[slice, ...]:
    out = []
    for n in s[:int(rng.integers(1, len(s) + 1))]:
        start = int(rng.integers(0, n))
        stop = int(rng.integers(start + 1, n + 1))
        step = int(rng.integers(1, 3))
        if rng.random() < 0.3:
            start -= n                      # negative start
        out.append(slice(start, stop, step) if rng.random() < 0.8 else slice(None))
    return tuple(out)


def _slice_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    return None if not shapes[i] else ((i,), {"index": _slices(rng, shapes[i])})


op("slice", _slice_make, 1.5)(lambda L, x, p: x[0][p["index"]])


def _int_index_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    d = int(rng.integers(len(s)))
    idx = rng.integers(0, s[d], size=int(rng.integers(1, 5)))       # repeats accumulate
    if rng.random() < 0.3:
        idx = idx - s[d]                                              # negative indices
    if (int(np.prod(s)) // s[d]) * idx.size > MAX_NUMEL:
        return None
    return (i,), {"dim": d, "idx": idx.astype(np.int64)}


@op("int_index", _int_index_make)
def _int_index(L: Lib, x: Any, p: dict) -> Any:
    key = (slice(None),) * p["dim"] + (L.const(p["idx"]) if not L.numpy else p["idx"],)
    return x[0][key]


def _nonneg(p: dict, s: int) -> np.ndarray:
    return p["idx"] % s


op("index_select", _int_index_make)(
    lambda L, x, p: x[0].index_select(p["dim"], L.const(_nonneg(p, x[0].shape[p["dim"]]))))


@op("select", lambda r, s, i: None if not s[i] else (
    lambda d: ((i,), {"dim": d, "index": int(r.integers(-s[i][d], s[i][d]))}))(int(r.integers(len(s[i])))))
def _select(L: Lib, x: Any, p: dict) -> Any:
    return x[0].select(p["dim"], p["index"])


def _mask_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    k = int(rng.integers(1, len(s) + 1))
    mask = rng.random(s[:k]) < 0.6
    if not mask.any():
        mask.flat[int(rng.integers(mask.size))] = True
    return (i,), {"mask": mask}


op("bool_mask", _mask_make)(lambda L, x, p: x[0][L.const(p["mask"])])


def _gather_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    d = int(rng.integers(len(s)))
    ishape = tuple(int(rng.integers(1, n + 1)) if k != d else int(rng.integers(1, 5))
                   for k, n in enumerate(s))
    if "gather_smaller_index" in _avoid:
        ishape = tuple(n if k != d else m for k, (n, m) in enumerate(zip(s, ishape)))
    if int(np.prod(ishape)) > MAX_NUMEL:
        return None
    return (i,), {"dim": d, "idx": rng.integers(0, s[d], size=ishape).astype(np.int64)}


op("gather", _gather_make)(lambda L, x, p: x[0].gather(p["dim"], L.const(p["idx"])))



def _split_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    d = int(rng.integers(len(s)))
    how = str(rng.choice(["split", "chunk", "unbind"]))
    size = int(rng.integers(1, s[d] + 1))
    pieces = s[d] if how == "unbind" else -(-s[d] // size)
    return (i,), {"how": how, "dim": d, "size": size, "piece": int(rng.integers(pieces))}


def _pieces(x: Any, p: dict) -> Any:
    if p["how"] == "unbind":
        return x.unbind(p["dim"])
    if p["how"] == "split":
        return x.split(p["size"], p["dim"])
    n = x.shape[p["dim"]]
    chunks = x.chunk(-(-n // p["size"]), p["dim"])
    return chunks


@op("split_piece", _split_make)
def _split_piece(L: Lib, x: Any, p: dict) -> Any:
    pieces = _pieces(x[0], p)
    return pieces[min(p["piece"], len(pieces) - 1)] * 1.0 + pieces[0]


def _narrow_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    d = int(rng.integers(len(s)))
    start = int(rng.integers(s[d]))
    return (i,), {"dim": d, "start": start, "length": int(rng.integers(1, s[d] - start + 1))}


op("narrow", _narrow_make, 0.5)(lambda L, x, p: x[0].narrow(p["dim"], p["start"], p["length"]))


def _unfold_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s or len(s) > 3:
        return None
    d = int(rng.integers(len(s)))
    size = int(rng.integers(1, s[d] + 1))
    step = int(rng.integers(1, 3))
    if int(np.prod(s)) // s[d] * ((s[d] - size) // step + 1) * size > MAX_NUMEL:
        return None
    return (i,), {"dim": d, "size": size, "step": step}


op("unfold", _unfold_make, 0.5)(lambda L, x, p: x[0].unfold(p["dim"], p["size"], p["step"]))


def _take_along_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    d = int(rng.integers(len(s)))
    broadcast = 0.0 if "take_along_dim_broadcast_grad" in _avoid else 0.4
    ishape = tuple(1 if k != d and rng.random() < broadcast else (int(rng.integers(1, 4)) if k == d else n)
                   for k, n in enumerate(s))                  # broadcasts, as np.take_along_axis
    return (i,), {"dim": d, "idx": rng.integers(0, s[d], size=ishape).astype(np.int64)}


op("take_along_dim", _take_along_make, 0.5)(
    lambda L, x, p: L.mod.take_along_dim(x[0], L.const(p["idx"]), dim=p["dim"]))


def _masked_fill_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    return (i,), {"mask": rng.random(_sub_shape(rng, shapes[i])) < 0.4, "value": float(rng.uniform(-1, 1))}


op("masked_fill", _masked_fill_make, 0.5)(
    lambda L, x, p: x[0].masked_fill(L.const(p["mask"]), p["value"]))


def _index_add_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    d = int(rng.integers(len(s)))
    m = int(rng.integers(1, 5))
    src = tuple(m if k == d else n for k, n in enumerate(s))
    j = _partner(rng, shapes, i, lambda a, b: b == src)
    if j is None:
        return None
    return (i, j), {"dim": d, "idx": rng.integers(0, s[d], size=m).astype(np.int64)}  # repeats add up


op("index_add", _index_add_make, 0.5)(
    lambda L, x, p: x[0].index_add(p["dim"], L.const(p["idx"]), x[1]))


def _scatter_add_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    d = int(rng.integers(len(s)))
    exact = "scatter_add_index_smaller_than_self" in _avoid
    j = _partner(rng, shapes, i, lambda a, b: len(b) == len(a) and all(
        m == n if exact else m <= n for k, (n, m) in enumerate(zip(a, b)) if k != d))
    if j is None:
        return None
    return (i, j), {"dim": d, "idx": rng.integers(0, s[d], size=shapes[j]).astype(np.int64)}


op("scatter_add", _scatter_add_make, 0.5)(
    lambda L, x, p: x[0].scatter_add(p["dim"], L.const(p["idx"]), x[1]))


def _tri_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    if len(shapes[i]) < 2:
        return None
    return (i,), {"lower": bool(rng.random() < 0.5), "k": int(rng.integers(-1, 2))}


op("tril_triu", _tri_make, 0.5)(
    lambda L, x, p: x[0].tril(p["k"]) if p["lower"] else x[0].triu(p["k"]))


def _repeat_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    reps = tuple(int(rng.integers(1, 3)) for _ in range(len(s) + int(rng.integers(0, 2))))
    if not reps or int(np.prod(s)) * int(np.prod(reps)) > MAX_NUMEL:
        return None
    return (i,), {"reps": reps, "tile": bool(rng.random() < 0.5)}


op("repeat", _repeat_make, 0.5)(
    lambda L, x, p: x[0].tile(p["reps"]) if p["tile"] else x[0].repeat(*p["reps"]))


def _movedim_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    n = len(shapes[i])
    return None if n < 2 else ((i,), {"src": int(rng.integers(n)), "dst": int(rng.integers(-n, n))})


op("movedim", _movedim_make, 0.5)(lambda L, x, p: x[0].movedim(p["src"], p["dst"]))


def _flatten_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    n = len(shapes[i])
    return None if n < 2 else ((i,), {"start": int(rng.integers(n - 1))})


op("flatten", _flatten_make, 0.5)(lambda L, x, p: x[0].flatten(p["start"]))


def _diagonal_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if len(s) < 2:
        return None
    d0, d1 = (int(d) for d in rng.choice(len(s), size=2, replace=False))
    return (i,), {"offset": int(rng.integers(-1, 2)) if min(s[d0], s[d1]) > 1 else 0, "d0": d0, "d1": d1}


op("diagonal", _diagonal_make, 0.5)(
    lambda L, x, p: x[0].diagonal(p["offset"], p["d0"], p["d1"]) * 1.0)


@op("hardsigmoid", unary, 0.5)
def _hardsigmoid(L: Lib, x: Any, p: dict) -> Any:
    L.kink(lambda: L.mod.minimum(L.mod.abs(x[0] * 2.0 - 3.0), L.mod.abs(x[0] * 2.0 + 3.0)))
    return L.F.hardsigmoid(x[0] * 2.0)


def _outer_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    if len(shapes[i]) != 1:
        return None
    j = _partner(rng, shapes, i, lambda a, b: len(b) == 1 and a[0] * b[0] <= MAX_NUMEL)
    return None if j is None else ((i, j), {})


op("outer", _outer_make, 0.5)(lambda L, x, p: L.mod.outer(x[0], x[1]))

# --- products -------------------------------------------------------------------------------


def _matmul_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    def fits(a: tuple, b: tuple) -> bool:
        if len(a) < 2 or len(b) < 2 or a[-1] != b[-1]:
            return False
        try:
            batch = np.broadcast_shapes(a[:-2], b[:-2])
        except ValueError:
            return False
        return int(np.prod(batch)) * a[-2] * b[-2] <= MAX_NUMEL
    j = _partner(rng, shapes, i, fits)
    return None if j is None else ((i, j), {})


op("matmul", _matmul_make, 1.5)(lambda L, x, p: x[0] @ x[1].transpose(-1, -2))


def _matvec_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    j = _partner(rng, shapes, i, lambda a, b: len(a) >= 1 and len(b) == 1 and a[-1] == b[0])
    return None if j is None else ((i, j), {})


op("matvec", _matvec_make)(lambda L, x, p: L.mod.matmul(x[0], x[1]))


def _matconst_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    m = int(rng.integers(1, 4))
    if int(np.prod(s)) // s[-1] * m > MAX_NUMEL:
        return None
    return (i,), {"w": rng.standard_normal((s[-1], m)) / math.sqrt(s[-1])}


op("np_matmul_const", _matconst_make)(
    lambda L, x, p: x[0] @ p["w"] if L.numpy else x[0] @ L.const(p["w"]))


def _einsum_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if len(s) == 2:
        kind = int(rng.integers(3))
        if kind == 0:
            j = _partner(rng, shapes, i,
                         lambda a, b: len(b) == 2 and b[1] == a[1] and a[0] * b[0] <= MAX_NUMEL)
            return None if j is None else ((i, j), {"eq": "ij,kj->ik"})
        if kind == 1:
            j = _partner(rng, shapes, i, lambda a, b: a == b)
            return (i, j), {"eq": "ij,ij->j"}
        return (i,), {"eq": "ij->ji"}
    if len(s) == 3:
        j = _partner(rng, shapes, i, lambda a, b: len(b) == 3 and b[0] == a[0] and b[1] == a[2]
                     and a[0] * a[1] * b[2] <= MAX_NUMEL)
        return None if j is None else ((i, j), {"eq": "bij,bjk->bik"})
    if len(s) == 1:
        j = _partner(rng, shapes, i, lambda a, b: len(b) >= 1 and b[-1] == a[0])
        return None if j is None else ((j, i), {"eq": "...i,i->..."})
    return None


op("einsum", _einsum_make)(lambda L, x, p: L.mod.einsum(p["eq"], *x))


def _np_sum_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    return _dim_make(none_ok=True)(rng, shapes, i)


@op("np_sum", _np_sum_make)
def _np_sum(L: Lib, x: Any, p: dict) -> Any:
    if L.numpy:
        return np.sum(x[0], axis=p["dim"], keepdims=p["keepdim"])
    return x[0].sum() if p["dim"] is None else x[0].sum(dim=p["dim"], keepdim=p["keepdim"])


@op("np_mean", _np_sum_make, 0.5)
def _np_mean(L: Lib, x: Any, p: dict) -> Any:
    if L.numpy:
        return np.mean(x[0], axis=p["dim"], keepdims=p["keepdim"])
    return x[0].mean() if p["dim"] is None else x[0].mean(dim=p["dim"], keepdim=p["keepdim"])


op("np_exp_tanh", unary, 0.5)(
    lambda L, x, p: np.exp(np.tanh(x[0])) if L.numpy else L.mod.exp(L.mod.tanh(x[0])))
op("np_sin_mul", binary, 0.5)(
    lambda L, x, p: np.multiply(np.sin(x[0]), x[1]) if L.numpy else L.mod.sin(x[0]) * x[1])


def _np_where_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    return _where_make(rng, shapes, i)


op("np_where", _np_where_make, 0.5)(
    lambda L, x, p: np.where(p["mask"], x[0], x[1]) if L.numpy
    else L.mod.where(L.const(p["mask"]), x[0], x[1]))

# --- in-place ops on views of a non-leaf clone ----------------------------------------------


def _setitem_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    return (i,), {"index": _slices(rng, s), "how": str(rng.choice(["add", "mul", "sub"]))}


@op("inplace_slice", _setitem_make, 1.5)
def _inplace_slice(L: Lib, x: Any, p: dict) -> Any:
    y = x[0].clone()
    rhs = L.mod.tanh(x[0][p["index"]]) * 2.0
    if p["how"] == "add":
        y[p["index"]] += rhs
    elif p["how"] == "mul":
        y[p["index"]] *= rhs
    else:
        y[p["index"]] -= rhs * x[0][p["index"]]
    return y


def _setitem_value_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    if not s:
        return None
    index = _slices(rng, s)
    sub = np.empty(s)[index].shape
    j = _partner(rng, shapes, i, lambda a, b: _broadcasts_to(b, sub))
    return None if j is None else ((i, j), {"index": index})


@op("setitem", _setitem_value_make)
def _setitem(L: Lib, x: Any, p: dict) -> Any:
    y = x[0] * 1.0
    y[p["index"]] = L.mod.sin(x[1])
    return y


def _transpose_mul_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    r = _two_dims(rng, shapes, i)
    if r is None:
        return None
    s = list(shapes[i])
    d0, d1 = r[1]["d0"], r[1]["d1"]
    s[d0], s[d1] = s[d1], s[d0]
    tshape = tuple(s)
    j = _partner(rng, shapes, i, lambda a, b: _broadcasts_to(b, tshape))
    return None if j is None else ((i, j), r[1])


@op("transpose_mul_", _transpose_mul_make)
def _transpose_mul_(L: Lib, x: Any, p: dict) -> Any:
    y = x[0].clone()
    y.transpose(p["d0"], p["d1"]).mul_(x[1])
    return y


def _dim0_index_make(rng: np.random.Generator, shapes: list, i: int) -> Any:
    s = shapes[i]
    return None if not s else ((i,), {"index": int(rng.integers(-s[0], s[0]))})


@op("select_add_", _dim0_index_make)
def _select_add_(L: Lib, x: Any, p: dict) -> Any:
    y = x[0].clone()
    row = y[p["index"]]
    row.add_(L.mod.sin(x[0][p["index"]]) * 0.5)
    return y


@op("exp_", unary, 0.5)
def _exp_(L: Lib, x: Any, p: dict) -> Any:
    y = L.mod.tanh(x[0]) * 1.0          # tanh saves its output: exp_ must not overwrite it
    y.exp_()
    return y


# --------------------------------------------------------------------------------------------
def run(prog: Program, L: Lib, xs: list[Any], keep: list | None = None) -> Any:
    """The scalar loss of ``prog`` on the input tensors ``xs``, built with ``L``."""
    vals = list(xs)
    for o in prog.ops:
        vals.append(OPS[o.name][1](L, [vals[a] for a in o.args], o.params))
    if keep is not None:
        keep.extend(vals)
    loss = None
    for o, w in zip(prog.outputs, prog.weights):
        term = (vals[o] * L.const(w)).sum()
        loss = term if loss is None else loss + term
    return loss


def _draw_inputs(rng: np.random.Generator) -> list[np.ndarray]:
    nd = int(rng.integers(0, 4))
    base = tuple(int(n) for n in rng.integers(1, 5, size=nd))
    shapes = [base]
    for _ in range(int(rng.integers(0, 3))):
        kind = rng.random()
        if kind < 0.3:
            shapes.append(base)
        elif kind < 0.7:
            shapes.append(_sub_shape(rng, base))
        else:
            shapes.append(tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(0, 4)))))
    return [rng.standard_normal(s) for s in shapes]


def generate(seed: int, gk: Any, ops: list[str] | None = None, n_ops: tuple[int, int] = (3, 11),
             avoid: frozenset[str] | set[str] = frozenset()) -> Program:
    """A random program from ``seed`` (deterministic), built from ``ops`` (default: all),
    without the patterns of the known bugs named in ``avoid``."""
    global _avoid
    prev, _avoid = _avoid, frozenset(avoid)
    try:
        return _generate(seed, gk, ops, n_ops)
    finally:
        _avoid = prev


def _generate(seed: int, gk: Any, ops: list[str] | None, n_ops: tuple[int, int]) -> Program:
    rng = np.random.default_rng(seed)
    names = sorted(OPS) if ops is None else list(ops)
    probs = np.array([WEIGHTS[n] for n in names])
    probs /= probs.sum()
    L = Lib(gk, numpy_dispatch=True)
    inputs = _draw_inputs(rng)
    values = [gk.tensor(x) for x in inputs]
    prog_ops: list[Op] = []
    target = int(rng.integers(*n_ops))
    with gk.no_grad():
        for _ in range(40 * target):
            if len(prog_ops) >= target:
                break
            name = str(rng.choice(names, p=probs))
            n = len(values)
            i = int(rng.integers(max(0, n - 3), n)) if rng.random() < 0.8 else int(rng.integers(n))
            made = OPS[name][0](rng, [tuple(v.shape) for v in values], i)
            if made is None:
                continue
            args, params = made
            if (name == "contiguous_view" and "contiguous_requires_grad" in _avoid
                    and not values[args[0]].is_contiguous()):
                continue
            L.margins = []
            out = OPS[name][1](L, [values[a] for a in args], params)
            arr = _np(out)
            if (arr.size == 0 or arr.size > MAX_NUMEL or arr.ndim > 4 or not np.all(np.isfinite(arr))
                    or np.abs(arr).max() > MAX_ABS or min(L.margins, default=math.inf) < MARGIN):
                continue
            prog_ops.append(Op(name, tuple(args), params))
            values.append(out)
    outputs = [len(values) - 1]
    if len(values) > 2 and rng.random() < 0.4:
        outputs.append(int(rng.integers(len(values) - 1)))
    weights = [rng.uniform(-1, 1, tuple(values[o].shape)) for o in outputs]
    return Program(seed, inputs, prog_ops, outputs, weights)
