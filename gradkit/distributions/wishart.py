"""``Wishart(df, covariance_matrix=None, precision_matrix=None, scale_tril=None)``."""

from __future__ import annotations

import math
import warnings
from numbers import Number
from typing import Any

import gradkit as gk

from . import constraints
from .chi2 import Chi2
from .exp_family import ExponentialFamily
from .multivariate_normal import _precision_to_scale_tril
from .utils import lazy_property

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x: Any, p: int) -> Any:
    """The multivariate digamma ``sum_{i<p} digamma(x - i/2)`` (the derivative of ``mvlgamma``)."""
    if not bool(x.gt((p - 1) / 2).all()):
        raise ValueError("Wrong domain for multivariate digamma function.")
    half = gk.arange(p, dtype=x.dtype) / 2
    return gk.digamma(x.unsqueeze(-1) - half).sum(-1)


class Wishart(ExponentialFamily):
    """The distribution of ``sum_k x_k x_k^T`` for ``df`` draws ``x_k ~ N(0, Sigma)`` (any real
    ``df > p - 1``), over ``p x p`` positive definite matrices. Give exactly one of
    ``covariance_matrix`` (``Sigma``), ``precision_matrix`` or ``scale_tril``. ``rsample``
    uses Bartlett's decomposition (chi-square diagonal through Gamma's implicit
    reparameterization) and redraws singular samples up to ``max_try_correction`` times."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:  # type: ignore[override]
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df: Any, covariance_matrix: Any = None, precision_matrix: Any = None,
                 scale_tril: Any = None, validate_args: bool | None = None) -> None:
        given = [p for p in (covariance_matrix, precision_matrix, scale_tril) if p is not None]
        if len(given) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or "
                                 "scale_tril may be specified.")
        param = given[0]
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional leading "
                             "batch dimensions")
        if isinstance(df, Number):
            batch_shape = gk.Size(param.shape[:-2])
            self.df = gk.tensor(df, dtype=param.dtype)
        else:
            batch_shape = gk.broadcast_shapes(param.shape[:-2], df.shape)
            self.df = df.expand(batch_shape)
        event_shape = param.shape[-2:]
        p = event_shape[-1]
        if bool(self.df.le(p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        if scale_tril is not None:
            self.scale_tril = param.expand(batch_shape + (-1, -1))
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(batch_shape + (-1, -1))
        else:
            self.precision_matrix = param.expand(batch_shape + (-1, -1))
        if bool(self.df.lt(p).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur "
                          "for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = gk.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._bartlett_chi2()

    def _bartlett_chi2(self) -> Chi2:
        """The chi-square laws of the squared diagonal of Bartlett's factor: ``df - i``."""
        p = self._event_shape[-1]
        k = gk.arange(p, dtype=self._unbroadcasted_scale_tril.dtype)
        return Chi2(df=self.df.unsqueeze(-1) - k.expand(self._batch_shape + (-1,)))

    def expand(self, batch_shape: Any, _instance: Any = None) -> Wishart:
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = gk.Size(batch_shape)
        cov_shape = batch_shape + self.event_shape
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(batch_shape)
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        ExponentialFamily.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._bartlett_chi2()
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self) -> Any:
        return self._unbroadcasted_scale_tril.expand(self._batch_shape + self._event_shape)

    @lazy_property
    def covariance_matrix(self) -> Any:
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def precision_matrix(self) -> Any:
        L = self._unbroadcasted_scale_tril
        identity = gk.eye(self._event_shape[-1], dtype=L.dtype)
        return gk.cholesky_solve(identity, L).expand(self._batch_shape + self._event_shape)

    def _df_matrix(self, df: Any) -> Any:
        return df.reshape(self._batch_shape + (1, 1))

    @property
    def mean(self) -> Any:
        return self._df_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self) -> Any:
        # defined (nan otherwise) for df > p + 1
        factor = self.df - self._event_shape[-1] - 1
        factor = gk.where(factor > 0, factor, gk.full_like(factor, math.nan))
        return self._df_matrix(factor) * self.covariance_matrix

    @property
    def variance(self) -> Any:
        V = self.covariance_matrix
        d = V.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix(self.df) * (V.pow(2) + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett(self, sample_shape: Any, reparameterized: bool) -> Any:
        """``L A A^T L^T`` with ``A`` lower triangular: ``A_ii = sqrt(chi2(df - i))``, ``A_ij``
        standard normal below the diagonal."""
        sample_shape = gk.Size(sample_shape)
        chi2 = self._dist_chi2.rsample(sample_shape) if reparameterized \
            else self._dist_chi2.sample(sample_shape)
        diag = chi2.sqrt().clamp(min=gk.finfo(chi2.dtype).eps)
        p = self._event_shape[-1]
        below = gk.randn(*(sample_shape + self._batch_shape + (p, p)), dtype=diag.dtype).tril(-1)
        chol = self._unbroadcasted_scale_tril @ (gk.diag_embed(diag) + below)
        return chol @ chol.mT

    def _draw(self, sample_shape: Any, reparameterized: bool, max_try_correction: Any) -> Any:
        if max_try_correction is None:
            max_try_correction = 10
        sample = self._bartlett(sample_shape, reparameterized)
        singular = ~self.support.check(sample)
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=3)
            for _ in range(max_try_correction):
                fresh = self._bartlett(sample_shape, reparameterized)
                sample = gk.where(singular[..., None, None], fresh, sample)
                singular = ~self.support.check(sample)
                if not bool(singular.any()):
                    break
        return sample

    def rsample(self, sample_shape: Any = (), max_try_correction: Any = None) -> Any:
        """Reparameterized samples; singular ones (likely when ``p - 1 < df < p``) are redrawn
        up to ``max_try_correction`` (10) times, with a warning; any still singular are returned
        (their ``log_prob`` is ``-inf``)."""
        return self._draw(sample_shape, True, max_try_correction)

    def sample(self, sample_shape: Any = (), max_try_correction: Any = None) -> Any:  # type: ignore[override]
        with gk.no_grad():
            return self._draw(sample_shape, False, max_try_correction)

    def _log_det_scale(self) -> Any:
        """``p log 2 / 2 + log det L``."""
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        return p * _LOG_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        trace = gk.cholesky_solve(value, self._unbroadcasted_scale_tril).diagonal(
            dim1=-2, dim2=-1).sum(-1)
        return (-nu * self._log_det_scale() - gk.mvlgamma(nu / 2, p)
                + (nu - p - 1) / 2 * gk.linalg.slogdet(value).logabsdet - trace / 2)

    def entropy(self) -> Any:
        nu = self.df
        p = self._event_shape[-1]
        return ((p + 1) * self._log_det_scale() + gk.mvlgamma(nu / 2, p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2)

    @property
    def _natural_params(self) -> tuple[Any, Any]:
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x: Any, y: Any) -> Any:  # type: ignore[override]
        p = self._event_shape[-1]
        return ((y + (p + 1) / 2) * (-gk.linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p)
                + gk.mvlgamma(y + (p + 1) / 2, p))
