"""Generic checks of every primitive, driven by ``tests/support/op_specs.py``.

For each spec: the forward matches its NumPy reference (and runs the
primitive it names); reverse-mode gradients match central differences in
float64 (``gradcheck``); so do second derivatives (``gradgradcheck``); float32
inputs give float32 outputs and gradients. Ops without a gradient only get
the forward check and must return tensors that do not require grad; a row whose derivative
PyTorch refuses (``refused``) must raise PyTorch's message.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradkit as gk
from gradkit.ops import REGISTRY

from op_specs import OP_SPECS, OpSpec

GRAD_SPECS = [s for s in OP_SPECS if s.grad and not s.refused]
REFUSED_SPECS = [s for s in OP_SPECS if s.refused]
SECOND_ORDER_SPECS = [s for s in GRAD_SPECS if s.second_order]


def _tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _inputs(spec: OpSpec, dtype: Any = np.float64, seed: int = 0) -> tuple[list[np.ndarray], list[gk.Tensor]]:
    """The spec's inputs as arrays and as Tensors (floating ones require grad)."""
    arrays = spec.sample(np.random.default_rng(seed), dtype)
    tensors = [gk.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    return arrays, tensors


def _float_outputs(spec: OpSpec):
    """``spec.fn`` with the arguments bound, keeping only floating outputs (drops indices)."""
    def fn(*tensors: gk.Tensor) -> tuple[gk.Tensor, ...]:
        outs = _tuple(spec.fn(*tensors, *spec.args))
        return tuple(o for o in outs if o.is_floating_point())
    return fn


def test_every_primitive_has_a_spec() -> None:
    missing = set(REGISTRY) - {s.name for s in OP_SPECS}
    assert not missing, f"primitives without an OpSpec in tests/support/op_specs.py: {sorted(missing)}"


def test_every_spec_names_a_primitive() -> None:
    unknown = {s.name for s in OP_SPECS} - set(REGISTRY)
    assert not unknown, f"OpSpecs naming no primitive: {sorted(unknown)}"


def test_spec_ids_are_unique() -> None:
    ids = [str(s) for s in OP_SPECS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_gradient_flags_match_the_table() -> None:
    for spec in OP_SPECS:
        assert REGISTRY[spec.name].differentiable == spec.grad, str(spec)


@pytest.mark.parametrize("spec", OP_SPECS, ids=str)
def test_forward_matches_numpy(spec: OpSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    arrays, tensors = _inputs(spec)
    prim = REGISTRY[spec.name]
    calls = []
    fwd = prim.fwd

    def counted(*a: Any, **k: Any) -> Any:
        calls.append(1)
        return fwd(*a, **k)

    monkeypatch.setattr(prim, "fwd", counted)
    outs = _tuple(spec.fn(*tensors, *spec.args))
    monkeypatch.undo()
    assert calls, f"{spec} does not run the primitive {spec.name!r}"
    refs = _tuple(spec.ref(*[a.copy() for a in arrays], *spec.args))
    assert len(outs) == len(refs)
    for out, ref in zip(outs, refs):
        assert isinstance(out, gk.Tensor)
        ref = np.asarray(ref)
        got = out.detach().numpy()
        assert got.shape == ref.shape
        if ref.dtype.kind in "fc":
            np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
        else:
            np.testing.assert_array_equal(got, ref)
            assert got.dtype == ref.dtype or (got.dtype.kind == ref.dtype.kind == "i")
        if not spec.grad or not out.is_floating_point():
            assert not out.requires_grad, f"{spec}: an output without gradient requires grad"
        else:
            assert out.requires_grad and out.grad_fn is not None


@pytest.mark.parametrize("spec", GRAD_SPECS, ids=str)
def test_gradcheck(spec: OpSpec) -> None:
    _, tensors = _inputs(spec)
    assert gk.autograd.gradcheck(_float_outputs(spec), tuple(tensors))


@pytest.mark.parametrize("spec", REFUSED_SPECS, ids=str)
def test_refused_derivative_raises(spec: OpSpec) -> None:
    _, tensors = _inputs(spec)
    outs = _float_outputs(spec)(*tensors)
    with pytest.raises(RuntimeError, match=spec.refused):
        gk.autograd.grad([o.sum() for o in outs], [t for t in tensors if t.requires_grad])


@pytest.mark.parametrize("spec", SECOND_ORDER_SPECS, ids=str)
def test_gradgradcheck(spec: OpSpec) -> None:
    _, tensors = _inputs(spec)
    assert gk.autograd.gradgradcheck(_float_outputs(spec), tuple(tensors))


@pytest.mark.parametrize("spec", OP_SPECS, ids=str)
def test_float32_kept(spec: OpSpec) -> None:
    arrays64, _ = _inputs(spec)
    _, tensors = _inputs(spec, np.float32)
    outs = _tuple(spec.fn(*tensors, *spec.args))
    refs = _tuple(spec.ref(*arrays64, *spec.args))
    for out, ref in zip(outs, refs):
        ref = np.asarray(ref)
        if ref.dtype.kind == "f":
            assert out.dtype is gk.float32, f"{spec}: float32 in, {out.dtype} out"
            np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-4, atol=1e-5)
        else:
            assert out.dtype.is_floating_point is False
    if not spec.grad or spec.refused:
        return
    diff = [t for t in tensors if t.requires_grad]
    float_outs = [o for o in outs if o.is_floating_point()]
    ones = [gk.ones_like(o) for o in float_outs]
    for create_graph in (False, True):         # rules on ndarrays, then on Tensors
        grads = gk.autograd.grad(float_outs, diff, grad_outputs=ones, retain_graph=True,
                                 create_graph=create_graph, allow_unused=True)
        for x, g in zip(diff, grads):
            assert g is not None and g.shape == x.shape, str(spec)
            assert g.dtype is gk.float32, f"{spec}: float32 input, {g.dtype} gradient"
