"""What a table node saved for backward, under PyTorch's names, and saved-tensor hooks on it.

``grad_fn._saved_self``, ``_saved_other``, ``_saved_result``, ``_saved_dim``, ... read the
values a node keeps (``SPECS``: for each node class, PyTorch's attribute names and where the
value lives here); ``_raw_saved_self`` is a ``SavedTensor`` handle whose ``register_hooks``
packs the value at once. Under ``autograd.graph.saved_tensors_hooks`` each tensor PyTorch
would save is packed when the node is made and unpacked when backward uses it.

A node with packed values changes its class to a subclass of the same name (``packed_class``)
whose ``_backward`` unpacks them first, so nodes without hooks pay nothing for this.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradkit._core.tensor import Tensor, _make
from gradkit._core.graph import (SavedTensor, current_saved_hooks, freed_error,
                                 raw_hooks_errors, raw_hooks_freed_error, run_pack, run_unpack,
                                 version_error)

__all__ = ["SPECS", "saved_attr", "saved_names", "pack_node"]

# kinds of entries: an input tensor, the output, a parameter, an input's sizes or numel, a constant
IN, OUT, PARAM, SIZE, NUMEL, CONST, STRIDES = range(7)

#: node class name -> entries ``(name, kind, where, condition)``: for ``IN`` the input
#: position and the position of the input whose requiring grad makes PyTorch save it (None:
#: always); for ``PARAM`` the key in the node's params; for ``SIZE``/``NUMEL`` the input
#: position; for ``CONST`` the value. Entries are in the order PyTorch packs them.
SPECS: dict[str, tuple[tuple[str, int, Any, Any], ...]] = {}


def _spec(names: str, *entries: tuple[str, int, Any, Any]) -> None:
    for n in names.split():
        SPECS[n] = entries


_SELF = ("self", IN, 0, None)
_OTHER = ("other", IN, 1, None)
_RESULT = ("result", OUT, None, None)
_DIM = ("dim", PARAM, "dim", None)
_KEEPDIM = ("keepdim", PARAM, "keepdim", None)
_SIZES = ("self_sym_sizes", SIZE, 0, None)

# values recorded from PyTorch 2.13 (dir(grad_fn) and the values of its _saved_* attributes)
_spec("MulBackward0", ("other", IN, 1, 0), ("self", IN, 0, 1))
_spec("DivBackward0", _OTHER, ("self", IN, 0, 1))
_spec("AddBackward0 SubBackward0", ("alpha", CONST, 1, None))
_spec("PowBackward0", ("exponent", PARAM, "exponent", None), _SELF)
_spec("PowBackward1", ("exponent", IN, 1, None), _RESULT, _SELF)
_spec("PowBackward2", ("exponent", IN, 0, None), _RESULT, ("self", PARAM, "base", None))
_spec("LogBackward0 SinBackward0 CosBackward0 AbsBackward0 Log1PBackward0 Log2Backward0 "
      "Log10Backward0 AsinBackward0 AcosBackward0 AtanBackward0 SinhBackward0 CoshBackward0 "
      "AsinhBackward0 AcoshBackward0 AtanhBackward0 ErfBackward0 ErfcBackward0 LgammaBackward0 "
      "DigammaBackward0", _SELF)
_spec("ExpBackward0 TanBackward0 TanhBackward0 SigmoidBackward0 ReluBackward0 SqrtBackward0 "
      "RsqrtBackward0 ReciprocalBackward0 Expm1Backward0 Exp2Backward0", _RESULT)
_spec("SumBackward0", _SIZES)
_spec("SumBackward1", _DIM, _KEEPDIM, _SIZES)
_spec("MeanBackward0", ("self_sym_numel", NUMEL, 0, None), _SIZES)
_spec("MeanBackward1", _DIM, _KEEPDIM, ("self_sym_numel", NUMEL, 0, None), _SIZES)
_spec("MmBackward0", ("mat2", IN, 1, 0), ("mat2_sym_sizes", SIZE, 1, None),
      ("mat2_sym_strides", STRIDES, 1, None), ("self", IN, 0, 1), _SIZES,
      ("self_sym_strides", STRIDES, 0, None))
_spec("MvBackward0", ("self", IN, 0, 1), ("vec", IN, 1, 0))
_spec("DotBackward0", ("self", IN, 0, 1), ("tensor", IN, 1, 0))
_spec("ViewBackward0 ExpandBackward0", _SIZES)
_spec("PermuteBackward0", ("dims", PARAM, "dims", None))
_spec("MaxBackward1 MinBackward1", _RESULT, _SELF)
_spec("AmaxBackward0 AminBackward0", _DIM, _KEEPDIM, _RESULT, _SELF)
_spec("MaximumBackward0 MinimumBackward0 Atan2Backward0", _OTHER, _SELF)
_spec("ClampBackward1", ("max", PARAM, "max", None), ("min", PARAM, "min", None), _SELF)
_spec("SoftmaxBackward0 LogSoftmaxBackward0", _DIM, _RESULT)
_spec("LogsumexpBackward0", _DIM, _KEEPDIM, _RESULT, _SELF)
_spec("VarBackward0", _DIM, _KEEPDIM, _SELF)
_spec("StdBackward0", _DIM, _KEEPDIM, _RESULT, _SELF)
_spec("CumsumBackward0", _DIM)
_spec("ProdBackward0", _SELF)


def _entries(node: Any) -> Any:
    spec = SPECS.get(type(node).__name__)
    if spec is None:
        return ()
    prim = node.prim
    # NOTE: only what this table keeps can be shown: an entry for a value the row does not save
    # (PyTorch's _saved_result of prod) is left out rather than recomputed.
    return tuple(e for e in spec if not ((e[1] == IN and not prim.save_inputs) or
                                         (e[1] == OUT and not (prim.save_ans and prim.n_out == 1))))


def saved_names(node: Any) -> list[str]:
    """The ``_saved_*`` and ``_raw_saved_*`` attributes of ``node`` (for ``dir``)."""
    out = []
    for name, kind, _, _ in _entries(node):
        out.append("_saved_" + name)
        if kind in (IN, OUT):
            out.append("_raw_saved_" + name)
    return out


def _wrap_number(v: Any) -> Tensor:
    """A Python number saved by a node, as PyTorch shows it: a 0-d tensor (float64, int64)."""
    if isinstance(v, bool):
        dt: Any = np.bool_
    elif isinstance(v, int):
        dt = np.int64
    elif isinstance(v, complex):
        dt = np.complex128
    else:
        dt = np.float64
    return _make(np.asarray(v, dtype=dt), False, None)


def _saved(entry: Any, node: Any) -> bool:
    """Whether PyTorch saves this input (some are saved only when another input needs grad)."""
    cond = entry[3]
    return entry[1] == OUT or cond is None or node.next[cond] is not None


def _tensor_value(node: Any, entry: Any) -> Any:
    name, kind, i, _ = entry
    if not _saved(entry, node):
        return None
    store = node.__dict__.get("_packed")
    if store is not None and name in store:
        packed, unpack = store[name][:2]
        return run_unpack(unpack, packed)
    if "_packed" in node.__dict__:           # a node with packed values, after backward freed them
        if store is None:
            raise freed_error(node)
    if kind == IN:
        args = node.args
        if args is None:
            raise freed_error(node)
        a = args[i]
        if not isinstance(a, Tensor):
            return _wrap_number(a)
        v = node.vers[i]
        if a._vc[0] != v:
            raise version_error(a, node, v, a._vc[0])
        return a
    if node.ans is None:
        raise freed_error(node)
    return node._unpack_ans(True)


def _sizes(node: Any, i: int) -> tuple[int, ...]:
    meta = node.meta
    if meta is not None:
        return tuple(meta[i][0])
    # every input has the output's shape: recover it from what the node keeps
    if node.args is not None and isinstance(node.args[i], Tensor):
        return tuple(node.args[i]._data.shape)
    if node.prim.name == "reshape":
        return tuple(node.params["shape"])
    ans = node.ans
    if ans is not None and node.prim.n_out == 1:
        return tuple(ans.shape)
    if node.prim.name in ("sum", "mean") and node.params.get("dim") is None:
        return ()
    raise AttributeError(f"{type(node).__name__}: the input's sizes were not kept by this node")


def _strides(node: Any, i: int) -> tuple[int, ...]:
    """An input's strides in elements: its array's own while the node holds it, else those of a
    contiguous array of its sizes."""
    a = node.args[i] if node.args is not None else None
    if isinstance(a, Tensor) and isinstance(a._data, np.ndarray):
        d = a._data
        return tuple(st // d.itemsize for st in d.strides) if d.size else \
            _contiguous(d.shape)
    return _contiguous(_sizes(node, i))


def _contiguous(shape: tuple[int, ...]) -> tuple[int, ...]:
    out, acc = [], 1
    for n in reversed(shape):
        out.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(out))


def saved_attr(node: Any, attr: str) -> Any:
    """``node._saved_<name>`` / ``node._raw_saved_<name>``, as in PyTorch."""
    raw = attr.startswith("_raw_saved_")
    name = attr[len("_raw_saved_"):] if raw else attr[len("_saved_"):]
    for entry in _entries(node):
        if entry[0] != name:
            continue
        kind = entry[1]
        if raw:
            if kind not in (IN, OUT):
                break
            return SavedTensor(node, name)
        if kind in (IN, OUT):
            return _tensor_value(node, entry)
        if kind == PARAM:
            return node.params[entry[2]]
        if kind == SIZE:
            return _sizes(node, entry[2])
        if kind == NUMEL:
            return int(np.prod(_sizes(node, entry[2]), dtype=np.int64))
        if kind == STRIDES:
            return _strides(node, entry[2])
        return entry[2]
    raise AttributeError(f"'{type(node).__name__}' object has no attribute '{attr}'")


# --- packing ------------------------------------------------------------------------------
class _PackedSlot:
    """What a node holds in place of a tensor a pack hook took: any use of it as a value fails."""

    __slots__ = ("shape", "dtype")

    def __init__(self, t: Tensor) -> None:
        self.shape = t._data.shape
        self.dtype = t._data.dtype

    def __repr__(self) -> str:
        return "<packed saved tensor>"


def _pack_entries(node: Any) -> list[tuple[str, int, Any]]:
    """``(key, kind, input position)`` of each tensor PyTorch saves for ``node``."""
    spec = SPECS.get(type(node).__name__)
    prim = node.prim
    if spec is not None:
        out = [(e[0], e[1], e[2]) for e in _entries(node) if e[1] in (IN, OUT) and _saved(e, node)]
    else:
        # a row without PyTorch's names: every tensor the row keeps
        out = []
        if prim.save_inputs and node.args is not None:
            out += [(f"#{i}", IN, i) for i in range(len(node.args))]
        if prim.save_ans and prim.n_out == 1:
            out.append(("#result", OUT, None))
    return out


def pack_node(node: Any, result: Tensor) -> None:
    """Pack what ``node`` saved with the calling thread's ``saved_tensors_hooks`` (if any)."""
    hooks = current_saved_hooks()
    if hooks is None:
        return
    pack, unpack = hooks
    store: dict[str, Any] = {}
    args = list(node.args) if node.args is not None else None
    for key, kind, i in _pack_entries(node):
        if kind == IN:
            a = args[i] if args is not None else None
            if not isinstance(a, Tensor):
                continue                      # numbers are not packed (as in PyTorch)
            store[key] = (run_pack(pack, a), unpack, IN, i)
            args[i] = _PackedSlot(a)
        else:
            store[key] = (run_pack(pack, result), unpack, OUT, None)
    if not store:
        return
    if args is not None:
        node.args = tuple(args)
    if any(v[2] == OUT for v in store.values()):
        node.ans = _PackedSlot(result)
    _set_packed(node, store)


