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


def test_a_dual_tensor_of_one_thread_is_refused_in_anothers_level_0():
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
            try:
                shared["d"] * 3
                seen["b"] = (lvl, "no error")
            except RuntimeError as e:
                seen["b"] = (lvl, "belong to the thread that opened them" in str(e))
            z = fwAD.make_dual(gk.tensor(1.0), gk.tensor(4.0))
            seen["b2"] = fwAD.unpack_dual(z * 2.0).tangent.item()     # B's own level works
        done.set()
        then.set()

    _in_threads(a, b)
    # before: B's "level 0" was A's, and y got A's tangent times 3 (tensor(3.)), silently
    assert seen["b"] == (0, True)
    assert seen["b2"] == 8.0
    assert seen["a"] == (0, 5.0)
