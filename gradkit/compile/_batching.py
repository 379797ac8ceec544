"""Fewer NumPy calls than recorded operations, with eager's bits: two passes over an unrolled
loop's program (a Python loop of many steps that the trace unrolled, such as an RNN).

``_stack_accumulations``: ``acc = acc + outer(a_t, b_t)`` over many steps (the gradient of a
matrix over the steps of a recurrence) becomes one kernel (``_outer_sum``) that stacks the
``a_t`` and ``b_t``, multiplies them in cache-sized blocks and sums each block along the step
axis with ``np.add.reduce(axis=0, initial=-0.0)``, which NumPy runs as one elementwise add per
step in step order (the reduced axis is the outer loop: no pairwise summation; -0.0 is the
exact identity of IEEE addition, where NumPy's default start 0.0 would turn a -0.0 sum into
+0.0): the same additions in the same order, so the same bits
(tests/compile/test_compile_batching.py checks it).

``_batch_families``: ops repeated across steps (the same function on the same constants and
shapes) whose inputs are all known before the first of them (``1 - h*h`` of the backward on
the forward's states, ``U @ x[t]`` on the input rows, the rows ``x[t]`` themselves) run once on
the stacked inputs, and the steps that need a result read its row. Only operations whose every
element is computed alone and the same way in one call or many are batched: IEEE arithmetic
(``+ - * /``, negation), and matrix-vector products as NumPy's stacked ``matmul``, which makes
the same BLAS call per row as the unbatched one.
"""

from __future__ import annotations

import math
import operator
from itertools import chain, compress
from typing import Any

import numpy as np

from ._patterns import _mouter, _outer
from ._templates import _Const, _key, _op_refs, _uses
from ._tracer import Op, Ref, Trace

__all__ = ["stack_accumulations", "batch_families"]

#: fewest steps in a chain or a family for it to be rewritten
MIN_STEPS = 16
#: elements of a block of products in ``_outer_sum`` (fits the L2 cache)
_BLOCK = 32768
#: most elements of one step's result: past it a NumPy call's overhead is small beside its
#: work, and stacking would only copy (an outer product: at least 4 steps to a block)
MAX_ELEMENTS = 8192
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _stack(xs: list) -> Any:
    return np.array(xs)


