"""PyTorch's tutorial "Jacobians, Hessians, hvp, vhp, and more: composing function transforms"
(``intermediate_source/jacobians_hessians.py`` of pytorch/tutorials), step by step.

Target (issue #17): gradkit at least as fast as ``torch.func`` on the whole tutorial.

Run from the repository root::

    python benchmarks/bench_func.py [--reps 7] [--only hessian,batch_hessian]

Each step of the tutorial (``predict(weight, bias, x) = tanh(linear(x, weight, bias))`` with
its sizes) is timed for gradkit (``gradkit.func``), PyTorch (``torch.func``) and JAX (``jax``
transforms under ``jax.jit``, compiled before timing) when installed. Steps are interleaved per
repetition after a warm-up call each; medians in milliseconds; the ratio is gradkit / torch
(below 1: gradkit faster). BLAS runs one thread for every library (``OPENBLAS_NUM_THREADS=1``,
``torch.set_num_threads(1)``, XLA's CPU client single-threaded where the flag is honoured), so
that a loaded machine does not decide the result. The last line sums the medians of all steps.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import gc  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _data(rng: np.random.Generator, dout: int, din: int, batch: int | None = None) -> tuple:
    w = rng.standard_normal((dout, din)).astype(np.float32)
    b = rng.standard_normal(dout).astype(np.float32)
    x = rng.standard_normal((din,) if batch is None else (batch, din)).astype(np.float32)
    return w, b, x


def steps(lib: str) -> dict[str, Callable[[], Any]]:
    """The tutorial's computations in ``lib``'s spelling, each a thunk on fixed data."""
    rng = np.random.default_rng(0)
    data = {"d16": _data(rng, 16, 16), "tall": _data(rng, 2048, 32), "wide": _data(rng, 32, 2048),
            "hess": _data(rng, 32, 512), "batch": _data(rng, 33, 31, 64)}
    tang = rng.standard_normal((2, 2048)).astype(np.float32)
    batch_t = rng.standard_normal((64, 31)).astype(np.float32)
    if lib == "jax":
        import jax
        import jax.numpy as jnp

        def predict(w: Any, b: Any, x: Any) -> Any:
            return jnp.tanh(x @ w.T + b)

        def f(x: Any) -> Any:
            return jnp.sin(x).sum()

        conv = {k: tuple(jnp.asarray(a) for a in v) for k, v in data.items()}
        conv["batch_t"] = jnp.asarray(batch_t)
        eye = jnp.eye(16)
        xs, ts = jnp.asarray(tang[0]), jnp.asarray(tang[1])

        def vjp_rows(w: Any, b: Any, x: Any) -> Any:
            _, fn = jax.vjp(lambda x: predict(w, b, x), x)
            return jax.vmap(fn)(eye)[0]

        jit = jax.jit
        t: dict[str, Callable[..., Any]] = {
            "vmap_vjp": jit(vjp_rows),
            "jacrev": jit(jax.jacrev(predict, argnums=2)),
            "jacrev_params": jit(jax.jacrev(predict, argnums=(0, 1))),
            "jacfwd": jit(jax.jacfwd(predict, argnums=2)),
            "hessian": jit(jax.hessian(predict, argnums=2)),
            "fwdfwd": jit(jax.jacfwd(jax.jacfwd(predict, argnums=2), argnums=2)),
            "revrev": jit(jax.jacrev(jax.jacrev(predict, argnums=2), argnums=2)),
            "batch_jacobian": jit(jax.vmap(jax.jacrev(predict, argnums=2), in_axes=(None, None, 0))),
            "batch_hessian": jit(jax.vmap(jax.hessian(predict, argnums=2), in_axes=(None, None, 0))),
            "vmap_jvp": jit(jax.vmap(lambda w, b, x, t: jax.jvp(lambda x: predict(w, b, x), (x,), (t,))[1],
                                     in_axes=(None, None, 0, 0))),
            "hvp": jit(lambda x, t: jax.jvp(jax.grad(f), (x,), (t,))[1]),
            "hvp_revrev": jit(lambda x, t: jax.vjp(jax.grad(f), x)[1](t)),
        }

        def run(fn: Callable[..., Any], *a: Any) -> Callable[[], Any]:
            return lambda: jax.block_until_ready(fn(*a))
    else:
        if lib == "torch":
            import torch
            torch.set_num_threads(1)
            from torch import func
            F = torch.nn.functional
            conv = {k: tuple(torch.from_numpy(a) for a in v) for k, v in data.items()}
            conv["batch_t"] = torch.from_numpy(batch_t)
        else:
            import gradkit as torch
            from gradkit import func
            from gradkit.nn import functional as F
            conv = {k: tuple(torch.from_numpy(a) for a in v) for k, v in data.items()}
            conv["batch_t"] = torch.from_numpy(batch_t)

        def predict(w: Any, b: Any, x: Any) -> Any:
            return F.linear(x, w, b).tanh()

        def f(x: Any) -> Any:
            return x.sin().sum()

        eye = torch.eye(16)
        xs, ts = torch.from_numpy(tang[0]), torch.from_numpy(tang[1])

        def vjp_rows(w: Any, b: Any, x: Any) -> Any:
            _, fn = func.vjp(lambda x: predict(w, b, x), x)
            return func.vmap(fn)(eye)[0]

        t = {
            "vmap_vjp": vjp_rows,
            "jacrev": func.jacrev(predict, argnums=2),
            "jacrev_params": func.jacrev(predict, argnums=(0, 1)),
            "jacfwd": func.jacfwd(predict, argnums=2),
            "hessian": func.hessian(predict, argnums=2),
            "fwdfwd": func.jacfwd(func.jacfwd(predict, argnums=2), argnums=2),
            "revrev": func.jacrev(func.jacrev(predict, argnums=2), argnums=2),
            "batch_jacobian": func.vmap(func.jacrev(predict, argnums=2), in_dims=(None, None, 0)),
            "batch_hessian": func.vmap(func.hessian(predict, argnums=2), in_dims=(None, None, 0)),
            "vmap_jvp": func.vmap(lambda w, b, x, t: func.jvp(lambda x: predict(w, b, x), (x,), (t,))[1],
                                  in_dims=(None, None, 0, 0)),
            "hvp": lambda x, t: func.jvp(func.grad(f), (x,), (t,))[1],
            "hvp_revrev": lambda x, t: func.vjp(func.grad(f), x)[1](t),
        }

        def run(fn: Callable[..., Any], *a: Any) -> Callable[[], Any]:
            return lambda: fn(*a)
    c = conv
    return {
        "vmap_vjp 16": run(t["vmap_vjp"], *c["d16"]),
        "jacrev 16": run(t["jacrev"], *c["d16"]),
        "jacrev w,b 16": run(t["jacrev_params"], *c["d16"]),
        "jacfwd 32->2048": run(t["jacfwd"], *c["tall"]),
        "jacrev 32->2048": run(t["jacrev"], *c["tall"]),
        "jacfwd 2048->32": run(t["jacfwd"], *c["wide"]),
        "jacrev 2048->32": run(t["jacrev"], *c["wide"]),
        "hessian 512->32": run(t["hessian"], *c["hess"]),
        "jacfwd(jacfwd) 512->32": run(t["fwdfwd"], *c["hess"]),
        "jacrev(jacrev) 512->32": run(t["revrev"], *c["hess"]),
        "batch jacobian 64x31->33": run(t["batch_jacobian"], *c["batch"]),
        "batch hessian 64x31->33": run(t["batch_hessian"], *c["batch"]),
        "vmap(jvp) 64x31->33": run(t["vmap_jvp"], *c["batch"], c["batch_t"]),
        "hvp fwd-over-rev 2048": run(t["hvp"], xs, ts),
        "hvp rev-over-rev 2048": run(t["hvp_revrev"], xs, ts),
    }


def _available(lib: str) -> bool:
    try:
        __import__(lib)
    except ImportError:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--only", default="", help="comma-separated substrings of step names")
    args = ap.parse_args()
    libs = ["gradkit"] + [lib for lib in ("torch", "jax") if _available(lib)]
    table = {lib: steps(lib) for lib in libs}
    names = [n for n in table["gradkit"]
             if not args.only or any(s in n for s in args.only.split(","))]
    for lib in libs:                                   # warm-up (and JAX's compilation)
        for n in names:
            table[lib][n]()
    times: dict[str, dict[str, list[float]]] = {lib: {n: [] for n in names} for lib in libs}
    gc.collect()
    gc.freeze()
    for _ in range(args.reps):
        for n in names:
            for lib in libs:
                gc.disable()
                t0 = time.perf_counter()
                table[lib][n]()
                times[lib][n].append(time.perf_counter() - t0)
                gc.enable()
    med = {lib: {n: float(np.median(v)) * 1e3 for n, v in d.items()} for lib, d in times.items()}
    head = f"{'step':28s}" + "".join(f"{lib + ' ms':>13s}" for lib in libs)
    if "torch" in libs:
        head += f"{'gk/torch':>10s}"
    print(head)
    for n in names + ["total"]:
        vals = {lib: (sum(med[lib].values()) if n == "total" else med[lib][n]) for lib in libs}
        line = f"{n:28s}" + "".join(f"{vals[lib]:13.3f}" for lib in libs)
        if "torch" in libs:
            line += f"{vals['gradkit'] / vals['torch']:10.2f}"
        print(line)
    print(f"(medians of {args.reps}; jax timed under jax.jit, compiled before timing)")


if __name__ == "__main__":
    main()
