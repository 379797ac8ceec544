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
           "get_subgradient_convention", "set_complex_convention", "get_complex_convention"]

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    #: NumPy functions without a rule get finite-difference gradients (numerical_fallback)
    numerical_fallback = False
    #: the rules at kinks: "torch" (default), "jax" or "min_norm" (set_subgradient_convention)
    subgradient = "torch"
    #: gradients of complex values: "torch" (default) or "jax" (set_complex_convention)
    complex_conj = False
    grad_enabled = True
    inference = False
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
    """Whether operations are being recorded for backward in this thread."""
    return _state.grad_enabled


def is_inference_mode_enabled() -> bool:
    return _state.inference


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
        self.prev = _state.grad_enabled
        _state.grad_enabled = False

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self.prev


class enable_grad(_GradMode):
    """Context manager and decorator that enables graph recording (inside ``no_grad``)."""

    def __new__(cls, orig_func: Callable[..., Any] | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __init__(self, orig_func: Callable[..., Any] | None = None) -> None:
        self.prev = True

    def __enter__(self) -> None:
        self.prev = _state.grad_enabled
        _state.grad_enabled = True

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self.prev


class set_grad_enabled(_GradMode):
    """Enable or disable recording: as a call, a context manager or a decorator.

    ``gk.set_grad_enabled(False)`` switches recording off at once; used in a
    ``with`` statement the previous state is restored on exit.
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not "
                            f"{type(mode).__name__}")
        self.prev = _state.grad_enabled
        self.mode = mode
        _state.grad_enabled = mode

    def __call__(self, fn: F) -> F:
        _state.grad_enabled = self.prev
        return super().__call__(fn)

    def __enter__(self) -> None:
        _state.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self.prev

    def clone(self) -> set_grad_enabled:
        return self.__class__(self.mode)


class inference_mode(_GradMode):
    """Like ``no_grad``; tensors made inside are marked as inference tensors."""

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode) and not isinstance(mode, bool):
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode
        self.prev = (True, False)

    def __enter__(self) -> None:
        self.prev = (_state.grad_enabled, _state.inference)
        if self.mode:
            _state.grad_enabled = False
            _state.inference = True
        else:
            _state.inference = False

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled, _state.inference = self.prev

    def clone(self) -> inference_mode:
        return self.__class__(self.mode)


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
