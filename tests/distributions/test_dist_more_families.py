"""The families added for torch 2.13 parity (ContinuousBernoulli, FisherSnedecor,
GeneralizedPareto, Kumaraswamy, LKJCholesky, LogisticNormal, VonMises, Wishart) against
sources independent of PyTorch and of gradkit: scipy.stats, densities written out here and
integrated numerically (scipy.integrate.quad), and samples tested by their statistics (fixed
seeds, bounds of 6 standard errors or more). The shared cases in dist_cases.py check the same
families against PyTorch and by finite differences."""

from __future__ import annotations

import math
import re
import warnings
from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk
import gradkit.distributions as D

st = pytest.importorskip("scipy.stats")
from scipy import integrate, optimize, special  # noqa: E402

N = 100_000
SIX_SE_HALF = 6 * math.sqrt(0.25 / N)
A = np.array


def t(x: Any) -> gk.Tensor:
    return gk.tensor(np.asarray(x, dtype=np.float64))


def quad(f: Callable[[float], float], lo: float, hi: float) -> float:
    return integrate.quad(f, lo, hi, epsabs=1e-13, epsrel=1e-12, limit=400)[0]


class NumericRef:
    """A law on [lo, hi] given by a density (normalized here): cdf by quadrature, ppf by root
    finding, mean, variance and entropy by quadrature."""

    def __init__(self, pdf: Callable[[float], float], lo: float, hi: float) -> None:
        self.lo, self.hi = lo, hi
        z = quad(pdf, lo, hi)
        self.pdf = lambda x: pdf(x) / z

    def cdf(self, x: float) -> float:
        return quad(self.pdf, self.lo, x)

    def ppf(self, q: float) -> float:
        return optimize.brentq(lambda x: self.cdf(x) - q, self.lo, self.hi, xtol=1e-14)

    def mean(self) -> float:
        return quad(lambda x: x * self.pdf(x), self.lo, self.hi)

    def var(self) -> float:
        m = self.mean()
        return quad(lambda x: (x - m) ** 2 * self.pdf(x), self.lo, self.hi)

    def entropy(self) -> float:
        return quad(lambda x: -self.pdf(x) * math.log(self.pdf(x)) if self.pdf(x) > 0 else 0.0,
                    self.lo, self.hi)


def cb_ref(p: float) -> NumericRef:
    return NumericRef(lambda x: p ** x * (1 - p) ** (1 - x), 0.0, 1.0)


def kuma_ref(a: float, b: float) -> NumericRef:
    return NumericRef(lambda x: a * b * x ** (a - 1) * (1 - x ** a) ** (b - 1), 0.0, 1.0)


# --- values against scipy.stats and quadrature -------------------------------------------------

