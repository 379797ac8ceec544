"""Gradient clipping, flat-vector views of parameters, ``skip_init`` and the hook-based
``weight_norm`` and ``spectral_norm`` (``torch.nn.utils``).

PyTorch's submodule paths are here too: ``nn.utils.clip_grad``, ``nn.utils.convert_parameters``,
``nn.utils.fusion`` (``fuse_conv_bn_eval``, ...) and ``nn.utils.stateless`` (``functional_call``).
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from gradkit._core.tensor import Tensor, _make

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "get_total_norm",
    "parameters_to_vector",
    "skip_init",
    "vector_to_parameters",
    "weight_norm",
    "remove_weight_norm",
    "clip_grad_norm",
    "clip_grads_with_norm_",
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
    "convert_conv2d_weight_memory_format",
    "convert_conv3d_weight_memory_format",
    "spectral_norm",
    "remove_spectral_norm",
]


def _list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def get_total_norm(
    tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> Tensor:
    """The ``norm_type`` norm of all ``tensors`` taken together (as one vector)."""
    arrays = [t._data for t in _list(tensors)]
    if not arrays:
        return _make(np.array(0.0, dtype=np.float32), False, None)
    norm_type = float(norm_type)
    if norm_type == float("inf"):
        total = max(float(np.abs(a).max()) if a.size else 0.0 for a in arrays)
    else:
        norms = np.array([np.linalg.norm(a.ravel(), ord=norm_type) for a in arrays])
        total = float(np.linalg.norm(norms, ord=norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return _make(np.array(total, dtype=arrays[0].dtype), False, None)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: Any = None,
) -> Tensor:
    """Scale the gradients in place so their total norm is at most ``max_norm``.

    Returns the total norm before clipping. As PyTorch, the factor is
    ``min(1, max_norm / (total_norm + 1e-6))``.

    Examples
    --------
    >>> import gradkit as gk
    >>> w = gk.tensor([3.0, 4.0], requires_grad=True)
    >>> w.grad = gk.tensor([3.0, 4.0])
    >>> clip_grad_norm_([w], 1.0)
    tensor(5.)
    >>> w.grad
    tensor([0.6000, 0.8000])
    """
    grads = [p._grad for p in _list(parameters) if p._grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    coef = min(float(max_norm) / (float(total._data) + 1e-6), 1.0)
    for g in grads:
        g._data *= g._data.dtype.type(coef)
        g._vc[0] += 1
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` in place."""
    for p in _list(parameters):
        if p._grad is not None:
            np.clip(p._grad._data, -clip_value, clip_value, out=p._grad._data)
            p._grad._vc[0] += 1


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one vector (differentiable)."""
    from gradkit import _api as A

    return A.cat([A.reshape(p, (-1,)) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into ``parameters`` (in place)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    offset = 0
    data = vec._data.reshape(-1)
    for p in parameters:
        n = p._data.size
        p._data[...] = data[offset : offset + n].reshape(p._data.shape)
        p._vc[0] += 1
        offset += n


def skip_init(module_cls: Any, *args: Any, **kwargs: Any) -> Any:
    """Build ``module_cls(*args, **kwargs)`` whose parameters are left for the caller to set.

    As ``torch.nn.utils.skip_init``: the class must take a ``device`` argument, and the values
    of its parameters and buffers are unspecified (here: the default initialization's, drawn
    without advancing the default generator, so the draws after it match PyTorch's, which
    skips them).
    """
    import inspect

    from gradkit._core import creation
    from gradkit.nn.modules import Module

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    state = creation.get_rng_state()
    try:
        return module_cls(*args, **kwargs)
    finally:
        creation.set_rng_state(state)


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dimension but ``dim``, kept for broadcasting (over all of
    ``v`` when ``dim`` is -1, as PyTorch's ``norm_except_dim``)."""
    if dim == -1:
        return (v * v).sum().sqrt()
    axes = tuple(i for i in range(v.ndim) if i != dim)
    return (v * v).sum(axes, keepdim=True).sqrt() if axes else (v * v).sqrt()