def _outer_sum(A: Any, B: Any, plus_zero: bool) -> Any:
    """``outer(A[0], B[0]) + outer(A[1], B[1]) + ...`` summed in that order (each element one
    product, one addition per step: eager's numbers), ``+ 0.0`` at the end when eager's first
    term had it (then no sum is -0.0)."""
    T, n = A.shape
    m = B.shape[1]
    blk = max(1, min(T, _BLOCK // max(1, n * m)))
    buf = np.empty((blk + 1, n, m), np.result_type(A, B))
    acc = None
    s = 0
    while s < T:
        e = min(T, s + blk)
        if acc is None:
            np.multiply(A[s:e, :, None], B[s:e, None, :], out=buf[:e - s])
            acc = np.add.reduce(buf[:e - s], axis=0, initial=-0.0)
        else:
            buf[0] = acc
            np.multiply(A[s:e, :, None], B[s:e, None, :], out=buf[1:e - s + 1])
            np.add.reduce(buf[:e - s + 1], axis=0, out=acc, initial=-0.0)
        s = e
    if plus_zero:
        acc += 0.0
    return acc


_outer_sum.__name__ = "outer_sum"


def _rows(B: Any) -> tuple:
    return tuple(B)


def _batched_matvec(A: Any, X: Any) -> Any:
    return np.matmul(A, X[:, :, None])[:, :, 0]


def _run_of(refs: list, rows: dict[int, tuple[int, int]]) -> Any:
    """``(stack slot, slice)`` if the slots ``refs`` are consecutive rows (either direction)
    of one stacked array already in the program, else None."""
    r0 = rows.get(refs[0].s) if type(refs[0]) is Ref else None
    if r0 is None or len(refs) < 2:
        return None
    S, i0 = r0
    r1 = rows.get(refs[1].s) if type(refs[1]) is Ref else None
    if r1 is None or r1[0] != S or abs(r1[1] - i0) != 1:
        return None
    d = r1[1] - i0
    for k, r in enumerate(refs):
        if type(r) is not Ref or rows.get(r.s) != (S, i0 + k * d):
            return None
    stop = i0 + len(refs) * d
    return S, slice(i0, stop if stop >= 0 else None, d)


def _meta(x: Any, tr: Trace) -> Any:
    if type(x) is Ref:
        return tr.meta.get(x.s)
    return None


def stack_accumulations(ops: list[Op], tr: Trace, keep: set[int],
                        rows: dict[int, tuple[int, int]]) -> list[Op]:
    """Chains ``acc = acc + outer(a_t, b_t)`` of ``MIN_STEPS`` terms or more, each partial sum
    read only by the next addition, as one ``_outer_sum`` (see the module's docstring).
    ``rows``: slot -> (stacked slot, row) of the stacks ``batch_families`` made (a run of
    them is a slice, not a new stack)."""
    fns = [op.fn for op in ops]
    if fns.count(_mouter) + fns.count(_outer) < MIN_STEPS:
        return ops
    uses = _uses(ops)
    defs = {op.out: i for i, op in enumerate(ops) if type(op.out) is not tuple}

    def term(x: Any) -> Any:
        """(a, b, fn) if slot ``x`` is a single-use outer product of two 1-d float slots."""
        if type(x) is not Ref or uses.get(x.s) != 1 or x.s in keep or x.s not in defs:
            return None
        op = ops[defs[x.s]]
        if op.fn not in (_outer, _mouter) or op.kwargs or len(op.args) != 2:
            return None
        a, b = op.args
        ma, mb, mo = _meta(a, tr), _meta(b, tr), tr.meta.get(op.out)
        if ma is None or mb is None or mo is None or len(ma[0]) != 1 or len(mb[0]) != 1 or \
                not (ma[1] == mb[1] == mo[1]) or mo[1] not in _FLOATS or \
                not 4 <= ma[0][0] * mb[0][0] <= MAX_ELEMENTS:
            # NOTE: a 1x1 outer product would make the step axis NumPy's inner loop, which it
            # sums pairwise: not eager's order (and nothing to gain on so few elements)
            return None
        return a, b, op.fn, mo

    chains: dict[int, list] = {}       # the slot of a chain's running sum -> [terms, op indices]
    add = np.add
    for i, op in enumerate(ops):
        if op.fn is not add or op.kwargs or len(op.args) != 2 or \
                any(type(a) is not Ref for a in op.args) or tr.meta.get(op.out) is None:
            continue
        x, y = op.args
        ch = None
        for acc, t in ((x, y), (y, x)):
            if acc.s in chains and uses.get(acc.s) == 1 and acc.s not in keep:
                tt = term(t)
                if tt is not None and tt[3] == chains[acc.s][0][0][3] and \
                        tr.meta[op.out] == tt[3]:
                    ch = chains.pop(acc.s)
                    ch[0].append(tt)
                    ch[1].append(defs[t.s])
                    ch[1].append(i)
                    break
        if ch is None:
            tx, ty = term(x), term(y)
            if tx is None or ty is None or tx[3] != ty[3] or tr.meta[op.out] != tx[3]:
                continue
            ch = [[tx, ty], [defs[x.s], defs[y.s], i]]
        chains[op.out] = ch
    done = [(c[0], c[1], out) for out, c in chains.items() if len(c[0]) >= MIN_STEPS]
    if not done:
        return ops
    drop: set[int] = set()
    put: dict[int, list[Op]] = {}
    stacks: dict[tuple, tuple[int, int]] = {}      # slots stacked -> (stack slot, placed after)
    # NOTE: the first reader of each chain's sum only (not of every slot)
    first_use: dict[int, int] = {}
    wanted = {out for _t, _i, out in done}
    for i, op in enumerate(ops):
        if not wanted.isdisjoint(_op_refs(op)):
            for s in op.refs:
                if s in wanted:
                    first_use.setdefault(s, i)

    def stacked(refs: list, meta: Any, at: int, before: int) -> tuple[Ref, int]:
        """The stack of ``refs`` and where it is ready: its own op after op ``at``, or the
        first rows of a longer stack ready before op ``before``."""
        k = tuple(r.s for r in refs)
        got = stacks.get(k)
        if got is not None and got[1] < before:
            return Ref(got[0]), max(at, got[1])
        s = tr.slot()
        tr.meta[s] = ((len(refs),) + meta[0], meta[1])
        run = _run_of(refs, rows)
        if run is not None and run[0] in defs:
            new.append(Op(operator.getitem, (Ref(run[0]), run[1]), {}, s, "call"))
            at = max(at, defs[run[0]])
            stacks[k] = (s, at)
            return Ref(s), at
        for k2, (s2, at2) in stacks.items():
            if len(k2) > len(k) and k2[:len(k)] == k and at2 < before:
                new.append(Op(operator.getitem, (Ref(s2), slice(None, len(k), None)), {}, s,
                              "call"))
                stacks[k] = (s, max(at, at2))
                return Ref(s), max(at, at2)
        new.append(Op(_stack, (list(refs),), {}, s, "call"))
        stacks[k] = (s, at)
        return Ref(s), at

    # NOTE: longest first, so a shorter chain's stack can be the first rows of a longer one's
    done.sort(key=lambda c: -len(c[0]))
    for terms, idx, out in done:
        new: list[Op] = []
        at, before = max(idx), first_use.get(out, len(ops))
        A, at = stacked([t[0] for t in terms], _meta(terms[0][0], tr), at, before)
        B, at = stacked([t[1] for t in terms], _meta(terms[0][1], tr), at, before)
        plus_zero = any(t[2] is _outer for t in terms)
        new.append(Op(_outer_sum, (A, B, plus_zero), {}, out, "call"))
        drop.update(idx)
        put.setdefault(at, []).extend(new)
    alive = [True] * len(ops)
    for i in drop:
        alive[i] = False
    res: list[Op] = []
    a = 0
    for at in sorted(put):
        res.extend(compress(ops[a:at + 1], alive[a:at + 1]))
        res.extend(put[at])
        a = at + 1
    res.extend(compress(ops[a:], alive[a:]))
    return res


#: ufuncs whose every element is one IEEE operation (the same in any call)
_EXACT_UFUNCS = {np.add, np.subtract, np.multiply, np.true_divide, np.negative}


#: unary ufuncs whose SIMD or scalar loop computes each element alone by the same code
#: whatever the array's length, on contiguous data (the lanes of a vector, the tail masked):
#: batched only on inputs that a ufunc computed (contiguous, as the stack is)
_LANE_UFUNCS = {np.sin, np.cos, np.tan, np.tanh, np.exp, np.log, np.sqrt, np.expm1, np.log1p,
                np.arctan, np.sinh, np.cosh, np.square, np.reciprocal, np.absolute}
#: the functions ``_signature`` may batch
_BATCHED = _EXACT_UFUNCS | _LANE_UFUNCS | {np.matmul, operator.getitem}


def _signature(op: Op, tr: Trace, src: dict[int, Any], fresh: set[int]) -> Any:
    """A key shared by the ops of one family, or None for an op that is never batched.
    ``src``: slot -> the function that computed it (ops of one step that differ in where their
    arguments come from, ``h * h`` and ``g * d``, are different families); ``fresh``: the
    slots a ufunc computed (new C-contiguous arrays)."""
    if type(op.out) is tuple or op.kwargs:
        return None
    meta = tr.meta
    mo = meta.get(op.out)
    if mo is None or mo[1] not in _FLOATS or math.prod(mo[0]) > MAX_ELEMENTS:
        return None
    fn = op.fn
    args = op.args
    if fn in _LANE_UFUNCS:
        if op.kind == "ufunc" and len(args) == 1 and type(args[0]) is Ref and \
                meta.get(args[0].s) == mo and args[0].s in fresh:
            return ("u", fn, (("r", -1, src.get(args[0].s)),), mo)
        return None
    if fn in _EXACT_UFUNCS and op.kind == "ufunc":
        pat: list[Any] = []
        seen: list[int] = []
        for a in args:
            if type(a) is Ref:
                if meta.get(a.s) != mo:
                    return None
                pat.append(("r", seen.index(a.s) if a.s in seen else -1, src.get(a.s)))
                seen.append(a.s)
            elif type(a) in (float, int):
                pat.append(("v", type(a).__name__, float(a).hex()))
            else:
                return None
        return ("u", fn, tuple(pat), mo)
    if fn is np.matmul and len(op.args) == 2 and type(op.args[1]) is Ref:
        A, x = op.args
        mx = tr.meta.get(x.s)
        mA = _meta(A, tr) if type(A) is Ref else \
            ((np.shape(A.v), getattr(A.v, "dtype", None)) if type(A) is _Const else None)
        if mA is None or mx is None or len(mA[0]) != 2 or len(mx[0]) != 1 or \
                mA[1] != mx[1] or mo[1] != mx[1] or mo[0] != (mA[0][0],):
            return None
        return ("mm", _key(A), mx, mo)
    if fn is operator.getitem and len(op.args) == 2 and type(op.args[0]) is Ref:
        X, ix = op.args
        mX = tr.meta.get(X.s)
        if mX is None or not mX[0]:
            return None
        if type(ix) is tuple and len(ix) >= 1 and type(ix[0]) is int and \
                all(_full(e) for e in ix[1:]):
            rest = tuple(_key(e) for e in ix[1:])
        elif type(ix) is int:
            rest = None
        else:
            return None
        if mo != (mX[0][1:], mX[1]):
            return None
        return ("row", X.s, rest, mo)
    return None


def _full(e: Any) -> bool:
    """Whether index ``e`` keeps a whole axis (``:`` or ``...``)."""
    v = e.v if type(e) is _Const else e
    return v is Ellipsis or (type(v) is slice and v == slice(None))


def _row_index(op: Op) -> int:
    ix = op.args[1]
    return ix[0] if type(ix) is tuple else ix


def _take_rows(X: Any, idx: Any) -> Any:
    return X[idx]


class _State:
    """What ``batch_families`` has made so far."""

    def __init__(self) -> None:
        self.batched: dict[int, tuple[int, int]] = {}    # member slot -> (batch slot, row)
        self.rows_of: dict[int, list[int]] = {}          # batch slot -> its members, in order
        self.split: set[int] = set()                     # batches whose rows must be slots
        self.stacks: dict[tuple, int] = {}               # slots stacked -> the stack's slot


def _column(col: list, N: int, meta: Any, st: _State, new: list[Op], tr: Trace,
            rows: dict[int, tuple[int, int]]) -> Any:
    """The members' arguments ``col`` (one position) stacked: a shared one as it is, the rows
    of one batch in order as that batch, else a new stack (op appended to ``new``)."""
    if all(type(c) is not Ref for c in col):
        return col[0]
    if all(type(c) is Ref and c.s == col[0].s for c in col):
        return col[0]
    bs = [st.batched.get(c.s) if type(c) is Ref else None for c in col]
    if bs[0] is not None and all(b is not None and b[0] == bs[0][0] and b[1] == r
                                 for r, b in enumerate(bs)) and \
            len(st.rows_of[bs[0][0]]) == N:
        return Ref(bs[0][0])
    key = tuple(c.s if type(c) is Ref else None for c in col)
    if key in st.stacks:
        return Ref(st.stacks[key])
    for b in bs:
        if b is not None:
            st.split.add(b[0])
    S = st.stacks[key] = tr.slot()
    tr.meta[S] = ((N,) + meta[0], meta[1])
    new.append(Op(_stack, (list(col),), {}, S, "call"))
    for r, c in enumerate(col):
        rows.setdefault(c.s, (S, r))
    return Ref(S)


def batch_families(ops: list[Op], tr: Trace, keep: set[int],
                   rows: dict[int, tuple[int, int]]) -> list[Op]:
    """Families of ``MIN_STEPS`` ops or more whose inputs are all known before the first of
    them, each as one op on stacked inputs (see the module's docstring). Fills ``rows``:
    slot -> (stacked slot, row) for the stacks and batched results it makes."""
    fams: dict[Any, list[int]] = {}
    src: dict[int, Any] = {}
    fresh: set[int] = set()
    pos: dict[int, int] = {}
    # NOTE: one pass: an op's arguments are computed before it, so what ``_signature`` reads
    # of them is known by then
    for i, op in enumerate(ops):
        o = op.out
        if type(o) is tuple:
            for s in o:
                pos[s] = i
            continue
        pos[o] = i
        fn = op.fn
        if fn in _BATCHED:
            k = _signature(op, tr, src, fresh)
            if k is not None:
                if k in fams:
                    fams[k].append(i)
                else:
                    fams[k] = [i]
        src[o] = id(fn)
        if op.kind == "ufunc":
            fresh.add(o)
    cands = sorted((v for v in fams.values() if len(v) >= MIN_STEPS), key=lambda v: v[0])
    if not cands:
        return ops
    st = _State()
    batched, rows_of, split = st.batched, st.rows_of, st.split
    where: dict[int, int] = {}                   # batch slot -> the op index it follows
    emit: dict[int, list[tuple[int, list[Op]]]] = {}
    drop: set[int] = set()
    for members in cands:
        first = members[0]
        ok = True
        at = -1
        for i in members:
            for s in _op_refs(ops[i]):
                if s in batched:
                    at = max(at, where[batched[s][0]])
                else:
                    at = max(at, pos.get(s, -1))
                if at >= first:
                    ok = False
                    break
            if not ok:
                break
        if not ok:
            continue
        ops0 = ops[members[0]]
        sig = _signature(ops0, tr, src, fresh)
        new: list[Op] = []
        N = len(members)
        mo = tr.meta[ops0.out]
        B = tr.slot()
        tr.meta[B] = ((N,) + mo[0], mo[1])

        def column(j: int, meta: Any, members: list[int] = members, N: int = N,
                   new: list[Op] = new) -> Any:
            return _column([ops[i].args[j] for i in members], N, meta, st, new, tr, rows)

        if sig[0] == "u":
            args = tuple(column(j, mo) if type(a) is Ref else a
                         for j, a in enumerate(ops0.args))
            if all(type(a) is not Ref or tr.meta[a.s] == mo for a in args):
                continue                 # no argument differs between members
            new.append(Op(ops0.fn, args, {}, B, "ufunc"))
        elif sig[0] == "mm":
            A = ops0.args[0]
            X = column(1, tr.meta[ops0.args[1].s])
            if type(X) is Ref and X.s == ops0.args[1].s:
                continue
            new.append(Op(_batched_matvec, (A, X), {}, B, "call"))
        else:
            idx = [_row_index(ops[i]) for i in members]
            d = idx[1] - idx[0]
            if d != 0 and all(idx[k] == idx[0] + k * d for k in range(N)) and \
                    idx[0] >= 0 and (idx[-1] >= 0):
                stop = idx[-1] + (1 if d > 0 else -1)
                ix = slice(idx[0], stop if stop >= 0 else None, d)
                new.append(Op(_take_rows, (ops0.args[0], ix), {}, B, "call"))
            else:
                new.append(Op(_take_rows, (ops0.args[0], list(idx)), {}, B, "call"))
        for r, i in enumerate(members):
            batched[ops[i].out] = (B, r)
            rows.setdefault(ops[i].out, (B, r))
            drop.add(i)
        rows_of[B] = [ops[i].out for i in members]
        where[B] = at
        emit.setdefault(at, []).append((B, new))
    if not drop:
        return ops
    # members read by ops that stay (or handed out) come back as slots: the rows of their batch
    alive = [True] * len(ops)
    for i in drop:
        alive[i] = False
    read = set(chain.from_iterable([op.refs if op.refs is not None else _op_refs(op)
                                    for op in compress(ops, alive)]))
    need: set[int] = {batched[s][0] for s in read.intersection(batched)}
    for s in keep:
        if s in batched:
            need.add(batched[s][0])
    need |= split
    res: list[Op] = []

    def place(at: int) -> None:
        for B, new in emit[at]:
            res.extend(new)
            if B in need:
                res.append(Op(_rows, (Ref(B),), {}, tuple(rows_of[B]), "call"))
    # NOTE: the ops kept between the places of the batches, taken in C (compress)
    a = 0
    for at in sorted(emit):
        res.extend(compress(ops[a:at + 1], alive[a:at + 1]))
        place(at)
        a = at + 1
    res.extend(compress(ops[a:], alive[a:]))
    return res
