"""Activation checkpointing: same gradients, far fewer saved bytes."""

from __future__ import annotations

import numpy as np

import gradkit as gk
from gradkit._core.tensor import Tensor
from gradkit.utils.checkpoint import checkpoint, checkpoint_sequential

RNG = np.random.default_rng(0)
LAYERS = [(RNG.standard_normal((32, 32)) / 6, RNG.standard_normal(32) / 10) for _ in range(50)]


def saved_bytes(root: Tensor) -> int:
    """Bytes of the activations (non-leaf arrays) the graph behind ``root`` keeps for backward."""
    seen, total, stack = set(), 0, [root.grad_fn]
    arrays: dict[int, np.ndarray] = {}
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        held = list(getattr(node, "args", None) or ()) + [getattr(node, "ans", None)]
        ctx = getattr(node, "ctx", None)
        held += list(getattr(ctx, "_saved", None) or ())
        for v in held:
            if isinstance(v, Tensor) and v.grad_fn is None:
                continue                          # parameters and inputs: kept either way
            arr = v._data if isinstance(v, Tensor) else v
            if isinstance(arr, np.ndarray):
                arrays[id(arr)] = arr
        stack += [e[0] for e in node.next if type(e) is tuple]
    for arr in arrays.values():
        total += arr.nbytes
    return total


def params():
    return [(gk.tensor(w, requires_grad=True), gk.tensor(b, requires_grad=True)) for w, b in LAYERS]


def layer(h, w, b):
    return gk.tanh(h @ w + b)


def run(use_checkpoint: bool):
    ps = params()
    x = gk.tensor(np.ones((64, 32)) * 0.1, requires_grad=True)
    h = x
    for k in range(0, 50, 10):                    # five checkpointed blocks of ten layers

        def block(h, *wb, k=k):
            for i in range(10):
                h = layer(h, wb[2 * i], wb[2 * i + 1])
            return h
        flat = [p for wb in ps[k:k + 10] for p in wb]
        h = checkpoint(block, h, *flat) if use_checkpoint else block(h, *flat)
    loss = (h * h).sum()
    nbytes = saved_bytes(loss)
    loss.backward()
    return nbytes, [x.grad.numpy()] + [p.grad.numpy() for wb in ps for p in wb]


def test_checkpoint_drops_saved_bytes_keeps_gradients():
    plain_bytes, plain = run(False)
    ck_bytes, ck = run(True)
    assert ck_bytes * 5 < plain_bytes, (ck_bytes, plain_bytes)   # 80 KiB vs 800 KiB
    for a, b in zip(plain, ck):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_closure_params_and_sequential():
    w = gk.tensor(LAYERS[0][0], requires_grad=True)
    x = gk.tensor(np.ones((4, 32)), requires_grad=True)
    checkpoint(lambda t: gk.tanh(t @ w), x).sum().backward()
    ref_w = w.grad.numpy().copy()
    w.grad = None
    gk.tanh(x.detach() @ w).sum().backward()
    np.testing.assert_allclose(ref_w, w.grad.numpy())
    fns = [lambda t, i=i: gk.tanh(t @ gk.tensor(LAYERS[i][0])) for i in range(6)]
    x2 = gk.tensor(np.ones((4, 32)), requires_grad=True)
    checkpoint_sequential(fns, 3, x2).sum().backward()
    x3 = gk.tensor(np.ones((4, 32)), requires_grad=True)
    h = x3
    for f in fns:
        h = f(h)
    h.sum().backward()
    np.testing.assert_allclose(x2.grad.numpy(), x3.grad.numpy())


def test_double_backward_through_checkpoint():
    x = gk.tensor([0.3, 0.7], requires_grad=True)
    y = checkpoint(lambda t: (t ** 3).sum(), x)
    (g,) = gk.autograd.grad(y, x, create_graph=True)
    (h,) = gk.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.detach().numpy())