class _WeightNorm:
    """The forward pre-hook of :func:`weight_norm`: ``name = name_v * name_g / ||name_v||``."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module: Any) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module: Any, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Any, name: str = "weight", dim: int | None = 0) -> Any:
    """Split ``module.<name>`` into a magnitude ``<name>_g`` and a direction ``<name>_v``
    (both parameters), recomputing ``<name>`` before each forward (the older, hook-based form
    of ``torch.nn.utils.weight_norm``)."""
    import warnings

    from gradkit.nn.parameter import Parameter, UninitializedParameter
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _WeightNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    fn = _WeightNorm(name, -1 if dim is None else dim)
    weight = getattr(module, name)
    if isinstance(weight, UninitializedParameter):
        raise ValueError("The module passed to `WeightNorm` can't have uninitialized parameters. "
                         "Make sure to run the dummy forward before applying weight normalization")
    del module._parameters[name]
    w = weight.detach()
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(w, fn.dim)))
    module.register_parameter(name + "_v", Parameter(w.clone()))
    setattr(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module: Any, name: str = "weight") -> Any:
    """Undo :func:`weight_norm`: ``<name>`` becomes a parameter again, with its current value."""
    from gradkit.nn.parameter import Parameter
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _WeightNorm) and hook.name == name:
            weight = hook.compute_weight(module).detach()
            del module._forward_pre_hooks[key]
            del module._parameters[name + "_g"]
            del module._parameters[name + "_v"]
            if name in module.__dict__:
                del module.__dict__[name]
            module.register_parameter(name, Parameter(weight))
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm: Any, foreach: Any = None) -> None:
    """Scale the gradients in place by ``min(1, max_norm / (total_norm + 1e-6))``, with a
    ``total_norm`` computed beforehand (``get_total_norm``); ``clip_grad_norm_`` is the two."""
    grads = [p._grad for p in _list(parameters) if p._grad is not None]
    if not grads:
        return
    total = float(total_norm._data if isinstance(total_norm, Tensor) else total_norm)
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    for g in grads:
        g._data *= g._data.dtype.type(coef)
        g._vc[0] += 1


def clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Deprecated spelling of ``clip_grad_norm_`` (PyTorch warns the same)."""
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,  # noqa: E402
                     fuse_linear_bn_weights)
from .memory_format import (convert_conv2d_weight_memory_format,  # noqa: E402
                            convert_conv3d_weight_memory_format)
from . import clip_grad, convert_parameters, fusion, memory_format, stateless  # noqa: E402,F401
class SpectralNorm:
    """The forward pre-hook of :func:`spectral_norm`: before each forward, ``<name>`` becomes
    ``<name>_orig / sigma``, with ``sigma`` estimated from the buffers ``<name>_u`` and
    ``<name>_v`` (refined in place by power iteration while the module is training)."""

    _version = 1

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.dim = name, dim
        self.n_power_iterations, self.eps = n_power_iterations, eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """``weight`` as a matrix with dimension ``dim`` as its rows."""
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Any, do_power_iteration: bool) -> Tensor:
        from gradkit import dot, mv, no_grad
        from gradkit.nn.functional import normalize
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            # NOTE: the buffers are updated in place (the state dict holds them), outside the
            # graph; sigma's gradient then treats u and v as constants, as PyTorch's does
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(normalize(mv(mat.t(), u), dim=0, eps=self.eps))
                    u.copy_(normalize(mv(mat, v), dim=0, eps=self.eps))
                u, v = u.clone(), v.clone()
        sigma = dot(u, mv(mat, v))
        return weight / sigma

    def remove(self, module: Any) -> None:
        from gradkit import no_grad
        from gradkit.nn.parameter import Parameter
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Any, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module: Any, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        from gradkit import no_grad, randn
        from gradkit.nn.functional import normalize
        from gradkit.nn.parameter import UninitializedParameter
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `SpectralNorm` can't have uninitialized "
                             "parameters. Make sure to run the dummy forward before applying "
                             "spectral normalization")
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            # random unit starting vectors, as PyTorch draws them (standard normal, normalized)
            u = normalize(randn(h, dtype=weight.dtype, device=weight.device), dim=0, eps=eps)
            v = normalize(randn(w, dtype=weight.dtype, device=weight.device), dim=0, eps=eps)
        del module._parameters[name]
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())     # PyTorch's ``weight.data`` until the first forward
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module: Any, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Any:
    """Spectral normalization through a forward pre-hook (the older form of
    ``torch.nn.utils.parametrizations.spectral_norm``): ``module.<name>`` is recomputed before
    each forward as ``<name>_orig / sigma``, ``sigma`` the largest singular value of the weight
    (as a matrix with ``dim`` as rows; ``dim`` defaults to 1 for transposed convolutions, else
    0) estimated by ``n_power_iterations`` steps of power iteration per training forward. The
    state dict holds ``<name>_orig``, ``<name>_u`` and ``<name>_v``, as PyTorch's.
    """
    if dim is None:
        from gradkit.nn.modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Any, name: str = "weight") -> Any:
    """Undo :func:`spectral_norm`: ``<name>`` becomes a parameter again, holding the normalized
    weight computed from the current ``u`` and ``v`` (no power iteration)."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
