"""Autocast: the thread-local state of ``torch.autocast`` regions and PyTorch's CPU cast policies.

The functions PyTorch's CPU autocast lists (``aten/src/ATen/autocast_mode.cpp``, the
``AutocastCPU`` registrations) are marked where they are defined with ``@autocast_op``; the policy
of each is looked up here by name, in ``CPU_POLICY``, the one list. While no thread is inside an
enabled autocast region the wrapper reads one list cell and calls through; inside one it casts
the function's floating-point tensor arguments (float64 excepted, as PyTorch does) and runs it with
autocast off, as PyTorch's autocast kernels run their op below the autocast dispatch key:

- ``"lower"`` (``lower_precision_fp``): to the region's dtype (``bfloat16`` or ``float16``);
- ``"fp32"``: to ``float32``;
- ``"promote"``: to float32 if an argument is float32, else to the region's dtype.

The casts are ``Tensor.to`` and so differentiable: a gradient flows back through the cast in its
parameter's dtype (an autocast ``linear``'s ``weight.grad`` is float32). A float32 leaf that
requires grad is cast once per outermost region while ``cache_enabled`` (PyTorch's cast cache).
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import Any, Callable

from gradkit._core import dtype as _dtype
from gradkit._core.tensor import Tensor

__all__ = ["autocast_op", "CPU_POLICY", "is_enabled", "set_enabled", "get_dtype", "set_dtype",
           "is_cache_enabled", "set_cache_enabled", "increment_nesting", "decrement_nesting",
           "clear_cache"]

_LOWER = ("conv1d conv2d conv3d bmm mm vecdot baddbmm addmm addbmm linear matmul conv_tbc "
          "conv_transpose1d conv_transpose2d conv_transpose3d prelu scaled_dot_product_attention")
_FP32 = ("avg_pool3d binary_cross_entropy grid_sample polar prod quantile nanquantile stft cdist "
         "trace view_as_complex cholesky cholesky_inverse cholesky_solve inverse lu_solve orgqr "
         "ormqr pinverse max_pool3d max_unpool2d max_unpool3d adaptive_avg_pool3d mse_loss "
         "cosine_embedding_loss nll_loss hinge_embedding_loss poisson_nll_loss smooth_l1_loss "
         "cross_entropy l1_loss huber_loss margin_ranking_loss soft_margin_loss "
         "triplet_margin_loss multi_margin_loss ctc_loss kl_div multilabel_margin_loss "
         "binary_cross_entropy_with_logits fft ifft fft2 ifft2 fftn ifftn rfft irfft rfft2 irfft2 "
         "rfftn irfftn hfft ihfft cond matrix_rank solve svdvals eigvals eigvalsh inv "
         "householder_product tensorinv tensorsolve geqrf lu qr svd triangular_solve "
         "fractional_max_pool2d fractional_max_pool3d adaptive_max_pool3d cholesky_ex eig eigh "
         "lstsq inv_ex")
_PROMOTE = "stack cat index_copy"

#: function name -> cast policy of PyTorch's CPU autocast (``lower``, ``fp32``, ``promote``)
CPU_POLICY: dict[str, str] = {
    **dict.fromkeys(_LOWER.split(), "lower"), **dict.fromkeys(_FP32.split(), "fp32"),
    **dict.fromkeys(_PROMOTE.split(), "promote")}

#: how many enabled autocast regions are open, over all threads: the wrappers' one check
OPEN = [0]
_open_lock = threading.Lock()


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype: dict[str, Any] = {"cpu": None, "cuda": _dtype.float16}  # None: bfloat16
        self.cache_enabled = True
        self.nesting = 0
        #: inside an autocast function: the ops it calls are not cast again
        self.inside = False
        self.cache: dict[int, tuple[Any, Any]] = {}


_state = _State()


def _count(delta: int) -> None:
    with _open_lock:
        OPEN[0] += delta


def is_enabled(device_type: str = "cuda") -> bool:
    return _state.enabled.get(device_type, False)


def set_enabled(device_type: str, enabled: bool) -> None:
    before = _state.enabled.get(device_type, False)
    _state.enabled[device_type] = bool(enabled)
    if device_type == "cpu" and before != bool(enabled):
        _count(1 if enabled else -1)


def get_dtype(device_type: str) -> Any:
    d = _state.dtype.get(device_type)
    if d is None and device_type == "cpu":
        return bfloat16()
    return d if d is not None else _dtype.float32


def _raw_dtype(device_type: str) -> Any:
    return _state.dtype.get(device_type)


def set_dtype(device_type: str, d: Any) -> None:
    _state.dtype[device_type] = d


def bfloat16() -> Any:
    """gradkit's bfloat16, or ImportError naming the extra that provides it."""
    try:
        return _dtype.load_bfloat16()
    except TypeError:
        raise ImportError("CPU autocast runs in bfloat16 by default, and "
                          + _dtype.BFLOAT16) from None


