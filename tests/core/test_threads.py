"""Threads: backward into shared leaves, transforms in several threads, state left behind.

The races need a thread switch between a read and a write, so the tests shrink the
interpreter's switch interval while they run and use barriers so that the threads really
overlap; each also checks exact values, so a lost update or a stray hook fails it.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable

import numpy as np
import pytest

import gradkit as gk
import gradkit.autograd.forward_ad as fwAD
import gradkit.func as gf
from gradkit.func import _batching as V
from gradkit.autograd import _thread_state as T
from gradkit.ops import _registry as R


@pytest.fixture
def fast_switching() -> Any:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _run_threads(n: int, target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            target(k)
        except BaseException as exc:          # re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
        assert not t.is_alive(), "a thread hung"
    if errors:
        raise errors[0]


def _assert_clean() -> None:
    """No transform state is left in this thread or in the table."""
    assert not R._fw_on
    assert T.active_threads() == 0
    assert T.current_hook() is None
    assert len(V._levels) == 0 and len(V._prev_hooks) == 0
    assert len(fwAD._levels) == 0


# --- gradient accumulation ------------------------------------------------------------------
def _shared_leaf_trial(n: int, preset: bool) -> np.ndarray:
    w = gk.zeros(3, dtype=gk.float64, requires_grad=True)
    if preset:
        w.grad = gk.zeros(3, dtype=gk.float64)   # the in-place add path as well as the first one
    barrier = threading.Barrier(n)

    def work(k: int) -> None:
        y = (w * float(k + 1)).sum()
        barrier.wait()
        y.backward()

    _run_threads(n, work)
    return w.grad.numpy()


def test_concurrent_backward_into_a_shared_leaf_never_loses_an_update(fast_switching: Any) -> None:
    for trial in range(150):
        np.testing.assert_array_equal(_shared_leaf_trial(4, bool(trial % 2)), np.full(3, 10.0),
                                      err_msg=f"trial {trial}")


def _non_leaf_trial(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = gk.ones(2, dtype=gk.float64, requires_grad=True)
    h = w * 2.0
    h.retain_grad()
    u = w * 3.0
    barrier = threading.Barrier(n)

    def work(k: int) -> None:
        y = (h * 1.0).sum() + (u * 2.0).sum()
        barrier.wait()
        y.backward(retain_graph=True)
        barrier.wait()
        (u * 1.0).sum().backward(inputs=[u])

    _run_threads(n, work)
    return h.grad.numpy(), w.grad.numpy(), u.grad.numpy()


def test_concurrent_backward_into_retained_and_requested_non_leaves(fast_switching: Any) -> None:
    for trial in range(60):
        h_grad, w_grad, u_grad = _non_leaf_trial(4)
        np.testing.assert_array_equal(h_grad, np.full(2, 4.0), err_msg=f"trial {trial}")
        np.testing.assert_array_equal(w_grad, np.full(2, 4 * (2.0 + 6.0)))
        np.testing.assert_array_equal(u_grad, np.full(2, 4.0))


def _post_hook_trial(n: int) -> list[np.ndarray]:
    w = gk.zeros(4, dtype=gk.float64, requires_grad=True)
    seen: list[np.ndarray] = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    barrier = threading.Barrier(n)

    def work(k: int) -> None:
        y = w.sum()
        barrier.wait()
        y.backward()

    _run_threads(n, work)
    return seen


def test_post_accumulate_hooks_see_each_accumulation_whole(fast_switching: Any) -> None:
    for _ in range(40):
        seen = _post_hook_trial(4)
        # each hook runs right after its own update, before the next one starts
        assert sorted(float(s[0]) for s in seen) == [1.0, 2.0, 3.0, 4.0]
        assert all(np.all(s == s[0]) for s in seen)


def test_a_hook_may_run_a_backward_of_its_own() -> None:
    w = gk.tensor([1.0, 2.0], dtype=gk.float64, requires_grad=True)
    v = gk.tensor([3.0], dtype=gk.float64, requires_grad=True)

    def hook(t: Any) -> None:
        with gk.enable_grad():              # backward runs with recording off, as in PyTorch
            (v * 2.0).sum().backward()

    w.register_post_accumulate_grad_hook(hook)
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(v.grad.numpy(), [2.0])


# --- transforms in several threads ---------------------------------------------------------
def _cube_sum(x: Any) -> Any:
    return np.sum(x ** 3)


def _square(x: Any) -> Any:
    return x ** 2 * 1.5


_X2 = np.arange(1.0, 7.0).reshape(2, 3)
_X3 = np.arange(1.0, 13.0).reshape(3, 4) / 3.0
_CASES: dict[str, Callable[[], Any]] = {
    "vmap_grad": lambda: gf.vmap(gf.grad(_cube_sum))(_X2),
    "vmap_vmap": lambda: gf.vmap(gf.vmap(lambda r: r * 2.0 + 1.0))(_X3),
    "jacrev": lambda: gf.jacrev(_square)(_X3[0]),
    "jacfwd": lambda: gf.jacfwd(np.sin)(_X2[1]),
    "hessian": lambda: gf.hessian(_cube_sum)(_X3[1]),
    "jvp": lambda: gf.jvp(np.sin, (_X2[0],), (np.ones(3),))[1],
    "grad": lambda: gf.grad(lambda x: np.sum(np.tanh(x)))(_X3),
}
_EXPECTED: dict[str, np.ndarray] = {
    "vmap_grad": 3 * _X2 ** 2,
    "vmap_vmap": _X3 * 2.0 + 1.0,
    "jacrev": np.diag(3.0 * _X3[0]),
    "jacfwd": np.diag(np.cos(_X2[1])),
    "hessian": np.diag(6 * _X3[1]),
    "jvp": np.cos(_X2[0]),
    "grad": 1 - np.tanh(_X3) ** 2,
}


def test_transforms_in_threads_match_single_threaded_results(fast_switching: Any) -> None:
    names = list(_CASES)
    singles = {k: np.asarray(f()) for k, f in _CASES.items()}
    for k in names:
        np.testing.assert_allclose(singles[k], _EXPECTED[k], rtol=1e-12)
    n, rounds = 4, 70
    barrier = threading.Barrier(n)
    bad: list[str] = []

    def work(k: int) -> None:
        barrier.wait()
        for i in range(rounds):
            name = names[(k + i) % len(names)]
            got = np.asarray(_CASES[name]())
            if got.shape != singles[name].shape or not np.allclose(got, singles[name], rtol=1e-12):
                bad.append(f"{name}: {got.shape}")

    _run_threads(n, work)
    assert bad == []
    _assert_clean()
    for k, f in _CASES.items():           # and the process is fine afterwards
        np.testing.assert_allclose(np.asarray(f()), singles[k], rtol=1e-12)


def test_a_running_transform_does_not_reach_other_threads() -> None:
    inside = threading.Event()
    release = threading.Event()
    out: list[Any] = []

    def f(x: Any) -> Any:
        inside.set()
        assert release.wait(20)
        return x * 2.0

    def worker(_: int) -> None:
        out.append(gf.vmap(f)(np.ones((3, 2))))

    t = threading.Thread(target=worker, args=(0,))
    t.start()
    try:
        assert inside.wait(20)
        assert R._fw_on and T.active_threads() == 1       # the other thread's vmap is running
        assert T.current_hook() is None and len(V._levels) == 0    # this thread sees none of it
        x = gk.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
        np.testing.assert_allclose(gf.jacrev(_square)(_X3[0]), np.diag(3.0 * _X3[0]))
        assert gk.ones(2, 3).sum(0).shape == (3,)
        np.testing.assert_allclose(gf.jvp(np.sin, (_X2[0],), (np.ones(3),))[1], np.cos(_X2[0]))
        np.testing.assert_allclose(gf.vmap(gf.grad(_cube_sum))(_X2), 3 * _X2 ** 2)
        assert T.active_threads() == 1 and T.current_hook() is None
        assert gk.ones(2, 3).sum(0).shape == (3,)
    finally:
        release.set()
        t.join(20)
    np.testing.assert_array_equal(out[0], np.full((3, 2), 2.0))
    _assert_clean()


def test_dual_levels_belong_to_their_thread() -> None:
    opened = threading.Event()
    release = threading.Event()
    tangents: list[Any] = []

    def worker(_: int) -> None:
        with fwAD.dual_level() as lvl:
            d = fwAD.make_dual(gk.tensor([1.0, 2.0], dtype=gk.float64),
                               gk.tensor([1.0, 1.0], dtype=gk.float64), level=lvl)
            opened.set()
            assert release.wait(20)
            tangents.append((lvl, fwAD.unpack_dual(d * d).tangent.numpy()))

    t = threading.Thread(target=worker, args=(0,))
    t.start()
    try:
        assert opened.wait(20)
        assert len(fwAD._levels) == 0 and T.current_hook() is None
        with fwAD.dual_level() as lvl:            # numbered in this thread, from 0
            assert lvl == 0
            d = fwAD.make_dual(gk.tensor(3.0, dtype=gk.float64), gk.tensor(1.0, dtype=gk.float64))
            release.set()
            assert float(fwAD.unpack_dual(gk.exp(d)).tangent) == pytest.approx(np.exp(3.0))
    finally:
        release.set()
        t.join(20)
    assert tangents[0][0] == 0
    np.testing.assert_array_equal(tangents[0][1], [2.0, 4.0])
    _assert_clean()


def test_grad_mode_is_per_thread() -> None:
    barrier = threading.Barrier(2)
    flags: dict[int, bool] = {}

    def work(k: int) -> None:
        x = gk.tensor([1.0], requires_grad=True)
        if k == 0:
            with gk.no_grad():
                barrier.wait()
                flags[k] = (x * 2).requires_grad
                barrier.wait()
        else:
            barrier.wait()
            flags[k] = (x * 2).requires_grad
            barrier.wait()

    _run_threads(2, work)
    assert flags == {0: False, 1: True}
    assert gk.is_grad_enabled()


# --- exits by an exception ------------------------------------------------------------------
class _Boom(Exception):
    pass


def _boom(x: Any) -> Any:
    raise _Boom("inside the transform")


@pytest.mark.parametrize("transform", [
    lambda: gf.vmap(_boom)(np.ones((2, 3))),
    lambda: gf.vmap(gf.vmap(_boom))(np.ones((2, 3))),
    lambda: gf.vmap(lambda r: gf.grad(lambda x: _boom(x))(r))(np.ones((2, 3))),
    lambda: gf.jvp(_boom, (np.ones(2),), (np.ones(2),)),
    lambda: gf.jacfwd(lambda x: _boom(x) if x.ndim else x)(np.ones(2)),
    lambda: gf.hessian(_boom)(np.ones(2)),
    lambda: gf.jacrev(_boom)(np.ones(2)),
], ids=["vmap", "vmap_vmap", "vmap_grad", "jvp", "jacfwd", "hessian", "jacrev"])
def test_an_exception_inside_a_transform_leaves_no_state(transform: Callable[[], Any]) -> None:
    with pytest.raises(_Boom):
        transform()
    _assert_clean()
    np.testing.assert_allclose(gf.jacrev(_square)(_X3[0]), np.diag(3.0 * _X3[0]))
    np.testing.assert_allclose(gf.vmap(gf.grad(_cube_sum))(_X2), 3 * _X2 ** 2)


def test_an_exception_inside_a_dual_level_closes_it() -> None:
    with pytest.raises(_Boom):
        with fwAD.dual_level():
            fwAD.make_dual(gk.tensor(1.0), gk.tensor(1.0))
            raise _Boom("inside")
    _assert_clean()


def test_exceptions_in_threads_leave_every_thread_clean(fast_switching: Any) -> None:
    barrier = threading.Barrier(4)

    def work(k: int) -> None:
        barrier.wait()
        for i in range(6):
            with pytest.raises(_Boom):
                [gf.vmap(_boom), gf.jacfwd(_boom), gf.hessian(_boom)][(k + i) % 3](np.ones((2, 2)))
            assert T.current_hook() is None and len(V._levels) == 0 and len(fwAD._levels) == 0

    _run_threads(4, work)
    _assert_clean()


# --- hooks that change the gradient's size or type --------------------------------------------
def _backward_with(hook: Callable[[Any], Any], *, leaf: bool, dtype: Any = gk.float64) -> None:
    x = gk.ones(3, dtype=dtype, requires_grad=True)
    t = x if leaf else x * 2.0
    t.register_hook(hook)
    (t * 3.0).sum().backward()


@pytest.mark.parametrize("leaf", [True, False])
def test_a_hook_that_changes_the_size_of_the_gradient_raises(leaf: bool) -> None:
    def shrink(g: Any) -> Any:
        return g.sum()

    with pytest.raises(RuntimeError, match="^hook 'shrink' has changed the size of value$"):
        _backward_with(shrink, leaf=leaf)
    with pytest.raises(RuntimeError, match="has changed the size of value"):
        _backward_with(lambda g: gk.ones(2, 3, dtype=gk.float64), leaf=leaf)


@pytest.mark.parametrize("leaf", [True, False])
def test_a_hook_that_changes_the_type_of_the_gradient_raises(leaf: bool) -> None:
    with pytest.raises(RuntimeError, match=r"^hook '<lambda>' has changed the type of value "
                                           r"\(was torch.DoubleTensor got torch.FloatTensor\)$"):
        _backward_with(lambda g: g.float(), leaf=leaf)
    with pytest.raises(RuntimeError, match=r"\(was torch.FloatTensor got CPUComplexDoubleType\)"):
        _backward_with(lambda g: g.to(gk.complex128), leaf=leaf, dtype=gk.float32)


def test_a_hook_that_returns_no_tensor_raises() -> None:
    with pytest.raises(TypeError, match="^expected Variable, but hook returned 'numpy.ndarray'$"):
        _backward_with(lambda g: g.numpy(), leaf=True)


def test_hook_checks_cover_autograd_grad_create_graph_and_node_hooks() -> None:
    x = gk.ones(3, dtype=gk.float64, requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="changed the size"):
        gk.autograd.grad((x * 2.0).sum(), x)
    with pytest.raises(RuntimeError, match="changed the size"):
        (x * 2.0).sum().backward(create_graph=True)
    y = gk.ones(3, requires_grad=True) * 2.0
    y.grad_fn.register_prehook(lambda go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match=r"^hook '<lambda>' has returned an incorrect number of "
                                           r"values \(got 2, but expected 1\)$"):
        y.sum().backward()
    a, b = gk.ones(3, requires_grad=True), gk.ones(3, requires_grad=True)
    z = a * b
    z.grad_fn.register_hook(lambda gi, go: (gi[0].sum(), gi[1]))
    with pytest.raises(RuntimeError, match="changed the size"):
        z.sum().backward()


def test_hooks_that_keep_size_and_type_still_replace_the_gradient() -> None:
    x = gk.ones(3, dtype=gk.float64, requires_grad=True)
    x.register_hook(lambda g: g * 2.0)
    y = x * 2.0
    y.register_hook(lambda g: g + 1.0)
    (y * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, 12.0, 12.0])


def test_a_dual_tensor_used_in_another_thread_raises_instead_of_dropping_its_tangent() -> None:
    with fwAD.dual_level():
        d = fwAD.make_dual(gk.tensor([1.0, 2.0], dtype=gk.float64),
                           gk.tensor([1.0, 0.0], dtype=gk.float64))
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                d * 2.0
            except RuntimeError as exc:
                errors.append(exc)

        t = threading.Thread(target=worker)
        t.start()
        t.join(20)
        np.testing.assert_array_equal(fwAD.unpack_dual(d * 2.0).tangent.numpy(), [2.0, 0.0])
    assert len(errors) == 1 and "belong to the thread that opened them" in str(errors[0])
    _assert_clean()


# --- custom Functions whose backward returns a gradient of another shape or count ---------------
def _custom(backward: Callable[[Any], Any]) -> Any:
    class Twice(gk.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 2.0

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return backward(g)

    x = gk.ones(3, dtype=gk.float64, requires_grad=True)
    Twice.apply(x).sum().backward()
    return x.grad.numpy()


def test_a_custom_backward_of_an_incompatible_shape_raises() -> None:
    with pytest.raises(RuntimeError, match=r"^Function TwiceBackward returned an invalid gradient at "
                                           r"index 0 - got \[\] but expected shape compatible with "
                                           r"\[3\]$"):
        _custom(lambda g: g.sum())
    with pytest.raises(RuntimeError, match=r"got \[2\] but expected shape compatible with \[3\]"):
        _custom(lambda g: g[:2])
    with pytest.raises(RuntimeError, match=r"returned an incorrect number of gradients "
                                           r"\(expected 1, got 2\)"):
        _custom(lambda g: (g, g))


def test_a_custom_backward_of_a_broadcast_shape_is_summed_down_as_in_pytorch() -> None:
    np.testing.assert_array_equal(_custom(lambda g: g.expand(2, 3) * 2.0), [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(_custom(lambda g: (g * 3.0, None)), [3.0, 3.0, 3.0])


def test_a_thread_that_ends_inside_a_level_does_not_leave_the_table_hooked() -> None:
    import gc

    def worker() -> None:
        fwAD.enter_dual_level()          # never exited: the thread just ends
        assert R._fw_on and T.current_hook() is not None

    t = threading.Thread(target=worker)
    t.start()
    t.join(20)
    del t
    gc.collect()
    _assert_clean()


def test_hooks_registered_from_several_threads_are_all_kept(fast_switching: Any) -> None:
    for _ in range(20):
        x = gk.ones(2, dtype=gk.float64, requires_grad=True)
        calls: list[int] = []
        barrier = threading.Barrier(4)

        def register(k: int, x: Any = x, calls: list[int] = calls,
                     barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            for j in range(25):
                x.register_hook(lambda g, tag=k * 100 + j: calls.append(tag))

        _run_threads(4, register)
        (x * 2.0).sum().backward()
        assert sorted(calls) == sorted(k * 100 + j for k in range(4) for j in range(25))


def test_a_vmap_loop_in_one_thread_leaves_another_threads_ops_alone() -> None:
    # vmap's per-example loop (heaviside has no batching rule) holds the table's hook while it
    # is the only hooked thread; another thread's primitives must run as plain primitives
    inside, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    calls: list[int] = []

    def per_example(v: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:          # the first example of the loop (the first call is batched)
            inside.set()
            done.wait(10)
        return gk.heaviside(v, gk.tensor(0.5, dtype=v.dtype))

    def looping() -> None:
        try:
            gf.vmap(per_example)(gk.tensor([[-1.0, 2.0], [0.0, 3.0]]))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=looping)
    t.start()
    try:
        assert inside.wait(10)
        x = gk.tensor([1.0, 2.0], requires_grad=True)
        y = (x.view_as(x) * 3.0).sum()
        y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    finally:
        done.set()
        t.join()
    assert not errors
    _assert_clean()
