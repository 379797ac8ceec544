"""set_num_threads / get_num_threads and the inter-op pair, with PyTorch's checks and words."""
import sys

import numpy as np
import pytest

import gradkit as gk
from gradkit._api import parallelism


@pytest.fixture
def fresh_state(monkeypatch):
    """A fresh search for the BLAS controls; the thread count is put back afterwards."""
    before = gk.get_num_threads()
    monkeypatch.setattr(parallelism, "_state", {"controller": None, "openblas": None,
                                                "searched": False, "interop": None,
                                                "warned": False, "asked": None})
    yield
    monkeypatch.undo()
    gk.set_num_threads(before)


def test_set_then_get_round_trip(fresh_state):
    gk.set_num_threads(1)
    assert gk.get_num_threads() == 1
    gk.set_num_threads(np.int64(2))
    assert gk.get_num_threads() == 2


def test_products_stay_right_with_one_thread(fresh_state):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((64, 200)), rng.standard_normal((200, 30))
    gk.set_num_threads(1)
    np.testing.assert_allclose((gk.tensor(a) @ gk.tensor(b)).numpy(), a @ b, rtol=1e-12)


def test_bundled_openblas_without_threadpoolctl(fresh_state, monkeypatch):
    """Without threadpoolctl the OpenBLAS in NumPy's wheel is set directly; where threadpoolctl
    is installed it reads the count back independently."""
    if parallelism._bundled_openblas() is None:
        pytest.skip("this NumPy does not bundle OpenBLAS (the warning path is tested below)")
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    gk.set_num_threads(1)
    assert gk.get_num_threads() == 1
    monkeypatch.delitem(sys.modules, "threadpoolctl")
    tpc = pytest.importorskip("threadpoolctl")
    counts = [c["num_threads"] for c in tpc.threadpool_info()
              if c["user_api"] == "blas" and "numpy" in c["filepath"]]
    assert counts == [1]


def test_no_control_warns_once_and_says_what_to_install(fresh_state, monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    monkeypatch.setattr(parallelism, "_bundled_openblas", lambda: None)
    monkeypatch.setitem(sys.modules, "numexpr", None)
    with pytest.warns(RuntimeWarning, match="pip install threadpoolctl"):
        gk.set_num_threads(3)
    assert gk.get_num_threads() == 3


# PyTorch 2.13's errors, recorded.
@pytest.mark.parametrize("value, message", [
    (0, "set_num_threads expects a positive integer"),
    (-2, "set_num_threads expects a positive integer"),
    (1.5, "set_num_threads expects an int, but got float"),
    (True, "set_num_threads expects an int, but got bool"),
])
def test_set_num_threads_refuses_as_pytorch(value, message):
    with pytest.raises(RuntimeError, match=message):
        gk.set_num_threads(value)


def test_interop_set_once(fresh_state):
    with pytest.raises(RuntimeError, match="set_num_interop_threads expects a positive integer"):
        gk.set_num_interop_threads(0)
    gk.set_num_interop_threads(2)
    assert gk.get_num_interop_threads() == 2
    with pytest.raises(RuntimeError, match="cannot set number of interop threads"):
        gk.set_num_interop_threads(3)
