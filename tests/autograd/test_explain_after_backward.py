"""``autograd.explain`` after ``backward()`` freed the graph gives the answer it gave before.

Each broken program is explained before ``backward()`` and again after a plain backward
(``retain_graph=False``): the cause, the op and the source line must be the same, and the
cause must be the expected one. The values the explanation needs are recomputed from the
leaves; nothing big is kept alive for it (the memory tests at the end).
"""

from __future__ import annotations

import gc
import inspect
import warnings
import weakref

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import explain

# NumPy's own warnings of the broken forwards (sqrt(-1), log(0)) are not what is tested here
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")


def _line(fn, marker: str) -> str:
    """``test_explain_after_backward.py:N`` of the line of ``fn`` carrying ``# <- marker``."""
    src, start = inspect.getsourcelines(fn)
    for i, text in enumerate(src):
        if f"# <- {marker}" in text:
            return f"test_explain_after_backward.py:{start + i}"
    raise AssertionError(marker)


# --- the cases: each returns (loss, input, expected cause, expected op, builder) -------------
def where_branch():
    x = gk.tensor([4.0, -1.0], requires_grad=True)
    y = gk.where(x > 0, gk.sqrt(x), 0 * x)  # <- here
    return y.sum(), x, "where_branch", "sqrt"


def dead_relu():
    x = gk.tensor([-4.0, -1.0], requires_grad=True)
    y = gk.relu(x * 2 - 1)  # <- here
    return y.sum(), x, "zero", "relu"


def clamp_passes_nothing():
    x = gk.tensor([4.0, 5.0], requires_grad=True)
    y = gk.clamp(x * 3, max=1.0)  # <- here
    return y.sum(), x, "zero", "clamp_scalar"


def detached():
    x = gk.tensor([4.0, 5.0], requires_grad=True)
    w = gk.tensor([1.0, 1.0], requires_grad=True)
    d = x.detach()  # <- here
    return (d * w).sum(), x, "detach", "detach"


def integer_cast():
    x = gk.tensor([1.5, 2.5], requires_grad=True)
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    n = x.long()  # <- here
    return (n.float() * w).sum(), x, "cast", None


def disconnected():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    return (w * 2).sum(), x, "unused", None


def inf_times_zero():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = gk.exp(x * 1000)  # <- here
    return (y * 0).sum(), x, "nan", "exp"


def log_of_zero():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = gk.log(x - 1)  # <- here
    return y.sum(), x, "inf", "log"


def piecewise():
    x = gk.tensor([0.3, 1.7], requires_grad=True)
    y = gk.floor(x * 2)  # <- here
    return y.sum(), x, "piecewise_constant", "floor"


def replaced_in_place():
    x = gk.tensor([0.3, 1.7], requires_grad=True)
    h = x * 2
    h.fill_(1.0)  # <- here
    return (h * 3).sum(), x, "replaced_in_place", "fill_"


def healthy():
    x = gk.tensor([0.3, 1.7], requires_grad=True)
    return (x * x + gk.sin(x)).sum(), x, "ok", None


def matmul_with_scoped_data():
    x = gk.tensor([[1.0, 2.0]], requires_grad=True)
    w = gk.ones(2, 3)                        # a constant that only the graph refers to
    y = gk.relu(x @ w - 100)  # <- here
    return y.sum(), x, "zero", "relu"


def in_place_on_intermediate():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.add_(1)
    y = gk.log(h - 3)  # <- here
    return y.sum(), x, "inf", "log"


def filled_element_by_element():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = gk.zeros(2)
    y[0] = x[0] ** 2
    y[1] = gk.log(x[1] - 2)  # <- here
    return y.sum(), x, "inf", "log"


def multi_output_op():
    x = gk.tensor([[1.0, -2.0], [3.0, -4.0]], requires_grad=True)
    v, _ = x.max(dim=1)
    y = gk.sqrt(v - 3)  # <- here
    return y.sum(), x, "nan", "sqrt"


