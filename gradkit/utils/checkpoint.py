"""Activation checkpointing: keep a block's inputs, recompute its intermediates in backward.

``checkpoint(fn, *args)`` runs ``fn`` without recording, so none of its intermediate
values are saved; backward runs ``fn`` again with recording on and backpropagates
through that fresh graph. Memory drops from all of the block's activations to its
inputs, for one extra forward of the block.

Examples
--------
>>> import gradkit as gk
>>> from gradkit.utils import checkpoint
>>> x = gk.tensor([1.0, 2.0], requires_grad=True)
>>> checkpoint(lambda t: (t.exp() * t).sum(), x).backward()
>>> x.grad
tensor([ 5.4366, 22.1672])
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from gradkit._core.tensor import Tensor
from ..autograd import Function
from ..autograd.engine import _accumulate, run_backward
from gradkit._core.grad_mode import _state, enable_grad

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Checkpoint(Function):
    @staticmethod
    def forward(ctx: Any, fn: Callable[..., Any], *args: Any) -> Any:
        ctx.fn = fn
        ctx.tensor_idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_idx))
        return fn(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        saved = ctx.saved_tensors
        create = _state.grad_enabled               # double backward: stay on the outer graph
        args = list(ctx.others)
        targets = []
        for i, t in zip(ctx.tensor_idx, saved):
            if create and t.requires_grad:
                a = t.view_as(t)
            else:
                a = t.detach().requires_grad_(t.requires_grad)
            args[i] = a
            if t.requires_grad:
                targets.append((i, a))
        with enable_grad():
            out = ctx.fn(*args)
        outs = [out] if isinstance(out, Tensor) else list(out)
        pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(o, Tensor) and o.requires_grad
                 and g is not None]
        res: list[Any] = [None] * (len(ctx.others) + 1)
        if not pairs:
            return tuple(res)
        closure = _closure_leaves(pairs, [a for _, a in targets])
        inputs = [a for _, a in targets] + closure
        if not inputs:
            return tuple(res)
        gs = run_backward([o for o, _ in pairs], [g for _, g in pairs], retain_graph=create,
                          create_graph=create, inputs=inputs, capture=True, allow_unused=True)
        assert gs is not None
        for (i, _), g in zip(targets, gs):
            res[i + 1] = g
        # NOTE: as PyTorch's reentrant checkpoint, leaves ``fn`` closes over (parameters)
        # get their gradient accumulated into ``.grad`` here.
        for leaf, g in zip(closure, gs[len(targets):]):
            if g is not None:
                _accumulate(leaf, g if create else g._data, create)
        return tuple(res)


def _closure_leaves(pairs: Sequence[Any], inputs: Sequence[Tensor]) -> list[Tensor]:
    """Leaves that require grad in the recomputed graph, not reached through the block's inputs."""
    skip = {id(t) for t in inputs}
    stop = {id(t._fn) for t in inputs if t._fn is not None}
    found: dict[int, Tensor] = {}
    seen: set[int] = set()
    stack = [o._fn for o, _ in pairs if o._fn is not None and id(o._fn) not in stop]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.next:
            if type(edge) is tuple:
                if id(edge[0]) not in stop:
                    stack.append(edge[0])
            elif isinstance(edge, Tensor) and id(edge) not in skip:
                found[id(edge)] = edge
    return list(found.values())


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               **kwargs: Any) -> Any:
    """``function(*args)``, with its intermediates recomputed in backward instead of saved.

    Parameters
    ----------
    function : callable
        Must compute the same values when run again (no randomness, no in-place changes
        to its inputs).
    *args
        Tensors (gradients flow to those that require grad) and other values.

    Notes
    -----
    Gradients reach the positional tensor arguments and, as in PyTorch's reentrant
    checkpoint, the leaf tensors ``function`` closes over (accumulated into ``.grad``).
    """
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if not _state.grad_enabled:
        return function(*args)
    # NOTE: as in PyTorch's reentrant checkpoint, if no argument requires grad the block is not
    # recorded at all (so closed-over parameters get no gradient): pass one that does.
    return _Checkpoint.apply(function, *args)


def checkpoint_sequential(functions: Sequence[Callable[[Any], Any]], segments: int, input: Any,
                          use_reentrant: bool | None = None) -> Any:
    """Run ``functions`` in order, checkpointing ``segments`` groups (the last runs normally)."""
    functions = list(functions)
    size = max(1, -(-len(functions) // segments))

    def run(start: int, end: int) -> Callable[[Any], Any]:
        def block(x: Any) -> Any:
            for f in functions[start:end]:
                x = f(x)
            return x
        return block

    end = 0
    for start in range(0, len(functions) - size, size):
        end = start + size
        input = checkpoint(run(start, end), input)
    return run(end, len(functions))(input)
