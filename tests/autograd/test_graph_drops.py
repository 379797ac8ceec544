"""Silent graph drops (issue 14): a differentiated value turned into a Python/NumPy value.

Inside a transform (gradkit.func, autograd.functional, gradkit.optimize, GradientTape) the
conversion raises gradkit.ConcretizationError naming the line and the fix; an optimizer never
reports success for an objective that does not depend on x through the graph; in eager code
float()/complex() warn once, as PyTorch 2.x does.
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import gradkit as gk
import gradkit.func as gf
from gradkit._core import concrete as _concrete
from gradkit.autograd import forward_ad as fwAD
from gradkit.autograd import functional as AF
from gradkit.tape import GradientTape

THIS_FILE = "test_graph_drops.py"
TORCH_WARNING = ("Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                 "behavior.\nConsider using tensor.detach() first.")


def _assert_clear(err: pytest.ExceptionInfo, owner: str) -> None:
    msg = str(err.value)
    assert owner in msg
    assert THIS_FILE in msg                        # the user's line, not gradkit's
    assert "np.stack" in msg and "gradkit.stack" in msg
    assert ".detach().numpy()" not in msg


# --- the four examples ---------------------------------------------------------------
def test_grad_of_np_float64_raises_instead_of_zero():
    with pytest.raises(gk.ConcretizationError) as err:
        gf.grad(lambda x: np.float64(x) ** 2)(3.0)
    _assert_clear(err, "gradkit.func.grad")
    assert gf.grad(lambda x: x ** 2)(3.0) == 6.0           # what to write instead


def _filled(x):
    y = np.zeros(2)
    y[0] = x[0] ** 2
    y[1] = x[1]
    return y.sum()


def test_filling_an_ndarray_element_by_element_raises_not_numpys_sequence_error():
    with pytest.raises(gk.ConcretizationError) as err:
        gf.grad(_filled)(np.array([1.0, 2.0]))
    _assert_clear(err, "gradkit.func.grad")
    assert "y[0] = x[0] ** 2" in str(err.value)           # the source line is quoted
    g = gf.grad(lambda x: np.stack([x[0] ** 2, x[1]]).sum())(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [2.0, 1.0])


def test_minimize_of_math_objective_raises_and_two_point_works():
    gopt = pytest.importorskip("gradkit.optimize")
    pytest.importorskip("scipy.optimize")

    def f(x):
        return math.sin(x[0]) + math.cos(x[1])

    with pytest.raises(gk.ConcretizationError) as err:
        gopt.minimize(f, [0.5, 0.5])
    _assert_clear(err, "gradkit.optimize.minimize")
    assert "jac='2-point'" in str(err.value)
    res = gopt.minimize(f, [0.5, 0.5], jac="2-point")
    np.testing.assert_allclose(res.x, [-np.pi / 2, np.pi], atol=1e-4)
    res = gopt.minimize(lambda x: np.sin(x[0]) + np.cos(x[1]), [0.5, 0.5])
    assert res.success and res.nit > 0
    np.testing.assert_allclose(res.x, [-np.pi / 2, np.pi], atol=1e-5)


def test_least_squares_with_residuals_filled_element_by_element_raises():
    gopt = pytest.importorskip("gradkit.optimize")
    pytest.importorskip("scipy.optimize")
    t = np.linspace(0.0, 1.0, 5)
    y = 2.0 * np.exp(0.5 * t)

    def filled(p):
        r = np.empty(5)
        for i in range(5):
            r[i] = p[0] * np.exp(p[1] * t[i]) - y[i]
        return r

    with pytest.raises(gk.ConcretizationError) as err:
        gopt.least_squares(filled, [1.0, 1.0])
    _assert_clear(err, "gradkit.optimize.least_squares")
    res = gopt.least_squares(lambda p: np.stack([p[0] * np.exp(p[1] * t[i]) - y[i]
                                                 for i in range(5)]), [1.0, 1.0])
    np.testing.assert_allclose(res.x, [2.0, 0.5], atol=1e-6)


# --- every conversion in every transform --------------------------------------------------
CONVERSIONS = {
    "float": lambda v: float(v),
    "int": lambda v: int(v),
    "complex": lambda v: complex(v),
    "item": lambda v: v.item(),
    "tolist": lambda v: v.tolist(),
    "math.sin": lambda v: math.sin(v),
    "math.floor": lambda v: math.floor(v),
    "np.float64": lambda v: np.float64(v),
    "np.asarray": lambda v: np.asarray(v),
    "numpy()": lambda v: v.numpy(),
    "np.array_list": lambda v: np.array([v, v]),
    "ndarray_setitem": lambda v: np.zeros(3).__setitem__(1, v),
    "ndarray_fill": lambda v: np.zeros(3).fill(v),
    "gk.tensor": lambda v: gk.tensor(v),
    "gk.tensor_list": lambda v: gk.tensor([v, v]),
}


def _scalar_fn(convert):
    def f(x):
        s = (x * x).sum()
        convert(s)
        return s
    return f


def _run_tape(f, x):
    xt = gk.tensor(x)
    with GradientTape() as tape:
        tape.watch(xt)
        y = f(xt)
    return tape.gradient(y, xt)


TRANSFORMS = {
    "func.grad": lambda f, x: gf.grad(f)(x),
    "func.value_and_grad": lambda f, x: gf.value_and_grad(f)(x),
    "func.jacrev": lambda f, x: gf.jacrev(f)(x),
    "func.jacfwd": lambda f, x: gf.jacfwd(f)(x),
    "func.hessian": lambda f, x: gf.hessian(f)(x),
    "func.vjp": lambda f, x: gf.vjp(f, x),
    "func.jvp": lambda f, x: gf.jvp(f, (x,), (np.ones_like(x),)),
    "functional.jacobian": lambda f, x: AF.jacobian(f, gk.tensor(x)),
    "functional.hessian": lambda f, x: AF.hessian(f, gk.tensor(x)),
    "functional.vjp": lambda f, x: AF.vjp(f, gk.tensor(x)),
    "functional.jvp": lambda f, x: AF.jvp(f, gk.tensor(x), gk.ones(2, dtype=gk.float64)),
    "functional.hvp": lambda f, x: AF.hvp(f, gk.tensor(x), gk.ones(2, dtype=gk.float64)),
    "GradientTape": _run_tape,
}


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("conversion", CONVERSIONS)
def test_conversion_inside_a_transform_raises(transform, conversion):
    with pytest.raises(gk.ConcretizationError) as err:
        TRANSFORMS[transform](_scalar_fn(CONVERSIONS[conversion]), np.array([1.0, 2.0]))
    assert THIS_FILE in str(err.value)
    assert not _concrete.is_differentiating()               # restored on the error path


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_values_that_do_not_drop_the_graph_stay_allowed(transform):
    """Control flow on a differentiated value, formatting it, explicit detach, no_grad and
    constants: gradkit runs user code eagerly, so none of these loses a gradient."""
    logged = []
    const = gk.tensor(2.0, dtype=gk.float64)

    def f(x):
        s = (x * x).sum()
        logged.append(f"{s:.3f} {s!r} {float(s.detach()):.1f} {s.detach().item():.1f}")
        with gk.no_grad():
            logged.append(float(s))
        k = float(const) * int(gk.tensor(1))              # not differentiated: plain numbers
        return s * k if s > 0 and bool(s < 100) else -s

    TRANSFORMS[transform](f, np.array([1.0, 2.0]))
    assert logged and logged[0].startswith("5.000")
    np.testing.assert_allclose(gf.grad(f)(np.array([1.0, 2.0])), [4.0, 8.0])


@pytest.mark.parametrize("transform", [t for t in TRANSFORMS if t != "GradientTape"])
def test_tensors_the_transform_does_not_differentiate_convert(transform, fresh_warning):
    """A closed-over parameter that requires grad is not differentiated by the transform (as
    in JAX, where it is not traced): converting it, or a value computed from it alone, works
    (with PyTorch's eager warning); a value that also depends on x raises."""
    w = gk.tensor([0.5, 1.5], dtype=gk.float64, requires_grad=True)
    seen = []

    def f(x):
        seen.append(float((w * w).sum()) + w[0].item())
        return (x * w).sum() + (x * x).sum()

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        TRANSFORMS[transform](f, np.array([1.0, 2.0]))
    assert seen and seen[0] == 3.0
    assert [str(r.message) for r in rec] == [TORCH_WARNING]

    def g(x):
        float((x * w).sum())
        return (x * w).sum()

    with pytest.raises(gk.ConcretizationError):
        TRANSFORMS[transform](g, np.array([1.0, 2.0]))


def test_the_flag_is_thread_local():
    x = gk.tensor(1.5, requires_grad=True)
    seen = []

    def other_thread():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seen.append(float(x * 2))                       # eager code in another thread

    def f(v):
        th = threading.Thread(target=other_thread)
        th.start()
        th.join()
        return v * 3

    assert gf.grad(f)(1.0) == 3.0
    assert seen == [3.0]


def test_nested_transforms_name_the_outermost_and_restore_state():
    def inner(x):
        return gf.grad(lambda y: float(y) * x)(x)

    with pytest.raises(gk.ConcretizationError, match="gradkit.func.jacrev"):
        gf.jacrev(inner)(np.array(1.0))
    assert not _concrete.is_differentiating()
    assert _concrete._local.name == ""
    with pytest.raises(RuntimeError, match="invalid for input"):  # an unrelated error, too
        gf.grad(lambda x: np.reshape(x, (5,)).sum())(np.ones(3))
    assert not _concrete.is_differentiating()


# --- optimize: no success for an objective off the graph ----------------------------------
_W = gk.tensor([1.0, 2.0], dtype=gk.float64, requires_grad=True)


@pytest.mark.parametrize("objective,cause", [
    (lambda x: np.sum(x.detach() ** 2), "detach"),
    (lambda x: np.sum(x.data ** 2), "detach"),
    (lambda x: 3.0, "returned a float"),
    (lambda x: (_W * _W).sum(), "not from x"),
    (lambda x: np.sum(np.asarray(x.numpy(force=True)) ** 2), "returned a float"),
])
def test_minimize_refuses_an_objective_that_does_not_depend_on_x(objective, cause):
    gopt = pytest.importorskip("gradkit.optimize")
    pytest.importorskip("scipy.optimize")
    for method in ("BFGS", "Newton-CG", "trust-exact"):
        with pytest.raises(RuntimeError, match="does not depend on x through gradkit's graph") as err:
            gopt.minimize(objective, [1.0, 2.0], method=method)
        assert cause in str(err.value) and "jac='2-point'" in str(err.value)


def _values(p):
    """The values only, whether SciPy's plain evaluation passed an ndarray or gradkit a tensor."""
    return p.detach() if isinstance(p, gk.Tensor) else p


def test_other_optimizers_refuse_disconnected_functions():
    gopt = pytest.importorskip("gradkit.optimize")
    pytest.importorskip("scipy.optimize")
    with pytest.raises(RuntimeError, match="gradkit.optimize.least_squares: the function's value"):
        gopt.least_squares(lambda p: np.asarray(_values(p)) - 1.0, [0.0, 0.0])
    with pytest.raises(RuntimeError, match="gradkit.optimize.root"):
        gopt.root(lambda p: _values(p) - 1.0, [0.0, 0.0])
    with pytest.raises(RuntimeError, match="gradkit.optimize.fmin"):
        gopt.fmin_bfgs(lambda x: float(np.sum(_values(x) ** 2)), [1.0, 2.0], disp=False)
    with pytest.raises(RuntimeError, match="gradkit.optimize.curve_fit"):
        gopt.curve_fit(lambda t, a, b: _values(a) * t + 0 * _values(b), np.arange(3.0),
                       np.arange(3.0), p0=[1.0, 1.0])


def test_native_optimizers_refuse_disconnected_functions():
    gopt = pytest.importorskip("gradkit.optimize")
    with pytest.raises(RuntimeError, match="gradkit.optimize.gradient_descent"):
        gopt.gradient_descent(lambda x: (x.detach() ** 2).sum(), np.array([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="gradkit.optimize.newton"):
        gopt.newton(lambda x: x.detach() ** 2 - 2.0, 1.0)
    with pytest.raises(gk.ConcretizationError, match="gradkit.optimize.newton"):
        gopt.newton(lambda x: math.cos(x) - x, 1.0)
    assert gopt.newton(lambda x: np.cos(x) - x, 1.0) == pytest.approx(0.7390851332151607)


def test_minimize_of_a_connected_constant_gradient_still_works():
    """A value on the graph with a zero gradient is a true stationary point, not a drop."""
    gopt = pytest.importorskip("gradkit.optimize")
    pytest.importorskip("scipy.optimize")
    res = gopt.minimize(lambda x: 0.0 * np.sum(x) + 1.0, [1.0, 2.0])
    assert res.success and res.fun == 1.0


# --- eager code: the error for np.array of tensors, PyTorch's warning ------------------------
def test_np_array_of_tensors_names_stack_not_detach_numpy():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad") as err:
        np.array([x[0] * 2, x[1]])
    msg = str(err.value)
    assert "np.stack" in msg and "gradkit.stack" in msg and ".detach().numpy()" not in msg
    np.testing.assert_allclose(np.stack([x[0] * 2, x[1]]).detach().numpy(), [2.0, 2.0])
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\) instead"):
        x.numpy()                                              # PyTorch's own message stays


@pytest.fixture
def fresh_warning(monkeypatch):
    monkeypatch.setattr(_concrete, "_warned", [False])


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fn()
    return [(w.category, str(w.message), w.filename) for w in rec]


@pytest.mark.parametrize("convert", [float, complex, math.sin])
def test_float_of_requires_grad_tensor_warns_once_as_pytorch(fresh_warning, convert):
    x = gk.tensor(1.5, requires_grad=True)
    first = _warnings_of(lambda: convert(x * 2))
    assert first == [(UserWarning, TORCH_WARNING, __file__)]
    assert _warnings_of(lambda: convert(x)) == []              # once per process, as TORCH_WARN_ONCE


@pytest.mark.parametrize("case", ["int", "item", "bool", "tolist", "format", "no_grad", "plain"])
def test_where_pytorch_does_not_warn(fresh_warning, case):
    x = gk.tensor(1.5, requires_grad=True)
    fn = {"int": lambda: int(x), "item": lambda: x.item(), "bool": lambda: bool(x),
          "tolist": lambda: x.tolist(), "format": lambda: f"{x * 2:.2f}",
          "no_grad": lambda: gk.no_grad()(lambda: float(x))(),
          "plain": lambda: float(gk.tensor(1.5))}[case]
    assert _warnings_of(fn) == []


def test_tensor_of_tensors_warns_as_pytorch(fresh_warning):
    x = gk.tensor(1.5, requires_grad=True)
    copy = _warnings_of(lambda: gk.tensor(x * 2))
    assert len(copy) == 1 and copy[0][0] is UserWarning and copy[0][2] == __file__
    assert copy[0][1].startswith("To copy construct from a tensor, it is recommended to use "
                                 "sourceTensor.detach().clone()")
    assert _warnings_of(lambda: gk.tensor([x * 2, x])) == [(UserWarning, TORCH_WARNING, __file__)]
    assert _warnings_of(lambda: gk.tensor([gk.tensor(1.0), 2.0])) == []


def test_forward_mode_tangent_is_not_dropped_by_an_undispatched_numpy_function():
    with fwAD.dual_level():
        d = fwAD.make_dual(gk.tensor([1.0, 2.0]), gk.tensor([1.0, 1.0]))
        with pytest.raises(TypeError, match="cannot differentiate numpy.unique"):
            np.unique(d)
        np.testing.assert_allclose(fwAD.unpack_dual(np.sin(d)).tangent.numpy(),
                                   np.cos([1.0, 2.0]), rtol=1e-6)
        # np.interp dispatches: the tangent of a slope-2 interpolation is twice the input's
        np.testing.assert_allclose(
            fwAD.unpack_dual(np.interp(d, [0.0, 3.0], [0.0, 6.0])).tangent.numpy(), [2.0, 2.0])
    np.testing.assert_allclose(np.unique(d).numpy(), [1.0, 2.0])


# --- PyTorch, when installed: the same warning, at the same conversions --------------------
_PROBE = """
import math, warnings
import {mod} as torch
x = torch.tensor(1.5, requires_grad=True)
for expr in {exprs!r}:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        eval(expr)
    print(expr, [w.category.__name__ + ": " + str(w.message).split(" (Triggered internally")[0]
                 .replace("gradkit.tensor(", "torch.tensor(") for w in rec])
"""

# NOTE: PyTorch warns once per process, so each group runs in a fresh one and its order matters
_GROUPS = [
    ["int(x)", "x.item()", "bool(x)", "(x * 2).tolist()", "f'{x * 2:.2f}'",
     "float(torch.tensor(2.0))", "float(x)", "float(x * 3)"],
    ["complex(x * 2)", "torch.tensor(x * 2)", "torch.tensor(torch.ones(2))",
     "torch.tensor([x * 2, x])", "math.sin(x * 2)", "float(x)"],
]


@pytest.mark.parametrize("group", range(len(_GROUPS)))
def test_eager_warnings_match_live_pytorch(group):
    pytest.importorskip("torch")
    out = {}
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    for mod in ("torch", "gradkit"):
        proc = subprocess.run([sys.executable, "-c", _PROBE.format(mod=mod, exprs=_GROUPS[group])],
                              capture_output=True, text=True, timeout=120, cwd=str(root))
        assert proc.returncode == 0, proc.stderr
        out[mod] = proc.stdout.strip().splitlines()
    assert out["gradkit"] == out["torch"]
    assert sum("Converting a tensor" in line for line in out["torch"]) == 1


# --- forward mode through a backward that is off the graph ----------------------------------
class _OnceDiffSquare(gk.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.detach() ** 2

    @staticmethod
    @gk.autograd.once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x


def test_jacfwd_through_a_non_differentiable_backward_raises_not_zeros():
    """The batched forward mode transposes a VJP; a backward run without recording made that
    give a zero Jacobian. PyTorch raises for a Function without jvp; so does gradkit now."""
    x = np.array([1.0, 2.0])

    def f(v):
        # NOTE: looked up at call time: forward_ad patches Function.apply on its first level
        return _OnceDiffSquare.apply(v)

    np.testing.assert_allclose(gf.jacrev(f)(x), np.diag([2.0, 4.0]))
    with pytest.raises(RuntimeError, match="You must implement the jvp function"):
        gf.jacfwd(f)(x)
    with pytest.raises(RuntimeError, match="You must implement the jvp function"):
        AF.jacobian(f, gk.tensor(x), strategy="forward-mode", vectorize=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with gk.autograd.numerical_fallback():
            with pytest.raises(RuntimeError, match="You must implement the jvp function"):
                gf.jacfwd(lambda v: np.roots(v))(x)
    # piecewise-constant rules are not affected: their zero Jacobian is right
    np.testing.assert_array_equal(gf.jacfwd(lambda v: np.floor(3 * v))(x), np.zeros((2, 2)))
    np.testing.assert_allclose(gf.jacfwd(lambda v: np.floor(v) + v ** 2)(x), np.diag([2.0, 4.0]))


def test_gradient_spacing_that_is_differentiated_raises():
    y = np.array([1.0, 4.0, 9.0, 16.0])
    with pytest.raises(gk.ConcretizationError, match="spacing"):
        gf.grad(lambda h: gk.numeric.gradient(gk.tensor(y), h).sum())(2.0)
    np.testing.assert_allclose(gk.numeric.gradient(gk.tensor(y), gk.tensor(2.0)).numpy(),
                               np.gradient(y, 2.0))


def test_numpy_functions_without_a_gradient_run_on_requires_grad_tensors():
    """Bools, indices and dtypes carry no gradient, so nothing is dropped: they run (they used
    to raise "cannot differentiate"), while value-returning functions without a rule still raise."""
    def f(x):
        assert not np.allclose(x, 0.0) and np.any(x) and not np.iscomplexobj(x)
        order = np.argsort(x)
        assert np.result_type(x) == np.float64 and order.tolist() == [1, 2, 0]
        assert np.nonzero(x > 1.5)[0].tolist() == [0, 2]
        return (x[order] * np.arange(1.0, 4.0)).sum()

    np.testing.assert_allclose(gf.grad(f)(np.array([3.0, 1.0, 2.0])), [3.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="cannot differentiate numpy.unique"):
        gf.grad(lambda x: np.unique(x).sum())(np.array([3.0, 1.0, 2.0]))
