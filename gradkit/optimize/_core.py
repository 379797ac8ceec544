"""The boundary between a user's objective and SciPy: flat float64 vectors on one side,
the user's structure (floats, arrays, tensors, pytrees of them) on the other, with exact
derivatives from gradkit in between."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np

from gradkit._core.concrete import depends, differentiating
from gradkit._core.tensor import Tensor, _make
from gradkit._core import backend as _backend
from .. import func as _gf

_INSTALL = "pip install scipy"


def require_scipy(what: str) -> Any:
    """``scipy.optimize``, or an ImportError that names the extra to install."""
    try:
        import scipy.optimize as so
    except ImportError as exc:
        raise ImportError(f"gradkit.optimize.{what} needs SciPy, which is not installed; install it "
                          f"with `{_INSTALL}` (or `pip install gradkit[scipy]`; without SciPy, "
                          "gradkit.optimize.gradient_descent and "
                          "gradkit.optimize.newton still work)") from exc
    return so


def to_array(v: Any) -> np.ndarray:
    """Any value a user function returns (Tensor, ndarray, number) as a float64 ndarray."""
    if isinstance(v, Tensor):
        v = v._data
    arr = np.asarray(v)
    return arr.astype(np.float64) if arr.dtype.kind != "c" else arr


def to_float(v: Any, what: str = "objective function") -> float:
    """A one-element result as a Python float (0-d and shape-(1,) tensors or arrays alike)."""
    arr = to_array(v)
    if arr.size != 1:
        raise ValueError(f"The user-provided {what} must return a scalar value, but it returned "
                         f"shape {arr.shape}")
    return float(arr.reshape(()))


def _plain_sequence(x: Any) -> bool:
    """A (nested) list or tuple of Python numbers: an array to SciPy, not a pytree."""
    if isinstance(x, (list, tuple)):
        return len(x) > 0 and all(_plain_sequence(v) for v in x)
    return isinstance(x, (int, float, np.number)) and not isinstance(x, bool)


def _arrays(tree: Any) -> Any:
    """Plain lists of numbers inside a tree become arrays (leaves, not containers)."""
    if isinstance(tree, (list, tuple)):
        if _plain_sequence(tree):
            return np.asarray(tree, dtype=np.float64)
        return type(tree)(_arrays(v) for v in tree)
    if isinstance(tree, dict):
        return {k: _arrays(v) for k, v in tree.items()}
    return tree


class Packer:
    """Flattens ``x0`` (a number, array, tensor or pytree of them) into one float64 vector.

    NOTE: a list of numbers is an array (as SciPy reads ``x0=[1.3]``), not a pytree of floats.
    """

    def __init__(self, x0: Any) -> None:
        leaves, self.spec = _gf.tree_flatten(_arrays(x0))
        if not leaves:
            raise ValueError("x0 must contain at least one number")
        self.kinds = [(type(v), v._data.dtype if isinstance(v, Tensor) else None) for v in leaves]
        arrays = [to_array(v) for v in leaves]
        self.shapes = [a.shape for a in arrays]
        self.sizes = [a.size for a in arrays]
        self.offsets = np.cumsum([0] + self.sizes)
        self.n = int(self.offsets[-1])
        self.single = len(leaves) == 1
        self.x0 = np.concatenate([a.ravel() for a in arrays]).astype(np.float64)

    def unravel(self, flat: Any) -> Any:
        """The user's structure over ``flat`` (an ndarray or a Tensor on the graph)."""
        if self.single:
            return flat if self.shapes[0] == tuple(flat.shape) else flat.reshape(self.shapes[0])
        leaves = [flat[int(a):int(b)].reshape(s)
                  for a, b, s in zip(self.offsets[:-1], self.offsets[1:], self.shapes)]
        return _gf.tree_unflatten(self.spec, leaves)

    def restore(self, flat: Any) -> Any:
        """The user's structure and leaf types (float, ndarray, Tensor) for a result vector."""
        flat = np.asarray(flat, dtype=np.float64)
        leaves = []
        for (kind, dtype), a, b, s in zip(self.kinds, self.offsets[:-1], self.offsets[1:], self.shapes):
            v = flat[int(a):int(b)].reshape(s).copy()
            if issubclass(kind, Tensor):
                v = _make(v.astype(dtype if dtype.kind == "f" else np.float64), False, None)
            elif issubclass(kind, (int, float)) and not s:
                v = float(v)
            leaves.append(v)
        return _gf.tree_unflatten(self.spec, leaves)

    def flatten(self, tree: Any) -> np.ndarray:
        """A tree shaped like ``x0`` (a user's gradient, a bound) as a flat float64 vector."""
        if self.single or isinstance(tree, (np.ndarray, Tensor)) or \
                (isinstance(tree, (list, tuple)) and _plain_sequence(tree)):
            return to_array(tree).ravel()
        leaves, _ = _gf.tree_flatten(_arrays(tree))
        if len(leaves) != len(self.shapes):
            raise ValueError(f"expected a structure like x0 with {len(self.shapes)} leaves, got "
                             f"{len(leaves)}")
        return np.concatenate([np.broadcast_to(to_array(v), s).ravel()
                               for v, s in zip(leaves, self.shapes)])


