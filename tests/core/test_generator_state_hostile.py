"""Generator.set_state restores what get_state gave and refuses anything else, with bounded work."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk


def _bytes(b: bytes) -> gk.Tensor:
    return gk.tensor(np.frombuffer(b, np.uint8).copy())


def test_round_trip():
    g = gk.Generator().manual_seed(3)
    state = g.get_state()
    a = gk.rand(4, generator=g)
    g.set_state(state)
    assert gk.equal(a, gk.rand(4, generator=g))


@pytest.mark.parametrize("bad,err", [
    (b"[" * 2000 + b"]" * 2000, RuntimeError),      # deep nesting: no RecursionError escapes
    (b"[" * 3000 + b"]" * 3000, RuntimeError),      # over the size bound: refused before parsing
    (b'{"a": 1}', RuntimeError),
    (b'{"bit_generator": "MT19937", "state": {}, "has_uint32": 0, "uinteger": 0}', RuntimeError),
    (b"\xff\xfe", RuntimeError),
])
def test_hostile_states_are_refused(bad, err):
    g = gk.Generator().manual_seed(0)
    before = g.get_state()
    with pytest.raises(err, match="Invalid generator state"):
        g.set_state(_bytes(bad))
    assert gk.equal(g.get_state(), before)          # unchanged


def test_wrong_types_are_refused():
    with pytest.raises(TypeError, match="uint8"):
        gk.Generator().set_state(gk.zeros(5))
    with pytest.raises(TypeError, match="uint8"):
        gk.Generator().set_state(b"{}")