def is_cache_enabled() -> bool:
    return _state.cache_enabled


def set_cache_enabled(enabled: bool) -> None:
    _state.cache_enabled = bool(enabled)


def increment_nesting() -> int:
    _state.nesting += 1
    return _state.nesting


def decrement_nesting() -> int:
    _state.nesting -= 1
    return _state.nesting


def clear_cache() -> None:
    _state.cache.clear()


def _eligible(t: Any) -> bool:
    return (isinstance(t, Tensor) and t._data.dtype.kind in "fV"
            and t._data.dtype.itemsize != 8 and t.device.type == "cpu")


def _cast(t: Any, to: Any, s: _State) -> Any:
    if not _eligible(t) or t._data.dtype == to.np:
        return t
    if (s.cache_enabled and t._data.dtype == _dtype.float32.np and t.requires_grad
            and t.is_leaf and t._base is None):
        hit = s.cache.get(id(t))
        if hit is not None and hit[0]() is t and hit[1].dtype == to:
            return hit[1]
        out = t.to(to)
        s.cache[id(t)] = (weakref.ref(t), out)
        return out
    return t.to(to)


def _cast_all(x: Any, to: Any, s: _State) -> Any:
    if isinstance(x, (list, tuple)) and x and any(isinstance(v, Tensor) for v in x):
        return type(x)(_cast(v, to, s) for v in x)
    return _cast(x, to, s)


def _widest(args: Any, low: Any) -> Any:
    """PyTorch's ``prioritize``: float32 if any argument is, else the region's dtype (float64
    arguments are left out and not cast; another floating dtype is its error)."""
    best = low
    for a in args:
        for v in (a if isinstance(a, (list, tuple)) else (a,)):
            if not (isinstance(v, Tensor) and v._data.dtype.kind in "fV"
                    and v.device.type == "cpu"):
                continue
            d = v._data.dtype
            if d.itemsize == 8:
                continue
            if d == _dtype.float32.np or best is _dtype.float32:
                best = _dtype.float32
            elif d != low.np or best is not low:
                raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return best


def _run_cast(policy: str, fn: Callable[..., Any], args: tuple[Any, ...],
              kwargs: dict[str, Any], s: _State) -> Any:
    low = get_dtype("cpu")
    if policy == "lower":
        to = low
    elif policy == "fp32":
        to = _dtype.float32
    else:
        to = _widest(tuple(args) + tuple(kwargs.values()), low)
    args = tuple(_cast_all(a, to, s) for a in args)
    kwargs = {k: _cast_all(v, to, s) for k, v in kwargs.items()}
    s.inside = True
    try:
        return fn(*args, **kwargs)
    finally:
        s.inside = False


def autocast_op(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``fn`` as an entry of PyTorch's CPU autocast lists (its policy: ``CPU_POLICY`` by
    ``fn.__name__``). Outside an enabled region it costs one list read and a call."""
    policy = CPU_POLICY[fn.__name__]
    open_ = OPEN
    st = _state

    @functools.wraps(fn)
    def autocast_entry(*args: Any, **kwargs: Any) -> Any:
        if open_[0] and st.enabled["cpu"] and not st.inside and kwargs.get("out") is None:
            return _run_cast(policy, fn, args, kwargs, st)
        return fn(*args, **kwargs)

    return autocast_entry
