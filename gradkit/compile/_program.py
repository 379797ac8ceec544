"""A recorded trace made into a straight-line Python function, optimized.

Passes, in order: constant folding (ops that read only shapes, ``ones_like`` and friends, and
ops whose every argument is then a constant, are evaluated once), common-subexpression
elimination (the same function on the same slots and constants), two rewrites of the
matrix-vector backward that give the same bits (``_outer_of``, ``_matvec_of``), dead-code
elimination (what no output and no guard reads), batching across the steps of an unrolled loop
(``_batching.py``: ops repeated over the steps on values known early run once on stacked
inputs; accumulated outer products become one exact sum), Python numbers beside arrays named
once as NumPy scalars of the array's dtype (``_typed_scalars``) and NumPy scalar constants
as 0-d arrays (``_array_constants``), linear layers' products in the faster orientation where
BLAS gives the same bits (``_gemm_layouts``), ``np.mean`` of a whole array without NumPy's
Python layers (``_means``), in-place updates of inputs written into their arrays
(``_inplace_updates``), buffer reuse (a ufunc writes into a temporary of its shape and dtype
that nothing reads afterwards, via ``out=``), then code generation: one Python function, its
locals reused once a value is read for the last time (``_registers``), the guards inline right
where their value is computed; a long program keeps its slots in a list instead, with
repeated blocks rolled into loops (``_reroll``). The templates of ops: ``_templates.py``; the rewrites:
``_patterns.py``.
"""

from __future__ import annotations

import math
import operator
import time
from collections import Counter, deque
from itertools import chain
from typing import Any, Callable, Sequence

import numpy as np

from ._batching import batch_families, stack_accumulations
from ._patterns import (_MAYBE_IDENTITY, _all_ones, _array_constants, _column_of,  # noqa: F401
                        _gemm_layouts, _identity, _masked_zeros, _matvec_of, _means, _mouter,
                        _outer, _outer_of, _raw_outers, _typed_scalars)
from ._templates import (_FLAT_SCALARS, _Const, _flat, _key, _op_refs, _refs,  # noqa: F401
                         _subst, _value)
from ._tracer import Op, Ref, Trace

__all__ = ["GuardFailed", "Program", "build"]


class GuardFailed(Exception):
    """A value the trace read in Python differs on this call: the program does not apply."""


#: ops whose result depends only on their input's shape and dtype
_SHAPE_ONLY = {np.ones_like, np.zeros_like, np.shape, np.ndim, np.size}
_REUSE_MIN = 4096          # elements: below this a fresh result is as cheap as out=


class Program:
    """The compiled program: ``fn(*inputs) -> outputs``; the source is kept for inspection."""

    def __init__(self, fn: Callable[..., Any], source: str, n_ops: int, n_traced: int) -> None:
        self.fn = fn
        self.source = source
        self.n_ops = n_ops
        self.n_traced = n_traced
        #: CPU seconds of each phase of the first call that made it (the trace, then
        #: ``build``'s passes in order; ``docs/performance.md`` and ``bench_compile.py --phases``)
        self.phases: dict[str, float] = {}
        self.written: set[int] = set()       # input slots whose arrays the program writes

    def __repr__(self) -> str:
        return f"<Program: {self.n_ops} ops (traced {self.n_traced})>"