def _size(data: Any) -> int:
    """The number of elements, from the shape alone (``np.size`` would compute a Dask array)."""
    size = getattr(data, "size", None)
    return int(size) if size is not None and not isinstance(data, (list, tuple)) else int(np.size(data))


def _scalar_out(out: Any) -> Any:
    """Shape-(1,) outputs (``x0=[1.3]`` in SciPy's tutorials) become 0-d, on the graph."""
    data = out._data if isinstance(out, Tensor) else out
    if (isinstance(data, np.ndarray) or _backend.backend_of(data) is not None) \
            and data.ndim and _size(data) == 1:
        return out.reshape(())
    return out


def fetch(*values: Tensor) -> tuple[Any, ...]:
    """Tensors as they are, or computed in one pass when some are Dask-backed (lazy): the
    forward pass a value and its gradient share then runs once, not once per result."""
    if any(isinstance(v, Tensor) and _backend.is_lazy(v._data) for v in values):
        from gradkit._api.lazy import compute
        return compute(*values)
    return values


def check_connected(out: Any, x: Any, owner: str, what: str = "objective function") -> None:
    """Raise when a differentiated call's output does not depend on ``x`` through the graph.

    NOTE: gradkit.optimize raises here rather than falling back to finite differences: an
    exact gradient of zero would make the optimizer stop at the start point and report
    success, and a silent switch to differences would hide a dropped graph that usually is
    a bug (``x.detach()``, ``np.asarray(x.data)``). ``jac='2-point'`` asks for differences.
    """
    if not (isinstance(x, Tensor) and x._rg) or \
            (isinstance(out, Tensor) and (out._fw or out._rg and depends(out, [x]))):
        return
    if isinstance(out, Tensor) and out._rg:
        cause = ("it is computed from tensors that require grad, but not from x (parameters "
                 "closed over by the function?).")
    elif isinstance(out, Tensor):
        from ..autograd import explain
        cause = explain(out, x).message
    else:
        cause = (f"it returned a {type(out).__name__}, not a gradkit tensor computed from x: "
                 "either it does not use x, or x was turned into plain numbers on the way "
                 "(x.detach(), x.data, x.numpy(), a SciPy call that gradkit does not dispatch).")
    raise RuntimeError(
        f"{owner}: the {what}'s value does not depend on x through gradkit's graph: {cause} "
        "Its exact gradient would be zero, and the optimizer would stop at the start point and "
        "report success. Compute the value from x with tensor operations (NumPy functions on x "
        "work: np.sin(x[0]), np.stack([...])) and return it as it is; for a true black-box "
        "function pass jac='2-point' to use finite differences instead.")


def _call(fun: Callable[..., Any], packer: Packer, args: tuple[Any, ...],
          owner: str) -> Callable[[Any], Any]:
    """``fun`` of the flat ``x``, checked to return a scalar connected to ``x``."""
    def call(flat: Any) -> Any:
        out = _scalar_out(fun(packer.unravel(flat), *args))
        if _size(out._data if isinstance(out, Tensor) else out) != 1:
            raise ValueError(f"The user-provided objective function must return a scalar value, "
                             f"but it returned shape {tuple(np.shape(out))}")
        check_connected(out, flat, owner)
        return out
    return call


