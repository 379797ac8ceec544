"""Grad modes: thread-local switches for recording the graph.

Each mode works as a context manager and as a decorator; ``set_grad_enabled``
also switches on construction, so a plain call works (as in PyTorch).
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "set_detect_anomaly", "detect_anomaly",
           "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "set_subgradient_convention",
           "get_subgradient_convention", "set_complex_convention", "get_complex_convention",
           "set_multithreading_enabled", "is_multithreading_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    #: NumPy functions without a rule get finite-difference gradients (numerical_fallback)
    numerical_fallback = False
    #: the rules at kinks: "torch" (default), "jax" or "min_norm" (set_subgradient_convention)
    subgradient = "torch"
    #: gradients of complex values: "torch" (default) or "jax" (set_complex_convention)
    complex_conj = False
    #: operations are recorded (PyTorch's grad mode, and never inside inference mode)
    grad_enabled = True
    inference = False
    #: grad mode as ``is_grad_enabled()`` reports it inside inference mode, where
    #: ``grad_enabled`` stays False (PyTorch records nothing there, even under ``enable_grad``)
    inference_grad = False
    anomaly = False
    anomaly_check_nan = True
    #: record source locations for diagnostics (gradkit.autograd.set_record_locations)
    record_sites = True
    #: weak references to the roots of the last backward (for ``Tensor.grad_explain``)
    last_roots: Any = None
    #: this thread's forward hook (vmap batching, dual tangents); see ``_thread_state``
    fw_hook: Any = None
    fw_token: Any = None
    #: ``saved_tensors_hooks`` entered in this thread, innermost last: ``(pack, unpack)`` pairs
    saved_hooks: tuple[Any, ...] = ()
    #: the message of an entered ``disable_saved_tensors_hooks`` (None: hooks allowed)
    saved_hooks_off: str | None = None


_state = _State()


def is_grad_enabled() -> bool:
    """Whether grad mode is on in this thread (inside ``inference_mode`` nothing is recorded
    even when it is, as in PyTorch)."""
    return _state.grad_enabled or _state.inference_grad


def is_inference_mode_enabled() -> bool:
    """Whether this thread is inside ``inference_mode()`` (and not in a nested
    ``inference_mode(False)``)."""
    return _state.inference


def _set_grad(mode: bool) -> None:
    """Switch grad mode; inside inference mode only the reported mode changes."""
    if _state.inference:
        _state.inference_grad = mode
    else:
        _state.grad_enabled = mode


#: called with True while some thread is inside ``inference_mode()``, False when none is:
#: tensor creation checks one module flag instead of this thread's state (the hot path)
_inference_watchers: list[Callable[[bool], None]] = []
_inference_count = [0]
_inference_lock = threading.Lock()


def _count_inference(delta: int) -> None:
    with _inference_lock:
        before = _inference_count[0]
        _inference_count[0] = after = before + delta
        if (before == 0) != (after == 0):
            for watch in _inference_watchers:
                watch(after != 0)


class _GradMode:
    """Base of the grad-mode context managers: also usable as a decorator."""

    def clone(self) -> _GradMode:
        return self.__class__()

    def __call__(self, fn: F) -> F:
        if isinstance(fn, type):
            raise TypeError(f"{type(self).__name__} cannot decorate a class; decorate its methods")
        if getattr(getattr(fn, "__code__", None), "co_flags", 0) & 0x20:   # a generator
            @functools.wraps(fn)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
                gen = fn(*args, **kwargs)
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    try:
                        with self.clone():
                            response = gen.send(request)
                    except StopIteration as stop:
                        return stop.value
            return gen_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]

    def __enter__(self) -> None:
        raise NotImplementedError

    def __exit__(self, *exc: object) -> None:
        raise NotImplementedError


class no_grad(_GradMode):
    """Context manager and decorator that disables graph recording.

    Examples
    --------
    >>> x = gk.tensor(3.0, requires_grad=True)
    >>> with gk.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __init__(self, orig_func: Callable[..., Any] | None = None) -> None:
        self.prev = True

    def __new__(cls, orig_func: Callable[..., Any] | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __enter__(self) -> None:
        self.prev = (_state.grad_enabled, _state.inference_grad)
        _set_grad(False)

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled, _state.inference_grad = self.prev


class enable_grad(_GradMode):
    """Context manager and decorator that enables graph recording (inside ``no_grad``)."""

    def __new__(cls, orig_func: Callable[..., Any] | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __init__(self, orig_func: Callable[..., Any] | None = None) -> None:
        self.prev = True

    def __enter__(self) -> None:
        self.prev = (_state.grad_enabled, _state.inference_grad)
        _set_grad(True)

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled, _state.inference_grad = self.prev


class set_grad_enabled(_GradMode):
    """Enable or disable recording: as a call, a context manager or a decorator.

    ``gk.set_grad_enabled(False)`` switches recording off at once; used in a
    ``with`` statement the previous state is restored on exit.
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not "
                            f"{type(mode).__name__}")
        self.prev = (_state.grad_enabled, _state.inference_grad)
        self.mode = mode
        _set_grad(mode)

    def __call__(self, fn: F) -> F:
        _state.grad_enabled, _state.inference_grad = self.prev
        return super().__call__(fn)

    def __enter__(self) -> None:
        _set_grad(self.mode)

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled, _state.inference_grad = self.prev

    def clone(self) -> set_grad_enabled:
        return self.__class__(self.mode)


_multithreading = [True]


def is_multithreading_enabled() -> bool:
    """``torch.autograd.is_multithreading_enabled``: the switch ``set_multithreading_enabled``
    sets (gradkit's backward runs on the calling thread whatever it says)."""
    return _multithreading[0]


class set_multithreading_enabled:
    """``torch.autograd.set_multithreading_enabled(mode)``: set at once; as a context manager the
    previous value comes back on exit. PyTorch's engine uses it to allow a thread per device in
    backward; gradkit's backward is single-threaded either way, so only the setting is kept."""

    def __init__(self, mode: bool) -> None:
        self.prev = _multithreading[0]
        self.mode = bool(mode)
        _multithreading[0] = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _multithreading[0] = self.prev

    def clone(self) -> set_multithreading_enabled:
        return self.__class__(self.mode)


class inference_mode(_GradMode):
    """Context manager and decorator for inference: like ``no_grad``, and cheaper for autograd.

    Tensors made inside are *inference tensors* (``Tensor.is_inference()``): they never
    join a graph. Outside inference mode they cannot be changed in place, cannot be given
    ``requires_grad=True`` and cannot be saved for backward (PyTorch's errors say so); use
    ``clone()`` for a normal tensor. Views of inference tensors are inference tensors; views
    of normal tensors stay normal. Nothing is recorded inside, even under ``enable_grad``.
    ``inference_mode(False)`` inside it switches back to normal mode (grad mode on).

    Examples
    --------
    >>> x = gk.ones(3, requires_grad=True)
    >>> with gk.inference_mode():
    ...     y = x * 2
    >>> y.requires_grad, y.is_inference()
    (False, True)
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode) and not isinstance(mode, bool):
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode
        self.prev = (True, False, False)

    def __enter__(self) -> None:
        self.prev = (_state.grad_enabled, _state.inference, _state.inference_grad)
        if self.mode:
            _state.grad_enabled = False
            _state.inference = True
            _state.inference_grad = False
            _count_inference(0 if self.prev[1] else 1)
        else:
            _state.grad_enabled = True
            _state.inference = False
            _state.inference_grad = False
            _count_inference(-1 if self.prev[1] else 0)

    def __exit__(self, *exc: object) -> None:
        inside = _state.inference
        _state.grad_enabled, _state.inference, _state.inference_grad = self.prev
        if inside != _state.inference:
            _count_inference(1 if _state.inference else -1)

    def clone(self) -> inference_mode:
        return self.__class__(self.mode)


class _normal_mode(_GradMode):
    """Record in normal mode, inside ``inference_mode`` too: what a transform that builds its
    own graph enters (``torch.func``'s transforms work inside inference mode; a Jacobian of
    nothing recorded would be a silently wrong zero)."""

    def __init__(self) -> None:
        self.prev = (True, False)

    def __enter__(self) -> None:
        self.prev = (_state.grad_enabled, _state.inference)
        _state.grad_enabled, _state.inference = True, False

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled, _state.inference = self.prev


def is_anomaly_enabled() -> bool:
    return _state.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return _state.anomaly_check_nan


class set_detect_anomaly(_GradMode):
    """Turn anomaly detection on or off (a call or a context manager).

    With it on, every node remembers where it was created, and a NaN produced
    by a backward function raises an error naming that operation and place.
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (_state.anomaly, _state.anomaly_check_nan)
        self.mode, self.check_nan = mode, check_nan
        _state.anomaly, _state.anomaly_check_nan = mode, check_nan

    def __enter__(self) -> None:
        _state.anomaly, _state.anomaly_check_nan = self.mode, self.check_nan

    def __exit__(self, *exc: object) -> None:
        _state.anomaly, _state.anomaly_check_nan = self.prev

    def clone(self) -> set_detect_anomaly:
        return self.__class__(self.mode, self.check_nan)


class detect_anomaly(_GradMode):
    """Context manager and decorator that enables anomaly detection inside its block."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self.prev = (False, True)

    def __enter__(self) -> None:
        self.prev = (_state.anomaly, _state.anomaly_check_nan)
        _state.anomaly, _state.anomaly_check_nan = True, self.check_nan

    def __exit__(self, *exc: object) -> None:
        _state.anomaly, _state.anomaly_check_nan = self.prev

    def clone(self) -> detect_anomaly:
        return self.__class__(self.check_nan)


_CONVENTIONS = ("torch", "jax", "min_norm")


def get_subgradient_convention() -> str:
    """The convention in force at kinks in this thread (``'torch'`` unless set)."""
    return _state.subgradient


class set_subgradient_convention(_GradMode):
    """Choose the gradient at non-smooth points: ``'torch'``, ``'jax'`` or ``'min_norm'``.

    A plain call switches it for this thread; as a context manager (or decorator) the
    previous convention comes back on exit. What changes:

    =====================================  =========  =========  ==========
    case                                   torch      jax        min_norm
    =====================================  =========  =========  ==========
    ``abs`` at 0                           0          1          0
    ``clamp``/``clip`` at a bound          1          0.5        0
    2-norm of the zero vector              0          nan        0
    ``maximum``/``minimum`` ties           0.5 each   0.5 each   0.5 each
    full ``max``/``amax`` ties             shared     shared     shared
    ``relu`` at 0                          0          0          0
    ``sqrt`` at 0                          inf        inf        inf
    =====================================  =========  =========  ==========

    Examples
    --------
    >>> x = gk.tensor(0.0, requires_grad=True)
    >>> with gk.autograd.set_subgradient_convention("jax"):
    ...     gk.abs(x).backward()
    >>> x.grad
    tensor(1.)
    """

    def __init__(self, convention: str) -> None:
        if convention not in _CONVENTIONS:
            raise ValueError(f"unknown subgradient convention {convention!r}; use one of "
                             f"{', '.join(map(repr, _CONVENTIONS))}")
        self.prev = _state.subgradient
        self.convention = convention
        _state.subgradient = convention

    def __call__(self, fn: F) -> F:
        _state.subgradient = self.prev
        return super().__call__(fn)

    def __enter__(self) -> None:
        _state.subgradient = self.convention

    def __exit__(self, *exc: object) -> None:
        _state.subgradient = self.prev

    def clone(self) -> set_subgradient_convention:
        return self.__class__(self.convention)



def get_complex_convention() -> str:
    """The convention for gradients of complex values in this thread (``'torch'`` unless set)."""
    return "jax" if _state.complex_conj else "torch"


class set_complex_convention(_GradMode):
    """Choose what a gradient with respect to a complex value is: ``'torch'`` or ``'jax'``.

    For a real loss ``L`` of ``z = x + iy``, PyTorch's gradient (the default) is
    ``dL/dx + i dL/dy``; JAX's and HIPS autograd's is its conjugate, ``dL/dx - i dL/dy``. More
    generally JAX's vector-Jacobian product with cotangent ``v`` is the conjugate of PyTorch's
    with cotangent ``conj(v)``. ``backward()`` (``.grad``), ``autograd.grad`` and every
    ``gradkit.func`` transform obey the switch; the derivative table keeps PyTorch's convention
    and the engine conjugates at its ends (the seeds going in, the gradients coming out), so
    real inputs and outputs are unaffected. Hooks on leaves see the chosen convention's
    gradient (what lands in ``.grad``); hooks on intermediate values see PyTorch's.
    A plain call switches it for this thread; as a context manager (or decorator) the
    previous convention comes back on exit.

    Examples
    --------
    >>> z = gk.tensor(1.0 + 0j, requires_grad=True)
    >>> ((2 + 3j) * z).real.backward()
    >>> z.grad
    tensor(2.-3.j)
    >>> z.grad = None
    >>> with gk.autograd.set_complex_convention("jax"):
    ...     ((2 + 3j) * z).real.backward()
    >>> z.grad
    tensor(2.+3.j)
    """

    def __init__(self, convention: str) -> None:
        if convention not in ("torch", "jax"):
            raise ValueError(f"unknown complex convention {convention!r}; use 'torch' or 'jax'")
        self.prev = _state.complex_conj
        self.conj = convention == "jax"
        self.convention = convention
        _state.complex_conj = self.conj

    def __call__(self, fn: F) -> F:
        _state.complex_conj = self.prev
        return super().__call__(fn)

    def __enter__(self) -> None:
        _state.complex_conj = self.conj

    def __exit__(self, *exc: object) -> None:
        _state.complex_conj = self.prev

    def clone(self) -> set_complex_convention:
        return self.__class__(self.convention)
