"""vmap refuses what PyTorch's torch.func.vmap refuses, in its words (issue #17).

Reading a batched value (``item()``, ``bool()``/``if``, ``float()``, ``int()``, ``tolist()``,
...), ops whose output shape depends on the values, and random draws under the default
``randomness="error"`` raise instead of running the function once per example. The expected
types and messages were recorded from PyTorch 2.13 (CPU) running the same snippets under
``torch.func.vmap``; ``test_same_as_live_torch`` reruns them there when torch is installed.
The per-example loop (ops gradkit has no batching rule for) refuses the same reads and the
write of an example into a tensor shared by every example.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.func as gf

ITEM = ("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over "
        "calling .item() on a Tensor, please try to rewrite what you're doing with other "
        "operations. If error is occurring somewhere inside PyTorch internals, please file a "
        "bug report.")
CONTROL = ("vmap: It looks like you're attempting to use a Tensor in some data-dependent "
           "control flow. We don't support that yet, please file an issue at "
           "https://github.com/pytorch/pytorch/issues .")
STORAGE = "Cannot access data pointer of Tensor that doesn't have storage"
EITHER = ("vmap: It looks like you're either (1) calling .item() on a Tensor or (2) attempting "
          "to use a Tensor in some data-dependent control flow or (3) encountering this error in "
          "PyTorch internals. For (1): we don't support vmap over calling .item() on a Tensor, "
          "please try to rewrite what you're doing with other operations. For (2): we don't "
          "support data-dependent control flow in vmap yet, please file an issue at "
          "https://github.com/pytorch/pytorch/issues . For (3): please file an issue.")
RANDOM = ("vmap: called random operation while in randomness error mode. Please either use the "
          "'same' or 'different' randomness flags on vmap or perform the randomness operation "
          "out of vmap")


def dynamic(op):
    return (f"vmap: We do not support batching operators that can output dynamic shape. "
            f"Attempted to vmap over aten::{op}. Please file an issue at "
            f"https://github.com/pytorch/pytorch/issues if you need this feature.")


X = [1.0, -2.0, 3.0]
M = [[1.0, -2.0], [3.0, 4.0], [0.0, 1.0]]
MI = [[1, 0], [3, 1], [0, 0]]

# (name, snippet of (torch module, vmap, grad), expected exception type, expected message)
CASES = [
    ("item", lambda t, vmap, grad: vmap(lambda a: a.item())(t.tensor(X)), RuntimeError, ITEM),
    ("item_nd", lambda t, vmap, grad: vmap(lambda a: a.item())(t.tensor(M)), RuntimeError, ITEM),
    ("bool", lambda t, vmap, grad: vmap(lambda a: bool(a))(t.tensor(X)), RuntimeError, CONTROL),
    ("if", lambda t, vmap, grad: vmap(lambda a: a if a > 0 else -a)(t.tensor(X)), RuntimeError,
     CONTROL),
    ("all_if", lambda t, vmap, grad: vmap(lambda a: a if (a > 0).all() else a)(t.tensor(M)),
     RuntimeError, CONTROL),
    ("not", lambda t, vmap, grad: vmap(lambda a: (not a) or a)(t.tensor(X)), RuntimeError, CONTROL),
    ("max_builtin", lambda t, vmap, grad: vmap(lambda a: max(a, 0))(t.tensor(X)), RuntimeError,
     CONTROL),
    ("float", lambda t, vmap, grad: vmap(lambda a: float(a))(t.tensor(X)), RuntimeError, ITEM),
    ("float_nd", lambda t, vmap, grad: vmap(lambda a: float(a))(t.tensor(M)), ValueError,
     "only one element tensors can be converted to Python scalars"),
    ("int", lambda t, vmap, grad: vmap(lambda a: int(a))(t.tensor(X)), RuntimeError, ITEM),
    ("complex", lambda t, vmap, grad: vmap(lambda a: complex(a))(t.tensor(X)), RuntimeError, ITEM),
    ("index", lambda t, vmap, grad: vmap(lambda a: [0, 1, 2, 3][a])(t.tensor([1, 0, 3])),
     RuntimeError, ITEM),
    ("any_item", lambda t, vmap, grad: vmap(lambda a: (a > 0).any().item())(t.tensor(X)),
     RuntimeError, ITEM),
    ("format", lambda t, vmap, grad: vmap(lambda a: float(format(a)))(t.tensor(X)), RuntimeError,
     ITEM),
    ("format_spec_nd", lambda t, vmap, grad: vmap(lambda a: format(a, ".2f"))(t.tensor(M)),
     TypeError, "unsupported format string passed to Tensor.__format__"),
    ("contains", lambda t, vmap, grad: vmap(lambda a: (1.0 in a) and a)(t.tensor(M)),
     RuntimeError, ITEM),
    ("tolist", lambda t, vmap, grad: vmap(lambda a: t.tensor(a.tolist()))(t.tensor(X)),
     RuntimeError, STORAGE),
    ("numpy", lambda t, vmap, grad: vmap(lambda a: a.numpy())(t.tensor(M)), RuntimeError, STORAGE),
    ("asarray", lambda t, vmap, grad: vmap(lambda a: t.tensor(np.asarray(a)))(t.tensor(X)),
     RuntimeError, STORAGE),
    ("arange", lambda t, vmap, grad: vmap(lambda a: t.arange(a))(t.tensor([1, 0, 3])),
     RuntimeError, ITEM),
    ("nested", lambda t, vmap, grad: vmap(vmap(lambda a: a.item()))(t.tensor(M)), RuntimeError,
     ITEM),
    ("grad_bool", lambda t, vmap, grad: vmap(grad(lambda a: a.sin() if a > 0 else a))(
        t.tensor(X)), RuntimeError, EITHER),
    ("grad_item", lambda t, vmap, grad: vmap(grad(lambda a: a.sin() * a.detach().item()))(
        t.tensor(X)), RuntimeError, EITHER),
    ("vmap_in_grad_item", lambda t, vmap, grad: grad(
        lambda w: vmap(lambda a: a * a.item())(t.tensor(X) * w).sum())(t.tensor(1.0)),
     RuntimeError, ITEM),
    ("nonzero", lambda t, vmap, grad: vmap(t.nonzero)(t.tensor(MI)), RuntimeError,
     dynamic("nonzero")),
    ("nonzero_method", lambda t, vmap, grad: vmap(lambda a: a.nonzero())(t.tensor(MI)),
     RuntimeError, dynamic("nonzero")),
    ("nonzero_tuple", lambda t, vmap, grad: vmap(lambda a: t.nonzero(a, as_tuple=True))(
        t.tensor(MI)), RuntimeError,
     "Batching rule not implemented for aten::nonzero_numpy. We could not generate a fallback."),
    ("where1", lambda t, vmap, grad: vmap(lambda a: t.where(a > 0))(t.tensor(M)), RuntimeError,
     dynamic("where")),
    ("unique", lambda t, vmap, grad: vmap(t.unique)(t.tensor(MI)), RuntimeError,
     dynamic("_unique2")),
    ("unique_dim", lambda t, vmap, grad: vmap(lambda a: t.unique(a, dim=0))(t.tensor(MI)),
     RuntimeError, dynamic("unique_dim")),
    ("unique_consecutive", lambda t, vmap, grad: vmap(t.unique_consecutive)(t.tensor(MI)),
     RuntimeError, dynamic("unique_consecutive")),
    ("masked_select_mask", lambda t, vmap, grad: vmap(lambda b: t.masked_select(t.ones(2), b))(
        t.tensor([[True, False], [False, True]])), RuntimeError,
     "vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) We cannot support "
     "this because for each batch this would return a differently shaped Tensor. Please file an "
     "issue at https://github.com/pytorch/pytorch/issues if you need this feature."),
    ("bool_mask", lambda t, vmap, grad: vmap(lambda a: a[a > 0])(t.tensor(M)), RuntimeError,
     "vmap: We do not support batching operators that can support dynamic shape. Attempting to "
     "batch over indexing with a boolean mask."),
    ("allclose", lambda t, vmap, grad: vmap(lambda a: t.allclose(a, a))(t.tensor(M)),
     RuntimeError, "vmap over torch.allclose isn't supported yet. Please file an issue at "
     "https://github.com/pytorch/pytorch/issues if you need this feature."),
    ("equal", lambda t, vmap, grad: vmap(lambda a: t.equal(a, t.ones(2)))(t.tensor(M)),
     RuntimeError, "Batching rule not implemented for aten::equal. We could not generate a "
     "fallback."),
    ("randn", lambda t, vmap, grad: vmap(lambda a: a + t.randn(()))(t.tensor(X)), RuntimeError,
     RANDOM),
    ("rand_like", lambda t, vmap, grad: vmap(t.rand_like)(t.tensor(X)), RuntimeError, RANDOM),
    ("normal_", lambda t, vmap, grad: vmap(lambda a: a.clone().normal_())(t.tensor(X)),
     RuntimeError, RANDOM),
    ("dropout", lambda t, vmap, grad: vmap(lambda a: t.nn.functional.dropout(a, 0.5))(
        t.tensor(X)), RuntimeError, RANDOM),
    ("add_into_unbatched", lambda t, vmap, grad: vmap(lambda a, b: a.add_(b), in_dims=(None, 0))(
        t.zeros(1), t.tensor([[1.0], [2.0], [3.0]])), RuntimeError,
     "output with shape [1] doesn't match the broadcast shape [3, 1]"),
]


@pytest.mark.parametrize("name,snippet,kind,message", CASES, ids=[c[0] for c in CASES])
def test_refusals_in_pytorchs_words(name, snippet, kind, message):
    with pytest.raises(kind) as info:
        snippet(gk, gf.vmap, gf.grad)
    assert str(info.value) == message


@pytest.mark.parametrize("name,snippet,kind,message", CASES, ids=[c[0] for c in CASES])
def test_same_as_live_torch(name, snippet, kind, message):
    torch = pytest.importorskip("torch")
    tf = pytest.importorskip("torch.func")
    with pytest.raises(kind) as info:
        snippet(torch, tf.vmap, tf.grad)
    assert str(info.value) == message


def test_reads_refused_after_an_op_without_a_batching_rule():
    """The loop (heaviside has no batching rule) refuses what the batched path refuses."""
    x = gk.tensor([[1.0], [-2.0], [3.0]])
    before = gf._vmap_stats["loop"]
    with pytest.raises(RuntimeError) as info:
        gf.vmap(lambda a: a if gk.heaviside(a, a).sum() > 0 else -a)(x)
    assert str(info.value) == CONTROL
    with pytest.raises(RuntimeError) as info:
        gf.vmap(lambda a: a * gk.heaviside(a, a).sum().item())(x)
    assert str(info.value) == ITEM
    with pytest.raises(RuntimeError) as info:
        gf.vmap(lambda a: gk.tensor(gk.heaviside(a, a).long().tolist()))(x)
    assert str(info.value) == STORAGE
    assert gf._vmap_stats["loop"] == before
    # what the loop may do, it still does: one answer per example
    out = gf.vmap(lambda a: gk.heaviside(a, a) * 2 + a.sum())(x)
    np.testing.assert_array_equal(out.numpy(), [[3.0], [-2.0], [5.0]])


@pytest.mark.parametrize("before_write", ["long", "heaviside"])
def test_write_into_a_captured_tensor_never_accumulates(before_write):
    """Issue #17, bug 2: an op that fails batched before the write must not let the loop add
    every example into the captured tensor (PyTorch 2.13 raises the message below)."""
    cap = gk.zeros(1)

    def f(b):
        if before_write == "long":
            b.long()
        else:
            gk.heaviside(b, b)
        cap.add_(b)
        return cap

    with pytest.raises(RuntimeError) as info:
        gf.vmap(f)(gk.tensor([[1.0], [-2.0], [3.0]]))
    assert str(info.value) == "output with shape [1] doesn't match the broadcast shape [3, 1]"
    np.testing.assert_array_equal(cap.numpy(), [0.0])


def test_copy_of_an_example_into_a_fresh_zeros_is_refused_in_the_loop_too():
    """PyTorch's UX-limitations example: torch.zeros inside the function is not batched."""
    def diag_embed(vec):
        result = gk.zeros(vec.shape[0], vec.shape[0])
        gk.heaviside(vec, vec)
        result.diagonal().copy_(vec)
        return result

    with pytest.raises(RuntimeError, match=r"^vmap: inplace arithmetic\(self, \*extra_args\) is "
                                           r"not possible"):
        gf.vmap(diag_embed)(gk.tensor([[0.0, 1, 2], [3.0, 4, 5]]))


