"""torch.func's spelling of gradkit.func: vmap's in_dims/out_dims/randomness/chunk_size,
functional_call, stack_module_state, grad_and_value, jacrev(chunk_size=), jacfwd(randomness=),
and the Jacobian/Hessian tutorial's compositions (issue #17).

Expected values are analytic (the Jacobian and Hessian of ``tanh(W x + b)``), per-example
NumPy, or PyTorch's messages recorded from torch 2.13; the live comparisons import torch
with ``pytest.importorskip``.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gradkit as gk
import gradkit.func as gf
import gradkit.nn as nn
import gradkit.nn.functional as F

RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either use "
                "the 'same' or 'different' randomness flags on vmap or perform the randomness "
                "operation out of vmap")


def _predict(w, b, x):
    return F.linear(x, w, b).tanh()


def _problem(dout=5, din=4, batch=None, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((dout, din))
    b = rng.standard_normal(dout)
    x = rng.standard_normal((din,) if batch is None else (batch, din))
    return w, b, x


def _jac_analytic(w, b, x):
    """d tanh(Wx + b) / dx = diag(1 - y**2) W."""
    y = np.tanh(w @ x + b)
    return (1 - y ** 2)[:, None] * w


def _hess_analytic(w, b, x):
    """d2 y_i / dx dx = -2 y_i (1 - y_i**2) w_i w_i^T."""
    y = np.tanh(w @ x + b)
    return (-2 * y * (1 - y ** 2))[:, None, None] * w[:, :, None] * w[:, None, :]


# --- vmap: PyTorch's keywords and errors -----------------------------------------------------------
def test_vmap_in_dims_out_dims_match_in_axes():
    x = np.arange(12.0).reshape(3, 4)
    y = np.arange(4.0)
    f = lambda a, b: a * b + 1  # noqa: E731
    torch_style = gf.vmap(f, in_dims=(1, None), out_dims=1)(gk.tensor(x), gk.tensor(y[:3]))
    jax_style = gf.vmap(f, in_axes=(1, None), out_axes=1)(gk.tensor(x), gk.tensor(y[:3]))
    expected = x * y[:3, None] + 1
    np.testing.assert_allclose(torch_style.numpy(), expected)
    np.testing.assert_allclose(jax_style.numpy(), expected)
    assert gk.vmap(f, in_dims=(1, None), out_dims=1)(gk.tensor(x), gk.tensor(y[:3])).shape == (3, 4)


def test_vmap_both_spellings_refused():
    with pytest.raises(TypeError, match="both in_dims and in_axes"):
        gf.vmap(lambda a: a, in_dims=0, in_axes=0)
    with pytest.raises(TypeError, match="both out_dims and out_axes"):
        gf.vmap(lambda a: a, out_dims=0, out_axes=0)


def test_vmap_errors_are_torchs():
    """Messages recorded from torch 2.13's torch.vmap."""
    x, y = gk.ones(2, 3), gk.ones(3, 3)
    with pytest.raises(ValueError) as e:
        gk.vmap(lambda a, b: a + b)(x, y)
    assert str(e.value) == ("vmap: Expected all tensors to have the same size in the mapped "
                            "dimension, got sizes [2, 3] for the mapped dimension")
    with pytest.raises(ValueError) as e:
        gk.vmap(lambda a, b: a + b, in_dims=(0,))(x, y)
    assert str(e.value).startswith("vmap(<lambda>, in_dims=(0,), ...)(<inputs>): in_dims is not "
                                   "compatible with the structure of `inputs`. in_dims has structure")
    with pytest.raises(ValueError) as e:
        gk.vmap(lambda a: a, in_dims=5)(x)
    assert str(e.value) == ("vmap(<lambda>, in_dims=5, ...)(<inputs>): Got in_dim=5 for some input, "
                            "but that input is a Tensor of dimensionality 2 so expected in_dim to "
                            "satisfy -2 <= in_dim < 2.")
    with pytest.raises(ValueError) as e:
        gk.vmap(lambda a: a, in_dims=None)(x)
    assert str(e.value) == ("vmap(<lambda>, in_dims=None, ...)(<inputs>): expected `in_dims` to be "
                            "int or a (potentially nested) tuple matching the structure of inputs, "
                            "got: <class 'NoneType'>.")
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure"):
        gk.vmap(lambda d: d["a"], in_dims=({"b": 0},))({"a": x})
    with pytest.raises(IndexError) as e:
        gk.vmap(lambda a: a, out_dims=5)(x)
    assert str(e.value) == "Dimension out of range (expected to be in range of [-2, 1], but got 5)"
    with pytest.raises(RuntimeError) as e:
        gk.vmap(lambda a: a, randomness="foo")
    assert str(e.value) == "Only allowed values for randomness are 'error', 'different', or 'same'. Got foo"
    with pytest.raises(ValueError) as e:
        gk.vmap(lambda a: a, chunk_size=0)
    assert str(e.value) == "vmap: chunk_size should be None or greater than 0. (got 0)"


