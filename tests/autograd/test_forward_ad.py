"""Forward-mode AD (``gradkit.autograd.forward_ad``): every primitive's JVP, and the dual-tensor API.

For every differentiable spec in ``tests/support/op_specs.py``, the tangent from one forward
pass with a random tangent equals the directional derivative from reverse mode
(``<u, J v> = <J^T u, v>`` for a random ``u``) and central differences.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import gradkit as gk
import gradkit.autograd.forward_ad as fwAD
from gradkit.ops import REGISTRY
from gradkit.ops import _registry

from op_specs import OP_SPECS, OpSpec

GRAD_SPECS = [s for s in OP_SPECS if s.grad and not s.refused]


def _tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _float_outs(spec: OpSpec, tensors: list[gk.Tensor]) -> list[gk.Tensor]:
    return [o for o in _tuple(spec.fn(*tensors, *spec.args)) if o.is_floating_point()]


def _jvp(spec: OpSpec, arrays: list[np.ndarray], vs: list[np.ndarray | None]) -> list[np.ndarray]:
    with fwAD.dual_level():
        ins = [fwAD.make_dual(gk.tensor(a), gk.tensor(v)) if v is not None else gk.tensor(a)
               for a, v in zip(arrays, vs)]
        outs = _float_outs(spec, ins)
        tans = [fwAD.unpack_dual(o).tangent for o in outs]
    return [np.zeros(o.shape) if t is None else t.numpy() for o, t in zip(outs, tans)]


def _central(spec: OpSpec, arrays: list[np.ndarray], vs: list[np.ndarray | None],
             h: float = 1e-6) -> list[np.ndarray]:
    def at(s: float) -> list[np.ndarray]:
        ins = [gk.tensor(a + s * v if v is not None else a) for a, v in zip(arrays, vs)]
        return [o.numpy() for o in _float_outs(spec, ins)]
    return [(p - m) / (2 * h) for p, m in zip(at(h), at(-h))]


@pytest.mark.parametrize("spec", GRAD_SPECS, ids=str)
def test_jvp_matches_reverse_mode_and_finite_differences(spec: OpSpec) -> None:
    rng = np.random.default_rng(1)
    arrays = spec.sample(np.random.default_rng(0))
    vs = [rng.standard_normal(a.shape) if a.dtype.kind == "f" else None for a in arrays]
    fwd = _jvp(spec, arrays, vs)
    # reverse mode: <u, J v> = sum_i <(J^T u)_i, v_i>
    ins = [gk.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    outs = _float_outs(spec, ins)
    us = [rng.standard_normal(o.shape) for o in outs]
    diff = [t for t in ins if t.requires_grad]
    grads = gk.autograd.grad(outs, diff, grad_outputs=[gk.tensor(u) for u in us], allow_unused=True)
    rev = sum(float(np.sum(g.numpy() * v)) for g, v in
              zip(grads, [v for v in vs if v is not None]) if g is not None)
    assert len(fwd) == len(outs)
    for f, o in zip(fwd, outs):
        assert f.shape == tuple(o.shape), str(spec)
    got = sum(float(np.sum(u * f)) for u, f in zip(us, fwd))
    np.testing.assert_allclose(got, rev, rtol=1e-9, atol=1e-9, err_msg=str(spec))
    with np.errstate(invalid="ignore"):
        central = _central(spec, arrays, vs)
    for f, c in zip(fwd, central):
        finite = np.isfinite(c)             # logsumexp of nothing is -inf: differences give nan
        np.testing.assert_allclose(f[finite], c[finite], rtol=1e-5, atol=1e-5, err_msg=str(spec))


def test_rows_with_a_wrong_linear_marker_are_fixed() -> None:
    from gradkit.ops import LINEAR
    for name in ("prod", "amax", "amin", "max_dim", "min_dim", "median_dim", "logsumexp", "var",
                 "std", "norm", "cumprod", "frac"):
        assert REGISTRY[name].jvp is not LINEAR, name


def test_fallback_rows_are_listed() -> None:
    rows = fwAD.fallback_rows()
    assert "matmul" not in rows and "solve" in rows and "exp" not in rows
    assert all(REGISTRY[r].jvp is None for r in rows)


# --- levels -----------------------------------------------------------------------------------
def test_flag_is_on_only_inside_a_level() -> None:
    assert not _registry._fw_on
    with fwAD.dual_level() as lvl:
        assert _registry._fw_on and lvl == 0
    assert not _registry._fw_on


def test_tangents_are_dropped_on_exit() -> None:
    x = gk.tensor([1.0, 2.0])
    with fwAD.dual_level():
        d = fwAD.make_dual(x, gk.ones(2))
        y = d * 3.0
        assert fwAD.unpack_dual(y).tangent is not None
    assert not y._fw and not d._fw
    with fwAD.dual_level():
        assert fwAD.unpack_dual(y).tangent is None


def test_enter_and_exit_by_hand() -> None:
    lvl = fwAD.enter_dual_level()
    try:
        d = fwAD.make_dual(gk.tensor(2.0), gk.tensor(1.0), level=lvl)
        np.testing.assert_allclose(fwAD.unpack_dual(d ** 3, level=lvl).tangent.item(), 12.0)
    finally:
        fwAD.exit_dual_level(level=lvl)
    with pytest.raises(RuntimeError, match="no level is currently active"):
        fwAD.exit_dual_level()


def test_exit_must_be_the_innermost_level() -> None:
    with fwAD.dual_level() as outer:
        with fwAD.dual_level():
            with pytest.raises(RuntimeError, match="not the last one"):
                fwAD.exit_dual_level(level=outer)


def test_make_dual_errors() -> None:
    with pytest.raises(RuntimeError, match="no level exists"):
        fwAD.make_dual(gk.ones(3), gk.ones(3))
    with fwAD.dual_level():
        with pytest.raises(RuntimeError) as exc:
            fwAD.make_dual(gk.ones(3), gk.ones(2))
        assert str(exc.value) == (
            "Trying to set a forward gradient that has a different size than that of the original "
            "Tensor, this is not supported. Tensor is of size [3] while the given forward gradient "
            "is of size [2].")
        # PyTorch 2.13 keeps a tangent of another floating dtype (see test_graph_introspection)
        with pytest.raises(ValueError, match="Expected tangent to be floating point or complex"):
            fwAD.make_dual(gk.ones(3), gk.tensor([1, 2, 3]))
        with pytest.raises(ValueError, match="floating point"):
            fwAD.make_dual(gk.tensor([1, 2]), gk.tensor([1, 2]))
        with pytest.raises(ValueError, match="^Expected tangent to be floating point or complex, "
                                             "but got: torch.int64$"):
            fwAD.make_dual(gk.ones(3), gk.tensor([1, 2, 3]))


def test_make_dual_keeps_a_tangent_of_another_float_dtype() -> None:
    # PyTorch 2.13 (the forward-AD tutorial pairs a float64 primal with a float32 tangent):
    # the tangent is stored as is and the arithmetic promotes; d/dx sum(2 exp(x)) . t with
    # x = [0, 1], t = [1, 0.5] is 2 + e = 4.718281828...
    with fwAD.dual_level():
        tan = gk.tensor([1.0, 0.5], dtype=gk.float32)
        d = fwAD.make_dual(gk.tensor([0.0, 1.0], dtype=gk.float64), tan)
        assert fwAD.unpack_dual(d).tangent is tan
        out = fwAD.unpack_dual((d.exp() * 2).sum()).tangent
    assert out.dtype == gk.float64
    assert abs(out.item() - (2 + math.e)) < 1e-6


def test_unpack_dual_is_a_namedtuple_and_works_outside_levels() -> None:
    x = gk.tensor([1.0])
    p, t = fwAD.unpack_dual(x)
    assert p is x and t is None
    with fwAD.dual_level():
        tan = gk.tensor([2.0])
        d = fwAD.make_dual(x, tan)
        u = fwAD.unpack_dual(d)
        assert u.tangent is tan and u.primal.tolist() == [1.0]
        assert fwAD.unpack_dual(u.primal).tangent is None


def test_nested_levels_give_second_derivatives() -> None:
    x0 = gk.tensor(0.7)
    with fwAD.dual_level() as outer:
        x1 = fwAD.make_dual(x0, gk.tensor(1.0), level=outer)
        with fwAD.dual_level() as inner:
            x2 = fwAD.make_dual(x1, gk.tensor(1.0), level=inner)
            y = gk.sin(x2) * x2
            dy = fwAD.unpack_dual(y, level=inner).tangent
        d2y = fwAD.unpack_dual(dy, level=outer).tangent
        first = fwAD.unpack_dual(gk.sin(x1) * x1, level=outer).tangent
    x = 0.7
    np.testing.assert_allclose(dy.item(), np.cos(x) * x + np.sin(x))
    np.testing.assert_allclose(d2y.item(), 2 * np.cos(x) - x * np.sin(x))
    np.testing.assert_allclose(first.item(), np.cos(x) * x + np.sin(x))


# --- composition with reverse mode ------------------------------------------------------------
def test_hessian_vector_product_forward_over_reverse() -> None:
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = gk.tensor([0.3, -0.4], requires_grad=True)
    v = np.array([1.0, 2.0])
    with fwAD.dual_level():
        xd = fwAD.make_dual(x, gk.tensor(v, dtype=gk.float32))
        loss = (xd @ gk.tensor(a, dtype=gk.float32) @ xd) / 2 + gk.exp(xd).sum()
        (g,) = gk.autograd.grad(loss, xd, create_graph=True)
        hv = fwAD.unpack_dual(g).tangent
    h = a + np.diag(np.exp(x.detach().numpy()))
    np.testing.assert_allclose(hv.detach().numpy(), h @ v, rtol=1e-5)


def test_reverse_over_forward() -> None:
    x = gk.tensor([0.5, 1.5], requires_grad=True)
    t = gk.tensor([1.0, -1.0], requires_grad=True)
    with fwAD.dual_level():
        y = gk.tanh(fwAD.make_dual(x, t)).sum()
        jv = fwAD.unpack_dual(y).tangent
    gx, gt = gk.autograd.grad(jv, (x, t))
    xs = x.detach().numpy()
    sech2 = 1 - np.tanh(xs) ** 2
    np.testing.assert_allclose(gt.numpy(), sech2)
    np.testing.assert_allclose(gx.numpy(), -2 * np.tanh(xs) * sech2 * np.array([1.0, -1.0]))


def test_primal_keeps_gradient_flow() -> None:
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, gk.ones(2))
        p = fwAD.unpack_dual(d * d).primal
    p.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_no_grad_does_not_stop_forward_mode() -> None:
    with fwAD.dual_level(), gk.no_grad():
        d = fwAD.make_dual(gk.tensor([1.0, 2.0]), gk.tensor([1.0, 1.0]))
        t = fwAD.unpack_dual(d @ gk.tensor([3.0, 4.0])).tangent
    assert t.item() == 7.0 and not t.requires_grad


# --- in-place operations ----------------------------------------------------------------------
def test_inplace_ops_update_tangents() -> None:
    with fwAD.dual_level():
        d = fwAD.make_dual(gk.tensor([1.0, 2.0]), gk.tensor([1.0, 1.0]))
        d.mul_(d)                              # d**2: tangent 2 d t
        assert fwAD.unpack_dual(d).tangent.tolist() == [2.0, 4.0]
        d += 1.0
        assert fwAD.unpack_dual(d).tangent.tolist() == [2.0, 4.0]
        d.exp_()
        np.testing.assert_allclose(fwAD.unpack_dual(d).tangent.numpy(), np.exp([2.0, 5.0]) * [2, 4])
        d.zero_()
        assert fwAD.unpack_dual(d).tangent.tolist() == [0.0, 0.0]


def test_setitem_and_copy_update_tangents() -> None:
    with fwAD.dual_level():
        y = gk.zeros(3)
        v = fwAD.make_dual(gk.tensor(5.0), gk.tensor(2.0))
        y[1] = v
        assert fwAD.unpack_dual(y).tangent.tolist() == [0.0, 2.0, 0.0]
        z = gk.zeros(3)
        z.copy_(fwAD.make_dual(gk.ones(3), gk.tensor([1.0, 2.0, 3.0])))
        assert fwAD.unpack_dual(z).tangent.tolist() == [1.0, 2.0, 3.0]


def test_inplace_through_a_view_updates_the_base_tangent() -> None:
    with fwAD.dual_level():
        base = fwAD.make_dual(gk.tensor([1.0, 2.0, 3.0]), gk.tensor([1.0, 1.0, 1.0]))
        view = base[1:]
        view.mul_(2.0)
        assert base.tolist() == [1.0, 4.0, 6.0]
        assert fwAD.unpack_dual(base).tangent.tolist() == [1.0, 2.0, 2.0]


# --- custom Functions -------------------------------------------------------------------------
class _Cube(gk.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: gk.Tensor) -> gk.Tensor:
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx: Any, g: gk.Tensor) -> gk.Tensor:
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * g

    @staticmethod
    def jvp(ctx: Any, t: gk.Tensor) -> gk.Tensor:
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * t


class _NoJvp(gk.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: gk.Tensor) -> gk.Tensor:
        return x ** 3

    @staticmethod
    def backward(ctx: Any, g: gk.Tensor) -> gk.Tensor:
        raise AssertionError("not reached")


def test_custom_function_jvp() -> None:
    with fwAD.dual_level():
        d = fwAD.make_dual(gk.tensor([1.0, 2.0]), gk.tensor([1.0, 0.5]))
        t = fwAD.unpack_dual(_Cube.apply(d)).tangent
    assert t.tolist() == [3.0, 6.0]


def test_custom_function_without_jvp_is_a_clear_error() -> None:
    with fwAD.dual_level():
        d = fwAD.make_dual(gk.tensor([1.0]), gk.tensor([1.0]))
        with pytest.raises(RuntimeError, match="implement the jvp function"):
            _NoJvp.apply(d)
        assert _NoJvp.apply(gk.tensor([2.0])).item() == 8.0     # no dual input: fine


def test_numpy_code_differentiates_forward() -> None:
    with fwAD.dual_level():
        d = fwAD.make_dual(gk.tensor([0.0, 1.0]), gk.tensor([1.0, 1.0]))
        t = fwAD.unpack_dual(np.sum(np.sin(d) * 2.0)).tangent
    np.testing.assert_allclose(t.item(), 2 * (np.cos(0.0) + np.cos(1.0)))


@pytest.mark.parametrize("name", ["exp_", "sin_", "tanh_", "sigmoid_", "log_", "reciprocal_"])
def test_forward_over_reverse_through_an_inplace_op_on_a_non_leaf(name: str) -> None:
    """func.hvp (jvp of grad) through ``(x * 1.0 + 1).exp_()`` equals the out-of-place result
    (the in-place snapshot used to lose its tangent: the HVP came out 0 or doubled)."""
    from gradkit import func

    def inplace(x):
        return (getattr(x * 1.0 + 1.0, name)() ** 2).sum()

    def outplace(x):
        return (getattr(x * 1.0 + 1.0, name[:-1])() ** 2).sum()

    x0, v = np.array([0.3, -0.5]), np.array([1.0, 0.3])
    want = np.asarray(func.hvp(outplace, (x0,), (v,)))
    g = func.grad(outplace)
    fd = (np.asarray(g(x0 + 1e-6 * v)) - np.asarray(g(x0 - 1e-6 * v))) / 2e-6
    np.testing.assert_allclose(want, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.asarray(func.hvp(inplace, (x0,), (v,))), want, rtol=1e-12)


def test_forward_mode_through_an_inplace_write_to_a_view() -> None:
    from gradkit import func

    def f(x):
        y = x.clone()
        y[0:1].add_(x[0:1] ** 2)
        return y

    _, tangent = func.jvp(f, (np.array([0.3, 0.7]),), (np.array([1.0, 0.0]),))
    np.testing.assert_allclose(np.asarray(tangent), [1.6, 0.0])