def _set_packed(node: Any, store: dict[str, Any]) -> None:
    node.__dict__["_packed"] = store
    cls = type(node)
    if not cls.__dict__.get("_packed_variant", False):
        node.__class__ = packed_class(cls)


_VARIANTS: dict[type, type] = {}


def packed_class(cls: type) -> type:
    """The subclass (same name) of a node class whose nodes unpack their values in backward."""
    sub = _VARIANTS.get(cls)
    if sub is None:
        sub = _VARIANTS[cls] = type(cls.__name__, (cls,), {
            "__slots__": (), "_packed_variant": True, "_backward": _packed_backward,
            "_release": _packed_release, "__module__": cls.__module__,
            "__qualname__": cls.__qualname__})
    return sub


def register_saved_hooks(node: Any, name: str, pack: Any, unpack: Any) -> None:
    """``grad_fn._raw_saved_<name>.register_hooks(pack, unpack)``."""
    store = node.__dict__.get("_packed")
    if store is None and "_packed" in node.__dict__:
        raise raw_hooks_freed_error()
    entry = next(e for e in _entries(node) if e[0] == name)
    if not _saved(entry, node):
        raise raw_hooks_errors("none")
    if store is not None and name in store:
        raise raw_hooks_errors("set")
    kind, i = entry[1], entry[2]
    if (kind == IN and node.args is None) or (kind == OUT and node.ans is None):
        raise raw_hooks_freed_error()
    value = _tensor_value(node, entry)
    packed = run_pack(pack, value)
    store = dict(store or {})
    store[name] = (packed, unpack, kind, i)
    if kind == IN:
        args = list(node.args)
        if isinstance(args[i], Tensor):
            args[i] = _PackedSlot(args[i])
        node.args = tuple(args)
    else:
        node.ans = _PackedSlot(value)
    _set_packed(node, store)


