"""gradkit.func against live JAX (float64): values, result structure, shapes, errors.

Every expected value comes from running the same function through JAX (``jnp`` in
place of NumPy): the functions below take the array namespace as their first argument.
gradkit given NumPy inputs returns NumPy (Python floats for 0-d results where the
differentiated argument was a Python number), JAX returns arrays; the pytree structure
(tuple for tuple ``argnums``, dicts, lists, ``has_aux`` pairs) must be the same.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pytest

import gradkit as gk
import gradkit.autograd._batched as batched
import gradkit.func as gf

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = pytest.importorskip("jax.numpy")

RNG = np.random.default_rng(7)
X23 = RNG.standard_normal((2, 3))
V3 = RNG.standard_normal(3)
W43 = RNG.standard_normal((4, 3))
XS = RNG.standard_normal((5, 3))
T453 = RNG.standard_normal((4, 5, 3))


@pytest.fixture(params=["auto", "double-vjp"])
def fwd_mode(request, monkeypatch):
    if request.param == "double-vjp":
        monkeypatch.setattr(batched, "USE_FORWARD_AD", False)
    return request.param


def _kind(t):
    if isinstance(t, (tuple, list)):
        return (type(t).__name__, [_kind(a) for a in t])
    if isinstance(t, dict):
        return ("dict", {k: _kind(v) for k, v in sorted(t.items())})
    if t is None:
        return None
    return ("leaf", tuple(np.shape(t)))


def _leaves(t):
    if isinstance(t, (tuple, list)):
        return [leaf for a in t for leaf in _leaves(a)]
    if isinstance(t, dict):
        return [leaf for k in sorted(t) for leaf in _leaves(t[k])]
    return [] if t is None else [t]


def same(ours, theirs, atol=1e-10, numpy_leaves=True):
    """Same pytree structure, leaf shapes and values; NumPy (or float) leaves for NumPy callers."""
    assert _kind(ours) == _kind(theirs)
    for a, b in zip(_leaves(ours), _leaves(theirs)):
        if numpy_leaves:
            assert isinstance(a, (np.ndarray, float)), type(a)
        a = a.detach().numpy() if isinstance(a, gk.Tensor) else np.asarray(a)
        np.testing.assert_allclose(a, np.asarray(b), atol=atol, rtol=1e-9, equal_nan=True)


def _jitted(transform):
    """``transform`` with the transformed function compiled whole (much faster than op by op)."""
    return lambda *a, **k: jax.jit(transform(*a, **k))


jgrad, jvg, jjacrev, jjacfwd, jhessian, jvmap = map(
    _jitted, (jax.grad, jax.value_and_grad, jax.jacrev, jax.jacfwd, jax.hessian, jax.vmap)
)
_ORACLE: dict = {}


def oracle(key, thunk):
    """JAX's answer, computed once per key (the fwd_mode parametrizations share it)."""
    if key not in _ORACLE:
        _ORACLE[key] = jax.tree_util.tree_map(np.asarray, thunk())
    return _ORACLE[key]


def raises_like(ours, theirs, prefix_chars=None):
    """gradkit raises the exception type JAX raises (a subclass allowed), with its message start."""
    with pytest.raises(Exception) as j:
        theirs()
    with pytest.raises(Exception) as g:
        ours()
    assert isinstance(g.value, type(j.value)), (g.value, j.value)
    if prefix_chars:
        assert str(g.value)[:prefix_chars] == str(j.value)[:prefix_chars]


# --- scalar functions: grad, value_and_grad, hessian ----------------------------------------------
def _lse(xp, x):
    m = xp.max(x)
    return m + xp.log(xp.sum(xp.exp(x - m)))


