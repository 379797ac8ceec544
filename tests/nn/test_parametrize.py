"""nn.utils.parametrize: printing and names recorded from PyTorch 2.13; values analytic."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import gradkit as gk


def _sym(lib):
    class Sym(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()
    return Sym


def _trace(lib):
    P = importlib.import_module(lib.__name__ + ".nn.utils.parametrize")
    Sym = _sym(lib)
    lib.manual_seed(0)
    m = lib.nn.Linear(3, 3)
    P.register_parametrization(m, "weight", Sym())
    out = {"repr": repr(m), "cls": (type(m).__name__, type(m).__mro__[1].__name__),
           "params": [k for k, _ in m.named_parameters()], "state": list(m.state_dict()),
           "is": (P.is_parametrized(m), P.is_parametrized(m, "weight"),
                  P.is_parametrized(m, "bias"))}
    P.register_parametrization(m, "weight", Sym())
    out["chained"] = repr(m)
    m.weight = lib.ones(3, 3)
    out["original"] = m.parametrizations.weight.original.tolist()
    P.remove_parametrizations(m, "weight")
    out["removed"] = (repr(m), type(m).__name__, type(m.weight).__name__, m.weight.tolist())
    try:
        P.remove_parametrizations(m, "weight")
    except ValueError as e:
        out["again"] = str(e)

    class Bad(lib.nn.Module):
        def forward(self, X):
            return X[0]
    try:
        P.register_parametrization(lib.nn.Linear(3, 3), "weight", Bad())
    except ValueError as e:
        out["bad"] = str(e)
    return out


def test_recorded():
    got = _trace(gk)
    assert got["repr"] == ("ParametrizedLinear(\n  in_features=3, out_features=3, bias=True\n"
                           "  (parametrizations): ModuleDict(\n    (weight): ParametrizationList(\n"
                           "      (0): Sym()\n    )\n  )\n)")
    assert "      (0-1): 2 x Sym()\n" in got["chained"]
    assert got["cls"] == ("ParametrizedLinear", "Linear")
    assert got["params"] == got["state"] == ["bias", "parametrizations.weight.original"]
    assert got["is"] == (True, True, False)
    # right_inverse of Sym is triu, applied once per parametrization
    assert got["original"] == np.triu(np.ones((3, 3))).tolist()
    assert got["removed"][1:3] == ("Linear", "Parameter")
    assert got["removed"][3] == np.ones((3, 3)).tolist()    # Sym(triu(ones)) is ones
    assert got["again"] == ("Module Linear(in_features=3, out_features=3, bias=True) does not "
                            "have a parametrization on weight")
    assert got["bad"] == ("Registering a parametrization may not change the shape of the tensor, "
                          "unless `unsafe` flag is enabled.\nunparametrized shape: "
                          "torch.Size([3, 3])\nparametrized shape: torch.Size([3])")


def test_gradient_reaches_the_original_and_cached_reuses():
    P = gk.nn.utils.parametrize
    m = gk.nn.Linear(3, 3)
    P.register_parametrization(m, "weight", _sym(gk)())
    w = m.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)
    m(gk.ones(1, 3)).sum().backward()
    # d/dA sum(Sym(A) @ 1): the upper triangle gets 1 from (i, j) and 1 from (j, i)
    expected = np.triu(np.full((3, 3), 2.0)) - np.eye(3)
    np.testing.assert_array_equal(m.parametrizations.weight.original.grad.numpy(), expected)
    with P.cached():
        assert m.weight is m.weight
    assert m.weight is not m.weight


def test_same_as_live_torch():
    torch = pytest.importorskip("torch")
    assert _trace(gk) == _trace(torch)
