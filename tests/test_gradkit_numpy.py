"""gradkit.numpy: NumPy's namespace, NumPy's own results without tensors, a graph with them."""

from __future__ import annotations

import subprocess
import sys

import numpy
import pytest

import gradkit as gk
import gradkit.numpy as gnp
from gradkit import Tensor

RNG = numpy.random.default_rng(0)


def _fd_grad(f, x, eps=1e-6):
    """Central finite differences of the scalar function ``f`` at the float64 array ``x``."""
    x = numpy.asarray(x, dtype=numpy.float64)
    g = numpy.zeros_like(x)
    for i in numpy.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (float(f(xp)) - float(f(xm))) / (2 * eps)
    return g


def _check_grad(f, x, **tol):
    got = numpy.asarray(gk.func.grad(f)(x))
    numpy.testing.assert_allclose(got, _fd_grad(f, x), rtol=1e-6, atol=1e-8, **tol)


def _same(a, b):
    """``a`` and ``b`` are the same NumPy result: type, dtype, shape and values."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, (numpy.ndarray, numpy.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        numpy.testing.assert_array_equal(a, b)
    else:
        assert a == b or (a != a and b != b)


# --- the namespace -----------------------------------------------------------------------
def test_every_public_numpy_name_is_there():
    missing = [n for n in vars(numpy) if not n.startswith("_") and not hasattr(gnp, n)]
    assert missing == []
    assert set(n for n in dir(numpy) if not n.startswith("_")) <= set(dir(gnp))
    for sub in ("linalg", "fft", "random"):
        mod = getattr(numpy, sub)
        assert [n for n in vars(mod) if not n.startswith("_")
                and not hasattr(getattr(gnp, sub), n)] == []


def test_numpy_own_objects():
    for name in ("sin", "add", "exp", "maximum", "isnan"):        # ufuncs, with .reduce etc.
        assert getattr(gnp, name) is getattr(numpy, name)
    for name in ("float64", "float32", "float16", "complex128", "bool_", "ndarray", "dtype",
                 "floating", "integer", "generic", "errstate", "finfo"):
        assert getattr(gnp, name) is getattr(numpy, name)
    assert gnp.newaxis is None and gnp.pi == numpy.pi and gnp.e == numpy.e
    assert gnp.inf == numpy.inf and numpy.isnan(gnp.nan)
    assert gnp.__version__ == numpy.__version__
    assert gnp.random.randn is numpy.random.randn and gnp.random.default_rng is \
        numpy.random.default_rng
    assert gnp.sum.__name__ == "sum" and gnp.sum.__doc__ == numpy.sum.__doc__
    assert gnp.testing is numpy.testing and gnp.polynomial is numpy.polynomial
    with pytest.raises(AttributeError):
        gnp.no_such_name  # noqa: B018


def test_gradkit_attribute_loads_the_subpackage_lazily():
    code = ("import sys, gradkit; assert 'gradkit.numpy' not in sys.modules; "
            "m = gradkit.numpy; assert m.__name__ == 'gradkit.numpy' and m.sum is not None; "
            "import numpy; assert numpy.__name__ == 'numpy'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=gk.__file__.rsplit("/gradkit/", 1)[0])
    # NOTE: not in gradkit.__all__, so `from gradkit import *` never shadows the real numpy
    assert gk.numpy is gnp and "numpy" not in gk.__all__


# --- NumPy-only calls are NumPy's -----------------------------------------------------------
A = RNG.standard_normal((4, 3))
B = RNG.standard_normal((3, 5))
V = RNG.standard_normal(6)
I = numpy.arange(12).reshape(3, 4)
SQ = A.T @ A + numpy.eye(3)

CALLS = [
    ("sum", (A,), {}), ("sum", (A,), {"axis": 0, "keepdims": True}), ("mean", ([1, 2, 3],), {}),
    ("std", (A,), {"ddof": 1}), ("var", (V,), {}), ("prod", (I,), {"axis": 1}),
    ("max", (A,), {"axis": 1}), ("amin", (A,), {}), ("argmax", (A,), {}), ("argsort", (V,), {}),
    ("cumsum", (I,), {"axis": 0}), ("dot", (A, B), {}), ("matmul", (A, B), {}),
    ("tensordot", (A, B), {"axes": 1}), ("einsum", ("ij,jk->ik", A, B), {}),
    ("einsum", (A, [0, 1], B, [1, 2]), {}), ("outer", (V, V), {}), ("inner", (V, V), {}),
    ("kron", (I, A), {}), ("trace", (SQ,), {}), ("diag", (V,), {}), ("diagonal", (A,), {}),
    ("tril", (A,), {}), ("reshape", (I, (4, 3)), {}), ("transpose", (I,), {}),
    ("swapaxes", (I, 0, 1), {}), ("squeeze", (I[None],), {}), ("expand_dims", (V, 0), {}),
    ("concatenate", ([A, A],), {"axis": 1}), ("stack", ([V, V],), {}),
    ("hstack", ((V, V),), {}), ("vstack", ([A, A],), {}), ("dstack", ([A, A],), {}),
    ("column_stack", ([V, V],), {}), ("split", (V, 3), {}), ("array_split", (V, 4), {}),
    ("tile", (V, 2), {}), ("repeat", (V, 2), {}), ("flip", (I,), {}), ("roll", (V, 2), {}),
    ("sort", (V,), {}), ("where", (V > 0, V, 0.0), {}), ("clip", (V, -0.5, 0.5), {}),
    ("linspace", (0, 1, 7), {}), ("arange", (5,), {}), ("zeros", ((2, 3),), {}),
    ("ones_like", (I,), {}), ("full", ((2,), 3.5), {}), ("eye", (3,), {}),
    ("zeros", (3,), {"dtype": numpy.int32}), ("array", ([[1, 2], [3, 4]],), {}),
    ("array", ([1, 2.5],), {"dtype": numpy.float32}), ("asarray", ([1, 2],), {}),
    ("array", (V,), {"ndmin": 3}), ("ascontiguousarray", (I.T,), {}),
    ("allclose", (V, V), {}), ("isclose", (V, V + 1e-12), {}), ("array_equal", (I, I), {}),
    ("iscomplex", (V + 1j,), {}), ("isreal", (V,), {}), ("isscalar", (3.0,), {}),
    ("isscalar", (V,), {}), ("shape", (A,), {}), ("ndim", (A,), {}), ("size", (A,), {}),
    ("unique", (I % 3,), {"return_counts": True}), ("nonzero", (I,), {}),
    ("meshgrid", (V[:2], V[:3]), {}), ("broadcast_arrays", (A, V[:3]), {}),
    ("pad", (V, 1), {}), ("interp", (0.5, [0, 1], [1.0, 3.0]), {}), ("diff", (V,), {}),
    ("gradient", (V,), {}), ("cross", (V[:3], V[3:]), {}), ("polyval", ([1, 2, 3], V), {}),
    ("histogram", (V,), {"bins": 3}), ("percentile", (V, [25, 75]), {}),
    ("median", (A,), {"axis": 0}), ("cov", (A,), {}), ("corrcoef", (A,), {}),
    ("searchsorted", ([1, 3, 5], 4), {}), ("count_nonzero", (I,), {}),
    ("select", ([V > 0, V < 0], [V, -V]), {}), ("block", ([[A, A], [A, A]],), {}),
    ("atleast_2d", (V,), {}), ("atleast_3d", (1.0,), {}), ("result_type", (A, 1), {}),
    ("append", (V, [1.0]), {}), ("insert", (V, 1, 9.0), {}), ("delete", (V, 0), {}),
    ("rot90", (I,), {}), ("fliplr", (I,), {}), ("moveaxis", (I, 0, 1), {}),
    ("take", (V, [0, 2]), {}), ("take_along_axis", (I, numpy.argsort(I, 1), 1), {}),
    ("nan_to_num", (numpy.array([numpy.nan, 1.0]),), {}), ("real", (V + 2j,), {}),
    ("imag", (V + 2j,), {}), ("conj", (V + 2j,), {}), ("angle", (V + 2j,), {}),
    ("logaddexp", (V, V), {}), ("sin", (V,), {}), ("sinc", (V,), {}), ("float64", (2,), {}),
    ("int64", (2.7,), {}), ("int32", ([1, 2],), {}), ("uint8", (300 % 256,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", CALLS, ids=[c[0] for c in CALLS])
def test_numpy_only_call_is_numpy(name, args, kwargs):
    _same(getattr(gnp, name)(*args, **kwargs), getattr(numpy, name)(*args, **kwargs))


SUBCALLS = [
    ("linalg", "solve", (SQ, V[:3])), ("linalg", "inv", (SQ,)), ("linalg", "det", (SQ,)),
    ("linalg", "slogdet", (SQ,)), ("linalg", "norm", (A,)), ("linalg", "eigh", (SQ,)),
    ("linalg", "svd", (A,)), ("linalg", "qr", (A,)), ("linalg", "cholesky", (SQ,)),
    ("linalg", "multi_dot", ([A, B, B.T],)), ("linalg", "pinv", (A,)),
    ("linalg", "matrix_rank", (A,)), ("fft", "fft", (V,)), ("fft", "rfft", (V,)),
    ("fft", "ifft2", (A,)), ("fft", "fftshift", (V,)), ("fft", "fftfreq", (6,)),
    ("fft", "irfft", (V,)),
]


@pytest.mark.parametrize("sub,name,args", SUBCALLS, ids=[f"{c[0]}.{c[1]}" for c in SUBCALLS])
def test_numpy_only_submodule_call_is_numpy(sub, name, args):
    _same(getattr(getattr(gnp, sub), name)(*args), getattr(getattr(numpy, sub), name)(*args))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_index_tricks_without_tensors_are_numpy():
    for key in [(V, 0, V), (slice(0, 5), [1, 2]), ("0,2", V, V), ("1,2,0", V, V), ("-1", A, A),
                (slice(0, 1, 5j),), (1, 2.5, numpy.array([3]))]:
        _same(gnp.r_[key], numpy.r_[key])
    _same(gnp.c_[V, V], numpy.c_[V, V])
    _same(gnp.c_[A, V[:4]], numpy.c_[A, V[:4]])
    assert type(gnp.r_["r", V, V]) is numpy.matrix


def test_int_scalar_types():
    x = gnp.int64(3)
    assert type(x) is numpy.int64 and x == 3
    assert isinstance(numpy.int64(3), gnp.int64) and issubclass(numpy.int64, gnp.int64)
    assert numpy.dtype(gnp.int64) == numpy.int64 and numpy.dtype(gnp.uint8) == numpy.uint8
    assert numpy.zeros(2, dtype=gnp.int32).dtype.type is numpy.int32
    assert numpy.issubdtype(gnp.int16, numpy.integer)
    assert gnp.int_ is gnp.int64 or numpy.int_ is not numpy.int64
    assert repr(gnp.int64) == repr(numpy.int64)


# --- tensors -------------------------------------------------------------------------------
def _t(x, rg=True):
    return gk.tensor(numpy.asarray(x, dtype=numpy.float64), requires_grad=rg)


def test_array_of_tensors_is_a_tensor_on_the_graph():
    x = _t(2.0)
    a = gnp.array([x, 2 * x, 3])
    assert isinstance(a, Tensor) and a.requires_grad and tuple(a.shape) == (3,)
    assert a.dtype == gk.float64
    numpy.testing.assert_array_equal(a.detach().numpy(), [2.0, 4.0, 3.0])
    b = gnp.array([[x, 1.0], numpy.array([2.0, 3.0])])
    assert tuple(b.shape) == (2, 2)
    c = gnp.asarray((x, x), dtype=numpy.float32)
    assert c.dtype == gk.float32
    d = gnp.array([x, x], ndmin=3)
    assert tuple(d.shape) == (1, 1, 2)


def test_array_dtype_promotion_is_numpy():
    f32 = gk.tensor([1.0, 2.0], dtype=gk.float32)
    i64 = gk.tensor([1, 2], dtype=gk.int64)
    assert gnp.array([f32, f32]).dtype == gk.float32
    assert gnp.array([f32, [1, 2]]).dtype == numpy.array(
        [numpy.ones(2, numpy.float32), [1, 2]]).dtype == numpy.float64
    assert gnp.array([i64, [1, 2]]).dtype == gk.int64
    assert gnp.array([i64, [1.5, 2]]).dtype == gk.float64
    assert gnp.array([f32, numpy.ones(2, numpy.float32)]).dtype == gk.float32


def test_array_copy_semantics():
    x = _t([1.0, 2.0])
    assert gnp.asarray(x) is x and gnp.asanyarray(x) is x
    y = gnp.array(x)
    assert y is not x and y.requires_grad
    z = gnp.array(x, dtype=numpy.float32)
    assert z.dtype == gk.float32
    assert gnp.asarray(x, dtype=numpy.float64) is x


def test_array_differentiates():
    def f(x):
        a = gnp.array([[x[0] * x[1], 2.0], [gnp.sin(x[1]), x[0] ** 2]])
        return gnp.sum(a @ a)
    _check_grad(f, numpy.array([0.3, -1.2]))

    def g(x):  # a scalar argument, a list built of it (as in autograd's examples)
        return gnp.max(gnp.array([x, x ** 2, 1.0])) + gnp.mean(gnp.asarray([x, x + 2]))
    _check_grad(g, numpy.array(1.5))


def test_lists_of_tensors_to_functions():
    x, y = _t(1.0), _t(3.0)
    assert float(gnp.mean([x, y + 2]).detach()) == 3.0
    assert isinstance(gnp.sum([x, y]), Tensor)
    assert isinstance(gnp.dot([x, y], [x, y]), Tensor)
    assert isinstance(gnp.linalg.norm([x, y]), Tensor)

    def f(v):
        a, b = v[0], v[1]
        return (gnp.mean([a, b * 2]) + gnp.sum([a * b, b]) + gnp.prod([a, b, 2.0])
                + gnp.dot([a, b], [b, 1.0]) + gnp.linalg.norm([a, b, 1.0])
                + gnp.max(gnp.stack([a, b ** 2])) + gnp.std([a, b, a * b]))
    _check_grad(f, numpy.array([0.7, 1.3]))


def test_stacking_lists_mixing_tensors_and_arrays():
    def f(v):
        arr = numpy.array([1.0, 2.0])
        parts = [gnp.stack([v, arr]), gnp.concatenate([v, arr]), gnp.hstack([v, arr]),
                 gnp.vstack([v, arr]), gnp.concatenate([[v[0], 1.0], arr]),
                 gnp.stack([[v[0], v[1]], arr])]
        return sum(gnp.sum(gnp.sin(p)) for p in parts)
    _check_grad(f, numpy.array([0.2, 0.9]))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
@pytest.mark.parametrize("key", [
    lambda x, c: gnp.r_[x],
    lambda x, c: gnp.r_[x, x],
    lambda x, c: gnp.r_[x, c, 1:4],
    lambda x, c: gnp.r_[c, x, 2.5],
    lambda x, c: gnp.r_["0,2", x, c],
    lambda x, c: gnp.r_["1,2,0", x, c],
    lambda x, c: gnp.r_["-1", x[:, None], c[:, None]],
    lambda x, c: gnp.r_[x, 0:1:4j],
    lambda x, c: gnp.c_[x, c, x],
    lambda x, c: gnp.c_[x[:, None], c],
    lambda x, c: gnp.r_["r", x, c],
    lambda x, c: gnp.r_["c", x, c],
], ids=["r1", "r2", "slice", "scalar", "0,2", "1,2,0", "-1", "linspace", "c3", "c2d", "r",
        "c"])
def test_index_tricks_over_tensors(key):
    c = numpy.array([0.5, -1.0, 2.0])
    x0 = numpy.array([0.3, 0.1, -0.7])
    want = key(x0, c)             # NumPy's own result (no tensors)
    got = key(_t(x0), c)
    assert isinstance(got, Tensor) and got.requires_grad
    numpy.testing.assert_allclose(got.detach().numpy(), numpy.asarray(want))
    assert tuple(got.shape) == numpy.asarray(want).shape
    _check_grad(lambda x: gnp.sum(gnp.sin(key(x, c)) * 1.5), x0)


def test_index_tricks_errors_as_numpy():
    x = _t([1.0])
    with pytest.raises(ValueError):
        gnp.r_[x, "0,2"]
    with pytest.raises(ValueError):
        gnp.r_["bogus", x]


def test_plain_answers_on_tensors():
    x = _t([1.0, 2.0])
    s = _t(3.0)
    assert gnp.isscalar(s) is True and gnp.isscalar(x) is False
    assert gnp.shape(x) == (2,) and gnp.ndim(x) == 1 and gnp.size(x) == 2
    assert bool(gnp.allclose(x, [1.0, 2.0])) and not bool(gnp.allclose(x, [1.0, 2.5]))
    numpy.testing.assert_array_equal(numpy.asarray(gnp.iscomplex(x)), [False, False])
    numpy.testing.assert_array_equal(numpy.asarray(gnp.isreal(x)), [True, True])
    assert gnp.shape([x, x]) == (2, 2)


def test_integer_cast_of_a_tensor():
    w = _t([[0.2, 1.7], [3.1, 0.0]])
    i = gnp.int64(w[:, 1])
    assert isinstance(i, Tensor) and i.dtype == gk.int64 and not i.requires_grad
    numpy.testing.assert_array_equal(i.numpy(), [1, 0])
    assert i.dtype == gnp.int64
    j = gnp.int32([w[0, 0], w[1, 0]])
    assert j.dtype == gk.int32

    def f(v):
        idx = gnp.int64(v[:, -1])
        return gnp.sum(v[idx, 0] ** 2)
    _check_grad(f, numpy.array([[0.5, 1.5], [2.0, 0.5]]))


def test_dtypes_and_constants_work_with_tensors():
    x = _t([1.0, 2.0])
    assert x.to(gnp.float32).dtype == gk.float32
    assert gnp.zeros(2, dtype=gnp.float64).dtype == numpy.float64
    y = x[gnp.newaxis]
    assert tuple(y.shape) == (1, 2)
    assert float(gnp.sum(x * gnp.pi).detach()) == pytest.approx(3 * numpy.pi)


def test_ported_function_runs_on_arrays_and_differentiates():
    def model(w, X):
        h = gnp.tanh(gnp.dot(X, w[:3]))
        feats = gnp.array([gnp.mean(h), gnp.std(h), w[3]])
        out = gnp.r_[feats, gnp.sum(h ** 2)]
        return gnp.sum(out ** 2) + gnp.linalg.norm(gnp.c_[w[:3], w[:3]])

    X = RNG.standard_normal((5, 3))
    w = RNG.standard_normal(4)
    # on plain arrays it is NumPy's computation
    plain = model(w, X)
    assert type(plain) is numpy.float64
    assert plain == pytest.approx(
        numpy.sum(numpy.r_[[numpy.tanh(X @ w[:3]).mean(), numpy.tanh(X @ w[:3]).std(), w[3]],
                           numpy.sum(numpy.tanh(X @ w[:3]) ** 2)] ** 2)
        + numpy.linalg.norm(numpy.c_[w[:3], w[:3]]), rel=1e-12)
    _check_grad(lambda v: model(v, X), w)


def test_fft_and_linalg_on_tensors():
    def f(v):
        return gnp.sum(gnp.abs(gnp.fft.rfft(v)) ** 2) + gnp.linalg.norm(v) + \
            gnp.linalg.det(gnp.array([[v[0], v[1]], [v[2], v[3]]]))
    _check_grad(f, numpy.array([0.3, -0.2, 1.1, 0.5]))


def test_transforms_through_built_arrays():
    def f(x):
        return (gnp.sum(gnp.array([x[0] * x[1], gnp.sin(x[0]), 2.0]) ** 2)
                + gnp.mean([x[0], x[1]]) + gnp.sum(gnp.r_[x, 1.0] ** 3))

    x0 = numpy.array([0.3, 0.7])
    batch = numpy.stack([x0, 2 * x0])
    numpy.testing.assert_allclose(gk.func.vmap(f)(batch), [f(x0), f(2 * x0)], rtol=1e-13)
    g = _fd_grad(f, x0)
    _, tangent = gk.func.jvp(f, (x0,), (numpy.array([1.0, 0.0]),))
    assert float(tangent) == pytest.approx(g[0], rel=1e-6)
    numpy.testing.assert_allclose(gk.func.jacfwd(f)(x0), g, rtol=1e-6)
    h = gk.func.hessian(f)(x0)
    numpy.testing.assert_allclose(h, h.T, rtol=1e-12)
    numpy.testing.assert_allclose(h[0], _fd_grad(lambda v: gk.func.grad(f)(v)[0], x0), rtol=1e-5)

    import gradkit.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        d = fwAD.make_dual(gk.tensor(x0), gk.tensor(numpy.array([1.0, 0.0])))
        out = gnp.sum(gnp.array([d[0] ** 2, d[1]]))
        assert float(fwAD.unpack_dual(out).tangent) == pytest.approx(2 * x0[0])
