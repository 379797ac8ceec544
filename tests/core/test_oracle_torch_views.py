"""Live-PyTorch oracle for views (issue 14): for every view function, an in-place write through
the view changes the base exactly as in PyTorch (values and version counter), and the gradient
of a function of the base after the write matches PyTorch's, or both refuse the write."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk

torch = pytest.importorskip("torch")

# (name, view function of a (2, 3, 4) tensor, library-agnostic: ``L`` is gradkit or torch)
VIEWS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("view", lambda L, a: a.view(6, 4)),
    ("view_as", lambda L, a: a.view_as(L.zeros(4, 6))),
    ("reshape", lambda L, a: a.reshape(-1)),
    ("flatten", lambda L, a: a.flatten(1)),
    ("ravel", lambda L, a: a.ravel()),
    ("unflatten", lambda L, a: a.unflatten(2, (2, 2))),
    ("squeeze", lambda L, a: a.unsqueeze(0).squeeze()),
    ("squeeze_dim", lambda L, a: a.unsqueeze(1).squeeze(1)),
    ("unsqueeze", lambda L, a: a.unsqueeze(-1)),
    ("transpose", lambda L, a: a.transpose(0, 2)),
    ("swapaxes", lambda L, a: a.swapaxes(1, 2)),
    ("swapdims", lambda L, a: L.swapdims(a, 0, 1)),
    ("permute", lambda L, a: a.permute(2, 0, 1)),
    ("movedim", lambda L, a: a.movedim(0, -1)),
    ("moveaxis", lambda L, a: L.moveaxis(a, 1, 0)),
    ("t", lambda L, a: a[0].t()),
    ("T", lambda L, a: a[1].T),
    ("mT", lambda L, a: a.mT),
    ("adjoint", lambda L, a: a.adjoint()),
    ("narrow", lambda L, a: a.narrow(2, 1, 2)),
    ("select", lambda L, a: a.select(1, 2)),
    ("slice", lambda L, a: a[:, 1:, ::2]),
    ("int_index", lambda L, a: a[1]),
    ("ellipsis", lambda L, a: a[..., 0]),
    ("none", lambda L, a: a[None, 0]),
    ("diagonal", lambda L, a: a.diagonal(0, 1, 2)),
    ("diagonal_offset", lambda L, a: L.diagonal(a, 1, 0, 2)),
    ("unfold", lambda L, a: a.unfold(2, 2, 2)),
    ("as_strided", lambda L, a: a.as_strided((3, 2), (4, 1), 1)),
    ("tensor_split", lambda L, a: a.tensor_split(2, dim=2)[1]),
    ("tensor_split_indices", lambda L, a: a.tensor_split([1, 3], dim=2)[2]),
    ("hsplit", lambda L, a: a.hsplit(3)[1]),
    ("vsplit", lambda L, a: L.vsplit(a, 2)[0]),
    ("dsplit", lambda L, a: a.dsplit([1])[1]),
    ("atleast_3d", lambda L, a: L.atleast_3d(a)),
    ("chained", lambda L, a: a.transpose(0, 1)[1:].unfold(2, 2, 2).select(-1, 0)),
]

# PyTorch refuses these writes (multi-output views, internal overlap); gradkit must too
REFUSED = [
    ("unbind", lambda L, a: a.unbind(1)[1]),
    ("split", lambda L, a: a.split(2, dim=2)[0]),
    ("split_sizes", lambda L, a: a.split([1, 3], 2)[1]),
    ("split_with_sizes", lambda L, a: a.split_with_sizes([1, 3], 2)[1]),
    ("chunk", lambda L, a: a.chunk(3, 1)[2]),
    ("split_whole", lambda L, a: a.split(4, 2)[0]),
    ("expand", lambda L, a: a[:, :1].expand(2, 3, 4)),
    ("expand_as", lambda L, a: a[:1].expand_as(a)),
]

# gradkit refuses these writes where PyTorch performs them with overlapping elements
GRADKIT_REFUSES = [
    ("unfold_overlapping", lambda L, a: a.unfold(2, 2, 1)),
    ("as_strided_overlapping", lambda L, a: a.as_strided((3, 2), (1, 1))),
]

COMPLEX_VIEWS = [
    ("real", lambda L, z: z.real),
    ("imag", lambda L, z: z.imag),
    ("view_as_real", lambda L, z: L.view_as_real(z)),
    ("view_as_real_slice", lambda L, z: L.view_as_real(z[:, 1])[..., 1]),
    ("real_of_transpose", lambda L, z: z.transpose(0, 2).real),
]


def _values() -> np.ndarray:
    return np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7 - 1


def _nograd_write(L: Any, view: Callable[[Any, Any], Any]) -> tuple[np.ndarray, int]:
    a = L.tensor(_values())
    v = view(L, a)
    v.add_(1)
    return np.array(a.tolist()), a._version


def _grad_after_write(L: Any, view: Callable[[Any, Any], Any]) -> np.ndarray:
    x = L.tensor(_values(), requires_grad=True)
    a = x * 1.5
    v = view(L, a)
    v.add_(v.exp())                           # in place through the view, nonlinear in v
    v.mul_(-0.5)
    w = L.tensor(np.linspace(-1.0, 2.0, 24).reshape(2, 3, 4))
    ((a * w).sum() + (a.sin() * a).sum()).backward()
    return np.array(x.grad.tolist())


@pytest.mark.parametrize("name, view", VIEWS, ids=[n for n, _ in VIEWS])
def test_write_through_view_matches_torch(name, view) -> None:
    ours, theirs = _nograd_write(gk, view), _nograd_write(torch, view)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=0, atol=1e-15)
    assert ours[1] == theirs[1] == 1
    np.testing.assert_allclose(_grad_after_write(gk, view), _grad_after_write(torch, view),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, view", REFUSED, ids=[n for n, _ in REFUSED])
def test_refused_writes_match_torch(name, view) -> None:
    with pytest.raises(RuntimeError) as theirs:
        _grad_after_write(torch, view)
    with pytest.raises(RuntimeError) as ours:
        _grad_after_write(gk, view)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name, view", GRADKIT_REFUSES, ids=[n for n, _ in GRADKIT_REFUSES])
def test_overlapping_writes_are_refused(name, view) -> None:
    _grad_after_write(torch, view)            # PyTorch writes some elements twice
    for run in (_grad_after_write, _nograd_write):
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            run(gk, view)


def _complex_write(L: Any, view: Callable[[Any, Any], Any]) -> tuple[np.ndarray, np.ndarray]:
    re = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 5 - 2
    x = L.tensor(re, requires_grad=True)
    y = L.tensor(re[::-1].copy(), requires_grad=True)
    z = L.complex(x * 1, y * 2)
    v = view(L, z)
    v.add_(v.exp())
    v.mul_(3)
    loss = (z.real * z.imag).sum() + (z.abs() ** 2).sum() * 0.5
    loss.backward()
    return np.array(x.grad.tolist()), np.array(y.grad.tolist())


@pytest.mark.parametrize("name, view", COMPLEX_VIEWS, ids=[n for n, _ in COMPLEX_VIEWS])
def test_complex_part_views_match_torch(name, view) -> None:
    z = np.arange(24).reshape(2, 3, 4) * (1 + 0.5j)
    a, b = gk.tensor(z), torch.tensor(z)
    view(gk, a).add_(1)
    view(torch, b).add_(1)
    np.testing.assert_array_equal(np.array(a.tolist()), b.numpy())
    for ours, theirs in zip(_complex_write(gk, view), _complex_write(torch, view)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_strides_and_contiguity_match_torch() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    for L in (gk, torch):
        t = L.tensor(x, requires_grad=True)
        cases = [t.transpose(1, 2), t.permute(2, 0, 1), t[:, :, ::2], t.transpose(1, 2).contiguous(),
                 t.permute(2, 0, 1).clone(), t[:, 1], t.unfold(2, 2, 1), t.expand(3, 2, 3, 4)]
        got = [(c.stride(), c.is_contiguous()) for c in cases]
        if L is gk:
            ours = got
    assert ours == got


def test_view_dtype_matches_torch() -> None:
    x = np.array([[1.5, -2.25], [3.0, 1e300]])
    for dtype in ("int64", "float32", "uint8", "int32", "complex128"):
        ours = gk.tensor(x).view(getattr(gk, dtype))
        theirs = torch.tensor(x).view(getattr(torch, dtype))
        np.testing.assert_array_equal(np.array(ours.tolist()), theirs.numpy())


@pytest.mark.parametrize("make", [lambda L, a: L.view_as_complex(a),
                                  lambda L, a: L.view_as_complex(a.transpose(0, 1))[1:],
                                  lambda L, a: L.view_as_complex(a[:, ::2])])
def test_view_as_complex_writes_match_torch(make) -> None:
    def run(L: Any) -> tuple[np.ndarray, np.ndarray]:
        x = L.tensor(np.arange(24, dtype=np.float64).reshape(3, 4, 2) / 6 - 1, requires_grad=True)
        a = x * 2
        c = make(L, a)
        c.mul_(c.exp())
        (a * a.cos()).sum().backward()
        return np.array(a.tolist()), np.array(x.grad.tolist())
    for ours, theirs in zip(run(gk), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_view_of_non_contiguous_tensors_matches_torch() -> None:
    for make in (lambda L, x: x.transpose(0, 1).view(3, 2, 4), lambda L, x: x[:, :, ::2].view(6, 2),
                 lambda L, x: x[:, :, ::2].view(2, 3, 2, 1), lambda L, x: x.permute(2, 0, 1).view(4, 6),
                 lambda L, x: x[:, 1:].view(2, 8), lambda L, x: x.transpose(1, 2).view(2, 12),
                 lambda L, x: x[:, 1:].view(4, 4)):
        results = []
        for L in (gk, torch):
            x = L.tensor(np.arange(24.0).reshape(2, 3, 4))
            try:
                v = make(L, x)
                results.append((v.stride(), v.tolist()))
            except RuntimeError as exc:
                results.append(str(exc))
        assert results[0] == results[1]


@pytest.mark.parametrize("name, view", VIEWS, ids=[n for n, _ in VIEWS])
def test_view_taken_before_the_base_changes_matches_torch(name, view) -> None:
    def run(L: Any) -> np.ndarray:
        x = L.tensor(_values(), requires_grad=True)
        a = x * 1.5
        v = view(L, a)
        a.mul_(a.exp())                       # the base changes after the view was taken
        a[0, 1:].add_(a[1, :2].exp())         # and through another view
        (v * v).sum().backward()
        return np.array(x.grad.tolist())
    np.testing.assert_allclose(run(gk), run(torch), rtol=1e-12, atol=1e-12)
