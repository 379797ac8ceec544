"""Inference tensors' marks: the version counter every inference tensor shares (reading it
gives 0, bumping it outside inference mode raises PyTorch's error) and PyTorch's messages.
``gradkit._core.tensor`` re-exports every name; the module flag ``_inference_on`` stays there
(``_make`` reads it on every op)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradkit._core import grad_mode as _grad_mode

if TYPE_CHECKING:
    from gradkit._core.tensor import Tensor

_gm_state = _grad_mode._state

_INPLACE_INFERENCE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
    "clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details.")
SAVE_INFERENCE = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`.")


class _InferenceVersion:
    """The version counter of every inference tensor (and the mark that makes one).

    Inference tensors track no version: reading gives 0, and bumping it (every in-place
    change does, after it has written) outside inference mode raises PyTorch's error. As in
    PyTorch, whose check is the version bump after the kernel ran, the values are written
    before the error is raised.
    ``detach()`` and ``.data`` of an inference tensor share the ``writable`` one: as in
    PyTorch, they are inference tensors that may be changed in place (not through a view).
    """

    __slots__ = ("writable",)

    def __init__(self, writable: bool) -> None:
        self.writable = writable

    def __getitem__(self, i: int) -> int:
        return 0

    def __setitem__(self, i: int, value: int) -> None:
        if not self.writable and not _gm_state.inference:
            raise RuntimeError(_INPLACE_INFERENCE)

    def __repr__(self) -> str:
        return "<inference tensor: no version counter>"


_INFERENCE_VC = _InferenceVersion(False)
_INFERENCE_DETACHED = _InferenceVersion(True)


def check_inplace_inference(t: Tensor) -> None:
    """Called before an in-place change of ``t``: it lets the change run.

    PyTorch refuses an in-place change of an inference tensor outside inference mode only
    when it bumps the version, after the kernel has written (``a.add_(1)`` raises, and
    ``a`` holds ``a + 1``); the writer's version bump (``_InferenceVersion.__setitem__``)
    raises its error here too, after the write.
    """
    return None
