"""Logistic regression by full-batch L-BFGS over a chunked Dask dataset.

The data never leaves the cluster: the features and labels are Dask arrays, generated and
held (persisted) on the workers in row chunks. The parameters are small NumPy-backed
tensors on the client. Each L-BFGS step evaluates the loss and its exact gradient with one
forward and one backward pass through gradkit, which builds a Dask graph; the optimizer
bridge (``gradkit.optimize.minimize``) computes the loss and the gradient together, in one
pass over the chunks, and hands SciPy plain floats. The fit is checked against
scikit-learn's unpenalized ``LogisticRegression`` on the same data, gathered in memory.

Run: ``python examples/distributed_logistic.py [--rows N] [--features D] [--chunks K]``
starts a ``LocalCluster`` of worker processes on this machine. With
``--scheduler tcp://host:8786`` it runs on an existing cluster instead (start one with
``dask scheduler`` and ``dask worker tcp://host:8786`` on each machine).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gradkit
import gradkit.nn.functional as F
from gradkit.optimize import minimize


def make_data(rows: int, features: int, chunks: int, seed: int = 0):
    """Synthetic labelled data generated on the workers: ``X`` (rows, features), ``y`` in {0, 1}."""
    import dask.array as da

    rng = da.random.default_rng(seed)
    w_true = np.linspace(-1.0, 1.0, features)
    rows_per_chunk = -(-rows // chunks)
    X = rng.standard_normal((rows, features), chunks=(rows_per_chunk, features))
    logits = X @ w_true + 0.5
    y = (rng.random(rows, chunks=rows_per_chunk) < 1.0 / (1.0 + da.exp(-logits))).astype(np.float64)
    return X, y


def fit(X, y, maxiter: int = 200):
    """Unpenalized logistic regression of ``y`` on ``X`` (gradkit tensors, Dask-backed or not)
    by L-BFGS-B with exact gradients. Returns SciPy's result; ``res.x`` is ``{"w", "b"}``."""
    features = X.shape[1]

    def loss(p):
        return F.binary_cross_entropy_with_logits(X @ p["w"] + p["b"], y)

    x0 = {"w": np.zeros(features), "b": 0.0}
    return minimize(loss, x0, method="L-BFGS-B", options={"maxiter": maxiter, "gtol": 1e-8})


def accuracy(X, y, params) -> float:
    """Fraction of labels predicted right (computed in one pass when ``X`` is Dask-backed)."""
    hits = ((X @ gradkit.tensor(params["w"]) + params["b"] > 0).double() == y).double().mean()
    (hits,) = gradkit.compute(hits)
    return float(hits)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786); "
                             "without it a LocalCluster is started")
    parser.add_argument("--no-sklearn", action="store_true", help="skip the scikit-learn comparison")
    args = parser.parse_args(argv)

    import dask
    from dask.distributed import Client, LocalCluster

    cluster = None
    if args.scheduler is None:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0")   # any free port
        client = Client(cluster)
    else:
        client = Client(args.scheduler)
    try:
        print(f"cluster: {len(client.scheduler_info()['workers'])} workers at {client.scheduler.address}")
        Xd, yd = make_data(args.rows, args.features, args.chunks)
        Xd, yd = dask.persist(Xd, yd)               # generated once, held in the workers' memory
        X, y = gradkit.from_dask(Xd), gradkit.from_dask(yd)
        print(f"data: {X.shape[0]} x {X.shape[1]} float64 in {Xd.numblocks[0]} chunks")

        start = time.perf_counter()
        res = fit(X, y)
        seconds = time.perf_counter() - start
        acc = accuracy(X, y, res.x)
        print(f"gradkit L-BFGS-B: loss {res.fun:.6f}, accuracy {acc:.4f}, {res.nit} iterations, "
              f"{res.nfev} loss+gradient passes, {seconds:.1f} s ({res.message})")
        result = {"loss": res.fun, "accuracy": acc, "w": np.asarray(res.x["w"]), "b": float(res.x["b"]),
                  "nit": res.nit, "success": bool(res.success), "sklearn": None}

        if not args.no_sklearn:
            try:
                from sklearn.linear_model import LogisticRegression
            except ImportError:
                print("scikit-learn is not installed: no comparison (pip install gradkit[examples])")
            else:
                Xn, yn = dask.compute(Xd, yd)        # small enough to gather for the comparison
                # C=inf: no penalty (sklearn >= 1.8 spells penalty=None this way)
                ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(Xn, yn)
                ref_loss = float(F.binary_cross_entropy_with_logits(
                    gradkit.tensor(Xn @ ref.coef_[0] + ref.intercept_[0]), gradkit.tensor(yn)))
                ref_acc = float(ref.score(Xn, yn))
                diff = max(np.max(np.abs(result["w"] - ref.coef_[0])), abs(result["b"] - ref.intercept_[0]))
                print(f"scikit-learn    : loss {ref_loss:.6f}, accuracy {ref_acc:.4f}; "
                      f"max |parameter difference| {diff:.2e}")
                result["sklearn"] = {"loss": ref_loss, "accuracy": ref_acc, "max_diff": float(diff)}
        return result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":      # needed: LocalCluster's worker processes re-import this file
    main()
