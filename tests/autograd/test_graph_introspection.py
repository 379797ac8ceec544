"""grad_fn introspection and saved-tensor hooks, as PyTorch 2.13 has them.

Expected values were recorded from PyTorch 2.13 (``dir(grad_fn)``, the ``_saved_*`` values, the
order and number of pack/unpack calls); ``test_*_match_live_torch`` recompute them with an
installed torch.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd.graph import (SavedTensor, disable_saved_tensors_hooks, save_on_cpu,
                                    saved_tensors_hooks)

FREED = "Trying to backward through the graph a second time (or directly access saved tensors"


def _inputs(lib):
    x = lib.tensor([[1.5, 2.0, 0.5], [0.75, 1.25, 1.75]], requires_grad=True)
    y = lib.tensor([[0.5, 1.0, 2.0], [1.5, 0.25, 3.0]], requires_grad=True)
    w = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    v = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = lib.tensor([[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]])
    return x, y, w, v, c


# name -> (function of (x, y, w, v, c), node name, {attr: expected}); a tensor is named by the
# input it is ("x", ...), "result" is the node's output, None is a value PyTorch did not save
CASES = {
    "mul": (lambda x, y, w, v, c: x * y, "MulBackward0", {"self": "x", "other": "y"}),
    "mul_const": (lambda x, y, w, v, c: x * c, "MulBackward0", {"self": None, "other": "c"}),
    "mul_number": (lambda x, y, w, v, c: x * 2.5, "MulBackward0", {"self": None, "other": 2.5}),
    "div": (lambda x, y, w, v, c: x / y, "DivBackward0", {"self": "x", "other": "y"}),
    "div_const": (lambda x, y, w, v, c: c / x, "DivBackward0", {"self": "c", "other": "x"}),
    "add": (lambda x, y, w, v, c: x + y, "AddBackward0", {"alpha": 1}),
    "sub": (lambda x, y, w, v, c: x - y, "SubBackward0", {"alpha": 1}),
    "pow": (lambda x, y, w, v, c: x ** 3, "PowBackward0", {"exponent": 3, "self": "x"}),
    "pow_tensor": (lambda x, y, w, v, c: x ** y, "PowBackward1",
                   {"exponent": "y", "self": "x", "result": "result"}),
    "rpow": (lambda x, y, w, v, c: 2.0 ** x, "PowBackward2",
             {"exponent": "x", "self": 2.0, "result": "result"}),
    "exp": (lambda x, y, w, v, c: x.exp(), "ExpBackward0", {"result": "result"}),
    "log": (lambda x, y, w, v, c: x.log(), "LogBackward0", {"self": "x"}),
    "sin": (lambda x, y, w, v, c: x.sin(), "SinBackward0", {"self": "x"}),
    "cos": (lambda x, y, w, v, c: x.cos(), "CosBackward0", {"self": "x"}),
    "tanh": (lambda x, y, w, v, c: x.tanh(), "TanhBackward0", {"result": "result"}),
    "sigmoid": (lambda x, y, w, v, c: x.sigmoid(), "SigmoidBackward0", {"result": "result"}),
    "relu": (lambda x, y, w, v, c: x.relu(), "ReluBackward0", {"result": "result"}),
    "sqrt": (lambda x, y, w, v, c: x.sqrt(), "SqrtBackward0", {"result": "result"}),
    "sum": (lambda x, y, w, v, c: x.sum(), "SumBackward0", {"self_sym_sizes": (2, 3)}),
    "sum_dim": (lambda x, y, w, v, c: x.sum(1, keepdim=True), "SumBackward1",
                {"dim": (1,), "keepdim": True, "self_sym_sizes": (2, 3)}),
    "mean": (lambda x, y, w, v, c: x.mean(), "MeanBackward0",
             {"self_sym_sizes": (2, 3), "self_sym_numel": 6}),
    "mean_dim": (lambda x, y, w, v, c: x.mean(0), "MeanBackward1",
                 {"dim": (0,), "keepdim": False, "self_sym_sizes": (2, 3), "self_sym_numel": 6}),
    "mm": (lambda x, y, w, v, c: x @ w, "MmBackward0",
           {"self": "x", "mat2": "w", "self_sym_sizes": (2, 3), "mat2_sym_sizes": (3, 2),
            "self_sym_strides": (3, 1), "mat2_sym_strides": (2, 1)}),
    "mv": (lambda x, y, w, v, c: x @ v, "MvBackward0", {"self": "x", "vec": "v"}),
    "view": (lambda x, y, w, v, c: x.view(6), "ViewBackward0", {"self_sym_sizes": (2, 3)}),
    "permute": (lambda x, y, w, v, c: x.permute(1, 0), "PermuteBackward0", {"dims": (1, 0)}),
    "amax": (lambda x, y, w, v, c: x.amax(1), "AmaxBackward0",
             {"dim": (1,), "keepdim": False, "self": "x", "result": "result"}),
    "softmax": (lambda x, y, w, v, c: x.softmax(1), "SoftmaxBackward0",
                {"dim": 1, "result": "result"}),
    "clamp": (lambda x, y, w, v, c: x.clamp(0.6, 1.6), "ClampBackward1",
              {"min": 0.6, "max": 1.6, "self": "x"}),
}


def _check_case(lib, name):
    fn, node_name, expected = CASES[name]
    ins = _inputs(lib)
    named = dict(zip("xywvc", ins))
    out = fn(*ins)
    node = out.grad_fn
    assert node.name() == node_name
    for attr, want in expected.items():
        got = getattr(node, "_saved_" + attr)
        if want is None:
            assert got is None, attr
        elif want == "result":
            np.testing.assert_array_equal(got.detach().numpy(), out.detach().numpy())
            assert got.grad_fn is node
        elif isinstance(want, str):
            assert got is named[want], attr
        elif isinstance(want, float):
            if isinstance(got, float):           # a Scalar argument (PowBackward2's self)
                assert got == want
            else:                                # a wrapped number: a 0-d float64 tensor
                assert got.dtype == lib.float64 and got.shape == () and got.item() == want
        else:
            assert got == want, attr
    saved = sorted(a for a in dir(node) if a.startswith("_saved_"))
    return saved


@pytest.mark.parametrize("name", sorted(CASES))
def test_saved_attributes_have_pytorchs_names_and_values(name):
    saved = _check_case(gk, name)
    assert saved == sorted("_saved_" + a for a in CASES[name][2])


@pytest.mark.parametrize("name", sorted(CASES))
def test_saved_attributes_match_live_torch(name):
    torch = pytest.importorskip("torch")
    torch_saved = _check_case(torch, name)
    assert _check_case(gk, name) == torch_saved


def test_raw_saved_tensors_are_listed_for_tensors_only():
    x, y, *_ = _inputs(gk)
    node = (x * y).grad_fn
    assert sorted(a for a in dir(node) if a.startswith(("_saved_", "_raw_saved_"))) == [
        "_raw_saved_other", "_raw_saved_self", "_saved_other", "_saved_self"]
    assert isinstance(node._raw_saved_self, SavedTensor)
    with pytest.raises(AttributeError, match="_saved_exponent"):
        _ = node._saved_exponent
    with pytest.raises(AttributeError):
        _ = x.sum(1).grad_fn._raw_saved_dim


def test_saved_tensors_after_backward_are_freed_with_pytorchs_error():
    x, y, *_ = _inputs(gk)
    z = x * y
    e = x.exp()
    s = x.sum(1)
    (z.sum() + e.sum() + s.sum()).backward()
    for get in (lambda: z.grad_fn._saved_self, lambda: z.grad_fn._saved_other,
                lambda: e.grad_fn._saved_result):
        with pytest.raises(RuntimeError, match=r"^" + FREED.replace("(", r"\(").replace(")", r"\)")):
            get()
    # what is not a tensor stays readable (as in PyTorch)
    assert s.grad_fn._saved_dim == (1,) and s.grad_fn._saved_self_sym_sizes == (2, 3)
    # a value PyTorch never saved stays None
    x2, _, _, _, c = _inputs(gk)
    m = x2 * c
    m.sum().backward()
    assert m.grad_fn._saved_self is None


def test_retain_graph_keeps_saved_tensors():
    x, y, *_ = _inputs(gk)
    z = x * y
    z.sum().backward(retain_graph=True)
    assert z.grad_fn._saved_other is y


def test_saved_tensor_changed_in_place_is_pytorchs_version_error_on_access():
    x, *_ = _inputs(gk)
    a = x * 1
    b = a.sin()
    a.mul_(2)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0 instead"):
        _ = b.grad_fn._saved_self


def test_next_functions_and_accumulate_grad():
    x, y, w, v, c = _inputs(gk)
    z = x * c
    (node, idx), (none, idx2) = z.grad_fn.next_functions
    assert node.name() == "torch::autograd::AccumulateGrad" and idx == 0
    assert node.variable is x and none is None and idx2 == 0
    assert node.next_functions == ()
    # one AccumulateGrad per leaf while it is referenced, as in PyTorch
    assert (x * 2).grad_fn.next_functions[0][0] is node
    node.metadata["k"] = 1
    assert (x + 1).grad_fn.next_functions[0][0].metadata == {"k": 1}
    loss = (z * y).sum()
    mul = loss.grad_fn.next_functions[0][0]
    assert mul.name() == "MulBackward0"
    assert mul.next_functions[0] == (z.grad_fn, 0)
    assert mul.next_functions[1][0].variable is y


def test_node_hooks_match_pytorch():
    # recorded from PyTorch 2.13
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = gk.tensor([3.0, 4.0], requires_grad=True)
    z = x * y
    log = []
    z.grad_fn.register_hook(lambda gi, go: log.append(
        ("post", [g.tolist() for g in gi], [g.tolist() for g in go])))
    z.grad_fn.register_prehook(lambda go: log.append(("pre", [g.tolist() for g in go])))
    (z * 2).sum().backward()
    assert log == [("pre", [[2.0, 2.0]]), ("post", [[6.0, 8.0], [2.0, 4.0]], [[2.0, 2.0]])]
    x.grad = y.grad = None
    z = x * y
    z.grad_fn.register_hook(lambda gi, go: (gi[0] * 10, None))
    z.grad_fn.register_prehook(lambda go: (go[0] + 1,))
    z.sum().backward()
    assert x.grad.tolist() == [60.0, 80.0] and y.grad is None
    z = x * 3
    z.grad_fn.metadata["k"] = 1
    assert z.grad_fn.metadata == {"k": 1}


# --- saved_tensors_hooks ------------------------------------------------------------------
def _record(lib, fn):
    """Run ``fn`` under counting hooks; return what was packed (by name) and the unpack order."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0], requires_grad=True)
    c = lib.tensor([5.0, 6.0])
    packed, unpacked = [], []

    def pack(t):
        packed.append(t)
        return len(packed) - 1

    def unpack(i):
        unpacked.append(i)
        return packed[i]

    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        out = fn(x, y, c)
    names = []
    for t in packed:
        if t is x or t is y or t is c:
            names.append("x" if t is x else "y" if t is y else "c")
        elif t.grad_fn is out.grad_fn:
            names.append("out")
        else:
            names.append(tuple(t.shape))
    out.sum().backward()
    return names, unpacked, x.grad.tolist()


