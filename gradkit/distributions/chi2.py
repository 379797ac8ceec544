"""``Chi2(df)``: Gamma(df / 2, 1 / 2)."""

from __future__ import annotations

from typing import Any

import gradkit as gk

from . import constraints
from .gamma import Gamma

__all__ = ["Chi2"]


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` degrees of freedom."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        df = gk.as_tensor(df, dtype=gk.get_default_dtype()) if not isinstance(df, gk.Tensor) else df
        super().__init__(0.5 * df, gk.tensor(0.5, dtype=df.dtype), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Chi2:
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)  # type: ignore[return-value]

    @property
    def df(self) -> Any:
        return self.concentration * 2
