"""gradkit.optimize compiles the objective by default: results identical to eager, or eager.

Each case minimizes once with ``compile=False`` (eager) and once by default (the value and
gradient traced once and replayed); the iterates SciPy sees must be the same numbers, so the
results (x, f, iteration and evaluation counts) are equal exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

pytest.importorskip("scipy")


def _rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _quartic(x, a, b):
    return ((x - a) ** 4).sum() + b * (x ** 2).sum() + gk.sin(x).sum()


def _tree(p):
    return (p["w"] ** 2).sum() + ((p["b"] - 1.0) ** 2).sum() * p["w"].sum().tanh()


CASES = [
    ("rosen-BFGS", _rosen, np.tile([-1.2, 1.0], 10), (), "BFGS"),
    ("rosen-L-BFGS-B", _rosen, np.tile([-1.2, 1.0], 10), (), "L-BFGS-B"),
    ("quartic-CG-args", _quartic, np.linspace(-1, 1, 7), (np.arange(7.0) / 7, 0.3), "CG"),
    ("rosen-Nelder-Mead", _rosen, np.array([-1.2, 1.0, 0.5]), (), "Nelder-Mead"),
    ("tree-BFGS", _tree, {"w": np.array([0.5, -0.3]), "b": np.array([2.0, 0.0, 1.0])}, (),
     "BFGS"),
]


def _flat(x):
    if isinstance(x, dict):
        return np.concatenate([np.ravel(x[k]) for k in sorted(x)])
    return np.asarray(x)


@pytest.mark.parametrize("name,fun,x0,args,method", CASES, ids=[c[0] for c in CASES])
def test_minimize_compiled_equals_eager(name, fun, x0, args, method):
    eager = gk.optimize.minimize(fun, x0, args=args, method=method, compile=False)
    comp = gk.optimize.minimize(fun, x0, args=args, method=method)
    assert comp.compiled is True and comp.compile_reason is None
    assert eager.compiled is False and eager.compile_reason == "compile=False"
    assert np.array_equal(_flat(comp.x), _flat(eager.x))
    assert comp.fun == eager.fun
    assert (comp.nit, comp.nfev, comp.njev) == (eager.nit, eager.nfev, eager.njev)
    assert comp.success == eager.success


def test_minimize_falls_back_to_eager_and_says_why():
    calls = []

    def f(x):
        calls.append(1)                     # Python state changed on every call
        return ((x - 3.0) ** 2).sum()
    res = gk.optimize.minimize(f, np.zeros(3), method="BFGS")
    calls.clear()
    ref = gk.optimize.minimize(f, np.zeros(3), method="BFGS", compile=False)
    assert res.compiled is False and "Python state" in res.compile_reason
    assert np.array_equal(res.x, ref.x) and res.nfev == ref.nfev == len(calls)


def test_minimize_newton_cg_uses_the_eager_hessian_products():
    res = gk.optimize.minimize(_rosen, np.tile([-1.2, 1.0], 3), method="Newton-CG")
    ref = gk.optimize.minimize(_rosen, np.tile([-1.2, 1.0], 3), method="Newton-CG",
                               compile=False)
    assert np.array_equal(res.x, ref.x) and res.nit == ref.nit
    assert res.compiled is False and "Hessian" in res.compile_reason


def test_cli_minimize_takes_the_compiled_path(capsys):
    from gradkit.cli import main
    code = main(["minimize", "(1-x)**2 + 100*(y-x**2)**2", "--x0", "-1", "2", "--method", "BFGS",
                 "--json"])
    import json
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["compiled"] is True
    assert np.allclose(out["x"], [1.0, 1.0], atol=1e-5)