def test_vmap_without_torch_keywords_keeps_jax_errors():
    with pytest.raises(ValueError, match="vmap got inconsistent sizes for array axes to be mapped"):
        gf.vmap(lambda a, b: a + b)(np.ones((2, 3)), np.ones((3, 3)))


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 10])
def test_vmap_chunk_size(chunk):
    x = np.arange(15.0).reshape(5, 3)
    w = np.array([1.0, -2.0, 0.5])
    got = gf.vmap(lambda a, w: (a * w).sum() + a, in_dims=(0, None), chunk_size=chunk)(
        gk.tensor(x), gk.tensor(w))
    expected = np.stack([(r * w).sum() + r for r in x])
    np.testing.assert_allclose(got.numpy(), expected)
    got = gf.vmap(lambda a: a * 2, in_dims=1, out_dims=1, chunk_size=chunk)(gk.tensor(x.T))
    np.testing.assert_allclose(got.numpy(), 2 * x.T)


# --- randomness ------------------------------------------------------------------------------------
@pytest.mark.parametrize("draw", [
    lambda a: gk.randn(3) + a,
    lambda a: gk.rand(3) + a,
    lambda a: F.dropout(a, 0.5),
    lambda a: gk.randn_like(a) * a,
    lambda a: gk.heaviside(a, a) + gk.randn(3),       # the per-example loop too (no batching rule)
])
def test_randomness_error(draw):
    with pytest.raises(RuntimeError) as e:
        gf.vmap(draw)(gk.ones(2, 3))
    assert str(e.value) == RANDOM_ERROR
    with pytest.raises(RuntimeError) as e:
        gk.vmap(draw, randomness="error")(gk.ones(2, 3))
    assert str(e.value) == RANDOM_ERROR


@pytest.mark.parametrize("loop", [False, True])
def test_randomness_same_and_different(loop):
    def f(a):
        if loop:
            a = a * gk.heaviside(a, a + 1)            # no batching rule: vmap runs per example
        return gk.randn(6) + a

    gk.manual_seed(0)
    same = gk.vmap(f, randomness="same")(gk.zeros(4, 6)).numpy()
    assert all(np.array_equal(row, same[0]) for row in same[1:])
    gk.manual_seed(0)
    diff = gk.vmap(f, randomness="different")(gk.zeros(4, 6)).numpy()
    assert len({tuple(row) for row in diff}) == 4
    # each is a draw of the default generator, so its rows look like standard normal samples
    assert np.abs(diff).max() < 10


def test_randomness_dropout_same_and_different():
    gk.manual_seed(1)
    same = gk.vmap(lambda a: F.dropout(a + 1, 0.5), randomness="same")(gk.zeros(8, 40)).numpy()
    assert all(np.array_equal(row, same[0]) for row in same)
    assert set(np.unique(same)) <= {0.0, 2.0}
    diff = gk.vmap(lambda a: F.dropout(a + 1, 0.5), randomness="different")(gk.zeros(8, 40)).numpy()
    assert len({tuple(row) for row in diff}) > 1
    assert set(np.unique(diff)) <= {0.0, 2.0}


def test_random_draws_outside_vmap_unaffected():
    gk.manual_seed(3)
    a = gk.randn(4).numpy()
    gk.vmap(lambda x: x * 2)(gk.ones(2, 2))
    gk.manual_seed(3)
    np.testing.assert_array_equal(gk.randn(4).numpy(), a)