PACK_CASES = {
    # recorded from PyTorch 2.13: (packed, unpack order)
    "mul": (lambda x, y, c: x * y, (["y", "x"], [0, 1])),
    "mul_const": (lambda x, y, c: x * c, (["c"], [0])),
    "mul_number": (lambda x, y, c: x * 2.0, ([], [])),
    "exp": (lambda x, y, c: x.exp(), (["out"], [0])),
    "pow": (lambda x, y, c: x ** 2, (["x"], [0])),
    "chain": (lambda x, y, c: (x * y).sin().exp(), (["y", "x", (2,), "out"], [3, 2, 0, 1])),
}


@pytest.mark.parametrize("name", sorted(PACK_CASES))
def test_pack_and_unpack_calls_match_pytorch(name):
    fn, want = PACK_CASES[name]
    names, unpacked, _ = _record(gk, fn)
    assert (names, unpacked) == want


@pytest.mark.parametrize("name", sorted(PACK_CASES))
def test_pack_and_unpack_calls_match_live_torch(name):
    torch = pytest.importorskip("torch")
    fn = PACK_CASES[name][0]
    t_names, t_unpacked, t_grad = _record(torch, fn)
    g_names, g_unpacked, g_grad = _record(gk, fn)
    assert (g_names, g_unpacked) == (t_names, t_unpacked)
    np.testing.assert_allclose(g_grad, t_grad, rtol=1e-6)