def build(tr: Trace, inputs: Sequence[int], outputs: Sequence[int], optimize: bool = True,
          fuse: Callable[..., Any] | None = None,
          into: dict[int, int] | None = None) -> Program:
    """Compile ``tr`` into a function of the ``inputs`` slots returning the ``outputs`` slots.

    ``into``: position in ``outputs`` -> input slot, for the outputs that the caller copies
    into that input's array after the call (an in-place update of a tensor); only for inputs
    whose array may be written (``_inplace_updates`` may then write them there directly, and
    the program returns the input's array itself for that output)."""
    phases: dict[str, float] = {}
    t0 = [_clock()]

    def mark(name: str) -> None:
        t = _clock()
        phases[name] = phases.get(name, 0.0) + t - t0[0]
        t0[0] = t
    guards = dict(tr.guards)
    env: dict[int, int] = {}          # slot -> the slot it is a duplicate of (CSE)
    const: dict[int, Any] = {}        # slot -> folded value
    seen: dict[Any, Op] = {}
    defs: dict[int, Op] = {}          # slot -> the op computing it (kept so far)
    ops: list[Op] = []
    keep_op = ops.append
    meta = tr.meta
    for op in tr.ops:
        fn = op.fn
        kwargs = op.kwargs
        flat = _flat(op.args, env, const) if not kwargs else None
        if flat is not None:
            args, refs, akey = flat
        else:
            args = _subst(op.args, env, const)
            kwargs = _subst(kwargs, env, const)
            refs = []
            _refs((args, kwargs), refs)
            akey = None
        out = op.out
        single = type(out) is not tuple
        plain = optimize and single and out not in guards
        if plain:
            # constant folding: every argument is known now, or only a shape is read
            if not refs:
                const[out] = fn(*_value(args), **_value(kwargs))
                continue
            if fn in _SHAPE_ONLY and len(refs) == 1 and args and type(args[0]) is Ref \
                    and args[0].s in meta:
                shape, dtype = meta[args[0].s]
                const[out] = fn(np.empty(shape, dtype), *_value(args[1:]), **_value(kwargs))
                continue
            try:
                maybe_same = fn in _MAYBE_IDENTITY
            except TypeError:                      # an unhashable callable
                maybe_same = False
            if maybe_same:
                same = _identity(op, args, kwargs, tr)
                if same is not None:
                    env[out] = same
                    continue
            if fn is np.matmul:
                outer = _outer_of(args, kwargs, defs, tr)
                if outer is not None:
                    args, kwargs, akey = outer, {}, None
                    refs = [outer[0].s, outer[1].s]
                    op = Op(_outer, args, kwargs, out, "ufunc")
            elif fn is np.reshape:
                mv = _matvec_of(args, kwargs, defs, tr, out)
                if mv is not None:
                    args, kwargs, akey = mv[0], {}, None
                    refs = [a.s for a in args if type(a) is Ref]
                    op = Op(np.matmul, args, kwargs, out, mv[1])
            k = (id(op.fn), _key(args) if akey is None else akey,
                 _key(kwargs) if kwargs else None)
            prev = seen.get(k)
            if prev is not None:
                env[out] = prev.out
                continue
        # NOTE: the traced op itself when its template is unchanged (the trace is not read
        # again: later passes may rewrite what build keeps)
        new = op if args is op.args and kwargs is op.kwargs else \
            Op(op.fn, args, kwargs, out, op.kind)
        new.refs = refs
        if single:
            defs[out] = new
            if plain:
                seen[k] = new
        keep_op(new)
    outs = [env.get(s, s) for s in outputs]
    mark("fold+cse")
    kept = _dce(ops, set(outs) | set(guards), optimize)
    mark("dce")
    if optimize:
        _raw_outers(kept, set(outs) | set(guards))
        mark("patterns")
        rows: dict[int, tuple[int, int]] = {}
        n = len(kept)
        kept = batch_families(kept, tr, set(outs) | set(guards), rows)
        mark("batch_families")
        kept = stack_accumulations(kept, tr, set(outs) | set(guards), rows)
        mark("stack_accumulations")
        if len(kept) != n:
            kept = _dce(kept, set(outs) | set(guards), True)     # rows no step reads now
            mark("dce")
    written: set[int] = set()
    if optimize:
        _gemm_layouts(kept, set(outs) | set(guards), tr)
        kept = _dce(kept, set(outs) | set(guards), True)      # the transposes no one reads
        mark("gemm_layouts")
    if fuse is not None:
        kept = fuse(kept, tr, set(outs) | set(guards))
        mark("fuse")
    if optimize:
        _masked_zeros(kept, tr)
        _typed_scalars(kept, tr)
        _array_constants(kept, tr)
        _means(kept, tr)
        if into:
            targets: dict[int, list[int]] = {}
            plain_outs = set()
            for pos, o in enumerate(outs):
                if pos in into:
                    targets.setdefault(o, []).append(into[pos])
                else:
                    plain_outs.add(o)
            written = _inplace_updates(kept, tr, {o: t[0] for o, t in targets.items()
                                                  if len(t) == 1 and o not in plain_outs},
                                       outs, guards)
        mark("patterns")
    prog = _codegen(tr, kept, list(inputs), outs, guards, const, optimize,
                    n_traced=len(tr.ops), mark=mark)
    prog.phases.update(phases)
    prog.written = written
    return prog