# --- grad, grad_and_value --------------------------------------------------------------------------
def test_grad_dict_keeps_insertion_order():
    params = {"w": gk.tensor([1.0, 2.0]), "b": gk.tensor(0.5)}
    g = gf.grad(lambda p: (p["w"] ** 2).sum() + p["b"] ** 2)(params)
    assert list(g) == ["w", "b"]
    np.testing.assert_allclose(g["w"].numpy(), [2.0, 4.0])
    np.testing.assert_allclose(float(g["b"]), 1.0)


def test_grad_and_value_order():
    x = gk.tensor([1.0, 2.0])
    g, v = gf.grad_and_value(lambda x: (x ** 3).sum())(x)
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])
    assert float(v) == 9.0
    g, (v, aux) = gf.grad_and_value(lambda x: ((x ** 2).sum(), x * 3), has_aux=True)(x)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    assert float(v) == 5.0
    np.testing.assert_allclose(aux.numpy(), [3.0, 6.0])


# --- jacrev(chunk_size), jacfwd(randomness), hessian ------------------------------------------------
@pytest.mark.parametrize("chunk", [None, 1, 2, 5, 7])
def test_jacrev_chunk_size(chunk):
    w, b, x = _problem()
    jac = gf.jacrev(_predict, argnums=2, chunk_size=chunk)(gk.tensor(w), gk.tensor(b), gk.tensor(x))
    np.testing.assert_allclose(jac.numpy(), _jac_analytic(w, b, x), rtol=1e-12, atol=1e-14)


def test_jacrev_chunk_size_error():
    with pytest.raises(ValueError) as e:
        gf.jacrev(lambda x: x.sin(), chunk_size=0)
    assert str(e.value) == "jacrev: `chunk_size` should be greater than 0."


def test_jacfwd_randomness():
    x = gk.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError) as e:
        gf.jacfwd(lambda x: x.sin() + gk.randn(2))(x)
    assert str(e.value) == RANDOM_ERROR
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        gf.jacfwd(lambda x: x.sin(), randomness="x")
    # additive noise leaves the Jacobian alone
    for mode in ("same", "different"):
        jac = gf.jacfwd(lambda x: x.sin() + gk.randn(2), randomness=mode)(x)
        np.testing.assert_allclose(jac.numpy(), np.diag(np.cos([1.0, 2.0])), atol=1e-7)
    # multiplicative noise: "same" uses one draw r for every column, so J = diag(cos(x) * r)
    gk.manual_seed(5)
    r = gk.randn(2).numpy()
    gk.manual_seed(5)
    jac = gf.jacfwd(lambda x: x.sin() * gk.randn(2), randomness="same")(x)
    np.testing.assert_allclose(jac.numpy(), np.diag(np.cos([1.0, 2.0]) * r), rtol=1e-6)


@pytest.mark.parametrize("how", ["hessian", "revrev", "fwdfwd", "fwdrev", "rev-over-rev"])
@pytest.mark.parametrize("sizes", [(5, 4), (32, 40), (3, 70)])
def test_hessian_of_vector_function(how, sizes):
    w, b, x = _problem(*sizes)
    t = [gk.tensor(a) for a in (w, b, x)]
    fn = {"hessian": gf.hessian(_predict, argnums=2),
          "revrev": gf.jacrev(gf.jacrev(_predict, argnums=2), argnums=2),
          "fwdfwd": gf.jacfwd(gf.jacfwd(_predict, argnums=2), argnums=2),
          "fwdrev": gf.jacfwd(gf.jacrev(_predict, argnums=2), argnums=2),
          "rev-over-rev": gf.hessian(_predict, argnums=2, mode="rev-over-rev")}[how]
    np.testing.assert_allclose(fn(*t).numpy(), _hess_analytic(w, b, x), rtol=1e-10, atol=1e-12)


