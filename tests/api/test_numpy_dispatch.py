"""Plain NumPy code differentiates unchanged: ufuncs and functions dispatch to the table."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk
from gradkit._api.numpy_dispatch import FUNCTIONS, UFUNCS, dispatched_functions


def fd_grad(f: Callable[[np.ndarray], Any], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences in float64 on plain ndarrays (independent of gradkit)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (float(f(xp)) - float(f(xm))) / (2 * eps)
    return g


def autodiff_grad(f: Callable[[Any], Any], x: np.ndarray) -> tuple[float, np.ndarray]:
    t = gk.tensor(x, dtype=gk.float64, requires_grad=True)
    y = f(t)
    assert isinstance(y, gk.Tensor), f"{f} returned {type(y).__name__}, the graph was lost"
    y.backward()
    return y.item(), t.grad.numpy()


# --- user objective functions, written for NumPy and never edited ---------------------------
def rosenbrock(x: Any) -> Any:
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


_RNG = np.random.default_rng(3)
_X = _RNG.standard_normal((20, 3))
_Y = (_RNG.random(20) > 0.5).astype(float)


def logistic_loss(w: Any) -> Any:
    z = _X @ w
    return np.mean(np.logaddexp(0.0, z) - _Y * z)


def gaussian_loglik(theta: Any) -> Any:
    mu, log_sigma = theta[0], theta[1]
    data = np.array([0.3, -1.2, 2.2, 0.7, 1.1])
    sigma = np.exp(log_sigma)
    return -np.sum(-0.5 * ((data - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi))


def rastrigin(x: Any) -> Any:
    return 10 * len(x) + np.sum(x ** 2 - 10 * np.cos(2 * np.pi * x))


def ackley(x: Any) -> Any:
    n = x.shape[0]
    return (-20 * np.exp(-0.2 * np.sqrt(np.sum(x ** 2) / n))
            - np.exp(np.sum(np.cos(2 * np.pi * x)) / n) + 20 + np.e)


def matrix_objective(x: Any) -> Any:
    m = np.reshape(x, (2, 3))
    a = np.concatenate([m, np.ones((1, 3))], axis=0)
    s = np.stack([np.trace(a[:, :3] @ a[:, :3].T), np.max(m), np.min(m), np.prod(m[0])])
    return np.sum(np.tanh(s)) + np.var(m, ddof=1) + np.std(m, axis=0).sum() + \
        np.linalg.norm(m) + np.cumsum(np.ravel(m))[-1] + np.dot(m[0], m[1]) + \
        np.einsum("ij,ij->", m, m) + np.sum(np.clip(m, -0.5, 0.5)) + np.sum(np.abs(m))


OBJECTIVES = [
    (rosenbrock, np.array([1.3, 0.7, 0.8])),
    (logistic_loss, np.array([0.2, -0.4, 0.1])),
    (gaussian_loglik, np.array([0.4, 0.3])),
    (rastrigin, np.array([0.3, -1.2, 2.4])),
    (ackley, np.array([0.3, -1.2, 2.4])),
    (matrix_objective, np.array([0.31, -1.2, 0.72, 0.46, -0.13, 0.95])),
]


@pytest.mark.parametrize("f, x0", OBJECTIVES, ids=[f.__name__ for f, _ in OBJECTIVES])
def test_plain_numpy_objective_gets_exact_gradient(f: Callable[..., Any], x0: np.ndarray) -> None:
    value, grad = autodiff_grad(f, x0)
    assert value == pytest.approx(float(f(x0)), rel=1e-12)
    np.testing.assert_allclose(grad, fd_grad(f, x0), rtol=1e-6, atol=1e-6)


def test_rosenbrock_gradient_matches_scipy() -> None:
    scipy_optimize = pytest.importorskip("scipy.optimize")
    x0 = np.array([1.3, 0.7, 0.8])
    _, grad = autodiff_grad(rosenbrock, x0)
    np.testing.assert_allclose(grad, scipy_optimize.rosen_der(x0), rtol=1e-12)


# --- ufuncs -----------------------------------------------------------------------------------
def test_mixed_inputs_work_in_both_orders() -> None:
    t = gk.tensor([1.0, 2.0, 3.0], dtype=gk.float64, requires_grad=True)
    a = np.array([0.5, 1.5, -1.0])
    for y in (a * t, t * a, np.multiply(a, t), 2.0 - t, np.subtract(2.0, t), a / t, t ** a):
        assert isinstance(y, gk.Tensor) and y.requires_grad
    (a * t + t / a).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), a + 1 / a)


def test_ufunc_reduce_and_accumulate() -> None:
    t = gk.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=gk.float64, requires_grad=True)
    s = np.add.reduce(t, axis=0)
    p = np.multiply.accumulate(t, axis=1)
    m = np.maximum.reduce(t, axis=None)
    np.testing.assert_allclose(s.detach().numpy(), [4.0, 6.0])
    np.testing.assert_allclose(p.detach().numpy(), [[1.0, 2.0], [3.0, 12.0]])
    (s.sum() + p.sum() + m).backward()
    # d(sum)=1; d(cumprod sum) = [[1+x12, x11], [1+x22, x21]]; max -> element (1,1)
    np.testing.assert_allclose(t.grad.numpy(), [[1 + 1 + 2, 1 + 1], [1 + 1 + 4, 1 + 3 + 1]])


def test_ufunc_out_with_a_tensor_target_is_recorded_in_place() -> None:
    t = gk.tensor([1.0, 2.0], requires_grad=True)
    out = gk.zeros(2)
    res = np.multiply(t, 3.0, out=out)
    assert res is out and out.requires_grad
    assert out.tolist() == [3.0, 6.0] and out._version == 1
    out.sum().backward()
    assert t.grad.tolist() == [3.0, 3.0]


def test_ufunc_out_ndarray_refuses_to_drop_the_graph() -> None:
    t = gk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="drop the graph"):
        np.exp(t, out=np.zeros(2))
    target = np.zeros(2)
    np.exp(t.detach(), out=target)
    np.testing.assert_allclose(target, np.exp([1.0, 2.0]))


@pytest.mark.parametrize("ufunc", sorted(UFUNCS, key=lambda u: u.__name__), ids=lambda u: u.__name__)
def test_every_dispatched_ufunc_runs_and_matches_numpy(ufunc: Any) -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(0.2, 0.8, size=(3,))
    b = rng.uniform(0.2, 0.8, size=(3,))
    if ufunc.__name__ in ("arccosh",):
        a, b = a + 1.5, b + 1.5
    if ufunc.__name__.startswith(("bitwise", "invert", "left_shift", "right_shift", "gcd", "lcm")):
        a, b = (a * 10).astype(np.int64), (b * 10).astype(np.int64)
    if ufunc.__name__ == "ldexp":                  # an integer exponent
        b = np.array([1, -2, 3])
    if ufunc.__name__ == "matvec":                 # generalized ufuncs: their core shapes
        a = rng.uniform(0.2, 0.8, size=(3, 3))
    if ufunc.__name__ == "vecmat":
        b = rng.uniform(0.2, 0.8, size=(3, 3))
    args = (a, b)[: ufunc.nin]
    expected = ufunc(*args)
    got = ufunc(*(gk.tensor(x) for x in args))
    if ufunc.nout > 1:                             # divmod, modf, frexp: a tuple of outputs
        assert len(got) == ufunc.nout
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g.numpy(), e, rtol=1e-6)
        got, expected = got[0], expected[0]
    assert isinstance(got, gk.Tensor)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)
    if a.dtype.kind == "f" and expected.dtype.kind == "f" and ufunc.__name__ not in (
            "floor", "ceil", "trunc", "rint", "sign", "floor_divide", "remainder", "fmod",
            "divmod", "heaviside"):
        # (heaviside's gradient reaches its second input only where the first is 0: checked
        # in test_numpy_more_functions)
        ts = [gk.tensor(x, dtype=gk.float64, requires_grad=True) if x.dtype.kind == "f"
              else gk.tensor(x) for x in args]

        def first(out: Any) -> Any:
            return out[0] if ufunc.nout > 1 else out
        y = first(ufunc(*ts)).sum()
        y.backward()
        for k, t in enumerate(ts):
            if args[k].dtype.kind != "f":
                continue

            def f(v: np.ndarray, k: int = k) -> float:
                vals = list(args)
                vals[k] = v
                return float(np.sum(first(ufunc(*vals))))
            np.testing.assert_allclose(t.grad.numpy(), fd_grad(f, args[k]), rtol=1e-5, atol=1e-7)


# --- functions --------------------------------------------------------------------------------
FUNCTION_CASES: list[tuple[str, Callable[[Any], Any], tuple[int, ...]]] = [
    ("sum", lambda x: np.sum(x, axis=1, keepdims=True), (2, 3)),
    ("mean", lambda x: np.mean(x, axis=0), (2, 3)),
    ("prod", lambda x: np.prod(x, axis=(0, 1)), (2, 3)),
    ("max", lambda x: np.max(x, axis=1), (2, 3)),
    ("amin", lambda x: np.amin(x), (2, 3)),
    ("where", lambda x: np.where(x > 0.5, x ** 2, -x), (2, 3)),
    ("dot", lambda x: np.dot(x, x.T), (2, 3)),
    ("vdot", lambda x: np.vdot(x, x), (2, 3)),
    ("matmul", lambda x: np.matmul(x, np.ones((3, 2))), (2, 3)),
    ("inner", lambda x: np.inner(x, x), (2, 3)),
    ("outer", lambda x: np.outer(x[0], x[1]), (2, 3)),
    ("einsum", lambda x: np.einsum("ij,kj->ik", x, x), (2, 3)),
    ("tensordot", lambda x: np.tensordot(x, x, axes=([1], [1])), (2, 3)),
    ("concatenate", lambda x: np.concatenate([x, 2 * x], axis=1), (2, 3)),
    ("stack", lambda x: np.stack([x, x ** 2], axis=-1), (2, 3)),
    ("hstack", lambda x: np.hstack([x, x]), (2, 3)),
    ("vstack", lambda x: np.vstack([x, x]), (2, 3)),
    ("split", lambda x: np.split(x, 3, axis=1)[1], (2, 3)),
    ("reshape", lambda x: np.reshape(x, (3, 2)), (2, 3)),
    ("ravel", lambda x: np.ravel(x), (2, 3)),
    ("transpose", lambda x: np.transpose(x), (2, 3)),
    ("swapaxes", lambda x: np.swapaxes(x, 0, 1), (2, 3)),
    ("moveaxis", lambda x: np.moveaxis(x, 0, -1), (2, 3)),
    ("squeeze", lambda x: np.squeeze(x[None]), (2, 3)),
    ("expand_dims", lambda x: np.expand_dims(x, 1), (2, 3)),
    ("broadcast_to", lambda x: np.broadcast_to(x, (4, 2, 3)), (2, 3)),
    ("tile", lambda x: np.tile(x, (2, 1)), (2, 3)),
    ("repeat", lambda x: np.repeat(x, 2, axis=1), (2, 3)),
    ("flip", lambda x: np.flip(x, axis=1), (2, 3)),
    ("roll", lambda x: np.roll(x, 1, axis=1), (2, 3)),
    ("clip", lambda x: np.clip(x, 0.3, 0.7), (2, 3)),
    ("cumsum", lambda x: np.cumsum(x, axis=1), (2, 3)),
    ("cumprod", lambda x: np.cumprod(x), (2, 3)),
    ("diff", lambda x: np.diff(x, n=2, axis=1), (2, 4)),
    ("trace", lambda x: np.trace(x), (3, 3)),
    ("diag", lambda x: np.diag(x), (3, 3)),
    ("diagonal", lambda x: np.diagonal(x, 1), (3, 3)),
    ("tril", lambda x: np.tril(x), (3, 3)),
    ("triu", lambda x: np.triu(x, 1), (3, 3)),
    ("var", lambda x: np.var(x, axis=1, ddof=1), (2, 3)),
    ("std", lambda x: np.std(x), (2, 3)),
    ("linalg.norm", lambda x: np.linalg.norm(x, axis=1), (2, 3)),
    ("sort", lambda x: np.sort(x, axis=1), (2, 3)),
    ("take", lambda x: np.take(x, [0, 2, 2], axis=1), (2, 3)),
    ("take_along_axis", lambda x: np.take_along_axis(x, np.array([[0], [2]]), axis=1), (2, 3)),
    ("pad", lambda x: np.pad(x, ((1, 0), (0, 2)), constant_values=0.5), (2, 3)),
    ("pad-reflect", lambda x: np.pad(x, 1, mode="reflect"), (2, 3)),
    ("meshgrid", lambda x: np.meshgrid(x[0], x[1])[0] * np.meshgrid(x[0], x[1])[1], (2, 3)),
    ("atleast_2d", lambda x: np.atleast_2d(x[0]), (2, 3)),
    ("logaddexp", lambda x: np.logaddexp(x, 0.5), (2, 3)),
    ("exp-log-sqrt-abs", lambda x: np.sqrt(np.abs(np.log(np.exp(x) + 1))), (2, 3)),
]


@pytest.mark.parametrize("name, f, shape", FUNCTION_CASES, ids=[c[0] for c in FUNCTION_CASES])
def test_numpy_function_differentiates(name: str, f: Callable[[Any], Any], shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(1)
    x0 = rng.uniform(0.05, 0.95, size=shape)
    weights = rng.standard_normal(np.shape(f(x0)))

    def scalar(x: Any) -> Any:
        return np.sum(f(x) * weights)

    value, grad = autodiff_grad(scalar, x0)
    assert value == pytest.approx(float(scalar(x0)), rel=1e-10)
    np.testing.assert_allclose(grad, fd_grad(scalar, x0), rtol=1e-5, atol=1e-7)


def test_unsupported_function_raises_instead_of_dropping_the_graph() -> None:
    t = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"numpy\.histogram.*tensor\.detach\(\)"):
        np.histogram(t)
    with pytest.raises(TypeError, match="cannot differentiate numpy.unique"):
        np.unique(t)
    # detached tensors go through NumPy and come back as tensors
    m = np.unique(t.detach())
    assert isinstance(m, gk.Tensor) and m.tolist() == [1.0, 2.0, 3.0]


def test_asarray_on_a_tensor_that_requires_grad_raises_like_numpy() -> None:
    t = gk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        np.asarray(t)
    np.testing.assert_array_equal(np.asarray(t.detach()), [1.0, 2.0])
    with gk.no_grad():
        np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0])


def test_like_factories_and_shape_queries() -> None:
    t = gk.tensor([[1.0, 2.0]], requires_grad=True)
    z = np.zeros_like(t)
    assert isinstance(z, gk.Tensor) and z.shape == (1, 2) and not z.requires_grad
    assert np.full_like(t, 7.0).tolist() == [[7.0, 7.0]]
    assert np.shape(t) == (1, 2) and np.ndim(t) == 2 and np.size(t) == 2


def test_coverage_list_is_generated_from_the_dispatch_tables() -> None:
    names = dispatched_functions()
    assert len(names) == len(set(names))
    for required in ("sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin",
                     "where", "dot", "vdot", "matmul", "inner", "outer", "einsum", "tensordot",
                     "concatenate", "stack", "hstack", "vstack", "split", "reshape", "ravel",
                     "transpose", "swapaxes", "moveaxis", "squeeze", "expand_dims",
                     "broadcast_to", "tile", "repeat", "flip", "roll", "clip", "absolute",
                     "sqrt", "exp", "log", "cumsum", "cumprod", "diff", "trace", "diag",
                     "diagonal", "tril", "triu", "var", "std", "linalg.norm", "logaddexp",
                     "sort", "take", "take_along_axis", "pad", "meshgrid", "atleast_1d",
                     "atleast_2d", "zeros_like", "ones_like", "full_like"):
        assert f"numpy.{required}" in names, required
    assert len(FUNCTIONS) > 50 and len(UFUNCS) > 60


def test_documented_coverage_list_matches_the_tables() -> None:
    from pathlib import Path
    doc = Path(__file__).resolve().parents[2] / "docs" / "numpy-coverage.md"
    listed = [line[3:-1] for line in doc.read_text().splitlines() if line.startswith("- `")]
    assert listed == dispatched_functions(), "regenerate docs/numpy-coverage.md from the tables"


# --- the ufunc map is derived from the table ------------------------------------------------
def _ufunc_rows() -> list[Any]:
    import gradkit.ops  # noqa: F401  (every family registers its rows)
    from gradkit.ops._registry import REGISTRY
    return [p for p in REGISTRY.values() if isinstance(p.fwd, np.ufunc)]


@pytest.mark.parametrize("prim", _ufunc_rows(), ids=lambda p: p.name)
def test_every_ufunc_row_dispatches(prim: Any) -> None:
    # np.<ufunc>(t) keeps a tensor (on the graph when differentiable) for every row whose
    # forward is that ufunc: the map is derived from the rows, not listed
    from gradkit._api.numpy_dispatch import UFUNCS
    ufunc = prim.fwd
    assert ufunc in UFUNCS, f"row {prim.name!r} (numpy.{ufunc.__name__}) has no gradkit function"
    integer = prim.name.startswith("bitwise") or prim.name in ("gcd", "lcm")
    data = np.array([1, 2, 3]) if integer else np.array([0.25, 0.5, 1.5])
    args = [gk.tensor(data, requires_grad=prim.differentiable and not integer)
            for _ in range(ufunc.nin)]
    with np.errstate(all="ignore"):               # arccosh(0.25) is nan in both
        out = ufunc(*args)
        expected = ufunc(*[data] * ufunc.nin)
    assert isinstance(out, gk.Tensor)
    np.testing.assert_allclose(np.asarray(out.detach()), expected, equal_nan=True)
    if prim.differentiable and not integer and out.dtype.is_floating_point:
        assert out.requires_grad


def test_scipy_special_ufuncs_on_tensors_stay_on_the_graph() -> None:
    """SciPy's special functions are ufuncs: plain ``scipy.special.f(t)`` reaches the dispatch
    (three-input ufuncs such as betainc included) and differentiates like gradkit.scipy."""
    sp = pytest.importorskip("scipy.special")
    x0 = np.array([0.3, 0.7])

    def f(v):
        return np.sum(sp.gammaln(v + 1.0) + sp.erf(v) + sp.betainc(2.0, 3.0, v) + sp.i0(v) + sp.expit(v))

    x = gk.tensor(x0, requires_grad=True)
    y = f(x)
    assert isinstance(y, gk.Tensor)
    y.backward()
    fd = [(f(x0 + 1e-6 * e) - f(x0 - 1e-6 * e)) / 2e-6 for e in np.eye(2)]
    np.testing.assert_allclose(x.grad.numpy(), fd, rtol=1e-7)


def test_coverage_list_names_the_namespaces() -> None:
    """docs/numpy-coverage.md also lists gradkit.numpy's builders and every gradkit.scipy name."""
    import importlib
    from pathlib import Path
    doc = Path(__file__).resolve().parents[2] / "docs" / "numpy-coverage.md"
    listed = {line[3:-1] for line in doc.read_text().splitlines() if line.startswith("* `")}
    want = {f"gradkit.numpy.{n}" for n in ("array", "asarray", "r_", "c_")}
    for mod in ("special", "stats", "signal", "linalg", "integrate"):
        want |= {f"gradkit.scipy.{mod}.{n}" for n in importlib.import_module(f"gradkit.scipy.{mod}").__all__}
    assert want <= listed, "regenerate docs/numpy-coverage.md (python docs/gen_numpy_coverage.py)"
