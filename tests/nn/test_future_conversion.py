"""``torch.__future__``'s conversion switches (``gradkit.__future__``) against live PyTorch: which
parameter and gradient objects survive ``module.double()`` / ``half()`` / ``to(dtype)``."""

import pytest

import gradkit as gk


@pytest.fixture(autouse=True)
def _reset():
    yield
    for lib in _libs():
        lib.__future__.set_overwrite_module_params_on_conversion(False)
        lib.__future__.set_swap_module_params_on_conversion(False)


def _libs():
    try:
        import torch
        import torch.__future__  # noqa: F401
    except ImportError:
        return (gk,)
    return (gk, torch)


def _observe(lib, mode, convert):
    f = lib.__future__
    f.set_overwrite_module_params_on_conversion(mode in ("overwrite", "both"))
    f.set_swap_module_params_on_conversion(mode in ("swap", "both"))
    assert f.get_overwrite_module_params_on_conversion() == (mode in ("overwrite", "both"))
    assert f.get_swap_module_params_on_conversion() == (mode in ("swap", "both"))
    m = lib.nn.Linear(2, 3)
    w, b = m.weight, m.bias
    w.grad = lib.ones(3, 2)
    g = w.grad
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    convert(m)
    return {
        "same_weight": m.weight is w, "same_bias": m.bias is b,
        "weight_dtype": str(m.weight.dtype), "old_weight_dtype": str(w.dtype),
        "grad_dtype": str(m.weight.grad.dtype), "same_grad": m.weight.grad is g,
        "old_grad_dtype": str(w.grad.dtype),
        "param_type": type(m.weight).__name__, "requires_grad": m.weight.requires_grad,
        "optimizer_sees_module": opt.param_groups[0]["params"][0] is m.weight,
        "parameters_are_attributes": [p is q for p, q in zip(m.parameters(), (m.weight, m.bias))],
    }


@pytest.mark.parametrize("mode", ["default", "overwrite", "swap", "both"])
@pytest.mark.parametrize("convert", ["double", "half", "to", "float"])
def test_conversion_switches_as_pytorch(mode, convert):
    torch = pytest.importorskip("torch")

    def to64(m):
        return m.to(dtype=gk.float64 if isinstance(m, gk.nn.Module) else torch.float64)

    how = {"double": lambda m: m.double(), "half": lambda m: m.half(), "float": lambda m: m.float(),
           "to": to64}[convert]
    got = _observe(gk, mode, how)
    want = _observe(torch, mode, how)
    assert got == want


def test_defaults_are_off():
    assert gk.__future__.get_overwrite_module_params_on_conversion() is False
    assert gk.__future__.get_swap_module_params_on_conversion() is False