def test_hessian_of_scalar_function_and_argnums():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((6, 6))
    a = a + a.T
    x = rng.standard_normal(6)
    # f(x, y) = x^T A x y^2: d2f/dx2 = 2 A y^2, d2f/dxdy = 4 A x y, d2f/dy2 = 2 x^T A x
    f = lambda x, y: (x @ gk.tensor(a) @ x) * y ** 2  # noqa: E731
    h = gf.hessian(f, argnums=(0, 1))(gk.tensor(x), gk.tensor(1.5, dtype=gk.float64))
    np.testing.assert_allclose(h[0][0].numpy(), 2 * a * 1.5 ** 2, rtol=1e-12)
    np.testing.assert_allclose(h[0][1].numpy(), 4 * a @ x * 1.5, rtol=1e-12)
    np.testing.assert_allclose(float(h[1][1]), 2 * x @ a @ x, rtol=1e-12)


@pytest.mark.parametrize("how", ["jacrev", "jacfwd", "hessian", "revrev", "jacrev_params"])
def test_batched_jacobians_inside_vmap(how):
    from gradkit.func._vmap import _vmap_stats
    w, b, x = _problem(6, 5, batch=7)
    t = [gk.tensor(a) for a in (w, b, x)]
    fn = {"jacrev": gf.jacrev(_predict, argnums=2), "jacfwd": gf.jacfwd(_predict, argnums=2),
          "hessian": gf.hessian(_predict, argnums=2),
          "revrev": gf.jacrev(gf.jacrev(_predict, argnums=2), argnums=2),
          "jacrev_params": gf.jacrev(_predict, argnums=(0, 1))}[how]
    loops = _vmap_stats["loop"]
    got = gf.vmap(fn, in_dims=(None, None, 0))(*t)
    if how == "jacrev_params":
        y = np.tanh(x @ w.T + b)
        d = 1 - y ** 2                                     # (batch, out)
        jw = np.einsum("bi,ij,bk->bijk", d, np.eye(6), x)  # dy_i/dW_jk = d_i [i == j] x_k
        np.testing.assert_allclose(got[0].numpy(), jw, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got[1].numpy(), d[:, :, None] * np.eye(6), rtol=1e-10, atol=1e-12)
    else:
        ref = _hess_analytic if how in ("hessian", "revrev") else _jac_analytic
        np.testing.assert_allclose(got.numpy(), np.stack([ref(w, b, r) for r in x]),
                                   rtol=1e-10, atol=1e-12)
    if how != "jacfwd":                                    # forward mode inside vmap still loops
        assert _vmap_stats["loop"] == loops


def test_jacobian_inside_nested_vmap():
    w, b, _ = _problem(4, 3)
    x = np.random.default_rng(4).standard_normal((2, 3, 3))
    t = [gk.tensor(a) for a in (w, b, x)]
    inner = gf.vmap(gf.hessian(_predict, argnums=2), in_dims=(None, None, 0))
    got = gf.vmap(inner, in_dims=(None, None, 0))(*t).numpy()
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(got[i, j], _hess_analytic(w, b, x[i, j]), rtol=1e-10, atol=1e-12)


# --- functional_call, stack_module_state ---------------------------------------------------------
def test_functional_call_values_and_restores():
    m = nn.Linear(3, 2)
    w0 = m.weight.detach().numpy().copy()
    x = gk.ones(1, 3)
    w = gk.tensor(np.arange(6.0).reshape(2, 3), dtype=gk.float32)
    out = gf.functional_call(m, {"weight": w, "bias": gk.zeros(2)}, x)
    np.testing.assert_allclose(out.numpy(), [[3.0, 12.0]])
    out = gf.functional_call(m, ({"weight": w}, {"bias": gk.ones(2)}), (x,))
    np.testing.assert_allclose(out.numpy(), [[4.0, 13.0]])
    np.testing.assert_array_equal(m.weight.detach().numpy(), w0)
    assert isinstance(m.weight, nn.Parameter)
    with pytest.raises(RuntimeError):
        gf.functional_call(m, {"weight": gk.zeros(4, 4)}, (x,))
    np.testing.assert_array_equal(m.weight.detach().numpy(), w0)
    gf.functional_call(m, {"foo": gk.ones(1)}, (x,))
    assert not hasattr(m, "foo")


