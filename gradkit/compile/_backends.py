"""Replay backends: plain NumPy calls (``"numpy"``), or elementwise chains fused by numexpr.

numexpr (``pip install numexpr``, or ``pip install "gradkit[jit]"``) evaluates a whole chain of
elementwise operations in one multi-threaded pass over cache-sized blocks, without the
temporaries NumPy makes for every step. It pays only on large arrays (a call costs some
microseconds), so only chains on float64 arrays of at least ``FUSE_MIN`` elements are fused;
its transcendental functions may differ from NumPy's in the last bit. ``backend="auto"``
stays with NumPy (see ``resolve``): ask for numexpr by name.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any, Callable

import numpy as np

from ._tracer import Op, Ref, Trace

__all__ = ["resolve", "fuser", "BACKENDS"]

BACKENDS = ("auto", "numpy", "numexpr")
FUSE_MIN = 65536

#: NumPy ufunc -> numexpr spelling (a format with {0}, {1} for the operands)
_NE = {np.add: "({0} + {1})", np.subtract: "({0} - {1})", np.multiply: "({0} * {1})",
       np.true_divide: "({0} / {1})", np.negative: "(-{0})", np.power: "({0} ** {1})",
       np.sin: "sin({0})", np.cos: "cos({0})", np.tan: "tan({0})", np.tanh: "tanh({0})",
       np.sinh: "sinh({0})", np.cosh: "cosh({0})", np.exp: "exp({0})", np.log: "log({0})",
       np.log1p: "log1p({0})", np.expm1: "expm1({0})", np.sqrt: "sqrt({0})",
       np.absolute: "abs({0})", np.arctan: "arctan({0})", np.arcsin: "arcsin({0})",
       np.arccos: "arccos({0})"}


def resolve(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"gradkit.compile: backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        # NOTE: numexpr is not chosen by itself: measured here (NumPy 2.4, 2 cores) its sin,
        # exp and tanh are slower than NumPy's SIMD loops, and a fused 1e6-element gradient
        # ran at 0.95-2x the plain replay's time (benchmarks/bench_compile.py).
        return "numpy"
    if backend != "numpy" and importlib.util.find_spec(backend) is None:
        raise ImportError(f"gradkit.compile(backend={backend!r}) needs {backend}: "
                          f'pip install {backend} (or pip install "gradkit[jit]")')
    return backend


def fuser(backend: str) -> Callable[..., Any] | None:
    return _fuse_numexpr if backend == "numexpr" else None


def _fusible(op: Op, tr: Trace) -> bool:
    if op.kind != "ufunc" or op.kwargs or op.fn not in _NE or isinstance(op.out, tuple):
        return False
    meta = tr.meta.get(op.out)
    if meta is None or meta[1] != np.float64 or int(np.prod(meta[0])) < FUSE_MIN:
        return False
    for a in op.args:
        if type(a) is Ref:
            m = tr.meta.get(a.s)
            if m is None or m[1] != np.float64 or m[0] != meta[0]:
                return False            # broadcasting and other dtypes stay with NumPy
        elif type(a) not in (float, int):
            return False
    return True


def _fuse_numexpr(ops: list[Op], tr: Trace, keep: set[int]) -> list[Op]:
    """Fold single-use elementwise intermediates into their consumer's numexpr expression."""
    ne = importlib.import_module("numexpr")
    uses: dict[int, int] = {}
    for op in ops:
        for a in _all_refs(op):
            uses[a] = uses.get(a, 0) + 1
    exprs: dict[int, tuple[str, set[int]]] = {}      # fusible slot -> (expression, leaf slots)
    out: list[Op] = []
    pending: dict[int, Op] = {}
    for op in ops:
        if _fusible(op, tr):
            parts = []
            leaves: set[int] = set()
            for a in op.args:
                if type(a) is Ref:
                    if a.s in exprs and uses.get(a.s) == 1 and a.s not in keep:
                        e, lv = exprs.pop(a.s)
                        pending.pop(a.s, None)
                        parts.append(e)
                        leaves |= lv
                    else:
                        parts.append(f"v{a.s}")
                        leaves.add(a.s)
                else:
                    parts.append(repr(float(a)))
            exprs[op.out] = (_NE[op.fn].format(*parts), leaves)
            pending[op.out] = op
            out.append(op)
        else:
            out.append(op)
    # every op whose expression was folded into a consumer disappears; the rest get numexpr
    result: list[Op] = []
    for op in out:
        if not _fusible(op, tr):
            result.append(op)
        elif op.out in exprs:
            expr, leaves = exprs[op.out]
            if expr.count("(") <= 1:              # a single op: NumPy is as good
                result.append(op)
                continue
            names = sorted(leaves)
            fn = _ne_kernel(ne, expr, names)
            result.append(Op(fn, tuple(Ref(s) for s in names), {}, op.out, "fused"))
    return result


def _ne_kernel(ne: Any, expr: str, names: list[int]) -> Callable[..., Any]:
    keys = [f"v{s}" for s in names]
    evaluate = ne.evaluate

    def kernel(*arrays: Any) -> Any:
        return evaluate(expr, local_dict=dict(zip(keys, arrays)))
    kernel.__name__ = "numexpr"
    kernel.expr = expr  # type: ignore[attr-defined]
    return kernel


def _all_refs(op: Op) -> list[int]:
    from ._program import _refs
    acc: list[int] = []
    _refs((op.args, op.kwargs), acc)
    return acc
