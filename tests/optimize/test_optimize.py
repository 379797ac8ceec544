"""gradkit.optimize: the SciPy bridge with exact derivatives, and the native optimizers."""

from __future__ import annotations

import builtins
import io
import sys

import numpy as np
import pytest

import gradkit as gk
import gradkit.optimize as gopt

so = pytest.importorskip("scipy.optimize")


def quadratic(x):
    return x ** 2 - 4 * x + 8


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


X0 = np.array([-1.2, 1.0, 0.8, 1.3])

GRAD_METHODS = ["CG", "BFGS", "L-BFGS-B", "TNC", "SLSQP"]
HESSP_METHODS = ["Newton-CG", "trust-ncg", "trust-krylov"]
HESS_METHODS = ["dogleg", "trust-exact"]


# --- minimize against SciPy with SciPy's own exact derivatives ---------------------------
@pytest.mark.parametrize("method", GRAD_METHODS + HESSP_METHODS + HESS_METHODS + ["trust-constr"])
def test_minimize_matches_scipy_with_exact_derivatives(method):
    ours = gopt.minimize(rosen, X0, method=method)
    kw = {"jac": so.rosen_der}
    if method in HESSP_METHODS + ["trust-constr"]:
        kw["hessp"] = so.rosen_hess_prod
    if method in HESS_METHODS:
        kw["hess"] = so.rosen_hess
    ref = so.minimize(so.rosen, X0, method=method, **kw)
    assert ours.success == ref.success
    # Both stop once the gradient norm is below gtol (1e-5), not at the exact minimum: the two
    # paths differ in the last bits of each gradient, so the stopping points agree to about
    # gtol / (smallest Hessian eigenvalue), not to machine precision (CG differed by 1.5e-5 on
    # one CPU). The values at the stopping points agree far more tightly.
    np.testing.assert_allclose(ours.x, ref.x, rtol=1e-4, atol=1e-5)
    assert ours.fun == pytest.approx(ref.fun, abs=1e-8)
    if method != "trust-constr":
        np.testing.assert_allclose(ours.jac, ref.jac, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("method", ["Nelder-Mead", "Powell", "COBYLA", "COBYQA"])
def test_derivative_free_methods_reach_the_seed_optimum(method):
    res = gopt.minimize(quadratic, [1.3], method=method)
    assert res.x == pytest.approx([2.0], abs=1e-3)
    assert res.fun == pytest.approx(4.0, abs=1e-6)
    assert res.njev == 0


def test_value_and_gradient_come_from_one_pass():
    calls = []

    def f(x):
        calls.append(type(x))
        return rosen(x)

    res = gopt.minimize(f, X0, method="BFGS")
    assert res.nfev == len(calls) == res.njev
    assert all(c is gk.Tensor for c in calls)
    ref = so.minimize(so.rosen, X0, method="BFGS", jac="2-point")
    assert len(calls) < ref.nfev


def test_hessp_reuses_the_gradient_graph():
    calls = []
    res = gopt.minimize(lambda x: calls.append(1) or rosen(x), X0, method="Newton-CG")
    ref = so.minimize(so.rosen, X0, method="Newton-CG", jac=so.rosen_der, hessp=so.rosen_hess_prod)
    assert len(calls) == res.nfev == ref.nfev
    assert res.nhev == ref.nhev


def test_seed_functions_legacy_names(capsys):
    assert gopt.fmin(quadratic, [1.3]) == pytest.approx([2.00001953], abs=1e-7)
    assert gopt.fmin_powell(quadratic, [1.3]) == pytest.approx([2.0], abs=1e-8)
    assert gopt.fmin_bfgs(quadratic, [1.3]) == pytest.approx([2.0], abs=1e-10)
    assert gopt.fmin_cg(quadratic, [1.3]) == pytest.approx([2.0], abs=1e-10)
    assert gopt.fmin_ncg(quadratic, [1.3]) == pytest.approx([2.0], abs=1e-10)
    out = capsys.readouterr().out
    assert "Current function value: 4.000000" in out
    assert "Gradient evaluations: 3" in out           # the seed's SciPy run needed 4 and 12 fevals
    x, f, d = gopt.fmin_l_bfgs_b(quadratic, [1.3])
    assert x == pytest.approx([2.0]) and f == pytest.approx(4.0) and d["warnflag"] == 0
    x, f, d = gopt.fmin_l_bfgs_b(lambda x: (quadratic(x)[0], 2 * x - 4), [1.3])   # SciPy's (f, g)
    assert x == pytest.approx([2.0])


def test_legacy_full_output_and_given_fprime():
    xopt, fopt, gopt_, bopt, fc, gc, warn = gopt.fmin_bfgs(rosen, [-1.2, 1.0], full_output=True,
                                                           disp=False)
    np.testing.assert_allclose(xopt, [1, 1], atol=1e-5)
    assert fc == gc                                   # one pass gives both
    xopt = gopt.fmin_cg(so.rosen, [-1.2, 1.0], fprime=so.rosen_der, disp=False)
    np.testing.assert_allclose(xopt, [1, 1], atol=1e-4)


# --- structure and boundary casting --------------------------------------------------------
def test_pytree_structure_and_leaf_types_are_kept():
    def f(p):
        return np.sum((p["w"] - 1.0) ** 2) + (p["b"][0] - 2.0) ** 2 + gk.sum((p["b"][1] + 1.0) ** 2)

    x0 = {"w": np.zeros((2, 3), dtype=np.float32), "b": (0.5, gk.zeros(2, dtype=gk.float32))}
    res = gopt.minimize(f, x0, method="L-BFGS-B")
    assert set(res.x) == {"w", "b"} and isinstance(res.x["b"], tuple)
    assert res.x["w"].shape == (2, 3) and res.x["w"].dtype == np.float64
    np.testing.assert_allclose(res.x["w"], 1.0, atol=1e-6)
    assert isinstance(res.x["b"][0], float) and res.x["b"][0] == pytest.approx(2.0)
    assert isinstance(res.x["b"][1], gk.Tensor) and res.x["b"][1].dtype == gk.float32
    np.testing.assert_allclose(res.x["b"][1].numpy(), -1.0, atol=1e-5)
    assert res.jac["w"].shape == (2, 3)


def test_float_and_0d_float32_inputs_are_cast_to_float64():
    res = gopt.minimize(lambda x: (x - 3.0) ** 2, 0.0)
    assert isinstance(res.x, float) and res.x == pytest.approx(3.0)
    t = gk.tensor(0.0, dtype=gk.float32)
    res = gopt.minimize(lambda x: (x.float() - 3.0) ** 2, t, method="L-BFGS-B")
    assert res.success and isinstance(res.x, gk.Tensor) and res.x.shape == ()
    assert float(res.x) == pytest.approx(3.0, abs=1e-4)
    # a float32 objective (scipy/scipy#18730): the gradient reaches SciPy as float64
    res = gopt.minimize(lambda x: gk.sum((x.float() - 1.5) ** 2), np.zeros(3, np.float32),
                        method="L-BFGS-B")
    assert res.jac.dtype == np.float64
    np.testing.assert_allclose(res.x, 1.5, atol=1e-4)


def test_shape_one_output_counts_as_scalar():
    res = gopt.minimize(quadratic, [1.3], method="BFGS")
    assert res.x.shape == (1,) and res.fun == pytest.approx(4.0)
    with pytest.raises(ValueError, match="must return a scalar"):
        gopt.minimize(lambda x: x ** 2, np.ones(3), method="BFGS")


# --- bounds and constraints ----------------------------------------------------------------
def test_bounds_match_scipy():
    bounds = [(-2, 0.5)] * 4
    res = gopt.minimize(rosen, X0, bounds=bounds)           # L-BFGS-B by SciPy's rule
    ref = so.minimize(so.rosen, X0, jac=so.rosen_der, bounds=bounds)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-5)
    assert res.x.max() <= 0.5
    res = gopt.minimize(rosen, X0, method="TNC", bounds=so.Bounds(-2, 0.5))
    np.testing.assert_allclose(res.x, ref.x, atol=1e-4)


