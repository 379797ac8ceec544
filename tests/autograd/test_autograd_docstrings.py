"""torch.autograd's docstring examples (issue #17, survey of PyTorch's documentation):
``allow_mutation_on_saved_tensors``, a custom Function defining ``vjp`` instead of ``backward``,
and the version error naming a custom Function as PyTorch does.

Expected values are analytic; messages are PyTorch 2.13's (recorded), and a live comparison
imports torch with ``pytest.importorskip``.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import Function
from gradkit.autograd.graph import allow_mutation_on_saved_tensors


def test_mutation_after_saving_uses_the_saved_value():
    with allow_mutation_on_saved_tensors():
        a = gk.ones(2, 3, requires_grad=True)
        b = a.clone()
        out = (b ** 2).sum()
        b.sin_()
        out.backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 2.0))   # 2 * b before sin_
    np.testing.assert_allclose(b.detach().numpy(), np.full((2, 3), np.sin(1.0)), rtol=1e-6)


def test_unmutated_saved_tensors_keep_their_graph():
    with allow_mutation_on_saved_tensors():
        x = gk.tensor([1.0, 2.0], requires_grad=True)
        y = x.clone()
        g, = gk.autograd.grad((y ** 3).sum(), x, create_graph=True)
        np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
        g2, = gk.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), [6.0, 12.0])                  # d/dx 3x^2 = 6x


def test_backward_outside_the_block_and_nesting_refused():
    with allow_mutation_on_saved_tensors():
        x = gk.tensor([1.0], requires_grad=True)
        out = (x.clone() ** 2).sum()
    with pytest.raises(AssertionError, match="Trying to backward outside of the "
                                             "'allow_mutation_on_saved_tensors' contextin which"):
        out.backward()
    with pytest.raises(RuntimeError, match="allow_mutation_on_saved_tensors contexts cannot be nested"):
        with allow_mutation_on_saved_tensors():
            with allow_mutation_on_saved_tensors():
                pass
    with allow_mutation_on_saved_tensors():           # usable again after the refusal
        pass


class _Scale(Function):
    @staticmethod
    def forward(ctx, x, y, z):
        ctx.save_for_backward(x, y)
        ctx.z = z
        return x * y * z

    @staticmethod
    def vjp(ctx, grad_out):
        x, y = ctx.saved_tensors
        return ctx.z * grad_out * y, ctx.z * grad_out * x, None


def test_function_with_vjp_instead_of_backward():
    a = gk.tensor(1.0, requires_grad=True, dtype=gk.float64)
    b = gk.tensor(2.0, requires_grad=True, dtype=gk.float64)
    _Scale.apply(a, b, 4).backward()
    assert float(a.grad) == 8.0 and float(b.grad) == 4.0


def test_function_with_both_backward_and_vjp_refused():
    class Both(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

        @staticmethod
        def vjp(ctx, g):
            return g * 2

    x = gk.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="Implementing both 'backward' and 'vjp' for a custom "
                                           "Function is not allowed"):
        Both.apply(x).backward()


def test_version_error_names_the_custom_function():
    class Inplace(Function):
        @staticmethod
        def forward(ctx, x):
            x.numpy()[...] += 1
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    a = gk.tensor(1.0, requires_grad=True, dtype=gk.float64).clone()
    b = a * a
    Inplace.apply(a)
    # torch 2.13 (recorded): "... [torch.DoubleTensor []], which is output 0 of Inplace, is at version 1; ..."
    with pytest.raises(RuntimeError, match=r"\[torch.DoubleTensor \[\]\], which is output 0 of Inplace, "
                                           r"is at version 1; expected version 0 instead"):
        b.backward()
    x = gk.ones(2, requires_grad=True)
    y = x.exp()
    z = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match="which is output 0 of Add, is at version 1"):
        z.sum().backward()


def test_allow_mutation_matches_torch():
    torch = pytest.importorskip("torch")
    got = []
    for lib in (torch, gk):
        with lib.autograd.graph.allow_mutation_on_saved_tensors():
            a = lib.tensor([0.5, -1.0], requires_grad=True)
            b = a.exp()
            out = (b * b.sin()).sum()
            b.mul_(3)
            out.backward()
        got.append(a.grad.numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-6)


def test_legacy_function_instance_call_refused_with_pytorchs_words():
    # numpy_extensions_recipe.ipynb's BadFFTFunction()(input): torch 2.13 warns when the class
    # is instantiated and raises when the instance is called (both recorded)
    class Legacy(Function):
        def forward(self, x):
            return x * 2

    with pytest.warns(DeprecationWarning, match="should not be instantiated. Methods on autograd "
                                                "functions are all static"):
        f = Legacy()
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward method "
                                           "is deprecated. Please use new-style autograd function"):
        f(gk.ones(2))


def test_increment_version_makes_a_saved_tensor_stale():
    x = gk.ones(3, requires_grad=True)
    z = x * x
    with gk.no_grad():
        x.mul_(1)                     # counted
    gk.autograd.graph.increment_version(x)
    assert x._version == 2
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    y = gk.ones(2)
    gk.autograd.graph.increment_version([y, y])
    assert y._version == 2


def test_default_grad_layout_matches_a_dense_leaf():
    # torch 2.13 (recorded): a channels-last leaf gets a channels-last .grad; a leaf made from a
    # strided view (not dense) gets a row-major one
    p = gk.randn(2, 3, 4, 5).to(memory_format=gk.channels_last).requires_grad_()
    (p * 2).sum().backward()
    assert p.grad.stride() == (60, 1, 15, 3) and (p.grad.numpy() == 2).all()
    (p * 3).sum().backward()
    assert p.grad.stride() == (60, 1, 15, 3) and (p.grad.numpy() == 5).all()
    t = gk.randn(4, 6)[:, ::2].requires_grad_()
    (t * 1).sum().backward()
    assert t.grad.stride() == (3, 1)


def test_a_contiguous_leaf_gets_a_contiguous_grad():
    # torch 2.13 (recorded): Linear's weight gradient arrives as a transposed product, yet
    # weight.grad is row-major, so weight.grad.view(-1) works (uvadlc tutorial 3 does this)
    lin = gk.nn.Linear(3, 2)
    x = gk.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    lin(x).sum().backward()
    assert lin.weight.grad.stride() == (3, 1)
    assert lin.weight.grad.view(-1).tolist() == [5.0, 7.0, 9.0, 5.0, 7.0, 9.0]
    w = gk.ones(3, 2).requires_grad_()
    (x @ w).sum().backward()                    # x.T @ ones: also transposed in NumPy
    assert w.grad.stride() == (2, 1) and w.grad.view(-1).tolist() == [5.0, 5.0, 7.0, 7.0, 9.0, 9.0]
    t = gk.ones(3, 4)[:, ::2].requires_grad_()  # not dense: row-major too
    (x @ t).sum().backward()
    assert t.grad.stride() == (2, 1) and t.grad.view(-1).tolist() == [5.0, 5.0, 7.0, 7.0, 9.0, 9.0]


def test_multithreading_switch():
    assert gk.autograd.is_multithreading_enabled()
    gk.autograd.set_multithreading_enabled(False)
    assert not gk.autograd.is_multithreading_enabled()
    gk.autograd.set_multithreading_enabled(True)
    with gk.autograd.set_multithreading_enabled(False):
        assert not gk.autograd.is_multithreading_enabled()
    assert gk.autograd.is_multithreading_enabled()


def test_gradient_edges_stand_for_tensors_in_grad_and_backward():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out = (h ** 2).sum()
    edge = gk.autograd.graph.get_gradient_edge(h)
    assert isinstance(edge, gk.autograd.graph.GradientEdge)
    assert edge.node is h.grad_fn and edge.output_nr == 0
    g, = gk.autograd.grad(out, edge, retain_graph=True)
    np.testing.assert_allclose(g.numpy(), [6.0, 12.0])                 # d(h^2)/dh = 2h
    leaf_edge = gk.autograd.graph.get_gradient_edge(x)
    assert leaf_edge.node.name() == "torch::autograd::AccumulateGrad" and leaf_edge.output_nr == 0
    gx, gh = gk.autograd.grad(out, (leaf_edge, edge), retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [18.0, 36.0])               # 2 h * 3
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])
    out.backward(inputs=[leaf_edge])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])
    with pytest.raises(RuntimeError, match="not possible to get the gradient edge for a Tensor that "
                                           "does not require gradients"):
        gk.autograd.graph.get_gradient_edge(gk.ones(2))