def split_views():
    x = gk.tensor([1.0, -2.0, 3.0, -4.0], requires_grad=True)
    _, b = x.split(2)
    y = gk.sqrt(b)  # <- here
    return y.sum(), x, "nan", "sqrt"


def int_conversion_mask_in_float():
    x = gk.tensor([1.5, -2.5], requires_grad=True)
    y = x * (x > 5).float()  # <- here
    return y.sum(), x, "zero", "mul"


class _Square(gk.autograd.Function):
    @staticmethod
    def forward(ctx, a, k):
        ctx.save_for_backward(a)
        ctx.k = k
        return a * a * k

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * 2 * a * ctx.k, None


def custom_function():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = gk.sqrt(x - 1)  # <- here
    return _Square.apply(y, 3.0).sum(), x, "nan", "sqrt"


CASES = [where_branch, dead_relu, clamp_passes_nothing, detached, integer_cast, disconnected,
         inf_times_zero, log_of_zero, piecewise, replaced_in_place, healthy,
         matmul_with_scoped_data, in_place_on_intermediate, filled_element_by_element,
         multi_output_op, split_views, int_conversion_mask_in_float, custom_function]


def _same(a, b) -> None:
    assert (a.cause, a.op, a.location, a.path) == (b.cause, b.op, b.location, b.path)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_same_cause_before_and_after_backward(case) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        loss, x, cause, op = case()
    before = explain(loss, x)
    assert before.cause == cause, before.message
    if op is not None:
        assert before.op == op
    src = inspect.getsource(case)
    if "# <- here" in src and cause not in ("ok", "unused"):
        assert before.location == _line(case, "here"), before.message
    if loss.requires_grad:
        loss.backward()
    after = explain(loss, x)
    _same(before, after)
    assert after.message == before.message
    again = explain(loss, x)                 # explaining twice changes nothing
    _same(after, again)


def test_where_branch_after_backward_names_both_lines_and_leaves_grad_alone() -> None:
    x = gk.tensor([4.0, -1.0], requires_grad=True)
    r = gk.sqrt(x)  # <- sqrt
    y = gk.where(x > 0, r, 0 * x)  # <- where
    del r
    loss = y.sum()
    loss.backward()
    g = x.grad.numpy().copy()
    assert np.isnan(g[1])
    e = explain(y.sum(), x)                   # a new sum over the freed graph
    assert e.cause == "where_branch" and e.op == "sqrt"
    assert e.location == _line(test_where_branch_after_backward_names_both_lines_and_leaves_grad_alone,
                               "sqrt")
    assert _line(test_where_branch_after_backward_names_both_lines_and_leaves_grad_alone,
                 "where") in e.message
    np.testing.assert_array_equal(x.grad.numpy(), g)   # explain accumulates nothing
    assert x.grad_explain().cause == "where_branch"


def test_retain_graph_then_free() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    loss = gk.log(x - 1).sum()
    before = explain(loss, x)
    loss.backward(retain_graph=True)
    _same(before, explain(loss, x))
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [np.inf, 2.0])
    # .grad now holds two backward passes: the replay cannot be checked against it
    assert explain(loss, x).cause == "unverified"
    x.grad = None
    _same(before, explain(loss, x))


def test_leaf_changed_through_data_is_not_explained_silently() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    loss = gk.sqrt(x - 1).sum()
    assert explain(loss, x).cause == "inf"
    loss.backward()
    x.data = gk.tensor([5.0, 6.0])             # no version bump, as in PyTorch
    e = explain(loss, x)
    assert e.cause == "unverified" and "x.data" in e.message
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    loss = gk.log(w).sum()
    loss.backward()
    w.data.mul_(0)                            # through .data: log(0) would now give inf
    assert explain(loss, w).cause == "unverified"


def test_non_scalar_output() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = gk.sqrt(x - 1)
    before = explain(y, x)
    assert before.cause == "inf"
    y.backward(gk.ones(2))
    _same(before, explain(y, x))


