"""``vmap`` and ``stop_gradient`` of gradkit.func.

Part of ``gradkit.func`` (see its docstring).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import threading
from typing import Any, Callable, Iterator

import numpy as np

from gradkit.func._tree import tree_flatten, tree_unflatten
from gradkit._core.tensor import Tensor, _make
from gradkit.ops.shape import permute_p
from gradkit._api import inplace as _inplace


# --- batching and gradient stopping -----------------------------------------------------
_UNSET: Any = object()
_RANDOMNESS = ("error", "different", "same")


def vmap(fun: Callable[..., Any], in_dims: Any = _UNSET, out_dims: Any = _UNSET,
         randomness: str = _UNSET, *, chunk_size: int | None = None, in_axes: Any = _UNSET,
         out_axes: Any = _UNSET, axis_size: int | None = None) -> Callable[..., Any]:
    """Map ``fun`` over an axis of its arguments: ``vmap(f)(xs)[i] == f(xs[i])``.

    PyTorch's spelling (``torch.vmap``/``torch.func.vmap``: ``in_dims``, ``out_dims``,
    ``randomness``, ``chunk_size``) and JAX's (``in_axes``, ``out_axes``, ``axis_size``)
    both work; give one spelling of each. Errors are worded as PyTorch's when PyTorch's
    keywords are used (and always by ``gradkit.vmap``, which is ``torch.vmap``), otherwise as
    JAX's.

    Parameters
    ----------
    fun : callable
        A function of one example; positional arguments are pytrees of Tensors, arrays
        or numbers.
    in_dims, in_axes : int, None or pytree
        The mapped axis of each argument (``None``: not mapped, passed whole); a tuple
        has one entry per positional argument, each an int, None or a pytree prefix of
        that argument.
    out_dims, out_axes : int, None or pytree
        Where the batch axis goes in each output (``None``: an output that does not
        depend on the batch, returned once).
    randomness : {"error", "different", "same"}
        As PyTorch: ``"error"`` (the default) raises PyTorch's error when ``fun`` draws
        random numbers (``randn``, ``rand``, ``dropout``, ...); ``"different"`` gives each
        example its own draws; ``"same"`` gives every example the same draws.
    chunk_size : int, optional
        Run at most this many examples at a time (less memory), as PyTorch.
    axis_size : int, optional
        The batch size, needed only when no argument is mapped (``in_axes`` all None).
        Keyword arguments of the batched function are always mapped over axis 0, as in JAX.

    Returns
    -------
    callable
        The batched function; NumPy in (nothing a Tensor), NumPy out.

    Notes
    -----
    ``fun`` runs once, on batched tensors (``gradkit.func._batching``): each shows one example's
    shape while its primitives run on the whole batch. Elementwise, reduction, shape and
    product (matmul, einsum) primitives have batching rules; ``grad`` inside ``vmap``
    differentiates every example at once (per-example gradients, with unmapped arguments
    such as parameters broadcast along the batch).

    What PyTorch's vmap refuses raises PyTorch's error (``RuntimeError``, its words): reading a
    batched value (``item()``, ``float()``, ``int()``, ``bool()`` and so ``if x > 0:``,
    ``tolist()``, ``numpy()``), ops whose output shape depends on the values (``nonzero``,
    ``unique``, boolean masks, ...), random draws under ``randomness="error"``, and writing a
    batched value into an unbatched tensor in place. Where gradkit itself lacks a rule (an op
    with none, some in-place writes, forward mode, random draws with
    ``randomness="different"``) the whole call runs ``fun`` once per example and stacks the
    results; tensors computed from the example there refuse the same reads and writes, so the
    loop never answers what the batched run would refuse (other errors surface from the loop
    as they are). vmaps nest; ``grad(vmap(f))`` works. Random streams are gradkit's, not
    PyTorch's: the same seed gives other numbers than PyTorch.

    Examples
    --------
    >>> import numpy as np
    >>> import gradkit.func as gf
    >>> gf.vmap(gf.grad(lambda x: np.sum(x ** 3)))(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[ 3., 12.],
           [27., 48.]])
    """
    return _vmap(fun, in_dims, out_dims, randomness, chunk_size, in_axes, out_axes, axis_size, False)


def torch_vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error",
               *, chunk_size: int | None = None) -> Callable[..., Any]:
    """``torch.vmap``: ``gradkit.func.vmap`` with PyTorch's keywords and error messages."""
    return _vmap(func, in_dims, out_dims, randomness, chunk_size, _UNSET, _UNSET, None, True)