def test_bounds_as_trees_shaped_like_x0():
    def f(p):
        return np.sum((p["a"] - 2.0) ** 2) + (p["c"] + 3.0) ** 2

    res = gopt.minimize(f, {"a": np.zeros(2), "c": 0.0}, bounds=({"a": 0.0, "c": -1.0},
                                                                {"a": [1.0, 5.0], "c": 1.0}))
    np.testing.assert_allclose(res.x["a"], [1.0, 2.0], atol=1e-6)
    assert res.x["c"] == pytest.approx(-1.0)


def test_slsqp_constraints_get_exact_jacobians():
    seen = []

    def circle(x):
        seen.append(type(x))
        return 1 - np.sum(x ** 2)

    cons = [{"type": "ineq", "fun": circle}, {"type": "eq", "fun": lambda x, k: x[0] - k * x[1],
                                                  "args": (1.2,)}]
    res = gopt.minimize(rosen, np.zeros(2), constraints=cons)
    ref = so.minimize(so.rosen, np.zeros(2), jac=so.rosen_der, constraints=[
        {"type": "ineq", "fun": lambda x: 1 - np.sum(x ** 2), "jac": lambda x: -2 * x},
        {"type": "eq", "fun": lambda x: x[0] - 1.2 * x[1], "jac": lambda x: np.array([1.0, -1.2])}])
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    assert gk.Tensor in seen                           # its Jacobian was taken by gradkit