def test_batched_tensor_prints_as_pytorchs():
    seen = []
    gf.vmap(lambda a: seen.append(str(a * 2)) or a)(gk.tensor([[1.0, -2.0], [3.0, 4.0]]))
    # PyTorch 2.13's text for the same print inside torch.func.vmap
    assert seen == ["BatchedTensor(lvl=1, bdim=0, value=\n    tensor([[ 2., -4.],\n"
                    "            [ 6.,  8.]])\n)"]


def test_example_tensors_that_leak_read_normally_afterwards():
    kept = []
    gf.vmap(lambda a: kept.append(gk.heaviside(a, a)) or a * 2)(gk.tensor([[1.0], [0.0]]))
    assert [float(k) for k in kept] == [1.0, 0.0]


# --- signed zeros of per-example gradients (issue #17, item 3) --------------------------------
W5 = [0.5, -1.0, 2.0, 0.3, -0.2]
E25 = [[1.0, -2.0, 0.5, -1.0, 3.0], [0.3, 0.2, 0.1, -0.5, 1.0]]
T2 = [0.7, -0.4]
# np.signbit of torch.func.vmap(torch.func.grad(loss), in_dims=...)(W5, E25, T2), PyTorch 2.13:
# the second example's relu is off, so its gradient is +0 * e, a zero with the sign of e
SIGNS_TORCH = [[0, 1, 0, 1, 0], [0, 0, 0, 1, 0]]


