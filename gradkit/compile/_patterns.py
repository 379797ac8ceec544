"""Peephole rewrites of a compiled program that give the same bits: ops that return a slot
unchanged (``_identity``), and the matrix-vector backward's outer products and matrix-vector
products (``_outer_of``, ``_raw_outers``, ``_matvec_of``)."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ._templates import _Const, _op_refs, _uses
from ._tracer import Op, Ref, Trace, _method


_COPY_NAMES = frozenset({"ndarray.copy", "ndarray.astype", "ndarray.reshape", "ndarray.view"})
_COPY_FNS = (np.reshape, np.copy, np.asarray, np.ascontiguousarray, np.squeeze, np.broadcast_to)
#: every function ``_identity`` may elide: the ``ndarray`` methods are the tracer's cached
#: wrappers (``_tracer._method``), so one set lookup turns the others away
_MAYBE_IDENTITY = frozenset((np.multiply, operator.getitem) + _COPY_FNS +
                            tuple(_method(n.split(".", 1)[1]) for n in _COPY_NAMES))


def _identity(op: Op, args: Any, kwargs: dict, tr: Trace) -> int | None:
    """The slot ``op`` returns unchanged, if any (the program never writes a slot in place,
    so a copy or a no-op cast or reshape can share its input's array)."""
    fn = op.fn
    try:
        if fn not in _MAYBE_IDENTITY:
            return None       # NOTE: most ops: no metadata looked up
    except TypeError:         # an unhashable callable
        return None
    if fn is np.multiply and len(args) == 2 and not kwargs:
        # 1 * x is x exactly (NaN and -0.0 included): the engine's seed gradient of ones
        for one, other in ((args[0], args[1]), (args[1], args[0])):
            if type(other) is Ref and type(one) is _Const and _all_ones(one.v) and \
                    tr.meta.get(other.s) == tr.meta.get(op.out):
                return other.s
    if not args or type(args[0]) is not Ref:
        return None
    s = args[0].s
    meta = tr.meta.get(s)
    out_meta = tr.meta.get(op.out)
    if meta is None or out_meta != meta:
        return None
    if fn is operator.getitem and len(args) == 2 and type(args[1]) is tuple and not args[1] \
            and len(meta[0]) == 0:
        return s
    if getattr(fn, "__name__", "") in _COPY_NAMES or fn in _COPY_FNS:
        return s
    return None


_mouter = np.multiply.outer


def _outer(a: Any, b: Any) -> Any:
    """``a[:, None] @ b[None, :]`` as the matmul computes it: each product, plus 0.0 (BLAS and
    NumPy's loop add it to the zeroed output: a product -0.0 comes out +0.0)."""
    r = _mouter(a, b)
    r += 0.0
    return r


_outer.__name__ = "outer_as_matmul"


def _column_of(x: Any, defs: dict[int, Op], tr: Trace) -> Any:
    """The 1-d slot ``a`` if slot ``x`` is ``a`` reshaped to a column (n, 1), else None."""
    if type(x) is not Ref:
        return None
    d = defs.get(x.s)
    if d is None or d.fn is not np.reshape or d.kwargs or not d.args or type(d.args[0]) is not Ref:
        return None
    src = tr.meta.get(d.args[0].s)
    out = tr.meta.get(x.s)
    if src is None or out is None or len(src[0]) != 1 or out[0] != (src[0][0], 1) or \
            src[1] != out[1]:
        return None
    return d.args[0]


def _row_of(x: Any, defs: dict[int, Op], tr: Trace) -> Any:
    """The 1-d slot ``b`` if slot ``x`` is ``b`` as a row (1, m): ``reshape(b, (1, m))`` or
    ``transpose(reshape(b, (m, 1)))``, else None."""
    if type(x) is not Ref:
        return None
    t = defs.get(x.s)
    if t is None or t.kwargs or len(t.args) != 2 or type(t.args[0]) is not Ref:
        return None
    if t.fn is np.transpose:
        if type(t.args[1]) not in (tuple, list) or tuple(t.args[1]) != (1, 0):
            return None
        return _column_of(t.args[0], defs, tr)
    if t.fn is not np.reshape:
        return None
    src = tr.meta.get(t.args[0].s)
    out = tr.meta.get(x.s)
    if src is None or out is None or len(src[0]) != 1 or out[0] != (1, src[0][0]) or \
            src[1] != out[1]:
        return None
    return t.args[0]


def _outer_of(args: Any, kwargs: dict, defs: dict[int, Op], tr: Trace) -> Any:
    """``matmul(reshape(a, (n, 1)), reshape(b, (1, m)))`` (the outer product the
    matrix-vector backward builds; or with the row as ``transpose(reshape(b, (m, 1)))``) as
    the arguments of ``_outer(a, b)``: one op for three or four, the same numbers (each
    element is one product either way, signed zeros included)."""
    if kwargs or len(args) != 2:
        return None
    a = _column_of(args[0], defs, tr)
    if a is None:
        return None
    b = _row_of(args[1], defs, tr)
    if b is None or tr.meta.get(a.s, (0, None))[1] != tr.meta.get(b.s, (0, 0))[1]:
        return None
    return (a, b)


def _raw_outers(ops: list[Op], keep: set[int]) -> None:
    """An outer product read only by ``x + outer`` where ``x`` is never -0.0 needs no
    ``+ 0.0``: ``x + (0.0 + p) == x + p`` then (an IEEE sum is -0.0 only when both terms are).
    So it is with an accumulation of outer products: the gradient of a matrix over the steps."""
    fns = [op.fn for op in ops]
    if _outer not in fns:
        return
    uses = None
    outers: dict[int, Op] = {}        # slot -> the _outer op computing it
    never_neg0: set[int] = set()
    add = np.add
    for op, fn in zip(ops, fns):
        if fn is _outer:
            never_neg0.add(op.out)
            outers[op.out] = op
        elif fn is add and len(op.args) == 2 and not op.kwargs:
            a, b = op.args
            if type(a) is not Ref or type(b) is not Ref or \
                    (a.s not in never_neg0 and b.s not in never_neg0):
                continue
            for x, y in ((a, b), (b, a)):
                d = outers.get(y.s)
                if x.s in never_neg0 and d is not None and d.fn is _outer and y.s not in keep:
                    if uses is None:
                        uses = _uses(ops)
                    if uses.get(y.s) == 1:
                        d.fn = _mouter
                        never_neg0.discard(y.s)
                        break
            never_neg0.add(op.out)


def _matvec_of(args: Any, kwargs: dict, defs: dict[int, Op], tr: Trace, out: int) -> Any:
    """``reshape(matmul(A, reshape(g, (n, 1))), (m,))`` as ``matmul(A, g)``: NumPy's matmul
    treats a 1-d second operand as that very column (the same inner loop, the same BLAS
    call), so the numbers are the same; two reshapes fewer per matrix-vector backward."""
    if kwargs or len(args) != 2 or type(args[0]) is not Ref:
        return None
    mm = defs.get(args[0].s)
    if mm is None or mm.fn is not np.matmul or mm.kwargs or len(mm.args) != 2:
        return None
    g = _column_of(mm.args[1], defs, tr)
    a = mm.args[0]
    am = tr.meta.get(a.s) if type(a) is Ref else \
        ((np.shape(a.v), getattr(a.v, "dtype", None)) if type(a) is _Const else None)
    om, gm, mmm = tr.meta.get(out), tr.meta.get(g.s) if g is not None else None, \
        tr.meta.get(args[0].s)
    if g is None or am is None or om is None or gm is None or mmm is None or \
            len(am[0]) != 2 or om[0] != (am[0][0],) or mmm[0] != (am[0][0], 1) or \
            am[1] != gm[1] or om[1] != mmm[1]:
        return None
    return (a, g), mm.kind


def _all_ones(v: Any) -> bool:
    if type(v) is np.ndarray:
        return v.dtype.kind in "fcV" and v.size > 0 and bool((v == 1).all())
    return False


#: binary ufuncs whose both operands take the common dtype (NEP 50's weak Python numbers)
_NEP50_BINARY = frozenset({np.add, np.subtract, np.multiply, np.true_divide, np.power,
                           np.maximum, np.minimum, np.arctan2, np.hypot})


def _typed_scalars(ops: list[Op], tr: Trace) -> None:
    """A Python number beside an array in a ufunc, as the NumPy scalar of that array's dtype
    (named in the program once): NumPy 2 converts a Python number to the other operand's
    dtype before the operation (NEP 50), so the operation is the same, without converting the
    number on every call. Only where the result has that dtype, the array is not 0-d (0-d
    operands become Python operators instead, ``_program._scalar_operands``) and the number is
    a float or an int that the dtype holds exactly."""
    for op in ops:
        if op.fn not in _NEP50_BINARY or op.kind != "ufunc" or op.kwargs or \
                type(op.out) is tuple or len(op.args) != 2:
            continue
        a, b = op.args
        if type(a) is Ref and type(b) in (float, int):
            arr, k = a, 1
        elif type(b) is Ref and type(a) in (float, int):
            arr, k = b, 0
        else:
            continue
        m, mo = tr.meta.get(arr.s), tr.meta.get(op.out)
        if m is None or mo is None or m[1] != mo[1] or mo[1].kind != "f" or not m[0] or \
                mo[0] != m[0]:
            continue
        v = op.args[k]
        if type(v) is int and not -2 ** 24 < v < 2 ** 24:
            continue
        with np.errstate(over="ignore"):
            c = mo[1].type(v)
        if np.isfinite(v) and not np.isfinite(c):
            continue                  # eager warns of the overflow on every call: so must we
        args = list(op.args)
        args[k] = _Const(c)
        op.args = tuple(args)


def _array_constants(ops: list[Op], tr: Trace) -> None:
    """A NumPy scalar beside an array in a ufunc, as a read-only 0-d array of the same value
    and dtype: NumPy converts a scalar operand to an array on every call (measured here: a
    float32 product of a 100-vector and a NumPy scalar costs 1.5-2.7x the product of two
    arrays; with a 0-d array, as much as two arrays). The same operation: NumPy 2 promotes a
    NumPy scalar and a 0-d array alike (NEP 50: both strongly typed)."""
    for op in ops:
        if op.kind != "ufunc" or op.kwargs or type(op.out) is tuple or \
                type(op.fn) is not np.ufunc:
            continue
        mo = tr.meta.get(op.out)
        if mo is None or not mo[0] or not any(type(a) is Ref for a in op.args):
            continue                      # a 0-d result: the scalar path of _program
        if not any(type(a) is _Const and isinstance(a.v, np.generic) for a in op.args):
            continue
        args = []
        for a in op.args:
            if type(a) is _Const and isinstance(a.v, np.generic):
                z = np.array(a.v)
                z.flags.writeable = False
                a = _Const(z)
            args.append(a)
        op.args = tuple(args)


class _SwappedMatmul:
    """A product of two 2-d arrays made in the other orientation, where BLAS gives the same
    bits. ``"tn"``: ``f(y, a)`` is ``matmul(a.T, y).T`` (a linear layer's weight gradient,
    ``(x.T @ g).T``), made as ``matmul(y.T, a)``: C-contiguous, as PyTorch's, instead of a
    transposed view. ``"nt"``: ``f(x, w)`` is ``matmul(x, w.T)`` (a linear layer's forward),
    made as ``matmul(w, x.T).T`` copied to C order (eager's layout; the copy of the small
    activation is cheap beside the product): OpenBLAS's kernel for that orientation was
    15-20% faster here on the 784-512-512-10 MLP's forward. NumPy hands transposed operands
    to BLAS as they are (no copy).

    BLAS picks its kernels by shape, dtype and layout, not by value, and on most shapes the
    two orientations round alike; not on all (OpenBLAS 0.3, float64, (300, 2) by (2, 200): its
    edge kernels differ). So the first call with each layout of the operands checks the two
    orientations on two draws of those very shapes, dtypes and layouts (one random, one whose
    products cancel in pairs along the summed axis, so that a fused multiply-add against a
    separate multiply and add, or another order of the sum, shows in nearly every element)
    and uses the swap only if every bit agreed; otherwise, and for operands that are neither
    C- nor F-contiguous, it computes eager's own expression."""

    __slots__ = ("kind", "verdicts", "__name__")

    def __init__(self, kind: str = "tn") -> None:
        self.kind = kind
        self.verdicts: dict[Any, bool] = {}
        self.__name__ = f"matmul_{kind}"

    def __call__(self, p: Any, q: Any) -> Any:
        fp, fq = p.flags, q.flags
        key = (fp.c_contiguous, fp.f_contiguous, fq.c_contiguous, fq.f_contiguous,
               p.shape, q.shape, p.dtype, q.dtype)
        ok = self.verdicts.get(key)
        if ok is None:
            ok = self.verdicts[key] = _swap_exact(p, q, self.kind)
        if self.kind == "tn":
            return np.matmul(p.T, q) if ok else np.matmul(q.T, p).T
        return np.ascontiguousarray(np.matmul(q, p.T).T) if ok else np.matmul(p, q.T)


def _like(x: Any, rng: Any) -> Any:
    """A random array of ``x``'s shape, dtype and (C or F) layout."""
    r = np.empty(x.shape, x.dtype, order="C" if x.flags.c_contiguous else "F")
    r[...] = rng.random(x.shape, dtype=x.dtype) * 2 - 1     # random mantissas, both signs
    return r


def _swap_exact(p: Any, q: Any, kind: str = "tn") -> bool:
    """Whether the two orientations of ``_SwappedMatmul(kind)`` give the same bits for
    operands of ``p``'s and ``q``'s shapes, dtypes and layouts (see there)."""
    if p.dtype != q.dtype or p.dtype not in (np.float32, np.float64) or p.ndim != 2 or \
            q.ndim != 2 or not (p.flags.c_contiguous or p.flags.f_contiguous) or \
            not (q.flags.c_contiguous or q.flags.f_contiguous):
        return False
    rng = np.random.default_rng(20261207)
    ax = 0 if kind == "tn" else 1                 # the summed axis of both operands
    for pairs in (False, True):
        a, b = _like(p, rng), _like(q, rng)
        k = a.shape[ax]
        if pairs and k >= 2:
            h = k // 2 * 2
            ev = (slice(0, h, 2),) if ax == 0 else (slice(None), slice(0, h, 2))
            od = (slice(1, h, 2),) if ax == 0 else (slice(None), slice(1, h, 2))
            d = rng.uniform(-2 ** -8, 2 ** -8, b[ev].shape)
            b[od] = b[ev] * (1 + d).astype(b.dtype)
            a[od] = -a[ev]
        if kind == "tn":
            same = np.array_equal(np.matmul(b.T, a).T, np.matmul(a.T, b), equal_nan=True)
        else:
            same = np.array_equal(np.matmul(a, b.T), np.matmul(b, a.T).T, equal_nan=True)
        if not same:
            return False
    return True


#: below this many elements a product's layout costs little: left as eager has it
_SWAP_MIN = 4096


def _gemm_layouts(ops: list[Op], keep: set[int], tr: Trace) -> None:
    """``transpose(matmul(transpose(a), y))`` (a linear layer's weight gradient) as
    ``_SwappedMatmul()(y, a)``: the gradient then has the weight's layout, and an optimizer's
    update ``w - lr * grad`` reads both arrays in the same order: on a 512x784 float32 weight
    the update took 1.1 ms with the transposed gradient against 0.1 ms (NumPy walks one of
    the two across rows, a cache line and a TLB entry per element). Only on products of at
    least ``_SWAP_MIN`` elements, and only where nothing but elementwise operations read the
    gradient in the program (``_layout_free``); the gradient handed out is C-contiguous where
    eager's is a transposed view (the same values).

    And ``matmul(x, transpose(w))`` (the forward) as ``_SwappedMatmul("nt")(x, w)``: its
    result is C-contiguous as eager's (an F-ordered one, tried first, made the bias
    gradient's ``sum(axis=0)`` downstream sum in another order: last-bit differences)."""
    uses: dict[int, int] = {}
    for op in ops:
        for s in _op_refs(op):
            uses[s] = uses.get(s, 0) + 1
    defs = {op.out: op for op in ops if type(op.out) is not tuple}
    readers: dict[int, list[Op]] = {}
    for op in ops:
        for s in set(_op_refs(op)):
            readers.setdefault(s, []).append(op)
    for op in ops:
        if op.fn is np.matmul and not op.kwargs and len(op.args) == 2 and \
                type(op.args[0]) is Ref and type(op.args[1]) is Ref:
            w = _transpose_of(defs.get(op.args[1].s), tr)
            if w is None or _transpose_of(defs.get(w.s), tr) is not None:
                continue                  # w.T is a plain array: the product is one already
            x = op.args[0]
            mx, mw, mo = tr.meta.get(x.s), tr.meta.get(w.s), tr.meta.get(op.out)
            if mx is None or mw is None or mo is None or len(mx[0]) != 2 or \
                    len(mo[0]) != 2 or mo[0][0] < 2 or mo[0][1] < 2 or \
                    mo[0][0] * mo[0][1] < _SWAP_MIN or mw[1] != mx[1] or mo[1] != mx[1] or \
                    mx[1] not in (np.float32, np.float64):
                continue
            op.fn, op.args, op.kind, op.refs = _SwappedMatmul("nt"), (x, w), "fresh", None
            continue
        t = _transpose_of(op, tr)
        if t is None or uses.get(t.s) != 1 or t.s in keep:
            continue
        mm = defs.get(t.s)
        if mm is None or mm.fn is not np.matmul or mm.kwargs or len(mm.args) != 2 or \
                type(mm.args[1]) is not Ref or type(mm.args[0]) is not Ref:
            continue
        a = _transpose_of(defs.get(mm.args[0].s), tr)
        y = mm.args[1]
        if a is None:
            continue
        ma, my, mr = tr.meta.get(a.s), tr.meta.get(y.s), tr.meta.get(op.out)
        if ma is None or my is None or mr is None or len(ma[0]) != 2 or len(my[0]) != 2 or \
                ma[1] != my[1] or mr[1] != ma[1] or ma[1] not in (np.float32, np.float64):
            continue
        (k, m), (k2, n) = ma[0], my[0]
        if k2 != k or m < 2 or n < 2 or m * n < _SWAP_MIN or mr[0] != (n, m) or \
                not _layout_free(op.out, readers, keep):
            continue
        op.fn, op.args, op.kwargs, op.kind, op.refs = _SwappedMatmul(), (y, a), {}, "fresh", None


def _layout_free(s: int, readers: dict[int, list[Op]], keep: set[int]) -> bool:
    """Whether what the program computes from slot ``s`` is the same whatever its layout:
    read only by elementwise ufuncs (or their in-place forms) whose results are read so in
    turn, or handed out. A reduction sums in memory order, and BLAS picks its kernel by
    layout: either would round otherwise."""
    todo, seen = [s], set()
    while todo:
        v = todo.pop()
        if v in seen:
            continue
        seen.add(v)
        for op in readers.get(v, ()):
            if type(op.out) is tuple:
                return False
            f = op.fn
            if not (op.kind == "ufunc" and type(f) is np.ufunc or
                    type(getattr(f, "ufunc", None)) is np.ufunc and op.kwargs == {}):
                return False
            todo.append(op.out)
    return True


def _transpose_of(op: Op | None, tr: Trace) -> Any:
    """The slot ``a`` if ``op`` is ``transpose(a, (1, 0))`` of a 2-d ``a``, else None."""
    if op is None or op.fn is not np.transpose or op.kwargs or not op.args or \
            type(op.args[0]) is not Ref or type(op.out) is tuple:
        return None
    if len(op.args) == 2 and (type(op.args[1]) not in (tuple, list) or
                              tuple(op.args[1]) != (1, 0)):
        return None
    if len(op.args) > 2:
        return None
    m = tr.meta.get(op.args[0].s)
    return op.args[0] if m is not None and len(m[0]) == 2 else None


_add_reduce = np.add.reduce


def _mean_all(x: Any, n: Any) -> Any:
    """``np.mean(x)`` of a non-empty float32/float64 array, as NumPy computes it (its
    ``_methods._mean``: the sum by ``np.add.reduce``, divided by the count as an ``intp``,
    then cast back to the sum's type), without the Python layers around it (about 15 µs
    here, for a few µs of work)."""
    r = _add_reduce(x, axis=None)
    return r.dtype.type(r / n)


_mean_all.__name__ = "mean_all"


def _means(ops: list[Op], tr: Trace) -> None:
    """``np.mean(x, axis=None, keepdims=False)`` of a float32/float64 array as ``_mean_all``."""
    for op in ops:
        if op.fn is not np.mean or len(op.args) != 1 or type(op.args[0]) is not Ref or \
                type(op.out) is tuple or \
                any(k not in ("axis", "keepdims") for k in op.kwargs) or \
                op.kwargs.get("axis", None) is not None or op.kwargs.get("keepdims", False):
            continue
        m = tr.meta.get(op.args[0].s)
        if m is None or m[1] not in (np.float32, np.float64):
            continue
        size = 1
        for d in m[0]:
            size *= d
        if size == 0:
            continue                     # NumPy warns of the empty mean: left to it
        op.fn, op.args, op.kwargs, op.refs = _mean_all, (op.args[0], _Const(np.intp(size))), \
            {}, None


_BITS_OF = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}


