"""OpSpecs for the gradkit.linalg primitives (inv, det, solve, ...)."""

from __future__ import annotations

from op_specs import OpSpec  # noqa: F401

LINALG_EXTRA_SPECS: list[OpSpec] = []