class Objective:
    """``fun(x, *args)`` seen from SciPy: value, value and gradient, HVP and Hessian at flat x.

    Counts what it runs: ``nfev`` forward passes, ``njev`` backward passes (a gradient
    costs one of each: the value comes from the same forward pass), ``nhev`` Hessians
    or Hessian-vector products.
    """

    def __init__(self, fun: Callable[..., Any], packer: Packer, args: Sequence[Any] = (),
                 owner: str = "gradkit.optimize.minimize", compile: bool = True) -> None:
        self.fun, self.packer, self.owner = fun, packer, owner
        self.args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
        self.nfev = self.njev = self.nhev = 0
        self.seen: OrderedDict[bytes, tuple[float, float | None]] = OrderedDict()
        self._hvp_at: tuple[bytes, Callable[..., Any]] | None = None
        self.keep_graph = False
        #: trace the value (and gradient) once, replay it on later calls (``gradkit.compile``);
        #: it runs eagerly by itself where a trace cannot be trusted
        self.compile = compile
        self._compiled: dict[str, Any] = {}

    def _run(self, which: str, fn: Callable[..., Any], x: Any) -> Any:
        if not self.compile:
            return fn(x)
        cf = self._compiled.get(which)
        if cf is None:
            from gradkit.compile import CompiledFunction
            # NOTE: a closure over what the call reads, not this object (its counters and
            # memo change on every call: compile would see new state each time)
            call = _call(self.fun, self.packer, self.args, self.owner)
            if which == "value_and_grad":
                call = _gf.value_and_grad(call)
            cf = self._compiled[which] = CompiledFunction(call, "auto", 8, True)
            cf.quiet = True                   # the reason goes into the result instead
        return cf(x)

    def compile_report(self) -> tuple[bool, str | None]:
        """Whether the compiled replay ran (``result.compiled``), and why not."""
        if not self.compile:
            return False, "compile=False"
        if not self._compiled:
            return False, "no value or gradient was asked for through the compiled path " \
                "(Hessians and Hessian-vector products run eagerly)"
        for cf in self._compiled.values():
            if cf.eager_reason is not None:
                return False, cf.eager_reason
        if not any(cf.stats["replays"] for cf in self._compiled.values()):
            return False, "every call was traced (no replay: the objective was called once, " \
                "or its Python state changed on every call)"
        return True, None

    def call(self, flat: Any) -> Any:
        return _call(self.fun, self.packer, self.args, self.owner)(flat)

    def _remember(self, x: np.ndarray, f: float, g: np.ndarray | None) -> None:
        self.seen[x.tobytes()] = (f, None if g is None else float(np.linalg.norm(g)))
        if len(self.seen) > 32:
            self.seen.popitem(last=False)

    def value(self, x: Any) -> float:
        x = np.array(x, dtype=np.float64)
        self.nfev += 1
        f = to_float(self._run("value", self.call, x))
        self._remember(x, f, None)
        return f

    def value_and_grad(self, x: Any) -> tuple[float, np.ndarray]:
        """One forward and one backward pass (``jac=True`` in SciPy).

        With ``keep_graph`` (methods that ask for ``H p`` at the points where they took the
        gradient) the backward pass is recorded, so ``hessp`` at ``x`` needs no new pass.
        """
        x = np.array(x, dtype=np.float64)
        self.nfev += 1
        self.njev += 1
        # NOTE: x goes in as a tensor so that f and g come back as tensors, and Dask-backed
        # ones (a loss over a chunked dataset) are computed together, in one pass.
        xt = _make(x, False, None)
        with differentiating(self.owner):
            if self.keep_graph:
                g, vjp_fn, f = _gf.vjp(self._grad_and_value, xt, has_aux=True)
                self._hvp_at = (x.tobytes(), vjp_fn)
            else:
                f, g = self._run("value_and_grad", _gf.value_and_grad(self.call), xt)
        f, g = fetch(f, g)
        f, g = to_float(f), to_array(g).reshape(x.shape)
        self._remember(x, f, g)
        return f, g

    def _grad_and_value(self, flat: Any) -> tuple[Any, Any]:
        f, g = _gf.value_and_grad(self.call)(flat)
        return g, f

    def hessp(self, x: Any, p: Any) -> np.ndarray:
        """``H(x) p``; the gradient's graph at ``x`` is kept, so further products at the same
        point cost one backward pass each (reverse over reverse: H is symmetric)."""
        x = np.array(x, dtype=np.float64)
        key = x.tobytes()
        if self._hvp_at is None or self._hvp_at[0] != key:
            self.nfev += 1
            self.njev += 1
            with differentiating(self.owner):
                _, vjp_fn = _gf.vjp(_gf.grad(self.call), x)
            self._hvp_at = (key, vjp_fn)
        self.nhev += 1
        with differentiating(self.owner):
            (hv,) = self._hvp_at[1](np.asarray(p, dtype=np.float64))
        return to_array(hv).reshape(x.shape)

    def hess(self, x: Any) -> np.ndarray:
        x = np.array(x, dtype=np.float64)
        self.nfev += 1
        self.njev += 1
        self.nhev += 1
        with differentiating(self.owner):
            h = _gf.hessian(self.call)(x)
        return to_array(h).reshape(x.size, x.size)


