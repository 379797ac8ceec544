"""Forward mode's in-place operations and custom Functions: the in-place methods,
``Tensor.__setitem__`` and ``Function.apply`` on dual tensors (``gradkit.autograd.forward_ad``
re-exports every name here; the per-op path, ``apply_dual``, stays there)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from gradkit._core.tensor import Tensor, _make
from gradkit.ops.shape import index_put_p

from ..ops import _registry as R
from .forward_ad import _cap, _capped, _dual_levels, _fit, _is_complex, _set, _zeros

# NOTE: the in-place methods, ``Tensor.__setitem__`` and ``Function.apply`` check ``R._fw_on``
# (the flag the apply paths check) and call the helpers below when a dual tensor is involved;
# nothing here rewrites them.

#: Helpers from the Tensor surface above this floor (writing a view's new values into its
#: base), registered by ``gradkit._api.methods`` when it loads.
SURFACE: dict[str, Callable[..., Any]] = {}


def _dual_call(self: Tensor, args: Sequence[Any], kwargs: dict[str, Any]) -> bool:
    """Whether an in-place call involves a dual tensor (asked only while a level is open)."""
    return bool(self._fw or _dual_levels(args) or _dual_levels(kwargs.values()))


def _inplace_dual(self: Tensor, run: Callable[..., Any], outplace: Callable[..., Any],
                  args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """An in-place op on dual tensors: ``run`` changes ``self``; its tangents are those of the
    same op out of place (``outplace``), computed before ``self`` changes."""
    out = outplace(_with_fw(self), *args, **kwargs)
    res = run(self, *args, **kwargs)
    _adopt(self, out)
    _link_inplace_ans(self)
    return res


def _setitem_dual(self: Tensor, index: Any, value: Any, run: Callable[..., Any],
                  convert_index: Callable[[Any], Any]) -> None:
    """``self[index] = value`` on dual tensors: ``run`` writes; the tangents come from
    ``index_put`` of the converted index."""
    idx = convert_index(index)
    val = value if isinstance(value, Tensor) else _make(np.asarray(value), False, None)
    out = R.apply(index_put_p.prim, (_with_fw(self), val), {"index": idx})
    run(self, index, value)
    _adopt(self, out)


def _with_fw(t: Tensor) -> Tensor:
    """A snapshot of ``t`` (data copied) that keeps its history and tangents."""
    s = _make(t._data.copy(), t._rg, t._fn)
    if t._oi:
        s._oi = t._oi
    if t._fw:
        for k, v in t._fw.items():
            _set(s, k, v)
    return s


def _link_inplace_ans(self: Tensor) -> None:
    """The node an in-place op recorded saves ``self`` as its answer (``exp_``'s rule reads
    it): let it carry ``self``'s new tangents, as ``_link_ans`` does out of place, so a
    forward-over-reverse pass (``func.hvp``) sees them instead of a constant."""
    node = self._fn
    prim = getattr(node, "prim", None)
    if prim is not None and prim.save_ans and prim.n_out == 1 and self._fw:
        node.ans_fw = dict(self._fw)


def _adopt(self: Tensor, out: Tensor) -> None:
    """Give ``self`` the tangents of ``out`` after an in-place change.

    NOTE: a plain tangent is updated in place (as PyTorch does), so the tangent of a
    view and of its base stay one memory.
    """
    levels = set(self._fw or ()) | set(out._fw or ())
    mine = _cap.mine
    for lvl in sorted(k for k in levels if k in mine):
        new = (out._fw or {}).get(lvl)
        if new is None:
            new = _zeros(self)
        new = _fit(new, self)
        old = (self._fw or {}).get(lvl)
        if old is not None and new._data.dtype != old._data.dtype:
            # NOTE: PyTorch writes the new tangent into the old one in place: it keeps the
            # old tangent's dtype (a float32 tangent times a float64 one stays float32)
            from ..ops.shape import to_p
            new = to_p(new.real if _is_complex(new) and not _is_complex(old) else new,
                       dtype=old._data.dtype)
        if (old is not None and not old._rg and not new._rg and old._data.flags.writeable
                and old._data.shape == new._data.shape and not new._fw):
            np.copyto(old._data, new._data)
            old._vc[0] += 1
        else:
            _set(self, lvl, new)
            if self._base is not None:
                _adopt_through_view(self, lvl, new)
            elif "_views" in self.__dict__:
                _retangent_views(self, lvl, new, None)


def _adopt_through_view(view: Tensor, lvl: int, new: Tensor) -> None:
    """After an in-place change through ``view`` whose tangent could not be written in place
    (a tangent on the graph), write ``new`` into its base's tangent at the view's elements, and
    give the base's other live views their part of it."""
    make_view = getattr(view, "_view_fn", None)
    base = view._base
    if make_view is None:
        return
    _write_through = SURFACE["write_through"]
    bt = (base._fw or {}).get(lvl)
    if bt is None:
        bt = _zeros(base)
    base_t = _write_through(bt, make_view, new, view._data.dtype)
    _set(base, lvl, base_t)
    _retangent_views(base, lvl, base_t, view)


def _retangent_views(base: Tensor, lvl: int, base_t: Tensor, skip: Any) -> None:
    """Give the live views of ``base`` their part of its new tangent ``base_t``."""
    for ref in list(base.__dict__.get("_views", ())):
        other = ref()
        if other is not None and other is not skip and other._fw and lvl in other._fw \
                and other._base is base:
            _set(other, lvl, other._view_fn(base_t))


def _function_apply(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Function.apply`` on dual inputs: the outputs' tangents come from ``cls.jvp``."""
    from .function import _run_forward, _wrap_outputs
    if getattr(cls, "jvp", None) is None:
        raise RuntimeError("You must implement the jvp function for custom autograd.Function to use "
                           "it with forward mode AD.")
    levels = _dual_levels(args)
    # NOTE: forward sees the primals, as in PyTorch.
    ctx, output, prev = _run_forward(cls, args, kwargs, scope=_capped(0))
    result = _wrap_outputs(cls, ctx, args, output, prev and any(ctx.needs_input_grad))
    outs = result if isinstance(result, tuple) else (result,)
    for lvl in levels:
        tangents = [None if not isinstance(a, Tensor) else
                    (a._fw or {}).get(lvl, _zeros(a) if a._data.dtype.kind in "fcV" else None)
                    for a in args]
        with _capped(lvl):
            res = cls.jvp(ctx, *tangents)
        res = res if isinstance(res, tuple) else (res,)
        if len(res) != len(outs):
            raise RuntimeError(f"function {cls.__name__}.jvp returned an incorrect number of "
                               f"tangents (expected {len(outs)}, got {len(res)})")
        for o, t in zip(outs, res):
            if isinstance(o, Tensor) and t is not None and o._data.dtype.kind in "fcV":
                _set(o, lvl, _fit(t, o))
    return result


def _function_apply_if_dual(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Function.apply``'s forward-mode path: NotImplemented when no argument is dual."""
    return _function_apply(cls, args, kwargs) if _dual_levels(args) else NotImplemented