def _loss(w, e, t):
    return ((e.dot(w).relu() - t) ** 2).mean()


@pytest.mark.parametrize("w_batched", [False, True])
def test_per_example_relu_gradients_keep_the_sign_of_zero(w_batched):
    w = gk.tensor(W5)
    if w_batched:
        w = w.expand(2, 5)
    r = gf.vmap(gf.grad(_loss), in_dims=(0 if w_batched else None, 0, 0))(
        w, gk.tensor(E25), gk.tensor(T2))
    assert np.signbit(r.numpy()).astype(int).tolist() == SIGNS_TORCH
    # the values: 2 (relu(e.w) - t) e where relu is on, 0 elsewhere (analytic)
    e, z = np.array(E25), np.array(E25) @ np.array(W5)
    expected = (2 * (np.maximum(z, 0) - np.array(T2)) * (z > 0))[:, None] * e
    np.testing.assert_allclose(r.numpy(), expected, rtol=1e-6)


def test_per_example_matrix_vector_gradients_keep_the_sign_of_zero():
    a = np.array([[[1.0, -2.0], [0.5, 3.0]], [[-1.0, 0.25], [2.0, -0.5]]])
    v = np.array([-1.0, 2.0])

    def loss(a, v):
        return ((a @ v).relu() * -1.0).sum()

    for argnums, dims in [(0, (0, None)), (1, (0, None)), (0, (0, 0)), (1, (0, 0))]:
        vv = v if dims[1] is None else np.stack([v, v])
        got = gf.vmap(gf.grad(loss, argnums=argnums), in_dims=dims)(gk.tensor(a), gk.tensor(vv))
        # a @ v = [[-5, 5.5], [1.5, -3]]: where relu is off the gradient is +0 times the
        # other factor (its sign), where it is on it is -1 times it (analytic)
        on = (a @ v > 0)
        if argnums == 0:
            expected = np.where(on[..., None], -1.0, 0.0) * v
            signs = np.signbit(np.where(on[..., None], -1.0, 0.0) * np.broadcast_to(v, a.shape))
        else:
            expected = np.einsum("bm,bmd->bd", np.where(on, -1.0, 0.0), a)
            signs = np.signbit(expected)
        np.testing.assert_array_equal(got.numpy(), expected)
        if argnums == 0:
            np.testing.assert_array_equal(np.signbit(got.numpy()), signs)


