"""Batched tensors for ``gradkit.func.vmap``: the function runs once on the whole batch.

A ``BatchedTensor`` shows a function one example (its *logical* shape) while it holds
the whole batch (its *physical* value, the batch axis in front). While a ``vmap`` runs,
every primitive meets the hook below before it runs: an input batched at the innermost
level sends it to a *batching rule*, which calls the primitive once on the physical
values (the batch dimension carried explicitly) and wraps the result again. The rules
cover the elementwise family (broadcasting does it, once the ranks are aligned),
reductions and dim-taking ops (dims shifted by one), shape ops (reshape, permute,
expand, getitem, cat, stack, ...) and matmul. The physical ops are ordinary recorded
primitives, so reverse mode through a vmapped function (and ``grad`` inside one: the
per-example gradients) needs nothing more.

Reading a batched tensor's values as the user does (``item()``, ``bool()``, ``float()``,
``tolist()``, ...) raises PyTorch's vmap errors (marked ``_vmap_final``: never retried). Any
other primitive, and gradkit code that reads the values itself, raises ``Unbatchable``: its
``_data`` is a stand-in that refuses every use, so nothing can silently compute on the wrong
shape. ``vmap`` then runs the function once per example instead, for the whole call; there
the tensors computed from the example are ``ExampleTensor``s (marked by a hook on every
primitive), which refuse the same reads and the writes into tensors shared by every example.

Levels nest: the physical value of a level-``L`` tensor may be a batched tensor of a
lower (outer) level, so the physical layout is ``(B_outer, ..., B_inner, *logical)``.

NOTE: the hook is the forward-mode one of ``gradkit.ops._registry`` (``_fw_on``,
``_fw_hook``); it hands every unbatched call on to ``forward_ad`` or the table. Levels
and the hook belong to the calling thread (``gradkit.autograd._thread_state``): vmaps in
other threads, and eager code there, never see them.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

import numpy as np

from gradkit._core.torch_function import _disabled_torch_function_impl
from gradkit._core import concrete as _cc
from gradkit._core.tensor import Size, Tensor, _make
from gradkit.autograd import _batched as _autograd_batched
from gradkit.autograd import engine as _autograd_engine
from gradkit.autograd import _thread_state as T
from gradkit.ops import _registry as R
from gradkit.autograd.forward_ad import apply_dual
from gradkit.ops.shape import expand_p
from gradkit.ops.shape import reshape_p
from gradkit.ops import shape as S

__all__ = ["BatchedTensor", "Unbatchable", "level_sizes"]


class Unbatchable(RuntimeError):
    """An operation with no batching rule met a batched tensor (vmap falls back to a loop)."""


# PyTorch's words (functorch's BatchedFallback / python_variable_methods) for reading a batched
# tensor's values: vmap raises them as they are (``_vmap_final``), never retried per example
ITEM_MESSAGE = ("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap "
                "over calling .item() on a Tensor, please try to rewrite what you're doing with "
                "other operations. If error is occurring somewhere inside PyTorch internals, "
                "please file a bug report.")
CONTROL_FLOW_MESSAGE = ("vmap: It looks like you're attempting to use a Tensor in some "
                        "data-dependent control flow. We don't support that yet, please file an "
                        "issue at https://github.com/pytorch/pytorch/issues .")
STORAGE_MESSAGE = "Cannot access data pointer of Tensor that doesn't have storage"
#: the same under a function transform (grad, jacrev, ...) that runs inside the vmap
EITHER_MESSAGE = ("vmap: It looks like you're either (1) calling .item() on a Tensor or (2) "
                  "attempting to use a Tensor in some data-dependent control flow or (3) "
                  "encountering this error in PyTorch internals. For (1): we don't support vmap "
                  "over calling .item() on a Tensor, please try to rewrite what you're doing with "
                  "other operations. For (2): we don't support data-dependent control flow in vmap "
                  "yet, please file an issue at https://github.com/pytorch/pytorch/issues . For "
                  "(3): please file an issue.")


def _read_message(msg: str) -> str:
    """``msg``, or PyTorch's joint message when a differentiating transform runs inside the
    innermost vmap (``vmap(grad(f))``: PyTorch's grad wrapper hides which read it was)."""
    depths = _diff_depths.items
    if depths and _cc._local.depth > depths[-1]:
        return EITHER_MESSAGE
    return msg


def _final(msg: str) -> RuntimeError:
    exc = RuntimeError(msg)
    exc._vmap_final = True  # type: ignore[attr-defined]
    return exc


class _ReadsRefused:
    """The value reads of a tensor that stands for every example at once (a batched tensor,
    or an example of vmap's per-example loop): PyTorch's vmap errors, in its order of checks
    (``float()``/``int()`` of a tensor of several elements is the plain ValueError first)."""

    __slots__ = ()

    def _refusing(self) -> bool:
        return True

    def item(self) -> Any:
        if self._refusing():
            raise _final(_read_message(ITEM_MESSAGE))
        return Tensor.item(self)  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        if self._refusing():
            raise _final(_read_message(CONTROL_FLOW_MESSAGE))
        return Tensor.__bool__(self)  # type: ignore[arg-type]

    def __float__(self) -> float:
        if self._refusing():
            if self.numel() != 1:  # type: ignore[attr-defined]
                raise ValueError("only one element tensors can be converted to Python scalars")
            raise _final(_read_message(ITEM_MESSAGE))
        return Tensor.__float__(self)  # type: ignore[arg-type]

    def __int__(self) -> int:
        if self._refusing():
            if self.numel() != 1:  # type: ignore[attr-defined]
                raise ValueError("only one element tensors can be converted to Python scalars")
            raise _final(_read_message(ITEM_MESSAGE))
        return Tensor.__int__(self)  # type: ignore[arg-type]

    def __index__(self) -> int:
        if self._refusing():
            raise _final(_read_message(ITEM_MESSAGE))
        return Tensor.__index__(self)  # type: ignore[arg-type]

    def __complex__(self) -> complex:
        if self._refusing():
            raise _final(_read_message(ITEM_MESSAGE))
        return Tensor.__complex__(self)  # type: ignore[arg-type]

    def __contains__(self, element: Any) -> bool:
        if self._refusing():
            raise _final(_read_message(ITEM_MESSAGE))
        return Tensor.__contains__(self, element)  # type: ignore[arg-type]

    def __format__(self, spec: str) -> str:
        if self._refusing():
            if self.ndim == 0:  # type: ignore[attr-defined]
                raise _final(_read_message(ITEM_MESSAGE))
            if spec:
                exc = TypeError("unsupported format string passed to Tensor.__format__")
                exc._vmap_final = True  # type: ignore[attr-defined]
                raise exc
            return repr(self)
        return Tensor.__format__(self, spec)  # type: ignore[arg-type]

    def tolist(self) -> Any:
        if self._refusing():
            raise _final(STORAGE_MESSAGE)
        return Tensor.tolist(self)  # type: ignore[arg-type]

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._refusing():
            raise _final(STORAGE_MESSAGE)
        return Tensor.numpy(self, force=force)  # type: ignore[arg-type]

    def data_ptr(self) -> int:
        if self._refusing():
            raise _final(STORAGE_MESSAGE)
        return Tensor.data_ptr(self)  # type: ignore[arg-type]


class _Refuse:
    """The ``_data`` of a batched tensor: its logical ``shape``/``ndim``/``size``/``dtype``,
    and ``Unbatchable`` for every use of the values."""

    __slots__ = ("shape", "dtype")
    __array_ufunc__ = None
    #: read by ``gradkit._api.base._vmap_batched`` (ops whose output shape depends on values)
    _vmap_refuse = True
    #: read by view bookkeeping: "not a view" (in-place writes through views are refused anyway)
    base = None
    flags = type("_Flags", (), {"c_contiguous": True, "writeable": False})()

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    def __getattr__(self, name: str) -> Any:
        raise Unbatchable(f"vmap: a batched tensor's values were read (.{name})")

    def _no(self, *a: Any, **k: Any) -> Any:
        raise Unbatchable("vmap: a batched tensor's values were read")

    __array__ = __len__ = __getitem__ = __iter__ = __bool__ = __float__ = __int__ = _no
    __index__ = __setitem__ = _no


_modules = sys.modules

#: sizes of the vmap levels now running in this thread, outermost first (level k at index k - 1)
_levels: Any = T.PerThreadList()
#: the thread's hook from before each outermost level (restored when that level exits)
_prev_hooks: Any = T.PerThreadList()
#: how many differentiating transforms ran when each level was entered (``_read_message``)
_diff_depths: Any = T.PerThreadList()


def level_sizes() -> list[int]:
    """Batch sizes of the running vmaps, outermost first (empty outside vmap)."""
    return list(_levels)


class BatchedTensor(_ReadsRefused, Tensor):
    """One example's view of a batch: ``value`` has the batch axis (of ``level``) in front."""

    # NOTE: gradkit's own subclass: no __torch_function__ dispatch (operations return what they
    # returned before) and it prints as tensor(...)
    __torch_function__ = _disabled_torch_function_impl
    _repr_as_tensor = True

    __slots__ = ("_value", "_level")

    def __repr__(self) -> str:
        # PyTorch's text: the physical value, indented under the level and the batch dim
        value = repr(self._value).replace("\n", "\n    ")
        return f"BatchedTensor(lvl={self._level}, bdim=0, value=\n    {value}\n)"

    __str__ = __repr__

    @property
    def shape(self) -> Size:
        return Size(tuple(self._value.shape)[1:])

    @property
    def ndim(self) -> int:
        return self._value.ndim - 1

    def dim(self) -> int:
        return self._value.ndim - 1

    ndimension = dim

    def size(self, dim: int | None = None) -> Any:
        shape = self.shape
        return shape if dim is None else shape[dim]

    def numel(self) -> int:
        return int(np.prod(tuple(self.shape), dtype=np.int64))

    nelement = numel

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Any:
        return iter([self[i] for i in range(len(self))])

    @property
    def dtype(self) -> Any:
        return self._value.dtype

    @property
    def requires_grad(self) -> bool:
        return self._value.requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        raise Unbatchable("vmap: requires_grad set on a batched tensor")

    @property
    def grad_fn(self) -> Any:
        return None

    def is_floating_point(self) -> bool:
        return self._value.is_floating_point()

    def is_complex(self) -> bool:
        return self._value.is_complex()

    def detach(self) -> Tensor:
        return _wrap(self._value.detach(), self._level)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        return _wrap(self._value.to(*args, **kwargs), self._level)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        return self

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise Unbatchable("vmap: autograd state of a batched tensor (use gradkit.func.grad)")

    requires_grad_ = _set_requires_grad = backward = register_hook = retain_grad = _refuse

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
            shape = tuple(self.numel() // max(known, 1) if s == -1 else s for s in shape)
        return reshape_p(self, shape=tuple(int(s) for s in shape))

    view = reshape

    def __getitem__(self, index: Any) -> Tensor:
        from gradkit._api import methods as _methods
        idx = _methods._convert_index(index)
        if S._is_basic(idx):
            _methods._check_bounds(tuple(self.shape), idx)
            items = idx if isinstance(idx, tuple) else (idx,)
            if not any(i is Ellipsis for i in items):
                idx = items + (Ellipsis,)
            return R.apply(S.getitem_p.prim, (self,), {"index": idx}, _methods._basic_variant(idx))
        return R.apply(S.getitem_p.prim, (self,), {"index": idx}, S.INDEX)


class ExampleTensor(_ReadsRefused, Tensor):
    """A tensor computed from one example while vmap runs its function once per example (the
    loop, where an op had no batching rule): it refuses the value reads and the writes into an
    unbatched tensor that the batched path refuses, so the loop never answers what vmap would
    refuse (nor writes every example into one captured tensor). Outside the loop it is a plain
    Tensor again (one that leaked out of the function)."""

    __torch_function__ = _disabled_torch_function_impl
    _repr_as_tensor = True

    __slots__ = ()
    #: read by the in-place machinery (``gradkit._api.inplace._refuse_batched_write``)
    _vmap_example = True

    def _refusing(self) -> bool:
        return bool(_loops.items)

    @property
    def _vmap_batch(self) -> int:
        """The batch size of the loop running now (PyTorch's words name the batched shape)."""
        return _loops.items[-1][0]


def _new_example(name: str) -> Any:
    """``new_zeros``/... of an example in the loop: the example's too (PyTorch's are batched)."""
    plain = getattr(Tensor, "new_" + name)

    def method(self: ExampleTensor, *size: Any, **kwargs: Any) -> Tensor:
        out = plain(self, *size, **kwargs)
        if self._refusing():
            _taint(out)
        return out
    method.__name__ = "new_" + name
    return method


for _name in ("zeros", "ones", "empty", "full"):
    setattr(ExampleTensor, "new_" + _name, _new_example(_name))


def _example_detach(self: ExampleTensor) -> Tensor:
    out = Tensor.detach(self)
    if self._refusing():
        _taint(out)
    return out


ExampleTensor.detach = _example_detach  # type: ignore[method-assign]


#: per thread: the per-example loops running, innermost last: ``(batch size, the hook that
#: ``_loop_hook`` runs under it, the hook to restore when it ends)``
_loops: Any = T.PerThreadList()


def _taint(out: Any) -> None:
    if type(out) is Tensor:
        out.__class__ = ExampleTensor
    elif type(out) in (tuple, list):
        for o in out:
            if type(o) is Tensor:
                o.__class__ = ExampleTensor


def _loop_hook(prim: Any, args: Sequence[Any], params: Any, variant: int) -> Any:
    """The hook while the loop runs: the primitive as before (an outer vmap's rules, forward
    mode), its results marked as the example's when an input is."""
    items = _loops.items
    if not items:
        # NOTE: another thread's primitive: while one thread alone has a hook, the table holds
        # that hook itself (see _thread_state), and this thread runs no loop
        return T._dispatch(prim, args, params, variant)
    prev = items[-1][1]
    out = prev(prim, args, params, variant) if prev is not None else _base(prim, args, params, variant)
    for a in args:
        if type(a) is ExampleTensor:
            _taint(out)
            break
    return out


def mark_example(x: Any) -> Any:
    """``x`` (one example's slice, a plain Tensor) marked as computed from the example."""
    if type(x) is Tensor:
        x.__class__ = ExampleTensor
    return x


def enter_loop(size: int) -> None:
    """Start vmap's per-example loop in this thread (matched by ``exit_loop`` in a ``finally``)."""
    restore = prev = T.set_hook(_loop_hook)
    if prev is _loop_hook:              # a loop inside a loop: the hook under the outer one
        prev = _loops.items[-1][1]
    _loops.append((size, prev, restore))


def exit_loop() -> None:
    T.set_hook(_loops.pop()[2])


def _new_batched(name: str) -> Any:
    """``new_zeros``/``new_ones``/``new_empty``/``new_full`` of a batched tensor: a batched
    result (its own memory per example), as PyTorch's vmap gives, so that writing a batched
    value into it stays per-example."""
    plain = getattr(Tensor, "new_" + name)

    def method(self: BatchedTensor, *size: Any, **kwargs: Any) -> Tensor:
        if type(self._value) is BatchedTensor:
            raise Unbatchable(f"vmap: new_{name} of a tensor batched at several levels")
        base = plain(self._value, *size, **kwargs)
        if base.requires_grad:
            raise Unbatchable(f"vmap: new_{name}(requires_grad=True) of a batched tensor")
        n = self._value.shape[0]
        phys = np.broadcast_to(base._data, (n,) + tuple(base._data.shape)).copy()
        return _wrap(_make(phys, False, None), self._level)
    method.__name__ = "new_" + name
    return method


for _name in ("zeros", "ones", "empty", "full"):
    setattr(BatchedTensor, "new_" + _name, _new_batched(_name))


def _wrap(value: Tensor, level: int) -> BatchedTensor:
    t = object.__new__(BatchedTensor)
    t._data = _Refuse(tuple(value._data.shape)[1:], value._data.dtype)
    t._rg = False
    t._fn = None
    t._vc = [0]
    t._value = value
    t._level = level
    return t


def check_plain(*tensors: Any) -> None:
    """Refuse batched tensors where only plain ones work (batched reverse walks, forward mode)."""
    if any(type(t) is BatchedTensor for t in tensors):
        raise Unbatchable("vmap: this transform has no batching rule (the loop runs instead)")


_autograd_batched.PLAIN_CHECKS.append(check_plain)
_autograd_engine.BATCHED_SEEDS.append(lambda t: type(t) is BatchedTensor)


def unwrap_all(x: Tensor) -> tuple[Tensor, list[int]]:
    """The plain physical tensor under ``x`` and the levels it carries, outermost first."""
    levels = []
    while type(x) is BatchedTensor:
        levels.append(x._level)
        x = x._value
    return x, levels[::-1]


def rewrap(phys: Tensor, levels: Sequence[int]) -> Tensor:
    for lvl in levels:
        phys = _wrap(phys, lvl)
    return phys


# --- entering and leaving -----------------------------------------------------------------
def enter(size: int) -> int:
    """Open a vmap level of batch ``size`` in this thread; returns its number (1 for the outermost).

    Every ``enter`` is matched by an ``exit_level`` in a ``finally``.
    """
    if not _levels:
        _install()
    _levels.append(size)
    _diff_depths.append(_cc._local.depth)
    return len(_levels)


def exit_level() -> None:
    _levels.pop()
    _diff_depths.pop()
    if not _levels:
        prev = _prev_hooks.pop()
        if prev is not _hook and prev is not _loop_hook:    # dual levels may have opened or closed
            prev = _fw_hook() if _fw_levels() else None
        T.set_hook(prev)


def _install() -> None:
    _prev_hooks.append(T.set_hook(_hook))


def _fw_hook() -> Any:
    return apply_dual


def _fw_levels() -> Any:
    """This thread's open dual levels (empty when forward mode is off or was never used).

    NOTE: runs for every primitive inside vmap, so it reads ``sys.modules`` instead of asking
    ``forward_ad_module()`` (an import-system lookup per call); the answer is the same.
    """
    if not R._fw_on:                         # no dual level is open
        return ()
    fwad = _modules.get("gradkit.autograd.forward_ad")
    if fwad is None:
        return ()
    batched = _modules.get("gradkit.autograd._batched")
    if batched is not None and batched.USE_FORWARD_AD is False:
        return ()
    return fwad._levels.items


def _base(prim: Any, args: Sequence[Any], params: Any, variant: int) -> Any:
    if _fw_levels():
        from gradkit.autograd.forward_ad import apply_dual
        return apply_dual(prim, args, params, variant)
    return R.apply(prim, args, params, variant, True)


def _hook(prim: Any, args: Sequence[Any], params: Any, variant: int) -> Any:
    level = 0
    for a in args:
        if type(a) is BatchedTensor and a._level > level:
            level = a._level
    if not level:
        return _base(prim, args, params, variant)
    if any(type(a) is BatchedTensor and a._fw for a in args):
        lowest = _inner_lowest(args)
        from gradkit.autograd.forward_ad import apply_dual_over
        return apply_dual_over(prim, args, params, variant, _rule, lowest)
    return _rule(prim, args, params, variant, level)


#: per thread: the dual levels opened inside a vmap (``vmap(jvp)``, ``gradkit.func.jvp``),
#: by id, with the number of vmap levels running when each was opened
_inner_duals: Any = T.PerThreadList()


def _inner_lowest(args: Sequence[Any]) -> int:
    """The lowest dual level on a batched argument that this thread's cap lets through,
    every such level having been opened inside the vmap of its tensor (else ``Unbatchable``:
    a tangent of an outer level on a batched tensor would be lost when the vmap unwraps)."""
    from gradkit.autograd import forward_ad as F
    cap = F._cap.cap
    inner = dict(_inner_duals.items)
    lowest = cap
    for a in args:
        if type(a) is BatchedTensor and a._fw:
            for k in a._fw:
                if k >= cap:
                    continue
                depth = inner.get(k)
                if depth is None or depth < a._level:
                    raise Unbatchable("vmap: forward-mode tangents on a batched tensor")
                lowest = min(lowest, k)
    return lowest


def _rule(prim: Any, args: Sequence[Any], params: Any, variant: int, level: int = 0) -> Any:
    """Run ``prim`` by its batching rule at the innermost level of its batched arguments."""
    if not level:
        for a in args:
            if type(a) is BatchedTensor and a._level > level:
                level = a._level
    from gradkit.func import _batching_rules as _vmap_rules
    rule = _vmap_rules.KINDS.get(prim.batch) if prim.batch is not None else None
    if rule is None:
        raise Unbatchable(f"vmap: no batching rule for {prim.name}")
    return rule(prim, args, dict(params or {}), variant, level)


def physical(x: Any, level: int) -> tuple[Any, bool]:
    """``(value with the batch axis in front, True)`` if ``x`` is batched at ``level``."""
    if type(x) is BatchedTensor and x._level == level:
        return x._value, True
    return x, False


def call(prim: Any, args: Sequence[Any], params: dict[str, Any], variant: int = 0) -> Any:
    """Run ``prim`` on physical values (through the hook again, for lower levels)."""
    return R.apply(prim, tuple(args), params or None, variant)


def as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else _make(np.asarray(x), False, None)


def broadcast_to_level(x: Any, level: int) -> Tensor:
    """``x`` batched at ``level`` (copies along the batch axis; a broadcast view)."""
    v = as_tensor(x)
    shape = tuple(v.shape)
    size = _levels[level - 1]
    v = reshape_p(v, shape=(1,) + shape)
    return _wrap(expand_p(v, shape=(size,) + shape), level)


from gradkit.func import _custom_function  # noqa: E402,F401  (registers Function.apply under vmap)