def _vmap(fun: Callable[..., Any], in_dims: Any, out_dims: Any, randomness: Any,
          chunk_size: Any, in_axes: Any, out_axes: Any, axis_size: Any, torch: bool) -> Callable[..., Any]:
    torch_spelling = torch or chunk_size is not None or any(
        v is not _UNSET for v in (in_dims, out_dims, randomness))
    if in_axes is not _UNSET:
        if in_dims is not _UNSET:
            raise TypeError("vmap() got both in_dims and in_axes; give one of them")
        in_dims = in_axes
    if out_axes is not _UNSET:
        if out_dims is not _UNSET:
            raise TypeError("vmap() got both out_dims and out_axes; give one of them")
        out_dims = out_axes
    in_dims = 0 if in_dims is _UNSET else in_dims
    out_dims = 0 if out_dims is _UNSET else out_dims
    randomness = "error" if randomness is _UNSET else randomness
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or isinstance(chunk_size, bool)
                                   or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    in_axes, out_axes = in_dims, out_dims
    name = getattr(fun, "__name__", type(fun).__name__)

    def where() -> str:
        return f"vmap({name}, in_dims={in_axes}, ...)(<inputs>)"

    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not isinstance(in_axes, (tuple, list, int)) and in_axes is not None or \
                torch_spelling and in_axes is None:
            if torch_spelling:
                raise ValueError(f"{where()}: expected `in_dims` to be int or a (potentially nested) "
                                 f"tuple matching the structure of inputs, got: {type(in_axes)}.")
            raise ValueError(f"vmap in_axes must be an int, None, or a tuple of entries corresponding "
                             f"to the positional arguments passed to the function, but got {in_axes}")
        axes = list(in_axes) if isinstance(in_axes, (tuple, list)) else [in_axes] * len(args)
        if len(axes) != len(args):
            if torch_spelling:
                raise ValueError(f"{where()}: in_dims is not compatible with the structure of "
                                 f"`inputs`. in_dims has structure {_structure(tuple(axes))} but "
                                 f"inputs has structure {_structure(args)}.")
            raise ValueError(f"vmap in_axes must be an int, None, or a tuple of entries "
                             f"corresponding to the positional arguments passed to the function, "
                             f"but got len(in_axes)={len(axes)}, len(args)={len(args)}")
        if not args and not kwargs and axis_size is None:
            raise ValueError("vmap wrapped function must be passed at least one argument containing "
                             "an array or axis_size must be specified, got empty *args=() and "
                             "**kwargs={}")
        if isinstance(fun, np.ufunc) and not kwargs and axis_size is None \
                and all(a == 0 for a in axes) and out_axes == 0:
            return fun(*args)
        # keyword arguments are mapped over axis 0 in JAX's spelling; PyTorch's never maps them
        names = list(kwargs)
        everything = list(args) + [kwargs[k] for k in names]
        leaves, spec = tree_flatten(everything)
        try:
            leaf_axes = _axes_for(axes + [None if torch_spelling else 0] * len(names), everything)
        except ValueError:
            if not torch_spelling:
                raise
            raise ValueError(f"{where()}: in_dims is not compatible with the structure of `inputs`. "
                             f"in_dims has structure {_structure(tuple(axes))} but inputs has "
                             f"structure {_structure(args)}.") from None
        for v, ax in zip(leaves, leaf_axes):
            if ax is not None and not -np.ndim(v) <= ax < np.ndim(v):
                if torch_spelling:
                    raise ValueError(f"{where()}: Got in_dim={ax} for some input, but that input is a "
                                     f"Tensor of dimensionality {np.ndim(v)} so expected in_dim to "
                                     f"satisfy -{np.ndim(v)} <= in_dim < {np.ndim(v)}.")
                raise ValueError(f"vmap was requested to map its argument along axis {ax}, which "
                                 f"implies that its rank should be at least {ax + 1 if ax >= 0 else -ax}, "
                                 f"but is only {np.ndim(v)} (its shape is {tuple(np.shape(v))})")
        all_sizes = [np.shape(v)[ax] for v, ax in zip(leaves, leaf_axes) if ax is not None]
        sizes = set(all_sizes)
        if axis_size is not None:
            sizes.add(int(axis_size))
        if len(sizes) != 1:
            if sizes and torch_spelling:
                raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                                 f"dimension, got sizes {all_sizes} for the mapped dimension")
            raise ValueError("vmap got inconsistent sizes for array axes to be mapped: "
                             f"{sorted(sizes)}" if sizes else
                             "vmap must have at least one non-None value in in_axes or axis_size "
                             "must be specified")
        (n,) = sizes
        npos = len(args)

        def call(*a: Any) -> Any:
            return fun(*a[:npos], **dict(zip(names, a[npos:])))

        numpy_out = not any(isinstance(v, Tensor) for v in leaves)
        try:
            res = _chunks(call, leaves, leaf_axes, spec, n)
        except _OutAxesError as exc:
            if not torch_spelling or exc.dims is None:
                raise
            ax, nd = exc.dims
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
                             f"but got {ax})") from None
        if numpy_out:
            res = _numpy_tree(res)
        return res

    def _chunks(call: Callable[..., Any], leaves: list[Any], leaf_axes: list[Any], spec: Any,
                n: int) -> Any:
        if chunk_size is not None and n > chunk_size:
            parts = [_run(call, [v if ax is None else _slice(v, ax, lo, min(lo + chunk_size, n))
                                 for v, ax in zip(leaves, leaf_axes)],
                          leaf_axes, spec, min(chunk_size, n - lo), out_axes, randomness)
                     for lo in range(0, n, chunk_size)]
            return _concat_tree(parts, out_axes)
        return _run(call, leaves, leaf_axes, spec, n, out_axes, randomness)
    return wrapper