_clock = time.process_time



def _inplace_updates(ops: list[Op], tr: Trace, into: dict[int, int], outs: list[Any],
                     guards: dict[int, Any]) -> set[int]:
    """``ufunc(old, *args) -> new`` (an in-place ``ufunc(*args, out=old)`` as the trace
    records it: a new array) written into the input's own array, ``ufunc(*args, out=old)``,
    where the program hands ``new`` back to be copied into ``old``'s array anyway (an
    optimizer's update of a parameter): no new array, and no copy after the call. Only where
    nothing later reads ``old`` or a view of it (its alias group), no guard is checked later
    (a failed guard must leave the inputs as they were), no output is a view of it, the
    operation's result has ``old``'s shape and dtype (so ``out=`` computes the same numbers:
    the same loop, no cast), and ``old`` is in ``into`` (the caller found it writeable).
    Returns the input slots written."""
    written: set[int] = set()
    last_guard = -1
    for i, op in enumerate(ops):
        o = op.out if type(op.out) is tuple else (op.out,)
        if any(s in guards for s in o):
            last_guard = i
    last: dict[int, int] = {}
    for i, op in enumerate(ops):
        for r in _op_refs(op):
            last[r] = i
    out_set = set(outs)
    for i, op in enumerate(ops):
        s0 = into.get(op.out) if type(op.out) is not tuple else None
        if s0 is None or i <= last_guard or op.kwargs or not op.args:
            continue
        uf = getattr(op.fn, "ufunc", None)
        a0 = op.args[0]
        if uf is None or type(uf) is not np.ufunc or type(a0) is not Ref or a0.s != s0:
            continue
        group = tr.alias.get(s0, {s0})
        if any(last.get(g, -1) > i for g in group) or (group - {op.out}) & out_set or \
                s0 in out_set:
            continue
        m0, mo = tr.meta.get(s0), tr.meta.get(op.out)
        if m0 is None or m0 != mo:
            continue
        probe = []
        ok = True
        for a in op.args[1:]:
            if type(a) is Ref:
                m = tr.meta.get(a.s)
                if m is None:
                    ok = False
                    break
                probe.append(np.zeros(m[0], m[1]))
            elif type(a) is _Const:
                probe.append(a.v)
            elif type(a) in (int, float, bool, complex):
                probe.append(a)
            else:
                ok = False
                break
        if not ok:
            continue
        try:
            with np.errstate(all="ignore"):
                r = np.asarray(uf(*probe))
        except Exception:                         # noqa: BLE001 - then it is left as it is
            continue
        if r.shape != m0[0] or r.dtype != m0[1]:
            continue
        op.fn, op.args, op.kwargs, op.kind, op.refs = uf, op.args[1:], {"out": a0}, "call", None
        written.add(s0)
    return written


def _dce(ops: list[Op], live: set[int], optimize: bool) -> list[Op]:
    """Dead-code elimination: the ops whose results an output or a guard reads."""
    if not optimize:
        return list(ops)
    live = set(live)
    update = live.update
    kept: list[Op] = []
    keep = kept.append
    for op in reversed(ops):
        o = op.out
        if o in live if type(o) is not tuple else any(s in live for s in o):
            refs = op.refs
            update(refs if refs is not None else _op_refs(op))
            keep(op)
    kept.reverse()
    return kept