def test_functional_call_kwargs_and_grad():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = nn.Parameter(gk.tensor([2.0]))
            self.register_buffer("shift", gk.tensor([1.0]))

        def forward(self, x, power=1):
            return (self.s * x + self.shift) ** power

    m = Scale()
    # d/ds (s x + shift)^2 summed = sum 2 (s x + shift) x, at s = 3, shift = 0.5, x = [1, 2]
    x = gk.tensor([1.0, 2.0])
    g = gf.grad(lambda p: gf.functional_call(m, p, (x,), {"power": 2}).sum())(
        {"s": gk.tensor([3.0]), "shift": gk.tensor([0.5])})
    np.testing.assert_allclose(g["s"].numpy(), [2 * 3.5 * 1 + 2 * 6.5 * 2])
    np.testing.assert_allclose(g["shift"].numpy(), [2 * 3.5 + 2 * 6.5])
    assert list(g) == ["s", "shift"]


def test_functional_call_errors_are_torchs():
    m = nn.Linear(3, 2)
    x = gk.ones(1, 3)
    with pytest.raises(ValueError) as e:
        gf.functional_call(m, ({"weight": gk.zeros(2, 3)}, {"weight": gk.zeros(2, 3)}), (x,))
    assert str(e.value) == ("['weight'] appeared in multiple dictionaries; behavior of functional call "
                            "is ambiguous")
    with pytest.raises(RuntimeError) as e:
        gf.functional_call(m, {"weight": gk.zeros(2, 3)}, (x,), strict=True)
    assert str(e.value) == "Error(s) in reparametrizing for Linear:\n\tMissing key(s): 'bias'."
    with pytest.raises(RuntimeError) as e:
        gf.functional_call(m, {"weight": gk.zeros(2, 3), "bias": gk.zeros(2), "foo": gk.ones(1)},
                           (x,), strict=True)
    assert str(e.value) == "Error(s) in reparametrizing for Linear:\n\tUnexpected key(s): 'foo'."


def test_functional_call_tied_weights():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, bias=False)
            self.b = nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    t = Tied()
    x = gk.tensor([1.0, 2.0])
    np.testing.assert_allclose(gf.functional_call(t, {"a.weight": 2 * gk.eye(2)}, (x,)).numpy(), [4.0, 8.0])
    untied = gf.functional_call(t, {"a.weight": 2 * gk.eye(2)}, (x,), tie_weights=False).detach().numpy()
    w = t.a.weight.detach().numpy()
    np.testing.assert_allclose(untied, w @ (2 * np.array([1.0, 2.0])), rtol=1e-6)
    with pytest.raises(ValueError) as e:
        gf.functional_call(t, {"a.weight": gk.eye(2), "b.weight": gk.eye(2)}, (x,))
    assert str(e.value) == ("functional_call got multiple values for keys ['a.weight', 'b.weight'], "
                            "which are tied. Consider using tie_weights=False")


def test_stack_module_state():
    models = [nn.BatchNorm1d(2) for _ in range(3)]
    for i, m in enumerate(models):
        m.weight.data.fill_(float(i))
    params, buffers = gf.stack_module_state(models)
    assert list(params) == ["weight", "bias"]
    assert list(buffers) == ["running_mean", "running_var", "num_batches_tracked"]
    assert params["weight"].shape == (3, 2) and params["weight"].requires_grad and params["weight"].is_leaf
    np.testing.assert_array_equal(params["weight"].detach().numpy(), [[0, 0], [1, 1], [2, 2]])
    assert buffers["num_batches_tracked"].shape == (3,) and not buffers["running_mean"].requires_grad
    with pytest.raises(RuntimeError, match="Expected at least one model, got 0."):
        gf.stack_module_state([])
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        gf.stack_module_state([nn.Linear(2, 2), nn.Linear(2, 2).eval()])
    with pytest.raises(RuntimeError, match="same class"):
        gf.stack_module_state([nn.Linear(2, 2), nn.Conv1d(2, 2, 1)])