def test_trust_constr_nonlinear_constraint_with_exact_hessian():
    nc = so.NonlinearConstraint(lambda x: np.sum(x ** 2), -np.inf, 1.0)
    res = gopt.minimize(rosen, np.zeros(2), method="trust-constr", constraints=nc)
    ref = so.minimize(so.rosen, np.zeros(2), method="trust-constr", jac=so.rosen_der,
                      hess=so.rosen_hess,
                      constraints=so.NonlinearConstraint(lambda x: np.sum(x ** 2), -np.inf, 1.0,
                                                         jac=lambda x: 2 * x[None],
                                                         hess=lambda x, v: 2 * v[0] * np.eye(2)))
    np.testing.assert_allclose(res.x, ref.x, atol=1e-5)
    assert res.nhev > 0


# --- callbacks and progress ----------------------------------------------------------------
def test_callback_receives_the_users_structure():
    xs, results = [], []
    gopt.minimize(lambda p: np.sum((p[0] - 1) ** 2) + p[1] ** 2, (np.zeros(2), 3.0),
                  callback=xs.append)
    assert xs and all(isinstance(x, tuple) and x[0].shape == (2,) for x in xs)

    def cb(intermediate_result):
        results.append(intermediate_result)
        if len(results) == 2:
            raise StopIteration

    res = gopt.minimize(rosen, X0, method="BFGS", callback=cb)
    assert len(results) == 2 and results[0].x.shape == (4,)
    assert not res.success


def test_progress_to_a_non_tty_writes_plain_lines():
    buf = io.StringIO()
    res = gopt.minimize(rosen, X0, method="BFGS", progress=buf)
    lines = buf.getvalue().splitlines()
    assert "\r" not in buf.getvalue()
    assert res.nit > 2 and len(lines) == 2      # rate-limited: the first iteration and the end
    assert lines[0].startswith("minimize[bfgs]: iter     1  f = ") and "|g| = " in lines[0]
    assert lines[-1].startswith("minimize[bfgs]: done after")


def test_progress_on_a_tty_rewrites_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)       # the built-in line, not tqdm's

    class Tty(io.StringIO):
        def isatty(self):
            return True

    buf = Tty()
    gopt.minimize(rosen, X0, method="L-BFGS-B", progress=buf)
    text = buf.getvalue()
    assert text.startswith("\r") and text.count("\n") == 2


def test_progress_true_goes_to_stderr(capsys):
    gopt.gradient_descent(quadratic, 1.3, lr=0.1, maxiter=3, progress=True)
    err = capsys.readouterr().err
    assert "gradient_descent[fixed]: iter     1" in err


# --- least squares, curve_fit, root --------------------------------------------------------
def damped(t, a, gamma, omega, phi):
    return a * np.exp(-gamma * t) * np.cos(omega * t + phi)