def _codegen(tr: Trace, ops: list[Op], inputs: list[int], outs: list[Any],
             guards: dict[int, Any], const: dict[int, Any], optimize: bool,
             n_traced: int, mark: Callable[[str], None] = lambda name: None) -> Program:
    ns: dict[str, Any] = {"GuardFailed": GuardFailed, "_neq": _neq, "_put": _put}
    counter = [0]

    names: dict[tuple[int, str], str] = {}

    def cname(v: Any, hint: str = "c") -> str:
        # NOTE: one name per object (the namespace holds it: the id stays valid)
        n = names.get((id(v), hint))
        if n is not None:
            return n
        n = names[(id(v), hint)] = _cname(v, hint)
        return n

    def _cname(v: Any, hint: str) -> str:
        counter[0] += 1
        name = getattr(v, "__name__", "") if hint == "f" else ""
        name = "".join(ch if ch.isalnum() else "_" for ch in str(name))[:24]
        n = f"{hint}{counter[0]}_{name}" if name else f"{hint}{counter[0]}"
        ns[n] = v
        return n

    # Each line is a template ({0}, {1}: its leaves) and its leaves: slots read ("s", slot) or
    # written ("d", slot) and Python ints ("i", value). Long programs made of repeated blocks
    # (a loop unrolled by the trace) are rolled back into loops over those leaves
    # (``_reroll``): the same operations in the same order, with much less source for Python
    # to compile.
    leaves: list[tuple[str, int]] = []
    # NOTE: whether the program keeps its slots in a list is known before its lines are
    # written (one line per op, one more per guard): then a run of slots in a fixed stride
    # (an unrolled loop's rows stacked or unpacked, thousands of them) is one slice of the
    # list, not thousands of names for Python to compile
    n_lines = len(ops)
    if guards:
        for op in ops:
            n_lines += sum(1 for s in (op.out if type(op.out) is tuple else (op.out,))
                           if s in guards)
    rolled = n_lines >= REROLL_MIN
    pinned: set[int] = set()          # slots a slice reads: kept in the list, never a local

    def leaf(kind: str, v: int) -> str:
        leaves.append((kind, v))
        return "{%d}" % (len(leaves) - 1)

    def expr(x: Any) -> str:
        t = type(x)
        if t is Ref:
            return leaf("s", x.s)
        if t is _Const:
            return cname(x.v)
        if t is tuple:
            return "(" + "".join(expr(e) + ", " for e in x) + ")"
        if t is list:
            if rolled and len(x) >= _RUN_MIN and all([type(e) is Ref for e in x]):
                pinned.update([a.s for a in x])
                run = _slot_run(x)
                # NOTE: slots in no one stride: read through a constant list of them, in C
                return run if run is not None else \
                    f"list(map(V.__getitem__, {cname([a.s for a in x], 'ix')}))"
            return "[" + ", ".join(expr(e) for e in x) + "]"
        if t is dict:
            return "{{" + ", ".join(_esc(repr(k)) + f": {expr(v)}" for k, v in x.items()) + "}}"
        if t is slice:
            return f"slice({expr(x.start)}, {expr(x.stop)}, {expr(x.step)})"
        if t is int:
            return leaf("i", x)
        if x is None or t is bool or t is str:
            return _esc(repr(x))
        if t is float and np.isfinite(x):
            return repr(x)
        return cname(x)

    # last use of each slot (buffer reuse)
    last: dict[int, int] = {}
    viewed: set[int] = set()
    fresh: set[int] = set()
    for i, op in enumerate(ops):
        for s in _op_refs(op):
            last[s] = i
            if op.kind != "ufunc" and op.kind != "fresh":
                viewed.add(s)
        if (op.kind == "ufunc" or op.kind == "fresh") and not isinstance(op.out, tuple):
            fresh.add(op.out)          # "fresh": a new array (no view) that takes no out=
    keep = set(outs) | set(guards)
    body: list[tuple[str, tuple[tuple[str, int], ...]]] = []
    for i, op in enumerate(ops):
        f = cname(op.fn, "f")
        if all([type(a) is Ref for a in op.args]):
            # NOTE: the common op, arguments all slots: its leaves are its refs, in order
            leaves = [("s", a.s) for a in op.args]
            n = len(leaves)
            args = _SLOT_ARGS[n] if n < len(_SLOT_ARGS) else \
                ", ".join(["{%d}" % k for k in range(n)])
        else:
            leaves = []
            args = ", ".join([expr(a) for a in op.args])
        if op.kwargs:
            kw = ", ".join([f"{k}={expr(v)}" for k, v in op.kwargs.items()])
            call_args = f"{args}, {kw}" if args else kw
        else:
            call_args = args
        put = None
        if isinstance(op.out, tuple):
            run = _slot_run([Ref(s) for s in op.out]) if rolled else None
            if run is None and rolled and len(op.out) >= _RUN_MIN:
                put = cname(list(op.out), "ix")     # slots in no one stride: written in C
            target = run if run is not None else ", ".join(leaf("d", s) for s in op.out) + ","
        else:
            if optimize and op.kind == "ufunc" and not op.kwargs and op.out in tr.meta:
                shape, dtype = tr.meta[op.out]
                if math.prod(shape) >= _REUSE_MIN:
                    for a in op.args:
                        if type(a) is Ref and a.s in fresh and a.s not in viewed and \
                                a.s not in keep and last.get(a.s) == i and \
                                tr.meta.get(a.s) == (shape, dtype):
                            call_args += f", out={leaf('s', a.s)}"
                            fresh.discard(a.s)
                            break
            target = leaf("d", op.out)
        sym = _OPERATORS.get(op.fn) if optimize and op.kind == "ufunc" and not op.kwargs \
            and not isinstance(op.out, tuple) else None
        if sym is not None and _scalar_operands(op, tr):
            # NOTE: 0-d operands: NumPy's scalar operators are the same IEEE operation with the
            # same promotion as the ufunc, without the ufunc call's overhead (exact)
            leaves = []
            a = [expr(x) for x in op.args]
            target = leaf("d", op.out)
            body.append((f"{target} = " + (f"{sym}{a[0]}" if len(a) == 1 else
                                             f"{a[0]} {sym} {a[1]}"), tuple(leaves)))
        elif put is not None:
            body.append((f"_put(V, {put}, {f}({call_args}))", tuple(leaves)))
        else:
            body.append((f"{target} = {f}({call_args})", tuple(leaves)))
        for s in (op.out if type(op.out) is tuple else (op.out,)) if guards else ():
            if s in guards:
                leaves = []
                g = cname(guards[s], "g")
                v = leaf("s", s)
                test = f"_neq({v}, {g})" if isinstance(guards[s], (float, complex)) else \
                    f"{v} != {g}"
                body.append((f"if {test}:\n    raise GuardFailed({leaf('i', s)})",
                             tuple(leaves)))
    mark("codegen")
    if rolled:
        lines = ["def _prog(*_in):", f"    V = [None] * {tr.n}"]
        lines += [f"    V[{s}] = _in[{k}]" for k, s in enumerate(inputs)]
        lines += _reroll(body, keep | pinned)

        def slot(s: int) -> str:
            return f"V[{s}]"
    else:
        lines = [f"def _prog({', '.join(f'v{s}' for s in inputs)}):"]
        regs = _registers(body, inputs, keep | set(outs)) if optimize else {}
        lines += [_indent(_render(t, lv, False, names=regs), 1) for t, lv in body]

        def slot(s: int) -> str:
            return regs.get(s, f"v{s}")
    ret = []
    given = set(inputs)
    for s in outs:
        if s in const:
            ret.append(f"_copy({cname(const[s])})")
        elif s in given:                       # never hand out an input's (or a twin's) array
            ret.append(f"_copy({slot(s)})")
        else:
            ret.append(slot(s))
            given.add(s)
    ns["_copy"] = _copy
    lines.append("    return (" + "".join(r + ", " for r in ret) + ")")
    source = "\n".join(lines)
    mark("reroll" if rolled else "codegen")
    code = compile(source, "<gradkit.compile>", "exec")
    exec(code, ns)
    mark("compile")
    return Program(ns["_prog"], source, len(ops), n_traced)