@pytest.mark.parametrize("p", [0.03, 0.2, 0.4995, 0.5, 0.5008, 0.77, 0.999])
def test_continuous_bernoulli_against_quadrature(p: float) -> None:
    """Inside PyTorch's lims (0.499, 0.501) gradkit uses its Taylor series: still 1e-7 close."""
    d, ref = D.ContinuousBernoulli(t(p)), cb_ref(p)
    x = A([0.0, 0.1, 0.5, 0.93, 1.0])
    np.testing.assert_allclose(d.log_prob(t(x)).numpy(), np.log([ref.pdf(v) for v in x]), rtol=1e-9,
                               atol=1e-13)
    np.testing.assert_allclose(d.cdf(t(x)).numpy(), [ref.cdf(v) for v in x], rtol=1e-8, atol=1e-12)
    q = A([0.05, 0.5, 0.9])
    np.testing.assert_allclose(d.icdf(t(q)).numpy(), [ref.ppf(v) for v in q], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(d.mean.item(), ref.mean(), rtol=1e-9)
    np.testing.assert_allclose(d.variance.item(), ref.var(), rtol=1e-7)
    np.testing.assert_allclose(d.entropy().item(), ref.entropy(), rtol=1e-7, atol=1e-9)
    logits = D.ContinuousBernoulli(logits=t(math.log(p / (1 - p))))
    np.testing.assert_allclose(logits.log_prob(t(x)).numpy(), d.log_prob(t(x)).numpy(), rtol=1e-9,
                               atol=1e-14)


def test_fisher_snedecor_against_scipy() -> None:
    df1, df2 = A([1.5, 3.0, 7.0]), A([5.0, 9.0, 12.0])
    x = A([0.3, 2.0, 1.1])
    d, ref = D.FisherSnedecor(t(df1), t(df2)), st.f(df1, df2)
    np.testing.assert_allclose(d.log_prob(t(x)).numpy(), ref.logpdf(x), rtol=1e-11)
    np.testing.assert_allclose(d.mean.numpy(), ref.mean(), rtol=1e-12)
    np.testing.assert_allclose(d.variance.numpy(), ref.var(), rtol=1e-12)
    # undefined moments: nan (PyTorch's answer) where SciPy says inf
    d = D.FisherSnedecor(t([3.0, 3.0]), t([1.5, 3.0]))
    assert np.isnan(d.mean.numpy()[0]) and np.isnan(d.variance.numpy()).all()
    assert np.isnan(D.FisherSnedecor(t(2.0), t(3.0)).mode.item())
    np.testing.assert_allclose(D.FisherSnedecor(t(5.0), t(3.0)).mode.item(), 3 / 5 * 3 / 5)


@pytest.mark.parametrize("c", [0.3, 0.0, -0.25, 1.2, 1e-9])
def test_generalized_pareto_against_scipy(c: float) -> None:
    loc, scale = 0.5, 1.5
    d, ref = D.GeneralizedPareto(t(loc), t(scale), t(c)), st.genpareto(c, loc, scale)
    x = A([0.6, 1.5, 3.0, 5.9])
    np.testing.assert_allclose(d.log_prob(t(x)).numpy(), ref.logpdf(x), rtol=1e-10)
    np.testing.assert_allclose(d.cdf(t(x)).numpy(), ref.cdf(x), rtol=1e-10)
    np.testing.assert_allclose(d.log_survival_function(t(x)).numpy(), ref.logsf(x), rtol=1e-10)
    q = A([0.05, 0.5, 0.9])
    np.testing.assert_allclose(d.icdf(t(q)).numpy(), ref.ppf(q), rtol=1e-10)
    np.testing.assert_allclose(d.entropy().item(), ref.entropy(), rtol=1e-10)
    if c < 0.5:
        np.testing.assert_allclose(d.mean.item(), ref.mean(), rtol=1e-10)
        np.testing.assert_allclose(d.variance.item(), ref.var(), rtol=1e-10)
    else:
        assert math.isnan(d.variance.item())


@pytest.mark.parametrize("a,b", [(0.5, 0.7), (2.0, 2.0), (5.0, 1.5), (1.0, 3.0)])
def test_kumaraswamy_against_quadrature(a: float, b: float) -> None:
    d, ref = D.Kumaraswamy(t(a), t(b)), kuma_ref(a, b)
    x = A([0.05, 0.3, 0.5, 0.9])
    np.testing.assert_allclose(d.log_prob(t(x)).numpy(), np.log([ref.pdf(v) for v in x]), rtol=1e-10)
    np.testing.assert_allclose(d.cdf(t(x)).numpy(), [ref.cdf(v) for v in x], rtol=1e-8)
    q = A([0.05, 0.5, 0.9])
    np.testing.assert_allclose(d.icdf(t(q)).numpy(), [ref.ppf(v) for v in q], rtol=1e-8)
    np.testing.assert_allclose(d.mean.item(), ref.mean(), rtol=1e-9)
    np.testing.assert_allclose(d.variance.item(), ref.var(), rtol=1e-8)
    np.testing.assert_allclose(d.entropy().item(), ref.entropy(), rtol=1e-8, atol=1e-10)


def test_von_mises_against_scipy() -> None:
    loc, kappa = A([0.0, 1.0, -2.5, 0.3]), A([0.5, 3.0, 20.0, 700.0])
    x = A([[0.3, 2.0, -3.0, 0.31], [7.0, 1.0, 0.0, 0.2]])
    d = D.VonMises(t(loc), t(kappa))
    # SciPy's density is 2 pi periodic: the angles are wrapped into its window around loc
    want = st.vonmises(kappa, loc=loc).logpdf(np.mod(x - loc + np.pi, 2 * np.pi) - np.pi + loc)
    np.testing.assert_allclose(d.log_prob(t(x)).numpy(), want, rtol=1e-11)
    np.testing.assert_allclose(d.variance.numpy(), 1 - special.i1e(kappa) / special.i0e(kappa),
                               rtol=1e-12)
    # circular variance = 1 - |E exp(i theta)|, by quadrature
    k = 3.0
    r = quad(lambda th: math.cos(th) * st.vonmises(k).pdf(th), -math.pi, math.pi)
    np.testing.assert_allclose(D.VonMises(t(0.0), t(k)).variance.item(), 1 - r, rtol=1e-10)
    assert np.array_equal(d.mean.numpy(), loc) and np.array_equal(d.mode.numpy(), loc)


def test_wishart_against_scipy() -> None:
    cov = A([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])
    x = A([[1.0, 0.2, 0.0], [0.2, 3.0, 0.5], [0.0, 0.5, 2.0]])
    for df in (2.5, 3.0, 7.5):
        ref = st.wishart(df, cov)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # df < 3: the low-df warning
            ds = [D.Wishart(t(df), covariance_matrix=t(cov)),
                  D.Wishart(t(df), precision_matrix=t(np.linalg.inv(cov))),
                  D.Wishart(df, scale_tril=t(np.linalg.cholesky(cov)))]
        for d in ds:
            np.testing.assert_allclose(d.log_prob(t(x)).item(), ref.logpdf(x), rtol=1e-10)
            np.testing.assert_allclose(d.entropy().item(), ref.entropy(), rtol=1e-10)
            np.testing.assert_allclose(d.mean.numpy(), ref.mean(), rtol=1e-10)
            np.testing.assert_allclose(d.variance.numpy(), ref.var(), rtol=1e-10)
            np.testing.assert_allclose(d.covariance_matrix.numpy(), cov, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(cov), rtol=1e-9)
            if df > 4:
                np.testing.assert_allclose(d.mode.numpy(), ref.mode(), rtol=1e-10)
            else:
                assert np.isnan(d.mode.numpy()).all()


def test_lkj_cholesky_is_a_density_in_the_correlation() -> None:
    """For dim 2, L = [[1, 0], [r, sqrt(1 - r^2)]]: log_prob is a density in r, the marginal
    r ~ 2 Beta(eta, eta) - 1."""
    for eta in (0.5, 1.0, 3.0):
        d = D.LKJCholesky(2, t(eta))
        r = A([-0.9, -0.2, 0.4, 0.95])
        L = np.zeros((4, 2, 2))
        L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = 1.0, r, np.sqrt(1 - r ** 2)
        want = st.beta(eta, eta).logpdf((r + 1) / 2) - math.log(2)
        np.testing.assert_allclose(d.log_prob(t(L)).numpy(), want, rtol=1e-10)


def test_lkj_cholesky_normalized_in_three_dimensions() -> None:
    """log_prob(L) is the LKJ density of C = L L^T, det(C)^(eta - 1) / c_d(eta) with c_d from
    Lewandowski, Kurowicka and Joe (2009, the onion method's constant), times the Jacobian
    prod_i L_ii^(d - 1 - i) of the map from L's free (off-diagonal) entries to C's."""
    eta, dim = 2.5, 3
    C = A([[1.0, 0.3, -0.2], [0.3, 1.0, 0.5], [-0.2, 0.5, 1.0]])
    L = np.linalg.cholesky(C)
    # c_d(eta) = 2^{sum_k (2 eta - 2 + d - k)(d - k)} prod_k B(eta + (d - k - 1)/2, same)^(d - k)
    log_c = 0.0
    for k in range(1, dim):
        b = eta + (dim - 1 - k) / 2
        log_c += (2 * eta - 2 + dim - k) * (dim - k) * math.log(2)
        log_c += (dim - k) * (2 * special.gammaln(b) - special.gammaln(2 * b))
    log_density_corr = (eta - 1) * math.log(np.linalg.det(C)) - log_c
    jac = sum((dim - 1 - i) * math.log(L[i, i]) for i in range(1, dim))
    got = D.LKJCholesky(dim, t(eta)).log_prob(t(L)).item()
    np.testing.assert_allclose(got, log_density_corr + jac, rtol=1e-10)


# --- samples ------------------------------------------------------------------------------------

CONTINUOUS = [
    ("FisherSnedecor", lambda: D.FisherSnedecor(t(3.0), t(7.5)), lambda: st.f(3.0, 7.5)),
    ("GeneralizedPareto", lambda: D.GeneralizedPareto(t(0.5), t(1.5), t(0.3)),
     lambda: st.genpareto(0.3, 0.5, 1.5)),
    ("GeneralizedPareto-negative", lambda: D.GeneralizedPareto(t(0.5), t(1.5), t(-0.4)),
     lambda: st.genpareto(-0.4, 0.5, 1.5)),
    ("VonMises", lambda: D.VonMises(t(0.0), t(2.0)), lambda: st.vonmises(2.0)),
    ("VonMises-tiny", lambda: D.VonMises(t(0.0), t(1e-7)), lambda: st.vonmises(1e-7)),
    ("ContinuousBernoulli", lambda: D.ContinuousBernoulli(t(0.2)), lambda: cb_ref(0.2)),
    ("Kumaraswamy", lambda: D.Kumaraswamy(t(2.0), t(0.7)), lambda: kuma_ref(2.0, 0.7)),
]
RSAMPLE = {"FisherSnedecor", "GeneralizedPareto", "GeneralizedPareto-negative",
           "ContinuousBernoulli", "Kumaraswamy"}


@pytest.mark.parametrize("method", ["sample", "rsample"])
@pytest.mark.parametrize("name,make,ref", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_empirical_cdf(name: str, make: Any, ref: Any, method: str) -> None:
    d, r = make(), ref()
    if method == "rsample" and name not in RSAMPLE:
        assert not d.has_rsample
        with pytest.raises(NotImplementedError):
            d.rsample()
        return
    gk.manual_seed(2026)
    x = getattr(d, method)((N,)).detach().numpy()
    assert x.shape == (N,)
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        frac = np.mean(x <= r.ppf(q))
        assert abs(frac - q) < SIX_SE_HALF, (q, frac)


def test_von_mises_samples_wrap_and_follow_loc() -> None:
    """Samples lie in [-pi, pi); with loc near pi they wrap: their circular mean is loc."""
    gk.manual_seed(5)
    d = D.VonMises(t([3.0, -1.0]), t([4.0, 50.0]))
    x = d.sample((N,)).numpy()
    assert x.shape == (N, 2) and x.min() >= -math.pi and x.max() < math.pi
    angle = np.angle(np.exp(1j * x).mean(0))
    np.testing.assert_allclose(angle, [3.0, -1.0], atol=0.02)
    r = np.abs(np.exp(1j * x).mean(0))
    np.testing.assert_allclose(1 - r, d.variance.numpy(), atol=6 * 0.5 / math.sqrt(N))
    assert d.sample().dtype == gk.float64
    assert D.VonMises(t(0.5), t(2.0)).sample().shape == ()   # a 0-d batch, no sample shape
    assert D.VonMises(0.5, 2.0).sample((3,)).shape == (3,)
    assert D.VonMises(gk.zeros(2), gk.ones(2)).sample().dtype == gk.float32


def test_logistic_normal_samples() -> None:
    """The inverse stick-breaking of the samples is Normal(loc, scale), coordinate by coordinate."""
    loc, scale = A([0.5, -1.0, 0.2]), A([1.0, 0.5, 2.0])
    d = D.LogisticNormal(t(loc), t(scale))
    gk.manual_seed(6)
    for method in ("sample", "rsample"):
        x = getattr(d, method)((N,)).detach().numpy()
        assert x.shape == (N, 4) and np.all(x > 0)
        np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-12)
        # x_i = sigmoid(y_i - log(K - i)) of the remaining stick (K = 3)
        rest = 1 - np.concatenate([np.zeros((N, 1)), np.cumsum(x[:, :-1], -1)], -1)[:, :3]
        y = special.logit(x[:, :3] / rest) + np.log(3 - np.arange(3))
        for i in range(3):
            ref = st.norm(loc[i], scale[i])
            for q in (0.05, 0.5, 0.95):
                assert abs(np.mean(y[:, i] <= ref.ppf(q)) - q) < SIX_SE_HALF


@pytest.mark.parametrize("method", ["sample", "rsample"])
def test_wishart_sample_moments(method: str) -> None:
    cov = A([[2.0, 0.3], [0.3, 1.0]])
    df = 4.5
    d = D.Wishart(t(df), covariance_matrix=t(cov))
    gk.manual_seed(7)
    x = getattr(d, method)((N,)).detach().numpy()
    assert x.shape == (N, 2, 2)
    np.testing.assert_allclose(x, np.swapaxes(x, -1, -2), atol=1e-12)
    assert np.all(np.linalg.eigvalsh(x) > 0)
    ref = st.wishart(df, cov)
    se = np.sqrt(ref.var() / N)
    assert np.all(np.abs(x.mean(0) - ref.mean()) < 6 * se)
    # the log-determinant's mean: E log det X = mvdigamma(df/2) + p log 2 + log det cov
    want = special.digamma(df / 2) + special.digamma((df - 1) / 2) + 2 * math.log(2) \
        + math.log(np.linalg.det(cov))
    logdet = np.linalg.slogdet(x)[1]
    assert abs(logdet.mean() - want) < 6 * logdet.std() / math.sqrt(N)


def test_lkj_cholesky_samples() -> None:
    """Samples are Cholesky factors of correlation matrices whose off-diagonal correlations
    have the marginal 2 Beta(eta - 1 + d/2, same) - 1 (Lewandowski, Kurowicka and Joe, 2009).
    PyTorch 2.13's sampler fails this for the pairs outside the first two rows."""
    eta, dim = 1.5, 4
    d = D.LKJCholesky(dim, t(eta))
    gk.manual_seed(8)
    L = d.sample((N // 4,)).numpy()
    assert L.shape == (N // 4, dim, dim)
    assert bool(D.constraints.corr_cholesky.check(t(L)).all())
    C = L @ np.swapaxes(L, -1, -2)
    b = eta + (dim - 2) / 2
    ref = st.beta(b, b)
    n = N // 4
    for i, j in [(1, 0), (2, 1), (3, 0), (3, 2)]:
        r = (C[:, i, j] + 1) / 2
        for q in (0.1, 0.5, 0.9):
            assert abs(np.mean(r <= ref.ppf(q)) - q) < 6 * math.sqrt(0.25 / n), (i, j, q)


def test_seeded_samples_repeat() -> None:
    for make in (lambda: D.VonMises(t([0.0, 1.0]), t([0.5, 9.0])), lambda: D.LKJCholesky(3, t(2.0)),
                 lambda: D.Wishart(t(3.5), scale_tril=t(np.eye(2))),
                 lambda: D.FisherSnedecor(t(2.0), t(3.0))):
        gk.manual_seed(42)
        a = make().sample((3,)).numpy()
        gk.manual_seed(42)
        np.testing.assert_array_equal(make().sample((3,)).numpy(), a)


# --- arguments and validation -------------------------------------------------------------------

def test_argument_errors() -> None:
    with pytest.raises(ValueError, match=re.escape(
            "Expected dim to be an integer greater than or equal to 2. Found dim=1.")):
        D.LKJCholesky(1, 1.0)
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.ContinuousBernoulli()
    with pytest.raises(ValueError, match="The parameter probs has invalid values"):
        D.ContinuousBernoulli(t(1.5), validate_args=True)
    with pytest.raises(AssertionError, match="Exactly one of covariance_matrix or precision_matrix "
                                             "or scale_tril may be specified."):
        D.Wishart(t(3.0))
    with pytest.raises(ValueError, match="scale_tril must be at least two-dimensional"):
        D.Wishart(t(3.0), covariance_matrix=t([1.0, 2.0]))
    with pytest.raises(ValueError, match=re.escape("Value of df=1.5 expected to be greater than "
                                                   "ndim - 1 = 2.")):
        D.Wishart(1.5, covariance_matrix=t(np.eye(3)))
    with pytest.warns(UserWarning, match="Low df values detected"):
        D.Wishart(2.5, covariance_matrix=t(np.eye(3)))


@pytest.mark.parametrize("make,param", [
    # PyTorch's message too: FisherSnedecor's Gamma(df1 / 2, df1) validates first
    (lambda: D.FisherSnedecor(t(-1.0), t(2.0), validate_args=True), "concentration"),
    (lambda: D.GeneralizedPareto(t(0.0), t(-1.0), t(0.1), validate_args=True), "scale"),
    (lambda: D.Kumaraswamy(t(1.0), t(0.0), validate_args=True), "concentration0"),
    (lambda: D.VonMises(t(0.0), t(-2.0), validate_args=True), "concentration"),
    (lambda: D.LKJCholesky(3, t(0.0), validate_args=True), "concentration"),
    (lambda: D.LogisticNormal(t([0.0]), t([-1.0]), validate_args=True), "scale"),
    (lambda: D.Wishart(t(3.0), covariance_matrix=t([[1.0, 2.0], [2.0, 1.0]]), validate_args=True),
     "covariance_matrix"),
])
def test_parameter_constraints(make: Any, param: str) -> None:
    with pytest.raises(ValueError, match=f"Expected parameter {param} "):
        make()


@pytest.mark.parametrize("d,bad", [
    (lambda: D.ContinuousBernoulli(t(0.3), validate_args=True), 1.5),
    (lambda: D.FisherSnedecor(t(2.0), t(3.0), validate_args=True), -1.0),
    (lambda: D.GeneralizedPareto(t(1.0), t(1.0), t(-0.5), validate_args=True), 3.5),
    (lambda: D.Kumaraswamy(t(2.0), t(3.0), validate_args=True), 1.2),
    (lambda: D.LKJCholesky(2, t(2.0), validate_args=True), [[1.0, 0.0], [0.5, 0.5]]),
    (lambda: D.LogisticNormal(t([0.0]), t([1.0]), validate_args=True), [0.5, 0.6]),
    (lambda: D.Wishart(t(3.0), scale_tril=t(np.eye(2)), validate_args=True), [[1.0, 2.0], [2.0, 1.0]]),
])
def test_value_outside_support(d: Any, bad: Any) -> None:
    with pytest.raises(ValueError, match="Expected value argument .* to be within the support"):
        d().log_prob(t(bad))


def test_generalized_pareto_support_depends_on_concentration() -> None:
    d = D.GeneralizedPareto(t([0.0, 1.0]), t([2.0, 2.0]), t([0.5, -0.5]))
    s = d.support
    assert s.check(t([100.0, 4.9])).numpy().tolist() == [True, True]
    assert s.check(t([-0.1, 5.1])).numpy().tolist() == [False, False]


def test_expand_keeps_parameters_and_lims() -> None:
    cb = D.ContinuousBernoulli(logits=t([0.2, -1.0]), lims=(0.4, 0.6)).expand((3, 2))
    assert cb._lims == (0.4, 0.6) and tuple(cb.batch_shape) == (3, 2)
    assert cb.param_shape == gk.Size((3, 2))
    w = D.Wishart(t(4.0), covariance_matrix=t(np.eye(2))).expand((5,))
    assert tuple(w.batch_shape) == (5,) and tuple(w.sample().shape) == (5, 2, 2)
    lkj = D.LKJCholesky(3, t([1.0, 2.0])).expand((4, 2))
    assert tuple(lkj.sample().shape) == (4, 2, 3, 3) and lkj.dim == 3