def _structure(tree: Any) -> str:
    """A pytree's structure, ``*`` for each leaf (for PyTorch's in_dims errors)."""
    leaves, spec = tree_flatten(tree)
    return repr(tree_unflatten(spec, [_Star()] * len(leaves)))


class _Star:
    def __repr__(self) -> str:
        return "*"


def _slice(v: Any, axis: int, lo: int, hi: int) -> Any:
    idx = (slice(None),) * (axis % np.ndim(v)) + (slice(lo, hi),)
    return v[idx] if isinstance(v, Tensor) else np.asarray(v)[idx]


def _concat_tree(parts: list[Any], out_axes: Any) -> Any:
    """The chunks' results joined along each output's batch axis."""
    from gradkit._api import cat
    flats = [tree_flatten(p) for p in parts]
    spec = flats[0][1]
    out = []
    for k, ax in enumerate(_axes_for(out_axes, parts[0])):
        col = [f[0][k] for f in flats]
        if ax is None:
            out.append(col[0])
            continue
        ax = ax % np.ndim(col[0])
        if any(isinstance(c, Tensor) for c in col):
            out.append(cat([c if isinstance(c, Tensor) else _make(np.asarray(c), False, None)
                            for c in col], dim=ax))
        else:
            out.append(np.concatenate([np.asarray(c) for c in col], axis=ax))
    return tree_unflatten(spec, out)