#: the argument list of an op of 0, 1, 2, ... slot arguments (leaves ``{0}``, ``{1}``, ...)
_SLOT_ARGS = tuple(", ".join("{%d}" % k for k in range(n)) for n in range(8))

#: lines from which a program is rolled into loops (below, compiling it is quick anyway)
REROLL_MIN = 3000
_REROLL_MAX_PERIOD = 128
_REROLL_MIN_REPEATS = 4


#: fewest slots in a stride written as one slice of a long program's list
_RUN_MIN = 8


def _put(V: list, ix: list, values: Any) -> None:
    """``V[ix[0]], V[ix[1]], ... = values`` (a long program's rows written to slots in no one
    stride), the loop in C."""
    deque(map(V.__setitem__, ix, values), maxlen=0)


def _slot_run(xs: list) -> str | None:
    """``V[a:b:d]`` when ``xs`` are ``_RUN_MIN`` or more slots ``a, a + d, a + 2d, ...``
    (``d != 0``), else None. The slice is a new list of the same arrays (read), or takes a
    sequence of that length (written)."""
    n = len(xs)
    if n < _RUN_MIN or type(xs[0]) is not Ref or type(xs[1]) is not Ref:
        return None
    a = xs[0].s
    d = xs[1].s - a
    if d == 0:
        return None
    v = a
    for x in xs:
        if type(x) is not Ref or x.s != v:
            return None
        v += d
    stop = a + n * d                    # v; past the first slot going down: to the start
    return f"V[{a}:{stop if stop >= 0 else ''}:{d}]"


