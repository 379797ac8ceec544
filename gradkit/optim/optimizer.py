"""The ``Optimizer`` base class, as in ``torch.optim.Optimizer``.

An optimizer holds ``param_groups`` (dicts of parameters and hyper-parameters)
and a per-parameter ``state``; ``step()`` runs under ``no_grad``. The update
rules work on the parameters' NumPy buffers in place and bump the version
counter, so autograd notices the change.
"""

from __future__ import annotations

import copy
import functools
from collections import OrderedDict, defaultdict
from itertools import chain
from typing import Any, Callable, Iterable

import numpy as np

from gradkit._core import backend as _backend
from gradkit._core.tensor import Tensor, _make
from gradkit._core.grad_mode import enable_grad, no_grad
from gradkit.utils.hooks import RemovableHandle

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]

#: step hooks of every optimizer (``torch.optim.optimizer``'s globals): pre-hooks run before
#: each instance's own, post-hooks after
_global_optimizer_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_optimizer_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()

_HOOK_TABLES = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks")


def _register(table: OrderedDict[int, Any], hook: Callable[..., Any],
              prepend: bool = False) -> RemovableHandle:
    handle = RemovableHandle(table)
    table[handle.id] = hook
    if prepend:
        table.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """A pre-hook of every optimizer's ``step``: ``hook(optimizer, args, kwargs)`` returns None
    or new ``(args, kwargs)``."""
    return _register(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """A post-hook of every optimizer's ``step``: ``hook(optimizer, args, kwargs)``."""
    return _register(_global_optimizer_post_hooks, hook)


class _RequiredParameter:
    """Marks a hyper-parameter without a default."""

    def __repr__(self) -> str:
        return "<required parameter>"


required: Any = _RequiredParameter()


def _touch(p: Tensor) -> None:
    """Record an in-place change of ``p`` (the version counter autograd checks)."""
    p._vc[0] += 1


def _buf(arr: np.ndarray) -> Tensor:
    """A state tensor wrapping ``arr`` (shared, not copied)."""
    return _make(arr, False, None)


def _step_tensor() -> Tensor:
    # NOTE: PyTorch keeps ``step`` as a float32 0-d tensor in the state.
    return _make(np.array(0.0, dtype=np.float32), False, None)


def _step_value(t: Tensor) -> float:
    """The Python float of a 0-d state tensor (``state["step"]``) for plain arithmetic.

    NOTE: under ``gradkit.compile`` the value stays an input of the traced program (the array
    backend's ``py_float``), so a training step with a step count compiles once.
    """
    d = t._data
    if type(d) is np.ndarray:
        return float(d)
    conv = getattr(d, "py_float", None)
    return float(d) if conv is None else conv()


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


class Optimizer:
    """Base class of all optimizers.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        The tensors to optimize, or dicts with a ``"params"`` entry and per-group options.
    defaults : dict
        Default hyper-parameters, used by groups that do not set them.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            f"or dicts, but got {type(params).__module__}.{type(params).__name__}")
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list "
                            "instead.")
        self.defaults = defaults
        self._init_hooks()
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _counted(cls.__dict__["step"])  # type: ignore[method-assign]

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_hooks()          # a copy or an unpickled optimizer starts without hooks

    def _init_hooks(self) -> None:
        for name in _HOOK_TABLES:
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs before each ``step`` (``args`` holds the
        optimizer itself first, as PyTorch); it returns None or new ``(args, kwargs)``."""
        return _register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs after each ``step``."""
        return _register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any],
                                     prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)`` runs before ``state_dict()`` builds its dict."""
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable[..., Any],
                                      prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict)`` runs on the built dict; a dict it returns replaces it."""
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any],
                                          prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict)`` runs on a shallow copy of the dict given to
        ``load_state_dict``; a dict it returns is loaded instead."""
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any],
                                           prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)`` runs after ``load_state_dict``."""
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            if i:
                lines.append("")  # PyTorch leaves a blank line between groups
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with its own options, to ``param_groups``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list "
                            "instead.")
        else:
            param_group["params"] = list(params)
        # NOTE: ``(name, tensor)`` pairs (``model.named_parameters()``) give the group its
        # ``param_names``, as PyTorch
        names = [p[0] for p in param_group["params"] if isinstance(p, tuple)]
        param_group["params"] = [p[1] if isinstance(p, tuple) else p for p in param_group["params"]]
        if names:
            if len(names) != len(param_group["params"]):
                raise ValueError("all optimizer params should be with/without names. Some param names "
                                 "are missing")
            param_group["param_names"] = names
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__module__}.{type(p).__name__}")
            if p._fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required optimization "
                                 f"parameter {name}")
            param_group.setdefault(name, default)
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (to ``None`` by default)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is not None:
                    if set_to_none:
                        p._grad = None
                    else:
                        p._grad._fn = None
                        p._grad._data[...] = 0
                        _touch(p._grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; ``closure`` re-evaluates the loss when given."""
        raise NotImplementedError

    def _closure_loss(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The state and options as a dict, parameters replaced by their indices (as PyTorch)."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        mapping: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                mapping.setdefault(id(p), len(mapping))
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {mapping[id(k)] if isinstance(k, Tensor) else k: v for k, v in self.state.items()}
        out = {"state": state, "param_groups": groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, out)
            if result is not None:
                out = result
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict` (deep-copied; tensors cast to each parameter's dtype)."""
        state_dict = state_dict.copy()          # shallow, as PyTorch: what the hooks get
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size "
                             "of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, copy.deepcopy(v))
            else:
                state[k] = copy.deepcopy(v)
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)


def _cast(param: Tensor, value: Any, key: Any = None) -> Any:
    if isinstance(value, Tensor):
        # NOTE: as PyTorch, ``step`` keeps its own dtype; other floating state follows the param.
        if key != "step" and value.is_floating_point() and param.is_floating_point():
            return _make(value._data.astype(param._data.dtype, copy=False), False, None)
        return value
    if isinstance(value, np.ndarray) and key != "step" and value.dtype.kind in "fV":
        return value.astype(param._data.dtype, copy=False)
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    return value


def _counted(step: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``step`` under ``no_grad`` and count the calls (schedulers read ``_step_count``)."""
    @functools.wraps(step)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        self = args[0]
        # NOTE: the hooks see ``args`` with the optimizer first and may replace args and kwargs
        # (PyTorch's ``profile_hook_step``); they run in the caller's grad mode
        for pre_hook in chain(_global_optimizer_pre_hooks.values(),
                              self.__dict__.get("_optimizer_step_pre_hooks", {}).values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {result}.")
        self._step_count = getattr(self, "_step_count", 0) + 1
        with no_grad():
            out = step(*args, **kwargs)
        for post_hook in chain(self.__dict__.get("_optimizer_step_post_hooks", {}).values(),
                               _global_optimizer_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out
    wrapper._wrapped_by_counter = True  # type: ignore[attr-defined]
    return wrapper


def _grads(group: dict[str, Any]) -> list[tuple[Tensor, np.ndarray]]:
    """``(param, grad array)`` for the params of ``group`` that have a gradient.

    Lazy (Dask-backed) gradients, from data held in Dask arrays, are computed here, all of
    the group's in one pass, and stored back in ``.grad``: a step needs their values.
    """
    params = [p for p in group["params"] if p._grad is not None]
    lazy = [p for p in params if _backend.is_lazy(p._grad._data)]
    if lazy:
        values = _backend.backend_of(lazy[0]._grad._data).compute([p._grad._data for p in lazy])
        for p, v in zip(lazy, values):
            p._grad = _make(_backend.move(v, _backend.placement_of(p._data)), False, None)
    return [(p, p._grad._data) for p in params]


# --- PyTorch's fused arithmetic (Muon, Adafactor) ---------------------------------------------
def _fma(a: Any, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``a * b + c`` rounded once to ``c``'s dtype, as PyTorch's vectorized CPU kernels (fmadd)
    compute lerp and ``add(alpha=)``: the float32 product is exact in float64."""
    if c.dtype != np.float32:
        return a * b + c
    return (np.float64(a) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float32)


def _lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """PyTorch's lerp: ``fma(w, end - start, start)`` for ``|w| < 0.5``, else
    ``fma(w - 1, end - start, end)`` (each form exact at its own end)."""
    w = start.dtype.type(weight)
    if abs(w) < 0.5:
        return _fma(w, end - start, start)
    return _fma(w - start.dtype.type(1), end - start, end)


# --- shared by the Adam family (NAdam, RAdam, Adamax) and ASGD ---------------------------------
def _scalar(value: float) -> Any:
    """A 0-d float32 state tensor (PyTorch keeps ``mu_product``, ``eta``, ``mu`` so)."""
    return _buf(np.array(value, dtype=np.float32))


def _check_adam_like(lr: float, eps: float, betas: tuple[float, float], weight_decay: float) -> None:
    _check(0.0 <= lr, f"Invalid learning rate: {lr}")
    _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
    _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
    _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
    _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")


def _moments(state: dict[str, Any], x: np.ndarray) -> None:
    state["step"] = _step_tensor()
    state["exp_avg"] = _buf(np.zeros_like(x))
    state["exp_avg_sq"] = _buf(np.zeros_like(x))
