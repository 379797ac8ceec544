"""OpSpecs for the neural-network primitives (gradkit/ops/nn.py)."""

from __future__ import annotations

from op_specs import OpSpec  # noqa: F401

NN_SPECS: list[OpSpec] = []