def _softmax(xp, x):
    e = xp.exp(x - xp.max(x, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


SCALAR = {
    "poly": lambda xp, x: xp.sum(x**3 - 2 * x**2 + x),
    "trig": lambda xp, x: xp.sum(xp.sin(x) * xp.exp(x) + xp.tanh(x)),
    "log": lambda xp, x: xp.sum(xp.log(x**2 + 1.0)),
    "logsumexp": _lse,
    "softmax": lambda xp, x: xp.sum(_softmax(xp, x)[..., 0] * xp.cos(x[..., 1])),
    "norm": lambda xp, x: xp.linalg.norm(x),
    "maximum": lambda xp, x: xp.sum(xp.maximum(x, 0.1) ** 2),
    "where": lambda xp, x: xp.sum(xp.where(x > 0, xp.sin(x), x**2)),
    "matvec": lambda xp, x: xp.sum(xp.tanh(W43 @ x.reshape(-1)[:3])),
    "mean_sqrt": lambda xp, x: xp.mean(xp.sqrt(x * x + 1.0)),
}


SCALAR_CASES = [(name, [X23, V3][k % 2]) for k, name in enumerate(sorted(SCALAR))]


@pytest.mark.parametrize("name, arg", SCALAR_CASES, ids=[f"{n}-{a.ndim}d" for n, a in SCALAR_CASES])
def test_scalar_function_transforms(name, arg, fwd_mode):
    f = SCALAR[name]
    ours, theirs = (lambda a: f(np, a)), (lambda a: f(jnp, a))
    t = np.cos(arg)
    jv, jg, H = oracle(("scalar", name, arg.shape), lambda: (*jvg(theirs)(arg), jhessian(theirs)(arg)))
    same(gf.grad(ours)(arg), jg)
    value, g = gf.value_and_grad(ours)(arg)
    assert isinstance(value, float) and value == pytest.approx(float(jv), rel=1e-12)
    same(g, jg)
    assert H.shape == arg.shape + arg.shape
    same(gf.hessian(ours)(arg), H, atol=1e-9)
    same(gf.hessian(ours, mode="fwd-over-rev")(arg), H, atol=1e-9)
    same(gf.jacfwd(gf.jacrev(ours))(arg), H, atol=1e-9)
    same(gf.jacrev(gf.jacfwd(ours))(arg), H, atol=1e-9)
    same(gf.hvp(ours, (arg,), (t,)), np.tensordot(H, t, axes=t.ndim), atol=1e-9)


# --- vector functions: jacrev, jacfwd, jvp, vjp, linearize ---------------------------------------
VECTOR = {
    "softmax": _softmax,
    "matmul": lambda xp, x: W43 @ x.reshape(-1)[:3] * xp.sin(x.reshape(-1)[0]),
    "gram": lambda xp, x: x.T @ x,
    "elementwise": lambda xp, x: xp.exp(x) * xp.cos(x) + xp.tanh(x) ** 2,
    "cumsum": lambda xp, x: xp.cumsum(x, axis=-1),
    "reductions": lambda xp, x: xp.stack([xp.sum(x**2), xp.max(x), xp.linalg.norm(x), xp.mean(x)]),
    "scalar_out": lambda xp, x: xp.sum(xp.sin(x) * x),
}


VECTOR_CASES = [(name, [X23, V3][k % 2]) for k, name in enumerate(sorted(VECTOR))] + [
    ("gram", V3),
    ("cumsum", V3),
]


@pytest.mark.parametrize("name, arg", VECTOR_CASES, ids=[f"{n}-{a.ndim}d" for n, a in VECTOR_CASES])
def test_vector_function_transforms(name, arg, fwd_mode):
    f = VECTOR[name]
    ours, theirs = (lambda a: f(np, a)), (lambda a: f(jnp, a))
    tangent = np.sin(arg) + 0.5
    cot = np.cos(np.asarray(theirs(arg))) + 0.25
    J, jout, jtan, jvjp = oracle(
        ("vector", name, arg.shape),
        lambda: (
            jjacrev(theirs)(arg),
            *jax.jit(lambda a, v: jax.jvp(theirs, (a,), (v,)))(arg, tangent),
            jax.jit(lambda a, c: jax.vjp(theirs, a)[1](c))(arg, cot),
        ),
    )
    assert J.shape == np.shape(jout) + arg.shape
    same(gf.jacrev(ours)(arg), J)
    same(gf.jacfwd(ours)(arg), J)
    same(gf.jvp(ours, (arg,), (tangent,)), (jout, jtan))
    out, f_jvp = gf.linearize(ours, arg)
    same(out, jout)
    same(f_jvp(tangent), jtan)
    same(f_jvp(2.0 * tangent), 2.0 * jtan)
    out, vjp_fn = gf.vjp(ours, arg)
    same(out, jout)
    same(vjp_fn(cot), jvjp)


def test_matrix_jacobian_shapes():
    f = lambda xp, x: xp.concatenate([x.reshape(-1), xp.sin(x[0])])[:4]  # noqa: E731
    J = jax.jacrev(lambda a: f(jnp, a))(X23)
    assert J.shape == (4, 2, 3)
    same(gf.jacrev(lambda a: f(np, a))(X23), J)
    same(gf.jacfwd(lambda a: f(np, a))(X23), J)


# --- argnums, has_aux, pytrees ---------------------------------------------------------------------
def _two(xp, a, b):
    return xp.sum(xp.sin(a) @ b) * xp.exp(b[0]) + xp.sum(a**2) * xp.sum(b**3)


TRANSFORMS = [
    (gf.grad, jgrad),
    (gf.value_and_grad, jvg),
    (gf.jacrev, jjacrev),
    (gf.jacfwd, jjacfwd),
    (gf.hessian, jhessian),
]


@pytest.mark.parametrize("argnums", [-1, (0,), (1, 0), [0, 1]], ids=str)
@pytest.mark.parametrize("k", range(len(TRANSFORMS)), ids=["grad", "vg", "jacrev", "jacfwd", "hessian"])
def test_argnums(k, argnums):
    ours, theirs = TRANSFORMS[k]
    same(
        ours(lambda a, b: _two(np, a, b), argnums=argnums)(X23, V3),
        theirs(lambda a, b: _two(jnp, a, b), argnums=argnums)(X23, V3),
        atol=1e-9,
    )


@pytest.mark.parametrize("argnums", [0, (0, 1)], ids=str)
@pytest.mark.parametrize("k", range(len(TRANSFORMS)), ids=["grad", "vg", "jacrev", "jacfwd", "hessian"])
def test_has_aux(k, argnums):
    ours, theirs = TRANSFORMS[k]

    def f(xp, a, b):
        return xp.sum(a**2 * b) + b**3, {"mean": xp.mean(a), "list": [a * 2, 3.0]}

    same(
        ours(lambda a, b: f(np, a, b), argnums=argnums, has_aux=True)(V3, 0.7),
        theirs(lambda a, b: f(jnp, a, b), argnums=argnums, has_aux=True)(V3, 0.7),
        numpy_leaves=False,
    )


PARAMS = {
    "w": RNG.standard_normal((3, 2)),
    "b": RNG.standard_normal(2),
    "extra": (1.5, [RNG.standard_normal(2)]),
}


def _mlp(xp, p, inputs):
    h = xp.tanh(inputs @ p["w"] + p["b"]) * p["extra"][0]
    return xp.sum(h**2) + xp.sum(p["extra"][1][0] * h)


@pytest.mark.parametrize("argnums", [0, (0, 1)], ids=str)
@pytest.mark.parametrize("k", range(len(TRANSFORMS)), ids=["grad", "vg", "jacrev", "jacfwd", "hessian"])
def test_pytree_arguments(k, argnums):
    ours, theirs = TRANSFORMS[k]
    res = ours(lambda p, i: _mlp(np, p, i), argnums=argnums)(PARAMS, X23)
    same(res, theirs(lambda p, i: _mlp(jnp, p, i), argnums=argnums)(PARAMS, X23), atol=1e-9)


@pytest.mark.parametrize(
    "ours, theirs", [(gf.jacrev, jjacrev), (gf.jacfwd, jjacfwd)], ids=["jacrev", "jacfwd"]
)
def test_pytree_outputs(ours, theirs, fwd_mode):
    def f(xp, a):
        return {"s": xp.sum(a), "v": (xp.sin(a), [a[0] * a[1]])}

    same(ours(lambda a: f(np, a))(V3), theirs(lambda a: f(jnp, a))(V3))
    same(ours(lambda a: f(np, a["k"][0]))({"k": [V3]}), theirs(lambda a: f(jnp, a["k"][0]))({"k": [V3]}))
    same(ours(lambda a: f(np, a * np.ones(2)))(0.7), theirs(lambda a: f(jnp, a * jnp.ones(2)))(0.7))


def test_python_scalars_in_and_out(fwd_mode):
    cube = lambda a: a**3  # noqa: E731
    for ours, theirs in [
        (gf.grad(cube), jax.grad(cube)),
        (gf.hessian(cube), jax.hessian(cube)),
        (gf.jacrev(cube), jax.jacrev(cube)),
        (gf.jacfwd(cube), jax.jacfwd(cube)),
        (gf.grad(gf.grad(np.sin)), jax.grad(jax.grad(jnp.sin))),
    ]:
        r = ours(2.0)
        assert isinstance(r, float) and r == pytest.approx(float(theirs(2.0)), rel=1e-12)
    same(gf.jvp(cube, (2.0,), (1.0,)), jax.jvp(cube, (2.0,), (1.0,)))
    same(gf.linearize(cube, 2.0)[1](1.0), jax.linearize(cube, 2.0)[1](1.0))
    same(gf.vjp(cube, 2.0)[1](1.0), jax.vjp(cube, 2.0)[1](1.0))
    same(gf.grad(cube)(np.array(2.0)), jax.grad(cube)(np.array(2.0)))  # a 0-d array stays one
    f32 = V3.astype(np.float32)
    for ours, theirs in [(gf.grad, jax.grad), (gf.jacrev, jax.jacrev), (gf.jacfwd, jax.jacfwd)]:
        r = ours(lambda a: np.sum(np.sin(a)) * a[0])(f32)
        assert r.dtype == theirs(lambda a: jnp.sum(jnp.sin(a)) * a[0])(f32).dtype == np.float32


def test_jvp_vjp_linearize_pytrees_and_aux(fwd_mode):
    def f(xp, p):
        return {"a": p[0] * p[1], "b": [xp.sum(p[0])]}

    prim, tan = ((V3, V3 * 2),), ((V3, np.ones(3)),)
    same(gf.jvp(lambda p: f(np, p), prim, tan), jax.jvp(lambda p: f(jnp, p), prim, tan))
    same(
        gf.jvp(lambda a, b: np.sin(a) * b, (V3, 2.0), (V3, 1.0)),
        jax.jvp(lambda a, b: jnp.sin(a) * b, (V3, 2.0), (V3, 1.0)),
    )
    same(
        gf.jvp(lambda a: (np.sin(a), a * 2), (V3,), (V3,), has_aux=True),
        jax.jvp(lambda a: (jnp.sin(a), a * 2), (V3,), (V3,), has_aux=True),
    )
    same(
        gf.linearize(lambda a, b: np.sin(a) * b, V3, 2.0)[1](V3, 1.0),
        jax.linearize(lambda a, b: jnp.sin(a) * b, V3, 2.0)[1](V3, 1.0),
    )
    p = {"x": V3, "y": 1.0}
    cot = {"a": V3, "b": (2.0,)}
    same(
        gf.vjp(lambda q: {"a": q["x"] * 2, "b": (q["y"] ** 2,)}, p)[1](cot),
        jax.vjp(lambda q: {"a": q["x"] * 2, "b": (q["y"] ** 2,)}, p)[1](cot),
    )
    same(
        gf.vjp(lambda a, b: np.sin(a) * b, V3, 2.0)[1](V3),
        jax.vjp(lambda a, b: jnp.sin(a) * b, V3, 2.0)[1](V3),
    )
    ours = gf.vjp(lambda a: (np.sin(a), {"q": a[0]}), V3, has_aux=True)
    theirs = jax.vjp(lambda a: (jnp.sin(a), {"q": a[0]}), V3, has_aux=True)
    same(ours[0], theirs[0])
    same(ours[1](V3), theirs[1](V3))
    same(ours[2], theirs[2])


def test_scalar_output_tangents_keep_their_shape(fwd_mode):
    # regression: a 0-d output's tangent came back with shape (1,)
    f = lambda xp, a: xp.sum(a * a) * a[0]  # noqa: E731
    same(gf.jvp(lambda a: f(np, a), (V3,), (V3,)), jax.jvp(lambda a: f(jnp, a), (V3,), (V3,)))
    same(gf.linearize(lambda a: f(np, a), V3)[1](V3), jax.linearize(lambda a: f(jnp, a), V3)[1](V3))


def test_boolean_addend_has_no_tangent(fwd_mode):
    # regression: in forward mode ``x + (x == 0)`` added the mask to the tangent
    x = np.array([0.0, 1.0, -2.0])
    for f in (lambda xp, a: a + (a == 0), lambda xp, a: (a == 0) + -a, lambda xp, a: xp.sin(a) * 2 + (a > 0)):
        ours, theirs = partial(f, np), partial(f, jnp)
        same(gf.jvp(ours, (x,), (np.ones(3),))[1], jax.jvp(theirs, (x,), (np.ones(3),))[1])
        same(gf.jacfwd(ours)(x), jax.jacfwd(theirs)(x))


def test_nesting_stop_gradient_and_unused_arguments():
    same(
        gf.grad(lambda a: np.sum(a * gf.stop_gradient(a**2)))(V3),
        jax.grad(lambda a: jnp.sum(a * jax.lax.stop_gradient(a**2)))(V3),
    )
    same(
        gf.grad(lambda a: np.sum(a * gf.stop_gradient({"q": a**2})["q"]))(V3),
        jax.grad(lambda a: jnp.sum(a * jax.lax.stop_gradient({"q": a**2})["q"]))(V3),
    )
    same(
        gf.grad(lambda a, b: gf.grad(lambda c: np.sin(c * a) * b)(a), argnums=(0, 1))(0.7, 2.0),
        jax.grad(lambda a, b: jax.grad(lambda c: jnp.sin(c * a) * b)(a), argnums=(0, 1))(0.7, 2.0),
    )
    same(
        gf.hessian(lambda a, b, c: np.sum(a * b) * c**2, argnums=(0, 2))(V3, 2 * V3, 3.0),
        jax.hessian(lambda a, b, c: jnp.sum(a * b) * c**2, argnums=(0, 2))(V3, 2 * V3, 3.0),
    )
    same(
        gf.hessian(lambda p: p[0] ** 2 * p[1])([1.0, 2.0]),
        jax.hessian(lambda p: p[0] ** 2 * p[1])([1.0, 2.0]),
    )
    same(
        gf.grad(lambda a, b: np.sum(a), argnums=(0, 1))(V3, 2.0),
        jax.grad(lambda a, b: jnp.sum(a), argnums=(0, 1))(V3, 2.0),
    )
    same(
        gf.grad(lambda a, k=1.0: np.sum(a * k))(V3, k=2.0),
        jax.grad(lambda a, k=1.0: jnp.sum(a * k))(V3, k=2.0),
    )
    same(gf.grad(lambda a: 3.0)(V3), jax.grad(lambda a: 3.0)(V3))
    same(gf.jacrev(lambda a: np.ones(2))(V3), jax.jacrev(lambda a: jnp.ones(2))(V3))
    same(gf.jacfwd(lambda a: np.ones(2))(V3), jax.jacfwd(lambda a: jnp.ones(2))(V3))


# --- vmap -----------------------------------------------------------------------------------------
VMAP = [
    ("sin", lambda xp, a: xp.sin(a), (XS,), {}),
    ("sum", lambda xp, a: xp.sum(a**2), (XS,), {}),
    ("unmapped", lambda xp, a, b: xp.tanh(a @ b), (XS, V3), {"in_axes": (0, None)}),
    ("in_axes 1", lambda xp, a, b: xp.tanh(a @ b), (XS.T, V3), {"in_axes": (1, None)}),
    ("in_axes -1", lambda xp, a, b: xp.tanh(a @ b), (XS.T, V3), {"in_axes": (-1, None)}),
    ("in_axes list", lambda xp, a, b: a * b, (XS, V3), {"in_axes": [0, None]}),
    ("in_axes int", lambda xp, a, b: a * b, (XS, XS), {"in_axes": 0}),
    ("out_axes 1", lambda xp, a: xp.exp(a) * 2, (XS,), {"out_axes": 1}),
    ("out_axes -1", lambda xp, a: xp.exp(a) * 2, (XS,), {"out_axes": -1}),
    ("outer out_axes 1", lambda xp, a: a[:, None] * a[None, :], (XS,), {"out_axes": 1}),
    ("outer out_axes -2", lambda xp, a: a[:, None] * a[None, :], (XS,), {"out_axes": -2}),
    (
        "out_axes None",
        lambda xp, a, b: (a * 2, b + 1),
        (XS, V3),
        {"in_axes": (0, None), "out_axes": (0, None)},
    ),
    ("out_axes tuple", lambda xp, a: (a * 2, xp.sum(a)), (XS,), {"out_axes": (1, 0)}),
    ("out_axes prefix", lambda xp, a: (a * 2, (a, a)), (XS,), {"out_axes": (1, 0)}),
    ("mat @ example", lambda xp, a, m: m @ a, (XS, W43[:3]), {"in_axes": (0, None)}),
    ("example @ mat", lambda xp, a, m: a @ m, (XS, W43[:3]), {"in_axes": (0, None)}),
    ("outer", lambda xp, a, b: xp.outer(a, b), (XS, XS), {}),
    ("softmax", _softmax, (XS,), {}),
    ("logsumexp", _lse, (XS,), {}),
    ("norm", lambda xp, a: xp.linalg.norm(a), (XS,), {}),
    ("where", lambda xp, a: xp.where(a > 0, a, 0.1 * a), (XS,), {}),
    ("max", lambda xp, a: xp.max(a), (XS,), {}),
    ("3-d axis 1", lambda xp, a: xp.sum(a, axis=0), (T453,), {"in_axes": 1}),
    ("3-d axis 2", lambda xp, a: a @ a.T, (T453,), {"in_axes": 2}),
    (
        "dict in_axes",
        lambda xp, p: p["a"] * p["b"],
        ({"a": XS, "b": V3},),
        {"in_axes": ({"a": 0, "b": None},)},
    ),
    ("tuple in_axes", lambda xp, p: p[0] * p[1], ((XS, XS),), {"in_axes": ((0, 0),)}),
    ("None leaf", lambda xp, p: p[0] * 2, ((XS, None),), {"in_axes": ((0, None),)}),
    ("dict out", lambda xp, a: {"s": xp.sum(a), "v": a * 2}, (XS,), {}),
    ("dict out_axes", lambda xp, a: {"s": xp.sum(a), "v": a * 2}, (XS,), {"out_axes": {"s": 0, "v": 1}}),
    ("python scalar", lambda xp, a, c: a * c, (XS, 2.0), {"in_axes": (0, None)}),
    ("transpose", lambda xp, a: a.T, (T453,), {}),
    ("reshape", lambda xp, a: a.reshape(-1), (T453,), {}),
    ("index", lambda xp, a: a[1] + a[-1], (XS,), {}),
    ("concatenate", lambda xp, a: xp.concatenate([a, a * 2]), (XS,), {}),
    ("stack", lambda xp, a: xp.stack([a, a * 2]), (XS,), {}),
    ("keepdims", lambda xp, a: a - xp.mean(a, axis=-1, keepdims=True), (T453,), {}),
    ("constant", lambda xp, a: xp.ones(2), (XS,), {}),
    ("loop fallback", lambda xp, a: a * a[0], (XS,), {}),
]


@pytest.mark.parametrize("case", VMAP, ids=[c[0] for c in VMAP])
def test_vmap(case):
    _, f, args, kw = case
    same(gf.vmap(lambda *a: f(np, *a), **kw)(*args), jax.vmap(lambda *a: f(jnp, *a), **kw)(*args))


def test_vmap_keywords_axis_size_and_tensors():
    same(gf.vmap(lambda a, b=None: a * b)(XS, b=XS), jax.vmap(lambda a, b=None: a * b)(XS, b=XS))
    same(
        gf.vmap(lambda a: a * 2, in_axes=None, axis_size=4)(V3),
        jax.vmap(lambda a: a * 2, in_axes=None, axis_size=4)(V3),
    )
    r = gf.vmap(lambda a: a * 2)(gk.tensor(XS))
    assert isinstance(r, gk.Tensor)
    same(r, jax.vmap(lambda a: a * 2)(XS), numpy_leaves=False)
    # ``float(a[0])`` reads a mapped value: both refuse (JAX: a concretization error; gradkit:
    # PyTorch's vmap error), neither runs the function once per example
    with pytest.raises(jax.errors.ConcretizationTypeError):
        jax.vmap(lambda a, b: (a * float(a[0]), b * 2), in_axes=(0, None), out_axes=(0, None))(XS, V3)
    with pytest.raises(RuntimeError, match=r"calling \.item\(\) on a Tensor"):
        gf.vmap(lambda a, b: (a * float(a[0]), b * 2), in_axes=(0, None), out_axes=(0, None))(XS, V3)


def test_nested_vmap():
    same(gf.vmap(gf.vmap(lambda a, b: a * b))(T453, T453), jvmap(jvmap(lambda a, b: a * b))(T453, T453))
    same(
        gf.vmap(gf.vmap(lambda a, b: np.dot(a, b), in_axes=(0, None)), in_axes=(None, 0))(XS, XS),
        jvmap(jvmap(lambda a, b: jnp.dot(a, b), in_axes=(0, None)), in_axes=(None, 0))(XS, XS),
    )
    same(
        gf.vmap(gf.vmap(np.sum, in_axes=1), in_axes=1)(T453),
        jvmap(jvmap(jnp.sum, in_axes=1), in_axes=1)(T453),
    )
    same(
        gf.vmap(gf.vmap(gf.grad(lambda a: np.sum(np.sin(a)))))(T453),
        jvmap(jvmap(jgrad(lambda a: jnp.sum(jnp.sin(a)))))(T453),
    )


def _loss(xp, p, x, t):
    return (xp.tanh(x @ p["w"]) + p["b"] - t) ** 2


def test_vmap_of_derivatives():
    params, targets = {"w": V3, "b": 0.3}, RNG.standard_normal(5)
    axes = (None, 0, 0)
    for ours, theirs, kw in [
        (gf.grad, jax.grad, {}),
        (gf.value_and_grad, jax.value_and_grad, {}),
        (gf.grad, jax.grad, {"argnums": (0, 1)}),
    ]:
        same(
            gf.vmap(ours(lambda p, x, t: _loss(np, p, x, t), **kw), in_axes=axes)(params, XS, targets),
            jvmap(theirs(lambda p, x, t: _loss(jnp, p, x, t), **kw), in_axes=axes)(params, XS, targets),
        )
    f, fj = (lambda a: np.sin(a) * a[0]), (lambda a: jnp.sin(a) * a[0])
    same(gf.vmap(gf.jacrev(f))(XS), jvmap(jjacrev(fj))(XS))
    same(gf.vmap(gf.jacfwd(f))(XS), jvmap(jjacfwd(fj))(XS))
    same(gf.vmap(gf.hessian(lambda a: np.sum(f(a))))(XS), jvmap(jhessian(lambda a: jnp.sum(fj(a))))(XS))
    same(
        gf.vmap(lambda a, t: gf.jvp(f, (a,), (t,)))(XS, XS),
        jvmap(lambda a, t: jax.jvp(fj, (a,), (t,)))(XS, XS),
    )
    same(gf.vmap(lambda a, t: gf.vjp(f, a)[1](t))(XS, XS), jvmap(lambda a, t: jax.vjp(fj, a)[1](t))(XS, XS))
    same(
        gf.vmap(lambda a: gf.linearize(np.sin, a)[1](a))(XS),
        jvmap(lambda a: jax.linearize(jnp.sin, a)[1](a))(XS),
    )
    same(
        gf.vmap(gf.grad(gf.grad(lambda a: np.sin(a) * a**2)))(V3),
        jvmap(jgrad(jgrad(lambda a: jnp.sin(a) * a**2)))(V3),
    )
    same(
        gf.vmap(gf.grad(lambda a, b: np.sum(a * b)), in_axes=(1, None))(XS.T, V3),
        jvmap(jgrad(lambda a, b: jnp.sum(a * b)), in_axes=(1, None))(XS.T, V3),
    )
    same(
        gf.vmap(gf.grad(lambda a, b: np.sum(a * b)), in_axes=(0, None), out_axes=1)(XS, V3),
        jvmap(jgrad(lambda a, b: jnp.sum(a * b)), in_axes=(0, None), out_axes=1)(XS, V3),
    )
    same(
        gf.vmap(gf.grad(lambda a, b: np.sum(np.sin(a * b)), argnums=1), in_axes=(0, None))(XS, V3),
        jvmap(jgrad(lambda a, b: jnp.sum(jnp.sin(a * b)), argnums=1), in_axes=(0, None))(XS, V3),
    )
    same(
        gf.vmap(gf.grad(lambda a: (np.sum(a**2), a * 3), has_aux=True))(XS),
        jvmap(jgrad(lambda a: (jnp.sum(a**2), a * 3), has_aux=True))(XS),
    )
    same(
        gf.vmap(gf.hessian(lambda a, b: np.sum(a**2 * b), argnums=(0, 1)), in_axes=(0, None))(XS, V3),
        jvmap(jhessian(lambda a, b: jnp.sum(a**2 * b), argnums=(0, 1)), in_axes=(0, None))(XS, V3),
    )
    same(
        gf.vmap(gf.grad(lambda p: np.sum(p["a"] * p["b"])), in_axes=({"a": 0, "b": None},))(
            {"a": XS, "b": V3}
        ),
        jvmap(jgrad(lambda p: jnp.sum(p["a"] * p["b"])), in_axes=({"a": 0, "b": None},))({"a": XS, "b": V3}),
    )


def test_derivatives_of_vmap(fwd_mode):
    g, gj = (lambda r: np.sum(np.sin(r) * r)), (lambda r: jnp.sum(jnp.sin(r) * r))
    same(gf.grad(lambda a: np.sum(gf.vmap(g)(a)))(XS), jgrad(lambda a: jnp.sum(jvmap(gj)(a)))(XS))
    same(gf.jacrev(gf.vmap(g))(XS), jjacrev(jvmap(gj))(XS))
    same(gf.jacfwd(gf.vmap(g))(XS), jjacfwd(jvmap(gj))(XS))
    same(gf.jvp(gf.vmap(g), (XS,), (XS,)), jax.jvp(jvmap(gj), (XS,), (XS,)))
    same(
        gf.vjp(gf.vmap(lambda r: np.sin(r) * r[0]), XS)[1](XS),
        jax.vjp(jvmap(lambda r: jnp.sin(r) * r[0]), XS)[1](XS),
    )
    same(
        gf.hessian(lambda a: np.sum(gf.vmap(lambda r: np.sum(np.sin(r)) * r[0])(a)))(XS),
        jhessian(lambda a: jnp.sum(jvmap(lambda r: jnp.sum(jnp.sin(r)) * r[0])(a)))(XS),
    )
    inner = lambda xp, x, W: xp.sum(xp.tanh(x @ W))  # noqa: E731
    same(
        gf.grad(
            lambda W: np.sum(gf.vmap(gf.grad(lambda x, W: inner(np, x, W)), in_axes=(0, None))(XS, W) ** 2)
        )(np.eye(3)),
        jgrad(lambda W: jnp.sum(jvmap(jgrad(lambda x, W: inner(jnp, x, W)), in_axes=(0, None))(XS, W) ** 2))(
            np.eye(3)
        ),
    )


# --- errors ---------------------------------------------------------------------------------------
def test_errors_match_jax():
    ones = np.ones(3)
    # grad of a non-scalar output: same type and message
    raises_like(lambda: gf.grad(lambda a: a * 2)(ones), lambda: jax.grad(lambda a: a * 2)(ones), 200)
    # NOTE: a deliberate difference: a one-element output of shape (1,) is a scalar output for
    # gradkit (HIPS autograd and PyTorch's backward() accept it); JAX raises
    with pytest.raises(TypeError, match=r"Output had shape: \(1,\)"):
        jax.grad(lambda a: a * 2)(np.ones(1))
    np.testing.assert_allclose(gf.grad(lambda a: a * 2)(np.ones(1)), [2.0])
    raises_like(
        lambda: gf.value_and_grad(lambda a: a * 2)(ones),
        lambda: jax.value_and_grad(lambda a: a * 2)(ones),
        200,
    )
    raises_like(
        lambda: gf.grad(lambda a: (np.sum(a), np.sum(a)))(ones),
        lambda: jax.grad(lambda a: (jnp.sum(a), jnp.sum(a)))(ones),
        60,
    )
    raises_like(
        lambda: gf.grad(lambda a: np.sum(a * a))(np.array([1 + 1j])),
        lambda: jax.grad(lambda a: jnp.sum(a * a))(np.array([1 + 1j])),
        100,
    )
    raises_like(
        lambda: gf.grad(lambda a: np.sum(a), has_aux=True)(ones),
        lambda: jax.grad(lambda a: jnp.sum(a), has_aux=True)(ones),
    )
    # integer and boolean inputs
    for x in (np.arange(3), np.array([True, False])):
        for ours, theirs in [(gf.grad, jax.grad), (gf.jacrev, jax.jacrev)]:
            raises_like(
                partial(ours(lambda a: np.sum(a * 2.0)), x),
                partial(theirs(lambda a: jnp.sum(a * 2.0)), x),
                100,
            )
    raises_like(lambda: gf.grad(lambda a: a * 2.0)(True), lambda: jax.grad(lambda a: a * 2.0)(True), 100)
    raises_like(
        lambda: gf.jacfwd(lambda a: a * 2.0)(np.arange(3)),
        lambda: jax.jacfwd(lambda a: a * 2.0)(np.arange(3)),
        6,
    )
    # argnums out of range
    raises_like(
        lambda: gf.grad(lambda a: np.sum(a), argnums=1)(ones),
        lambda: jax.grad(lambda a: jnp.sum(a), argnums=1)(ones),
        200,
    )
    # jvp / vjp / linearize argument checks
    raises_like(
        lambda: gf.jvp(lambda a: a, (ones,), (np.ones(2),)),
        lambda: jax.jvp(lambda a: a, (ones,), (np.ones(2),)),
        47,
    )
    raises_like(
        lambda: gf.jvp(lambda a: a, (ones,), (ones, ones)),
        lambda: jax.jvp(lambda a: a, (ones,), (ones, ones)),
    )
    raises_like(lambda: gf.jvp(lambda a: a, ones, ones), lambda: jax.jvp(lambda a: a, ones, ones))
    raises_like(
        lambda: gf.vjp(lambda a: a, ones)[1](np.ones(2)), lambda: jax.vjp(lambda a: a, ones)[1](np.ones(2))
    )
    raises_like(
        lambda: gf.vjp(lambda a: (a, a), ones)[1](ones), lambda: jax.vjp(lambda a: (a, a), ones)[1](ones)
    )
    raises_like(
        lambda: gf.linearize(lambda a: a, ones)[1](np.ones(2)),
        lambda: jax.linearize(lambda a: a, ones)[1](np.ones(2)),
    )


def test_vmap_errors_match_jax():
    x = np.arange(12.0).reshape(4, 3)
    raises_like(
        lambda: gf.vmap(lambda a, b: a + b)(x, np.ones((5, 3))),
        lambda: jax.vmap(lambda a, b: a + b)(x, np.ones((5, 3))),
        34,
    )
    raises_like(
        lambda: gf.vmap(lambda a: a, in_axes=None)(x), lambda: jax.vmap(lambda a: a, in_axes=None)(x), 200
    )
    raises_like(
        lambda: gf.vmap(lambda a, b: a, in_axes=(0,))(x, x),
        lambda: jax.vmap(lambda a, b: a, in_axes=(0,))(x, x),
        200,
    )
    raises_like(lambda: gf.vmap(lambda: 1.0)(), lambda: jax.vmap(lambda: 1.0)(), 200)
    for axis, arg in [(2, x), (-3, x), (0, 2.0)]:
        raises_like(
            partial(gf.vmap(lambda a: a, in_axes=axis), arg),
            partial(jax.vmap(lambda a: a, in_axes=axis), arg),
            200,
        )
    raises_like(
        lambda: gf.vmap(lambda a: a, out_axes=None)(x), lambda: jax.vmap(lambda a: a, out_axes=None)(x), 200
    )
    raises_like(
        lambda: gf.vmap(lambda a: gk.heaviside(a, a), out_axes=None)(x),  # the loop's check
        lambda: jax.vmap(lambda a: jnp.heaviside(a, a), out_axes=None)(x),
        200,
    )
    for axis in (2, -3):
        raises_like(
            partial(gf.vmap(lambda a: a * 2, out_axes=axis), x),
            partial(jax.vmap(lambda a: a * 2, out_axes=axis), x),
            40,
        )
    raises_like(
        lambda: gf.vmap(lambda a: a, axis_size=5)(x), lambda: jax.vmap(lambda a: a, axis_size=5)(x), 34
    )


# --- kinks: PyTorch's convention by default, JAX's under set_subgradient_convention("jax") -----------
KINKS = {
    "abs": lambda xp, a: xp.sum(xp.abs(a)),
    "clip": lambda xp, a: xp.sum(xp.clip(a, -1.0, 1.0)),
    "norm of zero": lambda xp, a: xp.linalg.norm(a * 0.0),
    "maximum tie": lambda xp, a: xp.sum(xp.maximum(a, 2.0) + xp.minimum(a, 0.0)),
    "maximum self": lambda xp, a: xp.sum(xp.maximum(a, a[::-1])),
    "max ties": lambda xp, a: xp.max(a),
    "relu": lambda xp, a: xp.sum(xp.maximum(a, 0.0)),
    "where": lambda xp, a: xp.sum(xp.where(a >= 1.0, a**2, 2 * a)),
    "sqrt at 0": lambda xp, a: xp.sum(xp.sqrt(a * a)),
    "sort": lambda xp, a: xp.sum(xp.sort(a) * xp.arange(5.0)),
}
KINK_X = np.array([0.0, 1.0, -1.0, 2.0, 2.0])
#: the documented PyTorch-convention values where they differ from JAX's (docs/semantics.md)
TORCH_AT_KINKS = {
    "abs": [0.0, 1.0, -1.0, 1.0, 1.0],
    "clip": [1.0, 1.0, 1.0, 0.0, 0.0],
    "norm of zero": [0.0] * 5,
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_kink_conventions(name, fwd_mode):
    f = KINKS[name]
    ours, theirs = (lambda a: f(np, a)), (lambda a: f(jnp, a))
    ones = np.ones(5)
    expected, jf, jout, jtan = oracle(
        ("kink", name),
        lambda: (
            jgrad(theirs)(KINK_X),
            jjacfwd(theirs)(KINK_X),
            *jax.jit(lambda a, t: jax.jvp(theirs, (a,), (t,)))(KINK_X, ones),
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with gk.autograd.set_subgradient_convention("jax"):
            same(gf.grad(ours)(KINK_X), expected)
            same(gf.jacfwd(ours)(KINK_X), jf)
            same(gf.vmap(gf.grad(ours))(KINK_X[None]), expected[None])
            same(gf.jvp(ours, (KINK_X,), (ones,)), (jout, jtan))
        default = gf.grad(ours)(KINK_X)
        same(default, np.asarray(TORCH_AT_KINKS.get(name, expected)))
        if name in TORCH_AT_KINKS and fwd_mode == "auto":  # (the double-VJP fallback: 0 * inf = nan)
            same(gf.jvp(ours, (KINK_X,), (ones,))[1], np.sum(default))
            same(gf.jacfwd(ours)(KINK_X), default)