def _esc(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _indent(text: str, n: int) -> str:
    pad = "    " * n
    return pad + text.replace("\n", "\n" + pad)


def _registers(body: list[tuple[str, tuple[tuple[str, int], ...]]], inputs: list[int],
               live: set[int]) -> dict[int, str]:
    """slot -> local name, names reused once the slot they held is read for the last time
    (as registers are allocated): rebinding a name frees the array it held, so a long program
    of small arrays keeps a few of them alive instead of all (measured: 20-25% of the time of
    700 ufunc calls on 100-element float32 arrays, NumPy reusing its cached small blocks
    instead of growing the heap). Inputs keep their names; ``live`` slots (the outputs and
    guarded values) are never given up."""
    last: dict[int, int] = {}
    for i, (_t, lv) in enumerate(body):
        for kind, v in lv:
            if kind == "s":
                last[v] = i
    fixed = set(inputs)
    names: dict[int, str] = {}
    free: list[str] = []
    n = 0
    for i, (_t, lv) in enumerate(body):
        # NOTE: a name read for the last time on this line may be its target: Python
        # evaluates the right-hand side first
        for kind, v in lv:
            if kind == "s" and last.get(v) == i and v not in fixed and v not in live and \
                    v in names and names[v] not in free:
                free.append(names[v])
        for kind, v in lv:
            if kind == "d" and v not in names:
                if free:
                    names[v] = free.pop()
                else:
                    names[v] = f"r{n}"
                    n += 1
        for kind, v in lv:
            if kind == "d" and v not in last and v not in live and v not in fixed and \
                    names[v] not in free:
                free.append(names[v])         # never read: its name is free again at once
    return names


def _render(template: str, leaves: Any, rolled: bool, strides: Any = None,
            counters: dict[int, str] | None = None,
            local: dict[tuple[int, int], str] | None = None,
            names: dict[int, str] | None = None) -> str:
    parts = []
    for k, (kind, v) in enumerate(leaves):
        d = strides[k] if strides is not None else 0
        if local is not None and (v, d) in local:
            parts.append(local[(v, d)])
        elif names is not None and kind != "i" and v in names:
            parts.append(names[v])
        elif kind != "i":
            parts.append(f"V[{v}]" if rolled and not d else
                         f"V[{v} + {counters[d]}]" if rolled else f"v{v}")  # type: ignore
        else:
            parts.append(repr(v) if not d else f"({v} + {counters[d]})")  # type: ignore
    return template.format(*parts)


def _reroll(body: list[tuple[str, tuple[tuple[str, int], ...]]], keep: set[int]) -> list[str]:
    """The lines of ``body`` (a list env ``V``), runs of a repeated block whose leaves move by
    fixed strides from one repeat to the next written as loops; a slot written and read only
    within one repeat is a local of the loop body instead of a list entry."""
    n = len(body)
    # NOTE: the leaves' kinds and values as tuples, and the reads counted, in C (zip, Counter)
    kinds_vals = [tuple(zip(*lv)) or ((), ()) for _t, lv in body]
    sigs = [(t, kv[0]) for (t, _lv), kv in zip(body, kinds_vals)]
    vals = [kv[1] for kv in kinds_vals]
    uses = Counter(chain.from_iterable([lv for _t, lv in body]))
    uses = {v: c for (kind, v), c in uses.items() if kind == "s"}
    nxt = [0] * n                                   # the next line of the same signature
    where: dict[Any, int] = {}
    for i in range(n - 1, -1, -1):
        nxt[i] = where.get(sigs[i], n)
        where[sigs[i]] = i
    out: list[str] = []
    i = 0
    while i < n:
        best = (0, 0, None)                        # (lines covered, period, strides)
        j = nxt[i]
        tries = 0
        found: list[tuple[int, int]] = []          # (period, repeats) tried from i
        while j < n and tries < 4 and j - i <= _REROLL_MAX_PERIOD:
            p = j - i
            tries += 1
            # NOTE: a multiple of a period that repeats R times repeats at least as far (the
            # same lines, strides times k): its check starts past them (linear, not k-fold)
            known = max([r * q // p for q, r in found if p % q == 0], default=0)
            reps, strides = _repeats(sigs, vals, i, p, known)
            found.append((p, reps))
            if reps >= _REROLL_MIN_REPEATS and reps * p > best[0]:
                best = (reps * p, p, strides)
            j = nxt[j]
        covered, p, strides = best
        if not covered:
            out.append(_indent(_render(body[i][0], body[i][1], True), 1))
            i += 1
            continue
        # NOTE: one running offset per stride (d * m), advanced by ``range``, not multiplied
        reps = covered // p
        ds = sorted({d for st in strides for d in st if d})
        counters = {d: f"m{k}" for k, d in enumerate(ds)}
        if len(ds) == 1:
            out.append(f"    for m0 in range(0, {ds[0] * reps}, {ds[0]}):")
        else:
            out.append(f"    for {', '.join(counters[d] for d in ds)} in zip("
                       + ", ".join(f"range(0, {d * reps}, {d})" for d in ds) + "):")
        local = _loop_locals(body, i, p, reps, strides, uses, keep)
        for b in range(p):
            out.append(_indent(_render(body[i + b][0], body[i + b][1], True, strides[b],
                                       counters, local), 2))
        i += covered
    return out


def _loop_locals(body: Any, i: int, p: int, reps: int, strides: Any, uses: dict[int, int],
                 keep: set[int]) -> dict[tuple[int, int], str]:
    """(first slot, stride) -> local name, for the slots a loop body writes that no line
    reads but later lines of the same repeat."""
    local: dict[tuple[int, int], str] = {}
    for b in range(p):
        for k, (kind, v0) in enumerate(body[i + b][1]):
            d = strides[b][k]
            if kind != "d" or not d:
                continue
            r = sum(1 for b2 in range(b + 1, p)
                    for k2, (kind2, v2) in enumerate(body[i + b2][1])
                    if kind2 == "s" and v2 == v0 and strides[b2][k2] == d)
            if r and all(uses.get(v0 + m * d, 0) == r and v0 + m * d not in keep
                         for m in range(reps)):
                local[(v0, d)] = f"t{len(local)}"
    return local


def _repeats(sigs: list[Any], vals: list[Any], i: int, p: int,
             known: int = 0) -> tuple[int, Any]:
    """How many times the block ``[i, i + p)`` repeats from ``i`` with every leaf moving by a
    fixed stride, and those strides; ``known``: repeats known to hold already (checked from
    there on)."""
    n = len(sigs)
    if i + 2 * p > n or sigs[i:i + p] != sigs[i + p:i + 2 * p]:
        return 0, None
    strides = [tuple(map(operator.sub, vals[i + p + k], vals[i + k])) for k in range(p)]
    block = sigs[i:i + p]
    reps = max(2, known)
    cur = vals[i + (reps - 1) * p:i + reps * p]
    # NOTE: a whole repeat compared at once (its signatures, and its leaves against the last
    # repeat's moved by the strides), in C: no Python loop per leaf
    while i + (reps + 1) * p <= n:
        base = i + reps * p
        if sigs[base:base + p] != block:
            break
        moved = [tuple(map(operator.add, c, st)) for c, st in zip(cur, strides)]
        if vals[base:base + p] != moved:
            break
        cur = moved
        reps += 1
    return reps, strides


#: ufuncs whose Python operator on NumPy scalars is the same operation
_OPERATORS = {np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/",
              np.negative: "-"}


def _scalar_operands(op: Op, tr: Trace) -> bool:
    """Whether ``op`` meets only 0-d arrays (NumPy scalars at replay) and Python or NumPy
    scalar constants, at least one of them a traced array of its result's dtype."""
    if len(op.args) not in (1, 2) or tr.meta.get(op.out, (None,))[0] != ():
        return False
    arrays = 0
    for a in op.args:
        if type(a) is Ref:
            m = tr.meta.get(a.s)
            if m is None or m[0] != ():
                return False
            arrays += 1
        elif type(a) not in (float, int) and not isinstance(a, np.generic):
            return False
    return arrays > 0


def _copy(a: Any) -> Any:
    return np.array(a, copy=True) if isinstance(a, (np.ndarray, np.generic)) else a


def _neq(a: Any, b: Any) -> bool:
    return a != b and not (a != a and b != b)
