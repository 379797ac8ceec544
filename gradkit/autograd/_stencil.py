"""Finite-difference stencils along one axis: Fornberg weights and the block plan.

A *plan* describes the derivative along one axis of length ``n`` as a few
blocks of output positions ``[start, stop)``, each a short linear combination
of shifted slices of the input. The same plan is evaluated by NumPy (in place,
no Python loop over elements), by gradkit tensors (differentiably) and by Dask
(per chunk). For ``accuracy=2`` and a first derivative the plan reproduces
``numpy.gradient``'s formulas term for term, so the results agree bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Block", "Plan", "fornberg", "make_plan", "min_points", "Coords"]


@dataclass
class Coords:
    """Non-uniform sample positions along one axis: ``x`` (float64) and ``dx = diff(x)``."""

    x: np.ndarray
    dx: np.ndarray


@dataclass
class Block:
    """Output positions ``[start, stop)`` of one stencil.

    ``pairs=True``: ``out[i] = sum(c * (F[i+p] - F[i+q]) for c, p, q in terms) / denom``.
    ``pairs=False``: ``out[i] = sum(w * F[i+o] for o, w in terms)``, ``w`` a scalar or an
    array of length ``stop - start``. ``F`` is the (padded, for periodic) source.
    """

    start: int
    stop: int
    terms: list[tuple[Any, ...]]
    pairs: bool = False
    denom: Any = None


@dataclass
class Plan:
    blocks: list[Block] = field(default_factory=list)
    pad: int = 0               # periodic: points wrapped onto each side of the source
    reach: int = 0             # widest offset used by any block (the Dask overlap depth)


def fornberg(z: Any, nodes: np.ndarray, d: int) -> np.ndarray:
    """Weights of the ``d``-th derivative at ``z`` from values at ``nodes`` (Fornberg, 1988).

    ``nodes`` has shape ``(..., s)`` and ``z`` broadcasts against ``nodes[..., 0]``; the
    loops run over the stencil size and derivative order only, never over points.
    """
    x = np.asarray(nodes, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    s = x.shape[-1]
    batch = np.broadcast_shapes(x.shape[:-1], z.shape)
    x = np.broadcast_to(x, batch + (s,))
    c = np.zeros(batch + (s, d + 1))
    c[..., 0, 0] = 1.0
    c1 = np.ones(batch)
    c4 = x[..., 0] - z
    for i in range(1, s):
        mn = min(i, d)
        c2 = np.ones(batch)
        c5 = c4
        c4 = x[..., i] - z
        for j in range(i):
            c3 = x[..., i] - x[..., j]
            c2 = c2 * c3
            if j == i - 1:
                for k in range(mn, 0, -1):
                    c[..., i, k] = c1 * (k * c[..., i - 1, k - 1] - c5 * c[..., i - 1, k]) / c2
                c[..., i, 0] = -c1 * c5 * c[..., i - 1, 0] / c2
            for k in range(mn, 0, -1):
                c[..., j, k] = (c4 * c[..., j, k] - k * c[..., j, k - 1]) / c3
            c[..., j, 0] = c4 * c[..., j, 0] / c3
        c1 = c2
    return c[..., d]


def _numpy_compatible(n: int, h: Any, edge_order: int) -> Plan:
    """``numpy.gradient``'s own formulas (second-order interior), term for term."""
    plan = Plan(reach=2)
    if not isinstance(h, Coords):
        # 1-D equivalent: out[1:-1] = (f[2:] - f[:-2]) / (2 h)
        plan.blocks.append(Block(1, n - 1, [(1, 1, -1)], pairs=True, denom=2. * h))
        if edge_order == 1:
            plan.blocks += [Block(0, 1, [(1, 1, 0)], pairs=True, denom=h),
                            Block(n - 1, n, [(1, 0, -1)], pairs=True, denom=h)]
        else:
            plan.blocks += [Block(0, 1, [(0, -1.5 / h), (1, 2. / h), (2, -0.5 / h)]),
                            Block(n - 1, n, [(-2, 0.5 / h), (-1, -2. / h), (0, 1.5 / h)])]
        return plan
    dx = h.dx
    dx1, dx2 = dx[0:-1], dx[1:]
    a = -(dx2) / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    c = dx1 / (dx2 * (dx1 + dx2))
    # 1-D equivalent: out[1:-1] = a * f[:-2] + b * f[1:-1] + c * f[2:]
    plan.blocks.append(Block(1, n - 1, [(-1, a), (0, b), (1, c)]))
    if edge_order == 1:
        plan.blocks += [Block(0, 1, [(1, 1, 0)], pairs=True, denom=dx[0]),
                        Block(n - 1, n, [(1, 0, -1)], pairs=True, denom=dx[-1])]
        return plan
    dx1, dx2 = dx[0], dx[1]
    first = [(0, -(2. * dx1 + dx2) / (dx1 * (dx1 + dx2))), (1, (dx1 + dx2) / (dx1 * dx2)),
             (2, - dx1 / (dx2 * (dx1 + dx2)))]
    dx1, dx2 = dx[-2], dx[-1]
    last = [(-2, (dx2) / (dx1 * (dx1 + dx2))), (-1, - (dx2 + dx1) / (dx1 * dx2)),
            (0, (2. * dx2 + dx1) / (dx2 * (dx1 + dx2)))]
    plan.blocks += [Block(0, 1, first), Block(n - 1, n, last)]
    return plan