class _MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def test_model_ensembling_recipe():
    gk.manual_seed(0)
    models = [_MLP() for _ in range(4)]
    x = gk.randn(5, 1, 3, 4)
    params, buffers = gf.stack_module_state(models)
    base = copy.deepcopy(models[0])

    def fmodel(params, buffers, x):
        return gf.functional_call(base, (params, buffers), (x,))

    out = gf.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
    assert out.shape == (4, 5, 3)
    for k, m in enumerate(models):
        w1, b1 = m.fc1.weight.detach().numpy(), m.fc1.bias.detach().numpy()
        w2, b2 = m.fc2.weight.detach().numpy(), m.fc2.bias.detach().numpy()
        h = np.maximum(x.numpy().reshape(5, 12) @ w1.T + b1, 0)
        np.testing.assert_allclose(out[k].detach().numpy(), h @ w2.T + b2, rtol=1e-5, atol=1e-6)


def test_per_sample_gradients_recipe():
    gk.manual_seed(1)
    model = _MLP().double()
    data = gk.randn(6, 1, 3, 4, dtype=gk.float64)
    targets = gk.tensor([0, 2, 1, 1, 0, 2])
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        predictions = gf.functional_call(model, (params, buffers), (sample.unsqueeze(0),))
        return F.cross_entropy(predictions, target.unsqueeze(0))

    grads = gf.vmap(gf.grad(compute_loss), in_dims=(None, None, 0, 0))(params, buffers, data, targets)
    assert list(grads) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    # finite differences in float64 of each example's loss, for a few entries of fc2.weight
    w2 = params["fc2.weight"].numpy()
    def loss_at(i, r, c, delta):
        p = dict(params)
        wd = w2.copy()
        wd[r, c] += delta
        p["fc2.weight"] = gk.tensor(wd)
        return float(compute_loss(p, buffers, data[i], targets[i]))

    for i in range(6):
        for (r, c) in [(0, 0), (1, 3), (2, 7)]:
            fd = (loss_at(i, r, c, 1e-6) - loss_at(i, r, c, -1e-6)) / 2e-6
            np.testing.assert_allclose(float(grads["fc2.weight"][i, r, c]), fd, rtol=1e-5, atol=1e-8)


