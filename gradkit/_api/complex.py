"""Complex-number functions: ``real``, ``imag``, ``conj``, ``angle``, ``view_as_real``, ...

Re-exported at top level (``gradkit.real``) and attached to :class:`Tensor`
(``z.real``, ``z.imag`` as properties; ``z.conj()``, ``z.angle()`` as methods).
Every function is a table primitive (ops/elementwise.py), so gradients follow
PyTorch's convention for complex autograd: the gradient of a real loss ``L``
with respect to ``z = x + iy`` is ``dL/dx + i dL/dy``.

Conjugation is physical (gradkit has no lazy conjugate bit): ``conj`` makes a
new tensor. Where PyTorch's ``conj`` is a view, an in-place write to it would
change the input; gradkit's copy refuses such writes instead of losing them, and
says so through ``is_conj`` (True); ``resolve_conj`` gives a writable copy.
``.real``, ``.imag`` and ``view_as_real`` are views, as in PyTorch.
"""

from __future__ import annotations

from gradkit._core import dtype as _dtype
from gradkit._api.base import _scalar_name, _t, _view_op
from gradkit._core.tensor import Tensor
from gradkit.ops import elementwise as E
from gradkit.ops._registry import apply, apply1
from gradkit._core.autocast import autocast_op

__all__ = ["real", "imag", "conj", "conj_physical", "resolve_conj", "resolve_neg", "is_conj",
           "is_neg", "adjoint", "angle", "view_as_real", "view_as_complex", "complex", "polar", "is_complex"]


def is_complex(input: Tensor) -> bool:
    """Whether ``input`` has a complex dtype."""
    return _t(input).is_complex()


def real(input: Tensor) -> Tensor:
    """The real part of ``input``; a real tensor is returned as it is (as in PyTorch)."""
    x = _t(input)
    if not x.is_complex():
        return x
    return _part(x, 0)


def _part(x: Tensor, k: int) -> Tensor:
    """``view_as_real(x)[..., k]``: PyTorch's real/imag (SelectBackward0 over
    ViewAsRealBackward0 when recorded; a view of ``x`` either way)."""
    from gradkit._api.views import select
    return select(_view_op(x, E.view_as_real.prim, {"view": True}), -1, k)


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor; its gradient flows back as ``g * 1j``."""
    x = _t(input)
    if not x.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _part(x, 1)


def conj(input: Tensor) -> Tensor:
    """The complex conjugate (a real tensor is returned as it is)."""
    x = _t(input)
    if not x.is_complex():
        return x
    out = apply1(E.conj.prim, x)
    # NOTE: PyTorch's conj is a view (writing to it writes ``input``); this copy refuses writes
    out._conj_copy = True
    return out


def conj_physical(input: Tensor) -> Tensor:
    """``conj`` recorded as ``ConjPhysicalBackward0`` (gradkit's conj is always physical)."""
    x = _t(input)
    if not x.is_complex():
        return x
    return apply1(E.conj.prim, x, None, 1)


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` itself, or for the result of ``conj()`` a copy of it that may be written."""
    x = _t(input)
    if x._conj_copy or (x._base is not None and x._base._conj_copy):
        from gradkit.ops.shape import clone_p
        return clone_p(x)
    return x


def resolve_neg(input: Tensor) -> Tensor:
    """``input`` itself: gradkit never holds a lazily negated tensor."""
    return _t(input)


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dimensions (``input.transpose(-2, -1).conj()``)."""
    return _t(input).adjoint()


def is_neg(input: Tensor) -> bool:
    """PyTorch's negative bit, always False: gradkit never holds a lazily negated tensor (the
    imaginary part of a ``conj()`` is a real negated copy, not a view with the bit set)."""
    _t(input)
    return False


def is_conj(input: Tensor) -> bool:
    """True for the result of ``conj()`` of a complex tensor (PyTorch's conjugate bit)."""
    x = _t(input)
    return bool(x._conj_copy)


def angle(input: Tensor) -> Tensor:
    """The argument of each element (``atan2(imag, real)``); 0 or pi for real tensors."""
    return apply(E.angle.prim, (_t(input),))


def view_as_real(input: Tensor) -> Tensor:
    """A real tensor with a trailing dimension of size 2 holding (real, imag).

    A view, as in PyTorch: writing to it changes ``input``.
    """
    x = _t(input)
    if not x.is_complex():
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return _view_op(x, E.view_as_real.prim, {"view": True})


@autocast_op
def view_as_complex(input: Tensor) -> Tensor:
    """A complex tensor from a float32/float64 one whose last dimension (size 2) is (real, imag).

    A view, as in PyTorch: writing to it changes ``input``.
    """
    x = _t(input)
    if x.dtype not in (_dtype.float32, _dtype.float64, _dtype.float16):
        raise RuntimeError("view_as_complex is only supported for half, float and double tensors, "
                           f"but got a tensor of scalar type: {_scalar_name(x.dtype)}")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if x.dtype is _dtype.float16:
        raise RuntimeError("view_as_complex of float16 tensors is not supported (no complex32)")
    d = x._data
    if hasattr(d, "strides"):
        strides = [s // d.itemsize for s in d.strides]
        if strides[-1] != 1:
            raise RuntimeError("Tensor must have a last dimension with stride 1")
        if any(s % 2 for n, s in zip(d.shape[:-1], strides[:-1]) if n > 1):
            raise RuntimeError("Tensor must have a stride divisible by 2 for all but last "
                               "dimension")
        if x._base is not None and x.storage_offset() % 2:
            raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return _view_op(x, E.view_as_complex.prim, {"view": True})


def _check_pair(name: str, a: Tensor, b: Tensor) -> None:
    ok = (_dtype.float32, _dtype.float64)
    if a.dtype not in ok or b.dtype not in ok:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_scalar_name(a.dtype)} and {_scalar_name(b.dtype)}")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"Expected object of scalar type {_scalar_name(a.dtype)} but got scalar "
                           f"type {_scalar_name(b.dtype)} for second argument")


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001
    """The complex tensor ``real + 1j * imag`` (both float32 or both float64, broadcast)."""
    re, im = _t(real, "real"), _t(imag, "imag")
    _check_pair("complex", re, im)
    return apply(E.complex_.prim, (re, im))


@autocast_op
def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002
    """The complex tensor ``abs * (cos(angle) + 1j * sin(angle))``."""
    r, theta = _t(abs, "abs"), _t(angle, "angle")
    _check_pair("polar", r, theta)
    return apply(E.polar.prim, (r, theta))


# --- Tensor methods and properties --------------------------------------------------------
def _attach() -> None:
    T = Tensor
    T.real = property(real, doc="The real part (the tensor itself when it is real).")
    T.imag = property(imag, doc="The imaginary part of a complex tensor.")
    for fn in (conj, conj_physical, resolve_conj, resolve_neg, is_conj, is_neg, angle):
        setattr(T, fn.__name__, fn)


_attach()
