"""``autograd.graph.register_multi_grad_hook``: once per backward pass, over several tensors,
in the order a live PyTorch calls it, and with each pass's own count (threads do not mix).

The comparisons with PyTorch run the same program on both libraries and compare what the hook
saw; they are skipped when PyTorch is not installed. The rest check against values worked out
by hand (d(a*b)/da = b).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

import gradkit as gk


def _seen(lib: Any, program: str) -> list[Any]:
    """Run a small program on ``lib``; return what its hooks recorded."""
    log: list[Any] = []
    a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = lib.tensor([4.0, 5.0, 6.0], requires_grad=True)
    c = a * b
    d = a * b

    def record(gs: Any) -> None:
        log.append(("all", [None if g is None else g.detach().numpy().tolist() for g in gs]))

    def first(g: Any) -> None:
        log.append(("any", g.detach().numpy().tolist()))

    reg = lib.autograd.graph.register_multi_grad_hook
    if program == "all":
        reg((a, b, c, d), record)
        c.sum().backward(retain_graph=True)
        c.sum().backward(inputs=(a,), retain_graph=True)
        (2 * d).sum().backward(retain_graph=True)
    elif program == "any":
        reg((a, b, c), first, mode="any")
        (3 * c).sum().backward(retain_graph=True)
        (c + d).sum().backward()
    elif program == "order":
        reg((a, b), lambda gs: log.append(("all", a.grad is None, b.grad is None)))
        reg((a, b), lambda g: log.append("any"), mode="any")
        a.register_post_accumulate_grad_hook(lambda t: log.append("post a"))
        b.register_post_accumulate_grad_hook(lambda t: log.append("post b"))
        (a * b).sum().backward()
    elif program == "remove":
        h = reg((a, b), record)
        c.sum().backward(retain_graph=True)
        h.remove()
        c.sum().backward()
    elif program == "grad_nonleaf":
        reg((c, d), record)
        lib.autograd.grad((c * d).sum(), (a,))
    return log


@pytest.mark.parametrize("program", ["all", "any", "order", "remove", "grad_nonleaf"])
def test_same_calls_as_pytorch(program: str) -> None:
    torch = pytest.importorskip("torch")
    assert _seen(gk, program) == _seen(torch, program)


def test_values_by_hand() -> None:
    got = _seen(gk, "all")
    # c = a*b: dc/da = b, dc/db = a; with inputs=(a,) b's gradient is not computed
    assert got == [("all", [[4.0, 5.0, 6.0], [1.0, 2.0, 3.0], [1.0, 1.0, 1.0], None]),
                   ("all", [[4.0, 5.0, 6.0], None, [1.0, 1.0, 1.0], None]),
                   ("all", [[8.0, 10.0, 12.0], [2.0, 4.0, 6.0], None, [2.0, 2.0, 2.0]])]


def test_leaf_in_autograd_grad() -> None:
    # PyTorch refuses a leaf here ("not supported"); gradkit answers: None for the leaf left out
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    b = gk.tensor([3.0, 4.0], requires_grad=True)
    log: list[Any] = []
    gk.autograd.graph.register_multi_grad_hook((a, b), log.append)
    gk.autograd.grad((a * b).sum(), (b,))
    assert len(log) == 1 and log[0][0] is None
    np.testing.assert_array_equal(log[0][1].numpy(), [1.0, 2.0])


def test_gradient_that_never_arrives_releases_at_end_of_pass() -> None:
    # a custom Function returns None for y: y's gradient is not computed; the hook still
    # fires once, at the end of the pass, as PyTorch's does (with None for y)
    class F(gk.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, y: Any) -> Any:
            return x * 1 + y * 1

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g, None

    a = gk.tensor([1.0, 2.0], requires_grad=True)
    b = gk.tensor([1.0, 2.0], requires_grad=True)
    x, y = a * 2, b * 3
    log: list[Any] = []
    gk.autograd.graph.register_multi_grad_hook((x, y), log.append)
    F.apply(x, y).sum().backward()
    assert len(log) == 1 and log[0][1] is None
    np.testing.assert_array_equal(log[0][0].numpy(), [1.0, 1.0])


def test_bad_mode_and_no_grad() -> None:
    a = gk.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"Expects mode to be one of \('all', 'any'\) but got x"):
        gk.autograd.graph.register_multi_grad_hook((a,), print, mode="x")
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        gk.autograd.graph.register_multi_grad_hook((a, gk.ones(2)), print)


def test_handle_as_context_manager() -> None:
    a = gk.ones(2, requires_grad=True)
    log: list[Any] = []
    with gk.autograd.graph.register_multi_grad_hook((a,), log.append):
        (a * 2).sum().backward()
    (a * 2).sum().backward()
    assert len(log) == 1


def test_two_threads_keep_their_own_counts() -> None:
    """Two threads walk one graph at once with different seeds; barriers make their hooks
    interleave (both threads see the first tensor before either sees the second), so a count
    shared between passes would fire early with the other thread's gradients."""
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    c1 = a * 2.0
    c2 = a * 3.0
    out = c1 * 1.0 + c2 * 5.0
    barrier = threading.Barrier(2, timeout=30)

    def sync(g: Any) -> None:
        barrier.wait()

    c1.register_hook(sync)
    c2.register_hook(sync)
    seen: dict[str, Any] = {}
    fired: list[str] = []

    def fn(gs: Any) -> None:
        name = threading.current_thread().name
        fired.append(name)
        seen[name] = [g.numpy().copy() for g in gs]

    gk.autograd.graph.register_multi_grad_hook((c1, c2), fn)
    errors: list[BaseException] = []

    def work(k: float) -> None:
        try:
            gk.autograd.grad(out, (a,), grad_outputs=gk.full((2,), k), retain_graph=True)
        except BaseException as e:    # noqa: BLE001  (reported by the main thread)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,), name=f"seed{k:g}") for k in (1.0, 10.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(fired) == ["seed1", "seed10"]
    for k in (1.0, 10.0):
        g1, g2 = seen[f"seed{k:g}"]
        np.testing.assert_array_equal(g1, [1.0 * k, 1.0 * k])    # d out / d c1 = 1
        np.testing.assert_array_equal(g2, [5.0 * k, 5.0 * k])    # d out / d c2 = 5

