"""``with gk.device(d):`` (PyTorch's device context manager): the CPU works, and other devices
are refused with ``set_default_device``'s error rather than silently ignored."""

from __future__ import annotations

import pytest

import gradkit as gk


def test_cpu_device_context() -> None:
    with gk.device("cpu") as d:
        assert d == gk.device("cpu")     # PyTorch's __enter__ gives the device back
        assert gk.zeros(2).device == "cpu"
    assert gk.get_default_device() == gk.device("cpu")


def test_other_device_context_is_refused() -> None:
    with pytest.raises(NotImplementedError, match="only 'cpu' and 'meta' are supported"):
        with gk.device("cuda"):
            pass
    assert gk.get_default_device() == gk.device("cpu")
