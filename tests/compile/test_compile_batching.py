"""gradkit.compile's batching of an unrolled loop (``gradkit/compile/_batching.py``).

The passes must give eager's bits: each result is compared with ``np.array_equal`` (and the
sign bits) against the same function run eagerly, and the accumulation kernel against the
sequence of matrix products and additions that eager code runs (written out here with NumPy).
The reason equality can be exact: the batched ops are IEEE arithmetic elementwise (one
rounding per element, the same in any call), matrix-vector products as NumPy's stacked
``matmul`` (the same BLAS call per row), row reads (no arithmetic), and a sum over the steps
reduced along NumPy's outer loop (one addition per step, in step order).
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.compile._batching import MIN_STEPS, _outer_sum


def _np(x):
    return x.detach().numpy() if isinstance(x, gk.Tensor) else np.asarray(x)


def _bits_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n,m", [(1, 4), (4, 1), (2, 2), (5, 3), (32, 8), (32, 32), (40, 70)])
@pytest.mark.parametrize("T", [MIN_STEPS, 37, 600])
def test_outer_sum_is_the_stepwise_sum_of_matrix_products(dtype, n, m, T):
    rng = np.random.default_rng(n * 1000 + m * 10 + T)
    # magnitudes spread over many decades: any other summation order would round differently
    A = (rng.normal(size=(T, n)) * np.exp(rng.normal(size=(T, n)) * 6)).astype(dtype)
    B = rng.normal(size=(T, m)).astype(dtype)
    A[3, 0] = -0.0
    B[:, 0] = -0.0
    # eager: acc = a_0[:, None] @ b_0[None, :]; then acc = acc + a_t[:, None] @ b_t[None, :]
    acc = A[0][:, None] @ B[0][None, :]
    for t in range(1, T):
        acc = acc + A[t][:, None] @ B[t][None, :]
    assert _bits_equal(_outer_sum(A, B, True), acc)


def test_outer_sum_without_plus_zero_keeps_a_negative_zero_sum():
    A = np.full((MIN_STEPS, 2), -0.0)
    B = np.ones((MIN_STEPS, 3))
    r = _outer_sum(A, B, False)                  # (-0.0 * 1) summed: -0.0 + -0.0 = -0.0
    assert np.signbit(r).all()
    assert not np.signbit(_outer_sum(A, B, True)).any()


def _rnn(T, H, I, dtype=gk.float64, order=None):
    def loss(W, U, xs):
        h = gk.zeros(H, dtype=dtype)
        for t in (range(T) if order is None else order):
            h = (W @ h + U @ xs[t]).tanh()
        return h.sum()
    return gk.func.value_and_grad(loss, argnums=(0, 1))


def _check_rnn(vg, W0, U0, xs0, calls=3):
    cvg = gk.compile(vg)
    rng = np.random.default_rng(1)
    for k in range(calls):
        args = [gk.tensor((a + 0.05 * k * rng.normal(size=a.shape)).astype(a.dtype))
                for a in (W0, U0, xs0)]
        got, want = cvg(*args), vg(*args)
        assert _bits_equal(_np(got[0]), _np(want[0]))
        for g, w in zip(got[1], want[1], strict=True):
            assert _bits_equal(_np(g), _np(w))
    assert cvg.stats["traces"] == 1 and cvg.stats["replays"] == calls - 1
    return next(iter(cvg.cache.values()))[0].prog


def _weights(T, H, I, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return ((rng.normal(size=(H, H)) * 0.5 / np.sqrt(H)).astype(dtype),
            (rng.normal(size=(H, I)) * 0.5).astype(dtype),
            rng.normal(size=(T, I)).astype(dtype))


def test_rnn_is_batched_and_equals_eager():
    T, H, I = 60, 8, 3
    prog = _check_rnn(_rnn(T, H, I), *_weights(T, H, I))
    src = prog.source
    # U @ x_t for every step in one stacked matmul, the rows read at once, 1 - h*h of the
    # backward on the stacked states, the two weight gradients each one exact sum
    assert "_batched_matvec" in src and "_take_rows" in src
    assert src.count("outer_sum(") == 2
    # per step: add, tanh, W @ h forward; W.T @ g and its product with 1 - h*h backward
    assert prog.n_ops <= 5 * T + 30


def test_rnn_float32_reversed_and_shuffled_steps():
    T, H, I = 40, 6, 4
    W0, U0, xs0 = _weights(T, H, I, np.float32, seed=2)
    _check_rnn(_rnn(T, H, I, gk.float32, order=range(T - 1, -1, -1)), W0, U0, xs0)
    perm = np.random.default_rng(3).permutation(T).tolist()       # rows by a fancy index
    prog = _check_rnn(_rnn(T, H, I, order=perm), *_weights(T, H, I, seed=4))
    assert "_take_rows" in prog.source
    neg = [-1 - t for t in range(T)]                                  # negative row indices
    _check_rnn(_rnn(T, H, I, order=neg), *_weights(T, H, I, seed=5))


def test_rnn_with_signed_zeros_and_a_one_by_one_state():
    # a feature that is always -0.0 gives gradient columns of -0.0 products (eager: +0.0);
    # hidden size 1 with input 1: 1x1 outer products, which the accumulation pass leaves alone
    T, H, I = 30, 4, 3
    W0, U0, xs0 = _weights(T, H, I, seed=6)
    W0 = np.abs(W0)
    xs0[:, 1] = -0.0
    cvg = gk.compile(_rnn(T, H, I))
    got, want = cvg(*map(gk.tensor, (W0, U0, xs0))), _rnn(T, H, I)(*map(gk.tensor, (W0, U0, xs0)))
    for g, w in zip(got[1], want[1], strict=True):
        assert _bits_equal(_np(g), _np(w))
    _check_rnn(_rnn(T, 1, 1), *_weights(T, 1, 1, seed=7))


def test_batched_results_handed_out_and_read_by_later_steps():
    # every step's value is an output (its batch's rows come back as slots), and a value of
    # step t feeds a later non-batched op; NaN and infinities pass through the batches
    T = 3 * MIN_STEPS

    def f(xs, w):
        outs = []
        acc = w * 0.0
        for t in range(T):
            y = xs[t] * 2.0 - 1.0
            acc = (acc + y * w).sin()
            outs.append(y)
        return acc, outs

    rng = np.random.default_rng(8)
    xs = rng.normal(size=(T, 5))
    xs[4, 2], xs[7, 0], xs[9, 1] = np.nan, np.inf, -0.0
    cf = gk.compile(f)
    w = gk.tensor(rng.normal(size=5))
    for k in range(2):
        x = gk.tensor(xs * (1 + k))
        with np.errstate(invalid="ignore"):               # sin(inf) is NaN, eager and compiled
            got, want = cf(x, w), f(x, w)
        assert _bits_equal(_np(got[0]), _np(want[0]))
        assert len(got[1]) == T
        for g, e in zip(got[1], want[1], strict=True):
            assert _bits_equal(_np(g), _np(e))
    assert cf.stats["replays"] == 1
    assert "_take_rows" in next(iter(cf.cache.values()))[0].prog.source


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_python_numbers_as_typed_scalars_give_eagers_bits(dtype):
    # NumPy 2 converts a Python number to the array's dtype first (NEP 50): the program names
    # that NumPy scalar once; 0.1 and 1/3 are not exact in either dtype, 3 is an int exponent,
    # 1e39 overflows float32 (left as a Python number: eager warns on every call)
    def f(x):
        y = (x * 0.1 + 1 / 3) / 0.7 - 2
        return (y ** 3 + 1e39 * x).sum(), gk.maximum(y, gk.tensor(0.25, dtype=x.dtype)) * 3

    x = np.linspace(-2, 2, 50).astype(dtype)
    cf = gk.compile(f)
    with np.errstate(over="ignore", invalid="ignore"):       # inf - inf in the float32 sum
        for k in range(2):
            t = gk.tensor(x * (1 + k))
            got, want = cf(t), f(t)
            for g, w in zip(got, want, strict=True):
                assert _bits_equal(_np(g), _np(w))
    assert cf.stats["replays"] == 1
    src = next(iter(cf.cache.values()))[0].prog.source
    assert "0.1" not in src and "0.7" not in src


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 100, 1000])
def test_transcendental_families_on_the_forwards_values(dtype, n):
    # the backward of a chain of sin/tanh/exp recomputes cos(x_k), and 1 - tanh^2 on forward
    # values: one call each on the stacked values, the same bits (NumPy computes each element
    # of a contiguous array by the same code whatever its length)
    def f(x):
        y = x
        for _ in range(2 * MIN_STEPS):
            y = ((y * 0.9 + x).sin() * x).tanh().exp() - 0.5
        return y.sum()

    vg = gk.func.value_and_grad(f)
    cvg = gk.compile(vg)
    x0 = np.linspace(-0.9, 0.9, n).astype(dtype)
    for k in range(2):
        t = gk.tensor(x0 * (1 + 0.5 * k))
        got, want = cvg(t), vg(t)
        for g, w in zip(got, want, strict=True):
            assert _bits_equal(_np(g), _np(w))
    src = next(iter(cvg.cache.values()))[0].prog.source
    assert src.count("_stack(") >= 2 and src.count("_cos(") == 1


def test_large_steps_are_not_stacked():
    # one step's result past MAX_ELEMENTS: each step's call costs little beside its work, and
    # a stack would only copy; the program stays one op per step (and equal to eager)
    from gradkit.compile._batching import MAX_ELEMENTS
    n = MAX_ELEMENTS + 1
    T = MIN_STEPS + 2

    def f(xs):
        acc = xs[0] * 0.0
        for t in range(T):
            acc = (acc + xs[t] * 2.0).sin()
        return acc

    xs = gk.tensor(np.random.default_rng(9).normal(size=(T, n)))
    cf = gk.compile(f)
    got = cf(xs)
    got = cf(xs)
    assert _bits_equal(_np(got), _np(f(xs)))
    src = next(iter(cf.cache.values()))[0].prog.source
    assert "_stack" not in src and "_take_rows" not in src


def test_training_step_hands_gradients_over_without_copying_them():
    # eager's zero_grad() + backward() makes new gradient tensors: an array taken from the
    # previous .grad keeps its values, and a weight's gradient is row-major (PyTorch's layout
    # contract, though its rule gives a transposed view); the replay gives the same
    def make():
        gk.manual_seed(0)
        m = gk.nn.Sequential(gk.nn.Linear(6, 5), gk.nn.Tanh(), gk.nn.Linear(5, 2))
        return m, gk.optim.SGD(m.parameters(), lr=0.1)

    rng = np.random.default_rng(10)
    X = gk.tensor(rng.normal(size=(7, 6)).astype(np.float32))
    Y = gk.tensor(rng.normal(size=(7, 2)).astype(np.float32))
    runs = {}
    for name in ("eager", "compiled"):
        m, o = make()

        def step(m=m, o=o):
            o.zero_grad()
            loss = ((m(X) - Y) ** 2).mean()
            loss.backward()
            o.step()
            return loss
        f = gk.compile(step) if name == "compiled" else step
        for _ in range(3):
            f()
        before = [p.grad.numpy().copy() for p in m.parameters()]
        held = [p.grad.numpy() for p in m.parameters()]
        f()
        assert all(np.array_equal(h, b) for h, b in zip(held, before, strict=True))
        runs[name] = m
        if name == "compiled":
            assert f.stats["replays"] >= 2
    for pe, pc in zip(runs["eager"].parameters(), runs["compiled"].parameters(), strict=True):
        assert _bits_equal(pe.detach().numpy(), pc.detach().numpy())
        ge, gc = pe.grad.numpy(), pc.grad.numpy()
        assert _bits_equal(ge, gc) and ge.strides == gc.strides