class Memo:
    """SciPy's legacy ``f``/``fprime`` pair from one pass: ``f(x)`` keeps the gradient it made."""

    def __init__(self, obj: Objective) -> None:
        self.obj = obj
        self.key: bytes | None = None
        self.g: np.ndarray | None = None

    def __call__(self, x: Any) -> float:
        f, self.g = self.obj.value_and_grad(x)
        self.key = np.asarray(x, dtype=np.float64).tobytes()
        return f

    def derivative(self, x: Any) -> np.ndarray:
        if self.key != np.asarray(x, dtype=np.float64).tobytes():
            self(x)
        assert self.g is not None
        return self.g.copy()


class VectorFunction:
    """A vector-valued ``fun(x, *args, **kwargs)`` at flat x: values (flattened, float64)
    and the exact Jacobian, shaped (m, n)."""

    def __init__(self, fun: Callable[..., Any], packer: Packer, args: Sequence[Any] = (),
                 kwargs: dict[str, Any] | None = None, owner: str = "gradkit.optimize") -> None:
        self.fun, self.packer, self.args, self.kwargs = fun, packer, tuple(args), kwargs or {}
        self.owner = owner
        self.m: int | None = None
        self.nfev = self.njev = 0

    def call(self, flat: Any) -> Any:
        out = self.fun(self.packer.unravel(flat), *self.args, **self.kwargs)
        if isinstance(out, dict) or (isinstance(out, (tuple, list)) and not _plain_sequence(out)):
            from .._api import cat
            leaves, _ = _gf.tree_flatten(out)
            out = cat([v.reshape(-1) if isinstance(v, Tensor) else
                       _make(to_array(v).reshape(-1), False, None) for v in leaves])
        out = out.reshape(-1) if isinstance(out, (Tensor, np.ndarray)) else np.atleast_1d(out)
        check_connected(out, flat, self.owner, "function")
        return out

    def values(self, x: Any) -> np.ndarray:
        self.nfev += 1
        out = to_array(self.call(np.array(x, dtype=np.float64))).ravel()
        self.m = out.size
        return out

    def values_and_jac(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """Values and Jacobian from one forward pass."""
        x = np.array(x, dtype=np.float64)
        self.nfev += 1
        self.njev += 1
        # NOTE: forward mode costs one tangent per parameter, reverse mode one seed per
        # output; once the output size is known the cheaper one is used.
        mode = _gf.value_and_jacfwd if self.m is not None and x.size <= self.m else _gf.value_and_jacrev
        with differentiating(self.owner):
            f, jac = mode(self.call)(x)
        f = to_array(f).ravel()
        self.m = f.size
        return f, to_array(jac).reshape(f.size, x.size)

    def jac(self, x: Any) -> np.ndarray:
        return self.values_and_jac(x)[1]