def test_output_without_grad_fn() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    assert explain(x, x).cause == "ok"
    c = gk.tensor([1.0])
    assert explain(c, x).cause == "not_requires_grad"
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    assert explain(w, x).cause == "unused"


def test_leaf_modified_in_place_after_backward_is_reported() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    loss = gk.sqrt(x - 1).sum()
    assert explain(loss, x).cause == "inf"
    loss.backward()
    with gk.no_grad():
        x.sub_(0.5)  # <- here
    e = explain(loss, x)
    assert e.cause == "modified", e.message
    assert "`sub_`" in e.message
    assert _line(test_leaf_modified_in_place_after_backward_is_reported, "here") in e.message


def test_leaf_modified_after_backward_through_a_saving_op_is_reported() -> None:
    x = gk.tensor([1.0, -2.0], requires_grad=True)
    loss = gk.relu(x * x - 10).sum()
    assert explain(loss, x).cause == "zero"
    loss.backward()
    with gk.no_grad():
        x.mul_(10)                            # with these values the relu would be alive
    assert explain(loss, x).cause == "modified"


def test_optimizer_step_then_explain_is_reported_not_recomputed() -> None:
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    b = gk.tensor([0.5], requires_grad=True)
    loss = gk.relu(w + b).sum()               # `w` and `b` are read only by `add` (saves nothing)
    assert explain(loss, b).cause == "ok"
    loss.backward()
    gk.optim.SGD([w, b], lr=100.0).step()     # now w + b < 0: a replay would find a dead relu
    e = explain(loss, b)
    assert e.cause == "modified" and "differs from `b`.grad" in e.message


def test_constant_modified_in_place_is_reported() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    c = gk.tensor([1.0, 1.0])
    loss = gk.log(x - c).sum()
    assert explain(loss, x).cause == "inf"
    loss.backward()
    c.add_(5)
    assert explain(loss, x).cause == "modified"


