"""gradkit.compile against gradkit eager, PyTorch eager and JAX jit on the workloads of issue #18.

Run from the repository root::

    python benchmarks/bench_compile.py            # full run (a few minutes)
    python benchmarks/bench_compile.py --quick    # smoke run
    python benchmarks/bench_compile.py --only rnn --cpu --phases   # one row; its first call's phases

Workloads (each computes a value and its gradient, or runs a training step):

* ``chain-scalar`` / ``chain-vector``: bench_ops' 300-op elementwise chain on a float32 0-d
  scalar / 100-vector, value and gradient (``func.value_and_grad``; PyTorch ``backward()``).
* ``rnn``: h = tanh(W h + U x_t) over 2000 steps, hidden 32, input 8 (float64); loss sum(h_T),
  gradient in W and U. JAX runs it with ``lax.scan``.
* ``elementwise-1e6``: gradient of sum(sin(x) * exp(-x*x) + tanh(x)) on 1e6 float64.
* ``mlp-step`` / ``mlp-784-step``: one SGD training step of a 64-128-10 / 784-512-512-10 tanh
  MLP (batch 64, float32): zero_grad, forward, MSE, backward, step (gradkit: ``nn`` + ``optim``;
  compiled: ``compile(step)``).
* ``rosenbrock-bfgs``: Rosenbrock-100 minimized with BFGS from -1.2/1 (gradkit:
  ``gradkit.optimize.minimize`` with ``compile=False``, and by default, which compiles;
  PyTorch and JAX: ``scipy.optimize.minimize`` with their value and gradient).

Method: everything is set up and warmed up (the compiled function's first call, its trace, and
JAX's first call, its compilation, are timed separately and reported), then ``gc.freeze()``;
samples of each entry are interleaved in a random order per repetition and the median per call
is reported. PyTorch is measured with 1 and 2 threads; ratios are against the faster of the two.
On the BLAS-bound ``mlp-784-step`` gradkit runs with 1 and 2 BLAS threads too (two entries).
NumPy's OpenBLAS runs on one thread. gradkit compiled uses ``backend="auto"`` (the NumPy
replay).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

import bench_ops  # noqa: E402  (the 300-op chain)

T_RNN, H_RNN, I_RNN = 2000, 32, 8


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _jax():
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
    except ImportError:
        return None, None
    return jax, jnp


# --- workloads: each returns {entry name: (callable, first-call seconds or None)} ----------

#: the clock of the first calls (``--cpu``: the process's CPU time, as the medians)
_CLOCK = [time.perf_counter]


def _first(fn):
    clock = _CLOCK[0]
    t0 = clock()
    fn()
    return clock() - t0


#: the first call's phases (``Program.phases``: the trace and each pass, CPU seconds) of the
#: last compiled function passed to ``_phases``; printed with ``--phases``
_PHASES: dict = {}


def _phases(cf):
    progs = [e.prog for v in cf.cache.values() for e in v]
    _PHASES.clear()
    if progs:
        _PHASES.update(progs[0].phases)


def chain(case):
    import gradkit as gk
    out = {}
    x0 = bench_ops.input_array(case)
    ch = bench_ops.build_chain(gk.sin, gk.cos, gk.tanh, gk.exp, gk.sum)
    vg = gk.func.value_and_grad(ch)
    x = gk.tensor(x0)
    out["gradkit eager"] = (lambda: vg(x), None)
    cvg = gk.compile(vg)
    out["gradkit compiled"] = (lambda: cvg(x), _first(lambda: cvg(x)))
    _phases(cvg)
    torch = _torch()
    if torch is not None:
        tch = bench_ops.build_chain(torch.sin, torch.cos, torch.tanh, torch.exp, torch.sum)
        tx = torch.tensor(x0, requires_grad=True)

        def tstep():
            tx.grad = None
            tch(tx).backward()
        out["torch eager"] = (tstep, None)
    jax, jnp = _jax()
    if jax is not None:
        jch = bench_ops.build_chain(jnp.sin, jnp.cos, jnp.tanh, jnp.exp, jnp.sum)
        jvg = jax.jit(jax.value_and_grad(jch))
        jx = jnp.asarray(x0)
        out["jax jit"] = (lambda: jax.block_until_ready(jvg(jx)),
                          _first(lambda: jax.block_until_ready(jvg(jx))))
    return out


def rnn():
    import gradkit as gk
    rng = np.random.default_rng(0)
    xs0 = rng.normal(size=(T_RNN, I_RNN))
    W0 = rng.normal(size=(H_RNN, H_RNN)) * 0.3 / np.sqrt(H_RNN)
    U0 = rng.normal(size=(H_RNN, I_RNN)) * 0.3

    def loss(W, U, xs):
        h = gk.zeros(H_RNN, dtype=gk.float64)
        for t in range(T_RNN):
            h = (W @ h + U @ xs[t]).tanh()
        return h.sum()
    vg = gk.func.value_and_grad(loss, argnums=(0, 1))
    W, U, xs = gk.tensor(W0), gk.tensor(U0), gk.tensor(xs0)
    out = {"gradkit eager": (lambda: vg(W, U, xs), None)}
    cvg = gk.compile(vg)
    out["gradkit compiled"] = (lambda: cvg(W, U, xs), _first(lambda: cvg(W, U, xs)))
    _phases(cvg)
    torch = _torch()
    if torch is not None:
        tW = torch.tensor(W0, requires_grad=True)
        tU = torch.tensor(U0, requires_grad=True)
        txs = torch.tensor(xs0)

        def tstep():
            tW.grad = tU.grad = None
            h = torch.zeros(H_RNN, dtype=torch.float64)
            for t in range(T_RNN):
                h = torch.tanh(tW @ h + tU @ txs[t])
            h.sum().backward()
        out["torch eager"] = (tstep, None)
    jax, jnp = _jax()
    if jax is not None:
        def jloss(W, U, xs):
            def body(h, x):
                h = jnp.tanh(W @ h + U @ x)
                return h, None
            h, _ = jax.lax.scan(body, jnp.zeros(H_RNN), xs)
            return h.sum()
        jvg = jax.jit(jax.value_and_grad(jloss, argnums=(0, 1)))
        a = (jnp.asarray(W0), jnp.asarray(U0), jnp.asarray(xs0))
        out["jax jit"] = (lambda: jax.block_until_ready(jvg(*a)),
                          _first(lambda: jax.block_until_ready(jvg(*a))))
    return out


def elementwise():
    import gradkit as gk
    x0 = np.linspace(-3, 3, 1_000_000)

    def f(x):
        return ((x.sin() * (-(x * x)).exp()) + x.tanh()).sum()
    g = gk.func.grad(f)
    x = gk.tensor(x0)
    out = {"gradkit eager": (lambda: g(x), None)}
    cg = gk.compile(g)
    out["gradkit compiled"] = (lambda: cg(x), _first(lambda: cg(x)))
    _phases(cg)
    torch = _torch()
    if torch is not None:
        tx = torch.tensor(x0, requires_grad=True)

        def tstep():
            tx.grad = None
            (torch.sin(tx) * torch.exp(-(tx * tx)) + torch.tanh(tx)).sum().backward()
        out["torch eager"] = (tstep, None)
    jax, jnp = _jax()
    if jax is not None:
        jg = jax.jit(jax.grad(lambda x: (jnp.sin(x) * jnp.exp(-(x * x)) + jnp.tanh(x)).sum()))
        jx = jnp.asarray(x0)
        out["jax jit"] = (lambda: jax.block_until_ready(jg(jx)),
                          _first(lambda: jax.block_until_ready(jg(jx))))
    return out


def mlp(sizes=(64, 128, 10)):
    import gradkit as gk
    rng = np.random.default_rng(0)
    X0 = rng.normal(size=(64, sizes[0])).astype(np.float32)
    Y0 = rng.normal(size=(64, sizes[-1])).astype(np.float32)

    def layers(nn):
        out = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            out += [nn.Linear(a, b), nn.Tanh()]
        return out[:-1]

    def make():
        gk.manual_seed(0)
        m = gk.nn.Sequential(*layers(gk.nn))
        return m, gk.optim.SGD(m.parameters(), lr=1e-3)
    X, Y = gk.tensor(X0), gk.tensor(Y0)
    out = {}
    for name in ("gradkit eager", "gradkit compiled"):
        m, o = make()

        def step(m=m, o=o):
            o.zero_grad()
            loss = ((m(X) - Y) ** 2).mean()
            loss.backward()
            o.step()
            return loss
        if name == "gradkit eager":
            out[name] = (step, None)
        else:
            cs = gk.compile(step)
            first = _first(cs)
            _phases(cs)
            cs()                    # the second call retraces once: .grad now exists
            out[name] = (cs, first)
    torch = _torch()
    if torch is not None:
        torch.manual_seed(0)
        tm = torch.nn.Sequential(*layers(torch.nn))
        to = torch.optim.SGD(tm.parameters(), lr=1e-3)
        tX, tY = torch.tensor(X0), torch.tensor(Y0)

        def tstep():
            to.zero_grad()
            loss = ((tm(tX) - tY) ** 2).mean()
            loss.backward()
            to.step()
        out["torch eager"] = (tstep, None)
    jax, jnp = _jax()
    if jax is not None:
        k = rng.normal
        params = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            params += [jnp.asarray(k(size=(a, b)) * 0.1, jnp.float32), jnp.zeros(b, jnp.float32)]

        def jl(p, X, Y):
            h = X
            for i in range(0, len(p) - 2, 2):
                h = jnp.tanh(h @ p[i] + p[i + 1])
            return ((h @ p[-2] + p[-1] - Y) ** 2).mean()

        @jax.jit
        def jstep(p, X, Y):
            g = jax.grad(jl)(p, X, Y)
            return [a - 1e-3 * b for a, b in zip(p, g)]
        jX, jY = jnp.asarray(X0), jnp.asarray(Y0)
        state = {"p": params}

        def js():
            state["p"] = jax.block_until_ready(jstep(state["p"], jX, jY))
        out["jax jit"] = (js, _first(js))
    return out


def rosenbrock():
    import scipy.optimize as so

    import gradkit as gk
    n = 100
    x0 = np.tile([-1.2, 1.0], n // 2)

    def rosen(x):
        return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    # gradkit.optimize.minimize compiles the objective by default (compile=False: eager)
    out = {"gradkit eager": (lambda: gk.optimize.minimize(rosen, x0, method="BFGS",
                                                          compile=False), None)}

    def comp():
        res = gk.optimize.minimize(rosen, x0, method="BFGS")
        assert res.compiled, res.compile_reason
        return res
    out["gradkit compiled"] = (comp, None)
    torch = _torch()
    if torch is not None:
        def tfg(x):
            t = torch.tensor(x, requires_grad=True)
            v = rosen(t)
            v.backward()
            return float(v.detach()), t.grad.numpy()
        out["torch eager"] = (lambda: so.minimize(tfg, x0, method="BFGS", jac=True), None)
    jax, jnp = _jax()
    if jax is not None:
        jvg = jax.jit(jax.value_and_grad(rosen))

        def jfg(x):
            v, g = jvg(x)
            return float(v), np.asarray(g)
        out["jax jit"] = (lambda: so.minimize(jfg, x0, method="BFGS", jac=True),
                          _first(lambda: jfg(x0)))
    return out


WORKLOADS = {"chain-scalar": lambda: chain("scalar"), "chain-vector": lambda: chain("vector"),
             "rnn": rnn, "elementwise-1e6": elementwise, "mlp-step": mlp,
             "mlp-784-step": lambda: mlp((784, 512, 512, 10)),
             "rosenbrock-bfgs": rosenbrock}


#: workloads whose time is mostly BLAS: gradkit runs them with 1 and 2 BLAS threads too
BLAS_BOUND = ("mlp-784-step",)


def measure(entries, reps, sample_s, clock=time.perf_counter, blas=None):
    """Medians per entry; ``blas``: a setter of NumPy's BLAS threads, given for workloads
    where gradkit runs at 1 and 2 BLAS threads (reported as two entries; 1 otherwise)."""
    torch = _torch()
    names = list(entries)
    runs = []
    for n in names:
        if n == "torch eager":
            runs += [("torch eager (1 thread)", entries[n][0], 1),
                     ("torch eager (2 threads)", entries[n][0], 2)]
        elif blas is not None and n.startswith("gradkit"):
            runs += [(f"{n} (1 BLAS thr)", entries[n][0], -1),
                     (f"{n} (2 BLAS thr)", entries[n][0], -2)]
        else:
            runs.append((n, entries[n][0], None))

    def threads_for(threads):
        if threads and threads > 0:
            torch.set_num_threads(threads)
        elif threads:
            blas(-threads)
    inner = {}
    for name, fn, threads in runs:
        threads_for(threads)
        fn()
        t0 = clock()
        fn()
        dt = clock() - t0
        inner[name] = max(1, int(sample_s / max(dt, 1e-7)))
    gc.collect()
    gc.freeze()
    times = {name: [] for name, _, _ in runs}
    for _ in range(reps):
        order = runs[:]
        random.shuffle(order)
        for name, fn, threads in order:
            threads_for(threads)
            gc.disable()
            t0 = clock()
            for _ in range(inner[name]):
                fn()
            times[name].append((clock() - t0) / inner[name])
            gc.enable()
    gc.unfreeze()
    if blas is not None:
        blas(1)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", action="append", choices=sorted(WORKLOADS))
    ap.add_argument("--phases", action="store_true",
                    help="after each workload, the compiled first call's phases (the trace "
                         "and each pass of the build, CPU ms: Program.phases)")
    ap.add_argument("--cpu", action="store_true",
                    help="time with the process's CPU time instead of the wall clock (on a "
                         "loaded shared machine: less noise; every thread counts, so PyTorch's "
                         "2-thread entry pays for both), first calls included (JAX's "
                         "compiler threads count too)")
    args = ap.parse_args(argv)
    if args.cpu:
        _CLOCK[0] = time.process_time
    reps, sample = (3, 0.05) if args.quick else (7, 0.2)
    torch = _torch()
    jax, _ = _jax()
    setter, _ = bench_ops.numpy_blas_threads()
    if setter is not None:
        setter(1)           # NumPy's OpenBLAS on one thread (on a small shared machine, more
        #                     threads only contend; PyTorch gets its best of 1 and 2)
    print(f"gradkit.compile benchmark: PyTorch {torch.__version__ if torch else 'not installed'}, "
          f"JAX {jax.__version__ if jax else 'not installed'}, NumPy {np.__version__} "
          f"(BLAS threads: {'1' if setter else 'default'}); "
          f"{reps} interleaved repetitions, medians"
          f"{' of process CPU time' if args.cpu else ''}")
    hdr = f"{'workload':<17} {'entry':<30} {'median':>11} {'vs torch':>9} {'first call':>11}"
    print(hdr)
    print("-" * len(hdr))
    for w in args.only or WORKLOADS:
        _PHASES.clear()
        entries = WORKLOADS[w]()
        phases = dict(_PHASES)
        med = measure(entries, reps, sample,
                      time.process_time if args.cpu else time.perf_counter,
                      setter if w in BLAS_BOUND else None)
        base = min([v for k, v in med.items() if k.startswith("torch")] or [float("nan")])
        for name, v in med.items():
            key = "torch eager" if name.startswith("torch") else name.split(" (")[0]
            first = entries[key][1]
            fs = f"{first * 1e3:9.1f}ms" if first is not None else ""
            print(f"{w:<17} {name:<30} {v * 1e3:9.3f}ms {v / base:8.2f}x {fs:>11}")
        if args.phases and phases:
            print(f"{w:<17} first call's phases (CPU ms): "
                  + ", ".join(f"{k} {v * 1e3:.0f}" for k, v in phases.items()))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