# --- live PyTorch ---------------------------------------------------------------------------------
def test_tutorial_steps_match_live_torch():
    torch = pytest.importorskip("torch")
    from torch import func as tf
    w, b, x = _problem(7, 6, batch=4, seed=9)
    T = [torch.from_numpy(a) for a in (w, b, x)]
    G = [gk.tensor(a) for a in (w, b, x)]

    def tp(w, b, x):
        return torch.nn.functional.linear(x, w, b).tanh()

    pairs = [
        (tf.jacrev(tp, argnums=2), gf.jacrev(_predict, argnums=2)),
        (tf.jacfwd(tp, argnums=2), gf.jacfwd(_predict, argnums=2)),
        (tf.hessian(tp, argnums=2), gf.hessian(_predict, argnums=2)),
        (tf.jacfwd(tf.jacfwd(tp, argnums=2), argnums=2),
         gf.jacfwd(gf.jacfwd(_predict, argnums=2), argnums=2)),
        (tf.jacrev(tf.jacrev(tp, argnums=2), argnums=2),
         gf.jacrev(gf.jacrev(_predict, argnums=2), argnums=2)),
    ]
    for t_fn, g_fn in pairs:
        np.testing.assert_allclose(g_fn(G[0], G[1], G[2][0]).numpy(), t_fn(T[0], T[1], T[2][0]).numpy(),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gf.vmap(g_fn, in_dims=(None, None, 0))(*G).numpy(),
                                   tf.vmap(t_fn, in_dims=(None, None, 0))(*T).numpy(), rtol=1e-10, atol=1e-12)
    # vjp + vmap over unit vectors, jvp, linearize, hvp both ways
    _, t_vjp = tf.vjp(lambda x: tp(T[0], T[1], x), T[2][0])
    _, g_vjp = gf.vjp(lambda x: _predict(G[0], G[1], x), G[2][0])
    (t_rows,) = tf.vmap(t_vjp)(torch.eye(7, dtype=torch.float64))
    (g_rows,) = gf.vmap(g_vjp)(gk.eye(7, dtype=gk.float64))
    np.testing.assert_allclose(g_rows.numpy(), t_rows.numpy(), rtol=1e-12)
    v = np.linspace(-1, 1, 6)
    t_out, t_tan = tf.jvp(lambda x: tp(T[0], T[1], x), (T[2][0],), (torch.from_numpy(v),))
    g_out, g_tan = gf.jvp(lambda x: _predict(G[0], G[1], x), (G[2][0],), (gk.tensor(v),))
    np.testing.assert_allclose(g_out.numpy(), t_out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(g_tan.numpy(), t_tan.numpy(), rtol=1e-12)
    t_out, t_lin = tf.linearize(lambda x: tp(T[0], T[1], x), T[2][0])
    g_out, g_lin = gf.linearize(lambda x: _predict(G[0], G[1], x), G[2][0])
    np.testing.assert_allclose(g_lin(gk.tensor(v)).numpy(), t_lin(torch.from_numpy(v)).numpy(), rtol=1e-12)

    def tf_f(x):
        return x.sin().sum()

    t_h = tf.jvp(tf.grad(tf_f), (T[2][0],), (torch.from_numpy(v),))[1]
    g_h = gf.jvp(gf.grad(tf_f), (G[2][0],), (gk.tensor(v),))[1]
    np.testing.assert_allclose(g_h.numpy(), t_h.numpy(), rtol=1e-12)
    t_h2 = tf.vjp(tf.grad(tf_f), T[2][0])[1](torch.from_numpy(v))
    g_h2 = gf.vjp(gf.grad(tf_f), G[2][0])[1](gk.tensor(v))
    assert isinstance(g_h2, tuple) and len(g_h2) == len(t_h2) == 1
    np.testing.assert_allclose(g_h2[0].numpy(), t_h2[0].numpy(), rtol=1e-12)


def test_grad_orders_match_live_torch():
    torch = pytest.importorskip("torch")
    d = {"b": 1.0, "a": 2.0}
    tg = torch.func.grad(lambda p: p["b"] * p["a"] ** 2)({k: torch.tensor(v) for k, v in d.items()})
    gg = gf.grad(lambda p: p["b"] * p["a"] ** 2)({k: gk.tensor(v) for k, v in d.items()})
    assert list(gg) == list(tg)
    for k in d:
        assert float(gg[k]) == float(tg[k])
    tgv = torch.func.grad_and_value(lambda x: (x ** 2).sum())(torch.tensor([1.0, 3.0]))
    ggv = gf.grad_and_value(lambda x: (x ** 2).sum())(gk.tensor([1.0, 3.0]))
    np.testing.assert_allclose(ggv[0].numpy(), tgv[0].numpy())
    assert float(ggv[1]) == float(tgv[1])


def test_functional_call_matches_live_torch():
    torch = pytest.importorskip("torch")
    tm = torch.nn.Linear(4, 3).double()
    gm = nn.Linear(4, 3).double()
    x = np.random.default_rng(3).standard_normal((2, 4))
    w = np.random.default_rng(4).standard_normal((3, 4))
    t_out = torch.func.functional_call(
        tm, {"weight": torch.from_numpy(w), "bias": torch.zeros(3, dtype=torch.float64)},
        (torch.from_numpy(x),))
    g_out = gf.functional_call(
        gm, {"weight": gk.tensor(w), "bias": gk.zeros(3, dtype=gk.float64)}, (gk.tensor(x),))
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12)


# --- found by the sweep of PyTorch's docstring examples (tools/docexamples.py) ---
def test_vmap_over_autograd_grad_without_retain_graph() -> None:  # torch.func.vmap
    # PyTorch's example: the rows of the Jacobian of x**3 in one batched backward
    x = gk.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x ** 3
    (jac,) = gk.vmap(lambda v: gk.autograd.grad(y, x, v))(gk.eye(3))
    np.testing.assert_allclose(jac.numpy(), np.diag([0.75, 3.0, 12.0]))
    assert not jac.requires_grad


def test_torch_vmap_does_not_map_keyword_arguments() -> None:  # torch.func.vmap's docstring
    x = gk.arange(10.0).reshape(2, 5)

    def fn(x: gk.Tensor, scale: float = 4.0) -> gk.Tensor:
        return x * scale

    out = gk.vmap(fn)(x, scale=x)           # each row times the whole of x
    assert out.shape == (2, 2, 5)
    np.testing.assert_allclose(out.numpy(), x.numpy()[:, None, :] * x.numpy()[None])
