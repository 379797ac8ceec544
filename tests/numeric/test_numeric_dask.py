"""Dask arrays: lazy results through map_overlap, equal to the NumPy path, on a real cluster."""

from __future__ import annotations

import numpy as np
import pytest

from gradkit import numeric

da = pytest.importorskip("dask.array")

RNG = np.random.default_rng(0)
F = RNG.standard_normal((37, 29))
X = np.sort(RNG.uniform(0, 5, 37))
Y = np.sort(RNG.uniform(0, 3, 29))


@pytest.mark.parametrize("kw", [{}, {"edge_order": 2}, {"accuracy": 4, "edge_order": 3},
                                {"accuracy": 6, "edge_order": 6},
                                {"boundary": "periodic", "accuracy": 4, "period": (6.0, 4.0)}])
@pytest.mark.parametrize("spacing", [(), (0.3,), (X, Y)], ids=["unit", "scalar", "coords"])
def test_gradient_is_lazy_and_equal(kw: dict, spacing: tuple) -> None:
    fd = da.from_array(F, chunks=(8, 7))          # a 1-sample last chunk gets merged
    got = numeric.gradient(fd, *spacing, **kw)
    expected = numeric.gradient(F, *spacing, **kw)
    for g, e in zip(got, expected):
        assert isinstance(g, da.Array)
        np.testing.assert_array_equal(g.compute(scheduler="sync"), e)


def test_matches_numpy_gradient_exactly() -> None:
    fd = da.from_array(F, chunks=(10, 10))
    for g, e in zip(numeric.gradient(fd, X, 0.5, edge_order=2), np.gradient(F, X, 0.5, edge_order=2)):
        np.testing.assert_array_equal(g.compute(scheduler="sync"), e)


def test_field_operators_are_lazy() -> None:
    u = [da.from_array(F, chunks=9), da.from_array(F ** 2, chunks=9)]
    un = [F, F ** 2]
    for op in (numeric.divergence, numeric.curl, numeric.jacobian_field):
        r = op(u, X, Y)
        assert isinstance(r, da.Array)
        np.testing.assert_array_equal(r.compute(scheduler="sync"), op(un, X, Y))
    fd = da.from_array(F, chunks=9)
    for op in (numeric.laplacian, numeric.hessian):
        r = op(fd, X, Y, accuracy=4)
        assert isinstance(r, da.Array)
        np.testing.assert_allclose(r.compute(scheduler="sync"), op(F, X, Y, accuracy=4), rtol=1e-13)
    L = numeric.jacobian_field(u, X, Y)
    np.testing.assert_allclose((numeric.strain_rate(L) + numeric.spin(L)).compute(scheduler="sync"),
                               L.compute(scheduler="sync"), rtol=0, atol=1e-12)


def test_on_a_local_cluster_with_more_chunks_than_workers() -> None:
    distributed = pytest.importorskip("distributed")
    big = RNG.standard_normal((120, 90))
    x = np.cumsum(RNG.uniform(0.5, 1.5, 120))
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        fd = da.from_array(big, chunks=(25, 20))              # 5 x 5 = 25 chunks on 2 workers
        assert fd.npartitions > 2 * len(client.scheduler_info()["workers"])
        gx, gy = numeric.gradient(fd, x, 0.25, edge_order=2)
        div = numeric.divergence([fd, fd], x, 0.25, accuracy=4)
        rx, ry, rdiv = client.compute([gx, gy, div], sync=True)
    ex, ey = np.gradient(big, x, 0.25, edge_order=2)
    np.testing.assert_array_equal(rx, ex)
    np.testing.assert_array_equal(ry, ey)
    np.testing.assert_allclose(rdiv, numeric.divergence([big, big], x, 0.25, accuracy=4), rtol=1e-14)