def test_curve_fit_matches_scipy():
    t = np.linspace(0, 10, 200)
    y = damped(t, 2.0, 0.3, 1.7, 0.4) + 0.02 * np.random.default_rng(0).standard_normal(t.size)
    p0 = [1.5, 0.2, 1.6, 0.0]
    popt, pcov = gopt.curve_fit(damped, t, y, p0=p0)
    ref, rcov = so.curve_fit(damped, t, y, p0=p0)
    np.testing.assert_allclose(popt, ref, rtol=1e-6)
    np.testing.assert_allclose(pcov, rcov, rtol=1e-4)
    sigma = np.full(t.size, 0.02)
    popt, pcov = gopt.curve_fit(damped, t, y, p0=p0, sigma=sigma, absolute_sigma=True,
                                bounds=([0, 0, 1, -1], [5, 1, 2, 1]))
    ref, rcov = so.curve_fit(damped, t, y, p0=p0, sigma=sigma, absolute_sigma=True,
                             bounds=([0, 0, 1, -1], [5, 1, 2, 1]))
    np.testing.assert_allclose(popt, ref, rtol=1e-5)
    np.testing.assert_allclose(pcov, rcov, rtol=1e-3)


def test_curve_fit_infers_parameter_count():
    t = np.linspace(0, 4, 50)
    popt, _ = gopt.curve_fit(lambda t, a, k: a * np.exp(-k * t), t, 3 * np.exp(-0.7 * t))
    np.testing.assert_allclose(popt, [3.0, 0.7], rtol=1e-8)


def test_least_squares_matches_scipy_and_keeps_structure():
    def resid(x):
        return np.stack([10 * (x[1] - x[0] ** 2), 1 - x[0]])

    res = gopt.least_squares(resid, [-1.2, 1.0])
    np.testing.assert_allclose(res.x, [1, 1], atol=1e-8)
    res = gopt.least_squares(lambda p: (p["a"] - np.arange(3.0), p["b"] * 2 - 1), {"a": np.zeros(3),
                                                                                  "b": 0.0})
    np.testing.assert_allclose(res.x["a"], [0, 1, 2], atol=1e-8)
    assert res.x["b"] == pytest.approx(0.5)


def test_root_matches_scipy():
    def fun(x):
        return np.stack([x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0, 0.5 * (x[1] - x[0]) ** 3 + x[1]])

    for method in ("hybr", "lm", "broyden1"):
        sol = gopt.root(fun, [0.0, 0.0], method=method)
        np.testing.assert_allclose(sol.x, [0.8411639, 0.1588361], atol=1e-6)


def test_minimize_scalar_casts_tensor_results():
    res = gopt.minimize_scalar(lambda x: gk.tensor(x) ** 2 - 4 * x + 8)
    assert res.x == pytest.approx(2.0, abs=1e-6)
    res = gopt.minimize_scalar(quadratic, bounds=(gk.tensor(3.0), 5.0), method="bounded")
    assert res.x == pytest.approx(3.0, abs=1e-4)


# --- newton / Halley (native) --------------------------------------------------------------
def test_newton_and_halley_converge_with_exact_derivatives():
    root, r = gopt.newton(lambda x: x ** 3 - 2, 1.0, full_output=True)
    assert root == pytest.approx(2 ** (1 / 3), abs=1e-14) and r.converged and r.method == "newton"
    root, h = gopt.newton(lambda x: x ** 3 - 2, 1.0, fprime2=True, full_output=True)
    assert root == pytest.approx(2 ** (1 / 3), abs=1e-14) and h.method == "halley"
    assert h.iterations < r.iterations
    ref = so.newton(lambda x: x ** 3 - 2, 1.0, fprime=lambda x: 3 * x ** 2)
    assert root == pytest.approx(ref, abs=1e-14)


def test_newton_quadratic_then_halley_cubic_convergence():
    errs = {}
    for name, f2 in (("newton", None), ("halley", True)):
        e = []
        for it in range(1, 4):
            x = gopt.newton(np.sin, 3.0, fprime2=f2, maxiter=it, disp=False)
            e.append(abs(x - np.pi))
        errs[name] = e
    n, h = errs["newton"], errs["halley"]
    assert n[2] < 10 * n[1] ** 3 + 1e-15 or n[2] < 1e-15   # sin''(pi) = 0: Newton is cubic here too
    assert h[1] < 1e-6
    e0 = abs(3.0 - np.pi)
    assert n[0] <= 1.01 * e0 ** 3 / 3 + 1e-12                  # |e1| ~ |e0|^3 / 3 for sin at pi