def test_hooks_that_save_to_a_store_give_the_same_gradients():
    # the "Autograd mechanics" pattern: keep saved tensors elsewhere (a dict standing in for
    # disk) and give the graph only a key
    store = {}

    def pack(t):
        key = f"t{len(store)}"
        store[key] = t.detach().numpy().copy()
        return key

    def unpack(key):
        return gk.tensor(store[key])

    x = gk.tensor([0.5, 1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(pack, unpack):
        y = (x.sin() * x.exp()).sum()
    # the node keeps only the key: the original values are not referenced by it
    assert all(isinstance(k, str) for k in store)
    y.backward()
    xv = np.array([0.5, 1.0, 2.0])
    expected = np.cos(xv) * np.exp(xv) + np.sin(xv) * np.exp(xv)      # analytic derivative
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_unpack_is_what_backward_uses():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: t * 10):
        y = x ** 2                                   # saves x; d/dx = 2 * x
    # as in PyTorch, _saved_self goes through the unpack hook too
    assert y.grad_fn._saved_self.tolist() == [10.0, 20.0]
    y.sum().backward()
    assert x.grad.tolist() == [20.0, 40.0]          # 2 * (10 * x)


def test_hooks_and_retain_graph_unpack_on_every_backward():
    calls = []
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: calls.append(1) or t):
        y = x.exp()
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    assert len(calls) == 2
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        _ = y.grad_fn._saved_result


def test_hooks_are_not_version_checked_as_in_pytorch():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    with saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        b = a.sin()
    a.mul_(2)
    b.sum().backward()                     # the packed copy is what backward uses
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 2.0]), rtol=1e-6)


