"""Dask-backed tensors on a real ``dask.distributed`` cluster (two worker processes).

Forward and backward over chunked data build Dask graphs; ``gradkit.compute`` runs them on
the cluster in one pass. Every gradient is checked against the same computation on
in-memory NumPy-backed tensors (float64, 1e-10 relative). The cluster is started once for
the module; its client is not made the default, so each computation names it
(``scheduler=client``) and other test modules keep Dask's local schedulers.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

import gradkit as gk  # noqa: E402
import gradkit.nn.functional as F  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
N, D, CHUNKS = 4000, 6, 8            # 8 row chunks on 2 workers
RTOL = 1e-10

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture(scope="module")
def cluster():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=":0")
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def client(cluster):
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    y = X @ rng.standard_normal(D) + 0.3 + 0.1 * rng.standard_normal(N)
    labels = (rng.random(N) < 1 / (1 + np.exp(-y))).astype(np.float64)
    return X, y, labels


def lazy(a):
    """A Dask-backed tensor over ``a``, chunked by rows into CHUNKS pieces."""
    rows = -(-a.shape[0] // CHUNKS)
    return gk.from_dask(da.from_array(a, chunks=(rows,) + a.shape[1:]))


def params(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [gk.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


def is_lazy(t):
    return isinstance(t._data, da.Array)


def values(ts):
    return [np.asarray(t.detach().numpy()) for t in ts]


def assert_close(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert not is_lazy(a) if isinstance(a, gk.Tensor) else True
        a = np.asarray(a.detach().numpy() if isinstance(a, gk.Tensor) else a)
        e = np.asarray(e.detach().numpy() if isinstance(e, gk.Tensor) else e)
        assert a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=RTOL * max(1.0, float(np.abs(e).max())))


def boom(*args, **kwargs):
    raise AssertionError("a Dask graph was computed before gradkit.compute was asked to")


# --- the models: the same code runs on NumPy-backed and Dask-backed data -------------------
def linear_mse(X, y):
    w, b = params(1, (D,), ())
    loss = F.mse_loss(X @ w + b, y)
    return [loss, *gk.autograd.grad(loss, [w, b])]


def logistic_bce(X, labels):
    w, b = params(2, (D,), ())
    p = gk.sigmoid(X @ w + b)
    loss = F.binary_cross_entropy(p, labels)
    return [loss, *gk.autograd.grad(loss, [w, b])]


def logistic_logsigmoid(X, labels):
    w, b = params(3, (D,), ())
    z = X @ w + b
    loss = -(labels * F.logsigmoid(z) + (1 - labels) * F.logsigmoid(-z)).mean()
    return [loss, *gk.autograd.grad(loss, [w, b])]


def mlp_backward(X, y):
    W1, b1, W2, b2 = params(4, (D, 16), (16,), (16, 1), (1,))
    h = gk.tanh(X @ W1 + b1)
    out = (h @ W2 + b2).squeeze(-1)
    loss = ((out - y) ** 2).mean()
    loss.backward()
    return [loss.detach(), W1.grad, b1.grad, W2.grad, b2.grad]


def bias_broadcast(X, y):
    (bias,) = params(5, (D,))
    loss = (((X + bias) ** 2).sum(dim=1) * y).mean()
    return [loss, *gk.autograd.grad(loss, [bias])]


MODELS = {"linear-mse": (linear_mse, 1), "logistic-bce": (logistic_bce, 2),
          "logistic-logsigmoid": (logistic_logsigmoid, 2), "mlp-backward": (mlp_backward, 1),
          "bias-broadcast": (bias_broadcast, 1)}


def _run_model(name, data, client):
    fn, target = MODELS[name]
    X, y, labels = data
    t = (y, labels)[target - 1]
    expected = fn(gk.tensor(X), gk.tensor(t))
    with dask.config.set(scheduler=boom):                  # building the graphs computes nothing
        results = fn(lazy(X), lazy(t))
    assert all(is_lazy(r) for r in results), [type(r._data) for r in results]
    with distributed.get_task_stream(client) as stream:
        computed = gk.compute(*results, scheduler=client)
    assert isinstance(computed, tuple) and len(computed) == len(results)
    assert len(stream.data) >= CHUNKS                      # the chunks ran on the cluster
    assert_close(computed, expected)
    return computed


# --- a, b, c, g: gradients on the cluster equal the in-memory ones -------------------------
def test_linear_regression_gradients(data, client):
    loss, gw, gb = _run_model("linear-mse", data, client)
    assert gw.shape == (D,) and gb.shape == ()


@pytest.mark.parametrize("name", ["logistic-bce", "logistic-logsigmoid"])
def test_logistic_regression_gradients(name, data, client):
    _run_model(name, data, client)


def test_mlp_gradients_via_backward(data, client):
    loss, gW1, gb1, gW2, gb2 = _run_model("mlp-backward", data, client)
    assert (gW1.shape, gb1.shape, gW2.shape, gb2.shape) == ((D, 16), (16,), (16, 1), (1,))


def test_numpy_bias_plus_dask_data_reduces_to_bias_shape(data, client):
    loss, gbias = _run_model("bias-broadcast", data, client)
    assert gbias.shape == (D,) and not is_lazy(gbias)
    X, y, _ = data                                          # and by hand: d/dbias = 2 mean(y (x + bias))
    (bias,) = params(5, (D,))
    by_hand = 2 * np.mean(y[:, None] * (X + bias.detach().numpy()), axis=0)
    np.testing.assert_allclose(gbias.numpy(), by_hand, rtol=RTOL)


def test_compute_keeps_structure(data, client):
    X, y, _ = data
    loss, gw, gb = linear_mse(lazy(X), lazy(y))
    out = gk.compute({"loss": loss, "grads": [gw, gb]}, 3.0, scheduler=client)
    assert isinstance(out, tuple) and len(out) == 2 and out[1] == 3.0
    assert set(out[0]) == {"loss", "grads"} and len(out[0]["grads"]) == 2
    assert_close([out[0]["loss"], *out[0]["grads"]], linear_mse(gk.tensor(X), gk.tensor(y)))


# --- d: nothing is computed until asked --------------------------------------------------
def test_nothing_computed_before_compute(data):
    X, y, labels = data
    Xl, yl = lazy(X), lazy(labels)
    with dask.config.set(scheduler=boom):
        for name, (fn, target) in MODELS.items():
            results = fn(Xl, yl if target == 2 else lazy(y))
            assert all(is_lazy(r) for r in results), name
        with pytest.raises(AssertionError, match="computed before"):
            gk.compute(results[0])                          # the guard does fire when asked


# --- e: one pass, shared work done once ----------------------------------------------------
def test_one_pass_runs_the_shared_forward_once(data):
    X, y, _ = data
    calls = []
    lock = threading.Lock()

    def counted(block):
        with lock:
            calls.append(block.shape)
        return block

    def counted_data():
        return gk.from_dask(lazy(X)._data.map_blocks(counted, meta=np.empty((0, 0), X.dtype)))

    expected = linear_mse(gk.tensor(X), gk.tensor(y))
    results = linear_mse(counted_data(), lazy(y))
    assert calls == []
    computed = gk.compute(*results, scheduler="threads")
    assert_close(computed, expected)
    assert len(calls) == CHUNKS                             # loss and both gradients: one pass

    calls.clear()                                           # control: one compute per result
    results = linear_mse(counted_data(), lazy(y))
    for r in results:
        gk.compute(r, scheduler="threads")
    assert len(calls) > CHUNKS


def test_persist_keeps_data_on_the_cluster(data, client):
    X, y, _ = data
    Xp, yp = gk.persist(lazy(X), lazy(y), scheduler=client)
    assert is_lazy(Xp) and is_lazy(yp)
    assert_close(gk.compute(*linear_mse(Xp, yp), scheduler=client), linear_mse(gk.tensor(X), gk.tensor(y)))


# --- f: a worker dies mid-computation; Dask recomputes what it lost --------------------------
def test_worker_failure_mid_computation(data, client, tmp_path):
    X, y, _ = data
    gate = str(tmp_path / "go")

    def gated(block):                                       # y's chunks wait for the test's signal
        deadline = time.monotonic() + 60
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.01)
        return block

    (Xp,) = gk.persist(lazy(X), scheduler=client)           # X's chunks now sit in the workers' memory
    held = distributed.futures_of(Xp._data)
    client.gather(held)                                     # (small: waits until they are)
    victim = sorted(client.who_has(held)[held[0].key])[0]  # a worker holding part of X

    yg = gk.from_dask(lazy(y)._data.map_blocks(gated, meta=np.empty((0,), y.dtype)))
    loss, gw, gb = linear_mse(Xp, yg)
    futures = client.compute([loss._data, gw._data, gb._data])
    deadline = time.monotonic() + 30
    while not any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(f.done() for f in futures)               # held back by the gate: mid-computation
    os.kill(client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
    open(gate, "w").close()

    got = client.gather(futures)                            # X's lost chunks are computed again
    assert_close([gk.tensor(np.asarray(v)) for v in got], linear_mse(gk.tensor(X), gk.tensor(y)))
    assert victim not in client.scheduler_info()["workers"]
    client.wait_for_workers(2, timeout=60)                 # the nanny restarts it; later tests use both


# --- the optimizer bridge: one compute per loss-and-gradient evaluation -----------------------
def test_minimize_computes_loss_and_gradient_in_one_pass(data):
    from gradkit.optimize import minimize
    X, _, labels = data
    Xl, yl = lazy(X), lazy(labels)
    passes = []

    def counting(dsk, keys, **kwargs):
        passes.append(len(keys) if isinstance(keys, list) else 1)
        return dask.get(dsk, keys, **kwargs)

    def loss(p):
        return F.binary_cross_entropy_with_logits(Xl @ p["w"] + p["b"], yl)

    with dask.config.set(scheduler=counting):
        res = minimize(loss, {"w": np.zeros(D), "b": 0.0}, method="L-BFGS-B")
    assert res.success
    assert len(passes) == res.nfev                          # never twice per evaluation
    ref = minimize(lambda p: F.binary_cross_entropy_with_logits(gk.tensor(X) @ p["w"] + p["b"],
                                                                gk.tensor(labels)),
                   {"w": np.zeros(D), "b": 0.0}, method="L-BFGS-B")
    np.testing.assert_allclose(res.x["w"], ref.x["w"], rtol=1e-8, atol=1e-10)
    assert res.nfev == ref.nfev and res.fun == pytest.approx(ref.fun, rel=1e-12)


# --- the example -------------------------------------------------------------------------------
def _example(name):
    path = ROOT / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_distributed_logistic(cluster, capsys):
    pytest.importorskip("sklearn")
    result = _example("distributed_logistic").main(
        ["--rows", "6000", "--features", "5", "--chunks", "4", "--scheduler", cluster.scheduler_address])
    assert result["success"]
    ref = result["sklearn"]
    assert result["loss"] == pytest.approx(ref["loss"], rel=1e-6)
    assert ref["max_diff"] < 1e-3
    assert abs(result["accuracy"] - ref["accuracy"]) <= 2 / 6000
    assert result["accuracy"] > 0.6
    out = capsys.readouterr().out
    assert "gradkit L-BFGS-B: loss" in out and "scikit-learn" in out
