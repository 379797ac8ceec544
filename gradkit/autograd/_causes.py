"""What :func:`~gradkit.autograd.explain` answers, and why a tensor has no ``grad_fn``.

``Explanation`` is the answer of ``explain``. ``no_grad_fn_cause`` gives the sentence that
``backward()`` appends to "element 0 of tensors does not require grad": the likely cause, read
from the :class:`~gradkit._core.sites.Why` mark that a dropped history (``detach``,
``no_grad``, an integer cast, a comparison) left on the tensor. Kept under both the engine
and ``_explain`` (which walks the graph with the engine), so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gradkit._core.sites import at
from gradkit._core.tensor import Tensor
from gradkit.autograd._names import _loc, _name_of

__all__ = ["Explanation", "no_grad_fn_cause"]


@dataclass
class Explanation:
    """The answer of :func:`explain`.

    ``cause`` is one of ``'ok'``, ``'not_requires_grad'``, ``'not_watched'``, ``'no_grad'``,
    ``'inference_mode'``, ``'detach'``, ``'cast'``, ``'non_differentiable'``, ``'unused'``,
    ``'piecewise_constant'``, ``'replaced_in_place'``, ``'zero'``, ``'nan'``, ``'inf'``,
    ``'where_branch'``, ``'modified'``, ``'unverified'``, ``'freed'``. ``location`` is
    ``file.py:line`` where known, ``op`` the operation responsible and ``path`` the node
    names from the output to it. After ``backward()`` freed the graph, ``'modified'`` says
    a leaf changed in place since the forward and ``'unverified'`` that the recomputed
    gradient disagrees with ``input.grad``.
    """

    cause: str
    message: str
    location: str | None = None
    op: str | None = None
    path: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


# --- dropped history -------------------------------------------------------------------
def _why_sentence(why: Any, name: str) -> str:
    w = at(why.site)
    if why.kind in ("no_grad", "inference_mode"):
        mode = "gradkit.no_grad()" if why.kind == "no_grad" else "gradkit.inference_mode()"
        return (f"{name} was computed under {mode}: `{why.op}`{w} ran on a tensor that requires "
                f"grad while recording was off, so nothing was recorded. Compute it outside the "
                f"{mode} block (or under gradkit.enable_grad()).")
    if why.kind == "detach":
        return (f"{name} comes from a detached tensor: `{why.op}`{w} cut it from the graph. Use "
                "the tensor itself (not .detach() or .data) where the gradient must flow.")
    if why.kind == "cast":
        return (f"{name} went through `{why.op}`{w}, a cast to an integer/bool dtype: such "
                "tensors carry no gradient. Keep floating point (round with a straight-through "
                "estimator if you need integers).")
    return (f"{name} is the output of `{why.op}`{w}, which has no gradient (comparisons, argmax, "
            "integer results). Use a differentiable surrogate (softmax instead of argmax, "
            "sigmoid((a - b) / t) instead of a > b).")


def _why_explanation(why: Any, name: str, path: list[str] | None = None) -> Explanation:
    return Explanation(why.kind, _why_sentence(why, name), _loc(why.site), why.op, path or [])


def no_grad_fn_cause(t: Tensor) -> str:
    """The sentence appended to "element 0 of tensors does not require grad ...": the likely cause."""
    try:
        e = _root_cause(t, _name_of(t, "the tensor"))
    except Exception:                         # a diagnostic must never hide the real error
        return ""
    return "\n" + e.message


def _root_cause(t: Tensor, name: str, input: Any = None, tape: Any = None) -> Explanation:
    why = t._why
    if why is not None:
        return _why_explanation(why, name)
    if input is not None and tape is not None and not tape._is_watched(input):
        return _not_watched(input)
    msg = (f"{name} does not require grad: none of the tensors it was computed from requires "
           "grad. Create the parameters with requires_grad=True (or call .requires_grad_()); "
           "setting requires_grad=True on the result itself only hides this error, and the "
           "parameters then never get a gradient.")
    return Explanation("not_requires_grad", msg)


def _not_watched(x: Tensor) -> Explanation:
    name = _name_of(x, "the source")
    return Explanation("not_watched", f"{name} is not watched by the GradientTape: call "
                       f"tape.watch({name.strip('`')}) inside the `with` block before using it, "
                       "or make it a trainable gradkit.tape.Variable.")
