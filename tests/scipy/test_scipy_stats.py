"""gradkit.scipy.stats: SciPy's values; gradients in every parameter against finite differences
(and against jax.scipy.stats where JAX is installed)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss

import gradkit as gk
from gradkit.autograd import gradcheck, gradgradcheck
from gradkit.scipy import stats as G

RNG = np.random.default_rng(1)


def t(a, grad=True):
    return gk.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


X = RNG.normal(size=5)
POS = RNG.uniform(0.3, 3.0, 5)
U = RNG.uniform(0.05, 0.95, 5)

#: (name, x, shape parameters and loc/scale, which parameters the CDF is differentiable in)
CONTINUOUS = [
    ("norm", X, (0.3, 1.7), (0, 1, 2)),
    ("t", X, (3.5, 0.2, 1.3), (0, 2, 3)),
    ("gamma", POS, (2.3, 0.1, 1.2), (0, 2, 3)),
    ("chi2", POS, (3.0, 0.05, 1.1), (0, 2, 3)),
    ("beta", U, (2.2, 1.5, -0.01, 1.05), (0, 3, 4)),
    ("expon", POS, (0.1, 2.0), (0, 1, 2)),
    ("laplace", X, (0.2, 1.5), (0, 1, 2)),
    ("logistic", X, (0.2, 1.5), (0, 1, 2)),
    ("cauchy", X, (0.2, 1.5), (0, 1, 2)),
    ("uniform", U, (-0.1, 1.3), (0, 1, 2)),
    ("lognorm", POS, (0.7, 0.05, 1.3), (0, 1, 2, 3)),
]
IDS = [c[0] for c in CONTINUOUS]
METHODS = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


@pytest.mark.parametrize("name,x,params,_", CONTINUOUS, ids=IDS)
@pytest.mark.parametrize("method", METHODS)
def test_continuous_values(name, x, params, _, method):
    got = getattr(getattr(G, name), method)(t(x), *params)
    ref = getattr(getattr(ss, name), method)(x, *params)
    np.testing.assert_allclose(got.detach().numpy(), ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,x,params,_", CONTINUOUS, ids=IDS)
def test_continuous_ppf(name, x, params, _):
    dist = getattr(G, name)
    got = dist.ppf(t(U), *params)
    np.testing.assert_allclose(got.detach().numpy(), getattr(ss, name).ppf(U, *params), rtol=1e-9)
    np.testing.assert_allclose(dist.isf(t(U), *params).detach().numpy(),
                               getattr(ss, name).isf(U, *params), rtol=1e-9)
    assert gradcheck(lambda q: dist.ppf(q, *params), (t(U),))


@pytest.mark.parametrize("name,x,params,_", CONTINUOUS, ids=IDS)
def test_logpdf_gradients_in_every_parameter(name, x, params, _):
    fn = getattr(G, name).logpdf
    inputs = (t(x),) + tuple(t(p) for p in params)
    assert gradcheck(lambda *a: fn(*a), inputs)
    assert gradgradcheck(lambda *a: fn(*a), inputs)


@pytest.mark.parametrize("name,x,params,diff", CONTINUOUS, ids=IDS)
@pytest.mark.parametrize("method", ["cdf", "logcdf", "sf", "logsf"])
def test_cdf_gradients(name, x, params, diff, method):
    fn = getattr(getattr(G, name), method)
    values = (x,) + params
    inputs = tuple(t(v, grad=i in diff) for i, v in enumerate(values))
    assert gradcheck(lambda *a: fn(*a), inputs)


def test_cdf_gradient_in_a_shape_parameter():
    # d/da gamma.cdf(1; a=2) = d/da P(2, 1): -0.27619605 (JAX 0.10, float64)
    a = t(2.0)
    G.gamma.cdf(t(1.0, grad=False), a).backward()
    np.testing.assert_allclose(a.grad.numpy(), -0.27619605, rtol=1e-7)
    with pytest.raises(NotImplementedError):           # the incomplete beta's shape: none
        G.beta.cdf(t(0.3), t(2.0), 3.0).backward()


def test_broadcasting_and_keywords():
    x, loc, scale = RNG.normal(size=(4, 3)), RNG.normal(size=(1, 3)), RNG.uniform(1, 2, (4, 1))
    got = G.norm.logpdf(t(x), loc=t(loc), scale=t(scale))
    np.testing.assert_allclose(got.detach().numpy(), ss.norm.logpdf(x, loc=loc, scale=scale))
    got = G.t.logpdf(t(x), df=t(np.full((1, 3), 4.0)), loc=loc, scale=scale)
    np.testing.assert_allclose(got.detach().numpy(), ss.t.logpdf(x, 4.0, loc, scale))


K = np.array([0.0, 1.0, 3.0, 5.0, 2.5, -1.0])
DISCRETE = [("poisson", (2.3,), (1,)), ("binom", (6, 0.3), (2,)), ("nbinom", (3.5, 0.4), (2,)),
            ("bernoulli", (0.3,), (1,)), ("geom", (0.3,), (1,))]


@pytest.mark.parametrize("name,params,diff", DISCRETE, ids=[d[0] for d in DISCRETE])
@pytest.mark.parametrize("method", ["logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"])
def test_discrete(name, params, diff, method):
    fn = getattr(getattr(G, name), method)
    with np.errstate(all="ignore"):
        ref = getattr(getattr(ss, name), method)(K, *params)
    np.testing.assert_allclose(fn(t(K), *params).detach().numpy(), ref, rtol=1e-9, atol=1e-12)
    k = np.array([0.0, 1.0, 2.0, 3.0]) if name != "bernoulli" else np.array([0.0])
    if name == "geom":
        k = k + 1.0
    inputs = (t(k, grad=False),) + tuple(t(p, grad=i + 1 in diff) for i, p in enumerate(params))
    assert gradcheck(lambda *a: fn(*a), inputs)


def test_poisson_logpmf_gradient_in_mu_second_order():
    assert gradgradcheck(lambda mu: G.poisson.logpmf(np.array([0.0, 2.0, 4.0]), mu),
                         (t([1.5, 2.5, 3.5]),))


def test_dirichlet():
    alpha = np.array([1.5, 2.0, 3.0])
    x = np.array([[0.2, 0.3], [0.3, 0.1], [0.5, 0.6]])     # components along the first axis
    np.testing.assert_allclose(G.dirichlet.logpdf(t(x), alpha).detach().numpy(),
                               ss.dirichlet.logpdf(x, alpha))
    np.testing.assert_allclose(G.dirichlet.pdf(t(x[:, 0]), alpha).detach().numpy(),
                               ss.dirichlet.pdf(x[:, 0], alpha))
    assert gradcheck(lambda u, a: G.dirichlet.logpdf(u / u.sum(0), a), (t(x), t(alpha)))
    assert gradgradcheck(lambda a: G.dirichlet.logpdf(x, a), (t(alpha),))
    assert G.dirichlet.rvs(alpha, size=2, random_state=0).shape == (2, 3)   # SciPy's own


@pytest.mark.parametrize("allow_singular", [False, True])
@pytest.mark.parametrize("xshape", [(3,), (5, 3)])
def test_multivariate_normal(allow_singular, xshape):
    a = RNG.normal(size=(3, 3))
    cov = a @ a.T + np.eye(3)
    mean = RNG.normal(size=3)
    x = RNG.normal(size=xshape)
    ref = ss.multivariate_normal.logpdf(x, mean, cov, allow_singular=allow_singular)
    got = G.multivariate_normal.logpdf(t(x), mean, cov, allow_singular=allow_singular)
    assert got.shape == np.shape(ref)
    np.testing.assert_allclose(got.detach().numpy(), ref)

    def f(u, m, c):
        return G.multivariate_normal.logpdf(u, m, 0.5 * (c + c.T), allow_singular=allow_singular)
    assert gradcheck(f, (t(x), t(mean), t(cov)))
    assert gradgradcheck(f, (t(x), t(mean), t(cov)))
    np.testing.assert_allclose(G.multivariate_normal.pdf(t(x), mean, cov).detach().numpy(),
                               ss.multivariate_normal.pdf(x, mean, cov))


def test_multivariate_normal_singular_and_entropy():
    cov = np.diag([1.0, 2.0, 0.0])
    x = np.array([0.3, -0.2, 0.0])
    np.testing.assert_allclose(
        G.multivariate_normal.logpdf(t(x), np.zeros(3), cov, allow_singular=True).detach().numpy(),
        ss.multivariate_normal.logpdf(x, np.zeros(3), cov, allow_singular=True))
    a = RNG.normal(size=(3, 3))
    c = a @ a.T + np.eye(3)
    np.testing.assert_allclose(G.multivariate_normal.entropy(np.zeros(3), t(c)).detach().numpy(),
                               ss.multivariate_normal.entropy(np.zeros(3), c))
    assert gradcheck(lambda m: G.multivariate_normal.entropy(None, 0.5 * (m + m.T)), (t(c),))


def test_plain_inputs_give_scipy_results():
    assert G.norm.logpdf(0.5) == ss.norm.logpdf(0.5)
    assert isinstance(G.gamma.cdf(np.array([1.0, 2.0]), 2.0), np.ndarray)
    assert G.norm.mean(loc=2.0) == 2.0
    assert G.truncnorm is ss.truncnorm             # the rest of scipy.stats passes through


def test_a_differentiable_tensor_refuses_a_scipy_only_method():
    with pytest.raises(TypeError, match="detach"):
        G.norm.rvs(loc=t(1.0))




@pytest.mark.parametrize("name,args", [("norm", (X, 0.3, 1.7)), ("t", (X, 3.5, 0.2, 1.3)),
                                       ("gamma", (POS, 2.3, 0.1, 1.2)), ("beta", (U, 2.2, 1.5)),
                                       ("expon", (POS, 0.1, 2.0)), ("laplace", (X, 0.2, 1.5)),
                                       ("logistic", (X, 0.2, 1.5)), ("cauchy", (X, 0.2, 1.5)),
                                       ("chi2", (POS, 3.0, 0.05, 1.1))])
def test_logpdf_gradients_match_jax(name, args):
    jx = pytest.importorskip("jax")
    jax_stats = pytest.importorskip("jax.scipy.stats")
    jx.config.update("jax_enable_x64", True)
    jfn = getattr(jax_stats, name).logpdf
    argnums = tuple(range(len(args)))
    jgrads = jx.grad(lambda *a: jfn(*a).sum(), argnums=argnums)(
        *[jx.numpy.asarray(np.broadcast_to(a, X.shape).astype(np.float64)) for a in args])
    tensors = [t(np.broadcast_to(a, X.shape)) for a in args]
    getattr(G, name).logpdf(*tensors).sum().backward()
    for tensor, jg in zip(tensors, jgrads):
        np.testing.assert_allclose(tensor.grad.numpy(), np.asarray(jg), rtol=1e-9, atol=1e-12)


def test_poisson_and_mvn_gradients_match_jax():
    jx = pytest.importorskip("jax")
    jax_stats = pytest.importorskip("jax.scipy.stats")
    jx.config.update("jax_enable_x64", True)
    k = np.array([0.0, 2.0, 4.0])
    mu = np.array([1.5, 2.5, 3.5])
    jg = jx.grad(lambda m: jax_stats.poisson.logpmf(k, m).sum())(jx.numpy.asarray(mu))
    m = t(mu)
    G.poisson.logpmf(k, m).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), np.asarray(jg), rtol=1e-10)
    a = RNG.normal(size=(3, 3))
    cov = a @ a.T + np.eye(3)
    x = RNG.normal(size=(4, 3))
    jgx, jgc = jx.grad(lambda u, c: jax_stats.multivariate_normal.logpdf(u, np.zeros(3), c).sum(),
                       argnums=(0, 1))(jx.numpy.asarray(x), jx.numpy.asarray(cov))
    tx, tc = t(x), t(cov)
    G.multivariate_normal.logpdf(tx, np.zeros(3), tc).sum().backward()
    np.testing.assert_allclose(tx.grad.numpy(), np.asarray(jgx), rtol=1e-9)
    # NOTE: JAX's gradient in cov is the unsymmetrized one; compare the symmetric parts.
    sym = lambda g: 0.5 * (g + g.T)  # noqa: E731
    np.testing.assert_allclose(sym(tc.grad.numpy()), sym(np.asarray(jgc)), rtol=1e-8, atol=1e-12)
