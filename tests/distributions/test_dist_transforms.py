"""Constraints' checks, transforms (forward, inverse, log|det J|) and biject_to/transform_to,
against PyTorch and against finite-difference Jacobians."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit as gk
import gradkit.distributions as D
from gradkit.distributions import constraints as C

X = np.array([[-1.5, -0.2, 0.0, 0.3, 2.0], [0.7, 1.0, -3.0, 0.5, 0.05]])


def t(x: Any) -> gk.Tensor:
    return gk.tensor(np.asarray(x, dtype=np.float64))


CONSTRAINTS = [
    ("real", lambda c: c.real, [0.0, np.nan, np.inf]),
    ("positive", lambda c: c.positive, [0.0, 1.0, -1.0]),
    ("nonnegative", lambda c: c.nonnegative, [0.0, 1.0, -1e-9]),
    ("unit_interval", lambda c: c.unit_interval, [0.0, 1.0, 1.5, -0.1]),
    ("interval", lambda c: c.interval(-1.0, 2.0), [-1.0, 2.0, 2.1]),
    ("half_open_interval", lambda c: c.half_open_interval(-1.0, 2.0), [-1.0, 2.0, 1.9]),
    ("greater_than", lambda c: c.greater_than(1.0), [1.0, 1.5]),
    ("greater_than_eq", lambda c: c.greater_than_eq(1.0), [1.0, 0.5]),
    ("less_than", lambda c: c.less_than(1.0), [1.0, 0.5]),
    ("boolean", lambda c: c.boolean, [0.0, 1.0, 0.5]),
    ("nonnegative_integer", lambda c: c.nonnegative_integer, [0.0, 3.0, -1.0, 1.5]),
    ("positive_integer", lambda c: c.positive_integer, [0.0, 3.0, 1.5]),
    ("integer_interval", lambda c: c.integer_interval(0, 4), [0.0, 4.0, 5.0, 2.5]),
    ("simplex", lambda c: c.simplex, [[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1]]),
    ("one_hot", lambda c: c.one_hot, [[0.0, 1.0], [1.0, 1.0], [0.5, 0.5]]),
    ("real_vector", lambda c: c.real_vector, [[0.0, np.nan], [1.0, 2.0]]),
    ("independent", lambda c: c.independent(c.positive, 1), [[1.0, 2.0], [1.0, -2.0]]),
    ("lower_triangular", lambda c: c.lower_triangular, [[[1.0, 0.0], [2.0, -1.0]], [[1.0, 1.0], [0.0, 1.0]]]),
    ("lower_cholesky", lambda c: c.lower_cholesky, [[[1.0, 0.0], [2.0, 1.0]], [[1.0, 0.0], [0.0, -1.0]]]),
    ("positive_definite", lambda c: c.positive_definite,
     [[[2.0, 0.5], [0.5, 1.0]], [[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.5], [0.0, 1.0]]]),
    ("positive_semidefinite", lambda c: c.positive_semidefinite,
     [[[1.0, 1.0], [1.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]),
    ("symmetric", lambda c: c.symmetric, [[[1.0, 2.0], [2.0, 1.0]], [[1.0, 2.0], [0.0, 1.0]]]),
    ("square", lambda c: c.square, [[[1.0, 2.0], [2.0, 1.0]]]),
    ("corr_cholesky", lambda c: c.corr_cholesky, [[[1.0, 0.0], [0.6, 0.8]], [[1.0, 0.0], [0.5, 0.5]]]),
]


@pytest.mark.parametrize("name,make,values", CONSTRAINTS, ids=[c[0] for c in CONSTRAINTS])
def test_constraint_check_against_torch(name: str, make: Any, values: Any) -> None:
    torch = pytest.importorskip("torch")
    got = make(C).check(t(values))
    want = make(torch.distributions.constraints).check(torch.tensor(values, dtype=torch.float64))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert repr(make(C)) == repr(make(torch.distributions.constraints))
    assert make(C).event_dim == make(torch.distributions.constraints).event_dim
    assert make(C).is_discrete == make(torch.distributions.constraints).is_discrete


def test_dependent_constraint() -> None:
    assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        C.dependent.check(t(0.0))
    assert repr(D.Uniform(t(0.0), t(1.0)).support).startswith("Interval(")


TRANSFORMS = [
    ("Exp", lambda T: T.ExpTransform(), X),
    ("Affine", lambda T: T.AffineTransform(0.5, -2.0), X),
    ("Affine-tensor", lambda T: T.AffineTransform(T._t([1.0, 2.0, 3.0, 4.0, 5.0]),
                                                  T._t([0.5, -1.0, 2.0, 3.0, -0.1])), X),
    ("Affine-event", lambda T: T.AffineTransform(0.5, T._t([0.5, -1.0, 2.0, 3.0, -0.1]), event_dim=1), X),
    ("Sigmoid", lambda T: T.SigmoidTransform(), X),
    ("Tanh", lambda T: T.TanhTransform(), X),
    ("Softplus", lambda T: T.SoftplusTransform(), X),
    ("Power", lambda T: T.PowerTransform(T._t(2.5)), np.abs(X) + 0.1),
    ("StickBreaking", lambda T: T.StickBreakingTransform(), X),
    ("Compose", lambda T: T.ComposeTransform([T.AffineTransform(0.5, 2.0), T.TanhTransform(),
                                               T.AffineTransform(1.0, 3.0)]), X),
    ("Compose-event", lambda T: T.ComposeTransform([T.ExpTransform(), T.StickBreakingTransform()]), X),
    ("Independent", lambda T: T.IndependentTransform(T.ExpTransform(), 1), X),
    ("Reshape", lambda T: T.ReshapeTransform((5,), (5, 1)), X),
    ("LowerCholesky", lambda T: T.LowerCholeskyTransform(), X[:, :4].reshape(2, 2, 2)),
    ("Softmax", lambda T: T.SoftmaxTransform(), X),
    ("Inverse", lambda T: T.SigmoidTransform().inv, np.clip(np.abs(X) / 4, 0.01, 0.99)),
    ("CorrCholesky", lambda T: T.CorrCholeskyTransform(), np.concatenate([X, X[:, :1] * 0.3], 1)),
    ("PositiveDefinite", lambda T: T.PositiveDefiniteTransform(), X[:, :4].reshape(2, 2, 2)),
    ("Cat", lambda T: T.CatTransform([T.ExpTransform(), T.SigmoidTransform(),
                                      T.AffineTransform(0.5, 2.0)], dim=1, lengths=[2, 1, 2]), X),
    ("Cat-event", lambda T: T.CatTransform([T.IndependentTransform(T.ExpTransform(), 1),
                                            T.SigmoidTransform()], dim=0), X),
    ("Stack", lambda T: T.StackTransform([T.ExpTransform(), T.TanhTransform()], dim=0), X),
    ("Stack-last", lambda T: T.StackTransform([T.ExpTransform()] * 4 + [T.SoftplusTransform()],
                                              dim=-1), X),
]


class _NS:
    def __init__(self, mod: Any, lib: Any) -> None:
        self.__dict__.update({k: getattr(mod, k) for k in dir(mod) if not k.startswith("__")})
        self._t = lambda v: lib.tensor(v, dtype=lib.float64)


@pytest.mark.parametrize("name,make,x", TRANSFORMS, ids=[c[0] for c in TRANSFORMS])
def test_transform_against_torch(name: str, make: Any, x: np.ndarray) -> None:
    torch = pytest.importorskip("torch")
    gt = make(_NS(D.transforms, gk))
    tt = make(_NS(torch.distributions.transforms, torch))
    gx, tx = t(x), torch.tensor(x, dtype=torch.float64)
    gy, ty = gt(gx), tt(tx)
    np.testing.assert_allclose(gy.numpy(), ty.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gt.inv(gy).numpy(), tt.inv(ty).numpy(), rtol=1e-9, atol=1e-12)
    assert tuple(gt.forward_shape(gx.shape)) == tuple(tt.forward_shape(tx.shape))
    assert gt.bijective == tt.bijective
    assert repr(gt.domain) == repr(tt.domain) and repr(gt.codomain) == repr(tt.codomain)
    # PyTorch gives no log-det for these either
    if name not in ("LowerCholesky", "Softmax", "PositiveDefinite"):
        np.testing.assert_allclose(gt.log_abs_det_jacobian(gx, gy).numpy(),
                                   tt.log_abs_det_jacobian(tx, ty).numpy(), rtol=1e-10, atol=1e-12)


ELEMENTWISE = ["Exp", "Affine", "Affine-tensor", "Sigmoid", "Tanh", "Softplus", "Power", "Compose"]


@pytest.mark.parametrize("name,make,x", [c for c in TRANSFORMS if c[0] in ELEMENTWISE],
                         ids=ELEMENTWISE)
def test_log_abs_det_jacobian_by_finite_differences(name: str, make: Any, x: np.ndarray) -> None:
    tr = make(_NS(D.transforms, gk))
    h = 1e-6
    dy = (tr(t(x + h)).numpy() - tr(t(x - h)).numpy()) / (2 * h)
    got = tr.log_abs_det_jacobian(t(x), tr(t(x))).numpy()
    np.testing.assert_allclose(got, np.log(np.abs(dy)), rtol=1e-6, atol=1e-7)


def test_stick_breaking_log_det_by_finite_differences() -> None:
    tr = D.StickBreakingTransform()
    x = X[0]
    J = np.empty((5, 5))
    h = 1e-6
    for j in range(5):
        e = np.zeros(5)
        e[j] = h
        J[:, j] = (tr(t(x + e)).numpy()[:-1] - tr(t(x - e)).numpy()[:-1]) / (2 * h)
    got = tr.log_abs_det_jacobian(t(x), tr(t(x))).item()
    np.testing.assert_allclose(got, np.linalg.slogdet(J)[1], rtol=1e-6)


def test_transforms_are_differentiable() -> None:
    x = t(X).requires_grad_()
    tr = D.ComposeTransform([D.AffineTransform(0.5, 2.0), D.TanhTransform()])
    assert gk.autograd.gradcheck(lambda v: tr.log_abs_det_jacobian(v, tr(v)), (x,))
    assert gk.autograd.gradcheck(lambda v: D.StickBreakingTransform()(v), (x,))


def test_cache() -> None:
    tr = D.ExpTransform().with_cache(1)
    x = t([0.5])
    y = tr(x)
    assert tr.inv(y) is x and tr(x) is y
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        D.AffineTransform(0.0, 1.0, cache_size=2)


BIJECT = [
    ("real", C.real, (2, 3)),
    ("positive", C.positive, (2, 3)),
    ("nonnegative", C.nonnegative, (2, 3)),
    ("greater_than", C.greater_than(2.0), (2, 3)),
    ("less_than", C.less_than(-1.0), (2, 3)),
    ("interval", C.interval(-1.0, 3.0), (2, 3)),
    ("unit_interval", C.unit_interval, (2, 3)),
    ("simplex", C.simplex, (2, 3)),
    ("real_vector", C.real_vector, (2, 3)),
    ("independent", C.independent(C.positive, 1), (2, 3)),
]


@pytest.mark.parametrize("name,constraint,shape", BIJECT, ids=[b[0] for b in BIJECT])
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_biject_to_lands_in_the_constraint(name: str, constraint: Any, shape: Any, registry: str) -> None:
    tr = getattr(D, registry)(constraint)
    gk.manual_seed(0)
    u = gk.randn(*shape, dtype=gk.float64) * 2
    y = tr(u)
    assert bool(constraint.check(y).all())
    if registry == "biject_to" or name != "simplex":
        assert tr.bijective or name in ("real", "real_vector")
        v = tr.inv(y)
        np.testing.assert_allclose(tr(v).numpy(), y.numpy(), rtol=1e-9)


def test_biject_to_against_torch() -> None:
    torch = pytest.importorskip("torch")
    for name, constraint, shape in BIJECT:
        tc = getattr(torch.distributions.constraints, name)
        if name in ("greater_than", "less_than", "interval", "independent"):
            continue   # constructed constraints: compared by their transforms' values below
        u = np.linspace(-2, 2, 6).reshape(shape)
        for reg in ("biject_to", "transform_to"):
            got = getattr(D, reg)(constraint)(t(u)).numpy()
            want = getattr(torch.distributions, reg)(tc)(torch.tensor(u)).numpy()
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{reg}({name})")
    u = np.linspace(-2, 2, 6)
    for g, w in [(C.interval(-1.0, 3.0), torch.distributions.constraints.interval(-1.0, 3.0)),
                 (C.greater_than(2.0), torch.distributions.constraints.greater_than(2.0)),
                 (C.less_than(-1.0), torch.distributions.constraints.less_than(-1.0))]:
        np.testing.assert_allclose(D.biject_to(g)(t(u)).numpy(),
                                   torch.distributions.biject_to(w)(torch.tensor(u)).numpy(), rtol=1e-12)


def test_unregistered_constraint() -> None:
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        D.biject_to(C.boolean)


def test_transformed_distribution_shapes_and_errors() -> None:
    base = D.Normal(gk.zeros(4, 3, dtype=gk.float64), 1.0)
    d = D.TransformedDistribution(base, [D.StickBreakingTransform()])
    assert d.batch_shape == gk.Size([4]) and d.event_shape == gk.Size([4])
    s = d.sample((2,))
    assert s.shape == gk.Size([2, 4, 4]) and bool(C.simplex.check(s).all())
    assert d.log_prob(s).shape == gk.Size([2, 4])
    with pytest.raises(ValueError, match="transforms must be a Transform or list"):
        D.TransformedDistribution(base, "exp")


def test_corr_cholesky_transform_log_det_by_finite_differences() -> None:
    """log|det dy/dx| over the D (D - 1) / 2 free entries of y (its strict lower triangle)."""
    x = np.array([0.3, -1.2, 0.8, 0.1, 2.0, -0.4])
    tr = D.CorrCholeskyTransform()
    rows, cols = np.tril_indices(4, -1)

    def free(v: np.ndarray) -> np.ndarray:
        return tr(t(v)).numpy()[rows, cols]
    h = 1e-6
    J = np.stack([(free(x + h * e) - free(x - h * e)) / (2 * h) for e in np.eye(6)], 1)
    y = tr(t(x))
    np.testing.assert_allclose(tr.log_abs_det_jacobian(t(x), y).item(),
                               np.linalg.slogdet(J)[1], rtol=1e-7)
    assert bool(C.corr_cholesky.check(y))
    np.testing.assert_allclose(tr.inv(y).numpy(), x, rtol=1e-10)
    np.testing.assert_allclose((y @ y.mT).diagonal().numpy(), np.ones(4), rtol=1e-12)


def test_cat_and_stack_transforms_invert_and_check() -> None:
    cat = D.CatTransform([D.ExpTransform(), D.AffineTransform(1.0, 2.0)], dim=-1, lengths=[3, 2])
    y = cat(t(X))
    np.testing.assert_allclose(y.numpy()[:, :3], np.exp(X[:, :3]))
    np.testing.assert_allclose(y.numpy()[:, 3:], 1.0 + 2.0 * X[:, 3:])
    np.testing.assert_allclose(cat.inv(y).numpy(), X, rtol=1e-12)
    np.testing.assert_allclose(cat.log_abs_det_jacobian(t(X), y).numpy()[:, :3], X[:, :3])
    assert cat.bijective and cat.event_dim == 0 and cat.length == 5
    with pytest.raises(AssertionError, match=r"x.size\(-1\) = 4 must equal length 5"):
        cat(t(X[:, :4]))
    with pytest.raises(AssertionError, match="lengths \\(1\\) must match transforms \\(2\\)"):
        D.CatTransform([D.ExpTransform(), D.ExpTransform()], lengths=[2])
    stack = D.StackTransform([D.ExpTransform(), D.AbsTransform()], dim=0)
    assert not stack.bijective
    np.testing.assert_allclose(stack(t(X)).numpy(), np.stack([np.exp(X[0]), np.abs(X[1])]))
    with pytest.raises(AssertionError, match=r"must equal len\(transforms\) 2"):
        stack(t(X[:1]))
    with pytest.raises(AssertionError, match="All elements of tseq must be Transform instances"):
        D.StackTransform([D.ExpTransform(), 3])
    assert cat.with_cache(1)._cache_size == 1 and stack.with_cache(1)._cache_size == 1


def test_cumulative_distribution_transform() -> None:
    st = pytest.importorskip("scipy.stats")
    d = D.Normal(t(0.5), t(2.0))
    tr = D.CumulativeDistributionTransform(d)
    x = np.array([-1.0, 0.5, 3.0])
    y = tr(t(x))
    np.testing.assert_allclose(y.numpy(), st.norm(0.5, 2.0).cdf(x), rtol=1e-12)
    np.testing.assert_allclose(tr.inv(y).numpy(), x, rtol=1e-10)
    np.testing.assert_allclose(tr.log_abs_det_jacobian(t(x), y).numpy(),
                               st.norm(0.5, 2.0).logpdf(x), rtol=1e-12)
    assert tr.domain is d.support and repr(tr.codomain) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert tr.with_cache(1).distribution is d
    # an Exponential pushed through its own cdf is uniform
    e = D.Exponential(t(1.5))
    u = D.TransformedDistribution(e, [D.CumulativeDistributionTransform(e)])
    np.testing.assert_allclose(u.log_prob(t([0.1, 0.5, 0.9])).numpy(), 0.0, atol=1e-12)


@pytest.mark.parametrize("constraint,value", [
    (C.corr_cholesky, [0.3, -1.0, 0.5]),
    (C.positive_definite, [[0.3, 2.0], [-1.0, 0.5]]),
    (C.positive_semidefinite, [[0.3, 2.0], [-1.0, 0.5]]),
    (C.cat([C.positive, C.unit_interval], 0, [2, 1]), [0.3, -1.0, 0.5]),
    (C.stack([C.positive, C.real, C.interval(-1.0, 2.0)], 0), [0.3, -1.0, 0.5]),
])
def test_new_transform_to_and_biject_to(constraint: Any, value: Any) -> None:
    torch = pytest.importorskip("torch")
    for name in ("transform_to", "biject_to"):
        try:
            ttr = getattr(torch.distributions, name)(_torch_constraint(torch, constraint))
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                getattr(D, name)(constraint)
            continue
        tr = getattr(D, name)(constraint)
        assert type(tr).__name__ == type(ttr).__name__
        y = tr(t(value))
        assert bool(constraint.check(y).all())
        np.testing.assert_allclose(y.numpy(), ttr(torch.tensor(value, dtype=torch.float64)).numpy(),
                                   rtol=1e-12)


def _torch_constraint(torch: Any, c: Any) -> Any:
    TC = torch.distributions.constraints
    if isinstance(c, type(C.cat([C.real]))):
        return TC.cat([_torch_constraint(torch, k) for k in c.cseq], c.dim, c.lengths)
    if isinstance(c, type(C.stack([C.real]))):
        return TC.stack([_torch_constraint(torch, k) for k in c.cseq], c.dim)
    if isinstance(c, type(C.interval(0.0, 1.0))):
        return TC.interval(c.lower_bound, c.upper_bound)
    return getattr(TC, {v: k for k, v in vars(C).items() if isinstance(v, C.Constraint)}[c])