def test_hook_errors_are_pytorchs():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="A saved tensor pack hook is modifying its input in "
                                           "place"):
        with saved_tensors_hooks(lambda t: t.mul_(2), lambda t: t):
            (x * 1).sin()
    with saved_tensors_hooks(lambda t: t, lambda t: 3):
        b = (x * 1).sin()
    with pytest.raises(TypeError, match="Output of saved tensor unpack_hook expected to be a "
                                        "Tensor but got result of type int"):
        b.sum().backward()
    with pytest.raises(RuntimeError, match="^no hooks here$"):
        with disable_saved_tensors_hooks("no hooks here"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with pytest.raises(RuntimeError, match="^no hooks here$"):
        with saved_tensors_hooks(lambda t: t, lambda t: t):
            with disable_saved_tensors_hooks("no hooks here"):
                (x * 1).sin()
    # after the blocks, hooks work again and nothing is left active
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        (x * 1).sin().sum().backward()
    y = (x * 1).sin()
    assert not type(y.grad_fn).__dict__.get("_packed_variant", False)


def test_save_on_cpu_gives_the_same_gradients():
    x = gk.tensor([0.5, 1.5], requires_grad=True)
    with save_on_cpu(pin_memory=False):
        y = (x.tanh() * x).sum()
    y.backward()
    xv = np.array([0.5, 1.5])
    expected = (1 - np.tanh(xv) ** 2) * xv + np.tanh(xv)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_raw_saved_tensor_register_hooks():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = gk.tensor([3.0, 4.0], requires_grad=True)
    z = x * y
    log = []
    z.grad_fn._raw_saved_self.register_hooks(lambda t: log.append("pack") or 7,
                                             lambda v: log.append(("unpack", v)) or x * 10)
    assert log == ["pack"]                                 # packed at once
    assert z.grad_fn._saved_self.tolist() == [10.0, 20.0]  # unpacked on access
    z.sum().backward()
    assert log == ["pack", ("unpack", 7), ("unpack", 7)]
    assert y.grad.tolist() == [10.0, 20.0] and x.grad.tolist() == [3.0, 4.0]
    # PyTorch's refusals
    z = x * y
    z.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
    with pytest.raises(RuntimeError, match="whose hooks have already been set"):
        z.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
    with pytest.raises(RuntimeError, match="with value None is forbidden"):
        (x * gk.tensor([1.0, 1.0])).grad_fn._raw_saved_self.register_hooks(lambda t: t,
                                                                            lambda t: t)
    z = x * y
    raw = z.grad_fn._raw_saved_self
    z.sum().backward()
    with pytest.raises(RuntimeError, match="Calling register_hooks on a saved tensor after it "
                                           "has been freed"):
        raw.register_hooks(lambda t: t, lambda t: t)
    with pytest.raises(TypeError):
        (x * y).grad_fn._raw_saved_self.register_hooks(1, 2)
    with saved_tensors_hooks(lambda t: 5, lambda t: x):
        z = x * y
    with pytest.raises(RuntimeError, match="whose hooks have already been set"):
        z.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)


def test_hooks_are_per_thread():
    import threading
    seen = []
    x = gk.tensor([1.0, 2.0], requires_grad=True)

    def other():
        seen.append(type((x * 1).sin().grad_fn).__dict__.get("_packed_variant", False))

    with saved_tensors_hooks(lambda t: t, lambda t: t):
        th = threading.Thread(target=other)
        th.start()
        th.join()
        mine = type((x * 1).sin().grad_fn).__dict__.get("_packed_variant", False)
    assert seen == [False] and mine is True


# --- forward_ad.make_dual dtypes ----------------------------------------------------------
def test_make_dual_keeps_a_tangent_of_another_floating_dtype():
    fwAD = gk.autograd.forward_ad
    # recorded from PyTorch 2.13: the tangent keeps its dtype; a non-floating one is refused
    with fwAD.dual_level():
        d = fwAD.make_dual(gk.tensor([1.0, 2.0]), gk.tensor([1.0, 0.5], dtype=gk.float64))
        u = fwAD.unpack_dual(d)
        assert u._fields == ("primal", "tangent")
        assert u.primal.dtype == gk.float32 and u.tangent.dtype == gk.float64
        assert u.tangent.tolist() == [1.0, 0.5]
        t = fwAD.unpack_dual(d.sin()).tangent
        np.testing.assert_allclose(t.numpy(), np.cos([1.0, 2.0]) * [1.0, 0.5], rtol=1e-6)
        with pytest.raises(ValueError, match="^Expected tangent to be floating point or complex, "
                                             "but got: torch.int64$"):
            fwAD.make_dual(gk.ones(2), gk.tensor([1, 2]))
    p, t = fwAD.unpack_dual(gk.ones(2))
    assert t is None