@pytest.mark.parametrize("big", [False, True])
def test_batched_matrix_vector_gradient_signs_at_both_sizes(big, monkeypatch):
    """Both ways of batching an mv of two batched operands (a product and a sum while small,
    an einsum above) give the matrix gradient g * v, zeros signed as the vector."""
    from gradkit.func import _batching_rules
    if big:
        monkeypatch.setattr(_batching_rules, "_SMALL_MV", 0)
    a = gk.tensor([[[1.0, -2.0], [0.5, 3.0]], [[-1.0, 0.25], [2.0, -0.5]]])
    v = gk.tensor([[-1.0, 2.0], [-1.0, 2.0]])
    got = gf.vmap(gf.grad(lambda a, v: ((a @ v).relu() * -1.0).sum()))(a, v).numpy()
    # a @ v = [[-5, 5.5], [1.5, -3]]: rows with relu off are +0 * v, on are -1 * v
    np.testing.assert_array_equal(got, [[[0.0, 0.0], [1.0, -2.0]], [[1.0, -2.0], [0.0, 0.0]]])
    np.testing.assert_array_equal(np.signbit(got), [[[1, 0], [0, 1]], [[0, 1], [1, 0]]])


def test_einsum_of_products_keeps_the_sign_of_zero():
    # torch.einsum('i,j->ij', ...) and torch.outer, PyTorch 2.13: each entry one product
    got = gk.einsum("i,j->ij", gk.tensor([-0.0, 0.0, 1.0]), gk.tensor([1.0, -1.0])).numpy()
    np.testing.assert_array_equal(np.signbit(got), [[1, 0], [0, 1], [0, 1]])
    rng = np.random.default_rng(3)
    for eq, shapes in [("bm,bd->bmd", [(2, 3), (2, 4)]), ("ij,kj->kij", [(2, 3), (4, 3)]),
                       ("i,i->i", [(3,), (3,)]), (",i->i", [(), (3,)])]:
        ops = [rng.standard_normal(s) for s in shapes]
        np.testing.assert_allclose(gk.einsum(eq, *[gk.tensor(o) for o in ops]).numpy(),
                                   np.einsum(eq, *ops), rtol=1e-15)


