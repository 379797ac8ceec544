"""Forward mode run batched (issue #17): ``jacfwd`` pushes all its tangents through one dual
pass under vmap, a differentiable ``jacrev`` seeds all its rows in one backward under vmap,
and ``jvp`` inside ``vmap`` runs once on the batch.

Expected values are analytic (``tanh(W x + b)``: ``J = diag(1 - y**2) W`` and
``H_i = -2 y_i (1 - y_i**2) w_i w_i^T``), central finite differences in float64, or torch.func's
results (live, with ``pytest.importorskip``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit as gk
import gradkit.func as gf
import gradkit.nn.functional as F
from gradkit.func import _vmap

RNG = np.random.default_rng(7)
W = RNG.standard_normal((4, 6))
B = RNG.standard_normal(4)
XS = RNG.standard_normal((3, 6))
TS = RNG.standard_normal((3, 6))


def _predict(lib: Any, w: Any, b: Any, x: Any) -> Any:
    return lib.nn.functional.linear(x, w, b).tanh()


def _hessian_exact(x: np.ndarray) -> np.ndarray:
    y = np.tanh(W @ x + B)
    return np.einsum("i,ij,ik->ijk", -2 * y * (1 - y ** 2), W, W)


def _jacobian_exact(x: np.ndarray) -> np.ndarray:
    y = np.tanh(W @ x + B)
    return (1 - y ** 2)[:, None] * W


def _stats() -> dict[str, Any]:
    _vmap._vmap_stats.update(batched=0, loop=0, why=None)
    return _vmap._vmap_stats


def _fn(x: Any) -> Any:
    return F.linear(x, gk.tensor(W), gk.tensor(B)).tanh()


@pytest.mark.parametrize("name", ["jacfwd(jacfwd)", "hessian", "hessian fwd-over-rev",
                                  "jacfwd(jacrev)", "jacrev(jacfwd)"])
def test_second_derivatives_are_exact(name: str) -> None:
    fn = {"jacfwd(jacfwd)": gf.jacfwd(gf.jacfwd(_fn)), "hessian": gf.hessian(_fn),
          "hessian fwd-over-rev": gf.hessian(_fn, mode="fwd-over-rev"),
          "jacfwd(jacrev)": gf.jacfwd(gf.jacrev(_fn)), "jacrev(jacfwd)": gf.jacrev(gf.jacfwd(_fn))}[name]
    x = gk.tensor(XS[0])
    np.testing.assert_allclose(np.asarray(fn(x)), _hessian_exact(XS[0]), rtol=1e-12, atol=1e-14)


def test_jacfwd_with_a_create_graph_runs_one_batched_pass() -> None:
    stats = _stats()
    h = gf.jacfwd(gf.jacfwd(_fn))(gk.tensor(XS[1]))
    assert stats["loop"] == 0 and stats["batched"] >= 1, stats["why"]
    np.testing.assert_allclose(np.asarray(h), _hessian_exact(XS[1]), rtol=1e-12, atol=1e-14)


def test_vmap_of_hessian_is_exact_and_batched() -> None:
    stats = _stats()
    h = gf.vmap(gf.hessian(_fn))(gk.tensor(XS))
    assert stats["loop"] == 0, stats["why"]
    np.testing.assert_allclose(np.asarray(h), np.stack([_hessian_exact(x) for x in XS]),
                               rtol=1e-12, atol=1e-14)


def test_vmap_of_jvp_runs_batched_and_matches_the_jacobian() -> None:
    stats = _stats()
    out, tan = gf.vmap(lambda x, t: gf.jvp(_fn, (x,), (t,)))(gk.tensor(XS), gk.tensor(TS))
    assert stats["loop"] == 0 and stats["batched"] == 1, stats["why"]
    np.testing.assert_allclose(np.asarray(out), np.tanh(XS @ W.T + B), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(tan), np.stack([_jacobian_exact(x) @ t for x, t in zip(XS, TS)]),
                               rtol=1e-12, atol=1e-14)


def test_vmap_of_jvp_with_an_unbatched_tangent_and_aux() -> None:
    t = gk.tensor(TS[0])
    out, tan, aux = gf.vmap(lambda x: gf.jvp(lambda x: (_fn(x), x.sum()), (x,), (t,), has_aux=True))(
        gk.tensor(XS))
    np.testing.assert_allclose(np.asarray(aux), XS.sum(1), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(tan), np.stack([_jacobian_exact(x) @ TS[0] for x in XS]),
                               rtol=1e-12, atol=1e-14)


def test_vmap_of_jvp_against_finite_differences() -> None:
    def f(x: Any) -> Any:
        return (x.exp() * x.sin()).cumsum(0)[1:] / (1 + x[:-1] ** 2)

    xs, ts = XS[:, :4], TS[:, :4]
    tan = gf.vmap(lambda x, t: gf.jvp(f, (x,), (t,))[1])(gk.tensor(xs), gk.tensor(ts))

    def g(x: np.ndarray) -> np.ndarray:
        return np.cumsum(np.exp(x) * np.sin(x))[1:] / (1 + x[:-1] ** 2)
    eps = 1e-6
    fd = np.stack([(g(x + eps * t) - g(x - eps * t)) / (2 * eps) for x, t in zip(xs, ts)])
    np.testing.assert_allclose(np.asarray(tan), fd, rtol=1e-7, atol=1e-8)


def test_a_transposed_jacobian_can_be_written() -> None:
    j = gf.jacfwd(_fn)(gk.tensor(XS[0]))
    np.testing.assert_allclose(j.numpy(), _jacobian_exact(XS[0]), rtol=1e-12)
    j.zero_()                                    # a strided view of the columns, but its own
    assert j.tolist() == [[0.0] * 6] * 4


def test_a_forward_jacobian_of_a_function_with_a_kink() -> None:
    # relu'(0) = 0 (PyTorch), each column on its own: the batched pass must not mix them
    x = gk.tensor([0.0, 1.0, -1.0, 2.0])
    j = gf.jacfwd(gf.jacfwd(lambda v: (v.relu() * v).sum()))(x)
    np.testing.assert_allclose(j.numpy(), np.diag([0.0, 2.0, 0.0, 2.0]))


@pytest.mark.parametrize("name", ["hessian", "fwdfwd", "batch_hessian", "vmap_jvp", "hvp"])
def test_tutorial_compositions_match_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    tf = torch.func
    w, b = RNG.standard_normal((5, 7)), RNG.standard_normal(5)
    x, xs, ts = RNG.standard_normal(7), RNG.standard_normal((4, 7)), RNG.standard_normal((4, 7))

    def run(lib: Any, fn: Any) -> np.ndarray:
        W_, B_ = lib.tensor(w), lib.tensor(b)

        def p(x: Any) -> Any:
            return _predict(lib, W_, B_, x)
        res = {"hessian": lambda: fn.hessian(p)(lib.tensor(x)),
               "fwdfwd": lambda: fn.jacfwd(fn.jacfwd(p))(lib.tensor(x)),
               "batch_hessian": lambda: fn.vmap(fn.hessian(p))(lib.tensor(xs)),
               "vmap_jvp": lambda: fn.vmap(lambda x, t: fn.jvp(p, (x,), (t,))[1])(
                   lib.tensor(xs), lib.tensor(ts)),
               "hvp": lambda: fn.vmap(lambda t: fn.jvp(fn.grad(lambda v: p(v).sum()), (lib.tensor(x),),
                                                       (t,))[1])(lib.tensor(ts))}[name]()
        return np.asarray(res.detach().numpy() if hasattr(res, "detach") else res)
    np.testing.assert_allclose(run(gk, gf), run(torch, tf), rtol=1e-12, atol=1e-14)
