"""PyTorch's ``torch.autograd.functional``: jacobian, hessian, vjp, jvp, hvp, vhp.

Same signatures, result structures and (``strict``) errors as PyTorch. A tuple of
inputs or outputs gives tuples of results: ``jacobian`` returns ``J[i][j]`` of shape
``outputs[i].shape + inputs[j].shape``. Jacobians take one forward pass; their rows
come from one batched backward walk (``vectorize`` or not: the results are the same),
or, with ``create_graph=True``, from one differentiable backward per row on that graph.

Examples
--------
>>> import gradkit as gk
>>> from gradkit.autograd.functional import jacobian
>>> jacobian(lambda x: x ** 2, gk.tensor([1.0, 2.0]))
tensor([[2., 0.],
        [0., 4.]])
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from gradkit._core.backend import as_data, contiguous, move, placement_of, zeros
from gradkit._core.tensor import Tensor, _make
from . import grad as _grad
from ._batched import ForwardMode, _stack, batched_vjp, check_plain
from gradkit._core.concrete import differentiating
from gradkit._core.grad_mode import _normal_mode, _state, set_grad_enabled
from gradkit._core.creation import zeros_like

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(inp: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple[Any, ...]]:
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    check_plain(*items)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but the {where} has type {type(el)}.")
    return is_tuple, items


def _unpack(res: Any, to_unpack: Any) -> Any:
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _preprocess(inputs: tuple[Tensor, ...], create_graph: bool, need_graph: bool) -> tuple[Tensor, ...]:
    return tuple(inp.view_as(inp) if create_graph and inp.requires_grad
                 else inp.detach().requires_grad_(need_graph) for inp in inputs)


def _postprocess(inputs: Any, create_graph: bool) -> Any:
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v: tuple[Tensor, ...], other: tuple[Tensor, ...], is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but got "
                               f"{el_v.size()}.")


_STRICT = {
    "hessian": ("The hessian of the user-provided function with respect to input {i} is independent "
                "of the input. This is not allowed in strict mode. You should ensure that your "
                "function is thrice differentiable and that the hessian depends on the inputs."),
    "jacobian": ("While computing the hessian, found that the jacobian of the user-provided function "
                 "with respect to input {i} is independent of the input. This is not allowed in "
                 "strict mode. You should ensure that your function is twice differentiable and "
                 "that the jacobian depends on the inputs (this would be violated by a linear "
                 "function for example)."),
    "grad_inputs": ("The gradient with respect to input {i} is independent of the inputs of the "
                    "user-provided function. This is not allowed in strict mode."),
    "outputs": ("Output {i} of the user-provided function does not require gradients. The outputs "
                "must be computed in a differentiable manner from the input when running in "
                "strict mode."),
}


def _check_requires_grad(inputs: Any, input_type: str, strict: bool) -> None:
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input "
                               f"{i}. This is not allowed in strict mode.")
        if not inp.requires_grad:
            raise RuntimeError(_STRICT[input_type].format(i=i))


def _autograd_grad(outputs: tuple[Any, ...], inputs: tuple[Tensor, ...], grad_outputs: Any = None,
                   create_graph: bool = False, retain_graph: bool | None = None) -> tuple[Any, ...]:
    grad_outputs = (None,) * len(outputs) if grad_outputs is None else grad_outputs
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], inputs, [g for _, g in pairs], allow_unused=True,
                 create_graph=create_graph, retain_graph=retain_graph)


_FILL = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This "
                   "is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it prevents "
                         "from using the double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads: Any, refs: Any, strict: bool, create_graph: bool, stage: str) -> tuple[Any, ...]:
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_FILL[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input "
                               f"{i}. This is not allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def _prepare_v(v: Any, other: tuple[Tensor, ...], is_other_tuple: bool, name: str,
               create_graph: bool, none_msg: str, single: bool) -> Any:
    if v is not None:
        _, v = _as_tuple(v, "v", name)
        v = _preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, other, is_other_tuple)
    elif not single:
        raise RuntimeError(none_msg)
    return v


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T J)``; ``v`` may be omitted for a one-element output."""
    with _normal_mode(), differentiating("gradkit.autograd.functional.vjp") as _dx:
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        _dx.primals = inputs
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, "vjp", create_graph,
                       "The vector v can only be None if the user-provided function returns a "
                       "single Tensor with a single element.",
                       len(outputs) == 1 and outputs[0].nelement() == 1)
    with set_grad_enabled(True if create_graph else _state.grad_enabled):
        res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(res, inputs, strict, create_graph, "back")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), J v)``; ``v`` may be omitted for a one-element input.

    Uses ``gradkit.autograd.forward_ad`` when available, else the exact double-backward trick.
    """
    with _normal_mode(), differentiating("gradkit.autograd.functional.jvp") as _dx:
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        _dx.primals = inputs
        v = _prepare_v(v, inputs, is_inputs_tuple, "jvp", create_graph,
                       "The vector v can only be None if the input to the user-provided function "
                       "is a single Tensor with a single element.",
                       len(inputs) == 1 and inputs[0].nelement() == 1)
        if v is None:
            from gradkit._core.creation import ones_like
            v = (ones_like(inputs[0]),)
        fm = ForwardMode(func, inputs, create=create_graph)
        is_outputs_tuple, outputs = _as_tuple(fm.raw, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        fm.set_outputs(outputs)
        if strict:
            _, gs = fm._transpose()
            _check_requires_grad(gs, "grad_inputs", strict)
        # NOTE: a differentiable product by the double-VJP trick, as PyTorch computes it (its
        # nodes are PyTorch's: ``SqueezeBackward1`` over ``SumBackward1`` for a sum's)
        back = fm.back_trick(v) if create_graph else None
        res = [r[None] for r in back] if back is not None else \
            fm.apply([t.reshape((1,) + tuple(t.shape)) for t in v])
        if strict and create_graph:
            for i, r in enumerate(res):
                if not r.requires_grad:
                    raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                       f"of input {i}. This is not allowed in strict mode when "
                                       "create_graph=True.")
    res = tuple((back[i] if back is not None else r[0]) if create_graph
                else _make(_contiguous(r[0]), False, None) for i, r in enumerate(res))
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_outputs_tuple))


def _contiguous(v: Any) -> np.ndarray:
    """A C-contiguous array of ``v``'s shape (``np.ascontiguousarray`` makes 0-d arrays 1-d)."""
    return contiguous(as_data(v))


