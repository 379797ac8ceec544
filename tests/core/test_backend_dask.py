"""Dask-backed tensors: lazy forward and backward, computing on request, clear refusals.

Every table row runs with Dask inputs under a scheduler that fails on any
computation: either it builds a lazy graph whose values (computed afterwards)
match the NumPy-backed run, outputs and gradients staying Dask arrays, or it
refuses with an error naming the op. Cluster runs are in test_distributed.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit as gk
from gradkit.ops import REGISTRY

from backend_sweep import run, run_numpy
from op_specs import OP_SPECS

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

# the row that moves data to NumPy on purpose (compute() is tested below)
LAZY_SPECS = [s for s in OP_SPECS if s.name != "to_device"]


class Computed(AssertionError):
    pass


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise Computed("a Dask array was computed")


def no_compute() -> Any:
    """A context in which computing any Dask array fails the test."""
    return dask.config.set(scheduler=_refuse)


def _chunked(a: np.ndarray) -> Any:
    return da.from_array(a, chunks=tuple(max(1, s // 2) for s in a.shape)) if a.ndim else da.from_array(a)


def _values(arrays: list[Any]) -> list[Any]:
    return [None if a is None else np.asarray(a.compute()) for a in arrays]


@pytest.mark.parametrize("spec", LAZY_SPECS, ids=str)
def test_every_row_is_lazy_or_says_why(spec: Any) -> None:
    try:
        with no_compute():
            outs, grads = run(spec, _chunked, convert_args=False)
    except NotImplementedError as exc:
        msg = str(exc)
        assert "cannot run lazily on a Dask-backed tensor" in msg and "compute()" in msg, msg
        name = msg.split(" ", 1)[0]
        assert name in ("sort", "unique", "nonzero") or REGISTRY[name].lazy is not True, msg
        return
    for a in outs + grads:
        assert a is None or isinstance(a, da.Array), f"{type(a).__name__} instead of a Dask array"
    want_outs, want_grads = run_numpy(spec)
    for got, want in zip(_values(outs) + _values(grads), want_outs + want_grads):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, np.asarray(want), rtol=1e-10, atol=1e-12)


# --- the usual model: NumPy parameters, Dask data ------------------------------------------
def _data(n: int = 400, k: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k))
    y = (X @ rng.normal(size=k) + 0.3 * rng.normal(size=n) > 0).astype(np.float64)
    return X, y


def _logistic_loss(X: gk.Tensor, y: gk.Tensor, w: gk.Tensor, b: gk.Tensor) -> gk.Tensor:
    p = gk.sigmoid(X @ w + b)
    return gk.nn.functional.binary_cross_entropy(p, y)


def test_logistic_gradients_stay_lazy_and_match_numpy() -> None:
    Xn, yn = _data()
    X, y = gk.from_dask(da.from_array(Xn, chunks=50)), gk.tensor(da.from_array(yn, chunks=50))
    w = gk.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    b = gk.tensor(0.1, dtype=gk.float64, requires_grad=True)
    with no_compute():
        loss = _logistic_loss(X, y, w, b)
        gw, gb = gk.autograd.grad(loss, [w, b])
        assert isinstance(gw._data, da.Array) and isinstance(gb._data, da.Array)
    value, gw, gb = gk.compute(loss, gw, gb)
    ref = _logistic_loss(gk.tensor(Xn), gk.tensor(yn), w, b)
    rw, rb = gk.autograd.grad(ref, [w, b])
    assert type(value._data) is np.ndarray
    np.testing.assert_allclose(value.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(gw.numpy(), rw.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gb.item(), rb.item(), rtol=1e-10)


def test_cross_entropy_over_chunked_data_stays_lazy() -> None:
    rng = np.random.default_rng(2)
    Xn, tn = rng.normal(size=(240, 6)), rng.integers(0, 4, 240)
    tn[::7] = -100                                     # some ignored targets
    W = gk.tensor(rng.normal(size=(6, 4)), requires_grad=True)
    F = gk.nn.functional
    X, t = gk.tensor(da.from_array(Xn, chunks=(40, 3))), gk.tensor(da.from_array(tn, chunks=40))
    with no_compute():
        loss = F.cross_entropy(X @ W, t)
        (gW,) = gk.autograd.grad(loss, [W])
    value, gW = gk.compute(loss, gW)
    ref = F.cross_entropy(gk.tensor(Xn) @ W, gk.tensor(tn))
    (rW,) = gk.autograd.grad(ref, [W])
    np.testing.assert_allclose(value.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(gW.numpy(), rW.numpy(), rtol=1e-10, atol=1e-14)


def test_jacobians_and_hessians_stay_lazy() -> None:
    Xn, yn = _data(120, 4)
    X, y = gk.tensor(da.from_array(Xn, chunks=30)), gk.tensor(da.from_array(yn, chunks=30))
    Xt, yt = gk.tensor(Xn), gk.tensor(yn)
    w = gk.tensor(np.linspace(-0.5, 0.5, 4))

    def loss(X: Any, y: Any) -> Any:
        return lambda w: gk.nn.functional.softplus(X @ w).mean() - (y * (X @ w)).mean()

    with no_compute():
        H = gk.autograd.functional.hessian(loss(X, y), w)       # Newton's method on big data
        Hf = gk.func.hessian(loss(X, y))(w)
        J = gk.func.jacrev(lambda w: gk.tanh(X @ w))(w)
    assert all(isinstance(t._data, da.Array) for t in (H, Hf, J))
    H, Hf, J = gk.compute(H, Hf, J)
    ref = gk.autograd.functional.hessian(loss(Xt, yt), w).numpy()
    np.testing.assert_allclose(H.numpy(), ref, rtol=1e-10)
    np.testing.assert_allclose(Hf.numpy(), ref, rtol=1e-10)
    np.testing.assert_allclose(J.numpy(), gk.func.jacrev(lambda w: gk.tanh(Xt @ w))(w).numpy(),
                               rtol=1e-10)
    # NumPy in, NumPy out, as gradkit.func promises (computed once, at the end)
    out = gk.func.hessian(loss(X, y))(np.linspace(-0.5, 0.5, 4))
    assert type(out) is np.ndarray
    np.testing.assert_allclose(out, ref, rtol=1e-10)


def test_mixed_broadcast_reduces_to_the_numpy_parameter() -> None:
    rng = np.random.default_rng(1)
    Xn = rng.normal(size=(60, 4))
    bias = gk.tensor(rng.normal(size=4), requires_grad=True)
    X = gk.tensor(da.from_array(Xn, chunks=(15, 2)))
    with no_compute():
        loss = ((X + bias) ** 2).sum()
        loss.backward()
    assert bias.grad.shape == (4,)
    got = gk.compute(bias.grad)[0].numpy()
    np.testing.assert_allclose(got, 2 * (Xn + bias.detach().numpy()).sum(axis=0), rtol=1e-12)


def test_compute_runs_shared_work_once() -> None:
    Xn, yn = _data(200, 3)
    calls = []

    def marked(block: np.ndarray) -> np.ndarray:
        if block.size:                          # NOTE: Dask may call it on an empty "meta" block
            calls.append(1)
        return block

    chunks = da.from_array(Xn, chunks=50).map_blocks(marked, dtype=Xn.dtype)
    X, y = gk.tensor(chunks), gk.tensor(da.from_array(yn, chunks=50))
    w = gk.zeros(3, dtype=gk.float64, requires_grad=True)
    loss = ((X @ w - y) ** 2).mean()
    (gw,) = gk.autograd.grad(loss, [w])
    with dask.config.set(scheduler="sync"):
        value, gw = gk.compute(loss, gw)
    assert len(calls) == 4                      # each block read once for the loss and its gradient
    np.testing.assert_allclose(gw.numpy(), -2 * Xn.T @ yn / 200, rtol=1e-12)
    np.testing.assert_allclose(value.item(), np.mean(yn ** 2), rtol=1e-12)


def test_compute_keeps_structure_and_passes_other_values() -> None:
    a = gk.tensor(da.ones((4,), chunks=2))
    plain = gk.ones(2)
    out = gk.compute({"a": a, "rest": [plain, 3]}, a * 2)
    assert isinstance(out, tuple) and len(out) == 2
    assert type(out[0]["a"]._data) is np.ndarray and out[0]["rest"][0] is plain
    assert out[0]["rest"][1] == 3
    np.testing.assert_allclose(out[1].numpy(), [2, 2, 2, 2])


def test_compute_is_differentiable_like_a_device_copy() -> None:
    w = gk.tensor([1.0, 2.0], dtype=gk.float64, requires_grad=True)
    X = gk.tensor(da.from_array(np.arange(6.0).reshape(3, 2), chunks=1))
    loss = (X @ w).sum().compute()
    assert loss.grad_fn.name() == "ToCopyBackward0" and type(loss._data) is np.ndarray
    loss.backward()
    np.testing.assert_allclose(gk.compute(w.grad)[0].numpy(), [6.0, 9.0])


def test_persist_keeps_a_dask_array_in_memory() -> None:
    X = gk.tensor(da.from_array(np.arange(8.0), chunks=2) * 3)
    (P,) = gk.persist(X)
    assert isinstance(P._data, da.Array)
    assert len(P._data.dask) == P._data.npartitions          # no work left in its graph
    np.testing.assert_allclose(P.compute().numpy(), np.arange(8.0) * 3)
    assert isinstance(X.persist()._data, da.Array)


def test_explicit_requests_compute() -> None:
    t = gk.tensor(da.from_array(np.array([1.0, 2.0, 4.0]), chunks=1))
    with no_compute():
        text = repr(t.sum())
    assert text.startswith("tensor(dask.array<") and "dtype=torch.float64" in text
    assert t.sum().item() == 7.0 and float(t.max()) == 4.0
    assert t.tolist() == [1.0, 2.0, 4.0]
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 4.0])
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0, 4.0])
    assert t.device == "cpu" and t.cpu() is t


def test_factories_keep_the_library() -> None:
    x = gk.tensor(da.ones((6, 2), chunks=(3, 2)))
    z = gk.zeros_like(x)
    assert isinstance(z._data, da.Array) and z._data.chunks == x._data.chunks
    assert isinstance(gk.ones_like(x)._data, da.Array)
    assert isinstance(gk.as_tensor(x._data)._data, da.Array)


def test_optimizer_step_computes_lazy_gradients_once() -> None:
    Xn, yn = _data(120, 3)
    X, y = gk.tensor(da.from_array(Xn, chunks=30)), gk.tensor(da.from_array(yn, chunks=30))
    w = gk.zeros(3, dtype=gk.float64, requires_grad=True)
    ref = gk.zeros(3, dtype=gk.float64, requires_grad=True)
    opt, ref_opt = gk.optim.SGD([w], lr=0.5, momentum=0.9), gk.optim.SGD([ref], lr=0.5, momentum=0.9)
    for _ in range(3):
        for p, o, a, b in ((w, opt, X, y), (ref, ref_opt, gk.tensor(Xn), gk.tensor(yn))):
            o.zero_grad()
            ((a @ p - b) ** 2).mean().backward()
            o.step()
    assert type(w.grad._data) is np.ndarray                 # the step stored the computed values
    np.testing.assert_allclose(w.detach().numpy(), ref.detach().numpy(), rtol=1e-12)


def test_refusal_names_the_op() -> None:
    x = gk.tensor(da.from_array(np.array([3.0, 1.0, 2.0]), chunks=1), requires_grad=True)
    with no_compute():
        with pytest.raises(NotImplementedError, match=r"^sort cannot run lazily on a Dask-backed tensor"):
            gk.sort(x)
        with pytest.raises(NotImplementedError, match=r"^getitem cannot run lazily.*boolean mask"):
            x[x > 1.5]
        with pytest.raises(NotImplementedError, match=r"^getitem cannot run lazily.*its gradient"):
            x[np.array([0, 0, 2])]
        for fn in (gk.unique, gk.nonzero):
            with pytest.raises(NotImplementedError, match="depends on the values"):
                fn(x.detach())
        y = x.detach()[np.array([0, 0, 2])]                 # without a gradient it stays lazy
        assert isinstance(y._data, da.Array)


def test_in_place_on_a_dask_tensor_replaces_its_array() -> None:
    x = gk.tensor(da.from_array(np.arange(4.0), chunks=2))
    v = x._version
    x.add_(1.0)
    x.mul_(2.0)
    assert x._version == v + 2 and isinstance(x._data, da.Array)
    x[0] = 10.0
    np.testing.assert_allclose(x.numpy(), [10.0, 4.0, 6.0, 8.0])


def test_saving_computes_a_dask_backed_tensor(tmp_path: Any) -> None:
    t = gk.tensor(da.arange(6.0, chunks=2) * 2)
    gk.save({"t": t}, tmp_path / "t.gk")
    np.testing.assert_array_equal(gk.load(tmp_path / "t.gk")["t"].numpy(), np.arange(6.0) * 2)


def test_from_dask_rejects_other_data() -> None:
    with pytest.raises(TypeError, match="from_dask expects a dask.array.Array"):
        gk.from_dask(np.ones(3))


def test_lazy_gather_refuses_an_out_of_range_index_when_computed() -> None:
    """The eager path refuses index -1 (PyTorch); a lazy index cannot be checked without
    computing it, so each block checks its own rows when it is computed, instead of wrapping."""
    import dask.array as da

    x = gk.tensor(da.from_array(np.arange(12.0).reshape(4, 3), chunks=(2, 3)))
    bad = gk.tensor(da.from_array(np.array([[0], [1], [2], [-1]]), chunks=(2, 1)))
    y = gk.gather(x, 1, bad)                    # still lazy: nothing computed yet
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 1 with size 3"):
        y.compute()
    good = gk.tensor(da.from_array(np.array([[0], [1], [2], [1]]), chunks=(2, 1)))
    np.testing.assert_array_equal(gk.gather(x, 1, good).compute().numpy(), [[0.0], [4.0], [8.0], [10.0]])
