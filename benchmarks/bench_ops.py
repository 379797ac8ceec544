"""Per-operation overhead and MLP training-step benchmarks: gradkit against its anchors.

Run from the repository root::

    python benchmarks/bench_ops.py            # full run (about 1-3 minutes)
    python benchmarks/bench_ops.py --quick    # smoke run (well under 20 s)
    python benchmarks/bench_ops.py --only ops # or --only mlp

What is measured (see benchmarks/README.md for how to read the output):

* ``ops``: a straight-line chain of 300 cheap elementwise operations (a fixed 10-op cycle:
  multiply by a constant, add the input, sin, multiply by the input, tanh, exp, subtract a
  constant, cos, square by self-multiplication, divide by a constant) followed by a sum, then the
  gradient with respect to the input. The same generated Python source is executed by every
  library, on a 0-d float32 scalar and on a 100-element float32 vector. Reported as microseconds
  per operation = (time of one forward + backward) / 300. A second block times the forward pass
  alone with gradient recording off (``no_grad``; plain arrays for HIPS autograd and JAX).
* ``mlp``: one training step of a 2-hidden-layer tanh MLP (128 -> 256 -> 256 -> 10, batch 64,
  float32, MSE loss): forward + backward, and forward + backward + in-place SGD update.

Method: everything is set up and warmed up first, then ``gc.collect(); gc.freeze()``; the garbage
collector is disabled inside each timed sample. Each sample runs one library's step ``inner`` times
(``inner`` calibrated so a sample lasts about ``--sample-ms``); libraries are interleaved
round-robin within every repetition (in a fresh random order each repetition, after a short
untimed sleep so the previous library's spinning thread pool has gone quiet), so slow drifts of a
shared, noisy machine hit all of them alike. Medians and minima over repetitions are reported.
PyTorch is measured with ``torch.set_num_threads(1)`` and ``(2)`` as two separate entries and the
ratio uses the faster of the two (by median). Anchors that cannot be imported are skipped.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:  # run against the working tree, not an installed copy
    sys.path.insert(0, ROOT)

N_OPS = 300
VEC_SIZE = 100
DTYPE = np.float32

# One cycle of the chain.  `z` is the running value, `x` the input being differentiated.
# Values stay bounded for any x in [-1, 1] (cos/sin/tanh re-normalise every cycle).
CYCLE = (
    "z = z * 0.9",
    "z = z + x",
    "z = sin(z)",
    "z = z * x",
    "z = tanh(z)",
    "z = exp(z)",
    "z = z - 0.5",
    "z = cos(z)",
    "z = z * z",
    "z = z / 1.5",
)


def chain_source(n_ops: int = N_OPS) -> str:
    """Straight-line source of ``chain(x) -> total(z)`` with ``n_ops`` ops (no loop overhead)."""
    lines = ["def chain(x):", "    z = x"]
    lines += ["    " + CYCLE[i % len(CYCLE)] for i in range(n_ops)]
    lines.append("    return total(z)")
    return "\n".join(lines) + "\n"


def build_chain(sin, cos, tanh, exp, total, n_ops: int = N_OPS):
    ns = {"sin": sin, "cos": cos, "tanh": tanh, "exp": exp, "total": total}
    exec(compile(chain_source(n_ops), f"<chain{n_ops}>", "exec"), ns)
    return ns["chain"]


def input_array(case: str) -> np.ndarray:
    if case == "scalar":
        return np.array(0.5, dtype=DTYPE)
    return np.linspace(-0.9, 0.9, VEC_SIZE, dtype=DTYPE)


# --------------------------------------------------------------------------------------------
# Library adapters.  Each `*_ops(case)` returns {"fwdbwd": fn, "fwd": fn, "check": fn}, where
# fn() runs one timed unit and check() returns (value, grad) as float64 numpy arrays.
# --------------------------------------------------------------------------------------------

def gradkit_ops(case):
    import gradkit as gk
    chain = build_chain(gk.sin, gk.cos, gk.tanh, gk.exp, gk.sum)
    x = gk.tensor(input_array(case), requires_grad=True)

    def fwdbwd():
        x.grad = None
        chain(x).backward()

    def fwd():
        with gk.no_grad():
            chain(x)

    def check():
        x.grad = None
        y = chain(x)
        y.backward()
        return (np.asarray(y.detach().numpy(), np.float64),
                np.asarray(x.grad.numpy(), np.float64))

    return {"fwdbwd": fwdbwd, "fwd": fwd, "check": check}


def torch_ops(case):
    import torch
    chain = build_chain(torch.sin, torch.cos, torch.tanh, torch.exp, torch.sum)
    x = torch.tensor(input_array(case), requires_grad=True)

    def fwdbwd():
        x.grad = None
        chain(x).backward()

    def fwd():
        with torch.no_grad():
            chain(x)

    def check():
        x.grad = None
        y = chain(x)
        y.backward()
        return (y.detach().numpy().astype(np.float64), x.grad.numpy().astype(np.float64))

    return {"fwdbwd": fwdbwd, "fwd": fwd, "check": check}


def autograd_ops(case):
    import autograd
    import autograd.numpy as anp
    chain = build_chain(anp.sin, anp.cos, anp.tanh, anp.exp, anp.sum)
    gfun = autograd.grad(chain)
    vg = autograd.value_and_grad(chain)
    x = input_array(case)

    def fwdbwd():
        gfun(x)

    def fwd():  # plain ndarray in: no tracing, NumPy through autograd's wrappers
        chain(x)

    def check():
        v, g = vg(x)
        return np.asarray(v, np.float64), np.asarray(g, np.float64)

    return {"fwdbwd": fwdbwd, "fwd": fwd, "check": check}


def _jax():
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp
    return jax, jnp


def jax_ops(case, jit=False):
    jax, jnp = _jax()
    chain = build_chain(jnp.sin, jnp.cos, jnp.tanh, jnp.exp, jnp.sum)
    gfun = jax.grad(chain)
    ffun = chain
    vg = jax.value_and_grad(chain)
    if jit:
        gfun, ffun, vg = jax.jit(gfun), jax.jit(chain), jax.jit(vg)
    x = jnp.asarray(input_array(case))

    def fwdbwd():
        gfun(x).block_until_ready()

    def fwd():
        ffun(x).block_until_ready()

    def check():
        v, g = vg(x)
        return np.asarray(v, np.float64), np.asarray(g, np.float64)

    return {"fwdbwd": fwdbwd, "fwd": fwd, "check": check}


def numpy_ops(case):
    chain = build_chain(np.sin, np.cos, np.tanh, np.exp, np.sum)
    x = input_array(case)

    def fwd():
        chain(x)

    return {"fwd": fwd, "check": lambda: (np.asarray(chain(x), np.float64), None)}


# ---- MLP -----------------------------------------------------------------------------------

MLP_IN, MLP_HIDDEN, MLP_OUT, MLP_BATCH, MLP_LR = 128, 256, 10, 64, 1e-3


def mlp_data():
    rng = np.random.default_rng(0)
    sizes = [MLP_IN, MLP_HIDDEN, MLP_HIDDEN, MLP_OUT]
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((a, b)) / np.sqrt(a)).astype(DTYPE))
        params.append(np.zeros(b, DTYPE))
    X = rng.standard_normal((MLP_BATCH, MLP_IN)).astype(DTYPE)
    Y = rng.standard_normal((MLP_BATCH, MLP_OUT)).astype(DTYPE)
    return params, X, Y


def _mlp_loss(tanh, mean, params, X, Y):
    W1, b1, W2, b2, W3, b3 = params
    h = tanh(X @ W1 + b1)
    h = tanh(h @ W2 + b2)
    d = h @ W3 + b3 - Y
    return mean(d * d)


def gradkit_mlp():
    import gradkit as gk
    p0, X0, Y0 = mlp_data()
    params = [gk.tensor(p.copy(), requires_grad=True) for p in p0]
    X, Y = gk.tensor(X0), gk.tensor(Y0)

    def fwdbwd():
        for p in params:
            p.grad = None
        _mlp_loss(gk.tanh, gk.mean, params, X, Y).backward()

    def step():
        fwdbwd()
        with gk.no_grad():
            for p in params:
                p -= MLP_LR * p.grad

    def check():
        for p in params:
            p.grad = None
        loss = _mlp_loss(gk.tanh, gk.mean, params, X, Y)
        loss.backward()
        return (np.asarray(loss.detach().numpy(), np.float64),
                np.concatenate([p.grad.numpy().ravel() for p in params]).astype(np.float64))

    return {"fwdbwd": fwdbwd, "step": step, "check": check}


def torch_mlp():
    import torch
    p0, X0, Y0 = mlp_data()
    params = [torch.tensor(p.copy(), requires_grad=True) for p in p0]
    X, Y = torch.tensor(X0), torch.tensor(Y0)

    def fwdbwd():
        for p in params:
            p.grad = None
        _mlp_loss(torch.tanh, torch.mean, params, X, Y).backward()

    def step():
        fwdbwd()
        with torch.no_grad():
            for p in params:
                p -= MLP_LR * p.grad

    def check():
        for p in params:
            p.grad = None
        loss = _mlp_loss(torch.tanh, torch.mean, params, X, Y)
        loss.backward()
        return (loss.detach().numpy().astype(np.float64),
                np.concatenate([p.grad.numpy().ravel() for p in params]).astype(np.float64))

    return {"fwdbwd": fwdbwd, "step": step, "check": check}


def autograd_mlp():
    import autograd
    import autograd.numpy as anp
    params, X, Y = mlp_data()

    def loss(ps):
        return _mlp_loss(anp.tanh, anp.mean, ps, X, Y)

    vg = autograd.value_and_grad(loss)
    gfun = autograd.grad(loss)

    def fwdbwd():
        gfun(params)

    def step():
        for p, g in zip(params, gfun(params)):
            p -= MLP_LR * g

    def check():
        v, gs = vg(list(params))
        return np.float64(v), np.concatenate([g.ravel() for g in gs]).astype(np.float64)

    return {"fwdbwd": fwdbwd, "step": step, "check": check}


def jax_mlp():
    jax, jnp = _jax()
    p0, X0, Y0 = mlp_data()
    X, Y = jnp.asarray(X0), jnp.asarray(Y0)
    state = {"params": [jnp.asarray(p) for p in p0]}

    def loss(ps):
        return _mlp_loss(jnp.tanh, jnp.mean, ps, X, Y)

    gfun = jax.grad(loss)
    vg = jax.value_and_grad(loss)

    def fwdbwd():
        jax.block_until_ready(gfun(state["params"]))

    def step():
        gs = gfun(state["params"])
        state["params"] = jax.block_until_ready(
            [p - MLP_LR * g for p, g in zip(state["params"], gs)])

    def check():
        v, gs = vg(state["params"])
        return np.float64(v), np.concatenate([np.asarray(g).ravel() for g in gs]).astype(np.float64)

    return {"fwdbwd": fwdbwd, "step": step, "check": check}


# --------------------------------------------------------------------------------------------
# Timing harness
# --------------------------------------------------------------------------------------------

class Entry:
    """One timed configuration: a library (+ thread setting) on one case and mode."""

    def __init__(self, key, fn, pre=None):
        self.key, self.fn, self.pre = key, fn, pre
        self.inner = 1
        self.t_call = 0.0  # seconds per call, from calibration
        self.samples = []  # seconds per call


def numpy_blas_threads():
    """(set_threads, get_threads) for the OpenBLAS that NumPy loaded, or (None, None).

    A small stand-in for threadpoolctl (not a dependency here): find the loaded OpenBLAS in
    /proc/self/maps and call its exported thread-count functions through ctypes.
    """
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            paths = {ln.split()[-1] for ln in f if "openblas" in ln.lower() and "/" in ln}
    except OSError:
        return None, None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", "", "_64"):
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    setter.argtypes, setter.restype = [ctypes.c_int], None
                    getter.argtypes, getter.restype = [], ctypes.c_int
                    return setter, getter
    return None, None


def _set_blas_threads(setter, n):
    def pre():
        setter(n)
    return pre


def _set_torch_threads(n):
    def pre():
        import torch
        torch.set_num_threads(n)
    return pre


def calibrate(entry, sample_s, warmup):
    if entry.pre:
        entry.pre()
    for _ in range(warmup):
        entry.fn()
    # probe a few calls and keep the fastest: the first calls after warm-up (or a noisy
    # moment on a shared machine) must not make `inner` too small
    t, spent = float("inf"), 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        entry.fn()
        dt = max(time.perf_counter() - t0, 1e-7)
        t, spent = min(t, dt), spent + dt
        if spent >= sample_s:
            break
    entry.t_call = t
    entry.inner = max(1, int(round(sample_s / t)))


def run_round_robin(entries, reps, log, cooldown_s=0.015, seed=0):
    """Interleave entries: each repetition times every entry once, in a fresh random order.

    Before each sample (all untimed): the entry's ``pre`` hook (torch thread count), a short sleep
    so that the worker threads of the previous entry's thread pool (OpenMP in torch, OpenBLAS in
    NumPy) stop spinning and do not steal the second core, then one priming call so that the
    entry's own pool is awake, as it would be inside a real loop.  A random order (not a fixed
    rotation) keeps any one entry from always following the same neighbour.
    """
    rng = random.Random(seed)
    gc.collect()
    gc.freeze()
    try:
        for r in range(reps):
            order = list(entries)
            rng.shuffle(order)
            for e in order:
                if e.pre:
                    e.pre()
                time.sleep(cooldown_s)
                fn, inner = e.fn, e.inner
                if e.t_call < 0.02:
                    fn()
                gc.disable()
                t0 = time.perf_counter()
                for _ in range(inner):
                    fn()
                t1 = time.perf_counter()
                gc.enable()
                e.samples.append((t1 - t0) / inner)
                gc.collect()  # outside the timed region; frozen set-up objects are skipped
            log(f"  rep {r + 1}/{reps}")
    finally:
        gc.enable()
        gc.unfreeze()


def stats(entry, scale):
    if not entry.samples:
        return None
    xs = [s * scale for s in entry.samples]
    return statistics.median(xs), min(xs)


# --------------------------------------------------------------------------------------------
# Benchmarks
# --------------------------------------------------------------------------------------------

def available(args):
    libs = {}
    errors = {}

    def probe(name, mod):
        try:
            t0 = time.perf_counter()
            m = __import__(mod)
            libs[name] = (m, time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - any import failure means "skip"
            errors[name] = f"not importable ({type(exc).__name__}: {exc})"

    probe("gradkit", "gradkit")
    if "torch" not in args.skip:
        probe("torch", "torch")
    if "autograd" not in args.skip:
        probe("autograd", "autograd")
    if "jax" not in args.skip:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        probe("jax", "jax")
    return libs, errors


def compare(ref, got, rtol=1e-3, atol=1e-5):
    """Max deviation of got from ref relative to tolerance (<= 1 means agreement)."""
    if ref is None or got is None:
        return None
    ref, got = np.asarray(ref, np.float64), np.asarray(got, np.float64)
    if ref.shape != got.shape:
        return float("inf")
    return float(np.max(np.abs(ref - got) / (atol + rtol * np.abs(ref)), initial=0.0))


def setup_entries(factories, modes, errors, warmup, sample_s, log):
    """factories: [(label, factory, pre)]; returns {(label, mode): Entry} and check results."""
    entries, checks = {}, {}
    for label, factory, pre in factories:
        try:
            if pre:
                pre()
            fns = factory()
            checks[label] = fns["check"]()
        except Exception:  # noqa: BLE001
            errors[label] = traceback.format_exc(limit=4).strip()
            log(f"  {label}: set-up FAILED")
            continue
        for mode in modes:
            if mode not in fns:
                continue
            e = Entry((label, mode), fns[mode], pre)
            try:
                calibrate(e, sample_s, warmup)
            except Exception:  # noqa: BLE001
                errors[f"{label} [{mode}]"] = traceback.format_exc(limit=4).strip()
                log(f"  {label} [{mode}]: FAILED")
                continue
            entries[(label, mode)] = e
    return entries, checks


def check_agreement(checks, ref_order, errors, what):
    ref_label = next((k for k in ref_order if k in checks), None)
    if ref_label is None:
        return
    rv, rg = checks[ref_label]
    for label, (v, g) in checks.items():
        if label == ref_label:
            continue
        dv, dg = compare(rv, v), compare(rg, g)
        bad = [n for n, d in (("value", dv), ("gradient", dg)) if d is not None and d > 1]
        if bad:
            errors[f"{label} {what}"] = (f"{' and '.join(bad)} disagree with {ref_label} "
                                         f"(deviation {max(d for d in (dv, dg) if d is not None):.3g}"
                                         f" x tolerance rtol=1e-3, atol=1e-5)")


def fmt(st, digits=2):
    if st is None:
        return "—"
    med, mn = st
    return f"{med:.{digits}f} ({mn:.{digits}f})"


def fmt_ratio(a, b):
    if a is None or b is None:
        return "—"
    return f"{a[0] / b[0]:.2f} ({a[1] / b[1]:.2f})"


def best_of_threads(get, base="torch"):
    """The faster (by median) of `base` at 1 and 2 threads: (stats, threads) or (None, None)."""
    cands = [(get(f"{base}_t{n}"), n) for n in (1, 2)]
    cands = [c for c in cands if c[0]]
    if not cands:
        return None, None
    return min(cands, key=lambda c: c[0][0])


def bench_ops(args, libs, errors, log):
    cases = ("scalar", "vec100")
    factories = []
    for case in cases:
        if "gradkit" in libs:
            factories.append((f"gradkit/{case}", lambda c=case: gradkit_ops(c), None))
        if "torch" in libs:
            for nt in (1, 2):
                factories.append((f"torch_t{nt}/{case}", lambda c=case: torch_ops(c),
                                  _set_torch_threads(nt)))
        if "autograd" in libs:
            factories.append((f"autograd/{case}", lambda c=case: autograd_ops(c), None))
        if "jax" in libs:
            factories.append((f"jax/{case}", lambda c=case: jax_ops(c), None))
            if not args.no_jit:
                factories.append((f"jaxjit/{case}", lambda c=case: jax_ops(c, jit=True), None))
        factories.append((f"numpy/{case}", lambda c=case: numpy_ops(c), None))

    log("ops: setting up and calibrating ...")
    entries, checks = setup_entries(factories, ("fwdbwd", "fwd"), errors, args.warmup,
                                    args.sample_ms / 1e3, log)
    for case in cases:
        sub = {k.split("/")[0]: v for k, v in checks.items() if k.endswith("/" + case)}
        # the gradient check: every library against the first available reference
        sub_grad = {k: v for k, v in sub.items() if v[1] is not None}
        check_agreement(sub_grad, ("torch_t1", "autograd", "jax", "gradkit"), errors,
                        f"chain/{case}")
    log(f"ops: timing {len(entries)} entries x {args.reps} reps (round-robin) ...")
    run_round_robin(list(entries.values()), args.reps, log, args.cooldown_ms / 1e3)

    scale = 1e6 / N_OPS  # seconds per call -> µs per op
    rows = []
    for mode, mode_label in (("fwdbwd", "fwd+bwd"), ("fwd", "fwd only, no_grad")):
        for case in cases:
            def get(lib, m=mode, c=case):
                e = entries.get((f"{lib}/{c}", m))
                return stats(e, scale) if e else None
            gk_st = get("gradkit")
            tb, nt = best_of_threads(get)
            ag, jx, jj, npy = get("autograd"), get("jax"), get("jaxjit"), get("numpy")
            rows.append([
                f"{case} {mode_label}",
                fmt(gk_st),
                (fmt(tb) + f" [{nt}t]") if tb else "—", fmt_ratio(gk_st, tb),
                fmt(ag), fmt_ratio(gk_st, ag),
                fmt(jx), fmt_ratio(gk_st, jx),
                fmt(jj, 3), fmt(npy, 3),
            ])
    header = ["case", "gradkit µs/op", "torch µs/op (best of 1/2 thr)", "gk/torch",
              "autograd µs/op", "gk/autograd", "jax eager µs/op", "gk/jax",
              "jax jit µs/op", "numpy µs/op"]
    detail = {f"{k[0]} [{k[1]}]": (stats(e, scale), e.inner, len(e.samples))
              for k, e in entries.items()}
    return header, rows, detail


def bench_mlp(args, libs, errors, log):
    # NumPy's BLAS threads matter here just as torch's do: on a shared 2-core machine a
    # 2-thread GEMM can be far slower than a 1-thread one when the other core is busy.  So the
    # NumPy-based libraries get the same treatment as torch: measured at 1 and at 2 BLAS threads,
    # best of the two reported.  Without a way to set them, they run at NumPy's default.
    set_blas, get_blas = numpy_blas_threads()
    blas_default = get_blas() if get_blas else None
    factories = []
    for name, factory in (("gradkit", gradkit_mlp), ("autograd", autograd_mlp)):
        if name not in libs:
            continue
        if set_blas:
            for nt in (1, 2):
                factories.append((f"{name}_t{nt}", factory, _set_blas_threads(set_blas, nt)))
        else:
            factories.append((f"{name}_tdefault", factory, None))
    if "torch" in libs:
        for nt in (1, 2):
            factories.append((f"torch_t{nt}", torch_mlp, _set_torch_threads(nt)))
    if "jax" in libs:
        factories.append(("jax", jax_mlp, None))
    log("mlp: setting up and calibrating ...")
    try:
        entries, checks = setup_entries(factories, ("fwdbwd", "step"), errors, args.warmup,
                                        args.sample_ms / 1e3, log)
        check_agreement(checks, ("torch_t1", "autograd_t1", "autograd_tdefault", "jax",
                                 "gradkit_t1", "gradkit_tdefault"), errors, "mlp")
        log(f"mlp: timing {len(entries)} entries x {args.reps} reps (round-robin) ...")
        run_round_robin(list(entries.values()), args.reps, log, args.cooldown_ms / 1e3)
    finally:
        if set_blas and blas_default:
            set_blas(blas_default)

    scale = 1e6  # µs per step
    rows = []
    for mode, mode_label in (("fwdbwd", "fwd+bwd"), ("step", "fwd+bwd+SGD update")):
        def get(lib, m=mode):
            e = entries.get((lib, m))
            return stats(e, scale) if e else None

        def best(base):
            if set_blas is None and base != "torch":
                st = get(f"{base}_tdefault")
                return st, ("default" if st else None)
            return best_of_threads(get, base)

        gk_st, gk_nt = best("gradkit")
        tb, nt = best("torch")
        ag, ag_nt = best("autograd")
        jx = get("jax")
        tag = lambda st, n: (fmt(st, 1) + f" [{n}t]") if st else "—"  # noqa: E731
        rows.append([
            f"MLP {MLP_IN}-{MLP_HIDDEN}-{MLP_HIDDEN}-{MLP_OUT}, batch {MLP_BATCH}: {mode_label}",
            tag(gk_st, gk_nt),
            tag(tb, nt), fmt_ratio(gk_st, tb),
            tag(ag, ag_nt), fmt_ratio(gk_st, ag),
            fmt(jx, 1), fmt_ratio(gk_st, jx),
        ])
    blas = "best of 1/2 BLAS thr" if set_blas else "NumPy default BLAS threads"
    header = ["case", f"gradkit µs/step ({blas})", "torch µs/step (best of 1/2 thr)", "gk/torch",
              f"autograd µs/step ({blas})", "gk/autograd", "jax eager µs/step", "gk/jax"]
    detail = {f"{k[0]} [{k[1]}]": (stats(e, scale), e.inner, len(e.samples))
              for k, e in entries.items()}
    return header, rows, detail


def print_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


def print_detail(detail, unit):
    print(f"\nAll entries: median (min) {unit}, inner calls per sample, samples")
    for k, (st, inner, n) in detail.items():
        print(f"  {k:28s} {fmt(st, 3):>22s}  inner={inner:<6d} n={n}")


def target_lines(ops_rows, mlp_rows):
    out = []
    for r in ops_rows:
        if "fwd+bwd" in r[0] and r[3] != "—":
            ratio = float(r[3].split()[0])
            out.append(f"  per-op {r[0]}: gradkit/torch = {ratio:.2f}  "
                       f"(target <= 0.50: {'MET' if ratio <= 0.5 else 'NOT MET'})")
    for r in mlp_rows:
        if r[3] != "—":
            ratio = float(r[3].split()[0])
            out.append(f"  {r[0]}: gradkit/torch = {ratio:.2f}  "
                       f"(target <= 1.20: {'MET' if ratio <= 1.2 else 'NOT MET'})")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few reps, short samples (< 20 s)")
    ap.add_argument("--only", choices=("ops", "mlp"), help="run one benchmark only")
    ap.add_argument("--reps", type=int, help="repetitions per entry (default 21; quick 3)")
    ap.add_argument("--sample-ms", type=float, help="target length of one sample (default 40; "
                    "quick 6)")
    ap.add_argument("--skip", action="append", default=[], choices=("torch", "autograd", "jax"),
                    help="leave an anchor out (repeatable)")
    ap.add_argument("--no-jit", action="store_true",
                    help="do not time jax.jit (always off with --quick: compiling takes seconds)")
    ap.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    args = ap.parse_args(argv)
    if args.reps is None:
        args.reps = 3 if args.quick else 21
    if args.sample_ms is None:
        args.sample_ms = 6.0 if args.quick else 40.0
    args.warmup = 1 if args.quick else 5
    args.cooldown_ms = 5.0 if args.quick else 15.0
    if args.quick:
        args.no_jit = True

    def log(msg):
        if args.verbose:
            print(msg, file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    log = (lambda msg, _log=log: _log(f"[{time.perf_counter() - t_start:6.1f} s] {msg}"))
    libs, errors = available(args)
    if "gradkit" not in libs:
        print("gradkit is not importable:", errors.get("gradkit"), file=sys.stderr)
        return 1

    vers = []
    for name, (m, t_imp) in libs.items():
        ver = getattr(m, "__version__", None)
        if ver is None:
            try:
                from importlib.metadata import version
                ver = version(name)
            except Exception:  # noqa: BLE001
                ver = "?"
        vers.append(f"{name} {ver} (import {t_imp * 1e3:.0f} ms)")
    print(f"# gradkit per-op and MLP benchmarks{' (--quick)' if args.quick else ''}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs; " + "; ".join(vers))
    skipped = dict(errors)
    for name in ("torch", "autograd", "jax"):
        if name in args.skip:
            skipped[name] = "skipped (--skip)"
    if "jax" in libs and args.no_jit and args.only != "mlp":
        skipped["jax jit"] = "not timed (--quick or --no-jit)"
    for k, v in skipped.items():
        print(f"skipped: {k}: {v}")
    print(f"reps={args.reps}, sample≈{args.sample_ms:g} ms, values are median (min); "
          f"ratios are gradkit / anchor (median (min)), < 1 means gradkit is faster.")
    errors = {}

    ops_rows, mlp_rows = [], []
    if args.only in (None, "ops"):
        header, ops_rows, detail = bench_ops(args, libs, errors, log)
        print(f"\n## Per-op cost: chain of {N_OPS} elementwise ops + sum, float32; "
              f"µs per op = time per call / {N_OPS}\n")
        print_table(header, ops_rows)
        print_detail(detail, "µs/op")
    if args.only in (None, "mlp"):
        header, mlp_rows, detail = bench_mlp(args, libs, errors, log)
        print(f"\n## MLP training step: tanh MLP {MLP_IN}-{MLP_HIDDEN}-{MLP_HIDDEN}-{MLP_OUT}, "
              f"batch {MLP_BATCH}, float32, MSE; µs per step\n")
        print_table(header, mlp_rows)
        print_detail(detail, "µs/step")

    print("\n## Against the DESIGN.md targets (median ratios)")
    for line in target_lines(ops_rows, mlp_rows) or ["  (no torch in this run)"]:
        print(line)
    if errors:
        print("\n## Errors and disagreements")
        for k, v in errors.items():
            print(f"- {k}:\n    " + v.replace("\n", "\n    "))
    print(f"\ntotal wall time {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