def _rows(outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...], create_graph: bool,
          strict: bool) -> list[list[Any]]:
    """``J[i][j]`` flattened to ``(outputs[i].numel(), *inputs[j].shape)``."""
    numels = [o.numel() for o in outputs]
    if not create_graph and not strict:
        live = [k for k, o in enumerate(outputs) if o.requires_grad]
        seeds = [_basis(numels, k, outputs[k]) for k in live]
        res = batched_vjp([outputs[k] for k in live], seeds, inputs) if live else [None] * len(inputs)
        total = sum(numels)
        full = [zeros((total,) + tuple(inp.shape), inp._data.dtype, inp._data) if r is None else r
                for r, inp in zip(res, inputs)]
        offs = np.cumsum([0] + numels)
        return [[_make(contiguous(f[offs[i]:offs[i + 1]]), False, None) for f in full]
                for i in range(len(outputs))]
    jac = []
    for i, out in enumerate(outputs):
        cols: list[list[Any]] = [[] for _ in inputs]
        flat = out.reshape(-1) if out.nelement() > 1 else None
        for j in range(out.nelement()):
            # NOTE: a one-element output is differentiated as is (no index or stack node).
            root = out if flat is None else flat[j]
            vj = _autograd_grad((root,), inputs, retain_graph=True, create_graph=create_graph)
            for el, (col, g, inp) in enumerate(zip(cols, vj, inputs)):
                if g is None:
                    if strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is independent "
                                           f"of input {el}. This is not allowed in strict mode.")
                    g = zeros_like(inp)
                elif strict and create_graph and not g.requires_grad:
                    raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                       f"of input {i}. This is not allowed in strict mode when "
                                       "create_graph=True.")
                col.append(g)
        jac.append([(c[0].reshape((1,) + tuple(inp.shape)) if len(c) == 1 else _stack(c)) if c
                    else zeros_like(inp).reshape((0,) + tuple(inp.shape))
                    for c, inp in zip(cols, inputs)])
    return jac


