"""Forward AD as PyTorch 2.13 has it: differentiable tangents, tangent dtypes, gradcheck's
forward check.

Expected values are analytic derivatives or numbers recorded from PyTorch 2.13 (CPU); the
``live`` tests compare with an installed torch and skip only when it is absent.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.autograd.forward_ad as fwAD

NO_GRAD = "element 0 of tensors does not require grad and does not have a grad_fn"


# --- 1. tangents on the graph -----------------------------------------------------------------
def test_reverse_over_forward_gives_primal_and_tangent_gradients() -> None:
    x = gk.tensor([1.0, 2.0, 3.0], dtype=gk.float64, requires_grad=True)
    t = gk.tensor([0.5, -1.0, 2.0], dtype=gk.float64, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        jvp = fwAD.unpack_dual((d.sin() * d).exp().sum()).tangent
        assert jvp.grad_fn is not None
        jvp.backward()
    # recorded from PyTorch 2.13
    np.testing.assert_allclose(jvp.item(), -7.51169201185686, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), [2.4919402839992695, 16.30139029724109,
                                                17.10056021391783], rtol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), [3.2054056567216307, 0.47458893249195633,
                                                -4.319902953862859], rtol=1e-12)
    # analytic: f = exp(x sin x), jvp = sum(f (sin x + x cos x) t); d jvp / dt = f (sin x + x cos x)
    xv = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(t.grad.numpy(),
                               np.exp(xv * np.sin(xv)) * (np.sin(xv) + xv * np.cos(xv)), rtol=1e-12)


def test_double_backward_through_a_tangent() -> None:
    x = gk.tensor([0.3, -0.7, 1.1], dtype=gk.float64, requires_grad=True)
    t = gk.tensor([1.0, 2.0, -0.5], dtype=gk.float64)
    w = gk.tensor([1.0, -1.0, 2.0], dtype=gk.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        jvp = fwAD.unpack_dual((gk.tanh(d) * d.exp()).sum()).tangent
        (gx,) = gk.autograd.grad(jvp, x, create_graph=True)
        (gxx,) = gk.autograd.grad((gx * w).sum(), x)
    # recorded from PyTorch 2.13
    np.testing.assert_allclose(gx.detach().numpy(), [2.144122017465646, 1.4225616756477233,
                                                     -1.417697565064531], rtol=1e-12)
    np.testing.assert_allclose(gxx.numpy(), [0.09836658331504555, -3.697713415035876,
                                             -2.44993617176436], rtol=1e-12)
    # analytic: g = tanh(x) e^x; jvp = sum(g' t); gx = g'' t; gxx = g''' t w
    xv, tv, wv = np.array([0.3, -0.7, 1.1]), np.array([1.0, 2.0, -0.5]), np.array([1.0, -1.0, 2.0])
    th, s2 = np.tanh(xv), 1 / np.cosh(xv) ** 2
    d1 = -2 * th * s2                         # (sech^2)' = -2 tanh sech^2
    d2 = -2 * s2 * s2 + 4 * th * th * s2      # (-2 tanh sech^2)'
    g2 = np.exp(xv) * (th + 2 * s2 + d1)
    g3 = np.exp(xv) * (th + 3 * s2 + 3 * d1 + d2)
    np.testing.assert_allclose(gx.detach().numpy(), g2 * tv, rtol=1e-12)
    np.testing.assert_allclose(gxx.numpy(), g3 * tv * wv, rtol=1e-12)


def test_backward_through_a_forward_over_reverse_tangent() -> None:
    # jvp of a vjp (Hessian-vector product), then reverse mode through it: a third derivative
    x = gk.tensor([0.3, -0.7, 1.1], dtype=gk.float64, requires_grad=True)
    t = gk.tensor([1.0, 2.0, -0.5], dtype=gk.float64)
    w = gk.tensor([1.0, -1.0, 2.0], dtype=gk.float64)
    with fwAD.dual_level():
        xd = fwAD.make_dual(x, t)
        (g,) = gk.autograd.grad((xd.exp() * xd.sin()).sum(), xd, create_graph=True)
        hv = fwAD.unpack_dual(g).tangent
        assert hv.requires_grad
        (hv * w).sum().backward()
    xv, tv, wv = np.array([0.3, -0.7, 1.1]), np.array([1.0, 2.0, -0.5]), np.array([1.0, -1.0, 2.0])
    # (e^x sin x)'' = 2 e^x cos x, (e^x sin x)''' = 2 e^x (cos x - sin x)
    np.testing.assert_allclose(hv.detach().numpy(), 2 * np.exp(xv) * np.cos(xv) * tv, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(),
                               2 * np.exp(xv) * (np.cos(xv) - np.sin(xv)) * tv * wv, rtol=1e-12)
    # recorded from PyTorch 2.13
    np.testing.assert_allclose(x.grad.numpy(), [1.7813176405328919, -2.7988737033995275,
                                                2.629313629613919], rtol=1e-12)


@pytest.mark.parametrize("name", ["mul", "matmul", "relu", "linear_weight"])
def test_a_tangent_reading_a_primal_that_requires_grad_is_on_its_graph(name: str) -> None:
    # PyTorch evaluates the JVP formula on the primals: the tangent requires grad even where
    # it does not depend on the primal, and backward works (recorded from 2.13). NOTE: torch's
    # x.grad is then zeros; gradkit gives such a primal no gradient (None), see _attach.
    x = gk.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=gk.float64, requires_grad=True)
    t = gk.tensor([[1.0, 2.0], [3.0, -4.0]], dtype=gk.float64)
    w = gk.tensor([[1.5, 0.5], [-1.0, 2.0]], dtype=gk.float64)
    f = {"mul": lambda d: d * w, "matmul": lambda d: d @ w, "relu": gk.relu,
         "linear_weight": lambda d: gk.nn.functional.linear(w, d)}[name]
    with fwAD.dual_level():
        jvp = fwAD.unpack_dual(f(fwAD.make_dual(x, t))).tangent
        assert jvp.requires_grad and jvp.grad_fn is not None
        jvp.sum().backward()
    if name == "relu":
        # relu's rule passes the tangent through a node that reads the primal (as PyTorch's
        # threshold_backward): its derivative there is zeros, as torch's x.grad
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 2)))
    else:
        assert x.grad is None
    expected = {"mul": t.numpy() * w.numpy(), "matmul": t.numpy() @ w.numpy(),
                "relu": t.numpy() * (x.detach().numpy() > 0),
                "linear_weight": w.numpy() @ t.numpy().T}[name]
    np.testing.assert_allclose(jvp.detach().numpy(), expected, rtol=1e-15)


def test_an_inf_primal_does_not_leak_into_the_tangent_or_its_gradient() -> None:
    x = gk.tensor([np.inf, 1.0], dtype=gk.float64, requires_grad=True)
    w = gk.tensor([2.0, 3.0], dtype=gk.float64)
    with fwAD.dual_level():
        jvp = fwAD.unpack_dual(fwAD.make_dual(x, gk.tensor([1.0, 1.0], dtype=gk.float64)) * w).tangent
        jvp.sum().backward()
    assert jvp.tolist() == [2.0, 3.0]
    assert x.grad is None


@pytest.mark.parametrize("name", ["sum", "index", "transpose", "cat", "where"])
def test_a_tangent_that_only_moves_tangents_is_not_on_the_primal_graph(name: str) -> None:
    # PyTorch 2.13: the formula never reads the primal, so backward is the usual error
    x = gk.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=gk.float64, requires_grad=True)
    t = gk.tensor([[1.0, 2.0], [3.0, -4.0]], dtype=gk.float64)
    mask = gk.tensor([[True, False], [False, True]])
    f = {"sum": lambda d: d.sum(0), "index": lambda d: d[1:], "transpose": lambda d: d.t(),
         "cat": lambda d: gk.cat([d, d]), "where": lambda d: gk.where(mask, d, 0.0)}[name]
    with fwAD.dual_level():
        jvp = fwAD.unpack_dual(f(fwAD.make_dual(x, t))).tangent
        assert not jvp.requires_grad
        with pytest.raises(RuntimeError, match=NO_GRAD):
            jvp.sum().backward()


def test_no_grad_keeps_tangents_off_the_graph() -> None:
    x = gk.tensor([1.0, 2.0], dtype=gk.float64, requires_grad=True)
    with gk.no_grad(), fwAD.dual_level():
        y = fwAD.make_dual(x, gk.tensor([1.0, 1.0], dtype=gk.float64)) * gk.tensor([3.0, 4.0])
        assert not fwAD.unpack_dual(y).tangent.requires_grad


def test_tutorial_module_jvp_is_differentiable() -> None:
    # PyTorch's forward_ad_usage tutorial: dual parameters of a Linear; the jvp requires grad
    # (its weight's zero-tangent term reads the weight), the bias is not read (recorded, 2.13;
    # torch's w.grad is zeros there, gradkit's None: see _attach)
    w = gk.tensor([[0.5, -1.0], [2.0, 0.25], [1.5, 1.0]], dtype=gk.float64, requires_grad=True)
    b = gk.tensor([0.1, -0.2, 0.3], dtype=gk.float64, requires_grad=True)
    inp = gk.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=gk.float64)
    with fwAD.dual_level():
        out = gk.nn.functional.linear(inp, fwAD.make_dual(w, gk.ones(3, 2, dtype=gk.float64)),
                                      fwAD.make_dual(b, gk.tensor([1.0, 2.0, 3.0], dtype=gk.float64)))
        jvp = fwAD.unpack_dual(out).tangent
        assert jvp.requires_grad
        jvp.sum().backward()
    assert jvp.tolist() == [[4.0, 5.0, 6.0], [0.5, 1.5, 2.5]]
    assert w.grad is None and b.grad is None


def _run_both(lib: object, fw: object, fn_name: str) -> tuple[np.ndarray, ...]:
    fns = {
        "rev_over_fwd": lambda L, d: (L.sinh(d) * d.cos()).prod(),
        "softplus_mm": lambda L, d: L.nn.functional.softplus(d @ d.T).sum(),
        "log_sigmoid_norm": lambda L, d: L.nn.functional.logsigmoid(d).sum() * L.linalg.norm(d),
        "det": lambda L, d: L.linalg.det(d),
    }
    xv = np.array([[0.3, -0.2, 0.5], [0.1, 0.9, -0.4], [0.7, 0.2, 1.1]])
    tv = np.array([[1.0, 0.5, -1.0], [0.2, -0.3, 0.8], [-0.6, 0.4, 0.1]])
    x = lib.tensor(xv, requires_grad=True)          # type: ignore[attr-defined]
    t = lib.tensor(tv, requires_grad=True)          # type: ignore[attr-defined]
    with fw.dual_level():                           # type: ignore[attr-defined]
        y = fns[fn_name](lib, fw.make_dual(x, t))   # type: ignore[attr-defined]
        jvp = fw.unpack_dual(y).tangent             # type: ignore[attr-defined]
        gx, gt = lib.autograd.grad(jvp, (x, t), create_graph=True)  # type: ignore[attr-defined]
        (gxx,) = lib.autograd.grad((gx * gx).sum(), x)              # type: ignore[attr-defined]
    return (jvp.detach().numpy(), gx.detach().numpy(), gt.detach().numpy(), gxx.numpy())


@pytest.mark.parametrize("fn_name", ["rev_over_fwd", "softplus_mm", "log_sigmoid_norm", "det"])
def test_reverse_over_forward_matches_live_torch(fn_name: str) -> None:
    torch = pytest.importorskip("torch")
    import torch.autograd.forward_ad as tfw
    ours = _run_both(gk, fwAD, fn_name)
    if fn_name == "det":
        # NOTE: PyTorch 2.13's gradient of det's JVP in the primal is wrong (central
        # differences disagree with it: see the next test); compare the JVP and its gradient
        # in the tangent, which are right there.
        theirs = _run_both(torch, tfw, fn_name)
        for k in (0, 2):
            np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-10, atol=1e-12)
        return
    theirs = _run_both(torch, tfw, fn_name)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_det_tangent_gradient_matches_finite_differences() -> None:
    # d/dX of jvp = det(X) tr(X^-1 T), by central differences in float64
    xv = np.array([[0.3, -0.2, 0.5], [0.1, 0.9, -0.4], [0.7, 0.2, 1.1]])
    tv = np.array([[1.0, 0.5, -1.0], [0.2, -0.3, 0.8], [-0.6, 0.4, 0.1]])
    x = gk.tensor(xv, requires_grad=True)
    with fwAD.dual_level():
        jvp = fwAD.unpack_dual(gk.linalg.det(fwAD.make_dual(x, gk.tensor(tv)))).tangent
        jvp.backward()

    def j(m: np.ndarray) -> float:
        return float(np.linalg.det(m) * np.trace(np.linalg.solve(m, tv)))

    fd = np.zeros((3, 3))
    for i in range(3):
        for k in range(3):
            e = np.zeros((3, 3))
            e[i, k] = 1e-6
            fd[i, k] = (j(xv + e) - j(xv - e)) / 2e-6
    np.testing.assert_allclose(x.grad.numpy(), fd, rtol=1e-6, atol=1e-8)


def test_jacrev_of_jvp_matches_live_torch_func() -> None:
    torch = pytest.importorskip("torch")
    xv = np.array([0.3, -0.7, 1.1])
    tv = np.array([1.0, 2.0, -0.5])

    def make(lib: object) -> object:
        def f(x: object) -> object:
            return lib.sin(x) * lib.exp(x).sum()     # type: ignore[attr-defined]

        def jv(x: object) -> object:
            return lib.func.jvp(f, (x,), (lib.tensor(tv),))[1]  # type: ignore[attr-defined]
        return lib.func.jacrev(jv)                   # type: ignore[attr-defined]

    ours = make(gk)(gk.tensor(xv)).numpy()            # type: ignore[operator]
    theirs = make(torch)(torch.tensor(xv)).numpy()    # type: ignore[operator]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


# --- 2. a tangent of another floating dtype ------------------------------------------------------
X = [1.0, 2.0, 3.0]
T = [0.5, 0.25, 1 / 3]


def _d(x: gk.Tensor, t: gk.Tensor) -> gk.Tensor:
    return fwAD.make_dual(x, t)


# (name, function of (x32, t64, x64, t32, t16), expected tangent dtype), recorded from 2.13
DTYPE_CASES = [
    ("exp", lambda a: gk.exp(_d(a["x32"], a["t64"])), gk.float64),
    ("mul_scalar", lambda a: _d(a["x32"], a["t64"]) * 2, gk.float64),
    ("mul_plain32", lambda a: _d(a["x32"], a["t64"]) * a["x32"], gk.float64),
    ("add_plain32", lambda a: _d(a["x32"], a["t64"]) + a["x32"], gk.float64),
    ("sum", lambda a: _d(a["x32"], a["t64"]).sum(), gk.float64),
    ("index", lambda a: _d(a["x32"], a["t64"])[1:], gk.float64),
    ("cat", lambda a: gk.cat([_d(a["x32"], a["t64"]), a["x32"]]), gk.float64),
    ("where", lambda a: gk.where(a["x32"] > 1, _d(a["x32"], a["t64"]), a["x32"]), gk.float64),
    ("softmax", lambda a: gk.softmax(_d(a["x32"], a["t64"]), 0), gk.float64),
    ("relu", lambda a: gk.relu(_d(a["x32"], a["t64"])), gk.float64),
    ("clamp", lambda a: _d(a["x32"], a["t64"]).clamp(1.5, 2.5), gk.float64),
    ("prod", lambda a: _d(a["x32"], a["t64"]).prod(), gk.float64),
    ("var", lambda a: _d(a["x32"], a["t64"]).var(), gk.float64),
    ("max", lambda a: _d(a["x32"], a["t64"]).max(), gk.float64),
    ("norm", lambda a: gk.linalg.norm(_d(a["x32"], a["t64"])), gk.float64),
    ("to64", lambda a: _d(a["x32"], a["t64"]).double(), gk.float64),
    ("to16", lambda a: _d(a["x32"], a["t64"]).to(gk.float16), gk.float16),
    ("to_same_is_a_no_op", lambda a: _d(a["x32"], a["t64"]).to(gk.float32), gk.float64),
    ("x64_t32_add_plain32", lambda a: _d(a["x64"], a["t32"]) + a["x32"], gk.float32),
    ("x64_t32_sum", lambda a: _d(a["x64"], a["t32"]).sum(), gk.float32),
    ("x64_t32_mul_plain32", lambda a: _d(a["x64"], a["t32"]) * a["x32"], gk.float64),
    ("x64_t32_exp", lambda a: _d(a["x64"], a["t32"]).exp(), gk.float64),
    ("x32_t16_exp", lambda a: _d(a["x32"], a["t16"]).exp(), gk.float32),
    ("x32_t16_add_1", lambda a: _d(a["x32"], a["t16"]) + 1, gk.float16),
    ("dual_t64_plus_dual_t32", lambda a: _d(a["x32"], a["t64"]) + _d(a["x64"], a["t32"]),
     gk.float64),
]


def _dtype_args() -> dict[str, gk.Tensor]:
    return {"x32": gk.tensor(X), "x64": gk.tensor(X, dtype=gk.float64),
            "t64": gk.tensor(T, dtype=gk.float64), "t32": gk.tensor(T),
            "t16": gk.tensor(T, dtype=gk.float16)}


@pytest.mark.parametrize("name,fn,dtype", DTYPE_CASES, ids=[c[0] for c in DTYPE_CASES])
def test_a_tangent_keeps_the_dtype_its_formula_computes_in(name: str, fn: object,
                                                          dtype: object) -> None:
    with fwAD.dual_level():
        tan = fwAD.unpack_dual(fn(_dtype_args())).tangent  # type: ignore[operator]
        assert tan.dtype == dtype


def test_float64_tangent_values_of_a_float32_primal_are_float64_exact() -> None:
    x32 = gk.tensor(X)
    t64 = gk.tensor(T, dtype=gk.float64)
    with fwAD.dual_level():
        tan = fwAD.unpack_dual(gk.sin(_d(x32, t64))).tangent
    # analytic in float64, with the float32 primal's value
    np.testing.assert_allclose(tan.numpy(), np.cos(np.float32(X)) * np.array(T), rtol=1e-7)
    with fwAD.dual_level():
        tan = fwAD.unpack_dual(_d(x32, t64).sum()).tangent
    assert tan.item() == sum(T)       # exact in float64: no float32 rounding of the tangent


@pytest.mark.parametrize("op,dtype", [("mul_", gk.float64), ("add_", gk.float64),
                                      ("exp_", gk.float64)])
def test_in_place_on_a_dual_keeps_its_tangent_dtype(op: str, dtype: object) -> None:
    with fwAD.dual_level():
        d = _d(gk.tensor(X), gk.tensor(T, dtype=gk.float64))
        d.exp_() if op == "exp_" else getattr(d, op)(2.0)
        assert fwAD.unpack_dual(d).tangent.dtype == dtype


def test_in_place_writes_into_the_old_tangent_dtype() -> None:
    # recorded from 2.13: a float32 tangent updated by a float64 one stays float32; a plain
    # tensor that becomes dual takes the new tangent's dtype
    with fwAD.dual_level():
        y = _d(gk.tensor(X), gk.tensor(T))
        y.mul_(_d(gk.tensor(X), gk.tensor(T, dtype=gk.float64)))
        tan = fwAD.unpack_dual(y).tangent
        assert tan.dtype == gk.float32
        np.testing.assert_allclose(tan.numpy(), 2 * np.array(X) * np.array(T), rtol=1e-6)
        z = gk.tensor(X)
        z.mul_(_d(gk.tensor(X), gk.tensor(T, dtype=gk.float64)))
        assert fwAD.unpack_dual(z).tangent.dtype == gk.float64
        c = _d(gk.tensor(X), gk.tensor(T, dtype=gk.float64))
        c.copy_(_d(gk.tensor(X), gk.tensor(T)))
        assert fwAD.unpack_dual(c).tangent.dtype == gk.float64
        s = _d(gk.tensor(X), gk.tensor(T))
        s[0] = _d(gk.tensor(X), gk.tensor(T, dtype=gk.float64))[1]
        tan = fwAD.unpack_dual(s).tangent
        assert tan.dtype == gk.float32
        np.testing.assert_allclose(tan.numpy(), [T[1], T[1], T[2]], rtol=1e-6)


def test_a_complex_tangent_of_a_real_output_keeps_its_real_part() -> None:
    # recorded from 2.13: make_dual keeps the complex64 tangent; exp's real output gets
    # float32 with the real part
    with fwAD.dual_level():
        d = _d(gk.tensor(X), gk.tensor([0.5 + 1j, 0.25, 1 / 3], dtype=gk.complex64))
        assert fwAD.unpack_dual(d).tangent.dtype == gk.complex64
        tan = fwAD.unpack_dual(d.exp()).tangent
    assert tan.dtype == gk.float32
    np.testing.assert_allclose(tan.numpy(), np.exp(X) * np.array([0.5, 0.25, 1 / 3]), rtol=1e-6)


def test_a_wider_tangent_through_a_transposed_rule() -> None:
    # det has no explicit JVP: J t comes from its VJP, computed in the tangent's float64
    m = np.array([[2.0, 1.0], [0.5, 3.0]])
    tv = np.array([[0.1, 0.2], [0.3, 0.4]])
    with fwAD.dual_level():
        tan = fwAD.unpack_dual(gk.linalg.det(_d(gk.tensor(m, dtype=gk.float32),
                                                gk.tensor(tv, dtype=gk.float64)))).tangent
    assert tan.dtype == gk.float64
    np.testing.assert_allclose(tan.item(), np.linalg.det(m) * np.trace(np.linalg.solve(m, tv)),
                               rtol=1e-7)


def test_tangent_dtypes_match_live_torch() -> None:
    torch = pytest.importorskip("torch")
    import torch.autograd.forward_ad as tfw
    x32, t64 = torch.tensor(X), torch.tensor(T, dtype=torch.float64)
    names = {torch.float64: gk.float64, torch.float32: gk.float32, torch.float16: gk.float16}
    tcases = {"exp": lambda: torch.exp(tfw.make_dual(x32, t64)),
              "sum": lambda: tfw.make_dual(x32, t64).sum(),
              "x64_t32_add_plain32": lambda: tfw.make_dual(x32.double(), t64.float()) + x32,
              "x32_t16_add_1": lambda: tfw.make_dual(x32, t64.half()) + 1,
              "to_same_is_a_no_op": lambda: tfw.make_dual(x32, t64).to(torch.float32)}
    ours = dict((c[0], c[2]) for c in DTYPE_CASES)
    for name, f in tcases.items():
        with tfw.dual_level():
            assert names[tfw.unpack_dual(f()).tangent.dtype] == ours[name], name


# --- 3. gradcheck's forward check ---------------------------------------------------------------
def test_gradcheck_forward_check_on_complex_inputs() -> None:
    z = gk.tensor([0.3 + 0.2j, -0.5 + 1j], dtype=gk.complex128, requires_grad=True)
    assert gk.autograd.gradcheck(lambda v: (v * v).sin(), (z,), check_forward_ad=True)
    assert gk.autograd.gradcheck(lambda v: (v * v).abs(), (z,), check_forward_ad=True)


def test_gradcheck_catches_a_wrong_jvp_with_pytorchs_words() -> None:
    class Exp(gk.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(x)
            return x.exp()

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            (x,) = ctx.saved_tensors
            return g * x.exp()

        @staticmethod
        def jvp(ctx, t):  # type: ignore[no-untyped-def]
            return 2 * t                      # wrong: exp' = exp

    x = gk.tensor([[0.1, -0.4], [0.7, 1.2]], dtype=gk.float64, requires_grad=True)
    assert gk.autograd.gradcheck(Exp.apply, (x,))          # the backward is right
    with pytest.raises(gk.autograd.GradcheckError,
                       match="Jacobian computed with forward mode mismatch for output 0 with "
                             "respect to input 0"):
        gk.autograd.gradcheck(Exp.apply, (x,), check_forward_ad=True)


def test_gradcheck_forward_check_needs_a_jvp() -> None:
    class NoJvp(gk.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            return x * 2

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            return g * 2

    x = gk.tensor([0.1, -0.4], dtype=gk.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
        gk.autograd.gradcheck(NoJvp.apply, (x,), check_forward_ad=True)
