"""Tensor methods PyTorch scripts call that the family modules do not attach: the methods of
``floating`` and ``sampling`` (``x.i0()``, ``x.multinomial(2)``, ``x.ldexp_(e)``, ...), the
predicates ``isneginf``/``isposinf``/``isreal``/``is_nonzero``, ``diagflat``, ``sum_to_size``,
``new``, ``hardshrink``, and the CPU answers to PyTorch's placement questions (``is_cpu``, ``is_sparse``,
``is_pinned``, ``pin_memory``, ...).
"""

from __future__ import annotations

from typing import Any

from gradkit import _api as A
from gradkit._api import construction as _construction
from gradkit._api import copies as _copies
from gradkit._api import floating as _fl
from gradkit._api import sampling as _sm
from gradkit._api import spectral as _spectral
from gradkit._api.inplace import _make_inplace
from gradkit._core.tensor import Tensor
from gradkit.ops import nn as _P


def sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """``self`` summed down to ``size`` (the broadcast's reverse: ``size`` must expand to
    ``self``'s shape)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    target = tuple(int(s) for s in size)
    shape = tuple(self.shape)
    lead = len(shape) - len(target)
    ok = lead >= 0 and all(t in (1, s) for t, s in zip(target, shape[lead:]))
    if not ok:
        raise RuntimeError(f"size {{{list(target)}}} is not expandable to size {{{list(shape)}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, (t, s) in enumerate(zip(target, shape[lead:]))
                                      if t == 1 and s != 1)
    out = A.sum(self, dim=dims, keepdim=True) if dims else self
    return A.reshape(out, target) if lead else out


def new(self: Tensor, *args: Any, device: Any = None) -> Tensor:
    """A new tensor of ``self``'s dtype (and device): from data, or of the given sizes."""
    from gradkit._api.legacy import _typed
    return _typed(self.type().removeprefix("torch."), self.dtype)(
        *args, device=device if device is not None else self.device)


def hardshrink(self: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0 (the row ``nn.functional.hardshrink`` also runs)."""
    return _P.hardshrink_p(self, lambd=float(lambd))


def dim_order(self: Tensor, *, ambiguity_check: Any = False) -> tuple[int, ...]:
    """The dimensions from outermost to innermost in memory (by decreasing stride, ties in
    dimension order): ``(0, 2, 3, 1)`` for a channels-last tensor."""
    from gradkit._core.formats import memory_format
    strides = self.stride()
    if not isinstance(ambiguity_check, bool):
        if not isinstance(ambiguity_check, list) or not all(
                isinstance(f, memory_format) for f in ambiguity_check):
            raise TypeError("The ambiguity_check argument must be a bool or a list of memory "
                            "formats.")
    if ambiguity_check is not False:
        formats = ambiguity_check if isinstance(ambiguity_check, list) else []
        ambiguous = (any(a == b for a, b in zip(strides, strides[1:])) or
                     any(n == 1 for n in self.shape))
        unique = sum(bool(self.is_contiguous(memory_format=f)) for f in formats) == 1
        if ambiguous and not unique:
            raise RuntimeError("The tensor does not have unique dim order, or cannot map to "
                               "exact one of the given memory formats.")
    return tuple(sorted(range(self.ndim), key=lambda d: (-strides[d], d)))


def pin_memory(self: Tensor, device: Any = None) -> Tensor:
    """PyTorch's answer without an accelerator: pinned memory needs one."""
    from gradkit import accelerator
    if not accelerator.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return self


def _false(self: Tensor, *args: Any, **kwargs: Any) -> bool:
    return False


def _attach() -> None:
    T = Tensor
    for name in ("i0", "igamma", "igammac", "ldexp", "nextafter", "frexp"):
        setattr(T, name, getattr(_fl, name))
    for name in ("i0", "igamma", "igammac", "ldexp", "nextafter"):
        setattr(T, name + "_", _make_inplace(getattr(_fl, name)))
    T.mvlgamma = _fl.mvlgamma
    T.mvlgamma_ = _make_inplace(_fl.mvlgamma)
    T.multinomial = _sm.multinomial
    for name in ("isneginf", "isposinf", "isreal", "is_nonzero", "hash_tensor"):
        setattr(T, name, getattr(A, name))
    T.diagflat = _construction.diagflat
    T.sum_to_size = sum_to_size
    for name in ("unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes"):
        setattr(T, name, getattr(_copies, name))
    T.dim_order = dim_order
    T.const_data_ptr = lambda self: self.data_ptr()
    T.stft = _spectral.stft
    T.istft = _spectral.istft
    for name in ("select_scatter", "slice_scatter", "diagonal_scatter", "as_strided_scatter"):
        setattr(T, name, getattr(_copies, name))
    T.hardshrink = hardshrink
    T.new = new
    T.pin_memory = pin_memory
    T.is_pinned = _false
    T.is_cpu = property(lambda self: self.device.type == "cpu")
    for name in ("is_sparse", "is_quantized", "is_nested", "is_sparse_csr", "is_mkldnn",
                 "is_xpu", "is_mps", "is_vulkan", "is_ipu", "is_xla", "is_mtia", "is_maia"):
        setattr(T, name, property(_false))


_attach()