def test_under_detect_anomaly() -> None:
    x = gk.tensor([4.0, -1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        loss = gk.where(x > 0, gk.sqrt(x), 0 * x).sum()
    with gk.autograd.detect_anomaly():
        assert explain(loss, x).cause == "where_branch"        # no "returned nan values" error
        with pytest.raises(RuntimeError, match="returned nan values"):
            loss.backward()
        assert explain(loss, x).cause == "where_branch"
        assert gk.autograd.grad_mode.is_anomaly_enabled()


def test_mask_inside_a_function_is_recomputed() -> None:
    def f(x):
        mask = x > 0
        return gk.where(mask, gk.sqrt(x), gk.zeros_like(x)).sum()

    x = gk.tensor([4.0, -1.0, 9.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        loss = f(x)
    loss.backward()
    assert explain(loss, x).cause == "where_branch"


# --- memory ---------------------------------------------------------------------------------
def test_big_intermediates_are_still_freed_by_backward() -> None:
    x = gk.tensor(np.linspace(0.5, 2.0, 200_000), requires_grad=True)
    h = x * 3
    ref = weakref.ref(h)
    loss = gk.log(h).sum()
    del h
    gc.collect()
    assert ref() is not None                  # saved for log's backward
    loss.backward()
    gc.collect()
    assert ref() is None                      # the graph (still alive) no longer holds it
    assert explain(loss, x).cause == "ok"     # recomputed from x


def test_big_constants_are_not_kept_alive() -> None:
    x = gk.tensor([[1.0, 2.0]], requires_grad=True)
    w = gk.tensor(np.ones((2, 5000), np.float32))
    ref = weakref.ref(w)
    loss = gk.relu(x @ w - 100).sum()
    del w
    assert explain(loss, x).cause == "zero"
    loss.backward()
    gc.collect()
    assert ref() is None
    e = explain(loss, x)                       # the constant is gone: said so, not guessed
    assert e.cause == "freed" and "garbage-collected" in e.message and "matmul" in e.message


def test_big_constant_still_referenced_is_used() -> None:
    x = gk.tensor([[1.0, 2.0]], requires_grad=True)
    w = gk.tensor(np.ones((2, 5000), np.float32))
    loss = gk.relu(x @ w - 100).sum()
    loss.backward()
    assert explain(loss, x).cause == "zero"


def test_module_parameters_initialised_in_place_are_replayed() -> None:
    gk.manual_seed(0)
    m = gk.nn.Sequential(gk.nn.Linear(3, 4), gk.nn.ReLU(), gk.nn.Linear(4, 1))
    x = gk.randn(5, 3)
    loss = ((m(x) - gk.ones(5, 1)) ** 2).mean()
    params = list(m.parameters())
    assert all(p._version > 0 for p in params)      # their init ran in place
    before = [explain(loss, p) for p in params]
    assert [e.cause for e in before] == ["ok"] * 4
    loss.backward()
    for p, b in zip(params, before):
        _same(b, explain(loss, p))
    gk.optim.SGD(m.parameters(), lr=0.1).step()
    assert [explain(loss, p).cause for p in params] == ["modified"] * 4


def test_small_intermediate_behind_a_mask_is_freed_and_recomputed() -> None:
    x = gk.tensor([4.0, -1.0, 9.0], requires_grad=True)
    h = x * 3
    ref = weakref.ref(h)
    loss = gk.where(h > 0, gk.sqrt(h), 0 * h).sum()
    del h
    loss.backward()
    gc.collect()
    assert ref() is None                      # neither the node nor the mask's recipe keeps it
    assert explain(loss, x).cause == "where_branch"


def test_safe_where_after_backward() -> None:
    x = gk.tensor([4.0, -1.0], requires_grad=True)
    loss = gk.where(x > 0, gk.sqrt(x), 0 * x, safe=True).sum()
    assert explain(loss, x).cause == "ok"
    loss.backward()
    assert explain(loss, x).cause == "ok"
    np.testing.assert_allclose(x.grad.numpy(), [0.25, 0.0])


def test_tape_explain_after_gradient() -> None:
    from gradkit.tape import GradientTape, Variable
    v = Variable([4.0, 0.0])
    with GradientTape() as tape:
        y = gk.sqrt(v).sum()
    before = tape.explain(y, v)
    assert before.cause == "inf"
    g = tape.gradient(y, v)                   # a non-persistent tape frees the graph
    assert np.isinf(g.numpy()[1])
    _same(before, tape.explain(y, v))


def test_modified_leaf_without_recorded_version_and_no_grad_to_check() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    loss = gk.sqrt(x - 1).sum()                # `x` is read only by `sub`, which saves nothing
    loss.backward()
    with gk.no_grad():
        x.sub_(0.5)
    x.grad = None
    e = explain(loss, x)
    assert e.cause == "modified" and "did not record its version" in e.message


def test_big_mask_is_recomputed_from_its_recipe() -> None:
    x = gk.tensor(np.linspace(-1.0, 1.0, 3000), requires_grad=True)
    h = x * 2
    m = h > 0
    ref = weakref.ref(m)
    loss = gk.where(m, gk.sqrt(h), 0 * h).sum()
    del m, h
    loss.backward()
    gc.collect()
    assert ref() is None                       # a big constant is only held weakly
    assert explain(loss, x).cause == "where_branch"


# --- PyTorch agrees with the gradient being explained (optional: needs torch) ----------------
_TORCH_CASES = {
    "where_branch": (lambda m, x: m.where(x > 0, m.sqrt(x), 0 * x), [4.0, -1.0], "nan"),
    "dead_relu": (lambda m, x: m.relu(x * 2 - 1), [-4.0, -1.0], "zero"),
    "log_of_zero": (lambda m, x: m.log(x - 1), [1.0, 2.0], "inf"),
    "inf_times_zero": (lambda m, x: m.exp(x * 1000) * 0, [1.0, 2.0], "nan"),
    "floor": (lambda m, x: m.floor(x * 2), [0.3, 1.7], "zero"),
}


@pytest.mark.parametrize("name", sorted(_TORCH_CASES))
def test_torch_gets_the_gradient_that_is_explained(name: str) -> None:
    torch = pytest.importorskip("torch")
    f, values, kind = _TORCH_CASES[name]
    xt = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    f(torch, xt).sum().backward()
    x = gk.tensor(values, dtype=gk.float64, requires_grad=True)
    loss = f(gk, x).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    g = xt.grad.numpy()
    if kind == "nan":
        assert np.isnan(g).any()
    elif kind == "inf":
        assert np.isinf(g).any() and not np.isnan(g).any()
    else:
        assert not g.any()
    cause = explain(loss, x).cause               # after backward
    assert cause in {"nan": ("nan", "where_branch"), "inf": ("inf",),
                     "zero": ("zero", "piecewise_constant")}[kind]


def test_a_mask_does_not_keep_a_branch_outside_the_graph_alive() -> None:
    x = gk.tensor(np.linspace(0.5, 2.0, 50_000), requires_grad=True)
    h = gk.exp(x)                             # exp saves its output: a big intermediate
    ref = weakref.ref(h)
    m = (h * 2) > 3                           # a mask made from a branch that the loss skips
    loss = gk.where(m[:10], x[:10], 0 * x[:10]).sum()
    del h
    gc.collect()
    assert ref() is None
    loss.backward()
    assert explain(loss, x).cause == "ok"


def test_intermediate_input() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    loss = gk.relu(h - 10).sum()
    before = explain(loss, h)
    assert before.cause == "zero" and before.op == "relu"
    loss.backward()
    _same(before, explain(loss, h))
    with gk.no_grad():
        x.mul_(10)                                # `mul` saved x: its version says so
    assert explain(loss, h).cause == "modified"


# --- every primitive: the replay reproduces its forward and the real gradient --------------
def _grad_specs():
    from op_specs import OP_SPECS
    return [s for s in OP_SPECS if s.grad and not s.refused]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("spec", _grad_specs(), ids=str)
def test_every_primitive_replays_after_backward(spec, dtype) -> None:
    """Each row of the table, used inside ``(out * out).sum()`` (mul saves ``out``, so the
    replay must recompute it): the replayed output equals the forward's bit for bit, and the
    explanation after backward equals the one before (which also checks that the replayed
    gradient equals the ``.grad`` that backward accumulated, else the cause would be
    'unverified')."""
    from gradkit.autograd._explain import _Replay, _walk
    arrays = spec.sample(np.random.default_rng(0), dtype)
    xs = [gk.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    outs = spec.fn(*xs, *spec.args)
    outs = [o for o in (outs if isinstance(outs, (tuple, list)) else (outs,))
            if o.is_floating_point() and o.requires_grad]
    assert outs, f"{spec} is differentiable but gives no output that requires grad"
    loss = sum((o * o).sum() for o in outs)
    values = [o.detach().numpy().copy() for o in outs]
    leaves = [x for x in xs if x.requires_grad]
    before = [explain(loss, x) for x in leaves]
    loss.backward()
    order, _ = _walk(loss.grad_fn)
    replay = _Replay(order)
    for o, v in zip(outs, values):
        np.testing.assert_array_equal(replay.outputs(o.grad_fn)[o._oi], v)
    for x, b in zip(leaves, before):
        after = explain(loss, x)
        assert (after.cause, after.op, after.location) == (b.cause, b.op, b.location), \
            after.message


def test_mixed_dtypes_are_promoted_in_the_replay_as_in_the_forward() -> None:
    x = gk.tensor([1.0, 2.0], dtype=gk.float32, requires_grad=True)
    c = gk.tensor([1.0, 0.5], dtype=gk.float64)
    i = gk.tensor([1, 2])
    y = gk.log(x * c - 1) + (x * i).sum()  # <- here
    loss = y.sum()
    before = explain(loss, x)
    assert before.cause == "inf" and before.op == "log"
    loss.backward()
    _same(before, explain(loss, x))