def _basis(numels: list[int], k: int, out: Tensor) -> np.ndarray:
    """Rows of the identity for output ``k`` among all outputs, shaped ``(total, *out.shape)``."""
    total, start = sum(numels), sum(numels[:k])
    seed = np.zeros((total, numels[k]), dtype=out._data.dtype)
    seed[np.arange(start, start + numels[k]), np.arange(numels[k])] = 1
    seed = move(seed, placement_of(out._data))        # a GPU output gets its seed on the GPU
    return seed.reshape((total,) + tuple(out.shape))


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: ``J[i][j]`` has shape ``out_i.shape + in_j.shape``."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: '
                             'If your function has more outputs than inputs, "forward-mode" tends to '
                             'be more performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        return _jacfwd(func, inputs, strict, vectorize)
    with _normal_mode(), differentiating("gradkit.autograd.functional.jacobian") as _dx:
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        _dx.primals = inputs
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                               "`vectorized=True` are not supported together. Please either set "
                               "`strict=False` or `vectorize=False`.")
        rows = _rows(outputs, inputs, create_graph, strict)
        jac = tuple(tuple(r.reshape(tuple(out.shape) + tuple(inp.shape)) for r, inp in zip(row, inputs))
                    for row, out in zip(rows, outputs))
        return _unpack(_postprocess(jac, create_graph), (is_outputs_tuple, is_inputs_tuple))


def _jacfwd(func: Callable[..., Any], inputs: Any, strict: bool, vectorize: bool) -> Any:
    if strict:
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and '
                           '`strategy="forward-mode"` are not supported together (yet). Please '
                           'either set `strict=False` or `strategy="reverse-mode"`.')
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                  "Hessian isonly implemented for `vectorize=True`.")
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    with _normal_mode(), differentiating("gradkit.autograd.functional.jacobian") as _dx:
        inputs = _preprocess(inputs, False, need_graph=True)
        _dx.primals = inputs
        fm = ForwardMode(func, inputs, create=False)
        is_outputs_tuple, outputs = _as_tuple(fm.raw, "outputs", "jacobian")
        fm.set_outputs(outputs)
        numels = [inp.numel() for inp in inputs]
        tangents = [_basis(numels, k, inp) for k, inp in enumerate(inputs)]
        cols = fm.apply(tangents)                 # each (total_in, *out.shape)
    offs = np.cumsum([0] + numels)
    jac = []
    for col, out in zip(cols, outputs):
        col = as_data(col)
        row = []
        for j, inp in enumerate(inputs):
            part = np.moveaxis(col[offs[j]:offs[j + 1]], 0, -1)
            row.append(_make(_contiguous(part.reshape(tuple(out.shape) + tuple(inp.shape))),
                             False, None))
        jac.append(row)
    # NOTE: lists, not tuples, where the structure is kept (as PyTorch's forward-mode jacobian)
    return _unpack(jac, (is_outputs_tuple, is_inputs_tuple))


def _single_output(func: Callable[..., Any], name: str, strict: bool) -> Callable[..., Any]:
    def wrapped(*inp: Any) -> Tensor:
        out = func(*inp)
        is_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", name)
        _check_requires_grad(t_out, "outputs", strict)
        if is_tuple or not isinstance(out, Tensor):
            raise RuntimeError(f"The function given to {name} should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {name} should contain "
                               "a single element")
        return out.squeeze()
    return wrapped


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar ``func``: ``H[i][j]`` has shape ``in_i.shape + in_j.shape``.

    One forward, one differentiable backward, then one batched backward over the gradient's
    graph (the Jacobian of the gradient), whatever ``vectorize`` says.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    single = _single_output(func, "hessian", strict)

    def jac_func(*inp: Any) -> Any:
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(single, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    with differentiating("gradkit.autograd.functional.hessian"):
        res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                       vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(res, (is_inputs_tuple, is_inputs_tuple))


def _hessian_products(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool,
                      strict: bool, name: str) -> tuple[Any, ...]:
    with _normal_mode(), differentiating("gradkit.autograd.functional." + name) as _dx:
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        _dx.primals = inputs
        v = _prepare_v(v, inputs, is_inputs_tuple, name, create_graph,
                       "The vector v can only be None if the input to the user-provided function "
                       "is a single Tensor with a single element.",
                       len(inputs) == 1 and inputs[0].nelement() == 1)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
        _check_requires_grad(outputs, "outputs", strict)
        if is_outputs_tuple or not isinstance(outputs[0], Tensor):
            raise RuntimeError(f"The function given to {name} should return a single Tensor")
        if outputs[0].nelement() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {name} should contain "
                               "a single element")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(True if create_graph else _state.grad_enabled):
        # NOTE: H is symmetric for twice continuously differentiable functions, so H v (hvp)
        # and v^T H (vhp) are the same reverse-over-reverse product.
        res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(res, inputs, strict, create_graph, "double_back")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), v^T H)`` for a scalar ``func``."""
    return _hessian_products(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(*inputs), H v)`` for a scalar ``func``."""
    return _hessian_products(func, inputs, v, create_graph, strict, "hvp")