def test_signs_match_live_torch():
    torch = pytest.importorskip("torch")
    tf = pytest.importorskip("torch.func")
    for dims in [(None, 0, 0), (0, 0, 0)]:
        w = torch.tensor(W5) if dims[0] is None else torch.tensor(W5).expand(2, 5)
        r = tf.vmap(tf.grad(_loss), in_dims=dims)(w, torch.tensor(E25), torch.tensor(T2))
        assert np.signbit(r.numpy()).astype(int).tolist() == SIGNS_TORCH


# --- *_like of a batched tensor is batched (PyTorch 2.13 values) --------------------------------
def _into_zeros_like(a):
    o = gk.zeros_like(a)
    o.copy_(a * 2)
    return o


def _into_full_like(a):
    o = gk.full_like(a, 7.0)
    o[0] = a[1]
    return o


def test_like_of_a_batched_tensor_takes_a_batched_write():
    x = gk.tensor([[1.0, -2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(gf.vmap(_into_zeros_like)(x).numpy(), [[2.0, -4.0], [6.0, 8.0]])
    np.testing.assert_array_equal(gf.vmap(_into_full_like)(x).numpy(), [[-2.0, 7.0], [4.0, 7.0]])
    got = gf.vmap(lambda a: gk.ones_like(a, dtype=gk.float64).add_(a))(x)
    assert got.dtype == gk.float64
    np.testing.assert_array_equal(got.numpy(), [[2.0, -1.0], [4.0, 5.0]])
    np.testing.assert_array_equal(gf.vmap(gf.vmap(_into_zeros_like))(x[None].expand(2, 2, 2)).numpy(),
                                  [[[2.0, -4.0], [6.0, 8.0]]] * 2)
    # the same in the per-example loop (heaviside has no batching rule)
    np.testing.assert_array_equal(
        gf.vmap(lambda a: _into_zeros_like(a) + gk.heaviside(a, a))(x).numpy(),
        [[3.0, -4.0], [7.0, 9.0]])