def _packed_backward(self: Any, grads: list[Any], create_graph: bool) -> Any:
    store = self.__dict__.get("_packed")
    if store is None:
        raise freed_error(self)
    base = type(self).__mro__[1]
    args0, ans0 = self.args, self.ans
    vers0 = self.vers if args0 is not None else None
    d = self.__dict__
    vc0 = d.get("ans_vc", _MISSING)
    v0 = d.get("ans_v", _MISSING)
    args = list(args0) if args0 is not None else None
    try:
        for packed, unpack, kind, i in store.values():
            t = run_unpack(unpack, packed)
            if kind == IN:
                args[i] = t                   # type: ignore[index]
            else:
                self.ans = t._data
                # NOTE: as in PyTorch, a value that went through hooks is not version-checked
                d["ans_vc"] = [0]
                d["ans_v"] = 0
        if args is not None:
            self.args = tuple(args)
            self.vers = tuple(a._vc[0] if isinstance(a, Tensor) else 0 for a in args)
        return base._backward(self, grads, create_graph)
    finally:
        self.args, self.ans = args0, ans0
        if args0 is not None:
            self.vers = vers0
        for key, v in (("ans_vc", vc0), ("ans_v", v0)):
            if v is _MISSING:
                d.pop(key, None)
            else:
                d[key] = v


def _packed_release(self: Any) -> None:
    type(self).__mro__[1]._release(self)
    self.args = None
    self.ans = None
    self.__dict__["_packed"] = None


_MISSING = object()