def _uniform_interior(m: int, d: int, h: Any, start: int, stop: int) -> Block:
    w = fornberg(0.0, np.arange(-m, m + 1, dtype=np.float64), d)
    if d % 2 == 1:
        # Antisymmetric stencil: pair f[i+j] with f[i-j], then one division by h.
        return Block(start, stop, [(w[m + j], j, -j) for j in range(1, m + 1)], pairs=True,
                     denom=h ** d)
    return Block(start, stop, [(j, w[m + j] / h ** d) for j in range(-m, m + 1)])


def min_points(d: int, accuracy: int, edge_order: int, periodic: bool) -> int:
    """The fewest samples along an axis that the plan needs."""
    if periodic:
        return max(accuracy // 2, 1) + 1
    if d == 1 and accuracy == 2:
        return edge_order + 1          # numpy.gradient's own requirement
    return max(accuracy + 1, edge_order + d)


def make_plan(n: int, h: Any, d: int = 1, accuracy: int = 2, edge_order: int = 1,
              periodic: bool = False, period: Any = None) -> Plan:
    """The blocks computing the ``d``-th derivative along an axis of ``n`` samples.

    ``h`` is a scalar spacing or :class:`Coords`. Away from the edges the stencil is
    the centred one of order ``accuracy``; the point ``k`` samples from an edge
    (``k < accuracy // 2``) uses samples ``0 .. max(edge_order + d, 2k + 1) - 1`` from
    that edge, so every point is at least ``edge_order`` accurate.
    """
    if d == 1 and accuracy == 2 and not periodic:
        return _numpy_compatible(n, h, edge_order)
    m = accuracy // 2
    if periodic:
        return _periodic_plan(n, h, d, m, period)
    plan = Plan(reach=max(m, edge_order + d))
    if isinstance(h, Coords):
        x = h.x
        idx = np.arange(m, n - m)[:, None] + np.arange(-m, m + 1)
        w = fornberg(0.0, x[idx] - x[m:n - m, None], d)
        plan.blocks.append(Block(m, n - m, [(j - m, w[:, j]) for j in range(2 * m + 1)]))
    else:
        plan.blocks.append(_uniform_interior(m, d, h, m, n - m))
    for k in range(m):
        s = max(edge_order + d, 2 * k + 1, d + 1)
        for side in (0, 1):
            nodes = np.arange(s) if side == 0 else np.arange(n - s, n)
            at = k if side == 0 else n - 1 - k
            if isinstance(h, Coords):
                w = fornberg(h.x[at], h.x[nodes], d)
            else:
                w = fornberg(float(at), nodes.astype(np.float64), d) / h ** d
            plan.blocks.append(Block(at, at + 1, [(int(o) - at, w[i]) for i, o in enumerate(nodes)]))
    return plan


def _periodic_plan(n: int, h: Any, d: int, m: int, period: Any) -> Plan:
    plan = Plan(pad=m, reach=m)
    if not isinstance(h, Coords):
        plan.blocks.append(_uniform_interior(m, d, h, 0, n))
        return plan
    if period is None:
        raise ValueError("boundary='periodic' with non-uniform coordinates needs the period: pass "
                         "period=L (the distance from the first sample to its next periodic copy)")
    x = h.x
    xe = np.concatenate([x[n - m:] - period, x, x[:m] + period])
    idx = np.arange(n)[:, None] + np.arange(2 * m + 1)
    w = fornberg(0.0, xe[idx] - x[:, None], d)
    plan.blocks.append(Block(0, n, [(j - m, w[:, j]) for j in range(2 * m + 1)]))
    return plan
