"""gradkit.autograd.functional against live torch.autograd.functional: values, structure, flags, errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.autograd._batched as batched
import gradkit.autograd.functional as F

torch = pytest.importorskip("torch")
TF = torch.autograd.functional

RNG = np.random.default_rng(3)
A, B, S = RNG.standard_normal(3), RNG.standard_normal((2, 3)), np.array(0.7)


@pytest.fixture(params=["auto", "double-vjp"])
def fwd_mode(request, monkeypatch):
    if request.param == "double-vjp":
        monkeypatch.setattr(batched, "USE_FORWARD_AD", False)
    return request.param


def conv(x, lib):
    if isinstance(x, tuple):
        return tuple(conv(a, lib) for a in x)
    return torch.tensor(x, dtype=torch.float64) if lib is torch else gk.tensor(x, dtype=gk.float64)


def _kind(t, flags):
    if isinstance(t, (tuple, list)):
        return (type(t).__name__, [_kind(a, flags) for a in t])
    return (tuple(t.shape), t.requires_grad, t.grad_fn is not None) if flags else tuple(t.shape)


def _vals(t):
    if isinstance(t, (tuple, list)):
        return [v for a in t for v in _vals(a)]
    return [t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach()._data)]


def same(ours, theirs, flags=True, atol=1e-9):
    """Same tuple/list structure, shapes, requires_grad/grad_fn (with ``flags``) and values."""
    assert _kind(ours, flags) == _kind(theirs, flags)
    for a, b in zip(_vals(ours), _vals(theirs)):
        np.testing.assert_allclose(a, b, atol=atol, rtol=1e-9)


def fns(lib):
    return {
        "sin": lambda x: x.sin(),
        "scalar": lambda x: (x.exp() * x).sum(),
        "gram": lambda x: x @ x.T,
        "softmax": lambda x: lib.softmax(x, dim=-1),
        "logsumexp": lambda x: lib.logsumexp(x, dim=-1),
        "tanh2": lambda x, y: (lib.tanh(x) * y).sum(-1),
        "pair": lambda x, y: ((x * y).sum(), x.exp() * y),
        "scalar2": lambda x, y: (x.exp() * y).sum() ** 2 + (x.sin() * x).sum(),
        "norm": lambda x: lib.linalg.norm(x),
        "relu": lambda x: lib.maximum(x, lib.zeros_like(x)).sum(),
        "linear": lambda x: (2 * x).sum(),
        "const": lambda x: lib.ones(2, dtype=lib.float64),
        "cubic0": lambda x: x**3,
    }


JAC_CASES = [
    ("sin", A),
    ("sin", B),
    ("gram", B),
    ("softmax", B),
    ("logsumexp", B),
    ("tanh2", (A, B)),
    ("pair", (A, B)),
    ("scalar", B),
    ("norm", B),
    ("const", A),
    ("cubic0", S),
    ("sin", S),
    ("sin", (A,)),
]


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
@pytest.mark.parametrize(
    "k",
    range(len(JAC_CASES)),
    ids=[f"{n}-{np.shape(a) if not isinstance(a, tuple) else len(a)}" for n, a in JAC_CASES],
)
def test_jacobian(k, strategy, fwd_mode):
    name, inputs = JAC_CASES[k]
    for create_graph in (False, True):
        for strict in (False, True):
            for vectorize in (False, True):
                kw = dict(create_graph=create_graph, strict=strict, vectorize=vectorize, strategy=strategy)
                try:
                    theirs = TF.jacobian(fns(torch)[name], conv(inputs, torch), **kw)
                except (RuntimeError, NotImplementedError) as exc:
                    with pytest.raises(
                        type(exc), match=str(exc)[:40].replace("(", r"\(").replace(")", r"\)")
                    ):
                        F.jacobian(fns(gk)[name], conv(inputs, gk), **kw)
                    continue
                same(F.jacobian(fns(gk)[name], conv(inputs, gk), **kw), theirs)


HESS_CASES = [
    ("scalar", A),
    ("scalar", B),
    ("scalar2", (A, B)),
    ("norm", B),
    ("relu", A),
    ("linear", A),
    ("cubic0", S),
    ("scalar", (A,)),
]


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
@pytest.mark.parametrize(
    "k",
    range(len(HESS_CASES)),
    ids=[f"{n}-{np.shape(a) if not isinstance(a, tuple) else len(a)}" for n, a in HESS_CASES],
)
def test_hessian(k, strategy, fwd_mode):
    name, inputs = HESS_CASES[k]
    for create_graph in (False, True):
        for strict in (False, True):
            for vectorize in (False, True):
                kw = dict(
                    create_graph=create_graph,
                    strict=strict,
                    vectorize=vectorize,
                    outer_jacobian_strategy=strategy,
                )
                try:
                    theirs = TF.hessian(fns(torch)[name], conv(inputs, torch), **kw)
                except (RuntimeError, NotImplementedError) as exc:
                    with pytest.raises(
                        type(exc), match=str(exc)[:40].replace("(", r"\(").replace(")", r"\)")
                    ):
                        F.hessian(fns(gk)[name], conv(inputs, gk), **kw)
                    continue
                # NOTE: PyTorch's forward-mode outer Jacobian leaves its result on the graph
                # (requires_grad) even without create_graph; gradkit's is detached.
                same(
                    F.hessian(fns(gk)[name], conv(inputs, gk), **kw), theirs, flags=strategy == "reverse-mode"
                )


def _v(x):
    if isinstance(x, tuple):
        return tuple(_v(a) for a in x)
    return 0.5 + 0.1 * np.arange(np.size(x)).reshape(np.shape(x))


PRODUCT_CASES = [
    ("sin", A),
    ("sin", B),
    ("gram", B),
    ("softmax", B),
    ("tanh2", (A, B)),
    ("pair", (A, B)),
    ("scalar", B),
    ("norm", B),
    ("const", A),
    ("cubic0", S),
    ("linear", A),
    ("sin", (A,)),
    ("sin", S),
]


@pytest.mark.parametrize(
    "k",
    range(len(PRODUCT_CASES)),
    ids=[f"{n}-{np.shape(a) if not isinstance(a, tuple) else len(a)}" for n, a in PRODUCT_CASES],
)
def test_vjp_jvp(k, fwd_mode):
    name, inputs = PRODUCT_CASES[k]
    out = fns(torch)[name](*conv(inputs if isinstance(inputs, tuple) else (inputs,), torch))
    v_out = _v(tuple(o.detach().numpy() for o in out) if isinstance(out, tuple) else out.detach().numpy())
    for create_graph in (False, True):
        for strict in (False, True):
            for op, v in (("vjp", v_out), ("vjp", None), ("jvp", _v(inputs)), ("jvp", None)):
                args = (conv(inputs, torch),) + (() if v is None else (conv(v, torch),))
                kw = dict(create_graph=create_graph, strict=strict)
                try:
                    theirs = getattr(TF, op)(fns(torch)[name], *args, **kw)
                except RuntimeError as exc:
                    with pytest.raises(
                        RuntimeError, match=str(exc)[:40].replace("(", r"\(").replace(")", r"\)")
                    ):
                        getattr(F, op)(
                            fns(gk)[name], conv(inputs, gk), *([] if v is None else [conv(v, gk)]), **kw
                        )
                    continue
                same(
                    getattr(F, op)(
                        fns(gk)[name], conv(inputs, gk), *([] if v is None else [conv(v, gk)]), **kw
                    ),
                    theirs,
                )


@pytest.mark.parametrize("op", ["hvp", "vhp"])
def test_hvp_vhp(op):
    for name, inputs in HESS_CASES:
        for create_graph in (False, True):
            for strict in (False, True):
                for v in (_v(inputs), None):
                    kw = dict(create_graph=create_graph, strict=strict)
                    try:
                        theirs = getattr(TF, op)(
                            fns(torch)[name], conv(inputs, torch), None if v is None else conv(v, torch), **kw
                        )
                    except RuntimeError as exc:
                        with pytest.raises(RuntimeError, match=str(exc)[:40]):
                            getattr(F, op)(
                                fns(gk)[name], conv(inputs, gk), None if v is None else conv(v, gk), **kw
                            )
                        continue
                    same(
                        getattr(F, op)(
                            fns(gk)[name], conv(inputs, gk), None if v is None else conv(v, gk), **kw
                        ),
                        theirs,
                    )


def _err(lib, F_):
    c = conv
    return [
        lambda: F_.jacobian(lambda x: x, [1.0]),
        lambda: F_.jacobian(lambda x, y: x, (c(A, lib), 2.0)),
        lambda: F_.jacobian(lambda x: 2.0, c(A, lib)),
        lambda: F_.jacobian(lambda x: [x, x], c(A, lib)),
        lambda: F_.jacobian(lambda x, y: x * 2, (c(A, lib), c(A, lib)), strict=True),
        lambda: F_.jacobian(lambda x: lib.ones(3), c(A, lib), strict=True),
        lambda: F_.jacobian(lambda x: x, c(A, lib), strict=True, vectorize=True),
        lambda: F_.jacobian(lambda x: x, c(A, lib), strict=True, strategy="forward-mode"),
        lambda: F_.jacobian(lambda x: x, c(A, lib), strategy="forward-mode"),
        lambda: F_.jacobian(
            lambda x: x, c(A, lib), create_graph=True, strategy="forward-mode", vectorize=True
        ),
        lambda: F_.jacobian(lambda x: x, c(A, lib), strategy="foo"),
        lambda: F_.hessian(lambda x: x * 2, c(A, lib)),
        lambda: F_.hessian(lambda x: (x.sum(), x.sum()), c(A, lib)),
        lambda: F_.hessian(lambda x: (2 * x).sum(), c(A, lib), strict=True),
        lambda: F_.hessian(lambda x, y: (x**3).sum(), (c(A, lib), c(A, lib)), strict=True),
        lambda: F_.hessian(lambda x: (x**3).sum(), c(A, lib), outer_jacobian_strategy="foo"),
        lambda: F_.hessian(lambda x: (x**3).sum(), c(A, lib), outer_jacobian_strategy="forward-mode"),
        lambda: F_.vjp(lambda x: x * 2, c(A, lib)),
        lambda: F_.vjp(lambda x: (x, x), c(A, lib), (c(A, lib),)),
        lambda: F_.vjp(lambda x: x, c(A, lib), (c(A, lib), c(A, lib))),
        lambda: F_.vjp(lambda x: lib.ones(3), c(A, lib), c(A, lib), strict=True),
        lambda: F_.vjp(lambda x, y: x * 2, (c(A, lib), c(A, lib)), c(A, lib), strict=True),
        lambda: F_.vjp(lambda x: x * 2, c(A, lib), c(A, lib), strict=True, create_graph=True),
        lambda: F_.vjp(lambda x: x * 2, c(A, lib), [1.0, 2.0, 3.0]),
        lambda: F_.jvp(lambda x: x * 2, c(A, lib)),
        lambda: F_.jvp(lambda x, y: x * 2, (c(A, lib), c(A, lib)), (c(A, lib), c(A, lib)), strict=True),
        lambda: F_.jvp(lambda x: lib.ones(3), c(A, lib), c(A, lib), strict=True),
        lambda: F_.jvp(lambda x: (2 * x).sum(), c(A, lib), c(A, lib), strict=True, create_graph=True),
        lambda: F_.jvp(lambda x: 2.0, c(A, lib), c(A, lib)),
        lambda: F_.hvp(lambda x: x * 2, c(A, lib), c(A, lib)),
        lambda: F_.hvp(lambda x: (x.sum(),), c(A, lib), c(A, lib)),
        lambda: F_.hvp(lambda x: (x**3).sum(), c(A, lib)),
        lambda: F_.hvp(lambda x: (2 * x).sum(), c(A, lib), c(A, lib), strict=True),
        lambda: F_.vhp(
            lambda x, y: (x**3).sum(), (c(A, lib), c(A, lib)), (c(A, lib), c(A, lib)), strict=True
        ),
    ]


def test_errors_match_torch():
    for ours, theirs in zip(_err(gk, F), _err(torch, TF)):
        with pytest.raises(Exception) as t:
            theirs()
        with pytest.raises(type(t.value)) as g:
            ours()
        assert str(g.value) == str(t.value)


def test_one_element_outputs_and_graph_inputs():
    for op in ("vhp", "hvp"):
        same(
            getattr(F, op)(lambda x: (x**3).sum().reshape(1), conv(A, gk), conv(A, gk)),
            getattr(TF, op)(lambda x: (x**3).sum().reshape(1), conv(A, torch), conv(A, torch)),
        )
    same(
        F.vjp(lambda x: (x**3).sum().reshape(1, 1), conv(A, gk)),
        TF.vjp(lambda x: (x**3).sum().reshape(1, 1), conv(A, torch)),
    )
    same(
        F.jvp(lambda x: x**3, conv(np.ones((1, 1)), gk)), TF.jvp(lambda x: x**3, conv(np.ones((1, 1)), torch))
    )
    t32 = F.jacobian(lambda x: x.sin(), gk.tensor([1.0, 2.0], dtype=gk.float32))
    assert t32.dtype == gk.float32
    for create_graph in (False, True):
        same(
            F.jacobian(lambda x: x.sin(), gk.tensor(A, requires_grad=True), create_graph=create_graph),
            TF.jacobian(lambda x: x.sin(), torch.tensor(A, requires_grad=True), create_graph=create_graph),
        )
        same(
            F.vjp(
                lambda x: x.sin(), gk.tensor(A, requires_grad=True), conv(A, gk), create_graph=create_graph
            ),
            TF.vjp(
                lambda x: x.sin(),
                torch.tensor(A, requires_grad=True),
                conv(A, torch),
                create_graph=create_graph,
            ),
        )
        same(
            F.jvp(
                lambda x: x.sin(), gk.tensor(A, requires_grad=True), conv(A, gk), create_graph=create_graph
            ),
            TF.jvp(
                lambda x: x.sin(),
                torch.tensor(A, requires_grad=True),
                conv(A, torch),
                create_graph=create_graph,
            ),
        )
        same(
            F.hvp(
                lambda x: x.sin().sum(),
                gk.tensor(A, requires_grad=True),
                conv(A, gk),
                create_graph=create_graph,
            ),
            TF.hvp(
                lambda x: x.sin().sum(),
                torch.tensor(A, requires_grad=True),
                conv(A, torch),
                create_graph=create_graph,
            ),
        )
        same(
            F.hessian(lambda x: x.sin().sum(), gk.tensor(A, requires_grad=True), create_graph=create_graph),
            TF.hessian(
                lambda x: x.sin().sum(), torch.tensor(A, requires_grad=True), create_graph=create_graph
            ),
        )
