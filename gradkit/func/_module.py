"""``functional_call`` and ``stack_module_state`` of gradkit.func (``torch.func``'s names).

Part of ``gradkit.func`` (see its docstring). A module's parameters and buffers are swapped
for given tensors while it runs, so the function transforms can differentiate and batch
over them (per-sample gradients, model ensembles).
"""

from __future__ import annotations

from typing import Any, Sequence

from gradkit._core.tensor import Tensor

__all__ = ["functional_call", "stack_module_state", "replace_all_batch_norm_modules_"]

_MISSING = object()


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None,
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """Run ``module(*args, **kwargs)`` with its parameters and buffers replaced by the given ones.

    Parameters
    ----------
    module : gradkit.nn.Module
    parameter_and_buffer_dicts : dict or tuple of dicts
        Dotted names (as ``named_parameters``/``named_buffers``) to tensors; several dicts
        must not share a key. Names the module lacks are set as plain attributes while it
        runs (refused with ``strict``).
    args : tuple or a single argument
        Positional arguments of the module (a non-tuple is one argument).
    kwargs : dict, optional
    tie_weights : bool
        One tensor known under several names (tied weights) is replaced under all of them
        when one name is given; giving different tensors for tied names is an error.
        ``False`` replaces each name separately.
    strict : bool
        Every parameter and buffer must be given, and nothing else.

    Returns
    -------
    The module's output. The module is left as it was, also when it raises.

    Notes
    -----
    As ``torch.func.functional_call``. gradkit has no ``'meta'`` device, so the
    model-ensembling recipe's ``copy.deepcopy(model).to('meta')`` raises; use
    ``copy.deepcopy(model)`` (its own tensors are not read where the dict replaces them).
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        values = dict(parameter_and_buffer_dicts)
    elif isinstance(parameter_and_buffer_dicts, (tuple, list)):
        values = {}
        for d in parameter_and_buffer_dicts:
            if not isinstance(d, dict):
                raise ValueError(f"Expected all elements of parameter_and_buffer_dicts to be "
                                 f"dictionaries, got {type(d).__name__}")
        counts: dict[str, int] = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, c in counts.items() if c > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional "
                             "call is ambiguous")
        for d in parameter_and_buffer_dicts:
            values.update(d)
    else:
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(parameter_and_buffer_dicts)}")
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    kwargs = {} if kwargs is None else kwargs
    names = _all_names(module)
    if tie_weights:
        values = _tied(names, values)
    if strict:
        _check_strict(module, names, values)
    swap = _Swapped(module, values)
    try:
        with swap:
            return module(*args, **kwargs)
    finally:
        if isinstance(parameter_and_buffer_dicts, dict):
            # NOTE: as PyTorch: what the module reassigned while it ran (``self.foo = self.foo + 1``)
            # is written back to the one dict given (not to a tuple's dicts)
            parameter_and_buffer_dicts.update({k: v for k, v in swap.after.items()
                                               if k in parameter_and_buffer_dicts})


def _all_names(module: Any) -> dict[str, Any]:
    """Every parameter and buffer name (tied ones under each of their names) -> its tensor."""
    out = dict(module.named_parameters(remove_duplicate=False))
    out.update(module.named_buffers(remove_duplicate=False))
    return out


def _tied(names: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    groups: dict[int, list[str]] = {}
    for name, t in names.items():
        groups.setdefault(id(t), []).append(name)
    values = dict(values)
    for group in groups.values():
        if len(group) < 2:
            continue
        given = [n for n in group if n in values]
        if not given:
            continue
        if len({id(values[n]) for n in given}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(given)}, which "
                             "are tied. Consider using tie_weights=False")
        for n in group:
            values[n] = values[given[0]]
    return values


def _check_strict(module: Any, names: dict[str, Any], values: dict[str, Any]) -> None:
    missing = [n for n in names if n not in values]
    unexpected = [n for n in values if n not in names]
    msgs = []
    if unexpected:
        msgs.append("Unexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected) + ".")
    if missing:
        msgs.append("Missing key(s): " + ", ".join(f"'{k}'" for k in missing) + ".")
    if msgs:
        raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                           + "\n\t".join(msgs))


class _Swapped:
    """Parameters, buffers (or plain attributes) replaced while the block runs, then restored."""

    def __init__(self, module: Any, values: dict[str, Any]) -> None:
        self.module = module
        self.values = values
        self.undo: list[tuple[Any, str, str, Any]] = []
        self.after: dict[str, Any] = {}   # name -> what it held when the block ended

    def __enter__(self) -> None:
        try:
            for name, value in self.values.items():
                path, _, attr = name.rpartition(".")
                mod = self.module.get_submodule(path)
                for table in ("_parameters", "_buffers"):
                    d = mod.__dict__[table]
                    if attr in d:
                        self.undo.append((d, attr, name, d[attr]))
                        d[attr] = value
                        break
                else:
                    d = mod.__dict__
                    self.undo.append((d, attr, name, d.get(attr, _MISSING)))
                    d[attr] = value
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc: Any) -> None:
        for d, attr, name, _ in self.undo:
            if attr in d:
                self.after[name] = d[attr]
        for d, attr, _, old in reversed(self.undo):
            if old is _MISSING:
                d.pop(attr, None)
            else:
                d[attr] = old
        self.undo.clear()


def stack_module_state(models: Sequence[Any]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """``(params, buffers)``: each model's parameters and buffers stacked along a new axis 0.

    For ``vmap`` over an ensemble of models of one class (``torch.func.stack_module_state``):
    the stacked parameters are new leaves that require grad where the models' do; buffers
    do not.
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    kind = type(models[0])
    if any(type(m) is not kind for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    params = {name: _stack_leaf([dict(m.named_parameters())[name] for m in models], name)
              for name, _ in models[0].named_parameters()}
    buffers = {name: _stack_leaf([dict(m.named_buffers())[name] for m in models], name)
               for name, _ in models[0].named_buffers()}
    return params, buffers


def _stack_leaf(tensors: list[Tensor], name: str) -> Tensor:
    from gradkit._api import stack
    flags = {t.requires_grad for t in tensors}
    if len(flags) > 1:
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    out = stack([t.detach() for t in tensors])
    return out.requires_grad_() if flags == {True} else out


def _is_batch_norm(module: Any) -> bool:
    """A BatchNorm{1,2,3}d (or subclass), not an InstanceNorm (which shares its base here, not in
    PyTorch); told by class name because gradkit.nn imports gradkit.func, not the other way."""
    names = {(c.__module__, c.__name__) for c in type(module).__mro__}
    home = "gradkit.nn.modules.normalization"
    return (home, "_BatchNorm") in names and (home, "_InstanceNorm") not in names


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """Make every BatchNorm in ``root`` (itself included) use batch statistics only: its
    ``running_mean``, ``running_var`` and ``num_batches_tracked`` become None and
    ``track_running_stats`` False (``torch.func.replace_all_batch_norm_modules_``), so ``vmap``
    over it writes no shared buffer. Returns ``root``, changed in place."""
    for module in root.modules():
        if _is_batch_norm(module) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
