"""gradkit.compile on random programs: replays equal eager runs, also where a branch flips.

Each seed makes one program of ``tests/random_programs.py``; the compiled function is the
program's loss and gradient (``func.value_and_grad``), with a Python branch on the loss's value
(a guard). It is called on the generated inputs, then on new inputs of the same shapes (its
replays), including inputs that flip the branch; every result must equal the eager result of
the same call (up to rounding: see ``_same``).

    GRADKIT_RANDOM_PROGRAMS=500 python -m pytest -q -p no:randomly tests/test_compile_random.py
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import random_programs as rp  # noqa: E402

import gradkit as gk  # noqa: E402

COUNT = int(os.environ.get("GRADKIT_RANDOM_PROGRAMS", 60))
FIRST = int(os.environ.get("GRADKIT_RANDOM_SEED", 0))
SEEDS = list(range(FIRST, FIRST + COUNT))
STATS = {"replays": 0, "eager": 0}
RTOL, ATOL = 1e-12, 1e-14


def _make(prog: rp.Program):
    lib = rp.Lib(gk, numpy_dispatch=True)
    n = len(prog.inputs)

    def loss(*xs):
        val = rp.run(prog, lib, list(xs))
        if val > 0:                                   # a guard: flips with the inputs' sign
            return val * 2.0
        return -val
    return gk.func.value_and_grad(loss, argnums=tuple(range(n)))


def _same(a, b, where):
    if isinstance(a, tuple):
        for x, y in zip(a, b, strict=True):
            _same(x, y, where)
        return
    # NOTE: equal up to rounding: the replay writes in-place updates into fresh arrays, whose
    # contiguous layout can change NumPy's summation order (pairwise sums over other strides)
    assert np.allclose(a.numpy(), b.numpy(), rtol=RTOL, atol=ATOL, equal_nan=True), where


@pytest.mark.parametrize("seed", SEEDS)
def test_compiled_equals_eager(seed):
    prog = rp.generate(seed, gk, avoid=rp.KNOWN_BUGS)
    f = _make(prog)
    cf = gk.compile(f)
    rng = np.random.default_rng(seed)
    calls = [prog.inputs, [x * 1.1 for x in prog.inputs], [-x for x in prog.inputs]]
    calls += [[x + rng.normal(scale=0.05, size=x.shape) for x in prog.inputs] for _ in range(2)]
    calls.append([-x for x in calls[-1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gk.compile.TraceWarning)
        for i, arrays in enumerate(calls):
            with np.errstate(all="ignore"):
                want = f(*[gk.tensor(a) for a in arrays])
                got = cf(*[gk.tensor(a) for a in arrays])
            _same(got, want, f"{prog}\ncall {i}")
    STATS["replays"] += cf.stats["replays"]
    STATS["eager"] += cf.stats["eager"] + (cf.eager_reason is not None)
    assert cf.stats["traces"] + cf.stats["replays"] + cf.stats["eager"] == len(calls)


def test_most_programs_replay():
    """The comparisons above exercised replays, not only eager fallbacks (runs last)."""
    if not STATS["replays"] and not STATS["eager"]:   # selected alone: run the seeds here
        for seed in SEEDS:
            test_compiled_equals_eager(seed)
    assert STATS["replays"] >= 2 * len(SEEDS), STATS


@pytest.mark.parametrize("seed", SEEDS[:20])
def test_compiled_equals_eager_as_rolled_program(seed, monkeypatch):
    # the long-program form (a list of slots, repeated blocks rolled into loops) on short
    # programs: every program goes through it, blocks repeated twice become loops
    from gradkit.compile import _program
    monkeypatch.setattr(_program, "REROLL_MIN", 0)
    monkeypatch.setattr(_program, "_REROLL_MIN_REPEATS", 2)
    prog = rp.generate(seed, gk, avoid=rp.KNOWN_BUGS)
    f = _make(prog)
    cf = gk.compile(f)
    calls = [prog.inputs, [x * 1.1 for x in prog.inputs], [-x for x in prog.inputs]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gk.compile.TraceWarning)
        for i, arrays in enumerate(calls):
            with np.errstate(all="ignore"):
                want = f(*[gk.tensor(a) for a in arrays])
                got = cf(*[gk.tensor(a) for a in arrays])
            _same(got, want, f"{prog}\ncall {i}")
    for entries in cf.cache.values():
        for e in entries:
            assert "V = [None]" in e.prog.source