# --- randomness ------------------------------------------------------------------------------
class _Randomness:
    """The randomness mode of one running vmap (this thread's stack in ``_random_modes``)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.batched = True                 # running the batched path (False: the loop)
        self.saved: dict[Any, Any] = {}     # "same" in the loop: generator -> state before


_random_local = threading.local()


def _random_modes() -> list[_Randomness]:
    modes = getattr(_random_local, "modes", None)
    if modes is None:
        modes = _random_local.modes = []
    return modes


def _on_draw(gen: Any) -> None:
    """Called before every random draw while a vmap runs in this thread."""
    for m in _random_modes():
        if m.mode == "error":
            raise RuntimeError("vmap: called random operation while in randomness error mode. "
                               "Please either use the 'same' or 'different' randomness flags on "
                               "vmap or perform the randomness operation out of vmap")
        if m.mode == "different" and m.batched:
            from gradkit.func._batching import Unbatchable
            raise Unbatchable("vmap: random draws with randomness='different' run per example")
        if m.mode == "same" and not m.batched and gen not in m.saved:
            m.saved[gen] = copy.deepcopy(gen._raw_rng().bit_generator.state)


@contextlib.contextmanager
def _random_scope(randomness: str) -> Iterator[Callable[[], None]]:
    """Random draws in a transform that runs a function more than once (``jacfwd``): ``error``
    raises, ``same`` replays the first run's draws in every run (call the yielded function
    before each run), ``different`` lets each run draw anew."""
    from gradkit._core import creation
    modes = _random_modes()
    mode = _Randomness(randomness)
    mode.batched = False
    modes.append(mode)
    prev_hook = getattr(creation._draw_hook, "fn", None)
    creation._draw_hook.fn = _on_draw

    def replay() -> None:
        for gen, state in mode.saved.items():
            gen._raw_rng().bit_generator.state = copy.deepcopy(state)
    try:
        yield replay
    finally:
        modes.pop()
        creation._draw_hook.fn = prev_hook


def _run(call: Callable[..., Any], leaves: list[Any], leaf_axes: list[Any], spec: Any, n: int,
         out_axes: Any, randomness: str) -> Any:
    """One batch: the batched path, or the loop when it cannot run batched."""
    from gradkit._core import creation
    modes = _random_modes()
    mode = _Randomness(randomness)
    modes.append(mode)
    prev_hook = getattr(creation._draw_hook, "fn", None)
    creation._draw_hook.fn = _on_draw
    journal = _Writes()
    prev_note = getattr(_inplace.UNBATCHED_WRITE, "note", None)
    _inplace.UNBATCHED_WRITE.note = journal.note
    try:
        try:
            res = _vmap_batched(call, leaves, leaf_axes, spec, n, out_axes)
            _vmap_stats["batched"] += 1
        except _OutAxesError:
            raise
        except Exception as exc:                   # NOTE: the loop raises real errors as they are
            if getattr(exc, "_vmap_final", False) or isinstance(exc, RuntimeError) and \
                    str(exc).startswith("vmap: called random"):
                raise
            _vmap_stats["why"] = exc
            mode.batched = False
            journal.undo()              # the batched attempt's writes, before the loop's
            res = _vmap_loop(call, leaves, leaf_axes, spec, n, out_axes, mode, journal)
            _vmap_stats["loop"] += 1
    finally:
        modes.pop()
        creation._draw_hook.fn = prev_hook
        _inplace.UNBATCHED_WRITE.note = prev_note
    return res


class _Writes:
    """What the tensors that are not batched held before ``fun`` wrote into them in place.

    PyTorch runs ``fun`` once on the whole batch, so ``y.add_(1)`` into a captured ``y``
    happens once. The per-example loop runs ``fun`` once per example (and after a batched
    attempt that failed part way): before each run the writes of the run before are undone,
    values and history, so each run starts from what the batched call would have seen and
    the last one leaves one write behind."""

    def __init__(self) -> None:
        self.saved: dict[int, tuple[Tensor, Any, Any, Any, bool]] = {}

    def note(self, t: Tensor) -> None:
        if id(t) not in self.saved and isinstance(t._data, np.ndarray):
            self.saved[id(t)] = (t, t._data.copy(), t._fn, t._oi, t._rg)

    def undo(self, results: Any = ()) -> None:
        """Undo the writes, except into what the runs before returned (``results``: a tensor
        made and written inside ``fun`` and returned is that example's result)."""
        kept = [v._data for v in tree_flatten(list(results))[0]
                if isinstance(v, Tensor) and isinstance(v._data, np.ndarray)]
        # NOTE: latest first: a tensor first noted after a view of it was written (``y[0] += 1``
        # writes the view, then sets it into y) must not win over the view's earlier state
        for t, data, fn, oi, rg in reversed(list(self.saved.values())):
            if any(np.may_share_memory(t._data, k) for k in kept):
                continue
            np.copyto(t._data, data)
            t._fn, t._oi, t._rg = fn, oi, rg
            t._vc[0] += 1
        self.saved.clear()


class _OutAxesError(ValueError):
    """An ``out_axes`` that does not fit the output (raised as is, not retried by the loop)."""

    dims: tuple[int, int] | None = None       # (out_dim, ndim) when the axis is out of range


def _out_axis(ax: int, ndim: int) -> int:
    """``ax`` for an output of ``ndim`` dims (the batch axis included), checked as JAX does."""
    if not -ndim <= ax < ndim:
        exc = _OutAxesError(f"axis {ax} is out of bounds for array of dimension {ndim} (vmap "
                            f"out_axes of an output with {ndim - 1} dims)")
        exc.dims = (ax, ndim)
        raise exc
    return ax % ndim


#: how many vmap calls ran batched and how many fell back to the loop (for tests, benchmarks)
_vmap_stats: dict[str, Any] = {"batched": 0, "loop": 0, "why": None}


def _axes_for(ax: Any, tree: Any) -> list[Any]:
    """One axis per leaf of ``tree``, from ``ax`` (an int, None or a pytree prefix of ``tree``)."""
    if ax is None or isinstance(ax, int):
        return [ax] * len(tree_flatten(tree)[0])
    if isinstance(tree, dict) and isinstance(ax, dict) and sorted(ax) == sorted(tree):
        return [a for k in sorted(tree) for a in _axes_for(ax[k], tree[k])]
    if isinstance(tree, (tuple, list)) and isinstance(ax, (tuple, list)) and len(ax) == len(tree):
        return [a for sub_ax, sub in zip(ax, tree) for a in _axes_for(sub_ax, sub)]
    raise ValueError(f"vmap in_axes/out_axes entry {ax!r} does not match the structure of the "
                     f"value {type(tree).__name__}; give an int, None or a matching pytree")


def _vmap_batched(fun: Callable[..., Any], leaves: list[Any], leaf_axes: list[Any], spec: Any,
                  n: int, out_axes: Any) -> Any:
    from gradkit.func import _batching as V
    level = V.enter(n)
    try:
        wrapped = []
        for v, ax in zip(leaves, leaf_axes):
            if ax is None:
                wrapped.append(v)
                continue
            t = V.as_tensor(v)
            ax %= t.ndim
            if ax:
                t = permute_p(t, dims=(ax,) + tuple(i for i in range(t.ndim) if i != ax))
            wrapped.append(V._wrap(t, level))
        out = fun(*tree_unflatten(spec, wrapped))
        out_leaves, out_spec = tree_flatten(out)
        res = []
        for v, ax in zip(out_leaves, _axes_for(out_axes, out)):
            p, batched = V.physical(v, level)
            if ax is None:
                if batched:
                    raise _OutAxesError("at vmap out_axes, got axis spec None but output was "
                                        "batched on axis 0")
                res.append(p)
                continue
            if not batched:
                p = V.broadcast_to_level(v, level)._value
            ax = _out_axis(ax, p.ndim)
            if ax:
                p = permute_p(p, dims=tuple(range(1, ax + 1)) + (0,) + tuple(range(ax + 1, p.ndim)))
            res.append(p)
        return tree_unflatten(out_spec, res)
    finally:
        V.exit_level()


def _vmap_loop(fun: Callable[..., Any], leaves: list[Any], leaf_axes: list[Any], spec: Any,
               n: int, out_axes: Any, mode: _Randomness | None = None,
               journal: _Writes | None = None) -> Any:
    from gradkit.func import _batching as V
    results = []
    V.enter_loop(n)
    try:
        for i in range(n):
            if journal is not None and i:
                journal.undo(results)              # one write in all, as one batched call makes
            if mode is not None and mode.saved:    # "same": every example replays the first's draws
                for gen, state in mode.saved.items():
                    gen._raw_rng().bit_generator.state = copy.deepcopy(state)
            ex = [v if ax is None else V.mark_example(_take(v, ax, i))
                  for v, ax in zip(leaves, leaf_axes)]
            results.append(fun(*tree_unflatten(spec, ex)))
    finally:
        V.exit_loop()
    return _stack_tree(results, out_axes)


def _take(v: Any, axis: int, i: int) -> Any:
    idx = (slice(None),) * (axis % np.ndim(v)) + (i,)
    return v[idx] if isinstance(v, Tensor) else np.asarray(v)[idx]


def _stack_tree(results: list[Any], out_axes: Any) -> Any:
    from gradkit._api import stack
    flats = [tree_flatten(r) for r in results]
    spec = flats[0][1]
    axes = _axes_for(out_axes, results[0])
    out = []
    for k, ax in enumerate(axes):
        col = [f[0][k] for f in flats]
        if ax is None:
            vals = [np.asarray(c._data if isinstance(c, Tensor) else c) for c in col]
            if any(not np.array_equal(v, vals[0], equal_nan=v.dtype.kind in "fcV") for v in vals[1:]):
                raise _OutAxesError("at vmap out_axes, got axis spec None but output was batched "
                                    "on axis 0")
            out.append(col[0])
            continue
        ax = _out_axis(ax, np.ndim(col[0]) + 1)
        if any(isinstance(c, Tensor) for c in col):
            col = [c if isinstance(c, Tensor) else _make(np.asarray(c), False, None) for c in col]
            out.append(stack(col, dim=ax))
        else:
            out.append(np.stack([np.asarray(c) for c in col], axis=ax))
    return tree_unflatten(spec, out)


def _numpy_tree(tree: Any) -> Any:
    leaves, spec = tree_flatten(tree)
    return tree_unflatten(spec, [np.asarray(v._data) if isinstance(v, Tensor) and not v.requires_grad
                                 and isinstance(v._data, np.ndarray) else v for v in leaves])


def stop_gradient(x: Any) -> Any:
    """``x`` with no gradient flowing through it (any pytree; NumPy leaves pass as they are)."""
    leaves, spec = tree_flatten(x)
    return tree_unflatten(spec, [v.detach() if isinstance(v, Tensor) else v for v in leaves])