def _zero_where(mask: Any, g: Any) -> Any:
    """``np.where(mask, 0.0, g)`` (ReLU's and other masks' backward) as two integer passes
    over the bits: ``g & keep`` with ``keep`` 0 where ``mask`` holds and -1 (all bits set)
    elsewhere. Bit for bit ``where``'s result (+0.0 where masked; every other element,
    NaN payloads and -0.0 included, as it was) and C-contiguous like it, in about a fifth of
    its time on a 64x512 float32 gradient (10 against 50 µs here). Other layouts, shapes or
    dtypes take ``np.where`` itself."""
    if type(mask) is np.ndarray and type(g) is np.ndarray and mask.dtype == np.bool_ and \
            mask.shape == g.shape and mask.flags.c_contiguous and g.flags.c_contiguous:
        it = _BITS_OF.get(g.dtype)
        if it is not None:
            keep = np.subtract(mask.view(np.int8), 1, dtype=it)      # True -> 0, False -> -1
            return np.bitwise_and(g.view(it), keep, out=keep).view(g.dtype)
    return np.where(mask, 0.0, g)


_zero_where.__name__ = "zero_where"


def _masked_zeros(ops: list[Op], tr: Trace) -> None:
    """``np.where(mask, 0.0, g)`` of a boolean mask and a float32/float64 array of its shape,
    giving that dtype, as ``_zero_where``."""
    for op in ops:
        if op.fn is not np.where or op.kwargs or len(op.args) != 3 or type(op.out) is tuple:
            continue
        m, z, g = op.args
        if type(m) is not Ref or type(g) is not Ref or type(z) is not float or z != 0.0 or \
                np.copysign(1.0, z) < 0:
            continue
        mm, mg, mo = tr.meta.get(m.s), tr.meta.get(g.s), tr.meta.get(op.out)
        if mm is None or mg is None or mo is None or mm[1] != np.bool_ or \
                mg[1] not in _BITS_OF or mo[1] != mg[1] or mm[0] != mg[0] or mo[0] != mg[0]:
            continue
        op.fn, op.args, op.refs = _zero_where, (m, g), None
