"""gradkit.func.vmap: batched tracing against a Python loop, per-example gradients, fallback."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.func as gf
import gradkit.nn.functional as F

RNG = np.random.default_rng(3)
X = RNG.standard_normal((6, 4, 3))
W = RNG.standard_normal((3, 5))
V = RNG.standard_normal(3)
C = RNG.standard_normal((2, 4))
K = np.random.default_rng(4).standard_normal((2, 4, 2))


def loop(f, xs, *rest):
    return np.stack([np.asarray(f(x, *rest)) for x in xs])


def batched(f, *args, in_axes=0, out_axes=0):
    """``vmap(f)(*args)``, asserting that it ran batched (no per-example loop)."""
    before = dict(gf._vmap_stats)
    res = gf.vmap(f, in_axes=in_axes, out_axes=out_axes)(*args)
    assert gf._vmap_stats["loop"] == before["loop"], gf._vmap_stats["why"]
    return res


FUNS = {
    "elementwise": lambda x: np.sin(x) * np.exp(-x) + x ** 2 / (1 + x * x),
    "broadcast-const": lambda x: x * gk.tensor(V) - 2.0,
    "where-relu": lambda x: gk.where(x > 0, x, 0.1 * x).relu() + gk.sigmoid(x),
    "sum-all": lambda x: x.sum(),
    "sum-dim-keep": lambda x: x.sum(-1, keepdim=True) * x,
    "mean-var-std": lambda x: x.mean(0) + x.var(1).sum() + x.std(),
    "amax-amin": lambda x: x.amax(-1) - x.amin(0).sum(),
    "max-dim": lambda x: x.max(1)[0] + x.argmax(1),
    "argmax-all": lambda x: x.argmax() + x.argmin(),
    "logsumexp-softmax": lambda x: gk.logsumexp(x, 1) + x.softmax(-1).sum(0).sum(),
    "log-softmax-cumsum": lambda x: gk.log_softmax(x, 0) + x.cumsum(1),
    "prod-norm": lambda x: x.prod(0) + x.norm(),
    "reshape-view": lambda x: x.reshape(3, 4).T.reshape(-1) * 2,
    "flatten-unsqueeze": lambda x: x.flatten().unsqueeze(0).squeeze(0),
    "permute-transpose": lambda x: x.transpose(0, 1) + x.T,
    "expand": lambda x: x[:, :1].expand(4, 3) + x.sum(0).expand(2, 4, 3).sum(0),
    "getitem": lambda x: x[1:3, ::2] * x[0, None, :2].sum() + x[..., -1].sum(),
    "getitem-array": lambda x: x[np.array([0, 2, 2])],
    "cat-stack": lambda x: gk.cat([x, x * 2, gk.tensor(W.T[:1, :])], 0).sum(0)
    + gk.stack([x[0], x[1]], -1).sum(-1),
    "unbind-flip-roll": lambda x: x.unbind(0)[1] + x.flip(1)[0] + x.roll(1, 0)[2],
    "tril-diagonal": lambda x: x[:3].tril().sum() + x.diagonal().sum(),
    "matvec": lambda x: x @ gk.tensor(V),
    "matmat": lambda x: x @ gk.tensor(W),
    "vecmat": lambda x: x[0] @ gk.tensor(W),
    "left-const": lambda x: gk.tensor(W.T) @ x.T,
    "left-vec": lambda x: gk.tensor(V) @ x[0] + gk.tensor(C) @ x[:, 0],
    "batched-both": lambda x: x @ x.T @ x[:, 0],
    "einsum": lambda x: gk.einsum("ij,jk->ik", x, gk.tensor(W)) + gk.einsum("ij,ij->i", x, x)[:, None],
    "numpy-ufuncs": lambda x: np.tanh(x @ W) * np.sum(x),
    # the fused nn rows (addmm, losses, activations, native_norm, convolution)
    "linear": lambda x: F.linear(x, gk.tensor(W.T), gk.tensor(W[0])) + F.linear(x[0], gk.tensor(W.T)),
    "losses": lambda x: F.mse_loss(x, gk.tensor(C.T[:, :1] * X[0])) + F.smooth_l1_loss(
        x, gk.tensor(X[1]), reduction="sum") + F.binary_cross_entropy_with_logits(
        x, gk.tensor(X[2] > 0, dtype=gk.float64)) + F.huber_loss(x, gk.tensor(X[3]), reduction="none")
    + F.binary_cross_entropy(gk.sigmoid(x), gk.tensor(X[2] > 0, dtype=gk.float64)),
    "activations": lambda x: F.gelu(x) + F.silu(x) + F.elu(x) + F.softplus(x) + F.mish(x)
    + F.leaky_relu(x) + F.hardsigmoid(x) + F.logsigmoid(x),
    "layer-norm": lambda x: F.layer_norm(x, (3,), gk.tensor(V), gk.tensor(V * 2)),
    "conv": lambda x: F.conv1d(x[None], gk.tensor(K), gk.tensor(V[:2])),
}


@pytest.mark.parametrize("name", FUNS)
def test_vmap_matches_loop(name):
    f = FUNS[name]
    xs = [gk.tensor(x) for x in X]
    want = np.stack([np.asarray(f(x)._data) for x in xs])
    np.testing.assert_allclose(batched(f, X), want, atol=1e-12)


@pytest.mark.parametrize("name", ["elementwise", "logsumexp-softmax", "getitem", "matmat",
                                  "batched-both", "cat-stack", "einsum", "reshape-view", "linear",
                                  "losses", "activations", "layer-norm", "conv"])
def test_grad_through_vmap(name):
    f = FUNS[name]
    got = gf.grad(lambda xs: gf.vmap(f)(xs).sum())(gk.tensor(X))
    want = np.stack([gf.grad(lambda x: f(x).sum())(gk.tensor(x))._data for x in X])
    np.testing.assert_allclose(got._data, want, atol=1e-10)


def mlp_loss(params, x, y):
    h = gk.tanh(x @ params["w1"] + params["b1"])
    out = h @ params["w2"] + params["b2"]
    return ((out - y) ** 2).mean() + 1e-3 * (params["w1"] ** 2).sum()


def test_per_example_gradients_of_mlp():
    params = {"w1": RNG.standard_normal((3, 8)), "b1": np.zeros(8),
              "w2": RNG.standard_normal((8, 2)), "b2": np.ones(2)}
    xs, ys = RNG.standard_normal((7, 3)), RNG.standard_normal((7, 2))
    per_ex = batched(gf.grad(mlp_loss), params, xs, ys, in_axes=(None, 0, 0))
    for i in range(7):
        g = gf.grad(mlp_loss)(params, xs[i], ys[i])
        for k in params:
            np.testing.assert_allclose(per_ex[k][i], g[k], atol=1e-12)
    assert per_ex["w1"].shape == (7, 3, 8) and isinstance(per_ex["w1"], np.ndarray)


def test_value_and_grad_argnums_aux_inside_vmap():
    f = lambda w, x: ((x * w).sum() ** 2, x.sum())  # noqa: E731
    (vals, aux), (gw, gx) = batched(gf.value_and_grad(f, argnums=(0, 1), has_aux=True), V, X[:, 0],
                                    in_axes=(None, 0))
    np.testing.assert_allclose(vals, (X[:, 0] @ V) ** 2)
    np.testing.assert_allclose(aux, X[:, 0].sum(1))
    np.testing.assert_allclose(gw, 2 * (X[:, 0] @ V)[:, None] * X[:, 0])
    np.testing.assert_allclose(gx, 2 * (X[:, 0] @ V)[:, None] * V)


def test_in_axes_out_axes_pytrees_and_none():
    tree = {"a": X, "b": (X.transpose(1, 0, 2), 2.0)}
    f = lambda t: {"s": t["a"] * t["b"][1] + t["b"][0], "c": gk.tensor(1.0)}  # noqa: E731
    out = batched(f, tree, in_axes=({"a": 0, "b": (1, None)},), out_axes={"s": 2, "c": None})
    np.testing.assert_allclose(out["s"], np.moveaxis(3 * X, 0, 2))
    assert float(out["c"]) == 1.0
    np.testing.assert_allclose(batched(lambda x: 3.0, X), np.full(6, 3.0))
    with pytest.raises(ValueError, match="inconsistent sizes"):
        gf.vmap(lambda x, y: x + y)(X, X[:2])


def test_nested_vmap_and_vmap_of_grad_of_vmap():
    M = RNG.standard_normal((4, 5, 3))
    np.testing.assert_allclose(batched(gf.vmap(lambda x: x @ V), M), M @ V)
    outer = batched(gf.vmap(lambda x, y: (x * y).sum(), in_axes=(0, None)), M, V, in_axes=(1, None))
    np.testing.assert_allclose(outer, (M @ V).T)
    pg = batched(gf.vmap(gf.grad(lambda w, x: gk.sin(x @ w).sum()), in_axes=(None, 0)), V, M,
                 in_axes=(None, 0))
    np.testing.assert_allclose(pg, np.cos(M @ V)[..., None] * M, atol=1e-12)
    hv = gf.grad(lambda w: gf.vmap(gf.grad(lambda w, x: gk.sin(x @ w)), (None, 0))(w, M[0]).sum())(V)
    np.testing.assert_allclose(hv, -(np.sin(M[0] @ V)[:, None] * M[0]) .T @ M[0] @ np.ones(3) * 0
                               + (-(np.sin(M[0] @ V)[:, None, None] * M[0][:, :, None] * M[0][:, None, :])
                                  .sum(0).sum(0)), atol=1e-12)


def test_unsupported_ops_fall_back_to_the_loop():
    before = gf._vmap_stats["loop"]
    g = lambda x: gk.linalg.inv(x[:3]) @ x[0]  # noqa: E731
    np.testing.assert_allclose(gf.vmap(g)(X), loop(lambda x: g(gk.tensor(x))._data, X), atol=1e-10)
    assert gf._vmap_stats["loop"] == before + 1
    with pytest.raises(RuntimeError):          # a real error still surfaces, from the loop
        gf.vmap(lambda x: x @ gk.ones(7))(X)


def test_vmap_of_jacrev_and_hessian_fall_back_correctly():
    f = lambda x: gk.sin(x) * x.sum()  # noqa: E731
    J = gf.vmap(gf.jacrev(f))(X[:, 0])
    np.testing.assert_allclose(J, np.stack([gf.jacrev(f)(gk.tensor(x))._data for x in X[:, 0]]))
    H = gf.vmap(gf.hessian(lambda x: (x ** 3).sum()))(X[:, 0])
    np.testing.assert_allclose(H, np.stack([np.diag(6 * x) for x in X[:, 0]]), atol=1e-12)