def test_newton_elementwise_arrays_and_user_derivatives():
    x = gopt.newton(lambda x: np.cos(x) - x, np.array([0.5, 1.0, 2.0]))
    np.testing.assert_allclose(x, 0.7390851332151607, atol=1e-12)
    x = gopt.newton(lambda x: x ** 2 - 2, 1.0, fprime=lambda x: 2 * x, fprime2=lambda x: 2.0)
    assert x == pytest.approx(np.sqrt(2))
    with pytest.raises(RuntimeError, match="Failed to converge after 2 iterations"):
        gopt.newton(lambda x: x ** 3 - 2, 10.0, maxiter=2)
    with pytest.warns(RuntimeWarning, match="Derivative was zero"):
        gopt.newton(lambda x: x ** 2 + 1, 0.0)


# --- native gradient descent ---------------------------------------------------------------
def valley(x):                                    # condition number 25, minimum at (1, -2)
    return 0.5 * (x[0] - 1) ** 2 + 12.5 * (x[1] + 2) ** 2


def test_gradient_descent_fixed_and_armijo():
    res = gopt.gradient_descent(quadratic, 1.3, lr=0.1, tol=1e-10)
    assert res.success and res.x == pytest.approx(2.0) and isinstance(res.x, float)
    assert res.nfev == res.njev == res.nit + 1
    res = gopt.gradient_descent(valley, np.zeros(2), lr=1.0, method="armijo", maxiter=2000, tol=1e-8)
    assert res.success and res.nfev > res.njev              # backtracking costs forward passes only
    np.testing.assert_allclose(res.x, [1, -2], atol=1e-7)
    with np.errstate(all="ignore"):
        diverged = gopt.gradient_descent(valley, np.zeros(2), lr=1.0, maxiter=2000)
    assert not diverged.success and "non-finite" in diverged.message


def test_gradient_descent_momentum_and_nesterov_beat_plain_steps():
    kw = dict(lr=0.04, maxiter=5000, tol=1e-8)
    plain = gopt.gradient_descent(valley, np.zeros(2), **kw)
    heavy = gopt.gradient_descent(valley, np.zeros(2), momentum=0.6, **kw)
    nest = gopt.gradient_descent(valley, np.zeros(2), momentum=0.6, nesterov=True, **kw)
    assert plain.success and heavy.success and nest.success
    assert heavy.nit < plain.nit and nest.nit < plain.nit
    np.testing.assert_allclose(nest.x, [1, -2], atol=1e-7)


def test_gradient_descent_errors():
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        gopt.gradient_descent(quadratic, 1.0, lr=-0.1)
    with pytest.raises(ValueError, match="Invalid momentum value"):
        gopt.gradient_descent(quadratic, 1.0, momentum=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        gopt.gradient_descent(quadratic, 1.0, nesterov=True)
    with pytest.raises(ValueError, match="'fixed' or 'armijo'"):
        gopt.gradient_descent(quadratic, 1.0, method="wolfe")


# --- without SciPy -------------------------------------------------------------------------
@pytest.fixture
def no_scipy(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "scipy" or name.startswith("scipy."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for mod in [m for m in sys.modules if m == "scipy" or m.startswith("scipy.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_without_scipy_native_methods_work_and_the_rest_name_the_extra(no_scipy):
    res = gopt.gradient_descent(quadratic, [1.3], lr=0.1, tol=1e-9)
    assert isinstance(res, gopt.OptimizeResult) and res.x == pytest.approx([2.0])
    assert gopt.newton(lambda x: x ** 2 - 2, 1.0, fprime2=True) == pytest.approx(np.sqrt(2))
    for call in (lambda: gopt.minimize(quadratic, [1.3]), lambda: gopt.fmin(quadratic, [1.3]),
                 lambda: gopt.curve_fit(damped, np.ones(3), np.ones(3)),
                 lambda: gopt.least_squares(lambda x: x, [1.0]), lambda: gopt.root(lambda x: x, [1.0]),
                 lambda: gopt.minimize_scalar(quadratic), lambda: gopt.fmin_l_bfgs_b(quadratic, [1.0])):
        with pytest.raises(ImportError, match=r"pip install gradkit\[scipy\]"):
            call()
