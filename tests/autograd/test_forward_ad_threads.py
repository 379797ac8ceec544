"""Dual levels of different threads are different levels, even with the same number."""

from __future__ import annotations

import threading

import gradkit as gk
import gradkit.autograd.forward_ad as fwAD


def _in_threads(a, b):
    first, second = threading.Event(), threading.Event()
    errors = []

    def run(fn, wait, then):
        try:
            fn(wait, then)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
            then.set()

    ta = threading.Thread(target=run, args=(a, None, first))
    tb = threading.Thread(target=run, args=(b, first, second))
    ta.start(), tb.start()
    ta.join(10), tb.join(10)
    assert not errors, errors


def test_a_dual_tensor_of_one_thread_carries_nothing_into_anothers_level_0():
    shared, seen = {}, {}
    done = threading.Event()

    def a(wait, then):
        with fwAD.dual_level() as lvl:
            shared["d"] = fwAD.make_dual(gk.tensor(2.0), gk.tensor(1.0))
            then.set()
            done.wait(10)
            # still A's own tangent, unchanged by B's work
            seen["a"] = (lvl, fwAD.unpack_dual(shared["d"] * 5).tangent.item())

    def b(wait, then):
        wait.wait(10)
        with fwAD.dual_level() as lvl:
            y = shared["d"] * 3
            seen["b"] = (lvl, fwAD.unpack_dual(y).tangent)
            z = fwAD.make_dual(gk.tensor(1.0), gk.tensor(4.0))
            seen["b2"] = fwAD.unpack_dual(z * shared["d"]).tangent.item()   # 4 * 2, A's tangent unseen
            seen["b3"] = fwAD.unpack_dual(shared["d"].detach().clone()).tangent
        done.set()
        then.set()

    _in_threads(a, b)
    assert seen["b"] == (0, None)                  # was tensor(3.): A's tangent leaked into B's level 0
    assert seen["b2"] == 8.0
    assert seen["b3"] is None
    assert seen["a"] == (0, 5.0)
